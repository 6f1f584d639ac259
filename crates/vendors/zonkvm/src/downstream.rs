//! The Zonkvm dialect served: idcgate as the upstream finance system of its own tenants.
//! A downstream system calls `POST /api/same/index` exactly as it calls a Zonkvm
//! upstream (appid/appkey, `action`, a urlencoded or multipart form) and gets the same
//! envelope `{code, msg, data, url, wait}`, answered by a [`Storefront`] from idcgate's
//! catalog, ledger and orders.
//!
//! Mapping: every server product on sale is one cloud line (guid = the product's id)
//! with one package (the product's configuration) in the single zone `1`, and one
//! system to create it with (guid = the product's id: a product installs what it was
//! set up with); the images its upstream offers are further systems for
//! `server_install` (guid `<product id>:<image id>`). Prices are the tenant's: the
//! package price is the shortest term's monthly price, and each term's `discount`
//! makes `price × months × discount` the catalog's price for that term exactly.
//!
//! A line whose product has upgrades (products of the same upstream account and
//! options under a dearer offer) or sells units shows `upgradeStatus` 1;
//! `server_upgrade` names the new configuration, which must be one of theirs, or the
//! same CPU, memory and disks with more bandwidth or defense. `get_server_chart` is
//! the upstream's graph where its capability has one.
//!
//! A cloud product may sell bandwidth (Mbps) and defense (G) per unit beyond its
//! package (`idcgate product units`, where its upstream can provision them): its
//! line's `bandwidth6Price` and `defensePrice` are the tenant's monthly prices of one,
//! `bandwidthMinSize` the package's bandwidth and `bandwidthMaxSize` that plus the
//! most sold, `defenseMinSize` 0 and `defenseMaxSize` the most sold (a unit it does
//! not sell: price 0.00 and the base as the maximum). `create_order#create_server`
//! takes `content.bandwidth` / `content.defense` up to those maxima and buys what is
//! beyond the base as units, priced by the catalog (below the base, beyond the
//! maximum or a unit not sold is refused); `server_upgrade` with CPU, memory and
//! disks unchanged and more bandwidth or defense (absolute values, as the document's)
//! buys the difference as units for the time left, as `lease_upgrade` does.
//! `getserver(s)` show the package's bandwidth plus the units held, and the defense
//! held.
//!
//! Hosting and database products are sold the same way: each is its own line
//! (`hosting_lines`, which lists the database products' lines too) and product (`hosting_product`, `sql_product`, discounts in
//! percent), of one fixed configuration; `create_order` takes the settings a tenant
//! chooses (language, encoding, password) and ignores `prefix`. `hosting_operate` /
//! `sql_operate`: renew, refund and upgrade (`new_product_guid`, one of the product's
//! upgrades; more traffic alone is not offered) go through the storefront's money
//! path; start, stop, FTP and database passwords and domain binding through the
//! upstream's hosting or database capability; the rest of the panel passes through as
//! it is ([`crate::panel`]: only its listed sub-operations, with only their rows'
//! fields, on the tenant's own holding), answered with the upstream's data.
//! `hosting_upload` is one of them, multipart as the document has it; its `file` part's
//! bytes (any of 0x00-0xFF, at most 1 MiB a chunk) go on as they are
//! (`PanelCall::file`), with the part's `filename` as the file's name; a text `file`
//! field goes as its UTF-8. `hosting_del_backup`'s
//! `guid` is a backup's id: the tenant's own live sites are searched for the one whose
//! backup list shows it, and it is deleted there (another's is not found).
//! `hosting_add_database` makes the site's bundled database, which the tenant then
//! holds (a free holding of its own, `Storefront::add_bundled_database`) and manages
//! by the `id` answered. `get_php_version` and `hosting_get_soft_find` take a line,
//! i.e. a hosting or database product on sale to the tenant, and are asked of its
//! upstream on the product's own line (`Storefront::line_panel`). A hosting or
//! database product is also on the lines of the products that upgrade to it, and
//! shows `upgradation`.
//! Multi-line fields (`domainText`, `domains`, `access`, `text`, `key`, `csr`) take line
//! breaks and tabs and up to 64 KiB; every other control character is refused.
//!
//! Dedicated servers and colocation (products whose upstream plan is one) are sold
//! the same way: each product is a `lease_lines` / `idc_lines` line and a
//! `lease_product` / `idc_product` of its base bandwidth, one IP and no defense, and
//! the units the catalog sells beyond it: the line's `bandwidth_price`, `ip_price` and
//! `defense_price` are the tenant's monthly prices of one Mbps, IP and G, its
//! `bandwidth_max_size`, `ip_max_size` and `defense_max_size` the base plus the most
//! the product sells (a unit it does not sell: price 0.00 and the base as the
//! maximum). `create_order` takes more bandwidth, IPs or defense within those, priced
//! per unit; `lease_upgrade` / `idc_upgrade` add them (increments, as the document's),
//! paid for the time left; `upgrade_status` is 1 where any unit is sold. `getlease` /
//! `getidc` show the base plus what the order holds. `lease_*` / `idc_*` order actions
//! work as their cloud counterparts and refuse an order of another family. Answered
//! differently from the finance system: the base shows no defense (the upstream's is
//! not shown), `ip_num_list` / `defense_num_list` name only the least and the most,
//! and no power spec is chosen. An upgrade's share of the time left is rounded down to
//! the fen, as the finance system rounds it.
//!
//! A cloud order's VNC password (`server_setvnc`) and security policies
//! (`get_security_policy`, `server_add_hardpolicy`, `server_del_hardpolicy`) go to its
//! upstream server through the storefront (`Compute` console password and firewall
//! rules; an upstream without them answers that it cannot). A policy row's `guid` is
//! the upstream's rule id, what deleting takes (only a rule listed for that very order
//! is deleted); its `id` is its place in the list, and `getserver`'s
//! `securityPolicyList` stays empty. Rules and passwords are checked before anything
//! is sent: the document's exact words for direction, `operation` (allow/deny, shown
//! back as `action`) and protocol, an address or CIDR block, ports and a weight of
//! 1-65535, a password of 6-32 visible ASCII characters.
//!
//! Nothing in a request sets a price: a price-like field anywhere in it (a price word
//! in any segment of a key, in any `content` at any depth) is refused before anything
//! is read, as is a value that was not text in any charset (decoded to U+FFFD) and a
//! `user_id` that is not the document's number. An action the document lists that the storefront does not
//! offer answers `code 0` saying so, never a success.

use crate::spec::{discriminator_field, is_dispatcher, spec};
use async_trait::async_trait;
use idcgate_core::storefront::{
    Dialect, DialectAnswer, Holding, HoldingState, Offering, Purchase, Refusal, RefusalKind,
    ServerAction, Shopper, Storefront,
};
use idcgate_core::units::{Unit, Units, MAX_UNITS};
use idcgate_core::{
    Direction, FirewallRule, FirewallRuleSpec, Money, PanelCall, PanelFile, PowerAction,
    PowerState, ResourceKind, RuleProtocol, ServerKind, SiteAction, Verdict,
};
use idcgate_wire::form;
use idcgate_wire::sim::china;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use std::net::IpAddr;

/// The one zone every line is in.
const ZONE: &str = "1";
const PAGE_SIZE: usize = 100;
/// A field longer than this is refused (the longest real one is a password or a JSON
/// `content` of a handful of keys).
const MAX_FIELD: usize = 4096;
const MAX_MONTHS: u32 = 120;
/// Fields whose values are several lines by nature (newline-separated domains or
/// addresses, a file's text, a PEM key or certificate): a line break or tab is allowed
/// there, any other control character (NUL) is still refused, and they may be longer.
const MULTILINE: [&str; 6] = ["domainText", "domains", "access", "text", "key", "csr"];
const MAX_TEXT: usize = 65_536;
/// `hosting_upload`'s `file`: a chunk of a file, data rather than a parameter, so any
/// byte goes (carried as bytes, not text); the endpoint reads bodies of up to 2 MiB.
const FILE: &str = "file";
const MAX_CHUNK: usize = 1 << 20;
/// Words that name a price or a rebate in a field: prices are the server's alone.
const PRICE_WORDS: [&str; 11] = [
    "price", "money", "amount", "cost", "total", "discount", "coupon", "fee", "rebate", "voucher",
    "paid",
];
/// Price words that are refused also inside a longer word (`realprice`,
/// `paymoney`); the short ones (`fee`, `cost`) only as words of their own.
const PRICE_STEMS: [&str; 5] = ["price", "money", "amount", "discount", "coupon"];

const OK_READ: &str = "获取成功";
const OK_WRITE: &str = "操作成功";

/// The Zonkvm dialect, for `idcgate serve`.
#[derive(Debug, Default, Clone, Copy)]
pub struct ZonkvmDialect;

type Fields = Vec<(String, String)>;

fn get<'a>(fields: &'a Fields, key: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

fn fail(msg: impl Into<String>) -> Refusal {
    Refusal::new(RefusalKind::Invalid, msg)
}

fn need<'a>(fields: &'a Fields, key: &str) -> Result<&'a str, Refusal> {
    get(fields, key).ok_or_else(|| fail(format!("缺少必要参数：{key}")))
}

fn bad(key: &str) -> Refusal {
    fail(format!("参数错误：{key}格式不正确"))
}

/// The order id: a prefix (`server_1001`) is stripped, as the upstream does.
fn guid(fields: &Fields) -> Result<i64, Refusal> {
    let raw = need(fields, "guid")?;
    let tail = raw.rsplit('_').next().unwrap_or(raw);
    tail.parse::<i64>()
        .ok()
        .filter(|g| *g > 0)
        .ok_or_else(|| bad("guid"))
}

fn months(raw: Option<&str>, key: &str) -> Result<u32, Refusal> {
    let m = raw
        .ok_or_else(|| fail(format!("缺少必要参数：{key}")))?
        .parse::<u32>()
        .map_err(|_| bad(key))?;
    if !(1..=MAX_MONTHS).contains(&m) {
        return Err(fail(format!("参数错误：{key} 为 1 到 {MAX_MONTHS} 个月")));
    }
    Ok(m)
}

