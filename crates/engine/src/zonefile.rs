//! Zones as files: a zone's records in octoDNS's YAML layout (read and written) or as a
//! BIND zone file (written). Pure: no I/O, no upstream.
//!
//! The YAML layout is octoDNS's (`''` for the apex, `type`, `value`/`values`, `ttl`
//! left out when it is 3600, MX `exchange`/`preference`, SRV `priority`/`weight`/`port`/
//! `target`, TXT with `;` escaped as `\;`, names in natural order), so octoDNS reads an
//! exported file. What octoDNS has no word for goes under an `idcgate:` key of the
//! record: its resolution `line` and `enabled: false`. A name holds one record per
//! (type, line, enabled, ttl), as a list when there are several.
//!
//! The reader is a hand-written one for the block YAML octoDNS files are made of
//! (block mappings and sequences, PyYAML's indentless sequences, plain, single- and
//! double-quoted scalars, one-line flow `[...]`/`{...}`, comments). Anything beyond that
//! (anchors, aliases, tags, block scalars, multi-line scalars, several documents) is
//! refused with the line it is on, never guessed at. Nesting and size are bounded, so
//! hostile input is an error, never a panic or a stack overflow.

use idcgate_core::{DnsRecord, RecordType};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt::Write as _;

/// octoDNS's default TTL: a record without `ttl` has it, and it is left out on export.
pub const DEFAULT_TTL: u32 = 3600;

/// The largest file read (a 10,000-record zone is well under 1 MiB).
pub const MAX_FILE_BYTES: usize = 32 << 20;

/// How deep a YAML document may nest (a zone file needs 5).
const MAX_DEPTH: usize = 32;

/// The comment that names the zone inside a file, whatever the file is called.
pub const ZONE_MARK: &str = "# idcgate: zone ";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZoneFileError {
    #[error("line {line}: {message}")]
    Syntax { line: usize, message: String },
    #[error("{0}")]
    Content(String),
}

fn syntax<T>(line: usize, message: impl Into<String>) -> Result<T, ZoneFileError> {
    Err(ZoneFileError::Syntax {
        line,
        message: message.into(),
    })
}

fn content<T>(message: impl Into<String>) -> Result<T, ZoneFileError> {
    Err(ZoneFileError::Content(message.into()))
}

/// A zone as a file holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneFile {
    pub zone: String,
    pub entries: Vec<Entry>,
}

/// One record of the file: the values of a name and type that share line, state and TTL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Relative to the zone, lower case; `""` is the apex.
    pub name: String,
    pub rtype: RecordType,
    pub ttl: u32,
    /// The line's vendor-neutral name ([`canonical_line`]); `None` is the default line.
    pub line: Option<String>,
    pub enabled: bool,
    pub values: Vec<Value>,
}

/// A value as the core model carries it: MX and SRV keep their priority apart, SRV's
/// value is `weight port target`, CAA's `flags tag value`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Value {
    pub value: String,
    pub priority: Option<u16>,
}

/// Resolution lines by their vendor-neutral name, with every other name a vendor or a
/// person uses for them (DNSPod's Chinese names, West's codes, the two spellings of the
/// education network).
const LINE_NAMES: &[(&str, &[&str])] = &[
    ("default", &["默认", "default", "ldef"]),
    ("telecom", &["电信", "telecom", "ltel", "ctc"]),
    ("unicom", &["联通", "unicom", "lcnc", "cucc"]),
    ("mobile", &["移动", "mobile", "lmob", "cmcc"]),
    ("education", &["教育网", "education", "edu", "ledu"]),
    ("search", &["搜索引擎", "search", "lseo"]),
    ("abroad", &["国外", "境外", "abroad", "overseas", "lfor"]),
    ("china", &["国内", "境内", "china"]),
];

/// The vendor-neutral name of a line as any vendor or person writes it; `None` for the
/// default line. A name no table knows is kept as written (trimmed, lower case if ASCII).
pub fn canonical_line(line: Option<&str>) -> Option<String> {
    let l = line.map(str::trim).filter(|l| !l.is_empty())?;
    let lower = l.to_lowercase();
    match LINE_NAMES
        .iter()
        .find(|(_, names)| names.iter().any(|n| *n == lower))
    {
        Some(("default", _)) => None,
        Some((name, _)) => Some((*name).to_string()),
        None => Some(lower),
    }
}

/// The name of `line` in the list a vendor offers (its `lines()`), if it offers it.
pub fn offered_line<'a>(line: &str, offered: &'a [String]) -> Option<&'a str> {
    let want = canonical_line(Some(line));
    offered
        .iter()
        .find(|o| canonical_line(Some(o)) == want)
        .map(String::as_str)
}

/// A record's host as a file name: `""` for the apex, lower case.
pub fn name_of_host(host: &str) -> String {
    let h = host.trim().trim_end_matches('.').to_lowercase();
    if h == "@" {
        String::new()
    } else {
        h
    }
}

/// A file's record name as a name within `zone`: relative as octoDNS writes it (`''` or
/// `@` for the apex), or absolute with its trailing dot, which must then lie in the zone.
/// `www.other.org.` in a file for example.com is an error, never a record
/// `www.other.org.example.com`.
pub fn name_in_zone(raw: &str, zone: &str) -> Result<String, String> {
    let t = raw.trim();
    let Some(absolute) = t.strip_suffix('.') else {
        return Ok(name_of_host(t));
    };
    let absolute = absolute.to_lowercase();
    let zone = zone.trim().trim_end_matches('.').to_lowercase();
    if absolute == zone {
        return Ok(String::new());
    }
    absolute
        .strip_suffix(&format!(".{zone}"))
        .map(str::to_string)
        .ok_or_else(|| format!("{t:?} is outside zone {zone}: write names relative to the zone"))
}

/// A file name as a record's host: `@` for the apex.
pub fn host_of_name(name: &str) -> String {
    if name.is_empty() {
        "@".into()
    } else {
        name.to_string()
    }
}

