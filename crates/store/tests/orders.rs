//! The order journal and the ledger, on SQLite and PostgreSQL: one order per key (also
//! under a race), moves only along the state machine and only once, events and ledger
//! append-only in the database itself, balances derived from entries.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use idcgate_core::ledger::{Entry, LedgerAccount, Transaction};
use idcgate_core::{Money, OrderState, ResourceKind};
use idcgate_store::both_backends;
use idcgate_store::testing::{join_all, TestDb};
use idcgate_store::*;
use serde_json::json;

both_backends!(
    one_key_is_one_order_even_when_placed_concurrently,
    orders_move_once_along_the_state_machine_with_their_money,
    journal_and_ledger_are_append_only,
    balances_are_sums_of_entries,
    order_and_ledger_pages_filter_sort_and_count,
    an_upstream_return_is_booked_once_with_its_ledger_lines,
);

fn order(key: &str) -> NewOrder {
    NewOrder {
        idem_key: key.into(),
        account: "sandbox-west".into(),
        kind: ResourceKind::Domain,
        operation: "register".into(),
        target: "example.com".into(),
        params: json!({"years": 1}),
        quoted_fen: 5500,
        actor: "cli:test".into(),
    }
}

fn purchase(order_id: i64, fen: i64) -> Transaction {
    Transaction::transfer(
        "register example.com",
        Some(order_id),
        LedgerAccount::upstream("sandbox-west"),
        LedgerAccount::cost(ResourceKind::Domain),
        Money::from_fen(fen),
    )
    .unwrap()
}

async fn one_key_is_one_order_even_when_placed_concurrently(f: &TestDb) {
    let s = &f.store;
    let first = match s.create_order(&order("k1")).await.unwrap() {
        Placed::New(o) => o,
        Placed::Existing(_) => panic!("a fresh key is a new order"),
    };
    assert_eq!(first.state, OrderState::Pending);
    let mut other = order("k1");
    other.quoted_fen = 1; // a second placement with the same key changes nothing
    match s.create_order(&other).await.unwrap() {
        Placed::Existing(o) => assert_eq!(o, first),
        Placed::New(_) => panic!("the same key made a second order"),
    }
    // Eight placements of one new key at once: exactly one wins.
    let k2 = order("k2");
    let placements = (0..8).map(|_| Box::pin(s.create_order(&k2))).collect();
    let results = join_all(placements).await;
    let new = results
        .into_iter()
        .filter(|r| matches!(r.as_ref().unwrap(), Placed::New(_)))
        .count();
    assert_eq!(new, 1);
    assert_eq!(
        s.list_orders(&OrderFilter::default()).await.unwrap().len(),
        2
    );
}

