//! The HTTP surface: `/healthz`, Prometheus `/metrics`, and the REST API under
//! `/api/v1` with its OpenAPI document at `/api/v1/openapi.json`; other routes (the
//! console) are merged in by `router_with` behind the same guards.
//!
//! Owns: our own HTTP/JSON shapes, token authentication and scope checks, mapping of
//! engine errors to status codes.
//!
//! Must not know: vendors, their wire formats, or SQL; everything goes through the
//! engine.

mod api;
mod auth;
mod dnsplan;
mod downstream;
mod dto;
mod error;
mod guard;
pub mod listener;
mod metrics;
mod migrate;
mod orders;
mod pages;
mod renewals;
mod resale;

use axum::routing::get;
use axum::Router;
use idcgate_engine::Engine;
use std::sync::Arc;

pub use api::ApiDoc;
pub use downstream::Downstream;
pub use metrics::Metrics;
pub use pages::PAGE_TRUST;

#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub metrics: Arc<Metrics>,
    /// The endpoint downstream resellers call, if this server offers one.
    pub downstream: Option<Downstream>,
    /// Failed token authentications one address may make per minute before it is
    /// refused (`auth::MAX_FAILURES` unless the operator chose otherwise).
    pub auth_failure_limit: u32,
}

/// Failed token authentications per address and minute, unless configured.
pub const DEFAULT_AUTH_FAILURE_LIMIT: u32 = auth::MAX_FAILURES;

pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// The API beside other routes (the console's pages), all behind the same guards,
/// limits and metrics.
pub fn router_with(state: AppState, pages: Router) -> Router {
    let mut router = Router::new();
    if let Some(d) = &state.downstream {
        router = router.route(d.dialect.path(), axum::routing::post(downstream::answer));
    }
    router
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::render))
        .nest("/api/v1", api::routes())
        .with_state(state.clone())
        .merge(pages)
        .fallback(|| async {
            error::ApiError::not_found("no such endpoint (see /api/v1/openapi.json)")
        })
        .method_not_allowed_fallback(|| async { error::ApiError::method_not_allowed() })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::count,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(
            guard::BODY_LIMIT_BYTES,
        ))
        .layer(axum::middleware::from_fn(guard::guard))
        .layer(axum::Extension(Arc::new(auth::FailureLimiter::new(
            state.auth_failure_limit,
        ))))
        .layer(axum::Extension(Arc::new(pages::PageCache::default())))
}

async fn healthz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> (axum::http::StatusCode, &'static str) {
    // Healthy means the database answers, not merely that the process is up.
    match state.engine.reads().ping().await {
        Ok(_) => (axum::http::StatusCode::OK, "ok\n"),
        Err(_) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "database unavailable\n",
        ),
    }
}

/// Serves the API alone until `shutdown` resolves.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_app(router(state), listener, shutdown).await
}

/// An API [`serve_local`] started: its address, served until this is dropped.
pub struct Local {
    pub addr: std::net::SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Serves `state` on a free port of 127.0.0.1 in a task of its own until the answer is
/// dropped: how the tests and benches start an API.
pub async fn serve_local(state: AppState) -> std::io::Result<Local> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(state, listener, async move {
        let _ = stopped.await;
    }));
    Ok(Local { addr, _stop: stop })
}

/// Serves `app` (from `router` or `router_with`) until `shutdown` resolves.
pub async fn serve_app(
    app: Router,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_guarded(
        app,
        listener::Guarded::new(listener),
        shutdown,
        DRAIN_TIMEOUT,
    )
    .await
}

/// How long a shutdown waits for open connections to finish their requests.
pub const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` resolves and then at most `drain` more.
pub async fn serve_guarded(
    app: Router,
    listener: listener::Guarded,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    drain: std::time::Duration,
) -> std::io::Result<()> {
    let app = app.into_make_service_with_connect_info::<listener::Peer>();
    let (stopping, mut stopped) = tokio::sync::watch::channel(false);
    let signal = async move {
        shutdown.await;
        let _ = stopping.send(true);
    };
    let serving = axum::serve(listener, app).with_graceful_shutdown(signal);
    // Graceful shutdown waits for every open connection; one that never finishes a
    // request (a stalled client) must not keep the process, and the scheduler beside
    // it, running for ever.
    let drained = async move {
        if stopped.wait_for(|stop| *stop).await.is_ok() {
            tokio::time::sleep(drain).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        served = serving => served,
        () = drained => {
            tracing::warn!(after = ?drain, "connections still open at shutdown; closing them");
            Ok(())
        }
    }
}