impl ZoneFile {
    /// The zone as the upstream holds it: one entry per name, type, line, state and TTL.
    pub fn from_records(zone: &str, records: &[DnsRecord]) -> ZoneFile {
        let mut groups: Vec<Entry> = Vec::new();
        let mut sorted: Vec<&DnsRecord> = records.iter().collect();
        sorted.sort_by(|a, b| {
            natural_cmp(&name_of_host(&a.host), &name_of_host(&b.host))
                .then(a.rtype.as_str().cmp(b.rtype.as_str()))
        });
        // Entry index by what groups records into one entry.
        let mut index: std::collections::HashMap<(String, &str, Option<String>, bool, u32), usize> =
            std::collections::HashMap::new();
        for r in sorted {
            let name = name_of_host(&r.host);
            let line = canonical_line(r.line.as_deref());
            let value = Value {
                value: r.value.clone(),
                priority: r.priority.filter(|_| has_priority(r.rtype)),
            };
            let key = (
                name.clone(),
                r.rtype.as_str(),
                line.clone(),
                r.enabled,
                r.ttl,
            );
            match index.get(&key) {
                Some(&i) => groups[i].values.push(value),
                None => {
                    index.insert(key, groups.len());
                    groups.push(Entry {
                        name,
                        rtype: r.rtype,
                        ttl: r.ttl,
                        line,
                        enabled: r.enabled,
                        values: vec![value],
                    });
                }
            }
        }
        for e in &mut groups {
            e.values.sort();
        }
        ZoneFile {
            zone: zone.to_string(),
            entries: groups,
        }
    }

    /// How many records (values) the file holds.
    pub fn record_count(&self) -> usize {
        self.entries.iter().map(|e| e.values.len()).sum()
    }

    /// octoDNS YAML, with the zone named in a leading comment.
    pub fn to_yaml(&self) -> String {
        let mut out = String::with_capacity(64 + self.record_count() * 48);
        let _ = writeln!(out, "{ZONE_MARK}{}", self.zone);
        out.push_str("---\n");
        let mut entries: Vec<&Entry> = self.entries.iter().collect();
        entries.sort_by(|a, b| natural_cmp(&a.name, &b.name).then(entry_order(a, b)));
        let mut i = 0;
        while i < entries.len() {
            let name = &entries[i].name;
            let mut j = i;
            while j < entries.len() && entries[j].name == *name {
                j += 1;
            }
            out.push_str(&scalar(name));
            out.push_str(":\n");
            let group = &entries[i..j];
            if let [one] = group {
                write_entry(&mut out, one, "  ", "  ");
            } else {
                for e in group {
                    write_entry(&mut out, e, "- ", "  ");
                }
            }
            i = j;
        }
        out
    }

    /// A BIND zone file. BIND has no resolution lines nor paused records: the default
    /// line's live records are records, every other one is written as a comment.
    pub fn to_bind(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "$ORIGIN {}.", self.zone);
        let _ = writeln!(out, "$TTL {DEFAULT_TTL}");
        let mut entries: Vec<&Entry> = self.entries.iter().collect();
        entries.sort_by(|a, b| natural_cmp(&a.name, &b.name).then(entry_order(a, b)));
        for e in entries {
            let owner = if e.name.is_empty() { "@" } else { &e.name };
            let comment = match (&e.line, e.enabled) {
                (None, true) => String::new(),
                (Some(l), true) => format!("; idcgate: line {l}: "),
                (None, false) => "; idcgate: paused: ".to_string(),
                (Some(l), false) => format!("; idcgate: line {l}, paused: "),
            };
            for v in &e.values {
                let _ = writeln!(
                    out,
                    "{comment}{owner}\t{}\tIN\t{}\t{}",
                    e.ttl,
                    e.rtype,
                    bind_rdata(e.rtype, v)
                );
            }
        }
        out
    }

    /// Reads a zone file in the YAML layout. `zone` is the zone it is for when the
    /// caller knows it (a file named `<zone>.yaml`); the file's own `# idcgate: zone`
    /// comment wins, and one of the two is needed.
    pub fn from_yaml(text: &str, zone: Option<&str>) -> Result<ZoneFile, ZoneFileError> {
        if text.len() > MAX_FILE_BYTES {
            return content(format!(
                "the file is larger than {} MiB",
                MAX_FILE_BYTES >> 20
            ));
        }
        let mut marks: Vec<String> = text
            .lines()
            .filter_map(|l| {
                l.trim_start().strip_prefix(ZONE_MARK).map(|z| {
                    let z = z.split_whitespace().next().unwrap_or_default();
                    z.trim_end_matches('.').to_lowercase()
                })
            })
            .collect();
        marks.dedup();
        // Two files pasted into one: which zone it is for would be a guess.
        if marks.len() > 1 {
            return content(format!(
                "the file names more than one zone ({}): one file holds one zone",
                marks.join(", ")
            ));
        }
        let marked = marks.pop();
        let Some(zone) = marked.or_else(|| zone.map(str::to_string)) else {
            return content(format!(
                "the file does not say which zone it is: name it <zone>.yaml or start it with `{ZONE_MARK}<zone>`"
            ));
        };
        let zone = zone.trim().trim_end_matches('.').to_lowercase();
        let doc = parse_yaml(text)?;
        let mut entries = Vec::new();
        let top = match doc {
            Node::Null => Vec::new(),
            Node::Map(m) => m,
            _ => return content("a zone file is a mapping of names to records"),
        };
        for (name, node) in top {
            let name = name_in_zone(&name, &zone).or_else(content)?;
            if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return content(format!("{name:?} is not a record name"));
            }
            let items = match node {
                Node::Seq(items) => items,
                other => vec![other],
            };
            for item in items {
                entries.push(entry_of(&name, item)?);
            }
        }
        Ok(ZoneFile { zone, entries })
    }
}

/// MX and SRV carry a priority apart from their value.
pub fn has_priority(t: RecordType) -> bool {
    matches!(t, RecordType::Mx | RecordType::Srv)
}

fn entry_order(a: &Entry, b: &Entry) -> Ordering {
    a.rtype
        .as_str()
        .cmp(b.rtype.as_str())
        .then(a.line.is_some().cmp(&b.line.is_some()))
        .then(a.line.cmp(&b.line))
        .then(b.enabled.cmp(&a.enabled))
        .then(a.ttl.cmp(&b.ttl))
}

/// octoDNS's natural order of keys (natsort): runs of digits compare as numbers.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a, b);
    loop {
        match (x.is_empty(), y.is_empty()) {
            (true, true) => return a.cmp(b),
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let dx = x.chars().next().is_some_and(|c| c.is_ascii_digit());
        let dy = y.chars().next().is_some_and(|c| c.is_ascii_digit());
        let run = |s: &str, digits: bool| {
            s.find(|c: char| c.is_ascii_digit() != digits)
                .unwrap_or(s.len())
        };
        let (nx, ny) = (run(x, dx), run(y, dy));
        let ord = match (dx, dy) {
            (true, true) => {
                let (p, q) = (
                    x[..nx].trim_start_matches('0'),
                    y[..ny].trim_start_matches('0'),
                );
                p.len().cmp(&q.len()).then(p.cmp(q))
            }
            // natsort keys start with a string, so a number sorts before any text.
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => x[..nx].cmp(&y[..ny]),
        };
        if ord != Ordering::Equal {
            return ord;
        }
        x = &x[nx..];
        y = &y[ny..];
    }
}