/// Whether any word of `key` names money: every segment counts (`price[]`,
/// `content[price]`, `unit_price`, `totalPrice`), as a downstream system may send one
/// under any spelling; no field the document lists has such a word but `coupon_id`.
fn is_price_field(key: &str) -> bool {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        let boundary = !c.is_alphanumeric() || (c.is_uppercase() && prev_lower);
        if boundary && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
    }
    words.push(word);
    words
        .iter()
        .any(|w| PRICE_WORDS.contains(&w.as_str()) || PRICE_STEMS.iter().any(|s| w.contains(s)))
}

/// The first price-like key anywhere in a JSON value, nested objects and arrays
/// included, as a dotted path.
fn price_key_in(v: &Value, path: &str) -> Option<String> {
    match v {
        Value::Object(m) => m.iter().find_map(|(k, v)| {
            let here = format!("{path}.{k}");
            if is_price_field(k) {
                Some(here)
            } else {
                price_key_in(v, &here)
            }
        }),
        Value::Array(items) => items.iter().find_map(|v| price_key_in(v, path)),
        _ => None,
    }
}

/// Refuses control characters (NUL and the like), oversize fields and price-like
/// fields anywhere, `content`'s keys included.
fn screen(fields: &Fields) -> Result<(), Refusal> {
    let upload = get(fields, "operate") == Some("hosting_upload");
    // A field given twice is refused, not read as its first or last copy: which one
    // counts is where a caller and a proxy in front of us could disagree.
    let mut seen = std::collections::HashSet::new();
    if let Some((k, _)) = fields.iter().find(|(k, _)| !seen.insert(k.as_str())) {
        return Err(given_twice(k));
    }
    for (k, v) in fields {
        if upload && k == FILE {
            if v.len() > MAX_CHUNK {
                return Err(chunk_too_long());
            }
            continue;
        }
        let multiline = MULTILINE.contains(&k.as_str());
        let max = if multiline { MAX_TEXT } else { MAX_FIELD };
        let refused = |c: char| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t'));
        if k.len() > 64 || v.len() > max {
            return Err(fail(format!(
                "参数错误：{} 过长",
                k.chars().take(64).collect::<String>()
            )));
        }
        // U+FFFD is what a value that was not text in any charset became: two
        // different order ids would become one, so such a value is refused.
        let refused = |c: char| refused(c) || c == char::REPLACEMENT_CHARACTER;
        if k.chars()
            .any(|c| c.is_control() || c == char::REPLACEMENT_CHARACTER)
            || v.chars().any(refused)
        {
            return Err(fail(format!(
                "参数错误：{} 含非法字符",
                k.chars()
                    .filter(|c| !c.is_control())
                    .take(64)
                    .collect::<String>()
            )));
        }
        if is_price_field(k) {
            return Err(fail(format!(
                "参数错误：价格由服务端计算，请求不得携带 {k} (prices are computed by the server)"
            )));
        }
    }
    // Every `content` given, not only the one read, and at any depth.
    for (_, content) in fields.iter().filter(|(k, _)| k == "content") {
        if let Ok(v) = serde_json::from_str::<Value>(content) {
            if let Some(k) = price_key_in(&v, "content") {
                return Err(fail(format!(
                    "参数错误：价格由服务端计算，请求不得携带 {k}"
                )));
            }
        }
    }
    Ok(())
}

fn chunk_too_long() -> Refusal {
    fail(format!(
        "参数错误：file 过长 (a chunk is at most {MAX_CHUNK} bytes)"
    ))
}

/// A `Y-m-d H:i:s` time in China time, as the document writes them.
fn parse_time(text: &str) -> Option<jiff::Timestamp> {
    let dt = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", text.trim()).ok()?;
    dt.to_zoned(china::zone()).ok().map(|z| z.timestamp())
}

fn yuan(m: Money) -> String {
    format!("{:.2}", m.0)
}

fn time(t: Option<jiff::Timestamp>) -> String {
    t.map(china::datetime).unwrap_or_default()
}

/// The envelope, as the upstream's ThinkPHP writes it.
fn envelope(result: Result<(&'static str, Value), Refusal>) -> DialectAnswer {
    DialectAnswer {
        status: 200,
        content_type: "application/json; charset=utf-8",
        body: match result {
            Ok(ok) => crate::codec::envelope(Ok(ok)),
            Err(r) => crate::codec::envelope(Err(&r.message)),
        },
    }
}

/// The shortest term's monthly price (to the fen), and each term's discount against
/// it, exact enough that the client's `monthly × months × discount`, rounded half up
/// to the fen, is the term's price. Cloud lines write a discount as a ratio
/// (`scale` 1), hosting and database products in percent (`scale` 100).
fn monthly_and_discounts(o: &Offering, scale: Decimal) -> Option<(Decimal, Vec<Value>)> {
    let (first_months, first_price) = o.terms.iter().min_by_key(|(m, _)| *m)?;
    let monthly = (first_price.0 / Decimal::from(*first_months)).round_dp(2);
    if monthly.is_zero() {
        return None;
    }
    let discounts = o
        .terms
        .iter()
        .map(|(m, p)| {
            let d = p.0 * scale / (monthly * Decimal::from(*m));
            json!({"month": m.to_string(), "discount": d.round_dp(20).normalize().to_string()})
        })
        .collect();
    Some((monthly, discounts))
}

/// A cloud line: its package's bandwidth is the least sold and, where the product sells
/// bandwidth per unit, `bandwidth6Price` is the tenant's monthly price of one Mbps more
/// and `bandwidthMaxSize` the base plus the most sold (the Zonkvm client prices a
/// package's bandwidth beyond its own at that field); defense likewise from 0 (the
/// upstream's own is not shown), `defensePrice` per G.
fn line_json(o: &Offering) -> Option<Value> {
    let (_, discounts) = monthly_and_discounts(o, Decimal::ONE)?;
    let months: Vec<String> = o.terms.iter().map(|(m, _)| m.to_string()).collect();
    let bw = i64::from(o.bandwidth_mbps);
    let (bw_price, bw_max) = unit_on_line(o, Unit::Bandwidth);
    let (def_price, def_max) = unit_on_line(o, Unit::Defense);
    let upgrades = !o.upgrades.is_empty() || bw_max > 0 || def_max > 0;
    Some(json!({
        "guid": o.id.to_string(), "line_guid": ZONE, "name": o.title, "descript": o.title,
        "introUrl": "", "buyStatus": 1, "upgradeStatus": i64::from(upgrades), "renewStatus": 1,
        "harddiskMinNum": 1, "harddiskMaxNum": 0, "harddiskMinSize": 0, "harddiskMaxSize": 0,
        "harddiskStep": 10, "harddiskPrice": "0.00", "harddisk_free_size": 0,
        "bandwidthMinSize": bw, "bandwidthMaxSize": bw + bw_max, "bandwidth_free_size": 0,
        "bandwidth_in_type": 1, "bandwidth_in_value": bw, "bandwidth6Price": bw_price,
        "bandwidth_stairs_price": "[]", "defenseMinSize": 0, "defenseMaxSize": def_max,
        "defenseFreeSize": 0, "defensePrice": def_price, "months": months.join(","),
        "status": 1, "markup": "1.00",
        "discount": Value::Array(discounts).to_string(), "lines_product_type": "1",
    }))
}

fn package_json(o: &Offering) -> Option<Value> {
    let (monthly, _) = monthly_and_discounts(o, Decimal::ONE)?;
    Some(json!({
        "name": o.name, "cpu": o.cpu, "memory": o.ram_mb / 1024, "systemdisk": o.disk_gb,
        "harddisk": 0, "ipnum": 1, "bandwidth": o.bandwidth_mbps, "defense": 0,
        "price": format!("{monthly:.2}"), "description": o.title, "sort": o.id, "status": 1,
        "lines_guid": o.id.to_string(),
    }))
}

fn systems_json(offerings: &[Offering]) -> Value {
    let system = |guid: String, name: &str, kind: &str, o: &Offering| {
        // Which family installs it, in the document's words.
        let support = match o.server_kind {
            ServerKind::Dedicated => "lease",
            ServerKind::Colocation => "idc",
            ServerKind::Cloud | ServerKind::Vps => "server",
        };
        json!({
            "type_id": 2, "status": 1, "guid": guid, "name": name, "login_name": "",
            "login_password": "", "port": "", "mirror_name": name, "cpu_limit": 0,
            "ram_limit": 0, "type": kind, "system_harddisk": o.disk_gb, "support": support,
            "lines": json!([ZONE]).to_string(), "sort": 10, "create_time": "",
            "update_time": "", "type_name": "Linux", "zone_names": "",
        })
    };
    let mut out = Vec::new();
    for o in offerings {
        out.push(system(o.id.to_string(), &o.title, "create", o));
        // An upstream may list an image once per region or package: one row each.
        let mut seen = std::collections::HashSet::new();
        for image in o.images.iter().filter(|i| seen.insert(i.id.as_str())) {
            out.push(system(
                format!("{}:{}", o.id, image.id),
                &image.name,
                "install",
                o,
            ));
        }
    }
    Value::Array(out)
}

fn order_status(h: &Holding) -> i64 {
    match h.state {
        HoldingState::Provisioning => 0,
        HoldingState::Active => 1,
        HoldingState::Expired => 3,
        HoldingState::Failed | HoldingState::Refunded => -2,
    }
}

/// The getserver row, keys in the document's order. What was sold (CPU, memory, disks,
/// bandwidth) is the product's, plus the bandwidth and defense the order holds beyond
/// it; state and addresses are the server's as last seen.
fn server_json(h: &Holding, o: Option<&Offering>) -> Value {
    let s = h.server.as_ref();
    let run = match s.map(|s| s.power) {
        Some(PowerState::Running) => 1,
        Some(PowerState::Stopped) => -1,
        _ => 0,
    };
    let ip = s.and_then(|s| s.ips.first().cloned()).unwrap_or_default();
    let cpu = o.map_or_else(|| s.map_or(0, |s| s.cpu), |o| o.cpu);
    let memory = o.map_or_else(|| s.map_or(0, |s| s.ram_mb), |o| o.ram_mb) / 1024;
    let disk = o.map_or_else(
        || s.map_or(0, |s| s.disks.iter().map(|d| d.size_gb).sum()),
        |o| o.disk_gb,
    );
    let held = |u: Unit| i64::from(h.units.get(&u).copied().unwrap_or(0));
    let bw = o.map_or_else(
        || i64::from(s.map_or(0, |s| s.bandwidth_mbps)),
        |o| i64::from(o.bandwidth_mbps) + held(Unit::Bandwidth),
    );
    json!({
        "id": h.guid, "client_user_id": h.client_user_id, "need_reset_vnc": 0,
        "line_guid": h.offering.to_string(), "lineID": h.offering,
        "system_guid": h.offering.to_string(), "ip": ip, "localIP": "", "cpu": cpu,
        "memory": memory, "harddisks": disk.to_string(), "bandwidth": bw,
        "in_bandwidth": bw.to_string(), "defense": held(Unit::Defense), "loginName": "", "loginPassword": "",
        "buyTime": time(Some(h.bought_at)), "endTime": time(h.expires_at),
        "orderStatus": order_status(h), "runStatus": run, "actStatus": 0, "snapStatus": 0,
        "vnc_port": 0, "share_type": 0, "login_port": 22, "share_ip": "", "append_ip": "[]",
        "securityPolicyList": "[]", "port": "[]", "api_type": "idcgate",
    })
}

/// The three server families the document keeps apart: cloud servers (`server_*`),
/// leased dedicated machines (`lease_*`) and colocation (`idc_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Machine {
    Cloud,
    Lease,
    Idc,
}

