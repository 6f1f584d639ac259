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

/// A listener on 127.0.0.1 at a free port, and its address; a test cannot go on
/// without one, so `what` (the server it is for) is named in the panic.
async fn local_listener(what: &str) -> (tokio::net::TcpListener, SocketAddr) {
    let listener = match tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await {
        Ok(l) => l,
        Err(e) => panic!("cannot bind a {what}: {e}"),
    };
    match listener.local_addr() {
        Ok(addr) => (listener, addr),
        Err(e) => panic!("{what} without an address: {e}"),
    }
}

/// Serves a hand-written upstream (`app`) on 127.0.0.1 at a free port; its base URL.
pub async fn serve_app(app: axum::Router) -> String {
    let (listener, addr) = local_listener("test upstream").await;
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

// ---------------------------------------------------------------------------------------
// The conformance suite (issue 13): every response sample of a vendor's document as a
// fixture, decoded by the client and matched in shape by the simulator.
// ---------------------------------------------------------------------------------------

/// One sample of a vendor's document, as its fixture file states it.
///
/// A fixture file is a sequence of entries, each opened by `=== <catalog id>`, the id of
/// the action its `call` runs (a second sample of one action adds a variant in
/// parentheses: `=== dnspod:User.List (xml)`):
///
/// ```text
/// === zonkvm:getserver
/// call: getserver guid=$server
/// prepare: $server=/ids/0 create_order#create_server line_guid=1 content={"cpu":1}
/// note: where the PDF conversion broke the sample and what was repaired
/// contradiction: where the document contradicts itself, and that the sample is followed
/// extra: key1,key2 why the answer may carry these keys though the sample does not
///   (the document's field list names them)
/// differs: why the simulator's answer does not match yet (the check is then reported,
///   not failed; an entry without it must match)
/// contradicted: where the document itself says the sample is not answered (a product
///   it marks withdrawn, say) and the simulator follows that statement, so the sample's
///   shape is not produced (reported apart from `differs`; the client still decodes it)
/// --- sample
/// {"code":1,"data":{...}}
/// ```
///
/// `call` and `prepare` lines are an action (its name in the vendor's spec) and
/// `key=value` parameters (a value with blanks in single quotes); `$name` in a value is
/// a variable bound by an earlier `prepare: $name=<JSON pointer> ...` line, read from
/// that call's answer. Lines starting with `#` outside a sample are comments; a line
/// ending in `\` continues on the next. Everything after `--- sample` up to the next
/// `===` is the sample, byte for byte (surrounding blank lines trimmed).
#[derive(Debug, Clone, Default)]
pub struct Fixture {
    pub id: String,
    /// The line in the fixture file where the entry starts, for messages.
    pub line: usize,
    pub call: Call,
    pub prepare: Vec<(Option<(String, String)>, Call)>,
    pub notes: Vec<String>,
    pub contradictions: Vec<String>,
    pub differs: Option<String>,
    /// The document's own statement the simulator follows instead of the sample.
    pub contradicted: Option<String>,
    /// Keys the answer may carry beyond the sample, and why.
    pub extra: Vec<(Vec<String>, String)>,
    pub sample: String,
}

impl Fixture {
    /// The catalog id the entry names, without its variant (` (xml)`, ...).
    pub fn catalog_id(&self) -> &str {
        match self.id.split_once(" (") {
            Some((id, variant)) if variant.ends_with(')') => id,
            _ => &self.id,
        }
    }

    /// Whether `d` is an extra key this fixture allows.
    pub fn allows(&self, d: &ShapeDiff) -> bool {
        let ShapeDiff::Extra(path) = d else {
            return false;
        };
        let key = path.rsplit('/').next().unwrap_or_default();
        self.extra
            .iter()
            .any(|(keys, _)| keys.iter().any(|k| k == key))
    }
}

/// An action and its parameters, as a fixture writes them.
#[derive(Debug, Clone, Default)]
pub struct Call {
    pub action: String,
    pub params: Vec<(String, String)>,
}

impl Call {
    fn parse(text: &str, at: usize) -> Call {
        let mut words = split_words(text, at).into_iter();
        let action = match words.next() {
            Some(a) => a,
            None => panic!("fixture line {at}: a call without an action"),
        };
        let params = words
            .map(|w| match w.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => panic!("fixture line {at}: {w:?} is not key=value"),
            })
            .collect();
        Call { action, params }
    }

    /// The parameters with `$name` replaced from `vars` (unknown names are kept, so a
    /// call without its preparation still carries something non-empty). A name bound
    /// twice takes its later value: a preparation's binding overrides the default a
    /// [`Conformance::vars`] entry gives the client's decoding.
    pub fn bound(&self, vars: &[(String, String)]) -> Vec<(String, String)> {
        self.params
            .iter()
            .map(|(k, v)| {
                let mut v = v.clone();
                // Longest names first, so `$bak` never eats the start of `$bakfile`; the
                // stable sort of the reversed list keeps later bindings of a name first.
                let mut vars: Vec<&(String, String)> = vars.iter().rev().collect();
                vars.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
                for (name, value) in vars {
                    v = v.replace(&format!("${name}"), value);
                }
                (k.clone(), v)
            })
            .collect()
    }
}

