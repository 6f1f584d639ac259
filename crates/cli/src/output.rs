//! Table output by default, JSON with `--json`; log lines kept out of tables and bars.

use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use indicatif::MultiProgress;
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;

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
            print_json(value)
        } else {
            let table = render(headers, rows, terminal_width());
            // A warning logged meanwhile (another task, a slow write) waits for the table.
            let ((), logged) = holding_logs(|| println!("{table}"));
            write_stderr(&logged);
            Ok(())
        }
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

    /// [`table`](Self::table) of `items`, which are their own JSON.
    pub fn list<R: Serialize>(&self, items: &[R], columns: &[Column<R>]) -> anyhow::Result<()> {
        self.table(&items, items, columns)
    }

    /// One item as a one-row table, or as a JSON object (not a list of one).
    pub fn one<R: Serialize>(&self, item: &R, columns: &[Column<R>]) -> anyhow::Result<()> {
        self.table(item, std::slice::from_ref(item), columns)
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
            print_json(value)?;
        }
        Ok(self.json)
    }
}

/// `value` as pretty JSON, each Unix-millisecond time also written readably beside it.
pub fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let mut v = serde_json::to_value(value)?;
    readable_times(&mut v);
    println!("{}", serde_json::to_string_pretty(&v)?);
    Ok(())
}

/// Earliest and latest instants (2000-01-01, 2200-01-01) a `*_ms` number is taken to be
/// a time at rather than a duration.
const TIMES_FROM_MS: i64 = 946_684_800_000;
const TIMES_UNTIL_MS: i64 = 7_258_118_400_000;

/// Beside every `<name>_ms` field holding a time, `<name>` in RFC 3339 with the chosen
/// zone's offset (`expires_at_ms` -> `expires_at`), unless the object has that field.
pub fn readable_times(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            let mut added = Vec::new();
            for (k, field) in map.iter() {
                let (Some(name), Some(ms)) = (k.strip_suffix("_ms"), field.as_i64()) else {
                    continue;
                };
                if name.is_empty()
                    || map.contains_key(name)
                    || !(TIMES_FROM_MS..TIMES_UNTIL_MS).contains(&ms)
                {
                    continue;
                }
                if let Some(text) = crate::clock::rfc3339(ms) {
                    added.push((name.to_string(), serde_json::Value::String(text)));
                }
            }
            for field in map.values_mut() {
                readable_times(field);
            }
            map.extend(added);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(readable_times),
        _ => {}
    }
}

/// A table as text: as wide as its cells when `width` is `None` (piped: every character
/// kept for the reader), else wrapped within `width` columns: the widest column wraps,
/// the others keep their width while they leave it room.
pub fn render(headers: &[&str], rows: Vec<Vec<String>>, width: Option<u16>) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    let widths = column_widths(headers, &rows);
    t.set_header(headers.iter().copied());
    for r in rows {
        t.add_row(r);
    }
    if let Some(w) = width {
        t.set_content_arrangement(ContentArrangement::Dynamic);
        t.set_width(w);
        // The narrowest columns keep their width, as many as leave the rest at least
        // 12 characters; the wider ones wrap. Borders and padding: three characters a
        // column, and one.
        let mut by_width: Vec<usize> = (0..widths.len()).collect();
        by_width.sort_by_key(|&i| widths[i]);
        let mut used = 1 + 3 * widths.len();
        for (kept, &i) in by_width.iter().enumerate() {
            let left = widths.len() - kept - 1;
            if left == 0 || used + widths[i] + 12 * left > usize::from(w) {
                break;
            }
            used += widths[i];
            if let Some(c) = t.column_mut(i) {
                c.set_constraint(comfy_table::ColumnConstraint::ContentWidth);
            }
        }
    }
    t.to_string()
}

/// Each column's widest line, header included, in characters.
fn column_widths(headers: &[&str], rows: &[Vec<String>]) -> Vec<usize> {
    let longest = |s: &str| s.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| longest(c))
                .chain([longest(h)])
                .max()
                .unwrap_or(0)
        })
        .collect()
}

/// The terminal's width when standard output is one; `None` when piped or redirected.
pub fn terminal_width() -> Option<u16> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    tty_columns().or_else(|| {
        std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse().ok())
            .filter(|&c: &u16| c > 0)
    })
}

