//! Core capabilities over the West client: Registrar, Dns, Compute, WebHosting, Mail,
//! Databases (MSSQL) and Billing. Every method goes through the client's exchange, so
//! signing, encoding and error mapping stay in one place; an answer whose payload lacks
//! what a method needs is the exchange's to judge (`call_kv_as`: a read is retried, a
//! write is an unknown outcome). Every listing fetches all pages.

use crate::client::WestClient;
use crate::spec::spec;
use async_trait::async_trait;
use idcgate_core::capability::{
    Billing, Compute, Databases, Dns, Mail, Params, Registrar, WebHosting,
};
use idcgate_core::*;
use jiff::Timestamp;
use rand::SeedableRng;
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;

/// Page size for listings (the live API accepts up to a few hundred).
const PAGE: usize = 500;
/// 5 million items: far beyond any real account.
const MAX_PAGES: usize = 10_000;

pub(crate) fn s(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn n(v: &Value, k: &str) -> i64 {
    s(v, k).parse().unwrap_or_default()
}

pub(crate) fn strs(v: &Value, k: &str) -> Vec<String> {
    v.get(k)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// An amount of an answer; `Err` says why the answer is unreadable.
pub(crate) fn money(v: &Value, k: &str) -> std::result::Result<Money, String> {
    Decimal::from_str(s(v, k).trim())
        .map(Money)
        .map_err(|_| format!("field {k} is not an amount"))
}

/// A non-empty field of an answer (the id of what a write created).
pub(crate) fn need(v: &Value, k: &str) -> std::result::Result<String, String> {
    Some(s(v, k))
        .filter(|x| !x.is_empty())
        .ok_or_else(|| format!("the answer has no {k}"))
}

/// West dates and times are China time (UTC+8).
pub(crate) fn china_time(text: &str) -> Option<Timestamp> {
    let tz = jiff::tz::TimeZone::fixed(jiff::tz::offset(8));
    let text = text.trim();
    if text.len() == 10 {
        let d: jiff::civil::Date = text.parse().ok()?;
        return d.to_zoned(tz).ok().map(|z| z.timestamp());
    }
    let dt = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", text).ok()?;
    dt.to_zoned(tz).ok().map(|z| z.timestamp())
}

/// Neutral line names first, West's own codes accepted as given.
const LINES: [(&str, &str); 7] = [
    ("default", ""),
    ("telecom", "LTEL"),
    ("unicom", "LCNC"),
    ("mobile", "LMOB"),
    ("education", "LEDU"),
    ("search", "LSEO"),
    ("abroad", "LFOR"),
];

fn line_to_west(line: Option<&str>) -> Result<String> {
    let Some(l) = line.map(str::trim).filter(|l| !l.is_empty()) else {
        return Ok(String::new());
    };
    LINES
        .iter()
        .find(|(n, w)| n.eq_ignore_ascii_case(l) || (!w.is_empty() && w.eq_ignore_ascii_case(l)))
        .map(|(_, w)| w.to_string())
        .ok_or_else(|| Error::invalid("line", format!("West has no line {l:?}")))
}

fn line_from_west(code: &str) -> Option<String> {
    match LINES.iter().find(|(_, w)| *w == code) {
        Some(("default", _)) => None,
        Some((n, _)) => Some(n.to_string()),
        None if code.is_empty() => None,
        None => Some(code.to_string()),
    }
}

fn west_type(t: RecordType) -> Result<&'static str> {
    match t {
        RecordType::A
        | RecordType::Aaaa
        | RecordType::Cname
        | RecordType::Mx
        | RecordType::Txt
        | RecordType::Srv => Ok(t.as_str()),
        _ => Err(Error::invalid(
            "type",
            format!("West DNS does not serve {t} records"),
        )),
    }
}

fn record_from(zone: &str, v: &Value) -> std::result::Result<DnsRecord, String> {
    let t = s(v, "type");
    // An unknown type in an answer is a broken answer, not a mistake of the caller.
    let rtype = RecordType::from_str(&t).map_err(|_| format!("unknown record type {t:?}"))?;
    let mut value = s(v, "value");
    // TXT values sometimes come back quoted.
    if rtype == RecordType::Txt
        && value.len() >= 2
        && value.starts_with('"')
        && value.ends_with('"')
    {
        value = value[1..value.len() - 1].to_string();
    }
    let level = n(v, "level");
    Ok(DnsRecord {
        zone: zone.to_string(),
        host: s(v, "item"),
        rtype,
        value,
        ttl: u32::try_from(n(v, "ttl")).unwrap_or(900),
        line: line_from_west(&s(v, "line")),
        priority: matches!(rtype, RecordType::Mx | RecordType::Srv)
            .then(|| u16::try_from(level).unwrap_or(10)),
        enabled: n(v, "pause") == 0,
        upstream_id: Some(s(v, "id")),
    })
}

fn record_params(zone: &str, r: &RecordInput) -> Result<Vec<(String, String)>> {
    let host = if r.host.is_empty() {
        "@".to_string()
    } else {
        r.host.clone()
    };
    Ok(vec![
        ("domain".into(), zone.to_string()),
        ("host".into(), host),
        ("type".into(), west_type(r.rtype)?.into()),
        ("value".into(), r.value.clone()),
        ("ttl".into(), r.ttl.to_string()),
        ("level".into(), r.priority.unwrap_or(10).to_string()),
        ("line".into(), line_to_west(r.line.as_deref())?),
    ])
}

fn domain_from(v: &Value) -> Domain {
    Domain {
        name: s(v, "domain"),
        status: match s(v, "status").as_str() {
            "ok" => DomainStatus::Active,
            "expired" => DomainStatus::Expired,
            _ => DomainStatus::Other,
        },
        registered_at: china_time(&s(v, "regdate")),
        expires_at: china_time(&s(v, "expiredate")),
        nameservers: strs(v, "dns"),
        auto_renew: n(v, "autorenew") == 1,
        upstream_id: Some(s(v, "domain")),
    }
}

fn server_from(v: &Value) -> Server {
    let mut ips = vec![s(v, "ip")];
    ips.extend(strs(v, "extraips"));
    let status = s(v, "status");
    Server {
        upstream_id: s(v, "id"),
        name: s(v, "name"),
        kind: ServerKind::Cloud,
        region: Some(s(v, "serverroom")),
        plan: None,
        cpu: u32::try_from(n(v, "cpu")).unwrap_or_default(),
        ram_mb: u32::try_from(n(v, "memory").saturating_mul(1024)).unwrap_or_default(),
        disks: vec![
            Disk {
                size_gb: 40,
                system: true,
            },
            Disk {
                size_gb: u32::try_from(n(v, "disk")).unwrap_or_default(),
                system: false,
            },
        ],
        bandwidth_mbps: u32::try_from(n(v, "bandwidth")).unwrap_or_default(),
        ips,
        os_image: Some(s(v, "os")),
        power: match status.as_str() {
            "running" => PowerState::Running,
            "stopped" => PowerState::Stopped,
            _ => PowerState::Unknown,
        },
        lifecycle: if status == "migrating" {
            LifecycleState::Provisioning
        } else {
            LifecycleState::Active
        },
        expires_at: china_time(&s(v, "expiredate")),
    }
}

pub(crate) fn order(v: &Value, product: String, upstream_id: Option<String>) -> Order {
    Order {
        id: s(v, "orderid"),
        product,
        // The purchase happened: an unreadable amount must not turn it into a failure.
        amount: money(v, "amount").unwrap_or_default(),
        state: OrderState::Succeeded,
        upstream_id,
        created_at: Timestamp::now(),
    }
}

/// The CPU cores and memory (GB) of a plan code `c<cpu>m<GB>`, the ids
/// [`Compute::catalog`] gives West's free-form configurations.
pub(crate) fn plan_shape(p: &str) -> Option<(u32, u32)> {
    p.strip_prefix('c')
        .and_then(|r| r.split_once('m'))
        .and_then(|(c, m)| Some((c.parse().ok()?, m.parse().ok()?)))
}

/// A password West accepts (letters and digits), for purchases whose core spec carries
/// none; the owner sets their own with `reset_password`.
pub(crate) fn generated_password() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut rng = rand::rngs::StdRng::from_entropy();
    let mut p: String = (0..12)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect();
    p.push_str(&rng.gen_range(1000..9999).to_string());
    p
}

