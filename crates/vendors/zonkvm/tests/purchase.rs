//! Purchases through `Purchasing` against the real simulator, one table row per (kind,
//! operation) Zonkvm sells: the quote is what leaves the balance, to the fen; settling
//! reads the upstream and finds a purchase that happened (also one whose answer was lost
//! after it committed) and none for one never sent; a purchase the balance cannot pay is
//! refused and changes nothing. `Billing::charges` reads the purchases back.

#![allow(clippy::unwrap_used)] // a test may fail loudly

use idcgate_core::capability::{Billing, Connection};
use idcgate_core::purchase::{Operation, PurchaseRequest, Purchasing, Settled};
use idcgate_core::{Error, Money, PriceQuote, ResourceKind};
use idcgate_wire::sim::SimServer;
use idcgate_wire::testing;
use idcgate_zonkvm::{Sim, ZonkvmClient};
use serde_json::Value;
use std::time::Duration;

const CENTOS: &str = "1659170791658716";
const LINE_SX: &str = "20250407014442321990";

/// A sandbox system (one order of every family, a funded account) and a client that
/// gives up on a lost answer after a second.
async fn sandbox() -> (Sim, SimServer, ZonkvmClient) {
    let sim = Sim::sandbox();
    let srv = testing::serve(&sim).await;
    let account = testing::sandbox_account(&sim, &srv);
    let client =
        ZonkvmClient::new(&account, &testing::wire_config(Duration::from_secs(1))).unwrap();
    (sim, srv, client)
}

/// A fresh sandbox and client, with `case` asked and quoted.
async fn quoted(case: &Case) -> (Sim, SimServer, ZonkvmClient, PurchaseRequest, PriceQuote) {
    let (sim, srv, client) = sandbox().await;
    let r = case.request();
    let quote = client.quote(&r).await.unwrap();
    (sim, srv, client, r, quote)
}

fn fen(m: Money) -> i64 {
    m.to_fen().unwrap()
}

/// One (kind, operation) Zonkvm sells, as a caller asks for it.
struct Case {
    kind: ResourceKind,
    op: Operation,
    target: &'static str,
    offer: Option<&'static str>,
    months: u32,
    options: &'static [(&'static str, &'static str)],
    /// Text of the purchase's own request body, to lose its answer and no other.
    body: &'static str,
    /// What it costs, where the price is fixed (upgrades are prorated by the days left,
    /// so their figure moves with the calendar; the quote must still be the charge).
    price_fen: Option<i64>,
    /// The listing that shows this family's orders (what a refusal must leave as is).
    listing: &'static str,
}

impl Case {
    fn request(&self) -> PurchaseRequest {
        let mut r = PurchaseRequest::new(self.kind, self.op, self.target).months(self.months);
        r.offer = self.offer.map(str::to_string);
        for (k, v) in self.options {
            r = r.option(*k, *v);
        }
        r
    }

    fn name(&self) -> String {
        format!("{} {} {}", self.op, self.kind.as_str(), self.target)
    }
}

use Operation::{Create, Renew, Upgrade};
use ResourceKind::{Database, HostingSite, Server};

