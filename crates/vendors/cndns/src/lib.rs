//! CNDNS (美橙互联) reseller API v2.2.1 for idcgate: spec, client, simulator, capabilities.
//!
//! Owns: CNDNS's wire format — every call a GET with all parameters in a UTF-8 query
//! (DomainAudit's base64 images are POSTed), the auth triple `username`, `otime`
//! (`yyyyMMddHHmmssfff`, China time, same day, never reused) and
//! `checksum = md5(username + md5(api_password) + otime + email)`, the
//! `{"action","status","message"}` envelope with `"<5-digit code> <text>"` failures,
//! the tolerant decoding live answers need (JSON wrapped in HTML or JSONP, over-escaped
//! quotes, JSON inside a string, single broken list items) — and a stateful simulator of
//! all of it behind one account.
//!
//! Must not know: storage, the engine, our REST surface or any other vendor. Nothing
//! above this crate sees a CNDNS field name: callers get core model types and errors.
//!
//! Credentials (keys in `UpstreamAccount::credentials`):
//! - `username` — the cndns.com member name;
//! - `api_password` — the API password set under API 管理 (secret);
//! - `email` — the e-mail address on file at cndns.com (part of the checksum);
//! - `contact_id` (optional) — contact (`userid`) used by `Registrar::register`; without
//!   it the first audited contact of the account is used.
//!
//! The sandbox account of [`Sim::sandbox`] is `username=idcgate-demo`,
//! `api_password=Sandbox-Pass-2024`, `email=demo@idcgate.invalid` (what
//! `Simulator::sandbox_credentials` returns). Tests steer the simulator with
//! `Sim::set_ip_allowlist` (10001 for other callers), `Sim::set_quirk` (the live answers'
//! malformations, see [`Quirk`]), `Sim::advance` / `Sim::set_now` (the simulator
//! host's clock: expiry and the same-day `otime` rule),
//! `Sim::set_balance` and `Sim::seed_bulk`.
//!
//! Hosts: `api.cndns.com` is the account's `base_url`; the document's two other hosts
//! (`dmcheck.cndns.com/check.aspx`, `support.cndns.com/api/*.aspx`) are reached at the
//! same base URL with their own paths, which is also how the simulator serves them.
//!
//! Capabilities: Registrar, Dns, Compute (橙云 cloud hosts), Billing (balance only: the
//! API keeps no per-charge record, so `charges` is `Unsupported`) and Purchasing
//! (domains, 橙云 hosts and hosting; what is left out and why is in `purchase.rs`).
//! The document (v2.2.1, all 216 actions) has no call that lists what the account owns:
//! - the `*list` calls of the products list plans for sale (`HostList`, `dblist`,
//!   `cloudlist`, DDOS/百度云/阿里云 `ProductInfo`, the `getUpgradelist`s);
//! - `ContactList` lists contacts (templates), not domains; `checkAuditResult` answers
//!   per named domain or template, and only for submitted real-name documents;
//! - the remaining lists sit under one product the caller must already name:
//!   `RecList` (a domain's records — used by `Dns::list_records`), `getMailboxList`
//!   (a gift mail domain's mailboxes), sitestar `getDomainLst` and CDN `Dmelist` (the
//!   domains bound to one site or package), `TicketList` (coupons).
//!
//! Every detail call (`DomainDetail`, `HostDetail`, `DBDetail`, `getMailDetail`,
//! `CloudInfo`, …) requires the product's name. So `Registrar::list_domains`,
//! `Dns::list_zones`, `Compute::list_servers` and `WebHosting::list_sites` answer
//! `Unsupported` (WebHosting is served for a host's start, stop, FTP password and
//! domain binding by its FTP name); Databases and Mail — whose only method is such a
//! listing — are not served (those products are fully reachable through
//! `Connection::call`). Compute cannot pass a
//! system password, so hosts built or reinstalled through it get a random one: set a
//! known one with `reset_password`.
//!
//! An answer with a broken part (a list item that is not JSON, a payload that cannot be
//! read) is unreadable, for `list_records` and a raw `call` alike: a read is asked again
//! and then fails, a write's outcome is unknown. Never a shorter list or a `null`.
//!
//! Choices where the document is silent or wrong are recorded in `spec.tsv` (notes).

mod capability;
mod client;
mod onboarding;
pub use onboarding::ONBOARDING;
mod decode;
pub mod errors;
#[doc(hidden)]
pub mod fuzzing;
mod purchase;
pub mod sim;
mod spec;

pub use client::{CndnsClient, CndnsProtocol};
pub use errors::ERRORS;
pub use sim::{Quirk, Sim};
pub use spec::spec;

use idcgate_core::{Connection, Result, UpstreamAccount};
use idcgate_wire::WireConfig;
use std::sync::Arc;

/// Builds a connection for an account (`base_url` = scheme://host:port of the upstream).
pub fn connect(account: &UpstreamAccount, cfg: &WireConfig) -> Result<Arc<dyn Connection>> {
    Ok(Arc::new(CndnsClient::new(account, cfg)?))
}

/// `md5(username + md5(api_password) + otime + email)` as lowercase hex.
pub fn checksum(username: &str, api_password: &str, otime: &str, email: &str) -> String {
    md5_hex(&format!(
        "{username}{}{otime}{email}",
        md5_hex(api_password)
    ))
}

pub(crate) fn md5_hex(s: &str) -> String {
    use md5::{Digest, Md5};
    hex::encode(Md5::digest(s.as_bytes()))
}

/// China time (UTC+8), the zone of every CNDNS time.
pub(crate) fn china(ms: i64) -> jiff::Zoned {
    let ts = jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    ts.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}
