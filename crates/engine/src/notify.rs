//! Notifications: which events exist, raised once each, and their delivery to every
//! configured channel with retries.
//!
//! Events, each with a key that makes it once however many scans, restarts or
//! instances on one database raise it (`NotifyStore::raise_event`):
//! - `expiring`: a domain, server or hosting site (the kinds are configurable) at 30, 7
//!   and 1 days before its expiry, once per stage and expiry (the stages of renewal
//!   reminders: a stage already passed when first seen is not given late);
//! - `low_balance`: an account's latest balance reading below its threshold, once per
//!   dip (the watch `low_balance:<account>` re-arms when a reading is back above);
//! - `order_failed`, `order_unknown`: an order's move to either state (moves of the
//!   last three days are looked at);
//! - `sync_failing`: an account's syncs failing this many times in a row, once per
//!   streak (named by its first failure);
//! - `price_changed`: the upstream cost of a product on sale, quoted live by the price
//!   watch, differing from the cost last seen (the watch `price:<product>:<months>`).
//!
//! Delivery: each event gets one delivery per channel, claimed under a lease by one
//! process (`send_due`), tried, and on failure tried again after `retry_base`, twice that,
//! and so on (capped at an hour), at most `max_attempts` times; every attempt is a row of
//! the delivery log. Channels and their secrets are the binary's configuration; the
//! engine sees them only as `idcgate_notify::Channel`.

use crate::renewals::{reminder_stage, DAY_MS};
use crate::{now_ms, Engine, Result};
use idcgate_core::{Money, ResourceKind};
use idcgate_notify::{Channel, Message};
use idcgate_store::{AttemptEnd, AttemptRow, Delivery, NewEvent, ResourceFilter};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// Orders' moves further back than this are not looked at (a scan after downtime still
/// finds what happened meanwhile; enabling notifications does not replay the journal).
pub const ORDER_LOOKBACK_MS: i64 = 3 * DAY_MS;
/// The longest wait between two attempts of one delivery.
pub const RETRY_CAP: Duration = Duration::from_secs(3600);
/// Deliveries one `send_due` claims at most.
const CLAIM_BATCH: i64 = 20;

/// What to announce and where. The default has no channel, and nothing is raised
/// without one.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    pub channels: Vec<Arc<dyn Channel>>,
    /// Kinds whose expiry is announced.
    pub expiring: Vec<ResourceKind>,
    /// (account, threshold): announced when its balance reading is below.
    pub low_balance: Vec<(String, Money)>,
    /// Failed syncs in a row of one account before it is announced; 0: never.
    pub sync_failures: u32,
    /// Announce orders that failed or whose outcome is unknown.
    pub orders: bool,
    /// Watch the upstream cost of products on sale.
    pub prices: bool,
    /// Attempts per delivery, the first included.
    pub max_attempts: u32,
    /// The wait before the first retry; each next one waits twice as long.
    pub retry_base: Duration,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            channels: Vec::new(),
            expiring: vec![
                ResourceKind::Domain,
                ResourceKind::Server,
                ResourceKind::HostingSite,
            ],
            low_balance: Vec::new(),
            sync_failures: 3,
            orders: true,
            prices: true,
            max_attempts: 5,
            retry_base: Duration::from_secs(30),
        }
    }
}

impl NotifySettings {
    fn channel_names(&self) -> Vec<String> {
        self.channels.iter().map(|c| c.name().to_string()).collect()
    }

    fn channel(&self, name: &str) -> Option<&Arc<dyn Channel>> {
        self.channels.iter().find(|c| c.name() == name)
    }
}

/// The wait after failed attempt `attempt` (1 for the first): `base`, `2·base`, `4·base`
/// ..., at most [`RETRY_CAP`].
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let factor = 1u32
        .checked_shl(attempt.saturating_sub(1))
        .unwrap_or(u32::MAX);
    base.saturating_mul(factor).min(RETRY_CAP)
}

/// What one scan raised (new events only) and what it could not look at.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ScanReport {
    /// (kind, subject) of each event raised by this scan.
    pub raised: Vec<(String, String)>,
    pub errors: Vec<String>,
}

/// What one round of sending did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct SendReport {
    pub sent: usize,
    /// Failed this time, tried again later.
    pub retrying: usize,
    /// Failed for the last time.
    pub failed: usize,
}

