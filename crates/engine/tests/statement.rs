//! The statement check's balance half, on SQLite and PostgreSQL, against the real CNDNS
//! simulator (whose API keeps no readable finance record): readings taken by sync and
//! by every statement, and between them the balance falls by exactly what the journal
//! booked; a purchase made behind idcgate's back is named to the fen, and a deposit is
//! a deposit. Against the West simulator (which keeps one), the balance reports only
//! what the finance record misses.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use idcgate_core::purchase::{Operation, PurchaseRequest};
use idcgate_core::{Money, OrderState, ResourceKind};
use idcgate_engine::statement::Statement;
use idcgate_engine::sync::NoProgress;
use idcgate_engine::Engine;
use idcgate_store::both_backends;
#[allow(unused_imports)]
// the store's traits, for what a test seeds or reads behind the engine
use idcgate_store::prelude::*;
use idcgate_store::testing::TestDb;
use idcgate_wire::sim::SimServer;
use std::sync::Arc;
use std::time::Duration;

both_backends!(
    an_order_booked_and_charged_leaves_no_difference,
    a_purchase_behind_our_back_is_reported_to_the_fen,
    a_deposit_is_reported_as_a_deposit,
    a_deposit_does_not_hide_a_purchase_in_another_interval,
    without_a_finance_record_or_two_readings_it_says_so,
    a_reading_taken_while_an_order_was_unsettled_is_not_a_boundary,
    with_a_finance_record_the_balance_reports_only_what_it_misses,
    the_default_start_covers_the_first_order,
    an_operation_the_record_never_shows_is_noted_not_a_difference,
);

const ACCOUNT: &str = "sandbox-cndns";

struct Fixture {
    engine: Arc<Engine>,
    sim: idcgate_cndns::Sim,
    srv: SimServer,
}

async fn fixture(db: &TestDb) -> Fixture {
    let engine = common::engine_on(db, vec![common::cndns(), common::west()]).await;
    let sim = idcgate_cndns::Sim::sandbox();
    let srv = common::add_sandbox(&engine, ACCOUNT, &sim).await;
    Fixture { engine, sim, srv }
}

fn register(name: &str, years: u32) -> PurchaseRequest {
    PurchaseRequest::new(ResourceKind::Domain, Operation::Create, name).months(years * 12)
}

fn fen(m: Money) -> i64 {
    m.to_fen().unwrap()
}

impl Fixture {
    /// A sync of the account, which records a balance reading.
    async fn sync(&self) {
        let rep = self
            .engine
            .sync_account(ACCOUNT, Arc::new(NoProgress))
            .await
            .unwrap();
        assert!(!rep.failed.iter().any(|f| f.contains("balance")), "{rep:?}");
    }

    /// Places `p` through the journal; it must succeed. Returns what it booked.
    async fn order(&self, p: &PurchaseRequest) -> i64 {
        let o = self
            .engine
            .place_order("test", ACCOUNT, p, None)
            .await
            .unwrap();
        assert_eq!(o.state, OrderState::Succeeded, "{o:?}");
        o.charged_fen.unwrap_or(o.order.quoted_fen)
    }

    /// Buys `p` with the vendor client directly, as someone at the vendor's own console
    /// would: nothing is journalled. Returns what the balance lost.
    async fn buy_behind_our_back(&self, p: &PurchaseRequest) -> i64 {
        let before = self.sim.balance();
        let conn = self.engine.connection(ACCOUNT).await.unwrap();
        conn.purchasing()
            .unwrap()
            .buy(p, "not-in-the-journal")
            .await
            .unwrap();
        let lost = fen(before) - fen(self.sim.balance());
        assert!(lost > 0, "the purchase cost nothing");
        lost
    }

    async fn statement(&self, since_ms: i64) -> Statement {
        self.engine.statement(ACCOUNT, since_ms).await.unwrap()
    }
}

/// Readings are ordered by their millisecond: two taken in one would tell nothing apart.
async fn tick() {
    tokio::time::sleep(Duration::from_millis(5)).await;
}

