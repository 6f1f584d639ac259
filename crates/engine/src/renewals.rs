//! Renewals: a policy per resource (defaults per kind), the plan of what would be renewed
//! when and at what live price, the job that renews through the order journal, and
//! staged expiry reminders.
//!
//! Money safety rests on three things. The job renews one resource's expiry under a key
//! derived from it (`renew:{account}:{kind}:{key}:{expiry_ms}`), so a second run or a
//! second instance finds the first order instead of buying again; only an attempt the
//! upstream refused (a `failed` order, which took nothing) is tried again, under the
//! next key, a few times at most. The expiry in the key is read live from the upstream
//! where the vendor shows it, so a resource renewed by hand since the last sync is not
//! renewed again. And nothing is placed whose quote is above the policy's maximum or
//! that would take the account's live balance below its floor.
//!
//! Reminders go to the audit log (`renewal.reminder`). Mail and webhooks announce the same
//! stages (`REMINDER_DAYS`, `reminder_stage`) through `notify`, which keeps its own
//! once-per-stage record, so a channel configured later still gets the next stage.

use crate::jobs::{Schedule, RENEW_JOB};
use crate::{now_ms, Engine, EngineError, Result};
use idcgate_core::purchase::{Operation, PurchaseRequest, Purchasing};
use idcgate_core::{Money, OrderState, ResourceKind};
use idcgate_store::{
    AuditEntry, OrderRow, PolicyPatch, PolicyRow, PolicyScope, RenewalNotice, ResourceFilter,
    ResourceRow,
};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub const DAY_MS: i64 = 86_400_000;
/// Reminder stages, in days before expiry. Each is given once per (resource, expiry);
/// a stage already passed when a resource is first seen is not given late.
pub const REMINDER_DAYS: [i64; 3] = [30, 7, 1];
/// Orders the upstream refused for one expiry before the job stops trying (a refusal
/// took nothing, but one refused every ten minutes helps nobody).
pub const MAX_ATTEMPTS: u32 = 3;
/// Who the scheduled job acts as in the journal and the audit log.
pub const JOB_ACTOR: &str = "job:renewals";

/// Which level decided a policy field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    BuiltIn,
    Kind,
    Resource,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::BuiltIn => "built-in",
            Level::Kind => "kind",
            Level::Resource => "resource",
        }
    }
}

/// Where each field of a [`RenewalPolicy`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sources {
    pub auto_renew: Level,
    pub days_before: Level,
    pub max_price: Level,
    pub months: Level,
}

/// One resource's policy with every field decided: the resource's own level over its
/// kind's default over the built-in one (off, 30 days, no cap, 12 months).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenewalPolicy {
    pub auto_renew: bool,
    pub days_before: i64,
    /// `None`: no cap.
    pub max_price: Option<Money>,
    pub months: u32,
    pub from: Sources,
}

impl RenewalPolicy {
    pub fn resolve(kind_row: Option<&PolicyRow>, own: Option<&PolicyRow>) -> Self {
        fn pick<T: Copy>(
            own: Option<&PolicyRow>,
            kind_row: Option<&PolicyRow>,
            field: impl Fn(&PolicyRow) -> Option<T>,
            built_in: T,
        ) -> (T, Level) {
            if let Some(v) = own.and_then(&field) {
                (v, Level::Resource)
            } else if let Some(v) = kind_row.and_then(&field) {
                (v, Level::Kind)
            } else {
                (built_in, Level::BuiltIn)
            }
        }
        let (auto_renew, a) = pick(own, kind_row, |r| r.auto_renew, false);
        let (days_before, d) = pick(own, kind_row, |r| r.days_before, 30);
        let (max_fen, p) = pick(own, kind_row, |r| r.max_price_fen.map(Some), None);
        let (months, m) = pick(own, kind_row, |r| r.months, 12);
        RenewalPolicy {
            auto_renew,
            days_before,
            max_price: max_fen.map(Money::from_fen),
            months: u32::try_from(months).unwrap_or(12),
            from: Sources {
                auto_renew: a,
                days_before: d,
                max_price: p,
                months: m,
            },
        }
    }

