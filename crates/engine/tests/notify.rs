//! Notifications end to end on SQLite and PostgreSQL, delivered to a local SMTP sink and
//! a local webhook receiver: every event type raised once (across scans, restarts and
//! two instances racing on one database), deliveries retried with backoff and logged per
//! attempt, a channel that keeps failing given up, and the test message per channel.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use async_trait::async_trait;
use idcgate_core::purchase::{not_sold, Operation, PurchaseRequest, Purchasing, Settled};
use idcgate_core::spec::VendorSpec;
use idcgate_core::{
    Connection, Credentials, Money, Order, OrderState, PriceQuote, ResourceKind, UpstreamAccount,
    Vendor,
};
use idcgate_engine::catalog::{PriceRule, ProductSpec};
use idcgate_engine::notify::NotifySettings;
use idcgate_engine::sync::NoProgress;
use idcgate_engine::{now_ms, Engine, Registry, VendorEntry};
use idcgate_notify::testing::{SinkOptions, SmtpSink, WebhookReceiver};
use idcgate_notify::{
    sign, Channel, SmtpChannel, SmtpSettings, TlsMode, WebhookChannel, WebhookSettings,
};
#[allow(unused_imports)]
// the store's traits, for what a test seeds or reads behind the engine
use idcgate_store::prelude::*;
use idcgate_store::testing::{join_all, TestDb};
use idcgate_store::{
    both_backends, AuditEntry, BalanceReading, DeliveryState, Move, NewOrder, NotifyStore,
    OrderStore, Placed, ResourceRow, Store,
};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

both_backends!(
    expiry_notices_go_once_per_stage_across_restarts_and_instances,
    a_failing_channel_is_retried_with_backoff_then_given_up_and_logged,
    a_low_balance_is_announced_once_per_dip,
    failed_and_unknown_orders_are_announced_once,
    a_sync_failing_repeatedly_is_announced_once_per_streak,
    upstream_price_changes_of_products_on_sale_are_announced,
    the_test_message_reports_each_channel,
);

const DAY: i64 = 86_400_000;
const SECRET: &str = "whsec-test-0123";

struct Peers {
    sink: SmtpSink,
    hooks: WebhookReceiver,
}

impl Peers {
    async fn start(smtp_fail_first: usize, hook_fail_first: usize) -> Peers {
        Peers {
            sink: SmtpSink::start(SinkOptions {
                fail_first: smtp_fail_first,
                ..Default::default()
            })
            .await,
            hooks: WebhookReceiver::start(hook_fail_first).await,
        }
    }

    fn channels(&self) -> Vec<Arc<dyn Channel>> {
        let mail = SmtpChannel::new(SmtpSettings {
            name: "mail".into(),
            host: "127.0.0.1".into(),
            port: self.sink.addr.port(),
            tls: TlsMode::None,
            username: None,
            password: None,
            from: "idcgate <idcgate@example.com>".into(),
            to: vec!["ops@example.com".into()],
            ca_pem: None,
            timeout: Duration::from_secs(5),
            helo: "test".into(),
        })
        .unwrap();
        let hook = WebhookChannel::new(WebhookSettings {
            name: "hook".into(),
            url: self.hooks.url.clone(),
            secret: Some(SECRET.into()),
            timeout: Duration::from_secs(5),
            user_agent: "idcgate-test".into(),
        })
        .unwrap();
        vec![Arc::new(mail), Arc::new(hook)]
    }

    fn settings(&self) -> NotifySettings {
        NotifySettings {
            channels: self.channels(),
            ..Default::default()
        }
    }

    /// Subjects of the messages delivered on both channels, checked to be the same.
    fn delivered(&self) -> Vec<String> {
        let mut mail: Vec<String> = self.sink.accepted().iter().map(|m| m.subject()).collect();
        let mut hooks: Vec<String> = self
            .hooks
            .delivered()
            .iter()
            .map(|h| h.json()["subject"].as_str().unwrap().to_string())
            .collect();
        mail.sort();
        hooks.sort();
        assert_eq!(mail, hooks, "both channels got the same messages");
        mail
    }
}

