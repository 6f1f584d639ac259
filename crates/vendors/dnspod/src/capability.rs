//! `idcgate_core::capability` for DNSPod: `Connection` (raw calls) and `Dns`, plus the
//! agent's user management as typed methods on [`DnspodClient`] (a vendor extension
//! the engine can use through `connect_client`).

use crate::client::{scalar, DnspodClient};
use async_trait::async_trait;
use idcgate_core::capability::{Billing, Dns, Params};
use idcgate_core::{
    Balance, DnsRecord, Error, Money, RecordInput, RecordType, Result, Vendor, Zone,
};
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;

/// Most items DNSPod returns per list call.
pub const PAGE: usize = 3000;

/// DNSPod's line names and the vendor-neutral names idcgate uses for them.
pub const LINES: &[(&str, &str)] = &[
    ("默认", "default"),
    ("国内", "china"),
    ("国外", "abroad"),
    ("电信", "telecom"),
    ("联通", "unicom"),
    ("教育网", "edu"),
    ("移动", "mobile"),
    ("百度", "baidu"),
    ("谷歌", "google"),
    ("搜搜", "soso"),
    ("有道", "youdao"),
    ("必应", "bing"),
    ("搜狗", "sogou"),
    ("奇虎", "qihoo"),
    ("搜索引擎", "search"),
];

/// Neutral name (or DNSPod's own name, passed through) -> DNSPod line name.
pub fn vendor_line(line: Option<&str>) -> String {
    match line {
        None | Some("") => "默认".to_string(),
        Some(l) => LINES
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(l))
            .map_or(l.to_string(), |(v, _)| v.to_string()),
    }
}

/// DNSPod line name -> neutral name; `None` for the default line.
pub fn neutral_line(line: &str) -> Option<String> {
    match LINES.iter().find(|(v, _)| *v == line) {
        Some((_, "default")) => None,
        Some((_, n)) => Some(n.to_string()),
        None => Some(line.to_string()),
    }
}

/// A zone's change marker from its `Domain.List` item: its id, `updated_on` (moved by
/// every record change, to the second) and record count. Trusted only when the answer
/// was made (`status.created_at`, the same clock) in a later second than `updated_on`:
/// a change later in that same second would leave `updated_on` where it is, so a zone
/// changed in the very second it was listed gets no marker and is listed again.
fn change_marker(d: &Value, answered: &str) -> Option<String> {
    let updated = field(d, "updated_on");
    let stamp = |t: &str| {
        t.len() == 19
            && t.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                10 => b == b' ',
                13 | 16 => b == b':',
                _ => b.is_ascii_digit(),
            })
    };
    (stamp(&updated) && stamp(answered) && updated.as_str() < answered)
        .then(|| format!("{}|{updated}|{}", field(d, "id"), field(d, "records")))
}

fn items(doc: &Value, key: &str) -> Vec<Value> {
    doc.get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn field(v: &Value, key: &str) -> String {
    v.get(key).map(scalar).unwrap_or_default()
}

fn num(v: &Value, key: &str) -> u64 {
    field(v, key).trim().parse().unwrap_or(0)
}

/// A user under an agent (`User.List`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentUser {
    pub id: String,
    pub email: String,
    pub status: String,
    pub domains: u64,
}

/// What `User.Create` needs. `id_card` only for enterprise users. `Debug` omits the
/// password.
#[derive(Clone, Default)]
pub struct NewUser {
    pub email: String,
    pub password: String,
    pub enterprise: bool,
    pub real_name: String,
    pub id_card: Option<String>,
    pub telephone: String,
    pub im: Option<String>,
    /// The end user's real IP address (the agent doc requires it).
    pub ip_addr: String,
}

idcgate_core::debug_shows!(NewUser: email, enterprise, real_name);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductPrice {
    pub term: String,
    pub title: String,
    pub price: Decimal,
    pub days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub grade: String,
    pub user_type: String,
    pub title: String,
    pub prices: Vec<ProductPrice>,
}

/// The outcome of `Domain.Upgrade`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    pub domain: String,
    pub grade: String,
    pub vip_start: String,
    pub vip_end: String,
    pub user_price: Decimal,
    pub agent_price: Decimal,
    pub agent_balance: Decimal,
    pub journal_number: String,
}

/// A money field; `Err` says why the answer cannot be used (the exchange then retries a
/// read or makes a write's outcome unknown).
fn decimal(v: &Value, key: &str) -> std::result::Result<Decimal, String> {
    let text = field(v, key);
    Decimal::from_str(text.trim()).map_err(|_| format!("{key} is not a decimal: {text:?}"))
}

/// DNSPod names the zone apex `@`.
fn host_of(record: &RecordInput) -> &str {
    if record.host.is_empty() {
        "@"
    } else {
        &record.host
    }
}

