//! The client: request encoding, the one send/decode path, error mapping, and thin typed
//! wrappers over it.
//!
//! Every request is a form POST to `process.aspx?c=api` carrying `identity`,
//! `api_username`, `api_key` and `Action` (always the current `vm_*` names), then the
//! action's own fields. Nothing is signed: the key travels as is, so it is registered with
//! the redactor before the first request.

use crate::codec::{self, DecodeError, Reply, Shape};
use crate::spec::{discriminator, spec};
use crate::types::*;
use async_trait::async_trait;
use idcgate_core::capability::{Compute, Connection, Params};
use idcgate_core::spec::{ActionKind, ActionSpec, VendorSpec};
use idcgate_core::{Error, Result, UpstreamAccount, Vendor};
use idcgate_wire::{form, Charset, HttpClient, Redactor, WireConfig, WireRequest};
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

/// An authenticated handle on one XenSystem panel.
pub struct XenSystemConnection {
    http: HttpClient,
    base_url: String,
    identity: Identity,
    api_username: String,
    api_key: String,
}

impl std::fmt::Debug for XenSystemConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XenSystemConnection")
            .field("base_url", &self.base_url)
            .field("identity", &self.identity)
            .field("api_username", &self.api_username)
            .field("api_key", &"[redacted]")
            .finish()
    }
}

impl XenSystemConnection {
    pub fn new(account: &UpstreamAccount, cfg: &WireConfig) -> Result<Self> {
        let creds = &account.credentials;
        let identity = Identity::parse(creds.get(CRED_IDENTITY))?;
        let api_username = creds.require(CRED_API_USERNAME)?.to_string();
        let api_key = creds.require(CRED_API_KEY)?.to_string();
        // Only the key is secret; registering `system`/`user` would blank ordinary words.
        let redactor = Redactor::new([api_key.as_str()]);
        let http = HttpClient::new(Vendor::Xensystem, cfg, account.rate_limit_per_sec, redactor)?;
        Ok(XenSystemConnection {
            http,
            base_url: account.base_url.trim_end_matches('/').to_string(),
            identity,
            api_username,
            api_key,
        })
    }