impl WestClient {
    /// Every item of a paged listing (`items`, `totalpages`), read by `item`: a page
    /// with an item it cannot read is an unreadable answer (retried, being a read). The
    /// page field is the one the action's spec names (`getdomains` pages with `page`,
    /// the others `pageno`).
    pub(crate) async fn all_pages<T>(
        &self,
        action: &str,
        base: &[(&str, &str)],
        item: impl Fn(&Value) -> std::result::Result<T, String>,
    ) -> Result<Vec<T>> {
        let page_key = if spec().require(action)?.param("page").is_some() {
            "page"
        } else {
            "pageno"
        };
        let limit = PAGE.to_string();
        let mut out = Vec::new();
        let mut page = 1usize;
        loop {
            let page_no = page.to_string();
            let mut kv = base.to_vec();
            kv.extend([(page_key, page_no.as_str()), ("limit", limit.as_str())]);
            let (items, pages) = self
                .call_kv_as(action, &kv, |data| {
                    let items = match data.get("items").and_then(Value::as_array) {
                        Some(a) => a.iter().map(&item).collect::<std::result::Result<_, _>>()?,
                        None => Vec::new(),
                    };
                    Ok((
                        items,
                        usize::try_from(n(&data, "totalpages")).unwrap_or_default(),
                    ))
                })
                .await?;
            let empty = items.is_empty();
            out.extend(items);
            if empty || page >= pages {
                return Ok(out);
            }
            // An upstream that never stops paging must not keep us looping.
            if page >= MAX_PAGES {
                return Err(Error::Transport {
                    vendor: "west".into(),
                    message: format!("{action} still paging after {MAX_PAGES} pages"),
                });
            }
            page += 1;
        }
    }

