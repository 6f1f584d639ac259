//! Storage: one trait, two backends (embedded SQLite by default, PostgreSQL to scale).
//!
//! Owns: the schema and its migrations, encryption of upstream credentials at rest, the
//! inventory of resources with their change history, the append-only audit log, the
//! order journal and the append-only double-entry ledger, renewal policies, floors and
//! notices, notifications (events once per key, deliveries, the delivery log), API tokens (hashed), the console's operators and sessions, and the job leases that let several instances share one database.
//!
//! Must not know: any vendor, HTTP, or how resources are fetched. Resources are stored
//! as opaque JSON documents keyed by (account, kind, key).

#[macro_use]
mod rows;

mod crypto;
mod lockouts;
mod migrations;
mod notify;
mod operators;
mod orders;
mod product_units;
mod renewals;
mod resale;
mod sql;
mod tenant_orders;
#[cfg(feature = "testing")]
pub mod testing;
mod zone_markers;

pub use crypto::{digest, Cipher, MasterKey, MasterKeyError};
pub use lockouts::{Counted, FailureLimit, Lockouts, Standing};
pub use notify::{
    AttemptEnd, AttemptRow, Delivery, DeliveryState, EventRow, FailureStreak, NewEvent,
    NotifyStore, OrderMove,
};
pub use operators::{OperatorRow, OperatorStore, Role, SessionRow, SessionStage, TotpState};
pub use orders::{
    LedgerFilter, LedgerLine, Move, NewOrder, OrderEvent, OrderFilter, OrderRow, OrderStore, Placed,
};
pub use product_units::{ProductUnitRow, ProductUnitStore};
pub use renewals::{PolicyPatch, PolicyRow, PolicyScope, RenewalNotice, RenewalStore};
pub use resale::{
    AppKey, DepositRow, Deposited, NewDeposit, NewProduct, NewTenant, ProductRow, ProductState,
    Removal, ResaleStore, TenantPatch, TenantRow, TenantState,
};
pub use sql::{SqlStore, TOKEN_TRUST};
pub use tenant_orders::{
    Charged, MarginRow, NewCharge, NewTenantOrder, Opened, PricedAs, TenantCharge,
    TenantOrderFilter, TenantOrderPatch, TenantOrderRow, TenantOrderState, TenantOrderStore,
};
pub use zone_markers::ZoneMarkerStore;

use rows::{first_column, kind_of, parsed, ReadRows, Table};

/// The store's traits, in scope by use rather than by name (`use idcgate_store::prelude::*`),
/// for code that calls the methods of several of them on one `dyn Store`: tests seeding or
/// reading behind the engine. Kept to the traits whose method names do not collide.
pub mod prelude {
    pub use crate::{
        Lockouts as _, NotifyStore as _, OperatorStore as _, OrderStore as _, RenewalStore as _,
        ResaleStore as _, Store as _, TenantOrderStore as _,
    };
}

use async_trait::async_trait;
use idcgate_core::{ResourceKind, UpstreamAccount};
use serde::{Deserialize, Serialize};

/// Clone: one failure may answer several callers (a joined sync), each with the kind.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {url}: {message}")]
    Open { url: String, message: String },
    #[error("database error: {0}")]
    Database(String),
    #[error("database schema version {found} is newer than this idcgate understands ({known}); upgrade idcgate")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("the master key does not decrypt this database's secrets (key check failed): use the key the database was created with (IDCGATE_MASTER_KEY or the key file)")]
    WrongMasterKey,
    #[error("{0} already exists")]
    Conflict(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

/// One inventory resource as last seen upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRow {
    pub account: String,
    pub kind: ResourceKind,
    /// Stable key within (account, kind): upstream id or name.
    pub key: String,
    /// Human name used for search (domain name, server name, `zone/host type`).
    pub name: String,
    pub data: serde_json::Value,
    /// Unix milliseconds, if the resource expires.
    pub expires_at_ms: Option<i64>,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    /// Set when the resource disappeared upstream; history is kept.
    pub gone_at_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Changed,
    Gone,
    Returned,
}

idcgate_core::word_enum!(ChangeKind {
    Added => "added",
    Changed => "changed",
    Gone => "gone",
    Returned => "returned",
});

