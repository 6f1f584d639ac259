//! The unified inventory model. Every vendor maps its own shapes onto these; nothing
//! here carries a vendor field name. Times are UTC (`jiff::Timestamp`); vendors convert
//! from China time (UTC+8) at their edge.

use crate::money::Money;
use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// The upstream systems idcgate speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    West,
    Cndns,
    Dnspod,
    Zonkvm,
    Xensystem,
}

crate::word_enum!(Vendor {
    West => "west",
    Cndns => "cndns",
    Dnspod => "dnspod",
    Zonkvm => "zonkvm",
    Xensystem => "xensystem",
});

/// The one of `all` whose word `s` is, in any ASCII case and with space around it:
/// how people type vendors and record types.
fn spelled<T: Copy, const N: usize>(
    all: [T; N],
    word: fn(T) -> &'static str,
    s: &str,
) -> Option<T> {
    all.into_iter()
        .find(|t| word(*t).eq_ignore_ascii_case(s.trim()))
}

impl FromStr for Vendor {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        spelled(Vendor::ALL, Vendor::as_str, s).ok_or_else(|| {
            crate::Error::invalid(
                "vendor",
                format!("unknown vendor {s:?} (expected west, cndns, dnspod, zonkvm or xensystem)"),
            )
        })
    }
}

/// Named secret values (api keys, passwords, tokens). `Debug` never shows the values.
#[derive(Clone, Default)]
pub struct Credentials(BTreeMap<String, SecretString>);

impl Credentials {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.insert(key, value);
        self
    }

    pub fn insert(&mut self, key: &str, value: &str) {
        self.0
            .insert(key.to_string(), SecretString::from(value.to_string()));
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|s| s.expose_secret())
    }

    /// Drops a key; whether it was there.
    pub fn remove(&mut self, key: &str) -> bool {
        self.0.remove(key).is_some()
    }

    /// The value, or an error naming the missing credential field.
    pub fn require(&self, key: &str) -> crate::Result<&str> {
        self.get(key)
            .ok_or_else(|| crate::Error::invalid(format!("credentials.{key}"), "missing"))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Every secret value; used by log redaction.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.0.values().map(|s| s.expose_secret())
    }

    /// Plain JSON for encryption at rest. The caller must encrypt it before storing.
    pub fn to_plain_json(&self) -> String {
        let map: BTreeMap<&str, &str> = self
            .0
            .iter()
            .map(|(k, v)| (k.as_str(), v.expose_secret()))
            .collect();
        serde_json::to_string(&map).unwrap_or_default()
    }

    pub fn from_plain_json(json: &str) -> crate::Result<Self> {
        let map: BTreeMap<String, String> = serde_json::from_str(json)
            .map_err(|e| crate::Error::invalid("credentials", e.to_string()))?;
        let mut c = Credentials::new();
        for (k, v) in map {
            c.insert(&k, &v);
        }
        Ok(c)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, "[redacted]")))
            .finish()
    }
}

/// A configured upstream account.
#[derive(Debug, Clone)]
pub struct UpstreamAccount {
    /// Local, human-chosen name (unique).
    pub name: String,
    pub vendor: Vendor,
    pub base_url: String,
    pub credentials: Credentials,
    /// Requests per second allowed toward this account's upstream.
    pub rate_limit_per_sec: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DomainStatus {
    Active,
    Pending,
    Expired,
    Locked,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    pub name: String,
    pub status: DomainStatus,
    pub registered_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub nameservers: Vec<String>,
    pub auto_renew: bool,
    pub upstream_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RecordType {
    A,
    Aaaa,
    Cname,
    Mx,
    Txt,
    Ns,
    Srv,
    Caa,
}

crate::word_enum!(RecordType {
    A => "A",
    Aaaa => "AAAA",
    Cname => "CNAME",
    Mx => "MX",
    Txt => "TXT",
    Ns => "NS",
    Srv => "SRV",
    Caa => "CAA",
});

impl FromStr for RecordType {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        spelled(RecordType::ALL, RecordType::as_str, s)
            .ok_or_else(|| crate::Error::invalid("type", format!("unsupported record type {s:?}")))
    }
}

/// A DNS record. `host` is relative to the zone (`@` for the apex). `line` is the
/// vendor-neutral resolution line: `None` = default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsRecord {
    pub zone: String,
    pub host: String,
    pub rtype: RecordType,
    pub value: String,
    pub ttl: u32,
    pub line: Option<String>,
    pub priority: Option<u16>,
    pub enabled: bool,
    pub upstream_id: Option<String>,
}

