//! The declarative action spec: one table per vendor listing every documented action.
//!
//! A vendor crate embeds its table (`spec.tsv`) and parses it once. From it derive the
//! client's generic call surface, the simulator's routing and required-parameter
//! checks, `idcgate actions` and `idcgate call`. Columns (tab separated, `#` comments):
//!
//! `id  kind  method  path  action  params  status  notes`
//!
//! - `id`: catalog id, e.g. `xensystem:vm_create`;
//! - `kind`: `read` (retried on transport errors) or `write` (a lost answer is an
//!   unknown outcome, never retried);
//! - `params`: comma list of `name[*][:type][=default]`, `*` = required; types are
//!   `str` (default), `int`, `dec`, `json`, `enum(a|b|c)`. Two extensions:
//!   `a|b*` = one of `a` or `b` is required (each optional on its own, same type);
//!   `name#=value` = the row's **sub-action discriminator**: several rows share one wire
//!   action and are told apart by this field, which the client always sends with this
//!   value (a caller's copy is replaced) and the simulator routes on;
//! - `status`: `impl` or `todo` (todo actions are not listed and refuse to run).

use crate::error::{Error, Result};
use crate::model::{PanelFile, Vendor};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamType {
    Str,
    Int,
    Dec,
    Json,
    Enum(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamSpec {
    /// The field name; for a one-of group (`a|b*`) the names joined by `|`.
    pub name: String,
    pub required: bool,
    pub ty: ParamType,
    pub default: Option<String>,
    /// `name#=value`: the fixed sub-action value this row sends (`default` holds it too).
    pub discriminator: bool,
}

impl ParamSpec {
    /// The names a value may arrive under: one, or the members of a one-of group.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.name.split('|')
    }

    /// Checks a supplied value against the declared type; `Err` carries the reason.
    pub fn check(&self, value: &str) -> std::result::Result<(), String> {
        match &self.ty {
            ParamType::Str => Ok(()),
            ParamType::Int => value
                .trim()
                .parse::<i64>()
                .map(|_| ())
                .map_err(|_| format!("{} must be an integer", self.name)),
            ParamType::Dec => value
                .trim()
                .parse::<rust_decimal::Decimal>()
                .map(|_| ())
                .map_err(|_| format!("{} must be a decimal number", self.name)),
            ParamType::Json => serde_json::from_str::<serde_json::Value>(value)
                .map(|_| ())
                .map_err(|e| format!("{} must be JSON: {e}", self.name)),
            ParamType::Enum(allowed) => {
                if allowed.iter().any(|a| a == value) {
                    Ok(())
                } else {
                    Err(format!(
                        "{} must be one of {}",
                        self.name,
                        allowed.join("|")
                    ))
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    Read,
    Write,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionSpec {
    /// Catalog id, `vendor:name`.
    pub id: String,
    pub kind: ActionKind,
    pub method: String,
    pub path: String,
    /// The vendor's own action/command name as sent on the wire.
    pub action: String,
    pub params: Vec<ParamSpec>,
    pub implemented: bool,
    pub notes: String,
}

impl ActionSpec {
    /// The id without the `vendor:` prefix.
    pub fn name(&self) -> &str {
        self.id.split_once(':').map_or(self.id.as_str(), |(_, n)| n)
    }

    pub fn param(&self, name: &str) -> Option<&ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }

    /// First missing required parameter or mistyped value, if any, as `(field, reason)`.
    /// Parameters not in the spec are passed through: vendors accept undocumented extras.
    pub fn validate<'a, I>(&self, supplied: I) -> std::result::Result<(), (String, String)>
    where
        I: IntoIterator<Item = (&'a str, &'a str)> + Clone,
    {
        let lookup = |name: &str| {
            supplied
                .clone()
                .into_iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        };
        for p in &self.params {
            if p.discriminator {
                // The row fixes it; whatever a caller sent is replaced.
                continue;
            }
            if p.name.contains('|') {
                let mut present = false;
                for alt in p.names() {
                    if let Some(v) = lookup(alt).filter(|v| !v.is_empty()) {
                        present = true;
                        p.check(v).map_err(|e| (alt.to_string(), e))?;
                    }
                }
                if p.required && !present {
                    return Err((
                        p.name.clone(),
                        format!("one of {} is required", p.name.replace('|', ", ")),
                    ));
                }
                continue;
            }
            match lookup(&p.name) {
                None | Some("") if p.required && p.default.is_none() => {
                    return Err((p.name.clone(), format!("{} is required", p.name)))
                }
                Some(v) if !v.is_empty() => p.check(v).map_err(|e| (p.name.clone(), e))?,
                _ => {}
            }
        }
        Ok(())
    }

    /// The row's sub-action discriminator `(field, value)`, if it has one.
    pub fn discriminator(&self) -> Option<(&str, &str)> {
        self.params
            .iter()
            .find(|p| p.discriminator)
            .and_then(|p| Some((p.name.as_str(), p.default.as_deref()?)))
    }

    /// Checks `supplied` against the spec and binds it: typed, defaulted values for the
    /// client's encoder and the simulator's handlers alike. The caller's pairs are kept
    /// in order (some signers care) and a discriminator is set to the row's value.
    pub fn bind<'s, K: AsRef<str>, V: AsRef<str>>(
        &'s self,
        supplied: &[(K, V)],
    ) -> std::result::Result<Args<'s>, InvalidInput> {
        self.bind_parts(supplied, None)
    }

    /// [`ActionSpec::bind`] with a file's bytes as the value of `field`, for a protocol
    /// that sends files as bytes (a multipart file part): a file is data, not text, so
    /// no type applies; it stands in for `field` where the spec requires it (empty, it
    /// is absent, as an empty value is), and a text pair of that name is dropped.
    pub fn bind_file<'s, K: AsRef<str>, V: AsRef<str>>(
        &'s self,
        supplied: &[(K, V)],
        field: &str,
        file: PanelFile,
    ) -> std::result::Result<Args<'s>, InvalidInput> {
        self.bind_parts(supplied, Some((field.to_string(), file)))
    }

    fn bind_parts<'s, K: AsRef<str>, V: AsRef<str>>(
        &'s self,
        supplied: &[(K, V)],
        file: Option<(String, PanelFile)>,
    ) -> std::result::Result<Args<'s>, InvalidInput> {
        let is_file = |k: &str| {
            file.as_ref()
                .is_some_and(|(f, _)| k.eq_ignore_ascii_case(f))
        };
        // Only presence is checked of a file: a stand-in no type refuses.
        let stand_in = file
            .as_ref()
            .map(|(f, data)| (f.as_str(), if data.bytes.is_empty() { "" } else { "file" }));
        self.validate(
            supplied
                .iter()
                .map(|(k, v)| (k.as_ref(), v.as_ref()))
                .filter(|(k, _)| !is_file(k))
                .chain(stand_in),
        )
        .map_err(|(field, reason)| InvalidInput { field, reason })?;
        let discriminator = self.discriminator();
        let mut pairs: Vec<(String, String)> = supplied
            .iter()
            .filter(|(k, _)| discriminator.is_none_or(|(f, _)| !k.as_ref().eq_ignore_ascii_case(f)))
            .filter(|(k, _)| !is_file(k.as_ref()))
            .map(|(k, v)| (k.as_ref().to_string(), v.as_ref().to_string()))
            .collect();
        if let Some((field, value)) = discriminator {
            pairs.push((field.to_string(), value.to_string()));
        }
        Ok(Args {
            spec: self,
            pairs,
            file,
        })
    }
}

