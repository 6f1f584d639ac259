//! What the tests of the downstream endpoint outside `downstream.rs` share: one idcgate
//! (an engine on a test database with every vendor, its server on a free port) with a
//! Zonkvm simulator account `z`, the Zonkvm client pointed at any upstream, and raw
//! form calls to `POST /api/same/index`.
#![allow(dead_code)] // each test crate uses its own part

use idcgate_core::capability::Connection;
use idcgate_core::{Money, ResourceKind, UpstreamAccount, Vendor};
use idcgate_engine::testing::{add_funded_tenant, add_sandbox, product_spec};
use idcgate_engine::Engine;
use idcgate_store::SqlStore;
use idcgate_wire::sim::{SimServer, Simulator as _};
use idcgate_wire::testing;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use idcgate_engine::testing::ZONKVM_SANDBOX_SYSTEM as SIM_SYSTEM;

/// One idcgate serving the endpoint, with the Zonkvm sandbox as its account `z`.
pub struct Reseller {
    pub engine: Arc<Engine>,
    /// The database beneath the engine: what the tests check money against.
    pub store: Arc<SqlStore>,
    pub addr: SocketAddr,
    pub sim: idcgate_zonkvm::Sim,
    pub srv: SimServer,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub fn yuan(s: &str) -> Money {
    s.parse().unwrap()
}

pub async fn reseller(store: SqlStore) -> Reseller {
    let store = Arc::new(store);
    let engine = Arc::new(Engine::new(
        store.clone(),
        idcgate::vendors::registry(),
        testing::wire_config(Duration::from_secs(10)),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = idcgate::vendors::server_state(engine.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(idcgate_server::serve(state, listener, async move {
        let _ = stopped.await;
    }));
    let sim = idcgate_zonkvm::Sim::sandbox();
    let srv = add_sandbox(&engine, "z", &sim).await;
    Reseller {
        engine,
        store,
        addr,
        sim,
        srv,
        _stop: stop,
    }
}

/// The Zonkvm client of `idcgate-zonkvm` at `base_url` as `appid`/`appkey`.
pub fn client(base_url: &str, appid: &str, appkey: &str) -> Arc<dyn Connection> {
    let account = UpstreamAccount {
        name: "c".into(),
        ..testing::account(
            Vendor::Zonkvm,
            base_url,
            testing::credentials(&[("appid", appid), ("appkey", appkey)]),
        )
    };
    idcgate_zonkvm::connect(&account, &testing::wire_config(Duration::from_secs(10))).unwrap()
}

impl Reseller {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The Zonkvm client at the simulator behind this idcgate, as its own account.
    pub fn upstream(&self) -> Arc<dyn Connection> {
        let creds = self.sim.sandbox_credentials();
        client(&self.srv.base_url(), &creds[0].1, &creds[1].1)
    }

    /// A tenant with `balance` paid in; its appid and appkey.
    pub async fn tenant(&self, name: &str, balance: &str) -> (String, String) {
        let (view, key) = add_funded_tenant(&self.engine, name, yuan(balance), Money::ZERO).await;
        (view.tenant.appid, key.expose().to_string())
    }

    pub async fn balance(&self, account: &str) -> Money {
        use idcgate_store::ResaleStore as _;
        Money::from_fen(self.store.account_balance(account).await.unwrap())
    }

    /// A server product of the simulator's `offer` at `markup` over cost for
    /// `periods`, installing the sandbox's system; its id.
    pub async fn server_product(
        &self,
        name: &str,
        offer: &str,
        (markup, periods): (&str, &str),
    ) -> i64 {
        self.engine
            .add_product(
                "test",
                product_spec(
                    name,
                    "z",
                    ResourceKind::Server,
                    offer,
                    &[("system_guid", SIM_SYSTEM)],
                    (markup, periods),
                ),
            )
            .await
            .unwrap()
            .id
    }

    /// One raw form call to the endpoint; its envelope.
    pub async fn post(&self, form: &[(&str, &str)]) -> Value {
        let body: String = form
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let req = format!(
            "POST /api/same/index HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let (status, text) = http(self.addr, &req).await;
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    /// `action` at the endpoint by the tenant `(appid, appkey)`, with `extra` fields.
    pub async fn call(
        &self,
        (appid, appkey): (&str, &str),
        action: &str,
        extra: &[(&str, &str)],
    ) -> Value {
        let mut form = vec![("appid", appid), ("appkey", appkey), ("action", action)];
        form.extend_from_slice(extra);
        self.post(&form).await
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Sends `req` as it is; the answer's status and its one JSON object.
async fn http(addr: SocketAddr, req: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text[9..12].parse().unwrap();
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    // Chunked or not, the envelope is one JSON object.
    let start = body.find('{').unwrap_or(0);
    let end = body.rfind('}').map_or(body.len(), |e| e + 1);
    (status, body[start..end].to_string())
}
