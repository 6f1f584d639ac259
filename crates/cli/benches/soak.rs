//! The money fault soak, long form (issue 10): by default 1,000 flows on SQLite and
//! 1,000 on PostgreSQL, each placed by the real `idcgate` binary with faults injected at
//! the simulators and SIGKILLs at random points; prints every figure and exits non-zero
//! if anything was lost, doubled, unbalanced or differs from a simulator's balance.
//!
//! `cargo bench -p idcgate --bench soak`; SOAK_FLOWS (1000), SOAK_PARALLEL (4),
//! SOAK_BACKENDS (`sqlite,postgres`), IDCGATE_SOAK_SEED (replays a run),
//! IDCGATE_TEST_POSTGRES (the PostgreSQL server, as for the tests).
#![allow(clippy::unwrap_used)] // a test may fail loudly

#[path = "../tests/soak/mod.rs"]
mod soak;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let flows = env("SOAK_FLOWS", 1000) as usize;
    let backends = std::env::var("SOAK_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let mut opts = soak::Options::new(flows);
    opts.parallel = env("SOAK_PARALLEL", 4) as usize;
    let mut clean = true;
    for backend in backends.split(',').map(str::trim) {
        let db = match backend {
            "sqlite" => idcgate_store::testing::sqlite().await,
            "postgres" => match idcgate_store::testing::postgres().await {
                Some(db) => db,
                None => continue,
            },
            other => panic!("SOAK_BACKENDS: {other:?} is not sqlite or postgres"),
        };
        let report = soak::run(&db, &opts).await;
        println!("{report}");
        clean &= report.is_clean();
        db.cleanup().await;
    }
    if !clean {
        eprintln!("the soak found money problems (see above)");
        std::process::exit(1);
    }
}