fn write_entry(out: &mut String, e: &Entry, first: &str, rest: &str) {
    // Keys in natural order, as octoDNS's loader insists: idcgate, ttl, type, value(s).
    let mut lead = first;
    let mut key = |out: &mut String, k: &str| {
        out.push_str(lead);
        out.push_str(k);
        lead = rest;
    };
    if e.line.is_some() || !e.enabled {
        key(out, "idcgate:\n");
        if !e.enabled {
            let _ = writeln!(out, "{rest}  enabled: false");
        }
        if let Some(l) = &e.line {
            let _ = writeln!(out, "{rest}  line: {}", scalar(l));
        }
    }
    if e.ttl != DEFAULT_TTL {
        key(out, &format!("ttl: {}\n", e.ttl));
    }
    key(out, &format!("type: {}\n", e.rtype));
    if let [one] = e.values.as_slice() {
        match value_fields(e.rtype, one) {
            Fields::Text(s) => key(out, &format!("value: {}\n", scalar(&s))),
            Fields::Map(fields) => {
                key(out, "value:\n");
                for (k, v) in fields {
                    let _ = writeln!(out, "{rest}  {k}: {v}");
                }
            }
        }
    } else {
        key(out, "values:\n");
        for v in &e.values {
            match value_fields(e.rtype, v) {
                Fields::Text(s) => {
                    let _ = writeln!(out, "{rest}- {}", scalar(&s));
                }
                Fields::Map(fields) => {
                    for (i, (k, v)) in fields.iter().enumerate() {
                        let dash = if i == 0 { "- " } else { "  " };
                        let _ = writeln!(out, "{rest}{dash}{k}: {v}");
                    }
                }
            }
        }
    }
}

