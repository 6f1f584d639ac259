//! The one call path every vendor client runs through.
//!
//! A vendor crate implements [`Protocol`]: how to encode one request from an action's
//! spec and its bound arguments, and how to read an answer (data, the vendor's refusal,
//! or unreadable). [`Exchange`] owns everything else, once, for all five vendors:
//! parameter checks against the spec, the per-account rate limit (inside
//! [`HttpClient`]), retries of reads — also of a read whose answer arrived but could
//! not be read — the rule that a write whose answer is lost or unreadable is
//! `Error::UnknownOutcome` and is never retried, redaction of what upstreams echo, and
//! timing metrics. No vendor crate runs its own retry loop or decides an outcome.

use crate::client::{HttpClient, WireRequest, WireResponse};
use idcgate_core::capability::Params;
use idcgate_core::error::ErrorTable;
use idcgate_core::spec::{ActionKind, ActionSpec, Args, VendorSpec};
use idcgate_core::{Error, Result, Vendor};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A vendor's refusal: its own code and message, verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: String,
    pub message: String,
    /// The field the vendor's answer points at, when it names one.
    pub field: Option<String>,
}

impl Refusal {
    pub fn new(code: impl ToString, message: impl Into<String>) -> Self {
        Refusal {
            code: code.to_string(),
            message: message.into(),
            field: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

/// What an answer said.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    /// The vendor did it (or, for a read, here is what it holds).
    Data(Value),
    /// The vendor refused; nothing changed.
    Refused(Refusal),
    /// An answer arrived but says nothing we can trust (a proxy's 502, a truncated
    /// body, an envelope without its status). For a read: retried. For a write: the
    /// change may have happened, so its outcome is unknown.
    Unreadable(String),
}

/// What a vendor crate supplies to run on the shared call path.
pub trait Protocol: Send + Sync + 'static {
    /// The vendor's spec (its crate's `spec`).
    const SPEC: fn() -> &'static VendorSpec;
    /// The vendor's error-code table; refusals are classified through it.
    const ERRORS: &'static ErrorTable;

    fn spec(&self) -> &'static VendorSpec {
        (Self::SPEC)()
    }

    /// The vendor, as its spec names it.
    fn vendor(&self) -> Vendor {
        self.spec().vendor
    }

    fn errors(&self) -> &'static ErrorTable {
        Self::ERRORS
    }

    /// Rewrites a caller's parameters before they are checked against the spec (Zonkvm
    /// takes flat `content.cpu=4` and folds it into the one JSON field the spec requires).
    fn prepare(&self, _action: &ActionSpec, params: Params) -> Result<Params> {
        Ok(params)
    }

    /// Refuses a call before anything is sent (DNSPod halts credentials after an
    /// authentication failure), or checks what the spec cannot say (West's GBK-only text).
    fn admit(&self, _action: &ActionSpec, _args: &Args<'_>) -> Result<()> {
        Ok(())
    }

    /// One attempt's request. Called again for every retry, so a signature that depends
    /// on the time is fresh each time.
    fn encode(&self, action: &ActionSpec, args: &Args<'_>) -> Result<WireRequest>;

    /// Reads one answer. Also the place to keep what an answer carries for later calls
    /// (DNSPod's D令牌 cookie).
    fn decode(&self, action: &ActionSpec, response: &WireResponse) -> Decoded;

    /// A refusal as the caller's error: the table's classification by default.
    fn refused(&self, _action: &ActionSpec, refusal: &Refusal) -> Error {
        self.errors()
            .error(&refusal.code, &refusal.message, refusal.field.as_deref())
    }

    /// Told after every answer that was read (`Ok(Null)` for data, the error for a
    /// refusal), so a protocol can keep login state (clear a one-shot code on success,
    /// halt after an authentication failure).
    fn observe(&self, _action: &ActionSpec, _outcome: &Result<Value>) {}

    /// Whether a read refused this way may be sent again (re-encoded, so re-signed):
    /// a refusal about the request itself rather than what it asks, such as a
    /// duplicate-submission guard two processes can trip in the same millisecond.
    /// Writes are never re-sent on a refusal.
    fn retry_refused_read(&self, _refusal: &Refusal) -> bool {
        false
    }
}

/// A vendor's protocol over one account's HTTP client: the whole call path.
pub struct Exchange<P> {
    protocol: P,
    http: HttpClient,
    read_retries: u32,
    backoff: Duration,
}

