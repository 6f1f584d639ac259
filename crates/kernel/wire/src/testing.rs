//! The harness vendor crates' tests share (cargo feature `testing`, enabled only in their
//! `[dev-dependencies]`): a simulator served on a real socket, an account and a
//! connection for its sandbox, configurations with a short timeout, and raw requests
//! that bypass every client policy (no signing, no retries, no decoding).
//!
//! Test code: it panics where a test should fail loudly (a port that cannot be bound, a
//! call expected to succeed that fails).

use crate::{HttpClient, Redactor, SimServer, Simulator, WireConfig, WireRequest, WireResponse};
use idcgate_core::spec::VendorSpec;
use idcgate_core::{Connection, Credentials, Error, Result, UpstreamAccount, Vendor};
use serde_json::Value;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// The contact every test client names in its User-Agent.
pub const CONTACT: &str = "tests@idcgate.invalid";

/// The timeout of [`wire_config`]'s usual use: short, so a lost answer fails a test fast.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `sim` on 127.0.0.1 at a free port, with fault injection and the control
/// endpoints (`srv.faults`, `/__sim/clock`).
pub async fn serve(sim: &dyn Simulator) -> SimServer {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    match crate::sim::serve(sim, addr).await {
        Ok(srv) => srv,
        Err(e) => panic!("cannot serve the {} simulator: {e}", sim.vendor()),
    }
}

/// The usual test client's configuration: [`TIMEOUT`], reads not retried.
pub fn config() -> WireConfig {
    wire_config(TIMEOUT)
}

/// Serves a hand-written upstream (`app`) on 127.0.0.1 at a free port; its base URL.
pub async fn serve_app(app: axum::Router) -> String {
    let listener = match tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await {
        Ok(l) => l,
        Err(e) => panic!("cannot bind a test upstream: {e}"),
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => panic!("test upstream without an address: {e}"),
    };
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// A test client's configuration: `timeout` per request, reads not retried.
pub fn wire_config(timeout: Duration) -> WireConfig {
    wire_config_retrying(timeout, 0)
}

/// A test client's configuration whose reads are retried `read_retries` times.
pub fn wire_config_retrying(timeout: Duration, read_retries: u32) -> WireConfig {
    let mut cfg = WireConfig::new(CONTACT);
    cfg.timeout = timeout;
    cfg.read_retries = read_retries;
    cfg
}

/// Credentials from name/value pairs (a simulator's `sandbox_credentials()`, a literal).
pub fn credentials<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> Credentials {
    let mut c = Credentials::new();
    for (k, v) in pairs {
        c.insert(k.as_ref(), v.as_ref());
    }
    c
}

/// An account of `vendor` on `base_url` with no rate limit.
pub fn account(vendor: Vendor, base_url: &str, credentials: Credentials) -> UpstreamAccount {
    UpstreamAccount {
        name: format!("{vendor}-test"),
        vendor,
        base_url: base_url.to_string(),
        credentials,
        rate_limit_per_sec: 0,
    }
}

/// The simulator's sandbox account, reached at `srv`.
pub fn sandbox_account(sim: &dyn Simulator, srv: &SimServer) -> UpstreamAccount {
    account(
        sim.vendor(),
        &srv.base_url(),
        credentials(&sim.sandbox_credentials()),
    )
}

/// Sends `req` once as it is, for wire-level assertions on what the upstream answers.
pub async fn transmit(vendor: Vendor, req: &WireRequest) -> WireResponse {
    let http = match HttpClient::new(vendor, &wire_config(TIMEOUT), 0, Redactor::default()) {
        Ok(http) => http,
        Err(e) => panic!("cannot build a test client: {e}"),
    };
    match http.transmit("raw", req).await {
        Ok(resp) => resp,
        Err(e) => panic!("raw {} to {} failed: {}", vendor, req.url, e.message),
    }
}

/// The implemented actions of `spec` whose name (`"name"`, quoted) no test source holds:
/// `assert!(unexercised(spec(), &[include_str!("dns.rs"), ..]).is_empty())` keeps every
/// action called somewhere by its full name.
pub fn unexercised<'s>(spec: &'s VendorSpec, sources: &[&str]) -> Vec<&'s str> {
    spec.implemented()
        .map(|a| a.name())
        .filter(|n| {
            let quoted = format!("\"{n}\"");
            !sources.iter().any(|src| src.contains(&quoted))
        })
        .collect()
}

/// One scripted call for [`Env::steps`]: action, parameters, [`OK`] or the vendor code.
pub type Step<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

/// A [`Step`] that must succeed.
pub const OK: &str = "";

/// One read for [`Env::reads`]: action, parameters, a JSON pointer into the answer (`""`
/// for all of it, `"/0/name"` for a list's first object's `name`) and the value expected
/// there.
pub type Read<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, Value);

/// A simulator's caller-IP allow-list (`set_ip_allowlist`) of `ips`.
pub fn allow(ips: &[&str]) -> Option<Vec<IpAddr>> {
    let parse = |ip: &&str| match ip.parse() {
        Ok(ip) => ip,
        Err(e) => panic!("not an IP address: {ip}: {e}"),
    };
    Some(ips.iter().map(parse).collect())
}

/// A vendor crate's `connect`.
pub type Connect = fn(&UpstreamAccount, &WireConfig) -> Result<Arc<dyn Connection>>;

