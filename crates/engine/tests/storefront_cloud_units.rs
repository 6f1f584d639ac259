//! Cloud servers sold with bandwidth and defense beyond their package (issue #11), the
//! storefront against the real Zonkvm simulator on SQLite and PostgreSQL: a cloud
//! product sells units only where its upstream provisions them (the refusal names the
//! vendor), at the catalog's price per unit, within its maximum; they are bought with
//! the server and added later for the time left through the journal, charged once per
//! `client_order_id`, and the upstream server has them; hostile increments are refused
//! with nothing charged or sent.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::storefront::{
    days_left, fixture, lost_unit_upgrade_counts_once, price_of, product_units, sign_in, units,
    units_shown, with_units, yuan, Fixture,
};
use idcgate_core::storefront::{HoldingState, RefusalKind, Storefront};
use idcgate_core::units::Unit;
use idcgate_core::{Money, ResourceKind};
use idcgate_store::both_backends;
use idcgate_store::testing::TestDb;

both_backends!(
    a_cloud_server_sells_bandwidth_and_defense_per_unit_where_its_upstream_provisions_them,
    a_lost_cloud_unit_upgrade_is_charged_once_and_counts_once_settled,
    west_and_cndns_cloud_servers_sell_bandwidth_only,
);

/// `cloud-1c1g` selling up to 50 more Mbps and 30 more G. (The sandbox line: 29.00 a
/// month for the package's 5 Mbps and 5 G, 9.00 a Mbps, 2.00 a G; so 33.35, 10.35
/// and 2.30 to the tenant at 15 %.)
async fn cloud_with_units(f: &Fixture) {
    f.sell_units("cloud-1c1g", &["bandwidth=50", "defense=30"])
        .await;
}

/// The upstream's own record of the server behind a holding (`getserver`).
async fn upstream(f: &Fixture, resource: &str) -> serde_json::Value {
    let conn = f.engine.connection("z").await.unwrap();
    let id = resource.trim_start_matches("server_").to_string();
    let params: idcgate_core::capability::Params = vec![("guid".to_string(), id)];
    conn.call("getserver", &params).await.unwrap()
}