/// The protocol alone: its own `Debug` decides what of the account shows (never a secret).
impl<P: std::fmt::Debug> std::fmt::Debug for Exchange<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Exchange").field(&self.protocol).finish()
    }
}

impl<P: Protocol> Exchange<P> {
    /// `read_retries` extra attempts for reads (from `WireConfig`).
    pub fn new(protocol: P, http: HttpClient, read_retries: u32) -> Self {
        Exchange {
            protocol,
            http,
            read_retries,
            backoff: Duration::from_millis(200),
        }
    }

    /// The call path for one upstream account: its transport (User-Agent, timeouts, the
    /// account's rate limit — shared through `cfg.rate_gate` with other processes when
    /// set —, `redactor`'s secrets) and `cfg`'s read retries.
    pub fn for_account(
        protocol: P,
        account: &idcgate_core::UpstreamAccount,
        cfg: &crate::WireConfig,
        redactor: crate::Redactor,
    ) -> Result<Self> {
        let mut http =
            HttpClient::new(protocol.vendor(), cfg, account.rate_limit_per_sec, redactor)?;
        if let Some(gate) = &cfg.rate_gate {
            http = http.shared_by(gate, &account.name);
        }
        Ok(Exchange::new(protocol, http, cfg.read_retries))
    }

    /// The first pause between read attempts (doubled each time; tests shorten it).
    pub fn with_backoff(mut self, first: Duration) -> Self {
        self.backoff = first;
        self
    }

