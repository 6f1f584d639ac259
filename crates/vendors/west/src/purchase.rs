//! What this upstream sells through the order journal: quotes, one purchase per order,
//! and settling a lost answer by reading.
//!
//! Besides domains (the generic [`domains`] code): cloud servers (`server.buy`,
//! `server.renew`, `server.upgrade`), virtual hosts (`host.buy`; the document has no
//! host renewal or upgrade), MSSQL databases and enterprise mail (buy, renew, upgrade
//! each), and mini programs (`miniapp.buy`, `miniapp.renew`) as hosting sites whose
//! offer and upstream id carry the `miniapp:` prefix (a mini program is a site West
//! hosts for a domain; its ids are its own, so the prefix keeps them apart from hosts').
//!
//! Offers and options, in the document's own names:
//! - server create: offer `c<cpu>m<GB>` (the plan ids of `Compute::catalog`); options
//!   `serverroom`, `os` (required), `disk` (GB, default 40), `bandwidth` (Mbps, default
//!   5), `password` (generated when absent: `server.getinitpwd` reads it back). The
//!   target is the server's label; West takes no order id, so the name sent is the label
//!   followed by a marker derived from the idempotency key, which settling looks for.
//! - server upgrade: offer `c<cpu>m<GB>`, options `disk`, `bandwidth` (omitted:
//!   unchanged); it covers the rest of the term, so `months` is not used.
//! - idcgate's neutral unit `units.bandwidth` (`idcgate_core::units`): on a server
//!   create, that many Mbps beyond the 5 the plans are priced with; on an upgrade, that
//!   many more than the server has (read first; the offer may then be left out: CPU
//!   and memory unchanged). Not with `bandwidth` at once. West's document sells no IPs
//!   or defense with a server, so `units.ip` and `units.defense` are refused.
//! - hosting create: target the FTP name, offer the model (`host.getmodels`), option
//!   `password` (generated when absent: `host.getpwd` reads it back).
//! - mail create: target the domain, offer the type (`M5`…); upgrade: offer the new type.
//!   Option `password` (the postmaster's, required: West shows it nowhere after).
//! - database create: target the database name, offer the size in MB (`mssql.getconfig`),
//!   options `version`, `password` (required); upgrade: offer the new size.
//! - mini program create: target the domain, offer `miniapp:<type>`; renew the target
//!   `miniapp:<id>`.
//!
//! Renewals are by whole years, as every `renew` act takes `year`. Settling reads the
//! product's list or detail (a new resource that was not there before and carries our
//! label, an expiry past the one read before, the plan asked for), then West's finance
//! record for the charge: a row naming the resource that was not there before. Its order
//! id and amount are what the settled order keeps, as a successful answer's would be.

use crate::capability::{china_time, generated_password, money, need, order, plan_shape, s, strs};
use crate::WestClient;
use async_trait::async_trait;
use idcgate_core::capability::{Billing, Registrar};
use idcgate_core::purchase::{domains, not_sold, Operation, PurchaseRequest, Purchasing, Settled};
use idcgate_core::units::{Unit, MAX_UNITS};
use idcgate_core::{Error, Money, Order, PriceQuote, ResourceKind, Result, Vendor};
use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The prefix of a mini program's offer and upstream id.
const MINIAPP: &str = "miniapp:";

/// How far before a purchase the finance record is read for charges already there: a
/// day, so a clock of ours ahead of West's cannot hide the charge being looked for.
const CHARGES_SLACK: SignedDuration = SignedDuration::from_hours(24);

/// One of West's product lines sold through the journal (domains aside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    Server,
    Host,
    Mail,
    Mssql,
    Miniapp,
}

use Operation::{Create, Renew, Upgrade};

impl Line {
    const ALL: [Line; 5] = [
        Line::Server,
        Line::Host,
        Line::Mail,
        Line::Mssql,
        Line::Miniapp,
    ];

    fn kind(self) -> ResourceKind {
        match self {
            Line::Server => ResourceKind::Server,
            Line::Host | Line::Miniapp => ResourceKind::HostingSite,
            Line::Mail => ResourceKind::MailDomain,
            Line::Mssql => ResourceKind::Database,
        }
    }