#[cfg(unix)]
#[allow(unsafe_code)]
fn tty_columns() -> Option<u16> {
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `winsize` into the struct it is given, which lives
    // across the call; on any failure it writes nothing and returns -1.
    let r = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) };
    (r == 0 && size.ws_col > 0).then_some(size.ws_col)
}

#[cfg(not(unix))]
fn tty_columns() -> Option<u16> {
    None
}

/// Log lines written while a table is printed, kept to be written after it.
static HELD: Mutex<Option<Vec<u8>>> = Mutex::new(None);
/// Progress bars on stderr: a log line is written above them, never across one.
static BARS: Mutex<Option<MultiProgress>> = Mutex::new(None);

/// Runs `f` (which prints a table) with log lines held back; answers what was logged
/// meanwhile, for the caller to write after the table.
pub fn holding_logs<R>(f: impl FnOnce() -> R) -> (R, Vec<u8>) {
    *idcgate_core::lock(&HELD) = Some(Vec::new());
    let r = f();
    let logged = idcgate_core::lock(&HELD).take().unwrap_or_default();
    (r, logged)
}

/// While `bars` are drawn, log lines go above them.
pub fn logs_above(bars: Option<MultiProgress>) {
    *idcgate_core::lock(&BARS) = bars;
}

fn write_stderr(bytes: &[u8]) {
    if !bytes.is_empty() {
        let _ = std::io::stderr().lock().write_all(bytes);
    }
}

/// Where a log line goes: held while a table prints, above the bars while they are
/// drawn, else straight to stderr.
fn emit(line: &[u8]) {
    if let Some(held) = idcgate_core::lock(&HELD).as_mut() {
        held.extend_from_slice(line);
        return;
    }
    let bars = idcgate_core::lock(&BARS).clone();
    match bars {
        Some(m) => m.suspend(|| write_stderr(line)),
        None => write_stderr(line),
    }
}

/// The log's writer (`tracing_subscriber`'s `MakeWriter`): one line per event, written
/// whole through [`emit`] when the event is done.
pub struct LogWriter;

pub struct LogLine(Vec<u8>);

impl Write for LogLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        emit(&self.0);
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogLine;

    fn make_writer(&'a self) -> LogLine {
        LogLine(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_fits_the_width_it_is_given_and_keeps_everything_when_piped() {
        let long = "p".repeat(300);
        let rows = vec![vec!["west:domain.getprice".to_string(), long.clone()]];
        let piped = render(&["id", "params"], rows.clone(), None);
        assert!(piped.lines().any(|l| l.contains(&long)), "{piped}");
        let fitted = render(&["id", "params"], rows, Some(80));
        for line in fitted.lines() {
            assert!(
                line.chars().count() <= 80,
                "{} > 80: {line}",
                line.chars().count()
            );
        }
        assert_eq!(
            fitted.matches('p').count(),
            piped.matches('p').count(),
            "wrapped, nothing cut"
        );
        assert!(
            fitted.contains("west:domain.getprice"),
            "the short column is not wrapped: {fitted}"
        );
    }

    #[test]
    fn log_lines_written_during_a_table_come_after_it() {
        let ((), logged) = holding_logs(|| {
            let mut l = LogLine(Vec::new());
            l.write_all(b"WARN slow\n").unwrap();
            drop(l);
            // Another thread's warning lands in the same place.
            std::thread::spawn(|| drop(LogLine(b"WARN other\n".to_vec())))
                .join()
                .unwrap();
        });
        assert_eq!(
            String::from_utf8(logged).unwrap(),
            "WARN slow\nWARN other\n"
        );
        assert!(
            idcgate_core::lock(&HELD).is_none(),
            "released after the table"
        );
    }

    #[test]
    fn times_in_milliseconds_get_a_readable_twin() {
        crate::clock::set(crate::clock::Tz::China);
        let mut v = serde_json::json!({
            "expires_at_ms": 1_796_119_200_000_i64,
            "items": [{"at_ms": 1_796_119_200_000_i64, "at": "kept"}],
            "latency_ms": 1200,
            "gone_at_ms": null
        });
        readable_times(&mut v);
        assert_eq!(v["expires_at"], "2026-12-01T18:00:00+08:00", "{v}");
        assert_eq!(v["items"][0]["at"], "kept", "an existing field stays");
        assert!(v.get("latency").is_none(), "a duration is no time: {v}");
        assert!(v.get("gone_at").is_none(), "{v}");
    }
}
