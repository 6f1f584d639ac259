//! Planning a 10,000-record zone from a YAML file against its current state, idcgate and
//! octoDNS side by side in one run.
//!
//! Both read the same two files in octoDNS's layout (written by idcgate's export): the
//! desired zone, and the current state (octoDNS: a YamlProvider target holding it), and
//! both compute the same diff (about 1% of the records created, changed or deleted; the
//! change counts are compared). idcgate's time is parse + parse + plan in this process;
//! octoDNS's is `Manager.sync()` (dry run) timed inside Python after its imports, and
//! the whole `octodns-sync` command as a person runs it. A third figure is idcgate's
//! whole path: `Engine::dns_plan` reading the 10,000 records live from the West
//! simulator (no latency injected) and writing them to the inventory.
//!
//! `cargo bench -p idcgate --bench dns_plan`; BENCH_RECORDS sets the size. Without
//! octoDNS installed (`pip install octodns`) its side is skipped, saying so.
#![allow(clippy::unwrap_used)] // a benchmark may fail loudly

use idcgate_core::{Credentials, DnsRecord, RecordType, UpstreamAccount};
use idcgate_engine::dnsplan::{plan_zone, ChangeOp, ZonePlan};
use idcgate_engine::sync::NoProgress;
use idcgate_engine::zonefile::{host_of_name, ZoneFile};
use idcgate_engine::Engine;
use idcgate_store::{MasterKey, SqlStore, Store};
use idcgate_wire::{sim, Simulator, WireConfig};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ZONE: &str = "bench-zone.com";

fn record(i: usize) -> DnsRecord {
    let (rtype, value, priority) = match i % 20 {
        0 => (RecordType::Mx, format!("mx{i}.{ZONE}"), Some(10)),
        1 => (RecordType::Txt, format!("v=DKIM1; k=rsa; p=key{i}"), None),
        2 => (RecordType::Aaaa, format!("2001:db8::{:x}", i + 1), None),
        3 => (RecordType::Cname, format!("target{i}.example.net"), None),
        4 => (RecordType::Srv, format!("5 5060 sip{i}.{ZONE}"), Some(10)),
        _ => (
            RecordType::A,
            format!("10.{}.{}.{}", i / 62500 % 250, i / 250 % 250, i % 250 + 1),
            None,
        ),
    };
    let host = if rtype == RecordType::Srv {
        format!("_sip._tcp.h{i}")
    } else {
        format!("h{i}")
    };
    DnsRecord {
        zone: ZONE.into(),
        host,
        rtype,
        value,
        ttl: 600,
        line: None,
        priority,
        enabled: true,
        upstream_id: Some(i.to_string()),
    }
}

/// The current state, and the desired one: every 100th record changed, every 200th
/// deleted, and as many new ones as deleted.
fn zones(n: usize) -> (Vec<DnsRecord>, Vec<DnsRecord>) {
    let current: Vec<DnsRecord> = (0..n).map(record).collect();
    let mut desired = Vec::with_capacity(n);
    for (i, r) in current.iter().enumerate() {
        if i % 200 == 7 {
            continue;
        }
        let mut r = r.clone();
        if i % 100 == 5 && r.rtype == RecordType::A {
            r.value = format!("192.0.2.{}", i % 250 + 1);
        }
        desired.push(r);
    }
    for j in 0..n / 200 {
        let mut r = record(n + j);
        r.upstream_id = None;
        desired.push(r);
    }
    (current, desired)
}

/// The current state as the plan gets it from an upstream: records with ids.
fn records_of(file: &ZoneFile) -> Vec<DnsRecord> {
    let mut out = Vec::with_capacity(file.record_count());
    for e in &file.entries {
        for v in &e.values {
            out.push(DnsRecord {
                zone: file.zone.clone(),
                host: host_of_name(&e.name),
                rtype: e.rtype,
                value: v.value.trim_end_matches('.').to_string(),
                ttl: e.ttl,
                line: e.line.clone(),
                priority: v.priority,
                enabled: e.enabled,
                upstream_id: Some(out.len().to_string()),
            });
        }
    }
    out
}

fn idcgate_plan(desired: &Path, current: &Path) -> ZonePlan {
    let d = ZoneFile::from_yaml(&std::fs::read_to_string(desired).unwrap(), Some(ZONE)).unwrap();
    let c = ZoneFile::from_yaml(&std::fs::read_to_string(current).unwrap(), Some(ZONE)).unwrap();
    plan_zone(&d, "bench", "west", &records_of(&c), None).unwrap()
}

fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// octoDNS's own diff, as `octodns-sync` makes it: the source provider populates the
/// desired zone from its file, the target plans against what it holds (its file).
const OCTODNS_TIMER: &str = r#"
import sys, time, logging
logging.disable(logging.CRITICAL)
from octodns.manager import Manager
from octodns.zone import Zone
m = Manager(sys.argv[1])
source, target = m.providers['config'], m.providers['current']
best, plan = None, None
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    desired = Zone(sys.argv[3], [])
    source.populate(desired)
    plan = target.plan(desired)
    dt = time.perf_counter() - t
    best = dt if best is None else min(best, dt)
