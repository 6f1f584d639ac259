//! The XenSystem simulator: a stateful panel in memory behind the real wire format.
//!
//! `POST /process.aspx?c=api` takes the form (urlencoded or multipart) with `identity`,
//! `api_username`, `api_key` and `Action`/`action` (legacy `vps_*` names included) and
//! answers in the panel's text formats; `GET /process.aspx?c=jsapi&action=serverstatus` is
//! the public JavaScript API. Background tasks (installs, reloads, restores) complete
//! lazily: each request first finishes every task whose time has come.
//!
//! Test hooks (`set_now`, `advance`, `sent_verification_code`, ...) stand in for what a
//! real panel's operator would see: the clock, the SMS outbox, the guest.

mod handlers;
mod seed;
mod state;

use crate::spec::spec;
use axum::body::Body;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use handlers::Caller;
use idcgate_core::spec::{ActionSpec, VendorSpec};
use idcgate_core::Vendor;
use idcgate_wire::sim::{Handlers, Incoming, Mount, Outcome, Refusal, Route, SimVendor};
use state::State;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot file: {0}")]
    Io(#[from] std::io::Error),
    #[error("snapshot contents: {0}")]
    Format(#[from] serde_json::Error),
}

/// The panel as the simulator host drives it.
pub(crate) struct Xen;

impl SimVendor for Xen {
    type State = State;
    /// `None` for the public JavaScript API, which takes no credentials.
    type Ctx = Option<Caller>;
    /// The body text of a success (`0`, `0|id`, JSON, ...).
    type Ok = String;
    /// The text after `-1 `.
    type Fail = String;

    const VENDOR: Vendor = Vendor::Xensystem;
    const MOUNTS: &'static [Mount] = &[Mount::Any("/process.aspx")];
    /// The panel takes small forms only.
    const MAX_BODY: usize = 1 << 20;

    const HANDLERS: &'static [Handlers<Self>] = &[handlers::handler];

    fn spec() -> &'static VendorSpec {
        spec()
    }

    fn resolve(st: &mut State, req: &Incoming) -> Result<Route<Self>, Refusal<String>> {
        let c = idcgate_wire::form::get(req.query(), "c")
            .unwrap_or_default()
            .trim();
        // Background tasks complete lazily: each API request first finishes the due ones.
        match (c, req.method()) {
            ("api", &Method::POST) => {
                st.tick();
                handlers::resolve_api(st, req).map_err(Refusal::Fail)
            }
            ("jsapi", &Method::GET) | ("jsapi", &Method::POST) => {
                st.tick();
                handlers::resolve_js(req).map_err(Refusal::Fail)
            }
            _ => Err(Refusal::answer(text(
                StatusCode::NOT_FOUND,
                "<html><body>404 - File or directory not found.</body></html>".into(),
            ))),
        }
    }

    fn invalid(req: &Incoming, _: &ActionSpec, field: &str, _: &str) -> String {
        match req.get(field) {
            None => format!("参数 {field} 不能为空"),
            Some(_) => format!("参数 {field} 格式错误"),
        }
    }

    fn unrouted(action: &ActionSpec) -> String {
        format!("未知的 API 指令：{}", action.name())
    }

    fn oversize(_: &Incoming) -> Refusal<String> {
        Refusal::answer(text(
            StatusCode::PAYLOAD_TOO_LARGE,
            "-1 请求内容过大".into(),
        ))
    }

    fn render(_: &mut State, _: &Incoming, outcome: Outcome<'_, Self>) -> Response {
        match outcome.result {
            Ok(body) => text(StatusCode::OK, body),
            Err(msg) => text(StatusCode::OK, format!("-1 {msg}")),
        }
    }

    fn sandbox_credentials(st: &State) -> Vec<(String, String)> {
        vec![
            ("identity".into(), "system".into()),
            ("api_username".into(), st.panel_id.clone()),
            ("api_key".into(), st.system_key.clone()),
        ]
    }
}

fn text(status: StatusCode, body: String) -> Response {
    // ASP.NET's Response.Write default; the panel never labels JSON as JSON.
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        Body::from(body),
    )
        .into_response()
}