fn boxed<'a, T>(
    f: impl Future<Output = T> + Send + 'a,
) -> Pin<Box<dyn Future<Output = T> + Send + 'a>> {
    Box::pin(f)
}

fn resource(kind: ResourceKind, key: &str, expires_ms: i64) -> ResourceRow {
    ResourceRow {
        account: "w".into(),
        kind,
        key: key.into(),
        name: key.into(),
        data: serde_json::json!({}),
        expires_at_ms: Some(expires_ms),
        first_seen_ms: 0,
        last_seen_ms: 0,
        gone_at_ms: None,
    }
}

async fn expiry_notices_go_once_per_stage_across_restarts_and_instances(db: &TestDb) {
    let peers = Peers::start(0, 0).await;
    let a = common::engine_on(db, vec![]).await;
    let b = common::engine_on(db, vec![]).await;
    a.set_notify(peers.settings());
    b.set_notify(peers.settings());
    let now = now_ms();
    db.store
        .upsert_resources(&[
            resource(ResourceKind::Domain, "x.cn", now + 20 * DAY),
            resource(ResourceKind::Server, "s1", now + 5 * DAY),
            resource(ResourceKind::HostingSite, "h1", now + DAY / 2),
            // Not a kind announced by default, and one not yet within 30 days.
            resource(ResourceKind::Database, "db1", now + 5 * DAY),
            resource(ResourceKind::Domain, "later.cn", now + 40 * DAY),
        ])
        .await
        .unwrap();
    // Two instances scan at once: each event is raised by one of them.
    let scans = join_all(vec![boxed(a.scan_events(now)), boxed(b.scan_events(now))]).await;
    let raised: Vec<String> = scans
        .into_iter()
        .flat_map(|r| r.unwrap().raised.into_iter().map(|(_, s)| s))
        .collect();
    assert_eq!(raised.len(), 3, "{raised:?}");
    // ... and each delivery is sent by one of them.
    let sends = join_all(vec![
        boxed(a.send_due("a", now_ms())),
        boxed(b.send_due("b", now_ms())),
    ])
    .await;
    assert_eq!(sends.into_iter().map(|r| r.unwrap().sent).sum::<usize>(), 6);
    assert_eq!(
        peers.delivered(),
        [
            "domain x.cn expires in 20 days",
            "hosting site h1 expires in 1 day",
            "server s1 expires in 5 days",
        ]
    );
    let hook = peers
        .hooks
        .delivered()
        .into_iter()
        .find(|h| h.json()["data"]["name"] == "x.cn")
        .unwrap();
    assert_eq!(
        hook.headers["x-idcgate-signature"],
        sign(SECRET.as_bytes(), &hook.body)
    );
    assert_eq!(hook.json()["event"], "expiring");
    assert_eq!(hook.json()["data"]["stage"], "30d");
    let mail = &peers.sink.accepted()[0];
    assert!(mail.body().contains("Auto-renew is off"), "{}", mail.body());

    // A restarted instance finds nothing new to say.
    let c = common::engine_on(db, vec![]).await;
    c.set_notify(peers.settings());
    assert!(c
        .scan_events(now + 3_600_000)
        .await
        .unwrap()
        .raised
        .is_empty());
    assert_eq!(c.send_due("c", now_ms()).await.unwrap().sent, 0);
    // Later stages come once each; expired resources say nothing more.
    let at_7 = c.scan_events(now + 14 * DAY).await.unwrap().raised;
    let subjects: Vec<&str> = at_7.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "domain x.cn expires in 6 days",
            "domain later.cn expires in 26 days"
        ]
    );
    assert!(c
        .scan_events(now + 15 * DAY)
        .await
        .unwrap()
        .raised
        .is_empty());
    let at_1 = c
        .scan_events(now + 19 * DAY + DAY / 2)
        .await
        .unwrap()
        .raised;
    assert_eq!(at_1.len(), 1);
    // Raised at those (simulated) instants, they are due from then.
    c.send_due("c", now + 20 * DAY).await.unwrap();
    assert_eq!(peers.delivered().len(), 6);
    assert_eq!(db.store.events(100).await.unwrap().len(), 6);
}