    /// Every item of a paged listing, converted.
    async fn list_all<T>(&self, action: &str, f: impl Fn(&Value) -> T) -> Result<Vec<T>> {
        self.all_pages(action, &[], |v| Ok(f(v))).await
    }

    async fn server_detail(&self, id: &str) -> Result<Value> {
        match self.call_kv("server.detail", &[("id", id)]).await {
            Err(Error::InvalidInput { field, .. }) if field == "id" => {
                Err(Error::not_found(format!("west server {id}")))
            }
            other => other,
        }
    }

    async fn default_template(&self) -> Result<String> {
        if let Some(t) = &self.templateid {
            return Ok(t.clone());
        }
        let all = self
            .all_pages("domain.gettemplatelist", &[], |v| Ok(v.clone()))
            .await?;
        all.iter()
            .find(|t| s(t, "realname") == "verified")
            .or_else(|| all.first())
            .map(|t| s(t, "templateid"))
            .ok_or_else(|| {
                Error::invalid(
                    "credentials.templateid",
                    "the West account has no contact template",
                )
            })
    }

    /// `domain.getprice` answers both prices: `price` to register, `renewprice` to
    /// renew.
    async fn domain_price(&self, name: &str, years: u32, renewal: bool) -> Result<PriceQuote> {
        let field = if renewal { "renewprice" } else { "price" };
        let price = self
            .call_kv_as(
                "domain.getprice",
                &[("domain", name), ("year", &years.to_string())],
                |v| money(&v, field),
            )
            .await?;
        Ok(PriceQuote::domain(name, years, renewal, price))
    }
}

#[async_trait]
impl Registrar for WestClient {
    async fn list_domains(&self) -> Result<Vec<Domain>> {
        self.list_all("domain.getdomains", domain_from).await
    }

    async fn get_domain(&self, name: &str) -> Result<Domain> {
        Ok(domain_from(
            &self
                .call_kv("domain.getdomaininfo", &[("domain", name)])
                .await?,
        ))
    }

    async fn check_available(&self, name: &str) -> Result<bool> {
        Ok(n(
            &self
                .call_kv("domain.checkdomain", &[("domain", name)])
                .await?,
            "avail",
        ) == 1)
    }

    async fn quote_registration(&self, name: &str, years: u32) -> Result<PriceQuote> {
        self.domain_price(name, years, false).await
    }

    async fn quote_renewal(&self, name: &str, years: u32) -> Result<PriceQuote> {
        self.domain_price(name, years, true).await
    }

    /// West takes no client order id: a lost answer surfaces as `UnknownOutcome` and is
    /// reconciled by `get_domain`.
    async fn register(&self, name: &str, years: u32, _client_order_id: &str) -> Result<Order> {
        let tid = self.default_template().await?;
        let v = self
            .call_kv(
                "domain.regdomain",
                &[
                    ("domain", name),
                    ("year", &years.to_string()),
                    ("templateid", &tid),
                ],
            )
            .await?;
        Ok(order(&v, format!("domain:{name}"), Some(name.to_string())))
    }