    pub fn protocol(&self) -> &P {
        &self.protocol
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// Runs an implemented action by id or short name with the caller's parameters.
    pub async fn call(&self, action: &str, params: &Params) -> Result<Value> {
        let spec = self.protocol.spec().require(action)?;
        let params = self.protocol.prepare(spec, params.clone())?;
        self.run(&spec.bind(&params)?).await
    }

    /// `call` for typed callers: `&[("domain", "x.com")]`.
    pub async fn call_kv(&self, action: &str, params: &[(&str, &str)]) -> Result<Value> {
        self.call_kv_as(action, params, Ok).await
    }

    /// `call_kv` whose payload must have a shape: `read` extracts what the caller needs,
    /// and an answer it cannot read counts as unreadable — a read is retried, a write
    /// is an unknown outcome (the upstream may have done it, e.g. created a server whose
    /// id the answer lacks).
    pub async fn call_kv_as<T>(
        &self,
        action: &str,
        params: &[(&str, &str)],
        read: impl Fn(Value) -> std::result::Result<T, String>,
    ) -> Result<T> {
        let spec = self.protocol.spec().require(action)?;
        let params = self.protocol.prepare(spec, owned(params))?;
        self.run_as(&spec.bind(&params)?, read).await
    }

    /// [`Exchange::call_kv`] with a file's bytes as the parameter `field`
    /// ([`ActionSpec::bind_file`]), for a protocol that sends files as bytes.
    pub async fn call_kv_file(
        &self,
        action: &str,
        params: &[(&str, &str)],
        field: &str,
        file: idcgate_core::PanelFile,
    ) -> Result<Value> {
        let spec = self.protocol.spec().require(action)?;
        let params = self.protocol.prepare(spec, owned(params))?;
        self.run(&spec.bind_file(&params, field, file)?).await
    }

    /// A write the upstream accepted whose result a follow-up read could not confirm
    /// (a server was ordered; reading it back failed): the outcome is not known until
    /// something reads the upstream again, so it is neither success nor failure.
    pub fn unconfirmed(&self, action: &str, message: impl Into<String>) -> Error {
        let vendor = self.protocol.vendor();
        let action = self
            .protocol
            .spec()
            .find(action)
            .map_or_else(|| format!("{vendor}:{action}"), |a| a.id.clone());
        Error::UnknownOutcome {
            vendor: vendor.to_string(),
            action,
            message: self.http.redactor().redact(&message.into()),
        }
    }

    /// Runs bound arguments: the retry and outcome policy, once for every vendor.
    pub async fn run(&self, args: &Args<'_>) -> Result<Value> {
        self.run_as(args, Ok).await
    }

    /// `run` with a payload reader (see [`Exchange::call_kv_as`]).
    pub async fn run_as<T>(
        &self,
        args: &Args<'_>,
        read: impl Fn(Value) -> std::result::Result<T, String>,
    ) -> Result<T> {
        let action = args.action();
        self.protocol.admit(action, args)?;
        let attempts = match action.kind {
            ActionKind::Read => 1 + self.read_retries,
            ActionKind::Write => 1,
        };
        let vendor = self.protocol.vendor();
        let started = Instant::now();
        let mut last = String::new();
        for attempt in 0..attempts {
            if attempt > 0 {
                tokio::time::sleep(self.backoff * (1 << (attempt - 1).min(5))).await;
            }
            let request = self.protocol.encode(action, args)?;
            let failure = match self.http.transmit(&action.id, &request).await {
                Ok(response) => match self.protocol.decode(action, &response) {
                    Decoded::Data(value) => {
                        self.protocol.observe(action, &Ok(Value::Null));
                        match read(value) {
                            Ok(out) => {
                                record(vendor, "ok", started);
                                return Ok(out);
                            }
                            Err(why) => Failure {
                                reached: true,
                                message: format!("unreadable answer: {why}"),
                            },
                        }
                    }
                    Decoded::Refused(refusal)
                        if action.kind == ActionKind::Read
                            && attempt + 1 < attempts
                            && self.protocol.retry_refused_read(&refusal) =>
                    {
                        Failure {
                            reached: true,
                            message: format!("refused {}, sent again", refusal.code),
                        }
                    }
                    Decoded::Refused(mut refusal) => {
                        // An upstream may echo a secret anywhere it quotes the request,
                        // also in what it names as the offending field.
                        let redactor = self.http.redactor();
                        refusal.message = redactor.redact(&refusal.message);
                        refusal.field = refusal.field.map(|f| redactor.redact(&f));
                        let err = self.protocol.refused(action, &refusal);
                        self.protocol.observe(action, &Err(err.clone()));
                        record(vendor, "refused", started);
                        return Err(err);
                    }
                    Decoded::Unreadable(why) => Failure {
                        reached: true,
                        message: format!("HTTP {}: {why}", response.status),
                    },
                },
                Err(failure) => failure,
            };
            let message = self.http.redactor().redact(&failure.message);
            tracing::warn!(%vendor, action = %action.id, attempt, %message, "upstream call failed");
            if action.kind == ActionKind::Write && failure.reached {
                record(vendor, "unknown_outcome", started);
                return Err(Error::UnknownOutcome {
                    vendor: vendor.to_string(),
                    action: action.id.clone(),
                    message,
                });
            }
            last = message;
        }
        record(vendor, "transport", started);
        Err(Error::Transport {
            vendor: vendor.to_string(),
            message: last,
        })
    }
}

fn owned(params: &[(&str, &str)]) -> Params {
    params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A request that produced no answer we can read.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Whether the request may have reached the upstream (a connect failure did not).
    pub reached: bool,
    pub message: String,
}

/// Implements `idcgate_core::Connection` for a vendor client holding an
/// [`Exchange`], listing the capabilities it serves — the one place a connection's
/// raw call surface is written:
///
/// ```ignore
/// idcgate_wire::impl_connection!(WestClient, exchange, [registrar, dns, compute]);
/// // a client that does something above the exchange on raw calls (DNSPod's no-op skip):
/// idcgate_wire::impl_connection!(DnspodClient, exchange, call = call, [dns, billing]);
/// ```
#[macro_export]
macro_rules! impl_connection {
    ($client:ty, $exchange:ident, [$($cap:ident),* $(,)?]) => {
        $crate::impl_connection!(@impl $client, $exchange,
            |this: &$client, action, params| this.$exchange.call(action, params), [$($cap),*]);
    };
    ($client:ty, $exchange:ident, call = $call:ident, [$($cap:ident),* $(,)?]) => {
        $crate::impl_connection!(@impl $client, $exchange,
            |this: &$client, action, params| this.$call(action, params), [$($cap),*]);
    };
    (@impl $client:ty, $exchange:ident, |$this:ident : &$t:ty, $action:ident, $params:ident| $body:expr, [$($cap:ident),*]) => {
        #[async_trait::async_trait]
        impl idcgate_core::Connection for $client {
            fn vendor(&self) -> idcgate_core::Vendor {
                $crate::exchange::Protocol::vendor(self.$exchange.protocol())
            }
            fn spec(&self) -> &'static idcgate_core::spec::VendorSpec {
                $crate::exchange::Protocol::spec(self.$exchange.protocol())
            }
            async fn call(
                &self,
                $action: &str,
                $params: &idcgate_core::capability::Params,
            ) -> idcgate_core::Result<serde_json::Value> {
                let $this = self;
                $body.await
            }
            $($crate::impl_connection!(@cap $cap);)*
        }
    };
    (@cap registrar) => { fn registrar(&self) -> Option<&dyn idcgate_core::capability::Registrar> { Some(self) } };
    (@cap dns) => { fn dns(&self) -> Option<&dyn idcgate_core::capability::Dns> { Some(self) } };
    (@cap compute) => { fn compute(&self) -> Option<&dyn idcgate_core::capability::Compute> { Some(self) } };
    (@cap web_hosting) => { fn web_hosting(&self) -> Option<&dyn idcgate_core::capability::WebHosting> { Some(self) } };
    (@cap databases) => { fn databases(&self) -> Option<&dyn idcgate_core::capability::Databases> { Some(self) } };
    (@cap mail) => { fn mail(&self) -> Option<&dyn idcgate_core::capability::Mail> { Some(self) } };
    (@cap certificates) => { fn certificates(&self) -> Option<&dyn idcgate_core::capability::Certificates> { Some(self) } };
    (@cap billing) => { fn billing(&self) -> Option<&dyn idcgate_core::capability::Billing> { Some(self) } };
    (@cap purchasing) => { fn purchasing(&self) -> Option<&dyn idcgate_core::purchase::Purchasing> { Some(self) } };
}

