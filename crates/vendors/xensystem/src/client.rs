//! The client: the panel's [`Protocol`] (request encoding, reading its text replies) on
//! the shared [`Exchange`], and thin typed wrappers over it.
//!
//! Every request is a form POST to `process.aspx?c=api` carrying `identity`,
//! `api_username`, `api_key` and `Action` (always the current `vm_*` names), then a
//! subaction row's discriminator, then the action's own fields. Nothing is signed: the key
//! travels as is, so it is registered with the redactor before the first request.

use crate::codec::{self, Reply, Shape};
use crate::errors::{field_of, ERRORS, FAILURE};
use crate::spec::spec;
use crate::types::*;
use idcgate_core::capability::Params;
use idcgate_core::error::ErrorTable;
use idcgate_core::spec::{ActionSpec, Args, VendorSpec};
use idcgate_core::{Error, Result, UpstreamAccount};
use idcgate_wire::exchange::{Decoded, Exchange, Protocol, Refusal};
use idcgate_wire::{form, Charset, Redactor, WireConfig, WireRequest, WireResponse};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Credential names this crate reads from `UpstreamAccount::credentials`.
pub const CRED_IDENTITY: &str = "identity";
pub const CRED_API_USERNAME: &str = "api_username";
pub const CRED_API_KEY: &str = "api_key";

/// Fields the connection itself sends; a caller repeating one would send it twice, and
/// ASP.NET joins repeated fields with a comma (`user,system`).
const RESERVED: [&str; 4] = ["identity", "api_username", "api_key", "action"];

/// The two privilege levels of the panel's API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// Panel id + system API key: every command, every user's VMs.
    System,
    /// Username + that user's API key: own VMs only.
    User,
}

impl Identity {
    pub fn as_str(self) -> &'static str {
        match self {
            Identity::System => "system",
            Identity::User => "user",
        }
    }

    fn parse(s: Option<&str>) -> Result<Self> {
        // The document makes `user` the default level.
        match s.map(str::trim).unwrap_or("user") {
            "" | "user" => Ok(Identity::User),
            "system" => Ok(Identity::System),
            other => Err(Error::invalid(
                format!("credentials.{CRED_IDENTITY}"),
                format!("must be system or user, got {other:?}"),
            )),
        }
    }
}

/// How to talk to one panel as one identity.
pub struct XensystemProtocol {
    base_url: String,
    identity: Identity,
    api_username: String,
    api_key: String,
}

idcgate_core::debug_shows!(XensystemProtocol: base_url, identity, api_username);

impl Protocol for XensystemProtocol {
    const SPEC: fn() -> &'static VendorSpec = spec;
    const ERRORS: &'static ErrorTable = &ERRORS;

    fn admit(&self, _action: &ActionSpec, args: &Args<'_>) -> Result<()> {
        match args
            .pairs()
            .iter()
            .find(|(k, _)| RESERVED.iter().any(|r| k.eq_ignore_ascii_case(r)))
        {
            Some((k, _)) => Err(Error::invalid(
                k.as_str(),
                "set by the connection from its credentials",
            )),
            None => Ok(()),
        }
    }

    fn encode(&self, action: &ActionSpec, args: &Args<'_>) -> Result<WireRequest> {
        let url = format!("{}/{}", self.base_url, action.path);
        if action.method.eq_ignore_ascii_case("GET") {
            // The JavaScript API is public (browsers call it); credentials would only leak
            // into URLs and logs.
            return Ok(WireRequest::get(url));
        }
        let mut pairs: Vec<(&str, &str)> = vec![
            ("identity", self.identity.as_str()),
            ("api_username", &self.api_username),
            ("api_key", &self.api_key),
            ("Action", &action.action),
        ];
        // The panel reads the subcommand right after the command; `bind` appended it last.
        pairs.extend(args.discriminator_first());
        Ok(WireRequest::form_post(
            url,
            form::encode(&pairs, Charset::Utf8),
            "utf-8",
        ))
    }

