//! Cloud servers with bandwidth and defense beyond their package through the downstream
//! endpoint (issue #11), on SQLite and PostgreSQL: the Zonkvm client buys a cloud
//! server with more bandwidth and defense and adds more with its `Purchasing` upgrade
//! at the simulator and at the endpoint (quote = charge, ours the simulator's plus the
//! catalog's 15 %, the same bandwidth, defense from 0 where the simulator's package has
//! 5); `getlines` shows the tenant's unit prices and limits, `getserver` the base plus
//! the units; the upstream server behind ours has what was sold; hostile
//! `server_upgrade` and `create_order` values are refused with nothing charged; the
//! same `client_order_id` is the same upgrade, charged once.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod resale;

use idcgate_core::capability::Connection;
use idcgate_core::purchase::{Operation, PurchaseRequest};
use idcgate_core::{Money, ResourceKind};
use idcgate_engine::catalog::ProductUnit;
use idcgate_engine::testing::assert_books_balance;
use idcgate_engine::testing::ZONKVM_SANDBOX_SYSTEM as SIM_SYSTEM;
use idcgate_store::testing::TestDb;
use idcgate_store::{both_backends, TenantOrderStore as _};
use resale::{client, own_sandbox, quoted_buy, reseller, yuan, Reseller};
use serde_json::Value;

both_backends!(the_zonkvm_client_buys_and_adds_cloud_bandwidth_and_defense_through_the_endpoint,);

/// What the Zonkvm client paid for a cloud server with 5 Mbps and 10 G more than its
/// package, and for 20 Mbps and 15 G more later, at one upstream.
struct Seen {
    bought: Money,
    upgraded: Money,
    /// (bandwidth, defense) after the purchase and after the upgrade, as `getserver`
    /// shows them.
    configs: [(i64, i64); 2],
    id: String,
}

async fn getserver(conn: &dyn Connection, id: &str) -> Value {
    let guid = id.trim_start_matches("server_").to_string();
    conn.call("getserver", &vec![("guid".to_string(), guid)])
        .await
        .unwrap()
}

fn config(s: &Value) -> (i64, i64) {
    (
        s["bandwidth"].as_i64().unwrap(),
        s["defense"].as_i64().unwrap(),
    )
}

async fn scenario(conn: &dyn Connection, offer: &str, system: &str, key: &str) -> Seen {
    let seller = conn.purchasing().unwrap();
    let buy = PurchaseRequest::new(ResourceKind::Server, Operation::Create, "cu")
        .offer(offer)
        .months(1)
        .option("system_guid", system)
        .option("units.bandwidth", "5")
        .option("units.defense", "10");
    let order = quoted_buy(seller, &buy, key, offer).await;
    let id = order.upstream_id.unwrap();
    let first = config(&getserver(conn, &id).await);
    let upgrade = PurchaseRequest::new(ResourceKind::Server, Operation::Upgrade, &id)
        .months(0)
        .option("units.bandwidth", "20")
        .option("units.defense", "15");
    let up = quoted_buy(seller, &upgrade, &format!("{key}-up"), offer).await;
    let s = getserver(conn, &id).await;
    assert_eq!(
        (s["cpu"].as_i64(), s["memory"].as_i64()),
        (Some(1), Some(1))
    );
    Seen {
        bought: order.amount,
        upgraded: up.amount,
        configs: [first, config(&s)],
        id,
    }
}

/// The cloud product `cloud-u` (the sandbox's 1C1G at cost + 15 %) selling up to 50
/// more Mbps and 30 more G; its id.
async fn cloud_u(r: &Reseller) -> i64 {
    let id =
        r.i.product(
            "cloud-u",
            ResourceKind::Server,
            "德阳电信-1核1G",
            Some(SIM_SYSTEM),
            ("15%", "1,3,12"),
        )
        .await;
    let units = ["bandwidth=50", "defense=30"]
        .iter()
        .map(|u| ProductUnit::parse(u).unwrap())
        .collect();
    r.i.engine
        .set_product_units("test", "cloud-u", units)
        .await
        .unwrap();
    id
}