async fn a_cloud_server_sells_bandwidth_and_defense_per_unit_where_its_upstream_provisions_them(
    db: &TestDb,
) {
    let f = fixture(db).await;
    // Refused, naming the vendor: an IP (a cloud line prices none), more than the
    // line sells (300 Mbps, 100 G).
    for bad in [["ip=1"], ["bandwidth=296"], ["defense=96"]] {
        let e = f
            .engine
            .set_product_units("test", "cloud-1c1g", product_units(&bad))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("zonkvm") && e.contains("cloud-1c1g"),
            "{bad:?}: {e}"
        );
    }
    cloud_with_units(&f).await;
    let (who, _, _) = f.tenant("acme", "5000.00", "0").await;
    let (other, _, _) = f.tenant("bolt", "5000.00", "0").await;
    let sim_start = f.sim.balance();
    let offered = f.shop.offerings(&who, ResourceKind::Server).await.unwrap();
    assert_eq!(
        units_shown(&offered, f.product),
        [
            (Unit::Bandwidth, yuan("10.35"), 50),
            (Unit::Defense, yuan("2.30"), 30)
        ]
    );

    // Refused with nothing charged or ordered: beyond the maximum, an IP, negative,
    // not a number, overflowing.
    f.refuses_purchases(
        &who,
        f.product,
        &[
            ("units.bandwidth", "51"),
            ("units.defense", "31"),
            ("units.ip", "1"),
            ("units.defense", "-1"),
            ("units.bandwidth", "ten"),
            ("units.bandwidth", "99999999999999999999"),
        ],
    )
    .await;
    assert_eq!(f.balance("tenant:acme").await, yuan("5000.00"));
    assert_eq!(f.sim.balance(), sim_start, "nothing reached the upstream");

    // 5 more Mbps and 10 more G: 33.35 + 5 x 10.35 + 10 x 2.30; the upstream charged
    // 29.00 + 45.00 + 20.00 and its server has 10 Mbps and 15 G.
    let purchase = with_units(
        f.product,
        "c-1",
        &[("units.bandwidth", "5"), ("units.defense", "10")],
    );
    let h = f.shop.buy(&who, &purchase).await.unwrap();
    assert_eq!(h.state, HoldingState::Active, "{h:?}");
    assert_eq!(h.paid, yuan("108.10"));
    assert_eq!(h.units, units(&[(Unit::Bandwidth, 5), (Unit::Defense, 10)]));
    assert_eq!(sim_start - f.sim.balance(), yuan("94.00"));
    let resource = h.server.as_ref().unwrap().upstream_id.clone();
    let s = upstream(&f, &resource).await;
    assert_eq!(
        (s["bandwidth"].as_i64(), s["defense"].as_i64()),
        (Some(10), Some(15))
    );
    // The same order_id again: the same purchase, nothing charged; with other units,
    // another purchase, refused.
    let paid = f.balance("tenant:acme").await;
    let same = f.shop.buy(&who, &purchase).await.unwrap();
    assert_eq!((same.guid, same.units.clone()), (h.guid, h.units.clone()));
    let r = f
        .shop
        .buy(
            &who,
            &with_units(f.product, "c-1", &[("units.bandwidth", "6")]),
        )
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::Invalid, "{r:?}");
    assert_eq!(f.balance("tenant:acme").await, paid);

    // 20 more Mbps and 15 more G for the time left: (20 x 10.35 + 15 x 2.30) = 241.50
    // per 30 days, 8.05 a whole day left, charged once; the upstream server has them.
    let days = days_left(h.expires_at.unwrap());
    let add = units(&[(Unit::Bandwidth, 20), (Unit::Defense, 15)]);
    let up = f
        .shop
        .add_units(&who, h.guid, &add, Some("u-1"))
        .await
        .unwrap();
    let charged = paid - f.balance("tenant:acme").await;
    assert_eq!(charged, Money::from_fen(805 * days), "{days} days");
    assert_eq!(up.paid, h.paid + charged);
    assert_eq!(
        up.units,
        units(&[(Unit::Bandwidth, 25), (Unit::Defense, 25)])
    );
    let s = upstream(&f, &resource).await;
    assert_eq!(
        (s["bandwidth"].as_i64(), s["defense"].as_i64()),
        (Some(30), Some(30))
    );
    assert_eq!(
        (s["cpu"].as_i64(), s["memory"].as_i64()),
        (Some(1), Some(1))
    );
    // The same client_order_id again: nothing charged or sent; with other units, refused.
    let requests = f.srv.faults.requests();
    let again = f
        .shop
        .add_units(&who, h.guid, &add, Some("u-1"))
        .await
        .unwrap();
    assert_eq!(again.units, up.units);
    // Nothing more under that id is the same upgrade too (a client of absolute values
    // asking again for the configuration it reached).
    let same = f
        .shop
        .add_units(&who, h.guid, &units(&[]), Some("u-1"))
        .await
        .unwrap();
    assert_eq!(same.units, up.units);
    assert_eq!(f.balance("tenant:acme").await, paid - charged);
    assert!(f.srv.faults.requests() - requests <= 4, "reads only");
    let r = f
        .shop
        .add_units(&who, h.guid, &units(&[(Unit::Bandwidth, 1)]), Some("u-1"))
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::Invalid, "{r:?}");
    // Nothing, zero, beyond the maximum, an IP, overflowing, another tenant's order:
    // refused with nothing charged or sent.
    let upstream_balance = f.sim.balance();
    f.refuses_units(
        h.guid,
        &[
            (&who, units(&[]), RefusalKind::Invalid),
            (&who, units(&[(Unit::Bandwidth, 0)]), RefusalKind::Invalid),
            (&who, units(&[(Unit::Bandwidth, 26)]), RefusalKind::Invalid),
            (&who, units(&[(Unit::Defense, 6)]), RefusalKind::Invalid),
            (&who, units(&[(Unit::Ip, 1)]), RefusalKind::Invalid),
            (
                &who,
                units(&[(Unit::Defense, u32::MAX)]),
                RefusalKind::Invalid,
            ),
            (
                &other,
                units(&[(Unit::Bandwidth, 1)]),
                RefusalKind::NotFound,
            ),
        ],
    )
    .await;
    assert_eq!(f.balance("tenant:acme").await, paid - charged);
    assert_eq!(f.balance("tenant:bolt").await, yuan("5000.00"));
    assert_eq!(
        f.sim.balance(),
        upstream_balance,
        "nothing reached the upstream"
    );

    // A renewal renews the units too: 33.35 + 25 x 10.35 + 25 x 2.30.
    let renewed = f.shop.renew(&who, h.guid, 1, Some("r-1")).await.unwrap();
    assert_eq!(renewed.paid - up.paid, yuan("349.60"));
    common::assert_books_balance(&f.engine).await;
}