/// Words separated by blanks; `'...'` keeps blanks inside a word.
fn split_words(text: &str, at: usize) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in text.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    words.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if quoted {
        panic!("fixture line {at}: unbalanced quote in {text:?}");
    }
    if any {
        words.push(cur);
    }
    words
}

/// Reads a fixture file (see [`Fixture`]); a malformed file fails the test loudly.
pub fn parse_fixtures(text: &str) -> Vec<Fixture> {
    let mut out: Vec<Fixture> = Vec::new();
    let mut in_sample = false;
    let mut pending = String::new();
    let mut pending_at = 0;
    for (i, raw) in text.lines().enumerate() {
        let at = i + 1;
        if let Some(id) = raw.strip_prefix("=== ") {
            in_sample = false;
            out.push(Fixture {
                id: id.trim().to_string(),
                line: at,
                ..Fixture::default()
            });
            continue;
        }
        let Some(fx) = out.last_mut() else {
            if raw.trim().is_empty() || raw.starts_with('#') {
                continue;
            }
            panic!("fixture line {at}: text before the first `=== id`");
        };
        if in_sample {
            fx.sample.push_str(raw);
            fx.sample.push('\n');
            continue;
        }
        if raw.trim() == "--- sample" {
            in_sample = true;
            continue;
        }
        if pending.is_empty() && (raw.trim().is_empty() || raw.starts_with('#')) {
            continue;
        }
        if pending.is_empty() {
            pending_at = at;
        }
        if let Some(head) = raw.strip_suffix('\\') {
            pending.push_str(head);
            continue;
        }
        pending.push_str(raw);
        let line = std::mem::take(&mut pending);
        let Some((key, value)) = line.split_once(':') else {
            panic!("fixture line {pending_at}: expected `key: value`, got {line:?}");
        };
        let value = value.trim();
        match key.trim() {
            "call" => fx.call = Call::parse(value, pending_at),
            "prepare" => {
                let (bind, rest) = match value.strip_prefix('$') {
                    Some(v) => match v.split_once(char::is_whitespace) {
                        Some((b, rest)) => match b.split_once('=') {
                            Some((name, ptr)) => (Some((name.into(), ptr.into())), rest),
                            None => panic!("fixture line {pending_at}: `$name=/pointer` expected"),
                        },
                        None => panic!("fixture line {pending_at}: a binding without a call"),
                    },
                    None => (None, value),
                };
                fx.prepare.push((bind, Call::parse(rest, pending_at)));
            }
            "note" => fx.notes.push(value.to_string()),
            "contradiction" => fx.contradictions.push(value.to_string()),
            "differs" => fx.differs = Some(value.to_string()),
            "contradicted" => fx.contradicted = Some(value.to_string()),
            "extra" => {
                let (keys, why) = value.split_once(char::is_whitespace).unwrap_or((value, ""));
                if why.trim().is_empty() {
                    panic!("fixture line {pending_at}: `extra:` without its reason");
                }
                let keys = keys.split(',').map(|k| k.trim().to_string()).collect();
                fx.extra.push((keys, why.trim().to_string()));
            }
            other => panic!("fixture line {pending_at}: unknown key {other:?}"),
        }
    }
    for fx in &mut out {
        fx.sample = fx.sample.trim_matches('\n').to_string();
        if fx.sample.is_empty() {
            panic!("fixture {} (line {}): no sample", fx.id, fx.line);
        }
        if fx.call.action.is_empty() {
            panic!("fixture {} (line {}): no `call:`", fx.id, fx.line);
        }
    }
    out
}

