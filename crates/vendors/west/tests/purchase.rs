//! Purchases through `Purchasing` against the West simulator, for every product West
//! sells besides domains: each costs exactly its quote, a purchase never sent settles as
//! not having happened, one whose answer is lost after commit settles as having happened
//! (with the charge West's finance record shows), and a short balance refuses it whole.
#![allow(clippy::unwrap_used)] // a test may fail loudly

use idcgate_core::capability::Billing;
use idcgate_core::purchase::{Operation, PurchaseRequest, Purchasing, Settled};
use idcgate_core::{Error, Money, ResourceKind};
use idcgate_west::Sim;
use idcgate_wire::testing::{self, Env};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

/// A dropped answer fails fast.
const SHORT: Duration = Duration::from_millis(800);

async fn env() -> Env<Sim> {
    let e = Env::start(
        Sim::sandbox(),
        idcgate_west::connect,
        &testing::wire_config(SHORT),
    )
    .await;
    e.sim.set_balance(Money::from_fen(10_000_000));
    e
}

fn seller(e: &Env<Sim>) -> &dyn Purchasing {
    e.conn.purchasing().unwrap()
}

fn billing(e: &Env<Sim>) -> &dyn Billing {
    e.conn.billing().unwrap()
}

/// One product line: how to create one (the `n`th of a test), renew and upgrade it.
struct Product {
    /// The act path (`v2/server/`): `<path>?act=<act>` is what a fault is aimed at.
    path: &'static str,
    /// The act listing every resource of the line, and the prefix of its ids.
    list: &'static str,
    prefix: &'static str,
    create: fn(u32) -> PurchaseRequest,
    /// Months a renewal buys.
    renew: Option<u32>,
    /// The offer and options of an upgrade.
    upgrade: Option<(&'static str, &'static [(&'static str, &'static str)])>,
}

use Operation::{Create, Renew, Upgrade};
use ResourceKind::{Database, HostingSite, MailDomain, Server};

const PRODUCTS: [Product; 5] = [
    Product {
        path: "v2/server/",
        list: "server.list",
        prefix: "",
        create: |n| {
            PurchaseRequest::new(Server, Create, format!("web{n}"))
                .offer("c1m1")
                .months(1)
                .option("serverroom", "3")
                .option("os", "centos7.9")
        },
        renew: Some(12),
        upgrade: Some(("c2m4", &[("disk", "50")])),
    },
    Product {
        path: "v2/host/",
        list: "host.detail",
        prefix: "",
        create: |n| {
            PurchaseRequest::new(HostingSite, Create, format!("site{n}x"))
                .offer("L1")
                .option("password", "Host2025pass")
        },
        renew: None,
        upgrade: None,
    },
    Product {
        path: "v2/mail/",
        list: "mail.detail",
        prefix: "",
        create: |n| {
            PurchaseRequest::new(MailDomain, Create, format!("mail{n}.example.com"))
                .offer("M5")
                .option("password", "Mail2025pass")
        },
        renew: Some(24),
        upgrade: Some(("M20", &[])),
    },
    Product {
        path: "v2/mssql/",
        list: "mssql.detail",
        prefix: "",
        create: |n| {
            PurchaseRequest::new(Database, Create, format!("shop{n}"))
                .offer("100")
                .option("version", "2019")
                .option("password", "Sql2025pass")
        },
        renew: Some(12),
        upgrade: Some(("500", &[])),
    },
    Product {
        path: "v2/miniapp/",
        list: "miniapp.syncall",
        prefix: "miniapp:",
        create: |n| {
            PurchaseRequest::new(HostingSite, Create, format!("app{n}.example.com"))
                .offer("miniapp:basic")
        },
        renew: Some(12),
        upgrade: None,
    },
];

impl Product {
    fn act(&self, act: &str) -> String {
        format!("{}?act={act}", self.path)
    }

    /// The ids of the line's resources, as the journal names them.
    async fn ids(&self, e: &Env<Sim>) -> BTreeSet<String> {
        let listed = e.call(self.list, &[]).await.unwrap();
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| format!("{}{}", self.prefix, v["id"]))
            .collect()
    }
}

/// Runs `step` on every product's create, then on the renewal and the upgrade of what
/// it made (`step` answers a create with the new resource's id). The fault text is the
/// request the step's purchase sends.
async fn walk(mut step: impl AsyncFnMut(&Product, &PurchaseRequest, String) -> String) {
    for (n, p) in (1..).zip(&PRODUCTS) {
        let create = (p.create)(n);
        let id = step(p, &create, p.act("buy")).await;
        if let Some(months) = p.renew {
            let renew = PurchaseRequest::new(create.kind, Renew, id.as_str()).months(months);
            step(p, &renew, p.act("renew")).await;
        }
        if let Some((offer, options)) = p.upgrade {
            let mut upgrade = PurchaseRequest::new(create.kind, Upgrade, id.as_str())
                .offer(offer)
                .months(0);
            for (k, v) in options {
                upgrade = upgrade.option(*k, *v);
            }
            step(p, &upgrade, p.act("upgrade")).await;
        }
    }
}