async fn an_order_booked_and_charged_leaves_no_difference(db: &TestDb) {
    let f = fixture(db).await;
    let since = idcgate_engine::now_ms();
    let start = fen(f.sim.balance());
    f.sync().await;
    tick().await;
    let booked = f.order(&register("statement-clean.com", 1)).await;
    assert!(booked > 0);
    tick().await;
    let s = f.statement(since).await;
    assert_eq!(s.differences, Vec::<String>::new(), "{s:#?}");
    assert_eq!(s.deposits, Vec::<String>::new(), "{s:#?}");
    assert!(!s.finance_record);
    assert!(s.checked());
    assert!(
        s.notes.iter().any(|n| n.contains("no finance record")),
        "{s:#?}"
    );
    let b = s.balance.clone().unwrap();
    assert_eq!((b.from_fen, b.to_fen), (start, start - booked), "{b:?}");
    assert_eq!(b.to_fen, fen(f.sim.balance()));
    assert_eq!(b.change_fen, -booked);
    assert_eq!(b.booked_fen, booked);
    assert_eq!((b.unexplained_fen, b.deposited_fen), (0, 0));
    assert_eq!(b.readings, 2);
    assert_eq!(s.booked_fen, booked);
    // Both readings were kept, with what took them; a second statement has three.
    let readings = db
        .store
        .balance_readings(ACCOUNT, since, 100)
        .await
        .unwrap();
    let sources: Vec<&str> = readings.iter().map(|r| r.source.as_str()).collect();
    assert_eq!(sources, ["sync", "statement"]);
    tick().await;
    let again = f.statement(since).await;
    assert_eq!(again.differences, Vec::<String>::new(), "{again:#?}");
    assert_eq!(again.balance.unwrap().readings, 3);
}

async fn a_purchase_behind_our_back_is_reported_to_the_fen(db: &TestDb) {
    let f = fixture(db).await;
    let since = idcgate_engine::now_ms();
    f.sync().await;
    tick().await;
    let booked = f.order(&register("statement-ours.com", 1)).await;
    let hidden = f
        .buy_behind_our_back(&register("statement-theirs.com", 3))
        .await;
    tick().await;
    let s = f.statement(since).await;
    let b = s.balance.clone().unwrap();
    assert_eq!(b.unexplained_fen, hidden, "{s:#?}");
    assert_eq!(b.booked_fen, booked);
    assert_eq!(b.change_fen, -(booked + hidden));
    assert_eq!(b.deposited_fen, 0);
    assert_eq!(s.differences.len(), 1, "{s:#?}");
    let d = &s.differences[0];
    let expected = format!(
        "{ACCOUNT} balance fell {} more than our orders explain (fell {}, booked {}) between ",
        Money::from_fen(hidden),
        Money::from_fen(hidden + booked),
        Money::from_fen(booked)
    );
    assert!(d.starts_with(&expected), "{d}\nexpected: {expected}");
    assert!(d.ends_with(" China time"), "{d}");
    assert!(s.deposits.is_empty(), "{s:#?}");
}

async fn a_deposit_is_reported_as_a_deposit(db: &TestDb) {
    let f = fixture(db).await;
    let since = idcgate_engine::now_ms();
    f.sync().await;
    tick().await;
    let booked = f.order(&register("statement-deposit.com", 1)).await;
    f.sim.set_balance(f.sim.balance() + Money::from_fen(10_000));
    tick().await;
    let s = f.statement(since).await;
    assert_eq!(s.differences, Vec::<String>::new(), "{s:#?}");
    assert_eq!(s.deposits.len(), 1, "{s:#?}");
    let d = &s.deposits[0];
    assert!(
        d.starts_with(&format!(
            "{ACCOUNT} received 100.00 (a deposit or refund) between "
        )),
        "{d}"
    );
    // The order's 55-odd yuan and the deposit net to a rise.
    let rose = 10_000 - booked;
    assert!(
        d.ends_with(&format!(
            "China time: balance rose {}, booked {}",
            Money::from_fen(rose),
            Money::from_fen(booked)
        )),
        "{d}"
    );
    let b = s.balance.unwrap();
    assert_eq!((b.deposited_fen, b.unexplained_fen), (10_000, 0));
    assert_eq!(b.change_fen, rose);
}

/// Two readings see only the net of what happened between them; with a reading in
/// between, a deposit before it cannot hide a purchase after it.
async fn a_deposit_does_not_hide_a_purchase_in_another_interval(db: &TestDb) {
    let f = fixture(db).await;
    let since = idcgate_engine::now_ms();
    f.sync().await;
    tick().await;
    f.sim.set_balance(f.sim.balance() + Money::from_fen(50_000));
    f.sync().await;
    tick().await;
    let hidden = f
        .buy_behind_our_back(&register("statement-masked.com", 1))
        .await;
    assert!(hidden < 50_000, "the deposit must be able to cover it");
    tick().await;
    let s = f.statement(since).await;
    let b = s.balance.clone().unwrap();
    assert_eq!(b.readings, 3);
    assert_eq!(b.change_fen, 50_000 - hidden, "{s:#?}");
    assert_eq!((b.deposited_fen, b.unexplained_fen), (50_000, hidden));
    assert_eq!(s.deposits.len(), 1, "{s:#?}");
    assert!(s.deposits[0].contains("received 500.00"), "{s:#?}");
    assert_eq!(s.differences.len(), 1, "{s:#?}");
    assert!(
        s.differences[0].starts_with(&format!(
            "{ACCOUNT} balance fell {} more than our orders explain (fell {}, booked 0.00)",
            Money::from_fen(hidden),
            Money::from_fen(hidden)
        )),
        "{s:#?}"
    );
}

