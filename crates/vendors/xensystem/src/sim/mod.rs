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

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Request, State as AxState};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use handlers::Req;
use idcgate_core::Vendor;
use idcgate_wire::Simulator;
use jiff::{SignedDuration, Timestamp};
use state::State;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Largest request body the simulator reads (the panel takes small forms only).
const MAX_BODY: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot file: {0}")]
    Io(#[from] std::io::Error),
    #[error("snapshot contents: {0}")]
    Format(#[from] serde_json::Error),
}

/// A simulated XenSystem panel. Clones share the same panel.
#[derive(Clone)]
pub struct Sim {
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim").finish_non_exhaustive()
    }
}

impl Sim {
    /// An empty panel that knows only its own system credentials.
    pub fn new(panel_id: &str, system_key: &str) -> Self {
        Sim {
            state: Arc::new(Mutex::new(State::new(panel_id, system_key))),
        }
    }

    /// A believable demo panel: two server groups, three host servers, OS templates, IP
    /// blocks, two users and six VMs in assorted states. See [`Sim::sandbox_credentials`]
    /// and [`Sim::user_credentials`].
    pub fn sandbox() -> Self {
        let sim = Sim::new(seed::PANEL_ID, seed::SYSTEM_KEY);
        seed::sandbox(&mut sim.lock());
        sim
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicked handler leaves the data as consistent as its last statement; the
        // simulator keeps serving rather than poisoning every later test.
        idcgate_core::lock(&self.state)
    }

    /// Freezes the simulator's clock at `now` (for backup hours and expiry tests).
    pub fn set_now(&self, now: Timestamp) {
        let mut st = self.lock();
        st.fixed_now = Some(now);
        st.offset = SignedDuration::ZERO;
    }

    /// Moves the simulator's clock forward.
    pub fn advance(&self, by: Duration) {
        let mut st = self.lock();
        let by = SignedDuration::try_from(by).unwrap_or(SignedDuration::MAX);
        st.offset = st.offset.checked_add(by).unwrap_or(st.offset);
    }

    /// How long new background tasks take (default 5 s).
    pub fn set_task_duration(&self, d: Duration) {
        self.lock().task_duration = d;
    }

    /// User-level credentials of a panel user, as `connect` expects them.
    pub fn user_credentials(&self, username: &str) -> Option<Vec<(String, String)>> {
        let st = self.lock();
        let u = st.users.values().find(|u| u.username == username)?;
        Some(vec![
            ("identity".into(), "user".into()),
            ("api_username".into(), u.username.clone()),
            ("api_key".into(), u.api_key.clone()),
        ])
    }

    /// The verification code last "sent" to a user (the SMS/e-mail outbox).
    pub fn sent_verification_code(&self, userid: i64) -> Option<String> {
        self.lock()
            .user_by_userid(userid)
            .and_then(|u| u.vcode.clone())
    }

    /// A VM's current root password, as its owner would see it in the panel.
    pub fn vm_password(&self, vpsid: i64) -> Option<String> {
        self.lock().vms.get(&vpsid).map(|v| v.password.clone())
    }

    /// A password set inside the guest by vm_cmds changePassword.
    pub fn guest_password(&self, vpsid: i64, user: &str) -> Option<String> {
        self.lock()
            .vms
            .get(&vpsid)
            .and_then(|v| v.guest.passwords.get(user).cloned())
    }

    /// Replaces a user's backup hours (China time, 0-23).
    pub fn set_backup_hours(&self, userid: i64, hours: &[u32]) {
        if let Some(u) = self.lock().user_by_userid_mut(userid) {
            u.config.backup_hours = hours.to_vec();
        }
    }

    pub fn vm_count(&self) -> usize {
        self.lock().vms.len()
    }