fn key(r: &PurchaseRequest) -> String {
    format!("{}-{}-{}", r.kind.as_str(), r.operation, r.target)
}

fn happened(s: &Settled) -> (Option<String>, Option<Money>) {
    match s {
        Settled::Happened {
            upstream_ref,
            charged,
            ..
        } => (upstream_ref.clone(), *charged),
        other => panic!("expected Happened, got {other:?}"),
    }
}

fn did_not_happen(s: &Settled) -> &str {
    match s {
        Settled::DidNotHappen { evidence } => evidence,
        other => panic!("expected DidNotHappen, got {other:?}"),
    }
}

/// The charge West's finance record holds under the vendor order id `orderid`.
async fn charge(e: &Env<Sim>, orderid: &str) -> Money {
    let since = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1);
    let all = billing(e).charges(since).await.unwrap();
    let mine: Vec<_> = all
        .iter()
        .filter(|c| c.reference.as_deref() == Some(orderid))
        .collect();
    assert_eq!(mine.len(), 1, "{orderid} in {all:?}");
    mine[0].amount
}

#[tokio::test]
async fn each_sale_takes_its_quote_and_settles_by_reading() {
    let e = env().await;
    let mut sold = BTreeSet::new();
    walk(async |_, r, _| {
        let quote = seller(&e).quote(r).await.unwrap();
        let before = seller(&e).before(r).await.unwrap();
        // Never sent: reading finds nothing.
        let (balance, records) = (e.sim.balance(), e.sim.finance_len());
        let not = seller(&e).settle(r, &key(r), &before).await.unwrap();
        assert!(did_not_happen(&not).contains("did not happen"), "{r}");
        assert_eq!((e.sim.balance(), e.sim.finance_len()), (balance, records));

        let order = seller(&e).buy(r, &key(r)).await.unwrap();
        assert!(quote.price > Money::ZERO, "{r}");
        assert_eq!(balance - e.sim.balance(), quote.price, "{r}");
        assert_eq!(order.amount, quote.price, "{r}");
        assert_eq!(e.sim.finance_len(), records + 1, "{r}");
        assert_eq!(charge(&e, &order.id).await, quote.price, "{r}");
        let (upstream_ref, charged) =
            happened(&seller(&e).settle(r, &key(r), &before).await.unwrap());
        assert_eq!(upstream_ref.as_deref(), Some(order.id.as_str()), "{r}");
        assert_eq!(charged, Some(quote.price), "{r}");
        sold.insert((r.kind.as_str(), r.operation.as_str()));
        order.upstream_id.unwrap()
    })
    .await;
    let sells: BTreeSet<_> = seller(&e)
        .sells()
        .into_iter()
        .filter(|(k, _)| *k != ResourceKind::Domain)
        .map(|(k, o)| (k.as_str(), o.as_str()))
        .collect();
    assert_eq!(sold, sells);
}

#[tokio::test]
async fn an_answer_lost_after_commit_is_unknown_and_settles_as_happened() {
    let e = env().await;
    walk(async |p, r, fault| {
        let quote = seller(&e).quote(r).await.unwrap();
        let before = seller(&e).before(r).await.unwrap();
        let (balance, ids) = (e.sim.balance(), p.ids(&e).await);
        e.srv.faults.update(|c| {
            c.next_only_matching = fault;
            c.drop_next = 1;
        });
        let err = seller(&e).buy(r, &key(r)).await.unwrap_err();
        assert!(matches!(err, Error::UnknownOutcome { .. }), "{r}: {err}");
        assert_eq!(e.srv.faults.get().drop_next, 0, "{r}: the fault fired");
        assert_eq!(balance - e.sim.balance(), quote.price, "{r}");
        let (upstream_ref, charged) =
            happened(&seller(&e).settle(r, &key(r), &before).await.unwrap());
        assert_eq!(charged, Some(quote.price), "{r}");
        assert_eq!(charge(&e, &upstream_ref.unwrap()).await, quote.price, "{r}");
        let new: Vec<String> = p.ids(&e).await.difference(&ids).cloned().collect();
        match r.operation {
            Create => {
                assert_eq!(new.len(), 1, "{r}");
                new[0].clone()
            }
            _ => {
                assert_eq!(new, Vec::<String>::new(), "{r}");
                r.target.clone()
            }
        }
    })
    .await;
}

