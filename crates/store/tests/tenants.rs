//! Tenants, their deposits and the product catalog, on SQLite and PostgreSQL: the appkey
//! kept only as a digest, one deposit per key (also under a race) in the same
//! transaction as its ledger lines, states moved by compare-and-set, a tenant that held
//! money never deleted, deposits append-only in the database itself.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use idcgate_core::ledger::{LedgerAccount, Transaction};
use idcgate_core::{Money, ResourceKind};
use idcgate_store::both_backends;
use idcgate_store::testing::{join_all, TestDb};
use idcgate_store::*;
use serde_json::json;

both_backends!(
    a_tenant_gets_an_appid_and_a_key_kept_only_as_a_digest,
    one_key_is_one_deposit_even_when_paid_concurrently,
    a_removed_or_unknown_tenant_takes_no_deposit,
    tenant_states_move_by_compare_and_set,
    a_tenant_that_held_money_is_retired_not_deleted,
    deposits_are_append_only,
    products_are_added_once_changed_and_retired_never_deleted,
    a_products_units_are_replaced_whole_in_fen,
);

const NOW: i64 = 1_780_000_000_000;

fn tenant(name: &str) -> NewTenant {
    NewTenant {
        name: name.into(),
        price_level: "gold".into(),
        credit_limit_fen: 50_000,
    }
}

fn topup(tenant: &str, fen: i64) -> Transaction {
    Transaction::transfer(
        format!("top-up {tenant}"),
        None,
        LedgerAccount::Funding,
        LedgerAccount::Tenant(tenant.into()),
        Money::from_fen(fen),
    )
    .unwrap()
}

fn deposit(key: &str, tenant: &str, fen: i64) -> NewDeposit {
    NewDeposit {
        idem_key: key.into(),
        tenant: tenant.into(),
        fen,
        actor: "cli:test".into(),
    }
}

