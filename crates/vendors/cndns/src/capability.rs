//! The core capabilities CNDNS can serve: Registrar, Dns, Compute (橙云 cloud hosts),
//! WebHosting (a host's operations; the hosts are named by their FTP name) and Billing.
//!
//! The API has no listing of owned domains, zones or hosts (its `*list` calls list
//! products for sale or what sits under one named product; see the crate docs), so
//! those listings answer `Unsupported` rather than pretend; every other method is a
//! thin wrapper over the client's exchange. A payload a method cannot use goes back to
//! the exchange as unreadable (`call_kv_as`): a read is asked again, a write whose
//! answer lacks what it made (a record id, a host name) is an unknown outcome.

use crate::client::CndnsClient;
use async_trait::async_trait;
use idcgate_core::capability::{Billing, Compute, Dns, Registrar, WebHosting};
use idcgate_core::{
    Backup, Balance, Charge, ComputeCatalog, ConsoleSession, Disk, DnsRecord, Domain, DomainStatus,
    Error, HostingSite, LifecycleState, Money, Order, OrderState, OsImage, PowerAction, PowerState,
    PriceQuote, RecordInput, RecordType, Region, Resize, Result, Server, ServerKind, ServerSpec,
    SiteAction, Zone,
};
use serde_json::Value;
use std::str::FromStr;

const VENDOR: &str = "cndns";

/// A scalar answer, whether sent as string or number, trimmed ("" for anything else).
fn scalar(v: &Value) -> String {
    match v {
        Value::String(x) => x.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// A string field, whether sent as string or number, trimmed.
pub(crate) fn s(v: &Value, k: &str) -> String {
    v.get(k).map(scalar).unwrap_or_default()
}

/// The first object of a `message` that is an array of one, or the object itself.
fn first(v: &Value) -> Option<&Value> {
    match v {
        Value::Array(a) => a.first(),
        Value::Object(_) => Some(v),
        _ => None,
    }
}

/// `first` of an answer, owned, for a `call_kv_as` reader.
pub(crate) fn first_of(v: Value, what: &str) -> std::result::Result<Value, String> {
    first(&v)
        .cloned()
        .ok_or_else(|| format!("no object in {what}"))
}

pub(crate) fn money(text: &str, what: &str) -> std::result::Result<Money, String> {
    Money::from_str(text.trim()).map_err(|_| format!("{what} is not an amount: {text:?}"))
}

/// CNDNS times (`2014/1/15 18:21:14`, `2014-1-1 23:49:29`, `2015-08-12`) are China time.
pub(crate) fn parse_cn_time(text: &str) -> Option<jiff::Timestamp> {
    let n: Vec<i64> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.parse().ok())
        .collect();
    if n.len() < 3 {
        return None;
    }
    let get = |i: usize| n.get(i).copied().unwrap_or(0);
    let dt = jiff::civil::DateTime::new(
        i16::try_from(get(0)).ok()?,
        i8::try_from(get(1)).ok()?,
        i8::try_from(get(2)).ok()?,
        i8::try_from(get(3)).ok()?,
        i8::try_from(get(4)).ok()?,
        i8::try_from(get(5)).ok()?,
        0,
    )
    .ok()?;
    dt.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .ok()
        .map(|z| z.timestamp())
}

fn status_of(runstate: &str) -> DomainStatus {
    match runstate.to_ascii_lowercase().as_str() {
        "run" => DomainStatus::Active,
        "expired" => DomainStatus::Expired,
        "pause" | "stopped by admin" | "illegal" => DomainStatus::Locked,
        "unpay" | "waiting" | "processing" | "not certified" | "renewal process"
        | "transferring" => DomainStatus::Pending,
        _ => DomainStatus::Other,
    }
}

fn split_domain(name: &str) -> Result<(&str, &str)> {
    name.split_once('.')
        .filter(|(l, t)| !l.is_empty() && !t.is_empty())
        .ok_or_else(|| Error::invalid("name", "expected a domain like example.com"))
}

fn tag_of(name: &str) -> &'static str {
    if name.is_ascii() {
        "dme"
    } else {
        "dmc"
    }
}

