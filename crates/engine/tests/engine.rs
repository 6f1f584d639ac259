//! Engine behaviour against an in-memory fake upstream, on SQLite and PostgreSQL: sync
//! idempotence, gone-marking, failure isolation, kill-and-rerun convergence, routed DNS
//! operations with audit, and scheduled jobs.
#![allow(clippy::unwrap_used)] // a test may fail loudly

use async_trait::async_trait;
use idcgate_core::capability::*;
use idcgate_core::spec::VendorSpec;
use idcgate_core::*;
use idcgate_engine::sync::NoProgress;
use idcgate_engine::{Engine, Registry, VendorEntry};
#[allow(unused_imports)]
// the store's traits, for what a test seeds or reads behind the engine
use idcgate_store::prelude::*;
use idcgate_store::testing::TestDb;
use idcgate_store::{both_backends, ResourceFilter, ResourceRow, Store};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

#[derive(Default)]
struct FakeState {
    domains: Vec<Domain>,
    zones: BTreeMap<String, Vec<DnsRecord>>,
    servers: Vec<Server>,
    failing_zones: Vec<String>,
    next_id: u32,
    /// Zone listings answered so far; once it passes `stall_after_zones`, every further
    /// listing hangs, so a test can kill a sync at a known point rather than after a sleep.
    zones_listed: usize,
    stall_after_zones: Option<usize>,
    /// The next create: `Some(true)` commits then loses the answer, `Some(false)` loses
    /// the request before anything happened (both look the same to the caller).
    lose_next_create: Option<bool>,
    /// Behave like an upstream with no "what do I own" listing.
    cannot_list_domains: bool,
    cannot_list_zones: bool,
    /// The next delete commits, then its answer is lost.
    lose_next_delete: bool,
}

type Shared = Arc<Mutex<FakeState>>;

fn fakes() -> &'static Mutex<HashMap<String, Shared>> {
    static F: OnceLock<Mutex<HashMap<String, Shared>>> = OnceLock::new();
    F.get_or_init(Default::default)
}

fn fake_spec() -> &'static VendorSpec {
    static S: OnceLock<VendorSpec> = OnceLock::new();
    S.get_or_init(|| VendorSpec::parse(Vendor::West, "").unwrap())
}

struct Fake(Shared);

fn connect(a: &UpstreamAccount, _: &idcgate_wire::WireConfig) -> Result<Arc<dyn Connection>> {
    let state = fakes().lock().unwrap().get(&a.base_url).cloned();
    state
        .map(|s| Arc::new(Fake(s)) as Arc<dyn Connection>)
        .ok_or_else(|| Error::Transport {
            vendor: "fake".into(),
            message: "connection refused".into(),
        })
}