async fn without_a_finance_record_or_two_readings_it_says_so(db: &TestDb) {
    let f = fixture(db).await;
    let since = idcgate_engine::now_ms();
    // No sync yet: the statement's own reading is the only one.
    let s = f.statement(since).await;
    assert!(!s.checked(), "{s:#?}");
    assert_eq!(s.balance, None);
    assert!(s.differences.is_empty() && s.deposits.is_empty(), "{s:#?}");
    assert!(
        s.notes
            .iter()
            .any(|n| n.starts_with(&format!(
                "nothing to check {ACCOUNT}'s ledger against since "
            )) && n.contains("no finance record and fewer than two balance readings")),
        "{s:#?}"
    );
    // That statement's reading is the next one's first: now there is something to check.
    tick().await;
    let hidden = f
        .buy_behind_our_back(&register("statement-second.com", 1))
        .await;
    tick().await;
    let s = f.statement(since).await;
    assert!(s.checked());
    assert_eq!(s.balance.as_ref().unwrap().unexplained_fen, hidden);
    assert_eq!(s.differences.len(), 1, "{s:#?}");
}

/// An order whose answer was lost is charged upstream but booked only when reconciled:
/// until then the statement says so beside the difference, and afterwards the reading
/// taken in between (which may show either side of the charge) is no boundary.
async fn a_reading_taken_while_an_order_was_unsettled_is_not_a_boundary(db: &TestDb) {
    let f = fixture(db).await;
    let since = idcgate_engine::now_ms();
    f.sync().await;
    tick().await;
    f.srv.faults.update(|c| {
        c.next_only_matching = "CreateDom.aspx".into();
        c.drop_next = 1;
    });
    let o = f
        .engine
        .place_order("test", ACCOUNT, &register("statement-lost.com", 1), None)
        .await
        .unwrap();
    assert_eq!(o.state, OrderState::Unknown, "{o:?}");
    tick().await;
    let open = f.statement(since).await;
    let charged = open.balance.as_ref().unwrap().unexplained_fen;
    assert_eq!(charged, o.order.quoted_fen, "{open:#?}");
    assert_eq!(open.differences.len(), 1, "{open:#?}");
    assert!(
        open.notes
            .iter()
            .any(|n| n.starts_with(&format!("order {} (", o.id)) && n.contains("was unknown")),
        "{open:#?}"
    );
    tick().await;
    let settled = f.engine.reconcile_order(o.id).await.unwrap();
    assert_eq!(settled.state, OrderState::Succeeded, "{settled:?}");
    tick().await;
    let s = f.statement(since).await;
    assert_eq!(s.differences, Vec::<String>::new(), "{s:#?}");
    let b = s.balance.unwrap();
    // sync, (the open statement's reading, skipped), this statement's.
    assert_eq!(b.readings, 2);
    assert_eq!(b.booked_fen, charged);
    assert_eq!(b.change_fen, -charged);
}

/// West keeps a readable finance record: a purchase behind our back is named there,
/// charge by charge, and the balance check does not say it twice; money the record
/// does not show (an adjustment, not a 消费 line) is the balance check's to report.
async fn with_a_finance_record_the_balance_reports_only_what_it_misses(db: &TestDb) {
    let f = fixture(db).await;
    let west = idcgate_west::Sim::sandbox();
    let _srv = common::add_sandbox(&f.engine, "sandbox-west", &west).await;
    // West's record keeps whole seconds: start on the next one, so the sandbox's own
    // earlier charges are before `since`.
    let now = idcgate_engine::now_ms();
    let since = (now / 1000 + 1) * 1000;
    tokio::time::sleep(Duration::from_millis(u64::try_from(since - now).unwrap())).await;
    f.engine
        .sync_account("sandbox-west", Arc::new(NoProgress))
        .await
        .unwrap();
    tick().await;
    let ordered = f
        .engine
        .place_order("test", "sandbox-west", &register("west-ours.com", 1), None)
        .await
        .unwrap();
    assert_eq!(ordered.state, OrderState::Succeeded);
    let conn = f.engine.connection("sandbox-west").await.unwrap();
    let before = fen(west.balance());
    conn.purchasing()
        .unwrap()
        .buy(&register("west-theirs.com", 1), "not-in-the-journal")
        .await
        .unwrap();
    let hidden = before - fen(west.balance());
    tick().await;
    let s = f.engine.statement("sandbox-west", since).await.unwrap();
    assert!(s.finance_record);
    assert_eq!(s.differences.len(), 1, "{s:#?}");
    assert!(
        s.differences[0].contains("with no order of ours")
            && s.differences[0].contains("west-theirs.com"),
        "{s:#?}"
    );
    assert_eq!(s.balance.as_ref().unwrap().unexplained_fen, hidden);
    assert!(
        s.notes
            .iter()
            .any(|n| n.starts_with("sandbox-west balance fell ")),
        "{s:#?}"
    );
    // Taken from the balance with no 消费 line: only the balance shows it.
    tick().await;
    west.set_balance(west.balance() - Money::from_fen(1_234));
    tick().await;
    let s = f.engine.statement("sandbox-west", since).await.unwrap();
    assert_eq!(s.differences.len(), 2, "{s:#?}");
    assert_eq!(s.balance.as_ref().unwrap().unexplained_fen, hidden + 1_234);
    let expected = format!(
        "sandbox-west balance fell {} more than our orders explain between ",
        Money::from_fen(hidden + 1_234)
    );
    let line = s
        .differences
        .iter()
        .find(|d| d.starts_with(&expected))
        .unwrap_or_else(|| panic!("{s:#?}"));
    assert!(
        line.ends_with(&format!(
            "China time, and its finance record accounts for only {} of it",
            Money::from_fen(hidden)
        )),
        "{line}"
    );
}