/// A domain password CNDNS accepts (letters and digits, 6-16): the reseller manages the
/// domain through the API, so nobody needs to know it.
fn domain_password() -> String {
    use rand::Rng;
    const ALNUM: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..14)
        .map(|_| char::from(ALNUM[rng.gen_range(0..ALNUM.len())]))
        .collect()
}

impl CndnsClient {
    /// The one object a detail call (`DomainDetail`, `CloudInfo`, `HostDetail`) answers
    /// for the product `key`=`name`; an answer without one is unreadable.
    pub(crate) async fn detail_of(&self, action: &str, key: &str, name: &str) -> Result<Value> {
        self.exchange
            .call_kv_as(action, &[(key, name)], |v| first_of(v, action))
            .await
    }

    pub(crate) async fn price(
        &self,
        action: &str,
        kv: &[(&str, &str)],
        product: &str,
    ) -> Result<Money> {
        let price = self
            .exchange
            .call_kv_as(action, kv, |v| money(&scalar(&v), "price"))
            .await?;
        // "如果获取的价格是 0, 说明传的参数查找不到价格".
        if price == Money::ZERO {
            return Err(Error::not_found(format!("price of {product}")));
        }
        Ok(price)
    }

    pub(crate) async fn contact_for_registration(&self) -> Result<String> {
        if let Some(id) = &self.contact_id {
            return Ok(id.clone());
        }
        let list = self.call_kv("/domains/contactlist", &[]).await?;
        let items = list.as_array().cloned().unwrap_or_default();
        items
            .iter()
            .find(|c| s(c, "ischecked") == "2")
            .or_else(|| items.first())
            .map(|c| s(c, "userid"))
            .filter(|id| !id.is_empty())
            .ok_or_else(|| Error::invalid("credentials.contact_id", "the account has no contact"))
    }
}

impl CndnsClient {
    /// `getproductprice` for a domain: `priceType` 0 is the purchase price, 1 the
    /// renewal price (the document's 价格类型).
    pub(crate) async fn domain_price(
        &self,
        name: &str,
        years: u32,
        renewal: bool,
    ) -> Result<PriceQuote> {
        let (_, tld) = split_domain(name)?;
        let years_s = years.to_string();
        let suffix = format!(".{tld}");
        let mut params = vec![
            ("type", "1"),
            ("years", &years_s),
            ("tag", tag_of(name)),
            ("suffix", &suffix),
        ];
        if renewal {
            // The purchase price is the default; a registration sends what it always did.
            params.push(("priceType", "1"));
        }
        let price = self
            .price("/product/getproductprice", &params, name)
            .await?;
        Ok(PriceQuote::domain(name, years, renewal, price))
    }
}

#[async_trait]
impl Registrar for CndnsClient {
    async fn list_domains(&self) -> Result<Vec<Domain>> {
        Err(Error::unsupported(
            VENDOR,
            "listing domains (the CNDNS API has no domain list)",
        ))
    }

    async fn get_domain(&self, name: &str) -> Result<Domain> {
        let d = &self
            .detail_of("/domains/domaindetail", "domainname", name)
            .await?;
        let nameservers = (1..=6)
            .map(|i| s(d, &format!("host{i}")))
            .filter(|h| !h.is_empty() && h != "-")
            .collect();
        Ok(Domain {
            name: s(d, "d_dme").to_ascii_lowercase(),
            status: status_of(&s(d, "runstate")),
            registered_at: parse_cn_time(&s(d, "RegistrationTime")),
            expires_at: parse_cn_time(&s(d, "ExpireTime")),
            nameservers,
            auto_renew: false,
            upstream_id: Some(s(d, "d_dme").to_ascii_lowercase()),
        })
    }