    /// What the document lets us buy with a quote first. A mini program's upgrade has
    /// no price act, so it is not sold here.
    fn operations(self) -> &'static [Operation] {
        match self {
            Line::Server | Line::Mail | Line::Mssql => &[Create, Renew, Upgrade],
            Line::Host => &[Create],
            Line::Miniapp => &[Create, Renew],
        }
    }

    /// The act prefix (`server.buy`).
    fn module(self) -> &'static str {
        match self {
            Line::Server => "server",
            Line::Host => "host",
            Line::Mail => "mail",
            Line::Mssql => "mssql",
            Line::Miniapp => "miniapp",
        }
    }

    /// The field naming a resource in West's answers and in its buy act (what a
    /// create's target becomes).
    fn label(self) -> &'static str {
        match self {
            Line::Server | Line::Mssql => "name",
            Line::Host => "ftpname",
            Line::Mail | Line::Miniapp => "domain",
        }
    }

    /// The fields an upgrade changes, as the detail answers them.
    fn plan(self) -> &'static [&'static str] {
        match self {
            Line::Server => &["cpu", "memory", "disk", "bandwidth"],
            Line::Mail => &["type"],
            Line::Mssql => &["size"],
            Line::Host | Line::Miniapp => &[],
        }
    }

    fn of(request: &PurchaseRequest) -> Result<Line> {
        let line = match request.kind {
            ResourceKind::Server => Line::Server,
            ResourceKind::HostingSite if is_miniapp(request) => Line::Miniapp,
            ResourceKind::HostingSite => Line::Host,
            ResourceKind::Database => Line::Mssql,
            ResourceKind::MailDomain => Line::Mail,
            _ => return Err(not_sold(Vendor::West, request)),
        };
        if !line.operations().contains(&request.operation) {
            return Err(Error::unsupported(
                Vendor::West,
                format!(
                    "{} {} (the document has no quoted {} {} act)",
                    request.operation,
                    request.kind.as_str(),
                    line.module(),
                    request.operation
                ),
            ));
        }
        Ok(line)
    }

    /// The id of the resource a renewal or upgrade acts on, as West takes it.
    fn id_of(self, request: &PurchaseRequest) -> Result<String> {
        let t = request.target.as_str();
        let id = match self {
            Line::Miniapp => t.strip_prefix(MINIAPP).unwrap_or(t),
            _ => t,
        };
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            let shape = if self == Line::Miniapp {
                "miniapp:<id>"
            } else {
                "a numeric id"
            };
            return Err(Error::invalid(
                "target",
                format!("{t:?}: a West {} is named by {shape}", self.module()),
            ));
        }
        Ok(id.to_string())
    }

    /// A West id as the journal names the resource.
    fn upstream_ref(self, id: &str) -> String {
        match self {
            Line::Miniapp => format!("{MINIAPP}{id}"),
            _ => id.to_string(),
        }
    }

    fn product(self, request: &PurchaseRequest) -> String {
        let m = self.module();
        let t = &request.target;
        match request.operation {
            Create | Operation::Transfer => format!("{m}:{t}"),
            Renew => format!("{m}-renew:{t}"),
            Upgrade => format!("{m}-upgrade:{t}"),
        }
    }
}

fn is_miniapp(request: &PurchaseRequest) -> bool {
    let offer = request.offer.as_deref().unwrap_or_default();
    offer.starts_with(MINIAPP) || request.target.starts_with(MINIAPP)
}

