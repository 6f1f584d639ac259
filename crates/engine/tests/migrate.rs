//! `dns migrate` (issue 16): a zone's records copied to another vendor's account through
//! the audited DNS path, read back, resumable after a stop without duplicates, the
//! nameservers switched through the registrar holding the domain; a line the target
//! lacks refused before anything is written.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::{add_sandbox, clean_view, dnspod, engine_on, west, zone_names};
use idcgate_core::{Connection, DnsRecord, RecordInput, RecordType};
use idcgate_engine::migrate::{Migration, NsState, StepAction};
use idcgate_engine::sync::NoProgress;
use idcgate_engine::{Engine, EngineError};
use idcgate_store::both_backends;
use idcgate_store::testing::TestDb;
use idcgate_store::Store as _;
use idcgate_wire::sim::SimServer;
use idcgate_wire::FaultConfig;
use std::sync::Arc;

both_backends!(
    a_record_the_target_refuses_is_named,
    a_zone_moves_resumably_and_its_nameservers_follow,
    a_line_the_target_lacks_is_named_before_anything_is_written,
);

struct Env {
    engine: Arc<Engine>,
    dnspod_srv: SimServer,
    _srvs: Vec<SimServer>,
    /// Each simulator read directly, without idcgate.
    west: Arc<dyn Connection>,
    dnspod: Arc<dyn Connection>,
}

async fn env(db: &TestDb) -> Env {
    let engine = engine_on(db, vec![west(), dnspod()]).await;
    let west_sim = idcgate_west::Sim::sandbox();
    let dnspod_sim = idcgate_dnspod::Sim::sandbox();
    let west_srv = add_sandbox(&engine, "w", &west_sim).await;
    let dnspod_srv = add_sandbox(&engine, "d", &dnspod_sim).await;
    let (clean_west, west) = clean_view(&west(), &west_sim).await;
    let (clean_dnspod, dnspod) = clean_view(&dnspod(), &dnspod_sim).await;
    let reports = engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    assert!(reports.iter().all(|r| r.failed.is_empty()), "{reports:?}");
    Env {
        engine,
        dnspod_srv,
        _srvs: vec![west_srv, clean_west, clean_dnspod],
        west,
        dnspod,
    }
}

fn moving(zone: &str, to: &str) -> Migration {
    Migration {
        zone: zone.into(),
        from: None,
        to: to.into(),
        dry_run: false,
        switch_ns: false,
    }
}

/// The records of `zone` that are not the vendor's own apex NS, as comparable text.
fn contents(records: &[DnsRecord]) -> Vec<String> {
    let mut v: Vec<String> = records
        .iter()
        .filter(|r| !(r.rtype == RecordType::Ns && r.host == "@"))
        .map(|r| {
            format!(
                "{} {} {} {} {}",
                r.host,
                r.rtype,
                r.value.trim_end_matches('.').to_lowercase(),
                idcgate_core::lines::canonical(r.line.as_deref().unwrap_or("default"))
                    .unwrap_or("?"),
                r.ttl
            )
        })
        .collect();
    v.sort();
    v
}