impl Machine {
    fn of(kind: ServerKind) -> Machine {
        match kind {
            ServerKind::Dedicated => Machine::Lease,
            ServerKind::Colocation => Machine::Idc,
            ServerKind::Cloud | ServerKind::Vps => Machine::Cloud,
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Machine::Cloud => "server",
            Machine::Lease => "lease",
            Machine::Idc => "idc",
        }
    }

    /// A per-order action of a family as the cloud one it works like
    /// (`lease_stop` → `server_stop`, `get_idc_chart` → `get_server_chart`), with its
    /// family; `None` for everything else. Dedicated and colocation upgrades, which
    /// add IPs, bandwidth or defense at a price per unit, are not among them
    /// (`Call::add_units`).
    fn action(name: &str) -> Option<(Machine, String)> {
        const OPS: [&str; 8] = [
            "start",
            "stop",
            "restart",
            "setpsw",
            "install",
            "getvncurl",
            "renew",
            "refund",
        ];
        for fam in [Machine::Cloud, Machine::Lease, Machine::Idc] {
            if name == format!("get_{}_chart", fam.prefix()) {
                return Some((fam, "get_server_chart".into()));
            }
            if let Some(op) = name
                .strip_prefix(fam.prefix())
                .and_then(|r| r.strip_prefix('_'))
            {
                if OPS.contains(&op) || (fam == Machine::Cloud && op == "upgrade") {
                    return Some((fam, format!("server_{op}")));
                }
            }
        }
        None
    }
}

/// Which family a holding is: its product's, or (a product since retired) the
/// server's as last read.
fn machine_of(h: &Holding, offerings: &[Offering]) -> Machine {
    match offerings.iter().find(|o| o.id == h.offering) {
        Some(o) => Machine::of(o.server_kind),
        None => Machine::of(h.server.as_ref().map(|s| s.kind).unwrap_or_default()),
    }
}

/// One unit as a line shows it: the tenant's monthly price of one ("0.00" when the
/// product does not sell it) and the most beyond the base (0).
fn unit_on_line(o: &Offering, unit: Unit) -> (String, i64) {
    o.units
        .iter()
        .find(|u| u.unit == unit)
        .map_or(("0.00".to_string(), 0), |u| {
            (yuan(u.monthly), i64::from(u.max_extra))
        })
}

/// A `lease_lines` / `idc_lines` row: the product is its own line, of its base
/// bandwidth, one IP and no defense, plus the units it sells at their prices;
/// `discount1..3` are the 12, 24 and 36-month terms' prices against the monthly one
/// where those are sold (the catalog's term discount applies to units alike).
fn machine_line_json(o: &Offering) -> Option<Value> {
    let (monthly, _) = monthly_and_discounts(o, Decimal::ONE)?;
    let months: Vec<String> = o.terms.iter().map(|(m, _)| m.to_string()).collect();
    let discount = |m: u32| {
        o.terms
            .iter()
            .find(|(t, _)| *t == m)
            .map_or(Decimal::ONE, |(_, p)| p.0 / (monthly * Decimal::from(m)))
            .round_dp(20)
            .normalize()
            .to_string()
    };
    let (bw_price, bw_max) = unit_on_line(o, Unit::Bandwidth);
    let (ip_price, ip_max) = unit_on_line(o, Unit::Ip);
    let (def_price, def_max) = unit_on_line(o, Unit::Defense);
    Some(json!({
        "guid": o.id.to_string(), "line_guid": ZONE, "status": 1, "name": o.title,
        "descript": o.title, "intro_url": "", "buy_status": 1, "renew_status": 1,
        "upgrade_status": i64::from(!o.units.is_empty()),
        "defense_status": i64::from(def_max > 0), "buy_order_max_num": 1,
        "bandwidth_price": bw_price, "bandwidth_stairs_price": "[]",
        "bandwidth_max_size": i64::from(o.bandwidth_mbps) + bw_max, "ip_price": ip_price,
        "ip_min_size": 1, "ip_max_size": 1 + ip_max, "ip_free_size": 1,
        "ip_num_list": format!("1,{}", 1 + ip_max), "defense_price": def_price,
        "defense_max_size": def_max, "defense_num_list": format!("0,{def_max}"),
        "defense_step": i64::from(def_max > 0),
        "months": months.join(","), "retention_days": 0, "user_vnc": 1,
        "discount1": discount(12), "discount2": discount(24), "discount3": discount(36),
    }))
}

fn machine_product_json(o: &Offering, fam: Machine) -> Option<Value> {
    let (monthly, _) = monthly_and_discounts(o, Decimal::ONE)?;
    let mut row = json!({
        "guid": o.id.to_string(), "name": o.name, "line_guid": o.id.to_string(),
        "bandwidth": o.bandwidth_mbps, "defense": 0, "ipnum": "1",
        "price": format!("{monthly:.2}"), "status": 1,
        "upgrade_status": i64::from(!o.units.is_empty()),
        "line_names": o.title, "description": o.title,
    });
    let more = match fam {
        Machine::Lease => json!({
            "product_type": "local", "cpu_value": o.cpu, "cpu": "", "cpu_num": 1,
            "memory": "", "memory_num": o.ram_mb / 1024, "harddisk_guid": "",
            "system_partition_size": o.disk_gb, "size": 1,
        }),
        _ => json!({"product_type": 1, "power": "[]", "size": "", "market_status": 1}),
    };
    if let (Some(row), Value::Object(more)) = (row.as_object_mut(), more) {
        row.extend(more);
    }
    Some(row)
}

/// The getlease / getidc row. Logins are never shown.
fn machine_json(h: &Holding, o: Option<&Offering>, fam: Machine) -> Value {
    let s = h.server.as_ref();
    let run = match s.map(|s| s.power) {
        Some(PowerState::Running) => 1,
        Some(PowerState::Stopped) => -1,
        _ => 0,
    };
    let ips: Vec<&String> = s.map(|s| s.ips.iter().collect()).unwrap_or_default();
    // What was sold: the product's base plus the units the order holds.
    let held = |u: Unit| i64::from(h.units.get(&u).copied().unwrap_or(0));
    let mut row = json!({
        "id": h.guid, "client_user_id": h.client_user_id,
        "product_guid": h.offering.to_string(), "line_guid": h.offering.to_string(),
        "name": "", "bandwidth": o.map_or(0, |o| i64::from(o.bandwidth_mbps)) + held(Unit::Bandwidth),
        "defense": held(Unit::Defense),
        "ipnum": 1 + held(Unit::Ip), "login_name": "", "login_password": "",
        "buy_time": time(Some(h.bought_at)), "end_time": time(h.expires_at),
        "order_status": order_status(h), "run_status": run, "act_status": 0,
        "ip": json!(ips).to_string(), "api_type": "idcgate",
    });
    let more = match fam {
        Machine::Lease => json!({
            "size": 1, "cabinet_sn": "", "main_board": "",
            "cpu_value": o.map_or(0, |o| o.cpu), "cpu": "", "cpu_num": 1, "memory": "",
            "memory_num": o.map_or(0, |o| o.ram_mb / 1024), "system_port": "",
            "system_guid": h.offering.to_string(),
        }),
        _ => json!({"product_type": 1, "size": "", "power": ""}),
    };
    if let (Some(row), Value::Object(more)) = (row.as_object_mut(), more) {
        row.extend(more);
    }
    row
}

/// Which of the two site families an action is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Site {
    Hosting,
    Sql,
}

impl Site {
    fn kind(self) -> ResourceKind {
        match self {
            Site::Hosting => ResourceKind::HostingSite,
            Site::Sql => ResourceKind::Database,
        }
    }

    /// The wire action of its per-order sub-operations.
    fn family(self) -> &'static str {
        match self {
            Site::Hosting => "hosting_operate",
            Site::Sql => "sql_operate",
        }
    }

    /// Settings a tenant may choose at `create_order` (they do not change the price),
    /// as the document names them. `prefix` is not among them: the upstream order
    /// carries idcgate's own marker there.
    fn choices(self) -> &'static [&'static str] {
        match self {
            Site::Hosting => &[
                "content.program",
                "content.program_version",
                "content.db",
                "content.code",
                "pwd",
            ],
            Site::Sql => &["content.code", "pwd"],
        }
    }
}