async fn a_failing_channel_is_retried_with_backoff_then_given_up_and_logged(db: &TestDb) {
    // The relay refuses everything; the webhook receiver the first two.
    let peers = Peers::start(100, 2).await;
    let e = common::engine_on(db, vec![]).await;
    let base = Duration::from_millis(400);
    e.set_notify(NotifySettings {
        max_attempts: 3,
        retry_base: base,
        ..peers.settings()
    });
    let now = now_ms();
    db.store
        .upsert_resources(&[resource(ResourceKind::Domain, "x.cn", now + 3 * DAY)])
        .await
        .unwrap();
    assert_eq!(e.scan_events(now).await.unwrap().raised.len(), 1);
    let first = e.send_due("e", now_ms()).await.unwrap();
    assert_eq!((first.sent, first.retrying), (0, 2));
    // Not due again before its backoff.
    assert_eq!(e.send_due("e", now_ms()).await.unwrap().retrying, 0);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while db.store.delivery_counts().await.unwrap().0 > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "deliveries still pending"
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
        e.send_due("e", now_ms()).await.unwrap();
    }
    assert_eq!(db.store.delivery_counts().await.unwrap(), (0, 1, 1));
    assert_eq!(
        (peers.hooks.all().len(), peers.hooks.delivered().len()),
        (3, 1)
    );
    assert_eq!(
        (peers.sink.all().len(), peers.sink.accepted().len()),
        (3, 0)
    );

    let mut log = e.delivery_log(50).await.unwrap();
    log.reverse();
    let hook: Vec<_> = log.iter().filter(|a| a.channel == "hook").collect();
    assert_eq!(
        hook.iter()
            .map(|a| (a.attempt, a.outcome.as_str()))
            .collect::<Vec<_>>(),
        [(1, "error"), (2, "error"), (3, "ok")]
    );
    assert!(hook[0].detail.contains("HTTP 503"), "{}", hook[0].detail);
    assert_eq!(hook[2].detail, "HTTP 204");
    // Each retry waited at least its backoff: the base, then twice it.
    assert!(hook[1].at_ms - hook[0].at_ms >= 400, "{hook:?}");
    assert!(hook[2].at_ms - hook[1].at_ms >= 800, "{hook:?}");
    let mail: Vec<_> = log.iter().filter(|a| a.channel == "mail").collect();
    assert_eq!(mail.len(), 3);
    assert!(mail
        .iter()
        .all(|a| a.outcome == "error" && a.detail.contains("451")));
    assert!(mail.iter().all(|a| a.state == DeliveryState::Failed));
    // Given up: never tried again.
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(e.send_due("e", now_ms()).await.unwrap(), Default::default());
}

async fn a_low_balance_is_announced_once_per_dip(db: &TestDb) {
    let peers = Peers::start(0, 0).await;
    let a = common::engine_on(db, vec![]).await;
    let b = common::engine_on(db, vec![]).await;
    for e in [&a, &b] {
        e.set_notify(NotifySettings {
            low_balance: vec![("w".into(), "500.00".parse().unwrap())],
            ..peers.settings()
        });
    }
    let mut t = now_ms() - 1000;
    // A reading of `fen` available, 10 ms after the one before.
    let mut read = |fen: i64| {
        t += 10;
        let reading = BalanceReading {
            id: 0,
            account: "w".into(),
            at_ms: t,
            available_fen: fen,
            credit_fen: 0,
            source: "sync".into(),
        };
        async move { db.store.append_balance_reading(&reading).await.unwrap() }
    };
    let scan = |e: &Arc<Engine>| {
        let e = e.clone();
        async move { e.scan_events(now_ms()).await.unwrap().raised.len() }
    };
    read(80_000).await;
    assert_eq!(scan(&a).await, 0);
    read(30_000).await;
    let both = join_all(vec![boxed(scan(&a)), boxed(scan(&b))]).await;
    assert_eq!(both.iter().sum::<usize>(), 1, "one dip, one event");
    read(20_000).await;
    assert_eq!(scan(&b).await, 0, "still the same dip");
    read(90_000).await;
    assert_eq!(scan(&a).await, 0);
    read(10_000).await;
    assert_eq!(scan(&a).await, 1, "a new dip");
    a.send_due("a", now_ms()).await.unwrap();
    assert_eq!(
        peers.delivered(),
        [
            "balance of w is 100.00, below 500.00",
            "balance of w is 300.00, below 500.00"
        ]
    );
    let hook = &peers.hooks.delivered()[0];
    assert_eq!(hook.json()["data"]["threshold"], "500.00");
}