/// One way an answer's shape differs from a sample's. Paths are JSON pointers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShapeDiff {
    /// The sample has the key (in every item, for a list), the answer does not.
    Missing(String),
    /// The answer has a key the sample has nowhere.
    Extra(String),
    /// A value of another JSON type (string vs number, object vs list, ...).
    Type {
        path: String,
        want: &'static str,
        got: &'static str,
    },
    /// A date written another way (`2012-9-14 16:17:00` vs `2012/09/14 16:17:00`).
    Date {
        path: String,
        want: String,
        got: String,
    },
    /// The sample lists items, the answer an empty list: nothing to compare (the
    /// preparation did not make what the sample shows).
    Empty(String),
}

impl std::fmt::Display for ShapeDiff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShapeDiff::Missing(p) => write!(f, "missing {p}"),
            ShapeDiff::Extra(p) => write!(f, "extra {p}"),
            ShapeDiff::Type { path, want, got } => write!(f, "{path}: {got}, sample {want}"),
            ShapeDiff::Date { path, want, got } => {
                write!(f, "{path}: date {got:?}, sample {want:?}")
            }
            ShapeDiff::Empty(p) => write!(f, "{p}: empty list, sample has items"),
        }
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

/// How a date-like string is written, or `None` when it is not one: `2012-9-14 16:17:00`
/// → `Y-M-D h:m:s` (a component below 10 written with one digit), `2012-09-14` →
/// `Y-MM-DD`; a component of 10 or more says nothing about padding and is written `?`.
pub fn date_format(s: &str) -> Option<String> {
    let s = s.trim();
    let bytes = s.as_bytes();
    if bytes.len() < 8 || !bytes[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sep = bytes[4] as char;
    if sep != '-' && sep != '/' && sep != '.' {
        return None;
    }
    let (date, time) = match s.split_once([' ', 'T']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let parts: Vec<&str> = date.split(sep).collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let pad = |p: &str, one: &str, two: &str| -> String {
        match (p.len(), p.parse::<u32>().unwrap_or(0)) {
            (1, _) => one.to_string(),
            (2, n) if n < 10 => two.to_string(),
            _ => "?".to_string(),
        }
    };
    let mut out = format!(
        "Y{sep}{}{sep}{}",
        pad(parts[1], "M", "MM"),
        pad(parts[2], "D", "DD")
    );
    if let Some(t) = time {
        let tparts: Vec<&str> = t.split(':').collect();
        if tparts.len() < 2
            || tparts.len() > 3
            || tparts
                .iter()
                .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        let sepc = if s.contains('T') { 'T' } else { ' ' };
        let names = [("h", "hh"), ("m", "mm"), ("s", "ss")];
        let t: Vec<String> = tparts
            .iter()
            .zip(names)
            .map(|(p, (one, two))| pad(p, one, two))
            .collect();
        out.push(sepc);
        out.push_str(&t.join(":"));
    }
    Some(out)
}

/// Whether two [`date_format`]s agree (`?` agrees with either padding).
fn same_date_format(a: &str, b: &str) -> bool {
    let seps = |s: &str| -> String { s.chars().filter(|c| "-/. T:".contains(*c)).collect() };
    if seps(a) != seps(b) {
        return false;
    }
    let a: Vec<&str> = a.split(['-', '/', '.', ' ', 'T', ':']).collect();
    let b: Vec<&str> = b.split(['-', '/', '.', ' ', 'T', ':']).collect();
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(x, y)| x == y || *x == "?" || *y == "?" || x.eq_ignore_ascii_case(y))
}

/// How `got` (a simulator's answer) differs in shape from `want` (a document's sample):
/// key names and case, nesting, JSON types (a `null` in the sample accepts anything),
/// and how dates are written. A sample's list is one item shape: the keys of all its
/// items (a key only some items carry is optional), each item of the answer held to it.
pub fn shape_diff(want: &Value, got: &Value) -> Vec<ShapeDiff> {
    let mut out = Vec::new();
    diff_at("", want, got, &mut out);
    out
}

fn diff_at(path: &str, want: &Value, got: &Value, out: &mut Vec<ShapeDiff>) {
    match (want, got) {
        (Value::Null, _) => {}
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                let p = format!("{path}/{k}");
                match g.get(k) {
                    Some(gv) => diff_at(&p, wv, gv, out),
                    None => out.push(ShapeDiff::Missing(p)),
                }
            }
            for k in g.keys().filter(|k| !w.contains_key(*k)) {
                out.push(ShapeDiff::Extra(format!("{path}/{k}")));
            }
        }
        (Value::Array(w), Value::Array(g)) => {
            let Some(item) = merged_item(w) else { return };
            if g.is_empty() {
                out.push(ShapeDiff::Empty(path.to_string()));
                return;
            }
            let required: Vec<&String> = match &item {
                Value::Object(m) => m
                    .keys()
                    .filter(|k| w.iter().all(|i| i.get(k.as_str()).is_some()))
                    .collect(),
                _ => Vec::new(),
            };
            for (i, gv) in g.iter().enumerate() {
                let p = format!("{path}/{i}");
                let mut sub = Vec::new();
                diff_at(&p, &item, gv, &mut sub);
                // A key only some of the sample's items carry may be absent.
                sub.retain(|d| match d {
                    ShapeDiff::Missing(m) => match m.strip_prefix(&format!("{p}/")) {
                        Some(k) if !k.contains('/') => required.iter().any(|r| r.as_str() == k),
                        _ => true,
                    },
                    _ => true,
                });
                for d in sub {
                    if !out.contains(&d) {
                        out.push(d);
                    }
                }
            }
        }
        (Value::String(w), Value::String(g)) => {
            if let (Some(wf), Some(gf)) = (date_format(w), date_format(g)) {
                if !same_date_format(&wf, &gf) {
                    out.push(ShapeDiff::Date {
                        path: path.to_string(),
                        want: w.clone(),
                        got: g.clone(),
                    });
                }
            } else if date_format(w).is_some() && !g.is_empty() {
                out.push(ShapeDiff::Date {
                    path: path.to_string(),
                    want: w.clone(),
                    got: g.clone(),
                });
            }
        }
        (w, g) if json_type(w) == json_type(g) => {}
        (w, g) => out.push(ShapeDiff::Type {
            path: path.to_string(),
            want: json_type(w),
            got: json_type(g),
        }),
    }
}