async fn a_zone_moves_resumably_and_its_nameservers_follow(db: &TestDb) {
    let env = env(db).await;
    let zone = "mybrand.net";
    let source = env.west.dns().unwrap().list_records(zone).await.unwrap();
    let wanted = contents(&source);
    assert!(wanted.len() >= 4, "{source:?}");
    assert!(
        source.iter().any(|r| r.line.is_some()),
        "the sandbox zone has a record on an ISP line"
    );
    let dnspod_zones = || async {
        zone_names(env.dnspod.as_ref())
            .await
            .iter()
            .any(|z| z == zone)
    };

    // A dry run says what it would do and writes nothing.
    let plan = env
        .engine
        .dns_migrate(
            "t",
            &Migration {
                dry_run: true,
                switch_ns: true,
                ..moving(zone, "d")
            },
        )
        .await
        .unwrap();
    assert_eq!(plan.from, "w");
    assert!(plan.zone_created);
    assert_eq!(plan.created as usize, wanted.len(), "{plan:?}");
    assert_eq!(
        plan.nameservers.as_ref().unwrap().state,
        NsState::WouldSwitch
    );
    assert_eq!(plan.nameservers.as_ref().unwrap().registrar, "w");
    assert!(!dnspod_zones().await, "a dry run adds no zone");
    assert!(db.store.list_audit(100).await.unwrap().is_empty());

    // The run stops at a write the target refuses (the first record on `www`)...
    env.dnspod_srv.faults.set(FaultConfig {
        next_only_matching: "sub_domain=www".into(),
        error_next: 1000,
        ..Default::default()
    });
    let stopped = env.engine.dns_migrate("t", &moving(zone, "d")).await;
    assert!(stopped.is_err(), "{stopped:?}");
    env.dnspod_srv.faults.set(FaultConfig::default());
    assert!(
        dnspod_zones().await,
        "the zone was added before the records"
    );
    let partial = env.dnspod.dns().unwrap().list_records(zone).await.unwrap();
    let copied_before = contents(&partial).len();
    assert!(
        copied_before >= 1 && copied_before < wanted.len(),
        "{partial:?}"
    );

    // ... and a second run finishes it: only what is missing is written, and verified.
    let done = env
        .engine
        .dns_migrate("t", &moving(zone, "d"))
        .await
        .unwrap();
    assert!(done.verified);
    assert!(!done.zone_created);
    assert!(done.nameservers.is_none());
    assert_eq!(done.present as usize, copied_before, "{done:?}");
    assert_eq!(
        done.created as usize,
        wanted.len() - copied_before,
        "{done:?}"
    );
    let target = env.dnspod.dns().unwrap().list_records(zone).await.unwrap();
    assert_eq!(
        contents(&target),
        wanted,
        "every record, once, line and TTL kept"
    );

    // A third run has no record to write, and switches the nameservers: the registrar
    // holding the domain names the target's.
    let again = env
        .engine
        .dns_migrate(
            "t",
            &Migration {
                switch_ns: true,
                ..moving(zone, "d")
            },
        )
        .await
        .unwrap();
    assert_eq!(again.created + again.updated, 0, "{again:?}");
    assert!(again.verified);
    assert!(again
        .steps
        .iter()
        .all(|s| matches!(s.action, StepAction::Present | StepAction::Skip)));
    let target_again = env.dnspod.dns().unwrap().list_records(zone).await.unwrap();
    assert_eq!(target_again.len(), target.len(), "no record duplicated");
    let ns = again.nameservers.clone().unwrap();
    assert_eq!(ns.state, NsState::Switched);
    assert!(!ns.nameservers.is_empty());
    let domain = env
        .west
        .registrar()
        .unwrap()
        .get_domain(zone)
        .await
        .unwrap();
    let mut now_named: Vec<String> = domain
        .nameservers
        .iter()
        .map(|n| n.to_lowercase())
        .collect();
    now_named.sort();
    assert_eq!(now_named, ns.nameservers);

    // Every write went through the audited DNS path, and each run is audited.
    let audit = db.store.list_audit(500).await.unwrap();
    let adds = audit
        .iter()
        .filter(|a| a.action == "dns.add" && a.target == format!("d/{zone}") && a.outcome == "ok")
        .count();
    assert_eq!(adds, wanted.len(), "{audit:?}");
    assert_eq!(
        audit.iter().filter(|a| a.action == "dns.migrate").count(),
        3
    );
    assert!(audit
        .iter()
        .any(|a| a.action == "domain.nameservers" && a.target == format!("w/{zone}")));
    assert!(audit.iter().any(|a| a.action == "dns.zone.add"));
}

async fn a_line_the_target_lacks_is_named_before_anything_is_written(db: &TestDb) {
    let env = env(db).await;
    let zone = "startup.xyz";
    // The zone also at DNSPod, with a record on 国内 (`china`), a line West lacks.
    let dns = env.dnspod.dns().unwrap();
    dns.create_zone(zone).await.unwrap();
    dns.create_record(
        zone,
        &RecordInput {
            host: "cn".into(),
            rtype: RecordType::A,
            value: "192.0.2.8".into(),
            ttl: 600,
            line: Some("china".into()),
            priority: None,
        },
    )
    .await
    .unwrap();
    let before = env.west.dns().unwrap().list_records(zone).await.unwrap();
    let err = env
        .engine
        .dns_migrate(
            "t",
            &Migration {
                from: Some("d".into()),
                ..moving(zone, "w")
            },
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("china") && err.contains("cn A 192.0.2.8"),
        "{err}"
    );
    let after = env.west.dns().unwrap().list_records(zone).await.unwrap();
    assert_eq!(before, after, "nothing was written");
    // Without --from the zone's two holders are named.
    let err = env
        .engine
        .dns_migrate("t", &moving(zone, "w"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("already") || err.contains("--from"), "{err}");
}

/// A record whose TTL is below DNSPod's grade minimum stops the move; the error names
/// the record, so the operator knows what to change before running it again.
async fn a_record_the_target_refuses_is_named(db: &TestDb) {
    let env = env(db).await;
    let zone = "blog-site.top";
    env.west
        .dns()
        .unwrap()
        .create_record(
            zone,
            &RecordInput {
                host: "fast".into(),
                rtype: RecordType::A,
                value: "192.0.2.77".into(),
                ttl: 60,
                line: None,
                priority: None,
            },
        )
        .await
        .unwrap();
    let err = env
        .engine
        .dns_migrate("t", &moving(zone, "d"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            EngineError::Upstream(idcgate_core::Error::InvalidInput { .. })
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("fast A 192.0.2.77 ttl 60") && msg.contains("refused by d"),
        "{msg}"
    );
}