    fn decode(&self, action: &ActionSpec, response: &WireResponse) -> Decoded {
        let shape = match action.action.as_str() {
            "vm_state" => Shape::State,
            // The chart type is the request's; `PanelExchange` puts it in.
            "vm_stat" => Shape::Chart(DEFAULT_CHART),
            _ => Shape::Plain,
        };
        match codec::decode(response.status, &response.body, shape) {
            Ok(Reply::Data(v)) => Decoded::Data(v),
            Ok(Reply::Failure(message)) => {
                let refusal = Refusal::new(FAILURE, message.as_str());
                Decoded::Refused(match field_of(&message) {
                    Some(field) => refusal.with_field(field),
                    None => refusal,
                })
            }
            Err(e) => Decoded::Unreadable(e.to_string()),
        }
    }
}

/// `vm_stat`'s `charttype` when a request names none (the document's default).
const DEFAULT_CHART: i64 = 1;

/// The shared [`Exchange`] plus the one thing `Protocol::decode` cannot see: the chart
/// type a `vm_stat` request asked for, which its JavaScript answer does not state but
/// the decoded chart carries. Every call goes through the exchange's own entry points
/// (its retry and outcome policy); this only writes the requested type into the payload.
#[derive(Debug)]
pub(crate) struct PanelExchange {
    inner: Exchange<XensystemProtocol>,
}

impl PanelExchange {
    pub(crate) fn protocol(&self) -> &XensystemProtocol {
        self.inner.protocol()
    }

    pub(crate) async fn call(&self, action: &str, params: &Params) -> Result<Value> {
        let borrowed: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.call_kv_as(action, &borrowed, Ok).await
    }

    pub(crate) async fn call_kv(&self, action: &str, params: &[(&str, &str)]) -> Result<Value> {
        self.call_kv_as(action, params, Ok).await
    }

    /// `call_kv` whose payload must have a shape (see `Exchange::call_kv_as`): an answer
    /// `read` refuses is retried for a read and an unknown outcome for a write.
    pub(crate) async fn call_kv_as<T>(
        &self,
        action: &str,
        params: &[(&str, &str)],
        read: impl Fn(Value) -> std::result::Result<T, String>,
    ) -> Result<T> {
        match requested_chart(action, params)? {
            None => self.inner.call_kv_as(action, params, read).await,
            Some(kind) => {
                let stamped = |mut v: Value| {
                    if let Some(slot) = v.get_mut("charttype") {
                        *slot = Value::from(kind);
                    }
                    read(v)
                };
                self.inner.call_kv_as(action, params, stamped).await
            }
        }
    }
}

/// The chart type a `vm_stat` call asks for, `None` for every other action. Binding here
/// is the same check the exchange makes, so a bad `charttype` is refused either way.
fn requested_chart(action: &str, params: &[(&str, &str)]) -> Result<Option<i64>> {
    let spec = spec().require(action)?;
    if spec.action != "vm_stat" {
        return Ok(None);
    }
    let kind = spec.bind(params)?.int("charttype")?;
    Ok(Some(kind.unwrap_or(DEFAULT_CHART)))
}

/// An authenticated handle on one XenSystem panel.
#[derive(Debug)]
pub struct XensystemClient {
    pub(crate) exchange: PanelExchange,
}

idcgate_wire::impl_connection!(XensystemClient, exchange, [compute]);

impl XensystemClient {
    pub fn new(account: &UpstreamAccount, cfg: &WireConfig) -> Result<Self> {
        let creds = &account.credentials;
        let identity = Identity::parse(creds.get(CRED_IDENTITY))?;
        let api_username = creds.require(CRED_API_USERNAME)?.to_string();
        let api_key = creds.require(CRED_API_KEY)?.to_string();
        // Only the key is secret; registering `system`/`user` would blank ordinary words.
        let redactor = Redactor::new([api_key.as_str()]);
        let protocol = XensystemProtocol {
            base_url: account.base_url.trim_end_matches('/').to_string(),
            identity,
            api_username,
            api_key,
        };
        Ok(XensystemClient {
            exchange: PanelExchange {
                inner: Exchange::for_account(protocol, account, cfg, redactor)?,
            },
        })
    }

    pub fn identity(&self) -> Identity {
        self.exchange.protocol().identity
    }

    pub fn base_url(&self) -> &str {
        &self.exchange.protocol().base_url
    }

