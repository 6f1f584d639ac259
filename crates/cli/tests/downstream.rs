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
//!   tenant, no money, SQL metacharacters and NUL bytes: refused, nothing charged,
//!   for every family's `create_order`;
//! - upgrade and traffic: the client's `resize` through the endpoint pays the catalog's
//!   difference and upgrades the upstream server (the same attacks refused first); the
//!   traffic graph is the simulator's, point for point;
//! - hosting and databases: the client buys (quote = charge), lists, binds domains,
//!   changes passwords, renews and refunds through the endpoint; attacks refused;
//! - the panels: the client runs one scenario (PHP version, proxies, redirects,
//!   backups, SSL, database access and backups) at the simulator and at the endpoint
//!   with the same assertions; a field outside a sub-operation's row is not forwarded,
//!   another tenant's guid and NUL are refused, SQL-looking text is kept as it is; a
//!   site's upgrade is charged through the storefront (line reads, backups deleted by
//!   their id, uploads and the bundled database: `downstream_panel.rs`);
//! - leases and colocation: the client buys (quote = charge), reads, stops, starts,
//!   opens the console, reads the graph, renews and refunds; attacks refused;
//! - console password and firewall rules: the client sets the VNC password and lists,
//!   adds and deletes security policies at the simulator and at the endpoint with the
//!   same assertions; another tenant's guid, another server's rule, malformed values,
//!   SQL metacharacters and NUL bytes refused with nothing changed at the upstream;
//! - units: the client buys a lease and a colocation with more IPs and bandwidth than
//!   the model's and adds more with its `Purchasing` upgrade (`lease_upgrade`,
//!   `idc_upgrade`) at the simulator and at the endpoint: quote = charge, ours the
//!   simulator's plus the catalog's 10 %, the same configurations; the upstream
//!   machine has them; attacks (prices, negative, zero, overflowing, beyond the
//!   maximum, units not sold, the other family, another or a suspended tenant)
//!   refused with nothing charged; the same `client_order_id` is the same upgrade.
//!
//! Where the endpoint answers differently from the simulator, and why:
//! - `getserver`'s `loginPassword` is empty: idcgate keeps no server passwords;
//! - a line sells one fixed configuration (its product's): other disk, bandwidth or
//!   defense values are refused, where the finance system prices them per unit; an
//!   upgrade (`server_upgrade`, the client's `resize`) is to the configuration of
//!   another product on sale, and a line lists only its own package, so the client's
//!   `Purchasing` upgrade by package name finds none;
//! - hosting and database products are each their own line; a site's traffic and a
//!   database's size are the product's (more is refused, not priced); `prefix` is
//!   not used; an upgrade of traffic alone says it is not offered; an upgrade is to another product on sale (a hosting
//!   product is also on the lines of the products that upgrade to it), charged with
//!   the prorated difference rounded down to the fen as the finance system rounds it
//!   (a one-month order's quote is the charge); a panel operation the upstream
//!   refuses is told as a generic upstream refusal, not in the panel's words; logins
//!   and passwords are never shown;
//! - dedicated servers and colocation: each product is its own line of its base
//!   bandwidth, one IP and no defense, plus the units the catalog sells beyond it
//!   (a unit it does not sell: price 0.00, the base as maximum); no power choice;
//!   `ip_num_list` / `defense_num_list` name only the least and the most; an added
//!   unit is charged for the time left rounded down to the fen, as the finance
//!   system rounds it; `pages`
//!   of an order list counts the servers of every family;
//! - `get_security_policy`'s `id` is the rule's place in the list (its `guid`, the
//!   upstream's rule id, is what deleting takes), and `getserver`'s
//!   `securityPolicyList` is empty (`get_security_policy` reads them); a rule and a VNC
//!   password are checked before anything is sent (an address or CIDR block, ports
//!   1-65535, a weight 1-65535, the document's exact words for direction, operation and
//!   protocol; a password of 6-32 visible ASCII characters), where the finance system
//!   documents no checks.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod resale;

use idcgate_core::capability::Connection;
use idcgate_core::purchase::{Operation, PurchaseRequest};
use idcgate_core::{
    Direction, FirewallRule, FirewallRuleSpec, Money, PowerAction, PowerState, ResourceKind,
    RuleProtocol, Verdict,
};
use idcgate_engine::catalog::{PriceRule, ProductSpec};
use idcgate_engine::testing::{
    assert_books_balance, panel_call, ZONKVM_SANDBOX_SYSTEM as SIM_SYSTEM,
};
use idcgate_store::testing::TestDb;
use idcgate_store::{both_backends, TenantOrderStore as _};
use resale::*;
use serde_json::Value;
use std::net::SocketAddr;

both_backends!(
    the_zonkvm_client_meets_the_same_answers_at_the_simulator_and_the_endpoint,
    a_second_instance_resells_through_the_first,
    attacks_are_refused_with_nothing_charged_or_changed,
    the_zonkvm_client_upgrades_and_reads_the_traffic_graph_through_the_endpoint,
    the_zonkvm_client_buys_and_manages_hosting_and_databases_through_the_endpoint,
    the_zonkvm_client_leases_and_colocates_through_the_endpoint,
    the_zonkvm_client_sets_the_console_password_and_firewall_rules_through_the_endpoint,
    the_zonkvm_client_uses_the_hosting_and_database_panels_at_the_simulator_and_the_endpoint,
    the_zonkvm_client_buys_and_adds_units_of_leases_and_colocation_through_the_endpoint,
);

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