/// A parameter refused by the spec: the field and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct InvalidInput {
    pub field: String,
    pub reason: String,
}

impl InvalidInput {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl From<InvalidInput> for Error {
    fn from(e: InvalidInput) -> Self {
        Error::InvalidInput {
            field: e.field,
            reason: e.reason,
        }
    }
}

/// Arguments checked against an action's spec. Accessors see the value as supplied
/// (names match case-insensitively, as the upstreams' do) or else the spec's default;
/// an empty value counts as absent except through [`Args::raw`].
#[derive(Debug, Clone)]
pub struct Args<'s> {
    spec: &'s ActionSpec,
    pairs: Vec<(String, String)>,
    /// A parameter sent as bytes ([`ActionSpec::bind_file`]): its name and the file.
    file: Option<(String, PanelFile)>,
}

impl<'s> Args<'s> {
    pub fn action(&self) -> &'s ActionSpec {
        self.spec
    }

    /// The file bound with [`ActionSpec::bind_file`], if `name` is its parameter.
    pub fn file(&self, name: &str) -> Option<&PanelFile> {
        self.file
            .as_ref()
            .filter(|(f, _)| f.eq_ignore_ascii_case(name))
            .map(|(_, file)| file)
    }

    /// The pairs to send, in the caller's order; the discriminator (if any) last.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The pairs to send with the discriminator (if any) first, for upstreams that read
    /// the sub-operation right after the command (XenSystem, Zonkvm).
    pub fn discriminator_first(&self) -> impl Iterator<Item = (&str, &str)> {
        let discriminator = self.spec.discriminator();
        let rest = self
            .pairs
            .iter()
            .filter(move |(k, _)| discriminator.is_none_or(|(f, _)| !k.eq_ignore_ascii_case(f)))
            .map(|(k, v)| (k.as_str(), v.as_str()));
        discriminator.into_iter().chain(rest)
    }

    /// The value exactly as supplied, empty included (some vendors give `""` a meaning).
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The supplied value trimmed, or the spec's default; empty counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.raw(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .or_else(|| self.default_of(name))
    }

    fn default_of(&self, name: &str) -> Option<&'s str> {
        self.spec
            .params
            .iter()
            .find(|p| p.names().any(|n| n.eq_ignore_ascii_case(name)))
            .and_then(|p| p.default.as_deref())
    }

    /// The value, or `InvalidInput` naming the field when absent.
    pub fn need(&self, name: &str) -> std::result::Result<&str, InvalidInput> {
        self.get(name)
            .ok_or_else(|| InvalidInput::new(name, format!("{name} is required")))
    }

    /// An integer value. Declared `int` parameters were checked by `bind`; an undeclared
    /// one that does not parse is `InvalidInput`.
    pub fn int(&self, name: &str) -> std::result::Result<Option<i64>, InvalidInput> {
        self.get(name)
            .map(|v| {
                v.parse()
                    .map_err(|_| InvalidInput::new(name, format!("{name} must be an integer")))
            })
            .transpose()
    }

    /// A required integer.
    pub fn need_int(&self, name: &str) -> std::result::Result<i64, InvalidInput> {
        self.int(name)?
            .ok_or_else(|| InvalidInput::new(name, format!("{name} is required")))
    }

    /// A decimal value (money in yuan, sizes).
    pub fn dec(
        &self,
        name: &str,
    ) -> std::result::Result<Option<rust_decimal::Decimal>, InvalidInput> {
        self.get(name)
            .map(|v| {
                v.parse().map_err(|_| {
                    InvalidInput::new(name, format!("{name} must be a decimal number"))
                })
            })
            .transpose()
    }

    /// A JSON value.
    pub fn json(&self, name: &str) -> std::result::Result<Option<serde_json::Value>, InvalidInput> {
        self.get(name)
            .map(|v| {
                serde_json::from_str(v)
                    .map_err(|e| InvalidInput::new(name, format!("{name} must be JSON: {e}")))
            })
            .transpose()
    }
}