    async fn check_available(&self, name: &str) -> Result<bool> {
        let (label, tld) = split_domain(name)?;
        let answer = self
            .exchange
            .call_kv_as(
                "dmcheck/check",
                &[("domain-name", label), ("tld", &format!(".{tld}"))],
                |v| {
                    first(&v)
                        .and_then(Value::as_object)
                        .and_then(|o| o.values().next())
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .ok_or_else(|| "no answer in check message".to_string())
                },
            )
            .await?;
        match answer.as_str() {
            "available" => Ok(true),
            "unavailable" => Ok(false),
            other => Err(Error::upstream(
                VENDOR,
                "",
                format!("check {name}: {other}"),
            )),
        }
    }

    async fn quote_registration(&self, name: &str, years: u32) -> Result<PriceQuote> {
        self.domain_price(name, years, false).await
    }

    async fn quote_renewal(&self, name: &str, years: u32) -> Result<PriceQuote> {
        self.domain_price(name, years, true).await
    }

    async fn register(&self, name: &str, years: u32, client_order_id: &str) -> Result<Order> {
        let quote = self.quote_registration(name, years).await?;
        let userid = self.contact_for_registration().await?;
        let years_s = years.to_string();
        let pass = domain_password();
        // CNDNS takes no client order id: a lost answer is an unknown outcome and is
        // reconciled by reading DomainDetail.
        self.call_kv(
            "/domains/createdom",
            &[
                ("userid", &userid),
                ("domainname", name),
                ("years", &years_s),
                ("domainpass", &pass),
            ],
        )
        .await?;
        Ok(Order {
            id: client_order_id.to_string(),
            product: quote.product,
            amount: quote.price,
            state: OrderState::Succeeded,
            upstream_id: Some(name.to_string()),
            created_at: jiff::Timestamp::now(),
        })
    }

    async fn renew(&self, name: &str, years: u32, client_order_id: &str) -> Result<Order> {
        let years_s = years.to_string();
        let price = self
            .price(
                "/product/getrenewprice",
                &[("type", "1"), ("pdtname", name), ("years", &years_s)],
                name,
            )
            .await?;
        // exptme pins the expiry we read: a repeated renewal is refused (11605)
        // instead of renewing twice.
        let current = self.get_domain(name).await?;
        let exptme = current
            .expires_at
            .map(|t| {
                t.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
                    .strftime("%Y-%m-%d")
                    .to_string()
            })
            .unwrap_or_default();
        self.call_kv(
            "/domains/domainrenew",
            &[
                ("domainname", name),
                ("years", &years_s),
                ("exptme", &exptme),
            ],
        )
        .await?;
        Ok(Order {
            id: client_order_id.to_string(),
            product: format!("domain-renew:{name}"),
            amount: price,
            state: OrderState::Succeeded,
            upstream_id: Some(name.to_string()),
            created_at: jiff::Timestamp::now(),
        })
    }

    async fn set_nameservers(&self, name: &str, nameservers: &[String]) -> Result<()> {
        if !(2..=6).contains(&nameservers.len()) {
            return Err(Error::invalid("nameservers", "CNDNS takes 2 to 6"));
        }
        let keys: Vec<String> = (1..=nameservers.len())
            .map(|i| format!("dns_hst{i}"))
            .collect();
        let mut kv: Vec<(&str, &str)> = vec![("domainname", name)];
        kv.extend(
            keys.iter()
                .map(String::as_str)
                .zip(nameservers.iter().map(String::as_str)),
        );
        self.call_kv("/domains/modifydns", &kv).await.map(|_| ())
    }
}