async fn failed_and_unknown_orders_are_announced_once(db: &TestDb) {
    let peers = Peers::start(0, 0).await;
    let e = common::engine_on(db, vec![]).await;
    e.set_notify(peers.settings());
    let order = |key: &str, target: &str| NewOrder {
        idem_key: key.into(),
        account: "w".into(),
        kind: ResourceKind::Domain,
        operation: "register".into(),
        target: target.into(),
        params: serde_json::json!({}),
        quoted_fen: 5500,
        actor: "cli:test".into(),
    };
    let mut ids = Vec::new();
    for (key, target, end, detail) in [
        (
            "k1",
            "fail.cn",
            OrderState::Failed,
            "insufficient balance (余额不足)",
        ),
        ("k2", "lost.cn", OrderState::Unknown, "the answer was lost"),
        ("k3", "fine.cn", OrderState::Succeeded, "ok"),
    ] {
        let Placed::New(o) = db.store.create_order(&order(key, target)).await.unwrap() else {
            panic!("new order");
        };
        let sent = Move::state(OrderState::Pending, OrderState::Submitted, "sent");
        assert!(db.store.move_order(o.id, &sent).await.unwrap());
        let ended = Move::state(OrderState::Submitted, end, detail);
        assert!(db.store.move_order(o.id, &ended).await.unwrap());
        ids.push(o.id);
    }
    let raised = e.scan_events(now_ms()).await.unwrap().raised;
    assert_eq!(
        raised.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        ["order_failed", "order_unknown"]
    );
    assert!(e.scan_events(now_ms()).await.unwrap().raised.is_empty());
    // Settled later: the unknown one failing is news of its own.
    let settled = Move::state(
        OrderState::Unknown,
        OrderState::Failed,
        "not found upstream",
    );
    assert!(db.store.move_order(ids[1], &settled).await.unwrap());
    assert_eq!(e.scan_events(now_ms()).await.unwrap().raised.len(), 1);
    e.send_due("e", now_ms()).await.unwrap();
    let subjects = peers.delivered();
    assert_eq!(
        subjects,
        [
            format!("order #{} failed: register fail.cn", ids[0]),
            format!("order #{} failed: register lost.cn", ids[1]),
            format!("order #{} outcome unknown: register lost.cn", ids[1]),
        ]
    );
    let failed = peers
        .sink
        .accepted()
        .into_iter()
        .find(|m| m.subject().contains("fail.cn"))
        .unwrap();
    assert!(failed.body().contains("余额不足"), "{}", failed.body());
    assert!(failed.body().contains("quoted 55.00"), "{}", failed.body());
}

