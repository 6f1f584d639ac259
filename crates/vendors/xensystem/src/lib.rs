//! XenSystem (VPS control panel, API of 2015-2-5) for idcgate.
//!
//! Owns: everything about XenSystem's wire format — the action table (`spec.tsv`, all 56
//! catalog actions), the form-POST client with its two identities, decoding of the
//! panel's pipe text / JSON / JavaScript replies, the mapping to `Compute`, and a
//! stateful simulator of the panel ([`Sim`]).
//!
//! Must not know: other vendors, storage, the engine, or our own REST surface. Nothing
//! outside this crate sees a XenSystem field name.
//!
//! # Credentials
//!
//! | key            | system level                   | user level               |
//! |----------------|--------------------------------|--------------------------|
//! | `identity`     | `system`                       | `user` (the default)     |
//! | `api_username` | panel id (主控端识别码)         | the user's username      |
//! | `api_key`      | system API key                 | the user's API key       |
//!
//! `api_key` is a secret: it is registered with the redactor and never shown by `Debug`.
//!
//! # What `Connection::call` returns
//!
//! The panel answers in text (see `src/codec.rs` for the full table): `0|a|b` becomes
//! `{"code":0,"data":["a","b"]}`, `vm_state`'s `Running {..}` becomes
//! `{"code":0,"state":"Running","data":{..}}`, JSON passes through, `vm_stat`'s JQChart
//! script becomes `{"charttype":n,"title":..,"points":[[ms,value],..]}`, and `-1 message`
//! (or `-1|message`) becomes an error classified by its wording through [`errors::ERRORS`]:
//! `Authentication` for rejected keys or system-only commands at user level, `NotFound`,
//! `InvalidInput` naming the field, else `Upstream { code: "-1", message }` with the
//! panel's text verbatim.
//!
//! Subaction rows (`vm_backup#revert`, `vm_cmds#getData`) are called by their id; their
//! spec row's discriminator (`subaction#=revert`, `cmds#=getData`) is sent by the client
//! itself, replacing a caller's copy. Params naming a field the connection sets
//! (`identity`, `api_username`, `api_key`, `action`) are refused: the panel would receive
//! both values joined by a comma.

pub mod capability;
pub mod client;
mod onboarding;
pub use onboarding::ONBOARDING;
mod codec;
pub mod errors;
#[doc(hidden)]
pub mod fuzzing;
pub mod sim;
mod spec;
pub mod types;

pub use client::{Identity, XensystemClient, XensystemProtocol};
pub use sim::{Sim, SnapshotError};
pub use spec::spec;

use idcgate_core::{Connection, Result, UpstreamAccount};
use idcgate_wire::WireConfig;
use std::sync::Arc;

/// Builds a connection for an account (`base_url` = scheme://host:port of the panel).
pub fn connect(account: &UpstreamAccount, cfg: &WireConfig) -> Result<Arc<dyn Connection>> {
    Ok(Arc::new(XensystemClient::new(account, cfg)?))
}
