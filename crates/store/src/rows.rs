//! Reading a struct from a row.

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
