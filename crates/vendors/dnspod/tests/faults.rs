//! Lost answers and paging through the Dns capability.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;
use common::*;
use idcgate_core::capability::Dns;
use idcgate_core::{Error, RecordInput, RecordType};
use idcgate_dnspod::{Format, Sim};
use std::future::Future;
use std::time::Duration;

/// What `call` answers, and how many requests reached the simulator while it ran.
async fn counted<T>(sim: &Sim, call: impl Future<Output = T>) -> (T, u64) {
    let before = sim.request_count();
    let out = call.await;
    (out, sim.request_count() - before)
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_an_unknown_outcome_and_the_record_exists() {
    for format in FORMATS {
        let sim = Sim::sandbox();
        let srv = serve(&sim).await;
        let mut cfg = cfg();
        cfg.timeout = Duration::from_millis(400);
        let acct = sandbox_account(&sim, &srv);
        let c = idcgate_dnspod::connect_client(&acct, &cfg)
            .unwrap()
            .with_format(format);
        srv.faults.update(|f| f.drop_next = 1);
        let err = c
            .call(
                "Record.Create",
                &params(&[
                    ("domain", "sandbox-agent.cn"),
                    ("sub_domain", "lost"),
                    ("record_type", "A"),
                    ("record_line", "默认"),
                    ("value", "192.0.2.55"),
                ]),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, Error::UnknownOutcome { .. }), "{err:?}");
        let doc = c
            .call(
                "Record.List",
                &params(&[("domain", "sandbox-agent.cn"), ("sub_domain", "lost")]),
            )
            .await
            .unwrap();
        assert_eq!(doc["records"][0]["value"], "192.0.2.55");
        // Retrying the create through the capability converges instead of duplicating.
        let input = RecordInput {
            host: "lost".into(),
            rtype: RecordType::A,
            value: "192.0.2.55".into(),
            ttl: 600,
            line: None,
            priority: None,
        };
        let rec = c.create_record("sandbox-agent.cn", &input).await.unwrap();
        assert_eq!(rec.upstream_id.as_deref(), doc["records"][0]["id"].as_str());
        let all = c.list_records("sandbox-agent.cn").await.unwrap();
        assert_eq!(all.iter().filter(|r| r.host == "lost").count(), 1);
    }
}

#[tokio::test]
async fn a_malformed_answer_to_a_read_is_transport_and_to_a_write_unknown() {
    let sim = Sim::sandbox();
    let srv = serve(&sim).await;
    let c = sandbox_client(&sim, &srv, Format::Json);
    srv.faults.update(|f| f.malformed_next = 1);
    let err = c.call("Domain.List", &vec![]).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    srv.faults.update(|f| f.malformed_next = 1);
    let err = c
        .call("Domain.Create", &params(&[("domain", "malformed.com")]))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownOutcome { .. }), "{err:?}");
}

#[tokio::test]
async fn listing_fetches_every_page() {
    let sim = Sim::new();
    sim.seed_bulk(3005, 0);
    sim.seed_bulk(1, 3500);
    assert_eq!(sim.domain_count(), 3006);
    let srv = serve(&sim).await;
    for format in FORMATS {
        let c = sandbox_client(&sim, &srv, format);
        let (zones, sent) = counted(&sim, c.list_zones()).await;
        let zones = zones.unwrap();
        assert_eq!(zones.len(), 3006);
        assert_eq!(sent, 2, "3000 + 6");
        let big = zones.last().unwrap().name.clone();
        let (recs, sent) = counted(&sim, c.list_records(&big)).await;
        let recs = recs.unwrap();
        assert_eq!(recs.len(), 3502, "3500 A + 2 NS");
        assert_eq!(sent, 2);
        let mut ids: Vec<_> = recs
            .iter()
            .map(|r| r.upstream_id.clone().unwrap())
            .collect();
        ids.dedup();
        assert_eq!(ids.len(), 3502, "no record twice");
    }
}

#[test]
fn seed_bulk_is_cheap_at_benchmark_size() {
    let sim = Sim::sandbox();
    let started = std::time::Instant::now();
    sim.seed_bulk(10_000, 10);
    assert_eq!(sim.domain_count(), 10_004);
    assert!(sim.record_count() >= 10_000 * 12);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_broken_answer_to_a_read_is_retried() {
    let sim = Sim::sandbox();
    let srv = serve(&sim).await;
    let mut cfg = cfg();
    cfg.read_retries = 1;
    let acct = sandbox_account(&sim, &srv);
    let c = idcgate_dnspod::connect_client(&acct, &cfg).unwrap();
    srv.faults.update(|f| f.malformed_next = 1);
    let (zones, sent) = counted(&sim, c.list_zones()).await;
    assert_eq!(zones.unwrap().len(), 2);
    assert_eq!(sent, 2, "one broken answer, one retry");
    // An HTTP 500 on a write is not retried and not assumed to have failed.
    srv.faults.update(|f| f.error_next = 1);
    let create = params(&[("domain", "err500.com")]);
    let (err, sent) = counted(&sim, c.call("Domain.Create", &create)).await;
    let err = err.unwrap_err();
    assert!(matches!(err, Error::UnknownOutcome { .. }), "{err:?}");
    assert_eq!(sent, 0, "the fault layer answered before the handler");
}