fn p(pairs: &[(&str, &str)]) -> Params {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl DnspodClient {
    // ------------------------------------------------------------ agent extension

    /// Every user under the agent (all pages).
    pub async fn list_users(&self) -> Result<Vec<AgentUser>> {
        let mut out = Vec::new();
        loop {
            let doc = self
                .call(
                    "User.List",
                    &p(&[
                        ("offset", &out.len().to_string()),
                        ("length", &PAGE.to_string()),
                    ]),
                )
                .await;
            let doc = match doc {
                Err(Error::Upstream { code, .. }) if code == "8" => break,
                other => other?,
            };
            let page = items(&doc, "users");
            let total = doc.get("info").map_or(0, |i| num(i, "user_total")) as usize;
            let n = page.len();
            out.extend(page.iter().map(|u| AgentUser {
                id: field(u, "id"),
                email: field(u, "email"),
                status: field(u, "status"),
                domains: num(u, "domains"),
            }));
            if n == 0 || out.len() >= total {
                break;
            }
        }
        Ok(out)
    }

    /// Whether `email` belongs to a user under this agent.
    pub async fn user_is_under(&self, email: &str) -> Result<bool> {
        match self.call("User.Under", &p(&[("user_email", email)])).await {
            Ok(_) => Ok(true),
            Err(Error::Upstream { code, .. }) if code == "8" => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub async fn transfer_user(&self, user_id: &str, agent_id: &str) -> Result<()> {
        self.call(
            "User.Transfer",
            &p(&[("user_id", user_id), ("agent_id", agent_id)]),
        )
        .await
        .map(|_| ())
    }

    /// Creates a user under the agent; returns its DNSPod user id.
    pub async fn create_user(&self, user: &NewUser) -> Result<String> {
        let mut params = p(&[
            ("email", &user.email),
            ("password", &user.password),
            (
                "user_type",
                if user.enterprise {
                    "enterprise"
                } else {
                    "personal"
                },
            ),
            ("real_name", &user.real_name),
            ("telephone", &user.telephone),
            ("ip_addr", &user.ip_addr),
        ]);
        if let (true, Some(card)) = (user.enterprise, &user.id_card) {
            params.push(("id_card".into(), card.clone()));
        }
        if let Some(im) = &user.im {
            params.push(("im".into(), im.clone()));
        }
        let doc = self.call("User.Create", &params).await?;
        Ok(doc.get("user").map(|u| field(u, "id")).unwrap_or_default())
    }

    pub async fn verify_user_email(&self, user_id: &str) -> Result<()> {
        self.call("Verify.Email", &p(&[("user_id", user_id)]))
            .await
            .map(|_| ())
    }

    pub async fn verify_user_telephone(&self, user_id: &str, telephone: &str) -> Result<()> {
        self.call(
            "Verify.Telephone",
            &p(&[("user_id", user_id), ("telephone", telephone)]),
        )
        .await
        .map(|_| ())
    }

    pub async fn products(&self) -> Result<Vec<Product>> {
        self.call_as("Product.List", &Vec::new(), |doc| {
            items(&doc, "products")
                .iter()
                .map(|pr| {
                    Ok(Product {
                        grade: field(pr, "name"),
                        user_type: field(pr, "type"),
                        title: field(pr, "title"),
                        prices: items(pr, "prices")
                            .iter()
                            .map(|x| {
                                Ok(ProductPrice {
                                    term: field(x, "price_name"),
                                    title: field(x, "price_title"),
                                    price: decimal(x, "price_value")?,
                                    days: u32::try_from(num(x, "price_days")).unwrap_or(0),
                                })
                            })
                            .collect::<std::result::Result<_, String>>()?,
                    })
                })
                .collect()
        })
        .await
    }

    /// Upgrades or renews a user's domain to a VIP grade, paid from the agent balance.
    pub async fn upgrade_domain(
        &self,
        domain: &str,
        grade: &str,
        term: &str,
        user_ip: &str,
        notice_email: &str,
    ) -> Result<Upgrade> {
        // The upgrade is paid once accepted: an unreadable bill must not look like a
        // failure a caller would retry and pay twice, so the exchange makes it an unknown
        // outcome.
        self.call_as(
            "Domain.Upgrade",
            &p(&[
                ("domain", domain),
                ("grade", grade),
                ("term", term),
                ("ip_addr", user_ip),
                ("notice_email", notice_email),
            ]),
            |doc| {
                let d = doc.get("domain").cloned().unwrap_or(Value::Null);
                let bill = doc.get("bill").cloned().unwrap_or(Value::Null);
                let agent = doc.get("agent").cloned().unwrap_or(Value::Null);
                let money = |v: &Value, key: &str| {
                    decimal(v, key).map_err(|e| format!("upgrade accepted, bill unreadable: {e}"))
                };
                Ok(Upgrade {
                    domain: field(&d, "domain"),
                    grade: field(&d, "grade"),
                    vip_start: field(&d, "vip_start_at"),
                    vip_end: field(&d, "vip_end_at"),
                    user_price: money(&bill, "user_price")?,
                    agent_price: money(&bill, "agent_price")?,
                    agent_balance: money(&agent, "balance")?,
                    journal_number: field(&bill, "journal_number"),
                })
            },
        )
        .await
    }

    // ------------------------------------------------------------ DNS helpers

    fn domain_param(zone: &str) -> (String, String) {
        if !zone.is_empty() && zone.bytes().all(|b| b.is_ascii_digit()) {
            ("domain_id".into(), zone.into())
        } else {
            ("domain".into(), zone.trim_end_matches('.').to_lowercase())
        }
    }

    /// Every record of a zone as DNSPod reports it (all pages of `Record.List`).
    pub async fn raw_records(&self, zone: &str) -> Result<Vec<Value>> {
        let mut out: Vec<Value> = Vec::new();
        loop {
            let params = vec![
                Self::domain_param(zone),
                ("offset".into(), out.len().to_string()),
                ("length".into(), PAGE.to_string()),
            ];
            let doc = match self.call("Record.List", &params).await {
                Err(Error::Upstream { code, .. }) if code == "10" => break,
                other => other?,
            };
            let page = items(&doc, "records");
            let total = doc.get("info").map_or(0, |i| num(i, "record_total")) as usize;
            let n = page.len();
            out.extend(page);
            if n == 0 || out.len() >= total {
                break;
            }
        }
        Ok(out)
    }

    fn to_record(zone: &str, r: &Value) -> Option<DnsRecord> {
        let rtype = RecordType::from_str(&field(r, "type")).ok()?;
        let mx = num(r, "mx");
        Some(DnsRecord {
            zone: zone.to_string(),
            host: field(r, "name"),
            rtype,
            value: field(r, "value"),
            ttl: u32::try_from(num(r, "ttl")).unwrap_or(0),
            line: neutral_line(&field(r, "line")),
            priority: (rtype == RecordType::Mx).then(|| u16::try_from(mx).unwrap_or(0)),
            enabled: field(r, "enabled") != "0",
            upstream_id: Some(field(r, "id")),
        })
    }

    /// The record as written, from what was sent (DNSPod answers only with its id).
    fn written(zone: &str, record: &RecordInput, id: String, enabled: bool) -> DnsRecord {
        DnsRecord {
            zone: zone.to_string(),
            host: host_of(record).to_string(),
            rtype: record.rtype,
            value: record.value.clone(),
            ttl: record.ttl,
            line: record
                .line
                .clone()
                .filter(|l| vendor_line(Some(l)) != "默认"),
            priority: record.priority.filter(|_| record.rtype == RecordType::Mx),
            enabled,
            upstream_id: Some(id),
        }
    }

    fn record_params(zone: &str, input: &RecordInput) -> Params {
        let mut params = vec![
            Self::domain_param(zone),
            ("sub_domain".into(), host_of(input).to_string()),
            ("record_type".into(), input.rtype.as_str().to_string()),
            ("record_line".into(), vendor_line(input.line.as_deref())),
            ("value".into(), input.value.clone()),
            ("ttl".into(), input.ttl.to_string()),
        ];
        if input.rtype == RecordType::Mx {
            params.push(("mx".into(), input.priority.unwrap_or(10).to_string()));
        }
        params
    }
}

/// The account's (for an agent: the agent account's) spendable balance, from
/// `User.Detail`. DNSPod grants no credit line.
#[async_trait]
impl Billing for DnspodClient {
    async fn balance(&self) -> Result<Balance> {
        self.call_as("User.Detail", &Params::new(), |doc| {
            let user = doc
                .get("info")
                .and_then(|i| i.get("user"))
                .cloned()
                .unwrap_or(Value::Null);
            Ok(Balance {
                available: Money(decimal(&user, "balance")?),
                credit: Money::ZERO,
            })
        })
        .await
    }

    /// DNSPod keeps no finance record an API call can read: `User.Log` lists actions
    /// without amounts, and a `Domain.Upgrade` bill (its `journal_number`) is only in the
    /// answer. The statement check for DNSPod is the agent balance against the ledger.
    async fn charges(&self, since: jiff::Timestamp) -> Result<Vec<idcgate_core::Charge>> {
        let _ = since;
        Err(Error::unsupported(
            Vendor::Dnspod,
            "reading its finance record (the API has none: User.Log carries no amounts and Domain.Upgrade bills appear only in its answer; compare the agent balance instead)",
        ))
    }
}

#[async_trait]
impl Dns for DnspodClient {
    async fn list_zones(&self) -> Result<Vec<Zone>> {
        let mut out = Vec::new();
        loop {
            let params = p(&[
                ("type", "mine"),
                ("offset", &out.len().to_string()),
                ("length", &PAGE.to_string()),
            ]);
            let doc = match self.call("Domain.List", &params).await {
                Err(Error::Upstream { code, .. }) if code == "9" => break,
                other => other?,
            };
            let page = items(&doc, "domains");
            let total = doc.get("info").map_or(0, |i| num(i, "domain_total")) as usize;
            let answered = doc
                .pointer("/status/created_at")
                .map(scalar)
                .unwrap_or_default();
            let n = page.len();
            out.extend(page.iter().map(|d| Zone {
                name: field(d, "name"),
                upstream_id: Some(field(d, "id")),
                record_count: u32::try_from(num(d, "records")).ok(),
                marker: change_marker(d, &answered),
            }));
            if n == 0 || out.len() >= total {
                break;
            }
        }
        Ok(out)
    }

    async fn list_records(&self, zone: &str) -> Result<Vec<DnsRecord>> {
        let name = zone.trim_end_matches('.').to_lowercase();
        Ok(self
            .raw_records(zone)
            .await?
            .iter()
            .filter_map(|r| {
                let rec = Self::to_record(&name, r);
                if rec.is_none() {
                    tracing::debug!(vendor = "dnspod", rtype = %field(r, "type"), "record type outside the unified model skipped");
                }
                rec
            })
            .collect())
    }

    async fn create_record(&self, zone: &str, record: &RecordInput) -> Result<DnsRecord> {
        let params = Self::record_params(zone, record);
        let id = match self.call("Record.Create", &params).await {
            Ok(doc) => doc
                .get("record")
                .map(|r| field(r, "id"))
                .unwrap_or_default(),
            // Identical record already there: what the caller wanted exists (a retried
            // create after an unknown outcome lands here).
            Err(Error::Upstream { code, message, .. })
                if code == "31" && message.contains("already exists") =>
            {
                let host = host_of(record);
                let line = vendor_line(record.line.as_deref());
                self.raw_records(zone)
                    .await?
                    .iter()
                    .find(|r| {
                        field(r, "name") == host
                            && field(r, "type") == record.rtype.as_str()
                            && field(r, "line") == line
                            && field(r, "value").eq_ignore_ascii_case(&record.value)
                    })
                    .map(|r| field(r, "id"))
                    .ok_or_else(|| Error::upstream("dnspod", code, message))?
            }
            Err(e) => return Err(e),
        };
        Ok(Self::written(zone, record, id, true))
    }

    async fn update_record(&self, zone: &str, id: &str, record: &RecordInput) -> Result<DnsRecord> {
        let mut params = Self::record_params(zone, record);
        params.push(("record_id".into(), id.to_string()));
        // `call` compares with the current record and does not send a no-op.
        let doc = self.call("Record.Modify", &params).await?;
        let enabled = doc
            .get("record")
            .map(|r| field(r, "status"))
            .is_none_or(|s| s != "disable");
        Ok(Self::written(zone, record, id.to_string(), enabled))
    }

    async fn delete_record(&self, zone: &str, id: &str) -> Result<()> {
        let params = vec![
            Self::domain_param(zone),
            ("record_id".into(), id.to_string()),
        ];
        self.call("Record.Remove", &params).await.map(|_| ())
    }

    async fn set_record_enabled(&self, zone: &str, id: &str, enabled: bool) -> Result<()> {
        let params = vec![
            Self::domain_param(zone),
            ("record_id".into(), id.to_string()),
            (
                "status".into(),
                if enabled { "enable" } else { "disable" }.to_string(),
            ),
        ];
        self.call("Record.Status", &params).await.map(|_| ())
    }

    async fn create_zone(&self, zone: &str) -> Result<Zone> {
        let name = zone.trim_end_matches('.').to_lowercase();
        let doc = self
            .call("Domain.Create", &vec![("domain".into(), name.clone())])
            .await?;
        Ok(Zone {
            name,
            upstream_id: doc.get("domain").map(|d| field(d, "id")),
            record_count: None,
            marker: None,
        })
    }

    async fn lines(&self, zone: &str) -> Result<Vec<String>> {
        let info = self
            .call("Domain.Info", &vec![Self::domain_param(zone)])
            .await?;
        let grade = info
            .get("domain")
            .map(|d| field(d, "grade"))
            .unwrap_or_default();
        let doc = self
            .call(
                "Record.Line",
                &vec![Self::domain_param(zone), ("domain_grade".into(), grade)],
            )
            .await?;
        Ok(items(&doc, "lines")
            .iter()
            .map(|l| {
                let name = scalar(l);
                LINES
                    .iter()
                    .find(|(v, _)| *v == name)
                    .map_or(name.clone(), |(_, n)| n.to_string())
            })
            .collect())
    }
}
