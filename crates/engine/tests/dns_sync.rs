//! Incremental DNS sync (issue 16): a re-sync lists the records of a zone only when the
//! upstream's change marker moved since its last complete listing, and never misses a
//! change: made upstream behind idcgate's back, in a zone whose listing failed, or
//! through idcgate itself.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::{add_sandbox, clean_view, dnspod, engine_on, zone_names};
use idcgate_core::{Connection, RecordInput, RecordType, ResourceKind};
use idcgate_engine::sync::{NoProgress, SyncReport};
use idcgate_engine::Engine;
use idcgate_store::testing::TestDb;
use idcgate_store::{both_backends, ResourceFilter, ZoneMarkerStore};
use idcgate_wire::sim::SimServer;
use idcgate_wire::FaultConfig;
use std::sync::Arc;
use std::time::Duration;

both_backends!(
    unchanged_zones_are_skipped_and_every_change_is_picked_up,
    a_stale_observation_never_brings_back_a_forgotten_marker,
);

struct Env {
    engine: Arc<Engine>,
    sim: idcgate_dnspod::Sim,
    srv: SimServer,
    _clean_srv: SimServer,
    /// The same simulator without faults and without idcgate: "someone else".
    clean: Arc<dyn Connection>,
}

async fn env(db: &TestDb) -> Env {
    let engine = engine_on(db, vec![dnspod()]).await;
    let sim = idcgate_dnspod::Sim::sandbox();
    // The seeded zones changed "now": a listing in that same second could not trust
    // their markers (a later change in the second would not move them).
    sim.advance(Duration::from_secs(2));
    let srv = add_sandbox(&engine, "d", &sim).await;
    let (clean_srv, clean) = clean_view(&dnspod(), &sim).await;
    Env {
        engine,
        sim,
        srv,
        _clean_srv: clean_srv,
        clean,
    }
}

impl Env {
    /// One sync of the account, and how many requests it sent upstream.
    async fn sync(&self) -> (SyncReport, u64) {
        let before = self.srv.faults.requests();
        let report = self
            .engine
            .sync_account("d", Arc::new(NoProgress))
            .await
            .unwrap();
        (report, self.srv.faults.requests() - before)
    }