    /// Sends the current expiry date along, so a repeated renewal is refused upstream
    /// instead of extending the domain twice.
    async fn renew(&self, name: &str, years: u32, _client_order_id: &str) -> Result<Order> {
        let cur = self
            .call_kv("domain.getdomaininfo", &[("domain", name)])
            .await?;
        let v = self
            .call_kv(
                "domain.renewdomain",
                &[
                    ("domain", name),
                    ("year", &years.to_string()),
                    ("expiredate", &s(&cur, "expiredate")),
                ],
            )
            .await?;
        Ok(order(
            &v,
            format!("domain-renew:{name}"),
            Some(name.to_string()),
        ))
    }

    async fn set_nameservers(&self, name: &str, nameservers: &[String]) -> Result<()> {
        if !(2..=6).contains(&nameservers.len()) {
            return Err(Error::invalid(
                "nameservers",
                "West needs 2 to 6 nameservers",
            ));
        }
        let keys = ["dns1", "dns2", "dns3", "dns4", "dns5", "dns6"];
        let mut kv = vec![("domain", name)];
        kv.extend(
            keys.iter()
                .copied()
                .zip(nameservers.iter().map(String::as_str)),
        );
        self.call_kv("domain.modifydns", &kv).await?;
        Ok(())
    }
}

#[async_trait]
impl Dns for WestClient {
    async fn list_zones(&self) -> Result<Vec<Zone>> {
        self.list_all("domain.getdomains", |d| Zone {
            name: s(d, "domain"),
            upstream_id: Some(s(d, "domain")),
            record_count: None,
            // getdomains shows nothing that moves when records change.
            marker: None,
        })
        .await
    }

    async fn list_records(&self, zone: &str) -> Result<Vec<DnsRecord>> {
        self.all_pages("domain.getdnsrecords", &[("domain", zone)], |v| {
            record_from(zone, v)
        })
        .await
    }

    async fn create_record(&self, zone: &str, record: &RecordInput) -> Result<DnsRecord> {
        let params = record_params(zone, record)?;
        let kv: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        // Without the new id the record may exist all the same: the exchange makes such
        // an answer an unknown outcome.
        let id = self
            .call_kv_as("domain.adddnsrecord", &kv, |v| need(&v, "id"))
            .await?;
        Ok(self.read_back(zone, &id, record, &params).await)
    }

    async fn update_record(&self, zone: &str, id: &str, record: &RecordInput) -> Result<DnsRecord> {
        let mut p = record_params(zone, record)?;
        p.insert(1, ("id".into(), id.to_string()));
        self.call("domain.moddnsrecord", &p).await?;
        Ok(self.read_back(zone, id, record, &p).await)
    }

    /// Deleting a record that is already gone (20120) reaches the wanted state: success.
    async fn delete_record(&self, zone: &str, id: &str) -> Result<()> {
        match self
            .call_kv("domain.deldnsrecord", &[("domain", zone), ("id", id)])
            .await
        {
            Ok(_) => Ok(()),
            Err(Error::Upstream { code, .. }) if code == "20120" => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn set_record_enabled(&self, zone: &str, id: &str, enabled: bool) -> Result<()> {
        let val = if enabled { "0" } else { "1" };
        self.call_kv(
            "domain.pausednsrecord",
            &[("domain", zone), ("id", id), ("val", val)],
        )
        .await?;
        Ok(())
    }

    async fn lines(&self, _zone: &str) -> Result<Vec<String>> {
        Ok(LINES.iter().map(|(n, _)| n.to_string()).collect())
    }
}

impl WestClient {
    /// The stored form of a record (West normalises values), found by id.
    /// The record a write West accepted left behind, as West lists it. West answers a
    /// write with the id alone, so the zone is read; if that read fails the write still
    /// happened, and the record is what was sent (`params`), read the way a listing is
    /// (a modified record is live again: West clears the pause), for the next sync to
    /// confirm.
    async fn read_back(
        &self,
        zone: &str,
        id: &str,
        record: &RecordInput,
        params: &[(String, String)],
    ) -> DnsRecord {
        let sent = |key: &str| {
            params
                .iter()
                .find(|(k, _)| k == key)
                .map_or("", |(_, v)| v.as_str())
        };
        // The records of the one host and type first: a read the size of the zone after
        // every write made a bulk apply quadratic.
        let narrowed = self
            .call_kv_as(
                "domain.getdnsrecord",
                &[
                    ("domain", zone),
                    ("host", sent("host")),
                    ("type", sent("type")),
                ],
                |data| match data.get("items").and_then(Value::as_array) {
                    Some(items) => items.iter().map(|v| record_from(zone, v)).collect(),
                    None => Ok(Vec::new()),
                },
            )
            .await;
        if let Some(found) = narrowed.ok().and_then(|rs| {
            rs.into_iter()
                .find(|r| r.upstream_id.as_deref() == Some(id))
        }) {
            return found;
        }
        match self.find_record(zone, id).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(zone, id, error = %e, "west accepted the record; reading it back failed");
                let sent: serde_json::Map<String, Value> = params
                    .iter()
                    .map(|(k, v)| {
                        let k = if k == "host" { "item" } else { k.as_str() };
                        (k.to_string(), Value::String(v.clone()))
                    })
                    .chain([("id".to_string(), Value::String(id.to_string()))])
                    .collect();
                // `params` came from `record_params`, whose type West lists back as is.
                record_from(zone, &Value::Object(sent)).unwrap_or_else(|_| DnsRecord {
                    zone: zone.to_string(),
                    host: record.host.clone(),
                    rtype: record.rtype,
                    value: record.value.clone(),
                    ttl: record.ttl,
                    line: record.line.clone(),
                    priority: record.priority,
                    enabled: true,
                    upstream_id: Some(id.to_string()),
                })
            }
        }
    }