fn record_of(zone: &str, r: &Value) -> Option<DnsRecord> {
    let rtype = RecordType::from_str(&s(r, "rec_type")).ok()?;
    Some(DnsRecord {
        zone: zone.to_string(),
        host: s(r, "rec_item"),
        rtype,
        value: s(r, "rec_value"),
        ttl: s(r, "rec_ttl").parse().unwrap_or(600),
        line: None,
        priority: (rtype == RecordType::Mx)
            .then(|| s(r, "rec_mx").parse().ok())
            .flatten(),
        enabled: true,
        upstream_id: Some(s(r, "rec_id")),
    })
}

/// CNDNS has one resolution line: anything but the default is refused up front.
fn check_line(r: &RecordInput) -> Result<()> {
    match r.line.as_deref() {
        None | Some("") | Some("default") => Ok(()),
        Some(other) => Err(Error::invalid(
            "line",
            format!("CNDNS has no resolution lines ({other:?})"),
        )),
    }
}

/// A record's value as CNDNS takes it: CNAME and MX targets absolute, with the trailing
/// dot (11313/11314 "最后一位缺少点"), whichever way the caller wrote them.
fn wire_value(r: &RecordInput) -> String {
    match r.rtype {
        RecordType::Cname | RecordType::Mx if !r.value.ends_with('.') => format!("{}.", r.value),
        _ => r.value.clone(),
    }
}

#[async_trait]
impl Dns for CndnsClient {
    async fn list_zones(&self) -> Result<Vec<Zone>> {
        Err(Error::unsupported(
            VENDOR,
            "listing zones (the CNDNS API has no domain list)",
        ))
    }

    async fn list_records(&self, zone: &str) -> Result<Vec<DnsRecord>> {
        // Sync marks records gone on a complete listing, so an answer of another shape
        // must fail rather than read as "no records"; a blank message is an empty zone.
        self.call_kv_as("/domains/reclist", &[("domainname", zone)], |v| match &v {
            Value::Array(a) => Ok(a.iter().filter_map(|r| record_of(zone, r)).collect()),
            Value::String(x) if x.trim().is_empty() => Ok(Vec::new()),
            _ => Err("RecList message is not a list".to_string()),
        })
        .await
    }

    async fn create_record(&self, zone: &str, r: &RecordInput) -> Result<DnsRecord> {
        check_line(r)?;
        let ttl = r.ttl.to_string();
        let level = r.priority.unwrap_or(10).to_string();
        let value = wire_value(r);
        let mut kv = vec![
            ("domainname", zone),
            ("rec_item", r.host.as_str()),
            ("rec_type", r.rtype.as_str()),
            ("rec_value", value.as_str()),
            ("rec_ttl", ttl.as_str()),
        ];
        if r.rtype == RecordType::Mx {
            kv.push(("rec_level", level.as_str()));
        }
        // Without an id the record may still have been added: the exchange makes that
        // an unknown outcome, reconciled by listing.
        let id = self
            .exchange
            .call_kv_as("/domains/addrec", &kv, |v| {
                Some(scalar(&v))
                    .filter(|id| !id.is_empty())
                    .ok_or_else(|| "AddRec answered without a record id".to_string())
            })
            .await?;
        Ok(DnsRecord {
            zone: zone.to_string(),
            host: r.host.clone(),
            rtype: r.rtype,
            value: r.value.clone(),
            ttl: r.ttl,
            line: None,
            priority: (r.rtype == RecordType::Mx).then(|| r.priority.unwrap_or(10)),
            enabled: true,
            upstream_id: Some(id),
        })
    }

    async fn update_record(&self, zone: &str, id: &str, r: &RecordInput) -> Result<DnsRecord> {
        check_line(r)?;
        let current = self
            .list_records(zone)
            .await?
            .into_iter()
            .find(|x| x.upstream_id.as_deref() == Some(id))
            .ok_or_else(|| Error::not_found(format!("record {id} in {zone}")))?;
        // ModifyRec "只能修改解析记录的记录值和 TTL 值".
        if !current.host.eq_ignore_ascii_case(&r.host) {
            return Err(Error::invalid(
                "host",
                "CNDNS can change only value and TTL",
            ));
        }
        if current.rtype != r.rtype {
            return Err(Error::invalid(
                "type",
                "CNDNS can change only value and TTL",
            ));
        }
        let ttl = r.ttl.to_string();
        self.call_kv(
            "/domains/modifyrec",
            &[
                ("domainname", zone),
                ("rec_id", id),
                ("rec_ttl", &ttl),
                ("rec_value", &wire_value(r)),
            ],
        )
        .await?;
        Ok(DnsRecord {
            value: r.value.clone(),
            ttl: r.ttl,
            ..current
        })
    }