    /// Runs an action by id or short name (`vm_backup#list`) with typed callers' fields.
    pub async fn call_kv(&self, name: &str, params: &[(&str, &str)]) -> Result<Value> {
        self.exchange.call_kv(name, params).await
    }

    /// A call whose JSON answer is decoded into `T`; an answer of another shape is
    /// unreadable (a read is retried, a write's outcome is unknown).
    pub async fn call_as<T: DeserializeOwned>(
        &self,
        name: &str,
        params: &[(&str, &str)],
    ) -> Result<T> {
        self.exchange
            .call_kv_as(name, params, |v| {
                serde_json::from_value(v).map_err(|e| format!("{name}: unexpected JSON shape: {e}"))
            })
            .await
    }

    /// A command taking one id field, its JSON answer decoded into `T`.
    async fn by_id<T: DeserializeOwned>(&self, name: &str, field: &str, id: i64) -> Result<T> {
        self.call_as(name, &[(field, &id.to_string())]).await
    }

    /// A per-VM command (`vpsid` only) whose JSON answer is decoded into `T`.
    async fn on_vm<T: DeserializeOwned>(&self, name: &str, vpsid: i64) -> Result<T> {
        self.by_id(name, "vpsid", vpsid).await
    }

    // ---- typed wrappers (used by the capability layer and by tools) ----

    pub async fn user_info(&self, userid: i64) -> Result<User> {
        self.by_id("user_info", "userid", userid).await
    }

    pub async fn user_sys_config(&self, userid: i64) -> Result<UserSysConfig> {
        self.by_id("user_sys_config", "userid", userid).await
    }

    pub async fn server_groups(&self) -> Result<Vec<ServerGroup>> {
        self.call_as("server_groups", &[("groupid", "0")]).await
    }

    pub async fn servers(&self, groups: &[i64]) -> Result<Vec<HostServer>> {
        let list = groups
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let mut p = vec![("serverid", "0")];
        if !list.is_empty() {
            p.push(("servergroups", &list));
        }
        self.call_as("server_info", &p).await
    }

    pub async fn os_templates(&self, serverid: i64) -> Result<Vec<OsTemplate>> {
        self.by_id("server_os_templates", "serverid", serverid)
            .await
    }

    pub async fn ip_blocks(&self, serverid: i64) -> Result<Vec<IpBlock>> {
        self.by_id("ip_blocks", "serverid", serverid).await
    }

    pub async fn free_ips(&self, serverid: i64) -> Result<Vec<IpAddress>> {
        self.call_as(
            "ip_list",
            &[("serverid", &serverid.to_string()), ("vpsid", "0")],
        )
        .await
    }

    pub async fn tasks(&self, vpsid: i64) -> Result<Vec<Task>> {
        self.on_vm("task_list", vpsid).await
    }

    pub async fn task_progress(&self, taskid: i64) -> Result<TaskProgress> {
        self.by_id("task_progress", "taskid", taskid).await
    }

    /// Every VM this identity can see (system level: all of them).
    pub async fn vms(&self) -> Result<Vec<Vm>> {
        self.call_as("vm_info", &[]).await
    }

    pub async fn vm(&self, vpsid: i64) -> Result<Vm> {
        let list: Vec<Vm> = self.on_vm("vm_info", vpsid).await?;
        list.into_iter()
            .find(|v| v.vpsid == vpsid)
            .ok_or_else(|| Error::not_found(format!("xensystem vm {vpsid}")))
    }

