//! DNSPod (dnsapi.cn): the legacy user API 4.6 and the agent (reseller) API 4.5.
//!
//! Owns: DNSPod's wire format — login parameters (`login_token` or `login_email` /
//! `login_password`, D令牌 `login_code` and the remembered `t<user_id>` cookie, the
//! agent's `user_id`), form encoding, JSON and XML decoding, the meaning of its status
//! codes per method, its abuse rules (halt after a login failure, never send a no-op
//! modification), the `Dns` capability, the agent's user management, VIP grades bought
//! through `Purchasing` (`Domain.Upgrade`), and a faithful stateful simulator ([`Sim`]).
//!
//! Must not know: storage, the engine's accounts/orders/ledger, other vendors, our own
//! REST surface. Nothing outside this crate sees a DNSPod field name.
//!
//! Credential keys (`UpstreamAccount::credentials`):
//! - `login_token` — `ID,Token` (preferred), or `login_email` + `login_password`;
//! - `user_id` (optional) — an agent acting for one of its users;
//! - `login_code` (optional) — a D令牌 code for the first call;
//! - `d_token_cookie` (optional) — `t<user_id>=value` remembered from an earlier login
//!   (see [`DnspodClient::remembered_cookie`]).

pub mod capability;
pub mod client;
mod onboarding;
pub use onboarding::ONBOARDING;
pub mod errors;
#[doc(hidden)]
pub mod fuzzing;
mod purchase;
pub mod sim;
pub mod spec;
mod xml;

pub use capability::{AgentUser, NewUser, Product, ProductPrice, Upgrade};
pub use client::{DnspodClient, DnspodProtocol, Format};
pub use errors::ERRORS;
pub use sim::Sim;
pub use spec::spec;

use idcgate_core::{Connection, Result, UpstreamAccount};
use idcgate_wire::WireConfig;
use std::sync::Arc;

/// A connection for an account (`base_url` = scheme://host:port of the upstream).
pub fn connect(account: &UpstreamAccount, cfg: &WireConfig) -> Result<Arc<dyn Connection>> {
    Ok(Arc::new(DnspodClient::new(account, cfg)?))
}

/// The concrete client, for DNSPod-only features (agent user management, D令牌).
pub fn connect_client(account: &UpstreamAccount, cfg: &WireConfig) -> Result<DnspodClient> {
    DnspodClient::new(account, cfg)
}
