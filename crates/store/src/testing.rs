//! Test support shared by every crate's storage-backed tests: a fresh, unlocked store on
//! SQLite (temporary file) or PostgreSQL (a new database on `IDCGATE_TEST_POSTGRES`,
//! default the local `test` database; `off` skips, saying so).

use crate::{MasterKey, SqlStore};

pub struct TestDb {
    pub store: SqlStore,
    /// URL of the database, for tests that look at raw columns.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_db: Option<String>,
}

pub const TEST_KEY_HEX: &str = "1111111111111111111111111111111111111111111111111111111111111111";

fn pg_base() -> String {
    std::env::var("IDCGATE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

async fn unlocked(url: &str) -> SqlStore {
    let mut store = SqlStore::open(url)
        .await
        .unwrap_or_else(|e| panic!("open {url}: {e}"));
    let key = MasterKey::from_hex(TEST_KEY_HEX).unwrap_or_else(MasterKey::generate);
    store
        .unlock(&key)
        .await
        .unwrap_or_else(|e| panic!("unlock: {e}"));
    store
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    TestDb {
        store: unlocked(&url).await,
        url,
        _dir: Some(dir),
        pg_db: None,
    }
}

/// `None` when PostgreSQL tests are switched off; panics if the server is unreachable.
pub async fn postgres() -> Option<TestDb> {
    use sqlx::Executor;
    let base = pg_base();
    if base == "off" {
        eprintln!("postgres storage tests skipped: IDCGATE_TEST_POSTGRES=off");
        return None;
    }
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&base).await.unwrap_or_else(|e| {
        panic!("PostgreSQL at {base} unreachable ({e}); start it or set IDCGATE_TEST_POSTGRES=off")
    });
    let mut rnd = [0u8; 6];
    let _ = getrandom::getrandom(&mut rnd);
    let db = format!("idcgate_t_{}", hex::encode(rnd));
    admin
        .execute(format!("CREATE DATABASE {db}").as_str())
        .await
        .unwrap_or_else(|e| panic!("create database: {e}"));
    let (prefix, _) = base.rsplit_once('/').unwrap_or((base.as_str(), ""));
    let url = format!("{prefix}/{db}");
    Some(TestDb {
        store: unlocked(&url).await,
        url,
        _dir: None,
        pg_db: Some(db),
    })
}

impl TestDb {
    /// Another store on this database, unlocked with the test key: what a second
    /// instance (an engine, a server) opens beside the test's own.
    pub async fn reopen(&self) -> SqlStore {
        unlocked(&self.url).await
    }

    /// A connection to the database past the store, for what a test does behind its back.
    pub async fn raw_pool(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("connect {}: {e}", self.url))
    }

    /// Statistics and the visibility map as autovacuum keeps them on a running
    /// PostgreSQL (the test server runs without it): what a benchmark of a settled
    /// database reads with. Nothing on SQLite, which gathers no statistics unasked.
    pub async fn settle(&self) {
        if self.pg_db.is_some() {
            let pool = self.raw_pool().await;
            if let Err(e) = sqlx::query("VACUUM ANALYZE").execute(&pool).await {
                panic!("vacuum analyze: {e}");
            }
            pool.close().await;
        }
    }

    /// Asserts that the database itself refuses each of `statements` (the append-only
    /// tables' triggers), whoever sends them.
    pub async fn assert_refused(&self, statements: &[&str]) {
        let pool = self.raw_pool().await;
        for sql in statements {
            assert!(sqlx::query(sql).execute(&pool).await.is_err(), "{sql}");
        }
    }

    /// Drops a PostgreSQL test database (SQLite files go with their temp dir).
    pub async fn cleanup(self) {
        use sqlx::Executor;
        let TestDb { store, pg_db, .. } = self;
        drop(store);
        if let Some(db) = pg_db {
            if let Ok(admin) = sqlx::AnyPool::connect(&pg_base()).await {
                let _ = admin
                    .execute(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)").as_str())
                    .await;
            }
        }
    }
}

/// Polls every future together, so their statements really overlap on the pool (a
/// join that runs them one after another would hide a race).
pub async fn join_all<F: std::future::Future + Unpin>(mut futs: Vec<F>) -> Vec<F::Output> {
    let mut done: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in futs.iter_mut().enumerate() {
            if done[i].is_none() {
                match std::pin::Pin::new(f).poll(cx) {
                    std::task::Poll::Ready(v) => done[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    done.into_iter().flatten().collect()
}

/// Generates `sqlite_backend::name` and `postgres_backend::name` tests from
/// `async fn name(db: &TestDb)` functions in the calling module. With
/// `IDCGATE_TEST_POSTGRES=off` the PostgreSQL ones are `#[ignore]`d, so the summary says
/// they did not run: the calling crate's build.rs sets `cfg(idcgate_postgres_off)` (the
/// same few lines in each such crate).
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite_backend {
            $(#[tokio::test] async fn $name() {
                let db = $crate::testing::sqlite().await;
                super::$name(&db).await;
                db.cleanup().await;
            })*
        }
        mod postgres_backend {
            $(#[tokio::test]
            #[cfg_attr(idcgate_postgres_off, ignore = "IDCGATE_TEST_POSTGRES=off")]
            async fn $name() {
                if let Some(db) = $crate::testing::postgres().await {
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            })*
        }
    };
}
