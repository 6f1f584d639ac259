//! The engine: what idcgate does with upstream accounts, independent of any surface.
//!
//! Owns: the vendor registry (filled by the binary), connections per account, account
//! checks, inventory sync, DNS and server operations routed to the right account, the
//! audit trail of every mutating call, notifications (which events, once each, delivered
//! with retries), and scheduled jobs claimed through the store.
//!
//! Must not know: any vendor's wire format (vendors are reached only through
//! `idcgate_core` traits), HTTP/JSON surfaces, or SQL.

pub mod accounts;
pub mod catalog;
pub mod dnsplan;
pub mod jobs;
pub mod migrate;
pub mod notify;
pub mod operators;
pub mod ops;
pub mod orders;
pub mod period;
pub mod reads;
pub mod registry;
pub mod renewals;
pub mod statement;
pub mod storefront;
pub mod sync;
pub mod tenants;
#[cfg(feature = "testing")]
pub mod testing;
pub mod zonefile;

/// Upstream calls made by this process, by vendor and outcome (for `/metrics`).
pub use idcgate_wire::exchange::{call_stats as upstream_call_stats, CallStats};
pub use registry::{Registry, VendorEntry};

use idcgate_core::{Connection, UpstreamAccount};
use idcgate_store::{AuditEntry, Store, StoreError};
use idcgate_wire::WireConfig;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    // Messages say what is wrong, not which command of which surface to run next: a
    // hint belongs to a surface's rendering of the error (the CLI's `hint`).
    /// The store failed: its error is kept whole (its text, and its own source).
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Upstream(#[from] idcgate_core::Error),
    #[error("no account named {0:?}")]
    NoSuchAccount(String),
    #[error("no configured account hosts zone {0:?}")]
    NoSuchZone(String),
    #[error("no server {0:?} in the inventory")]
    NoSuchServer(String),
    #[error("no order {0}")]
    NoSuchOrder(i64),
    #[error("{0}")]
    Invalid(String),
    /// Input refused by a rule of ours, naming the field as every surface takes it
    /// (`name`, `base_url`, `rate`, `credentials`, ...).
    #[error("{reason}")]
    InvalidInput { field: String, reason: String },
    /// Well-formed, but the thing is not in a state that allows it (a tenant already
    /// active, a name already taken): asking again later may succeed, asking the same
    /// way now will not.
    #[error("{0}")]
    Conflict(String),
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

impl EngineError {
    /// This error for one more caller of a shared operation (a joined sync): every
    /// kind kept as it was, a store error with its own kind and text.
    fn shared(e: &Arc<EngineError>) -> EngineError {
        match e.as_ref() {
            EngineError::Store(s) => EngineError::Store(s.clone()),
            EngineError::Upstream(u) => EngineError::Upstream(u.clone()),
            EngineError::NoSuchAccount(n) => EngineError::NoSuchAccount(n.clone()),
            EngineError::NoSuchZone(z) => EngineError::NoSuchZone(z.clone()),
            EngineError::NoSuchServer(s) => EngineError::NoSuchServer(s.clone()),
            EngineError::NoSuchOrder(id) => EngineError::NoSuchOrder(*id),
            EngineError::Invalid(m) => EngineError::Invalid(m.clone()),
            EngineError::InvalidInput { field, reason } => EngineError::InvalidInput {
                field: field.clone(),
                reason: reason.clone(),
            },
            EngineError::Conflict(m) => EngineError::Conflict(m.clone()),
        }
    }
}

/// Account name -> (fingerprint of its configuration, connection).
type ConnectionCache = HashMap<String, (u64, Arc<dyn Connection>)>;

/// Identifies an account's configuration in memory only (never stored or shown), so a
/// cached connection is dropped as soon as any of it changes.
fn fingerprint(a: &UpstreamAccount) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (
        a.vendor,
        &a.base_url,
        a.rate_limit_per_sec,
        a.credentials.to_plain_json(),
    )
        .hash(&mut h);
    h.finish()
}

