//! DNS and server operations against real simulators with faults injected (issue 12):
//! what the API says happened is what happened upstream, and every call is audited,
//! also one whose process is gone before the upstream answered.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::{add_sandbox, clean_view, cndns, engine_on, west};
use idcgate_core::{Connection, DnsRecord, Error, PowerAction, PowerState, RecordInput};
use idcgate_core::{RecordType, ResourceKind};
use idcgate_engine::ops::ServerOp;
use idcgate_engine::sync::NoProgress;
use idcgate_engine::{Engine, EngineError};
use idcgate_store::both_backends;
use idcgate_store::testing::TestDb;
use idcgate_store::Store as _;
use idcgate_wire::sim::SimServer;
use idcgate_wire::FaultConfig;
use std::sync::Arc;

both_backends!(
    a_dns_write_west_accepted_is_ok_when_the_read_after_it_fails,
    a_server_action_done_is_ok_when_the_read_after_it_fails,
    a_lost_create_never_claims_a_record_that_was_there_before,
    an_apply_reads_the_zone_once_for_its_creates_and_claims_a_lost_one,
    an_operation_killed_in_flight_leaves_its_audit_intent,
    concurrent_syncs_of_an_account_run_once,
    unknown_zones_are_probed_once_per_burst,
);

/// A West sandbox behind the faulted server `srv`, synced; `clean` reads the same
/// simulator without faults (what the upstream really holds).
struct WestEnv {
    engine: Arc<Engine>,
    srv: SimServer,
    _clean_srv: SimServer,
    clean: Arc<dyn Connection>,
}

async fn west_env(db: &TestDb) -> WestEnv {
    let engine = engine_on(db, vec![west()]).await;
    let sim = idcgate_west::Sim::sandbox();
    let srv = add_sandbox(&engine, "w", &sim).await;
    let (clean_srv, clean) = clean_view(&west(), &sim).await;
    let reports = engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    assert!(reports.iter().all(|r| r.failed.is_empty()), "{reports:?}");
    WestEnv {
        engine,
        srv,
        _clean_srv: clean_srv,
        clean,
    }
}

impl WestEnv {
    async fn zone(&self) -> String {
        common::first_zone(&self.engine).await
    }

    async fn upstream_records(&self, zone: &str) -> Vec<DnsRecord> {
        self.clean.dns().unwrap().list_records(zone).await.unwrap()
    }

    /// Every request whose URL or body holds `text` fails, for the next `n` requests.
    fn fail(&self, text: &str, n: u32) {
        self.srv.faults.set(FaultConfig {
            next_only_matching: text.into(),
            error_next: n,
            ..Default::default()
        });
    }

    async fn audit_of(&self, action: &str) -> Vec<idcgate_store::AuditEntry> {
        self.engine
            .audit_trail(100)
            .await
            .unwrap()
            .into_iter()
            .filter(|a| a.action == action)
            .collect()
    }
}

fn txt(host: &str, value: &str) -> RecordInput {
    RecordInput {
        host: host.into(),
        rtype: RecordType::Txt,
        value: value.into(),
        ttl: 600,
        line: None,
        priority: None,
    }
}