    pub fn identity(&self) -> Identity {
        self.identity
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The single call path: spec lookup, param checks, encoding, sending, decoding,
    /// error mapping.
    pub async fn invoke(&self, name: &str, params: &[(&str, &str)]) -> Result<Value> {
        let action = spec().require(name)?;
        if let Some((k, _)) = params
            .iter()
            .find(|(k, _)| RESERVED.iter().any(|r| k.eq_ignore_ascii_case(r)))
        {
            return Err(Error::invalid(
                *k,
                "set by the connection from its credentials",
            ));
        }
        action
            .validate(params.iter().copied())
            .map_err(|(field, reason)| Error::invalid(field, reason))?;
        let req = self.request(action, params);
        let resp = self.http.send(&action.id, action.kind, &req).await?;
        let shape = match action.action.as_str() {
            "vm_state" => Shape::State,
            "vm_stat" => Shape::Chart(chart_type(params)),
            _ => Shape::Plain,
        };
        match codec::decode(resp.status, &resp.body, shape) {
            Ok(Reply::Data(v)) => Ok(v),
            Ok(Reply::Failure(msg)) => {
                Err(codec::classify_failure(&self.http.redactor().redact(&msg)))
            }
            Err(e) => Err(self.undecodable(action, &e)),
        }
    }

    fn request(&self, action: &ActionSpec, params: &[(&str, &str)]) -> WireRequest {
        let url = format!("{}/{}", self.base_url, action.path);
        if action.method.eq_ignore_ascii_case("GET") {
            // The JavaScript API is public (browsers call it); credentials would only leak
            // into URLs and logs.
            return WireRequest::get(url);
        }
        let mut pairs: Vec<(&str, &str)> = vec![
            ("identity", self.identity.as_str()),
            ("api_username", &self.api_username),
            ("api_key", &self.api_key),
            ("Action", &action.action),
        ];
        if let Some((field, value)) = discriminator(action) {
            if !params.iter().any(|(k, _)| k.eq_ignore_ascii_case(field)) {
                pairs.push((field, value));
            }
        }
        pairs.extend(params.iter().copied());
        WireRequest::form_post(url, form::encode(&pairs, Charset::Utf8), "utf-8")
    }

    /// A body we cannot read: for a read nothing changed (retry-safe transport error); for
    /// a write the change may have happened.
    fn undecodable(&self, action: &ActionSpec, e: &DecodeError) -> Error {
        let vendor = Vendor::Xensystem.to_string();
        let message = self.http.redactor().redact(&e.to_string());
        match action.kind {
            ActionKind::Read => Error::Transport { vendor, message },
            ActionKind::Write => Error::UnknownOutcome {
                vendor,
                action: action.id.clone(),
                message,
            },
        }
    }

    /// An answer that decoded but is not the shape the caller needs: for a write the
    /// change may still have happened.
    fn unexpected(&self, name: &str, what: String) -> Error {
        let err = DecodeError::Malformed(what);
        match spec().find(name) {
            Some(a) => self.undecodable(a, &err),
            None => Error::Transport {
                vendor: Vendor::Xensystem.to_string(),
                message: err.to_string(),
            },
        }
    }

    /// A call whose JSON answer is decoded into `T`.
    pub async fn invoke_as<T: DeserializeOwned>(
        &self,
        name: &str,
        params: &[(&str, &str)],
    ) -> Result<T> {
        let v = self.invoke(name, params).await?;
        serde_json::from_value(v)
            .map_err(|e| self.unexpected(name, format!("{name}: unexpected JSON shape: {e}")))
    }

    /// Runs a command answering `0|a|b...` and returns the fields after the `0`.
    pub async fn invoke_fields(&self, name: &str, params: &[(&str, &str)]) -> Result<Vec<String>> {
        let v = self.invoke(name, params).await?;
        let fields = v.get("data").and_then(Value::as_array).and_then(|a| {
            a.iter()
                .map(|x| x.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
        });
        fields.ok_or_else(|| self.unexpected(name, format!("{name}: expected a 0|... reply")))
    }

    /// A command taking one id field, its JSON answer decoded into `T`.
    async fn by_id<T: DeserializeOwned>(&self, name: &str, field: &str, id: i64) -> Result<T> {
        self.invoke_as(name, &[(field, &id.to_string())]).await
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
        self.invoke_as("server_groups", &[("groupid", "0")]).await
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
        self.invoke_as("server_info", &p).await
    }

    pub async fn os_templates(&self, serverid: i64) -> Result<Vec<OsTemplate>> {
        self.by_id("server_os_templates", "serverid", serverid)
            .await
    }

    pub async fn ip_blocks(&self, serverid: i64) -> Result<Vec<IpBlock>> {
        self.by_id("ip_blocks", "serverid", serverid).await
    }

    pub async fn free_ips(&self, serverid: i64) -> Result<Vec<IpAddress>> {
        self.invoke_as(
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
        self.invoke_as("vm_info", &[]).await
    }

    pub async fn vm(&self, vpsid: i64) -> Result<Vm> {
        let list: Vec<Vm> = self.on_vm("vm_info", vpsid).await?;
        list.into_iter()
            .find(|v| v.vpsid == vpsid)
            .ok_or_else(|| Error::not_found(format!("xensystem vm {vpsid}")))
    }

    /// The power state word of `vm_state` (`Running`, `Halted`, ...).
    pub async fn vm_power_state(&self, vpsid: i64) -> Result<String> {
        let v: Value = self.on_vm("vm_state", vpsid).await?;
        v.get("state")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| self.unexpected("vm_state", "vm_state: no state in reply".into()))
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
        let v: Value = self.on_vm("vm_vif#list", vpsid).await?;
        Nic::from_flat(&v).ok_or_else(|| {
            self.unexpected("vm_vif#list", "vm_vif list: unexpected NIC table".into())
        })
    }

    pub async fn vm_groups(&self) -> Result<Vec<VmGroup>> {
        self.invoke_as("vm_group_info", &[]).await
    }
}

fn chart_type(params: &[(&str, &str)]) -> i64 {
    params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("charttype"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(1)
}

#[async_trait]
impl Connection for XenSystemConnection {
    fn vendor(&self) -> Vendor {
        Vendor::Xensystem
    }

    fn spec(&self) -> &'static VendorSpec {
        spec()
    }

    async fn call(&self, action: &str, params: &Params) -> Result<Value> {
        let borrowed: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.invoke(action, &borrowed).await
    }

    fn compute(&self) -> Option<&dyn Compute> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use idcgate_core::Credentials;

    fn conn(identity: &str) -> XenSystemConnection {
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
        XenSystemConnection::new(&account, &WireConfig::new("t@example.invalid")).unwrap()
    }

    #[test]
    fn requests_carry_identity_capitalised_action_and_subaction() {
        let c = conn("system");
        let action = spec().require("vm_backup#list").unwrap();
        let req = c.request(action, &[("vpsid", "7")]);
        assert_eq!(req.url, "http://panel.example/process.aspx?c=api");
        let body = String::from_utf8(req.body.unwrap()).unwrap();
        assert_eq!(
            body,
            "identity=system&api_username=XS-01&api_key=k-secret-123&Action=vm_backup&subaction=list&vpsid=7"
        );
        // The JavaScript API is public: no credentials in its URL.
        let js = c.request(spec().require("serverstatus").unwrap(), &[]);
        assert!(js.body.is_none() && !js.url.contains("k-secret"));
        assert_eq!(conn("").identity(), Identity::User);
        assert!(!format!("{:?}", conn("user")).contains("k-secret-123"));
    }
}
