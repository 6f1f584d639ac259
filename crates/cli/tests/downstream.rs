//! The downstream endpoint (`POST /api/same/index`, the Zonkvm dialect) as its callers
//! meet it, on SQLite and PostgreSQL:
//!
//! - conformance: the Zonkvm client of `idcgate-zonkvm` runs one scenario against the
//!   Zonkvm simulator and against idcgate's endpoint, with the same assertions (catalog,
//!   quote = charge, create, list, power, console, renew, refund);
//! - the chain: a second idcgate adds the first as its `zonkvm` upstream and resells a
//!   server to its own tenant; create, stop, renew and refund flow through both hops,
//!   both ledgers stay balanced and each hop keeps the margin its catalog says;
//! - attacks: a price in the request, bad terms, another tenant's guid, a suspended
//!   tenant, no money, SQL metacharacters and NUL bytes: refused, nothing charged.
//!
//! Where the endpoint answers differently from the simulator, and why:
//! - `getserver`'s `loginPassword` is empty: idcgate keeps no server passwords;
//! - a line sells one fixed configuration (its product's): other disk, bandwidth or
//!   defense values are refused, where the finance system prices them per unit;
//! - dedicated servers, colocation, hosting and databases are not sold through the
//!   endpoint: their catalogs and order lists are empty, their actions say so.
#![allow(clippy::unwrap_used)] // a test may fail loudly

use idcgate_core::capability::Connection;
use idcgate_core::purchase::{Operation, PurchaseRequest};
use idcgate_core::{Money, PowerAction, PowerState, ResourceKind, UpstreamAccount, Vendor};
use idcgate_engine::catalog::{PriceRule, ProductSpec};
use idcgate_engine::testing::{
    add_funded_tenant, add_sandbox, assert_books_balance, cloud_product,
    ZONKVM_SANDBOX_SYSTEM as SIM_SYSTEM,
};
use idcgate_engine::Engine;
use idcgate_store::testing::TestDb;
use idcgate_store::{both_backends, ResaleStore as _, SqlStore, TenantOrderStore as _};
use idcgate_wire::sim::{SimServer, Simulator};
use idcgate_wire::testing;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

both_backends!(
    the_zonkvm_client_meets_the_same_answers_at_the_simulator_and_the_endpoint,
    a_second_instance_resells_through_the_first,
    attacks_are_refused_with_nothing_charged_or_changed,
);

/// One idcgate: an engine on `store` with every vendor, and its server with the
/// downstream endpoint on a free port.
struct Instance {
    engine: Arc<Engine>,
    /// The database beneath the engine: what the tests check money against.
    store: Arc<SqlStore>,
    addr: SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn instance(store: SqlStore) -> Instance {
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
    Instance {
        engine,
        store,
        addr,
        _stop: stop,
    }
}

fn yuan(s: &str) -> Money {
    s.parse().unwrap()
}

fn zonkvm_account(name: &str, base_url: &str, appid: &str, appkey: &str) -> UpstreamAccount {
    UpstreamAccount {
        name: name.into(),
        ..testing::account(
            Vendor::Zonkvm,
            base_url,
            testing::credentials(&[("appid", appid), ("appkey", appkey)]),
        )
    }
}

fn client(base_url: &str, appid: &str, appkey: &str) -> Arc<dyn Connection> {
    idcgate_zonkvm::connect(
        &zonkvm_account("c", base_url, appid, appkey),
        &testing::wire_config(Duration::from_secs(10)),
    )
    .unwrap()
}

/// A reseller on `store` with a Zonkvm simulator upstream (account `z`), one cloud
/// product on it at cost + 15%, and a funded tenant.
struct Reseller {
    i: Instance,
    sim: idcgate_zonkvm::Sim,
    _srv: SimServer,
    product_id: i64,
}

async fn reseller(store: SqlStore) -> Reseller {
    let i = instance(store).await;
    let sim = idcgate_zonkvm::Sim::sandbox();
    let srv = add_sandbox(&i.engine, "z", &sim).await;
    let p = i
        .engine
        .add_product("test", cloud_product("cloud-a", "z"))
        .await
        .unwrap();
    Reseller {
        i,
        sim,
        _srv: srv,
        product_id: p.id,
    }
}

impl Instance {
    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A tenant with `balance` paid in; its appid and appkey.
    async fn tenant(&self, name: &str, balance: &str) -> (String, String) {
        let (view, key) = add_funded_tenant(&self.engine, name, yuan(balance), Money::ZERO).await;
        (view.tenant.appid, key.expose().to_string())
    }