/// The outcome of recording one observed resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Added,
    Changed,
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRow {
    pub account: String,
    pub kind: ResourceKind,
    pub key: String,
    pub change: ChangeKind,
    pub at_ms: i64,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Filters for listing resources; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct ResourceFilter {
    pub account: Option<String>,
    pub kind: Option<ResourceKind>,
    pub accounts: Option<Vec<String>>,
    /// A substring of the name, ignoring ASCII case.
    pub search: Option<String>,
    /// Only resources expiring before this instant (Unix ms).
    pub expires_before_ms: Option<i64>,
    /// Only resources expiring at or after this instant (Unix ms).
    pub expires_after_ms: Option<i64>,
    pub include_gone: bool,
    /// Only names with this prefix, case and all (e.g. a zone's records).
    pub name_prefix: Option<String>,
    /// Servers: only those whose lifecycle or power state is this one
    /// (`idcgate_core::SERVER_STATES`).
    pub state: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// The order of a listing (and so of its pages); `None` is the store's own: soonest
    /// expiry first under `expires_before_ms`, else by kind and name.
    pub order: Option<ResourceOrder>,
}

/// A column a listing of resources is ordered by, ties broken by name, account, key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceOrder {
    Name {
        descending: bool,
    },
    Account {
        descending: bool,
    },
    /// Resources that never expire come last either way.
    Expiry {
        descending: bool,
    },
    /// Servers by lifecycle state (`active`, `suspended`, ...).
    Lifecycle {
        descending: bool,
    },
    /// Servers by power state (`running`, `stopped`, ...).
    Power {
        descending: bool,
    },
    /// DNS zones by the record count the upstream gave; an unknown count is below zero.
    RecordCount {
        descending: bool,
    },
}

/// One page of a list as the console asks for it: text to search for, a column the
/// list knows (any other is the list's own order) and its direction, and the window.
#[derive(Debug, Clone, Default)]
pub struct ListPage {
    /// A substring of the list's text columns, ignoring ASCII case (as `LOWER` does on
    /// both backends alike).
    pub search: Option<String>,
    pub sort: Option<String>,
    pub descending: bool,
    pub limit: i64,
    pub offset: i64,
    /// Whether to count every matching row too (a long log browsed page by page need not).
    pub count: bool,
}

/// The audit log's filters: text ones are substrings ignoring ASCII case, the outcome
/// is exact.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub outcome: Option<String>,
    pub since_ms: Option<i64>,
}

/// The detail of an intent no entry completes, listed as an entry whose outcome is
/// `unfinished`.
pub const UNFINISHED_DETAIL: &str =
    "announced, no outcome recorded: in flight, or its process died before the upstream answered";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at_ms: i64,
    /// Who: `cli:<user>` or `token:<name>`.
    pub actor: String,
    /// What: e.g. `dns.add`, `account.add`.
    pub action: String,
    /// On what: account/zone/server.
    pub target: String,
    /// `ok`, or the error kind.
    pub outcome: String,
    /// The upstream's answer or the error text (already free of secrets).
    pub detail: String,
    /// The [`AuditIntent`] this entry completes (an upstream call announced before it
    /// was sent); `None` for entries written in one step.
    #[serde(default)]
    pub intent_id: Option<i64>,
}

/// A mutating upstream call announced before it is sent. An intent no [`AuditEntry`]
/// completes is a call still in flight, or one whose process died before it could say
/// how it ended: the upstream may or may not have changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditIntent {
    /// Assigned by the store; 0 in an intent not yet written.
    pub id: i64,
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Read,
    Operate,
    Admin,
}

idcgate_core::word_enum!(Scope { Read => "read", Operate => "operate", Admin => "admin" });

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    pub scope: Scope,
    pub created_at_ms: i64,
    pub revoked: bool,
}

/// One reading of an upstream account's balance, kept so the statement check can say how
/// the balance moved between two instants (`balance_readings`, append-only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceReading {
    /// Assigned by the store; 0 in a reading not yet appended.
    pub id: i64,
    pub account: String,
    pub at_ms: i64,
    pub available_fen: i64,
    pub credit_fen: i64,
    /// What took it: `sync`, `statement`, ...
    pub source: String,
}