    /// When the job renews a resource expiring at `expires_ms`.
    pub fn renew_at_ms(&self, expires_ms: i64) -> i64 {
        expires_ms.saturating_sub(self.days_before.saturating_mul(DAY_MS))
    }
}

/// Every stored policy level, read once per plan or run.
pub struct Policies {
    rows: Vec<PolicyRow>,
}

impl Policies {
    pub fn of(&self, kind: ResourceKind, account: &str, key: &str) -> RenewalPolicy {
        let kind_row = self
            .rows
            .iter()
            .find(|r| r.scope.kind == kind && r.scope.resource.is_none());
        let own = self.rows.iter().find(|r| {
            r.scope.kind == kind
                && r.scope
                    .resource
                    .as_ref()
                    .is_some_and(|(a, k)| a == account && k == key)
        });
        RenewalPolicy::resolve(kind_row, own)
    }

    pub fn rows(&self) -> &[PolicyRow] {
        &self.rows
    }

    /// The widest renewal window any policy asks for, in days (reminders need 30).
    fn widest_days(&self) -> i64 {
        self.rows
            .iter()
            .filter_map(|r| r.days_before)
            .chain(REMINDER_DAYS)
            .max()
            .unwrap_or(30)
    }
}

/// What the policy decides for one resource now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Auto-renew is off: a person renews it (`idcgate renew NAME`).
    Manual,
    /// The job will renew it once its window opens (`renew_at_ms`).
    Later,
    /// Inside its window: the next run renews it.
    Due,
    /// An order for this expiry exists (renewed, in flight, or its outcome is being
    /// settled by reading): the job will not place another.
    Ordered,
    OverMaxPrice,
    BelowFloor,
    /// No live price (the upstream refused to quote or could not be reached).
    NoQuote,
    /// The upstream refused every attempt for this expiry.
    GaveUp,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Manual => "manual",
            Decision::Later => "later",
            Decision::Due => "due",
            Decision::Ordered => "ordered",
            Decision::OverMaxPrice => "over max price",
            Decision::BelowFloor => "below floor",
            Decision::NoQuote => "no quote",
            Decision::GaveUp => "gave up",
        }
    }
}

/// One resource in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedRenewal {
    pub account: String,
    pub kind: ResourceKind,
    /// The resource's key in the inventory (what a renewal targets).
    pub key: String,
    pub name: String,
    pub expires_at_ms: i64,
    /// When the job renews it: expiry minus the policy's days before.
    pub renew_at_ms: i64,
    pub months: u32,
    /// The live quote for `months`; `None` with `error` when there is none.
    pub price: Option<Money>,
    pub error: Option<String>,
    pub policy: RenewalPolicy,
    pub decision: Decision,
    /// Why, in words.
    pub reason: String,
    /// The order already placed for this expiry, if any.
    pub order_id: Option<i64>,
}

/// One upstream account in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountTotal {
    pub account: String,
    /// Renewing everything listed with a price.
    pub total: Money,
    /// What the policies would spend (due or later, within cap and floor).
    pub auto_total: Money,
    /// The live balance, when the plan needed it and the vendor shows it.
    pub balance: Option<Money>,
    pub floor: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenewalPlan {
    pub now_ms: i64,
    pub horizon_ms: i64,
    pub items: Vec<PlannedRenewal>,
    pub totals: Vec<AccountTotal>,
}

/// A reminder given by a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reminder {
    pub account: String,
    pub kind: ResourceKind,
    pub name: String,
    pub expires_at_ms: i64,
    /// `30d`, `7d` or `1d`.
    pub stage: String,
}

/// What one run of the job did with one resource whose window was open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunItem {
    pub account: String,
    pub kind: ResourceKind,
    pub name: String,
    pub decision: Decision,
    pub reason: String,
    /// The order placed now, or found for this expiry.
    pub order: Option<OrderRow>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RenewalRun {
    pub reminders: Vec<Reminder>,
    pub items: Vec<RunItem>,
    /// Resources the run could not assess (an account unreachable, a store error).
    pub errors: Vec<String>,
}