/// A hosting or database product row: the product is its own line, and is also on the
/// lines of the products that may be upgraded to it (a client finds an upgrade among
/// the products of the order's line, as the document has it).
fn site_product_json(o: &Offering, all: &[Offering], site: Site) -> Option<Value> {
    let (monthly, discounts) = monthly_and_discounts(o, Decimal::ONE_HUNDRED)?;
    let months: Vec<String> = o.terms.iter().map(|(m, _)| m.to_string()).collect();
    let lines: Vec<String> = std::iter::once(o.id)
        .chain(
            all.iter()
                .filter(|f| f.upgrades.contains(&o.id))
                .map(|f| f.id),
        )
        .map(|id| id.to_string())
        .collect();
    let mut row = json!({
        "guid": o.id.to_string(), "name": o.name, "lines_guid": lines.join(","),
        "desc": o.title, "price": format!("{monthly:.2}"), "months": months.join(","),
        "discount": Value::Array(discounts).to_string(), "db": 0, "buy_limit": 0,
        "timeout": 0, "sort": o.id, "stock": 1, "status": 1, "suggest": 0,
        "upgradation": i64::from(!o.upgrades.is_empty()), "line_names": o.title,
    });
    if site == Site::Hosting {
        // Traffic is the product's own: no more can be bought on top.
        for (k, v) in [
            ("disk", json!(o.disk_gb)),
            ("domain", json!(0)),
            ("domainsub", json!(0)),
            ("flow", json!(o.bandwidth_mbps)),
            ("max_flow", json!(o.bandwidth_mbps)),
            ("up_flow", json!(0)),
            ("up_flow_price", json!("0.00")),
            ("def", json!(0)),
            ("is_limit_rate", json!(0)),
            ("perserver", json!(0)),
            ("perip", json!(0)),
            ("limit_rate", json!(0)),
        ] {
            row[k] = v;
        }
    }
    Some(row)
}

fn site_line_json(o: &Offering) -> Value {
    json!({
        "guid": o.id.to_string(), "name": o.title, "domain": "", "ip": "", "status": 1,
        "stock": 1, "descript": o.title, "cname": "", "sort": o.id, "white": 0, "renew": 1,
        "retention_days": 0,
    })
}

/// The gethosting / getsql row. Logins and passwords are never shown: idcgate keeps
/// none.
fn site_json(h: &Holding, o: Option<&Offering>, site: Site) -> Value {
    let monthly = o
        .and_then(|o| monthly_and_discounts(o, Decimal::ONE))
        .map_or_else(|| "0.00".to_string(), |(m, _)| format!("{m:.2}"));
    let status = h
        .site
        .as_ref()
        .map(|s| s.status.as_str())
        .or_else(|| h.database.as_ref().map(|d| d.status.as_str()));
    let run = if status == Some("stopped") { -1 } else { 1 };
    let offering = h.offering.to_string();
    let mut row = json!({
        "id": h.guid, "client_user_id": h.client_user_id, "product_guid": offering,
        "line_guid": offering, "use_disk": 0, "buy_time": time(Some(h.bought_at)),
        "start_time": time(Some(h.bought_at)), "end_time": time(h.expires_at),
        "order_status": order_status(h), "run_status": run, "remarks": "",
        "renew_auto": 0, "renew_price": monthly, "buymonths": h.months,
    });
    match site {
        Site::Hosting => {
            let s = h.site.as_ref();
            let domains: Vec<String> = s.map(|s| s.domains.clone()).unwrap_or_default();
            for (k, v) in [
                ("name", json!(s.map(|s| s.name.clone()).unwrap_or_default())),
                (
                    "domain",
                    json!(domains.first().cloned().unwrap_or_default()),
                ),
                (
                    "domain_list",
                    json!(json!(domains.iter().skip(1).collect::<Vec<_>>()).to_string()),
                ),
                (
                    "path",
                    json!(s.and_then(|s| s.path.clone()).unwrap_or_default()),
                ),
                ("disk", json!(o.map_or(0, |o| o.disk_gb))),
                ("db_size", json!(0)),
                ("db_type", json!("")),
                ("db_code", json!("")),
                ("program", json!("")),
                ("program_version", json!("")),
                ("analysis_url", json!("")),
                ("use_flow", json!(0)),
                ("flow", json!(o.map_or(0, |o| o.bandwidth_mbps))),
                ("ftpport", json!(21)),
                ("ftp_id", json!(0)),
                ("ftp_status", json!(1)),
                ("ftp_name", json!("")),
                ("ftp_password", json!("")),
            ] {
                row[k] = v;
            }
        }
        Site::Sql => {
            let d = h.database.as_ref();
            let name = d.map(|d| d.name.clone()).unwrap_or_default();
            for (k, v) in [
                ("hosting_id", json!(0)),
                ("name", json!(name)),
                ("db_size", json!(d.and_then(|d| d.size_mb).unwrap_or(0))),
                (
                    "db_type",
                    json!(d.map(|d| d.engine.clone()).unwrap_or_default()),
                ),
                ("db_code", json!("")),
                ("db_name", json!(name)),
                ("db_user", json!("")),
                ("db_password", json!("")),
            ] {
                row[k] = v;
            }
        }
    }
    row
}

fn given_twice(key: &str) -> Refusal {
    fail(format!(
        "参数错误：{} 重复 (given more than once)",
        key.chars().take(64).collect::<String>()
    ))
}

/// The request's `content` (a JSON object), with the document's dotted fields folded in.
/// A key given twice, in the object or as a field beside it, is refused.
fn content(fields: &Fields) -> Result<Map<String, Value>, Refusal> {
    let mut m = match get(fields, "content") {
        None => Map::new(),
        Some(text) => object_once(text).map_err(|e| match e {
            Some(key) => given_twice(&format!("content.{key}")),
            None => bad("content"),
        })?,
    };
    for (k, v) in fields {
        if let Some(sub) = k
            .strip_prefix("content.")
            .or_else(|| k.strip_prefix("content[").and_then(|r| r.strip_suffix(']')))
        {
            if m.insert(sub.to_string(), Value::String(v.clone()))
                .is_some()
            {
                return Err(given_twice(k));
            }
        }
    }
    Ok(m)
}

/// A JSON object whose keys are each given once; `Err(Some(key))` names one given twice,
/// `Err(None)` is text that is no JSON object. (`serde_json`'s map keeps the last.)
fn object_once(text: &str) -> Result<Map<String, Value>, Option<String>> {
    struct Once;
    impl<'de> serde::de::Visitor<'de> for Once {
        type Value = Result<Map<String, Value>, String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut a: A,
        ) -> Result<Self::Value, A::Error> {
            let (mut m, mut twice) = (Map::new(), None);
            // Read to the end: the object must still be whole JSON.
            while let Some((k, v)) = a.next_entry::<String, Value>()? {
                if m.contains_key(&k) {
                    twice.get_or_insert(k);
                } else {
                    m.insert(k, v);
                }
            }
            Ok(twice.map_or(Ok(m), Err))
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let read = serde::Deserializer::deserialize_map(&mut de, Once).map_err(|_| None)?;
    de.end().map_err(|_| None)?;
    read.map_err(Some)
}

fn content_int(c: &Map<String, Value>, key: &str) -> Result<Option<i64>, Refusal> {
    match c.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| bad(key)),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| bad(key)),
        Some(_) => Err(bad(key)),
    }
}

fn content_text(c: &Map<String, Value>, key: &str) -> Option<String> {
    match c.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// A product of one configuration: a value in `content` must be the product's.
fn fixed(c: &Map<String, Value>, key: &str, want: i64) -> Result<(), Refusal> {
    match content_int(c, key)? {
        Some(v) if v != want => Err(fail(format!(
            "参数错误：该产品仅售固定配置，{key} 应为 {want}"
        ))),
        _ => Ok(()),
    }
}

/// A `create_order` naming a `product_guid` (dedicated, colocation, hosting,
/// databases): the product on sale (its line is itself), the request's `content`,
/// checked for one of it and no automatic renewal, and the term.
fn product_order<'a>(
    f: &Fields,
    offerings: &'a [Offering],
) -> Result<(&'a Offering, Map<String, Value>, u32), Refusal> {
    let product = need(f, "product_guid")?;
    let id = product.parse::<i64>().map_err(|_| bad("product_guid"))?;
    if get(f, "line_guid").is_some_and(|l| l != product) {
        return Err(fail("该线路节点不存在或已下架"));
    }
    let o = offerings
        .iter()
        .find(|o| o.id == id && !o.terms.is_empty())
        .ok_or_else(|| fail("产品不存在或已下架"))?;
    let c = content(f)?;
    fixed(&c, "number", 1)?;
    fixed(&c, "renew_auto", 0)?;
    let m = months(
        content_int(&c, "months")?.map(|m| m.to_string()).as_deref(),
        "content.months",
    )?;
    Ok((o, c, m))
}

/// How many units of `unit` a `create_order`'s `content.<key>` asks for beyond the
/// product's `base`: none when absent or the base; refused below the base, for a unit
/// the product does not sell, or beyond the most it sells.
fn beyond(
    c: &Map<String, Value>,
    key: &str,
    unit: Unit,
    base: i64,
    o: &Offering,
) -> Result<Option<u32>, Refusal> {
    let Some(v) = content_int(c, key)? else {
        return Ok(None);
    };
    let more = v.checked_sub(base).ok_or_else(|| bad(key))?;
    if more == 0 {
        return Ok(None);
    }
    let sold = o.units.iter().find(|u| u.unit == unit);
    match sold {
        _ if more < 0 => Err(fail(format!("参数错误：{key} 不可低于 {base}"))),
        None => Err(fail(format!(
            "参数错误：该产品仅售固定配置，{key} 应为 {base}"
        ))),
        Some(u) if more > i64::from(u.max_extra) => Err(fail(format!(
            "配置超出线路允许范围：{key} 至多 {}",
            base + i64::from(u.max_extra)
        ))),
        Some(_) => Ok(u32::try_from(more).ok()),
    }
}

/// The purchase options that carry `units` (the storefront prices them itself).
fn unit_options(units: &Units) -> std::collections::BTreeMap<String, String> {
    units
        .iter()
        .map(|(unit, n)| (unit.option_key().to_string(), n.to_string()))
        .collect()
}

/// A cloud create's configuration: the package's CPU, memory, disk and one IP, one
/// server and no automatic renewal; bandwidth and defense beyond the base are the units
/// the product sells (returned), within its maxima.
fn check_config(c: &Map<String, Value>, o: &Offering) -> Result<Units, Refusal> {
    let same = |key: &str, want: i64| fixed(c, key, want);
    same("cpu", i64::from(o.cpu))?;
    same("ram", i64::from(o.ram_mb / 1024))?;
    let mut units = Units::new();
    for (key, unit, base) in [
        ("bandwidth", Unit::Bandwidth, i64::from(o.bandwidth_mbps)),
        ("defense", Unit::Defense, 0),
    ] {
        if let Some(n) = beyond(c, key, unit, base, o)? {
            units.insert(unit, n);
        }
    }
    same("ip_num", 1)?;
    same("number", 1)?;
    // Renewal is the tenant's to ask for, as with every other family: none automatic.
    same("renew_auto", 0)?;
    if let Some(disks) = content_text(c, "harddisksValues") {
        if disks.split(',').map(str::trim).collect::<Vec<_>>() != [o.disk_gb.to_string()] {
            return Err(fail(format!(
                "参数错误：该线路仅售固定配置，harddisksValues 应为 {}",
                o.disk_gb
            )));
        }
    }
    Ok(units)
}

