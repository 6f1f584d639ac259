//! Zones as code against the simulators: every sandbox zone exported, applied to an
//! empty zone of the same name at another vendor, and planned again with nothing left to
//! do; the safety shares, NS at the apex, no-op updates and lines. The engine that
//! applies runs on both backends (it audits and keeps the inventory); the one that only
//! exports sits on a scratch SQLite database.

#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::{add_sandbox, cndns, engine_on, west};
use idcgate_core::{RecordType, Vendor};
use idcgate_engine::dnsplan::{ApplyReport, ChangeOp, Safety, ZonePlan};
use idcgate_engine::sync::NoProgress;
use idcgate_engine::zonefile::ZoneFile;
use idcgate_engine::{Engine, EngineError, VendorEntry};
use idcgate_store::testing::{sqlite, TestDb};
use idcgate_wire::sim::SimServer;
use std::sync::Arc;

fn dnspod() -> VendorEntry {
    VendorEntry {
        vendor: Vendor::Dnspod,
        spec: idcgate_dnspod::spec,
        connect: idcgate_dnspod::connect,
        sandbox: || Box::new(idcgate_dnspod::Sim::sandbox()),
        onboarding: &idcgate_dnspod::ONBOARDING,
    }
}

fn vendors() -> Vec<VendorEntry> {
    vec![west(), dnspod(), cndns()]
}

/// Each zone exported as YAML text (what `idcgate dns export` writes) and read back.
async fn export_all(engine: &Engine, zones: &[&str]) -> Vec<ZoneFile> {
    let mut files = Vec::new();
    for z in zones {
        let text = engine.dns_export(z).await.unwrap().to_yaml();
        let file = ZoneFile::from_yaml(&text, None).unwrap();
        assert!(file.record_count() > 0, "{z} exported empty:\n{text}");
        files.push(file);
    }
    files
}

fn changes(plans: &[ZonePlan]) -> usize {
    plans.iter().map(|p| p.changes.len()).sum()
}

async fn dns_writes(engine: &Engine) -> usize {
    engine
        .audit_trail(10_000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action.starts_with("dns."))
        .count()
}

/// Applies `files` to `target`, then checks that a fresh plan is empty and that a
/// second apply sends nothing (no update that changes nothing).
async fn apply_and_converge(target: &Engine, files: &[ZoneFile]) {
    let plans = target.dns_plan(files).await.unwrap();
    let creates: usize = plans.iter().map(|p| p.count(ChangeOp::Create)).sum();
    assert!(creates > 0, "{plans:?}");
    // Empty zones: nothing to update or delete, so the shares do not stand in the way.
    let (_, report) = target
        .dns_apply("test", files, &Safety::default(), false)
        .await
        .unwrap();
    assert!(report.failed.is_none(), "{report:?}");
    let created: usize = report.zones.iter().map(|z| z.created).sum();
    assert_eq!(created, creates);
    let again = target.dns_plan(files).await.unwrap();
    assert_eq!(changes(&again), 0, "{again:#?}");
    let writes = dns_writes(target).await;
    let (_, report) = target
        .dns_apply("test", files, &Safety::default(), false)
        .await
        .unwrap();
    assert!(report
        .zones
        .iter()
        .all(|z| z.created + z.updated + z.deleted == 0));
    assert_eq!(
        dns_writes(target).await,
        writes,
        "a converged zone got writes"
    );
}

async fn source(
    vendor: VendorEntry,
    sim: &dyn idcgate_wire::sim::Simulator,
) -> (TestDb, Arc<Engine>, SimServer) {
    let scratch = sqlite().await;
    let engine = engine_on(&scratch, vec![vendor]).await;
    let srv = add_sandbox(&engine, "source", sim).await;
    engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    (scratch, engine, srv)
}