/// Writes a client's raw calls on its [`Exchange`] field, each with the visibility given:
/// `call` (an implemented action by id or short name, checked against the spec),
/// `call_kv` (the same for typed callers: `&[("domain", "x.com")]`) and `call_kv_as` (a
/// payload that must have a shape: see [`Exchange::call_kv_as`]).
///
/// ```ignore
/// impl WestClient {
///     idcgate_wire::exchange_calls!(exchange, [pub call, pub call_kv, pub(crate) call_kv_as]);
/// }
/// ```
#[macro_export]
macro_rules! exchange_calls {
    ($exchange:ident, [$($vis:vis $call:ident),* $(,)?]) => {
        $($crate::exchange_calls!(@one $exchange, $vis $call);)*
    };
    (@one $exchange:ident, $vis:vis call) => {
        /// Runs an implemented action by id or short name, checked against the spec.
        $vis async fn call(
            &self, action: &str, params: &idcgate_core::capability::Params,
        ) -> idcgate_core::Result<serde_json::Value> {
            self.$exchange.call(action, params).await
        }
    };
    (@one $exchange:ident, $vis:vis call_kv) => {
        /// `call` for typed callers: `&[("domain", "x.com")]`.
        $vis async fn call_kv(
            &self, action: &str, params: &[(&str, &str)],
        ) -> idcgate_core::Result<serde_json::Value> {
            self.$exchange.call_kv(action, params).await
        }
    };
    (@one $exchange:ident, $vis:vis call_kv_as) => {
        /// `call_kv` whose payload must have a shape `read` can extract: an answer it
        /// rejects is retried for a read and an unknown outcome for a write.
        $vis async fn call_kv_as<T>(
            &self, action: &str, params: &[(&str, &str)],
            read: impl Fn(serde_json::Value) -> ::std::result::Result<T, String>,
        ) -> idcgate_core::Result<T> {
            self.$exchange.call_kv_as(action, params, read).await
        }
    };
}

/// Upstream calls by vendor and outcome: how many, and the seconds they took in all
/// (retries included), for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CallStats {
    pub count: u64,
    pub seconds: f64,
}

fn stats() -> &'static Mutex<BTreeMap<(Vendor, &'static str), CallStats>> {
    static STATS: std::sync::OnceLock<Mutex<BTreeMap<(Vendor, &'static str), CallStats>>> =
        std::sync::OnceLock::new();
    STATS.get_or_init(|| Mutex::new(BTreeMap::new()))
}

fn record(vendor: Vendor, outcome: &'static str, started: Instant) {
    let mut m = idcgate_core::lock(stats());
    let s = m.entry((vendor, outcome)).or_default();
    s.count += 1;
    s.seconds += started.elapsed().as_secs_f64();
}

/// A snapshot of the upstream call statistics of this process.
pub fn call_stats() -> Vec<(Vendor, &'static str, CallStats)> {
    idcgate_core::lock(stats())
        .iter()
        .map(|((v, o), s)| (*v, *o, *s))
        .collect()
}