/// One channel's answer to a test message.
#[derive(Debug, Clone, Serialize)]
pub struct ChannelResult {
    pub channel: String,
    pub kind: String,
    pub ok: bool,
    pub detail: String,
}

/// A day in China time, as the operator's contracts count it.
fn day(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| {
            t.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
                .strftime("%Y-%m-%d")
                .to_string()
        })
        .unwrap_or_else(|_| ms.to_string())
}

fn kind_words(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Domain => "domain",
        ResourceKind::Server => "server",
        ResourceKind::HostingSite => "hosting site",
        ResourceKind::Database => "database",
        ResourceKind::MailDomain => "mail domain",
        ResourceKind::Certificate => "certificate",
        ResourceKind::DnsZone => "DNS zone",
        ResourceKind::DnsRecord => "DNS record",
        ResourceKind::Balance => "balance",
    }
}

fn message(d: &Delivery) -> Message {
    let e = &d.event;
    Message {
        id: e.id,
        event: e.event.kind.clone(),
        subject: e.event.subject.clone(),
        text: e.event.text.clone(),
        data: e.event.data.clone(),
        at_ms: e.event.at_ms,
    }
}

impl Engine {
    /// Replaces what is announced and where (the binary's configuration).
    pub fn set_notify(&self, settings: NotifySettings) {
        *idcgate_core::lock(&self.notify) = Arc::new(settings);
    }

    pub fn notify_settings(&self) -> Arc<NotifySettings> {
        idcgate_core::lock(&self.notify).clone()
    }

    /// Raises every event due at `now_ms` but price changes (which cost upstream
    /// quotes: `watch_prices`). Nothing without a channel. One kind failing does not
    /// stop the others.
    pub async fn scan_events(&self, now_ms: i64) -> Result<ScanReport> {
        let s = self.notify_settings();
        let mut report = ScanReport::default();
        if s.channels.is_empty() {
            return Ok(report);
        }
        let channels = s.channel_names();
        if let Err(e) = self.scan_expiring(&s, &channels, now_ms, &mut report).await {
            report.errors.push(format!("expiring: {e}"));
        }
        if let Err(e) = self.scan_balances(&s, &channels, now_ms, &mut report).await {
            report.errors.push(format!("low balance: {e}"));
        }
        if s.orders {
            if let Err(e) = self.scan_orders(&channels, now_ms, &mut report).await {
                report.errors.push(format!("orders: {e}"));
            }
        }
        if s.sync_failures > 0 {
            if let Err(e) = self.scan_syncs(&s, &channels, now_ms, &mut report).await {
                report.errors.push(format!("syncs: {e}"));
            }
        }
        Ok(report)
    }

    async fn raise(
        &self,
        event: NewEvent,
        channels: &[String],
        report: &mut ScanReport,
    ) -> Result<()> {
        if self
            .store
            .raise_event(&event, channels, None)
            .await?
            .is_some()
        {
            tracing::info!(event = %event.kind, subject = %event.subject, "notification raised");
            report.raised.push((event.kind, event.subject));
        }
        Ok(())
    }

    async fn scan_expiring(
        &self,
        s: &NotifySettings,
        channels: &[String],
        now_ms: i64,
        report: &mut ScanReport,
    ) -> Result<()> {
        if s.expiring.is_empty() {
            return Ok(());
        }
        let widest = crate::renewals::REMINDER_DAYS
            .iter()
            .max()
            .copied()
            .unwrap_or(30);
        let rows = self
            .store
            .list_resources(&ResourceFilter {
                expires_before_ms: Some(now_ms.saturating_add(widest * DAY_MS)),
                expires_after_ms: Some(now_ms),
                ..Default::default()
            })
            .await?;
        let policies = self.renewal_policies().await?;
        for row in rows {
            let Some(expires_ms) = row.expires_at_ms else {
                continue;
            };
            if !s.expiring.contains(&row.kind) {
                continue;
            }
            let Some(stage) = reminder_stage(expires_ms - now_ms) else {
                continue;
            };
            let days_left = (expires_ms - now_ms + DAY_MS - 1) / DAY_MS;
            let policy = policies.of(row.kind, &row.account, &row.key);
            let what = kind_words(row.kind);
            let plural = if days_left == 1 { "" } else { "s" };
            let renewal = if policy.auto_renew {
                format!(
                    "Auto-renew is on: idcgate renews it from {} for {} months.",
                    day(policy.renew_at_ms(expires_ms)),
                    policy.months
                )
            } else {
                "Auto-renew is off: renew it by hand (`idcgate renew NAME`).".to_string()
            };
            let event = NewEvent {
                key: format!(
                    "expiring:{}:{}:{}:{expires_ms}:{stage}d",
                    row.account,
                    row.kind.as_str(),
                    row.key
                ),
                kind: "expiring".into(),
                subject: format!("{what} {} expires in {days_left} day{plural}", row.name),
                text: format!(
                    "The {what} {} at account {} expires on {} (China time), in {days_left} day{plural}.\n{renewal}",
                    row.name,
                    row.account,
                    day(expires_ms)
                ),
                data: serde_json::json!({
                    "account": row.account,
                    "kind": row.kind.as_str(),
                    "key": row.key,
                    "name": row.name,
                    "expires_at_ms": expires_ms,
                    "stage": format!("{stage}d"),
                    "days_left": days_left,
                    "auto_renew": policy.auto_renew,
                }),
                at_ms: now_ms,
            };
            self.raise(event, channels, report).await?;
        }
        Ok(())
    }

