//! Embedded schema migrations, tracked in SQLite's `user_version`.

use rusqlite::Connection;

use crate::StoreError;

/// Applied in order; never edit one that has shipped, add a new one instead.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/sqlite/0001_papers.sql"),
    include_str!("../migrations/sqlite/0002_accounts.sql"),
    include_str!("../migrations/sqlite/0003_subscriptions.sql"),
];

pub(crate) fn apply(conn: &Connection) -> Result<(), StoreError> {
    let known = MIGRATIONS.len() as i64;
    let current: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if current > known {
        return Err(StoreError::SchemaTooNew {
            found: current,
            known,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        // Each migration and its version bump commit together, so a crash mid-way
        // leaves the previous version intact.
        let version = index as i64 + 1;
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {version}; COMMIT;"
        ))?;
        tracing::debug!(version, "applied schema migration");
    }
    Ok(())
}
