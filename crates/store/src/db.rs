//! The two database engines behind one small interface.
//!
//! Store modules write their SQL once, in the subset both engines understand
//! (`INSERT … ON CONFLICT`, `RETURNING`, `COALESCE`, `CASE`), with SQLite's `?N`
//! placeholders; for PostgreSQL they are rewritten to `$N` and the prepared statement
//! is cached per connection. Only what really differs (schema DDL, locking, how a
//! transaction starts) is decided here or in `migrate`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::ControlFlow;

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{ToSql, Type};

use crate::StoreError;
pub(crate) use crate::value::{FromValue, ToValue, Value};
use crate::value::{ValueError, ValueKind};

/// One result row, decoded into engine-neutral values.
pub(crate) struct Row {
    values: Vec<Value>,
}

impl Row {
    pub(crate) fn get<T: FromValue>(&self, index: usize) -> Result<T, StoreError> {
        let value = self.values.get(index).unwrap_or(&Value::Null);
        T::from_value(value).map_err(|source| StoreError::Decode { index, source })
    }

    /// [`Row::get`], moving the value out of the row (a text column is not copied);
    /// the column reads as NULL afterwards.
    pub(crate) fn take<T: FromValue>(&mut self, index: usize) -> Result<T, StoreError> {
        let value = match self.values.get_mut(index) {
            Some(value) => std::mem::replace(value, Value::Null),
            None => Value::Null,
        };
        T::from_owned(value).map_err(|source| StoreError::Decode { index, source })
    }

    /// A TEXT column without copying it, for values that are parsed rather than kept.
    pub(crate) fn text(&self, index: usize) -> Result<&str, StoreError> {
        match self.values.get(index) {
            Some(Value::Text(text)) => Ok(text),
            _ => Err(self.mismatch(index, ValueKind::Text)),
        }
    }

    /// A BLOB column without copying it.
    pub(crate) fn blob(&self, index: usize) -> Result<&[u8], StoreError> {
        match self.values.get(index) {
            Some(Value::Blob(bytes)) => Ok(bytes),
            _ => Err(self.mismatch(index, ValueKind::Blob)),
        }
    }

    fn mismatch(&self, index: usize, expected: ValueKind) -> StoreError {
        StoreError::Decode {
            index,
            source: ValueError::Mismatch {
                expected,
                found: self.values.get(index).map_or(ValueKind::Null, Value::kind),
            },
        }
    }
}

/// How a write transaction must be ordered against the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteOrder {
    /// Appends to the change log: such transactions commit one at a time, so change
    /// sequence numbers become visible in order and a follower that read up to N
    /// never later finds a smaller number committed behind it.
    ChangeLog,
    /// Row locks are enough.
    Concurrent,
}

/// Session-level advisory lock key for change-log writers (any fixed 64-bit number).
/// `…0002` is the migration lock (`migrate.rs`); `…0003` is taken by the checks of
/// migration 0011 (references to papers).
const CHANGE_LOG_LOCK: i64 = 0x7061_7065_7273_0001;

pub(crate) enum Db {
    Sqlite(rusqlite::Connection),
    Postgres(RefCell<Pg>),
}

pub(crate) struct Pg {
    client: postgres::Client,
    statements: HashMap<String, postgres::Statement>,
}

impl Db {
    pub(crate) fn postgres(client: postgres::Client) -> Db {
        Db::Postgres(RefCell::new(Pg {
            client,
            statements: HashMap::new(),
        }))
    }

    /// Runs one statement; returns the number of rows it changed.
    pub(crate) fn execute(&self, sql: &str, args: &[Value]) -> Result<u64, StoreError> {
        match self {
            Db::Sqlite(conn) => Ok(conn
                .prepare_cached(sql)?
                .execute(rusqlite::params_from_iter(args.iter()))?
                as u64),
            Db::Postgres(pg) => {
                let mut pg = pg.borrow_mut();
                let statement = pg.statement(sql)?;
                Ok(pg.client.execute(&statement, &pg_args(args))?)
            }
        }
    }

