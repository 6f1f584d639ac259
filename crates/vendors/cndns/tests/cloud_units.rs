//! idcgate's neutral `units.bandwidth` on a CNDNS 橙云 host, against the simulator: on a
//! create, that many Mbps added to the configuration's `BD`; on an upgrade, `BDNum`;
//! priced as CNDNS prices the configuration. IPs and defense (no host sells them), both
//! spellings at once, zero and nonsense are refused before anything is sent, never
//! ignored (an ignored unit would be paid for and not delivered).
#![allow(clippy::unwrap_used)] // a test may fail loudly

use idcgate_cndns::Sim;
use idcgate_core::purchase::{Operation, PurchaseRequest};
use idcgate_core::{Error, ResourceKind};
use serde_json::Value;

idcgate_wire::vendor_env!(Sim, idcgate_cndns::connect);

fn create(more: &[(&str, &str)]) -> PurchaseRequest {
    let mut r = PurchaseRequest::new(ResourceKind::Server, Operation::Create, "web-u").months(1);
    for (k, v) in [
        ("cpu", "2"),
        ("ram", "2048"),
        ("HD", "50"),
        ("place", "1"),
        ("os", "centos7.9_64"),
        ("password", "Strong!Pass1"),
    ]
    .iter()
    .chain(more)
    {
        r = r.option(*k, *v);
    }
    r
}

fn up(host: &str, more: &[(&str, &str)]) -> PurchaseRequest {
    let mut r = PurchaseRequest::new(ResourceKind::Server, Operation::Upgrade, host);
    for (k, v) in more {
        r = r.option(*k, *v);
    }
    r
}

async fn bd(e: &Env, host: &str) -> String {
    let v = e.ok("/cloud/cloudinfo", &[("cloudname", host)]).await;
    let info = match &v {
        Value::Array(rows) => rows[0].clone(),
        other => other.clone(),
    };
    info["bd"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn bandwidth_units_are_cndns_bd_and_bdnum() {
    let e = env().await;
    let seller = e.conn.purchasing().unwrap();
    let neutral = create(&[("BD", "2"), ("units.bandwidth", "3")]);
    let q = seller.quote(&neutral).await.unwrap();
    assert_eq!(
        q.price,
        seller.quote(&create(&[("BD", "5")])).await.unwrap().price
    );
    assert!(q.price > seller.quote(&create(&[("BD", "2")])).await.unwrap().price);
    let order = seller.buy(&neutral, "cu-1").await.unwrap();
    let host = order.upstream_id.unwrap();
    assert_eq!(bd(&e, &host).await, "5");

    // One more Mbps: BDNum 1 (CNDNS upgrades a stopped host).
    e.ok("/cloud/poweroff", &[("cloudname", &host)]).await;
    let more = up(&host, &[("units.bandwidth", "1")]);
    let q = seller.quote(&more).await.unwrap();
    assert_eq!(
        q.price,
        seller
            .quote(&up(&host, &[("BDNum", "1")]))
            .await
            .unwrap()
            .price
    );
    seller.buy(&more, "cu-2").await.unwrap();
    assert_eq!(bd(&e, &host).await, "6");

    let field = |e: Error| match e {
        Error::InvalidInput { field, .. } => field,
        other => panic!("{other:?}"),
    };
    let balance = e.sim.balance();
    for (r, expected) in [
        (create(&[("BD", "2"), ("units.ip", "1")]), "units.ip"),
        (
            create(&[("BD", "2"), ("units.defense", "1")]),
            "units.defense",
        ),
        (
            create(&[("BD", "2"), ("units.bandwidth", "0")]),
            "units.bandwidth",
        ),
        (
            create(&[("BD", "2"), ("units.bandwidth", "x")]),
            "units.bandwidth",
        ),
        (
            up(&host, &[("units.bandwidth", "1"), ("BDNum", "1")]),
            "units.bandwidth",
        ),
        (up(&host, &[("units.ip", "1")]), "units.ip"),
    ] {
        assert_eq!(field(seller.quote(&r).await.unwrap_err()), expected, "{r}");
        assert_eq!(
            field(seller.buy(&r, "cu-x").await.unwrap_err()),
            expected,
            "{r}"
        );
    }
    assert_eq!(e.sim.balance(), balance, "nothing was charged");
}
