//! Table output by default, JSON with `--json`.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use serde::Serialize;

pub struct Out {
    pub json: bool,
}

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

    pub fn message<T: Serialize>(&self, value: &T, text: &str) -> anyhow::Result<()> {
        if self.json {
            println!("{}", serde_json::to_string_pretty(value)?);
        } else {
            println!("{text}");
        }
        Ok(())
    }
}