    async fn balance(&self, account: &str) -> Money {
        Money::from_fen(self.store.account_balance(account).await.unwrap())
    }

    /// One raw form call to the endpoint.
    async fn post(&self, form: &[(&str, &str)]) -> Value {
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
    async fn call(
        &self,
        (appid, appkey): (&str, &str),
        action: &str,
        extra: &[(&str, &str)],
    ) -> Value {
        let mut form = vec![("appid", appid), ("appkey", appkey), ("action", action)];
        form.extend_from_slice(extra);
        self.post(&form).await
    }

    async fn post_form(&self, form: &[(&str, String)]) -> Value {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.post(&form).await
    }
}

/// The endpoint's `create_order` of a cloud server on `line` by the tenant
/// `appid`/`appkey`, with `extra` fields after.
fn order_form(
    appid: &str,
    appkey: &str,
    line: &str,
    extra: &[(&'static str, String)],
) -> Vec<(&'static str, String)> {
    let mut f: Vec<(&'static str, String)> = vec![
        ("appid", appid.into()),
        ("appkey", appkey.into()),
        ("action", "create_order".into()),
        ("obj_type", "create_server".into()),
        ("line_guid", line.into()),
        ("system_guid", line.into()),
    ];
    f.extend(extra.iter().cloned());
    f
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

/// A minimal HTTP/1.1 POST (the test needs no client library for one form).
async fn http_post(addr: SocketAddr, path: &str, body: &str) -> (u16, String) {
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    http(addr, &req).await
}

async fn http_get(addr: SocketAddr, path: &str, token: &str) -> (u16, String) {
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    http(addr, &req).await
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

/// The renewal of the server `id` that `create` bought.
fn renewal(create: &PurchaseRequest, id: &str) -> PurchaseRequest {
    PurchaseRequest {
        operation: Operation::Renew,
        target: id.into(),
        offer: None,
        options: Default::default(),
        ..create.clone()
    }
}

/// What one run of the scenario saw, for the assertions that differ in data only.
struct Seen {
    charged: Money,
    renewed: Money,
}

/// The Zonkvm client's life of one cloud server at an upstream, whichever it is.
async fn scenario(conn: &dyn Connection, offer: &str, system: &str, key: &str) -> Seen {
    let compute = conn.compute().unwrap();
    let seller = conn.purchasing().unwrap();
    let catalog = compute.catalog().await.unwrap();
    let plan = catalog
        .plans
        .iter()
        .find(|p| p.id == offer)
        .unwrap()
        .clone();
    assert!(
        catalog.images.iter().any(|i| i.id == system),
        "{system} among {:?}",
        catalog.images
    );
    let before = compute.list_servers().await.unwrap();
    let create = PurchaseRequest {
        kind: ResourceKind::Server,
        operation: Operation::Create,
        target: "conformance".into(),
        offer: Some(offer.into()),
        months: 1,
        options: [("system_guid".to_string(), system.to_string())]
            .into_iter()
            .collect(),
    };
    let quote = seller.quote(&create).await.unwrap();
    let order = seller.buy(&create, key).await.unwrap();
    assert_eq!(order.amount, quote.price, "the quote is what is charged");
    let id = order.upstream_id.unwrap();
    let after = compute.list_servers().await.unwrap();
    assert_eq!(after.len(), before.len() + 1);
    let s = compute.get_server(&id).await.unwrap();
    assert_eq!((s.cpu, s.ram_mb), (plan.cpu, plan.ram_mb));
    let first_end = s.expires_at.unwrap();

    compute.power(&id, PowerAction::Stop).await.unwrap();
    assert_eq!(
        compute.get_server(&id).await.unwrap().power,
        PowerState::Stopped
    );
    compute.power(&id, PowerAction::Start).await.unwrap();
    assert_eq!(
        compute.get_server(&id).await.unwrap().power,
        PowerState::Running
    );
    assert!(!compute.console(&id).await.unwrap().url.is_empty());

    let renew = renewal(&create, &id);
    let renew_quote = seller.quote(&renew).await.unwrap();
    let renewed = seller.buy(&renew, &format!("{key}-renew")).await.unwrap();
    assert_eq!(renewed.amount, renew_quote.price);
    assert!(compute.get_server(&id).await.unwrap().expires_at.unwrap() > first_end);

    compute.delete_server(&id).await.unwrap();
    let gone = compute.get_server(&id).await.unwrap();
    assert_ne!(
        gone.lifecycle,
        idcgate_core::LifecycleState::Active,
        "{gone:?}"
    );
    Seen {
        charged: order.amount,
        renewed: renewed.amount,
    }
}

async fn the_zonkvm_client_meets_the_same_answers_at_the_simulator_and_the_endpoint(db: &TestDb) {
    let r = reseller(db.reopen().await).await;
    // At the simulator, as the reseller's own upstream.
    let sim = idcgate_zonkvm::Sim::sandbox();
    let srv = testing::serve(&sim).await;
    let creds = sim.sandbox_credentials();
    let direct = client(&srv.base_url(), &creds[0].1, &creds[1].1);
    let at_sim = scenario(&*direct, "德阳电信-1核1G", SIM_SYSTEM, "conf-sim").await;

    // At idcgate's endpoint, as its tenant: the product is the line and the package.
    let (appid, appkey) = r.i.tenant("down", "1000.00").await;
    let via = client(&r.i.url(), &appid, &appkey);
    let at_us = scenario(&*via, "cloud-a", &r.product_id.to_string(), "conf-endpoint").await;
    // The same catalog data: our price is the simulator's plus 15%, to the fen.
    let plus = |m: Money| idcgate_engine::catalog::round_to_fen(m.0 * yuan("1.15").0);
    assert_eq!(at_us.charged, plus(at_sim.charged));
    assert_eq!(at_us.renewed, plus(at_sim.renewed));
    assert_books_balance(&r.i.engine).await;
}

async fn a_second_instance_resells_through_the_first(db: &TestDb) {
    // A: the first hop, over the simulator, on the backend under test.
    let a = reseller(db.reopen().await).await;
    let (b_appid, b_appkey) = a.i.tenant("reseller-b", "2000.00").await;
    // B: a second idcgate on its own database, with A as its Zonkvm upstream.
    let b_db = idcgate_store::testing::sqlite().await;
    let b = instance(b_db.reopen().await).await;
    b.engine
        .put_sandbox_account(&zonkvm_account("up", &a.i.url(), &b_appid, &b_appkey))
        .await
        .unwrap();
    let resold = b
        .engine
        .add_product(
            "test",
            ProductSpec {
                name: "cloud-b".into(),
                title: Some("Resold cloud".into()),
                account: "up".into(),
                kind: ResourceKind::Server,
                offer: Some("cloud-a".into()),
                options: [("system_guid".to_string(), a.product_id.to_string())]
                    .into_iter()
                    .collect(),
                rule: PriceRule::parse("10%", &[], &[], Some("1,3,12")).unwrap(),
            },
        )
        .await
        .unwrap();
    let (c_appid, c_appkey) = b.tenant("end-customer", "1000.00").await;
    let customer = client(&b.url(), &c_appid, &c_appkey);
    let compute = customer.compute().unwrap();
    let seller = customer.purchasing().unwrap();
    let sim_servers = a.sim.server_count();

    let create = PurchaseRequest {
        kind: ResourceKind::Server,
        operation: Operation::Create,
        target: "chain".into(),
        offer: Some("cloud-b".into()),
        months: 1,
        options: [("system_guid".to_string(), resold.id.to_string())]
            .into_iter()
            .collect(),
    };
    let order = seller.buy(&create, "chain-1").await.unwrap();
    let id = order.upstream_id.unwrap();
    assert_eq!(
        a.sim.server_count(),
        sim_servers + 1,
        "one server, at the end of the chain"
    );

    // Each hop's margin is its catalog's: A sells at cost + 15%, B at A's price + 10%.
    let sim_cost = a.i.balance("cost:server").await;
    let a_price = a.i.balance("revenue:server").await;
    let b_cost = b.balance("cost:server").await;
    let b_price = b.balance("revenue:server").await;
    let pct = |m: Money, p: &str| idcgate_engine::catalog::round_to_fen(m.0 * yuan(p).0);
    assert_eq!(a_price, pct(sim_cost, "1.15"));
    assert_eq!(b_cost, a_price, "B pays what A charges");
    assert_eq!(b_price, pct(b_cost, "1.10"));
    assert_eq!(order.amount, b_price);
    assert_eq!(
        b.balance("tenant:end-customer").await,
        yuan("1000.00") - b_price
    );
    assert_eq!(
        a.i.balance("tenant:reseller-b").await,
        yuan("2000.00") - a_price
    );

    // Stop flows through both hops to the simulator.
    compute.power(&id, PowerAction::Stop).await.unwrap();
    assert_eq!(
        compute.get_server(&id).await.unwrap().power,
        PowerState::Stopped
    );

    // Renew through both hops.
    let renew = renewal(&create, &id);
    let before_end = compute.get_server(&id).await.unwrap().expires_at.unwrap();
    let renewed = seller.buy(&renew, "chain-renew").await.unwrap();
    assert!(compute.get_server(&id).await.unwrap().expires_at.unwrap() > before_end);
    let b_paid = b_price + renewed.amount;
    assert_eq!(b.balance("revenue:server").await, b_paid);

    // Refund: each hop gives its tenant back the unused share of what it paid.
    let a_paid = a.i.balance("revenue:server").await;
    compute.delete_server(&id).await.unwrap();
    let end_back = yuan("1000.00") - b_paid;
    let end_now = b.balance("tenant:end-customer").await;
    assert!(
        end_now > end_back && end_now <= yuan("1000.00"),
        "{end_now}"
    );
    let b_now = a.i.balance("tenant:reseller-b").await;
    assert!(
        b_now > yuan("2000.00") - a_paid && b_now <= yuan("2000.00"),
        "{b_now}"
    );
    for (e, store) in [(&a.i.engine, &a.i.store), (&b.engine, &b.store)] {
        assert_books_balance(e).await;
        let margins = store.margins(None).await.unwrap();
        assert_eq!(margins.len(), 1, "{margins:?}");
    }
    // The tenant's statement explains its balance line by line.
    let st = b.engine.tenant_statement("end-customer").await.unwrap();
    let whats: Vec<&str> = st.lines.iter().map(|l| l.what.as_str()).collect();
    assert_eq!(whats, ["deposit", "create", "renew", "refund"]);
    assert_eq!(st.deposits - st.charges + st.refunds, st.tenant.balance);
    assert_eq!(st.tenant.balance, end_now);
    let orders = b.engine.tenant_orders("end-customer").await.unwrap();
    assert_eq!(orders.len(), 1);
    assert_eq!(
        orders[0].order.state,
        idcgate_store::TenantOrderState::Refunded
    );
    assert_eq!(orders[0].paid, yuan("1000.00") - end_now);
    // The same views over REST.
    let (_, token) = b
        .engine
        .create_token("test", "viewer", idcgate_store::Scope::Read)
        .await
        .unwrap();
    let (status, text) = http_get(b.addr, "/api/v1/margins?tenant=end-customer", &token).await;
    assert_eq!(status, 200, "{text}");
    let rest: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(rest["items"][0]["product"], "cloud-b");
    let (status, text) = http_get(b.addr, "/api/v1/tenants/end-customer/statement", &token).await;
    assert_eq!(status, 200, "{text}");
    let rest: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(rest["lines"].as_array().unwrap().len(), 4);
    let (status, _) = http_get(b.addr, "/api/v1/tenants/end-customer/orders", &token).await;
    assert_eq!(status, 200);
    let b_margin = &b.store.margins(None).await.unwrap()[0];
    let a_margin = &a.i.store.margins(None).await.unwrap()[0];
    // Before the refund each hop kept what its rule says; the refund gave back to each
    // tenant a share of what it paid, so margins stay positive.
    assert!(b_margin.revenue_fen > 0 && a_margin.revenue_fen > 0);
    b_db.cleanup().await;
}

async fn attacks_are_refused_with_nothing_charged_or_changed(db: &TestDb) {
    let r = reseller(db.reopen().await).await;
    let (appid, appkey) = r.i.tenant("acme", "100.00").await;
    let (other_id, other_key) = r.i.tenant("other", "1000.00").await;
    let other = (other_id.as_str(), other_key.as_str());
    let line = r.product_id.to_string();
    let good_content = r#"{"cpu":1,"ram":1,"months":1}"#;
    let base = |extra: &[(&'static str, String)]| order_form(&appid, &appkey, &line, extra);
    // Everything right but the content.
    let content = |c: &str| base(&[("content", c.to_string())]);
    let servers = r.sim.server_count();
    let refused = |v: &Value| v["code"] == 0;
    let cases: Vec<(&str, Vec<(&'static str, String)>)> = vec![
        (
            "price field",
            base(&[("content", good_content.into()), ("price", "0".into())]),
        ),
        (
            "money field",
            base(&[("content", good_content.into()), ("money", "0.01".into())]),
        ),
        (
            "price in content",
            content(r#"{"cpu":1,"ram":1,"months":1,"price":0}"#),
        ),
        ("zero months", content(r#"{"cpu":1,"ram":1,"months":0}"#)),
        (
            "negative months",
            content(r#"{"cpu":1,"ram":1,"months":-1}"#),
        ),
        (
            "overflowing months",
            content(r#"{"cpu":1,"ram":1,"months":99999999999999999999}"#),
        ),
        (
            "months not sold",
            content(r#"{"cpu":1,"ram":1,"months":2}"#),
        ),
        (
            "two servers",
            content(r#"{"cpu":1,"ram":1,"months":1,"number":2}"#),
        ),
        ("bigger server", content(r#"{"cpu":8,"ram":1,"months":1}"#)),
        (
            "SQL in order_id",
            base(&[
                ("content", good_content.into()),
                ("order_id", "x' OR '1'='1".into()),
            ]),
        ),
        (
            "NUL in order_id",
            base(&[
                ("content", good_content.into()),
                ("order_id", "a\0b".into()),
            ]),
        ),
        ("SQL in line", {
            let mut f = base(&[("content", good_content.into())]);
            f[4].1 = "1 OR 1=1".into();
            f
        }),
        ("SQL in appid", {
            let mut f = base(&[("content", good_content.into())]);
            f[0].1 = "1' OR '1'='1".into();
            f
        }),
        ("NUL in appkey", {
            let mut f = base(&[("content", good_content.into())]);
            f[1].1 = format!("{appkey}\0");
            f
        }),
    ];
    for (what, form) in &cases {
        let v = r.i.post_form(form).await;
        // The SQL-in-order_id case is a legitimate id (stored as data, not run): it may
        // buy; every other case must be refused.
        if *what == "SQL in order_id" {
            continue;
        }
        assert!(refused(&v), "{what}: {v}");
    }
    // The one quoted order_id bought exactly one server, stored verbatim.
    let rows =
        r.i.store
            .list_tenant_orders(&Default::default())
            .await
            .unwrap();
    assert!(rows
        .iter()
        .all(|o| o.order.client_order_id == "x' OR '1'='1"));
    assert!(r.sim.server_count() <= servers + 1);
    let spent = yuan("100.00") - r.i.balance("tenant:acme").await;
    let after_sql = r.sim.server_count();

    // Another tenant's guid: not found, nothing happens to it.
    if let Some(theirs) = rows.first() {
        for action in ["getserver", "server_stop", "server_refund"] {
            let guid = theirs.id.to_string();
            let v = r.i.call(other, action, &[("guid", &guid)]).await;
            assert!(refused(&v), "{action}: {v}");
        }
        let guid = format!("server_{}", theirs.id);
        let extra = [("guid", guid.as_str()), ("renewLength", "1")];
        let v = r.i.call(other, "server_renew", &extra).await;
        assert!(refused(&v), "renew: {v}");
    }
    assert_eq!(r.i.balance("tenant:other").await, yuan("1000.00"));

    // No money: 0 balance, no credit.
    let (poor_id, poor_key) = r.i.tenant("poor", "0").await;
    let content = [("content", good_content.to_string())];
    let v =
        r.i.post_form(&order_form(&poor_id, &poor_key, &line, &content))
            .await;
    assert!(
        refused(&v) && v["msg"].as_str().unwrap().contains("余额不足"),
        "{v}"
    );
    assert_eq!(r.i.balance("tenant:poor").await, Money::ZERO);

    // Suspended: reads, but does not buy.
    r.i.engine.suspend_tenant("test", "other").await.unwrap();
    let v =
        r.i.post_form(&order_form(&other_id, &other_key, &line, &content))
            .await;
    assert!(refused(&v), "{v}");
    let v = r.i.call(other, "getservers", &[]).await;
    assert_eq!(v["code"], 1, "{v}");
    assert_eq!(r.i.balance("tenant:other").await, yuan("1000.00"));
    assert_eq!(r.sim.server_count(), after_sql);
    // What acme spent is exactly what its one order cost.
    let charged: i64 = {
        let mut sum = 0;
        for o in &rows {
            sum +=
                r.i.store
                    .tenant_order_charges(o.id)
                    .await
                    .unwrap()
                    .iter()
                    .map(|c| c.fen)
                    .sum::<i64>();
        }
        sum
    };
    assert_eq!(spent, Money::from_fen(charged));
    assert_books_balance(&r.i.engine).await;
}
