//! idcgate's neutral `units.bandwidth` on a West cloud server, against the simulator:
//! on a create, that many Mbps beyond the 5 a plan is priced with; on an upgrade, that
//! many more than the server has (CPU and memory unchanged when no plan is named),
//! priced by West's own price acts; a lost upgrade settles against the bandwidth it
//! had before; what West's document does not sell with a server (IPs, defense), both
//! spellings at once, zero and nonsense are refused before anything is sent.
#![allow(clippy::unwrap_used)] // a test may fail loudly

use idcgate_core::purchase::{Operation, PurchaseRequest, Settled};
use idcgate_core::{Error, Money, ResourceKind};
use idcgate_west::Sim;
use idcgate_wire::testing::{self, Env};
use std::time::Duration;

fn create() -> PurchaseRequest {
    PurchaseRequest::new(ResourceKind::Server, Operation::Create, "bw")
        .offer("c1m1")
        .months(1)
        .option("serverroom", "3")
        .option("os", "centos7.9")
}

fn up(id: &str, opts: &[(&str, &str)]) -> PurchaseRequest {
    let mut r = PurchaseRequest::new(ResourceKind::Server, Operation::Upgrade, id);
    for (k, v) in opts {
        r = r.option(*k, *v);
    }
    r
}

async fn bandwidth(e: &Env<Sim>, id: &str) -> (i64, i64) {
    let v = e.call("server.detail", &[("id", id)]).await.unwrap();
    let n = |k: &str| v[k].to_string().trim_matches('"').parse::<i64>().unwrap();
    (n("bandwidth"), n("cpu"))
}

#[tokio::test]
async fn bandwidth_units_are_wests_bandwidth_beyond_the_plan_and_the_server() {
    let e = Env::start(
        Sim::sandbox(),
        idcgate_west::connect,
        &testing::wire_config(Duration::from_millis(800)),
    )
    .await;
    e.sim.set_balance(Money::from_fen(10_000_000));
    let seller = e.conn.purchasing().unwrap();
    let neutral = create().option("units.bandwidth", "5");
    let q = seller.quote(&neutral).await.unwrap();
    assert_eq!(
        q.price,
        seller
            .quote(&create().option("bandwidth", "10"))
            .await
            .unwrap()
            .price
    );
    assert!(q.price > seller.quote(&create()).await.unwrap().price);
    let before = e.sim.balance();
    let order = seller.buy(&neutral, "bw-1").await.unwrap();
    assert_eq!(before - e.sim.balance(), q.price);
    let id = order.upstream_id.unwrap();
    assert_eq!(bandwidth(&e, &id).await, (10, 1));

    // 5 more Mbps, CPU and memory as they are: priced as West prices bandwidth 15.
    let more = up(&id, &[("units.bandwidth", "5")]);
    let q = seller.quote(&more).await.unwrap();
    assert!(q.price > Money::ZERO);
    let absolute = up(&id, &[("bandwidth", "15")]).offer("c1m1");
    assert_eq!(seller.quote(&absolute).await.unwrap().price, q.price);
    // Its answer lost after West did it: settled by the bandwidth it had before + 5.
    let was = seller.before(&more).await.unwrap();
    e.srv.faults.update(|c| {
        c.drop_next = 1;
        c.next_only_matching = "act=upgrade".into();
    });
    let lost = seller.buy(&more, "bw-2").await.unwrap_err();
    assert!(matches!(lost, Error::UnknownOutcome { .. }), "{lost:?}");
    e.srv.faults.set(Default::default());
    assert_eq!(bandwidth(&e, &id).await, (15, 1));
    assert!(matches!(
        seller.settle(&more, "bw-2", &was).await.unwrap(),
        Settled::Happened { .. }
    ));

    // Refused naming the field before anything is sent.
    let field = |e: Error| match e {
        Error::InvalidInput { field, .. } => field,
        other => panic!("{other:?}"),
    };
    let balance = e.sim.balance();
    for (r, expected) in [
        (create().option("units.ip", "1"), "units.ip"),
        (create().option("units.defense", "1"), "units.defense"),
        (
            create()
                .option("units.bandwidth", "1")
                .option("bandwidth", "6"),
            "units.bandwidth",
        ),
        (create().option("units.bandwidth", "0"), "units.bandwidth"),
        (create().option("units.bandwidth", "-1"), "units.bandwidth"),
        (
            create().option("units.bandwidth", "lots"),
            "units.bandwidth",
        ),
        (up(&id, &[("units.defense", "1")]), "units.defense"),
        (
            up(&id, &[("units.bandwidth", "99999999999")]),
            "units.bandwidth",
        ),
    ] {
        assert_eq!(field(seller.quote(&r).await.unwrap_err()), expected, "{r}");
        assert_eq!(
            field(seller.buy(&r, "bw-x").await.unwrap_err()),
            expected,
            "{r}"
        );
    }
    // Beyond what West sells (200 Mbps): West's own refusal, nothing charged.
    assert!(seller
        .quote(&up(&id, &[("units.bandwidth", "186")]))
        .await
        .is_err());
    assert_eq!(e.sim.balance(), balance, "nothing was charged");
}
