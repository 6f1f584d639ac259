//! What notifications remember: events raised (each once per key, however many
//! processes raise it), one delivery per event and channel with its attempts and next
//! try, the delivery log (an append-only row per attempt), and watched values (a price,
//! a balance below its threshold) whose change raises an event in the same transaction.
//!
//! The store keeps rows; which events exist and when to retry is the engine's `notify`.

use crate::orders::order_from;
use crate::sql::audit_from_row;
use crate::{first_column, AuditEntry, OrderRow, ReadRows, Result, SqlStore, StoreError};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

/// An event to raise. `key` makes it once: a second raise with the same key is nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    pub key: String,
    /// `expiring`, `low_balance`, `order_failed`, ...
    pub kind: String,
    pub subject: String,
    pub text: String,
    pub data: serde_json::Value,
    pub at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRow {
    pub id: i64,
    #[serde(flatten)]
    pub event: NewEvent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not delivered yet; tried again from `next_at_ms`.
    Pending,
    Sent,
    /// Given up after its last attempt.
    Failed,
}

idcgate_core::word_enum!(DeliveryState {
    Pending => "pending",
    Sent => "sent",
    Failed => "failed",
});

impl DeliveryState {
    fn parse(s: &str) -> Result<Self> {
        crate::parsed(DeliveryState::from_word, "delivery state", s)
    }
}

/// One event to one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: i64,
    pub event: EventRow,
    pub channel: String,
    pub state: DeliveryState,
    /// Attempts made so far.
    pub attempts: i64,
    pub next_at_ms: i64,
    pub updated_ms: i64,
}

/// One attempt, as the delivery log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptRow {
    pub id: i64,
    pub delivery_id: i64,
    pub event_id: i64,
    pub event: String,
    pub subject: String,
    pub channel: String,
    /// 1 for the first attempt of its delivery.
    pub attempt: i64,
    pub at_ms: i64,
    /// `ok` or `error`.
    pub outcome: String,
    /// What the peer said, or why it failed (never a secret: the channel's words).
    pub detail: String,
    /// The delivery's state now.
    pub state: DeliveryState,
}

/// How an attempt ended, for [`NotifyStore::record_attempt`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptEnd {
    Sent,
    /// Not delivered; tried again from this instant.
    RetryAt(i64),
    /// Not delivered, and not tried again.
    GiveUp,
}

/// The run of failures of an audited action on one target since its last success.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureStreak {
    pub failures: i64,
    /// The streak's first entry: names the streak however long it grows.
    pub first_id: i64,
    pub last: AuditEntry,
}

/// An order's move to a state worth telling (`failed`, `unknown`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderMove {
    pub event_id: i64,
    pub to_state: String,
    pub at_ms: i64,
    pub detail: String,
    pub order: OrderRow,
}