async fn a_dns_write_west_accepted_is_ok_when_the_read_after_it_fails(db: &TestDb) {
    let env = west_env(db).await;
    let zone = env.zone().await;
    // Every record read fails (the engine's zone listing, West's own narrowed read after
    // the write and its full listing, with their retries: `getdnsrecord` is in
    // `getdnsrecords`); the write itself goes through.
    env.fail("act=getdnsrecord", 100);
    let added = env
        .engine
        .dns_add("t", &zone, &txt("soak1", "written-then-unread"))
        .await
        .expect("West accepted the record: the add succeeded");
    let id = added.upstream_id.clone().unwrap();
    assert_eq!(added.value, "written-then-unread");
    let set = env
        .engine
        .dns_set("t", &zone, &id, &txt("soak1", "changed-then-unread"))
        .await
        .expect("West accepted the change: the set succeeded");
    assert_eq!(set.upstream_id.as_deref(), Some(id.as_str()));
    assert!(
        env.srv.faults.get().error_next < 100,
        "the reads were faulted"
    );
    env.srv.faults.set(FaultConfig::default());

    let upstream = env.upstream_records(&zone).await;
    let there = upstream
        .iter()
        .find(|r| r.upstream_id.as_deref() == Some(id.as_str()))
        .expect("the record is upstream");
    assert_eq!(there.value, "changed-then-unread");
    for action in ["dns.add", "dns.set"] {
        let audit = env.audit_of(action).await;
        assert_eq!(audit.len(), 1, "{audit:?}");
        assert_eq!(audit[0].outcome, "ok", "{audit:?}");
        assert!(audit[0].intent_id.is_some(), "{audit:?}");
    }
    // The inventory holds the record as written, the way a listing shows it: the next
    // sync confirms it without a change.
    let row = env
        .engine
        .reads()
        .resource("w", ResourceKind::DnsRecord, &format!("{zone}/{id}"))
        .await
        .unwrap()
        .expect("the written record is in the inventory");
    assert_eq!(row.data["value"], "changed-then-unread");
    env.engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    let synced = env
        .engine
        .reads()
        .resource("w", ResourceKind::DnsRecord, &format!("{zone}/{id}"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(synced.data, serde_json::to_value(there).unwrap());
}

async fn a_server_action_done_is_ok_when_the_read_after_it_fails(db: &TestDb) {
    let env = west_env(db).await;
    let compute = env.clean.compute().unwrap();
    let server = compute
        .list_servers()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.power == PowerState::Running)
        .expect("a running sandbox server");
    let reference = format!("w/{}", server.upstream_id);
    // Every server read fails; the action goes through.
    env.fail("act=detail", 100);
    let after = env
        .engine
        .server_op("t", &reference, ServerOp::Power(PowerAction::Stop))
        .await
        .expect("West stopped the server: the action succeeded");
    assert!(
        env.srv.faults.get().error_next < 100,
        "the read was faulted"
    );
    assert_eq!(after.upstream_id, server.upstream_id);
    assert_eq!(after.power, PowerState::Unknown, "not read, so not known");
    env.srv.faults.set(FaultConfig::default());
    assert_eq!(
        compute.get_server(&server.upstream_id).await.unwrap().power,
        PowerState::Stopped
    );
    let audit = env.audit_of("server.stop").await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].outcome, "ok");
    // Marked stale in the inventory, for the next sync.
    let stored_power = || async {
        let reads = env.engine.reads();
        let row = reads.resource("w", ResourceKind::Server, &server.upstream_id);
        row.await.unwrap().unwrap().data["power"].clone()
    };
    assert_eq!(stored_power().await, "unknown");
    env.engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    assert_eq!(stored_power().await, "stopped");
}

async fn a_lost_create_never_claims_a_record_that_was_there_before(db: &TestDb) {
    let env = west_env(db).await;
    let zone = env.zone().await;
    let input = txt("dup", "same-as-before");
    let first = env.engine.dns_add("t", &zone, &input).await.unwrap();
    // The same create again fails upstream before anything is committed; an identical
    // record is there, but it is the old one.
    env.fail("act=adddnsrecord", 1);
    let err = env.engine.dns_add("t", &zone, &input).await.unwrap_err();
    assert!(
        matches!(err, EngineError::Upstream(Error::UnknownOutcome { .. })),
        "{err}"
    );
    let same: Vec<DnsRecord> = env
        .upstream_records(&zone)
        .await
        .into_iter()
        .filter(|r| r.host == "dup")
        .collect();
    assert_eq!(same.len(), 1, "nothing was created: {same:?}");
    assert_eq!(same[0].upstream_id, first.upstream_id);
    let outcomes: Vec<String> = env
        .audit_of("dns.add")
        .await
        .into_iter()
        .map(|a| a.outcome)
        .collect();
    assert_eq!(outcomes, vec!["unknown_outcome", "ok"]);

    // A create committed upstream whose answer is lost is claimed: its record is new.
    env.srv.faults.set(FaultConfig {
        next_only_matching: "act=adddnsrecord".into(),
        drop_next: 1,
        ..Default::default()
    });
    let fresh = env
        .engine
        .dns_add("t", &zone, &txt("dup", "new-but-unanswered"))
        .await
        .unwrap();
    assert!(env
        .upstream_records(&zone)
        .await
        .iter()
        .any(|r| r.upstream_id == fresh.upstream_id && r.value == "new-but-unanswered"));
}

async fn an_apply_reads_the_zone_once_for_its_creates_and_claims_a_lost_one(db: &TestDb) {
    use idcgate_engine::dnsplan::Safety;
    use idcgate_engine::zonefile::{Entry, Value};
    let env = west_env(db).await;
    let zone = env.zone().await;
    let mut file = env.engine.dns_export(&zone).await.unwrap();
    let creates = 30;
    for n in 0..creates {
        file.entries.push(Entry {
            name: format!("bulk{n}"),
            rtype: idcgate_core::RecordType::Txt,
            ttl: 600,
            line: None,
            enabled: true,
            values: vec![Value {
                value: format!("v=bulk{n}"),
                priority: None,
            }],
        });
    }
    // The first create is committed upstream and its answer lost.
    env.srv.faults.set(FaultConfig {
        next_only_matching: "act=adddnsrecord".into(),
        drop_next: 1,
        ..Default::default()
    });
    let sent_before = env.srv.faults.requests();
    let (_, report) = env
        .engine
        .dns_apply("t", &[file], &Safety::default(), false)
        .await
        .unwrap();
    let sent = env.srv.faults.requests() - sent_before;
    assert!(report.failed.is_none(), "{report:?}");
    assert_eq!(report.zones[0].created, creates);
    let held = env.upstream_records(&zone).await;
    for n in 0..creates {
        let mine: Vec<_> = held
            .iter()
            .filter(|r| r.host == format!("bulk{n}"))
            .collect();
        assert_eq!(mine.len(), 1, "bulk{n} once: {mine:?}");
    }
    // Two a create (West's add, then its read of the new record's id), the plan's read,
    // one read before the creates and one to settle the lost answer: a read of the zone
    // before each create would add 30.
    assert!(
        sent <= 2 * creates as u64 + 4,
        "{sent} requests for {creates} creates"
    );
}

