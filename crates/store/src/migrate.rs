//! Embedded schema migrations, one list per engine, applied in order on open.
//!
//! SQLite tracks the applied count in `user_version`; PostgreSQL in a one-row table,
//! under an advisory lock so nodes starting together do not migrate twice.

use crate::StoreError;
use crate::db::{Db, args};

/// Applied in order; never edit one that has shipped, add a new one instead. Both
/// lists always have the same length and meaning.
const SQLITE: &[&str] = &[
    include_str!("../migrations/sqlite/0001_papers.sql"),
    include_str!("../migrations/sqlite/0002_accounts.sql"),
    include_str!("../migrations/sqlite/0003_subscriptions.sql"),
    include_str!("../migrations/sqlite/0004_vote_clock.sql"),
    include_str!("../migrations/sqlite/0005_account_security.sql"),
    include_str!("../migrations/sqlite/0006_subscription_owners.sql"),
    include_str!("../migrations/sqlite/0007_harvest.sql"),
    include_str!("../migrations/sqlite/0008_roles_tokens.sql"),
    include_str!("../migrations/sqlite/0009_community.sql"),
    include_str!("../migrations/sqlite/0010_feedback.sql"),
    include_str!("../migrations/sqlite/0011_paper_children_checks.sql"),
];

const POSTGRES: &[&str] = &[
    include_str!("../migrations/postgres/0001_papers.sql"),
    include_str!("../migrations/postgres/0002_accounts.sql"),
    include_str!("../migrations/postgres/0003_subscriptions.sql"),
    include_str!("../migrations/postgres/0004_vote_clock.sql"),
    include_str!("../migrations/postgres/0005_account_security.sql"),
    include_str!("../migrations/postgres/0006_subscription_owners.sql"),
    include_str!("../migrations/postgres/0007_harvest.sql"),
    include_str!("../migrations/postgres/0008_roles_tokens.sql"),
    include_str!("../migrations/postgres/0009_community.sql"),
    include_str!("../migrations/postgres/0010_feedback.sql"),
    include_str!("../migrations/postgres/0011_paper_children_checks.sql"),
];

const MIGRATION_LOCK: i64 = 0x7061_7065_7273_0002;

pub(crate) fn apply(db: &Db) -> Result<(), StoreError> {
    match db {
        Db::Sqlite(_) => apply_sqlite(db),
        Db::Postgres(_) => apply_postgres(db),
    }
}

fn apply_sqlite(db: &Db) -> Result<(), StoreError> {
    let current: i64 = db.query_one("PRAGMA user_version", &[])?.get(0)?;
    check_known(current, SQLITE.len())?;
    for (index, sql) in SQLITE.iter().enumerate().skip(current as usize) {
        // Each migration and its version bump commit together, so a crash mid-way
        // leaves the previous version intact.
        let version = index as i64 + 1;
        db.batch(&format!(
            "BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {version}; COMMIT;"
        ))?;
        tracing::debug!(version, "applied schema migration");
    }
    Ok(())
}

fn apply_postgres(db: &Db) -> Result<(), StoreError> {
    db.batch("BEGIN")?;
    let result = (|| {
        db.execute("SELECT pg_advisory_xact_lock(?1)", args![MIGRATION_LOCK])?;
        db.batch("CREATE TABLE IF NOT EXISTS papers_schema (version BIGINT NOT NULL)")?;
        let current: i64 = match db.query_opt("SELECT version FROM papers_schema", &[])? {
            Some(row) => row.get(0)?,
            None => {
                db.execute("INSERT INTO papers_schema (version) VALUES (0)", &[])?;
                0
            }
        };
        check_known(current, POSTGRES.len())?;
        for (index, sql) in POSTGRES.iter().enumerate().skip(current as usize) {
            db.batch(sql)?;
            db.execute(
                "UPDATE papers_schema SET version = ?1",
                args![index as i64 + 1],
            )?;
            tracing::debug!(version = index + 1, "applied schema migration");
        }
        Ok(())
    })();
    match result {
        Ok(()) => db.batch("COMMIT"),
        Err(error) => {
            let _ = db.batch("ROLLBACK");
            Err(error)
        }
    }
}

fn check_known(current: i64, known: usize) -> Result<(), StoreError> {
    let known = known as i64;
    if current > known {
        return Err(StoreError::SchemaTooNew {
            found: current,
            known,
        });
    }
    Ok(())
}