#[derive(Debug, Clone)]
pub struct VendorSpec {
    pub vendor: Vendor,
    pub actions: Vec<ActionSpec>,
}

impl VendorSpec {
    /// Parses a spec table; errors name the line so a bad table fails its crate's tests.
    pub fn parse(vendor: Vendor, table: &str) -> Result<Self> {
        let mut actions = Vec::new();
        for (n, line) in table.lines().enumerate() {
            let line_no = n + 1;
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() < 7 {
                return Err(Error::invalid(
                    format!("spec line {line_no}"),
                    format!(
                        "expected at least 7 tab-separated columns, got {}",
                        cols.len()
                    ),
                ));
            }
            let id = cols[0].trim();
            if !id.starts_with(&format!("{}:", vendor.as_str())) {
                return Err(Error::invalid(
                    format!("spec line {line_no}"),
                    format!("id {id:?} does not start with {vendor}:"),
                ));
            }
            let kind = match cols[1].trim() {
                "read" => ActionKind::Read,
                "write" => ActionKind::Write,
                other => {
                    return Err(Error::invalid(
                        format!("spec line {line_no}"),
                        format!("kind must be read or write, got {other:?}"),
                    ))
                }
            };
            let params = parse_params(cols[5])
                .map_err(|e| Error::invalid(format!("spec line {line_no}"), e))?;
            let implemented = match cols[6].trim() {
                "impl" => true,
                "todo" => false,
                other => {
                    return Err(Error::invalid(
                        format!("spec line {line_no}"),
                        format!("status must be impl or todo, got {other:?}"),
                    ))
                }
            };
            if actions.iter().any(|a: &ActionSpec| a.id == id) {
                return Err(Error::invalid(
                    format!("spec line {line_no}"),
                    format!("duplicate id {id}"),
                ));
            }
            actions.push(ActionSpec {
                id: id.to_string(),
                kind,
                method: cols[2].trim().to_string(),
                path: cols[3].trim().to_string(),
                action: cols[4].trim().to_string(),
                params,
                implemented,
                notes: cols
                    .get(7)
                    .map(|s| s.trim().to_string())
                    .unwrap_or_default(),
            });
        }
        Ok(VendorSpec { vendor, actions })
    }

