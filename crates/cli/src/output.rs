//! Table output by default, JSON with `--json`.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use serde::Serialize;

/// A table column: its header and how to write its cell for one item.
pub type Column<R> = (&'static str, fn(&R) -> String);

pub struct Out {
    pub json: bool,
}

/// A failure whose one JSON document (`{"error": .., ...}`) the command printed itself,
/// with what it did alongside: `main` exits non-zero without printing a second one.
#[derive(Debug)]
pub struct Shown(pub String);

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Shown {}

impl Out {
    /// Prints rows as a table (headers + cells) or the serialisable value as JSON.
    pub fn show<T: Serialize>(
        &self,
        value: &T,
        headers: &[&str],
        rows: Vec<Vec<String>>,
    ) -> anyhow::Result<()> {
        if self.json {
            println!("{}", serde_json::to_string_pretty(value)?);
        } else {
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED);
            t.set_header(headers.iter().copied());
            for r in rows {
                t.add_row(r);
            }
            println!("{t}");
        }
        Ok(())
    }

    /// Prints `items` as a table of `columns` (a header and how to write its cell), or
    /// `value` as JSON.
    pub fn table<T: Serialize, R>(
        &self,
        value: &T,
        items: &[R],
        columns: &[Column<R>],
    ) -> anyhow::Result<()> {
        let headers: Vec<&str> = columns.iter().map(|(h, _)| *h).collect();
        let rows = items
            .iter()
            .map(|item| columns.iter().map(|(_, cell)| cell(item)).collect())
            .collect();
        self.show(value, &headers, rows)
    }

    pub fn message<T: Serialize>(&self, value: &T, text: &str) -> anyhow::Result<()> {
        if !self.json_only(value)? {
            println!("{text}");
        }
        Ok(())
    }

    /// With `--json`, prints `value` and answers `true`: the caller's table and lines
    /// are not wanted.
    pub fn json_only<T: Serialize>(&self, value: &T) -> anyhow::Result<bool> {
        if self.json {
            println!("{}", serde_json::to_string_pretty(value)?);
        }
        Ok(self.json)
    }
}