/// The sandbox's orders: server_1001 (德阳 2C4G, disks 40,60, 10 Mbps), lease_1, idc_1,
/// hosting 1 (A type, 12 months) and database 1 (1 GB, 1 month).
const CASES: &[Case] = &[
    // 1C1G 29.00 + 60 GB more disk at 0.50 = 59.00 a month; 12 months at 0.9.
    Case {
        kind: Server,
        op: Create,
        target: "web-1",
        offer: Some("德阳电信-1核1G"),
        months: 12,
        options: &[
            ("system_guid", CENTOS),
            ("content.harddisksValues", "40,60"),
            ("content.loginPassword", "Init-Pass-1"),
        ],
        body: "obj_type=create_server",
        price_fen: Some(63_720),
        listing: "getservers",
    },
    // The 4C8G package on another line: 168.00 and 5 more Mbps at 9.00.
    Case {
        kind: Server,
        op: Create,
        target: "web-2",
        offer: Some("绍兴BGP- A型"),
        months: 1,
        options: &[
            ("system_guid", CENTOS),
            ("line_guid", LINE_SX),
            ("content.bandwidth", "10"),
        ],
        body: "obj_type=create_server",
        price_fen: Some(21_300),
        listing: "getservers",
    },
    // 550.00 a month, 12 months at the line's 0.95.
    Case {
        kind: Server,
        op: Create,
        target: "db-box",
        offer: Some("lease:1721941250649658"),
        months: 12,
        options: &[("system_guid", CENTOS)],
        body: "obj_type=create_lease",
        price_fen: Some(627_000),
        listing: "lease_orders",
    },
    // 800.00 + the 1A power spec 100.00; 2 more IPs at 300.00.
    Case {
        kind: Server,
        op: Create,
        target: "rack-1",
        offer: Some("idc:20250409132727581219"),
        months: 1,
        options: &[("content.power", "1A/220V"), ("content.ipnum", "3")],
        body: "obj_type=create_idc",
        price_fen: Some(150_000),
        listing: "idc_orders",
    },
    // 80.00 a month, 12 months at 85%.
    Case {
        kind: HostingSite,
        op: Create,
        target: "shop.example.com",
        offer: Some("20250408030033590712"),
        months: 12,
        options: &[("content.program_version", "php74"), ("pwd", "Ftp-Pass-1")],
        body: "obj_type=create_hosting",
        price_fen: Some(81_600),
        listing: "hosting_orders",
    },
    // 28.00 a month, 24 months at 75%.
    Case {
        kind: Database,
        op: Create,
        target: "crm-db",
        offer: Some("20250407053315151712"),
        months: 24,
        options: &[("content.code", "utf8")],
        body: "obj_type=create_database",
        price_fen: Some(50_400),
        listing: "sql_orders",
    },
    // 2C4G 79.00 + 60 GB at 0.50 + 5 Mbps at 9.00 = 154.00 a month; no 2-month discount.
    Case {
        kind: Server,
        op: Renew,
        target: "server_1001",
        offer: None,
        months: 2,
        options: &[],
        body: "action=server_renew",
        price_fen: Some(30_800),
        listing: "getservers",
    },
    Case {
        kind: Server,
        op: Renew,
        target: "lease_1",
        offer: None,
        months: 1,
        options: &[],
        body: "action=lease_renew",
        price_fen: Some(55_000),
        listing: "lease_orders",
    },
    Case {
        kind: Server,
        op: Renew,
        target: "idc_1",
        offer: None,
        months: 3,
        options: &[],
        body: "action=idc_renew",
        price_fen: Some(240_000),
        listing: "idc_orders",
    },
    // The site's renew_price, its list price: 80.00 for 2 months (no 2-month discount).
    Case {
        kind: HostingSite,
        op: Renew,
        target: "1",
        offer: None,
        months: 2,
        options: &[],
        body: "operate=hosting_renew",
        price_fen: Some(16_000),
        listing: "hosting_orders",
    },
    Case {
        kind: Database,
        op: Renew,
        target: "1",
        offer: None,
        months: 1,
        options: &[],
        body: "operate=sql_renew",
        price_fen: Some(2_800),
        listing: "sql_orders",
    },
    // To the 4C8G package (149.00 for 79.00), and more bandwidth.
    Case {
        kind: Server,
        op: Upgrade,
        target: "server_1001",
        offer: Some("德阳电信-4核8G"),
        months: 0,
        options: &[("bandwidth", "20")],
        body: "action=server_upgrade",
        price_fen: None,
        listing: "getservers",
    },
    Case {
        kind: Server,
        op: Upgrade,
        target: "lease_1",
        offer: None,
        months: 0,
        options: &[("bandwidthAdd", "20"), ("ipnumAdd", "1")],
        body: "action=lease_upgrade",
        price_fen: None,
        listing: "lease_orders",
    },
    Case {
        kind: Server,
        op: Upgrade,
        target: "idc_1",
        offer: None,
        months: 0,
        options: &[("bandwidthAdd", "10")],
        body: "action=idc_upgrade",
        price_fen: None,
        listing: "idc_orders",
    },
    // Traffic first (two 10 GB steps at 5.00), then the B type.
    Case {
        kind: HostingSite,
        op: Upgrade,
        target: "1",
        offer: Some("20250408030033590713"),
        months: 0,
        options: &[("flow", "50")],
        body: "operate=hosting_upgrade",
        price_fen: None,
        listing: "hosting_orders",
    },
    Case {
        kind: Database,
        op: Upgrade,
        target: "1",
        offer: Some("20250407053315151713"),
        months: 0,
        options: &[],
        body: "operate=sql_upgrade",
        price_fen: None,
        listing: "sql_orders",
    },
];

#[tokio::test]
async fn the_table_covers_exactly_what_zonkvm_sells() {
    let (_sim, _srv, client) = sandbox().await;
    let mut sold = client.sells();
    let mut tested: Vec<_> = CASES.iter().map(|c| (c.kind, c.op)).collect();
    for list in [&mut sold, &mut tested] {
        list.sort_by_key(|(k, o)| (k.as_str(), o.as_str()));
        list.dedup();
    }
    assert_eq!(tested, sold);
    assert!(client.purchasing().is_some() && client.billing().is_some());
}