    pub(crate) fn query(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>, StoreError> {
        let mut rows = Vec::new();
        self.for_each(sql, args, |row| {
            rows.push(row);
            Ok(())
        })?;
        Ok(rows)
    }

    pub(crate) fn query_opt(&self, sql: &str, args: &[Value]) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, args)?.into_iter().next())
    }

    pub(crate) fn query_one(&self, sql: &str, args: &[Value]) -> Result<Row, StoreError> {
        self.query_opt(sql, args)?.ok_or_else(|| StoreError::NoRow {
            sql: sql.to_owned(),
        })
    }

    /// Streams the rows to `visit`, so a scan over the whole store keeps memory flat.
    pub(crate) fn for_each(
        &self,
        sql: &str,
        args: &[Value],
        mut visit: impl FnMut(Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.for_each_until(sql, args, |row| {
            visit(row)?;
            Ok(ControlFlow::Continue(()))
        })
    }

    /// [`Db::for_each`] that `visit` can stop early with `Break`.
    pub(crate) fn for_each_until(
        &self,
        sql: &str,
        args: &[Value],
        mut visit: impl FnMut(Row) -> Result<ControlFlow<()>, StoreError>,
    ) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(conn) => {
                let mut statement = conn.prepare_cached(sql)?;
                let width = statement.column_count();
                let mut rows = statement.query(rusqlite::params_from_iter(args.iter()))?;
                while let Some(row) = rows.next()? {
                    let mut values = Vec::with_capacity(width);
                    for index in 0..width {
                        values.push(Value::from(row.get_ref(index)?));
                    }
                    if visit(Row { values })?.is_break() {
                        break;
                    }
                }
                Ok(())
            }
            Db::Postgres(pg) => {
                let mut pg = pg.borrow_mut();
                let statement = pg.statement(sql)?;
                let width = statement.columns().len();
                let mut rows = pg.client.query_raw(&statement, pg_args(args))?;
                while let Some(row) = rows.next()? {
                    let mut values = Vec::with_capacity(width);
                    for index in 0..width {
                        values.push(row.try_get::<_, Value>(index)?);
                    }
                    if visit(Row { values })?.is_break() {
                        break;
                    }
                }
                Ok(())
            }
        }
    }

    /// Whether this is a PostgreSQL connection (for the few writes that take a
    /// different path there, such as [`Db::copy_in`]).
    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    /// Appends rows (`width` values each, row after row) to `table`'s `columns` with
    /// PostgreSQL's binary `COPY … FROM STDIN`: one stream for any number of rows, so
    /// the server plans no statement and evaluates no `VALUES` list per few hundred
    /// rows, which halved its share of a bulk ingest. `None` on SQLite, which has no
    /// `COPY`; a multi-row `INSERT` costs no round trip there.
    pub(crate) fn copy_in(
        &self,
        table: &str,
        columns: &str,
        width: usize,
        values: &[Value],
    ) -> Result<Option<u64>, StoreError> {
        let Db::Postgres(pg) = self else {
            return Ok(None);
        };
        let mut pg = pg.borrow_mut();
        // The binary format carries no types: they come from the table, through a
        // statement that is prepared once and never run.
        let types: Vec<Type> = pg
            .statement(&format!("SELECT {columns} FROM {table} LIMIT 0"))?
            .columns()
            .iter()
            .map(|column| column.type_().clone())
            .collect();
        debug_assert_eq!(types.len(), width);
        let stream = pg.client.copy_in(&format!(
            "COPY {table} ({columns}) FROM STDIN (FORMAT binary)"
        ))?;
        let mut writer = BinaryCopyInWriter::new(stream, &types);
        for row in values.chunks(width.max(1)) {
            writer.write(&pg_args(row))?;
        }
        Ok(Some(writer.finish()?))
    }

    /// Runs several statements without parameters (schema changes, pragmas).
    pub(crate) fn batch(&self, sql: &str) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(conn) => Ok(conn.execute_batch(sql)?),
            Db::Postgres(pg) => Ok(pg.borrow_mut().client.batch_execute(sql)?),
        }
    }

    /// Starts a write transaction. SQLite takes its single write lock up front
    /// (`IMMEDIATE`) so concurrent writers queue instead of failing on lock upgrade.
    pub(crate) fn begin(&self, order: WriteOrder) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(conn) => Ok(conn.execute_batch("BEGIN IMMEDIATE")?),
            Db::Postgres(pg) => {
                let mut pg = pg.borrow_mut();
                pg.client.batch_execute("BEGIN")?;
                if order == WriteOrder::ChangeLog {
                    pg.client
                        .execute("SELECT pg_advisory_xact_lock($1)", &[&CHANGE_LOG_LOCK])?;
                }
                Ok(())
            }
        }
    }

    pub(crate) fn commit(&self) -> Result<(), StoreError> {
        self.batch("COMMIT")
    }

    pub(crate) fn rollback(&self) -> Result<(), StoreError> {
        self.batch("ROLLBACK")
    }

    /// Runs `work` in a write transaction: committed if it returns `Ok`, rolled back
    /// otherwise.
    pub(crate) fn transaction<T>(
        &self,
        order: WriteOrder,
        work: impl FnOnce(&Db) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.begin(order)?;
        match work(self) {
            Ok(value) => {
                self.commit()?;
                Ok(value)
            }
            Err(error) => {
                // The original error matters more than a failed rollback.
                let _ = self.rollback();
                Err(error)
            }
        }
    }
}