/// A `get_security_policy` row as the finance system writes it. `id` is the rule's
/// place in the list (the upstream's own number is not kept); `guid`, the upstream's
/// rule id, is what `server_del_hardpolicy` takes.
fn policy_json(r: &FirewallRule, n: i64, holding: i64) -> Value {
    let s = &r.spec;
    let direction = match s.direction {
        Direction::Inbound => "Inbound",
        Direction::Outbound => "Outbound",
    };
    let protocol = match s.protocol {
        RuleProtocol::Tcp => "tcp",
        RuleProtocol::Udp => "udp",
        RuleProtocol::Icmp => "icmp",
    };
    let verdict = match s.verdict {
        Verdict::Allow => "allow",
        Verdict::Deny => "deny",
    };
    json!({
        "id": n, "product_id": holding, "guid": r.id, "name": s.name, "weight": s.priority,
        "direction": direction, "protocol": protocol, "action": verdict,
        "remote_ip": s.remote, "local_port": s.local_port, "service_type": "server",
        "status": 1, "create_time": time(r.created_at),
    })
}

/// `server_add_hardpolicy`'s fields as a rule: the document's words exactly
/// (`Inbound`/`Outbound`, allow/deny in `operation`, tcp/udp/icmp), `weight` 100 when
/// not given, as the finance system does.
fn policy_spec(f: &Fields) -> Result<FirewallRuleSpec, Refusal> {
    let direction = match need(f, "direction")? {
        "Inbound" => Direction::Inbound,
        "Outbound" => Direction::Outbound,
        _ => return Err(bad("direction")),
    };
    let verdict = match need(f, "operation")? {
        "allow" => Verdict::Allow,
        "deny" => Verdict::Deny,
        _ => return Err(bad("operation")),
    };
    let protocol = match need(f, "protocol")? {
        "tcp" => RuleProtocol::Tcp,
        "udp" => RuleProtocol::Udp,
        "icmp" => RuleProtocol::Icmp,
        _ => return Err(bad("protocol")),
    };
    let priority = match get(f, "weight") {
        None => 100,
        Some(w) => w.parse::<u32>().map_err(|_| bad("weight"))?,
    };
    let rule = FirewallRuleSpec {
        name: get(f, "name").unwrap_or_default().to_string(),
        priority,
        direction,
        protocol,
        verdict,
        remote: need(f, "remote_ip")?.to_string(),
        local_port: need(f, "local_port")?.to_string(),
    };
    // Checked here too, to name the document's field rather than the neutral one.
    rule.check().map_err(|e| match e {
        idcgate_core::Error::InvalidInput { field, reason } => {
            let field = match field.as_str() {
                "remote" => "remote_ip",
                "priority" => "weight",
                other => other,
            };
            fail(format!("参数错误：{field} {reason}"))
        }
        other => fail(other.to_string()),
    })?;
    Ok(rule)
}

struct Call<'a> {
    front: &'a dyn Storefront,
    who: Shopper,
    fields: Fields,
    /// The bytes of the request's `file` (a multipart part or a urlencoded value), as
    /// sent.
    file: Option<Vec<u8>>,
}

/// A read answering the offerings `json` shows, in their order.
fn rows(
    offerings: &[Offering],
    json: impl FnMut(&Offering) -> Option<Value>,
) -> (&'static str, Value) {
    (OK_READ, offerings.iter().filter_map(json).collect())
}

