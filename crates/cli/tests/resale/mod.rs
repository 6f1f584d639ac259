//! What the downstream endpoint's test crates share (`downstream.rs`,
//! `downstream_panel.rs`): an idcgate serving the endpoint, a reseller of the Zonkvm
//! simulator, its tenants and products, raw calls to the endpoint and the Zonkvm
//! client pointed at either.
#![allow(dead_code)] // each test crate uses its own part

use idcgate_core::capability::Connection;
use idcgate_core::purchase::{Operation, PurchaseRequest};
use idcgate_core::{Money, ResourceKind, UpstreamAccount, Vendor};
use idcgate_engine::testing::{
    add_funded_tenant, add_sandbox, product_spec, ZONKVM_SANDBOX_SYSTEM as SIM_SYSTEM,
};
use idcgate_engine::Engine;
use idcgate_store::{ResaleStore as _, SqlStore};
use idcgate_wire::sim::{SimServer, Simulator as _};
use idcgate_wire::testing;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// One idcgate: an engine on `store` with every vendor, and its server with the
/// downstream endpoint on a free port.
pub struct Instance {
    pub engine: Arc<Engine>,
    /// The database beneath the engine: what the tests check money against.
    pub store: Arc<SqlStore>,
    pub addr: SocketAddr,
    _served: idcgate_server::Local,
}

pub async fn instance(store: SqlStore) -> Instance {
    let store = Arc::new(store);
    let engine = Arc::new(Engine::new(
        store.clone(),
        idcgate::vendors::registry(),
        testing::wire_config(Duration::from_secs(10)),
    ));
    let state = idcgate::vendors::server_state(engine.clone());
    let served = idcgate_server::serve_local(state).await.unwrap();
    Instance {
        engine,
        store,
        addr: served.addr,
        _served: served,
    }
}

pub fn yuan(s: &str) -> Money {
    s.parse().unwrap()
}

pub fn zonkvm_account(name: &str, base_url: &str, appid: &str, appkey: &str) -> UpstreamAccount {
    UpstreamAccount {
        name: name.into(),
        ..testing::account(
            Vendor::Zonkvm,
            base_url,
            testing::credentials(&[("appid", appid), ("appkey", appkey)]),
        )
    }
}

pub fn client(base_url: &str, appid: &str, appkey: &str) -> Arc<dyn Connection> {
    idcgate_zonkvm::connect(
        &zonkvm_account("c", base_url, appid, appkey),
        &testing::wire_config(Duration::from_secs(10)),
    )
    .unwrap()
}

/// A reseller on `store` with a Zonkvm simulator upstream (account `z`), a cloud
/// product on it at cost + 15% and a dearer one it may be upgraded to.
pub struct Reseller {
    pub i: Instance,
    pub sim: idcgate_zonkvm::Sim,
    pub srv: SimServer,
    pub product_id: i64,
    pub bigger_id: i64,
}

/// The Zonkvm client at the simulator `sim` served at `srv`, signed in as its sandbox
/// reseller.
pub fn sandbox_client(sim: &idcgate_zonkvm::Sim, srv: &SimServer) -> Arc<dyn Connection> {
    let creds = sim.sandbox_credentials();
    client(&srv.base_url(), &creds[0].1, &creds[1].1)
}

/// A Zonkvm sandbox simulator of the test's own, served, and the client at it: the
/// upstream an endpoint's answers are compared with.
pub async fn own_sandbox() -> (idcgate_zonkvm::Sim, SimServer, Arc<dyn Connection>) {
    let sim = idcgate_zonkvm::Sim::sandbox();
    let srv = testing::serve(&sim).await;
    let direct = sandbox_client(&sim, &srv);
    (sim, srv, direct)
}

pub async fn reseller(store: SqlStore) -> Reseller {
    let i = instance(store).await;
    let sim = idcgate_zonkvm::Sim::sandbox();
    let srv = add_sandbox(&i.engine, "z", &sim).await;
    let mut ids = Vec::new();
    for (name, offer) in [
        ("cloud-a", "德阳电信-1核1G"),
        ("cloud-a-big", "德阳电信-2核4G"),
    ] {
        let cloud = (ResourceKind::Server, Some(SIM_SYSTEM), ("15%", "1,3,12"));
        ids.push(i.product(name, cloud.0, offer, cloud.1, cloud.2).await);
    }
    Reseller {
        i,
        sim,
        srv,
        product_id: ids[0],
        bigger_id: ids[1],
    }
}

impl Reseller {
    /// The Zonkvm client at the reseller's own upstream, the simulator of account `z`.
    pub fn upstream(&self) -> Arc<dyn Connection> {
        sandbox_client(&self.sim, &self.srv)
    }
}

impl Instance {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A tenant with `balance` paid in; its appid and appkey.
    pub async fn tenant(&self, name: &str, balance: &str) -> (String, String) {
        let (view, key) = add_funded_tenant(&self.engine, name, yuan(balance), Money::ZERO).await;
        (view.tenant.appid, key.expose().to_string())
    }