    /// The power state word of `vm_state` (`Running`, `Halted`, ...).
    pub async fn vm_power_state(&self, vpsid: i64) -> Result<String> {
        self.exchange
            .call_kv_as("vm_state", &[("vpsid", &vpsid.to_string())], |v| {
                v.get("state")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| "vm_state: no state in reply".to_string())
            })
            .await
    }

    pub async fn backups(&self, vpsid: i64) -> Result<Vec<BackupSet>> {
        self.on_vm("vm_backup#list", vpsid).await
    }

    pub async fn console_state(&self, vpsid: i64) -> Result<ConsoleState> {
        self.on_vm("vm_console#state", vpsid).await
    }

    pub async fn port_maps(&self, vpsid: i64) -> Result<Vec<PortMap>> {
        self.on_vm("vm_portmap#list", vpsid).await
    }

    pub async fn bound_domains(&self, vpsid: i64) -> Result<Vec<BoundDomain>> {
        self.on_vm("vm_domain#list", vpsid).await
    }

    pub async fn cd_state(&self, vpsid: i64) -> Result<CdState> {
        self.on_vm("vm_cd_manage#state", vpsid).await
    }

    pub async fn nics(&self, vpsid: i64) -> Result<Vec<Nic>> {
        self.exchange
            .call_kv_as("vm_vif#list", &[("vpsid", &vpsid.to_string())], |v| {
                Nic::from_flat(&v).ok_or_else(|| "vm_vif list: unexpected NIC table".to_string())
            })
            .await
    }

    pub async fn vm_groups(&self) -> Result<Vec<VmGroup>> {
        self.call_as("vm_group_info", &[]).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use idcgate_core::{Credentials, Vendor};

    fn conn(identity: &str) -> XensystemClient {
        let account = UpstreamAccount {
            name: "t".into(),
            vendor: Vendor::Xensystem,
            base_url: "http://panel.example/".into(),
            credentials: Credentials::new()
                .with(CRED_IDENTITY, identity)
                .with(CRED_API_USERNAME, "XS-01")
                .with(CRED_API_KEY, "k-secret-123"),
            rate_limit_per_sec: 10,
        };
        XensystemClient::new(&account, &WireConfig::new("t@example.invalid")).unwrap()
    }

    fn request(c: &XensystemClient, name: &str, params: &[(&str, &str)]) -> WireRequest {
        let action = spec().require(name).unwrap();
        let args = action.bind(params).unwrap();
        c.exchange.protocol().encode(action, &args).unwrap()
    }

    #[test]
    fn requests_carry_identity_capitalised_action_and_subaction() {
        let c = conn("system");
        let req = request(&c, "vm_backup#list", &[("vpsid", "7")]);
        assert_eq!(req.url, "http://panel.example/process.aspx?c=api");
        let body = String::from_utf8(req.body.unwrap()).unwrap();
        assert_eq!(
            body,
            "identity=system&api_username=XS-01&api_key=k-secret-123&Action=vm_backup&subaction=list&vpsid=7"
        );
        // The JavaScript API is public: no credentials in its URL.
        let js = request(&c, "serverstatus", &[]);
        assert!(js.body.is_none() && !js.url.contains("k-secret"));
        assert_eq!(conn("").identity(), Identity::User);
        assert!(!format!("{:?}", conn("user")).contains("k-secret-123"));
    }

    #[test]
    fn answers_decode_to_data_refusals_with_their_field_or_unreadable() {
        let c = conn("system");
        let p = c.exchange.protocol();
        let answer = |status: u16, body: &str| WireResponse {
            status,
            content_type: "text/html; charset=utf-8".into(),
            headers: Vec::new(),
            body: body.as_bytes().to_vec().into(),
        };
        let start = spec().require("vm_start").unwrap();
        assert_eq!(
            p.decode(start, &answer(200, "0")),
            Decoded::Data(serde_json::json!({"code": 0, "data": []}))
        );
        assert_eq!(
            p.decode(start, &answer(200, "-1|参数 vpsid 不能为空")),
            Decoded::Refused(Refusal::new("-1", "参数 vpsid 不能为空").with_field("vpsid"))
        );
        assert_eq!(
            p.decode(start, &answer(200, "-1 主机 9 不存在")),
            Decoded::Refused(Refusal::new("-1", "主机 9 不存在"))
        );
        for (status, body) in [(502, "-1 x"), (200, "<html>proxy</html>"), (200, "{\"a\":")] {
            assert!(
                matches!(
                    p.decode(start, &answer(status, body)),
                    Decoded::Unreadable(_)
                ),
                "{status} {body}"
            );
        }
        // `Running {..}` is data only for vm_state.
        let state = spec().require("vm_state").unwrap();
        assert!(matches!(
            p.decode(state, &answer(200, "Running {}")),
            Decoded::Data(_)
        ));
        assert!(matches!(
            p.decode(start, &answer(200, "Running {}")),
            Decoded::Unreadable(_)
        ));
    }
}
