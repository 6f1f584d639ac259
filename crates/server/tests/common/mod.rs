//! The REST API the socket-level tests share: an engine with account `w` on a fresh West
//! sandbox, served on a free port until the `Api` is dropped.

use idcgate_engine::testing::{sandboxed, Sandboxed};
use idcgate_engine::{vendor_entry, Engine};
use idcgate_store::testing::TestDb;
use idcgate_store::Scope;
use idcgate_wire::sim::SimServer;
use std::net::SocketAddr;
use std::sync::Arc;

pub struct Api {
    pub engine: Arc<Engine>,
    /// The West simulator behind account `w` (not every test file reads it).
    #[allow(dead_code)]
    pub srv: SimServer,
    pub addr: SocketAddr,
    /// The bearer token the test calls with (of the scope given to [`start`]).
    pub token: String,
    _served: idcgate_server::Local,
}

/// Serves the API on `db`, with a token named `token_name` of `scope`.
pub async fn start(db: &TestDb, token_name: &str, scope: Scope) -> Api {
    let Sandboxed { engine, srv, .. } = sandboxed(db, vendor_entry!(West, idcgate_west), "w").await;
    let (_, token) = engine
        .create_token("test", token_name, scope)
        .await
        .unwrap();
    let state = idcgate_server::AppState {
        auth_failure_limit: idcgate_server::DEFAULT_AUTH_FAILURE_LIMIT,
        engine: engine.clone(),
        metrics: Arc::new(idcgate_server::Metrics::default()),
        downstream: None,
    };
    let served = idcgate_server::serve_local(state).await.unwrap();
    Api {
        engine,
        srv,
        addr: served.addr,
        token,
        _served: served,
    }
}

/// `GET /api/v1{path}` with the test's token: the status and the JSON answer.
#[allow(dead_code)] // not every test file reads
pub async fn get(api: &Api, path: &str) -> (u16, serde_json::Value) {
    let r = reqwest::Client::new()
        .get(format!("http://{}/api/v1{path}", api.addr))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    answer(r).await
}

/// An answer's status and its JSON body.
#[allow(dead_code)] // not every test file reads
pub async fn answer(r: reqwest::Response) -> (u16, serde_json::Value) {
    let status = r.status().as_u16();
    (
        status,
        serde_json::from_str(&r.text().await.unwrap()).unwrap(),
    )
}
