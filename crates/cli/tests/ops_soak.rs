//! Issue 12's operations fault soak in CI: DNS and server operations through the REST
//! API of a real `idcgate serve` with 10% of upstream requests faulted; what the API said
//! matches every simulator's state, every operation is audited as answered, and a burst
//! SIGKILLed in flight left an audit intent for every write that reached an upstream.
//! (`cargo bench -p idcgate --bench ops_soak` runs the long soak.)
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod soak;

use idcgate_store::testing::TestDb;

async fn dns_and_server_operations_under_faults(db: &TestDb) {
    let report = soak::ops::run(db, &soak::ops::OpsOptions::new(64, 20)).await;
    println!("{report}");
    report.assert_clean();
    assert!(report.ops >= 300, "{report}");
    assert!(
        report.burst_writes > 0,
        "the burst reached the upstreams: {report}"
    );
}

idcgate_store::both_backends!(dns_and_server_operations_under_faults);