/// `idcgate statement ACCOUNT` without `--since` starts at the last reading before the
/// account's first order, so the balance check covers that order too.
async fn the_default_start_covers_the_first_order(db: &TestDb) {
    let f = fixture(db).await;
    // Nothing yet: a statement starts now.
    let t0 = idcgate_engine::now_ms();
    assert!(f.engine.statement_start(ACCOUNT).await.unwrap() >= t0);
    f.sync().await;
    let synced = db
        .store
        .balance_reading_before(ACCOUNT, i64::MAX)
        .await
        .unwrap()
        .unwrap();
    // Readings but no order: from the first reading.
    assert_eq!(
        f.engine.statement_start(ACCOUNT).await.unwrap(),
        synced.at_ms
    );
    tick().await;
    let booked = f.order(&register("statement-first.com", 1)).await;
    tick().await;
    f.sync().await;
    let since = f.engine.statement_start(ACCOUNT).await.unwrap();
    assert_eq!(since, synced.at_ms);
    tick().await;
    let s = f.statement(since).await;
    assert_eq!(s.differences, Vec::<String>::new(), "{s:#?}");
    let b = s.balance.unwrap();
    assert_eq!(
        (b.booked_fen, b.change_fen, b.readings),
        (booked, -booked, 3)
    );
    assert_eq!(s.booked_fen, booked);
}

/// Zonkvm's record is built from its order listings: it shows what was bought, never a
/// renewal. A renewal through the journal is therefore noted as unchecked, while the
/// hosting and database orders bought beside it (numbered apart, both order 2) match
/// their own charges.
async fn an_operation_the_record_never_shows_is_noted_not_a_difference(db: &TestDb) {
    let engine = common::engine_on(db, vec![common::zonkvm()]).await;
    let sim = idcgate_zonkvm::Sim::sandbox();
    let _srv = common::add_sandbox(&engine, "z", &sim).await;
    // Records keep whole seconds: the seed's orders must be a second older than `since`.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let since = idcgate_engine::now_ms();
    let conn = engine.connection("z").await.unwrap();
    let seller = conn.purchasing().unwrap();
    // Shaped as the vendor crate's own purchase tests make them (sandbox offers).
    let hosting = PurchaseRequest::new(
        ResourceKind::HostingSite,
        Operation::Create,
        "shop.example.com",
    )
    .offer("20250408030033590712")
    .option("content.program_version", "php74")
    .option("pwd", "Ftp-Pass-1");
    let database = PurchaseRequest::new(ResourceKind::Database, Operation::Create, "crm-db")
        .offer("20250407053315151712")
        .months(24)
        .option("content.code", "utf8");
    let renew =
        PurchaseRequest::new(ResourceKind::Server, Operation::Renew, "server_1001").months(2);
    for p in [&renew, &hosting, &database] {
        seller.quote(p).await.unwrap();
        let o = engine.place_order("test", "z", p, None).await.unwrap();
        assert_eq!(o.state, OrderState::Succeeded, "{o:?}");
    }
    let s = engine.statement("z", since).await.unwrap();
    assert!(s.differences.is_empty(), "{s:?}");
    assert!(
        s.notes
            .iter()
            .any(|n| n.contains("cannot be checked") && n.contains("renew")),
        "{s:?}"
    );
}