/// Parameters of one act, in the document's names.
type Kv = Vec<(&'static str, String)>;

/// Whole years: every West renewal (and the yearly products) take `year`.
fn years(request: &PurchaseRequest) -> Result<String> {
    let m = request.months;
    if m == 0 || m % 12 != 0 {
        return Err(Error::invalid(
            "months",
            format!(
                "{m} months: West sells a {} by whole years",
                request.kind.as_str()
            ),
        ));
    }
    Ok((m / 12).to_string())
}

/// Refuses options the act does not take: a misspelt optional one would otherwise be
/// dropped without a word.
fn only_options(request: &PurchaseRequest, takes: &[&str]) -> Result<()> {
    match request
        .options
        .keys()
        .find(|k| !takes.contains(&k.as_str()))
    {
        Some(k) if takes.is_empty() => Err(Error::invalid(
            k,
            format!("West's {} takes no options", request.verb()),
        )),
        Some(k) => Err(Error::invalid(
            k,
            format!(
                "not an option of this purchase (it takes {})",
                takes.join(", ")
            ),
        )),
        None => Ok(()),
    }
}

fn option(request: &PurchaseRequest, key: &str) -> Option<String> {
    request.options.get(key).filter(|v| !v.is_empty()).cloned()
}

/// The password a purchase sends: the caller's, or one generated where West shows it
/// again afterwards (`server.getinitpwd`, `host.getpwd`).
fn password(line: Line, request: &PurchaseRequest) -> Result<String> {
    match (option(request, "password"), line) {
        (Some(p), _) => Ok(p),
        (None, Line::Server | Line::Host) => Ok(generated_password()),
        (None, _) => request.need_option("password").map(str::to_string),
    }
}

/// The offer without the mini-program prefix.
fn offer(line: Line, request: &PurchaseRequest) -> Result<String> {
    let o = request.need_offer()?;
    Ok(match line {
        Line::Miniapp => o.strip_prefix(MINIAPP).unwrap_or(o).to_string(),
        _ => o.to_string(),
    })
}

/// A server's cores and memory from a plan code.
fn server_shape(request: &PurchaseRequest) -> Result<Kv> {
    let o = request.need_offer()?;
    let (cpu, mem) = plan_shape(o).ok_or_else(|| {
        Error::invalid(
            "offer",
            format!("{o:?} is not a West server plan (c<cpu>m<GB>, as in the catalog)"),
        )
    })?;
    Ok(vec![("cpu", cpu.to_string()), ("memory", mem.to_string())])
}

/// `units.bandwidth`: a whole number of Mbps from 1 to `MAX_UNITS`, never with
/// `bandwidth` at once.
fn more_bandwidth(request: &PurchaseRequest) -> Result<Option<i64>> {
    let key = Unit::Bandwidth.option_key();
    let Some(v) = option(request, key) else {
        return Ok(None);
    };
    if option(request, "bandwidth").is_some() {
        return Err(Error::invalid(
            key,
            format!("give bandwidth or {key}, not both"),
        ));
    }
    v.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_UNITS).contains(n))
        .map(|n| Some(i64::from(n)))
        .ok_or_else(|| Error::invalid(key, format!("{v:?}: a whole number from 1 to {MAX_UNITS}")))
}

/// What an upgrade asks the plan to become: the fields of [`Line::plan`] it sets.
/// `now` is the resource's detail (its plan) where it was read: more bandwidth in
/// units adds to it.
fn wanted(line: Line, request: &PurchaseRequest, now: Option<&Value>) -> Result<Kv> {
    Ok(match line {
        Line::Server => {
            only_options(
                request,
                &["disk", "bandwidth", Unit::Bandwidth.option_key()],
            )?;
            let more = more_bandwidth(request)?;
            // CPU and memory are omitted (unchanged) only where units are all it adds.
            let mut kv = match (&request.offer, more) {
                (None, Some(_)) => Vec::new(),
                _ => server_shape(request)?,
            };
            for k in ["disk", "bandwidth"] {
                if let Some(v) = option(request, k) {
                    kv.push((k, v));
                }
            }
            if let Some(n) = more {
                let has = now
                    .and_then(|v| s(v, "bandwidth").trim().parse::<i64>().ok())
                    .ok_or_else(|| {
                        Error::invalid(
                            Unit::Bandwidth.option_key(),
                            "the server's bandwidth could not be read",
                        )
                    })?;
                let to = has
                    .checked_add(n)
                    .ok_or_else(|| Error::invalid(Unit::Bandwidth.option_key(), "out of range"))?;
                kv.push(("bandwidth", to.to_string()));
            }
            kv
        }
        Line::Mail | Line::Mssql => {
            only_options(request, &[])?;
            let field = if line == Line::Mail { "type" } else { "size" };
            vec![(field, offer(line, request)?)]
        }
        Line::Host | Line::Miniapp => Vec::new(),
    })
}

/// The name a create gives the resource. A server's carries a marker of the order (West
/// takes no order id and server names need not be unique); the other labels are unique
/// in an account already.
fn created_label(line: Line, request: &PurchaseRequest, client_order_id: &str) -> String {
    match line {
        Line::Server => {
            let marker = &crate::md5_hex(client_order_id)[..8];
            format!("{}-{marker}", request.target)
        }
        _ => request.target.clone(),
    }
}

