//! Statements over many rows at once: a multi-row `INSERT` or an `IN (…)` list carries
//! hundreds of rows per statement, so a bulk write costs a few round trips per
//! thousand records instead of several per record. On PostgreSQL every statement is a
//! round trip to the server, which is what made its ingest ten times slower than
//! SQLite's; on SQLite it saves little but costs nothing.
//!
//! Each statement is prepared once per connection and cached by its text (see
//! `db.rs`), so the row counts are kept to a few sizes: a list of n rows is sent as
//! statements of power-of-two sizes, largest first. Every table then has at most a
//! dozen distinct statements, however the batch sizes vary.

use crate::StoreError;
use crate::db::{Db, Row, Value};

/// The most rows one statement carries.
const MAX_ROWS: usize = 512;
/// The most parameters one statement binds: PostgreSQL allows 65,535 and SQLite (as
/// bundled) 32,766.
const MAX_PARAMS: usize = 32_000;

/// The statement sizes `rows` rows are sent in: powers of two, none above the
/// largest power of two that fits `width` values per row, largest first.
fn statement_sizes(rows: usize, width: usize) -> impl Iterator<Item = usize> {
    let cap = MAX_ROWS.min(MAX_PARAMS / width.max(1)).max(1);
    let largest = 1usize << (usize::BITS - 1 - cap.leading_zeros());
    let mut left = rows;
    std::iter::from_fn(move || {
        if left == 0 {
            return None;
        }
        let size = if left >= largest {
            largest
        } else {
            1usize << (usize::BITS - 1 - left.leading_zeros())
        };
        left -= size;
        Some(size)
    })
}

/// `(?, ?, …)` repeated `rows` times, comma-separated.
fn tuples(width: usize, rows: usize) -> String {
    let row = format!("({})", vec!["?"; width].join(", "));
    vec![row; rows].join(", ")
}

/// `INSERT INTO {into} VALUES (…), … {tail}` for the rows in `values` (`width` values
/// each, row after row). `tail` may be an `ON CONFLICT` clause.
pub(crate) fn insert(
    db: &Db,
    into: &str,
    width: usize,
    values: &[Value],
    tail: &str,
) -> Result<(), StoreError> {
    each_statement(width, values, |rows, values| {
        let sql = format!("INSERT INTO {into} VALUES {} {tail}", tuples(width, rows));
        db.execute(&sql, values).map(drop)
    })
}

/// Appends rows to `table` (no conflict is possible: fresh keys, or rows whose old
/// versions were deleted in the same transaction): a binary `COPY` on PostgreSQL,
/// multi-row [`insert`]s on SQLite.
pub(crate) fn append(
    db: &Db,
    table: &str,
    columns: &str,
    width: usize,
    values: &[Value],
) -> Result<(), StoreError> {
    if values.is_empty() {
        return Ok(());
    }
    match db.copy_in(table, columns, width, values)? {
        Some(_) => Ok(()),
        None => insert(db, &format!("{table} ({columns})"), width, values, ""),
    }
}

/// [`insert`] with a `RETURNING` clause in `tail`: each returned row goes to `visit`.
pub(crate) fn insert_returning(
    db: &Db,
    into: &str,
    width: usize,
    values: &[Value],
    tail: &str,
    mut visit: impl FnMut(Row) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    each_statement(width, values, |rows, values| {
        let sql = format!("INSERT INTO {into} VALUES {} {tail}", tuples(width, rows));
        db.for_each(&sql, values, &mut visit)
    })
}

/// Runs `{head} IN (?, …) {tail}` over every value in `values`, a statement per few
/// hundred, and hands each row to `visit`. `leading` are bound before the list, to
/// placeholders in `head`. Rows come statement by statement, so any `ORDER BY` in
/// `tail` holds within a statement only.
pub(crate) fn select_in(
    db: &Db,
    head: &str,
    leading: &[Value],
    values: &[Value],
    tail: &str,
    mut visit: impl FnMut(Row) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    each_statement(1, values, |rows, values| {
        let sql = format!("{head} IN ({}) {tail}", vec!["?"; rows].join(", "));
        let args: Vec<Value> = leading.iter().chain(values).cloned().collect();
        db.for_each(&sql, &args, &mut visit)
    })
}

/// `DELETE FROM {table} WHERE {column} IN (…)` for every value in `values`.
pub(crate) fn delete_in(
    db: &Db,
    table: &str,
    column: &str,
    values: &[Value],
) -> Result<(), StoreError> {
    each_statement(1, values, |rows, values| {
        let sql = format!(
            "DELETE FROM {table} WHERE {column} IN ({})",
            vec!["?"; rows].join(", ")
        );
        db.execute(&sql, values).map(drop)
    })
}

/// Calls `run(rows, values)` for consecutive slices of `values` of
/// [`statement_sizes`] rows.
fn each_statement(
    width: usize,
    values: &[Value],
    mut run: impl FnMut(usize, &[Value]) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    debug_assert_eq!(values.len() % width.max(1), 0);
    let mut start = 0;
    for rows in statement_sizes(values.len() / width.max(1), width) {
        let end = start + rows * width;
        run(rows, &values[start..end])?;
        start = end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::statement_sizes;

    #[test]
    fn rows_go_in_few_power_of_two_statement_sizes() {
        let sizes: Vec<usize> = statement_sizes(1500, 4).collect();
        assert_eq!(sizes, [512, 512, 256, 128, 64, 16, 8, 4]);
        assert_eq!(sizes.iter().sum::<usize>(), 1500);
        // 26 values a row: at most 1,230 rows fit 32,000 parameters, so 512 still.
        assert_eq!(
            statement_sizes(600, 26).collect::<Vec<_>>(),
            [512, 64, 16, 8]
        );
        // A wide row lowers the cap to the power of two that fits.
        assert_eq!(
            statement_sizes(300, 100).collect::<Vec<_>>(),
            [256, 32, 8, 4]
        );
        assert_eq!(statement_sizes(0, 3).count(), 0);
        assert_eq!(statement_sizes(1, 3).collect::<Vec<_>>(), [1]);
    }
}
