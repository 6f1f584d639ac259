//! A small async token bucket: one per upstream account, shared by all its callers.

use std::sync::Mutex;
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
}