#[async_trait]
pub trait NotifyStore: Send + Sync {
    /// Raises `event` unless its key was raised before, with a pending delivery to each
    /// of `channels` due at once, all in one transaction; `claimed` (owner, until) hands
    /// the new deliveries straight to their sender. The event's id, or `None` if the key
    /// existed: of two racing callers exactly one gets `Some`.
    async fn raise_event(
        &self,
        event: &NewEvent,
        channels: &[String],
        claimed: Option<(&str, i64)>,
    ) -> Result<Option<i64>>;
    /// A watched value (`None` if never set).
    async fn watch(&self, key: &str) -> Result<Option<String>>;
    /// Sets watch `key` from `expected` (`None`: not set yet) to `value`, and if that
    /// held, raises `event` (to `channels`) in the same transaction. `false` if the
    /// watch was not `expected` (another process moved it first): nothing changed.
    async fn swap_watch(
        &self,
        key: &str,
        expected: Option<&str>,
        value: &str,
        now_ms: i64,
        event: Option<&NewEvent>,
        channels: &[String],
    ) -> Result<bool>;
    /// Claims up to `limit` pending deliveries due at `now_ms` for `owner` until
    /// `lease_until_ms`; one claimed by a process that died is claimable again once its
    /// lease runs out. Soonest due first.
    async fn claim_deliveries(
        &self,
        owner: &str,
        now_ms: i64,
        lease_until_ms: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>>;
    /// Appends the attempt to the delivery log and moves its delivery on (sent, retry
    /// at, given up), releasing `owner`'s claim.
    async fn record_attempt(
        &self,
        delivery_id: i64,
        owner: &str,
        at_ms: i64,
        detail: &str,
        end: AttemptEnd,
    ) -> Result<()>;
    /// The deliveries of one event.
    async fn deliveries_of(&self, event_id: i64) -> Result<Vec<Delivery>>;
    /// The delivery log, newest attempt first.
    async fn delivery_log(&self, limit: i64) -> Result<Vec<AttemptRow>>;
    /// Deliveries by state: (pending, sent, failed).
    async fn delivery_counts(&self) -> Result<(i64, i64, i64)>;
    /// Events raised, newest first.
    async fn events(&self, limit: i64) -> Result<Vec<EventRow>>;
    /// The failures of `action` on `target` since its last `ok` entry, if any.
    async fn failure_streak(&self, action: &str, target: &str) -> Result<Option<FailureStreak>>;
    /// Orders that moved to `failed` or `unknown` at or after `since_ms`, oldest first.
    async fn order_moves(&self, since_ms: i64, limit: i64) -> Result<Vec<OrderMove>>;
}

const EVENT_COLUMNS: &str =
    "e.id AS e_id, e.ekey, e.kind AS e_kind, e.subject, e.body, e.data, e.at AS e_at";
const DELIVERY_COLUMNS: &str =
    "d.id AS d_id, d.channel, d.state, d.attempts, d.next_at, d.updated_at AS d_updated";

fn event_from(r: &AnyRow) -> Result<EventRow> {
    let data: String = r.try_get("data")?;
    Ok(read_row!(r => EventRow {
        id: "e_id",
        event = read_row!(r => NewEvent {
            key: "ekey",
            kind: "e_kind",
            subject,
            text: "body",
            data = serde_json::from_str(&data)
                .map_err(|e| StoreError::Corrupt(format!("event data: {e}")))?,
            at_ms: "e_at",
        }),
    }))
}

fn delivery_from(r: &AnyRow) -> Result<Delivery> {
    let state: String = r.try_get("state")?;
    Ok(read_row!(r => Delivery {
        id: "d_id",
        event = event_from(r)?,
        channel,
        state = DeliveryState::parse(&state)?,
        attempts,
        next_at_ms: "next_at",
        updated_ms: "d_updated",
    }))
}

async fn insert_event(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    e: &NewEvent,
    channels: &[String],
    claimed: Option<(&str, i64)>,
) -> Result<Option<i64>> {
    let data = serde_json::to_string(&e.data)
        .map_err(|err| StoreError::Database(format!("event data: {err}")))?;
    let id: Option<i64> = sqlx::query(
        "INSERT INTO notify_events (ekey, kind, subject, body, data, at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (ekey) DO NOTHING RETURNING id",
    )
    .bind(&e.key)
    .bind(&e.kind)
    .bind(&e.subject)
    .bind(&e.text)
    .bind(&data)
    .bind(e.at_ms)
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| r.try_get(0))
    .transpose()?;
    let Some(id) = id else { return Ok(None) };
    for channel in channels {
        sqlx::query(
            "INSERT INTO notify_deliveries (event_id, channel, state, attempts, next_at, locked_by, locked_until, updated_at)
             VALUES ($1, $2, 'pending', 0, $3, $4, $5, $3)",
        )
        .bind(id)
        .bind(channel)
        .bind(e.at_ms)
        .bind(claimed.map(|(o, _)| o.to_string()))
        .bind(claimed.map(|(_, until)| until))
        .execute(&mut **tx)
        .await?;
    }
    Ok(Some(id))
}