async fn west_zones_move_to_dnspod(db: &TestDb) {
    let west_sim = idcgate_west::Sim::sandbox();
    let (scratch, from, _w) = source(west(), &west_sim).await;
    let zones = [
        "idcgate-demo.com",
        "demo-shop.cn",
        "mybrand.net",
        "blog-site.top",
        "startup.xyz",
    ];
    let files = export_all(&from, &zones).await;
    // West's `www` on the telecom line is exported as such.
    assert!(files[0]
        .entries
        .iter()
        .any(|e| e.line.as_deref() == Some("telecom")));

    let pod = idcgate_dnspod::Sim::sandbox();
    for z in zones {
        assert!(pod.add_zone_like(z, "sandbox-agent.cn"), "{z}");
    }
    let target = engine_on(db, vendors()).await;
    let _p = add_sandbox(&target, "target-dnspod", &pod).await;
    target.sync_all(Arc::new(NoProgress)).await.unwrap();
    apply_and_converge(&target, &files).await;
    // The line arrived as DNSPod's own, and the apex NS DNSPod holds were left alone.
    let records = target.dns_list("idcgate-demo.com").await.unwrap();
    assert!(records.iter().any(|r| r.host == "www"
        && r.rtype == RecordType::A
        && r.line.as_deref() == Some("telecom")));
    assert_eq!(
        records
            .iter()
            .filter(|r| r.rtype == RecordType::Ns && r.host == "@")
            .count(),
        2
    );
    // The round trip: what the target now holds exports as what the source held.
    let back = export_all(&target, &zones).await;
    for (a, b) in files.iter().zip(&back) {
        let plan = idcgate_engine::dnsplan::plan_zone(
            a,
            "x",
            "y",
            &target.dns_list(&a.zone).await.unwrap(),
            None,
        )
        .unwrap();
        assert!(plan.changes.is_empty(), "{}: {plan:?}", b.zone);
    }
    scratch.cleanup().await;
}

async fn dnspod_zones_move_to_west(db: &TestDb) {
    let pod = idcgate_dnspod::Sim::sandbox();
    let (scratch, from, _p) = source(dnspod(), &pod).await;
    // The zones the sandbox agent's token reaches (its users' zones are theirs).
    let movable = ["sandbox-agent.cn", "agent-status.com"];
    let files = export_all(&from, &movable).await;
    // agent-status.com's apex A records are on the telecom and unicom lines only.
    assert!(files[1]
        .entries
        .iter()
        .any(|e| e.line.as_deref() == Some("unicom")));
    let target_sim = idcgate_west::Sim::new("target", "Target-Pass-2026");
    for z in movable {
        assert!(target_sim.add_zone(z));
    }
    let target = engine_on(db, vendors()).await;
    let _w = add_sandbox(&target, "target-west", &target_sim).await;
    target.sync_all(Arc::new(NoProgress)).await.unwrap();
    // West refuses a record on a line unless its host has a default-line record: the
    // apex TXT is created first, so the lines' records are accepted after it.
    apply_and_converge(&target, &files).await;
    let records = target.dns_list("agent-status.com").await.unwrap();
    for line in ["telecom", "unicom"] {
        assert!(
            records
                .iter()
                .any(|r| r.rtype == RecordType::A && r.line.as_deref() == Some(line)),
            "{records:?}"
        );
    }
    // DNSPod's apex NS were in the file and never sent (West holds no NS records).
    assert!(files[0].entries.iter().any(|e| e.rtype == RecordType::Ns));
    assert!(!records.iter().any(|r| r.rtype == RecordType::Ns));
    scratch.cleanup().await;
}

async fn cndns_zones_move_to_dnspod_and_lines_cndns_lacks_are_refused(db: &TestDb) {
    let cn = idcgate_cndns::Sim::sandbox();
    let (scratch, from, _c) = source(cndns(), &cn).await;
    let zones = ["idcgate-demo.com", "idcgate-mail.org", "idcgate-blog.top"];
    let files = export_all(&from, &zones).await;
    let pod = idcgate_dnspod::Sim::sandbox();
    for z in zones {
        assert!(pod.add_zone_like(z, "sandbox-agent.cn"));
    }
    let target = engine_on(db, vendors()).await;
    let _p = add_sandbox(&target, "target-dnspod", &pod).await;
    let _c = add_sandbox(&target, "target-cndns", &idcgate_cndns::Sim::sandbox()).await;
    target.sync_all(Arc::new(NoProgress)).await.unwrap();
    apply_and_converge(&target, &files).await;

    // CNDNS has the default line only: a file putting a record on telecom is refused by
    // the plan, naming the line and the vendor, and nothing is sent.
    let writes = dns_writes(&target).await;
    let text = "# idcgate: zone idcgate-demo.cn\n---\nwww:\n  type: A\n  value: 192.0.2.1\n  idcgate:\n    line: 电信\n";
    let file = ZoneFile::from_yaml(text, None).unwrap();
    let err = target
        .dns_apply("test", &[file], &Safety::default(), false)
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, EngineError::Invalid(_)), "{msg}");
    assert!(
        msg.contains("\"telecom\"") && msg.contains("not offered by cndns"),
        "{msg}"
    );
    assert_eq!(dns_writes(&target).await, writes);
    scratch.cleanup().await;
}

/// Applies one zone file as actor `test` under the default safety shares.
async fn apply(
    engine: &Engine,
    file: &ZoneFile,
    force: bool,
) -> Result<(Vec<ZonePlan>, ApplyReport), EngineError> {
    engine
        .dns_apply(
            "test",
            std::slice::from_ref(file),
            &Safety::default(),
            force,
        )
        .await
}

