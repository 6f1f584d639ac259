//! Resale's foundation against the real West simulator, on SQLite and PostgreSQL:
//! tenant top-ups deposited once per key, balances and what a tenant may spend derived
//! from the ledger, suspension, and catalog prices from a live upstream quote by rule
//! (markup, fixed, level, discount, rounding to the fen).
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use idcgate_core::ledger::{LedgerAccount, Transaction};
use idcgate_core::purchase::{Operation, PurchaseRequest};
use idcgate_core::{Error, Money, ResourceKind};
use idcgate_engine::catalog::{round_to_fen, Basis, PriceRule, ProductSpec};
use idcgate_engine::{Engine, EngineError};
#[allow(unused_imports)]
// the store's traits, for what a test seeds or reads behind the engine
use idcgate_store::prelude::*;
use idcgate_store::testing::TestDb;
use idcgate_store::{both_backends, LedgerFilter, ProductState, Removal, TenantState};
use idcgate_wire::sim::SimServer;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::sync::Arc;

both_backends!(
    a_topup_is_deposited_once_per_key_and_the_balance_is_the_ledgers,
    credit_and_suspension_decide_what_a_tenant_may_spend,
    a_tenant_is_removed_but_kept_once_it_held_money,
    products_are_priced_from_a_live_quote_by_rule,
    a_product_template_must_be_one_the_account_sells,
);

struct Fixture {
    engine: Arc<Engine>,
    srv: SimServer,
}

async fn fixture(db: &TestDb) -> Fixture {
    let engine = common::engine_on(db, vec![common::west()]).await;
    let srv = common::add_sandbox(&engine, "w", &idcgate_west::Sim::sandbox()).await;
    Fixture { engine, srv }
}

fn yuan(s: &str) -> Money {
    s.parse().unwrap()
}