#[async_trait]
impl NotifyStore for SqlStore {
    async fn raise_event(
        &self,
        event: &NewEvent,
        channels: &[String],
        claimed: Option<(&str, i64)>,
    ) -> Result<Option<i64>> {
        let mut tx = self.begin_write().await?;
        let id = insert_event(&mut tx, event, channels, claimed).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn watch(&self, key: &str) -> Result<Option<String>> {
        sqlx::query("SELECT value FROM notify_watches WHERE wkey = $1")
            .bind(key)
            .read_optional(&self.pool, first_column)
            .await
    }

    async fn swap_watch(
        &self,
        key: &str,
        expected: Option<&str>,
        value: &str,
        now_ms: i64,
        event: Option<&NewEvent>,
        channels: &[String],
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = match expected {
            None => sqlx::query(
                "INSERT INTO notify_watches (wkey, value, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (wkey) DO NOTHING",
            )
            .bind(key)
            .bind(value)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?,
            Some(old) => sqlx::query(
                "UPDATE notify_watches SET value = $1, updated_at = $2 WHERE wkey = $3 AND value = $4",
            )
            .bind(value)
            .bind(now_ms)
            .bind(key)
            .bind(old)
            .execute(&mut *tx)
            .await?,
        };
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        if let Some(e) = event {
            insert_event(&mut tx, e, channels, None).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn claim_deliveries(
        &self,
        owner: &str,
        now_ms: i64,
        lease_until_ms: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>> {
        let due = sqlx::query(
            "SELECT id FROM notify_deliveries WHERE state = 'pending' AND next_at <= $1
               AND (locked_until IS NULL OR locked_until < $1)
             ORDER BY next_at, id LIMIT $2",
        )
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut claimed = Vec::new();
        for row in due {
            let id: i64 = row.try_get(0)?;
            // Compare-and-set per row: of two processes that read the same due row, one
            // claims it, on either backend.
            let done = sqlx::query(
                "UPDATE notify_deliveries SET locked_by = $1, locked_until = $2
                 WHERE id = $3 AND state = 'pending' AND (locked_until IS NULL OR locked_until < $4)",
            )
            .bind(owner)
            .bind(lease_until_ms)
            .bind(id)
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
            if done.rows_affected() == 1 {
                claimed.push(id);
            }
        }
        let mut out = Vec::with_capacity(claimed.len());
        for id in claimed {
            let row = sqlx::query(&format!(
                "SELECT {DELIVERY_COLUMNS}, {EVENT_COLUMNS} FROM notify_deliveries d
                 JOIN notify_events e ON e.id = d.event_id WHERE d.id = $1"
            ))
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
            out.push(delivery_from(&row)?);
        }
        Ok(out)
    }

    async fn record_attempt(
        &self,
        delivery_id: i64,
        owner: &str,
        at_ms: i64,
        detail: &str,
        end: AttemptEnd,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let attempts: i64 = sqlx::query("SELECT attempts FROM notify_deliveries WHERE id = $1")
            .bind(delivery_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("delivery {delivery_id}")))?
            .try_get(0)?;
        let attempt = attempts + 1;
        let (outcome, state, next) = match end {
            AttemptEnd::Sent => ("ok", DeliveryState::Sent, None),
            AttemptEnd::RetryAt(t) => ("error", DeliveryState::Pending, Some(t)),
            AttemptEnd::GiveUp => ("error", DeliveryState::Failed, None),
        };
        sqlx::query(
            "INSERT INTO notify_attempts (delivery_id, at, attempt, outcome, detail) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(delivery_id)
        .bind(at_ms)
        .bind(attempt)
        .bind(outcome)
        .bind(detail)
        .execute(&mut *tx)
        .await?;
        // The attempt happened whoever holds the claim now; the state moves only for the
        // holder (a process whose lease ran out must not undo its successor's work).
        sqlx::query(
            "UPDATE notify_deliveries SET attempts = $1, state = $2, next_at = COALESCE($3, next_at),
               locked_by = NULL, locked_until = NULL, updated_at = $4
             WHERE id = $5 AND (locked_by = $6 OR locked_by IS NULL) AND state = 'pending'",
        )
        .bind(attempt)
        .bind(state.as_str())
        .bind(next)
        .bind(at_ms)
        .bind(delivery_id)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn deliveries_of(&self, event_id: i64) -> Result<Vec<Delivery>> {
        sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS}, {EVENT_COLUMNS} FROM notify_deliveries d
             JOIN notify_events e ON e.id = d.event_id WHERE d.event_id = $1 ORDER BY d.id"
        ))
        .bind(event_id)
        .read_all(&self.pool, delivery_from)
        .await
    }

    async fn delivery_log(&self, limit: i64) -> Result<Vec<AttemptRow>> {
        sqlx::query(
            "SELECT a.id, a.delivery_id, d.event_id, e.kind, e.subject, d.channel, a.attempt, a.at,
                    a.outcome, a.detail, d.state
             FROM notify_attempts a JOIN notify_deliveries d ON d.id = a.delivery_id
             JOIN notify_events e ON e.id = d.event_id
             ORDER BY a.id DESC LIMIT $1",
        )
        .bind(limit)
        .read_all(&self.pool, |r| {
            let state: String = r.try_get("state")?;
            Ok(read_row!(r => AttemptRow {
                id,
                delivery_id,
                event_id,
                event: "kind",
                subject,
                channel,
                attempt,
                at_ms: "at",
                outcome,
                detail,
                state = DeliveryState::parse(&state)?,
            }))
        })
        .await
    }

    async fn delivery_counts(&self) -> Result<(i64, i64, i64)> {
        let rows = sqlx::query("SELECT state, COUNT(*) FROM notify_deliveries GROUP BY state")
            .fetch_all(&self.pool)
            .await?;
        let mut counts = (0, 0, 0);
        for r in rows {
            let state: String = r.try_get(0)?;
            let n: i64 = r.try_get(1)?;
            match DeliveryState::parse(&state)? {
                DeliveryState::Pending => counts.0 = n,
                DeliveryState::Sent => counts.1 = n,
                DeliveryState::Failed => counts.2 = n,
            }
        }
        Ok(counts)
    }

    async fn events(&self, limit: i64) -> Result<Vec<EventRow>> {
        sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM notify_events e ORDER BY e.id DESC LIMIT $1"
        ))
        .bind(limit)
        .read_all(&self.pool, event_from)
        .await
    }