#[tokio::test]
async fn a_purchase_costs_its_quote_to_the_fen_and_settles_as_happened() {
    for case in CASES {
        let (sim, _srv, client, r, quote) = quoted(case).await;
        let name = case.name();
        if let Some(price) = case.price_fen {
            assert_eq!(fen(quote.price), price, "{name}: quote");
        }
        assert!(quote.price > Money::ZERO, "{name}: {quote:?}");
        let before = client.before(&r).await.unwrap();
        let balance = sim.balance();
        let order = client.buy(&r, "idg-ok-1").await.unwrap();
        assert_eq!(balance - sim.balance(), quote.price, "{name}: charged");
        if order.amount != Money::ZERO {
            assert_eq!(order.amount, quote.price, "{name}: the answer's amount");
        }
        let upstream = order.upstream_id.clone().unwrap();
        if case.op == Create {
            // The journal's reference names the same order, qualified by family where
            // two families share numbers (hosting and databases).
            assert_eq!(
                order.id.rsplit('_').next(),
                upstream.rsplit('_').next(),
                "{name}"
            );
        } else {
            assert_eq!(upstream, case.target, "{name}");
        }
        match client.settle(&r, "idg-ok-1", &before).await.unwrap() {
            Settled::Happened {
                upstream_ref,
                evidence,
                ..
            } => assert_eq!(
                upstream_ref.as_deref(),
                Some(order.id.as_str()),
                "{name}: {evidence}"
            ),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_purchase_never_sent_settles_as_not_happened() {
    let (sim, _srv, client) = sandbox().await;
    for case in CASES {
        let r = case.request();
        let before = client.before(&r).await.unwrap();
        let ledger = sim.ledger().len();
        match client.settle(&r, "idg-never-1", &before).await.unwrap() {
            Settled::DidNotHappen { evidence } => {
                assert!(evidence.contains("did not happen"), "{evidence}")
            }
            other => panic!("{}: {other:?}", case.name()),
        }
        assert_eq!(sim.ledger().len(), ledger, "settling only reads");
    }
}

#[tokio::test]
async fn an_answer_lost_after_commit_is_unknown_and_settles_as_happened() {
    for case in CASES {
        let (sim, srv, client, r, quote) = quoted(case).await;
        let name = case.name();
        let before = client.before(&r).await.unwrap();
        let balance = sim.balance();
        let requests = srv.faults.requests();
        srv.faults.update(|c| {
            c.next_only_matching = case.body.into();
            c.drop_next = 1;
        });
        let err = client.buy(&r, "idg-lost-1").await.unwrap_err();
        assert!(
            matches!(err, Error::UnknownOutcome { .. }),
            "{name}: {err:?}"
        );
        assert_eq!(
            srv.faults.get().drop_next,
            0,
            "{name}: the purchase itself was lost"
        );
        assert_eq!(balance - sim.balance(), quote.price, "{name}: it committed");
        let sent = srv.faults.requests() - requests;
        let settled = client.settle(&r, "idg-lost-1", &before).await.unwrap();
        assert!(
            matches!(settled, Settled::Happened { .. }),
            "{name}: {settled:?}"
        );
        if let Settled::Happened { upstream_ref, .. } = settled {
            let listed = client.list_all(case.listing).await.unwrap();
            let id = upstream_ref.unwrap();
            if case.op == Create {
                let num = id.rsplit('_').next().unwrap();
                assert!(
                    listed.iter().any(|v| v["id"].as_i64() == num.parse().ok()),
                    "{name}: {id}"
                );
            } else {
                assert_eq!(id, "idg-lost-1", "{name}");
            }
        }
        assert_eq!(balance - sim.balance(), quote.price, "{name}: bought once");
        assert!(sent >= 1, "{name}");
    }
}

#[tokio::test]
async fn a_purchase_the_balance_cannot_pay_is_refused_and_changes_nothing() {
    for case in CASES {
        let (sim, _srv, client, r, quote) = quoted(case).await;
        let name = case.name();
        // One fen short of balance plus credit.
        sim.set_credit(Money::from_fen(1_000));
        sim.set_balance(quote.price - Money::from_fen(1_001));
        let (balance, ledger) = (sim.balance(), sim.ledger().len());
        let listed = client.list_all(case.listing).await.unwrap();
        let err = client.buy(&r, "idg-short-1").await.unwrap_err();
        assert!(
            matches!(err, Error::InsufficientBalance { .. }),
            "{name}: {err:?}"
        );
        assert_eq!(
            (sim.balance(), sim.ledger().len()),
            (balance, ledger),
            "{name}"
        );
        assert_eq!(
            client.list_all(case.listing).await.unwrap(),
            listed,
            "{name}"
        );
        // With that fen it goes through, for exactly the quote.
        sim.set_balance(quote.price - Money::from_fen(1_000));
        client.buy(&r, "idg-short-2").await.unwrap();
        assert_eq!(
            fen(sim.balance()),
            -1_000,
            "{name}: down to the credit line"
        );
    }
}

/// Two cloud servers like ours appearing while our answer was lost: reading cannot tell
/// which is ours, so the order stays unknown rather than being booked on a guess.
#[tokio::test]
async fn two_servers_like_the_one_bought_leave_the_outcome_unknown() {
    let (_sim, _srv, client) = sandbox().await;
    let r = CASES[0].request();
    let before = client.before(&r).await.unwrap();
    client.buy(&r, "idg-twin-1").await.unwrap();
    client.buy(&r, "idg-twin-2").await.unwrap();
    let err = client.settle(&r, "idg-twin-3", &before).await.unwrap_err();
    assert!(
        matches!(err, Error::UnknownOutcome { ref message, .. } if message.contains("person")),
        "{err:?}"
    );
    // Hosting names carry the key's marker: its own order is found among others.
    let site = CASES
        .iter()
        .find(|c| c.kind == HostingSite && c.op == Create)
        .unwrap();
    let r = site.request();
    let before = client.before(&r).await.unwrap();
    let mine = client.buy(&r, "idg-site-1").await.unwrap();
    client.buy(&r, "idg-site-2").await.unwrap();
    match client.settle(&r, "idg-site-1", &before).await.unwrap() {
        Settled::Happened { upstream_ref, .. } => assert_eq!(upstream_ref, Some(mine.id)),
        other => panic!("{other:?}"),
    }
}

/// Each request is refused by `quote` and by `buy` (under `key`) as invalid input naming
/// the field given, and none of them reaches the upstream's ledger.
async fn refused_naming_the_field<const N: usize>(
    sim: &Sim,
    client: &ZonkvmClient,
    key: &str,
    checks: [(PurchaseRequest, &str); N],
) {
    let field = |e: Error| match e {
        Error::InvalidInput { field, .. } => field,
        other => panic!("{other:?}"),
    };
    let ledger = sim.ledger().len();
    for (r, expected) in checks {
        assert_eq!(field(client.quote(&r).await.unwrap_err()), expected, "{r}");
        assert_eq!(
            field(client.buy(&r, key).await.unwrap_err()),
            expected,
            "{r}"
        );
    }
    assert_eq!(sim.ledger().len(), ledger, "nothing was sent");
}

#[tokio::test]
async fn requests_are_checked_naming_the_field() {
    let (sim, _srv, client) = sandbox().await;
    let cloud = || CASES[0].request();
    let mut no_system = cloud();
    no_system.options.remove("system_guid");
    let mut bad_term = cloud();
    bad_term.months = 10;
    let checks = [
        (no_system, "system_guid"),
        (bad_term, "months"),
        (cloud().offer("no such package"), "offer"),
        (cloud().option("prefix", "x"), "prefix"),
        (cloud().option("content.months", "3"), "content.months"),
        (cloud().option("colour", "red"), "colour"),
        (
            PurchaseRequest::new(Server, Upgrade, "server_1001"),
            "options",
        ),
        (PurchaseRequest::new(Server, Renew, "vm_7"), "target"),
        (
            PurchaseRequest::new(Database, Renew, "1").months(0),
            "months",
        ),
    ];
    refused_naming_the_field(&sim, &client, "idg-x", checks).await;
    for r in [
        PurchaseRequest::new(ResourceKind::Domain, Create, "example.com"),
        PurchaseRequest::new(Server, Operation::Transfer, "server_1001"),
    ] {
        let err = client.quote(&r).await.unwrap_err();
        assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");
    }
}

#[tokio::test]
async fn charges_are_the_purchases_the_order_records_show() {
    let (sim, _srv, client) = sandbox().await;
    // Records keep whole seconds: the seed's orders must be a second older than `since`.
    sim.advance(Duration::from_secs(2));
    let since = sim.now();
    assert!(
        client.charges(since).await.unwrap().is_empty(),
        "the seed is older"
    );
    let mut bought = Vec::new();
    for case in CASES.iter().filter(|c| c.op == Create) {
        let order = client
            .buy(&case.request(), &format!("idg-c-{}", bought.len()))
            .await
            .unwrap();
        bought.push((order.id, Money::from_fen(case.price_fen.unwrap())));
    }
    let charges = client.charges(since).await.unwrap();
    let mut read: Vec<(String, Money)> = charges
        .iter()
        .map(|c| (c.reference.clone().unwrap(), c.amount))
        .collect();
    read.sort();
    bought.sort();
    assert_eq!(read, bought);
    // Hosting and database orders are numbered apart (both have an order 2): a statement
    // matching by reference must never take one for the other.
    let refs: std::collections::HashSet<&String> = read.iter().map(|(r, _)| r).collect();
    assert_eq!(refs.len(), read.len(), "{read:?}");
    let spent: i64 = sim
        .ledger()
        .iter()
        .filter(|l| l.time >= since)
        .map(|l| -l.amount_fen)
        .sum();
    assert_eq!(charges.iter().map(|c| fen(c.amount)).sum::<i64>(), spent);
    let err = client.balance().await.unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");
}

/// What settling a create compares with was read before buying.
#[tokio::test]
async fn before_keeps_what_settling_compares() {
    let (_sim, _srv, client) = sandbox().await;
    let create = client.before(&CASES[0].request()).await.unwrap();
    assert_eq!(create["max_id"], 1002, "{create}");
    assert_eq!(create["expect"]["harddisks"], "40,60", "{create}");
    let renew = client.before(&CASES[6].request()).await.unwrap();
    assert!(
        renew["end_time"].as_str().is_some_and(|t| t.len() == 19),
        "{renew}"
    );
    let upgrade: Value = client.before(&CASES[11].request()).await.unwrap();
    assert_eq!(
        (
            upgrade["from"]["cpu"].as_str(),
            upgrade["expect"]["cpu"].as_str()
        ),
        (Some("2"), Some("4"))
    );
}

/// idcgate's vendor-neutral units (`units.ip`, `units.bandwidth`, `units.defense`)
/// price and send as the document's own fields do: on a create, that many beyond the
/// model; on an upgrade, the increments. Beyond the line's maxima, or both spellings
/// at once, is refused naming the field before anything is sent.
#[tokio::test]
async fn neutral_units_are_the_documents_fields_and_the_lines_maxima_hold() {
    let (sim, _srv, client) = sandbox().await;
    let lease = || {
        PurchaseRequest::new(Server, Create, "box")
            .offer("lease:1721941250649658")
            .months(1)
            .option("system_guid", CENTOS)
    };
    let quote = |r: PurchaseRequest| {
        let client = &client;
        async move { client.quote(&r).await.map(|q| fen(q.price)) }
    };
    // 550.00 + 2 IPs at 100.00 + 30 Mbps at 16.00 beyond the model's 30.
    let neutral = quote(
        lease()
            .option("units.ip", "2")
            .option("units.bandwidth", "30"),
    )
    .await
    .unwrap();
    let documents = quote(
        lease()
            .option("content.ip_num", "3")
            .option("content.bandwidth", "60"),
    )
    .await
    .unwrap();
    assert_eq!((neutral, documents), (123_000, 123_000));
    let up = |opts: &[(&str, &str)]| {
        let mut r = PurchaseRequest::new(Server, Upgrade, "lease_1");
        for (k, v) in opts {
            r = r.option(*k, *v);
        }
        r
    };
    assert_eq!(
        quote(up(&[("units.ip", "1"), ("units.bandwidth", "20")]))
            .await
            .unwrap(),
        quote(up(&[("ipnumAdd", "1"), ("bandwidthAdd", "20")]))
            .await
            .unwrap(),
    );
    let checks = [
        // The line sells at most 100 IPs and 1000 Mbps.
        (lease().option("units.ip", "100"), "ipnum"),
        (lease().option("units.bandwidth", "971"), "bandwidth"),
        (lease().option("units.ip", "0"), "units.ip"),
        (lease().option("units.ip", "-1"), "units.ip"),
        (lease().option("units.ip", "99999999999"), "units.ip"),
        (
            lease()
                .option("units.ip", "1")
                .option("content.ip_num", "2"),
            "units.ip",
        ),
        (up(&[("units.ip", "1"), ("ipnumAdd", "1")]), "units.ip"),
        (up(&[("ipnumAdd", "100")]), "ipnum"),
        (up(&[("bandwidthAdd", &i64::MAX.to_string())]), "options"),
        // A cloud server takes no units.
        (CASES[0].request().option("units.ip", "1"), "units.ip"),
    ];
    refused_naming_the_field(&sim, &client, "idg-u", checks).await;
}