    async fn live_records(&self, zone: &str) -> Vec<serde_json::Value> {
        self.engine
            .reads()
            .resources(&ResourceFilter {
                account: Some("d".into()),
                kind: Some(ResourceKind::DnsRecord),
                name_prefix: Some(format!("{zone} ")),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.data)
            .collect()
    }

    /// Changes a record of `zone` upstream, behind idcgate's back; returns the new value.
    async fn change_upstream(&self, zone: &str, value: &str) -> String {
        let dns = self.clean.dns().unwrap();
        let records = dns.list_records(zone).await.unwrap();
        let a = records
            .iter()
            .find(|r| r.rtype == RecordType::A)
            .or_else(|| records.iter().find(|r| r.host != "@"))
            .expect("a record to change");
        dns.update_record(
            zone,
            a.upstream_id.as_deref().unwrap(),
            &RecordInput {
                host: a.host.clone(),
                rtype: RecordType::A,
                value: value.into(),
                ttl: a.ttl,
                line: a.line.clone(),
                priority: None,
            },
        )
        .await
        .unwrap();
        value.to_string()
    }

    async fn zones(&self) -> Vec<String> {
        zone_names(self.clean.as_ref()).await
    }
}

fn holds_value(records: &[serde_json::Value], value: &str) -> bool {
    records.iter().any(|r| r["value"] == value)
}

async fn unchanged_zones_are_skipped_and_every_change_is_picked_up(db: &TestDb) {
    let env = env(db).await;
    let zones = env.zones().await;
    let n = zones.len() as u64;
    assert!(n >= 2, "the sandbox has zones: {zones:?}");

    let (first, first_requests) = env.sync().await;
    assert!(first.failed.is_empty(), "{first:?}");
    assert_eq!(
        first.zones_skipped, 0,
        "nothing is known before the first listing"
    );
    let records_after_first = env.live_records(&zones[0]).await.len();
    assert!(records_after_first > 0);

    // Nothing changed: no zone's records are listed (one Record.List a zone saved), and
    // nothing the inventory holds of them is marked gone.
    let (again, again_requests) = env.sync().await;
    assert!(again.failed.is_empty(), "{again:?}");
    assert_eq!(again.zones_skipped, n, "{again:?}");
    assert_eq!(again.gone, 0, "{again:?}");
    assert_eq!(
        again_requests + n,
        first_requests,
        "{again_requests} vs {first_requests}"
    );
    assert_eq!(env.live_records(&zones[0]).await.len(), records_after_first);

    // A record changed upstream: its zone's marker moved, the zone is listed, the change
    // is in the inventory; the other zones are still skipped.
    let value = env.change_upstream(&zones[0], "198.51.100.77").await;
    let (after_change, _) = env.sync().await;
    assert!(after_change.failed.is_empty(), "{after_change:?}");
    assert_eq!(after_change.zones_skipped, n - 1, "{after_change:?}");
    assert!(
        holds_value(&env.live_records(&zones[0]).await, &value),
        "the upstream change is picked up"
    );

    // A zone whose listing fails keeps its records and is listed at the next sync even
    // though its marker does not move again.
    env.sim.advance(Duration::from_secs(2));
    let value = env.change_upstream(&zones[1], "198.51.100.78").await;
    env.sim.advance(Duration::from_secs(2));
    env.srv.faults.set(FaultConfig {
        next_only_matching: format!("domain={}", zones[1]),
        error_next: 1000,
        ..Default::default()
    });
    let (failed, _) = env.sync().await;
    assert!(
        failed.failed.iter().any(|f| f.contains(&zones[1])),
        "{failed:?}"
    );
    assert_eq!(
        failed.gone, 0,
        "a failed listing marks nothing gone: {failed:?}"
    );
    assert!(!env.live_records(&zones[1]).await.is_empty());
    env.srv.faults.set(FaultConfig::default());
    let (retried, _) = env.sync().await;
    assert!(retried.failed.is_empty(), "{retried:?}");
    assert_eq!(
        retried.zones_skipped,
        n - 1,
        "the failed zone is listed: {retried:?}"
    );
    assert!(holds_value(&env.live_records(&zones[1]).await, &value));
    let (settled, _) = env.sync().await;
    assert_eq!(settled.zones_skipped, n, "{settled:?}");

    // A write through idcgate forgets its zone's marker: the next sync lists the zone,
    // whatever the upstream's marker does.
    env.engine
        .dns_add(
            "t",
            &zones[0],
            &RecordInput {
                host: "via-idcgate".into(),
                rtype: RecordType::Txt,
                value: "written here".into(),
                ttl: 600,
                line: None,
                priority: None,
            },
        )
        .await
        .unwrap();
    let markers = db.store.zone_markers("d").await.unwrap();
    assert!(!markers.contains_key(&zones[0]), "{markers:?}");
    assert!(markers.contains_key(&zones[1]), "{markers:?}");
    let (after_write, _) = env.sync().await;
    assert_eq!(after_write.zones_skipped, n - 1, "{after_write:?}");
    assert!(holds_value(
        &env.live_records(&zones[0]).await,
        "written here"
    ));

    // Removing the account forgets every marker: an account added again under the name
    // is listed in full.
    assert!(env.engine.remove_account("t", "d").await.unwrap());
    assert!(db.store.zone_markers("d").await.unwrap().is_empty());
}

async fn a_stale_observation_never_brings_back_a_forgotten_marker(db: &TestDb) {
    let store = db.reopen().await;
    // Account `a`'s marker of `z.example` set to `m` by an observation at `at_ms`.
    let put = |m: &str, at_ms: i64| {
        let (store, markers) = (&store, vec![("z.example".to_string(), m.to_string())]);
        async move { store.put_zone_markers("a", &markers, at_ms).await.unwrap() }
    };
    let held = || async { store.zone_markers("a").await.unwrap() };
    put("m1", 100).await;
    assert_eq!(
        held().await.get("z.example").map(String::as_str),
        Some("m1")
    );
    // A write at 200 forgets it; a sync that observed the zone at 150 finishes later.
    put("", 200).await;
    put("m2", 150).await;
    assert!(held().await.is_empty());
    // A later observation is kept; other accounts are apart.
    put("m3", 300).await;
    assert_eq!(
        held().await.get("z.example").map(String::as_str),
        Some("m3")
    );
    assert!(store.zone_markers("b").await.unwrap().is_empty());
}