/// One item shape for a sample's list: the union of its items' keys (first value wins,
/// unless it is `null` and a later item says more).
fn merged_item(items: &[Value]) -> Option<Value> {
    let first = items.first()?;
    let Value::Object(_) = first else {
        return Some(first.clone());
    };
    let mut merged = serde_json::Map::new();
    for item in items {
        if let Value::Object(m) = item {
            for (k, v) in m {
                match merged.get(k) {
                    None | Some(Value::Null) => {
                        merged.insert(k.clone(), v.clone());
                    }
                    Some(_) => {}
                }
            }
        }
    }
    Some(Value::Object(merged))
}

/// What a simulator last answered, body and `Content-Type`, as it went on the wire.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    pub content_type: String,
    pub body: Vec<u8>,
}

/// The answers of a simulator served by [`serve_recorded`], newest last.
#[derive(Debug, Clone, Default)]
pub struct Recorder(Arc<std::sync::Mutex<Vec<Recorded>>>);

impl Recorder {
    /// The last answer, if any.
    pub fn last(&self) -> Option<Recorded> {
        self.0.lock().ok().and_then(|v| v.last().cloned())
    }

    /// Forgets what was recorded.
    pub fn clear(&self) {
        if let Ok(mut v) = self.0.lock() {
            v.clear();
        }
    }
}

async fn record(
    axum::extract::State(rec): axum::extract::State<Recorder>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let resp = next.run(req).await;
    let (parts, body) = resp.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => panic!("cannot read a simulator's answer: {e}"),
    };
    let content_type = parts
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if let Ok(mut v) = rec.0.lock() {
        v.push(Recorded {
            content_type,
            body: bytes.to_vec(),
        });
    }
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Serves `sim` like [`serve`], keeping every answer it gives in the [`Recorder`].
pub async fn serve_recorded(sim: &dyn Simulator) -> (SimServer, Recorder) {
    let rec = Recorder::default();
    let faults = crate::FaultHandle::default();
    let router = crate::sim::app(sim, faults.clone())
        .layer(axum::middleware::from_fn_with_state(rec.clone(), record));
    let (listener, addr) = local_listener("recorded simulator").await;
    let task = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    let srv = SimServer::spawned(sim.vendor(), addr, faults, task);
    (srv, rec)
}

