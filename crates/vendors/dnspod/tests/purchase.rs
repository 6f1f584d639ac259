//! VIP grades bought through `Purchasing` against the simulator: each quote is what the
//! agent balance loses, a lost answer settles by reading the zone, a short balance
//! changes nothing, and requests that do not fit are refused before anything is sent.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;
use common::*;
use idcgate_core::capability::{Capabilities, Capability, Dns};
use idcgate_core::purchase::{Operation, PurchaseRequest, Purchasing, Settled};
use idcgate_core::{Connection, Error, Money, ResourceKind};
use idcgate_dnspod::sim::SANDBOX_EMAIL;
use idcgate_dnspod::{DnspodClient, Format, Sim};
use idcgate_wire::SimServer;
use std::time::Duration;

/// The sandbox's personal user's free zone and its enterprise user's paid one.
const PERSONAL: &str = "zhangwei.net";
const ENTERPRISE: &str = "shop-example.cn";
const USER_IP: &str = "198.51.100.10";

struct World {
    sim: Sim,
    srv: SimServer,
    agent: DnspodClient,
}

async fn world(format: Format) -> World {
    let sim = Sim::sandbox();
    let srv = serve(&sim).await;
    // Short, so that an answer dropped after commit is given up on quickly.
    let mut cfg = cfg();
    cfg.timeout = Duration::from_millis(400);
    let agent = idcgate_dnspod::connect_client(&sandbox_account(&sim, &srv), &cfg)
        .unwrap()
        .with_format(format);
    World { sim, srv, agent }
}

impl World {
    fn balance(&self) -> Money {
        self.sim.agent_balance(SANDBOX_EMAIL).unwrap()
    }

    /// The zone's domain id as its owner lists it.
    async fn zone_id(&self, zone: &str) -> String {
        for user in self.agent.list_users().await.unwrap() {
            let zones = self.agent.for_user(&user.id).list_zones().await.unwrap();
            if let Some(z) = zones.into_iter().find(|z| z.name == zone) {
                return z.upstream_id.unwrap();
            }
        }
        panic!("{zone} is not a zone of the agent's users");
    }

    async fn user_id(&self, email: &str) -> String {
        let users = self.agent.list_users().await.unwrap();
        users.into_iter().find(|u| u.email == email).unwrap().id
    }
}

fn request(operation: Operation, zone: &str, offer: Option<&str>, months: u32) -> PurchaseRequest {
    let mut r = PurchaseRequest::new(ResourceKind::DnsZone, operation, zone)
        .months(months)
        .option("ip_addr", USER_IP);
    r.offer = offer.map(str::to_string);
    r
}

fn fen(m: Money) -> i64 {
    m.to_fen().unwrap()
}

/// One purchase: its quote in fen, and what the agent pays for it at 80% of the list.
struct Sale {
    operation: Operation,
    zone: &'static str,
    offer: Option<&'static str>,
    months: u32,
    quote_fen: i64,
}

/// In order: a free zone upgraded, renewed without naming its grade, and an enterprise
/// zone moved to an enterprise grade.
const SALES: [Sale; 3] = [
    Sale {
        operation: Operation::Upgrade,
        zone: PERSONAL,
        offer: Some("D_Plus"),
        months: 12,
        quote_fen: 55_840,
    },
    Sale {
        operation: Operation::Renew,
        zone: PERSONAL,
        offer: None,
        months: 24,
        quote_fen: 111_680,
    },
    Sale {
        operation: Operation::Upgrade,
        zone: ENTERPRISE,
        offer: Some("D_Expert"),
        months: 12,
        quote_fen: 159_840,
    },
];

#[tokio::test]
async fn sells_vip_grades_only_and_keeps_no_readable_finance_record() {
    let w = world(Format::Json).await;
    let conn: &dyn Connection = &w.agent;
    assert!(Capabilities::of(conn).contains(&Capability::Purchasing));
    let seller = conn.purchasing().unwrap();
    assert_eq!(
        seller.sells(),
        vec![
            (ResourceKind::DnsZone, Operation::Upgrade),
            (ResourceKind::DnsZone, Operation::Renew),
        ]
    );
    let since = "2020-01-01T00:00:00Z".parse().unwrap();
    let e = conn.billing().unwrap().charges(since).await.unwrap_err();
    assert!(
        matches!(&e, Error::Unsupported { vendor, .. } if vendor == "dnspod"),
        "{e:?}"
    );
}

#[tokio::test]
async fn every_sale_takes_its_quote_from_the_agent_balance_and_settles_by_reading() {
    for format in FORMATS {
        let w = world(format).await;
        for (i, sale) in SALES.iter().enumerate() {
            let req = request(sale.operation, sale.zone, sale.offer, sale.months);
            let quote = w.agent.quote(&req).await.unwrap();
            assert_eq!(fen(quote.price), sale.quote_fen, "sale {i} quote");
            assert_eq!(quote.period_months, sale.months);

            // Read before, not sent: nothing happened.
            let before = w.agent.before(&req).await.unwrap();
            let unsent = w.agent.settle(&req, "k", &before).await.unwrap();
            assert!(
                matches!(unsent, Settled::DidNotHappen { .. }),
                "sale {i}: {unsent:?}"
            );

            let start = w.balance();
            let order = w.agent.buy(&req, &format!("key-{i}")).await.unwrap();
            let taken = start - w.balance();
            assert_eq!(
                fen(taken),
                sale.quote_fen,
                "sale {i}: quote == balance taken"
            );
            assert_eq!(
                order.amount, taken,
                "sale {i}: the bill says what was taken"
            );
            assert!(!order.id.is_empty(), "the bill's journal number");
            let zone_id = w.zone_id(sale.zone).await;
            assert_eq!(order.upstream_id.as_deref(), Some(zone_id.as_str()));

            match w.agent.settle(&req, "k", &before).await.unwrap() {
                Settled::Happened {
                    upstream_ref,
                    evidence,
                    ..
                } => {
                    assert_eq!(upstream_ref, Some(zone_id), "sale {i}");
                    assert!(evidence.contains(sale.zone), "{evidence}");
                }
                other => panic!("sale {i}: {other:?}"),
            }
        }
    }
}

