//! The simulator host: the scaffolding every vendor simulator shares, written once.
//!
//! A vendor crate describes its upstream with [`SimVendor`] (state, how a request finds
//! its spec row, the handlers, the envelope) and wraps a [`Host`] in its `Sim`. The host
//! owns the shared state and its lock, the clock, the body-size policy, form and
//! multipart decoding, the dispatch table, spec validation and "a refused write changes
//! nothing". See `docs/vendor-crate.md` ("Simulator host").

use super::clock::{Clock, ClockControl};
use crate::form;
use axum::body::{to_bytes, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use axum::Router;
use idcgate_core::spec::{ActionKind, ActionSpec, VendorSpec};
use idcgate_core::Vendor;
use jiff::Timestamp;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// What a simulator keeps: `Clone` so a refused write can be undone, and the clock
/// inside it so its own methods (expiry, task completion) read the same "now". The host
/// reaches the clock only under its lock, so one accessor serves reading and moving it.
pub trait SimState: Clone + Send + 'static {
    fn clock(&mut self) -> &mut Clock;
}

/// One action's handler: the state under the lock and the resolved call.
pub type Handler<V> = fn(
    &mut <V as SimVendor>::State,
    &Call<'_, V>,
) -> Result<<V as SimVendor>::Ok, <V as SimVendor>::Fail>;

/// One module's part of a simulator's handler table: the handler of an action it serves.
pub type Handlers<V> = fn(&str) -> Option<Handler<V>>;

/// The handler of the action `name` from the first of `modules` that serves it: a
/// simulator splits its actions over modules and asks them in a fixed order.
pub fn handler_in<V: SimVendor>(modules: &[Handlers<V>], name: &str) -> Option<Handler<V>> {
    modules.iter().find_map(|serves| serves(name))
}

/// Where a vendor's API is mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mount {
    /// One path, any method (the vendor answers wrong methods itself).
    Any(&'static str),
    /// One path, POST only (other methods get axum's 405).
    Post(&'static str),
    /// Every path not otherwise routed.
    Fallback,
}

/// How the query string and the body make one field list. Lookups take the first
/// match, so the order decides which wins when both carry a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOrder {
    /// ASP.NET's `Request[]`: query string first.
    QueryFirst,
    /// PHP frameworks' `input()`: body first.
    BodyFirst,
    /// The body of a POST only; the query string of any other method.
    BodyOnPostElseQuery,
}

/// A request refused before (or instead of) reaching a handler.
pub enum Refusal<F> {
    /// The vendor's failure, rendered by [`SimVendor::render`] like a handler's.
    Fail(F),
    /// The vendor's failure for a request whose action was already found (refused by
    /// the authentication that follows routing, or a body too large for a known page):
    /// [`Outcome::action`] names it, so the answer can be labelled as that action's.
    FailAt(&'static ActionSpec, F),
    /// An answer outside the vendor's envelope (an unknown page's 404, ...); boxed
    /// because a response is large and refusals travel through `Result`s.
    Answer(Box<Response>),
}

impl<F> Refusal<F> {
    pub fn answer(resp: impl IntoResponse) -> Self {
        Refusal::Answer(Box::new(resp.into_response()))
    }
}

/// The action a request resolved to, and what the resolver learnt on the way (who is
/// calling, on whose behalf, ...), handed to the handler as [`Call::ctx`].
pub struct Route<V: SimVendor> {
    pub action: &'static ActionSpec,
    pub ctx: V::Ctx,
}

/// What [`SimVendor::render`] turns into bytes.
pub struct Outcome<'a, V: SimVendor> {
    /// The action the request was for, when one was found: the route's, or the one a
    /// [`Refusal::FailAt`] names.
    pub action: Option<&'static ActionSpec>,
    /// `None` when the request was refused before it resolved.
    pub route: Option<&'a Route<V>>,
    pub result: Result<V::Ok, V::Fail>,
}