/// Serves `body` with `content_type` for every request: a document's sample as the
/// upstream's answer, for the client to decode.
pub async fn serve_sample(content_type: &str, body: Vec<u8>) -> String {
    let content_type = content_type.to_string();
    let app = axum::Router::new().fallback(move || {
        let body = body.clone();
        let ct = content_type.clone();
        async move { ([(axum::http::header::CONTENT_TYPE, ct)], body) }
    });
    serve_app(app).await
}

/// What a vendor's conformance test supplies to [`conformance`].
pub struct Conformance<S> {
    /// A fresh simulator (its sandbox), one per fixture so fixtures do not meet.
    pub sim: fn() -> S,
    pub connect: Connect,
    /// The vendor's action table: each fixture's id must be the catalog id of the
    /// action its `call` runs.
    pub spec: fn() -> &'static VendorSpec,
    /// The fixture file's text.
    pub fixtures: &'static str,
    /// A body (a sample's or the simulator's) read as JSON, envelope and all; `None`
    /// when it is not readable as the vendor's format.
    pub parse: fn(&[u8]) -> Option<Value>,
    /// What the client's `call` returns for a success sample (the vendor's documented
    /// payload), or for a failure sample `Err((code, message))`.
    pub expect: fn(&Value) -> std::result::Result<Value, (String, String)>,
    /// Whether a shape difference is one the document allows everywhere (an envelope
    /// key every answer carries though the samples leave it out).
    pub allowed: fn(&ShapeDiff) -> bool,
    /// The `Content-Type` a sample is served with to the client.
    pub content_type: &'static str,
    /// The `Content-Type` the vendor's answers carry (charset included; compared without
    /// regard to case and blanks), `None` where neither document nor facts say.
    pub answer_content_type: Option<&'static str>,
    /// Variables every fixture may use (`$name`): values a fixture line cannot hold,
    /// such as a certificate, and defaults for names a preparation binds (the client's
    /// decoding runs without the preparation, and a typed parameter must still bind).
    pub vars: &'static [(&'static str, &'static str)],
}

/// How a vendor's fixtures fared.
#[derive(Debug, Default)]
pub struct Summary {
    pub vendor: String,
    pub samples: usize,
    pub client_decodes: usize,
    pub sim_matches: usize,
    /// Fixtures marked `differs:` that do not match: id and the stated reason.
    pub known: Vec<(String, String)>,
    /// Fixtures marked `contradicted:` (the document says the sample is not answered)
    /// that do not match: id and the document's statement.
    pub contradicted: Vec<(String, String)>,
    /// Fixtures marked `differs:` or `contradicted:` that match after all (the mark is
    /// stale).
    pub stale: Vec<String>,
    /// Unexpected failures: fixture id and what went wrong.
    pub failures: Vec<(String, String)>,
}

impl Summary {
    /// Prints the per-vendor summary (shown by `cargo test -- --nocapture`, and on
    /// failure).
    pub fn print(&self) {
        println!(
            "conformance {}: {} samples, {} decoded by the client, {} matched by the simulator, {} documented contradictions, {} known differences",
            self.vendor,
            self.samples,
            self.client_decodes,
            self.sim_matches,
            self.contradicted.len(),
            self.known.len()
        );
        for (id, why) in &self.contradicted {
            println!("  contradicted  {id}: {why}");
        }
        for (id, why) in &self.known {
            println!("  differs  {id}: {why}");
        }
        for id in &self.stale {
            println!("  STALE    {id}: marked `differs` but matches");
        }
        for (id, why) in &self.failures {
            println!("  FAIL     {id}: {why}");
        }
    }

    /// Fails the test on any unexpected failure or stale mark.
    #[track_caller]
    pub fn assert_clean(&self) {
        self.print();
        assert!(
            self.failures.is_empty() && self.stale.is_empty(),
            "{} conformance: {} failures, {} stale marks (see above)",
            self.vendor,
            self.failures.len(),
            self.stale.len()
        );
    }
}