async fn an_operation_killed_in_flight_leaves_its_audit_intent(db: &TestDb) {
    // A client that waits (nearly) for ever for the lost answer.
    let mut wire = idcgate_wire::WireConfig::new("test@example.com");
    wire.timeout = std::time::Duration::from_secs(3600);
    let engine = Arc::new(Engine::new(
        Arc::new(db.reopen().await),
        idcgate_engine::Registry::new(vec![west()]),
        wire,
    ));
    let sim = idcgate_west::Sim::sandbox();
    let srv = add_sandbox(&engine, "w", &sim).await;
    engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    let zone = common::first_zone(&engine).await;
    srv.faults.set(FaultConfig {
        next_only_matching: "act=adddnsrecord".into(),
        drop_next: 1,
        ..Default::default()
    });
    let op = {
        let (engine, zone) = (engine.clone(), zone.clone());
        tokio::spawn(async move {
            engine
                .dns_add("token:ops", &zone, &txt("inflight", "never-answered"))
                .await
        })
    };
    // Wait until the upstream has the write (its answer will never come), then kill.
    while srv.faults.get().drop_next > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    op.abort();
    assert!(op.await.unwrap_err().is_cancelled());

    let open = db.store.unfinished_audit(10).await.unwrap();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].action, "dns.add");
    assert_eq!(open[0].actor, "token:ops");
    assert_eq!(open[0].target, format!("w/{zone}"));
    let done = db.store.list_audit(100).await.unwrap();
    assert!(done.iter().all(|a| a.action != "dns.add"), "{done:?}");
    // Every surface's audit listing shows it.
    let trail = engine.audit_trail(1).await.unwrap();
    assert_eq!(trail[0].outcome, "unfinished");
    assert_eq!(trail[0].intent_id, Some(open[0].id));

    // A completed operation completes its intent.
    srv.faults.set(FaultConfig::default());
    engine
        .dns_add("token:ops", &zone, &txt("later", "answered"))
        .await
        .unwrap();
    assert_eq!(db.store.unfinished_audit(10).await.unwrap().len(), 1);
}

async fn concurrent_syncs_of_an_account_run_once(db: &TestDb) {
    let engine = engine_on(db, vec![west()]).await;
    let sim = idcgate_west::Sim::sandbox();
    let srv = add_sandbox(&engine, "w", &sim).await;
    let before = srv.faults.requests();
    engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    let one_sync = srv.faults.requests() - before;
    assert!(one_sync > 0);

    // Slow answers keep the first sync running while the others arrive.
    srv.faults.set(FaultConfig {
        latency_ms: 300,
        ..Default::default()
    });
    let before = srv.faults.requests();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let engine = engine.clone();
        set.spawn(async move { engine.sync_all(Arc::new(NoProgress)).await });
    }
    let mut reports = Vec::new();
    while let Some(r) = set.join_next().await {
        reports.push(r.unwrap().unwrap());
    }
    assert_eq!(
        srv.faults.requests() - before,
        one_sync,
        "twenty concurrent syncs cost the upstream one"
    );
    assert!(
        reports.iter().all(|r| r == &reports[0]),
        "all got its report"
    );
}

async fn unknown_zones_are_probed_once_per_burst(db: &TestDb) {
    // CNDNS cannot list its zones: a zone not in the inventory is asked for.
    let engine = engine_on(db, vec![cndns()]).await;
    let sim = idcgate_cndns::Sim::sandbox();
    let srv = add_sandbox(&engine, "c", &sim).await;
    let before = srv.faults.requests();
    assert!(matches!(
        engine.dns_list("nobody-a.cn").await,
        Err(EngineError::NoSuchZone(_))
    ));
    let one_probe = srv.faults.requests() - before;
    assert!(one_probe > 0, "the account was asked");

    let before = srv.faults.requests();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let engine = engine.clone();
        set.spawn(async move { engine.dns_list("nobody-b.cn").await });
    }
    while let Some(r) = set.join_next().await {
        assert!(matches!(r.unwrap(), Err(EngineError::NoSuchZone(_))));
    }
    assert_eq!(
        srv.faults.requests() - before,
        one_probe,
        "twenty requests for one unknown zone cost one probe"
    );
    let before = srv.faults.requests();
    assert!(engine.dns_list("nobody-a.cn").await.is_err());
    assert_eq!(srv.faults.requests(), before, "remembered for a while");
}
