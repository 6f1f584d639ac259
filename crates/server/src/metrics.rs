//! Prometheus text exposition, written by hand: a few counters do not justify a
//! metrics stack.

use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use idcgate_core::ResourceKind;
use idcgate_store::ResourceFilter;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
}

impl Metrics {
    fn record(&self, method: &str, route: &str, status: u16) {
        let mut m = idcgate_core::lock(&self.requests);
        *m.entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
    }
}

/// The method as a label: one of the methods HTTP defines, or `other`. Any token is a
/// valid method, and one series per invented name grew `/metrics` without bound.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}

/// The status as a label: ours are a handful, but a status is any number from 100 to
/// 999, so anything outside the standard classes counts as one.
fn status_label(status: axum::http::StatusCode) -> u16 {
    if status.canonical_reason().is_some() {
        status.as_u16()
    } else {
        0
    }
}

pub async fn count(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = method_label(req.method());
    // The matched route template, not the raw path, keeps label cardinality bounded;
    // the other labels are the vendor and resource kind enums and fixed outcomes.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let resp = next.run(req).await;
    state
        .metrics
        .record(method, &route, status_label(resp.status()));
    resp
}

pub async fn render(State(state): State<AppState>) -> Response {
    let mut out = String::new();
    out.push_str("# HELP idcgate_http_requests_total HTTP requests served.\n# TYPE idcgate_http_requests_total counter\n");
    {
        let m = idcgate_core::lock(&state.metrics.requests);
        for ((method, route, status), n) in m.iter() {
            let _ = writeln!(
                out,
                "idcgate_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
    }
    out.push_str(
        "# HELP idcgate_accounts Configured upstream accounts.\n# TYPE idcgate_accounts gauge\n",
    );
    if let Ok(accounts) = state.engine.accounts().await {
        let _ = writeln!(out, "idcgate_accounts {}", accounts.len());
    }
    out.push_str("# HELP idcgate_resources Live inventory resources by kind.\n# TYPE idcgate_resources gauge\n");
    for kind in ResourceKind::ALL {
        let filter = ResourceFilter {
            kind: Some(kind),
            ..Default::default()
        };
        if let Ok(n) = state.engine.reads().count_resources(&filter).await {
            let _ = writeln!(out, "idcgate_resources{{kind=\"{}\"}} {n}", kind.as_str());
        }
    }
    out.push_str("# HELP idcgate_upstream_calls_total Upstream calls by vendor and outcome (retries inside one call count once).\n# TYPE idcgate_upstream_calls_total counter\n");
    let calls = idcgate_engine::upstream_call_stats();
    for (vendor, outcome, stats) in &calls {
        let _ = writeln!(
            out,
            "idcgate_upstream_calls_total{{vendor=\"{vendor}\",outcome=\"{outcome}\"}} {}",
            stats.count
        );
    }
    out.push_str("# HELP idcgate_upstream_call_seconds_total Time spent in upstream calls, retries and backoff included.\n# TYPE idcgate_upstream_call_seconds_total counter\n");
    for (vendor, outcome, stats) in &calls {
        let _ = writeln!(
            out,
            "idcgate_upstream_call_seconds_total{{vendor=\"{vendor}\",outcome=\"{outcome}\"}} {:.6}",
            stats.seconds
        );
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}
