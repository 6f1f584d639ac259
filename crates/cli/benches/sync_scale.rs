//! Sync at scale: 10,000 domains, 100,000 DNS records and 5,000 servers spread over the
//! sandbox simulators, 50 ms latency injected on every upstream call.
//!
//! Reports wall time against the lower bound the rate limits and latency imply (each
//! account's requests at its rate, accounts in parallel, plus one latency), and peak
//! memory (VmHWM) of the whole process — simulators included.
//!
//! Then an immediate re-sync with no upstream change: requests per account against the
//! first sync's, and the zones whose records it did not list again (change markers).
//!
//! `cargo bench -p idcgate --bench sync_scale`; scale with BENCH_DOMAINS, BENCH_RECORDS,
//! BENCH_SERVERS, BENCH_LATENCY_MS, BENCH_RATE (requests/s per account);
//! BENCH_DATABASE_URL=postgres://... measures on PostgreSQL instead of SQLite.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::env;
use idcgate_engine::sync::NoProgress;
use idcgate_store::Store as _;
use idcgate_wire::Simulator;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

#[tokio::main]
async fn main() {
    let domains: usize = env("BENCH_DOMAINS", 10_000);
    let records: usize = env("BENCH_RECORDS", 100_000);
    let servers: usize = env("BENCH_SERVERS", 5_000);
    let latency: u64 = env("BENCH_LATENCY_MS", 50);
    let rate: u32 = env("BENCH_RATE", 100);
    let per_domain = records / domains.max(1);

    let t = Instant::now();
    let west = idcgate_west::Sim::sandbox();
    west.seed_bulk(domains / 2, per_domain, servers / 5);
    let dnspod = idcgate_dnspod::Sim::sandbox();
    dnspod.seed_bulk(domains - domains / 2, per_domain);
    let xen = idcgate_xensystem::Sim::sandbox();
    xen.seed_bulk_vms(servers - servers / 5);
    println!("seeded in {:.1}s", t.elapsed().as_secs_f64());

    let sims: Vec<(&str, Box<dyn Simulator>)> = vec![
        ("west", Box::new(west)),
        ("dnspod", Box::new(dnspod)),
        ("xensystem", Box::new(xen)),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(common::store(dir.path()).await);
    let engine = common::engine(store.clone());
    let mut servers_running = Vec::new();
    for (name, s) in &sims {
        let srv = idcgate_wire::testing::serve(s.as_ref()).await;
        srv.faults.update(|f| f.latency_ms = latency);
        common::add_account(&engine, name, s.as_ref(), &srv, rate).await;
        servers_running.push((name.to_string(), srv));
    }

    let t = Instant::now();
    let reports = engine.sync_all(Arc::new(NoProgress)).await.expect("sync");
    let wall = t.elapsed();
    let mut bound = Duration::ZERO;
    println!("account     requests  added   failed");
    for (name, srv) in &servers_running {
        let n = srv.faults.requests();
        let r = reports.iter().find(|r| &r.account == name).expect("report");
        println!("{name:<11} {n:>8}  {:>6}  {}", r.added, r.failed.len());
        for f in &r.failed {
            println!("    {f}");
        }
        // Token bucket: `rate` calls free (burst), the rest at `rate`/s, plus the last call's latency.
        let secs =
            (n.saturating_sub(u64::from(rate))) as f64 / f64::from(rate) + latency as f64 / 1000.0;
        bound = bound.max(Duration::from_secs_f64(secs));
    }
    println!(
        "sync wall {:.2}s, lower bound {:.2}s, ratio {:.2} (goal <= 1.3); peak memory {:.0} MB (goal < 300)",
        wall.as_secs_f64(),
        bound.as_secs_f64(),
        wall.as_secs_f64() / bound.as_secs_f64(),
        peak_rss_mb()
    );
    // An immediate re-sync with no upstream change: where an upstream gives zones a
    // change marker (DNSPod) the records of unchanged zones are not listed again.
    let first: Vec<u64> = servers_running
        .iter()
        .map(|(_, srv)| srv.faults.requests())
        .collect();
    let t = Instant::now();
    let again = engine.sync_all(Arc::new(NoProgress)).await.expect("resync");
    let rerun_wall = t.elapsed();
    let written: u64 = again.iter().map(|r| r.added + r.changed + r.gone).sum();
    println!("account     first sync  re-sync  share   zones skipped");
    for ((name, srv), first) in servers_running.iter().zip(&first) {
        let n = srv.faults.requests() - first;
        let r = again.iter().find(|r| &r.account == name).expect("report");
        println!(
            "{name:<11} {first:>10}  {n:>7}  {:>5.1}%  {}",
            n as f64 * 100.0 / (*first).max(1) as f64,
            r.zones_skipped
        );
    }
    println!(
        "first sync {:.2}s, re-sync {:.2}s; {written} resources written (0 unless the upstream changed meanwhile)",
        wall.as_secs_f64(),
        rerun_wall.as_secs_f64()
    );
    let changes = store
        .changes(None, i64::try_from(written).unwrap_or(0))
        .await
        .expect("changes");
    for c in changes {
        // The sandbox has a VM mid-installation; its task finishing is a real upstream change.
        println!(
            "  changed upstream: {} {} {} {:?}",
            c.account,
            c.kind.as_str(),
            c.key,
            c.change
        );
    }
}