/// A record to create or the new content of an existing one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordInput {
    pub host: String,
    pub rtype: RecordType,
    pub value: String,
    pub ttl: u32,
    pub line: Option<String>,
    pub priority: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    pub name: String,
    pub upstream_id: Option<String>,
    pub record_count: Option<u32>,
    /// A value the upstream changes whenever the zone's records change, given only where
    /// the vendor crate can promise that every later change moves it (DNSPod's
    /// `updated_on` and record count, read strictly after that second ended). `None`:
    /// the zone is listed at every sync. Sync keeps it apart from the inventory.
    #[serde(skip)]
    pub marker: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerKind {
    #[default]
    Cloud,
    Vps,
    Dedicated,
    Colocation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PowerState {
    Running,
    Stopped,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleState {
    Provisioning,
    Active,
    Suspended,
    Locked,
    Expired,
    Deleted,
}

/// Names a server filter may use: every lifecycle state and every power state, as they
/// serialize.
pub const SERVER_STATES: [&str; 9] = [
    "provisioning",
    "active",
    "suspended",
    "locked",
    "expired",
    "deleted",
    "running",
    "stopped",
    "unknown",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disk {
    pub size_gb: u32,
    pub system: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Server {
    pub upstream_id: String,
    pub name: String,
    pub kind: ServerKind,
    pub region: Option<String>,
    pub plan: Option<String>,
    pub cpu: u32,
    pub ram_mb: u32,
    pub disks: Vec<Disk>,
    /// Mbps; 0 = unlimited.
    pub bandwidth_mbps: u32,
    pub ips: Vec<String>,
    pub os_image: Option<String>,
    pub power: PowerState,
    pub lifecycle: LifecycleState,
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsImage {
    pub id: String,
    pub name: String,
    pub region: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub id: String,
    pub name: String,
    pub cpu: u32,
    pub ram_mb: u32,
    pub disk_gb: u32,
    pub bandwidth_mbps: u32,
    pub monthly_price: Option<Money>,
    /// What a server of this plan is (a cloud server, a leased dedicated machine, a
    /// colocated one).
    #[serde(default)]
    pub kind: ServerKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComputeCatalog {
    pub regions: Vec<Region>,
    pub images: Vec<OsImage>,
    pub plans: Vec<Plan>,
}

/// What to create. `region`, `image`, `plan` are ids from the catalog; explicit sizes
/// override the plan where the vendor allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ServerSpec {
    pub name: String,
    pub region: String,
    pub image: String,
    pub plan: Option<String>,
    pub cpu: Option<u32>,
    pub ram_mb: Option<u32>,
    pub disk_gb: Option<u32>,
    pub bandwidth_mbps: Option<u32>,
    pub months: Option<u32>,
    /// Vendor-specific owner (e.g. a panel user id) where the vendor requires one.
    pub owner: Option<String>,
    /// Client-chosen idempotency key, passed upstream where the vendor accepts one.
    pub client_order_id: Option<String>,
}

/// What to change; a `None` stays as it is, so `Default` changes nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resize {
    pub cpu: Option<u32>,
    pub ram_mb: Option<u32>,
    pub disk_gb: Option<u32>,
    pub bandwidth_mbps: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PowerAction {
    Start,
    Stop,
    Reboot,
    ForceStop,
    ForceReboot,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backup {
    pub id: String,
    pub name: String,
    pub full: bool,
    pub created_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleSession {
    pub url: String,
    pub expires_at: Option<Timestamp>,
}

/// A management operation on a hosting site or a database, in vendor-neutral terms.
#[derive(Clone, PartialEq, Eq)]
pub enum SiteAction {
    Start,
    Stop,
    /// A new password: a site's FTP account, a database's user.
    Password(String),
    /// The domains bound to a site.
    Domains,
    /// Binds a domain (`name` or `name:port`) to a site.
    AddDomain(String),
    RemoveDomain(String),
}

impl SiteAction {
    /// What the audit log and an error name it by (never the password).
    pub fn name(&self) -> &'static str {
        match self {
            SiteAction::Start => "start",
            SiteAction::Stop => "stop",
            SiteAction::Password(_) => "password",
            SiteAction::Domains => "domains",
            SiteAction::AddDomain(_) => "add domain",
            SiteAction::RemoveDomain(_) => "remove domain",
        }
    }
}

impl std::fmt::Debug for SiteAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SiteAction::AddDomain(d) | SiteAction::RemoveDomain(d) => {
                write!(f, "{}({d})", self.name())
            }
            _ => f.write_str(self.name()),
        }
    }
}

/// One operation of a site's or database's control panel that the downstream dialect
/// and the upstream speak alike (Zonkvm's panel behind `hosting_operate` /
/// `sql_operate`, resold as it is): the upstream's own operation name and fields. The
/// dialect chooses both from a closed list; the vendor crate checks them again before
/// anything is sent. Values may be secret (a certificate's private key), so `Debug`
/// shows the field names only, and of a file its size.
#[derive(Clone, PartialEq, Eq)]
pub struct PanelCall {
    pub operation: String,
    pub fields: Vec<(String, String)>,
    /// The file an upload carries (`hosting_upload`'s chunk), as bytes: images and
    /// archives are not text.
    pub file: Option<PanelFile>,
}

impl PanelCall {
    /// A call of text fields alone.
    pub fn new(operation: impl Into<String>, fields: Vec<(String, String)>) -> Self {
        PanelCall {
            operation: operation.into(),
            fields,
            file: None,
        }
    }
}

impl std::fmt::Debug for PanelCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.fields.iter().map(|(k, _)| k.as_str()).collect();
        write!(f, "{}{names:?}", self.operation)?;
        match &self.file {
            Some(file) => write!(f, " {file:?}"),
            None => Ok(()),
        }
    }
}

/// A file sent to a panel: its name and its bytes as they are (0x00-0xFF).
#[derive(Clone, PartialEq, Eq)]
pub struct PanelFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The size only: neither the content nor the tenant's name for it.
impl std::fmt::Debug for PanelFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "file({} bytes)", self.bytes.len())
    }
}

