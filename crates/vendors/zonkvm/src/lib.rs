//! Zonkvm (a ThinkPHP finance system reselling cloud servers, dedicated servers,
//! colocation, web hosting and databases; "财务系统对接接口文档 v2.0") for idcgate.
//!
//! Owns: everything about Zonkvm's wire format — the action table (`spec.tsv`, all 144
//! catalog ids), the form-POST client to `/api/same/index`, decoding of ThinkPHP's
//! `{code,msg,data,url,wait}` envelope and its text-only errors, the mapping to
//! `Compute`, `WebHosting`, `Databases`, `Billing` (the statement check's charges, read
//! from the order records) and `Purchasing` (servers, hosting and databases: quoted,
//! bought once with our `client_order_id`, settled by listing; see `purchase.rs`), and
//! a stateful simulator of the finance
//! system ([`Sim`]) with a reseller balance, credit, orders and a finance ledger. A
//! write the simulator refuses changes nothing, whichever step refused it.
//!
//! Must not know: other vendors, storage, the engine, or our own REST surface. Nothing
//! outside this crate sees a Zonkvm field name.
//!
//! # Credentials
//!
//! | key      | meaning                          |
//! |----------|----------------------------------|
//! | `appid`  | the reseller's user id (用户ID)   |
//! | `appkey` | the reseller's API key (API密钥), secret: redacted, never in `Debug` |
//!
//! # What `Connection::call` returns
//!
//! Every answer is ThinkPHP's envelope. On `code == 1` `call` returns `data` when it
//! carries something (an object, an array, a number or a non-empty string); when `data`
//! is absent, `null` or `""` (what ThinkPHP's `success()` sends by default, e.g. for
//! power operations) it returns the whole envelope so the caller still sees `msg`.
//! `code == 0` becomes an error from `msg` alone (the document has no error codes),
//! classified through [`ERRORS`]: `权限不足` -> `Authentication`, `余额不足` ->
//! `InsufficientBalance`, `未找到产品记录` -> `NotFound`, `缺少必要参数[：field]` /
//! `参数错误：field` -> `InvalidInput` naming the field, `该线路节点不存在或已下架` ->
//! `InvalidInput(line_guid)`, `请求错误` (unknown action) -> `InvalidInput(action)`,
//! anything else -> `Upstream { code: "0", message }` verbatim. A body that is not the
//! envelope is retried for a read and an unknown outcome for a write (`idcgate_wire::
//! exchange`).
//!
//! `hosting_operate#hosting_upload` is the one row sent as multipart/form-data: `file` is
//! the chunk, its bytes as they are when bound as a file (`PanelCall::file`, through
//! `ActionSpec::bind_file`), else a text value's UTF-8 (`call` params are strings), and
//! `filename` names the file part.
//!
//! Five rows are implemented from a reading of the document their notes in `spec.tsv`
//! state (`[reading: ...]`): access statistics, `hosting_del_backup` (whose `guid` is
//! the backup record's id, not the hosting order's) and the three IIS-only SSL
//! operations (an IIS site is one running ASP; the document shows no answer for them).
//!
//! Sub-operation rows are called by id (`create_order#create_server`,
//! `hosting_operate#hosting_stop`); their spec rows declare the `obj_type` / `operate`
//! discriminator (`obj_type#=create_server`), which the client always sends.
//! Sub-fields of JSON parameters may be passed flat (`content.cpu=4`); the client folds
//! them into the one JSON form field the document asks for.
//!
//! # Server ids
//!
//! The document lets `guid` carry a prefix the server strips ("自动去除前缀(支持下划线
//! 格式)"). The capability layer uses that to keep the three server families apart:
//! `server_1001` (cloud), `lease_3` (dedicated), `idc_2` (colocation); a bare number is
//! a cloud server.

pub mod capability;
pub mod client;
mod onboarding;
pub use onboarding::ONBOARDING;
mod codec;
pub mod downstream;
pub mod errors;
#[doc(hidden)]
pub mod fuzzing;
pub mod panel;
mod purchase;
pub mod sim;
mod spec;

pub use client::{ZonkvmClient, ZonkvmProtocol, CRED_APPID, CRED_APPKEY};
pub use downstream::ZonkvmDialect;
pub use errors::ERRORS;
pub use sim::Sim;
pub use spec::spec;

use idcgate_core::{Connection, Result, UpstreamAccount};
use idcgate_wire::WireConfig;
use std::sync::Arc;

/// Builds a connection for an account (`base_url` = scheme://host:port of the finance
/// system; the document does not name a host).
pub fn connect(account: &UpstreamAccount, cfg: &WireConfig) -> Result<Arc<dyn Connection>> {
    Ok(Arc::new(ZonkvmClient::new(account, cfg)?))
}