    async fn failure_streak(&self, action: &str, target: &str) -> Result<Option<FailureStreak>> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(id) AS first_id, MAX(id) AS last_id FROM audit_log
             WHERE action = $1 AND target = $2 AND outcome <> 'ok'
               AND id > COALESCE((SELECT MAX(id) FROM audit_log
                                  WHERE action = $1 AND target = $2 AND outcome = 'ok'), 0)",
        )
        .bind(action)
        .bind(target)
        .fetch_one(&self.pool)
        .await?;
        let n: i64 = row.try_get("n")?;
        if n == 0 {
            return Ok(None);
        }
        let first_id: i64 = row.try_get("first_id")?;
        let last_id: i64 = row.try_get("last_id")?;
        let last = sqlx::query("SELECT * FROM audit_log WHERE id = $1")
            .bind(last_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(Some(FailureStreak {
            failures: n,
            first_id,
            last: audit_from_row(&last)?,
        }))
    }

    async fn order_moves(&self, since_ms: i64, limit: i64) -> Result<Vec<OrderMove>> {
        sqlx::query(
            "SELECT ev.id AS move_id, ev.to_state, ev.at AS moved_at, ev.detail AS move_detail, o.*
             FROM order_events ev JOIN orders o ON o.id = ev.order_id
             WHERE ev.to_state IN ('failed', 'unknown') AND ev.at >= $1
             ORDER BY ev.id LIMIT $2",
        )
        .bind(since_ms)
        .bind(limit)
        .read_all(&self.pool, |r| {
            Ok(read_row!(r => OrderMove {
                event_id: "move_id",
                to_state,
                at_ms: "moved_at",
                detail: "move_detail",
                order = order_from(r)?,
            }))
        })
        .await
    }
}