/// One point of a server's traffic graph: the rates the upstream measured in the
/// interval starting at `at`, in bits per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrafficSample {
    pub at: Timestamp,
    pub in_bps: u64,
    pub out_bps: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostingSite {
    pub upstream_id: String,
    pub name: String,
    pub plan: Option<String>,
    pub domains: Vec<String>,
    pub status: String,
    pub expires_at: Option<Timestamp>,
    /// Where the site's files live on its node, where the upstream says (Zonkvm's
    /// `path`): the panel's file operations and uploads take paths under it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Database {
    pub upstream_id: String,
    pub name: String,
    pub engine: String,
    pub size_mb: Option<u32>,
    pub status: String,
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailDomain {
    pub upstream_id: String,
    pub domain: String,
    pub mailbox_quota: Option<u32>,
    pub status: String,
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailbox {
    pub address: String,
    pub quota_mb: Option<u32>,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    pub upstream_id: String,
    pub common_name: String,
    pub product: String,
    pub status: String,
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    pub available: Money,
    pub credit: Money,
}

/// What a purchase or renewal would cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceQuote {
    pub product: String,
    pub period_months: u32,
    pub price: Money,
}

impl PriceQuote {
    /// A registrar's quote for `years` of `name`: product `domain:{name}`, or
    /// `domain-renew:{name}` for a renewal (the names the orders carry too).
    pub fn domain(name: &str, years: u32, renewal: bool, price: Money) -> Self {
        let what = if renewal { "domain-renew" } else { "domain" };
        PriceQuote {
            product: format!("{what}:{name}"),
            period_months: years * 12,
            price,
        }
    }
}

/// One charge in a vendor's finance record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    pub at: Timestamp,
    /// What was taken from the account (positive).
    pub amount: Money,
    /// The vendor's order id, when its record names one.
    pub reference: Option<String>,
    /// The vendor's own description (it usually names the product).
    pub memo: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// Written, not yet sent: nothing can have happened upstream.
    Pending,
    /// Recorded as about to be sent, before the upstream call: if the process dies
    /// now, only reading the upstream can tell what happened.
    Submitted,
    Succeeded,
    Failed,
    /// Sent, answer lost: reconcile by reading the upstream before anything else.
    Unknown,
}