struct NoSim;
impl idcgate_wire::Simulator for NoSim {
    fn vendor(&self) -> Vendor {
        Vendor::West
    }
    fn router(&self) -> axum::Router {
        axum::Router::new()
    }
    fn sandbox_credentials(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

fn unsupported<T>() -> Result<T> {
    Err(Error::NotImplemented {
        vendor: "fake".into(),
        action: "x".into(),
    })
}

/// A listing this fake upstream is set up not to offer.
fn cannot<T>(capability: &str) -> Result<T> {
    Err(Error::Unsupported {
        vendor: "fake".into(),
        capability: capability.into(),
    })
}

#[async_trait]
impl Connection for Fake {
    fn vendor(&self) -> Vendor {
        Vendor::West
    }
    fn spec(&self) -> &'static VendorSpec {
        fake_spec()
    }
    async fn call(&self, _a: &str, _p: &Params) -> Result<serde_json::Value> {
        unsupported()
    }
    fn registrar(&self) -> Option<&dyn Registrar> {
        Some(self)
    }
    fn dns(&self) -> Option<&dyn Dns> {
        Some(self)
    }
    fn compute(&self) -> Option<&dyn Compute> {
        Some(self)
    }
    fn billing(&self) -> Option<&dyn Billing> {
        Some(self)
    }
}

#[async_trait]
impl Registrar for Fake {
    async fn list_domains(&self) -> Result<Vec<Domain>> {
        let s = self.0.lock().unwrap();
        if s.cannot_list_domains {
            return cannot("listing domains");
        }
        Ok(s.domains.clone())
    }
    async fn get_domain(&self, _: &str) -> Result<Domain> {
        unsupported()
    }
    async fn check_available(&self, _: &str) -> Result<bool> {
        unsupported()
    }
    async fn quote_registration(&self, _: &str, _: u32) -> Result<PriceQuote> {
        unsupported()
    }
    async fn quote_renewal(&self, _: &str, _: u32) -> Result<PriceQuote> {
        unsupported()
    }
    async fn register(&self, _: &str, _: u32, _: &str) -> Result<Order> {
        unsupported()
    }
    async fn renew(&self, _: &str, _: u32, _: &str) -> Result<Order> {
        unsupported()
    }
    async fn set_nameservers(&self, _: &str, _: &[String]) -> Result<()> {
        unsupported()
    }
}

#[async_trait]
impl Dns for Fake {
    async fn list_zones(&self) -> Result<Vec<Zone>> {
        let s = self.0.lock().unwrap();
        if s.cannot_list_zones {
            return cannot("listing zones");
        }
        Ok(s.zones
            .keys()
            .map(|z| Zone {
                name: z.clone(),
                upstream_id: None,
                record_count: None,
                marker: None,
            })
            .collect())
    }
    async fn list_records(&self, zone: &str) -> Result<Vec<DnsRecord>> {
        let stall = {
            let mut s = self.0.lock().unwrap();
            s.zones_listed += 1;
            s.stall_after_zones.is_some_and(|n| s.zones_listed > n)
        };
        if stall {
            std::future::pending::<()>().await;
        }
        let s = self.0.lock().unwrap();
        if s.failing_zones.iter().any(|z| z == zone) {
            return Err(Error::Transport {
                vendor: "fake".into(),
                message: "timeout".into(),
            });
        }
        s.zones
            .get(zone)
            .cloned()
            .ok_or_else(|| Error::not_found(zone))
    }
    async fn create_record(&self, zone: &str, r: &RecordInput) -> Result<DnsRecord> {
        let mut s = self.0.lock().unwrap();
        let lost = || Error::UnknownOutcome {
            vendor: "fake".into(),
            action: "create".into(),
            message: "timed out".into(),
        };
        match s.lose_next_create.take() {
            Some(false) => return Err(lost()),
            Some(true) => {
                s.next_id += 1;
                let rec = record(zone, &s.next_id.to_string(), &r.host, &r.value);
                s.zones
                    .get_mut(zone)
                    .ok_or_else(|| Error::not_found(zone))?
                    .push(rec);
                return Err(lost());
            }
            None => {}
        }
        s.next_id += 1;
        let rec = record(zone, &s.next_id.to_string(), &r.host, &r.value);
        s.zones
            .get_mut(zone)
            .ok_or_else(|| Error::not_found(zone))?
            .push(rec.clone());
        Ok(rec)
    }
    async fn update_record(&self, _: &str, _: &str, _: &RecordInput) -> Result<DnsRecord> {
        unsupported()
    }
    async fn delete_record(&self, zone: &str, id: &str) -> Result<()> {
        let mut s = self.0.lock().unwrap();
        if s.lose_next_delete {
            s.lose_next_delete = false;
            s.zones
                .get_mut(zone)
                .ok_or_else(|| Error::not_found(zone))?
                .retain(|r| r.upstream_id.as_deref() != Some(id));
            return Err(Error::UnknownOutcome {
                vendor: "fake".into(),
                action: "delete".into(),
                message: "timed out".into(),
            });
        }
        let recs = s
            .zones
            .get_mut(zone)
            .ok_or_else(|| Error::not_found(zone))?;
        let before = recs.len();
        recs.retain(|r| r.upstream_id.as_deref() != Some(id));
        if recs.len() == before {
            return Err(Error::upstream("fake", 20120, "record already deleted"));
        }
        Ok(())
    }
    async fn set_record_enabled(&self, _: &str, _: &str, _: bool) -> Result<()> {
        unsupported()
    }
    async fn lines(&self, _: &str) -> Result<Vec<String>> {
        Ok(vec![])
    }
}

#[async_trait]
impl Compute for Fake {
    async fn catalog(&self) -> Result<ComputeCatalog> {
        unsupported()
    }
    async fn list_servers(&self) -> Result<Vec<Server>> {
        Ok(self.0.lock().unwrap().servers.clone())
    }
    async fn get_server(&self, id: &str) -> Result<Server> {
        self.0
            .lock()
            .unwrap()
            .servers
            .iter()
            .find(|s| s.upstream_id == id)
            .cloned()
            .ok_or_else(|| Error::not_found(id))
    }
    async fn create_server(&self, _: &ServerSpec) -> Result<Server> {
        unsupported()
    }
    async fn power(&self, id: &str, a: PowerAction) -> Result<()> {
        let mut s = self.0.lock().unwrap();
        let srv = s
            .servers
            .iter_mut()
            .find(|s| s.upstream_id == id)
            .ok_or_else(|| Error::not_found(id))?;
        srv.power = match a {
            PowerAction::Stop | PowerAction::ForceStop => PowerState::Stopped,
            _ => PowerState::Running,
        };
        Ok(())
    }
    async fn reinstall(&self, _: &str, _: &str) -> Result<()> {
        unsupported()
    }
    async fn reset_password(&self, _: &str, _: &str) -> Result<()> {
        unsupported()
    }
    async fn resize(&self, _: &str, _: &Resize) -> Result<()> {
        unsupported()
    }
    async fn delete_server(&self, _: &str) -> Result<()> {
        unsupported()
    }
    async fn console(&self, _: &str) -> Result<ConsoleSession> {
        unsupported()
    }
    async fn list_backups(&self, _: &str) -> Result<Vec<Backup>> {
        unsupported()
    }
    async fn create_backup(&self, _: &str, _: &str, _: bool) -> Result<()> {
        unsupported()
    }
    async fn restore_backup(&self, _: &str, _: &str) -> Result<()> {
        unsupported()
    }
    async fn delete_backup(&self, _: &str, _: &str) -> Result<()> {
        unsupported()
    }
}

#[async_trait]
impl Billing for Fake {
    async fn balance(&self) -> Result<Balance> {
        Ok(Balance {
            available: Money::from_fen(12345),
            credit: Money::ZERO,
        })
    }
}

fn record(zone: &str, id: &str, host: &str, value: &str) -> DnsRecord {
    DnsRecord {
        zone: zone.into(),
        host: host.into(),
        rtype: RecordType::A,
        value: value.into(),
        ttl: 600,
        line: None,
        priority: None,
        enabled: true,
        upstream_id: Some(id.into()),
    }
}

fn populated(zones: usize, records: usize) -> FakeState {
    let mut s = FakeState::default();
    for z in 0..zones {
        let zone = format!("zone{z}.cn");
        s.domains.push(Domain {
            name: zone.clone(),
            status: DomainStatus::Active,
            registered_at: None,
            expires_at: Some(jiff::Timestamp::from_second(1_900_000_000 + z as i64).unwrap()),
            nameservers: vec![],
            auto_renew: false,
            upstream_id: None,
        });
        let recs = (0..records)
            .map(|r| record(&zone, &format!("{z}-{r}"), &format!("h{r}"), "192.0.2.1"))
            .collect();
        s.zones.insert(zone, recs);
    }
    s.servers.push(Server {
        upstream_id: "vm1".into(),
        name: "web".into(),
        kind: ServerKind::Vps,
        region: None,
        plan: None,
        cpu: 2,
        ram_mb: 2048,
        disks: vec![],
        bandwidth_mbps: 0,
        ips: vec!["192.0.2.9".into()],
        os_image: None,
        power: PowerState::Running,
        lifecycle: LifecycleState::Active,
        expires_at: None,
    });
    s.next_id = 10_000;
    s
}

async fn engine_with(
    db: &TestDb,
    accounts: Vec<(&str, Option<FakeState>)>,
) -> (Arc<Engine>, Vec<Shared>) {
    let engine = engine_on(db).await;
    let mut shared = Vec::new();
    for (name, state) in accounts {
        let url = format!("fake://{}/{}", db.url, name);
        if let Some(st) = state {
            let s = Arc::new(Mutex::new(st));
            fakes().lock().unwrap().insert(url.clone(), s.clone());
            shared.push(s);
        }
        engine
            .put_sandbox_account(&UpstreamAccount {
                name: name.to_string(),
                vendor: Vendor::West,
                base_url: url,
                credentials: Credentials::new(),
                rate_limit_per_sec: 0,
            })
            .await
            .unwrap();
    }
    (engine, shared)
}

both_backends!(
    sync_is_idempotent_and_marks_gone,
    one_failing_account_does_not_stop_the_others,
    a_failed_zone_listing_keeps_its_records,
    killed_sync_rerun_converges,
    dns_operations_route_update_inventory_and_audit,
    server_operations_refresh_inventory,
    scheduled_jobs_run_once_per_period,
    two_instances_never_run_the_same_job_at_once,
    a_lost_create_answer_is_reconciled_by_reading,
    a_listing_the_vendor_cannot_do_is_neither_failure_nor_gone,
    zones_of_an_upstream_that_cannot_list_them_are_found_by_asking,
    zone_spellings_reach_one_zone_and_removed_accounts_leave_the_inventory,
);

async fn count(engine: &Engine, filter: ResourceFilter) -> i64 {
    engine.reads().count_resources(&filter).await.unwrap()
}

async fn rows(engine: &Engine, filter: ResourceFilter) -> Vec<ResourceRow> {
    engine.reads().resources(&filter).await.unwrap()
}

async fn live_keys(store: &dyn Store) -> Vec<(String, String, String, String)> {
    let rows = store
        .list_resources(&ResourceFilter::default())
        .await
        .unwrap();
    let mut v: Vec<_> = rows
        .into_iter()
        .map(|r| {
            (
                r.account,
                r.kind.as_str().to_string(),
                r.key,
                r.data.to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

async fn sync_is_idempotent_and_marks_gone(db: &TestDb) {
    let (engine, shared) = engine_with(db, vec![("a", Some(populated(3, 4)))]).await;
    let r = engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    // 3 domains + 3 zones + 12 records + 1 server + 1 balance
    assert_eq!(r[0].added, 20, "{r:?}");
    let changes_before = db.store.changes(None, 10_000).await.unwrap().len();
    let r = engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    assert_eq!(
        (r[0].added, r[0].changed, r[0].gone, r[0].unchanged),
        (0, 0, 0, 20)
    );
    assert_eq!(
        db.store.changes(None, 10_000).await.unwrap().len(),
        changes_before,
        "a rerun writes nothing"
    );
    {
        let mut s = shared[0].lock().unwrap();
        s.domains.remove(0);
        s.zones.get_mut("zone1.cn").unwrap().pop();
        s.servers[0].power = PowerState::Stopped;
    }
    let r = engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    assert_eq!((r[0].gone, r[0].changed), (2, 1), "{r:?}");
    let gone = rows(
        &engine,
        ResourceFilter {
            include_gone: true,
            kind: Some(ResourceKind::Domain),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        gone.iter().filter(|r| r.gone_at_ms.is_some()).count(),
        1,
        "history kept"
    );
}

async fn one_failing_account_does_not_stop_the_others(db: &TestDb) {
    let (engine, _) =
        engine_with(db, vec![("good", Some(populated(1, 1))), ("broken", None)]).await;
    let r = engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    let broken = r.iter().find(|x| x.account == "broken").unwrap();
    let good = r.iter().find(|x| x.account == "good").unwrap();
    assert!(
        broken.failed[0].contains("connection refused"),
        "{broken:?}"
    );
    assert!(good.failed.is_empty() && good.added > 0);
}

async fn a_failed_zone_listing_keeps_its_records(db: &TestDb) {
    let (engine, shared) = engine_with(db, vec![("a", Some(populated(2, 3)))]).await;
    engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    shared[0]
        .lock()
        .unwrap()
        .failing_zones
        .push("zone0.cn".into());
    let r = engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    assert_eq!(r[0].gone, 0);
    assert!(r[0].failed.iter().any(|f| f.contains("zone0.cn")));
    let n = count(
        &engine,
        ResourceFilter {
            kind: Some(ResourceKind::DnsRecord),
            name_prefix: Some("zone0.cn ".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(n, 3);
}

async fn killed_sync_rerun_converges(db: &TestDb) {
    let mut st = populated(40, 5);
    st.stall_after_zones = Some(10);
    let (engine, shared) = engine_with(db, vec![("a", Some(st))]).await;
    let e2 = engine.clone();
    let task = tokio::spawn(async move { e2.sync_all(Arc::new(NoProgress)).await });
    // Killed while it waits on the eleventh zone: 30 zones' records were never listed.
    let stalled = async {
        while shared[0].lock().unwrap().zones_listed <= 10 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), stalled)
        .await
        .expect("the sync reached the stalled zone listing");
    task.abort();
    let _ = task.await;
    let partial = live_keys(&db.store).await.len();
    shared[0].lock().unwrap().stall_after_zones = None;
    engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    let after_rerun = live_keys(&db.store).await;
    // A clean, uninterrupted sync into a fresh database gives the same inventory.
    let fresh = idcgate_store::testing::sqlite().await;
    let (clean, _) = engine_with(&fresh, vec![("a", Some(populated(40, 5)))]).await;
    clean.sync_all(Arc::new(NoProgress)).await.unwrap();
    assert!(
        partial < after_rerun.len(),
        "the kill really interrupted the sync ({partial})"
    );
    assert_eq!(after_rerun, live_keys(&fresh.store).await);
}

async fn dns_operations_route_update_inventory_and_audit(db: &TestDb) {
    let (engine, shared) = engine_with(
        db,
        vec![("a", Some(populated(1, 1))), ("b", Some(populated(0, 0)))],
    )
    .await;
    shared[1]
        .lock()
        .unwrap()
        .zones
        .insert("other.cn".into(), vec![]);
    let reports = engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    assert!(reports.iter().all(|r| r.failed.is_empty()), "{reports:?}");
    assert_eq!(engine.zone_account("zone0.cn").await.unwrap(), "a");
    assert_eq!(engine.zone_account("OTHER.cn.").await.unwrap(), "b");
    assert!(matches!(
        engine.zone_account("nope.cn").await,
        Err(idcgate_engine::EngineError::NoSuchZone(_))
    ));
    let input = RecordInput {
        host: "www".into(),
        rtype: RecordType::A,
        value: "198.51.100.7".into(),
        ttl: 600,
        line: None,
        priority: None,
    };
    // A newline in a value is refused before anything is sent or audited: the upstream
    // would store it and read back two records nobody wrote.
    for (host, value) in [("www", "v=one\nv=two"), ("w\tw", "198.51.100.7")] {
        let split = RecordInput {
            host: host.into(),
            rtype: RecordType::Txt,
            value: value.into(),
            ..input.clone()
        };
        let err = engine
            .dns_add("tester", "other.cn", &split)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                idcgate_engine::EngineError::Upstream(Error::InvalidInput { .. })
            ),
            "{err}"
        );
        let err = engine
            .dns_set("tester", "other.cn", "1", &split)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("control character"), "{err}");
    }
    assert!(shared[1].lock().unwrap().zones["other.cn"].is_empty());
    let rec = engine.dns_add("tester", "other.cn", &input).await.unwrap();
    assert_eq!(
        shared[1].lock().unwrap().zones["other.cn"].len(),
        1,
        "went to account b"
    );
    let id = rec.upstream_id.clone().unwrap();
    assert!(engine
        .reads()
        .resource("b", ResourceKind::DnsRecord, &format!("other.cn/{id}"))
        .await
        .unwrap()
        .is_some());
    engine.dns_remove("tester", "other.cn", &id).await.unwrap();
    let err = engine
        .dns_remove("tester", "other.cn", &id)
        .await
        .unwrap_err();
    // Refused (20120), and the zone read after it no longer lists the id: not found.
    assert!(
        matches!(
            err,
            idcgate_engine::EngineError::Upstream(Error::NotFound { .. })
        ),
        "{err}"
    );
    let audit = db.store.list_audit(10).await.unwrap();
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .rev()
        .map(|a| (a.action.as_str(), a.outcome.as_str()))
        .collect();
    assert_eq!(
        actions,
        vec![("dns.add", "ok"), ("dns.rm", "ok"), ("dns.rm", "not_found")]
    );
    assert_eq!(audit[2].actor, "tester");
}

async fn server_operations_refresh_inventory(db: &TestDb) {
    let (engine, shared) = engine_with(db, vec![("a", Some(populated(0, 0)))]).await;
    engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    let s = engine
        .server_op(
            "t",
            "vm1",
            idcgate_engine::ops::ServerOp::Power(PowerAction::Stop),
        )
        .await
        .unwrap();
    assert_eq!(s.power, PowerState::Stopped);
    assert_eq!(
        shared[0].lock().unwrap().servers[0].power,
        PowerState::Stopped
    );
    let row = engine
        .reads()
        .resource("a", ResourceKind::Server, "vm1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.data["power"], "stopped");
    assert!(engine
        .server_op(
            "t",
            "a/nope",
            idcgate_engine::ops::ServerOp::Power(PowerAction::Start)
        )
        .await
        .is_err());
}

async fn scheduled_jobs_run_once_per_period(db: &TestDb) {
    let (engine, _) = engine_with(db, vec![("a", Some(populated(1, 1)))]).await;
    let schedule = idcgate_engine::jobs::Schedule::default();
    let mut ran = Vec::new();
    while let Some(j) = idcgate_engine::jobs::run_due_job(&engine, "inst-1", &schedule)
        .await
        .unwrap()
    {
        ran.push(j);
    }
    ran.sort();
    assert_eq!(
        ran,
        vec![
            "expiry-report".to_string(),
            "reconcile-orders".to_string(),
            "renewals".to_string(),
            "sync".to_string()
        ]
    );
    assert_eq!(
        idcgate_engine::jobs::run_due_job(&engine, "inst-2", &schedule)
            .await
            .unwrap(),
        None,
        "not due again"
    );
    assert!(
        count(&engine, ResourceFilter::default()).await > 0,
        "the job synced"
    );
    // A scheduled sync is audited like one asked for, one entry per account.
    let last = engine.last_syncs().await.unwrap();
    assert_eq!(last.len(), 1, "{last:?}");
    assert_eq!(
        (
            last[0].target.as_str(),
            last[0].actor.as_str(),
            last[0].outcome.as_str()
        ),
        ("a", "scheduler:inst-1", "ok")
    );
}

#[test]
fn audit_scrubs_secret_looking_fields_at_any_depth() {
    let answer = serde_json::json!({"id": 7, "rootPassword": "Zx9!secret", "data": [{"api_key": "k-123", "name": "web"}], "token": {"nested": "t"}});
    let scrubbed = idcgate_wire::redact::scrub_json(&answer).to_string();
    assert!(
        !scrubbed.contains("Zx9!secret") && !scrubbed.contains("k-123"),
        "{scrubbed}"
    );
    assert!(scrubbed.contains("\"name\":\"web\"") && scrubbed.contains("\"id\":7"));
    assert!(
        scrubbed.contains("\"nested\":\"t\""),
        "objects are walked, not blanked: {scrubbed}"
    );
}

async fn two_instances_never_run_the_same_job_at_once(db: &TestDb) {
    // Two engines with their own connection pools on one database, as two `serve`
    // processes would be.
    let (first, _) = engine_with(db, vec![("a", Some(populated(2, 2)))]).await;
    let second = engine_on(db).await;
    let schedule = idcgate_engine::jobs::Schedule::default();
    let (s1, s2) = (schedule.clone(), schedule.clone());
    let (e1, e2) = (first.clone(), second.clone());
    let run = |e: Arc<Engine>, owner: &'static str, s: idcgate_engine::jobs::Schedule| async move {
        let mut ran = Vec::new();
        while let Some(j) = idcgate_engine::jobs::run_due_job(&e, owner, &s)
            .await
            .unwrap()
        {
            ran.push(j);
        }
        ran
    };
    let (a, b) = tokio::join!(
        tokio::spawn(run(e1, "one", s1)),
        tokio::spawn(run(e2, "two", s2))
    );
    let mut all: Vec<String> = a.unwrap().into_iter().chain(b.unwrap()).collect();
    all.sort();
    assert_eq!(
        all,
        vec![
            "expiry-report".to_string(),
            "reconcile-orders".to_string(),
            "renewals".to_string(),
            "sync".to_string()
        ],
        "each due job ran exactly once"
    );
}

/// A second engine on the same database, reusing the accounts already stored.
async fn engine_on(db: &TestDb) -> Arc<Engine> {
    let registry = Registry::new(vec![VendorEntry {
        vendor: Vendor::West,
        spec: fake_spec,
        connect,
        sandbox: || Box::new(NoSim),
        onboarding: &idcgate_west::ONBOARDING,
    }]);
    Arc::new(Engine::new(
        Arc::new(db.reopen().await),
        registry,
        idcgate_wire::WireConfig::new("test@example.com"),
    ))
}

async fn a_lost_create_answer_is_reconciled_by_reading(db: &TestDb) {
    let (engine, shared) = engine_with(db, vec![("a", Some(populated(1, 0)))]).await;
    engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    let input = |v: &str| RecordInput {
        host: "api".into(),
        rtype: RecordType::A,
        value: v.into(),
        ttl: 600,
        line: None,
        priority: None,
    };

    shared[0].lock().unwrap().lose_next_create = Some(true);
    let rec = engine
        .dns_add("t", "zone0.cn", &input("192.0.2.1"))
        .await
        .unwrap();
    assert_eq!(
        shared[0].lock().unwrap().zones["zone0.cn"].len(),
        1,
        "created once, not retried"
    );
    let key = format!("zone0.cn/{}", rec.upstream_id.unwrap());
    assert!(engine
        .reads()
        .resource("a", ResourceKind::DnsRecord, &key)
        .await
        .unwrap()
        .is_some());

    shared[0].lock().unwrap().lose_next_create = Some(false);
    let err = engine
        .dns_add("t", "zone0.cn", &input("192.0.2.2"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            idcgate_engine::EngineError::Upstream(Error::UnknownOutcome { .. })
        ),
        "{err}"
    );
    assert_eq!(
        shared[0].lock().unwrap().zones["zone0.cn"].len(),
        1,
        "never blindly retried"
    );
    let outcomes: Vec<String> = db
        .store
        .list_audit(2)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.outcome)
        .collect();
    assert_eq!(
        outcomes,
        vec!["unknown_outcome".to_string(), "ok".to_string()]
    );

    // A delete whose answer is lost is confirmed by the zone no longer listing it.
    shared[0].lock().unwrap().lose_next_delete = true;
    let id = rec_id_of(&engine, "zone0.cn").await;
    engine.dns_remove("t", "zone0.cn", &id).await.unwrap();
    assert!(shared[0].lock().unwrap().zones["zone0.cn"].is_empty());
}

async fn a_listing_the_vendor_cannot_do_is_neither_failure_nor_gone(db: &TestDb) {
    let (engine, shared) = engine_with(db, vec![("a", Some(populated(2, 1)))]).await;
    engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    shared[0].lock().unwrap().cannot_list_domains = true;
    let r = engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    assert!(r[0].failed.is_empty(), "{r:?}");
    assert_eq!(r[0].gone, 0, "domains known from before are kept");
    let n = count(
        &engine,
        ResourceFilter {
            kind: Some(ResourceKind::Domain),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(n, 2);
}

async fn zones_of_an_upstream_that_cannot_list_them_are_found_by_asking(db: &TestDb) {
    let mut unlisted = populated(1, 2);
    unlisted.cannot_list_zones = true;
    let (engine, _) = engine_with(
        db,
        vec![
            ("listed", Some(populated(0, 0))),
            ("unlisted", Some(unlisted)),
        ],
    )
    .await;
    engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    assert!(matches!(
        engine.zone_account("elsewhere.cn").await,
        Err(idcgate_engine::EngineError::NoSuchZone(_))
    ));
    assert_eq!(engine.zone_account("zone0.cn").await.unwrap(), "unlisted");
    assert_eq!(engine.dns_list("zone0.cn").await.unwrap().len(), 2);
    let zone_row = engine
        .reads()
        .resource("unlisted", ResourceKind::DnsZone, "zone0.cn")
        .await
        .unwrap();
    assert!(
        zone_row.is_some(),
        "the answer is remembered in the inventory"
    );
}

async fn zone_spellings_reach_one_zone_and_removed_accounts_leave_the_inventory(db: &TestDb) {
    let (engine, _) = engine_with(db, vec![("a", Some(populated(1, 2)))]).await;
    engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    let records = engine.dns_list(" ZONE0.cn. ").await.unwrap();
    assert_eq!(records.len(), 2);
    let keys: Vec<String> = rows(
        &engine,
        ResourceFilter {
            kind: Some(ResourceKind::DnsRecord),
            ..Default::default()
        },
    )
    .await
    .into_iter()
    .map(|r| r.key)
    .collect();
    assert!(
        keys.iter().all(|k| k.starts_with("zone0.cn/")),
        "one spelling in the inventory: {keys:?}"
    );
    for bad in ["", "  ", "zone0 cn", "../etc", "nodot"] {
        let err = engine.dns_list(bad).await.unwrap_err();
        assert!(
            matches!(err, idcgate_engine::EngineError::Upstream(Error::InvalidInput { ref field, .. }) if field == "zone"),
            "{bad:?}: {err}"
        );
    }

    assert!(engine.remove_account("t", "a").await.unwrap());
    assert!(!engine.remove_account("t", "a").await.unwrap());
    assert_eq!(
        count(&engine, ResourceFilter::default()).await,
        0,
        "nothing of a removed account stays live"
    );
    let all = rows(
        &engine,
        ResourceFilter {
            include_gone: true,
            ..Default::default()
        },
    )
    .await;
    assert!(!all.is_empty(), "history kept");
    assert!(
        matches!(
            engine.connection("a").await,
            Err(idcgate_engine::EngineError::NoSuchAccount(_))
        ),
        "no stale connection"
    );
    let audit: Vec<(String, String)> = db
        .store
        .list_audit(2)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.action, a.outcome))
        .collect();
    assert_eq!(
        audit,
        vec![
            ("account.remove".to_string(), "error".to_string()),
            ("account.remove".to_string(), "ok".to_string())
        ]
    );
}

async fn rec_id_of(engine: &Engine, zone: &str) -> String {
    engine.dns_list(zone).await.unwrap()[0]
        .upstream_id
        .clone()
        .unwrap()
}
