//! The shared call path against the real simulator with its faults: a read is retried
//! after a 500 and after an unreadable 200 (and succeeds); a write is sent once, and an
//! answer to it that cannot be read is an unknown outcome — the change happened once.

#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::*;
use idcgate_core::Error;
use idcgate_wire::sim::{serve, SimServer};
use idcgate_wire::{FaultConfig, Simulator, WireConfig};
use idcgate_zonkvm::{Sim, ZonkvmClient};
use std::time::Duration;

/// A client that retries reads (twice) and gives up on a silent upstream quickly.
async fn retrying() -> (Sim, SimServer, ZonkvmClient) {
    let sim = Sim::sandbox();
    let srv = serve(&sim, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let mut cfg = WireConfig::new("tests@idcgate.invalid");
    cfg.timeout = Duration::from_secs(2);
    cfg.read_retries = 2;
    let client =
        ZonkvmClient::new(&account(&srv.base_url(), &sim.sandbox_credentials()), &cfg).unwrap();
    (sim, srv, client)
}

/// Arms one fault for the next request.
type Inject = fn(&mut FaultConfig);

/// The two faults a read survives and a write cannot: a 500 before the handler ran,
/// and a 200 whose body was cut after it ran.
const FAULTS: [(&str, Inject); 2] = [
    ("the 500", |f| f.error_next = 1),
    ("the cut body", |f| f.malformed_next = 1),
];

#[tokio::test]
async fn a_read_is_retried_after_a_500_and_after_an_unreadable_200() {
    let (_sim, srv, client) = retrying().await;
    let read = || client.call_kv("getserver", &[("guid", "1001")]);
    let clean = read().await.unwrap();
    for (fault, inject) in FAULTS {
        let before = srv.faults.requests();
        srv.faults.update(inject);
        assert_eq!(read().await.unwrap(), clean, "after {fault}");
        assert_eq!(srv.faults.requests() - before, 2, "{fault}, then the retry");
    }

    // Typed readers ride the same path: a listing survives both faults in a row.
    let servers = client.list_all("getservers").await.unwrap();
    let before = srv.faults.requests();
    srv.faults.update(|f| {
        f.error_next = 1;
        f.malformed_next = 1;
    });
    assert_eq!(client.list_all("getservers").await.unwrap(), servers);
    assert_eq!(srv.faults.requests() - before, 3);
}

#[tokio::test]
async fn a_write_is_sent_once_and_an_unreadable_answer_is_an_unknown_outcome() {
    let (sim, srv, client) = retrying().await;
    let buy = |order_id: &'static str| {
        [
            ("order_id", order_id),
            ("line_guid", LINE_DY),
            ("system_guid", CENTOS),
            ("content", r#"{"cpu":1,"ram":1}"#),
        ]
    };
    let bought = |sim: &Sim, order_id: &str| {
        sim.ledger()
            .into_iter()
            .filter(|r| r.client_order_id == order_id)
            .count()
    };

    // A 500 before the handler ran: not retried, and the client cannot know that
    // nothing happened. The purchase committed, then its answer was cut: one request,
    // one charge — the change happened exactly once.
    for ((fault, inject), (order_id, charged, made)) in FAULTS
        .into_iter()
        .zip([("w-500", 0, 0), ("w-cut", 2_900, 1)])
    {
        let (balance, servers, before) = (
            in_fen(sim.balance()),
            sim.server_count(),
            srv.faults.requests(),
        );
        srv.faults.update(inject);
        let err = client
            .call_kv("create_order#create_server", &buy(order_id))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::UnknownOutcome { ref action, .. } if action == "zonkvm:create_order#create_server"),
            "{fault}: {err:?}"
        );
        assert_eq!(
            srv.faults.requests() - before,
            1,
            "a write is never retried ({fault})"
        );
        assert_eq!(
            (
                in_fen(sim.balance()),
                sim.server_count(),
                bought(&sim, order_id)
            ),
            (balance - charged, servers + made, made),
            "{fault}"
        );
    }
}
