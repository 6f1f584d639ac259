//! The one simulator clock: wall time, or a frozen instant, plus an offset tests move.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A simulator's "now". Lives inside the simulated state (see [`super::SimState`]) so
/// that state methods read it without plumbing and snapshots of the state carry it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    /// `None` = follow the wall clock.
    pub fixed_now: Option<Timestamp>,
    /// Added to the base (wall or fixed) time; only ever moved forward by `advance`.
    pub offset: SignedDuration,
}

impl Clock {
    pub fn now(&self) -> Timestamp {
        let base = self.fixed_now.unwrap_or_else(Timestamp::now);
        // Saturate rather than fail: a test that advances past the representable range
        // gets the base time, never a panic inside a request.
        base.checked_add(self.offset).unwrap_or(base)
    }

    /// [`Clock::now`] in Unix milliseconds, the unit West and CNDNS store times in.
    pub fn now_ms(&self) -> i64 {
        self.now().as_millisecond()
    }

    /// Freezes the clock at `now` (and forgets earlier advances).
    pub fn set_now(&mut self, now: Timestamp) {
        self.fixed_now = Some(now);
        self.offset = SignedDuration::ZERO;
    }

    /// Moves the clock forward. An advance past what a timestamp can hold makes `now`
    /// fall back to the base time rather than panic inside a request.
    pub fn advance(&mut self, by: Duration) {
        let by = SignedDuration::try_from(by).unwrap_or(SignedDuration::MAX);
        self.offset = self.offset.checked_add(by).unwrap_or(self.offset);
    }
}

/// What the control endpoint `/__sim/clock` steers; implemented by [`super::Host`].
pub trait ClockControl: Send + Sync {
    fn now(&self) -> Timestamp;
    fn set_now(&self, now: Timestamp);
    fn advance(&self, by: Duration);
}

/// `PUT /__sim/clock` body: `{"now": "2026-01-01T00:00:00Z"}` freezes, `{"advance_secs":
/// 3600}` moves forward; both may be given (freeze first, then move).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClockChange {
    pub now: Option<Timestamp>,
    pub advance_secs: Option<u64>,
}

/// What `GET`/`PUT /__sim/clock` answer.
#[derive(Debug, Clone, Serialize)]
pub struct ClockView {
    pub now: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_moves_only_when_told() {
        let t: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut c = Clock::default();
        c.set_now(t);
        assert_eq!(c.now(), t);
        c.advance(Duration::from_secs(90));
        assert_eq!(
            c.now(),
            "2026-01-01T00:01:30Z".parse::<Timestamp>().unwrap()
        );
        c.set_now(t);
        assert_eq!(c.now(), t, "set_now forgets earlier advances");
        c.advance(Duration::MAX);
        assert_eq!(c.now(), t, "an absurd advance saturates, never panics");
    }
}