    pub async fn balance(&self, account: &str) -> Money {
        Money::from_fen(self.store.account_balance(account).await.unwrap())
    }

    /// A product on the simulator account `z` at `markup` over cost for `periods`,
    /// installing `system` where it is a server; its id.
    pub async fn product(
        &self,
        name: &str,
        kind: ResourceKind,
        offer: &str,
        system: Option<&str>,
        (markup, periods): (&str, &str),
    ) -> i64 {
        self.engine
            .add_product(
                "test",
                product_spec(
                    name,
                    "z",
                    kind,
                    offer,
                    &system
                        .map(|s| ("system_guid", s))
                        .into_iter()
                        .collect::<Vec<_>>(),
                    (markup, periods),
                ),
            )
            .await
            .unwrap()
            .id
    }

    /// Hosting and database products, each `(name, kind, upstream offer)`, at cost + 10%
    /// for 1 or 12 months: their ids as a form spells them.
    pub async fn site_products(&self, list: &[(&str, ResourceKind, &str)]) -> Vec<String> {
        let mut ids = Vec::new();
        for (name, kind, offer) in list {
            let id = self
                .product(name, *kind, offer, None, ("10%", "1,12"))
                .await;
            ids.push(id.to_string());
        }
        ids
    }

    /// One raw form call to the endpoint.
    pub async fn post(&self, form: &[(&str, &str)]) -> Value {
        let body: String = form
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let (status, text) = http_post(self.addr, "/api/same/index", &body).await;
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

    pub async fn post_form<K: AsRef<str>>(&self, form: &[(K, String)]) -> Value {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_ref(), v.as_str())).collect();
        self.post(&form).await
    }
}

/// A form's fields in order.
pub type Form = Vec<(String, String)>;

/// `base` with each of `extra` replacing the field of its name, or added at the end.
pub fn form_of(base: &[(&str, &str)], extra: &[(&str, &str)]) -> Form {
    let form = base.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    overridden(form.collect(), extra)
}

/// `form` with each of `extra` replacing the field of its name, or added at the end.
pub fn overridden(mut form: Form, extra: &[(&str, &str)]) -> Form {
    for (k, v) in extra {
        form.retain(|(key, _)| key != k);
        form.push((k.to_string(), v.to_string()));
    }
    form
}

pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A minimal HTTP/1.1 POST (the test needs no client library for one form).
pub async fn http_post(addr: SocketAddr, path: &str, body: &str) -> (u16, String) {
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    http(addr, &req).await
}

/// Sends `req` as it is; the answer's status and its one JSON object.
pub async fn http(addr: SocketAddr, req: &str) -> (u16, String) {
    http_bytes(addr, req.as_bytes()).await
}

/// [`http`] of a request that may not be text (a multipart body with a binary file).
pub async fn http_bytes(addr: SocketAddr, req: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(req).await.unwrap();
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

/// A month of the hosting product `site_offer` and of the database product `db_offer`
/// at `conn`; their ids there.
/// `purchase` through `seller`'s journal path under `key`, its quote checked to be the
/// charge (`what` names it when it is not): the order.
pub async fn quoted_buy(
    seller: &dyn idcgate_core::Purchasing,
    purchase: &PurchaseRequest,
    key: &str,
    what: &str,
) -> idcgate_core::Order {
    let quote = seller.quote(purchase).await.unwrap();
    let order = seller.buy(purchase, key).await.unwrap();
    assert_eq!(order.amount, quote.price, "{what}: the quote is the charge");
    order
}

pub async fn site_and_database(
    conn: &dyn Connection,
    (site_offer, db_offer): (&str, &str),
    key: &str,
) -> (String, String) {
    let seller = conn.purchasing().unwrap();
    let site = PurchaseRequest::new(ResourceKind::HostingSite, Operation::Create, "site")
        .offer(site_offer)
        .months(1)
        .option("content.program_version", "php81");
    let db = PurchaseRequest {
        kind: ResourceKind::Database,
        offer: Some(db_offer.into()),
        options: [("content.code".to_string(), "utf8mb4".to_string())]
            .into_iter()
            .collect(),
        ..site.clone()
    };
    let s = seller.buy(&site, &format!("{key}-site")).await.unwrap();
    let d = seller.buy(&db, &format!("{key}-db")).await.unwrap();
    (s.upstream_id.unwrap(), d.upstream_id.unwrap())
}

/// A raw `hosting_operate` form of `op` by the tenant `who`, with `extra` fields.
pub fn panel_form(
    who: (&str, &str),
    op: &str,
    extra: Vec<(&'static str, String)>,
) -> Vec<(&'static str, String)> {
    let mut form: Vec<(&'static str, String)> = vec![
        ("appid", who.0.to_string()),
        ("appkey", who.1.to_string()),
        ("action", "hosting_operate".to_string()),
        ("operate", op.to_string()),
    ];
    form.extend(extra);
    form
}