/// The journal key of a renewal of one expiry; attempt 2 and later after refusals.
pub fn renewal_key(
    account: &str,
    kind: ResourceKind,
    key: &str,
    expiry_ms: i64,
    attempt: u32,
) -> String {
    let mut k = format!("renew:{account}:{}:{key}:{expiry_ms}", kind.as_str());
    if attempt > 1 {
        k.push_str(&format!("#{attempt}"));
    }
    // The journal takes keys up to 200 characters; a longer name keeps its start and a
    // stable digest of the whole (FNV-1a, the same on every instance and version).
    if k.len() > 190 {
        let digest = k.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        let cut = (0..=150)
            .rev()
            .find(|i| k.is_char_boundary(*i))
            .unwrap_or(0);
        k = format!("{}~{digest:016x}", &k[..cut]);
    }
    k
}

/// The order slot of one expiry: free under some key, taken by an order that stands,
/// or used up by refusals.
enum Slot {
    Free(String),
    Taken(Box<OrderRow>),
    Exhausted,
}

/// Fen of an amount; fractions of a fen are refused, not rounded.
fn fen(m: Money) -> Result<i64> {
    m.to_fen()
        .map_err(|e| EngineError::Invalid(format!("amount {m}: {e}")))
}

fn day(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| ms.to_string())
}

/// A stored level in words, `-` for what it leaves to the level below.
fn describe_level(r: &PolicyRow) -> String {
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    format!(
        "auto {}, days before {}, max price {}, months {}",
        or_dash(
            r.auto_renew
                .map(|a| if a { "on" } else { "off" }.to_string())
        ),
        or_dash(r.days_before.map(|d| d.to_string())),
        or_dash(r.max_price_fen.map(|f| Money::from_fen(f).to_string())),
        or_dash(r.months.map(|m| m.to_string())),
    )
}

/// The reminder stage due for an expiry `remaining_ms` away: the tightest stage it is
/// inside of; none once expired or while further out than the first stage.
pub fn reminder_stage(remaining_ms: i64) -> Option<i64> {
    if remaining_ms <= 0 {
        return None;
    }
    let mut stages = REMINDER_DAYS;
    stages.sort_unstable();
    stages.into_iter().find(|d| remaining_ms <= d * DAY_MS)
}

impl Engine {
    pub async fn renewal_policies(&self) -> Result<Policies> {
        Ok(Policies {
            rows: self.store.renewal_policies().await?,
        })
    }

    /// Changes one policy level after checking it: days 0 to 365, months 1 to 120
    /// (whole years for domains), a cap not below zero, a resource that is in the
    /// inventory. Audited as `renewal.policy`.
    pub async fn set_renewal_policy(
        &self,
        actor: &str,
        scope: &PolicyScope,
        patch: &PolicyPatch,
    ) -> Result<PolicyRow> {
        let result = self.checked_policy(scope, patch).await;
        let target = match &scope.resource {
            Some((a, k)) => format!("{a}/{}/{k}", scope.kind.as_str()),
            None => format!("kind {}", scope.kind.as_str()),
        };
        self.audit(actor, "renewal.policy", &target, &result, describe_level)
            .await;
        result
    }