async fn a_sync_failing_repeatedly_is_announced_once_per_streak(db: &TestDb) {
    let peers = Peers::start(0, 0).await;
    let e = common::engine_on(db, vec![common::west()]).await;
    e.set_notify(peers.settings());
    let srv = common::add_sandbox(&e, "w", &idcgate_west::Sim::sandbox()).await;
    let streaks = |e: &Arc<Engine>| {
        let e = e.clone();
        async move {
            let raised = e.scan_events(now_ms()).await.unwrap().raised;
            raised
                .into_iter()
                .filter(|(kind, _)| kind == "sync_failing")
                .map(|(_, s)| s)
                .collect::<Vec<_>>()
        }
    };
    let sync = |e: &Arc<Engine>| {
        let e = e.clone();
        async move {
            let reports = e.sync_all(Arc::new(NoProgress)).await.unwrap();
            e.audit_sync("scheduler:test", &reports).await;
            reports.iter().all(|r| r.failed.is_empty())
        }
    };
    assert!(sync(&e).await, "the first sync works");
    drop(srv); // the upstream goes away
    for _ in 0..2 {
        assert!(!sync(&e).await);
    }
    assert!(streaks(&e).await.is_empty(), "two is not yet repeatedly");
    assert!(!sync(&e).await);
    assert_eq!(streaks(&e).await, ["sync of w failed 3 times in a row"]);
    assert!(!sync(&e).await);
    assert!(streaks(&e).await.is_empty(), "once per streak");
    // A success ends the streak; three new failures are a new one.
    let ok = AuditEntry {
        id: 0,
        at_ms: now_ms(),
        actor: "scheduler:test".into(),
        action: "sync".into(),
        target: "w".into(),
        outcome: "ok".into(),
        detail: "+0 ~0 -0".into(),
        intent_id: None,
    };
    db.store.append_audit(&ok).await.unwrap();
    for _ in 0..3 {
        assert!(!sync(&e).await);
    }
    assert_eq!(streaks(&e).await.len(), 1);
    e.send_due("e", now_ms()).await.unwrap();
    let hooks: Vec<_> = peers
        .hooks
        .delivered()
        .into_iter()
        .filter(|h| h.json()["event"] == "sync_failing")
        .collect();
    assert_eq!(hooks.len(), 2);
    let hook = &hooks[0];
    assert_eq!(hook.json()["data"]["account"], "w");
    assert!(hook.json()["data"]["failures"].as_i64().unwrap() >= 3);
}

/// A seller whose price the test sets: the simulators' prices are fixed tables.
static PRICES: Mutex<BTreeMap<String, i64>> = Mutex::new(BTreeMap::new());

struct FakeSeller {
    base_url: String,
}

#[async_trait]
impl Connection for FakeSeller {
    fn vendor(&self) -> Vendor {
        Vendor::West
    }
    fn spec(&self) -> &'static VendorSpec {
        idcgate_west::spec()
    }
    async fn call(
        &self,
        action: &str,
        _: &idcgate_core::capability::Params,
    ) -> idcgate_core::Result<serde_json::Value> {
        Err(idcgate_core::Error::Unsupported {
            vendor: "fake".into(),
            capability: action.into(),
        })
    }
    fn purchasing(&self) -> Option<&dyn Purchasing> {
        Some(self)
    }
}

#[async_trait]
impl Purchasing for FakeSeller {
    fn sells(&self) -> Vec<(ResourceKind, Operation)> {
        vec![(ResourceKind::Server, Operation::Create)]
    }
    async fn quote(&self, r: &PurchaseRequest) -> idcgate_core::Result<PriceQuote> {
        let monthly = PRICES.lock().unwrap()[&self.base_url];
        Ok(PriceQuote {
            product: "fake cloud server".into(),
            period_months: r.months,
            price: Money::from_fen(monthly * i64::from(r.months)),
        })
    }
    async fn before(&self, _: &PurchaseRequest) -> idcgate_core::Result<serde_json::Value> {
        Ok(serde_json::json!({}))
    }
    async fn buy(&self, r: &PurchaseRequest, _: &str) -> idcgate_core::Result<Order> {
        Err(not_sold("fake", r))
    }
    async fn settle(
        &self,
        r: &PurchaseRequest,
        _: &str,
        _: &serde_json::Value,
    ) -> idcgate_core::Result<Settled> {
        Err(not_sold("fake", r))
    }
}

fn fake_connect(
    a: &UpstreamAccount,
    _: &idcgate_wire::WireConfig,
) -> idcgate_core::Result<Arc<dyn Connection>> {
    Ok(Arc::new(FakeSeller {
        base_url: a.base_url.clone(),
    }))
}

