//! What the order journal costs per purchase: `Engine::place_order` (quote, write the
//! order, mark it submitted, buy, book the ledger transaction, audit) against the bare
//! upstream calls it wraps (quote + register on the connection), interleaved one by one
//! against a zero-latency West simulator in the same run, so the machine's noise falls
//! on both sides alike.
//!
//! `cargo bench -p idcgate --bench order_journal`; BENCH_ORDERS (default 400) per side;
//! BENCH_DATABASE_URL=postgres://... measures on PostgreSQL instead of SQLite.
#![allow(clippy::unwrap_used)] // a bench may fail loudly

mod common;

use common::{ms, percentile};
use idcgate_core::purchase::{Operation, PurchaseRequest};
use idcgate_core::{Money, ResourceKind};
use std::time::Instant;

#[tokio::main]
async fn main() {
    let n: usize = common::env("BENCH_ORDERS", 400);
    let west = idcgate_west::Sim::sandbox();
    // Enough money that no registration is refused for want of it.
    west.set_balance(Money::from_fen(1_000_000_000_000));
    let srv = idcgate_wire::testing::serve(&west).await;

    let dir = tempfile::tempdir().unwrap();
    let store = common::store(dir.path()).await;
    let backend = idcgate_store::Store::backend(&store);
    let engine = common::engine(std::sync::Arc::new(store));
    let run = common::run_id();
    let account = format!("bench-{run}");
    common::add_account(&engine, &account, &west, &srv, 1_000_000).await;
    let conn = engine.connection(&account).await.unwrap();
    let seller = conn.purchasing().unwrap();

    let request = |side: &str, i: usize| {
        PurchaseRequest::new(
            ResourceKind::Domain,
            Operation::Create,
            format!("j{run}-{side}{i}.com"),
        )
    };
    // Warm both paths (connections, statement caches) before measuring.
    for i in 0..20 {
        let r = request("warm-bare", i);
        seller.quote(&r).await.unwrap();
        seller.buy(&r, &format!("warm-{run}-{i}")).await.unwrap();
        engine
            .place_order("bench", &account, &request("warm-journal", i), None)
            .await
            .unwrap();
    }
    let mut bare = Vec::with_capacity(n);
    let mut journal = Vec::with_capacity(n);
    for i in 0..n {
        let r = request("bare", i);
        let t = Instant::now();
        seller.quote(&r).await.unwrap();
        seller.buy(&r, &format!("bare-{run}-{i}")).await.unwrap();
        bare.push(t.elapsed());

        let r = request("journal", i);
        let t = Instant::now();
        let o = engine
            .place_order("bench", &account, &r, None)
            .await
            .unwrap();
        journal.push(t.elapsed());
        assert_eq!(o.state, idcgate_core::OrderState::Succeeded);
    }
    bare.sort();
    journal.sort();
    println!("{n} orders per side, {backend}, zero-latency West simulator");
    println!("side                      p50 ms   p90 ms   p99 ms");
    for (name, d) in [
        ("bare quote+register", &bare),
        ("journal place_order", &journal),
    ] {
        println!(
            "{name:<24} {:>7.3}  {:>7.3}  {:>7.3}",
            ms(percentile(d, 0.5)),
            ms(percentile(d, 0.9)),
            ms(percentile(d, 0.99))
        );
    }
    let (b, j) = (percentile(&bare, 0.5), percentile(&journal, 0.5));
    println!(
        "journal overhead p50 {:.3} ms (goal < 2 ms on SQLite), ratio journal/bare {:.2}",
        ms(j.saturating_sub(b)),
        j.as_secs_f64() / b.as_secs_f64()
    );
}