/// Runs every fixture of `c`: the client decodes the sample, and the simulator, after
/// the fixture's preparation, answers the same call in the sample's shape.
pub async fn conformance<S: Simulator>(c: &Conformance<S>) -> Summary {
    let fixtures = parse_fixtures(c.fixtures);
    let mut sum = Summary {
        vendor: (c.sim)().vendor().to_string(),
        ..Summary::default()
    };
    for fx in &fixtures {
        sum.samples += 1;
        let called = (c.spec)().find(&fx.call.action).map(|a| a.id.as_str());
        if called != Some(fx.catalog_id()) {
            let why = format!("the id is not the catalog id of its call ({called:?})");
            sum.failures.push((fx.id.clone(), why));
            continue;
        }
        let sample = match (c.parse)(fx.sample.as_bytes()) {
            Some(v) => v,
            None => {
                sum.failures
                    .push((fx.id.clone(), "the sample itself is unreadable".into()));
                continue;
            }
        };
        let decoded = client_decodes(c, fx, &sample).await;
        let matched = sim_matches(c, fx, &sample).await;
        if let (Some(why), Err(_)) = (&fx.contradicted, &matched) {
            sum.contradicted.push((fx.id.clone(), why.clone()));
        }
        if fx.contradicted.is_some() {
            match decoded {
                Ok(()) => sum.client_decodes += 1,
                Err(why) => sum.failures.push((fx.id.clone(), format!("client: {why}"))),
            }
            if matched.is_ok() {
                sum.sim_matches += 1;
                sum.stale.push(fx.id.clone());
            }
            continue;
        }
        match (decoded, &fx.differs) {
            (Ok(()), _) => sum.client_decodes += 1,
            // A marked fixture may fail both ways (an action not implemented at all).
            (Err(_), Some(_)) if matched.is_err() => {}
            (Err(why), _) => sum.failures.push((fx.id.clone(), format!("client: {why}"))),
        }
        match (matched, &fx.differs) {
            (Ok(()), None) => sum.sim_matches += 1,
            (Ok(()), Some(_)) => {
                sum.sim_matches += 1;
                sum.stale.push(fx.id.clone());
            }
            (Err(_), Some(why)) => sum.known.push((fx.id.clone(), why.clone())),
            (Err(why), None) => sum
                .failures
                .push((fx.id.clone(), format!("simulator: {why}"))),
        }
    }
    sum
}

async fn client_decodes<S: Simulator>(
    c: &Conformance<S>,
    fx: &Fixture,
    sample: &Value,
) -> std::result::Result<(), String> {
    let base = serve_sample(c.content_type, fx.sample.clone().into_bytes()).await;
    let sim = (c.sim)();
    let acct = account(sim.vendor(), &base, credentials(&sim.sandbox_credentials()));
    let conn = (c.connect)(&acct, &config()).map_err(|e| format!("connect: {e}"))?;
    // The defaults, so a typed parameter (an id) still binds without the preparation.
    let vars: Vec<(String, String)> = c
        .vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let params = fx.call.bound(&vars);
    let got = conn.call(&fx.call.action, &params).await;
    match ((c.expect)(sample), got) {
        (Ok(want), Ok(got)) if want == got => Ok(()),
        (Ok(want), Ok(got)) => Err(format!("decoded {got}, sample's payload is {want}")),
        (Ok(_), Err(e)) => Err(format!("failed on a success sample: {e}")),
        (Err((code, msg)), Err(e)) => {
            let text = e.to_string();
            if text.contains(&msg) && text.contains(&code) {
                Ok(())
            } else {
                Err(format!(
                    "error {text:?} lacks code {code:?} or message {msg:?}"
                ))
            }
        }
        (Err((code, msg)), Ok(v)) => Err(format!("failure sample {code} {msg} decoded as {v}")),
    }
}

async fn sim_matches<S: Simulator>(
    c: &Conformance<S>,
    fx: &Fixture,
    sample: &Value,
) -> std::result::Result<(), String> {
    let answer = simulator_answer(c, fx).await?;
    let squash = |s: &str| s.to_ascii_lowercase().replace([' ', '"'], "");
    if let Some(ct) = c.answer_content_type {
        if squash(ct) != squash(&answer.content_type) {
            return Err(format!(
                "Content-Type {:?}, the vendor sends {ct:?}",
                answer.content_type
            ));
        }
    }
    let Some(got) = (c.parse)(&answer.body) else {
        return Err(format!(
            "answer unreadable: {}",
            String::from_utf8_lossy(&answer.body)
        ));
    };
    let diffs: Vec<String> = shape_diff(sample, &got)
        .into_iter()
        .filter(|d| !(c.allowed)(d) && !fx.allows(d))
        .map(|d| d.to_string())
        .collect();
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(diffs.join("; "))
    }
}

