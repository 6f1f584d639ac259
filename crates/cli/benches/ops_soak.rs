//! The operations fault soak, long form (issue 12): by default 400 DNS flows (five
//! operations each) and 100 power operations per server, on SQLite and on PostgreSQL,
//! through the REST API of a real `idcgate serve` with 10% of upstream requests faulted,
//! then a SIGKILLed burst; prints every figure and exits non-zero on any operation
//! reported failed but done or ok but not done, any audit mismatch or missing intent.
//!
//! `cargo bench -p idcgate --bench ops_soak`; SOAK_DNS_FLOWS (400), SOAK_SERVER_OPS
//! (100), SOAK_PARALLEL (8), SOAK_BACKENDS (`sqlite,postgres`), IDCGATE_SOAK_SEED
//! (replays a run), IDCGATE_TEST_POSTGRES (the PostgreSQL server, as for the tests);
//! SOAK_ERROR_PERMILLE (40), SOAK_DROP_PERMILLE (30), SOAK_MALFORMED_PERMILLE (30).
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;
#[path = "../tests/soak/mod.rs"]
mod soak;

#[tokio::main]
async fn main() {
    let mut opts = soak::ops::OpsOptions::new(
        common::env("SOAK_DNS_FLOWS", 400),
        common::env("SOAK_SERVER_OPS", 100),
    );
    opts.parallel = common::env("SOAK_PARALLEL", 8);
    // Per mille, to try the harness at heavier faults than the 10% the issue names.
    let rate = |name: &str, default: f64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse::<u32>().ok())
            .map_or(default, |m| f64::from(m) / 1000.0)
    };
    opts.error_rate = rate("SOAK_ERROR_PERMILLE", opts.error_rate);
    opts.drop_after_commit_rate = rate("SOAK_DROP_PERMILLE", opts.drop_after_commit_rate);
    opts.malformed_rate = rate("SOAK_MALFORMED_PERMILLE", opts.malformed_rate);
    let opts = &opts;
    common::soak_each_backend(
        |db| async move {
            let report = soak::ops::run(&db, opts).await;
            db.cleanup().await;
            report
        },
        |report| report.is_clean(),
        "the operations soak found problems (see above)",
    )
    .await;
}