/// The parameters a create's price act (`<module>.getprice`) and its buy act share: all
/// but the password, the name and the image.
fn create_terms(line: Line, request: &PurchaseRequest) -> Result<Kv> {
    let takes: &[&str] = match line {
        Line::Server => &[
            "serverroom",
            "os",
            "disk",
            "bandwidth",
            "password",
            Unit::Bandwidth.option_key(),
        ],
        Line::Host | Line::Mail => &["password"],
        Line::Mssql => &["version", "password"],
        Line::Miniapp => &[],
    };
    only_options(request, takes)?;
    if line != Line::Server {
        let product = match line {
            Line::Host => "model",
            Line::Mssql => "size",
            _ => "type",
        };
        let mut kv = vec![(product, offer(line, request)?), ("year", years(request)?)];
        if line == Line::Mssql {
            kv.push(("version", request.need_option("version")?.to_string()));
        }
        return Ok(kv);
    }
    if request.months == 0 {
        return Err(Error::invalid(
            "months",
            "a server is bought for 1 month or more",
        ));
    }
    let mut kv = vec![("serverroom", request.need_option("serverroom")?.to_string())];
    kv.extend(server_shape(request)?);
    // The catalog's plans are priced with a 40 GB data disk and 5 Mbps.
    let bandwidth = match more_bandwidth(request)? {
        Some(n) => (5 + n).to_string(),
        None => option(request, "bandwidth").unwrap_or_else(|| "5".into()),
    };
    kv.extend([
        (
            "disk",
            option(request, "disk").unwrap_or_else(|| "40".into()),
        ),
        ("bandwidth", bandwidth),
        ("month", request.months.to_string()),
    ]);
    Ok(kv)
}

/// The act that buys and its parameters (`now`: the resource's detail, read before an
/// upgrade that adds units).
fn buy_terms(
    line: Line,
    request: &PurchaseRequest,
    client_order_id: &str,
    now: Option<&Value>,
) -> Result<(String, Kv)> {
    let module = line.module();
    Ok(match request.operation {
        Create => {
            let mut kv = create_terms(line, request)?;
            if line == Line::Server {
                kv.push(("os", request.need_option("os")?.to_string()));
            }
            kv.push((line.label(), created_label(line, request, client_order_id)));
            if line != Line::Miniapp {
                kv.push(("password", password(line, request)?));
            }
            (format!("{module}.buy"), kv)
        }
        Renew => {
            only_options(request, &[])?;
            let kv = vec![("id", line.id_of(request)?), ("year", years(request)?)];
            (format!("{module}.renew"), kv)
        }
        Upgrade => {
            let mut kv = vec![("id", line.id_of(request)?)];
            kv.extend(wanted(line, request, now)?);
            (format!("{module}.upgrade"), kv)
        }
        Operation::Transfer => return Err(not_sold(Vendor::West, request)),
    })
}