/// Accounts' upstream send slots, reserved in the database so that every instance on it
/// (and the CLI beside them) holds one rate limit per account together.
struct StoreRateGate(Arc<dyn Store>);

#[async_trait::async_trait]
impl idcgate_wire::RateGate for StoreRateGate {
    async fn reserve(
        &self,
        account: &str,
        interval: std::time::Duration,
        burst: u32,
        n: u32,
    ) -> std::result::Result<i64, idcgate_wire::GateError> {
        let step = i64::try_from(interval.as_micros()).unwrap_or(i64::MAX);
        let tolerance = step.saturating_mul(i64::from(burst.saturating_sub(1)));
        let n = i64::from(n);
        let (end, now) = self
            .0
            .reserve_rate(account, step, tolerance, n)
            .await
            .map_err(|e| idcgate_wire::GateError(e.to_string()))?;
        Ok(end - step.saturating_mul(n) - now)
    }
}

pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// One account's sync in flight: every caller that asks meanwhile awaits this and gets
/// its report (`sync::Engine::sync_account`).
type SyncFlight = Arc<tokio::sync::OnceCell<Result<sync::SyncReport, Arc<EngineError>>>>;

pub struct Engine {
    /// Private: every surface reads and writes through the engine's methods, so rules,
    /// validation and audit live in one place (`tests/surfaces.rs`).
    store: Arc<dyn Store>,
    pub registry: Registry,
    pub wire: WireConfig,
    connections: Mutex<ConnectionCache>,
    syncs: Mutex<HashMap<String, SyncFlight>>,
    zones: ops::ZoneProbes,
    /// What is announced and where; replaced whole by `set_notify`.
    notify: Mutex<Arc<notify::NotifySettings>>,
}

impl Engine {
    /// Upstream rate limits are held in `store` together with every other engine on the
    /// same database, unless `wire` already names a gate.
    pub fn new(store: Arc<dyn Store>, registry: Registry, mut wire: WireConfig) -> Self {
        if wire.rate_gate.is_none() {
            wire.rate_gate = Some(idcgate_wire::SharedGate(Arc::new(StoreRateGate(
                store.clone(),
            ))));
        }
        Engine {
            store,
            registry,
            wire,
            connections: Mutex::new(HashMap::new()),
            syncs: Mutex::new(HashMap::new()),
            zones: ops::ZoneProbes::default(),
            notify: Mutex::new(Arc::new(notify::NotifySettings::default())),
        }
    }

    pub async fn account(&self, name: &str) -> Result<UpstreamAccount> {
        self.store
            .get_account(name)
            .await?
            .ok_or_else(|| EngineError::NoSuchAccount(name.to_string()))
    }

    /// A connection for the account, reused so its rate limiter and session (cookies,
    /// halted-after-auth-failure state) are shared by every caller in this process. The
    /// account is read from the store each time: another process (the CLI next to a
    /// running server) may have removed it or changed its credentials.
    pub async fn connection(&self, name: &str) -> Result<Arc<dyn Connection>> {
        let account = self.account(name).await?;
        let print = fingerprint(&account);
        if let Some((cached_print, conn)) = self.lock_connections().get(name) {
            if *cached_print == print {
                return Ok(conn.clone());
            }
        }
        let conn = self.registry.connect(&account, &self.wire)?;
        // A new or changed account may host a zone no account hosted before.
        self.zones.forget_unknown();
        self.lock_connections()
            .insert(name.to_string(), (print, conn.clone()));
        Ok(conn)
    }