    async fn delete_record(&self, zone: &str, id: &str) -> Result<()> {
        match self
            .call_kv(
                "/domains/deleterec",
                &[("domainname", zone), ("rec_id", id)],
            )
            .await
        {
            Ok(_) => Ok(()),
            // 11318: the record is already gone, which is what was asked for.
            Err(Error::NotFound { what }) if what.starts_with("11318") => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn set_record_enabled(&self, _zone: &str, _id: &str, _enabled: bool) -> Result<()> {
        Err(Error::unsupported(VENDOR, "pausing DNS records"))
    }

    async fn lines(&self, _zone: &str) -> Result<Vec<String>> {
        Ok(vec!["default".into()])
    }
}

/// A system password CNDNS accepts (6-20, no spaces) for hosts built or rebuilt
/// through the capability, which has no way to pass one; `reset_password` sets a known
/// one afterwards.
pub(crate) fn host_password() -> String {
    format!("Cd{}!", domain_password())
}

/// A new hosting site's FTP password, by CreateHosting's rule: 8-16 characters, a
/// letter first, with letters, digits and a special character. The site's detail shows
/// it again, so the owner finds it there (or sets another through the panel).
pub(crate) fn ftp_password() -> String {
    let letters: String = domain_password().chars().take(10).collect();
    format!("F{letters}7!")
}

/// BuyCloud charged for a host that CreateHost then failed to build: the error names it,
/// so it is finished (CreateHost through `call`) rather than bought a second time.
fn bought_not_built(mut e: Error, name: &str) -> Error {
    let note = format!(" (host {name} is bought but not built: finish it with /cloud/createhost)");
    match &mut e {
        Error::Upstream { message, .. } | Error::UnknownOutcome { message, .. } => {
            message.push_str(&note)
        }
        Error::InvalidInput { reason, .. } => reason.push_str(&note),
        _ => {}
    }
    e
}

fn number(v: &Value, k: &str) -> u32 {
    s(v, k).parse().unwrap_or(0)
}

/// `tmetpe` and `years` for a number of months, in the largest unit that divides it
/// (年 5, 半年 4, 月 2): the count stays small, as the 橙云 calls want.
pub(crate) fn term(months: u32) -> (&'static str, String) {
    match months.max(1) {
        m if m % 12 == 0 => ("5", (m / 12).to_string()),
        m if m % 6 == 0 => ("4", (m / 6).to_string()),
        m => ("2", m.to_string()),
    }
}

impl CndnsClient {
    async fn cloud(&self, action: &str, id: &str) -> Result<Value> {
        self.call_kv(action, &[("cloudname", id)]).await
    }
}

/// 橙云 cloud hosts. The API cannot list the account's hosts, delete one, open a console
/// or list snapshots (a host keeps one snapshot, addressed here as `snapshot`).
#[async_trait]
impl Compute for CndnsClient {
    async fn catalog(&self) -> Result<ComputeCatalog> {
        let c = self
            .exchange
            .call_kv_as("/cloud/cloudlist", &[], |v| {
                first_of(v, "cloudlist message")
            })
            .await?;
        let list = |k: &str| {
            c.get(k)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        Ok(ComputeCatalog {
            regions: list("PlaceInfo")
                .iter()
                .map(|p| Region {
                    id: s(p, "Placeval"),
                    name: s(p, "Place"),
                })
                .collect(),
            images: list("OS")
                .iter()
                .map(|o| OsImage {
                    id: s(o, "systemValue"),
                    name: s(o, "systemName"),
                    region: None,
                })
                .collect(),
            // Configurations are free-form (CPU, RAM, disk, bandwidth): no fixed plans.
            plans: Vec::new(),
        })
    }

    async fn list_servers(&self) -> Result<Vec<Server>> {
        Err(Error::unsupported(
            VENDOR,
            "listing cloud hosts (the CNDNS API has no host list)",
        ))
    }

    async fn get_server(&self, id: &str) -> Result<Server> {
        let d = &self.detail_of("/cloud/cloudinfo", "cloudname", id).await?;
        let state = self.cloud("/cloud/getsvrstt", id).await?;
        let state = state.as_str().unwrap_or_default().trim().to_string();
        let expires_at = parse_cn_time(&s(d, "exptime"));
        let lifecycle = match state.as_str() {
            "not created" => LifecycleState::Provisioning,
            "pause" => LifecycleState::Suspended,
            _ if expires_at.is_some_and(|t| t < jiff::Timestamp::now()) => LifecycleState::Expired,
            _ => LifecycleState::Active,
        };
        let mut ips: Vec<String> = [s(d, "serverip")]
            .into_iter()
            .chain(s(d, "ExtIP").split(',').map(str::to_string))
            .filter(|ip| !ip.is_empty() && ip != "-")
            .collect();
        ips.dedup();
        Ok(Server {
            upstream_id: s(d, "cloudname"),
            name: s(d, "cloudname"),
            kind: ServerKind::Cloud,
            region: Some(s(d, "locate")).filter(|r| !r.is_empty()),
            plan: None,
            cpu: number(d, "cpu"),
            ram_mb: number(d, "ram"),
            disks: vec![Disk {
                size_gb: number(d, "hd"),
                system: true,
            }],
            bandwidth_mbps: number(d, "bd"),
            ips,
            os_image: Some(s(d, "osname")).filter(|o| !o.is_empty()),
            power: match state.as_str() {
                "running" => PowerState::Running,
                "stop" => PowerState::Stopped,
                _ => PowerState::Unknown,
            },
            lifecycle,
            expires_at,
        })
    }

    async fn create_server(&self, spec: &ServerSpec) -> Result<Server> {
        let need = |v: Option<u32>, f: &str| {
            v.map(|n| n.to_string())
                .ok_or_else(|| Error::invalid(f, "CNDNS cloud hosts are configured by size"))
        };
        let (cpu, ram, hd, bd) = (
            need(spec.cpu, "cpu")?,
            need(spec.ram_mb, "ram_mb")?,
            need(spec.disk_gb, "disk_gb")?,
            need(spec.bandwidth_mbps, "bandwidth_mbps")?,
        );
        let (tmetpe, years) = term(spec.months.unwrap_or(1));
        // A host bought without its name in the answer is an unknown outcome (the
        // exchange's verdict on an unreadable write): it was charged, maybe.
        let name = self
            .exchange
            .call_kv_as(
                "/cloud/buycloud",
                &[
                    ("cpu", &cpu),
                    ("ram", &ram),
                    ("HD", &hd),
                    ("BD", &bd),
                    ("place", &spec.region),
                    ("os", &spec.image),
                    ("tmetpe", tmetpe),
                    ("years", &years),
                ],
                |v| {
                    first(&v)
                        .map(|b| s(b, "cloudname"))
                        .filter(|n| !n.is_empty())
                        .ok_or_else(|| "BuyCloud answered without a cloudname".to_string())
                },
            )
            .await?;
        let pass = host_password();
        self.call_kv(
            "/cloud/createhost",
            &[("cloudname", &name), ("password", &pass)],
        )
        .await
        .map_err(|e| bought_not_built(e, &name))?;
        self.get_server(&name).await
    }

    async fn power(&self, id: &str, action: PowerAction) -> Result<()> {
        let steps: &[&str] = match action {
            PowerAction::Start => &["/cloud/starthost"],
            PowerAction::Stop => &["/cloud/shutdown"],
            PowerAction::ForceStop => &["/cloud/poweroff"],
            PowerAction::Reboot => &["/cloud/restartcloud"],
            PowerAction::ForceReboot => &["/cloud/poweroff", "/cloud/starthost"],
        };
        for step in steps {
            match self.cloud(step, id).await {
                Ok(_) => {}
                // A forced reboot of a host that is already off only needs the start.
                Err(Error::Upstream { code, .. })
                    if action == PowerAction::ForceReboot && code == "17115" => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    async fn reinstall(&self, id: &str, image: &str) -> Result<()> {
        let pass = host_password();
        self.call_kv(
            "/cloud/rebuildcloud",
            &[
                ("cloudname", id),
                ("cloudpass", &pass),
                ("cloudsystem", image),
            ],
        )
        .await
        .map(|_| ())
    }

    async fn reset_password(&self, id: &str, password: &str) -> Result<()> {
        self.call_kv(
            "/cloud/modpassword",
            &[("cloudname", id), ("cloudpassword", password)],
        )
        .await
        .map(|_| ())
    }

    async fn resize(&self, id: &str, resize: &Resize) -> Result<()> {
        let cur = self.get_server(id).await?;
        let grow = |new: Option<u32>, now: u32, f: &str| -> Result<String> {
            match new {
                None => Ok("0".into()),
                Some(n) if n >= now => Ok((n - now).to_string()),
                Some(_) => Err(Error::invalid(f, "CNDNS cloud hosts can only grow")),
            }
        };
        let disk_now = cur.disks.first().map_or(0, |d| d.size_gb);
        let (c, r, h, b) = (
            grow(resize.cpu, cur.cpu, "cpu")?,
            grow(resize.ram_mb, cur.ram_mb, "ram_mb")?,
            grow(resize.disk_gb, disk_now, "disk_gb")?,
            grow(resize.bandwidth_mbps, cur.bandwidth_mbps, "bandwidth_mbps")?,
        );
        self.call_kv(
            "/cloud/upgradecloud",
            &[
                ("cloudname", id),
                ("CPUNum", &c),
                ("RAMNum", &r),
                ("HDNum", &h),
                ("BDNum", &b),
            ],
        )
        .await
        .map(|_| ())
    }

    async fn delete_server(&self, _id: &str) -> Result<()> {
        Err(Error::unsupported(
            VENDOR,
            "deleting cloud hosts (no such API call)",
        ))
    }

    async fn console(&self, _id: &str) -> Result<ConsoleSession> {
        Err(Error::unsupported(
            VENDOR,
            "consoles of 橙云 hosts (no such API call)",
        ))
    }

    async fn list_backups(&self, _id: &str) -> Result<Vec<Backup>> {
        Err(Error::unsupported(
            VENDOR,
            "listing snapshots (no such API call)",
        ))
    }

    async fn create_backup(&self, id: &str, _name: &str, _full: bool) -> Result<()> {
        self.cloud("/cloud/bkup", id).await.map(|_| ())
    }

    async fn restore_backup(&self, id: &str, _backup_id: &str) -> Result<()> {
        self.cloud("/cloud/rstcloud", id).await.map(|_| ())
    }

    async fn delete_backup(&self, id: &str, _backup_id: &str) -> Result<()> {
        self.cloud("/cloud/delbkupfile", id).await.map(|_| ())
    }
}

#[async_trait]
impl Billing for CndnsClient {
    async fn balance(&self) -> Result<Balance> {
        self.exchange
            .call_kv_as("/user/userdetail", &[], |v| {
                let d = first_of(v, "userdetail message")?;
                Ok(Balance {
                    available: money(&s(&d, "availablebalance"), "availablebalance")?,
                    credit: money(&s(&d, "borrowmoney"), "borrowmoney")?,
                })
            })
            .await
    }

    /// CNDNS keeps no record the API can read line by line: `/user/userdetail` holds
    /// running totals only (`usedmoney`, `availablebalance`, `totalremittance`), and no
    /// call lists orders or finance entries. A total cannot say which charge was whose.
    async fn charges(&self, _since: jiff::Timestamp) -> Result<Vec<Charge>> {
        Err(Error::unsupported(
            VENDOR,
            "reading its finance record (the API has no per-charge record: \
             /user/userdetail gives only running totals, and no call lists orders or \
             finance entries)",
        ))
    }
}

/// A virtual host's operations by its FTP name (what `CreateHosting` names it and the
/// journal keeps as its id): web state (`ModifyWebState` 1 running / 2 paused), the
/// FTP password, domain binding.
#[async_trait]
impl WebHosting for CndnsClient {
    /// No call lists the account's hosts (`HostList` lists plans for sale).
    async fn list_sites(&self) -> Result<Vec<HostingSite>> {
        Err(Error::unsupported(
            VENDOR,
            "listing its hosts (HostList lists plans for sale; HostDetail needs a host's name)",
        ))
    }

    async fn site_action(&self, id: &str, action: &SiteAction) -> Result<Vec<String>> {
        let (act, field): (&str, (&str, &str)) = match action {
            SiteAction::Start => ("/hosting/modifywebstate", ("webstate", "1")),
            SiteAction::Stop => ("/hosting/modifywebstate", ("webstate", "2")),
            SiteAction::Password(p) => ("/hosting/modifypassword", ("newpassword", p)),
            SiteAction::AddDomain(d) => ("/hosting/binddomain", ("domainname", d)),
            SiteAction::RemoveDomain(d) => ("/hosting/unbinddomain", ("domainname", d)),
            SiteAction::Domains => {
                return Err(Error::unsupported(
                    VENDOR,
                    "listing a host's bound domains (HostDetail shows none)",
                ))
            }
        };
        self.exchange
            .call_kv(act, &[("ftpname", id), field])
            .await?;
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_use_the_largest_unit() {
        assert_eq!(term(0), ("2", "1".to_string()));
        assert_eq!(term(1), ("2", "1".to_string()));
        assert_eq!(term(6), ("4", "1".to_string()));
        assert_eq!(term(18), ("4", "3".to_string()));
        assert_eq!(term(24), ("5", "2".to_string()));
        assert_eq!(term(7), ("2", "7".to_string()));
    }

    #[test]
    fn a_failed_build_names_the_bought_host() {
        let e = bought_not_built(Error::upstream(VENDOR, "17101", "密码非法"), "S262101");
        assert!(e.to_string().contains("S262101"), "{e}");
        assert!(matches!(e, Error::Upstream { ref code, .. } if code == "17101"));
    }

    #[test]
    fn cndns_times_are_china_time() {
        let t = parse_cn_time("2014/1/15 18:21:14").unwrap();
        assert_eq!(t.to_string(), "2014-01-15T10:21:14Z");
        assert!(parse_cn_time("2015-08-12").is_some());
        // Each format a document sample prints (ContactList, openssl, the SMS orders).
        for (text, utc) in [
            ("2012-9-14 16:17:00", "2012-09-14T08:17:00Z"),
            ("2013/8/9 9:06:46", "2013-08-09T01:06:46Z"),
            ("2012-10-25 10:23:20.123", "2012-10-25T02:23:20Z"),
            ("2014-12-03 0:0:0", "2014-12-02T16:00:00Z"),
            ("2014-12-03 0: 0: 0", "2014-12-02T16:00:00Z"),
        ] {
            let t = parse_cn_time(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(t.to_string(), utc, "{text}");
        }
        assert!(parse_cn_time("-").is_none());
        assert!(parse_cn_time("2015/13/40").is_none());
    }
}
