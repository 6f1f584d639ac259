//! What the benches share: settings from the environment, latency figures, a name of
//! their own per run, and an engine on the bench's database with sandbox accounts.
#![allow(dead_code, unused_imports)] // each bench uses its own part

use idcgate_engine::Engine;
use idcgate_store::{MasterKey, SqlStore};
use idcgate_wire::WireConfig;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The setting `name` from the environment, `default` when unset or unreadable.
pub fn env<T: FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Prints one side's calls, p50, p99, max and requests per second over `wall`; its p99
/// in ms and its requests per second.
pub fn report(side: &str, times: &[Duration], wall: Duration) -> (f64, f64) {
    let rps = times.len() as f64 / wall.as_secs_f64();
    let p99 = ms(percentile(times, 0.99));
    println!(
        "{side:<34} {:>7} calls  p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  {:>8.0} req/s",
        times.len(),
        ms(percentile(times, 0.5)),
        p99,
        ms(*times.last().unwrap()),
        rps
    );
    (p99, rps)
}

/// A suffix of its own per run, for names: a PostgreSQL bench database may hold earlier
/// runs.
pub fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    format!("{nanos:x}")
}

/// The bench's store, unlocked with a fresh key: BENCH_DATABASE_URL when set
/// (postgres://...), else a new SQLite file in `dir`.
pub async fn store(dir: &Path) -> SqlStore {
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.join("bench.db").display()));
    let mut store = SqlStore::open(&url).await.unwrap();
    store.unlock(&MasterKey::generate()).await.unwrap();
    store
}

/// An engine on `store` with the product's vendors.
pub fn engine(store: Arc<SqlStore>) -> Arc<Engine> {
    Arc::new(Engine::new(
        store,
        idcgate::vendors::registry(),
        WireConfig::new("bench@example.com"),
    ))
}

/// Serves `engine` as `idcgate serve` does (REST API and downstream endpoint) on a free
/// port for the rest of the run; its address.
pub async fn serve(engine: Arc<Engine>) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = idcgate::vendors::server_state(engine);
    tokio::spawn(idcgate_server::serve(
        state,
        listener,
        std::future::pending(),
    ));
    addr
}

/// Stores a simulator's sandbox account, served, under a name at a rate.
pub use idcgate_engine::testing::put_sandbox as add_account;

/// How long each caller of [`load`] goes on calling.
#[derive(Clone, Copy)]
pub enum Until {
    Calls(usize),
    Elapsed(Duration),
}

/// Every caller at once, a task each, calling again and again until `until`:
/// `call(caller, n)` makes the n-th call, checks the answer and says how long the call
/// itself took. Every latency, sorted, and the wall time. The callers are taken from
/// `callers` after the clock has started (making one may be part of what is measured).
pub async fn load<C, F, Fut>(
    callers: impl IntoIterator<Item = C>,
    until: Until,
    call: F,
) -> (Vec<Duration>, Duration)
where
    C: Clone + Send + 'static,
    F: Fn(C, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Duration> + Send,
{
    let start = Instant::now();
    let mut tasks = Vec::new();
    for caller in callers {
        let call = call.clone();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            let mut n = 0;
            while match until {
                Until::Calls(calls) => n < calls,
                Until::Elapsed(run_for) => start.elapsed() < run_for,
            } {
                times.push(call(caller.clone(), n).await);
                n += 1;
            }
            times
        }));
    }
    gather(start, tasks).await
}

/// Every latency the `tasks` measured, sorted, and the wall time since `start`.
pub async fn gather(
    start: Instant,
    tasks: Vec<tokio::task::JoinHandle<Vec<Duration>>>,
) -> (Vec<Duration>, Duration) {
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let wall = start.elapsed();
    all.sort();
    (all, wall)
}

/// Runs a soak on each database SOAK_BACKENDS names (`sqlite,postgres` by default; a
/// PostgreSQL server the tests' settings turn off is skipped) and prints each report;
/// unless every one `is_clean`, says `problems` and exits non-zero.
pub async fn soak_each_backend<R, F>(
    run: impl Fn(idcgate_store::testing::TestDb) -> F,
    is_clean: impl Fn(&R) -> bool,
    problems: &str,
) where
    F: std::future::Future<Output = R>,
    R: std::fmt::Display,
{
    let backends = std::env::var("SOAK_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
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
        let report = run(db).await;
        println!("{report}");
        clean &= is_clean(&report);
    }
    if !clean {
        eprintln!("{problems}");
        std::process::exit(1);
    }
}