    async fn find_record(&self, zone: &str, id: &str) -> Result<DnsRecord> {
        self.list_records(zone)
            .await?
            .into_iter()
            .find(|r| r.upstream_id.as_deref() == Some(id))
            .ok_or_else(|| Error::not_found(format!("west record {id} in {zone}")))
    }
}

#[async_trait]
impl Compute for WestClient {
    async fn catalog(&self) -> Result<ComputeCatalog> {
        let cfg = self.call("server.getconfig", &Vec::new()).await?;
        let rooms = cfg
            .get("serverrooms")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let regions: Vec<Region> = rooms
            .iter()
            .map(|r| Region {
                id: s(r, "id"),
                name: s(r, "name"),
            })
            .collect();
        let mut images = Vec::new();
        for r in &regions {
            let os = self
                .call_kv("server.getos", &[("serverroom", &r.id)])
                .await?;
            for o in os
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
            {
                images.push(OsImage {
                    id: s(&o, "os"),
                    name: s(&o, "name"),
                    region: Some(r.id.clone()),
                });
            }
        }
        // West sells free-form configs; the plans are common shapes priced with the
        // unit prices of the first room (5 Mbps, 40 GB data disk).
        let mut plans = Vec::new();
        if let Some(first) = regions.first() {
            let [u_cpu, u_mem, u_disk, u_bw] = self
                .call_kv_as(
                    "server.getconfigprice",
                    &[("serverroom", &first.id)],
                    |prices| {
                        let unit = prices
                            .get("items")
                            .and_then(Value::as_array)
                            .and_then(|a| a.first())
                            .cloned()
                            .unwrap_or_default();
                        Ok([
                            money(&unit, "cpu")?.0,
                            money(&unit, "memory")?.0,
                            money(&unit, "disk")?.0,
                            money(&unit, "bandwidth")?.0,
                        ])
                    },
                )
                .await?;
            for (cpu, mem) in [(1u32, 1u32), (1, 2), (2, 4), (4, 8), (8, 16)] {
                let price = u_cpu * Decimal::from(cpu)
                    + u_mem * Decimal::from(mem)
                    + u_disk * Decimal::from(40)
                    + u_bw * Decimal::from(5);
                plans.push(Plan {
                    id: format!("c{cpu}m{mem}"),
                    name: format!("{cpu}核{mem}G"),
                    cpu,
                    ram_mb: mem * 1024,
                    disk_gb: 40,
                    bandwidth_mbps: 5,
                    monthly_price: Some(Money(price)),
                    kind: ServerKind::Cloud,
                });
            }
        }
        Ok(ComputeCatalog {
            regions,
            images,
            plans,
        })
    }

    async fn list_servers(&self) -> Result<Vec<Server>> {
        self.list_all("server.list", server_from).await
    }

    async fn get_server(&self, id: &str) -> Result<Server> {
        Ok(server_from(&self.server_detail(id).await?))
    }