async fn orders_move_once_along_the_state_machine_with_their_money(f: &TestDb) {
    let s = &f.store;
    let Placed::New(o) = s.create_order(&order("m1")).await.unwrap() else {
        panic!("new")
    };
    let submit = Move {
        from: OrderState::Pending,
        to: OrderState::Submitted,
        detail: "sending",
        upstream_ref: None,
        resource_ref: None,
        charged_fen: None,
        transaction: None,
    };
    assert!(s.move_order(o.id, &submit).await.unwrap());
    assert!(
        !s.move_order(o.id, &submit).await.unwrap(),
        "a second process loses the compare-and-set"
    );
    // Not a move the state machine allows: refused before touching anything.
    let skip = Move {
        from: OrderState::Pending,
        to: OrderState::Succeeded,
        ..submit.clone()
    };
    assert!(matches!(
        s.move_order(o.id, &skip).await,
        Err(StoreError::Conflict(_))
    ));
    let t = purchase(o.id, 5600);
    let done = Move {
        from: OrderState::Submitted,
        to: OrderState::Succeeded,
        detail: "upstream: ok, charged 56.00",
        upstream_ref: Some("example.com"),
        resource_ref: Some("server_7"),
        charged_fen: Some(5600),
        transaction: Some(&t),
    };
    assert!(s.move_order(o.id, &done).await.unwrap());
    assert!(
        !s.move_order(o.id, &done).await.unwrap(),
        "the money is booked once"
    );
    let got = s.get_order(o.id).await.unwrap().unwrap();
    assert_eq!(got.state, OrderState::Succeeded);
    assert_eq!(got.charged_fen, Some(5600));
    assert_eq!(got.upstream_ref.as_deref(), Some("example.com"));
    assert_eq!(got.resource_ref.as_deref(), Some("server_7"));
    let events = s.order_events(o.id).await.unwrap();
    let path: Vec<_> = events.iter().map(|e| (e.from, e.to)).collect();
    assert_eq!(
        path,
        vec![
            (None, OrderState::Pending),
            (Some(OrderState::Pending), OrderState::Submitted),
            (Some(OrderState::Submitted), OrderState::Succeeded),
        ]
    );
    assert_eq!(events[2].detail, "upstream: ok, charged 56.00");
    let lines = s.ledger_lines(&LedgerFilter::default()).await.unwrap();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| l.order_id == Some(o.id)));
    let stale = s
        .list_orders(&OrderFilter {
            state: Some(OrderState::Succeeded),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(stale.len(), 1);
}

async fn journal_and_ledger_are_append_only(f: &TestDb) {
    let s = &f.store;
    let Placed::New(o) = s.create_order(&order("a1")).await.unwrap() else {
        panic!("new")
    };
    s.post_transaction(&purchase(o.id, 100)).await.unwrap();
    f.assert_refused(&[
        "UPDATE ledger_entries SET fen = 0",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_transactions SET memo = 'x'",
        "DELETE FROM ledger_transactions",
        "UPDATE order_events SET detail = 'x'",
        "DELETE FROM order_events",
    ])
    .await;
    assert_eq!(
        s.ledger_lines(&LedgerFilter::default())
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(s.unbalanced_transactions().await.unwrap().is_empty());
    // A row slipped in behind idcgate's back is found by the balance check.
    sqlx::query("INSERT INTO ledger_entries (txn_id, account, fen) SELECT MIN(id), 'refunds', 7 FROM ledger_transactions")
        .execute(&f.raw_pool().await)
        .await
        .unwrap();
    assert_eq!(s.unbalanced_transactions().await.unwrap().len(), 1);
}

async fn balances_are_sums_of_entries(f: &TestDb) {
    let s = &f.store;
    let fund = Transaction::transfer(
        "top-up",
        None,
        LedgerAccount::Funding,
        LedgerAccount::upstream("sandbox-west"),
        Money::from_fen(500_000),
    )
    .unwrap();
    s.post_transaction(&fund).await.unwrap();
    let Placed::New(o) = s.create_order(&order("b1")).await.unwrap() else {
        panic!("new")
    };
    s.post_transaction(&purchase(o.id, 5500)).await.unwrap();
    let three_way = Transaction::new(
        "refund part",
        None,
        vec![
            Entry {
                account: LedgerAccount::Refunds,
                fen: -300,
            },
            Entry {
                account: LedgerAccount::upstream("sandbox-west"),
                fen: 200,
            },
            Entry {
                account: LedgerAccount::cost(ResourceKind::Domain),
                fen: 100,
            },
        ],
    )
    .unwrap();
    s.post_transaction(&three_way).await.unwrap();
    let balances: std::collections::BTreeMap<_, _> =
        s.ledger_balances().await.unwrap().into_iter().collect();
    assert_eq!(balances["upstream:sandbox-west"], 500_000 - 5500 + 200);
    assert_eq!(balances["cost:domain"], 5600);
    assert_eq!(balances["funding"], -500_000);
    assert_eq!(balances["refunds"], -300);
    assert_eq!(balances.values().sum::<i64>(), 0);
    let cost = common::ledger_of(s, "cost:").await;
    assert_eq!(cost.iter().map(|l| l.fen).sum::<i64>(), 5600);
}

async fn order_and_ledger_pages_filter_sort_and_count(f: &TestDb) {
    let s = &f.store;
    let mut ids = Vec::new();
    for (key, account, target, fen) in [
        ("k-a", "west", "a.com", 300),
        ("k-b", "dnspod", "b.com", 100),
        ("k-c", "west", "Case.COM", 200),
    ] {
        let o = NewOrder {
            account: account.into(),
            target: target.into(),
            quoted_fen: fen,
            ..order(key)
        };
        match s.create_order(&o).await.unwrap() {
            Placed::New(o) => ids.push(o.id),
            Placed::Existing(_) => panic!("a new key"),
        }
    }
    // b.com was charged 90 fen; the others nothing yet.
    let mv = Move {
        charged_fen: Some(90),
        transaction: Some(&purchase(ids[1], 90)),
        ..Move::state(OrderState::Pending, OrderState::Submitted, "sent")
    };
    assert!(s.move_order(ids[1], &mv).await.unwrap());
    use common::page;
    let targets = |filter: OrderFilter, page: ListPage| async move {
        let (rows, total) = s.page_orders(&filter, &page).await.unwrap();
        assert_eq!(total, rows.len() as i64);
        rows.into_iter().map(|o| o.order.target).collect::<Vec<_>>()
    };
    let all = OrderFilter::default();
    assert_eq!(
        targets(all.clone(), page(None, false, None)).await,
        ["Case.COM", "b.com", "a.com"],
        "newest first"
    );
    assert_eq!(
        targets(all.clone(), page(Some("quoted"), true, None)).await,
        ["a.com", "Case.COM", "b.com"]
    );
    // Never charged below any charge, ties by id.
    assert_eq!(
        targets(all.clone(), page(Some("charged"), false, None)).await,
        ["a.com", "Case.COM", "b.com"]
    );
    assert_eq!(
        targets(all.clone(), page(None, false, Some("case.c"))).await,
        ["Case.COM"]
    );
    assert_eq!(
        targets(all.clone(), page(None, false, Some(&ids[0].to_string()))).await,
        ["a.com"]
    );
    let west_pending = OrderFilter {
        account: Some("west".into()),
        state: Some(OrderState::Pending),
        ..Default::default()
    };
    assert_eq!(
        targets(west_pending, page(Some("target"), false, None)).await,
        ["Case.COM", "a.com"]
    );
    let (rows, total) = s
        .page_orders(&all, &common::window(1, 5, false))
        .await
        .unwrap();
    assert_eq!((rows.len(), total), (0, 3), "past the end, still the total");

    // The ledger: a top-up without an order beside the purchase.
    s.post_transaction(
        &Transaction::transfer(
            "top-up west",
            None,
            LedgerAccount::Funding,
            LedgerAccount::upstream("west"),
            Money::from_fen(1000),
        )
        .unwrap(),
    )
    .await
    .unwrap();
    let lines = |filter: LedgerFilter, page: ListPage| async move {
        let (rows, total) = s.page_ledger(&filter, &page).await.unwrap();
        assert_eq!(total, rows.len() as i64);
        rows.into_iter()
            .map(|l| format!("{} {}", l.account, l.fen))
            .collect::<Vec<_>>()
    };
    let every = LedgerFilter::default();
    // Newest transaction first, its lines last to first.
    assert_eq!(
        lines(every.clone(), page(None, false, None)).await,
        [
            "upstream:west 1000",
            "funding -1000",
            "cost:domain 90",
            "upstream:sandbox-west -90"
        ]
    );
    assert_eq!(
        lines(every.clone(), page(Some("amount"), false, None)).await,
        [
            "funding -1000",
            "upstream:sandbox-west -90",
            "cost:domain 90",
            "upstream:west 1000"
        ]
    );
    // Lines of no order below the others.
    assert_eq!(
        lines(every.clone(), page(Some("order"), true, None)).await[..2],
        ["cost:domain 90", "upstream:sandbox-west -90"]
    );
    let upstreams = LedgerFilter {
        account: Some("upstream:".into()),
        ..Default::default()
    };
    assert_eq!(
        lines(upstreams, page(None, false, Some("TOP-UP"))).await,
        ["upstream:west 1000"]
    );
    // Sums in windows of time: before 1 ms, then everything since.
    let sums = |account: &str| {
        let filter = LedgerFilter {
            account: Some(account.into()),
            ..Default::default()
        };
        async move { s.ledger_sums(&filter, &[0, 1, i64::MAX]).await.unwrap() }
    };
    assert_eq!(sums("upstream:").await, [0, 910]);
    assert_eq!(sums("funding").await, [0, -1000]);
    assert_eq!(sums("cost:").await, [0, 90]);
    assert!(s
        .ledger_sums(&LedgerFilter::default(), &[5])
        .await
        .unwrap()
        .is_empty());
}

async fn an_upstream_return_is_booked_once_with_its_ledger_lines(f: &TestDb) {
    let s = &f.store;
    let mut back = order("t1:refund");
    back.kind = ResourceKind::Server;
    back.operation = "refund".into();
    back.target = "server_7".into();
    let before = jiff::Timestamp::now().as_millisecond() - 1;
    assert!(s.book_upstream_return(&back, 2899, before).await.unwrap());
    // The same key again (a retried refund, another instance) books nothing more.
    assert!(!s.book_upstream_return(&back, 2899, before).await.unwrap());
    assert!(s
        .book_upstream_return(&order("t2:refund"), 0, before)
        .await
        .is_err());
    let row = s.order_by_key("t1:refund").await.unwrap().unwrap();
    assert_eq!(row.state, OrderState::Succeeded);
    assert_eq!(row.charged_fen, Some(-2899));
    assert_eq!(row.created_ms, before);
    assert_eq!(s.order_events(row.id).await.unwrap().len(), 1);
    let balances: std::collections::HashMap<String, i64> =
        s.ledger_balances().await.unwrap().into_iter().collect();
    assert_eq!(balances["upstream:sandbox-west"], 2899);
    assert_eq!(balances["cost:server"], -2899);
    assert!(s.unbalanced_transactions().await.unwrap().is_empty());
}