/// The storage contract. Both backends pass the same suite (`tests/suite.rs`).
#[async_trait]
pub trait Store:
    Lockouts
    + NotifyStore
    + OperatorStore
    + OrderStore
    + ProductUnitStore
    + RenewalStore
    + ResaleStore
    + TenantOrderStore
    + ZoneMarkerStore
    + Send
    + Sync
{
    /// Human-readable backend name (`sqlite` / `postgres`).
    fn backend(&self) -> &'static str;

    /// A round trip to the database (health checks).
    async fn ping(&self) -> Result<()>;

    /// Moves on when a write to the inventory through this handle ends (resources, and
    /// accounts, which a vendor filter reads), committed or not: what was read while
    /// it stood still is still what the database holds, as far as this handle's writes
    /// go. Another handle's writes (another process) do not move it.
    fn inventory_generation(&self) -> u64;

    /// Adds an account; `Conflict` if the name is taken. Credentials are encrypted here.
    async fn add_account(&self, account: &UpstreamAccount) -> Result<()>;
    /// Adds or replaces an account by name (used to register sandbox accounts).
    async fn put_account(&self, account: &UpstreamAccount) -> Result<()>;
    async fn get_account(&self, name: &str) -> Result<Option<UpstreamAccount>>;
    async fn list_accounts(&self) -> Result<Vec<UpstreamAccount>>;
    async fn remove_account(&self, name: &str) -> Result<bool>;

    /// Records resources as seen now, in one transaction; writes nothing for those that
    /// are unchanged. Outcomes are in input order.
    async fn upsert_resources(&self, rows: &[ResourceRow]) -> Result<Vec<Upserted>>;

    async fn upsert_resource(&self, row: &ResourceRow) -> Result<Upserted> {
        let out = self.upsert_resources(std::slice::from_ref(row)).await?;
        out.into_iter()
            .next()
            .ok_or_else(|| StoreError::Database("upsert returned no outcome".into()))
    }
    /// Marks every live resource of (account, kind) whose key is not in `seen` as gone.
    /// Returns the keys marked.
    async fn mark_gone(
        &self,
        account: &str,
        kind: ResourceKind,
        seen: &[String],
        now_ms: i64,
    ) -> Result<Vec<String>>;
    async fn list_resources(&self, filter: &ResourceFilter) -> Result<Vec<ResourceRow>>;
    async fn count_resources(&self, filter: &ResourceFilter) -> Result<i64>;
    /// One page of `filter` (its `limit` and `offset`) and how many match in all.
    async fn page_resources(&self, filter: &ResourceFilter) -> Result<(Vec<ResourceRow>, i64)> {
        let total = self.count_resources(filter).await?;
        Ok((self.list_resources(filter).await?, total))
    }
    async fn get_resource(
        &self,
        account: &str,
        kind: ResourceKind,
        key: &str,
    ) -> Result<Option<ResourceRow>>;
    /// The rows of `keys` that exist (gone ones included), in no particular order: one
    /// query for a page of resources instead of one per key. At most 1,000 keys.
    async fn get_resources(
        &self,
        account: &str,
        kind: ResourceKind,
        keys: &[String],
    ) -> Result<Vec<ResourceRow>>;
    async fn delete_resource(
        &self,
        account: &str,
        kind: ResourceKind,
        key: &str,
        now_ms: i64,
    ) -> Result<()>;
    async fn changes(&self, account: Option<&str>, limit: i64) -> Result<Vec<ChangeRow>>;

    async fn append_audit(&self, entry: &AuditEntry) -> Result<i64>;
    async fn list_audit(&self, limit: i64) -> Result<Vec<AuditEntry>>;
    /// The newest entry of `action` for each target (the last sync of each account).
    async fn last_audit_per_target(&self, action: &str) -> Result<Vec<AuditEntry>>;
    /// Writes an intent before its upstream call; returns its id, which the entry that
    /// completes it names (`AuditEntry::intent_id`). Intents are never changed.
    async fn begin_audit(&self, intent: &AuditIntent) -> Result<i64>;
    /// Intents no audit entry completes, newest first, at most `limit`.
    async fn unfinished_audit(&self, limit: i64) -> Result<Vec<AuditIntent>>;
    /// A page of the audit trail: the log with the intents no entry completes among it
    /// (outcome `unfinished`, detail [`UNFINISHED_DETAIL`], id 0), newest first unless
    /// sorted by `at`, `actor`, `action`, `target` or `outcome` (ties newest first the
    /// same way round); the search looks in actor, action, target and detail. The
    /// total when `page.count`.
    async fn page_audit(
        &self,
        filter: &AuditFilter,
        page: &ListPage,
    ) -> Result<(Vec<AuditEntry>, Option<i64>)>;
    /// The outcomes the newest `limit` entries name, in order (what a filter offers).
    async fn audit_outcomes(&self, limit: i64) -> Result<Vec<String>>;

    /// Stores a new token (only the hash of its secret); returns the full token once.
    async fn create_token(
        &self,
        name: &str,
        scope: Scope,
        now_ms: i64,
    ) -> Result<(TokenInfo, String)>;
    /// The token's info if the presented token is valid and not revoked. A token
    /// verified within `TOKEN_TRUST` is not read again: one revoked by another process
    /// stops working within that time, one revoked through this handle at once.
    async fn verify_token(&self, presented: &str) -> Result<Option<TokenInfo>>;
    async fn list_tokens(&self) -> Result<Vec<TokenInfo>>;
    async fn revoke_token(&self, id_or_name: &str) -> Result<bool>;

    /// Ensures a job exists (first run at `first_run_ms`).
    async fn ensure_job(&self, name: &str, first_run_ms: i64) -> Result<()>;
    /// Claims one due job for `owner` until `lease_until_ms`; a crashed owner's lease
    /// simply runs out and another instance claims the job again.
    async fn claim_job(
        &self,
        owner: &str,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<Option<String>> {
        self.claim_job_spread(owner, now_ms, lease_until_ms, 0)
            .await
    }
    /// `claim_job` that spreads jobs between instances: a job `owner` ran last is left,
    /// for `defer_ms` after it fell due, to any other instance that asked for work within
    /// the last `defer_ms`, so the instance that asks first does not run everything. An
    /// instance alone runs its jobs on time. Every call records that `owner` is polling.
    async fn claim_job_spread(
        &self,
        owner: &str,
        now_ms: i64,
        lease_until_ms: i64,
        defer_ms: i64,
    ) -> Result<Option<String>>;
    /// Gives up every lease `owner` holds without rescheduling: an instance shutting
    /// down leaves its jobs due, for another instance to claim at once rather than after
    /// the lease runs out (and no longer counts as polling). Returns how many it released.
    async fn release_jobs(&self, owner: &str) -> Result<u64>;
    /// Releases a job claimed by `owner` and schedules its next run.
    async fn finish_job(
        &self,
        name: &str,
        owner: &str,
        next_run_ms: i64,
        error: Option<&str>,
    ) -> Result<()>;

    /// Reserves `n` consecutive send slots in the rate schedule `key`, atomically for
    /// every process on this database: one slot per `interval_us`, and after a pause the
    /// schedule may start up to `tolerance_us` in the past (a burst). Returns the
    /// schedule's end after the reservation (the last slot is `interval_us` before it)
    /// and the time it was taken at, both in microseconds by the database's clock.
    async fn reserve_rate(
        &self,
        key: &str,
        interval_us: i64,
        tolerance_us: i64,
        n: i64,
    ) -> Result<(i64, i64)>;

    /// Appends one balance reading; returns its id. Readings are never changed.
    async fn append_balance_reading(&self, reading: &BalanceReading) -> Result<i64>;
    /// `account`'s readings taken at or after `since_ms`, oldest first, at most `limit`.
    async fn balance_readings(
        &self,
        account: &str,
        since_ms: i64,
        limit: i64,
    ) -> Result<Vec<BalanceReading>>;
    /// `account`'s latest reading taken at or before `at_ms`.
    async fn balance_reading_before(
        &self,
        account: &str,
        at_ms: i64,
    ) -> Result<Option<BalanceReading>>;
}