/// Declares a vendor's test environment beside [`Env`]: `pub struct Env` (a newtype that
/// dereferences to `testing::Env<$sim>`, so the vendor's tests can add their own
/// methods), `env()` (the sandbox, [`config`]) and `env_with(sim, cfg)`.
///
/// `idcgate_wire::vendor_env!(idcgate_west::Sim, idcgate_west::connect);`
#[macro_export]
macro_rules! vendor_env {
    ($sim:ty, $connect:path) => {
        /// The shared harness (`sim`, `srv`, `conn`, `call`, `ok`, `err`, `url`,
        /// `transmit`) with this vendor's helpers beside it.
        pub struct Env(pub $crate::testing::Env<$sim>);

        impl ::std::ops::Deref for Env {
            type Target = $crate::testing::Env<$sim>;
            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }

        /// The sandbox simulator, served, and a connection to its account.
        pub async fn env() -> Env {
            env_with(<$sim>::sandbox(), $crate::testing::config()).await
        }

        /// `sim`, served, and a connection to its sandbox account with `cfg`.
        pub async fn env_with(sim: $sim, cfg: $crate::WireConfig) -> Env {
            Env($crate::testing::Env::start(sim, $connect, &cfg).await)
        }
    };
}

/// A simulator served on a socket and a connection to its sandbox account.
pub struct Env<S> {
    pub sim: S,
    pub srv: SimServer,
    pub conn: Arc<dyn Connection>,
}

impl<S: Simulator> Env<S> {
    /// Serves `sim` and connects to its sandbox account through `connect` with `cfg`.
    pub async fn start(sim: S, connect: Connect, cfg: &WireConfig) -> Self {
        let srv = serve(&sim).await;
        let conn = match connect(&sandbox_account(&sim, &srv), cfg) {
            Ok(conn) => conn,
            Err(e) => panic!("cannot connect to the {} simulator: {e}", sim.vendor()),
        };
        Env { sim, srv, conn }
    }

    /// The sandbox account on this server.
    pub fn account(&self) -> UpstreamAccount {
        sandbox_account(&self.sim, &self.srv)
    }

    /// `path` (with its query) on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.srv.base_url())
    }

    /// Calls `action` (its name in the vendor's spec) with literal parameters.
    pub async fn call(&self, action: &str, kv: &[(&str, &str)]) -> Result<Value> {
        let params = kv
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.conn.call(action, &params).await
    }

    /// A call that must succeed: its answer.
    pub async fn ok(&self, action: &str, kv: &[(&str, &str)]) -> Value {
        match self.call(action, kv).await {
            Ok(v) => v,
            Err(e) => panic!("{action} failed: {e}"),
        }
    }

    /// A call that must fail: its error.
    pub async fn err(&self, action: &str, kv: &[(&str, &str)]) -> Error {
        match self.call(action, kv).await {
            Ok(v) => panic!("{action} unexpectedly succeeded: {v}"),
            Err(e) => e,
        }
    }

    /// Runs `steps` in order: each call must succeed (want [`OK`]) or fail with the vendor
    /// code `want`, as `code` reads it from the error.
    pub async fn steps(&self, code: fn(&Error) -> String, steps: &[Step<'_>]) {
        for (action, kv, want) in steps {
            match self.call(action, kv).await {
                Ok(_) if want.is_empty() => {}
                Err(err) if !want.is_empty() => {
                    assert_eq!(code(&err), *want, "{action} {kv:?}: {err}")
                }
                other => panic!("{action} {kv:?}: wanted {want:?}, got {other:?}"),
            }
        }
    }

    /// Runs `reads` in order: each call must succeed with `want` at its pointer.
    pub async fn reads(&self, reads: &[Read<'_>]) {
        for (action, kv, pointer, want) in reads {
            let answer = self.ok(action, kv).await;
            match answer.pointer(pointer) {
                Some(got) => assert_eq!(got, want, "{action} {kv:?} at {pointer:?}"),
                None => panic!("{action} {kv:?}: nothing at {pointer:?} in {answer}"),
            }
        }
    }

    /// Asserts a call fails with `needle` somewhere in the error's text.
    pub async fn fails_saying(&self, action: &str, kv: &[(&str, &str)], needle: &str) {
        let err = self.err(action, kv).await;
        assert!(err.to_string().contains(needle), "{action} {kv:?}: {err}");
    }

    /// Asserts a call fails as not found.
    pub async fn not_found(&self, action: &str, kv: &[(&str, &str)]) {
        assert_not_found(&self.err(action, kv).await)
    }

    /// Asserts a call is refused upstream with `needle` in the upstream's text.
    pub async fn refused(&self, action: &str, kv: &[(&str, &str)], needle: &str) {
        assert_refused(&self.err(action, kv).await, needle)
    }

    /// Asserts a call fails as invalid input naming `field`.
    pub async fn refused_field(&self, action: &str, kv: &[(&str, &str)], field: &str) {
        assert_field(&self.err(action, kv).await, field)
    }

    /// Sends `req` to the simulator once as it is (see [`transmit`]).
    pub async fn transmit(&self, req: &WireRequest) -> WireResponse {
        transmit(self.sim.vendor(), req).await
    }
}

/// Asserts a not-found error.
#[track_caller]
pub fn assert_not_found(err: &Error) {
    assert!(
        matches!(err, Error::NotFound { .. }),
        "expected not found, got {err}"
    );
}

/// Asserts an upstream refusal whose text holds `needle`.
#[track_caller]
pub fn assert_refused(err: &Error, needle: &str) {
    match err {
        Error::Upstream { message, .. } if message.contains(needle) => {}
        other => panic!("expected a refusal saying {needle:?}, got {other}"),
    }
}

/// Asserts an invalid-input error naming `field`.
#[track_caller]
pub fn assert_field(err: &Error, field: &str) {
    match err {
        Error::InvalidInput { field: f, .. } if f == field => {}
        other => panic!("expected invalid {field}, got {other}"),
    }
}