    async fn create_server(&self, spec: &ServerSpec) -> Result<Server> {
        let (mut cpu, mut mem) = (2u32, 4u32);
        if let Some(p) = &spec.plan {
            (cpu, mem) = plan_shape(p).ok_or_else(|| {
                Error::invalid("plan", format!("unknown West plan {p:?} (use c<cpu>m<GB>)"))
            })?;
        }
        let cpu = spec.cpu.unwrap_or(cpu).to_string();
        let mem = spec.ram_mb.map_or(mem, |r| r.div_ceil(1024)).to_string();
        let disk = spec.disk_gb.unwrap_or(40).to_string();
        let bw = spec.bandwidth_mbps.unwrap_or(5).to_string();
        let months = spec.months.unwrap_or(1).to_string();
        let pw = generated_password();
        let id = self
            .call_kv_as(
                "server.buy",
                &[
                    ("serverroom", &spec.region),
                    ("os", &spec.image),
                    ("cpu", &cpu),
                    ("memory", &mem),
                    ("disk", &disk),
                    ("bandwidth", &bw),
                    ("month", &months),
                    ("password", &pw),
                    ("name", &spec.name),
                ],
                // Bought without an id in the answer: the server may exist all the same.
                |v| need(&v, "id"),
            )
            .await?;
        self.get_server(&id).await
    }

    async fn power(&self, id: &str, action: PowerAction) -> Result<()> {
        let status = match action {
            PowerAction::Start => "start",
            PowerAction::Stop | PowerAction::ForceStop => "stop",
            PowerAction::Reboot | PowerAction::ForceReboot => "restart",
        };
        self.call_kv("server.setstatus", &[("id", id), ("status", status)])
            .await?;
        Ok(())
    }

    async fn reinstall(&self, id: &str, image: &str) -> Result<()> {
        self.call_kv("server.reinstall", &[("id", id), ("os", image)])
            .await?;
        Ok(())
    }

    async fn reset_password(&self, id: &str, password: &str) -> Result<()> {
        self.call_kv("server.modifypwd", &[("id", id), ("password", password)])
            .await?;
        Ok(())
    }

    async fn resize(&self, id: &str, resize: &Resize) -> Result<()> {
        let mut p: Params = vec![("id".into(), id.to_string())];
        let fields = [
            ("cpu", resize.cpu),
            ("memory", resize.ram_mb.map(|r| r.div_ceil(1024))),
            ("disk", resize.disk_gb),
            ("bandwidth", resize.bandwidth_mbps),
        ];
        p.extend(
            fields
                .iter()
                .filter_map(|(k, v)| v.map(|v| (k.to_string(), v.to_string()))),
        );
        self.call("server.upgrade", &p).await?;
        Ok(())
    }

    async fn delete_server(&self, _id: &str) -> Result<()> {
        Err(Error::unsupported(
            Vendor::West,
            "deleting servers (they lapse at expiry)",
        ))
    }

    async fn console(&self, id: &str) -> Result<ConsoleSession> {
        let v = self.call_kv("server.getconsole", &[("id", id)]).await?;
        Ok(ConsoleSession {
            url: s(&v, "url"),
            expires_at: china_time(&s(&v, "expire")),
        })
    }

    async fn list_backups(&self, _id: &str) -> Result<Vec<Backup>> {
        Err(no_backups())
    }
    async fn create_backup(&self, _id: &str, _name: &str, _full: bool) -> Result<()> {
        Err(no_backups())
    }
    async fn restore_backup(&self, _id: &str, _backup_id: &str) -> Result<()> {
        Err(no_backups())
    }
    async fn delete_backup(&self, _id: &str, _backup_id: &str) -> Result<()> {
        Err(no_backups())
    }
}

fn no_backups() -> Error {
    Error::unsupported(Vendor::West, "cloud server backups")
}

#[async_trait]
impl WebHosting for WestClient {
    async fn list_sites(&self) -> Result<Vec<HostingSite>> {
        self.list_all("host.detail", |h| HostingSite {
            upstream_id: s(h, "id"),
            name: s(h, "ftpname"),
            plan: Some(s(h, "model")),
            domains: strs(h, "domains"),
            status: s(h, "status"),
            expires_at: china_time(&s(h, "expiredate")),
            path: None,
        })
        .await
    }

