//! Console page times with a large inventory: 10,000 domains, 100,000 DNS records
//! (1,000 zones of 100), 2,000 servers, 5,000 audit rows, 2,000 orders and 2,000 ledger
//! transactions in the store. Each page is
//! fetched over loopback by one client, one request at a time, and timed from send to
//! the last byte (server time plus a loopback round trip). The reference, measured in
//! the same run, is the console's stylesheet: the same server, session-free, no store
//! read — what a page costs beyond serving bytes is the difference.
//!
//! `cargo bench -p idcgate-console --bench pages`; BENCH_POSTGRES=1 runs it on the
//! local PostgreSQL as well, after a `VACUUM ANALYZE` (what autovacuum does on a running
//! server; the test server has it off) unless BENCH_SETTLE=0; BENCH_REQUESTS (default
//! 200) per page.
#![allow(clippy::unwrap_used)] // a bench may fail loudly

use idcgate_core::ledger::{LedgerAccount, Transaction};
use idcgate_core::{
    DnsRecord, Domain, DomainStatus, Money, RecordType, ResourceKind, Server, Zone,
};
use idcgate_engine::sync::inventory_row;
use idcgate_engine::{now_ms, Engine, Registry};
use idcgate_store::{digest, AuditEntry, NewOrder, Role, SessionStage, Store};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn seed(store: &dyn Store) {
    let now = now_ms();
    let day = 86_400_000;
    let t = Instant::now();
    let mut rows = Vec::new();
    for i in 0..10_000i64 {
        let d = Domain {
            name: format!("domain{i:05}.com"),
            status: DomainStatus::Active,
            registered_at: None,
            expires_at: jiff::Timestamp::from_millisecond(now + (i % 400) * day).ok(),
            nameservers: vec!["ns1.example.net".into()],
            auto_renew: i % 3 == 0,
            upstream_id: None,
        };
        rows.push(inventory_row(
            if i % 2 == 0 { "west" } else { "dnspod" },
            &d,
            now,
        ));
    }
    for z in 0..1_000 {
        let zone = format!("domain{z:05}.com");
        let account = if z % 2 == 0 { "west" } else { "dnspod" };
        rows.push(inventory_row(
            account,
            &Zone {
                name: zone.clone(),
                upstream_id: None,
                record_count: Some(100),
                marker: None,
            },
            now,
        ));
        for r in 0..100 {
            let rec = DnsRecord {
                zone: zone.clone(),
                host: format!("h{r}"),
                rtype: RecordType::A,
                value: format!("10.0.{}.{}", r / 250, r % 250),
                ttl: 600,
                line: Some("默认".into()),
                priority: None,
                enabled: true,
                upstream_id: Some(format!("{z}-{r}")),
            };
            rows.push(inventory_row(account, &rec, now));
        }
    }
    for i in 0..2_000i64 {
        let s: Server = serde_json::from_value(serde_json::json!({
            "upstream_id": i.to_string(), "name": format!("vps-{i:04}"), "kind": "vps",
            "region": null, "plan": null, "cpu": 2, "ram_mb": 2048, "disks": [],
            "bandwidth_mbps": 5, "ips": [format!("10.1.{}.{}", i / 250, i % 250)],
            "os_image": "centos7", "power": "running", "lifecycle": "active",
            "expires_at": jiff::Timestamp::from_millisecond(now + (i % 90) * day).unwrap(),
        }))
        .unwrap();
        rows.push(inventory_row("xen", &s, now));
    }
    for chunk in rows.chunks(5_000) {
        store.upsert_resources(chunk).await.unwrap();
    }
    for i in 0..5_000 {
        store
            .append_audit(&AuditEntry {
                id: 0,
                at_ms: now - i * 1_000,
                actor: "cli:bench".into(),
                action: if i % 10 == 0 { "sync" } else { "dns.add" }.into(),
                target: format!("domain{:05}.com", i % 1_000),
                outcome: "ok".into(),
                detail: "seeded".into(),
                intent_id: None,
            })
            .await
            .unwrap();
    }
    for i in 0..2_000i64 {
        let domain = format!("domain{i:05}.com");
        store
            .create_order(&NewOrder {
                idem_key: format!("bench-{i}"),
                account: if i % 2 == 0 { "west" } else { "dnspod" }.into(),
                kind: ResourceKind::Domain,
                operation: "renew".into(),
                target: domain.clone(),
                params: serde_json::json!({"years": 1}),
                quoted_fen: 5_500 + i,
                actor: "cli:bench".into(),
            })
            .await
            .unwrap();
        store
            .post_transaction(
                &Transaction::transfer(
                    format!("renew {domain}"),
                    None,
                    LedgerAccount::upstream("west"),
                    LedgerAccount::cost(ResourceKind::Domain),
                    Money::from_fen(5_500 + i),
                )
                .unwrap(),
            )
            .await
            .unwrap();
    }
    println!(
        "  seeded {} resources, 5,000 audit rows, 2,000 orders and ledger transactions in {:.1}s",
        rows.len(),
        t.elapsed().as_secs_f64()
    );
}