#[tokio::test]
async fn a_short_balance_refuses_the_purchase_and_changes_nothing() {
    let e = env().await;
    walk(async |_, r, _| {
        let before = seller(&e).before(r).await.unwrap();
        e.sim.set_balance(Money::from_fen(1));
        let records = e.sim.finance_len();
        let err = seller(&e).buy(r, &key(r)).await.unwrap_err();
        assert!(
            matches!(err, Error::InsufficientBalance { .. }),
            "{r}: {err}"
        );
        assert_eq!(
            (e.sim.balance(), e.sim.finance_len()),
            (Money::from_fen(1), records),
            "{r}"
        );
        let settled = seller(&e).settle(r, &key(r), &before).await.unwrap();
        did_not_happen(&settled);
        // Then bought for real, so the next step has its resource.
        e.sim.set_balance(Money::from_fen(10_000_000));
        let order = seller(&e).buy(r, &key(r)).await.unwrap();
        order.upstream_id.unwrap()
    })
    .await;
}

/// The sandbox's own mail domain and database, by their West ids.
async fn sandbox_id(e: &Env<Sim>, list: &str) -> String {
    let listed: Value = e.call(list, &[]).await.unwrap();
    listed["items"][0]["id"].to_string()
}

#[tokio::test]
async fn what_a_purchase_lacks_is_named_before_anything_is_sent() {
    let e = env().await;
    let mail = sandbox_id(&e, "mail.detail").await;
    let db = sandbox_id(&e, "mssql.detail").await;
    let server = (PRODUCTS[0].create)(1);
    let without = |k: &str| {
        let mut r = server.clone();
        r.options.remove(k);
        r
    };
    let cases: Vec<(PurchaseRequest, &str)> = vec![
        (without("serverroom"), "serverroom"),
        (
            PurchaseRequest {
                offer: None,
                ..server.clone()
            },
            "offer",
        ),
        (server.clone().offer("large"), "offer"),
        (server.clone().option("region", "3"), "region"),
        (server.clone().months(0), "months"),
        (
            PurchaseRequest::new(MailDomain, Renew, mail.as_str()).months(18),
            "months",
        ),
        (PurchaseRequest::new(Server, Renew, "web-01"), "target"),
        (
            PurchaseRequest::new(HostingSite, Renew, "miniapp:x1"),
            "target",
        ),
        (
            PurchaseRequest::new(MailDomain, Upgrade, mail.as_str()).offer("M20"),
            "offer",
        ),
        (
            PurchaseRequest::new(Database, Create, "shop9").offer("100"),
            "version",
        ),
        (
            PurchaseRequest::new(Database, Upgrade, db.as_str())
                .offer("1000")
                .option("version", "2019"),
            "version",
        ),
    ];
    let requests = e.srv.faults.requests();
    let mut sent_for_reads = 0;
    for (r, field) in &cases {
        match seller(&e).quote(r).await.unwrap_err() {
            Error::InvalidInput { field: f, reason } => {
                assert_eq!(f, *field, "{r}: {reason}")
            }
            other => panic!("{r}: {other}"),
        }
        // The sandbox mail domain is already M20: reading it is what refuses that one.
        sent_for_reads += u64::from(r.operation == Upgrade && *field == "offer");
    }
    assert_eq!(e.srv.faults.requests(), requests + sent_for_reads);
    // The postmaster password is never shown again, so a mail purchase needs one.
    let no_password = PurchaseRequest::new(MailDomain, Create, "nopass.example.com").offer("M5");
    assert!(
        matches!(seller(&e).buy(&no_password, "k").await.unwrap_err(),
            Error::InvalidInput { field, .. } if field == "password")
    );
    assert_eq!(e.srv.faults.requests(), requests + sent_for_reads);
}

#[tokio::test]
async fn what_west_does_not_sell_is_unsupported() {
    let e = env().await;
    let unsold = [
        PurchaseRequest::new(HostingSite, Renew, "1001"),
        PurchaseRequest::new(HostingSite, Upgrade, "miniapp:1001").offer("miniapp:pro"),
        PurchaseRequest::new(Server, Operation::Transfer, "web"),
        PurchaseRequest::new(ResourceKind::Certificate, Create, "example.com"),
    ];
    for r in &unsold {
        let err = seller(&e).quote(r).await.unwrap_err();
        assert!(matches!(err, Error::Unsupported { .. }), "{r}: {err}");
        let err = seller(&e).buy(r, "k").await.unwrap_err();
        assert!(matches!(err, Error::Unsupported { .. }), "{r}: {err}");
    }
}