enum Fields {
    Text(String),
    /// Keys in natural order, values already written as YAML scalars.
    Map(Vec<(&'static str, String)>),
}

/// A target name as octoDNS writes it: absolute, with the trailing dot.
fn fqdn(v: &str) -> String {
    let v = v.trim();
    if v.ends_with('.') {
        v.to_string()
    } else {
        format!("{v}.")
    }
}

/// SRV's `weight port target` (or `priority weight port target`, as some vendors keep
/// it) and the priority kept apart.
fn srv_parts(v: &Value) -> Option<(u16, u16, u16, String)> {
    let parts: Vec<&str> = v.value.split_whitespace().collect();
    let (prio, rest) = match parts.as_slice() {
        [p, w, port, t] => (p.parse().ok()?, [*w, *port, *t]),
        [w, port, t] => (v.priority.unwrap_or(0), [*w, *port, *t]),
        _ => return None,
    };
    Some((
        prio,
        rest[0].parse().ok()?,
        rest[1].parse().ok()?,
        rest[2].to_string(),
    ))
}

/// CAA's `flags tag value`, the value without its quotes.
fn caa_parts(v: &str) -> Option<(u8, String, String)> {
    let mut it = v.trim().splitn(3, char::is_whitespace);
    let flags = it.next()?.parse().ok()?;
    let tag = it.next()?.to_string();
    let value = it.next()?.trim().trim_matches('"').to_string();
    Some((flags, tag, value))
}

fn value_fields(t: RecordType, v: &Value) -> Fields {
    match t {
        RecordType::Mx => Fields::Map(vec![
            ("exchange", scalar(&fqdn(&v.value))),
            ("preference", v.priority.unwrap_or(10).to_string()),
        ]),
        RecordType::Srv => match srv_parts(v) {
            Some((p, w, port, target)) => Fields::Map(vec![
                ("port", port.to_string()),
                ("priority", p.to_string()),
                ("target", scalar(&fqdn(&target))),
                ("weight", w.to_string()),
            ]),
            None => Fields::Text(v.value.clone()),
        },
        RecordType::Caa => match caa_parts(&v.value) {
            Some((flags, tag, value)) => Fields::Map(vec![
                ("flags", flags.to_string()),
                ("tag", scalar(&tag)),
                ("value", scalar(&value)),
            ]),
            None => Fields::Text(v.value.clone()),
        },
        RecordType::Cname | RecordType::Ns => Fields::Text(fqdn(&v.value)),
        // octoDNS keeps `;` escaped inside TXT values.
        RecordType::Txt => Fields::Text(v.value.replace(';', "\\;")),
        RecordType::A | RecordType::Aaaa => Fields::Text(v.value.clone()),
    }
}

fn bind_rdata(t: RecordType, v: &Value) -> String {
    match t {
        RecordType::Mx => format!("{} {}", v.priority.unwrap_or(10), fqdn(&v.value)),
        RecordType::Srv => match srv_parts(v) {
            Some((p, w, port, target)) => format!("{p} {w} {port} {}", fqdn(&target)),
            None => v.value.clone(),
        },
        RecordType::Caa => match caa_parts(&v.value) {
            Some((flags, tag, value)) => format!("{flags} {tag} {}", bind_string(&value)),
            None => v.value.clone(),
        },
        RecordType::Cname | RecordType::Ns => fqdn(&v.value),
        RecordType::Txt => {
            // Character strings of at most 255 octets, cut on character boundaries.
            let mut chunks = Vec::new();
            let mut cur = String::new();
            for c in v.value.chars() {
                if cur.len() + c.len_utf8() > 255 {
                    chunks.push(std::mem::take(&mut cur));
                }
                cur.push(c);
            }
            chunks.push(cur);
            chunks
                .iter()
                .map(|c| bind_string(c))
                .collect::<Vec<_>>()
                .join(" ")
        }
        RecordType::A | RecordType::Aaaa => v.value.clone(),
    }
}

/// A BIND character string: quoted, `"` and `\` escaped, control characters as `\DDD`.
fn bind_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(out, "\\{b:03}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Reads one value of an entry from its YAML node.
fn value_of(t: RecordType, node: Node, what: &str) -> Result<Value, ZoneFileError> {
    let text = |n: Node, field: &str| -> Result<String, ZoneFileError> {
        match n {
            Node::Str(s) => Ok(s),
            _ => content(format!("{what}: {field} must be a single value")),
        }
    };
    let num = |s: String, field: &str| -> Result<u16, ZoneFileError> {
        s.trim().parse::<u16>().or_else(|_| {
            content(format!(
                "{what}: {field} {s:?} is not a number from 0 to 65535"
            ))
        })
    };
    let mut fields = match node {
        Node::Map(m) => m,
        Node::Str(s) => {
            let value = match t {
                RecordType::Txt => s.replace("\\;", ";"),
                _ => s,
            };
            if value.trim().is_empty() {
                return content(format!("{what}: a value is empty"));
            }
            return Ok(Value {
                value,
                priority: None,
            });
        }
        _ => return content(format!("{what}: a value is missing")),
    };
    let mut take = |k: &str| -> Result<Option<String>, ZoneFileError> {
        match fields.iter().position(|(f, _)| f == k) {
            Some(i) => text(fields.remove(i).1, k).map(Some),
            None => Ok(None),
        }
    };
    let need = |v: Option<String>, k: &str| -> Result<String, ZoneFileError> {
        v.ok_or_else(|| ZoneFileError::Content(format!("{what}: {k} is missing")))
    };
    let v = match t {
        RecordType::Mx => {
            // octoDNS also reads the older `value`/`priority` spelling.
            let exchange = match take("exchange")? {
                Some(x) => x,
                None => need(take("value")?, "exchange")?,
            };
            let pref = match take("preference")? {
                Some(p) => p,
                None => need(take("priority")?, "preference")?,
            };
            Value {
                value: exchange,
                priority: Some(num(pref, "preference")?),
            }
        }
        RecordType::Srv => {
            let prio = num(need(take("priority")?, "priority")?, "priority")?;
            let weight = num(need(take("weight")?, "weight")?, "weight")?;
            let port = num(need(take("port")?, "port")?, "port")?;
            let target = need(take("target")?, "target")?;
            Value {
                value: format!("{weight} {port} {}", target.trim()),
                priority: Some(prio),
            }
        }
        RecordType::Caa => {
            let flags = take("flags")?.unwrap_or_else(|| "0".into());
            let flags: u8 = flags
                .trim()
                .parse()
                .or_else(|_| content(format!("{what}: flags {flags:?} is not 0-255")))?;
            let tag = need(take("tag")?, "tag")?;
            let value = need(take("value")?, "value")?;
            Value {
                value: format!("{flags} {} \"{value}\"", tag.trim()),
                priority: None,
            }
        }
        _ => return content(format!("{what}: a {t} value is a single text, not fields")),
    };
    if let Some((k, _)) = fields.first() {
        return content(format!("{what}: unknown field {k:?}"));
    }
    Ok(v)
}

fn entry_of(name: &str, node: Node) -> Result<Entry, ZoneFileError> {
    let shown = if name.is_empty() { "''" } else { name };
    let Node::Map(mut fields) = node else {
        return content(format!("{shown}: a record is a mapping with `type`"));
    };
    let mut take = |k: &str| {
        fields
            .iter()
            .position(|(f, _)| f == k)
            .map(|i| fields.remove(i).1)
    };
    let rtype = match take("type") {
        Some(Node::Str(t)) => t.parse::<RecordType>().or_else(|_| {
            content(format!(
                "{shown}: record type {t:?} is not one idcgate manages"
            ))
        })?,
        _ => return content(format!("{shown}: a record needs a `type`")),
    };
    let what = format!("{shown} {rtype}");
    let ttl = match take("ttl") {
        None | Some(Node::Null) => DEFAULT_TTL,
        Some(Node::Str(t)) => t
            .trim()
            .parse::<u32>()
            .or_else(|_| content(format!("{what}: ttl {t:?} is not a number of seconds")))?,
        Some(_) => return content(format!("{what}: ttl is a number of seconds")),
    };
    let mut values = Vec::new();
    match (take("value"), take("values")) {
        (Some(_), Some(_)) => return content(format!("{what}: both `value` and `values`")),
        (Some(v), None) => values.push(value_of(rtype, v, &what)?),
        (None, Some(Node::Seq(vs))) => {
            for v in vs {
                values.push(value_of(rtype, v, &what)?);
            }
        }
        (None, Some(v)) => values.push(value_of(rtype, v, &what)?),
        (None, None) => return content(format!("{what}: no `value` or `values`")),
    }
    if values.is_empty() {
        return content(format!("{what}: `values` is empty"));
    }
    let (mut line, mut enabled) = (None, true);
    match take("idcgate") {
        None | Some(Node::Null) => {}
        Some(Node::Map(ours)) => {
            for (k, v) in ours {
                match (k.as_str(), v) {
                    ("line", Node::Str(l)) => line = canonical_line(Some(&l)),
                    ("line", Node::Null) => line = None,
                    ("enabled", Node::Str(b)) => {
                        enabled = match b.trim().to_ascii_lowercase().as_str() {
                            "true" | "yes" | "on" => true,
                            "false" | "no" | "off" => false,
                            _ => return content(format!("{what}: enabled is true or false")),
                        }
                    }
                    (k, _) => return content(format!("{what}: unknown idcgate setting {k:?}")),
                }
            }
        }
        Some(_) => return content(format!("{what}: `idcgate` is a mapping (line, enabled)")),
    }
    // Everything else octoDNS may carry (`octodns`, `geo`, `dynamic`) is octoDNS's own.
    Ok(Entry {
        name: name.to_string(),
        rtype,
        ttl,
        line,
        enabled,
        values,
    })
}

// ---------------------------------------------------------------------------------
// YAML: the writer's scalars and the reader.

/// A scalar as YAML text: plain when it reads back as the same string, else quoted.
pub fn scalar(s: &str) -> String {
    if plain_ok(s) {
        return s.to_string();
    }
    if s.chars().any(|c| c.is_control() || c == '\u{feff}') {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if c.is_control() || c == '\u{feff}' => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => out.push(c),
            }
        }
        out.push('"');
        return out;
    }
    format!("'{}'", s.replace('\'', "''"))
}

/// Whether `s` may be written unquoted and read back by any YAML 1.1 or 1.2 reader as
/// this very string (never a number, bool, null, date, alias or structure).
fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.trim() != s
        || s.chars()
            .any(|c| c.is_control() || c == '\u{feff}' || c == '\u{85}')
        || "-?:,[]{}#&*!|>'\"%@`".contains(first)
        || s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':')
    {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    const WORDS: [&str; 14] = [
        "null", "~", "true", "false", "yes", "no", "on", "off", "y", "n", ".inf", ".nan", "<<", "=",
    ];
    if WORDS.contains(&lower.as_str()) || lower.starts_with(".inf") || lower.starts_with("+.") {
        return false;
    }
    if first.is_ascii_digit() || first == '+' || first == '.' {
        // An address such as 203.0.113.10 is no number; anything else that could be
        // one (hex, octal, floats, sexagesimal, dates) is quoted.
        let dotted =
            s.chars().all(|c| c.is_ascii_digit() || c == '.') && s.matches('.').count() >= 2;
        if !dotted
            && s.chars().all(|c| {
                c.is_ascii_hexdigit()
                    || "._:+-xXoO ".contains(c)
                    || c == 'T'
                    || c == 't'
                    || c == 'Z'
                    || c == 'z'
            })
        {
            return false;
        }
    }
    true
}