impl Pg {
    fn statement(&mut self, sql: &str) -> Result<postgres::Statement, StoreError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(&postgres_placeholders(sql))?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

fn pg_args(args: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter()
        .map(|value| value as &(dyn ToSql + Sync))
        .collect()
}

/// Rewrites SQLite placeholders (`?1`, or bare `?` numbered left to right) into
/// PostgreSQL's `$1`. Store SQL never has a `?` inside a string literal.
fn postgres_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut next = 1;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '?' {
            out.push(c);
            continue;
        }
        let mut digits = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            digits.push(*d);
            chars.next();
        }
        out.push('$');
        if digits.is_empty() {
            out.push_str(&next.to_string());
            next += 1;
        } else {
            out.push_str(&digits);
        }
    }
    out
}

/// Builds a `&[Value]` argument list from plain Rust values.
macro_rules! args {
    ($($value:expr),* $(,)?) => {
        &[$($crate::db::ToValue::to_value(&$value)),*][..]
    };
}
pub(crate) use args;

#[cfg(test)]
mod tests {
    use super::{Row, Value, postgres_placeholders};
    use crate::StoreError;

    #[test]
    fn taking_a_value_moves_it_and_leaves_null() -> Result<(), StoreError> {
        let mut row = Row {
            values: vec![Value::Text("title".into()), Value::Null, Value::Int(7)],
        };
        let title: String = row.take(0)?;
        assert_eq!(title, "title");
        assert_eq!(row.get::<Option<String>>(0)?, None, "taken once");
        assert_eq!(row.take::<Option<String>>(1)?, None);
        assert_eq!(row.take::<Option<String>>(9)?, None, "past the end is NULL");
        assert!(
            matches!(
                row.take::<String>(2),
                Err(StoreError::Decode { index: 2, .. })
            ),
            "an integer is not text"
        );
        Ok(())
    }

    #[test]
    fn placeholders_are_renumbered_for_postgres() {
        assert_eq!(
            postgres_placeholders("a = ?1 AND b = ?12 OR c = ?1"),
            "a = $1 AND b = $12 OR c = $1"
        );
        assert_eq!(
            postgres_placeholders("a >= ? AND a < ? AND c = ?"),
            "a >= $1 AND a < $2 AND c = $3"
        );
    }
}