    /// Passwords and domain binding; West's API cannot stop or start a host.
    async fn site_action(&self, id: &str, action: &SiteAction) -> Result<Vec<String>> {
        let (name, extra) = match action {
            SiteAction::Password(p) => ("host.modifypwd", ("password", p.as_str())),
            SiteAction::AddDomain(d) => ("host.bindomain", ("domain", d.as_str())),
            SiteAction::RemoveDomain(d) => ("host.unbindomain", ("domain", d.as_str())),
            SiteAction::Domains => {
                return self
                    .call_kv_as("host.getbindomains", &[("id", id)], |v| {
                        match v.get("items") {
                            Some(Value::Array(_)) => Ok(strs(&v, "items")),
                            _ => Err("a domain list without items".to_string()),
                        }
                    })
                    .await
            }
            SiteAction::Start | SiteAction::Stop => {
                return Err(Error::unsupported(
                    Vendor::West,
                    format!("the hosting operation {}", action.name()),
                ))
            }
        };
        self.call_kv(name, &[("id", id), extra]).await?;
        Ok(Vec::new())
    }
}

#[async_trait]
impl Databases for WestClient {
    async fn list_databases(&self) -> Result<Vec<Database>> {
        self.list_all("mssql.detail", |d| Database {
            upstream_id: s(d, "id"),
            name: s(d, "name"),
            engine: format!("mssql{}", s(d, "version")),
            size_mb: u32::try_from(n(d, "size")).ok(),
            status: s(d, "status"),
            expires_at: china_time(&s(d, "expiredate")),
        })
        .await
    }

    /// A database's password (`mssql.modifypwd`); West has no other operation on one.
    async fn database_action(&self, id: &str, action: &SiteAction) -> Result<Vec<String>> {
        match action {
            SiteAction::Password(p) => {
                self.call_kv("mssql.modifypwd", &[("id", id), ("password", p)])
                    .await?;
                Ok(Vec::new())
            }
            other => Err(Error::unsupported(
                Vendor::West,
                format!("the database operation {}", other.name()),
            )),
        }
    }
}

#[async_trait]
impl Mail for WestClient {
    async fn list_mail_domains(&self) -> Result<Vec<MailDomain>> {
        self.list_all("mail.detail", |d| MailDomain {
            upstream_id: s(d, "id"),
            domain: s(d, "domain"),
            mailbox_quota: u32::try_from(n(d, "maxmailbox")).ok(),
            status: s(d, "status"),
            expires_at: china_time(&s(d, "expiredate")),
        })
        .await
    }

    async fn list_mailboxes(&self, domain: &str) -> Result<Vec<Mailbox>> {
        let all = self
            .all_pages("mail.detail", &[], |v| Ok(v.clone()))
            .await?;
        let d = all
            .iter()
            .find(|d| s(d, "domain").eq_ignore_ascii_case(domain))
            .ok_or_else(|| Error::not_found(format!("west mail domain {domain}")))?;
        let enabled = s(d, "status") == "normal";
        Ok(strs(d, "mailboxes")
            .into_iter()
            .map(|address| Mailbox {
                address,
                quota_mb: None,
                enabled,
            })
            .collect())
    }
}

#[async_trait]
impl Billing for WestClient {
    async fn balance(&self) -> Result<Balance> {
        self.call_kv_as("info.checkbalance", &[], |v| {
            Ok(Balance {
                available: money(&v, "balance")?,
                credit: money(&v, "credit")?,
            })
        })
        .await
    }

    /// `info.getfinance` from the day of `since` (China time): its 消费 rows, whose
    /// amounts are negative in West's record.
    async fn charges(&self, since: Timestamp) -> Result<Vec<Charge>> {
        let day = since
            .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
            .strftime("%Y-%m-%d")
            .to_string();
        let rows = self
            .all_pages("info.getfinance", &[("start_date", &day)], |v| {
                let at = china_time(&s(v, "time"))
                    .ok_or_else(|| format!("finance time {:?}", s(v, "time")))?;
                Ok((
                    s(v, "type"),
                    at,
                    money(v, "amount")?,
                    s(v, "orderid"),
                    s(v, "memo"),
                ))
            })
            .await?;
        Ok(rows
            .into_iter()
            // West's record keeps whole seconds: compare at that precision.
            .filter(|(kind, at, ..)| kind == "消费" && at.as_second() >= since.as_second())
            .map(|(_, at, amount, orderid, memo)| Charge {
                at,
                amount: Money(-amount.0),
                reference: Some(orderid).filter(|o| !o.is_empty()),
                memo,
            })
            .collect())
    }
}