/// A vendor's simulator as the host drives it. Every hook is an associated function:
/// all a simulator knows lives in its [`SimState`].
pub trait SimVendor: Sized + Send + Sync + 'static {
    type State: SimState;
    /// What [`SimVendor::resolve`] passes to handlers besides the action.
    type Ctx: Send + Sync;
    type Ok;
    type Fail;

    const VENDOR: Vendor;
    const MOUNTS: &'static [Mount];
    /// Largest body read; a larger one gets [`SimVendor::oversize`], never an empty form.
    const MAX_BODY: usize;
    const FIELD_ORDER: FieldOrder = FieldOrder::QueryFirst;
    /// Whether values are trimmed before the spec checks them (the handlers of servers
    /// that trim read trimmed values, so that is what the spec must check).
    const CHECK_TRIMMED: bool = true;
    /// A field that receives a multipart file part's `filename` (for upstreams that
    /// document the upload's name as a parameter of its own).
    const FILE_NAME_FIELD: Option<&'static str> = None;

    /// The modules that serve the implemented actions, asked in this order.
    const HANDLERS: &'static [Handlers<Self>];

    fn spec() -> &'static VendorSpec;
    /// The handler of an implemented action; the host builds its table from this once.
    /// The modules are asked by the spec name; override for a vendor keyed otherwise.
    fn handler(action: &ActionSpec) -> Option<Handler<Self>> {
        handler_in(Self::HANDLERS, action.name())
    }
    /// Authenticates the request and finds its spec row. May change the state (login
    /// bans, replay guards, completing due tasks): that is never rolled back.
    fn resolve(st: &mut Self::State, req: &Incoming) -> Result<Route<Self>, Refusal<Self::Fail>>;
    /// The failure for a value the spec refuses (`reason` is the spec's English text).
    fn invalid(req: &Incoming, action: &ActionSpec, field: &str, reason: &str) -> Self::Fail;
    /// The failure for an implemented action without a handler (a test should make
    /// this unreachable: see [`Host::unrouted`] and [`Host::misrouted`]).
    fn unrouted(action: &ActionSpec) -> Self::Fail;
    /// The answer to a body over [`SimVendor::MAX_BODY`]; `req` holds the query string
    /// alone (the body was not read), which may still say how to answer.
    fn oversize(req: &Incoming) -> Refusal<Self::Fail>;
    /// A last check on a write the handler accepted (quotas measured over the whole
    /// state); an `Err` undoes the write like a handler's.
    fn after_write(_before: &Self::State, _after: &Self::State) -> Result<(), Self::Fail> {
        Ok(())
    }
    /// What of a refused write stands: the host has put `restored` back as it was before
    /// the write, and hands over the state as the refusal (`fail`) left it. Copy into
    /// `restored` whatever a real upstream would not undo (a sequence's drawn ids, an
    /// abuse counter, a logged failure). The default keeps nothing.
    fn keep_refused(_fail: &Self::Fail, _restored: &mut Self::State, _refused: Self::State) {}
    /// The HTTP answer, byte for byte as the upstream sends it.
    fn render(st: &mut Self::State, req: &Incoming, outcome: Outcome<'_, Self>) -> Response;
    fn sandbox_credentials(st: &Self::State) -> Vec<(String, String)>;
}

/// A request as every simulator sees it: decoded once, before the lock is taken.
#[derive(Debug)]
pub struct Incoming {
    method: Method,
    path: String,
    headers: HeaderMap,
    client_ip: Option<IpAddr>,
    query: Vec<(String, String)>,
    body_fields: Vec<(String, String)>,
    fields: Vec<(String, String)>,
    body: Bytes,
}

impl Incoming {
    /// A request made in-process (seeding through the real pipeline, unit tests): the
    /// fields arrive as a decoded body, with no query, headers or peer.
    pub fn new(method: Method, path: &str, fields: Vec<(String, String)>) -> Self {
        Incoming {
            method,
            path: path.to_string(),
            headers: HeaderMap::new(),
            client_ip: None,
            query: Vec::new(),
            body_fields: fields.clone(),
            fields,
            body: Bytes::new(),
        }
    }

    /// The same request as coming from `ip` (an in-process replay on behalf of a peer).
    pub fn with_client_ip(mut self, ip: IpAddr) -> Self {
        self.client_ip = Some(ip);
        self
    }

    pub fn method(&self) -> &Method {
        &self.method
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// A header's value, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The peer address (`None` when served without connect info, as in unit tests).
    pub fn client_ip(&self) -> Option<IpAddr> {
        self.client_ip
    }

    /// The query string's fields alone.
    pub fn query(&self) -> &[(String, String)] {
        &self.query
    }

    /// The body's fields alone (urlencoded or multipart).
    pub fn body_fields(&self) -> &[(String, String)] {
        &self.body_fields
    }

    /// The raw body bytes (empty when it was over the limit).
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The bytes of the body's multipart part named `name` (a file's), exactly as sent
    /// (`fields` hold them as text, lossy for a file); `None` when there is no such part.
    pub fn file(&self, name: &str) -> Option<Vec<u8>> {
        form::multipart_file(&self.body, self.header("content-type"), name).map(|p| p.bytes)
    }

    /// Query and body fields in the vendor's [`FieldOrder`].
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// The first value of a field (case-insensitive name), exactly as sent.
    pub fn raw(&self, key: &str) -> Option<&str> {
        form::get(&self.fields, key)
    }

    /// The first value of a field, trimmed; `None` when absent or blank.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.raw(key).map(str::trim).filter(|v| !v.is_empty())
    }
}