#[tokio::test]
async fn an_answer_lost_after_commit_is_unknown_and_settles_as_happened() {
    let w = world(Format::Json).await;
    // The owner named by option: no search through the agent's users.
    let uid = w.user_id("zhang.wei@example.cn").await;
    for sale in &SALES[..2] {
        let req =
            request(sale.operation, sale.zone, sale.offer, sale.months).option("user_id", &uid);
        let quote = w.agent.quote(&req).await.unwrap();
        let before = w.agent.before(&req).await.unwrap();
        let start = w.balance();
        w.srv.faults.update(|c| {
            c.next_only_matching = "Domain.Upgrade".into();
            c.drop_next = 1;
        });
        let lost = w.agent.buy(&req, "lost").await.unwrap_err();
        assert!(matches!(lost, Error::UnknownOutcome { .. }), "{lost:?}");
        assert_eq!(start - w.balance(), quote.price, "committed upstream");
        // `settle` gets the journalled request, which keeps the owner it was given.
        let settled = w.agent.settle(&req, "lost", &before).await.unwrap();
        assert!(
            matches!(settled, Settled::Happened { .. }),
            "{:?}: {settled:?}",
            sale.operation
        );
    }
}

#[tokio::test]
async fn a_short_balance_is_refused_with_dnspods_code_and_changes_nothing() {
    let w = world(Format::Json).await;
    // 1358.40 for D_Extra leaves 3641.60: five more years (6792.00) is too much, and so is
    // D_Ultra for five years (15992.00) on the enterprise zone.
    let first = request(Operation::Upgrade, PERSONAL, Some("D_Extra"), 12);
    w.agent.buy(&first, "first").await.unwrap();
    for req in [
        request(Operation::Renew, PERSONAL, Some("D_Extra"), 60),
        request(Operation::Upgrade, ENTERPRISE, Some("D_Ultra"), 60),
    ] {
        let quote = w.agent.quote(&req).await.unwrap();
        assert!(quote.price > w.balance(), "{quote:?}");
        let before = w.agent.before(&req).await.unwrap();
        let start = w.balance();
        let e = w.agent.buy(&req, "short").await.unwrap_err();
        assert!(matches!(e, Error::InsufficientBalance { .. }), "{e:?}");
        assert_eq!(w.balance(), start);
        assert_eq!(
            w.agent.before(&req).await.unwrap(),
            before,
            "zone unchanged"
        );
        let settled = w.agent.settle(&req, "short", &before).await.unwrap();
        assert!(
            matches!(settled, Settled::DidNotHappen { .. }),
            "{settled:?}"
        );
    }
}

#[tokio::test]
async fn requests_that_do_not_fit_are_refused_naming_the_field() {
    let w = world(Format::Json).await;
    let upgrade = |offer| request(Operation::Upgrade, PERSONAL, offer, 12);
    let cases: Vec<(PurchaseRequest, &str)> = vec![
        (upgrade(None), "offer"),
        (upgrade(Some("D_Nope")), "offer"),
        (upgrade(Some("DP_Free")), "offer"), // the grade it is on
        (
            request(Operation::Upgrade, PERSONAL, Some("D_Plus"), 18),
            "months",
        ),
        (
            request(Operation::Upgrade, PERSONAL, Some("D_Plus"), 72),
            "months",
        ),
        // Renewing under another grade would be an upgrade.
        (
            request(Operation::Renew, ENTERPRISE, Some("D_Expert"), 12),
            "offer",
        ),
        // DP_Extra is not sold by Product.List: it cannot be renewed through it.
        (request(Operation::Renew, ENTERPRISE, None, 12), "offer"),
        (
            PurchaseRequest::new(ResourceKind::DnsZone, Operation::Upgrade, PERSONAL)
                .offer("D_Plus"),
            "ip_addr",
        ),
        (
            upgrade(Some("D_Plus")).option("ip_addr", "not-an-ip"),
            "ip_addr",
        ),
    ];
    let start = w.balance();
    for (req, field) in &cases {
        let got = match w.agent.before(req).await {
            Ok(_) => w.agent.buy(req, "bad").await.map(|_| ()),
            Err(e) => Err(e),
        };
        match got {
            Err(Error::InvalidInput { field: f, .. }) => assert_eq!(&f, field, "{req}"),
            other => panic!("{req}: {other:?}"),
        }
    }
    for req in [
        PurchaseRequest::new(ResourceKind::Server, Operation::Create, "vm1"),
        PurchaseRequest::new(ResourceKind::DnsZone, Operation::Create, PERSONAL),
    ] {
        let e = w.agent.quote(&req).await.unwrap_err();
        assert!(matches!(e, Error::Unsupported { .. }), "{req}: {e:?}");
    }
    let e = w
        .agent
        .before(&request(
            Operation::Upgrade,
            "nobody-has-this.cn",
            Some("D_Plus"),
            12,
        ))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
    assert_eq!(w.balance(), start, "nothing bought");
}