    async fn checked_policy(&self, scope: &PolicyScope, patch: &PolicyPatch) -> Result<PolicyRow> {
        let invalid = |m: String| Err(EngineError::Invalid(m));
        if let Some(d) = patch.days_before {
            if !(0..=365).contains(&d) {
                return invalid(format!("days before expiry: {d} is not 0 to 365"));
            }
        }
        if let Some(m) = patch.months {
            if !(1..=120).contains(&m) {
                return invalid(format!("months: {m} is not 1 to 120"));
            }
            if scope.kind == ResourceKind::Domain && m % 12 != 0 {
                return invalid(format!(
                    "months: {m}; domains renew by whole years (12, 24, ...)"
                ));
            }
        }
        if let Some(Some(p)) = patch.max_price_fen {
            if p < 0 {
                return invalid("a maximum price below zero".into());
            }
        }
        if let Some((account, key)) = &scope.resource {
            let live = self
                .store
                .get_resource(account, scope.kind, key)
                .await?
                .filter(|r| r.gone_at_ms.is_none());
            if live.is_none() {
                return Err(idcgate_core::Error::not_found(format!(
                    "{} {key:?} at {account} in the inventory (not seen by a sync yet?)",
                    scope.kind.as_str()
                ))
                .into());
            }
        }
        Ok(self
            .store
            .put_renewal_policy(scope, patch, now_ms())
            .await?)
    }

    /// Sets (or with `None` removes) the balance below which no automatic renewal may
    /// take an upstream account. Audited as `renewal.floor`.
    pub async fn set_renewal_floor(
        &self,
        actor: &str,
        account: &str,
        floor: Option<Money>,
    ) -> Result<()> {
        let result = async {
            self.account(account).await?;
            let fen = floor.map(fen).transpose()?;
            if fen.is_some_and(|f| f < 0) {
                return Err(EngineError::Invalid("a floor below zero".into()));
            }
            self.store.set_renewal_floor(account, fen, now_ms()).await?;
            Ok(())
        }
        .await;
        self.audit(actor, "renewal.floor", account, &result, |_| match floor {
            Some(f) => format!("floor {f}"),
            None => "floor removed".into(),
        })
        .await;
        result
    }

    pub async fn renewal_floors(&self) -> Result<BTreeMap<String, Money>> {
        Ok(self
            .store
            .renewal_floors()
            .await?
            .into_iter()
            .map(|(a, f)| (a, Money::from_fen(f)))
            .collect())
    }