fn kv_refs(kv: &Kv) -> Vec<(&str, &str)> {
    kv.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Whether `memo` names `key` as a whole word: `1234` in `续费服务器1234 1年`, not in
/// `续费服务器12345`; `a.com` in `购买企业邮箱 a.com`, not in `mail.a.com`.
fn mentions(memo: &str, key: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
    !key.is_empty()
        && memo.match_indices(key).any(|(i, _)| {
            let before = memo[..i].chars().next_back();
            let after = memo[i + key.len()..].chars().next();
            !before.is_some_and(word) && !after.is_some_and(word)
        })
}

/// The plan fields of a detail answer, as text.
fn plan_of(line: Line, v: &Value) -> Value {
    line.plan()
        .iter()
        .map(|k| (k.to_string(), json!(s(v, k))))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The texts of a list in `before`.
fn strings(before: &Value, k: &str) -> BTreeSet<String> {
    strs(before, k).into_iter().collect()
}

/// What reading found: the resource's West id, its label and what was read; or what
/// was read that shows the purchase did not happen.
type Found = std::result::Result<(String, String, String), String>;

impl WestClient {
    /// One resource by its West id; an id not in the account is `NotFound`.
    async fn resource(&self, line: Line, id: &str) -> Result<Value> {
        let action = match line {
            Line::Miniapp => "miniapp.sync".to_string(),
            _ => format!("{}.detail", line.module()),
        };
        match self.call_kv(&action, &[("id", id)]).await {
            Err(Error::InvalidInput { field, .. }) if field == "id" => {
                Err(Error::not_found(format!("west {} {id}", line.module())))
            }
            other => other,
        }
    }

    /// Every resource of a line (the document has no list act for hosts, mail and
    /// databases: their `detail` without an id lists them).
    async fn resources(&self, line: Line) -> Result<Vec<Value>> {
        let action = match line {
            Line::Server => "server.list".to_string(),
            Line::Miniapp => {
                return self
                    .call_kv_as("miniapp.syncall", &[], |v| {
                        Ok(v.get("items")
                            .and_then(Value::as_array)
                            .cloned()
                            .unwrap_or_default())
                    })
                    .await
            }
            _ => format!("{}.detail", line.module()),
        };
        self.all_pages(&action, &[], |v| Ok(v.clone())).await
    }

    /// The price act of a purchase and its parameters. A renewal of a database or a
    /// mini program has no price act of its own: it is the product's price for the
    /// years, read with the product's current version and size (or type).
    async fn price_terms(&self, line: Line, request: &PurchaseRequest) -> Result<(String, Kv)> {
        let module = line.module();
        match request.operation {
            Create => Ok((format!("{module}.getprice"), create_terms(line, request)?)),
            Renew => {
                only_options(request, &[])?;
                let (id, year) = (line.id_of(request)?, years(request)?);
                if matches!(line, Line::Server | Line::Mail) {
                    let kv = vec![("id", id), ("year", year)];
                    return Ok((format!("{module}.getrenewprice"), kv));
                }
                let v = self.resource(line, &id).await?;
                if s(&v, "trial") == "1" {
                    return Err(Error::invalid(
                        "target",
                        format!(
                            "{} is a trial: West converts a trial ({module}.convert), it does not renew it",
                            request.target
                        ),
                    ));
                }
                let product: &[&str] = if line == Line::Mssql {
                    &["version", "size"]
                } else {
                    &["type"]
                };
                let mut kv = vec![("year", year)];
                kv.extend(product.iter().map(|k| (*k, s(&v, k))));
                Ok((format!("{module}.getprice"), kv))
            }
            Upgrade => {
                let id = line.id_of(request)?;
                // All but the server's own bandwidth (what units add to) is checked
                // before anything is read.
                wanted(line, request, Some(&json!({"bandwidth": "0"})))?;
                // An upgrade to the plan it has would leave nothing for settling to see.
                let now = self.resource(line, &id).await?;
                let want = wanted(line, request, Some(&now))?;
                if want.iter().all(|(k, w)| s(&now, k) == *w) {
                    return Err(Error::invalid(
                        "offer",
                        format!("{module} {id} already has this plan"),
                    ));
                }
                let mut kv = vec![("id", id)];
                kv.extend(want);
                Ok((format!("{module}.getupgradeprice"), kv))
            }
            Operation::Transfer => Err(not_sold(Vendor::West, request)),
        }
    }

    /// The finance record's charges since `from` naming one of `keys` and not among
    /// `seen` (the ones there before the purchase): (amount, order id, memo).
    async fn new_charges(
        &self,
        from: Timestamp,
        keys: &[String],
        seen: &BTreeSet<String>,
    ) -> Result<Vec<(Money, String, String)>> {
        Ok(self
            .charges(from)
            .await?
            .into_iter()
            .filter(|c| keys.iter().any(|k| mentions(&c.memo, k)))
            .filter_map(|c| Some((c.amount, c.reference?, c.memo)))
            .filter(|(_, r, _)| !seen.contains(r))
            .collect())
    }

    /// The ids that exist before a create, or the expiry and plan before a renewal or
    /// upgrade; and the charges already naming the resource.
    async fn line_before(&self, line: Line, request: &PurchaseRequest) -> Result<Value> {
        let from = Timestamp::now() - CHARGES_SLACK;
        let (mut before, keys) = match request.operation {
            Create | Operation::Transfer => {
                let ids: Vec<String> = self
                    .resources(line)
                    .await?
                    .iter()
                    .map(|v| s(v, "id"))
                    .collect();
                (json!({ "ids": ids }), vec![request.target.clone()])
            }
            Renew | Upgrade => {
                let id = line.id_of(request)?;
                let v = self.resource(line, &id).await?;
                let label = s(&v, line.label());
                let b =
                    json!({"id": id, "expiredate": s(&v, "expiredate"), "plan": plan_of(line, &v)});
                (b, vec![id, label])
            }
        };
        let seen: Vec<String> = self
            .new_charges(from, &keys, &BTreeSet::new())
            .await?
            .into_iter()
            .map(|(_, r, _)| r)
            .collect();
        before["charges_from_ms"] = json!(from.as_millisecond());
        before["seen"] = json!(seen);
        Ok(before)
    }

    /// Reads whether the purchase happened: the resource it made or changed, or what
    /// shows it did not happen.
    async fn line_settle(
        &self,
        line: Line,
        request: &PurchaseRequest,
        client_order_id: &str,
        before: &Value,
    ) -> Result<Found> {
        let m = line.module();
        match request.operation {
            Create | Operation::Transfer => {
                let label = created_label(line, request, client_order_id);
                let had = strings(before, "ids");
                let all = self.resources(line).await?;
                let new = all.iter().find(|v| {
                    s(v, line.label()).eq_ignore_ascii_case(&label) && !had.contains(&s(v, "id"))
                });
                Ok(match new {
                    Some(v) => {
                        let id = s(v, "id");
                        let seen = format!("read the {m} list: {id} ({label}) is new");
                        Ok((id, s(v, line.label()), seen))
                    }
                    None => Err(format!(
                        "read the {m} list ({} of them): none named {label} that was not there before",
                        all.len()
                    )),
                })
            }
            Renew => {
                let id = line.id_of(request)?;
                let v = self.resource(line, &id).await?;
                let was = before["expiredate"].as_str().unwrap_or_default();
                let now = s(&v, "expiredate");
                let seen = format!("read {m} {id}: expires {now}, {was} before the order");
                let moved = matches!(
                    (china_time(was), china_time(&now)),
                    (Some(b), Some(n)) if n > b
                );
                Ok(if moved {
                    Ok((id, s(&v, line.label()), seen))
                } else {
                    Err(seen)
                })
            }
            Upgrade => {
                let id = line.id_of(request)?;
                // Units add to the plan it had before the order.
                let want = wanted(line, request, Some(&before["plan"]))?;
                let v = self.resource(line, &id).await?;
                let has = |plan: &Value| want.iter().all(|(k, w)| s(plan, k) == *w);
                let shown: Vec<String> = want
                    .iter()
                    .map(|(k, w)| format!("{k} {} (asked {w})", s(&v, k)))
                    .collect();
                let seen = format!("read {m} {id}: {}", shown.join(", "));
                Ok(if has(&before["plan"]) {
                    Err(format!("{seen}; it had that plan before the order"))
                } else if has(&v) {
                    Ok((id, s(&v, line.label()), seen))
                } else {
                    Err(seen)
                })
            }
        }
    }
}

#[async_trait]
impl Purchasing for WestClient {
    /// A cloud server's bandwidth (`bandwidth` of `server.buy` and `server.upgrade`);
    /// West's document sells no IPs or defense with a server.
    fn units_provisioned(&self, request: &PurchaseRequest) -> Vec<Unit> {
        match Line::of(request) {
            Ok(Line::Server) => vec![Unit::Bandwidth],
            _ => Vec::new(),
        }
    }

    fn sells(&self) -> Vec<(ResourceKind, Operation)> {
        let mut all = domains::SELLS.to_vec();
        for line in Line::ALL {
            for op in line.operations() {
                if !all.contains(&(line.kind(), *op)) {
                    all.push((line.kind(), *op));
                }
            }
        }
        all
    }

    async fn quote(&self, request: &PurchaseRequest) -> Result<PriceQuote> {
        if request.kind == ResourceKind::Domain {
            return domains::quote(self, request).await;
        }
        request.validate()?;
        let line = Line::of(request)?;
        let (act, kv) = self.price_terms(line, request).await?;
        let price = self
            .call_kv_as(&act, &kv_refs(&kv), |v| money(&v, "price"))
            .await?;
        Ok(PriceQuote {
            product: line.product(request),
            period_months: if request.operation == Upgrade {
                0
            } else {
                request.months
            },
            price,
        })
    }

    async fn before(&self, request: &PurchaseRequest) -> Result<serde_json::Value> {
        if request.kind == ResourceKind::Domain {
            return domains::before(self, request).await;
        }
        let line = Line::of(request)?;
        self.line_before(line, request).await
    }

    async fn buy(&self, request: &PurchaseRequest, client_order_id: &str) -> Result<Order> {
        if request.kind == ResourceKind::Domain {
            return domains::buy(self, request, client_order_id).await;
        }
        request.validate()?;
        let line = Line::of(request)?;
        // An upgrade adding units adds them to what the server has now.
        let now = match request.operation {
            Upgrade if request.options.contains_key(Unit::Bandwidth.option_key()) => {
                Some(self.resource(line, &line.id_of(request)?).await?)
            }
            _ => None,
        };
        let (act, kv) = buy_terms(line, request, client_order_id, now.as_ref())?;
        let kv = kv_refs(&kv);
        let (v, id) = if request.operation == Create {
            // Bought without the new id in the answer: the resource may exist all the
            // same, which the exchange makes an unknown outcome.
            let v = self
                .call_kv_as(&act, &kv, |v| need(&v, "id").map(|_| v))
                .await?;
            let id = s(&v, "id");
            (v, id)
        } else {
            (self.call_kv(&act, &kv).await?, line.id_of(request)?)
        };
        Ok(order(
            &v,
            line.product(request),
            Some(line.upstream_ref(&id)),
        ))
    }

    /// Reads the resource, then West's finance record. The order id of the one new
    /// charge naming the resource is the reference (what a successful answer would have
    /// given, and what the statement check matches); with none or several, the
    /// resource's id and no amount, so the quote is booked.
    async fn settle(
        &self,
        request: &PurchaseRequest,
        client_order_id: &str,
        before: &serde_json::Value,
    ) -> Result<Settled> {
        if request.kind == ResourceKind::Domain {
            return domains::settle(self as &dyn Registrar, request, before).await;
        }
        let line = Line::of(request)?;
        let (id, label, seen) = match self
            .line_settle(line, request, client_order_id, before)
            .await?
        {
            Ok(found) => found,
            Err(seen) => {
                return Ok(Settled::DidNotHappen {
                    evidence: format!("{seen}: it did not happen"),
                })
            }
        };
        let from = before["charges_from_ms"]
            .as_i64()
            .and_then(|ms| Timestamp::from_millisecond(ms).ok())
            .unwrap_or_else(|| Timestamp::now() - CHARGES_SLACK);
        let charges = self
            .new_charges(from, &[id.clone(), label], &strings(before, "seen"))
            .await?;
        Ok(match charges.as_slice() {
            [(amount, orderid, memo)] => Settled::Happened {
                upstream_ref: Some(orderid.clone()),
                charged: Some(*amount),
                evidence: format!(
                    "{seen}; West's finance record: order {orderid} charged {amount} ({memo}): it happened"
                ),
            },
            other => Settled::Happened {
                upstream_ref: Some(line.upstream_ref(&id)),
                charged: None,
                evidence: format!(
                    "{seen}: it happened; West's finance record has {} new charges naming it, so none is taken as this order's",
                    other.len()
                ),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memo_names_a_key_only_as_a_whole_word() {
        assert!(mentions("续费服务器1234 1年", "1234"));
        assert!(!mentions("续费服务器12345 1年", "1234"));
        assert!(!mentions("续费服务器91234 1年", "1234"));
        assert!(mentions("购买企业邮箱 a.com M5 1年", "a.com"));
        assert!(!mentions("购买企业邮箱 mail.a.com M5 1年", "a.com"));
        assert!(mentions(
            "购买云服务器 web-1a2b3c4d 1核1G 1个月",
            "web-1a2b3c4d"
        ));
        assert!(!mentions("购买云服务器 web-1a2b3c4d 1核1G 1个月", "web"));
        assert!(!mentions("anything", ""));
    }

    #[test]
    fn each_line_sells_what_it_routes() {
        for line in Line::ALL {
            for op in line.operations() {
                let mut r = PurchaseRequest::new(line.kind(), *op, "1");
                if line == Line::Miniapp {
                    r = r.offer("miniapp:basic");
                }
                assert_eq!(Line::of(&r).unwrap(), line, "{r}");
            }
        }
    }
}
