//! West.cn (西部数码) API v2 for idcgate: spec, client, simulator, capabilities.
//!
//! Owns: West's wire format — token auth (`username`, `time` in Unix milliseconds,
//! `token = md5(username + api_password + time)`, sent in the query string so the
//! per-call token never sits in a logged body), GBK form encoding (text GBK cannot
//! carry is refused as invalid input), the
//! `result/clientid/data/msg/errcode` envelope and its error codes, the older record API
//! (`/v2/domain/dns/`, `dnsrec.*`, `{code,msg,body}` envelope) — and a stateful
//! simulator of all of it behind one account.
//!
//! Must not know: storage, the engine, our REST surface or any other vendor. Nothing
//! above this crate sees a West field name: callers get core model types and errors.
//!
//! Credentials (keys in `UpstreamAccount::credentials`):
//! - `username` — the West.cn account name;
//! - `api_password` — the API password set in the West console (secret);
//! - `templateid` (optional) — contact template used by `Registrar::register`; without
//!   it the first real-name-verified template of the account is used.
//!
//! The sandbox account of [`Sim::sandbox`] is `username=idcgate-demo`,
//! `api_password=Sandbox-Pass-2024` ([`Simulator::sandbox_credentials`] returns them
//! under the keys above). Tests steer the simulator with `Sim::set_ip_allowlist`
//! (errcode 10002 for other callers), `Sim::advance` (token expiry, expiry dates,
//! migrations), `Sim::set_balance` and `Sim::seed_bulk`.
//!
//! Choices where the document is silent are recorded in `spec.tsv` (notes column); the
//! error codes the client and the simulator share are [`errors::ERRORS`] — the
//! insufficient-balance errcode (40001, [`errors::code::BALANCE`]) is ours, and the
//! client also recognises the live text `余额不足`.
//!
//! [`Simulator::sandbox_credentials`]: idcgate_wire::Simulator::sandbox_credentials

mod capability;
mod client;
mod onboarding;
pub use onboarding::ONBOARDING;
pub mod errors;
#[doc(hidden)]
pub mod fuzzing;
mod purchase;
pub mod sim;
mod spec;

pub use client::{WestClient, WestProtocol};
pub use sim::Sim;
pub use spec::spec;

use idcgate_core::{Connection, Result, UpstreamAccount};
use idcgate_wire::WireConfig;
use std::sync::Arc;

/// Builds a connection for an account (`base_url` = scheme://host:port of the upstream,
/// optionally followed by `/api`).
pub fn connect(account: &UpstreamAccount, cfg: &WireConfig) -> Result<Arc<dyn Connection>> {
    Ok(Arc::new(WestClient::new(account, cfg)?))
}

/// `md5(username + api_password + time)` as lowercase hex, West's auth token.
pub fn token(username: &str, api_password: &str, time_ms: &str) -> String {
    md5_hex(&format!("{username}{api_password}{time_ms}"))
}

pub(crate) fn md5_hex(s: &str) -> String {
    use md5::{Digest, Md5};
    hex::encode(Md5::digest(s.as_bytes()))
}
