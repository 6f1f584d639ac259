//! The SQLite database and its WAL and shared-memory files are private to their owner.
#![allow(clippy::unwrap_used)] // a test may fail loudly
#![cfg(unix)]

use idcgate_core::{Credentials, UpstreamAccount, Vendor};
use idcgate_store::{MasterKey, SqlStore, Store};
use std::os::unix::fs::PermissionsExt;

#[tokio::test]
async fn a_new_sqlite_database_and_its_wal_are_created_0600() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("idcgate.db");
    let mut store = SqlStore::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    store.unlock(&MasterKey::generate()).await.unwrap();
    // A write, so the WAL and the shared-memory index exist.
    store
        .add_account(&UpstreamAccount {
            name: "w".into(),
            vendor: Vendor::West,
            base_url: "http://127.0.0.1:1".into(),
            credentials: Credentials::new().with("username", "u"),
            rate_limit_per_sec: 1,
        })
        .await
        .unwrap();
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        seen.push(path.file_name().unwrap().to_string_lossy().into_owned());
        assert_eq!(mode, 0o600, "{} is {mode:o}", path.display());
    }
    seen.sort();
    assert_eq!(seen, ["idcgate.db", "idcgate.db-shm", "idcgate.db-wal"]);
}

/// `IDCGATE_TEST_POSTGRES=off` reaches the build (build.rs), so the PostgreSQL half of
/// `both_backends!` is reported ignored rather than passed; never stale the other way.
#[test]
fn the_postgres_half_is_marked_ignored_exactly_when_switched_off() {
    assert_eq!(
        cfg!(idcgate_postgres_off),
        std::env::var("IDCGATE_TEST_POSTGRES").is_ok_and(|v| v == "off")
    );
}