/// One resolved call, as a handler sees it. Field access goes through the request
/// ([`Call::get`] and friends via `Deref`); once the spec binds typed arguments they
/// will hang off this type too, so handlers keep their signature.
pub struct Call<'a, V: SimVendor> {
    req: &'a Incoming,
    action: &'static ActionSpec,
    ctx: &'a V::Ctx,
    now: Timestamp,
}

impl<'a, V: SimVendor> Call<'a, V> {
    /// A call made in-process, outside [`Host::answer`] (a batch job replaying single
    /// calls through their handlers): not validated, and nothing is undone for it.
    pub fn new(
        req: &'a Incoming,
        action: &'static ActionSpec,
        ctx: &'a V::Ctx,
        now: Timestamp,
    ) -> Self {
        Call {
            req,
            action,
            ctx,
            now,
        }
    }

    pub fn action(&self) -> &'static ActionSpec {
        self.action
    }

    pub fn ctx(&self) -> &V::Ctx {
        self.ctx
    }

    /// The simulator's clock when the call began.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// [`Call::now`] in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.now.as_millisecond()
    }

    pub fn request(&self) -> &Incoming {
        self.req
    }

    /// [`Incoming::get`], else the spec's default for the parameter.
    pub fn arg(&self, key: &str) -> Option<&str> {
        self.req.get(key).or_else(|| {
            self.action
                .params
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(key))
                .and_then(|p| p.default.as_deref())
        })
    }
}

impl<V: SimVendor> std::ops::Deref for Call<'_, V> {
    type Target = Incoming;

    fn deref(&self) -> &Incoming {
        self.req
    }
}

struct Shared<V: SimVendor> {
    state: Mutex<V::State>,
    table: HashMap<&'static str, Handler<V>>,
}

/// One simulated upstream: shared state behind one lock, served by [`Host::router`].
/// Clones share the same upstream.
pub struct Host<V: SimVendor> {
    shared: Arc<Shared<V>>,
}