/// A YAML value as the zone file needs it; every scalar is a string (typed later).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Null,
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

#[derive(Debug, Clone)]
struct Line<'a> {
    no: usize,
    indent: usize,
    text: &'a str,
}

/// Cuts a `#` comment off a line (one outside quotes, at the start or after a blank).
fn strip_comment(s: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut prev_blank = true;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match quote {
            Some('\'') if c == '\'' => {
                if chars.peek().map(|(_, n)| *n) == Some('\'') {
                    chars.next();
                } else {
                    quote = None;
                }
            }
            Some('"') if c == '\\' => {
                chars.next();
            }
            Some('"') if c == '"' => quote = None,
            Some(_) => {}
            None if c == '#' && prev_blank => return &s[..i],
            None if (c == '\'' || c == '"') && prev_blank_or_indicator(&s[..i]) => quote = Some(c),
            None => {}
        }
        prev_blank = c == ' ' || c == '\t';
    }
    s
}

/// A quote opens a quoted scalar only where a scalar starts.
fn prev_blank_or_indicator(before: &str) -> bool {
    let t = before.trim_end();
    t.is_empty()
        || t.ends_with(':')
        || t.ends_with('-')
        || t.ends_with('[')
        || t.ends_with('{')
        || t.ends_with(',')
}

fn parse_yaml(text: &str) -> Result<Node, ZoneFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = Vec::new();
    let mut started = false;
    for (i, raw) in text.lines().enumerate() {
        let no = i + 1;
        let body = strip_comment(raw).trim_end();
        if body.trim().is_empty() {
            continue;
        }
        let indent = body.len() - body.trim_start_matches(' ').len();
        if body[indent..].starts_with('\t') {
            return syntax(no, "tabs cannot indent YAML");
        }
        let t = &body[indent..];
        if indent == 0 && (t == "---" || t.starts_with("--- ")) {
            if started || !lines.is_empty() {
                return syntax(no, "one document per file");
            }
            started = true;
            let rest = t[3..].trim();
            if !rest.is_empty() {
                return syntax(no, "content after `---`");
            }
            continue;
        }
        if indent == 0 && t == "..." {
            break;
        }
        if indent == 0 && t.starts_with('%') {
            return syntax(no, "YAML directives are not read");
        }
        lines.push(Line {
            no,
            indent,
            text: t,
        });
    }
    let mut p = Parser { lines, at: 0 };
    if p.lines.is_empty() {
        return Ok(Node::Null);
    }
    let first = p.lines[0].indent;
    let node = p.block(first, 0)?;
    if let Some(l) = p.lines.get(p.at) {
        return syntax(l.no, "unexpected indentation");
    }
    Ok(node)
}

struct Parser<'a> {
    lines: Vec<Line<'a>>,
    at: usize,
}

/// A mapping key at the start of `t`: the key and what follows its `:`.
fn split_key(t: &str, no: usize) -> Result<Option<(String, &str)>, ZoneFileError> {
    let (key, rest) = if t.starts_with('\'') || t.starts_with('"') {
        let (k, used) = quoted(t, no)?;
        let rest = t[used..].trim_start();
        match rest.strip_prefix(':') {
            Some(r) if r.is_empty() || r.starts_with(' ') => (k, r),
            _ => return Ok(None),
        }
    } else {
        let mut found = None;
        for (i, _) in t.match_indices(':') {
            let after = &t[i + 1..];
            if after.is_empty() || after.starts_with(' ') {
                found = Some(i);
                break;
            }
        }
        let Some(i) = found else { return Ok(None) };
        let k = t[..i].trim_end();
        if k.starts_with(['[', '{']) {
            return Ok(None);
        }
        (plain(k, no)?, &t[i + 1..])
    };
    Ok(Some((key, rest.trim())))
}

/// A quoted scalar at the start of `t`: its text and the bytes it used.
fn quoted(t: &str, no: usize) -> Result<(String, usize), ZoneFileError> {
    let mut chars = t.char_indices();
    let Some((_, q)) = chars.next() else {
        return syntax(no, "expected a quoted text");
    };
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        if c == q {
            if q == '\'' && t[i + 1..].starts_with('\'') {
                chars.next();
                out.push('\'');
                continue;
            }
            return Ok((out, i + 1));
        }
        if q == '"' && c == '\\' {
            let Some((_, e)) = chars.next() else { break };
            let hex = |chars: &mut std::str::CharIndices,
                       n: usize|
             -> Result<char, ZoneFileError> {
                let mut v: u32 = 0;
                for _ in 0..n {
                    let d = chars
                        .next()
                        .and_then(|(_, c)| c.to_digit(16))
                        .ok_or_else(|| ZoneFileError::Syntax {
                            line: no,
                            message: "a bad \\x, \\u or \\U escape".into(),
                        })?;
                    v = v * 16 + d;
                }
                char::from_u32(v).ok_or_else(|| ZoneFileError::Syntax {
                    line: no,
                    message: format!("\\u{v:x} is not a character"),
                })
            };
            out.push(match e {
                '0' => '\0',
                'a' => '\u{7}',
                'b' => '\u{8}',
                't' | '\t' => '\t',
                'n' => '\n',
                'v' => '\u{b}',
                'f' => '\u{c}',
                'r' => '\r',
                'e' => '\u{1b}',
                ' ' => ' ',
                '"' => '"',
                '/' => '/',
                '\\' => '\\',
                'N' => '\u{85}',
                '_' => '\u{a0}',
                'L' => '\u{2028}',
                'P' => '\u{2029}',
                'x' => hex(&mut chars, 2)?,
                'u' => hex(&mut chars, 4)?,
                'U' => hex(&mut chars, 8)?,
                other => return syntax(no, format!("unknown escape \\{other}")),
            });
            continue;
        }
        out.push(c);
    }
    syntax(
        no,
        "a quoted text is not closed on its line (multi-line texts are not read)",
    )
}

/// A plain scalar as written, refusing what would make it something else.
fn plain(t: &str, no: usize) -> Result<String, ZoneFileError> {
    match t.chars().next() {
        Some('&') => syntax(no, "anchors are not read"),
        Some('*') => syntax(no, "aliases are not read (quote a wildcard name: '*')"),
        Some('!') => syntax(no, "tags are not read"),
        Some('|') | Some('>') => syntax(no, "block texts (| and >) are not read"),
        Some('?') if t.len() == 1 || t[1..].starts_with(' ') => {
            syntax(no, "complex keys are not read")
        }
        Some('@') | Some('`') => syntax(no, format!("{t:?} must be quoted")),
        _ => Ok(t.to_string()),
    }
}