async fn plans_beyond_the_shares_need_force(db: &TestDb) {
    let pod = idcgate_dnspod::Sim::sandbox();
    assert!(pod.add_zone_like("big-zone.com", "sandbox-agent.cn"));
    let engine = engine_on(db, vendors()).await;
    let _p = add_sandbox(&engine, "pod", &pod).await;
    engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    let mut text = String::from("# idcgate: zone big-zone.com\n---\n");
    for i in 0..12 {
        text.push_str(&format!(
            "h{i}:\n  ttl: 600\n  type: A\n  value: 192.0.2.{i}\n"
        ));
    }
    let full = ZoneFile::from_yaml(&text, None).unwrap();
    let (_, report) = apply(&engine, &full, false).await.unwrap();
    assert_eq!(report.zones[0].created, 12);

    // Updates: 5 of 14 records (12 + DNSPod's 2 apex NS) moved to other addresses,
    // 36% > 30%: refused whole, nothing sent; with force, carried out.
    let mut moved = full.clone();
    for e in moved.entries.iter_mut().take(5) {
        e.values[0].value = e.values[0].value.replace("192.0.2.", "198.51.100.");
    }
    let writes = dns_writes(&engine).await;
    let err = apply(&engine, &moved, false).await.unwrap_err();
    assert!(matches!(err, EngineError::Conflict(_)), "{err}");
    assert!(
        err.to_string().contains("5 of 14 records would be updated"),
        "{err}"
    );
    assert_eq!(
        dns_writes(&engine).await,
        writes,
        "a refused plan sent something"
    );
    let (_, report) = apply(&engine, &moved, true).await.unwrap();
    assert_eq!(report.zones[0].updated, 5);

    // Deletes: 5 of 14 refused; a larger share configured carries them out, and the
    // apex NS stay.
    let mut fewer = moved.clone();
    fewer.entries.truncate(7);
    let err = apply(&engine, &fewer, false).await.unwrap_err();
    assert!(
        err.to_string().contains("5 of 14 records would be deleted"),
        "{err}"
    );
    let lenient = Safety {
        max_delete_percent: 40,
        ..Safety::default()
    };
    let (_, report) = engine
        .dns_apply("test", std::slice::from_ref(&fewer), &lenient, false)
        .await
        .unwrap();
    assert_eq!(report.zones[0].deleted, 5);
    let records = engine.dns_list("big-zone.com").await.unwrap();
    assert_eq!(
        records.iter().filter(|r| r.rtype == RecordType::Ns).count(),
        2
    );
    assert_eq!(
        records
            .iter()
            .filter(|r| r.value.starts_with("198.51.100."))
            .count(),
        5
    );
    assert_eq!(records.len(), 9);
    // Every write went through the audited operations.
    let trail = engine.audit_trail(1000).await.unwrap();
    assert_eq!(trail.iter().filter(|e| e.action == "dns.add").count(), 12);
    assert_eq!(trail.iter().filter(|e| e.action == "dns.rm").count(), 5);
    assert_eq!(trail.iter().filter(|e| e.action == "dns.set").count(), 5);
}

/// Emptying a West zone whose `www` has a telecom-line record beside its default-line
/// ones: West refuses to delete a host's last default-line record while a line record
/// remains, so the line record must go first, or the apply stops half way.
async fn a_zone_emptied_deletes_line_records_before_the_default(db: &TestDb) {
    let west_sim = idcgate_west::Sim::sandbox();
    let engine = engine_on(db, vendors()).await;
    let _w = add_sandbox(&engine, "w", &west_sim).await;
    engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    let held = engine.dns_list("idcgate-demo.com").await.unwrap();
    assert!(held.iter().any(|r| r.host == "www" && r.line.is_some()));
    let empty = ZoneFile::from_yaml("", Some("idcgate-demo.com")).unwrap();
    let (_, report) = engine
        .dns_apply("test", &[empty], &Safety::default(), false)
        .await
        .unwrap();
    assert!(report.failed.is_none(), "{:?}", report.failed);
    assert_eq!(report.zones[0].deleted, held.len());
    assert!(engine
        .dns_list("idcgate-demo.com")
        .await
        .unwrap()
        .is_empty());
}

idcgate_store::both_backends!(
    a_zone_emptied_deletes_line_records_before_the_default,
    west_zones_move_to_dnspod,
    dnspod_zones_move_to_west,
    cndns_zones_move_to_dnspod_and_lines_cndns_lacks_are_refused,
    plans_beyond_the_shares_need_force,
);