impl<V: SimVendor> Clone for Host<V> {
    fn clone(&self) -> Self {
        Host {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<V: SimVendor> std::fmt::Debug for Host<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("vendor", &V::VENDOR)
            .finish_non_exhaustive()
    }
}

impl<V: SimVendor> Host<V> {
    pub fn new(state: V::State) -> Self {
        let table = V::spec()
            .implemented()
            .filter_map(|a| V::handler(a).map(|h| (a.id.as_str(), h)))
            .collect();
        Host {
            shared: Arc::new(Shared {
                state: Mutex::new(state),
                table,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, V::State> {
        // A panicked handler leaves the data as consistent as its last statement; keep
        // serving rather than poisoning every later request and test.
        idcgate_core::lock(&self.shared.state)
    }

    /// Runs `f` on the state under the lock (test hooks, seeding, snapshots).
    pub fn with_state<R>(&self, f: impl FnOnce(&mut V::State) -> R) -> R {
        f(&mut self.lock())
    }

    pub fn now(&self) -> Timestamp {
        self.lock().clock().now()
    }

    /// Freezes the clock at `now`.
    pub fn set_now(&self, now: Timestamp) {
        self.lock().clock().set_now(now);
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.lock().clock().advance(by);
    }

    /// The clock as the control endpoint steers it.
    pub fn clock_control(&self) -> Arc<dyn ClockControl> {
        Arc::new(self.clone())
    }

    pub fn vendor(&self) -> Vendor {
        V::VENDOR
    }

    pub fn sandbox_credentials(&self) -> Vec<(String, String)> {
        V::sandbox_credentials(&self.lock())
    }

    /// Implemented actions with no handler.
    pub fn unrouted() -> Vec<&'static str> {
        V::spec()
            .implemented()
            .filter(|a| V::handler(a).is_none())
            .map(|a| a.id.as_str())
            .collect()
    }

    /// Rows whose handler does not match the spec: implemented with none, or a to-do
    /// row with one (each vendor's tests assert there are none).
    pub fn misrouted() -> Vec<&'static str> {
        V::spec()
            .actions
            .iter()
            .filter(|a| V::handler(a).is_some() != a.implemented)
            .map(|a| a.id.as_str())
            .collect()
    }

    /// The vendor's API over this host's state (no faults: `sim::serve` adds them).
    pub fn router(&self) -> Router {
        let mut router = Router::new();
        for mount in V::MOUNTS {
            router = match *mount {
                Mount::Any(path) => router.route(path, any(endpoint::<V>)),
                Mount::Post(path) => router.route(path, post(endpoint::<V>)),
                Mount::Fallback => router.fallback(endpoint::<V>),
            };
        }
        router.with_state(self.clone())
    }

    /// Resolves, validates, dispatches and renders one decoded request.
    pub fn answer(&self, req: &Incoming) -> Response {
        let mut st = self.lock();
        let route = match V::resolve(&mut st, req) {
            Ok(route) => route,
            Err(refusal) => return render_refusal::<V>(&mut st, req, refusal),
        };
        let result = self.run(&mut st, req, &route);
        V::render(
            &mut st,
            req,
            Outcome {
                action: Some(route.action),
                route: Some(&route),
                result,
            },
        )
    }

    fn run(&self, st: &mut V::State, req: &Incoming, route: &Route<V>) -> Result<V::Ok, V::Fail> {
        let action = route.action;
        let supplied = req.fields.iter().map(|(k, v)| {
            let v = if V::CHECK_TRIMMED { v.trim() } else { v };
            (k.as_str(), v)
        });
        action
            .validate(supplied)
            .map_err(|(field, reason)| V::invalid(req, action, &field, &reason))?;
        let handler = *self
            .shared
            .table
            .get(action.id.as_str())
            .ok_or_else(|| V::unrouted(action))?;
        let call = Call::new(req, action, &route.ctx, st.clock().now());
        if action.kind == ActionKind::Read {
            return handler(st, &call);
        }
        // A refused write must change nothing, whatever step of a handler refused it.
        // Keeping a copy is cheaper than proving every handler validates before it
        // mutates.
        let before = st.clone();
        let result = handler(st, &call).and_then(|ok| V::after_write(&before, st).map(|()| ok));
        if let Err(fail) = &result {
            let refused = std::mem::replace(st, before);
            V::keep_refused(fail, st, refused);
        }
        result
    }
}

fn render_refusal<V: SimVendor>(
    st: &mut V::State,
    req: &Incoming,
    refusal: Refusal<V::Fail>,
) -> Response {
    let (action, fail) = match refusal {
        Refusal::Answer(resp) => return *resp,
        Refusal::Fail(fail) => (None, fail),
        Refusal::FailAt(action, fail) => (Some(action), fail),
    };
    V::render(
        st,
        req,
        Outcome {
            action,
            route: None,
            result: Err(fail),
        },
    )
}

impl<V: SimVendor> ClockControl for Host<V> {
    fn now(&self) -> Timestamp {
        Host::now(self)
    }

    fn set_now(&self, now: Timestamp) {
        Host::set_now(self, now);
    }

    fn advance(&self, by: Duration) {
        Host::advance(self, by);
    }
}

impl<V: SimVendor> super::Simulator for Host<V> {
    fn vendor(&self) -> Vendor {
        V::VENDOR
    }

    fn router(&self) -> Router {
        Host::router(self)
    }

    fn sandbox_credentials(&self) -> Vec<(String, String)> {
        Host::sandbox_credentials(self)
    }

    fn clock(&self) -> Option<Arc<dyn ClockControl>> {
        Some(self.clock_control())
    }
}

/// The one axum handler behind every mount: decode, then [`Host::answer`].
async fn endpoint<V: SimVendor>(State(host): State<Host<V>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let client_ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    // A query string declares no charset of its own: a sender that declared one for its
    // body used it for the query too; without one (a GET) the value is guessed.
    let query = parts
        .uri
        .query()
        .map(|q| form::decode_declared(q.as_bytes(), content_type.as_deref()))
        .unwrap_or_default();
    let mut incoming = Incoming {
        method: parts.method,
        path: parts.uri.path().to_string(),
        headers: parts.headers,
        client_ip,
        query,
        body_fields: Vec::new(),
        fields: Vec::new(),
        body: Bytes::new(),
    };
    // A body that cannot be read whole (too large, or the sender gave up) is answered
    // as too large; treating it as an empty form would answer a different question.
    let Ok(body) = to_bytes(body, V::MAX_BODY).await else {
        // The query still says how to answer (format, language) where a vendor reads it.
        incoming.fields = merge(V::FIELD_ORDER, &incoming.method, &incoming.query, &[]);
        let mut st = host.lock();
        return render_refusal::<V>(&mut st, &incoming, V::oversize(&incoming));
    };
    incoming.body_fields = form::decode_body(&body, content_type.as_deref(), V::FILE_NAME_FIELD);
    incoming.body = body;
    incoming.fields = merge(
        V::FIELD_ORDER,
        &incoming.method,
        &incoming.query,
        &incoming.body_fields,
    );
    host.answer(&incoming)
}

fn merge(
    order: FieldOrder,
    method: &Method,
    query: &[(String, String)],
    body: &[(String, String)],
) -> Vec<(String, String)> {
    let (first, second): (&[_], &[_]) = match order {
        FieldOrder::QueryFirst => (query, body),
        FieldOrder::BodyFirst => (body, query),
        FieldOrder::BodyOnPostElseQuery if method == Method::POST => (body, &[]),
        FieldOrder::BodyOnPostElseQuery => (query, &[]),
    };
    first.iter().chain(second).cloned().collect()
}