    async fn scan_balances(
        &self,
        s: &NotifySettings,
        channels: &[String],
        now_ms: i64,
        report: &mut ScanReport,
    ) -> Result<()> {
        for (account, threshold) in &s.low_balance {
            let Some(reading) = self.store.balance_reading_before(account, now_ms).await? else {
                continue;
            };
            let balance = Money::from_fen(reading.available_fen);
            let low = balance < *threshold;
            let key = format!("low_balance:{account}");
            let seen = self.store.watch(&key).await?;
            let now_state = if low { "low" } else { "ok" };
            if seen.as_deref() == Some(now_state) {
                continue;
            }
            let event = low.then(|| NewEvent {
                // One dip, one event: the reading that found it names it.
                key: format!("low_balance:{account}:{}", reading.id),
                kind: "low_balance".into(),
                subject: format!("balance of {account} is {balance}, below {threshold}"),
                text: format!(
                    "The available balance of upstream account {account} is {balance} CNY, below its threshold of {threshold} (read {} by {}).\nTop it up before purchases and renewals are refused.",
                    day(reading.at_ms),
                    reading.source
                ),
                data: serde_json::json!({
                    "account": account,
                    "available": balance,
                    "credit": Money::from_fen(reading.credit_fen),
                    "threshold": threshold,
                    "read_at_ms": reading.at_ms,
                }),
                at_ms: now_ms,
            });
            if let Some(raised) = self
                .move_watch(&key, seen.as_deref(), now_state, now_ms, event, channels)
                .await?
            {
                report.raised.push(raised);
            }
        }
        Ok(())
    }

    /// Moves the watch `key` from `seen` to `to`, raising `event` with it; the kind and
    /// subject of the event raised, if any. Another process may have moved the watch
    /// first: then it raised the event, and this one raises nothing.
    async fn move_watch(
        &self,
        key: &str,
        seen: Option<&str>,
        to: &str,
        now_ms: i64,
        event: Option<NewEvent>,
        channels: &[String],
    ) -> Result<Option<(String, String)>> {
        let moved = self
            .store
            .swap_watch(key, seen, to, now_ms, event.as_ref(), channels)
            .await?;
        Ok(event.filter(|_| moved).map(|e| (e.kind, e.subject)))
    }

    async fn scan_orders(
        &self,
        channels: &[String],
        now_ms: i64,
        report: &mut ScanReport,
    ) -> Result<()> {
        let moves = self
            .store
            .order_moves(now_ms - ORDER_LOOKBACK_MS, 1000)
            .await?;
        for m in moves {
            let o = &m.order;
            let what = format!(
                "order #{} ({} {} {} at {}, quoted {})",
                o.id,
                o.order.kind.as_str(),
                o.order.operation,
                o.order.target,
                o.order.account,
                Money::from_fen(o.order.quoted_fen)
            );
            let (kind, subject, text) = if m.to_state == "failed" {
                (
                    "order_failed",
                    format!(
                        "order #{} failed: {} {}",
                        o.id, o.order.operation, o.order.target
                    ),
                    format!(
                        "{what} failed; nothing was charged.\nUpstream: {}",
                        m.detail
                    ),
                )
            } else {
                (
                    "order_unknown",
                    format!(
                        "order #{} outcome unknown: {} {}",
                        o.id, o.order.operation, o.order.target
                    ),
                    format!(
                        "{what}: its outcome is unknown (the upstream's answer was lost). It is not retried; reconciliation settles it by reading the upstream (`idcgate order reconcile`).\nDetail: {}",
                        m.detail
                    ),
                )
            };
            let event = NewEvent {
                key: format!("order:{}:{}", o.id, m.to_state),
                kind: kind.into(),
                subject,
                text,
                data: serde_json::json!({
                    "order": o.id,
                    "idempotency_key": o.order.idem_key,
                    "account": o.order.account,
                    "kind": o.order.kind.as_str(),
                    "operation": o.order.operation,
                    "target": o.order.target,
                    "quoted": Money::from_fen(o.order.quoted_fen),
                    "state": m.to_state,
                    "detail": m.detail,
                    "moved_at_ms": m.at_ms,
                }),
                at_ms: now_ms,
            };
            self.raise(event, channels, report).await?;
        }
        Ok(())
    }

