//! Routes merged beside the API (the console) sit behind the same guards, keep their
//! own HTML error pages, and are told the client's address.
#![allow(clippy::unwrap_used)] // a test may fail loudly

use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use axum::{Extension, Router};
use idcgate_engine::{Engine, Registry};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn merged_pages_keep_html_errors_and_see_the_client_address() {
    let db = idcgate_store::testing::sqlite().await;
    let engine = Arc::new(Engine::new(
        Arc::new(db.reopen().await),
        Registry::new(vec![]),
        idcgate_wire::testing::wire_config(Duration::from_secs(5)),
    ));
    let state = idcgate_server::AppState {
        auth_failure_limit: idcgate_server::DEFAULT_AUTH_FAILURE_LIMIT,
        engine,
        metrics: Arc::new(idcgate_server::Metrics::default()),
        downstream: None,
    };
    let pages = Router::new()
        .route(
            "/refused",
            get(|| async { (StatusCode::FORBIDDEN, Html("<p>not for you</p>")) }),
        )
        .route(
            "/who",
            get(|ip: Option<Extension<IpAddr>>| async move {
                ip.map(|Extension(ip)| ip.to_string()).unwrap_or_default()
            }),
        );
    let app = idcgate_server::router_with(state, pages);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(idcgate_server::serve_app(
        app,
        listener,
        std::future::pending(),
    ));
    let http = reqwest::Client::new();

    let r = http.get(format!("{base}/refused")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(r.text().await.unwrap(), "<p>not for you</p>");

    let who = http.get(format!("{base}/who")).send().await.unwrap();
    assert_eq!(who.text().await.unwrap(), "127.0.0.1");

    // The guards still hold in front of the pages: a control character in the query.
    let bad = http.get(format!("{base}/who?q=%00")).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    // And the API is still there.
    assert_eq!(
        http.get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
