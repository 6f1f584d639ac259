//! idcgate's neutral units on a cloud server (`units.bandwidth`, `units.defense`),
//! client -> simulator: priced and sent as the document's `content.bandwidth` /
//! `content.defense` (a create: that many beyond the package) and `bandwidth` /
//! `defense` (an upgrade: that many more than the order has); the line's limits, a
//! unit the line does not price (IPs) and both spellings at once are refused naming
//! the field before anything is sent.

#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::*;
use idcgate_core::purchase::{Operation, PurchaseRequest, Purchasing};
use idcgate_core::{Error, ResourceKind};

fn cloud() -> PurchaseRequest {
    PurchaseRequest::new(ResourceKind::Server, Operation::Create, "web")
        .offer("德阳电信-1核1G")
        .months(1)
        .option("system_guid", CENTOS)
}

fn up(target: &str, opts: &[(&str, &str)]) -> PurchaseRequest {
    let mut r = PurchaseRequest::new(ResourceKind::Server, Operation::Upgrade, target);
    for (k, v) in opts {
        r = r.option(*k, *v);
    }
    r
}

fn field(e: Error) -> String {
    match e {
        Error::InvalidInput { field, .. } => field,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn cloud_units_are_the_documents_fields_within_the_lines_limits() {
    let (sim, _srv, client) = sandbox().await;
    // 1C1G 29.00 + 5 Mbps beyond the package's 5 at 9.00 + 10 G beyond its 5 at 2.00.
    let neutral = cloud()
        .option("units.bandwidth", "5")
        .option("units.defense", "10");
    let documents = cloud()
        .option("content.bandwidth", "10")
        .option("content.defense", "15");
    let q = client.quote(&neutral).await.unwrap();
    assert_eq!(in_fen(q.price), 9_400);
    assert_eq!(in_fen(client.quote(&documents).await.unwrap().price), 9_400);

    // Bought: the upstream server has the bandwidth and defense sold, and the balance
    // fell by the quote.
    let before = in_fen(sim.balance());
    let order = client.buy(&neutral, "idg-cu-1").await.unwrap();
    assert_eq!(before - in_fen(sim.balance()), 9_400);
    let target = order.upstream_id.unwrap();
    let id: i64 = target.trim_start_matches("server_").parse().unwrap();
    let s = get(&client, "getserver", id).await;
    assert_eq!(
        (s["bandwidth"].as_i64(), s["defense"].as_i64()),
        (Some(10), Some(15))
    );

    // 20 more Mbps and 5 more G as increments: the same as the absolute values.
    let by_units = up(
        &target,
        &[("units.bandwidth", "20"), ("units.defense", "5")],
    );
    let absolute = up(&target, &[("bandwidth", "30"), ("defense", "20")]);
    let q = client.quote(&by_units).await.unwrap();
    assert!(q.price.0 > rust_decimal::Decimal::ZERO);
    assert_eq!(client.quote(&absolute).await.unwrap().price, q.price);
    let before = in_fen(sim.balance());
    client.buy(&by_units, "idg-cu-2").await.unwrap();
    let s = get(&client, "getserver", id).await;
    assert_eq!(
        (s["bandwidth"].as_i64(), s["defense"].as_i64()),
        (Some(30), Some(20))
    );
    assert_eq!(s["cpu"].as_i64(), Some(1), "CPU and memory unchanged");
    assert_eq!(before - in_fen(sim.balance()), in_fen(q.price));

    // Refused before anything is sent: beyond the line's 300 Mbps and 100 G, an IP
    // (the line prices none), zero, negative, overflowing, both spellings at once.
    let ledger = sim.ledger().len();
    for (r, expected) in [
        (cloud().option("units.bandwidth", "296"), "bandwidth"),
        (cloud().option("units.defense", "96"), "defense"),
        (cloud().option("units.ip", "1"), "units.ip"),
        (cloud().option("units.bandwidth", "0"), "units.bandwidth"),
        (cloud().option("units.defense", "-1"), "units.defense"),
        (
            cloud().option("units.bandwidth", "99999999999"),
            "units.bandwidth",
        ),
        (
            cloud()
                .option("units.bandwidth", "1")
                .option("content.bandwidth", "6"),
            "units.bandwidth",
        ),
        (up(&target, &[("units.bandwidth", "271")]), "bandwidth"),
        (up(&target, &[("units.defense", "81")]), "defense"),
        (up(&target, &[("units.ip", "1")]), "units.ip"),
        (
            up(&target, &[("units.bandwidth", "1"), ("bandwidth", "31")]),
            "units.bandwidth",
        ),
    ] {
        assert_eq!(field(client.quote(&r).await.unwrap_err()), expected, "{r}");
        assert_eq!(
            field(client.buy(&r, "idg-cu-x").await.unwrap_err()),
            expected,
            "{r}"
        );
    }
    assert_eq!(sim.ledger().len(), ledger, "nothing was sent");
}