/// What a fresh simulator of `c` answers to `fx`'s call after its preparation, as it
/// went on the wire: for checks of a vendor's own beyond the shape (the values of a
/// label, say).
pub async fn simulator_answer<S: Simulator>(
    c: &Conformance<S>,
    fx: &Fixture,
) -> std::result::Result<Recorded, String> {
    let sim = (c.sim)();
    let (srv, rec) = serve_recorded(&sim).await;
    let conn = (c.connect)(&sandbox_account(&sim, &srv), &config())
        .map_err(|e| format!("connect: {e}"))?;
    let mut vars: Vec<(String, String)> = c
        .vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (bind, call) in &fx.prepare {
        let params = call.bound(&vars);
        let v = conn
            .call(&call.action, &params)
            .await
            .map_err(|e| format!("prepare {}: {e}", call.action))?;
        if let Some((name, ptr)) = bind {
            let got = match v.pointer(ptr) {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => return Err(format!("prepare {}: nothing at {ptr} in {v}", call.action)),
            };
            vars.push((name.clone(), got));
        }
    }
    rec.clear();
    // A failure answer is an answer too: its shape is what is compared.
    let _ = conn.call(&fx.call.action, &fx.call.bound(&vars)).await;
    rec.last()
        .ok_or_else(|| "the simulator was not asked".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes_compare_keys_types_and_dates() {
        let sample = json!({"code": 1, "data": [
            {"id": 1, "name": "a", "at": "2012-9-14 16:17:00", "opt": 1},
            {"id": 2, "name": "b", "at": "2012-10-14 16:17:00"},
        ]});
        let same = json!({"code": 1, "data": [{"id": 7, "name": "x", "at": "2026-1-2 03:04:05"}]});
        assert_eq!(shape_diff(&sample, &same), vec![]);
        let other = json!({"code": "1", "msg": "", "data": [
            {"id": "7", "Name": "x", "at": "2026/12/2 11:46:17", "opt": 1},
        ]});
        let diffs: Vec<String> = shape_diff(&sample, &other)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            diffs,
            [
                "/code: string, sample number",
                "/data/0/id: string, sample number",
                "missing /data/0/name",
                "/data/0/at: date \"2026/12/2 11:46:17\", sample \"2012-9-14 16:17:00\"",
                "extra /data/0/Name",
                "extra /msg",
            ]
        );
        let padded =
            json!({"code": 1, "data": [{"id": 1, "name": "a", "at": "2026-01-02 03:04:05"}]});
        assert!(matches!(
            shape_diff(&sample, &padded)[..],
            [ShapeDiff::Date { .. }]
        ));
        let empty = json!({"code": 1, "data": []});
        assert_eq!(
            shape_diff(&sample, &empty),
            [ShapeDiff::Empty("/data".into())]
        );
    }

    #[test]
    fn fixtures_parse_with_bindings_quotes_and_marks() {
        let text = "# head\n=== v:get\ncall: get guid=$id when='2026-01-01 00:00:00'\n\
                    prepare: $id=/ids/0 buy a=1 \\\n  b=2\nextra: k1,k2 the list names them\n\
                    differs: not yet\ncontradicted: withdrawn\n--- sample\n\n{\"code\":1}\n\n";
        let fx = &parse_fixtures(text)[0];
        assert_eq!(fx.id, "v:get");
        assert_eq!(fx.catalog_id(), "v:get");
        let variant = Fixture {
            id: "v:get (xml)".into(),
            ..Fixture::default()
        };
        assert_eq!(variant.catalog_id(), "v:get");
        assert_eq!(fx.sample, "{\"code\":1}");
        assert_eq!(fx.prepare[0].1.params.len(), 2);
        let vars = [("id".to_string(), "42".to_string())];
        assert_eq!(
            fx.call.bound(&vars),
            [
                ("guid".to_string(), "42".to_string()),
                ("when".to_string(), "2026-01-01 00:00:00".to_string())
            ]
        );
        let twice = [
            ("id".to_string(), "default".to_string()),
            ("id".to_string(), "42".to_string()),
        ];
        assert_eq!(fx.call.bound(&twice), fx.call.bound(&vars));
        assert!(fx.allows(&ShapeDiff::Extra("/data/k2".into())));
        assert_eq!(fx.differs.as_deref(), Some("not yet"));
        assert_eq!(fx.contradicted.as_deref(), Some("withdrawn"));
    }
}