    /// A vendor crate's compiled-in table. A malformed table is a build defect that the
    /// crate's own tests catch (they parse the table with [`VendorSpec::parse`]); at run
    /// time it is logged and degrades to an empty spec (every call then fails as unknown)
    /// rather than panicking inside a server. Vendor crates call it once through
    /// [`embedded_spec!`](crate::embedded_spec).
    pub fn embedded(vendor: Vendor, table: &str) -> Self {
        VendorSpec::parse(vendor, table).unwrap_or_else(|e| {
            tracing::error!(%vendor, error = %e, "the embedded spec.tsv is malformed");
            VendorSpec {
                vendor,
                actions: Vec::new(),
            }
        })
    }

    /// Looks an action up by full id (`west:domain.getprice`) or by its short name.
    pub fn find(&self, name: &str) -> Option<&ActionSpec> {
        let short = name
            .strip_prefix(self.vendor.as_str())
            .and_then(|r| r.strip_prefix(':'))
            .unwrap_or(name);
        self.actions.iter().find(|a| a.name() == short)
    }

    /// The action, provided it is implemented; otherwise the error a caller should see.
    pub fn require(&self, name: &str) -> Result<&ActionSpec> {
        match self.find(name) {
            Some(a) if a.implemented => Ok(a),
            Some(a) => Err(Error::NotImplemented {
                vendor: self.vendor.to_string(),
                action: a.id.clone(),
            }),
            None => {
                // A name that is the last part of several ids (`getprice`) is ambiguous:
                // say which ids it could mean rather than guess (some are writes).
                let candidates: Vec<&str> = self
                    .implemented()
                    .map(ActionSpec::name)
                    .filter(|n| {
                        n.rsplit(['.', '/', '#'])
                            .next()
                            .is_some_and(|last| last.eq_ignore_ascii_case(name))
                    })
                    .collect();
                let reason = if candidates.is_empty() {
                    format!("{} has no documented action {name:?}", self.vendor)
                } else {
                    format!(
                        "{name:?} is ambiguous at {}: one of {}",
                        self.vendor,
                        candidates.join(", ")
                    )
                };
                Err(Error::invalid("action", reason))
            }
        }
    }

    pub fn implemented(&self) -> impl Iterator<Item = &ActionSpec> {
        self.actions.iter().filter(|a| a.implemented)
    }

    /// Whether this spec lists exactly the ids of a vendor's catalog table (see
    /// [`catalog_ids`]): `Ok` with how many, or `Err` naming the ids only one side has
    /// and any id the catalog lists twice. A vendor's tests hold its spec to its catalog
    /// with `assert_eq!(spec().matches_catalog(include_str!(..)), Ok(n))`.
    pub fn matches_catalog(&self, catalog: &str) -> std::result::Result<usize, String> {
        use std::collections::BTreeSet;
        let mut listed = BTreeSet::new();
        let twice: Vec<&str> = catalog_ids(catalog)
            .filter(|id| !listed.insert(*id))
            .collect();
        let ours: BTreeSet<&str> = self.actions.iter().map(|a| a.id.as_str()).collect();
        let missing: Vec<&str> = listed.difference(&ours).copied().collect();
        let extra: Vec<&str> = ours.difference(&listed).copied().collect();
        if missing.is_empty() && extra.is_empty() && twice.is_empty() {
            Ok(listed.len())
        } else {
            Err(format!(
                "not in the spec: {missing:?}; not in the catalog: {extra:?}; \
                 listed twice in the catalog: {twice:?}"
            ))
        }
    }
}

/// The rows of a vendor's catalog table (`tests/catalog-<vendor>.tsv`: tab separated, a
/// header row, the id in the first column) as their columns, in the table's order; blank
/// lines are skipped.
pub fn catalog_rows(catalog: &str) -> impl Iterator<Item = Vec<&str>> {
    catalog
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').collect())
}

/// The action ids of a catalog table (the first column of [`catalog_rows`]).
pub fn catalog_ids(catalog: &str) -> impl Iterator<Item = &str> {
    catalog_rows(catalog).map(|cols| cols[0])
}