async fn raw_text(f: &TestDb, sql: &str) -> String {
    use sqlx::Row;
    let rows = sqlx::query(sql)
        .fetch_all(&f.raw_pool().await)
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get::<String, _>(0).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

async fn a_tenant_gets_an_appid_and_a_key_kept_only_as_a_digest(f: &TestDb) {
    let s = &f.store;
    let (row, key) = s.add_tenant(&tenant("acme"), NOW).await.unwrap();
    assert_eq!(row.state, TenantState::Active);
    assert_eq!(
        (row.price_level.as_str(), row.credit_limit_fen),
        ("gold", 50_000)
    );
    assert_eq!(row.appid.len(), 8, "{}", row.appid);
    assert!(row.appid.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(key.expose().len(), 48);
    assert_eq!(format!("{key:?}"), "AppKey([redacted])");
    let (other, other_key) = s.add_tenant(&tenant("globex"), NOW).await.unwrap();
    assert_ne!(other.appid, row.appid);
    assert_ne!(other_key.expose(), key.expose());

    assert_eq!(
        s.verify_tenant(&row.appid, key.expose()).await.unwrap(),
        Some(row.clone())
    );
    for (appid, k) in [
        (row.appid.as_str(), other_key.expose()),
        (other.appid.as_str(), key.expose()),
        (row.appid.as_str(), ""),
        ("", key.expose()),
        ("00000000", key.expose()),
    ] {
        assert_eq!(s.verify_tenant(appid, k).await.unwrap(), None, "{appid}");
    }
    // The name is the identity of its ledger accounts: taken once.
    assert!(matches!(
        s.add_tenant(&tenant("acme"), NOW).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        s.tenant_by_appid(&row.appid).await.unwrap(),
        Some(row.clone())
    );
    let listed = s.list_tenants(false).await.unwrap();
    assert_eq!(
        listed.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["acme", "globex"]
    );
    let dump = raw_text(f, "SELECT appkey_hash FROM tenants").await;
    assert!(!dump.contains(key.expose()) && !dump.contains(other_key.expose()));
    assert_eq!(dump.lines().count(), 2);

    // A new key replaces the old one.
    let fresh = s.rekey_tenant("acme", NOW + 1).await.unwrap().unwrap();
    assert_eq!(
        s.verify_tenant(&row.appid, key.expose()).await.unwrap(),
        None
    );
    assert!(s
        .verify_tenant(&row.appid, fresh.expose())
        .await
        .unwrap()
        .is_some());
    assert!(s.rekey_tenant("nobody", NOW).await.unwrap().is_none());

    let patched = s
        .update_tenant(
            "acme",
            &TenantPatch {
                price_level: Some("silver".into()),
                credit_limit_fen: None,
            },
            NOW + 2,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            patched.price_level.as_str(),
            patched.credit_limit_fen,
            patched.updated_ms
        ),
        ("silver", 50_000, NOW + 2)
    );
    assert!(s
        .update_tenant("nobody", &TenantPatch::default(), NOW)
        .await
        .unwrap()
        .is_none());
}

async fn one_key_is_one_deposit_even_when_paid_concurrently(f: &TestDb) {
    let s = &f.store;
    s.add_tenant(&tenant("acme"), NOW).await.unwrap();
    let first = match s
        .deposit(&deposit("d1", "acme", 10_000), &topup("acme", 10_000), NOW)
        .await
        .unwrap()
    {
        Deposited::New(d) => d,
        Deposited::Existing(_) => panic!("a fresh key is a new deposit"),
    };
    // The same key with another amount: the first deposit, nothing written.
    match s
        .deposit(&deposit("d1", "acme", 99_999), &topup("acme", 99_999), NOW)
        .await
        .unwrap()
    {
        Deposited::Existing(d) => assert_eq!(d, first),
        Deposited::New(_) => panic!("one key deposited twice"),
    }
    assert_eq!(s.account_balance("tenant:acme").await.unwrap(), 10_000);

    // Eight deposits of one new key at once: exactly one moves money.
    let d2 = deposit("d2", "acme", 2_500);
    let t2 = topup("acme", 2_500);
    let racing = (0..8).map(|_| Box::pin(s.deposit(&d2, &t2, NOW))).collect();
    let results = join_all(racing).await;
    let new = results
        .iter()
        .filter(|r| matches!(r, Ok(Deposited::New(_))))
        .count();
    assert_eq!(new, 1, "{results:?}");
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(s.account_balance("tenant:acme").await.unwrap(), 12_500);
    assert_eq!(s.account_balance("funding").await.unwrap(), -12_500);
    assert_eq!(s.account_balance("tenant:nobody").await.unwrap(), 0);
    let deposits = s.deposits("acme").await.unwrap();
    assert_eq!(deposits.len(), 2);
    let lines = common::ledger_of(s, "tenant:acme").await;
    assert_eq!(
        lines.iter().map(|l| l.txn_id).collect::<Vec<_>>(),
        deposits.iter().map(|d| d.txn_id).collect::<Vec<_>>(),
        "each deposit is one ledger transaction"
    );
    assert_eq!(
        s.deposit_by_key("d2").await.unwrap(),
        Some(deposits[1].clone())
    );
    assert!(s.unbalanced_transactions().await.unwrap().is_empty());
}

async fn a_removed_or_unknown_tenant_takes_no_deposit(f: &TestDb) {
    let s = &f.store;
    assert!(matches!(
        s.deposit(&deposit("x1", "ghost", 100), &topup("ghost", 100), NOW)
            .await,
        Err(StoreError::NotFound(_))
    ));
    s.add_tenant(&tenant("acme"), NOW).await.unwrap();
    s.deposit(&deposit("a1", "acme", 100), &topup("acme", 100), NOW)
        .await
        .unwrap();
    assert_eq!(
        s.remove_tenant("acme", NOW).await.unwrap(),
        Some(Removal::Retired)
    );
    assert!(matches!(
        s.deposit(&deposit("a2", "acme", 100), &topup("acme", 100), NOW)
            .await,
        Err(StoreError::Conflict(_))
    ));
    // Its earlier key still answers with what it deposited.
    assert!(matches!(
        s.deposit(&deposit("a1", "acme", 100), &topup("acme", 100), NOW)
            .await,
        Ok(Deposited::Existing(_))
    ));
    assert_eq!(s.account_balance("tenant:acme").await.unwrap(), 100);
    assert_eq!(
        s.ledger_lines(&LedgerFilter::default())
            .await
            .unwrap()
            .len(),
        2,
        "refused deposits wrote nothing"
    );
}

async fn tenant_states_move_by_compare_and_set(f: &TestDb) {
    use TenantState::*;
    let s = &f.store;
    s.add_tenant(&tenant("acme"), NOW).await.unwrap();
    assert!(!s.move_tenant("acme", Suspended, Active, NOW).await.unwrap());
    assert!(s
        .move_tenant("acme", Active, Suspended, NOW + 5)
        .await
        .unwrap());
    assert!(!s.move_tenant("acme", Active, Suspended, NOW).await.unwrap());
    let row = s.get_tenant("acme").await.unwrap().unwrap();
    assert_eq!((row.state, row.updated_ms), (Suspended, NOW + 5));
    assert!(s.move_tenant("acme", Suspended, Active, NOW).await.unwrap());
    assert!(!s
        .move_tenant("ghost", Active, Suspended, NOW)
        .await
        .unwrap());
    // A suspended tenant still proves who it is (it may read); the caller decides.
    let (_, key) = s.add_tenant(&tenant("globex"), NOW).await.unwrap();
    let g = s.get_tenant("globex").await.unwrap().unwrap();
    assert!(s
        .move_tenant("globex", Active, Suspended, NOW)
        .await
        .unwrap());
    assert_eq!(
        s.verify_tenant(&g.appid, key.expose())
            .await
            .unwrap()
            .map(|t| t.state),
        Some(Suspended)
    );
}

async fn a_tenant_that_held_money_is_retired_not_deleted(f: &TestDb) {
    let s = &f.store;
    // Never held money: gone, and the name free again.
    s.add_tenant(&tenant("typo"), NOW).await.unwrap();
    assert_eq!(
        s.remove_tenant("typo", NOW).await.unwrap(),
        Some(Removal::Deleted)
    );
    assert!(s.get_tenant("typo").await.unwrap().is_none());
    s.add_tenant(&tenant("typo"), NOW).await.unwrap();

    // Credit drawn is money it held, even with nothing deposited.
    s.add_tenant(&tenant("acme"), NOW).await.unwrap();
    let drawn = Transaction::transfer(
        "charge acme",
        None,
        LedgerAccount::TenantCredit("acme".into()),
        LedgerAccount::Revenue("server".into()),
        Money::from_fen(700),
    )
    .unwrap();
    s.post_transaction(&drawn).await.unwrap();
    assert_eq!(
        s.remove_tenant("acme", NOW + 9).await.unwrap(),
        Some(Removal::Retired)
    );
    let row = s.get_tenant("acme").await.unwrap().unwrap();
    assert_eq!(row.state, TenantState::Removed);
    assert_eq!(s.remove_tenant("acme", NOW).await.unwrap(), None);
    assert!(matches!(
        s.add_tenant(&tenant("acme"), NOW).await,
        Err(StoreError::Conflict(_))
    ));
    // Removed is final: no settings, no key, no way back.
    assert!(s
        .update_tenant("acme", &TenantPatch::default(), NOW)
        .await
        .unwrap()
        .is_none());
    assert!(s.rekey_tenant("acme", NOW).await.unwrap().is_none());
    assert!(!s
        .move_tenant("acme", TenantState::Suspended, TenantState::Active, NOW)
        .await
        .unwrap());
    assert_eq!(
        s.list_tenants(false)
            .await
            .unwrap()
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        ["typo"]
    );
    assert_eq!(s.list_tenants(true).await.unwrap().len(), 2);
    assert_eq!(s.account_balance("tenant-credit:acme").await.unwrap(), -700);
}

async fn deposits_are_append_only(f: &TestDb) {
    let s = &f.store;
    s.add_tenant(&tenant("acme"), NOW).await.unwrap();
    s.deposit(&deposit("d1", "acme", 100), &topup("acme", 100), NOW)
        .await
        .unwrap();
    f.assert_refused(&[
        "UPDATE tenant_deposits SET fen = 0",
        "DELETE FROM tenant_deposits",
    ])
    .await;
    assert_eq!(s.deposits("acme").await.unwrap().len(), 1);
}

async fn products_are_added_once_changed_and_retired_never_deleted(f: &TestDb) {
    let s = &f.store;
    let p = NewProduct {
        name: "cloud-1c1g".into(),
        title: "Cloud 1C1G".into(),
        account: "sandbox-west".into(),
        kind: ResourceKind::Server,
        offer: Some("c1m1".into()),
        options: json!({"serverroom": "3", "os": "centos7.9"}),
        rule: json!({"basis": {"markup": "20"}}),
    };
    let row = s.add_product(&p, NOW).await.unwrap();
    assert_eq!(row.product, p);
    assert_eq!(row.state, ProductState::OnSale);
    assert!(matches!(
        s.add_product(&p, NOW).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        s.get_product(&row.id.to_string()).await.unwrap(),
        Some(row.clone())
    );
    let hosting = NewProduct {
        name: "web-l1".into(),
        kind: ResourceKind::HostingSite,
        offer: None,
        options: json!({}),
        ..p.clone()
    };
    let second = s.add_product(&hosting, NOW).await.unwrap();
    assert!(second.id > row.id);
    assert_eq!(second.product.offer, None);

    let rule = json!({"basis": {"fixed": "99.00"}});
    let changed = s
        .update_product("cloud-1c1g", None, Some(&rule), NOW + 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (changed.product.rule.clone(), changed.product.title.as_str()),
        (rule, "Cloud 1C1G")
    );
    assert!(s
        .update_product("ghost", Some("x"), None, NOW)
        .await
        .unwrap()
        .is_none());

    assert!(s.retire_product("cloud-1c1g", NOW + 2).await.unwrap());
    assert!(!s.retire_product("cloud-1c1g", NOW + 3).await.unwrap());
    assert_eq!(
        s.list_products(false)
            .await
            .unwrap()
            .iter()
            .map(|p| p.product.name.as_str())
            .collect::<Vec<_>>(),
        ["web-l1"]
    );
    let all = s.list_products(true).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].state, ProductState::Retired);
    // A retired product keeps its name: orders name it.
    assert!(matches!(
        s.add_product(&p, NOW).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn a_products_units_are_replaced_whole_in_fen(f: &TestDb) {
    let s = &f.store;
    let p = NewProduct {
        name: "lease-1".into(),
        title: "Lease".into(),
        account: "z".into(),
        kind: ResourceKind::Server,
        offer: Some("lease:1".into()),
        options: json!({}),
        rule: json!({"basis": {"fixed": "99.00"}}),
    };
    let id = s.add_product(&p, NOW).await.unwrap().id;
    let other = s
        .add_product(
            &NewProduct {
                name: "lease-2".into(),
                ..p.clone()
            },
            NOW,
        )
        .await
        .unwrap()
        .id;
    let unit = |pid, unit: &str, fen, max| ProductUnitRow {
        product_id: pid,
        unit: unit.into(),
        monthly_fen: fen,
        max_extra: max,
    };
    let first = vec![
        unit(id, "bandwidth", Some(1_760), 100),
        unit(id, "ip", None, 8),
    ];
    s.set_product_units(id, &first).await.unwrap();
    s.set_product_units(other, &[unit(other, "defense", Some(1), 0)])
        .await
        .unwrap();
    assert_eq!(s.product_units(id).await.unwrap(), first);
    // Replaced whole: what is not named again is gone.
    let second = vec![unit(id, "ip", Some(11_000), 3)];
    s.set_product_units(id, &second).await.unwrap();
    assert_eq!(s.product_units(id).await.unwrap(), second);
    assert_eq!(s.all_product_units().await.unwrap().len(), 2);
    // A price of zero or less, a negative maximum, another product's row: refused,
    // and nothing changes.
    for bad in [
        unit(id, "ip", Some(0), 3),
        unit(id, "ip", Some(-5), 3),
        unit(id, "ip", None, -1),
        unit(other, "ip", None, 1),
    ] {
        assert!(
            s.set_product_units(id, std::slice::from_ref(&bad))
                .await
                .is_err(),
            "{bad:?}"
        );
    }
    assert_eq!(s.product_units(id).await.unwrap(), second);
    s.set_product_units(id, &[]).await.unwrap();
    assert!(s.product_units(id).await.unwrap().is_empty());
}