struct Figures {
    p50: Duration,
    p99: Duration,
    max: Duration,
}

async fn time_page(client: &reqwest::Client, url: &str, cookie: &str, n: usize) -> Figures {
    let mut times = Vec::with_capacity(n);
    for i in 0..n + 5 {
        let t = Instant::now();
        let r = client
            .get(url)
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body = r.bytes().await.unwrap();
        let took = t.elapsed();
        assert!(
            status.is_success(),
            "{url}: {status} {}",
            String::from_utf8_lossy(&body)
        );
        if i >= 5 {
            times.push(took);
        }
    }
    times.sort();
    Figures {
        p50: times[times.len() / 2],
        p99: times[(times.len() * 99 / 100).min(times.len() - 1)],
        max: times[times.len() - 1],
    }
}

async fn run(label: &str, db: &idcgate_store::testing::TestDb) {
    println!("{label}:");
    let store: Arc<dyn Store> = Arc::new(db.reopen().await);
    seed(store.as_ref()).await;
    if std::env::var("BENCH_SETTLE").map_or(true, |v| v != "0") {
        db.settle().await;
    }
    // An admin sees every page.
    store
        .add_operator("bench", Role::Admin, "unused", now_ms())
        .await
        .unwrap();
    let session = "bench-session-id";
    store
        .create_session(
            &digest(session),
            "bench",
            "csrf",
            SessionStage::Full,
            now_ms(),
        )
        .await
        .unwrap();
    let engine = Arc::new(Engine::new(
        store,
        Registry::new(vec![]),
        idcgate_wire::testing::wire_config(Duration::from_secs(5)),
    ));
    let app = idcgate_console::router(engine, idcgate_console::ConsoleConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = reqwest::Client::new();
    let cookie = format!("idcgate_session={session}");
    let n = env("BENCH_REQUESTS", 200);
    let reference = time_page(&client, &format!("{base}/assets/console.css"), "", n).await;
    println!(
        "  {:<28} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
        "reference (stylesheet)",
        ms(reference.p50),
        ms(reference.p99),
        ms(reference.max)
    );
    for (name, path) in [
        ("dashboard", "/"),
        ("domains", "/domains"),
        ("domains search", "/domains?q=domain09"),
        (
            "domains by expiry, page 100",
            "/domains?sort=expiry&desc=1&page=100",
        ),
        ("domains within 30 days", "/domains?expiry=30"),
        ("dns zones", "/dns"),
        ("dns zones by records", "/dns?sort=records"),
        ("dns zone (100 records)", "/dns/west/domain00500.com"),
        (
            "dns zone sorted by ttl",
            "/dns/west/domain00500.com?sort=ttl&desc=1",
        ),
        ("servers", "/servers"),
        (
            "servers running, by state",
            "/servers?state=running&sort=state",
        ),
        ("server", "/servers/xen/1000"),
        (
            "servers by power, page 20",
            "/servers?sort=power&desc=1&page=20",
        ),
        (
            "domains by account, page 100",
            "/domains?sort=account&page=100",
        ),
        ("dns zones search", "/dns?q=domain005"),
        ("dns zone search", "/dns/west/domain00500.com?q=h5"),
        ("hosting (empty)", "/hosting"),
        ("databases (empty)", "/databases"),
        ("mail (empty)", "/mail"),
        ("certificates (empty)", "/certificates"),
        ("audit", "/audit"),
        ("audit page 90", "/audit?page=90"),
        ("audit filtered", "/audit?action=dns&target=domain0050"),
        ("audit by actor", "/audit?sort=actor&desc=1"),
        ("orders", "/orders"),
        ("orders pending, search", "/orders?state=pending&q=domain01"),
        ("ledger", "/ledger"),
        ("ledger search", "/ledger?q=domain01"),
        ("tenants (empty)", "/tenants"),
        ("products (empty)", "/products"),
        ("accounts (empty)", "/accounts"),
        ("tokens (empty)", "/tokens"),
        ("operators", "/operators"),
    ] {
        let f = time_page(&client, &format!("{base}{path}"), &cookie, n).await;
        println!(
            "  {name:<28} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  (p99 {:.0}x reference){}",
            ms(f.p50),
            ms(f.p99),
            ms(f.max),
            ms(f.p99) / ms(reference.p99).max(0.001),
            if f.p99 < Duration::from_millis(50) {
                ""
            } else {
                "  ABOVE the 50 ms goal"
            }
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let sqlite = idcgate_store::testing::sqlite().await;
    run("SQLite", &sqlite).await;
    if std::env::var("BENCH_POSTGRES").is_ok_and(|v| v == "1") {
        if let Some(pg) = idcgate_store::testing::postgres().await {
            run("PostgreSQL", &pg).await;
            pg.cleanup().await;
        }
    }
}
