//! Issue 10's fault soak in CI: 200 purchases per backend through the real binary, with
//! faults injected at the simulators and the process SIGKILLed at random points; after
//! `order reconcile` nothing is lost or doubled and the ledger matches every upstream's
//! balance to the fen. And one idempotency key placed by two processes at once buys
//! once. (`cargo bench -p idcgate --bench soak` runs the long soak.)
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod soak;

use idcgate_core::{OrderState, Vendor};
use idcgate_store::testing::TestDb;

async fn soak_200_flows(db: &TestDb) {
    let report = soak::run(db, &soak::Options::new(200)).await;
    println!("{report}");
    report.assert_clean();
    assert!(report.kills > 0 && report.reruns > 0, "{report}");
    assert!(
        report.reconciled > 0,
        "nothing was left to reconcile: {report}"
    );
    assert!(report.succeeded > 0, "{report}");
}

async fn same_key_from_two_processes(db: &TestDb) {
    for vendor in [Vendor::West, Vendor::Cndns] {
        let (purchases, orders, runs) = soak::same_key_twice(db, vendor).await;
        let said: Vec<String> = runs
            .iter()
            .map(|r| format!("{:?}: {}{}", r.code, r.stdout, r.stderr))
            .collect();
        assert_eq!(
            purchases, 1,
            "{vendor}: purchase requests upstream; {said:#?}"
        );
        assert_eq!(orders.len(), 1, "{vendor}: {said:#?}");
        assert_eq!(
            orders[0].state,
            OrderState::Succeeded,
            "{vendor}: {said:#?}"
        );
        assert!(
            runs.iter().any(|r| r.code == Some(0)),
            "{vendor}: one process placed it: {said:#?}"
        );
        // They overlapped: the other found the order still open and bought nothing.
        assert!(
            runs.iter().any(|r| r.code != Some(0)
                && (r.stderr.contains(" is submitted") || r.stderr.contains(" is pending"))),
            "{vendor}: the two processes did not overlap: {said:#?}"
        );
        let key_line = format!("idempotency key: {}", orders[0].order.idem_key);
        assert!(
            runs.iter().all(|r| r.stdout.contains(&key_line)),
            "{vendor}: both show the one order: {said:#?}"
        );
    }
}

idcgate_store::both_backends!(soak_200_flows, same_key_from_two_processes);