/// One scalar or one-line flow collection.
fn inline(t: &str, no: usize, depth: usize) -> Result<Node, ZoneFileError> {
    if depth > MAX_DEPTH {
        return syntax(no, "nested too deeply");
    }
    let t = t.trim();
    if t.starts_with('[') || t.starts_with('{') {
        let (node, used) = flow(t, no, depth)?;
        if !t[used..].trim().is_empty() {
            return syntax(no, "text after a closed [ ] or { }");
        }
        return Ok(node);
    }
    if t.starts_with('\'') || t.starts_with('"') {
        let (s, used) = quoted(t, no)?;
        if !t[used..].trim().is_empty() {
            return syntax(no, "text after a quoted value");
        }
        return Ok(Node::Str(s));
    }
    if t.is_empty() || t == "~" || t == "null" || t == "Null" || t == "NULL" {
        return Ok(Node::Null);
    }
    Ok(Node::Str(plain(t, no)?))
}

/// A flow collection at the start of `t` (one line): the node and the bytes it used.
fn flow(t: &str, no: usize, depth: usize) -> Result<(Node, usize), ZoneFileError> {
    if depth > MAX_DEPTH {
        return syntax(no, "nested too deeply");
    }
    let bytes = t.as_bytes();
    let open = bytes[0];
    let close = if open == b'[' { b']' } else { b'}' };
    let mut items: Vec<Node> = Vec::new();
    let mut pairs: Vec<(String, Node)> = Vec::new();
    let mut i = 1;
    loop {
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        if i >= bytes.len() {
            return syntax(no, "a [ ] or { } is not closed on its line");
        }
        if bytes[i] == close {
            i += 1;
            break;
        }
        // One item: a nested collection, a quoted or a plain scalar (up to `,`, the
        // closing bracket, or a `{ }` key's `:`).
        let key_end: &[char] = if open == b'{' {
            &[',', '}', ':']
        } else {
            &[',', ']']
        };
        let (item, used) = flow_item(&t[i..], key_end, no, depth)?;
        i += used;
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        if open == b'{' {
            let key = match item {
                Node::Str(s) => s,
                Node::Null => String::new(),
                _ => return syntax(no, "a { } key must be a text"),
            };
            if bytes.get(i) != Some(&b':') {
                return syntax(no, "expected `:` in { }");
            }
            i += 1;
            while i < bytes.len() && bytes[i] == b' ' {
                i += 1;
            }
            let (value, used) = flow_item(&t[i..], &[',', '}'], no, depth)?;
            i += used;
            if pairs.iter().any(|(k, _)| *k == key) {
                return syntax(no, format!("key {key:?} appears twice"));
            }
            pairs.push((key, value));
        } else {
            items.push(item);
        }
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        match bytes.get(i) {
            Some(b',') => i += 1,
            Some(c) if *c == close => {}
            _ => return syntax(no, "expected `,` or the closing bracket"),
        }
    }
    Ok((
        if open == b'[' {
            Node::Seq(items)
        } else {
            Node::Map(pairs)
        },
        i,
    ))
}