async fn upstream_price_changes_of_products_on_sale_are_announced(db: &TestDb) {
    let peers = Peers::start(0, 0).await;
    let fake = VendorEntry {
        connect: fake_connect,
        ..common::west()
    };
    let engine = || async {
        let mut wire = idcgate_wire::WireConfig::new("test@example.com");
        wire.timeout = Duration::from_millis(800);
        let e = Arc::new(Engine::new(
            Arc::new(db.reopen().await),
            Registry::new(vec![fake.clone()]),
            wire,
        ));
        e.set_notify(peers.settings());
        e
    };
    let a = engine().await;
    let b = engine().await;
    let url = format!(
        "fake://{}",
        db.url.len() * 1_000_000 + now_ms() as usize % 1_000_000
    );
    let set_price = |fen: i64| PRICES.lock().unwrap().insert(url.clone(), fen);
    set_price(10_000);
    db.store
        .add_account(&UpstreamAccount {
            name: "fake".into(),
            vendor: Vendor::West,
            base_url: url.clone(),
            credentials: Credentials::new(),
            rate_limit_per_sec: 100,
        })
        .await
        .unwrap();
    a.add_product(
        "test",
        ProductSpec {
            name: "cloud-fake".into(),
            title: Some("Fake cloud".into()),
            account: "fake".into(),
            kind: ResourceKind::Server,
            offer: Some("c1".into()),
            options: BTreeMap::new(),
            rule: PriceRule::parse("20%", &[], &[], None).unwrap(),
        },
    )
    .await
    .unwrap();
    // The first quote is only remembered; an unchanged one says nothing.
    assert!(a.watch_prices(now_ms()).await.unwrap().raised.is_empty());
    assert!(a.watch_prices(now_ms()).await.unwrap().raised.is_empty());
    set_price(12_000);
    let raised = a.watch_prices(now_ms()).await.unwrap().raised;
    assert_eq!(
        raised,
        [(
            "price_changed".to_string(),
            "upstream cost of cloud-fake changed: 1200.00 -> 1440.00".to_string()
        )]
    );
    // Two instances watching the same change: one event.
    set_price(9_000);
    let both = join_all(vec![
        boxed(a.watch_prices(now_ms())),
        boxed(b.watch_prices(now_ms())),
    ])
    .await;
    assert_eq!(
        both.into_iter()
            .map(|r| r.unwrap().raised.len())
            .sum::<usize>(),
        1
    );
    // Products no longer sold are not watched.
    a.retire_product("test", "cloud-fake").await.unwrap();
    set_price(50_000);
    assert!(a.watch_prices(now_ms()).await.unwrap().raised.is_empty());
    a.send_due("a", now_ms()).await.unwrap();
    assert_eq!(peers.delivered().len(), 2);
    let first = peers
        .hooks
        .delivered()
        .into_iter()
        .map(|h| h.json())
        .find(|v| v["data"]["new_cost"] == "1440.00")
        .unwrap();
    assert_eq!(first["event"], "price_changed");
    assert_eq!(first["data"]["old_cost"], "1200.00");
    assert_eq!(first["data"]["months"], 12);
    assert_eq!(first["data"]["price"], "1728.00");
    assert!(
        first["text"].as_str().unwrap().contains("(+20.0%)"),
        "{first}"
    );
}

async fn the_test_message_reports_each_channel(db: &TestDb) {
    let peers = Peers::start(0, 1).await;
    let e = common::engine_on(db, vec![]).await;
    e.set_notify(peers.settings());
    let results = e.notify_test("cli:tester").await.unwrap();
    let summary: BTreeSet<(String, String, bool)> = results
        .iter()
        .map(|r| (r.channel.clone(), r.kind.clone(), r.ok))
        .collect();
    assert_eq!(
        summary,
        BTreeSet::from([
            ("hook".to_string(), "webhook".to_string(), false),
            ("mail".to_string(), "email".to_string(), true),
        ])
    );
    let hook = results.iter().find(|r| r.channel == "hook").unwrap();
    assert!(hook.detail.contains("HTTP 503"), "{}", hook.detail);
    assert_eq!(
        peers.sink.accepted()[0].subject(),
        "idcgate test notification"
    );
    // A test is not retried; both attempts are in the log.
    assert_eq!(e.send_due("e", now_ms()).await.unwrap(), Default::default());
    assert_eq!(db.store.delivery_counts().await.unwrap(), (0, 1, 1));
    assert_eq!(e.delivery_log(10).await.unwrap().len(), 2);
}
