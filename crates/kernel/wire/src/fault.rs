//! Fault injection for simulators, switchable at run time (see `sim::control_routes`).
//!
//! Faults model what real upstreams do to us: slowness, errors before anything changed,
//! answers lost *after* the change was committed, and bodies that are not what they claim.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Rates are probabilities in `0.0..=1.0`; `*_next` counters fire deterministically on
/// the next N requests (what tests use).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultConfig {
    pub latency_ms: u64,
    pub error_rate: f64,
    pub drop_after_commit_rate: f64,
    pub malformed_rate: f64,
    pub error_next: u32,
    pub drop_next: u32,
    pub malformed_next: u32,
    /// When set, the `*_next` counters fire only on requests whose path and query, or
    /// form body, contain this text (`act=regdomain`, `obj_type=create_server`), so a
    /// test can fault the one write it is about while the reads around it pass. Rates
    /// apply to every request.
    pub next_only_matching: String,
}

/// The simulator's current faults, plus a count of the requests it has seen (benchmarks
/// and tests compare it with what a client should have sent).
#[derive(Debug, Clone, Default)]
pub struct FaultHandle {
    config: Arc<Mutex<FaultConfig>>,
    requests: Arc<AtomicU64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    Error,
    DropAfterCommit,
    Malformed,
}

impl FaultHandle {
    pub fn set(&self, cfg: FaultConfig) {
        *self.lock() = cfg;
    }

    pub fn get(&self) -> FaultConfig {
        self.lock().clone()
    }

    pub fn update(&self, f: impl FnOnce(&mut FaultConfig)) {
        f(&mut self.lock());
    }

    /// Requests served so far (control endpoint excluded).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Whether a targeted fault is armed, so the body must be read to match it.
    fn targets_bodies(&self) -> bool {
        let cfg = self.lock();
        !cfg.next_only_matching.is_empty()
            && (cfg.error_next > 0 || cfg.drop_next > 0 || cfg.malformed_next > 0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FaultConfig> {
        idcgate_core::lock(&self.config)
    }

    fn draw(&self, uri: &str) -> (Duration, Fault) {
        let mut cfg = self.lock();
        let latency = Duration::from_millis(cfg.latency_ms);
        let targeted = cfg.next_only_matching.is_empty() || uri.contains(&cfg.next_only_matching);
        let fault = if targeted && cfg.error_next > 0 {
            cfg.error_next -= 1;
            Fault::Error
        } else if targeted && cfg.drop_next > 0 {
            cfg.drop_next -= 1;
            Fault::DropAfterCommit
        } else if targeted && cfg.malformed_next > 0 {
            cfg.malformed_next -= 1;
            Fault::Malformed
        } else {
            let mut rng = rand::thread_rng();
            let roll: f64 = rng.gen();
            if roll < cfg.error_rate {
                Fault::Error
            } else if roll < cfg.error_rate + cfg.drop_after_commit_rate {
                Fault::DropAfterCommit
            } else if roll < cfg.error_rate + cfg.drop_after_commit_rate + cfg.malformed_rate {
                Fault::Malformed
            } else {
                Fault::None
            }
        };
        (latency, fault)
    }
}

/// axum middleware applying the handle's current faults to every request.
pub async fn inject(State(handle): State<FaultHandle>, req: Request, next: Next) -> Response {
    handle.requests.fetch_add(1, Ordering::Relaxed);
    let mut seen = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    // Upstreams that POST a form (Zonkvm) name the action in the body, not the URL.
    let req = if handle.targets_bodies() {
        let (parts, body) = req.into_parts();
        let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
        seen.push('\n');
        seen.push_str(&String::from_utf8_lossy(&bytes));
        Request::from_parts(parts, Body::from(bytes))
    } else {
        req
    };
    let (latency, fault) = handle.draw(&seen);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match fault {
        Fault::None => next.run(req).await,
        Fault::Error => {
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
        }
        Fault::DropAfterCommit => {
            // The handler runs, so the change is committed; then the answer never comes.
            // The client times out and must treat the call as an unknown outcome.
            let _committed = next.run(req).await;
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Fault::Malformed => {
            let resp = next.run(req).await;
            let (parts, body) = resp.into_parts();
            let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
            let mut cut = bytes[..bytes.len() / 2].to_vec();
            cut.extend_from_slice(b"<!-- upstream error -->\xff");
            Response::from_parts(parts, Body::from(cut))
        }
    }
}