crate::word_enum!(OrderState {
    Pending => "pending",
    Submitted => "submitted",
    Succeeded => "succeeded",
    Failed => "failed",
    Unknown => "unknown",
});

impl OrderState {
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// The journal's state machine: `pending → submitted → succeeded | failed |
    /// unknown`, `unknown → succeeded | failed` (only by reconciliation, which reads the
    /// upstream), and `pending → failed` for an order never sent.
    pub fn may_become(self, next: OrderState) -> bool {
        use OrderState::*;
        matches!(
            (self, next),
            (Pending, Submitted)
                | (Pending, Failed)
                | (Submitted, Succeeded | Failed | Unknown)
                | (Unknown, Succeeded | Failed)
        )
    }

    pub fn is_final(self) -> bool {
        matches!(self, OrderState::Succeeded | OrderState::Failed)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: String,
    pub product: String,
    pub amount: Money,
    pub state: OrderState,
    pub upstream_id: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    Domain,
    DnsZone,
    DnsRecord,
    Server,
    HostingSite,
    Database,
    MailDomain,
    Certificate,
    Balance,
}

crate::word_enum!(ResourceKind {
    Domain => "domain",
    DnsZone => "dns_zone",
    DnsRecord => "dns_record",
    Server => "server",
    HostingSite => "hosting_site",
    Database => "database",
    MailDomain => "mail_domain",
    Certificate => "certificate",
    Balance => "balance",
});

impl FromStr for ResourceKind {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ResourceKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| crate::Error::invalid("kind", format!("unknown resource kind {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_states_are_the_serialized_names() {
        let lifecycle = [
            LifecycleState::Provisioning,
            LifecycleState::Active,
            LifecycleState::Suspended,
            LifecycleState::Locked,
            LifecycleState::Expired,
            LifecycleState::Deleted,
        ];
        let power = [
            PowerState::Running,
            PowerState::Stopped,
            PowerState::Unknown,
        ];
        let names: Vec<String> = lifecycle
            .iter()
            .map(|l| serde_json::to_value(l).unwrap())
            .chain(power.iter().map(|p| serde_json::to_value(p).unwrap()))
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert_eq!(names, SERVER_STATES);
    }

    #[test]
    fn credentials_debug_hides_values() {
        let c = Credentials::new().with("api_key", "s3cr3t-value");
        let shown = format!("{c:?}");
        assert!(shown.contains("api_key"));
        assert!(!shown.contains("s3cr3t-value"));
    }

    #[test]
    fn a_panel_calls_debug_shows_names_and_a_files_size_only() {
        let mut call = PanelCall::new(
            "hosting_upload",
            vec![("contents_path".into(), "/www/secret-dir".into())],
        );
        call.file = Some(PanelFile {
            name: "secret-name.zip".into(),
            bytes: b"PK\x03\x04 secret-content".to_vec(),
        });
        let shown = format!("{call:?}");
        assert_eq!(shown, r#"hosting_upload["contents_path"] file(19 bytes)"#);
    }

    #[test]
    fn credentials_round_trip_plain_json() {
        let c = Credentials::new().with("a", "1").with("b", "两");
        let back = Credentials::from_plain_json(&c.to_plain_json()).unwrap();
        assert_eq!(back.get("b"), Some("两"));
    }

    #[test]
    fn vendor_parse_names_the_field() {
        assert_eq!("West".parse::<Vendor>().unwrap(), Vendor::West);
        let err = "nope".parse::<Vendor>().unwrap_err();
        assert!(matches!(err, crate::Error::InvalidInput { ref field, .. } if field == "vendor"));
    }
}