    async fn scan_syncs(
        &self,
        s: &NotifySettings,
        channels: &[String],
        now_ms: i64,
        report: &mut ScanReport,
    ) -> Result<()> {
        for account in self.store.list_accounts().await? {
            let Some(streak) = self.store.failure_streak("sync", &account.name).await? else {
                continue;
            };
            if streak.failures < i64::from(s.sync_failures) {
                continue;
            }
            let event = NewEvent {
                key: format!("sync_failing:{}:{}", account.name, streak.first_id),
                kind: "sync_failing".into(),
                subject: format!(
                    "sync of {} failed {} times in a row",
                    account.name, streak.failures
                ),
                text: format!(
                    "The last {} syncs of upstream account {} ({}) failed; the inventory of it is stale.\nLatest ({}): {}",
                    streak.failures,
                    account.name,
                    account.vendor,
                    day(streak.last.at_ms),
                    streak.last.detail
                ),
                data: serde_json::json!({
                    "account": account.name,
                    "vendor": account.vendor.to_string(),
                    "failures": streak.failures,
                    "last_error": streak.last.detail,
                    "last_at_ms": streak.last.at_ms,
                }),
                at_ms: now_ms,
            };
            self.raise(event, channels, report).await?;
        }
        Ok(())
    }

    /// Quotes every product on sale for its first term and raises `price_changed` where
    /// the upstream's cost differs from the one last seen (the first quote of a product
    /// is only remembered). A failed quote is reported, not remembered.
    pub async fn watch_prices(&self, now_ms: i64) -> Result<ScanReport> {
        let s = self.notify_settings();
        let mut report = ScanReport::default();
        if s.channels.is_empty() || !s.prices {
            return Ok(report);
        }
        let channels = s.channel_names();
        for p in self.products(false).await? {
            let view = match self.product_price(&p.name, None, None).await {
                Ok(v) => v,
                Err(e) => {
                    report.errors.push(format!("quote of {}: {e}", p.name));
                    continue;
                }
            };
            let cost_fen = view.cost.to_fen().unwrap_or(i64::MIN);
            let key = format!("price:{}:{}", p.name, view.months);
            let seen = self.store.watch(&key).await?;
            let new = cost_fen.to_string();
            if seen.as_deref() == Some(new.as_str()) {
                continue;
            }
            let event = seen.as_deref().and_then(|old| old.parse::<i64>().ok()).map(|old| {
                let old_cost = Money::from_fen(old);
                let delta = Money::from_fen(cost_fen - old);
                let pct = if old != 0 {
                    format!(
                        " ({:+.1}%)",
                        rust_decimal::Decimal::from(cost_fen - old) * rust_decimal::Decimal::from(100)
                            / rust_decimal::Decimal::from(old)
                    )
                } else {
                    String::new()
                };
                let months = view.months;
                NewEvent {
                    key: format!("price:{}:{months}:{old}->{cost_fen}:{now_ms}", p.name),
                    kind: "price_changed".into(),
                    subject: format!(
                        "upstream cost of {} changed: {old_cost} -> {}",
                        p.name, view.cost
                    ),
                    text: format!(
                        "The upstream cost of product {} ({}, {} at {}, {months} month{}) changed from {old_cost} to {} CNY{pct}.\nIts base price by rule is now {} (margin {}); rule: {}.",
                        p.name,
                        p.title,
                        p.kind.as_str(),
                        p.account,
                        if months == 1 { "" } else { "s" },
                        view.cost,
                        view.price,
                        view.margin,
                        p.rule
                    ),
                    data: serde_json::json!({
                        "product": p.name,
                        "account": p.account,
                        "kind": p.kind.as_str(),
                        "months": months,
                        "old_cost": old_cost,
                        "new_cost": view.cost,
                        "change": delta,
                        "price": view.price,
                        "margin": view.margin,
                    }),
                    at_ms: now_ms,
                }
            });
            if let Some((kind, subject)) = self
                .move_watch(&key, seen.as_deref(), &new, now_ms, event, &channels)
                .await?
            {
                tracing::info!(product = %p.name, subject = %subject, "price change raised");
                report.raised.push((kind, subject));
            }
        }
        Ok(report)
    }