async fn a_lost_cloud_unit_upgrade_is_charged_once_and_counts_once_settled(db: &TestDb) {
    let f = fixture(db).await;
    cloud_with_units(&f).await;
    lost_unit_upgrade_counts_once(&f, f.product, "c-1", "server_upgrade", 35).await;
}

async fn west_and_cndns_cloud_servers_sell_bandwidth_only(db: &TestDb) {
    use idcgate_engine::storefront::Shop;
    use idcgate_engine::testing::product_spec;
    let engine = common::engine_on(db, vec![common::west(), common::cndns()]).await;
    let west = idcgate_west::Sim::sandbox();
    let _w = common::add_sandbox(&engine, "w", &west).await;
    let cndns = idcgate_cndns::Sim::sandbox();
    let _c = common::add_sandbox(&engine, "c", &cndns).await;
    let specs = [
        product_spec(
            "west-c1",
            "w",
            ResourceKind::Server,
            "c1m1",
            &[("serverroom", "3"), ("os", "centos7.9")],
            ("10%", "1"),
        ),
        idcgate_engine::catalog::ProductSpec {
            offer: None,
            ..product_spec(
                "cndns-c2",
                "c",
                ResourceKind::Server,
                "-",
                idcgate_cndns::sim::SAMPLE_HOST_2C2G,
                ("25%", "1"),
            )
        },
    ];
    let mut ids = Vec::new();
    for (spec, vendor) in specs.into_iter().zip(["west", "cndns"]) {
        let name = spec.name.clone();
        ids.push(engine.add_product("test", spec).await.unwrap().id);
        // Neither upstream sells IPs or defense with a cloud server: refused naming it.
        for unit in ["defense=10@1.00", "ip=1@1.00"] {
            let e = engine
                .set_product_units("test", &name, product_units(&[unit]))
                .await
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(vendor) && e.contains("provisions no"),
                "{name} {unit}: {e}"
            );
        }
        let p = engine
            .set_product_units("test", &name, product_units(&["bandwidth=20"]))
            .await
            .unwrap();
        assert_eq!(p.units.len(), 1, "{name}");
    }
    let shop = Shop::new(engine.clone());
    let (who, _, _) = sign_in(&engine, &shop, "acme", "5000.00", "0").await;
    let offered = shop.offerings(&who, ResourceKind::Server).await.unwrap();
    // West prices a Mbps at 12.00 a month, CNDNS at 20.00: plus 10 % and 25 %.
    for (id, monthly) in ids.iter().zip(["13.20", "25.00"]) {
        assert_eq!(
            units_shown(&offered, *id),
            [(Unit::Bandwidth, yuan(monthly), 20)]
        );
    }

    // West: 5 more Mbps with the server (10 in all), then 5 more for the time left.
    let h = shop
        .buy(
            &who,
            &with_units(ids[0], "w-1", &[("units.bandwidth", "5")]),
        )
        .await
        .unwrap();
    assert_eq!(h.state, HoldingState::Active, "{h:?}");
    let base = price_of(&engine, "west-c1", 1).await;
    assert_eq!(h.paid, base + yuan("66.00"));
    assert_eq!(h.server.as_ref().unwrap().bandwidth_mbps, 10);
    let up = shop
        .add_units(&who, h.guid, &units(&[(Unit::Bandwidth, 5)]), Some("w-u"))
        .await
        .unwrap();
    assert!(up.paid > h.paid);
    assert_eq!(up.units, units(&[(Unit::Bandwidth, 10)]));
    assert_eq!(up.server.unwrap().bandwidth_mbps, 15, "West upgraded it");

    // CNDNS: 3 more Mbps with the host (BD 5).
    let h = shop
        .buy(
            &who,
            &with_units(ids[1], "c-1", &[("units.bandwidth", "3")]),
        )
        .await
        .unwrap();
    let base = price_of(&engine, "cndns-c2", 1).await;
    assert_eq!(h.paid, base + yuan("75.00"));
    assert_eq!(h.units, units(&[(Unit::Bandwidth, 3)]));
    common::assert_books_balance(&engine).await;
}
