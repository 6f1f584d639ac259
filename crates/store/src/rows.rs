//! Reading values from rows: a struct from one row, and a query's rows into values.

use crate::crypto::{digest, same_digest};
use crate::{Result, StoreError};
use idcgate_core::ResourceKind;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::Row;
use sqlx::{Any, AnyPool};
use std::future::Future;

/// A struct read from a row, field by field: `field` is the column of its own name,
/// `field: "column"` a column named otherwise, `field = value` anything a column's
/// text is parsed into (an enum, JSON, a nested struct). A column is read as its
/// field's type, and a failed read returns the error from the enclosing function.
macro_rules! read_row {
    (@field $r:ident, $field:ident) => {
        $r.try_get(stringify!($field))?
    };
    (@field $r:ident, $field:ident: $column:literal) => {
        $r.try_get($column)?
    };
    (@field $r:ident, $field:ident = $value:expr) => {
        $value
    };
    ($r:ident => $ty:ident { $($field:ident $(: $column:literal)? $(= $value:expr)?),* $(,)? }) => {
        $ty {
            $($field: read_row!(@field $r, $field $(: $column)? $(= $value)?)),*
        }
    };
}

/// A query run on the pool, its rows read by `from`.
pub(crate) trait ReadRows {
    /// Every row the query selects, collected (in a `Vec`, a map, ...).
    fn read_all<C, T, F>(self, pool: &AnyPool, from: F) -> impl Future<Output = Result<C>> + Send
    where
        C: FromIterator<T>,
        F: Fn(&AnyRow) -> Result<T> + Send;

    /// The one row the query selects (a `RETURNING`, an aggregate).
    fn read_one<T, F>(self, pool: &AnyPool, from: F) -> impl Future<Output = Result<T>> + Send
    where
        F: FnOnce(&AnyRow) -> Result<T> + Send;

    /// The row the query selects, if any.
    fn read_optional<T, F>(
        self,
        pool: &AnyPool,
        from: F,
    ) -> impl Future<Output = Result<Option<T>>> + Send
    where
        F: FnOnce(&AnyRow) -> Result<T> + Send;

    /// The row the query selects if its `hash_column` holds the digest of `secret`
    /// (compared in constant time): `None` for no row and for another secret alike.
    fn read_verified<T, F>(
        self,
        pool: &AnyPool,
        hash_column: &str,
        secret: &str,
        from: F,
    ) -> impl Future<Output = Result<Option<T>>> + Send
    where
        F: FnOnce(&AnyRow) -> Result<T> + Send;
}

impl<'q> ReadRows for sqlx::query::Query<'q, Any, AnyArguments<'q>> {
    async fn read_all<C, T, F>(self, pool: &AnyPool, from: F) -> Result<C>
    where
        C: FromIterator<T>,
        F: Fn(&AnyRow) -> Result<T> + Send,
    {
        self.fetch_all(pool).await?.iter().map(from).collect()
    }

    async fn read_one<T, F>(self, pool: &AnyPool, from: F) -> Result<T>
    where
        F: FnOnce(&AnyRow) -> Result<T> + Send,
    {
        from(&self.fetch_one(pool).await?)
    }

    async fn read_optional<T, F>(self, pool: &AnyPool, from: F) -> Result<Option<T>>
    where
        F: FnOnce(&AnyRow) -> Result<T> + Send,
    {
        self.fetch_optional(pool)
            .await?
            .as_ref()
            .map(from)
            .transpose()
    }

    async fn read_verified<T, F>(
        self,
        pool: &AnyPool,
        hash_column: &str,
        secret: &str,
        from: F,
    ) -> Result<Option<T>>
    where
        F: FnOnce(&AnyRow) -> Result<T> + Send,
    {
        let Some(row) = self.fetch_optional(pool).await? else {
            return Ok(None);
        };
        let stored: String = row.try_get(hash_column)?;
        if !same_digest(&stored, &digest(secret)) {
            return Ok(None);
        }
        from(&row).map(Some)
    }
}

/// A row's first column: the id a `RETURNING id` gives, a count, a one-column select.
pub(crate) fn first_column<T>(r: &AnyRow) -> Result<T>
where
    T: for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    Ok(r.try_get(0)?)
}

/// A table as its rows are read: its name, the columns selected, and the reading.
pub(crate) struct Table<T> {
    pub name: &'static str,
    pub columns: &'static str,
    pub from: fn(&AnyRow) -> Result<T>,
}

impl<T> Table<T> {
    pub const fn new(
        name: &'static str,
        columns: &'static str,
        from: fn(&AnyRow) -> Result<T>,
    ) -> Self {
        Table {
            name,
            columns,
            from,
        }
    }
}

/// The resource kind stored in one of `what`'s rows; any other text is corruption.
pub(crate) fn kind_of(what: &str, s: &str) -> Result<ResourceKind> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("{what} kind {s:?}")))
}

/// The value `parse` reads from `s`, stored as `what`; text it does not know is
/// corruption.
pub(crate) fn parsed<T>(parse: fn(&str) -> Option<T>, what: &str, s: &str) -> Result<T> {
    parse(s).ok_or_else(|| StoreError::Corrupt(format!("{what} {s:?}")))
}