/// One item of a flow collection at the start of `rest`, a plain one ending before
/// any of `ends`: the node and the bytes it used.
fn flow_item(
    rest: &str,
    ends: &[char],
    no: usize,
    depth: usize,
) -> Result<(Node, usize), ZoneFileError> {
    if rest.starts_with('[') || rest.starts_with('{') {
        return flow(rest, no, depth + 1);
    }
    if rest.starts_with('\'') || rest.starts_with('"') {
        let (s, used) = quoted(rest, no)?;
        return Ok((Node::Str(s), used));
    }
    let end = rest.find(ends).unwrap_or(rest.len());
    let text = rest[..end].trim();
    let node = if text.is_empty() || text == "~" || text == "null" {
        Node::Null
    } else {
        Node::Str(plain(text, no)?)
    };
    Ok((node, end))
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&Line<'a>> {
        self.lines.get(self.at)
    }

    /// The block node whose lines start at indentation `indent`.
    fn block(&mut self, indent: usize, depth: usize) -> Result<Node, ZoneFileError> {
        let Some(l) = self.peek().cloned() else {
            return Ok(Node::Null);
        };
        if depth > MAX_DEPTH {
            return syntax(l.no, "nested too deeply");
        }
        if l.text == "-" || l.text.starts_with("- ") {
            return self.sequence(indent, depth);
        }
        if split_key(l.text, l.no)?.is_some() {
            return self.mapping(indent, depth);
        }
        // A lone scalar: it must be alone (a text running over lines is not read).
        self.at += 1;
        if let Some(n) = self.peek() {
            if n.indent > indent {
                return syntax(n.no, "a text running over several lines is not read");
            }
        }
        inline(l.text, l.no, depth)
    }

    fn sequence(&mut self, indent: usize, depth: usize) -> Result<Node, ZoneFileError> {
        let mut items = Vec::new();
        while let Some(l) = self.peek().cloned() {
            if l.indent != indent || !(l.text == "-" || l.text.starts_with("- ")) {
                if l.indent > indent {
                    return syntax(l.no, "unexpected indentation in a list");
                }
                break;
            }
            let rest = l.text[1..].trim_start();
            if rest.is_empty() {
                self.at += 1;
                match self.peek() {
                    Some(n) if n.indent > indent => {
                        let child = n.indent;
                        items.push(self.block(child, depth + 1)?);
                    }
                    _ => items.push(Node::Null),
                }
            } else {
                // The item's content starts on the dash's line, at its own column.
                let col = indent + (l.text.len() - rest.len());
                self.lines[self.at] = Line {
                    no: l.no,
                    indent: col,
                    text: rest,
                };
                items.push(self.block(col, depth + 1)?);
            }
        }
        Ok(Node::Seq(items))
    }

    fn mapping(&mut self, indent: usize, depth: usize) -> Result<Node, ZoneFileError> {
        let mut pairs: Vec<(String, Node)> = Vec::new();
        let mut keys = std::collections::HashSet::new();
        while let Some(l) = self.peek().cloned() {
            if l.indent != indent {
                if l.indent > indent {
                    return syntax(l.no, "unexpected indentation in a mapping");
                }
                break;
            }
            let Some((key, rest)) = split_key(l.text, l.no)? else {
                return syntax(l.no, "expected `key: value`");
            };
            if !keys.insert(key.clone()) {
                return syntax(l.no, format!("key {key:?} appears twice"));
            }
            self.at += 1;
            let value = if !rest.is_empty() {
                let v = inline(rest, l.no, depth + 1)?;
                if let Some(n) = self.peek() {
                    if n.indent > indent {
                        return syntax(n.no, "a text running over several lines is not read");
                    }
                }
                v
            } else {
                match self.peek() {
                    Some(n) if n.indent > indent => {
                        let child = n.indent;
                        self.block(child, depth + 1)?
                    }
                    // PyYAML's indentless list: `values:` then `- a` at the key's column.
                    Some(n)
                        if n.indent == indent && (n.text == "-" || n.text.starts_with("- ")) =>
                    {
                        self.sequence(indent, depth + 1)?
                    }
                    _ => Node::Null,
                }
            };
            pairs.push((key, value));
        }
        Ok(Node::Map(pairs))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn rec(
        host: &str,
        t: RecordType,
        value: &str,
        line: Option<&str>,
        prio: Option<u16>,
    ) -> DnsRecord {
        DnsRecord {
            zone: "example.com".into(),
            host: host.into(),
            rtype: t,
            value: value.into(),
            ttl: 600,
            line: line.map(str::to_string),
            priority: prio,
            enabled: true,
            upstream_id: Some("1".into()),
        }
    }

    fn sample() -> ZoneFile {
        let mut paused = rec("old", RecordType::A, "192.0.2.9", None, None);
        paused.enabled = false;
        let mut hour = rec("h10", RecordType::A, "192.0.2.10", None, None);
        hour.ttl = 3600;
        ZoneFile::from_records(
            "example.com",
            &[
                rec("@", RecordType::A, "203.0.113.10", None, None),
                rec("@", RecordType::A, "203.0.113.11", None, None),
                rec("@", RecordType::Mx, "mx1.example.com", None, Some(10)),
                rec("@", RecordType::Mx, "mx2.example.com.", None, Some(20)),
                rec(
                    "@",
                    RecordType::Txt,
                    "v=DKIM1; k=rsa; p=MIGf 'q' \"dq\" #x: y",
                    None,
                    None,
                ),
                rec("www", RecordType::Cname, "example.com", None, None),
                rec("www", RecordType::A, "198.51.100.1", Some("电信"), None),
                rec(
                    "_sip._tcp",
                    RecordType::Srv,
                    "5 5060 sip.example.com",
                    None,
                    Some(10),
                ),
                rec(
                    "@",
                    RecordType::Caa,
                    "0 issue \"letsencrypt.org\"",
                    None,
                    None,
                ),
                rec("*", RecordType::A, "192.0.2.1", None, None),
                rec("h2", RecordType::Aaaa, "2001:db8::1", None, None),
                rec("1:20", RecordType::Txt, "yes", None, None),
                paused,
                hour,
            ],
        )
    }

    #[test]
    fn yaml_round_trips_and_reads_as_octodns_writes_it() {
        let z = sample();
        let text = z.to_yaml();
        let back = ZoneFile::from_yaml(&text, None).unwrap();
        assert_eq!(back.zone, "example.com");
        let norm = |z: &ZoneFile| {
            let mut e = z.entries.clone();
            for x in &mut e {
                for v in &mut x.values {
                    v.value = v.value.trim_end_matches('.').to_string();
                }
                x.values.sort();
            }
            e.sort_by(|a, b| {
                (a.name.as_str(), a.rtype.as_str(), &a.line, a.enabled).cmp(&(
                    b.name.as_str(),
                    b.rtype.as_str(),
                    &b.line,
                    b.enabled,
                ))
            });
            e
        };
        assert_eq!(norm(&back), norm(&z), "{text}");
        // octoDNS's layout: apex as '', keys in natural order, TXT `;` escaped, MX fields.
        assert!(
            text.starts_with("# idcgate: zone example.com\n---\n''"),
            "{text}"
        );
        assert!(text.contains("v=DKIM1\\; k=rsa\\;"), "{text}");
        assert!(
            text.contains("  - exchange: mx1.example.com.\n    preference: 10"),
            "{text}"
        );
        assert!(text.contains("'*':"), "{text}");
        assert!(text.contains("'1:20':"), "{text}");
        assert!(
            text.find("\nh2:").unwrap() < text.find("\nh10:").unwrap(),
            "{text}"
        );
        // the 3600 TTL is octoDNS's default, left out
        let h10 = &text[text.find("\nh10:").unwrap()..];
        assert!(!h10[..40].contains("ttl"), "{h10}");
        assert!(text.contains("idcgate:\n    line: telecom"), "{text}");
        assert!(text.contains("enabled: false"), "{text}");
    }

    #[test]
    fn reads_hand_written_octodns_files() {
        let text = r#"
# a comment
---
'':
  - type: A
    values: [1.2.3.4, "1.2.3.5"]   # flow list
  - type: MX
    value: {exchange: mx.example.com., preference: 5}
  - ttl: 300
    type: TXT
    values:
    - "v=spf1 -all"
    - 'it''s \; ok'
www:
  type: CNAME
  value: example.com.
"mail":
    type: A
    value: 10.0.0.1
    idcgate: {line: 联通}
"#;
        let z = ZoneFile::from_yaml(text, Some("Example.com.")).unwrap();
        assert_eq!(z.zone, "example.com");
        assert_eq!(z.record_count(), 7);
        let txt = z
            .entries
            .iter()
            .find(|e| e.rtype == RecordType::Txt)
            .unwrap();
        assert_eq!(txt.ttl, 300);
        assert_eq!(txt.values[1].value, "it's ; ok");
        let mx = z
            .entries
            .iter()
            .find(|e| e.rtype == RecordType::Mx)
            .unwrap();
        assert_eq!(mx.values[0].priority, Some(5));
        let mail = z.entries.iter().find(|e| e.name == "mail").unwrap();
        assert_eq!(mail.line.as_deref(), Some("unicom"));
        assert_eq!(mail.ttl, DEFAULT_TTL);
    }

    #[test]
    fn refuses_what_it_does_not_read_with_the_line() {
        for (text, want) in [
            ("a: &x 1\n", "anchors"),
            ("a:\n  type: A\n  value: *x\n", "aliases"),
            ("a: |\n  text\n", "block texts"),
            ("a:\n\ttype: A\n", "tabs"),
            ("a: 'open\n", "not closed"),
            ("a: 1\na: 2\n", "twice"),
            ("---\na: 1\n---\nb: 2\n", "one document"),
            ("a: [1, 2\n", "line 1"),
        ] {
            let e = ZoneFile::from_yaml(text, Some("example.com")).unwrap_err();
            assert!(e.to_string().contains(want), "{text:?}: {e}");
        }
        let e = ZoneFile::from_yaml("www:\n  type: A\n  value: 1.2.3.4\n", None).unwrap_err();
        assert!(e.to_string().contains("which zone"), "{e}");
        let e = ZoneFile::from_yaml("www:\n  type: LOC\n  value: x\n", Some("e.com")).unwrap_err();
        assert!(e.to_string().contains("LOC"), "{e}");
    }

    #[test]
    fn names_outside_the_zone_and_files_of_two_zones_are_refused() {
        let read = |t: &str| ZoneFile::from_yaml(t, Some("example.com"));
        let e = read("www.example.org.:\n  type: A\n  value: 1.2.3.4\n").unwrap_err();
        assert!(e.to_string().contains("outside zone example.com"), "{e}");
        let z = read("www.Example.com.:\n  type: A\n  value: 1.2.3.4\nexample.com.:\n  type: A\n  value: 1.2.3.5\n")
            .unwrap();
        let names: Vec<&str> = z.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["www", ""]);
        // a relative name is octoDNS's: within the zone, whatever it looks like
        assert_eq!(
            read("www.example.org:\n  type: A\n  value: 1.2.3.4\n")
                .unwrap()
                .entries[0]
                .name,
            "www.example.org"
        );
        let two =
            format!("{ZONE_MARK}a.com\n{ZONE_MARK}b.com\nwww:\n  type: A\n  value: 1.2.3.4\n");
        let e = ZoneFile::from_yaml(&two, None).unwrap_err();
        assert!(e.to_string().contains("a.com, b.com"), "{e}");
        let same = format!("{ZONE_MARK}a.com\n{ZONE_MARK}A.com.\n");
        assert_eq!(ZoneFile::from_yaml(&same, None).unwrap().zone, "a.com");
    }

    /// Hostile input: random bytes, random cuts and splices of a real file, deep
    /// nesting, long lines. Never a panic, never a stack overflow.
    #[test]
    fn hostile_input_is_an_error_never_a_panic() {
        let good = sample().to_yaml();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet: Vec<char> = " \t\n-:'\"#[]{},&*!|>?%@`\\;.0aZ電\u{feff}\r~"
            .chars()
            .collect();
        for _ in 0..4000 {
            let mut s: String = good.clone();
            for _ in 0..(next() % 8) {
                let len = s.chars().count().max(1);
                let at = (next() as usize) % len;
                let byte = s.char_indices().nth(at).map_or(s.len(), |(i, _)| i);
                match next() % 3 {
                    0 => s.insert(byte, alphabet[(next() as usize) % alphabet.len()]),
                    1 => {
                        let end = s[byte..]
                            .char_indices()
                            .nth(1 + (next() as usize) % 20)
                            .map_or(s.len(), |(i, _)| byte + i);
                        s.replace_range(byte..end, "");
                    }
                    _ => {
                        let cut = byte;
                        s = format!("{}{}", &s[cut..], &s[..cut]);
                    }
                }
            }
            let _ = ZoneFile::from_yaml(&s, Some("example.com"));
            let random: String = (0..(next() % 200))
                .map(|_| alphabet[(next() as usize) % alphabet.len()])
                .collect();
            let _ = ZoneFile::from_yaml(&random, Some("example.com"));
        }
        let deep = format!("a: {}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(ZoneFile::from_yaml(&deep, Some("e.com")).is_err());
        let mut nested = String::new();
        for i in 0..10_000 {
            nested.push_str(&" ".repeat(i));
            nested.push_str("a:\n");
        }
        assert!(ZoneFile::from_yaml(&nested, Some("e.com")).is_err());
        let dashes = "- ".repeat(50_000) + "x\n";
        assert!(ZoneFile::from_yaml(&dashes, Some("e.com")).is_err());
    }

    #[test]
    fn scalars_that_would_read_as_something_else_are_quoted() {
        for s in [
            "",
            "yes",
            "No",
            "null",
            "~",
            "1e3",
            "0x1F",
            "1:20",
            "2024-01-01",
            "-1",
            "*.a",
            "a: b",
            "a #b",
            " x",
            "x ",
            "'q",
            "\"d",
            "10",
            "1.5",
            "@",
            "line\nfeed",
            "tab\there",
            "&a",
            "!t",
        ] {
            let out = scalar(s);
            let back = inline(&out, 1, 0).unwrap();
            assert_eq!(back, Node::Str(s.to_string()), "{s:?} written as {out}");
            assert_ne!(out, s, "{s:?} must be quoted");
        }
        for s in [
            "203.0.113.10",
            "www.example.com.",
            "v=spf1 include:x ~all",
            "中文",
        ] {
            assert_eq!(scalar(s), s);
        }
    }

    #[test]
    fn natural_order_is_octodns_natsort() {
        let mut names = vec!["h10", "", "h2", "a", "_sip._tcp", "10", "9", "h2a", "*"];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            ["", "9", "10", "*", "_sip._tcp", "a", "h2", "h2a", "h10"]
        );
    }

    #[test]
    fn lines_are_one_name_whatever_the_vendor_calls_them() {
        assert_eq!(canonical_line(Some("电信")).as_deref(), Some("telecom"));
        assert_eq!(canonical_line(Some("LTEL")).as_deref(), Some("telecom"));
        assert_eq!(
            canonical_line(Some("edu")),
            canonical_line(Some("education"))
        );
        assert_eq!(canonical_line(Some("默认")), None);
        assert_eq!(canonical_line(Some("default")), None);
        let west = ["default", "telecom", "education"].map(String::from);
        assert_eq!(offered_line("教育网", &west), Some("education"));
        let dnspod = ["default", "edu"].map(String::from);
        assert_eq!(offered_line("education", &dnspod), Some("edu"));
        assert_eq!(offered_line("telecom", &["default".to_string()]), None);
    }

    #[test]
    fn bind_export_writes_records_and_comments_the_rest() {
        let text = sample().to_bind();
        assert!(
            text.starts_with("$ORIGIN example.com.\n$TTL 3600\n"),
            "{text}"
        );
        assert!(
            text.contains("@\t600\tIN\tMX\t10 mx1.example.com."),
            "{text}"
        );
        assert!(
            text.contains("_sip._tcp\t600\tIN\tSRV\t10 5 5060 sip.example.com."),
            "{text}"
        );
        assert!(
            text.contains("; idcgate: line telecom: www\t600\tIN\tA\t198.51.100.1"),
            "{text}"
        );
        assert!(text.contains("; idcgate: paused: old"), "{text}");
        assert!(
            text.contains("IN\tTXT\t\"v=DKIM1; k=rsa; p=MIGf 'q' \\\"dq\\\" #x: y\""),
            "{text}"
        );
    }
}