impl Call<'_> {
    /// The cloud lines and packages (what `getlines` and `create_server` sell).
    async fn servers_offered(&self) -> Result<Vec<Offering>, Refusal> {
        self.family_offered(Machine::Cloud).await
    }

    async fn family_offered(&self, fam: Machine) -> Result<Vec<Offering>, Refusal> {
        let mut all = self.offered(ResourceKind::Server).await?;
        all.retain(|o| Machine::of(o.server_kind) == fam);
        Ok(all)
    }

    /// The tenant's server holding `guid` of family `fam`; one of another family is
    /// not found, as the upstream's per-family order ids are.
    async fn machine(&self, fam: Machine) -> Result<Holding, Refusal> {
        let h = self.held(ResourceKind::Server).await?;
        let all = self.offered(ResourceKind::Server).await.unwrap_or_default();
        if machine_of(&h, &all) != fam {
            return Err(Refusal::new(RefusalKind::NotFound, "未找到产品记录"));
        }
        Ok(h)
    }

    /// `getservers`, `lease_orders`, `idc_orders`: the tenant's servers of one family
    /// (`pages` counts the servers of every family: they are one list here).
    async fn machine_orders(&self, fam: Machine) -> Result<(&'static str, Value), Refusal> {
        let (total, holdings) = self
            .front
            .holdings(
                &self.who,
                ResourceKind::Server,
                self.page()?,
                PAGE_SIZE as u32,
            )
            .await?;
        let all = self.offered(ResourceKind::Server).await.unwrap_or_default();
        let rows: Vec<Value> = holdings
            .iter()
            .filter(|h| machine_of(h, &all) == fam)
            .map(|h| {
                let o = all.iter().find(|o| o.id == h.offering);
                match fam {
                    Machine::Cloud => server_json(h, o),
                    _ => machine_json(h, o, fam),
                }
            })
            .collect();
        let pages = usize::try_from(total).unwrap_or(0).div_ceil(PAGE_SIZE);
        Ok((OK_READ, json!({"pages": pages, "servers": rows})))
    }

    async fn machine_row(&self, fam: Machine) -> Result<(&'static str, Value), Refusal> {
        let h = self.machine(fam).await?;
        let all = self.offered(ResourceKind::Server).await.unwrap_or_default();
        let o = all.iter().find(|o| o.id == h.offering);
        Ok((
            OK_READ,
            match fam {
                Machine::Cloud => server_json(&h, o),
                _ => machine_json(&h, o, fam),
            },
        ))
    }

    /// `lease_product`, `idc_product`: a family's products as the tenant buys them.
    async fn machine_products(&self, fam: Machine) -> Result<(&'static str, Value), Refusal> {
        let products = self.family_offered(fam).await?;
        Ok(rows(&products, |o| machine_product_json(o, fam)))
    }

    /// `create_order` for a dedicated server or colocation: the product is its own
    /// line of one fixed configuration; a dedicated server installs the product's
    /// system (`system_guid` = the product), as a cloud line does.
    async fn create_machine(&self, fam: Machine) -> Result<(&'static str, Value), Refusal> {
        let f = &self.fields;
        if fam == Machine::Lease && need(f, "system_guid")? != need(f, "product_guid")? {
            return Err(fail("操作系统不存在或不适用于该线路"));
        }
        let offerings = self.family_offered(fam).await?;
        let (o, c, m) = product_order(f, &offerings)?;
        // Bandwidth, IPs and defense beyond the base are units the product may sell.
        let ip_key = if fam == Machine::Lease {
            "ip_num"
        } else {
            "ipnum"
        };
        let other_ip = if fam == Machine::Lease {
            "ipnum"
        } else {
            "ip_num"
        };
        fixed(&c, other_ip, 1)?;
        let mut units = Units::new();
        for (key, unit, base) in [
            ("bandwidth", Unit::Bandwidth, i64::from(o.bandwidth_mbps)),
            (ip_key, Unit::Ip, 1),
            ("defense", Unit::Defense, 0),
        ] {
            if let Some(n) = beyond(&c, key, unit, base, o)? {
                units.insert(unit, n);
            }
        }
        if content_text(&c, "power").is_some() {
            return Err(fail("参数错误：该产品仅售固定配置，power 不可选"));
        }
        let mut options = unit_options(&units);
        if let Some(p) = content_text(&c, "loginPassword") {
            options.insert("content.loginPassword".to_string(), p);
        }
        self.buy(o.id, m, options).await
    }

    /// Buys `months` of `offering` for the request's `order_id` and `user_id`, and
    /// answers as `create_order` does.
    async fn buy(
        &self,
        offering: i64,
        months: u32,
        options: std::collections::BTreeMap<String, String>,
    ) -> Result<(&'static str, Value), Refusal> {
        let f = &self.fields;
        // The document's `user_id` is the downstream customer's number (`int`).
        let user = get(f, "user_id").or_else(|| get(f, "client_user_id"));
        if user.is_some_and(|u| u.len() > 20 || !u.bytes().all(|b| b.is_ascii_digit())) {
            return Err(bad("user_id"));
        }
        let h = self
            .front
            .buy(
                &self.who,
                &Purchase {
                    offering,
                    months,
                    client_order_id: get(f, "order_id").map(str::to_string),
                    client_user_id: user.map(str::to_string),
                    options,
                },
            )
            .await?;
        Ok((
            OK_WRITE,
            json!({"order_id": get(f, "order_id").unwrap_or_default(), "ids": [h.guid], "money": yuan(h.paid)}),
        ))
    }

    async fn offered(&self, kind: ResourceKind) -> Result<Vec<Offering>, Refusal> {
        self.front.offerings(&self.who, kind).await
    }

    fn page(&self) -> Result<u32, Refusal> {
        match get(&self.fields, "page") {
            None => Ok(1),
            Some(p) => Ok(p.parse::<u32>().map_err(|_| bad("page"))?.max(1)),
        }
    }

    /// `hosting_product`, `sql_product`: every product of one kind.
    async fn site_products(&self, site: Site) -> Result<(&'static str, Value), Refusal> {
        let products = self.offered(site.kind()).await?;
        Ok(rows(&products, |o| site_product_json(o, &products, site)))
    }

    async fn site_orders(&self, site: Site) -> Result<(&'static str, Value), Refusal> {
        let (total, holdings) = self
            .front
            .holdings(&self.who, site.kind(), self.page()?, PAGE_SIZE as u32)
            .await?;
        let offerings = self.offered(site.kind()).await.unwrap_or_default();
        let rows: Vec<Value> = holdings
            .iter()
            .map(|h| site_json(h, offerings.iter().find(|o| o.id == h.offering), site))
            .collect();
        let pages = usize::try_from(total).unwrap_or(0).div_ceil(PAGE_SIZE);
        Ok((OK_READ, json!({"pages": pages, "servers": rows})))
    }

    /// The tenant's holding `guid` of `kind`; one of another kind is not found.
    async fn held(&self, kind: ResourceKind) -> Result<Holding, Refusal> {
        let h = self.front.holding(&self.who, guid(&self.fields)?).await?;
        if h.kind != kind {
            return Err(Refusal::new(RefusalKind::NotFound, "未找到产品记录"));
        }
        Ok(h)
    }

    async fn site_row(&self, site: Site) -> Result<(&'static str, Value), Refusal> {
        let h = self.held(site.kind()).await?;
        let offerings = self.offered(site.kind()).await.unwrap_or_default();
        Ok((
            OK_READ,
            site_json(&h, offerings.iter().find(|o| o.id == h.offering), site),
        ))
    }

    /// `create_order` for a hosting site or database: the product is its own line, its
    /// configuration is fixed (traffic, database size), the term one the product sells.
    async fn create_site(&self, site: Site) -> Result<(&'static str, Value), Refusal> {
        let f = &self.fields;
        let offerings = self.offered(site.kind()).await?;
        let (o, c, m) = product_order(f, &offerings)?;
        if site == Site::Hosting {
            fixed(&c, "flow", i64::from(o.bandwidth_mbps))?;
        } else {
            fixed(&c, "db", 0)?;
        }
        let mut options = std::collections::BTreeMap::new();
        for key in site.choices() {
            let value = match key.strip_prefix("content.") {
                Some(sub) => content_text(&c, sub),
                None => get(f, key).map(str::to_string),
            };
            if let Some(v) = value {
                options.insert((*key).to_string(), v);
            }
        }
        self.buy(o.id, m, options).await
    }

    /// `hosting_operate` / `sql_operate`: the money operations through the storefront
    /// (renew, refund, upgrade), management through the upstream's hosting or database
    /// capability, a backup by its id and the bundled database through their own
    /// paths, the panel's listed sub-operations passed through; any other answers that
    /// it is not offered.
    async fn operate(&self, site: Site, op: &str) -> Result<(&'static str, Value), Refusal> {
        let f = &self.fields;
        let action = match (site, op) {
            (Site::Hosting, "hosting_start") => SiteAction::Start,
            (Site::Hosting, "hosting_stop") => SiteAction::Stop,
            (Site::Hosting, "hosting_edit_pwd") => {
                SiteAction::Password(need(f, "ftp_password")?.to_string())
            }
            (Site::Hosting, "hosting_domain_list") => SiteAction::Domains,
            (Site::Hosting, "hosting_add_domain") => {
                SiteAction::AddDomain(need(f, "domainText")?.to_string())
            }
            (Site::Hosting, "hosting_del_domain") => {
                let name = need(f, "name")?;
                SiteAction::RemoveDomain(match get(f, "port").filter(|p| *p != "80") {
                    Some(port) => format!("{name}:{port}"),
                    None => name.to_string(),
                })
            }
            (Site::Sql, "sql_reset_password") => {
                SiteAction::Password(need(f, "password")?.to_string())
            }
            (Site::Hosting, "hosting_del_backup") => return self.del_backup().await,
            (Site::Hosting, "hosting_add_database") => return self.add_database().await,
            (_, "hosting_renew" | "sql_renew") => return self.renew_site(site).await,
            (_, "hosting_upgrade" | "sql_upgrade") => return self.upgrade_site(site).await,
            (_, "hosting_refund" | "sql_refund") => {
                let h = self.held(site.kind()).await?;
                let back = self.front.refund(&self.who, h.guid).await?;
                return Ok((OK_WRITE, json!({"id": h.guid, "money": yuan(back)})));
            }
            _ if crate::panel::passes(site.family(), op) => return self.panel(site, op).await,
            _ => {
                return Err(Refusal::new(
                    RefusalKind::Unsupported,
                    format!("该操作暂不支持 ({op} is not offered by this provider)"),
                ))
            }
        };
        let h = self.held(site.kind()).await?;
        let answer = self.front.site(&self.who, h.guid, &action).await?;
        if action != SiteAction::Domains {
            return Ok((OK_WRITE, Value::String(String::new())));
        }
        let rows: Vec<Value> = answer
            .iter()
            .map(|d| {
                let (name, port) = d.split_once(':').unwrap_or((d, "80"));
                json!({"pid": h.guid.to_string(), "name": name, "port": port})
            })
            .collect();
        Ok((OK_READ, Value::Array(rows)))
    }

    /// A panel sub-operation passed to the upstream of the tenant's own holding: only
    /// the fields its row lists go (the tenant's `guid` names the holding here and is
    /// replaced upstream by the holding's own order), answered with the upstream's data.
    async fn panel(&self, site: Site, op: &str) -> Result<(&'static str, Value), Refusal> {
        let family = site.family();
        // An upload's file goes as bytes, as it came.
        let file = self
            .file
            .as_ref()
            .filter(|_| op == "hosting_upload")
            .map(|bytes| PanelFile {
                name: get(&self.fields, "filename")
                    .unwrap_or_default()
                    .to_string(),
                bytes: bytes.clone(),
            });
        let mut never = vec!["appid", "appkey", "action", "operate", "guid"];
        if file.is_some() {
            never.extend([FILE, "filename"]);
        }
        let given: Vec<(String, String)> = self
            .fields
            .iter()
            .filter(|(k, _)| !never.contains(&k.as_str()))
            .cloned()
            .collect();
        let fields = crate::panel::fields(family, op, &given).map_err(|(field, _)| bad(&field))?;
        let h = self.held(site.kind()).await?;
        let call = PanelCall {
            operation: op.to_string(),
            fields,
            file,
        };
        let data = self.front.panel(&self.who, h.guid, &call).await?;
        let msg = if crate::panel::reads(family, op) {
            OK_READ
        } else {
            OK_WRITE
        };
        Ok((msg, data))
    }

    /// `get_php_version` / `hosting_get_soft_find` of a line (`line_guid`: a hosting
    /// or database product, as `hosting_lines` lists them), asked of the product's
    /// upstream on its own line.
    async fn line_read(&self, action: &str) -> Result<(&'static str, Value), Refusal> {
        let line = need(&self.fields, "line_guid")?
            .parse::<i64>()
            .ok()
            .filter(|l| *l > 0)
            .ok_or_else(|| bad("line_guid"))?;
        let given: Fields = self
            .fields
            .iter()
            .filter(|(k, _)| !["appid", "appkey", "action"].contains(&k.as_str()))
            .cloned()
            .collect();
        let fields = crate::panel::line_fields(action, &given).map_err(|(field, _)| bad(&field))?;
        let call = PanelCall::new(action, fields);
        Ok((
            OK_READ,
            self.front.line_panel(&self.who, line, &call).await?,
        ))
    }

    /// `hosting_del_backup`: its `guid` is a backup record's id (the document's
    /// reading, see spec.tsv), unique over the upstream account. The tenant's own live
    /// hosting holdings are searched for the one whose backup list shows it, and it is
    /// deleted there (the capability checks that list again before sending); an id no
    /// holding of the tenant's lists is not found, and nothing is deleted.
    async fn del_backup(&self) -> Result<(&'static str, Value), Refusal> {
        let backup = guid(&self.fields)?.to_string();
        let list = PanelCall::new("hosting_backup_list", Vec::new());
        let mut page = 1;
        loop {
            let (total, holdings) = self
                .front
                .holdings(&self.who, ResourceKind::HostingSite, page, PAGE_SIZE as u32)
                .await?;
            for h in holdings.iter().filter(|h| h.state == HoldingState::Active) {
                let Ok(rows) = self.front.panel(&self.who, h.guid, &list).await else {
                    continue;
                };
                let listed = rows.as_array().is_some_and(|rows| {
                    rows.iter().any(|r| match &r["id"] {
                        Value::String(s) => *s == backup,
                        Value::Number(n) => n.to_string() == backup,
                        _ => false,
                    })
                });
                if listed {
                    let call = PanelCall::new(
                        "hosting_del_backup",
                        vec![(crate::panel::RECORD.to_string(), backup.clone())],
                    );
                    let data = self.front.panel(&self.who, h.guid, &call).await?;
                    return Ok((OK_WRITE, data));
                }
            }
            let seen = u64::from(page).saturating_mul(PAGE_SIZE as u64);
            if holdings.is_empty() || seen >= total {
                return Err(Refusal::new(RefusalKind::NotFound, "备份不存在"));
            }
            page += 1;
        }
    }

    /// `hosting_add_database`: the site's bundled database, which the tenant then holds
    /// and manages (`getsql`, `sql_operate`) by the `id` answered, as the finance
    /// system answers it.
    async fn add_database(&self) -> Result<(&'static str, Value), Refusal> {
        let f = &self.fields;
        let h = self.held(ResourceKind::HostingSite).await?;
        // A password is taken as given: spaces may be part of it.
        let password = f
            .iter()
            .find(|(k, _)| k == "db_password")
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| fail("缺少必要参数：db_password"))?;
        let db = self
            .front
            .add_bundled_database(&self.who, h.guid, get(f, "db_type"), password)
            .await?;
        Ok((OK_WRITE, json!({ "id": db.guid })))
    }

    /// `hosting_upgrade` / `sql_upgrade` to `new_product_guid`, one of the product's
    /// upgrades, through the storefront's money path (the price difference for the time
    /// left, from the catalog). Traffic (`flow`) is the product's: more is not sold.
    async fn upgrade_site(&self, site: Site) -> Result<(&'static str, Value), Refusal> {
        let f = &self.fields;
        if get(f, "flow").is_some() {
            return Err(Refusal::new(
                RefusalKind::Unsupported,
                "流量随产品固定，不单独升级 (more traffic is not offered: it is the product's)",
            ));
        }
        let to = need(f, "new_product_guid")?
            .parse::<i64>()
            .map_err(|_| bad("new_product_guid"))?;
        let h = self.held(site.kind()).await?;
        let offerings = self.offered(site.kind()).await?;
        let current = offerings
            .iter()
            .find(|o| o.id == h.offering)
            .ok_or_else(|| fail("该订单的产品已下架，不可升级"))?;
        if !current.upgrades.contains(&to) {
            return Err(Refusal::new(
                RefusalKind::Unsupported,
                "该产品不能升级到所选产品 (no upgrade from this product to that one)",
            ));
        }
        let upgraded = self
            .front
            .upgrade(&self.who, h.guid, to, get(f, "client_order_id"))
            .await?;
        Ok((
            OK_WRITE,
            json!({"id": h.guid, "money": yuan(upgraded.charged)}),
        ))
    }

    /// `renewLength` months, or as many as take the order to `newEndTimeStr` (the
    /// document's required field; a date no whole number of months reaches is refused).
    async fn renew_site(&self, site: Site) -> Result<(&'static str, Value), Refusal> {
        let f = &self.fields;
        let h = self.held(site.kind()).await?;
        let m = match get(f, "renewLength") {
            Some(m) => months(Some(m), "renewLength")?,
            None => {
                let wanted = china::date_ms(
                    parse_time(need(f, "newEndTimeStr")?)
                        .ok_or_else(|| bad("newEndTimeStr"))?
                        .as_millisecond(),
                );
                let end = h.expires_at.map_or(0, |t| t.as_millisecond());
                (1..=MAX_MONTHS)
                    .find(|m| china::date_ms(china::add_months_ms(end, i64::from(*m))) == wanted)
                    .ok_or_else(|| fail("参数错误：newEndTimeStr 须为到期时间加整月"))?
            }
        };
        let renewed = self
            .front
            .renew(&self.who, h.guid, m, get(f, "client_order_id"))
            .await?;
        Ok((
            OK_WRITE,
            json!({"id": h.guid, "end_time": time(renewed.expires_at), "money": yuan(renewed.charged)}),
        ))
    }

    async fn run(&self, name: &str) -> Result<(&'static str, Value), Refusal> {
        let f = &self.fields;
        // Every per-order server action is checked against the order's family first,
        // then done alike for the three.
        let normalized = match Machine::action(name) {
            Some((fam, op)) => {
                self.machine(fam).await?;
                op
            }
            None => name.to_string(),
        };
        let name = normalized.as_str();
        match name {
            "getzones" => Ok((
                OK_READ,
                json!([{"status": 1, "guid": ZONE, "name": "默认区域", "identityStatus": 0, "whiteListStatus": 0, "sort": 1}]),
            )),
            // Systems of every server family: a dedicated server installs them too.
            "getsystems" => Ok((
                OK_READ,
                systems_json(&self.offered(ResourceKind::Server).await?),
            )),
            "getlines" => Ok(rows(&self.servers_offered().await?, line_json)),
            "getproduct" => Ok(rows(&self.servers_offered().await?, package_json)),
            "getservers" => self.machine_orders(Machine::Cloud).await,
            "lease_orders" => self.machine_orders(Machine::Lease).await,
            "idc_orders" => self.machine_orders(Machine::Idc).await,
            "getserver" => self.machine_row(Machine::Cloud).await,
            "getlease" => self.machine_row(Machine::Lease).await,
            "getidc" => self.machine_row(Machine::Idc).await,
            "lease_lines" => Ok(rows(
                &self.family_offered(Machine::Lease).await?,
                machine_line_json,
            )),
            "idc_lines" => Ok(rows(
                &self.family_offered(Machine::Idc).await?,
                machine_line_json,
            )),
            "lease_product" => self.machine_products(Machine::Lease).await,
            "idc_product" => self.machine_products(Machine::Idc).await,
            // A dedicated server's disks are its product's: none to choose.
            "lease_harddisk" => Ok((OK_READ, Value::Array(vec![]))),
            "create_order#create_lease" => self.create_machine(Machine::Lease).await,
            "create_order#create_idc" => self.create_machine(Machine::Idc).await,
            "lease_upgrade" => self.add_units(Machine::Lease).await,
            "idc_upgrade" => self.add_units(Machine::Idc).await,
            // Databases are sold on hosting lines too (the document's `sql_product`
            // names a hosting line): every hosting and database product is one.
            "get_php_version" | "hosting_get_soft_find" => self.line_read(name).await,
            "hosting_lines" => {
                let mut lines = self.offered(ResourceKind::HostingSite).await?;
                lines.extend(self.offered(ResourceKind::Database).await?);
                Ok((OK_READ, lines.iter().map(site_line_json).collect()))
            }
            "hosting_product" => self.site_products(Site::Hosting).await,
            "sql_product" => self.site_products(Site::Sql).await,
            "hosting_orders" => self.site_orders(Site::Hosting).await,
            "sql_orders" => self.site_orders(Site::Sql).await,
            "gethosting" => self.site_row(Site::Hosting).await,
            "getsql" => self.site_row(Site::Sql).await,
            "create_order#create_hosting" => self.create_site(Site::Hosting).await,
            "create_order#create_database" => self.create_site(Site::Sql).await,
            _ if name.starts_with("hosting_operate#") => {
                self.operate(Site::Hosting, &name["hosting_operate#".len()..])
                    .await
            }
            _ if name.starts_with("sql_operate#") => {
                self.operate(Site::Sql, &name["sql_operate#".len()..]).await
            }
            "create_order#create_server" => self.create_server().await,
            "server_start" => self.act(ServerAction::Power(PowerAction::Start)).await,
            "server_stop" => self.act(ServerAction::Power(PowerAction::Stop)).await,
            "server_restart" => self.act(ServerAction::Power(PowerAction::Reboot)).await,
            "server_setpsw" => {
                let password = need(f, "password")?.to_string();
                self.act(ServerAction::Password(password)).await
            }
            "server_install" => {
                let g = guid(f)?;
                let system = need(f, "systemID")?;
                // The login password is never shown (getserver's loginPassword is
                // empty), so a client keeping "the current one" sends it empty: then
                // the password stays as it is.
                let password = get(f, "password").unwrap_or_default().to_string();
                let h = self.front.holding(&self.who, g).await?;
                let prefix = format!("{}:", h.offering);
                let image = system
                    .strip_prefix(&prefix)
                    .filter(|i| !i.is_empty())
                    .ok_or_else(|| fail("操作系统不存在或不适用于该线路"))?
                    .to_string();
                self.front
                    .act(&self.who, g, &ServerAction::Reinstall { image, password })
                    .await?;
                Ok((OK_WRITE, Value::String(String::new())))
            }
            "server_getvncurl" => {
                let session = self
                    .front
                    .act(&self.who, guid(f)?, &ServerAction::Console)
                    .await?;
                let url = session.map(|s| s.url).unwrap_or_default();
                Ok((OK_READ, json!({ "url": url })))
            }
            "server_renew" => {
                let g = guid(f)?;
                // Dedicated and colocation renewals name the term `months`.
                let m = match get(f, "renewLength") {
                    Some(m) => months(Some(m), "renewLength")?,
                    None => months(get(f, "months"), "months")?,
                };
                let h = self
                    .front
                    .renew(&self.who, g, m, get(f, "client_order_id"))
                    .await?;
                Ok((
                    OK_WRITE,
                    json!({"id": h.guid, "end_time": time(h.expires_at), "money": yuan(h.charged)}),
                ))
            }
            "server_upgrade" => self.upgrade_server().await,
            "server_setvnc" => {
                self.machine(Machine::Cloud).await?;
                let password = need(f, "password")?.to_string();
                self.act(ServerAction::ConsolePassword(password)).await
            }
            "get_security_policy" => {
                let g = self.machine(Machine::Cloud).await?.guid;
                let rules = self.front.rules(&self.who, g).await?;
                Ok((
                    OK_READ,
                    rules
                        .iter()
                        .zip(1..)
                        .map(|(r, n)| policy_json(r, n, g))
                        .collect(),
                ))
            }
            "server_add_hardpolicy" => {
                let g = self.machine(Machine::Cloud).await?.guid;
                let rule = policy_spec(f)?;
                let added = self.front.add_rule(&self.who, g, &rule).await?;
                Ok((OK_WRITE, json!({ "guid": added.id })))
            }
            "server_del_hardpolicy" => {
                let g = self.machine(Machine::Cloud).await?.guid;
                let rule = need(f, "policy_guid")?;
                self.front.delete_rule(&self.who, g, rule).await?;
                Ok((OK_WRITE, Value::String(String::new())))
            }
            "get_server_chart" => {
                let g = guid(f)?;
                let at = |key: &str| {
                    need(f, key)?
                        .parse::<i64>()
                        .ok()
                        .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
                        .ok_or_else(|| bad(key))
                };
                let (from, to) = (at("start_time")?, at("end_time")?);
                let samples = self.front.traffic(&self.who, g, from, to).await?;
                let label =
                    |t: jiff::Timestamp| china::at(t).strftime("%Y-%m-%d %H:%M").to_string();
                Ok((
                    OK_READ,
                    json!({
                        "date": samples.iter().map(|p| label(p.at)).collect::<Vec<_>>(),
                        "in": samples.iter().map(|p| p.in_bps).collect::<Vec<_>>(),
                        "out": samples.iter().map(|p| p.out_bps).collect::<Vec<_>>(),
                        "start_time": label(from), "end_time": label(to), "unit": "bps",
                    }),
                ))
            }
            "server_refund" => {
                let g = guid(f)?;
                let back = self.front.refund(&self.who, g).await?;
                Ok((OK_WRITE, json!({"id": g, "money": yuan(back)})))
            }
            _ => Err(Refusal::new(
                RefusalKind::Unsupported,
                format!("该接口暂不支持 ({name} is not offered by this provider)"),
            )),
        }
    }

    async fn act(&self, action: ServerAction) -> Result<(&'static str, Value), Refusal> {
        self.front
            .act(&self.who, guid(&self.fields)?, &action)
            .await?;
        Ok((OK_WRITE, Value::String(String::new())))
    }

    /// `server_upgrade` takes the new configuration in absolute values (unchanged
    /// ones as they are, bandwidth and defense as `getserver` shows them: the base plus
    /// the units held). With CPU, memory and disks unchanged, more bandwidth or defense
    /// buys the difference as units the product sells, paid for the time left
    /// (`Storefront::add_units`); otherwise it is the configuration of one of the
    /// line's upgrades, a product on sale, whose price difference is charged for the
    /// time left, keeping the units held.
    async fn upgrade_server(&self) -> Result<(&'static str, Value), Refusal> {
        let f = &self.fields;
        let g = guid(f)?;
        let h = self.front.holding(&self.who, g).await?;
        if h.kind != ResourceKind::Server {
            return Err(Refusal::new(RefusalKind::NotFound, "订单不存在"));
        }
        let offerings = self.servers_offered().await?;
        let current = offerings
            .iter()
            .find(|o| o.id == h.offering)
            .ok_or_else(|| fail("该订单的线路已关闭，不可升级"))?;
        let value = |key: &str, now: i64| -> Result<i64, Refusal> {
            match get(f, key) {
                None => Ok(now),
                Some(v) => v.parse::<i64>().map_err(|_| bad(key)),
            }
        };
        let held = |u: Unit| i64::from(h.units.get(&u).copied().unwrap_or(0));
        // What it has now: the product's bandwidth plus the units held, and the
        // defense held.
        let now_bw = i64::from(current.bandwidth_mbps) + held(Unit::Bandwidth);
        let now_def = held(Unit::Defense);
        let cpu = value("cpu", i64::from(current.cpu))?;
        let memory = value("memory", i64::from(current.ram_mb / 1024))?;
        let bandwidth = value("bandwidth", now_bw)?;
        let defense = value("defense", now_def)?;
        let disks: Vec<i64> = match get(f, "harddisks") {
            None => vec![i64::from(current.disk_gb)],
            Some(d) => d
                .split(',')
                .map(|x| x.trim().parse::<i64>().map_err(|_| bad("harddisks")))
                .collect::<Result<_, _>>()?,
        };
        let same_machine = |o: &Offering| {
            (i64::from(o.cpu), i64::from(o.ram_mb / 1024)) == (cpu, memory)
                && disks == [i64::from(o.disk_gb)]
        };
        if same_machine(current) {
            return self
                .more_units(
                    &h,
                    [
                        ("bandwidth", bandwidth, now_bw),
                        ("defense", defense, now_def),
                    ],
                )
                .await;
        }
        // Another product: the units held move with the order, so bandwidth and
        // defense are the new product's base plus them.
        let fits = |o: &Offering| {
            same_machine(o)
                && i64::from(o.bandwidth_mbps) + held(Unit::Bandwidth) == bandwidth
                && defense == now_def
        };
        let to = offerings
            .iter()
            .filter(|o| current.upgrades.contains(&o.id))
            .find(|o| fits(o))
            .ok_or_else(|| {
                Refusal::new(
                    RefusalKind::Unsupported,
                    "该线路没有此配置可升级 (no upgrade of this line has that configuration)",
                )
            })?;
        let upgraded = self
            .front
            .upgrade(&self.who, g, to.id, get(f, "client_order_id"))
            .await?;
        Ok((OK_WRITE, json!({"id": g, "money": yuan(upgraded.charged)})))
    }

    /// A cloud `server_upgrade` raising only bandwidth or defense: the differences
    /// (`(field, asked, has now)`) as units, each from 0 to `MAX_UNITS` and never
    /// less than now; answered with what it cost, as the upstream. No difference is
    /// refused, unless under a `client_order_id` that already added units: that
    /// upgrade asked again (it reached this configuration), charged nothing. Under a
    /// used id an upgrade is known by its increment, as `lease_upgrade`'s: the same
    /// difference again (its answer lost before the units counted) is that upgrade,
    /// another difference is refused.
    async fn more_units(
        &self,
        h: &Holding,
        asked: [(&str, i64, i64); 2],
    ) -> Result<(&'static str, Value), Refusal> {
        let mut add = Units::new();
        for ((key, want, now), unit) in asked.into_iter().zip([Unit::Bandwidth, Unit::Defense]) {
            let more = want.checked_sub(now).ok_or_else(|| bad(key))?;
            if more < 0 {
                return Err(fail(format!("参数错误：{key} 不可低于 {now}")));
            }
            let more = u32::try_from(more)
                .ok()
                .filter(|n| *n <= MAX_UNITS)
                .ok_or_else(|| bad(key))?;
            if more > 0 {
                add.insert(unit, more);
            }
        }
        let coid = get(&self.fields, "client_order_id");
        if add.is_empty() && coid.is_none() {
            return Err(fail("升级配置与当前配置相同"));
        }
        let upgraded = self.front.add_units(&self.who, h.guid, &add, coid).await?;
        Ok((
            OK_WRITE,
            json!({"id": h.guid, "money": yuan(upgraded.charged)}),
        ))
    }

    /// `lease_upgrade` / `idc_upgrade`: increments of IPs, bandwidth and defense
    /// (`ipnumAdd`, `bandwidthAdd`, `defenseAdd`; absent is 0), each a whole number
    /// from 0 to `MAX_UNITS`, not all 0; answered with what it cost, as the upstream.
    async fn add_units(&self, fam: Machine) -> Result<(&'static str, Value), Refusal> {
        let f = &self.fields;
        let h = self.machine(fam).await?;
        let mut add = Units::new();
        for (key, unit) in [
            ("ipnumAdd", Unit::Ip),
            ("bandwidthAdd", Unit::Bandwidth),
            ("defenseAdd", Unit::Defense),
        ] {
            let Some(v) = get(f, key) else { continue };
            let n = v
                .parse::<u32>()
                .ok()
                .filter(|n| *n <= MAX_UNITS)
                .ok_or_else(|| bad(key))?;
            if n > 0 {
                add.insert(unit, n);
            }
        }
        if add.is_empty() {
            return Err(fail("升级配置不正确"));
        }
        let upgraded = self
            .front
            .add_units(&self.who, h.guid, &add, get(f, "client_order_id"))
            .await?;
        Ok((
            OK_WRITE,
            json!({"id": h.guid, "money": yuan(upgraded.charged)}),
        ))
    }

    async fn create_server(&self) -> Result<(&'static str, Value), Refusal> {
        let f = &self.fields;
        let line = need(f, "line_guid")?;
        let system = need(f, "system_guid")?;
        let c = content(f)?;
        let offering_id = line.parse::<i64>().map_err(|_| bad("line_guid"))?;
        let offerings = self.servers_offered().await?;
        let o = offerings
            .iter()
            .find(|o| o.id == offering_id && !o.terms.is_empty())
            .ok_or_else(|| fail("线路不存在或已关闭"))?;
        if system != line {
            return Err(fail("操作系统不存在或不适用于该线路"));
        }
        let units = check_config(&c, o)?;
        let term = content_int(&c, "months")?.map(|m| m.to_string());
        let m = months(term.as_deref(), "content.months")?;
        self.buy(o.id, m, unit_options(&units)).await
    }
}