    /// Writes the whole panel (clock settings included) to `path` as JSON, atomically:
    /// a crash mid-write leaves the previous snapshot in place.
    pub fn save_snapshot(&self, path: &Path) -> Result<(), SnapshotError> {
        let json = serde_json::to_vec(&*self.lock())?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, json)?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }

    /// A simulator restored from [`Sim::save_snapshot`].
    pub fn load_snapshot(path: &Path) -> Result<Self, SnapshotError> {
        let state: State = serde_json::from_slice(&std::fs::read(path)?)?;
        Ok(Sim {
            state: Arc::new(Mutex::new(state)),
        })
    }

    /// Adds `n` running VMs, with host servers and addresses to hold them, spread over
    /// the existing users and server groups (creating a user and group if there are
    /// none). For benchmarks: no tasks are created.
    pub fn seed_bulk_vms(&self, n: usize) {
        seed::bulk(&mut self.lock(), n);
    }

    async fn handle(AxState(sim): AxState<Sim>, req: Request) -> Response {
        let (parts, body) = req.into_parts();
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "127.0.0.1".to_string(), |c| c.0.ip().to_string());
        let query = idcgate_wire::form::decode(parts.uri.query().unwrap_or_default().as_bytes());
        let bytes = match to_bytes(body, MAX_BODY).await {
            Ok(b) => b,
            Err(_) => return text(StatusCode::PAYLOAD_TOO_LARGE, "-1 请求内容过大".into()),
        };
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let form = match multipart_boundary(content_type) {
            Some(boundary) => parse_multipart(&bytes, &boundary),
            None => idcgate_wire::form::decode(&bytes),
        };
        // ASP.NET's Request[] looks in the query string before the form; `c` only routes.
        let fields: Vec<(String, String)> = query
            .iter()
            .filter(|(k, _)| k != "c")
            .cloned()
            .chain(form)
            .collect();
        let c = idcgate_wire::form::get(&query, "c")
            .unwrap_or_default()
            .trim()
            .to_string();
        let req = Req {
            fields: &fields,
            peer: &peer,
        };
        let body = match (c.as_str(), parts.method) {
            ("api", Method::POST) => handlers::dispatch(&mut sim.lock(), &req),
            ("jsapi", Method::GET) | ("jsapi", Method::POST) => {
                handlers::dispatch_js(&mut sim.lock(), &req)
            }
            _ => {
                return text(
                    StatusCode::NOT_FOUND,
                    "<html><body>404 - File or directory not found.</body></html>".into(),
                )
            }
        };
        text(StatusCode::OK, body)
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

fn multipart_boundary(content_type: &str) -> Option<String> {
    let lower = content_type.to_ascii_lowercase();
    if !lower.starts_with("multipart/form-data") {
        return None;
    }
    let at = lower.find("boundary=")?;
    let value = content_type[at + 9..].split(';').next().unwrap_or_default();
    let boundary = value.trim().trim_matches('"');
    (!boundary.is_empty()).then(|| boundary.to_string())
}

/// Reads the text fields of a multipart body; file parts are kept as their text.
fn parse_multipart(body: &[u8], boundary: &str) -> Vec<(String, String)> {
    let delim = format!("--{boundary}");
    let text = String::from_utf8_lossy(body);
    let mut out = Vec::new();
    for part in text.split(delim.as_str()).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let name = head
            .split(';')
            .map(str::trim)
            .find_map(|p| p.strip_prefix("name="))
            .map(|n| {
                n.split(['\r', '\n'])
                    .next()
                    .unwrap_or(n)
                    .trim_matches('"')
                    .to_string()
            });
        if let Some(name) = name {
            let value = value.strip_suffix("\r\n").unwrap_or(value);
            out.push((name, value.to_string()));
        }
    }
    out
}

impl Simulator for Sim {
    fn vendor(&self) -> Vendor {
        Vendor::Xensystem
    }

    fn router(&self) -> Router {
        Router::new()
            .route("/process.aspx", any(Sim::handle))
            .with_state(self.clone())
    }

    fn sandbox_credentials(&self) -> Vec<(String, String)> {
        let st = self.lock();
        vec![
            ("identity".into(), "system".into()),
            ("api_username".into(), st.panel_id.clone()),
            ("api_key".into(), st.system_key.clone()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_fields_are_read() {
        let body = b"--XYZ\r\nContent-Disposition: form-data; name=\"Action\"\r\n\r\nvm_info\r\n--XYZ\r\nContent-Disposition: form-data; name=\"vpsid\"\r\n\r\n3\r\n--XYZ--\r\n";
        let b = multipart_boundary("multipart/form-data; boundary=XYZ").unwrap();
        let fields = parse_multipart(body, &b);
        assert_eq!(
            fields,
            vec![
                ("Action".into(), "vm_info".into()),
                ("vpsid".into(), "3".into())
            ]
        );
        assert!(multipart_boundary("application/x-www-form-urlencoded").is_none());
        assert_eq!(
            multipart_boundary("multipart/form-data; boundary=\"XYZ\"; charset=utf-8").as_deref(),
            Some("XYZ")
        );
        assert!(multipart_boundary("multipart/form-data; boundary=").is_none());
    }
}