    /// Claims the deliveries due at `now_ms` for `owner` and tries each once: sent, or
    /// tried again after its backoff, or given up after `max_attempts`.
    pub async fn send_due(&self, owner: &str, now_ms: i64) -> Result<SendReport> {
        let s = self.notify_settings();
        let mut report = SendReport::default();
        // A claim must outlast the sends it covers (each bounded by its timeout).
        let lease = now_ms + 15 * 60 * 1000;
        loop {
            let batch = self
                .store
                .claim_deliveries(owner, now_ms, lease, CLAIM_BATCH)
                .await?;
            if batch.is_empty() {
                return Ok(report);
            }
            for d in batch {
                let attempt = u32::try_from(d.attempts + 1).unwrap_or(u32::MAX);
                let result = match s.channel(&d.channel) {
                    Some(ch) => ch.send(&message(&d)).await.map_err(|e| e.0),
                    None => Err(format!("channel {:?} is no longer configured", d.channel)),
                };
                let at = now_ms.max(crate::now_ms());
                let (end, detail) = match result {
                    Ok(said) => {
                        report.sent += 1;
                        (AttemptEnd::Sent, said)
                    }
                    Err(why) => {
                        let last = attempt >= s.max_attempts || s.channel(&d.channel).is_none();
                        tracing::warn!(channel = %d.channel, event = d.event.id, attempt, last, error = %why, "notification not delivered");
                        if last {
                            report.failed += 1;
                            (AttemptEnd::GiveUp, why)
                        } else {
                            report.retrying += 1;
                            let wait = backoff(s.retry_base, attempt);
                            let wait_ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
                            (AttemptEnd::RetryAt(at.saturating_add(wait_ms)), why)
                        }
                    }
                };
                self.store
                    .record_attempt(d.id, owner, at, &detail, end)
                    .await?;
            }
        }
    }

    /// Sends a test message on every channel once (no retry) and says how each went;
    /// each attempt is in the delivery log.
    pub async fn notify_test(&self, owner: &str) -> Result<Vec<ChannelResult>> {
        let s = self.notify_settings();
        let now = now_ms();
        let names = s.channel_names();
        let event = NewEvent {
            key: format!("test:{now}:{:08x}", rand::random::<u32>()),
            kind: "test".into(),
            subject: "idcgate test notification".into(),
            text: format!(
                "This is a test sent by `idcgate notify test` ({owner}) to every configured channel: {}.\nIf you read this, the channel works.",
                names.join(", ")
            ),
            data: serde_json::json!({ "channels": names }),
            at_ms: now,
        };
        let Some(id) = self
            .store
            .raise_event(&event, &names, Some((owner, now + 15 * 60 * 1000)))
            .await?
        else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for d in self.store.deliveries_of(id).await? {
            let Some(ch) = s.channel(&d.channel) else {
                continue;
            };
            let result = ch.send(&message(&d)).await;
            let (end, detail, ok) = match result {
                Ok(said) => (AttemptEnd::Sent, said, true),
                Err(e) => (AttemptEnd::GiveUp, e.0, false),
            };
            self.store
                .record_attempt(d.id, owner, now_ms(), &detail, end)
                .await?;
            out.push(ChannelResult {
                channel: d.channel.clone(),
                kind: ch.kind().to_string(),
                ok,
                detail,
            });
        }
        Ok(out)
    }

    /// The delivery log, newest attempt first.
    pub async fn delivery_log(&self, limit: i64) -> Result<Vec<AttemptRow>> {
        Ok(self.store.delivery_log(limit).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_and_is_capped() {
        let base = Duration::from_secs(30);
        let waits: Vec<u64> = (1..=8).map(|a| backoff(base, a).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600]);
        assert_eq!(backoff(base, 200), RETRY_CAP);
    }
}