async fn answer(
    front: &dyn Storefront,
    peer: IpAddr,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(&'static str, Value), Refusal> {
    // A file part's name is the upload's `filename`, as the finance system reads it.
    let mut fields = form::decode_body(body, content_type, Some("filename"));
    // A file is data: its bytes travel on as they are (`PanelCall::file`), and the
    // fields lose their text copy of it (lossy, or decoded in a charset).
    let file = match content_type.and_then(form::multipart_boundary) {
        Some(_) => form::multipart_file(body, content_type, FILE).map(|p| p.bytes),
        None => form::raw_value(body, FILE),
    };
    if let Some(bytes) = &file {
        if bytes.len() > MAX_CHUNK {
            return Err(chunk_too_long());
        }
        fields.retain(|(k, _)| !k.eq_ignore_ascii_case(FILE));
    }
    let (Some(appid), Some(appkey), Some(action)) = (
        get(&fields, "appid"),
        get(&fields, "appkey"),
        get(&fields, "action"),
    ) else {
        return Err(fail("缺少必要参数"));
    };
    screen(&fields)?;
    let who = front.authenticate(appid, appkey, peer).await?;
    let name = if is_dispatcher(action) {
        let field = discriminator_field(action);
        format!("{action}#{}", need(&fields, field)?)
    } else {
        action.to_string()
    };
    if spec().find(&name).filter(|a| a.action == action).is_none() {
        return Err(fail("请求错误"));
    }
    let call = Call {
        front,
        who,
        fields,
        file,
    };
    call.run(&name).await
}

#[async_trait]
impl Dialect for ZonkvmDialect {
    fn path(&self) -> &'static str {
        "/api/same/index"
    }

    async fn answer(
        &self,
        front: &dyn Storefront,
        peer: IpAddr,
        content_type: Option<&str>,
        body: &[u8],
    ) -> DialectAnswer {
        envelope(answer(front, peer, content_type, body).await)
    }

    fn unreadable(&self, why: &str) -> DialectAnswer {
        envelope(Err(fail(format!("请求无法读取 ({why})"))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_fields_are_found_anywhere() {
        for k in [
            "price",
            "content.price",
            "content[money]",
            "Amount",
            "coupon_id",
            "price[]",
            "content[price][]",
            "unit_price",
            "totalPrice",
            "pay_money",
            "realprice",
            "amount_total",
            "content.x.fee",
        ] {
            assert!(is_price_field(k), "{k}");
        }
        for k in [
            "guid",
            "months",
            "content.months",
            "password",
            "feedback",
            "content[harddisksValues]",
            "new_product_guid",
            "client_order_id",
        ] {
            assert!(!is_price_field(k), "{k}");
        }
    }

    #[test]
    fn discounts_make_every_term_its_catalog_price() {
        let o = Offering {
            id: 3,
            name: "p".into(),
            title: "p".into(),
            kind: ResourceKind::Server,
            server_kind: idcgate_core::ServerKind::Cloud,
            cpu: 1,
            ram_mb: 1024,
            disk_gb: 40,
            bandwidth_mbps: 5,
            terms: vec![
                (1, Money("37.13".parse().unwrap())),
                (3, Money("111.39".parse().unwrap())),
                (12, Money("423.28".parse().unwrap())),
            ],
            images: vec![],
            upgrades: vec![],
            units: vec![],
        };
        let (monthly, discounts) = monthly_and_discounts(&o, Decimal::ONE).unwrap();
        for ((m, price), d) in o.terms.iter().zip(discounts) {
            let d: Decimal = d["discount"].as_str().unwrap().parse().unwrap();
            let charged = (monthly * Decimal::from(*m) * d)
                .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
            assert_eq!(charged, price.0, "{m} months");
        }
    }
}