    /// Finds one live inventory resource by `account/key`, key or name (a kind narrows
    /// it; a domain wins over other kinds of the same name); an error names every
    /// candidate when more than one fits.
    pub async fn find_resource(
        &self,
        reference: &str,
        kind: Option<ResourceKind>,
    ) -> Result<ResourceRow> {
        let reference = reference.trim();
        let (account, key) = match reference.split_once('/') {
            Some((a, k)) if !a.is_empty() && !k.is_empty() => (Some(a), k),
            _ => (None, reference),
        };
        let lower = key.trim_end_matches('.').to_ascii_lowercase();
        let rows = self
            .store
            .list_resources(&ResourceFilter {
                account: account.map(str::to_string),
                kind,
                ..Default::default()
            })
            .await?;
        let mut found: Vec<ResourceRow> = rows
            .into_iter()
            .filter(|r| r.expires_at_ms.is_some() || kind.is_some())
            .filter(|r| r.key == key || r.name.eq_ignore_ascii_case(&lower) || r.key == lower)
            .collect();
        // A name is a domain's identity; a mail domain or site of the same name is
        // named by ACCOUNT/ID or --kind.
        let domains = found
            .iter()
            .filter(|r| r.kind == ResourceKind::Domain)
            .count();
        if found.len() > 1 && domains == 1 {
            found.retain(|r| r.kind == ResourceKind::Domain);
        }
        if found.len() == 1 {
            if let Some(row) = found.into_iter().next() {
                return Ok(row);
            }
            return Err(EngineError::Invalid(format!("{reference:?} vanished")));
        }
        if found.is_empty() {
            return Err(EngineError::Invalid(format!(
                "{reference:?} is not in the inventory (not seen by a sync yet?)"
            )));
        }
        Err(EngineError::Invalid(format!(
            "{reference:?} names more than one resource ({}); say ACCOUNT/KEY or --kind",
            found
                .iter()
                .map(|r| format!("{}/{} ({})", r.account, r.key, r.kind.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }

    /// The purchasing side of an account, if it renews `kind`.
    fn renewer(conn: &dyn idcgate_core::Connection, kind: ResourceKind) -> Option<&dyn Purchasing> {
        conn.purchasing()
            .filter(|p| p.sells().contains(&(kind, Operation::Renew)))
    }

    fn renewal_request(row: &ResourceRow, policy: &RenewalPolicy) -> PurchaseRequest {
        PurchaseRequest::new(row.kind, Operation::Renew, row.key.clone()).months(policy.months)
    }

    async fn slot(&self, row: &ResourceRow, expiry_ms: i64) -> Result<Slot> {
        for attempt in 1..=MAX_ATTEMPTS {
            let key = renewal_key(&row.account, row.kind, &row.key, expiry_ms, attempt);
            match self.store.order_by_key(&key).await? {
                None => return Ok(Slot::Free(key)),
                Some(o) if o.state == OrderState::Failed => continue,
                Some(o) => return Ok(Slot::Taken(Box::new(o))),
            }
        }
        Ok(Slot::Exhausted)
    }

    /// What would be renewed among the resources expiring before `now_ms + within_ms`,
    /// when, and at what live price, with totals per upstream account. Reads quotes and
    /// balances only; buys nothing. Only resources whose vendor renews their kind
    /// through idcgate are listed (the others get reminders, not renewals).
    pub async fn renewal_plan(&self, now_ms: i64, within_ms: i64) -> Result<RenewalPlan> {
        let horizon_ms = now_ms.saturating_add(within_ms);
        let rows = self
            .store
            .list_resources(&ResourceFilter {
                expires_before_ms: Some(horizon_ms),
                ..Default::default()
            })
            .await?;
        let policies = self.renewal_policies().await?;
        let floors = self.renewal_floors().await?;
        let mut conns: HashMap<String, Option<Arc<dyn idcgate_core::Connection>>> = HashMap::new();
        let mut items = Vec::new();
        for row in rows {
            let Some(expires_at_ms) = row.expires_at_ms else {
                continue;
            };
            if !conns.contains_key(&row.account) {
                let conn = self.connection(&row.account).await.ok();
                conns.insert(row.account.clone(), conn);
            }
            let Some(conn) = conns.get(&row.account).cloned().flatten() else {
                continue;
            };
            let Some(seller) = Self::renewer(&*conn, row.kind) else {
                continue;
            };
            let policy = policies.of(row.kind, &row.account, &row.key);
            let request = Self::renewal_request(&row, &policy);
            let (price, error) = match request.validate() {
                Err(e) => (None, Some(e.to_string())),
                Ok(()) => match seller.quote(&request).await {
                    Ok(q) => (Some(q.price), None),
                    Err(e) => (None, Some(e.to_string())),
                },
            };
            let renew_at_ms = policy.renew_at_ms(expires_at_ms);
            let slot = self.slot(&row, expires_at_ms).await?;
            let (decision, reason, order_id) = match (&slot, policy.auto_renew) {
                (Slot::Taken(o), _) => (
                    Decision::Ordered,
                    format!("order {} is {}", o.id, o.state.as_str()),
                    Some(o.id),
                ),
                (_, false) => (Decision::Manual, "auto-renew is off".to_string(), None),
                (Slot::Exhausted, true) => (
                    Decision::GaveUp,
                    format!("the upstream refused {MAX_ATTEMPTS} renewals of this expiry"),
                    None,
                ),
                (Slot::Free(_), true) => match (price, &error, policy.max_price) {
                    (None, e, _) => (Decision::NoQuote, e.clone().unwrap_or_default(), None),
                    (Some(p), _, Some(max)) if p > max => (
                        Decision::OverMaxPrice,
                        format!("{p} is above the maximum {max}"),
                        None,
                    ),
                    _ if renew_at_ms <= now_ms => {
                        (Decision::Due, "inside its window".to_string(), None)
                    }
                    _ => (
                        Decision::Later,
                        format!("renews from {}", day(renew_at_ms)),
                        None,
                    ),
                },
            };
            items.push(PlannedRenewal {
                account: row.account.clone(),
                kind: row.kind,
                key: row.key.clone(),
                name: row.name.clone(),
                expires_at_ms,
                renew_at_ms,
                months: policy.months,
                price,
                error,
                policy,
                decision,
                reason,
                order_id,
            });
        }
        // The floor, projected: each account's live balance pays for its automatic
        // renewals in the order they fall due; one that would cross the floor is marked.
        items.sort_by_key(|i| (i.renew_at_ms, i.expires_at_ms));
        let mut totals: BTreeMap<String, AccountTotal> = BTreeMap::new();
        for item in &mut items {
            let total = match totals.get_mut(&item.account) {
                Some(t) => t,
                None => {
                    let floor = floors.get(&item.account).copied();
                    let balance = match conns.get(&item.account).cloned().flatten() {
                        Some(conn) => match conn.billing() {
                            Some(b) => b.balance().await.ok().map(|b| b.available),
                            None => None,
                        },
                        None => None,
                    };
                    totals.entry(item.account.clone()).or_insert(AccountTotal {
                        account: item.account.clone(),
                        total: Money::ZERO,
                        auto_total: Money::ZERO,
                        balance,
                        floor,
                    })
                }
            };
            let Some(price) = item.price else { continue };
            total.total = total.total + price;
            if !matches!(item.decision, Decision::Due | Decision::Later) {
                continue;
            }
            let floor = total.floor.unwrap_or(Money::ZERO);
            match total.balance {
                Some(balance) => {
                    let left = balance - total.auto_total - price;
                    if left < floor {
                        item.decision = Decision::BelowFloor;
                        item.reason = format!(
                            "would leave {left} at {}, below the floor {floor}",
                            item.account
                        );
                        continue;
                    }
                }
                None if total.floor.is_some() => {
                    item.decision = Decision::BelowFloor;
                    item.reason = format!(
                        "{} has a floor and its balance cannot be read",
                        item.account
                    );
                    continue;
                }
                None => {}
            }
            total.auto_total = total.auto_total + price;
        }
        Ok(RenewalPlan {
            now_ms,
            horizon_ms,
            items,
            totals: totals.into_values().collect(),
        })
    }

    /// One run of the renewal job at `now_ms`: staged reminders for everything that
    /// expires, then, for every resource whose policy says auto-renew and whose window
    /// is open, a renewal through the journal unless its price is above the cap or it
    /// would take the account below its floor (skips are audited, once per reason and
    /// expiry). One resource failing does not stop the others.
    pub async fn run_renewals(&self, actor: &str, now_ms: i64) -> Result<RenewalRun> {
        let policies = self.renewal_policies().await?;
        let floors = self.renewal_floors().await?;
        let horizon = now_ms.saturating_add(policies.widest_days().saturating_mul(DAY_MS));
        let rows = self
            .store
            .list_resources(&ResourceFilter {
                expires_before_ms: Some(horizon),
                ..Default::default()
            })
            .await?;
        let mut run = RenewalRun::default();
        for row in rows {
            let Some(expires_ms) = row.expires_at_ms else {
                continue;
            };
            let policy = policies.of(row.kind, &row.account, &row.key);
            match self.remind(actor, &row, expires_ms, &policy, now_ms).await {
                Ok(Some(r)) => run.reminders.push(r),
                Ok(None) => {}
                Err(e) => run
                    .errors
                    .push(format!("reminder for {}/{}: {e}", row.account, row.name)),
            }
            if !policy.auto_renew || policy.renew_at_ms(expires_ms) > now_ms {
                continue;
            }
            match self
                .renew_one(actor, &row, expires_ms, &policy, &floors, now_ms)
                .await
            {
                Ok(Some(item)) => run.items.push(item),
                Ok(None) => {}
                Err(e) => run
                    .errors
                    .push(format!("renewing {}/{}: {e}", row.account, row.name)),
            }
        }
        Ok(run)
    }

    /// Gives the reminder stage due for `row`, once per (resource, expiry, stage).
    async fn remind(
        &self,
        actor: &str,
        row: &ResourceRow,
        expires_ms: i64,
        policy: &RenewalPolicy,
        now_ms: i64,
    ) -> Result<Option<Reminder>> {
        let Some(stage_days) = reminder_stage(expires_ms - now_ms) else {
            return Ok(None);
        };
        let days_left = (expires_ms - now_ms + DAY_MS - 1) / DAY_MS;
        let what = format!(
            "{} {} at {} expires {} (in {days_left} day{})",
            row.kind.as_str(),
            row.name,
            row.account,
            day(expires_ms),
            if days_left == 1 { "" } else { "s" }
        );
        let detail = if policy.auto_renew {
            format!(
                "{what}; auto-renew is on: renewed from {} for {} months",
                day(policy.renew_at_ms(expires_ms)),
                policy.months
            )
        } else {
            format!("{what}; auto-renew is off: renew it by hand")
        };
        let stage = format!("{stage_days}d");
        let notice = RenewalNotice {
            account: row.account.clone(),
            kind: row.kind,
            key: row.key.clone(),
            expires_ms,
            stage: stage.clone(),
            at_ms: now_ms,
            detail: detail.clone(),
        };
        if !self.store.record_renewal_notice(&notice).await? {
            return Ok(None);
        }
        self.note(actor, "renewal.reminder", row, "ok", &detail)
            .await;
        Ok(Some(Reminder {
            account: row.account.clone(),
            kind: row.kind,
            name: row.name.clone(),
            expires_at_ms: expires_ms,
            stage,
        }))
    }

    /// One audit entry with an outcome of our choosing (`ok`, `skipped`).
    async fn note(
        &self,
        actor: &str,
        action: &str,
        row: &ResourceRow,
        outcome: &str,
        detail: &str,
    ) {
        let entry = AuditEntry {
            id: 0,
            at_ms: now_ms(),
            actor: actor.to_string(),
            action: action.to_string(),
            target: format!("{}/{}", row.account, row.name),
            outcome: outcome.to_string(),
            detail: detail.to_string(),
            intent_id: None,
        };
        if let Err(e) = self.store.append_audit(&entry).await {
            tracing::error!(error = %e, action, "could not write audit entry");
        }
    }

    /// A skipped renewal: audited once per (resource, expiry, reason), reported always.
    async fn skip(
        &self,
        actor: &str,
        row: &ResourceRow,
        expires_ms: i64,
        decision: Decision,
        reason: String,
    ) -> Result<Option<RunItem>> {
        let notice = RenewalNotice {
            account: row.account.clone(),
            kind: row.kind,
            key: row.key.clone(),
            expires_ms,
            stage: format!("skip:{}", decision.as_str().replace(' ', "-")),
            at_ms: now_ms(),
            detail: reason.clone(),
        };
        if self.store.record_renewal_notice(&notice).await? {
            let detail = format!("not renewed: {reason}");
            self.note(actor, "renewal.skipped", row, "skipped", &detail)
                .await;
        }
        Ok(Some(RunItem {
            account: row.account.clone(),
            kind: row.kind,
            name: row.name.clone(),
            decision,
            reason,
            order: None,
        }))
    }

    async fn renew_one(
        &self,
        actor: &str,
        row: &ResourceRow,
        listed_expiry_ms: i64,
        policy: &RenewalPolicy,
        floors: &BTreeMap<String, Money>,
        now_ms: i64,
    ) -> Result<Option<RunItem>> {
        let conn = self.connection(&row.account).await?;
        let Some(seller) = Self::renewer(&*conn, row.kind) else {
            // Nothing to buy with: the reminders are all this resource gets.
            return Ok(None);
        };
        let request = Self::renewal_request(row, policy);
        if let Err(e) = request.validate() {
            return self
                .skip(
                    actor,
                    row,
                    listed_expiry_ms,
                    Decision::NoQuote,
                    e.to_string(),
                )
                .await;
        }
        // The upstream's own expiry where it shows one: renewed by hand since the last
        // sync means a later expiry, outside the window, and a key of its own.
        let before = seller.before(&request).await?;
        let expiry_ms = before["expires_before_ms"]
            .as_i64()
            .unwrap_or(listed_expiry_ms);
        if policy.renew_at_ms(expiry_ms) > now_ms {
            return Ok(None);
        }
        let key = match self.slot(row, expiry_ms).await? {
            Slot::Free(k) => k,
            Slot::Taken(o) => {
                return Ok(Some(RunItem {
                    account: row.account.clone(),
                    kind: row.kind,
                    name: row.name.clone(),
                    decision: Decision::Ordered,
                    reason: format!("order {} is {}", o.id, o.state.as_str()),
                    order: Some(*o),
                }))
            }
            Slot::Exhausted => {
                let reason = format!("the upstream refused {MAX_ATTEMPTS} renewals of this expiry");
                return self
                    .skip(actor, row, expiry_ms, Decision::GaveUp, reason)
                    .await;
            }
        };
        let price = match seller.quote(&request).await {
            Ok(q) => q.price,
            Err(e) => {
                return self
                    .skip(actor, row, expiry_ms, Decision::NoQuote, e.to_string())
                    .await
            }
        };
        if let Some(max) = policy.max_price {
            if price > max {
                let reason = format!("the price {price} is above the maximum {max}");
                return self
                    .skip(actor, row, expiry_ms, Decision::OverMaxPrice, reason)
                    .await;
            }
        }
        let floor = floors.get(&row.account).copied();
        // Read live each time: the renewal before this one in the run has already
        // taken its price. Credit is not counted: a floor is about money held.
        let balance = match conn.billing() {
            Some(b) => Some(b.balance().await?.available),
            None => None,
        };
        let blocked = match (balance, floor) {
            (Some(bal), floor) => {
                let floor = floor.unwrap_or(Money::ZERO);
                let left = bal - price;
                (left < floor).then(|| {
                    format!(
                        "renewing for {price} would leave {left} at {}, below the floor {floor}",
                        row.account
                    )
                })
            }
            (None, Some(floor)) => Some(format!(
                "{} has a floor of {floor} and its balance cannot be read",
                row.account
            )),
            (None, None) => None,
        };
        if let Some(reason) = blocked {
            return self
                .skip(actor, row, expiry_ms, Decision::BelowFloor, reason)
                .await;
        }
        // The price just weighed against the cap and the floor is a ceiling: a price
        // that rose since is not bought.
        let order = self
            .place_order_within(actor, &row.account, &request, Some(&key), Some(price))
            .await?;
        Ok(Some(RunItem {
            account: row.account.clone(),
            kind: row.kind,
            name: row.name.clone(),
            decision: Decision::Ordered,
            reason: format!("order {} is {}", order.id, order.state.as_str()),
            order: Some(order),
        }))
    }

    /// Runs the renewal job once now under its lease (so it never overlaps the
    /// scheduled run of another instance), then schedules the next run. `None` when
    /// another owner holds the lease.
    pub async fn run_renewals_now(
        &self,
        actor: &str,
        owner: &str,
        schedule: &Schedule,
    ) -> Result<Option<RenewalRun>> {
        let now = now_ms();
        let ms = |d: std::time::Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        self.store.ensure_job(RENEW_JOB, now).await?;
        if !self
            .store
            .claim_job_now(
                RENEW_JOB,
                owner,
                now,
                now.saturating_add(ms(schedule.lease)),
            )
            .await?
        {
            return Ok(None);
        }
        let run = self.run_renewals(actor, now).await;
        let error = match &run {
            Ok(r) if r.errors.is_empty() => None,
            Ok(r) => Some(r.errors.join(" | ")),
            Err(e) => Some(e.to_string()),
        };
        self.store
            .finish_job(
                RENEW_JOB,
                owner,
                now_ms().saturating_add(ms(schedule.renew_every)),
                error.as_deref(),
            )
            .await?;
        run.map(Some)
    }
}
