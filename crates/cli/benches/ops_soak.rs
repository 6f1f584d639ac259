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
    let backends = std::env::var("SOAK_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let mut opts = soak::ops::OpsOptions::new(
        env("SOAK_DNS_FLOWS", 400) as usize,
        env("SOAK_SERVER_OPS", 100) as usize,
    );
    opts.parallel = env("SOAK_PARALLEL", 8) as usize;
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
        let report = soak::ops::run(&db, &opts).await;
        println!("{report}");
        clean &= report.is_clean();
        db.cleanup().await;
    }
    if !clean {
        eprintln!("the operations soak found problems (see above)");
        std::process::exit(1);
    }
}
