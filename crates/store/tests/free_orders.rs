//! A tenant order with nothing to pay (a hosting plan's bundled database), on SQLite
//! and PostgreSQL: active at once with its resource, no charge and no ledger line,
//! one order per key, none for a tenant that may not take one.
#![allow(clippy::unwrap_used)] // a test may fail loudly

use idcgate_core::ResourceKind;
use idcgate_store::both_backends;
use idcgate_store::testing::TestDb;
use idcgate_store::*;

both_backends!(a_free_order_is_active_at_once_with_no_money_and_once_per_key);

const NOW: i64 = 1_780_000_000_000;

fn free(tenant: &str, key: &str) -> NewTenantOrder {
    NewTenantOrder {
        tenant: tenant.into(),
        idem_key: key.into(),
        product: "host-a".into(),
        kind: ResourceKind::Database,
        account: "z".into(),
        months: 0,
        client_order_id: String::new(),
        client_user_id: "7".into(),
    }
}

async fn a_free_order_is_active_at_once_with_no_money_and_once_per_key(f: &TestDb) {
    let s = &f.store;
    for name in ["acme", "bolt"] {
        let t = NewTenant {
            name: name.into(),
            price_level: "gold".into(),
            credit_limit_fen: 0,
        };
        s.add_tenant(&t, NOW).await.unwrap();
    }
    let ledger = s.ledger_balances().await.unwrap();

    let opened = s
        .open_free_tenant_order(
            &free("acme", "k:database:9"),
            "9",
            Some(NOW + 1),
            "bundled",
            NOW,
        )
        .await
        .unwrap();
    let Opened::New(row) = opened else {
        panic!("{opened:?}")
    };
    assert_eq!(row.state, TenantOrderState::Active);
    assert_eq!(row.resource.as_deref(), Some("9"));
    assert_eq!(row.expires_ms, Some(NOW + 1));
    assert_eq!(row.detail, "bundled");
    assert_eq!(row.order.kind, ResourceKind::Database);
    assert!(s.tenant_order_charges(row.id).await.unwrap().is_empty());
    assert_eq!(s.ledger_balances().await.unwrap(), ledger, "no ledger line");

    // The same key again: the first order, nothing written.
    let again = s
        .open_free_tenant_order(&free("acme", "k:database:9"), "10", None, "other", NOW + 5)
        .await
        .unwrap();
    assert_eq!(again, Opened::Existing(row.clone()));
    assert_eq!(
        s.list_tenant_orders(&Default::default())
            .await
            .unwrap()
            .len(),
        1
    );

    // A suspended tenant takes none; an unknown one neither.
    assert!(s
        .move_tenant("bolt", TenantState::Active, TenantState::Suspended, NOW)
        .await
        .unwrap());
    let r = s
        .open_free_tenant_order(&free("bolt", "b:database:1"), "1", None, "", NOW)
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    let r = s
        .open_free_tenant_order(&free("nobody", "n:database:1"), "1", None, "", NOW)
        .await;
    assert!(r.is_err(), "{r:?}");
    assert_eq!(
        s.list_tenant_orders(&Default::default())
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(s.ledger_balances().await.unwrap(), ledger);
}