print(f"{best:.6f} {len(plan.changes) if plan else 0}")
"#;

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let (current, desired) = zones(n);
    for (sub, records) in [("desired", &desired), ("current", &current)] {
        let d = dir.path().join(sub);
        std::fs::create_dir_all(&d).unwrap();
        // octoDNS names a zone's file `<zone>.yaml`.
        let text = ZoneFile::from_records(ZONE, records).to_yaml();
        std::fs::write(d.join(format!("{ZONE}.yaml")), text).unwrap();
    }
    let desired_file = dir.path().join("desired").join(format!("{ZONE}.yaml"));
    let current_file = dir.path().join("current").join(format!("{ZONE}.yaml"));

    let plan = idcgate_plan(&desired_file, &current_file);
    let (c, u, d) = (
        plan.count(ChangeOp::Create),
        plan.count(ChangeOp::Update),
        plan.count(ChangeOp::Delete),
    );
    let ours = best_of(5, || {
        idcgate_plan(&desired_file, &current_file);
    });
    println!(
        "zone of {n} records ({} bytes of YAML); plan: {c} creates, {u} updates, {d} deletes",
        std::fs::metadata(&desired_file).unwrap().len()
    );
    println!(
        "idcgate  parse both files + plan (in process, best of 5):       {:>9.1} ms",
        ours.as_secs_f64() * 1e3
    );

    // octoDNS, on the same two files.
    let config = dir.path().join("octodns.yaml");
    std::fs::write(
        &config,
        format!(
            "providers:\n  config:\n    class: octodns.provider.yaml.YamlProvider\n    directory: {}\n    escaped_semicolons: true\n  current:\n    class: octodns.provider.yaml.YamlProvider\n    directory: {}\n    escaped_semicolons: true\nzones:\n  {ZONE}.:\n    sources:\n      - config\n    targets:\n      - current\n",
            dir.path().join("desired").display(),
            dir.path().join("current").display()
        ),
    )
    .unwrap();
    let timer = Command::new("python3")
        .arg("-c")
        .arg(OCTODNS_TIMER)
        .arg(&config)
        .arg("3")
        .arg(format!("{ZONE}."))
        .output();
    match timer {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            let mut it = text.split_whitespace();
            let secs: f64 = it.next().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN);
            let changes = it.next().unwrap_or("?");
            println!(
                "octoDNS  populate desired + target plan (in process, best of 3):{:>9.1} ms  ({changes} changes; idcgate counts {})",
                secs * 1e3,
                c + u + d
            );
            let t = Instant::now();
            let cli = Command::new("octodns-sync")
                .arg("--config-file")
                .arg(&config)
                .arg("--quiet")
                .output();
            let cli_wall = t.elapsed();
            let cli_ok = cli.as_ref().is_ok_and(|o| o.status.success());
            println!(
                "octoDNS  `octodns-sync` command, dry run (wall, once):         {:>9.1} ms{}",
                cli_wall.as_secs_f64() * 1e3,
                if cli_ok { "" } else { "  (it failed)" }
            );
            println!(
                "ratio    idcgate / octoDNS (in process): 1/{:.0} (goal: at most 1/10)",
                secs / ours.as_secs_f64()
            );
        }
        Ok(out) => println!(
            "octoDNS  skipped: it did not run ({}); `pip install octodns` to compare",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("no output")
        ),
        Err(e) => {
            println!("octoDNS  skipped: python3 not found ({e}); `pip install octodns` to compare")
        }
    }

    // idcgate's whole path: the zone read live from the West simulator.
    let west = idcgate_west::Sim::sandbox();
    west.seed_bulk(1, n, 0);
    let srv = sim::serve(&west, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let mut store = SqlStore::open(&format!(
        "sqlite://{}",
        dir.path().join("bench.db").display()
    ))
    .await
    .unwrap();
    store.unlock(&MasterKey::generate()).await.unwrap();
    let store = Arc::new(store);
    let mut creds = Credentials::new();
    for (k, v) in west.sandbox_credentials() {
        creds.insert(&k, &v);
    }
    // Seeded beneath the engine, as an existing database would hold it.
    store
        .add_account(&UpstreamAccount {
            name: "west".into(),
            vendor: west.vendor(),
            base_url: srv.base_url(),
            credentials: creds,
            rate_limit_per_sec: 1000,
        })
        .await
        .unwrap();
    let engine = Arc::new(Engine::new(
        store,
        idcgate::vendors::registry(),
        WireConfig::new("bench@example.com"),
    ));
    engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    let zone = "bulk-000000.com";
    let mut file = engine.dns_export(zone).await.unwrap();
    for e in file.entries.iter_mut().step_by(100) {
        e.ttl = 300;
    }
    let text = file.to_yaml();
    let before = srv.faults.requests();
    let t = Instant::now();
    let file = ZoneFile::from_yaml(&text, None).unwrap();
    let plans = engine.dns_plan(&[file]).await.unwrap();
    let whole = t.elapsed();
    println!(
        "idcgate  `dns plan` path, {n} records read live from the West simulator: {:>7.1} ms ({} requests, {} updates)",
        whole.as_secs_f64() * 1e3,
        srv.faults.requests() - before,
        plans[0].count(ChangeOp::Update)
    );
}