idcgate_wire::sim_handle! {
    /// A simulated XenSystem panel. Clones share the same panel.
    pub struct Sim(Host<Xen>);
}

impl Sim {
    /// An empty panel that knows only its own system credentials.
    pub fn new(panel_id: &str, system_key: &str) -> Self {
        Sim::from_state(State::new(panel_id, system_key))
    }

    /// A believable demo panel: two server groups, three host servers, OS templates, IP
    /// blocks, two users and six VMs in assorted states. See [`Sim::sandbox_credentials`]
    /// and [`Sim::user_credentials`].
    pub fn sandbox() -> Self {
        let sim = Sim::new(seed::PANEL_ID, seed::SYSTEM_KEY);
        sim.host.with_state(seed::sandbox);
        sim
    }

    /// How long new background tasks take (default 5 s).
    pub fn set_task_duration(&self, d: Duration) {
        self.host.with_state(|st| st.task_duration = d);
    }

    /// User-level credentials of a panel user, as `connect` expects them.
    pub fn user_credentials(&self, username: &str) -> Option<Vec<(String, String)>> {
        self.host.with_state(|st| {
            let u = st.users.values().find(|u| u.username == username)?;
            Some(vec![
                ("identity".into(), "user".into()),
                ("api_username".into(), u.username.clone()),
                ("api_key".into(), u.api_key.clone()),
            ])
        })
    }

    /// The verification code last "sent" to a user (the SMS/e-mail outbox).
    pub fn sent_verification_code(&self, userid: i64) -> Option<String> {
        self.host
            .with_state(|st| st.user_by_userid(userid).and_then(|u| u.vcode.clone()))
    }

    /// A VM's current root password, as its owner would see it in the panel.
    pub fn vm_password(&self, vpsid: i64) -> Option<String> {
        self.host
            .with_state(|st| st.vms.get(&vpsid).map(|v| v.password.clone()))
    }

    /// The addresses vm_setips bound to each of a VM's NICs, in NIC order (`dhcp` or a
    /// space-separated list): the panel shows them, the API's vif list does not.
    pub fn nic_bindings(&self, vpsid: i64) -> Option<Vec<String>> {
        self.host.with_state(|st| {
            st.vms
                .get(&vpsid)
                .map(|v| v.nics.iter().map(|n| n.bound.clone()).collect())
        })
    }

    /// A password set inside the guest by vm_cmds changePassword.
    pub fn guest_password(&self, vpsid: i64, user: &str) -> Option<String> {
        self.host.with_state(|st| {
            st.vms
                .get(&vpsid)
                .and_then(|v| v.guest.passwords.get(user).cloned())
        })
    }

    /// Replaces a user's backup hours (China time, 0-23).
    pub fn set_backup_hours(&self, userid: i64, hours: &[u32]) {
        self.host.with_state(|st| {
            if let Some(u) = st.user_by_userid_mut(userid) {
                u.config.backup_hours = hours.to_vec();
            }
        });
    }

    pub fn vm_count(&self) -> usize {
        self.host.with_state(|st| st.vms.len())
    }

    /// Writes the whole panel (clock settings included) to `path` as JSON, atomically:
    /// a crash mid-write leaves the previous snapshot in place.
    pub fn save_snapshot(&self, path: &Path) -> Result<(), SnapshotError> {
        let json = self.host.with_state(|st| serde_json::to_vec(&*st))?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, json)?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }

    /// A simulator restored from [`Sim::save_snapshot`].
    pub fn load_snapshot(path: &Path) -> Result<Self, SnapshotError> {
        let state: State = serde_json::from_slice(&std::fs::read(path)?)?;
        Ok(Sim::from_state(state))
    }

    /// Adds `n` running VMs, with host servers and addresses to hold them, spread over
    /// the existing users and server groups (creating a user and group if there are
    /// none). For benchmarks: no tasks are created.
    pub fn seed_bulk_vms(&self, n: usize) {
        self.host.with_state(|st| seed::bulk(st, n));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use idcgate_wire::sim::Host;

    #[test]
    fn every_implemented_row_has_a_handler_and_no_todo_row_does() {
        assert_eq!(Host::<Xen>::misrouted(), Vec::<&str>::new());
    }
}
