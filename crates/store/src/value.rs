//! Column values as both engines see them: SQLite's five storage classes, which
//! PostgreSQL's BIGINT, DOUBLE PRECISION, TEXT and BYTEA columns map onto one to one.

use std::error::Error;

use bytes::BytesMut;
use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use rusqlite::types::{ToSqlOutput, ValueRef};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Value {
    pub(crate) fn kind(&self) -> ValueKind {
        match self {
            Value::Null => ValueKind::Null,
            Value::Int(_) => ValueKind::Integer,
            Value::Real(_) => ValueKind::Real,
            Value::Text(_) => ValueKind::Text,
            Value::Blob(_) => ValueKind::Blob,
        }
    }
}

/// The storage class of a value, named in errors (the value itself may be a whole
/// abstract or vector).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ValueKind {
    #[error("NULL")]
    Null,
    #[error("an integer")]
    Integer,
    #[error("a number")]
    Real,
    #[error("text")]
    Text,
    #[error("a blob")]
    Blob,
}

/// Why a value could not cross between a column and a Rust type.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    #[error("expected {expected}, found {found}")]
    Mismatch {
        expected: ValueKind,
        found: ValueKind,
    },
    #[error("{value} does not fit a {target}")]
    OutOfRange { value: i64, target: &'static str },
    /// A parameter whose value the PostgreSQL column type cannot take.
    #[error("{found} parameter for a {column} column")]
    Parameter { found: ValueKind, column: Type },
    /// A result column of a PostgreSQL type the store does not read.
    #[error("unsupported column type {column}; cast it in the query")]
    ColumnType { column: Type },
}

impl ValueError {
    fn mismatch(expected: ValueKind, found: &Value) -> ValueError {
        ValueError::Mismatch {
            expected,
            found: found.kind(),
        }
    }
}

pub(crate) trait ToValue {
    fn to_value(&self) -> Value;
}

pub(crate) trait FromValue: Sized {
    fn from_value(value: &Value) -> Result<Self, ValueError>;

    /// [`FromValue::from_value`] from a value the caller gives up: text and bytes
    /// move instead of being copied.
    fn from_owned(value: Value) -> Result<Self, ValueError> {
        Self::from_value(&value)
    }
}

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

impl ToValue for i64 {
    fn to_value(&self) -> Value {
        Value::Int(*self)
    }
}

impl ToValue for u32 {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}

impl ToValue for usize {
    fn to_value(&self) -> Value {
        Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
}

impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

impl FromValue for i64 {
    fn from_value(value: &Value) -> Result<Self, ValueError> {
        match value {
            Value::Int(v) => Ok(*v),
            other => Err(ValueError::mismatch(ValueKind::Integer, other)),
        }
    }
}

impl FromValue for u32 {
    fn from_value(value: &Value) -> Result<Self, ValueError> {
        let wide = i64::from_value(value)?;
        u32::try_from(wide).map_err(|_| ValueError::OutOfRange {
            value: wide,
            target: "u32",
        })
    }
}

impl FromValue for f64 {
    fn from_value(value: &Value) -> Result<Self, ValueError> {
        match value {
            Value::Real(v) => Ok(*v),
            Value::Int(v) => Ok(*v as f64),
            other => Err(ValueError::mismatch(ValueKind::Real, other)),
        }
    }
}

impl FromValue for String {
    fn from_value(value: &Value) -> Result<Self, ValueError> {
        match value {
            Value::Text(text) => Ok(text.clone()),
            other => Err(ValueError::mismatch(ValueKind::Text, other)),
        }
    }

    fn from_owned(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Text(text) => Ok(text),
            other => Err(ValueError::mismatch(ValueKind::Text, &other)),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: &Value) -> Result<Self, ValueError> {
        match value {
            Value::Blob(bytes) => Ok(bytes.clone()),
            other => Err(ValueError::mismatch(ValueKind::Blob, other)),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Self, ValueError> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }

    fn from_owned(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Null => Ok(None),
            other => T::from_owned(other).map(Some),
        }
    }
}

impl From<ValueRef<'_>> for Value {
    fn from(value: ValueRef<'_>) -> Value {
        match value {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(v) => Value::Int(v),
            ValueRef::Real(v) => Value::Real(v),
            // Valid UTF-8 (all the store writes) takes the validator's fast path;
            // `from_utf8_lossy` walks it chunk by chunk (1.7 % of an uncached paper
            // page's profile on AMD).
            ValueRef::Text(bytes) => Value::Text(match std::str::from_utf8(bytes) {
                Ok(text) => text.to_owned(),
                Err(_) => String::from_utf8_lossy(bytes).into_owned(),
            }),
            ValueRef::Blob(bytes) => Value::Blob(bytes.to_vec()),
        }
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(v) => ValueRef::Integer(*v),
            Value::Real(v) => ValueRef::Real(*v),
            Value::Text(text) => ValueRef::Text(text.as_bytes()),
            Value::Blob(bytes) => ValueRef::Blob(bytes),
        }))
    }
}

type BoxedError = Box<dyn Error + Sync + Send>;

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxedError> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => match *ty {
                Type::INT8 => v.to_sql(ty, out),
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::FLOAT8 => (*v as f64).to_sql(ty, out),
                Type::BOOL => (*v != 0).to_sql(ty, out),
                _ => Err(Box::new(ValueError::Parameter {
                    found: ValueKind::Integer,
                    column: ty.clone(),
                })),
            },
            Value::Real(v) => match *ty {
                Type::FLOAT4 => (*v as f32).to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Value::Text(text) => text.as_str().to_sql(ty, out),
            Value::Blob(bytes) => bytes.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Value {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Value, BoxedError> {
        Ok(match *ty {
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Value::Int(i64::from(i32::from_sql(ty, raw)?)),
            Type::INT2 => Value::Int(i64::from(i16::from_sql(ty, raw)?)),
            Type::BOOL => Value::Int(i64::from(bool::from_sql(ty, raw)?)),
            Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Value::Real(f64::from(f32::from_sql(ty, raw)?)),
            Type::BYTEA => Value::Blob(raw.to_vec()),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                Value::Text(String::from_sql(ty, raw)?)
            }
            _ => return Err(Box::new(ValueError::ColumnType { column: ty.clone() })),
        })
    }

    fn from_sql_null(_: &Type) -> Result<Value, BoxedError> {
        Ok(Value::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_errors_name_what_was_expected_and_found() {
        let text = Value::Text("2024".to_owned());
        let error = i64::from_value(&text).expect_err("text is no integer");
        assert_eq!(
            error,
            ValueError::Mismatch {
                expected: ValueKind::Integer,
                found: ValueKind::Text,
            }
        );
        assert_eq!(error.to_string(), "expected an integer, found text");
        assert_eq!(
            u32::from_value(&Value::Int(-1)),
            Err(ValueError::OutOfRange {
                value: -1,
                target: "u32"
            })
        );
        assert_eq!(Option::<String>::from_value(&Value::Null), Ok(None));
        assert_eq!(f64::from_value(&Value::Int(2)), Ok(2.0));
    }
}
