//! The money fault soak, long form (issue 10): by default 1,000 flows on SQLite and
//! 1,000 on PostgreSQL, each placed by the real `idcgate` binary with faults injected at
//! the simulators and SIGKILLs at random points; prints every figure and exits non-zero
//! if anything was lost, doubled, unbalanced or differs from a simulator's balance.
//!
//! `cargo bench -p idcgate --bench soak`; SOAK_FLOWS (1000), SOAK_PARALLEL (4),
//! SOAK_BACKENDS (`sqlite,postgres`), IDCGATE_SOAK_SEED (replays a run),
//! IDCGATE_TEST_POSTGRES (the PostgreSQL server, as for the tests).
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;
#[path = "../tests/soak/mod.rs"]
mod soak;

#[tokio::main]
async fn main() {
    let mut opts = soak::Options::new(common::env("SOAK_FLOWS", 1000));
    opts.parallel = common::env("SOAK_PARALLEL", 4);
    let opts = &opts;
    common::soak_each_backend(
        |db| async move {
            let report = soak::run(&db, opts).await;
            db.cleanup().await;
            report
        },
        |report| report.is_clean(),
        "the soak found money problems (see above)",
    )
    .await;
}