fn pct(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// Books a server sale of `yuan_amount` paid from `from` (a tenant's balance or credit).
async fn charge(db: &TestDb, memo: &str, from: LedgerAccount, yuan_amount: &str) {
    let sale = LedgerAccount::Revenue("server".into());
    let txn = Transaction::transfer(memo, None, from, sale, yuan(yuan_amount)).unwrap();
    db.store.post_transaction(&txn).await.unwrap();
}

/// The sum of a ledger account's entries, read line by line.
async fn ledger_sum(engine: &Engine, account: &str) -> Money {
    let lines = engine
        .reads()
        .ledger(&LedgerFilter {
            account: Some(account.into()),
            limit: Some(i64::MAX),
            ..Default::default()
        })
        .await
        .unwrap();
    Money::from_fen(lines.iter().map(|l| l.fen).sum())
}

async fn a_topup_is_deposited_once_per_key_and_the_balance_is_the_ledgers(db: &TestDb) {
    let f = fixture(db).await;
    let e = &f.engine;
    let (t, key) = e.add_tenant("test", "acme", "", Money::ZERO).await.unwrap();
    assert_eq!((t.balance, t.available), (Money::ZERO, Money::ZERO));
    let first = e
        .topup_tenant(
            "test",
            "acme",
            yuan("100.00"),
            Some("bank-1"),
            Some("transfer 8812"),
        )
        .await
        .unwrap();
    assert!(!first.repeated);
    assert_eq!(first.tenant.balance, yuan("100.00"));
    let again = e
        .topup_tenant("test", "acme", yuan("100.00"), Some("bank-1"), None)
        .await
        .unwrap();
    assert!(again.repeated);
    assert_eq!(again.deposit, first.deposit);
    assert_eq!(again.tenant.balance, yuan("100.00"));
    // The key names one deposit: another amount or tenant under it is refused.
    e.add_tenant("test", "globex", "", Money::ZERO)
        .await
        .unwrap();
    for (who, amount) in [("acme", "90.00"), ("globex", "100.00")] {
        let err = e
            .topup_tenant("test", who, yuan(amount), Some("bank-1"), None)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("bank-1"), "{err}");
    }
    // Six at once under one new key: one deposit.
    let racing: Vec<_> = (0..6)
        .map(|_| {
            let e = e.clone();
            tokio::spawn(async move {
                e.topup_tenant("test", "acme", yuan("0.01"), Some("race"), None)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut fresh = 0;
    for r in racing {
        fresh += usize::from(!r.await.unwrap().repeated);
    }
    assert_eq!(fresh, 1);
    // Without a key every top-up is its own.
    for _ in 0..2 {
        e.topup_tenant("test", "acme", yuan("0.50"), None, None)
            .await
            .unwrap();
    }
    let acme = e.tenant("acme").await.unwrap();
    assert_eq!(acme.balance, yuan("101.01"));
    assert_eq!(acme.balance, ledger_sum(e, "tenant:acme").await);
    assert_eq!(ledger_sum(e, "funding").await, yuan("-101.01"));
    assert_eq!(e.reads().deposits("acme").await.unwrap().len(), 4);
    // Money leaving the tenant's account in the ledger is money it no longer has.
    charge(db, "a charge", LedgerAccount::Tenant("acme".into()), "1.01").await;
    assert_eq!(e.tenant("acme").await.unwrap().balance, yuan("100.00"));
    for bad in ["0", "-5.00", "0.001", "100000000.01"] {
        let err = e
            .topup_tenant("test", "acme", yuan(bad), None, None)
            .await
            .unwrap_err();
        assert!(
            matches!(err, EngineError::Upstream(Error::InvalidInput { ref field, .. }) if field == "amount"),
            "{bad}: {err}"
        );
    }
    assert!(matches!(
        e.topup_tenant("test", "nobody", yuan("1.00"), None, None)
            .await
            .unwrap_err(),
        EngineError::Upstream(Error::NotFound { .. })
    ));
    common::assert_books_balance(e).await;
    // The audit names every top-up and never the key.
    let audit = db.store.list_audit(100).await.unwrap();
    assert!(audit
        .iter()
        .any(|a| a.action == "tenant.topup" && a.actor == "test" && a.detail.contains("bank-1")));
    assert!(audit.iter().all(|a| !a.detail.contains(key.expose())));
}

async fn credit_and_suspension_decide_what_a_tenant_may_spend(db: &TestDb) {
    let f = fixture(db).await;
    let e = &f.engine;
    e.add_tenant("test", "acme", "gold", yuan("50.00"))
        .await
        .unwrap();
    e.topup_tenant("test", "acme", yuan("100.00"), None, None)
        .await
        .unwrap();
    let t = e.tenant_may_spend("acme", yuan("150.00")).await.unwrap();
    assert_eq!(t.available, yuan("150.00"));
    let short = e
        .tenant_may_spend("acme", yuan("150.01"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            short,
            EngineError::Upstream(Error::InsufficientBalance { .. })
        ),
        "{short}"
    );
    // Credit drawn (as a charge past the balance will book it) counts against the limit.
    let credit = LedgerAccount::TenantCredit("acme".into());
    charge(db, "a charge on credit", credit, "30.00").await;
    let t = e.tenant("acme").await.unwrap();
    assert_eq!(
        (t.balance, t.credit_drawn, t.available),
        (yuan("100.00"), yuan("30.00"), yuan("120.00"))
    );
    // A top-up repays drawn credit first.
    let after = e
        .topup_tenant("test", "acme", yuan("40.00"), None, None)
        .await
        .unwrap()
        .tenant;
    assert_eq!(
        (after.balance, after.credit_drawn, after.available),
        (yuan("110.00"), Money::ZERO, yuan("160.00"))
    );
    assert_eq!(ledger_sum(e, "tenant-credit:acme").await, Money::ZERO);
    // Lowering the limit is a setting; no money moves.
    let lines = e
        .reads()
        .ledger(&LedgerFilter::default())
        .await
        .unwrap()
        .len();
    let t = e
        .set_tenant_credit("test", "acme", Money::ZERO)
        .await
        .unwrap();
    assert_eq!((t.credit_limit, t.available), (Money::ZERO, yuan("110.00")));
    assert_eq!(
        e.reads()
            .ledger(&LedgerFilter::default())
            .await
            .unwrap()
            .len(),
        lines
    );

    // Suspended: reads and pays in, buys nothing.
    let t = e.suspend_tenant("test", "acme").await.unwrap();
    assert_eq!(t.tenant.state, TenantState::Suspended);
    let refused = e.tenant_may_spend("acme", yuan("1.00")).await.unwrap_err();
    assert!(
        refused.to_string().contains("may read but not buy"),
        "{refused}"
    );
    assert!(e.suspend_tenant("test", "acme").await.is_err());
    e.topup_tenant("test", "acme", yuan("5.00"), None, None)
        .await
        .unwrap();
    assert_eq!(e.tenant("acme").await.unwrap().balance, yuan("115.00"));
    e.resume_tenant("test", "acme").await.unwrap();
    e.tenant_may_spend("acme", yuan("115.00")).await.unwrap();
    assert!(e.resume_tenant("test", "acme").await.is_err());
    let t = e.set_tenant_level("test", "acme", "silver").await.unwrap();
    assert_eq!(t.tenant.price_level, "silver");
    assert!(e
        .set_tenant_level("test", "acme", "no spaces")
        .await
        .is_err());
    let actions: Vec<String> = e
        .audit_trail(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.outcome == "ok")
        .map(|a| a.action)
        .collect();
    for a in [
        "tenant.add",
        "tenant.credit",
        "tenant.suspend",
        "tenant.resume",
        "tenant.level",
    ] {
        assert!(
            actions.iter().any(|x| x == a),
            "{a} not audited: {actions:?}"
        );
    }
}

async fn a_tenant_is_removed_but_kept_once_it_held_money(db: &TestDb) {
    let f = fixture(db).await;
    let e = &f.engine;
    e.add_tenant("test", "typo", "", Money::ZERO).await.unwrap();
    assert_eq!(
        e.remove_tenant("test", "typo").await.unwrap(),
        Removal::Deleted
    );
    assert!(e.tenant("typo").await.is_err());
    e.add_tenant("test", "acme", "", Money::ZERO).await.unwrap();
    e.topup_tenant("test", "acme", yuan("9.00"), Some("k"), None)
        .await
        .unwrap();
    assert_eq!(
        e.remove_tenant("test", "acme").await.unwrap(),
        Removal::Retired
    );
    let t = e.tenant("acme").await.unwrap();
    assert_eq!(
        (t.tenant.state, t.balance),
        (TenantState::Removed, yuan("9.00"))
    );
    assert!(e
        .topup_tenant("test", "acme", yuan("1.00"), None, None)
        .await
        .is_err());
    // Its earlier key still answers, depositing nothing.
    assert!(
        e.topup_tenant("test", "acme", yuan("9.00"), Some("k"), None)
            .await
            .unwrap()
            .repeated
    );
    assert!(e.tenant_may_spend("acme", Money::ZERO).await.is_err());
    assert!(e.remove_tenant("test", "acme").await.is_err());
    assert!(e.rekey_tenant("test", "acme").await.is_err());
    assert!(e.add_tenant("test", "acme", "", Money::ZERO).await.is_err());
    assert_eq!(e.tenants(false).await.unwrap().len(), 0);
    assert_eq!(e.tenants(true).await.unwrap().len(), 1);
    assert_eq!(e.tenant("acme").await.unwrap().balance, yuan("9.00"));
}

fn server_spec(name: &str, rule: PriceRule) -> ProductSpec {
    ProductSpec {
        name: name.into(),
        title: Some("Cloud 1C1G".into()),
        account: "w".into(),
        kind: ResourceKind::Server,
        offer: Some("c1m1".into()),
        options: [("serverroom", "3"), ("os", "centos7.9")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        rule,
    }
}

async fn products_are_priced_from_a_live_quote_by_rule(db: &TestDb) {
    let f = fixture(db).await;
    let e = &f.engine;
    let rule = PriceRule::parse(
        "20%",
        &["gold=99.00".into(), "silver=10%".into()],
        &["3=5%".into(), "12=10".into()],
        Some("1,3,12"),
    )
    .unwrap();
    let p = e
        .add_product("test", server_spec("cloud-1c1g", rule))
        .await
        .unwrap();
    assert_eq!(p.state, ProductState::OnSale);
    e.add_tenant("test", "goldco", "gold", Money::ZERO)
        .await
        .unwrap();
    e.add_tenant("test", "silverco", "silver", Money::ZERO)
        .await
        .unwrap();
    e.add_tenant("test", "plain", "bronze", Money::ZERO)
        .await
        .unwrap();

    for months in [1u32, 3, 12] {
        let cost = e
            .quote("w", &p.purchase("anything", months))
            .await
            .unwrap()
            .price;
        let off = match months {
            1 => pct("1"),
            3 => pct("0.95"),
            _ => pct("0.90"),
        };
        let base = e
            .product_price("cloud-1c1g", None, Some(months))
            .await
            .unwrap();
        assert_eq!(
            base.cost, cost,
            "{months} months: the cost is the live quote"
        );
        assert_eq!(base.price, round_to_fen(cost.0 * pct("1.2") * off));
        assert_eq!(base.margin, base.price - base.cost);
        assert_eq!(base.level, "");
        let gold = e
            .product_price("cloud-1c1g", Some("goldco"), Some(months))
            .await
            .unwrap();
        assert_eq!(gold.level, "gold");
        assert_eq!(
            gold.price,
            round_to_fen(pct("99") * Decimal::from(months) * off)
        );
        let silver = e
            .product_price("cloud-1c1g", Some("silverco"), Some(months))
            .await
            .unwrap();
        assert_eq!(silver.price, round_to_fen(cost.0 * pct("1.1") * off));
        // A level the rule does not name buys at the base rule.
        let plain = e
            .product_price("cloud-1c1g", Some("plain"), Some(months))
            .await
            .unwrap();
        assert_eq!((plain.level.as_str(), plain.price), ("", base.price));
    }
    // A term the rule does not offer is refused before anything is asked upstream.
    let requests = f.srv.faults.requests();
    assert!(e.product_price("cloud-1c1g", None, Some(6)).await.is_err());
    assert_eq!(f.srv.faults.requests(), requests);
    // Every price reads the upstream again: no cost is kept to fall back on.
    e.product_price("cloud-1c1g", None, None).await.unwrap();
    assert!(f.srv.faults.requests() > requests);
    f.srv.faults.update(|c| c.error_next = 10);
    assert!(e.product_price("cloud-1c1g", None, Some(12)).await.is_err());
    f.srv.faults.update(|c| c.error_next = 0);
    let shown = e
        .product_prices(&e.product("cloud-1c1g").await.unwrap())
        .await;
    assert_eq!(
        shown.iter().map(|t| t.months).collect::<Vec<_>>(),
        [1, 3, 12]
    );
    assert!(shown.iter().all(|t| t.cost.is_some() && t.error.is_none()));
    assert_eq!(
        shown[0]
            .prices
            .iter()
            .map(|(l, _)| l.as_str())
            .collect::<Vec<_>>(),
        ["", "gold", "silver"]
    );

    // A new rule applies at once; the product is found by id too.
    let fixed = PriceRule::new(Basis::Fixed(yuan("150.00")));
    let changed = e
        .update_product("test", &p.id.to_string(), None, Some(&fixed))
        .await
        .unwrap();
    assert_eq!(
        (changed.title.as_str(), changed.rule.clone()),
        ("Cloud 1C1G", fixed)
    );
    let v = e.product_price("cloud-1c1g", None, Some(2)).await.unwrap();
    assert_eq!(v.price, yuan("300.00"));
    let retired = e.retire_product("test", "cloud-1c1g").await.unwrap();
    assert_eq!(retired.state, ProductState::Retired);
    assert!(e.retire_product("test", "cloud-1c1g").await.is_err());
    assert!(e.products(false).await.unwrap().is_empty());
    assert_eq!(e.products(true).await.unwrap().len(), 1);
}

async fn a_product_template_must_be_one_the_account_sells(db: &TestDb) {
    let f = fixture(db).await;
    let e = &f.engine;
    let rule = PriceRule::new(Basis::Markup(pct("15")));
    let mut cases: Vec<(ProductSpec, &str)> = Vec::new();
    let mut bad_offer = server_spec("bad-offer", rule.clone());
    bad_offer.offer = Some("huge".into());
    cases.push((bad_offer, "offer"));
    let mut secret = server_spec("with-secret", rule.clone());
    secret.options.insert("password".into(), "Pa55word!".into());
    cases.push((secret, "password"));
    let mut domain = server_spec("a-domain", rule.clone());
    domain.kind = ResourceKind::Domain;
    cases.push((domain, "kind"));
    let mut name = server_spec("9lives", rule.clone());
    name.name = "9lives".into();
    cases.push((name, "name"));
    for (spec, field) in cases {
        let err = e.add_product("test", spec.clone()).await.unwrap_err();
        assert!(
            matches!(&err, EngineError::Upstream(Error::InvalidInput { field: f, .. }) if f == field),
            "{}: {err}",
            spec.name
        );
    }
    // A kind the account does not sell at all.
    let mut cert = server_spec("a-cert", rule.clone());
    cert.kind = ResourceKind::Certificate;
    assert!(matches!(
        e.add_product("test", cert).await.unwrap_err(),
        EngineError::Upstream(Error::Unsupported { .. })
    ));
    let mut nowhere = server_spec("nowhere", rule.clone());
    nowhere.account = "nobody".into();
    assert!(matches!(
        e.add_product("test", nowhere).await.unwrap_err(),
        EngineError::NoSuchAccount(_)
    ));
    assert!(e.products(true).await.unwrap().is_empty());
    // A MSSQL database and a virtual host, priced by the year.
    let db_spec = ProductSpec {
        name: "mssql-100".into(),
        title: None,
        account: "w".into(),
        kind: ResourceKind::Database,
        offer: Some("100".into()),
        options: BTreeMap::from([("version".to_string(), "2019".to_string())]),
        rule: rule.clone(),
    };
    let db_product = e.add_product("test", db_spec.clone()).await.unwrap();
    assert_eq!(db_product.title, "mssql-100");
    let err = e.add_product("test", db_spec).await.unwrap_err();
    assert!(err.to_string().contains("exists"), "{err}");
    let host = ProductSpec {
        name: "host-l1".into(),
        title: Some("Linux host L1".into()),
        account: "w".into(),
        kind: ResourceKind::HostingSite,
        offer: Some("L1".into()),
        options: BTreeMap::new(),
        rule,
    };
    e.add_product("test", host).await.unwrap();
    let v = e.product_price("host-l1", None, None).await.unwrap();
    assert_eq!(v.months, 12);
    assert_eq!(v.price, round_to_fen(v.cost.0 * pct("1.15")));
    let q = e
        .quote(
            "w",
            &PurchaseRequest::new(ResourceKind::HostingSite, Operation::Create, "x")
                .offer("L1")
                .months(12),
        )
        .await
        .unwrap();
    assert_eq!(v.cost, q.price);
}

#[test]
fn price_rules_markup_fixed_level_discount_and_rounding() {
    let m = |s: &str| s.parse::<Money>().unwrap();
    let markup = |p: &str| PriceRule::new(Basis::Markup(pct(p)));
    // Rounded once, half a fen up: 0.99 × 1.15 = 1.1385; 0.10 × 1.05 = 0.105.
    for (percent, cost, price) in [
        ("15", "0.99", "1.14"),
        ("5", "0.10", "0.11"),
        ("5", "0.30", "0.32"),
        ("0", "7.77", "7.77"),
    ] {
        assert_eq!(
            markup(percent).price("", 1, Some(m(cost))).unwrap(),
            m(price),
            "{percent}% on {cost}"
        );
    }
    assert_eq!(round_to_fen(pct("0.125")), m("0.13"));
    assert_eq!(round_to_fen(pct("0.1249")), m("0.12"));
    assert!(
        markup("20").price("", 1, None).is_err(),
        "a markup needs a cost"
    );

    let rule = PriceRule::parse(
        "99.00",
        &["gold=80.00".into(), "vip=5%".into()],
        &["3=5%".into(), "12=10%".into()],
        None,
    )
    .unwrap();
    for (months, price) in [
        (1, "99.00"),
        (2, "198.00"),
        (3, "282.15"),
        (11, "1034.55"),
        (12, "1069.20"),
        (36, "3207.60"),
    ] {
        assert_eq!(rule.price("", months, None).unwrap(), m(price), "{months}");
    }
    assert_eq!(rule.price("gold", 12, None).unwrap(), m("864.00"));
    assert_eq!(rule.price("nobody", 12, None).unwrap(), m("1069.20"));
    assert_eq!(rule.price("vip", 3, Some(m("100.00"))).unwrap(), m("99.75"));
    assert_eq!(rule.discount_for(2), Decimal::ZERO);
    assert_eq!(rule.discount_for(24), pct("10"));
    // 33.33 × 3 = 99.99, 5 % off = 94.9905.
    let odd = PriceRule::parse("33.33", &[], &["3=5".into()], None).unwrap();
    assert_eq!(odd.price("", 3, None).unwrap(), m("94.99"));

    // Terms: only those offered.
    let termed = PriceRule::parse("10%", &[], &[], Some("1, 12")).unwrap();
    assert!(termed.price("", 12, Some(m("1.00"))).is_ok());
    assert!(termed.price("", 6, Some(m("1.00"))).is_err());
    assert!(markup("10").price("", 0, Some(m("1.00"))).is_err());
    assert!(markup("10").price("", 121, Some(m("1.00"))).is_err());

    // What the rule refuses to be.
    for (basis, levels, discounts, periods) in [
        ("-5%", vec![], vec![], None),
        ("1001%", vec![], vec![], None),
        ("0.00", vec![], vec![], None),
        ("9.999", vec![], vec![], None),
        ("1000000.01", vec![], vec![], None),
        ("lots", vec![], vec![], None),
        ("10%", vec!["bad level=5%".to_string()], vec![], None),
        ("10%", vec!["gold".to_string()], vec![], None),
        ("10%", vec![], vec!["12=100%".to_string()], None),
        ("10%", vec![], vec!["0=5%".to_string()], None),
        ("10%", vec![], vec!["twelve=5%".to_string()], None),
        ("10%", vec![], vec![], Some("1,1")),
        ("10%", vec![], vec![], Some("0")),
    ] {
        assert!(
            PriceRule::parse(basis, &levels, &discounts, periods).is_err(),
            "{basis} {levels:?} {discounts:?} {periods:?}"
        );
    }
    // An absurd upstream cost is an error, never a panic.
    let huge = Money(Decimal::MAX);
    assert!(markup("1000").price("", 1, Some(huge)).is_err());
    assert!(markup("10").price("", 1, Some(m("-1.00"))).is_err());

    // Stored as JSON and read back the same; text shown to people.
    let json = serde_json::to_value(&rule).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"basis": {"fixed": "99.00"}, "levels": {"gold": {"fixed": "80.00"}, "vip": {"markup": "5"}},
                           "discounts": {"3": "5", "12": "10"}})
    );
    assert_eq!(serde_json::from_value::<PriceRule>(json).unwrap(), rule);
    assert_eq!(
        rule.to_string(),
        "99.00 a month; gold: 80.00 a month; vip: cost + 5%; 5% off from 3 months; 10% off from 12 months"
    );
}