    /// Removes an account; everything it owned leaves the live inventory (marked gone,
    /// history kept). `false` if there was no such account.
    pub async fn remove_account(&self, actor: &str, name: &str) -> Result<bool> {
        let result = self.retire_account(name).await;
        self.audit(actor, "account.remove", name, &result, |n| {
            format!("{n} resources marked gone")
        })
        .await;
        match result {
            Ok(_) => Ok(true),
            Err(EngineError::NoSuchAccount(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// A new API token of `scope`, audited as `token.create` by `actor`; its secret is
    /// in the answer once and kept only as a digest. A name in use is `Conflict`.
    pub async fn create_token(
        &self,
        actor: &str,
        name: &str,
        scope: idcgate_store::Scope,
    ) -> Result<(idcgate_store::TokenInfo, String)> {
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(EngineError::InvalidInput {
                field: "name".into(),
                reason: format!("token name {name:?} must be 1 to 64 printable characters"),
            });
        }
        let result = match self.store.create_token(name, scope, now_ms()).await {
            Err(StoreError::Conflict(_)) => Err(EngineError::Conflict(format!(
                "a token named {name:?} exists"
            ))),
            other => other.map_err(EngineError::from),
        };
        self.audit(actor, "token.create", name, &result, |_| {
            format!("scope {}", scope.as_str())
        })
        .await;
        result
    }

    /// The token a presented secret is, if it is valid and not revoked.
    pub async fn verify_token(&self, presented: &str) -> Result<Option<idcgate_store::TokenInfo>> {
        Ok(self.store.verify_token(presented).await?)
    }

    /// Gives up the leases of `owner`'s jobs (at shutdown), so another instance runs
    /// them without waiting for the leases to run out.
    pub async fn release_jobs(&self, owner: &str) -> Result<u64> {
        Ok(self.store.release_jobs(owner).await?)
    }

    /// The active tokens `id_or_name` names (an id, or a name several may share).
    pub async fn active_tokens(&self, id_or_name: &str) -> Result<Vec<idcgate_store::TokenInfo>> {
        Ok(self
            .store
            .list_tokens()
            .await?
            .into_iter()
            .filter(|t| !t.revoked && (t.id == id_or_name || t.name == id_or_name))
            .collect())
    }

    /// Revokes the active tokens `id_or_name` names; they stop working everywhere within
    /// the store's token trust (a second). None active is `NotFound`, audited as such
    /// with what was asked for.
    pub async fn revoke_token(
        &self,
        actor: &str,
        id_or_name: &str,
    ) -> Result<Vec<idcgate_store::TokenInfo>> {
        let result = self.revoke_named(id_or_name).await;
        let target = match &result {
            Ok(tokens) => tokens
                .iter()
                .map(|t| t.id.as_str())
                .collect::<Vec<_>>()
                .join(","),
            Err(_) => id_or_name.to_string(),
        };
        let params = serde_json::json!({ "id_or_name": id_or_name });
        self.audit_with(actor, "token.revoke", &target, &params, &result, |tokens| {
            let names: Vec<_> = tokens
                .iter()
                .map(|t| serde_json::json!({"id": t.id, "name": t.name, "scope": t.scope.as_str()}))
                .collect();
            serde_json::json!({ "revoked": names }).to_string()
        })
        .await;
        result
    }

    async fn revoke_named(&self, id_or_name: &str) -> Result<Vec<idcgate_store::TokenInfo>> {
        let tokens = self.active_tokens(id_or_name).await?;
        if tokens.is_empty() || !self.store.revoke_token(id_or_name).await? {
            return Err(idcgate_core::Error::NotFound {
                what: format!("active token {id_or_name:?}"),
            }
            .into());
        }
        Ok(tokens)
    }

    async fn retire_account(&self, name: &str) -> Result<usize> {
        if !self.store.remove_account(name).await? {
            return Err(EngineError::NoSuchAccount(name.to_string()));
        }
        self.forget_connection(name);
        let now = now_ms();
        let mut retired = 0;
        for kind in idcgate_core::ResourceKind::ALL {
            retired += self.store.mark_gone(name, kind, &[], now).await?.len();
        }
        Ok(retired)
    }

    /// Drops a cached connection (after the account's credentials changed).
    pub fn forget_connection(&self, name: &str) {
        self.lock_connections().remove(name);
    }

    fn lock_connections(&self) -> std::sync::MutexGuard<'_, ConnectionCache> {
        idcgate_core::lock(&self.connections)
    }

    /// Writes one audit entry. An audit failure is logged, never hidden: the caller's
    /// operation already happened upstream and must still be reported.
    pub async fn audit<T>(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        result: &std::result::Result<T, EngineError>,
        detail_ok: impl FnOnce(&T) -> String,
    ) {
        self.write_audit(None, actor, action, target, None, result, detail_ok)
            .await;
    }

    /// [`Engine::audit`] of a call made with `params`: the entry's detail is
    /// [`audit_detail`] (the parameters with secret-looking values blanked, then the
    /// answer or the error).
    pub async fn audit_with<T>(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        params: &serde_json::Value,
        result: &std::result::Result<T, EngineError>,
        detail_ok: impl FnOnce(&T) -> String,
    ) {
        self.write_audit(None, actor, action, target, Some(params), result, detail_ok)
            .await;
    }

    /// Announces a mutating upstream call before it is sent, so a process killed while
    /// it is in flight still leaves a trace of it (`Store::unfinished_audit`). Nothing
    /// is sent if the intent cannot be written: an operation that cannot be audited is
    /// not done.
    pub async fn begin_audit(&self, actor: &str, action: &str, target: &str) -> Result<i64> {
        let intent = idcgate_store::AuditIntent {
            id: 0,
            at_ms: now_ms(),
            actor: actor.to_string(),
            action: action.to_string(),
            target: target.to_string(),
        };
        Ok(self.store.begin_audit(&intent).await?)
    }

    /// The audit log, newest first, with the intents no entry completes among them as
    /// entries whose outcome is `unfinished` (in flight, or their process died: the
    /// upstream may or may not have changed) and whose `intent_id` names the intent.
    pub async fn audit_trail(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        let mut entries = self.store.list_audit(limit).await?;
        entries.extend(
            self.store
                .unfinished_audit(limit)
                .await?
                .into_iter()
                .map(|i| AuditEntry {
                    id: 0,
                    at_ms: i.at_ms,
                    actor: i.actor,
                    action: i.action,
                    target: i.target,
                    outcome: "unfinished".into(),
                    detail: idcgate_store::UNFINISHED_DETAIL.into(),
                    intent_id: Some(i.id),
                }),
        );
        entries.sort_by(|a, b| b.at_ms.cmp(&a.at_ms).then(b.id.cmp(&a.id)));
        entries.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(entries)
    }

    /// Runs `call`, a write upstream, audited: announced by an intent first (nothing is
    /// sent when it cannot be written, see [`Engine::begin_audit`]), then the intent
    /// completed with how the call ended; with `params`, the entry's detail is
    /// [`audit_detail`]. `call` is a future and so sends nothing until it is awaited
    /// here, after the intent.
    pub async fn audited<T>(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        params: Option<&serde_json::Value>,
        call: impl std::future::Future<Output = Result<T>>,
        detail_ok: impl FnOnce(&T) -> String,
    ) -> Result<T> {
        let intent = self.begin_audit(actor, action, target).await?;
        let result = call.await;
        self.write_audit(
            Some(intent),
            actor,
            action,
            target,
            params,
            &result,
            detail_ok,
        )
        .await;
        result
    }

    /// Completes the intent `begin_audit` returned with how the call ended, for a call
    /// that may end before it is sent in a way not to be audited (a refusal).
    pub async fn finish_audit<T>(
        &self,
        intent: i64,
        actor: &str,
        action: &str,
        target: &str,
        result: &std::result::Result<T, EngineError>,
        detail_ok: impl FnOnce(&T) -> String,
    ) {
        self.write_audit(Some(intent), actor, action, target, None, result, detail_ok)
            .await;
    }

    #[allow(clippy::too_many_arguments)]
    async fn write_audit<T>(
        &self,
        intent_id: Option<i64>,
        actor: &str,
        action: &str,
        target: &str,
        params: Option<&serde_json::Value>,
        result: &std::result::Result<T, EngineError>,
        detail_ok: impl FnOnce(&T) -> String,
    ) {
        let (outcome, answer) = match result {
            Ok(v) => ("ok".to_string(), Ok(detail_ok(v))),
            Err(EngineError::Upstream(e)) => (e.kind().to_string(), Err(e.to_string())),
            Err(e) => ("error".to_string(), Err(e.to_string())),
        };
        let detail = match params {
            Some(p) => audit_detail(p, answer.as_deref().map_err(String::as_str)),
            None => answer.unwrap_or_else(|e| e),
        };
        let entry = AuditEntry {
            id: 0,
            at_ms: now_ms(),
            actor: actor.to_string(),
            action: action.to_string(),
            target: target.to_string(),
            outcome,
            detail,
            intent_id,
        };
        if let Err(e) = self.store.append_audit(&entry).await {
            tracing::error!(error = %e, action, target, "could not write audit entry");
        }
    }

    /// A raw call of one of the vendor's documented actions at `account`. A write is
    /// audited as `call <id>` by `actor`: its parameters (secret-looking ones blanked)
    /// beside the answer, cut to 2,000 characters, or the error.
    pub async fn call_action(
        &self,
        actor: &str,
        account: &str,
        spec: &idcgate_core::spec::ActionSpec,
        params: &idcgate_core::capability::Params,
    ) -> Result<serde_json::Value> {
        let conn = self.connection(account).await?;
        let result = conn.call(&spec.id, params).await.map_err(EngineError::from);
        if spec.kind == idcgate_core::spec::ActionKind::Write {
            let audited: serde_json::Map<String, serde_json::Value> = params
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            let target = format!("call {}", spec.id);
            self.audit_with(
                actor,
                &target,
                account,
                &serde_json::Value::Object(audited),
                &result,
                |v| {
                    let text = idcgate_wire::redact::scrub_json(v).to_string();
                    match text.char_indices().nth(2000) {
                        Some((cut, _)) => format!("{}…", &text[..cut]),
                        None => text,
                    }
                },
            )
            .await;
        }
        result
    }

    /// Checks an account's credentials with the cheapest read it supports.
    pub async fn test_account(&self, name: &str) -> Result<String> {
        let conn = self.connection(name).await?;
        if let Some(b) = conn.billing() {
            match b.balance().await {
                Ok(bal) => {
                    return Ok(format!(
                        "ok: balance {} (credit {})",
                        bal.available, bal.credit
                    ))
                }
                // No balance read (Zonkvm): one of the reads below checks the account.
                Err(idcgate_core::Error::Unsupported { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if let Some(d) = conn.dns() {
            let zones = d.list_zones().await?;
            return Ok(format!("ok: {} zones", zones.len()));
        }
        if let Some(c) = conn.compute() {
            let servers = c.list_servers().await?;
            return Ok(format!("ok: {} servers", servers.len()));
        }
        Err(EngineError::Invalid(format!(
            "{} offers no capability to test the account with",
            conn.vendor()
        )))
    }
}

/// An audit entry's detail for a call made with `params`, one JSON document:
/// `{"params": {...}, "answer": ...}` or `{"params": {...}, "error": "..."}`. Values of
/// secret-looking parameters (`redact::is_secret_name`) are blanked; an answer that is
/// JSON is kept as JSON, with its secret-looking fields blanked as well.
pub fn audit_detail(params: &serde_json::Value, answer: std::result::Result<&str, &str>) -> String {
    use idcgate_wire::redact::{scrub_json, scrub_text};
    let params = scrub_json(params);
    let doc = match answer {
        Ok(text) => {
            let answer = serde_json::from_str::<serde_json::Value>(text)
                .map(|v| scrub_json(&v))
                .unwrap_or_else(|_| serde_json::Value::String(scrub_text(text)));
            serde_json::json!({ "params": params, "answer": answer })
        }
        Err(text) => serde_json::json!({ "params": params, "error": scrub_text(text) }),
    };
    doc.to_string()
}