fn parse_params(col: &str) -> std::result::Result<Vec<ParamSpec>, String> {
    let col = col.trim();
    if col.is_empty() || col == "-" {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for raw in split_top_level(col) {
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let (head, default) = match raw.split_once('=') {
            Some((h, d)) => (h, Some(d.to_string())),
            None => (raw, None),
        };
        let (head, discriminator) = match head.strip_suffix('#') {
            Some(h) if default.as_deref().is_some_and(|d| !d.is_empty()) => (h, true),
            Some(_) => return Err(format!("discriminator {raw:?} needs a value: name#=value")),
            None => (head, false),
        };
        let (name_part, ty_part) = match head.split_once(':') {
            Some((n, t)) => (n, Some(t)),
            None => (head, None),
        };
        let required = name_part.ends_with('*');
        let name = name_part.trim_end_matches('*').trim();
        if name.is_empty() {
            return Err(format!("empty parameter name in {raw:?}"));
        }
        let ty = match ty_part.map(str::trim) {
            None | Some("str") => ParamType::Str,
            Some("int") => ParamType::Int,
            Some("dec") => ParamType::Dec,
            Some("json") => ParamType::Json,
            Some(t) if t.starts_with("enum(") && t.ends_with(')') => ParamType::Enum(
                t[5..t.len() - 1]
                    .split('|')
                    .map(|s| s.to_string())
                    .collect(),
            ),
            Some(t) => return Err(format!("unknown parameter type {t:?} for {name}")),
        };
        if name.split('|').any(|n| n.trim().is_empty()) {
            return Err(format!("empty alternative in {raw:?}"));
        }
        out.push(ParamSpec {
            name: name.to_string(),
            required: required || discriminator,
            ty,
            default,
            discriminator,
        });
    }
    Ok(out)
}

/// Splits on commas outside parentheses, so `enum(a|b)` stays whole.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "# comment\n\
xensystem:vm_start\twrite\tPOST\tprocess.aspx?c=api\tvm_start\tvpsid*:int\timpl\t\n\
xensystem:vm_stat\tread\tPOST\tprocess.aspx?c=api\tvm_stat\tVpsid*:int, charttype*:enum(1|2|3|4)=1, chartinterval:int\ttodo\tjs payload\n";

    #[test]
    fn an_embedded_table_parses_once_or_degrades_to_no_actions() {
        let spec = crate::embedded_spec!(Vendor::Xensystem, TABLE);
        assert_eq!(spec.actions.len(), 2);
        let broken = VendorSpec::embedded(Vendor::West, "west:a\tread");
        assert_eq!((broken.vendor, broken.actions.len()), (Vendor::West, 0));
    }

    #[test]
    fn parses_and_validates() {
        let spec = VendorSpec::parse(Vendor::Xensystem, TABLE).unwrap();
        assert_eq!(spec.actions.len(), 2);
        let start = spec.require("vm_start").unwrap();
        assert_eq!(start.validate([("vpsid", "12")]), Ok(()));
        assert_eq!(
            start.validate([("vpsid", "x")]).unwrap_err().0,
            "vpsid".to_string()
        );
        assert_eq!(start.validate(std::iter::empty()).unwrap_err().0, "vpsid");
        let stat = spec.find("xensystem:vm_stat").unwrap();
        assert!(stat.validate([("Vpsid", "1"), ("charttype", "9")]).is_err());
        assert!(
            stat.validate([("Vpsid", "1")]).is_ok(),
            "default satisfies required"
        );
        assert!(matches!(
            spec.require("vm_stat"),
            Err(Error::NotImplemented { .. })
        ));
        assert!(matches!(
            spec.require("vm_nope"),
            Err(Error::InvalidInput { .. })
        ));
    }

    #[test]
    fn one_of_groups_and_discriminators_bind() {
        let table = "dnspod:Domain.Info\tread\tPOST\t/Domain.Info\tDomain.Info\tdomain_id|domain*:str, length:int=20\timpl\n\
xensystem:vm_backup#del\twrite\tPOST\tp\tvm_backup\tvpsid*:int, subaction#=del, bkid*:int\timpl\n";
        let spec = VendorSpec::parse(Vendor::Dnspod, table.lines().next().unwrap()).unwrap();
        let info = &spec.actions[0];
        let none: [(&str, &str); 0] = [];
        let err = info.bind(&none).unwrap_err();
        assert_eq!(err.field, "domain_id|domain");
        assert!(err.reason.contains("one of domain_id, domain"));
        let args = info.bind(&[("DOMAIN", " x.com ")]).unwrap();
        assert_eq!(args.get("domain"), Some("x.com"));
        assert_eq!(args.raw("domain"), Some(" x.com "));
        assert_eq!(args.int("length").unwrap(), Some(20), "default applies");
        assert_eq!(args.pairs().len(), 1, "defaults are not sent");
        assert!(info.bind(&[("domain", ""), ("domain_id", "")]).is_err());

        let spec = VendorSpec::parse(Vendor::Xensystem, table.lines().nth(1).unwrap()).unwrap();
        let del = &spec.actions[0];
        assert_eq!(del.discriminator(), Some(("subaction", "del")));
        let args = del
            .bind(&[("vpsid", "7"), ("subaction", "revert"), ("bkid", "2")])
            .unwrap();
        assert_eq!(
            args.pairs(),
            &[
                ("vpsid".to_string(), "7".to_string()),
                ("bkid".to_string(), "2".to_string()),
                ("subaction".to_string(), "del".to_string())
            ],
            "the row's value replaces the caller's"
        );
        assert_eq!(args.need_int("vpsid").unwrap(), 7);
        assert_eq!(
            del.bind(&[("vpsid", "x"), ("bkid", "2")])
                .unwrap_err()
                .field,
            "vpsid"
        );
        assert!(VendorSpec::parse(Vendor::West, "west:a\tread\tPOST\tp\ta\tsub#\timpl").is_err());
    }

    #[test]
    fn a_file_binds_as_bytes_and_stands_in_for_its_required_field() {
        let table = "zonkvm:up\twrite\tPOST\tp\tup\tpath*, start:int=0, file*\timpl\n";
        let spec = VendorSpec::parse(Vendor::Zonkvm, table).unwrap();
        let up = &spec.actions[0];
        let bytes: Vec<u8> = (0..=255u8).collect();
        let file = |bytes: Vec<u8>| PanelFile {
            name: "a.bin".into(),
            bytes,
        };
        let args = up
            .bind_file(
                &[("path", "/w"), ("FILE", "text copy")],
                "file",
                file(bytes.clone()),
            )
            .unwrap();
        assert_eq!(args.file("file").unwrap().bytes, bytes);
        assert!(args.file("path").is_none());
        assert_eq!(
            args.pairs(),
            &[("path".to_string(), "/w".to_string())],
            "a text copy of the file is not sent beside it"
        );
        assert!(!format!("{args:?}").contains("text copy"));
        let err = up.bind_file(&[("path", "/w")], "file", file(Vec::new()));
        assert_eq!(err.unwrap_err().field, "file", "an empty file is absent");
        let none: [(&str, &str); 0] = [];
        let err = up.bind_file(&none, "file", file(bytes)).unwrap_err();
        assert_eq!(err.field, "path", "the rest is checked as ever");
        assert!(up
            .bind(&[("path", "/w"), ("file", "t")])
            .unwrap()
            .file("file")
            .is_none());
    }

    #[test]
    fn bad_tables_name_the_line() {
        let err = VendorSpec::parse(Vendor::West, "west:a\tfoo\tPOST\tp\ta\t-\timpl").unwrap_err();
        assert!(err.to_string().contains("spec line 1"));
        let err =
            VendorSpec::parse(Vendor::West, "dnspod:a\tread\tPOST\tp\ta\t-\timpl").unwrap_err();
        assert!(err.to_string().contains("does not start with"));
    }

    #[test]
    fn a_spec_matches_its_catalog_or_names_the_difference() {
        let spec = VendorSpec::parse(Vendor::Xensystem, TABLE).unwrap();
        let both = "id\tgroup\nxensystem:vm_stat\tcharts\n\nxensystem:vm_start\tpower\n";
        assert_eq!(
            catalog_ids(both).collect::<Vec<_>>(),
            ["xensystem:vm_stat", "xensystem:vm_start"]
        );
        assert_eq!(spec.matches_catalog(both), Ok(2));
        let short = "id\nxensystem:vm_start\nxensystem:vm_start\nxensystem:vm_new\n";
        assert_eq!(
            spec.matches_catalog(short).unwrap_err(),
            r#"not in the spec: ["xensystem:vm_new"]; not in the catalog: ["xensystem:vm_stat"]; listed twice in the catalog: ["xensystem:vm_start"]"#
        );
    }
}
