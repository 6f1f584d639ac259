//! Scheduled jobs (sync, expiry report, order reconciliation, renewals, notifications
//! and the price watch, the last two only where a channel is configured), claimed through the store so that several
//! instances on one database never run the same job at once, and a crashed instance's
//! job is picked up again when its lease runs out. Jobs spread between instances: the
//! one that ran a job last leaves its next run to another that is polling.

use crate::sync::NoProgress;
use crate::{now_ms, Engine};
use idcgate_store::ResourceFilter;
use std::sync::Arc;
use std::time::Duration;

pub const SYNC_JOB: &str = "sync";
pub const EXPIRY_JOB: &str = "expiry-report";
pub const RECONCILE_JOB: &str = "reconcile-orders";
pub const RENEW_JOB: &str = "renewals";
/// Raises due events and sends (and retries) deliveries.
pub const NOTIFY_JOB: &str = "notify";
/// Quotes products on sale for price changes.
pub const PRICE_JOB: &str = "price-watch";

#[derive(Debug, Clone)]
pub struct Schedule {
    pub sync_every: Duration,
    pub expiry_every: Duration,
    pub reconcile_every: Duration,
    pub renew_every: Duration,
    pub notify_every: Duration,
    pub prices_every: Duration,
    /// An order `submitted` for longer than this lost its process: reconcile it.
    pub stale_submitted: Duration,
    /// How long a claim holds; must exceed the longest run.
    pub lease: Duration,
    pub poll: Duration,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            sync_every: Duration::from_secs(3600),
            expiry_every: Duration::from_secs(24 * 3600),
            reconcile_every: Duration::from_secs(60),
            renew_every: Duration::from_secs(10 * 60),
            notify_every: Duration::from_secs(30),
            prices_every: Duration::from_secs(6 * 3600),
            stale_submitted: Duration::from_secs(10 * 60),
            lease: Duration::from_secs(30 * 60),
            poll: Duration::from_secs(5),
        }
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Runs one due job if any; returns its name. Used by the loop and by tests.
pub async fn run_due_job(
    engine: &Arc<Engine>,
    owner: &str,
    schedule: &Schedule,
) -> crate::Result<Option<String>> {
    let now = now_ms();
    engine.store.ensure_job(SYNC_JOB, now).await?;
    engine.store.ensure_job(EXPIRY_JOB, now).await?;
    engine.store.ensure_job(RECONCILE_JOB, now).await?;
    engine.store.ensure_job(RENEW_JOB, now).await?;
    if !engine.notify_settings().channels.is_empty() {
        engine.store.ensure_job(NOTIFY_JOB, now).await?;
        engine.store.ensure_job(PRICE_JOB, now).await?;
    }
    // A job this instance ran last waits two polls for another instance to take it.
    let Some(job) = engine
        .store
        .claim_job_spread(owner, now, now + ms(schedule.lease), 2 * ms(schedule.poll))
        .await?
    else {
        return Ok(None);
    };
    let (error, every) = match job.as_str() {
        SYNC_JOB => {
            let err = match engine.sync_all(Arc::new(NoProgress)).await {
                Ok(reports) => {
                    let failed: Vec<String> = reports
                        .iter()
                        .filter(|r| !r.failed.is_empty())
                        .map(|r| format!("{}: {}", r.account, r.failed.join("; ")))
                        .collect();
                    for r in &reports {
                        tracing::info!(account = %r.account, added = r.added, changed = r.changed, gone = r.gone, failed = r.failed.len(), "scheduled sync");
                    }
                    engine
                        .audit_sync(&format!("scheduler:{owner}"), &reports)
                        .await;
                    (!failed.is_empty()).then(|| failed.join(" | "))
                }
                Err(e) => Some(e.to_string()),
            };
            (err, schedule.sync_every)
        }
        EXPIRY_JOB => {
            let horizon = now + 30 * 24 * 3600 * 1000;
            let err = match engine
                .store
                .list_resources(&ResourceFilter {
                    expires_before_ms: Some(horizon),
                    ..Default::default()
                })
                .await
            {
                Ok(rows) => {
                    for r in &rows {
                        tracing::warn!(account = %r.account, kind = r.kind.as_str(), name = %r.name, expires_at_ms = r.expires_at_ms, expires_at = %r.expires_at_ms.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok()).map(|t| t.to_string()).unwrap_or_default(), "expires within 30 days");
                    }
                    let summary: crate::Result<Vec<String>> = Ok(rows
                        .iter()
                        .map(|r| format!("{} {}", r.kind.as_str(), r.name))
                        .collect());
                    engine
                        .audit(
                            "job:expiry-report",
                            "expiry.report",
                            "inventory",
                            &summary,
                            |v| format!("{} expiring within 30 days: {}", v.len(), v.join(", ")),
                        )
                        .await;
                    None
                }
                Err(e) => Some(e.to_string()),
            };
            (err, schedule.expiry_every)
        }
        RECONCILE_JOB => {
            let reconciled = engine.reconcile_orders(ms(schedule.stale_submitted)).await;
            // Tenant orders follow the upstream orders that deliver them.
            let settled = engine.settle_tenant_orders().await;
            let err = match (reconciled, settled) {
                (Ok(resolved), Ok(moved)) => {
                    for o in &resolved {
                        tracing::info!(order = o.id, state = o.state.as_str(), "reconciled");
                    }
                    if moved > 0 {
                        tracing::info!(moved, "tenant orders settled");
                    }
                    None
                }
                (Err(e), _) | (_, Err(e)) => Some(e.to_string()),
            };
            (err, schedule.reconcile_every)
        }
        RENEW_JOB => {
            let err = match engine.run_renewals(crate::renewals::JOB_ACTOR, now).await {
                Ok(run) => {
                    for i in &run.items {
                        tracing::info!(account = %i.account, name = %i.name, decision = i.decision.as_str(), reason = %i.reason, "renewal");
                    }
                    (!run.errors.is_empty()).then(|| run.errors.join(" | "))
                }
                Err(e) => Some(e.to_string()),
            };
            (err, schedule.renew_every)
        }
        NOTIFY_JOB => {
            let mut errors = Vec::new();
            match engine.scan_events(now).await {
                Ok(scan) => errors.extend(scan.errors),
                Err(e) => errors.push(e.to_string()),
            }
            match engine.send_due(owner, crate::now_ms()).await {
                Ok(sent) if sent != crate::notify::SendReport::default() => {
                    tracing::info!(
                        sent = sent.sent,
                        retrying = sent.retrying,
                        failed = sent.failed,
                        "notifications"
                    )
                }
                Ok(_) => {}
                Err(e) => errors.push(e.to_string()),
            }
            (
                (!errors.is_empty()).then(|| errors.join(" | ")),
                schedule.notify_every,
            )
        }
        PRICE_JOB => {
            let err = match engine.watch_prices(now).await {
                Ok(scan) => (!scan.errors.is_empty()).then(|| scan.errors.join(" | ")),
                Err(e) => Some(e.to_string()),
            };
            (err, schedule.prices_every)
        }
        other => (Some(format!("unknown job {other}")), schedule.sync_every),
    };
    engine
        .store
        .finish_job(&job, owner, now_ms() + ms(every), error.as_deref())
        .await?;
    Ok(Some(job))
}

/// The scheduler loop of one `serve` instance.
pub async fn run_scheduler(engine: Arc<Engine>, owner: String, schedule: Schedule) {
    loop {
        match run_due_job(&engine, &owner, &schedule).await {
            Ok(Some(job)) => tracing::info!(job, "scheduled job done"),
            Ok(None) => tokio::time::sleep(schedule.poll).await,
            Err(e) => {
                tracing::error!(error = %e, "scheduler");
                tokio::time::sleep(schedule.poll).await;
            }
        }
    }
}