async fn http_get(addr: SocketAddr, path: &str, token: &str) -> (u16, String) {
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    http(addr, &req).await
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

/// Renews what `bought` bought (upstream id `id`) for its term through the client's
/// journal path, checking that the quote is the charge; what it cost.
async fn renews(
    seller: &dyn idcgate_core::Purchasing,
    bought: &PurchaseRequest,
    id: &str,
    key: &str,
) -> Money {
    quoted_buy(seller, &renewal(bought, id), key, "the renewal")
        .await
        .amount
}

/// A month of a cloud server of `offer`, installing `system`, labelled `target`.
fn cloud_create(target: &str, offer: &str, system: &str) -> PurchaseRequest {
    PurchaseRequest::new(ResourceKind::Server, Operation::Create, target)
        .offer(offer)
        .months(1)
        .option("system_guid", system)
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
    let create = cloud_create("conformance", offer, system);
    let order = quoted_buy(seller, &create, key, "the create").await;
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
    let renewed = quoted_buy(seller, &renew, &format!("{key}-renew"), "the renewal").await;
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
    let (_sim, _srv, direct) = own_sandbox().await;
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

    let create = cloud_create("chain", "cloud-b", &resold.id.to_string());
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
    let (status, text) = http_get(b.addr, "/api/v1/tenants/end-customer/orders", &token).await;
    assert_eq!(status, 200, "{text}");
    let rest: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(rest["items"].as_array().unwrap().len(), 1, "{text}");
    assert_eq!(rest["total"], 1, "{text}");
    // Paged, and a filter it does not know is refused (both were ignored: QA).
    let orders = |q: &'static str| http_get(b.addr, q, &token);
    let (status, text) = orders("/api/v1/tenants/end-customer/orders?limit=0").await;
    let rest: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (status, rest["items"].as_array().unwrap().len()),
        (200, 0),
        "{text}"
    );
    assert_eq!(rest["total"], 1, "{text}");
    let (status, text) = orders("/api/v1/tenants/end-customer/orders?offset=1").await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains(r#""items":[]"#), "{text}");
    let (status, text) = orders("/api/v1/tenants/end-customer/orders?bogus=1").await;
    assert_eq!(status, 400, "{text}");
    let b_margin = &b.store.margins(None).await.unwrap()[0];
    let a_margin = &a.i.store.margins(None).await.unwrap()[0];
    // Before the refund each hop kept what its rule says; the refund gave back to each
    // tenant a share of what it paid, so margins stay positive.
    assert!(b_margin.revenue_fen > 0 && a_margin.revenue_fen > 0);
    b_db.cleanup().await;
}

async fn attacks_are_refused_with_nothing_charged_or_changed(db: &TestDb) {
    let r = reseller(db.reopen().await).await;
    // Products of every other family, on sale before anyone looks (a tenant's view of
    // the catalog is kept for a minute).
    let mut families = Vec::new();
    for (name, kind, offer, system, obj_type) in [
        (
            "host-x",
            ResourceKind::HostingSite,
            "20250408030033590712",
            None,
            "create_hosting",
        ),
        (
            "db-x",
            ResourceKind::Database,
            "20250407053315151712",
            None,
            "create_database",
        ),
        (
            "lease-x",
            ResourceKind::Server,
            "lease:1721941250649658",
            Some(SIM_SYSTEM),
            "create_lease",
        ),
        (
            "idc-x",
            ResourceKind::Server,
            "idc:20250409132727581219",
            None,
            "create_idc",
        ),
    ] {
        let id =
            r.i.product(name, kind, offer, system, ("10%", "1,12"))
                .await;
        families.push((obj_type, id.to_string()));
    }
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
        // A field given twice was read as one of its copies (QA): 12 months charged
        // where the first copy said 1. Here the copy read would be the affordable one.
        (
            "months twice in content",
            content(r#"{"cpu":1,"ram":1,"months":12,"months":1}"#),
        ),
        (
            "months beside content",
            base(&[
                ("content", r#"{"cpu":1,"ram":1,"months":12}"#.into()),
                ("content[months]", "1".into()),
            ]),
        ),
        (
            "two order ids",
            base(&[
                ("content", good_content.into()),
                ("order_id", "twice-1".into()),
                ("order_id", "twice-2".into()),
            ]),
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

    // Every other family's create_order the same way: a price, bad terms, SQL and NUL
    // bytes, no money, a suspended tenant. Nothing charged, nothing reaches the upstream.
    let sim_orders = r.sim.ledger().len();
    let acme_now = r.i.balance("tenant:acme").await;
    for (obj_type, product) in &families {
        let form = |who: (&str, &str), extra: &[(&str, &str)]| {
            let base = [
                ("appid", who.0),
                ("appkey", who.1),
                ("action", "create_order"),
                ("obj_type", obj_type),
                ("product_guid", product.as_str()),
                ("system_guid", product.as_str()),
                ("content", r#"{"months":1}"#),
            ];
            form_of(&base, extra)
        };
        let acme = (appid.as_str(), appkey.as_str());
        for form in [
            form(acme, &[("price", "0")]),
            form(acme, &[("content", r#"{"months":1,"money":0}"#)]),
            form(acme, &[("content", r#"{"months":0}"#)]),
            form(acme, &[("content", r#"{"months":-1}"#)]),
            form(acme, &[("content", r#"{"months":99999999999999999999}"#)]),
            form(acme, &[("content", r#"{"months":1,"number":2}"#)]),
            form(acme, &[("product_guid", "1' OR '1'='1")]),
            form(acme, &[("order_id", "a\0b")]),
            form((&poor_id, &poor_key), &[]),
            form((&other_id, &other_key), &[]),
        ] {
            let v = r.i.post_form(&form).await;
            assert!(refused(&v), "{obj_type} {form:?}: {v}");
        }
    }
    assert_eq!(r.i.balance("tenant:acme").await, acme_now);
    assert_eq!(r.i.balance("tenant:poor").await, Money::ZERO);
    assert_eq!(r.i.balance("tenant:other").await, yuan("1000.00"));
    assert_eq!(
        r.sim.ledger().len(),
        sim_orders,
        "nothing reached the upstream"
    );
    // The same forms, right, from a tenant with money: each family does sell.
    let (rich_id, rich_key) = r.i.tenant("rich", "5000.00").await;
    for (obj_type, product) in &families {
        let v =
            r.i.call(
                (&rich_id, &rich_key),
                "create_order",
                &[
                    ("obj_type", obj_type),
                    ("product_guid", product),
                    ("system_guid", product),
                    ("content", r#"{"months":1}"#),
                ],
            )
            .await;
        assert_eq!(v["code"], 1, "{obj_type}: {v}");
    }
    assert_books_balance(&r.i.engine).await;
}

async fn the_zonkvm_client_upgrades_and_reads_the_traffic_graph_through_the_endpoint(db: &TestDb) {
    let r = reseller(db.reopen().await).await;
    let (appid, appkey) = r.i.tenant("down", "1000.00").await;
    let (other_id, other_key) = r.i.tenant("other", "1000.00").await;
    let via = client(&r.i.url(), &appid, &appkey);
    let compute = via.compute().unwrap();
    let create = cloud_create("up", "cloud-a", &r.product_id.to_string());
    let order = via
        .purchasing()
        .unwrap()
        .buy(&create, "up-1")
        .await
        .unwrap();
    let id = order.upstream_id.unwrap();
    let guid = id.trim_start_matches("server_").to_string();
    // The line says it takes upgrades; the bigger product's does not.
    let lines = r.i.call((&appid, &appkey), "getlines", &[]).await;
    let status = |line: &str| {
        lines["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["guid"] == line)
            .unwrap()["upgradeStatus"]
            .clone()
    };
    assert_eq!(status(&r.product_id.to_string()), 1);
    assert_eq!(status(&r.bigger_id.to_string()), 0);

    // Refused with nothing charged or sent: a configuration no product sells, a price
    // in the request, another tenant's guid, a suspended tenant, nonsense values.
    let balance = r.i.balance("tenant:down").await;
    let sim_balance = r.sim.balance();
    let resize = |cpu, ram| idcgate_core::Resize {
        cpu: Some(cpu),
        ram_mb: Some(ram),
        ..Default::default()
    };
    assert!(compute.resize(&id, &resize(8, 8192)).await.is_err());
    let upgrade = |extra: &[(&str, &str)]| {
        let base = [
            ("appid", appid.as_str()),
            ("appkey", appkey.as_str()),
            ("action", "server_upgrade"),
            ("guid", guid.as_str()),
            ("cpu", "2"),
            ("memory", "4"),
        ];
        form_of(&base, extra)
    };
    let forms = [
        upgrade(&[("price", "0")]),
        upgrade(&[("money", "0.01")]),
        upgrade(&[("cpu", "-2")]),
        upgrade(&[("memory", "4' OR '1'='1")]),
        upgrade(&[("client_order_id", "a\0b")]),
        upgrade(&[("defense", "10")]),
        upgrade(&[("appid", "0"), ("appkey", "x")]),
        {
            let mut f = upgrade(&[]);
            f[0].1 = other_id.clone();
            f[1].1 = other_key.clone();
            f
        },
    ];
    for form in &forms {
        let v = r.i.post_form(form).await;
        assert_eq!(v["code"], 0, "{form:?}: {v}");
    }
    r.i.engine.suspend_tenant("test", "down").await.unwrap();
    let v = r.i.post_form(&upgrade(&[])).await;
    assert_eq!(v["code"], 0, "suspended: {v}");
    assert_eq!(r.i.balance("tenant:down").await, balance);
    assert_eq!(r.i.balance("tenant:other").await, yuan("1000.00"));
    assert_eq!(r.sim.balance(), sim_balance, "nothing reached the upstream");
    r.i.engine.resume_tenant("test", "down").await.unwrap();

    // The Zonkvm client's resize is `server_upgrade`: the bigger product's configuration.
    compute.resize(&id, &resize(2, 4096)).await.unwrap();
    let s = compute.get_server(&id).await.unwrap();
    assert_eq!((s.cpu, s.ram_mb), (2, 4096));
    let charged = balance - r.i.balance("tenant:down").await;
    assert!(charged > Money::ZERO);
    let rows =
        r.i.store
            .list_tenant_orders(&Default::default())
            .await
            .unwrap();
    let row = rows.iter().find(|o| o.order.tenant == "down").unwrap();
    assert_eq!(row.order.product, "cloud-a-big");
    let charges = r.i.store.tenant_order_charges(row.id).await.unwrap();
    let up = charges.iter().find(|c| c.what == "upgrade").unwrap();
    assert_eq!(Money::from_fen(up.fen), charged);
    // The upstream server was upgraded and paid for.
    let direct = r.upstream();
    let upstream_id = row.resource.clone().unwrap();
    let at_sim = direct
        .compute()
        .unwrap()
        .get_server(&upstream_id)
        .await
        .unwrap();
    assert_eq!((at_sim.cpu, at_sim.ram_mb), (2, 4096));
    assert!(r.sim.balance() < sim_balance);

    // The traffic graph is the upstream's own, point for point.
    let to = jiff::Timestamp::now();
    let from = to - jiff::SignedDuration::from_hours(2);
    let ours = compute.traffic(&id, from, to).await.unwrap();
    let theirs = direct
        .compute()
        .unwrap()
        .traffic(&upstream_id, from, to)
        .await
        .unwrap();
    assert_eq!(ours.len(), 24);
    assert_eq!(ours, theirs);
    let v =
        r.i.post(&[
            ("appid", &other_id),
            ("appkey", &other_key),
            ("action", "get_server_chart"),
            ("guid", &guid),
            ("start_time", &from.as_millisecond().to_string()),
            ("end_time", &to.as_millisecond().to_string()),
        ])
        .await;
    assert_eq!(v["code"], 0, "another tenant's graph: {v}");
    assert_books_balance(&r.i.engine).await;
}

async fn the_zonkvm_client_buys_and_manages_hosting_and_databases_through_the_endpoint(
    db: &TestDb,
) {
    use idcgate_core::SiteAction;
    let r = reseller(db.reopen().await).await;
    let ids =
        r.i.site_products(&[
            ("host-a", ResourceKind::HostingSite, "20250408030033590712"),
            ("db-a", ResourceKind::Database, "20250407053315151712"),
        ])
        .await;
    let (appid, appkey) = r.i.tenant("down", "1000.00").await;
    let (other_id, other_key) = r.i.tenant("other", "1000.00").await;
    let via = client(&r.i.url(), &appid, &appkey);
    let seller = via.purchasing().unwrap();
    let hosting = via.web_hosting().unwrap();

    // Refused with nothing charged: a price, traffic beyond the product's, a term not
    // sold, an unknown product.
    let create = |extra: &[(&str, &str)]| {
        let base = [
            ("appid", appid.as_str()),
            ("appkey", appkey.as_str()),
            ("action", "create_order"),
            ("obj_type", "create_hosting"),
            ("product_guid", ids[0].as_str()),
            ("content", r#"{"months":1}"#),
        ];
        form_of(&base, extra)
    };
    let sim_orders = r.sim.ledger().len();
    for form in [
        create(&[("price", "0")]),
        create(&[("content", r#"{"months":1,"price":"0.01"}"#)]),
        create(&[("content", r#"{"months":1,"flow":100}"#)]),
        create(&[("content", r#"{"months":2}"#)]),
        create(&[("content", r#"{"months":-1}"#)]),
        create(&[("product_guid", "1 OR 1=1")]),
        create(&[("pwd", "a\0b")]),
    ] {
        let v = r.i.post_form(&form).await;
        assert_eq!(v["code"], 0, "{form:?}: {v}");
    }
    assert_eq!(r.i.balance("tenant:down").await, yuan("1000.00"));
    assert_eq!(
        r.sim.ledger().len(),
        sim_orders,
        "nothing reached the upstream"
    );

    // The client buys a site as it buys one at Zonkvm: the quote is the charge.
    let buy = PurchaseRequest::new(ResourceKind::HostingSite, Operation::Create, "site")
        .offer(&ids[0])
        .months(1)
        .option("content.program_version", "php81")
        .option("pwd", "Ftp-Secret-77");
    let order = quoted_buy(seller, &buy, "site-1", "the site").await;
    assert_eq!(
        r.i.balance("tenant:down").await,
        yuan("1000.00") - order.amount
    );
    let id = order.upstream_id.unwrap();
    let sites = hosting.list_sites().await.unwrap();
    assert_eq!(sites.len(), 1);
    assert_eq!(sites[0].upstream_id, id);

    // Management through the endpoint reaches the upstream site.
    hosting
        .site_action(&id, &SiteAction::AddDomain("shop.example.com".into()))
        .await
        .unwrap();
    let domains = hosting
        .site_action(&id, &SiteAction::Domains)
        .await
        .unwrap();
    assert!(
        domains.contains(&"shop.example.com".to_string()),
        "{domains:?}"
    );
    let rows =
        r.i.store
            .list_tenant_orders(&Default::default())
            .await
            .unwrap();
    let upstream = rows[0].resource.clone().unwrap();
    let direct = r.upstream();
    let at_sim = direct
        .web_hosting()
        .unwrap()
        .site_action(&upstream, &SiteAction::Domains)
        .await
        .unwrap();
    assert_eq!(domains, at_sim, "the upstream's own list");
    hosting
        .site_action(&id, &SiteAction::Password("New-Ftp-88".into()))
        .await
        .unwrap();
    // Another tenant reaches none of it.
    for (op, extra) in [
        ("hosting_domain_list", ("x", "")),
        ("hosting_stop", ("x", "")),
        ("hosting_refund", ("x", "")),
        ("hosting_renew", ("renewLength", "1")),
    ] {
        let v =
            r.i.call(
                (&other_id, &other_key),
                "hosting_operate",
                &[("operate", op), ("guid", &id), extra],
            )
            .await;
        assert_eq!(v["code"], 0, "{op}: {v}");
    }
    assert_eq!(r.i.balance("tenant:other").await, yuan("1000.00"));

    // Renewal by the client's own journal path: quote = charge.
    let paid = order.amount + renews(seller, &buy, &id, "site-1-renew").await;
    assert_eq!(r.i.balance("tenant:down").await, yuan("1000.00") - paid);

    // A database, then both given back.
    let db_buy = PurchaseRequest {
        kind: ResourceKind::Database,
        offer: Some(ids[1].clone()),
        options: [("content.code".to_string(), "utf8mb4".to_string())]
            .into_iter()
            .collect(),
        ..buy.clone()
    };
    let db_order = seller.buy(&db_buy, "db-1").await.unwrap();
    let db_id = db_order.upstream_id.unwrap();
    assert_eq!(
        via.databases().unwrap().list_databases().await.unwrap()[0].upstream_id,
        db_id
    );
    via.databases()
        .unwrap()
        .database_action(&db_id, &SiteAction::Password("Db-Secret-99".into()))
        .await
        .unwrap();
    let back = hosting.refund_site(&id).await.unwrap().unwrap();
    let db_back = via
        .databases()
        .unwrap()
        .refund_database(&db_id)
        .await
        .unwrap()
        .unwrap();
    assert!(back > Money::ZERO && back <= paid);
    assert_eq!(
        r.i.balance("tenant:down").await,
        yuan("1000.00") - paid - db_order.amount + back + db_back
    );
    assert_books_balance(&r.i.engine).await;
}

async fn the_zonkvm_client_leases_and_colocates_through_the_endpoint(db: &TestDb) {
    let r = reseller(db.reopen().await).await;
    let mut ids = Vec::new();
    for (name, offer, system) in [
        ("lease-a", "lease:1721941250649658", Some(SIM_SYSTEM)),
        ("idc-a", "idc:20250409132727581219", None),
    ] {
        let server = ResourceKind::Server;
        let id =
            r.i.product(name, server, offer, system, ("10%", "1,12"))
                .await;
        ids.push(id.to_string());
    }
    let (appid, appkey) = r.i.tenant("down", "5000.00").await;
    let (other_id, other_key) = r.i.tenant("other", "1000.00").await;
    let via = client(&r.i.url(), &appid, &appkey);
    let seller = via.purchasing().unwrap();
    let compute = via.compute().unwrap();
    // Each family lists only its own products.
    let list = |action: &'static str| {
        let (appid, appkey, i) = (appid.clone(), appkey.clone(), &r.i);
        async move {
            i.post(&[("appid", &appid), ("appkey", &appkey), ("action", action)])
                .await["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["guid"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list("lease_product").await, [ids[0].clone()]);
    assert_eq!(list("idc_product").await, [ids[1].clone()]);
    assert!(!list("getlines").await.contains(&ids[0]));
    // Systems: each once (the upstream lists an image per region), each saying which
    // family installs it, as the simulator's `support` does.
    let systems = r.i.call((&appid, &appkey), "getsystems", &[]).await["data"]
        .as_array()
        .unwrap()
        .clone();
    let guids: Vec<&str> = systems
        .iter()
        .map(|s| s["guid"].as_str().unwrap())
        .collect();
    let unique: std::collections::HashSet<&&str> = guids.iter().collect();
    assert_eq!(unique.len(), guids.len(), "{guids:?}");
    for (line, family) in [(&ids[0], "lease"), (&ids[1], "idc")] {
        let of_line: Vec<&Value> = systems
            .iter()
            .filter(|s| s["guid"].as_str().unwrap().split(':').next() == Some(line.as_str()))
            .collect();
        assert!(!of_line.is_empty(), "{line}: {systems:?}");
        assert!(
            of_line.iter().all(|s| s["support"] == family),
            "{of_line:?}"
        );
    }

    // Refused with nothing charged: a price, more bandwidth than the product's, a
    // term not sold.
    for content in [
        r#"{"months":1,"price":0}"#,
        r#"{"months":1,"bandwidth":1000}"#,
        r#"{"months":2}"#,
    ] {
        let v =
            r.i.call(
                (&appid, &appkey),
                "create_order",
                &[
                    ("obj_type", "create_lease"),
                    ("product_guid", &ids[0]),
                    ("system_guid", &ids[0]),
                    ("content", content),
                ],
            )
            .await;
        assert_eq!(v["code"], 0, "{content}: {v}");
    }
    assert_eq!(r.i.balance("tenant:down").await, yuan("5000.00"));

    let mut paid = Money::ZERO;
    for (n, (offer, system)) in [
        (format!("lease:{}", ids[0]), Some(ids[0].clone())),
        (format!("idc:{}", ids[1]), None),
    ]
    .into_iter()
    .enumerate()
    {
        let mut buy = PurchaseRequest::new(ResourceKind::Server, Operation::Create, "machine")
            .offer(&offer)
            .months(1);
        if let Some(system) = system {
            buy = buy.option("system_guid", system);
        }
        let order = quoted_buy(seller, &buy, &format!("m-{n}"), &offer).await;
        paid = paid + order.amount;
        let id = order.upstream_id.unwrap();
        let prefix = if n == 0 { "lease_" } else { "idc_" };
        assert!(id.starts_with(prefix), "{id}");
        let s = compute.get_server(&id).await.unwrap();
        assert_eq!(
            s.kind,
            if n == 0 {
                idcgate_core::ServerKind::Dedicated
            } else {
                idcgate_core::ServerKind::Colocation
            }
        );
        compute.power(&id, PowerAction::Stop).await.unwrap();
        assert_eq!(
            compute.get_server(&id).await.unwrap().power,
            PowerState::Stopped
        );
        compute.power(&id, PowerAction::Start).await.unwrap();
        assert!(!compute.console(&id).await.unwrap().url.is_empty());
        let to = jiff::Timestamp::now();
        let graph = compute
            .traffic(&id, to - jiff::SignedDuration::from_hours(1), to)
            .await
            .unwrap();
        assert_eq!(graph.len(), 12);
        // Another tenant, and the cloud action on this family's order: not found.
        let guid = id.trim_start_matches(prefix);
        for (who, key, action) in [
            (&other_id, &other_key, format!("{prefix}stop")),
            (&appid, &appkey, "server_stop".to_string()),
            (&other_id, &other_key, format!("{prefix}refund")),
        ] {
            let v = r.i.call((who, key), &action, &[("guid", guid)]).await;
            assert_eq!(v["code"], 0, "{action}: {v}");
        }
        paid = paid + renews(seller, &buy, &id, &format!("m-{n}-renew")).await;
        assert_eq!(r.i.balance("tenant:down").await, yuan("5000.00") - paid);
        compute.delete_server(&id).await.unwrap();
        let back = yuan("5000.00") - paid;
        assert!(r.i.balance("tenant:down").await > back);
        paid = yuan("5000.00") - r.i.balance("tenant:down").await;
    }
    assert_eq!(r.i.balance("tenant:other").await, yuan("1000.00"));
    assert_books_balance(&r.i.engine).await;
}

/// The Zonkvm client's console password and firewall rules of the cloud server `id`,
/// whichever upstream it is at; the rule that is left.
async fn security_scenario(
    compute: &dyn idcgate_core::capability::Compute,
    id: &str,
) -> FirewallRule {
    compute
        .set_console_password(id, "Vnc-Pass-1")
        .await
        .unwrap();
    assert!(compute.firewall_rules(id).await.unwrap().is_empty());
    let web = FirewallRuleSpec {
        name: "web".into(),
        priority: 20,
        direction: Direction::Inbound,
        protocol: RuleProtocol::Tcp,
        verdict: Verdict::Allow,
        remote: "0.0.0.0/0".into(),
        local_port: "80,443".into(),
    };
    // Quotes in a name are text, kept as they are.
    let odd = FirewallRuleSpec {
        name: "o'brien\"; DROP TABLE rules --".into(),
        priority: 5,
        direction: Direction::Outbound,
        protocol: RuleProtocol::Udp,
        verdict: Verdict::Deny,
        remote: "10.0.0.0/8".into(),
        local_port: "53".into(),
    };
    let added_web = compute.add_firewall_rule(id, &web).await.unwrap();
    let added_odd = compute.add_firewall_rule(id, &odd).await.unwrap();
    assert_eq!((&added_web.spec, &added_odd.spec), (&web, &odd));
    assert!(added_web.created_at.is_some());
    assert_eq!(
        compute.firewall_rules(id).await.unwrap(),
        vec![added_odd.clone(), added_web.clone()],
        "first applied first"
    );
    compute
        .delete_firewall_rule(id, &added_web.id)
        .await
        .unwrap();
    assert_eq!(
        compute.firewall_rules(id).await.unwrap(),
        vec![added_odd.clone()]
    );
    assert!(compute
        .delete_firewall_rule(id, &added_web.id)
        .await
        .is_err());
    added_odd
}

async fn the_zonkvm_client_sets_the_console_password_and_firewall_rules_through_the_endpoint(
    db: &TestDb,
) {
    let r = reseller(db.reopen().await).await;
    // At the simulator, as the reseller's own upstream.
    let (sim, _srv, direct) = own_sandbox().await;
    security_scenario(direct.compute().unwrap(), "server_1001").await;
    assert_eq!(sim.vnc_password(1001).as_deref(), Some("Vnc-Pass-1"));

    // At idcgate's endpoint, as its tenant, on a server it bought.
    let (appid, appkey) = r.i.tenant("down", "1000.00").await;
    let (other_id, other_key) = r.i.tenant("other", "1000.00").await;
    let via = client(&r.i.url(), &appid, &appkey);
    let seller = via.purchasing().unwrap();
    let product = r.product_id.to_string();
    let mut ids = Vec::new();
    for key in ["sec-1", "sec-2"] {
        let order = seller
            .buy(&cloud_create(key, "cloud-a", &product), key)
            .await
            .unwrap();
        ids.push(order.upstream_id.unwrap());
    }
    let mut upstream_ids = Vec::new();
    for id in &ids {
        let guid: i64 = id.trim_start_matches("server_").parse().unwrap();
        let row = r.i.store.get_tenant_order(guid).await.unwrap().unwrap();
        upstream_ids.push(row.resource.unwrap());
    }
    let (up, up2) = (upstream_ids[0].clone(), upstream_ids[1].clone());
    let number = |u: &str| -> i64 { u.trim_start_matches("server_").parse().unwrap() };
    let kept = security_scenario(via.compute().unwrap(), &ids[0]).await;
    assert_eq!(
        r.sim.vnc_password(number(&up)).as_deref(),
        Some("Vnc-Pass-1")
    );
    // The rule is the upstream server's own, as the upstream lists it.
    let upstream = r.upstream();
    let at_sim = upstream.compute().unwrap();
    let theirs = at_sim.firewall_rules(&up).await.unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!((&theirs[0].id, &theirs[0].spec), (&kept.id, &kept.spec));
    // A rule on the tenant's second server, for the attacks below.
    let second = via
        .compute()
        .unwrap()
        .add_firewall_rule(&ids[1], &kept.spec)
        .await
        .unwrap();

    // Refused with nothing changed at the upstream: another tenant's guid, a rule of
    // another server, malformed values, SQL metacharacters and NUL bytes, a price.
    let guid = ids[0].trim_start_matches("server_").to_string();
    let form = |who: (&str, &str), action: &str, extra: &[(&str, &str)]| {
        let base = [
            ("appid", who.0),
            ("appkey", who.1),
            ("action", action),
            ("guid", guid.as_str()),
        ];
        form_of(&base, extra)
    };
    let rule = [
        ("name", "ssh"),
        ("weight", "10"),
        ("direction", "Inbound"),
        ("operation", "allow"),
        ("protocol", "tcp"),
        ("remote_ip", "203.0.113.0/24"),
        ("local_port", "22"),
    ];
    let add =
        |who, extra: &[(&str, &str)]| overridden(form(who, "server_add_hardpolicy", &rule), extra);
    let me = (appid.as_str(), appkey.as_str());
    let them = (other_id.as_str(), other_key.as_str());
    let vnc_before = r.sim.vnc_password(number(&up));
    let i = &r.i;
    let post = |f: Vec<(String, String)>| async move {
        let fields: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        (i.post(&fields).await, f)
    };
    for f in [
        form(them, "server_setvnc", &[("password", "Other-Pass-9")]),
        form(me, "server_setvnc", &[("password", "a\0bcdefgh")]),
        form(me, "server_setvnc", &[("password", "short")]),
        form(me, "server_setvnc", &[("password", "x' OR '1'='1")]),
        form(
            me,
            "server_setvnc",
            &[("password", "Vnc-Pass-2"), ("price", "0")],
        ),
        form(
            me,
            "server_setvnc",
            &[("password", "Vnc-Pass-2"), ("guid", "1' OR '1'='1")],
        ),
        form(them, "get_security_policy", &[]),
        add(them, &[]),
        add(me, &[("remote_ip", "1' OR '1'='1")]),
        add(me, &[("remote_ip", "0.0.0.0/0\0")]),
        add(me, &[("name", "a\0b")]),
        add(me, &[("direction", "inbound")]),
        add(me, &[("operation", "drop")]),
        add(me, &[("protocol", "gre")]),
        add(me, &[("weight", "-1")]),
        add(me, &[("weight", "0")]),
        add(me, &[("local_port", "0")]),
        add(me, &[("local_port", "22; DROP TABLE x")]),
        add(me, &[("money", "0")]),
        form(them, "server_del_hardpolicy", &[("policy_guid", &kept.id)]),
        form(me, "server_del_hardpolicy", &[("policy_guid", &second.id)]),
        form(
            me,
            "server_del_hardpolicy",
            &[("policy_guid", "x' OR '1'='1")],
        ),
        form(me, "server_del_hardpolicy", &[("policy_guid", "SP\0")]),
        form(me, "server_del_hardpolicy", &[]),
    ] {
        let (v, f) = post(f).await;
        assert_eq!(v["code"], 0, "{f:?}: {v}");
    }
    assert_eq!(r.sim.vnc_password(number(&up)), vnc_before);
    assert_eq!(at_sim.firewall_rules(&up).await.unwrap(), theirs);
    assert_eq!(at_sim.firewall_rules(&up2).await.unwrap().len(), 1);
    // Quotes in a password are text: sent as they are, nothing else changes.
    let (v, _) = post(form(me, "server_setvnc", &[("password", "x'OR'1'='1")])).await;
    assert_eq!(v["code"], 1, "{v}");
    assert_eq!(
        r.sim.vnc_password(number(&up)).as_deref(),
        Some("x'OR'1'='1")
    );
    // The list in the document's shape: the allow/deny in `action`, the tenant's guid.
    let (v, _) = post(form(me, "get_security_policy", &[])).await;
    let row = &v["data"][0];
    assert_eq!(
        (
            row["guid"].as_str(),
            row["action"].as_str(),
            row["direction"].as_str()
        ),
        (Some(kept.id.as_str()), Some("deny"), Some("Outbound"))
    );
    assert_eq!(row["product_id"].as_i64(), guid.parse().ok());
    assert_books_balance(&r.i.engine).await;
}

/// What the panel scenario read back, compared between the simulator and the endpoint.
#[derive(Debug, PartialEq)]
struct PanelSeen {
    proxy_file: Value,
    redirect_rows: usize,
    ssl: Value,
    access: Value,
    backup_progress: Value,
}

/// A SQL-looking proxy name: stored and shown as it is, never interpreted.
const SQLISH: &str = "p'; DROP TABLE tenant_orders;--";

/// The Zonkvm client's use of one site's and one database's panels at an upstream,
/// whichever it is: PHP version, proxies, redirects, backups, SSL, database access and
/// backups, each checked by reading back.
async fn panel_scenario(conn: &dyn Connection, site: &str, db: &str) -> PanelSeen {
    let hosting = conn.web_hosting().unwrap();
    let dbs = conn.databases().unwrap();
    let h = |op: &'static str, fields: &'static [(&'static str, &'static str)]| {
        let call = panel_call(op, fields);
        async move { hosting.site_panel(site, &call).await }
    };
    h("hosting_set_php_version", &[("version", "php74")])
        .await
        .unwrap();
    assert!(
        h("hosting_set_php_version", &[("version", "php99")])
            .await
            .is_err(),
        "a version the line does not offer"
    );

    // Proxies: create, list, read the file, delete.
    let proxy = format!(
        r#"{{"proxyname":"{}","proxysite":"http://127.0.0.1:8080","todomain":"$host","proxydir":"/api/","cache":0}}"#,
        SQLISH.replace('"', "\\\"")
    );
    hosting
        .site_panel(
            site,
            &panel_call("hosting_create_proxy", &[("proxyData", &proxy)]),
        )
        .await
        .unwrap();
    let rows = h("hosting_get_proxy_list", &[]).await.unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["proxyname"], SQLISH, "kept as it is");
    assert_eq!(rows[0]["proxysite"], "http://127.0.0.1:8080");
    let file = hosting
        .site_panel(
            site,
            &panel_call("hosting_get_proxy_file", &[("proxyname", SQLISH)]),
        )
        .await
        .unwrap();
    assert!(
        file["content"]
            .as_str()
            .unwrap()
            .contains("proxy_pass http://127.0.0.1:8080;"),
        "{file}"
    );
    hosting
        .site_panel(
            site,
            &panel_call("hosting_delete_proxy", &[("proxyname", SQLISH)]),
        )
        .await
        .unwrap();
    assert_eq!(
        h("hosting_get_proxy_list", &[]).await.unwrap(),
        Value::Array(vec![])
    );

    // Redirects: create (the panel names it), list, delete.
    h(
        "hosting_create_redirect",
        &[(
            "post",
            r#"{"redirectdomain":"old.example.com","redirecttype":301,"type":"1","domainorpath":"domain","holdpath":1,"tourl":"https://new.example.com"}"#,
        )],
    )
    .await
    .unwrap();
    let redirects = h("hosting_get_redirect_list", &[]).await.unwrap();
    let redirects = redirects.as_array().unwrap().clone();
    assert_eq!(redirects.len(), 1, "{redirects:?}");
    assert_eq!(redirects[0]["tourl"], "https://new.example.com");
    let name = redirects[0]["redirectname"].as_str().unwrap().to_string();
    hosting
        .site_panel(
            site,
            &panel_call("hosting_delete_redirect", &[("redirectname", &name)]),
        )
        .await
        .unwrap();
    assert_eq!(
        h("hosting_get_redirect_list", &[]).await.unwrap(),
        Value::Array(vec![])
    );

    // A full backup, listed.
    h("hosting_to_backup", &[]).await.unwrap();
    let backups = h("hosting_backup_list", &[]).await.unwrap();
    assert_eq!(backups.as_array().unwrap().len(), 1, "{backups}");

    // SSL: a PEM key and certificate (several lines each), then forced HTTPS.
    let cert = include_str!("../../vendors/zonkvm/tests/fixtures/site.crt");
    let key = include_str!("../../vendors/zonkvm/tests/fixtures/site.key");
    hosting
        .site_panel(
            site,
            &panel_call(
                "hosting_set_ssl",
                &[("type", "1"), ("key", key), ("csr", cert)],
            ),
        )
        .await
        .unwrap();
    let ssl = h("hosting_get_ssl", &[]).await.unwrap();
    assert_eq!(ssl["status"], true, "{ssl}");
    assert_eq!(ssl["issuer"], "Zonk Test CA");
    h("hosting_http_to_https", &[]).await.unwrap();
    h("hosting_close_to_https", &[]).await.unwrap();

    // The database: who may connect (a newline-separated list), a backup and its
    // progress, the backup deleted.
    let d = |op: &'static str, fields: &[(&str, &str)]| {
        let call = panel_call(op, fields);
        async move { dbs.database_panel(db, &call).await }
    };
    d(
        "sql_set_access",
        &[("dataAccess", "ip"), ("access", "10.0.0.1\n10.0.0.2")],
    )
    .await
    .unwrap();
    let access = d("sql_get_access", &[]).await.unwrap();
    assert_eq!(access["msg"], "10.0.0.1,10.0.0.2", "{access}");
    d("sql_to_backup", &[]).await.unwrap();
    let progress = d("sql_get_backup_size", &[]).await.unwrap();
    let list = d("sql_backup_list", &[]).await.unwrap();
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "{list:?}");
    let bak = list[0]["id"].to_string().trim_matches('"').to_string();
    d("sql_del_backup", &[("bak_guid", &bak)]).await.unwrap();
    assert_eq!(
        d("sql_backup_list", &[]).await.unwrap(),
        Value::Array(vec![])
    );
    assert!(
        d("sql_del_backup", &[("bak_guid", &bak)]).await.is_err(),
        "a backup deleted twice"
    );
    PanelSeen {
        proxy_file: file,
        redirect_rows: redirects.len(),
        ssl,
        access,
        backup_progress: progress,
    }
}

async fn the_zonkvm_client_uses_the_hosting_and_database_panels_at_the_simulator_and_the_endpoint(
    db: &TestDb,
) {
    let r = reseller(db.reopen().await).await;
    let upstream_offers = ("20250408030033590712", "20250407053315151712");
    let ids =
        r.i.site_products(&[
            ("host-a", ResourceKind::HostingSite, upstream_offers.0),
            ("db-a", ResourceKind::Database, upstream_offers.1),
            ("host-b", ResourceKind::HostingSite, "20250408030033590713"),
        ])
        .await;
    let direct = r.upstream();
    let (appid, appkey) = r.i.tenant("down", "1000.00").await;
    let (other_id, other_key) = r.i.tenant("other", "1000.00").await;
    let via = client(&r.i.url(), &appid, &appkey);

    // The same scenario at the simulator (the reseller's own upstream) and, as a
    // tenant, at the endpoint.
    let (sim_site, sim_db) = site_and_database(&*direct, upstream_offers, "panel-sim").await;
    let at_sim = panel_scenario(&*direct, &sim_site, &sim_db).await;
    let (site, dbid) = site_and_database(&*via, (&ids[0], &ids[1]), "panel-us").await;
    let after_buying = r.i.balance("tenant:down").await;
    let sim_records = r.sim.ledger().len();
    let at_us = panel_scenario(&*via, &site, &dbid).await;
    assert_eq!(at_us, at_sim);

    // What the endpoint did landed on the tenant's own upstream site.
    let rows =
        r.i.store
            .list_tenant_orders(&Default::default())
            .await
            .unwrap();
    let upstream_site = rows
        .iter()
        .find(|t| t.order.kind == ResourceKind::HostingSite)
        .and_then(|t| t.resource.clone())
        .unwrap();
    let php = |id: String| {
        let direct = direct.clone();
        async move {
            let v = direct
                .call("gethosting", &vec![("guid".to_string(), id)])
                .await
                .unwrap();
            v["program_version"].as_str().unwrap().to_string()
        }
    };
    assert_eq!(php(upstream_site.clone()).await, "php74");
    assert_eq!(php(sim_site.clone()).await, "php74");

    let at_sim_proxies = || {
        let direct = direct.clone();
        let upstream_site = upstream_site.clone();
        async move {
            direct
                .web_hosting()
                .unwrap()
                .site_panel(&upstream_site, &panel_call("hosting_get_proxy_list", &[]))
                .await
                .unwrap()
        }
    };

    // A field outside the sub-operation's list, at the top or inside its JSON, is not
    // forwarded; the proxy is made without it.
    let v =
        r.i.post_form(&panel_form(
            (&appid, &appkey),
            "hosting_create_proxy",
            vec![
                ("guid", site.clone()),
                (
                    "proxyData",
                    r#"{"proxyname":"p2","proxysite":"http://10.0.0.9","injected":"yes"}"#.into(),
                ),
                ("proxyData[advanced]", "1".into()),
                ("proxyData[smuggled]", "1".into()),
            ],
        ))
        .await;
    assert_eq!(v["code"], 1, "{v}");
    let listed = at_sim_proxies().await;
    let row = listed.as_array().unwrap()[0].as_object().unwrap().clone();
    assert_eq!(row["proxyname"], "p2");
    assert_eq!(row["advanced"], 1, "a listed child is forwarded: {row:?}");
    for k in ["injected", "smuggled"] {
        assert!(!row.contains_key(k), "{k} reached the upstream: {row:?}");
    }

    // Another tenant's guid: refused, nothing changed upstream.
    for (op, extra) in [
        ("hosting_get_proxy_list", vec![]),
        (
            "hosting_delete_proxy",
            vec![("proxyname", "p2".to_string())],
        ),
        ("hosting_get_ssl", vec![]),
    ] {
        let mut extra = extra;
        extra.push(("guid", site.clone()));
        let v =
            r.i.post_form(&panel_form((&other_id, &other_key), op, extra))
                .await;
        assert_eq!(v["code"], 0, "{op}: {v}");
        assert_eq!(v["msg"], "订单不存在", "{op}: {v}");
    }
    assert_eq!(at_sim_proxies().await.as_array().unwrap().len(), 1);

    // NUL and other control characters are refused before anything is sent; SQL-looking
    // text was kept as it is above.
    for bad in ["p3\0", "p3\u{1}"] {
        let v =
            r.i.post_form(&panel_form(
                (&appid, &appkey),
                "hosting_delete_proxy",
                vec![("guid", site.clone()), ("proxyname", bad.into())],
            ))
            .await;
        assert_eq!(v["code"], 0, "{v}");
    }
    let v =
        r.i.post_form(&panel_form(
            (&appid, &appkey),
            "hosting_create_proxy",
            vec![
                ("guid", site.clone()),
                (
                    "proxyData",
                    "{\"proxyname\":\"p4\",\"proxysite\":\"http://x\u{0}\"}".into(),
                ),
            ],
        ))
        .await;
    assert_eq!(v["code"], 0, "{v}");
    assert_eq!(at_sim_proxies().await.as_array().unwrap().len(), 1);

    // The tenant paid for what it bought, nothing for the panel; nor did the reseller.
    assert_eq!(r.i.balance("tenant:down").await, after_buying);
    assert_eq!(r.sim.ledger().len(), sim_records);

    // An upgrade is money: refused as another tenant, as traffic alone, or to a
    // product that is no upgrade, with nothing charged; then the client's own journal
    // path moves the site to the dearer product.
    for (who, extra) in [
        (
            (other_id.as_str(), other_key.as_str()),
            vec![("new_product_guid", ids[2].clone())],
        ),
        (
            (appid.as_str(), appkey.as_str()),
            vec![("flow", "50".to_string())],
        ),
        (
            (appid.as_str(), appkey.as_str()),
            vec![("new_product_guid", ids[0].clone())],
        ),
        (
            (appid.as_str(), appkey.as_str()),
            vec![("new_product_guid", ids[1].clone())],
        ),
    ] {
        let mut extra = extra;
        extra.push(("guid", site.clone()));
        let v =
            r.i.post_form(&panel_form(who, "hosting_upgrade", extra.clone()))
                .await;
        assert_eq!(v["code"], 0, "{extra:?}: {v}");
    }
    assert_eq!(r.i.balance("tenant:down").await, after_buying);
    assert_eq!(r.sim.ledger().len(), sim_records);
    let seller = via.purchasing().unwrap();
    let upgrade = PurchaseRequest::new(ResourceKind::HostingSite, Operation::Upgrade, &site)
        .offer(&ids[2])
        .months(1);
    // Both round a prorated difference down to the fen: for a one-month order the
    // client's quote is the charge.
    let up = quoted_buy(seller, &upgrade, "panel-us-upgrade", "the upgrade").await;
    assert!(up.amount > Money::ZERO);
    assert_eq!(r.i.balance("tenant:down").await, after_buying - up.amount);
    let row = direct
        .call(
            "gethosting",
            &vec![("guid".to_string(), upstream_site.clone())],
        )
        .await
        .unwrap();
    assert_eq!(row["product_guid"], "20250408030033590713", "{row}");
    assert_books_balance(&r.i.engine).await;
}

/// What the Zonkvm client paid for a machine with more IPs and bandwidth than its
/// model's, and for more of both later, at one upstream (the simulator or idcgate).
struct UnitsSeen {
    bought: Money,
    upgraded: Money,
    /// (IPs, Mbps) after the purchase and after the upgrade, as the upstream shows them.
    configs: [(usize, u32); 2],
    id: String,
}

/// The Zonkvm client buys `offer` with `ips` IPs and `bandwidth` Mbps (the document's
/// absolute values), then adds `more_ips` IPs and 30 Mbps through `Purchasing`'s
/// upgrade, each quote being the charge.
async fn units_scenario(
    conn: &dyn Connection,
    offer: &str,
    system: Option<&str>,
    (ip_key, ips, bandwidth, more_ips): (&str, usize, u32, usize),
    key: &str,
) -> UnitsSeen {
    let seller = conn.purchasing().unwrap();
    let compute = conn.compute().unwrap();
    let mut buy = PurchaseRequest::new(ResourceKind::Server, Operation::Create, "units")
        .offer(offer)
        .months(1)
        .option(ip_key, ips.to_string())
        .option("content.bandwidth", bandwidth.to_string());
    if let Some(system) = system {
        buy = buy.option("system_guid", system);
    }
    let order = quoted_buy(seller, &buy, key, offer).await;
    let id = order.upstream_id.unwrap();
    let s = compute.get_server(&id).await.unwrap();
    let first = (s.ips.len(), s.bandwidth_mbps);
    let upgrade = PurchaseRequest::new(ResourceKind::Server, Operation::Upgrade, &id)
        .months(0)
        .option("ipnumAdd", more_ips.to_string())
        .option("bandwidthAdd", "30");
    let up = quoted_buy(seller, &upgrade, &format!("{key}-up"), offer).await;
    let s = compute.get_server(&id).await.unwrap();
    UnitsSeen {
        bought: order.amount,
        upgraded: up.amount,
        configs: [first, (s.ips.len(), s.bandwidth_mbps)],
        id,
    }
}

async fn the_zonkvm_client_buys_and_adds_units_of_leases_and_colocation_through_the_endpoint(
    db: &TestDb,
) {
    use idcgate_engine::catalog::ProductUnit;
    let r = reseller(db.reopen().await).await;
    let (_sim, _srv, direct) = own_sandbox().await;
    let (appid, appkey) = r.i.tenant("down", "20000.00").await;
    let (other_id, other_key) = r.i.tenant("other", "1000.00").await;
    let via = client(&r.i.url(), &appid, &appkey);
    // (name, the simulator's offer, its system, units sold, the document's IP key,
    // IPs and Mbps bought, IPs added)
    let families = [
        (
            "lease-u",
            "lease:1721941250649658",
            Some(SIM_SYSTEM),
            ["ip=8", "bandwidth=100"],
            ("content.ip_num", 3, 60, 3),
            "lease",
        ),
        (
            "idc-u",
            "idc:20250409132727581219",
            None,
            ["ip=4", "bandwidth=100"],
            ("content.ipnum", 2, 80, 1),
            "idc",
        ),
    ];
    let plus = |m: Money| idcgate_engine::catalog::round_to_fen(m.0 * yuan("1.10").0);
    // Every product and its units on sale before the tenant looks (its view of the
    // catalog is kept for a minute).
    let mut ids = Vec::new();
    for (name, offer, system, units, _, _) in &families {
        ids.push(
            r.i.product(name, ResourceKind::Server, offer, *system, ("10%", "1,12"))
                .await,
        );
        let units = units
            .iter()
            .map(|u| ProductUnit::parse(u).unwrap())
            .collect();
        r.i.engine
            .set_product_units("test", name, units)
            .await
            .unwrap();
    }
    for (n, (name, offer, system, _, config, prefix)) in families.into_iter().enumerate() {
        let id = ids[n];
        let ours = format!("{prefix}:{id}");
        let our_system = system.map(|_| id.to_string());
        let at_sim = units_scenario(&*direct, offer, system, config, &format!("s-{n}")).await;
        let at_us = units_scenario(
            &*via,
            &ours,
            our_system.as_deref(),
            config,
            &format!("u-{n}"),
        )
        .await;
        // The same catalog data: our prices are the simulator's plus 10%, to the fen,
        // and the machines have what was asked for at both.
        assert_eq!(at_us.bought, plus(at_sim.bought), "{name}");
        assert_eq!(at_us.upgraded, plus(at_sim.upgraded), "{name}");
        assert!(at_us.upgraded > Money::ZERO);
        assert_eq!(at_us.configs, at_sim.configs, "{name}");
        let (_, ips, bandwidth, more) = config;
        assert_eq!(
            at_us.configs,
            [(ips, bandwidth), (ips + more, bandwidth + 30)],
            "{name}"
        );
        // The upstream machine behind ours has them too.
        let rows =
            r.i.store
                .list_tenant_orders(&Default::default())
                .await
                .unwrap();
        let guid = at_us
            .id
            .trim_start_matches(&format!("{prefix}_"))
            .to_string();
        let row = rows.iter().find(|o| o.id.to_string() == guid).unwrap();
        let upstream = r
            .upstream()
            .compute()
            .unwrap()
            .get_server(row.resource.as_deref().unwrap())
            .await
            .unwrap();
        assert_eq!(
            (upstream.ips.len(), upstream.bandwidth_mbps),
            at_us.configs[1]
        );

        // Refused with nothing charged or sent: a price, negative, zero, overflowing
        // or non-numeric increments, beyond the product's maximum, a unit it does not
        // sell, the other family's action, another tenant, a suspended tenant.
        let balance = r.i.balance("tenant:down").await;
        let sim_balance = r.sim.balance();
        let action = format!("{prefix}_upgrade");
        let other_family = if prefix == "lease" {
            "idc_upgrade"
        } else {
            "lease_upgrade"
        };
        let call = |who: (&str, &str), action: &str, extra: &[(&'static str, &str)]| {
            let mut f = vec![
                ("appid", who.0.to_string()),
                ("appkey", who.1.to_string()),
                ("action", action.to_string()),
                ("guid", guid.clone()),
            ];
            for (k, v) in extra {
                f.push((*k, v.to_string()));
            }
            f
        };
        let down = (appid.as_str(), appkey.as_str());
        let forms = [
            call(down, &action, &[("ipnumAdd", "1"), ("price", "0")]),
            call(down, &action, &[("ipnumAdd", "1"), ("money", "0.01")]),
            call(down, &action, &[("ipnumAdd", "-1")]),
            call(down, &action, &[("ipnumAdd", "0")]),
            call(down, &action, &[]),
            call(down, &action, &[("ipnumAdd", "99999999999999999999")]),
            call(down, &action, &[("bandwidthAdd", "1' OR '1'='1")]),
            call(down, &action, &[("ipnumAdd", "9")]),
            call(down, &action, &[("bandwidthAdd", "71")]),
            call(down, &action, &[("defenseAdd", "10")]),
            call(down, other_family, &[("ipnumAdd", "1")]),
            call((&other_id, &other_key), &action, &[("ipnumAdd", "1")]),
        ];
        for form in &forms {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let v = r.i.post(&form).await;
            assert_eq!(v["code"], 0, "{form:?}: {v}");
        }
        r.i.engine.suspend_tenant("test", "down").await.unwrap();
        let form = call(down, &action, &[("ipnumAdd", "1")]);
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(r.i.post(&form).await["code"], 0, "suspended");
        r.i.engine.resume_tenant("test", "down").await.unwrap();
        // create_order beyond the units sold, below the base, defense not sold.
        let ip_key = config.0.trim_start_matches("content.");
        for content in [
            format!(r#"{{"months":1,"bandwidth":{}}}"#, bandwidth - 30 + 101),
            format!(r#"{{"months":1,"{ip_key}":0}}"#),
            r#"{"months":1,"defense":10}"#.to_string(),
            format!(r#"{{"months":1,"{ip_key}":2,"price":1}}"#),
        ] {
            let mut f = vec![
                ("appid", appid.clone()),
                ("appkey", appkey.clone()),
                ("action", "create_order".to_string()),
                ("obj_type", format!("create_{prefix}")),
                ("product_guid", id.to_string()),
                ("content", content.clone()),
            ];
            if prefix == "lease" {
                f.push(("system_guid", id.to_string()));
            }
            let v = r.i.post_form(&f).await;
            assert_eq!(v["code"], 0, "{content}: {v}");
        }
        assert_eq!(r.i.balance("tenant:down").await, balance);
        assert_eq!(r.i.balance("tenant:other").await, yuan("1000.00"));
        assert_eq!(r.sim.balance(), sim_balance, "nothing reached the upstream");

        // The same client_order_id again (lease_upgrade takes one): the same upgrade,
        // nothing charged again, answered with what the first charged (as the
        // simulator replays its first answer).
        if prefix == "lease" {
            let form = call(
                down,
                &action,
                &[("ipnumAdd", "1"), ("client_order_id", "u-0-up")],
            );
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let v = r.i.post(&form).await;
            assert_eq!(v["code"], 0, "another upgrade under a used id: {v}");
            let form = call(
                down,
                &action,
                &[
                    ("ipnumAdd", "3"),
                    ("bandwidthAdd", "30"),
                    ("client_order_id", "u-0-up"),
                ],
            );
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let v = r.i.post(&form).await;
            assert_eq!(v["code"], 1, "{v}");
            let money: Money = v["data"]["money"].as_str().unwrap().parse().unwrap();
            assert_eq!(money, at_us.upgraded, "{v}");
            assert_eq!(r.i.balance("tenant:down").await, balance);
            assert_eq!(r.sim.balance(), sim_balance);
        }
    }
    assert_books_balance(&r.i.engine).await;
}
