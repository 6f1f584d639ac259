//! Per-account rate limits toward an upstream.
//!
//! [`RateLimiter`] is a small async token bucket, one per account per process, shared by
//! all its callers: the cheap local path, which alone holds the limit when one process
//! calls the account. Several processes calling one account (instances sharing a
//! database, the CLI beside a server) also take every send from a [`SharedLimit`]: a
//! schedule of send slots kept outside the process by a [`RateGate`] (the engine's is
//! the database), so the limit holds for all of them together.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug)]
pub struct RateLimiter {
    per_sec: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl RateLimiter {
    /// `per_sec` requests per second with a burst of the same size; 0 = unlimited.
    pub fn new(per_sec: u32) -> Self {
        let burst = f64::from(per_sec.max(1));
        RateLimiter {
            per_sec: f64::from(per_sec),
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    pub async fn acquire(&self) {
        if self.per_sec <= 0.0 {
            return;
        }
        loop {
            let wait = {
                let mut guard = idcgate_core::lock(&self.state);
                let now = Instant::now();
                let (tokens, last) = *guard;
                let refilled = (tokens + now.duration_since(last).as_secs_f64() * self.per_sec)
                    .min(self.burst);
                if refilled >= 1.0 {
                    *guard = (refilled - 1.0, now);
                    return;
                }
                *guard = (refilled, now);
                Duration::from_secs_f64((1.0 - refilled) / self.per_sec)
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// Reserves send slots in a schedule several processes share. A schedule is a
/// generic cell rate: one slot every `interval`, and after a pause up to `burst` slots
/// open at once. Reservations are atomic, so two processes never get the same slot.
#[async_trait::async_trait]
pub trait RateGate: Send + Sync {
    /// Reserves `n` consecutive slots of `account`'s schedule. Returns when the first
    /// starts, in microseconds from now by the schedule's clock (negative: already
    /// open); the others follow `interval` apart.
    async fn reserve(
        &self,
        account: &str,
        interval: Duration,
        burst: u32,
        n: u32,
    ) -> Result<i64, GateError>;
}

/// The schedule could not be reached; the caller falls back to its local limit.
#[derive(Debug, thiserror::Error)]
#[error("rate gate: {0}")]
pub struct GateError(pub String);

/// A [`RateGate`] as configuration carries it (`WireConfig::rate_gate`).
#[derive(Clone)]
pub struct SharedGate(pub Arc<dyn RateGate>);

impl std::fmt::Debug for SharedGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedGate")
    }
}

/// One account's limit across processes: slots are reserved from the gate, a few at a
/// time when many callers wait (at most [`BATCH_SPAN`] worth), and handed out locally.
/// The caller that reserves takes the first slot itself, so every reservation sends at
/// least once however long the gate took to answer. A slot not taken within one
/// interval (or one batch span, at rates where an interval is shorter than a database
/// round trip) of its start is dropped unused, so slots reserved earlier never add up
/// into a burst beyond the schedule's.
const BATCH_SPAN: Duration = Duration::from_millis(50);

pub struct SharedLimit {
    gate: Arc<dyn RateGate>,
    account: String,
    interval: Duration,
    burst: u32,
    max_batch: u32,
    stale_after: Duration,
    slots: Mutex<VecDeque<Instant>>,
    refill: tokio::sync::Mutex<()>,
    waiting: AtomicU32,
}

impl std::fmt::Debug for SharedLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedLimit")
            .field("account", &self.account)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// Counts a caller waiting for a slot for as long as it waits.
struct Waiting<'a>(&'a AtomicU32);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl SharedLimit {
    /// `None` when `per_sec` is 0 (unlimited): there is nothing to share.
    pub fn new(gate: Arc<dyn RateGate>, account: &str, per_sec: u32) -> Option<Self> {
        let interval = Duration::from_secs(1) / per_sec.max(1);
        let batch_span_ms = u32::try_from(BATCH_SPAN.as_millis()).unwrap_or(u32::MAX);
        (per_sec > 0).then(|| SharedLimit {
            gate,
            account: account.to_string(),
            interval,
            burst: per_sec,
            max_batch: (per_sec.saturating_mul(batch_span_ms) / 1000).max(1),
            stale_after: interval.max(BATCH_SPAN),
            slots: Mutex::new(VecDeque::new()),
            refill: tokio::sync::Mutex::new(()),
            waiting: AtomicU32::new(0),
        })
    }

    /// Waits for a slot of the shared schedule. If the gate cannot be reached the call
    /// goes ahead under the local limit alone (logged): an unreachable database must
    /// not stop every upstream call.
    pub async fn acquire(&self) {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let _waiting = Waiting(&self.waiting);
        loop {
            if let Some(at) = self.take() {
                tokio::time::sleep_until(at).await;
                return;
            }
            let _refilling = self.refill.lock().await;
            if self.has_slot() {
                continue;
            }
            let n = self
                .waiting
                .load(Ordering::Relaxed)
                .clamp(1, self.max_batch);
            match self
                .gate
                .reserve(&self.account, self.interval, self.burst, n)
                .await
            {
                Ok(first_us) => {
                    let now = Instant::now();
                    let step = i64::try_from(self.interval.as_micros()).unwrap_or(i64::MAX);
                    let at = |i: i64| {
                        let from_now = first_us.saturating_add(step.saturating_mul(i)).max(0);
                        now + Duration::from_micros(from_now.unsigned_abs())
                    };
                    idcgate_core::lock(&self.slots).extend((1..i64::from(n)).map(at));
                    drop(_refilling);
                    tokio::time::sleep_until(at(0)).await;
                    return;
                }
                Err(e) => {
                    tracing::warn!(account = %self.account, error = %e, "shared rate limit unavailable; this call holds the local limit only");
                    return;
                }
            }
        }
    }

    fn take(&self) -> Option<Instant> {
        let mut slots = idcgate_core::lock(&self.slots);
        let now = Instant::now();
        while let Some(at) = slots.pop_front() {
            if at + self.stale_after >= now {
                return Some(at);
            }
        }
        None
    }

    fn has_slot(&self) -> bool {
        !idcgate_core::lock(&self.slots).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn holds_the_rate() {
        let rl = RateLimiter::new(10);
        let start = Instant::now();
        for _ in 0..30 {
            rl.acquire().await;
        }
        // 10 from the burst, 20 more at 10/s.
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(1990), "{took:?}");
        assert!(took < Duration::from_millis(2100), "{took:?}");
    }

    /// The schedule kept in memory, as the database keeps it for several processes.
    struct MemoryGate {
        start: Instant,
        tat_us: Mutex<Option<i64>>,
    }

    #[async_trait::async_trait]
    impl RateGate for MemoryGate {
        async fn reserve(
            &self,
            _account: &str,
            interval: Duration,
            burst: u32,
            n: u32,
        ) -> Result<i64, GateError> {
            let now = i64::try_from(self.start.elapsed().as_micros()).unwrap();
            let step = i64::try_from(interval.as_micros()).unwrap();
            let tolerance = step * i64::from(burst - 1);
            let mut tat = self.tat_us.lock().unwrap();
            let next = tat.unwrap_or(i64::MIN).max(now - tolerance) + step * i64::from(n);
            *tat = Some(next);
            Ok(next - step * i64::from(n) - now)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn processes_sharing_a_gate_hold_one_limit_together() {
        let gate: Arc<dyn RateGate> = Arc::new(MemoryGate {
            start: Instant::now(),
            tat_us: Mutex::new(None),
        });
        // Two processes' clients of one account at 10/s, eight callers each.
        let per_sec = 10;
        let processes: Vec<Arc<(RateLimiter, SharedLimit)>> = (0..2)
            .map(|_| {
                Arc::new((
                    RateLimiter::new(per_sec),
                    SharedLimit::new(gate.clone(), "acct", per_sec).unwrap(),
                ))
            })
            .collect();
        let sent = Arc::new(AtomicU32::new(0));
        let start = Instant::now();
        let run_for = Duration::from_secs(3);
        let mut callers = Vec::new();
        for p in &processes {
            for _ in 0..8 {
                let (p, sent) = (p.clone(), sent.clone());
                callers.push(tokio::spawn(async move {
                    loop {
                        p.0.acquire().await;
                        p.1.acquire().await;
                        if start.elapsed() > run_for {
                            return;
                        }
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                }));
            }
        }
        for c in callers {
            c.await.unwrap();
        }
        // One burst of 10, then 10/s for 3 s (each process alone would allow as much).
        let sent = sent.load(Ordering::Relaxed);
        assert!(sent <= 10 + 30 + 1, "{sent} sent in 3 s at 10/s");
        assert!(sent >= 30, "{sent}: the limit is shared, not starved");
    }

    /// A gate a database round trip away: its answer arrives after the first slot of
    /// a high-rate schedule has already passed.
    struct SlowGate(MemoryGate);

    #[async_trait::async_trait]
    impl RateGate for SlowGate {
        async fn reserve(
            &self,
            account: &str,
            interval: Duration,
            burst: u32,
            n: u32,
        ) -> Result<i64, GateError> {
            let first = self.0.reserve(account, interval, burst, n).await;
            tokio::time::sleep(Duration::from_millis(2)).await;
            first
        }
    }

    /// At a rate whose interval (1 µs) is far shorter than the gate's round trip, every
    /// reserved slot was once dropped as stale before anyone could take it, and no call
    /// was ever sent. Real time, because paused time never lets a slot go stale.
    #[tokio::test]
    async fn a_rate_faster_than_the_gate_still_sends() {
        let gate: Arc<dyn RateGate> = Arc::new(SlowGate(MemoryGate {
            start: Instant::now(),
            tat_us: Mutex::new(None),
        }));
        let limit = Arc::new(SharedLimit::new(gate, "acct", 1_000_000).unwrap());
        let callers: Vec<_> = (0..8)
            .map(|_| {
                let limit = limit.clone();
                tokio::spawn(async move {
                    for _ in 0..50 {
                        limit.acquire().await;
                    }
                })
            })
            .collect();
        let all = async {
            for c in callers {
                c.await.unwrap();
            }
        };
        // A hang, not a speed goal: 400 sends take milliseconds when slots are handed out.
        tokio::time::timeout(Duration::from_secs(30), all)
            .await
            .expect("400 acquires at 1,000,000/s never completed");
    }
}