async fn the_zonkvm_client_buys_and_adds_cloud_bandwidth_and_defense_through_the_endpoint(
    db: &TestDb,
) {
    let r = reseller(db.reopen().await).await;
    let product = cloud_u(&r).await;
    let pid = product.to_string();
    let (_sim, _srv, direct) = own_sandbox().await;
    let (appid, appkey) = r.i.tenant("down", "20000.00").await;
    let (other_id, other_key) = r.i.tenant("other", "1000.00").await;
    let down = (appid.as_str(), appkey.as_str());
    let via = client(&r.i.url(), &appid, &appkey);

    // The line: the package's 5 Mbps up to 55 at 10.35 a Mbps, defense from 0 up to
    // 30 at 2.30 a G, open to upgrades.
    let lines = r.i.call(down, "getlines", &[]).await;
    let line = lines["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["guid"] == pid.as_str())
        .unwrap()
        .clone();
    let shown: Vec<String> = [
        "bandwidthMinSize",
        "bandwidthMaxSize",
        "bandwidth6Price",
        "defenseMinSize",
        "defenseMaxSize",
        "defensePrice",
        "upgradeStatus",
    ]
    .iter()
    .map(|k| line[*k].to_string())
    .collect();
    assert_eq!(
        shown,
        ["5", "55", "\"10.35\"", "0", "30", "\"2.30\"", "1"],
        "{line}"
    );

    // The same scenario at the simulator and at the endpoint.
    let at_sim = scenario(&*direct, "德阳电信-1核1G", SIM_SYSTEM, "s-1").await;
    let at_us = scenario(&*via, "cloud-u", &pid, "u-1").await;
    let plus = |m: Money| idcgate_engine::catalog::round_to_fen(m.0 * yuan("1.15").0);
    assert_eq!(at_sim.bought, yuan("94.00"));
    assert_eq!(at_us.bought, plus(at_sim.bought));
    assert!(at_sim.upgraded > Money::ZERO);
    assert_eq!(at_us.upgraded, plus(at_sim.upgraded));
    // The simulator's package has 5 G of its own; ours shows only what was sold.
    assert_eq!(at_sim.configs, [(10, 15), (30, 30)]);
    assert_eq!(at_us.configs, [(10, 10), (30, 25)]);
    // The upstream server behind ours has them (its package's 5 G besides).
    let guid = at_us.id.trim_start_matches("server_").to_string();
    let rows =
        r.i.store
            .list_tenant_orders(&Default::default())
            .await
            .unwrap();
    let row = rows.iter().find(|o| o.id.to_string() == guid).unwrap();
    let upstream = r.upstream();
    let behind = getserver(&*upstream, row.resource.as_deref().unwrap()).await;
    assert_eq!(config(&behind), (30, 30));
    // getservers shows it as getserver does.
    let listed = r.i.call(down, "getservers", &[]).await;
    let ours = listed["data"]["servers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"].as_i64() == guid.parse().ok())
        .unwrap()
        .clone();
    assert_eq!(config(&ours), (30, 25), "{ours}");

    // Refused with nothing charged or sent: a price, less than now, no change, beyond
    // the maximum, overflowing, not a number, negative, more CPU with it (no product
    // has that configuration), another tenant's order; and create_order beyond the
    // maximum, below the base, an IP, a price.
    let balance = r.i.balance("tenant:down").await;
    let sim_balance = r.sim.balance();
    let upgrade = |who: (&str, &str), extra: &[(&'static str, &'static str)]| {
        let mut f = vec![
            ("appid", who.0.to_string()),
            ("appkey", who.1.to_string()),
            ("action", "server_upgrade".to_string()),
            ("guid", guid.clone()),
        ];
        f.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        f
    };
    let other = (other_id.as_str(), other_key.as_str());
    let forms = [
        upgrade(down, &[("bandwidth", "31"), ("price", "0")]),
        upgrade(down, &[("bandwidth", "31"), ("money", "0.01")]),
        upgrade(down, &[("bandwidth", "29")]),
        upgrade(down, &[("defense", "24")]),
        upgrade(down, &[("bandwidth", "30"), ("defense", "25")]),
        upgrade(down, &[]),
        upgrade(down, &[("bandwidth", "56")]),
        upgrade(down, &[("defense", "31")]),
        upgrade(down, &[("bandwidth", "99999999999999999999")]),
        upgrade(down, &[("bandwidth", "9223372036854775807")]),
        upgrade(down, &[("defense", "1' OR '1'='1")]),
        upgrade(down, &[("defense", "-1")]),
        upgrade(down, &[("bandwidth", "31"), ("cpu", "2")]),
        upgrade(other, &[("bandwidth", "31")]),
    ];
    for form in &forms {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let v = r.i.post(&form).await;
        assert_eq!(v["code"], 0, "{form:?}: {v}");
    }
    for content in [
        r#"{"months":1,"bandwidth":56}"#,
        r#"{"months":1,"bandwidth":4}"#,
        r#"{"months":1,"defense":31}"#,
        r#"{"months":1,"defense":-1}"#,
        r#"{"months":1,"bandwidth":"x"}"#,
        r#"{"months":1,"ip_num":2}"#,
        r#"{"months":1,"bandwidth":6,"price":1}"#,
    ] {
        let v =
            r.i.call(
                down,
                "create_order",
                &[
                    ("obj_type", "create_server"),
                    ("line_guid", &pid),
                    ("system_guid", &pid),
                    ("order_id", "bad"),
                    ("content", content),
                ],
            )
            .await;
        assert_eq!(v["code"], 0, "{content}: {v}");
    }
    assert_eq!(r.i.balance("tenant:down").await, balance);
    assert_eq!(r.i.balance("tenant:other").await, yuan("1000.00"));
    assert_eq!(r.sim.balance(), sim_balance, "nothing reached the upstream");

    // One more Mbps under a client_order_id, charged once: asked again (the
    // configuration it reached), nothing more, answered with what the first charged;
    // another upgrade under it, refused.
    let once = upgrade(down, &[("bandwidth", "31"), ("client_order_id", "cu-x")]);
    let once: Vec<(&str, &str)> = once.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let v = r.i.post(&once).await;
    assert_eq!(v["code"], 1, "{v}");
    let money: Money = v["data"]["money"].as_str().unwrap().parse().unwrap();
    assert!(money > Money::ZERO, "{v}");
    assert_eq!(r.i.balance("tenant:down").await, balance - money);
    let sim_balance = r.sim.balance();
    let v = r.i.post(&once).await;
    assert_eq!(v["code"], 1, "{v}");
    let again: Money = v["data"]["money"].as_str().unwrap().parse().unwrap();
    assert_eq!(again, money, "{v}");
    // (Under a used id an upgrade is known by its increment, as `lease_upgrade`'s:
    // +2 Mbps is another upgrade.)
    let more = upgrade(down, &[("bandwidth", "33"), ("client_order_id", "cu-x")]);
    let more: Vec<(&str, &str)> = more.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(r.i.post(&more).await["code"], 0);
    assert_eq!(r.i.balance("tenant:down").await, balance - money);
    assert_eq!(
        r.sim.balance(),
        sim_balance,
        "nothing more reached the upstream"
    );
    assert_eq!(
        config(&r.i.call(down, "getserver", &[("guid", &guid)]).await["data"]),
        (31, 25)
    );

    // A create_order with more bandwidth and defense under one order_id: bought once.
    let create = [
        ("obj_type", "create_server"),
        ("line_guid", pid.as_str()),
        ("system_guid", pid.as_str()),
        ("order_id", "c-2"),
        ("content", r#"{"months":1,"bandwidth":55,"defense":30}"#),
    ];
    let before = r.i.balance("tenant:down").await;
    let v = r.i.call(down, "create_order", &create).await;
    assert_eq!(v["code"], 1, "{v}");
    // 33.35 + 50 x 10.35 + 30 x 2.30
    assert_eq!(v["data"]["money"], "619.85", "{v}");
    let again = r.i.call(down, "create_order", &create).await;
    assert_eq!(again["data"]["ids"], v["data"]["ids"], "{again}");
    assert_eq!(before - r.i.balance("tenant:down").await, yuan("619.85"));
    let id = v["data"]["ids"][0].to_string();
    assert_eq!(
        config(&r.i.call(down, "getserver", &[("guid", &id)]).await["data"]),
        (55, 30)
    );
    assert_books_balance(&r.i.engine).await;
}
