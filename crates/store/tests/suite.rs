//! One storage suite, run against SQLite and PostgreSQL (see `idcgate_store::testing`).
//! Each test gets a fresh database.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use idcgate_core::{Credentials, ResourceKind, UpstreamAccount, Vendor};
use idcgate_store::both_backends;
use idcgate_store::*;
use serde_json::json;

use idcgate_store::testing::{TestDb, TEST_KEY_HEX};

both_backends!(
    accounts_round_trip_with_sealed_credentials,
    wrong_master_key_is_refused_and_nothing_lost,
    resources_upsert_is_idempotent_and_history_kept,
    batch_upsert_mixes_kinds_and_counts_outcomes,
    filters_search_expiry_and_paging,
    audit_log_is_append_only,
    the_last_audit_entry_of_each_target_is_read_back,
    audit_intents_stay_unfinished_until_completed,
    tokens_hashed_scoped_and_revocable,
    jobs_are_claimed_once_and_reclaimed_after_lease,
    jobs_spread_to_another_polling_instance,
    rate_slots_are_reserved_once_across_handles,
    verified_tokens_are_trusted_briefly_and_revocation_holds,
    a_page_and_its_total_in_one_call,
    listings_order_by_a_column_and_window_expiry,
    servers_filtered_and_sorted_by_state_and_zones_by_record_count,
    pages_by_expiry_run_on_past_the_resources_that_never_expire,
    state_columns_are_filled_for_rows_written_before_them,
    audit_pages_filter_sort_and_count_with_unfinished_intents,
);

fn account(name: &str, secret: &str) -> UpstreamAccount {
    UpstreamAccount {
        name: name.into(),
        vendor: Vendor::West,
        base_url: "http://127.0.0.1:1".into(),
        credentials: Credentials::new()
            .with("username", "demo")
            .with("api_password", secret),
        rate_limit_per_sec: 5,
    }
}

async fn accounts_round_trip_with_sealed_credentials(f: &TestDb) {
    let s = &f.store;
    s.add_account(&account("w1", "PLAINTEXT-SECRET-123"))
        .await
        .unwrap();
    assert!(matches!(
        s.add_account(&account("w1", "x")).await,
        Err(StoreError::Conflict(_))
    ));
    let got = s.get_account("w1").await.unwrap().unwrap();
    assert_eq!(
        got.credentials.get("api_password"),
        Some("PLAINTEXT-SECRET-123")
    );
    assert_eq!(got.vendor, Vendor::West);
    // The raw column never holds the secret.
    use sqlx::Row;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&f.url).await.unwrap();
    let row = sqlx::query("SELECT credentials_sealed FROM accounts")
        .fetch_one(&pool)
        .await
        .unwrap();
    let sealed: String = row.try_get(0).unwrap();
    assert!(!sealed.contains("PLAINTEXT-SECRET-123"));
    s.put_account(&account("w1", "NEW-SECRET-456"))
        .await
        .unwrap();
    assert_eq!(s.list_accounts().await.unwrap().len(), 1);
    assert_eq!(
        s.get_account("w1")
            .await
            .unwrap()
            .unwrap()
            .credentials
            .get("api_password"),
        Some("NEW-SECRET-456")
    );
    assert!(s.remove_account("w1").await.unwrap());
    assert!(!s.remove_account("w1").await.unwrap());
}

async fn wrong_master_key_is_refused_and_nothing_lost(f: &TestDb) {
    f.store
        .add_account(&account("keep", "S3CRET"))
        .await
        .unwrap();
    let mut other = SqlStore::open(&f.url).await.unwrap();
    assert!(other.has_master_key().await.unwrap());
    let err = other
        .unlock(&MasterKey::from_hex(&"22".repeat(32)).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::WrongMasterKey));
    // The right key still opens everything.
    let mut again = SqlStore::open(&f.url).await.unwrap();
    again
        .unlock(&MasterKey::from_hex(TEST_KEY_HEX).unwrap())
        .await
        .unwrap();
    assert_eq!(
        again
            .get_account("keep")
            .await
            .unwrap()
            .unwrap()
            .credentials
            .get("api_password"),
        Some("S3CRET")
    );
}

fn domain_row(name: &str, exp: Option<i64>, seen: i64) -> ResourceRow {
    ResourceRow {
        account: "w1".into(),
        kind: ResourceKind::Domain,
        key: name.into(),
        name: name.into(),
        data: json!({"name": name, "status": "active"}),
        expires_at_ms: exp,
        first_seen_ms: seen,
        last_seen_ms: seen,
        gone_at_ms: None,
    }
}

/// Upserts [`domain_row`]`(name, exp, seen)`: what the store made of it.
async fn upsert(s: &SqlStore, name: &str, exp: Option<i64>, seen: i64) -> Upserted {
    s.upsert_resource(&domain_row(name, exp, seen))
        .await
        .unwrap()
}

/// The rows `filter` lists, in listing order.
async fn list(s: &SqlStore, filter: ResourceFilter) -> Vec<ResourceRow> {
    s.list_resources(&filter).await.unwrap()
}

/// The names of the rows `filter` lists, in listing order.
async fn names(s: &SqlStore, filter: ResourceFilter) -> Vec<String> {
    list(s, filter).await.into_iter().map(|r| r.name).collect()
}

async fn resources_upsert_is_idempotent_and_history_kept(f: &TestDb) {
    let s = &f.store;
    assert_eq!(upsert(s, "a.cn", Some(100), 1).await, Upserted::Added);
    assert_eq!(upsert(s, "a.cn", Some(100), 2).await, Upserted::Unchanged);
    let before = s
        .get_resource("w1", ResourceKind::Domain, "a.cn")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before.last_seen_ms, 1, "an unchanged rerun writes nothing");
    assert_eq!(upsert(s, "a.cn", Some(200), 3).await, Upserted::Changed);
    upsert(s, "b.cn", None, 3).await;
    let gone = s
        .mark_gone("w1", ResourceKind::Domain, &["b.cn".into()], 4)
        .await
        .unwrap();
    assert_eq!(gone, vec!["a.cn".to_string()]);
    assert!(s
        .mark_gone("w1", ResourceKind::Domain, &["b.cn".into()], 5)
        .await
        .unwrap()
        .is_empty());
    let domains = ResourceFilter {
        kind: Some(ResourceKind::Domain),
        ..Default::default()
    };
    let live = list(s, domains).await;
    assert_eq!(
        live.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
        vec!["b.cn"]
    );
    let with_gone = ResourceFilter {
        include_gone: true,
        ..Default::default()
    };
    assert_eq!(list(s, with_gone).await.len(), 2);
    assert_eq!(upsert(s, "a.cn", Some(200), 6).await, Upserted::Changed);
    let changes = s.changes(Some("w1"), 100).await.unwrap();
    let kinds: Vec<ChangeKind> = changes
        .iter()
        .rev()
        .filter(|c| c.key == "a.cn")
        .map(|c| c.change)
        .collect();
    assert_eq!(
        kinds,
        vec![
            ChangeKind::Added,
            ChangeKind::Changed,
            ChangeKind::Gone,
            ChangeKind::Returned
        ]
    );
}

async fn filters_search_expiry_and_paging(f: &TestDb) {
    let s = &f.store;
    let mut odd = domain_row("under_score%.cn", None, 1);
    odd.name = "under_score%.cn".into();
    s.upsert_resource(&odd).await.unwrap();
    for (needle, hits) in [("_", 1), ("%", 1), ("e_s", 0), ("r_s", 1)] {
        let f = ResourceFilter {
            search: Some(needle.into()),
            ..Default::default()
        };
        assert_eq!(
            s.count_resources(&f).await.unwrap(),
            hits,
            "search {needle:?} matches literally"
        );
    }
    s.delete_resource("w1", ResourceKind::Domain, "under_score%.cn", 2)
        .await
        .unwrap();
    for (i, n) in ["alpha.com", "beta.cn", "Gamma.net", "delta.org"]
        .iter()
        .enumerate()
    {
        s.upsert_resource(&domain_row(n, Some(1000 * (i as i64 + 1)), 1))
            .await
            .unwrap();
    }
    let search = ResourceFilter {
        search: Some("GAMMA".into()),
        ..Default::default()
    };
    assert_eq!(names(s, search).await[0], "Gamma.net");
    let expiring = ResourceFilter {
        expires_before_ms: Some(2500),
        ..Default::default()
    };
    assert_eq!(names(s, expiring).await, vec!["alpha.com", "beta.cn"]);
    let page = ResourceFilter {
        limit: Some(2),
        offset: Some(1),
        ..Default::default()
    };
    assert_eq!(
        names(s, page).await,
        vec!["alpha.com", "beta.cn"],
        "ordered by name: Gamma sorts first"
    );
    assert_eq!(
        s.count_resources(&ResourceFilter::default()).await.unwrap(),
        4
    );
    let none = ResourceFilter {
        accounts: Some(vec![]),
        ..Default::default()
    };
    assert_eq!(s.count_resources(&none).await.unwrap(), 0);
}

async fn the_last_audit_entry_of_each_target_is_read_back(f: &TestDb) {
    let s = &f.store;
    let entry = |at_ms, action: &str, target: &str, outcome: &str| AuditEntry {
        id: 0,
        at_ms,
        actor: "cli:t".into(),
        action: action.into(),
        target: target.into(),
        outcome: outcome.into(),
        detail: String::new(),
        intent_id: None,
    };
    s.append_audit(&entry(1, "sync", "west", "ok"))
        .await
        .unwrap();
    s.append_audit(&entry(2, "sync", "cndns", "ok"))
        .await
        .unwrap();
    s.append_audit(&entry(3, "sync", "west", "error"))
        .await
        .unwrap();
    s.append_audit(&entry(4, "dns.add", "west", "ok"))
        .await
        .unwrap();
    let last: Vec<_> = s
        .last_audit_per_target("sync")
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.target, e.at_ms, e.outcome))
        .collect();
    assert_eq!(
        last,
        vec![
            ("cndns".to_string(), 2, "ok".to_string()),
            ("west".to_string(), 3, "error".to_string())
        ]
    );
}

async fn audit_log_is_append_only(f: &TestDb) {
    let s = &f.store;
    let id = s
        .append_audit(&AuditEntry {
            id: 0,
            at_ms: 1,
            actor: "cli:root".into(),
            action: "dns.add".into(),
            target: "w1/example.com".into(),
            outcome: "ok".into(),
            detail: "{\"id\":\"1\"}".into(),
            intent_id: None,
        })
        .await
        .unwrap();
    assert!(id > 0);
    assert_eq!(s.list_audit(10).await.unwrap()[0].action, "dns.add");
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&f.url).await.unwrap();
    assert!(sqlx::query("UPDATE audit_log SET outcome = 'forged'")
        .execute(&pool)
        .await
        .is_err());
    assert!(sqlx::query("DELETE FROM audit_log")
        .execute(&pool)
        .await
        .is_err());
    if s.backend() == "postgres" {
        assert!(sqlx::query("TRUNCATE audit_log")
            .execute(&pool)
            .await
            .is_err());
    }
    assert_eq!(s.list_audit(10).await.unwrap()[0].outcome, "ok");
}

/// An intent written before an upstream call is unfinished until an entry names it; a
/// process killed in between leaves it unfinished for good. Intents are append-only.
async fn audit_intents_stay_unfinished_until_completed(f: &TestDb) {
    let s = &f.store;
    let intent = |target: &str| AuditIntent {
        id: 0,
        at_ms: 7,
        actor: "token:ops".into(),
        action: "dns.add".into(),
        target: target.into(),
    };
    let first = s.begin_audit(&intent("w1/a.cn")).await.unwrap();
    let second = s.begin_audit(&intent("w1/b.cn")).await.unwrap();
    assert!(second > first);
    let open: Vec<(i64, String)> = s
        .unfinished_audit(10)
        .await
        .unwrap()
        .into_iter()
        .map(|i| (i.id, i.target))
        .collect();
    assert_eq!(
        open,
        vec![
            (second, "w1/b.cn".to_string()),
            (first, "w1/a.cn".to_string())
        ]
    );
    s.append_audit(&AuditEntry {
        id: 0,
        at_ms: 8,
        actor: "token:ops".into(),
        action: "dns.add".into(),
        target: "w1/a.cn".into(),
        outcome: "ok".into(),
        detail: "{}".into(),
        intent_id: Some(first),
    })
    .await
    .unwrap();
    let open = s.unfinished_audit(10).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].id, second);
    assert_eq!(s.list_audit(1).await.unwrap()[0].intent_id, Some(first));
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&f.url).await.unwrap();
    for forge in [
        "UPDATE audit_intents SET target = 'x'",
        "DELETE FROM audit_intents",
    ] {
        assert!(sqlx::query(forge).execute(&pool).await.is_err(), "{forge}");
    }
    assert_eq!(s.unfinished_audit(10).await.unwrap().len(), 1);
}

async fn tokens_hashed_scoped_and_revocable(f: &TestDb) {
    let s = &f.store;
    let (info, token) = s.create_token("ci", Scope::Operate, 5).await.unwrap();
    assert!(matches!(
        s.create_token("ci", Scope::Read, 6).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        s.verify_token(&token).await.unwrap().unwrap().scope,
        Scope::Operate
    );
    let mut forged = token.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == '0' { '1' } else { '0' });
    assert!(s.verify_token(&forged).await.unwrap().is_none());
    assert!(s.verify_token("garbage").await.unwrap().is_none());
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&f.url).await.unwrap();
    use sqlx::Row;
    let h: String = sqlx::query("SELECT secret_hash FROM api_tokens")
        .fetch_one(&pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    let secret = token.rsplit('_').next().unwrap();
    assert!(!h.contains(secret));
    assert!(s.revoke_token(&info.name).await.unwrap());
    assert!(s.verify_token(&token).await.unwrap().is_none());
    assert!(s.list_tokens().await.unwrap()[0].revoked);
}

async fn jobs_are_claimed_once_and_reclaimed_after_lease(f: &TestDb) {
    let s = &f.store;
    s.ensure_job("sync", 100).await.unwrap();
    s.ensure_job("sync", 999).await.unwrap();
    assert_eq!(
        s.claim_job("a", 50, 150).await.unwrap(),
        None,
        "not due yet"
    );
    assert_eq!(
        s.claim_job("a", 100, 200).await.unwrap().as_deref(),
        Some("sync")
    );
    assert_eq!(s.claim_job("b", 120, 220).await.unwrap(), None, "held by a");
    // a crashes; its lease runs out and b takes over.
    assert_eq!(
        s.claim_job("b", 201, 300).await.unwrap().as_deref(),
        Some("sync")
    );
    s.finish_job("sync", "a", 10_000, None).await.unwrap();
    assert_eq!(
        s.claim_job("c", 250, 350).await.unwrap(),
        None,
        "a's late finish must not release b's claim"
    );
    s.finish_job("sync", "b", 10_000, None).await.unwrap();
    assert_eq!(s.claim_job("c", 400, 500).await.unwrap(), None);
    // An instance shutting down gives its leases back: the job is due again at once,
    // for anyone, and nobody else's lease is touched.
    s.ensure_job("report", 0).await.unwrap();
    assert_eq!(
        s.claim_job("d", 600, 100_000).await.unwrap().as_deref(),
        Some("report")
    );
    assert_eq!(s.release_jobs("nobody").await.unwrap(), 0);
    assert_eq!(s.claim_job("e", 700, 800).await.unwrap(), None, "held by d");
    assert_eq!(s.release_jobs("d").await.unwrap(), 1);
    assert_eq!(
        s.claim_job("e", 700, 800).await.unwrap().as_deref(),
        Some("report")
    );
    s.finish_job("report", "e", 1_000_000, None).await.unwrap();
    assert_eq!(
        s.claim_job("c", 10_000, 10_100).await.unwrap().as_deref(),
        Some("sync")
    );
}

async fn batch_upsert_mixes_kinds_and_counts_outcomes(f: &TestDb) {
    let s = &f.store;
    let mut rows: Vec<ResourceRow> = (0..900)
        .map(|i| domain_row(&format!("d{i}.cn"), Some(i), 1))
        .collect();
    let mut server = domain_row("srv-1", None, 1);
    server.kind = ResourceKind::Server;
    rows.push(server);
    let out = s.upsert_resources(&rows).await.unwrap();
    assert_eq!(out.iter().filter(|o| **o == Upserted::Added).count(), 901);
    rows[5].data = json!({"changed": true});
    let out = s.upsert_resources(&rows).await.unwrap();
    assert_eq!(out[5], Upserted::Changed);
    assert_eq!(
        out.iter().filter(|o| **o == Upserted::Unchanged).count(),
        900
    );
    assert_eq!(
        s.count_resources(&ResourceFilter {
            kind: Some(ResourceKind::Server),
            ..Default::default()
        })
        .await
        .unwrap(),
        1
    );
}

async fn jobs_spread_to_another_polling_instance(f: &TestDb) {
    let s = &f.store;
    s.ensure_job("sync", 100).await.unwrap();
    // `owner` polling at `now_ms` for a lease until `lease_until_ms`; a deferral of
    // 100 ms throughout.
    let claim = |owner: &'static str, now_ms: i64, lease_until_ms: i64| async move {
        s.claim_job_spread(owner, now_ms, lease_until_ms, 100)
            .await
            .unwrap()
    };
    // `b` polls (nothing is due yet); `a` runs the job.
    assert_eq!(claim("b", 50, 60).await, None);
    assert_eq!(claim("a", 100, 200).await.as_deref(), Some("sync"));
    s.finish_job("sync", "a", 300, None).await.unwrap();
    assert_eq!(claim("b", 290, 295).await, None);
    // Due again: `a` ran it last and `b` polled within the deferral, so `a` leaves it...
    assert_eq!(claim("a", 300, 400).await, None, "left for b");
    // ...to `b`, who takes it.
    assert_eq!(claim("b", 301, 400).await.as_deref(), Some("sync"));
    s.finish_job("sync", "b", 500, None).await.unwrap();
    // `b` ran it last but stops polling: after the deferral `b` counts as gone and the
    // job is overdue anyway, so `a` takes it.
    assert_eq!(claim("a", 650, 700).await.as_deref(), Some("sync"));
    s.finish_job("sync", "a", 800, None).await.unwrap();
    // An instance shutting down says so: `a` alone runs its own job on time.
    assert_eq!(claim("b", 790, 795).await, None);
    s.release_jobs("b").await.unwrap();
    assert_eq!(claim("a", 800, 900).await.as_deref(), Some("sync"));
}

async fn rate_slots_are_reserved_once_across_handles(f: &TestDb) {
    let other = f.reopen().await;
    // Slots a second apart, so that no test run is slow enough to see one pass.
    let (step, tolerance) = (1_000_000, 2_000_000);
    // After a pause the schedule opens `tolerance` in the past: three slots at once.
    let (end, now) = f.store.reserve_rate("w", step, tolerance, 1).await.unwrap();
    assert!(
        (end - step - (now - tolerance)).abs() < 100_000,
        "{end} {now}"
    );
    let mut ends = vec![end];
    for i in 0..6 {
        let s: &dyn Store = if i % 2 == 0 { &other } else { &f.store };
        ends.push(s.reserve_rate("w", step, tolerance, 1).await.unwrap().0);
    }
    // Two handles, one schedule: every reservation got the next slot, none the same.
    assert!(ends.windows(2).all(|w| w[1] - w[0] == step), "{ends:?}");
    let (after_batch, _) = other.reserve_rate("w", step, tolerance, 3).await.unwrap();
    assert_eq!(after_batch, ends[6] + 3 * step);
    // Accounts have their own schedules.
    let (fresh, now) = other.reserve_rate("z", step, 0, 1).await.unwrap();
    assert!((fresh - step - now).abs() < 100_000, "{fresh} {now}");
}

async fn verified_tokens_are_trusted_briefly_and_revocation_holds(f: &TestDb) {
    let s = &f.store;
    let other = f.reopen().await;
    let (_, token) = s.create_token("api", Scope::Read, 1).await.unwrap();
    let first = std::time::Instant::now();
    assert!(s.verify_token(&token).await.unwrap().is_some());
    // Another process revokes it: this handle, which verified it a moment ago, takes it
    // on trust for at most TOKEN_TRUST without reading the database again...
    assert!(other.revoke_token("api").await.unwrap());
    let trusted = s.verify_token(&token).await.unwrap();
    if first.elapsed() < TOKEN_TRUST {
        assert!(trusted.is_some(), "served from memory, no query");
    }
    // ...and refuses it after that.
    tokio::time::sleep(TOKEN_TRUST + std::time::Duration::from_millis(50)).await;
    assert!(s.verify_token(&token).await.unwrap().is_none());
    // A revocation through the handle itself holds at once.
    let (_, token) = s.create_token("api2", Scope::Admin, 1).await.unwrap();
    assert!(s.verify_token(&token).await.unwrap().is_some());
    assert!(s.revoke_token("api2").await.unwrap());
    assert!(s.verify_token(&token).await.unwrap().is_none());
    // A wrong secret for a known id is never taken from memory.
    let wrong = format!("{}x", &token[..token.len() - 1]);
    assert!(s.verify_token(&wrong).await.unwrap().is_none());
}

async fn a_page_and_its_total_in_one_call(f: &TestDb) {
    let s = &f.store;
    let rows: Vec<ResourceRow> = (0..25)
        .map(|i| ResourceRow {
            account: "w1".into(),
            kind: ResourceKind::Domain,
            key: format!("d{i:02}.com"),
            name: format!("d{i:02}.com"),
            data: json!({"i": i}),
            expires_at_ms: Some(1000 + i),
            first_seen_ms: 1,
            last_seen_ms: 1,
            gone_at_ms: None,
        })
        .collect();
    s.upsert_resources(&rows).await.unwrap();
    let filter = |offset| ResourceFilter {
        kind: Some(ResourceKind::Domain),
        search: Some("d1".into()),
        limit: Some(4),
        offset: Some(offset),
        ..Default::default()
    };
    let (page, total) = s.page_resources(&filter(2)).await.unwrap();
    assert_eq!(total, 10, "d10..d19");
    assert_eq!(
        page.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
        ["d12.com", "d13.com", "d14.com", "d15.com"]
    );
    assert_eq!(page, s.list_resources(&filter(2)).await.unwrap());
    // Past the end: no rows, and still the total.
    let (page, total) = s.page_resources(&filter(40)).await.unwrap();
    assert!(page.is_empty());
    assert_eq!(total, 10);
    let mut none = filter(0);
    none.search = Some("zz".into());
    assert_eq!(s.page_resources(&none).await.unwrap(), (vec![], 0));
}

async fn listings_order_by_a_column_and_window_expiry(f: &TestDb) {
    let s = &f.store;
    let row = |account: &str, name: &str, exp: Option<i64>| ResourceRow {
        account: account.into(),
        kind: ResourceKind::Domain,
        key: name.into(),
        name: name.into(),
        data: json!({}),
        expires_at_ms: exp,
        first_seen_ms: 1,
        last_seen_ms: 1,
        gone_at_ms: None,
    };
    s.upsert_resources(&[
        row("b", "a.com", Some(300)),
        row("a", "b.com", Some(100)),
        row("c", "c.com", None),
        row("a", "d.com", Some(200)),
    ])
    .await
    .unwrap();
    let keys = |order, offset| async move {
        s.list_resources(&ResourceFilter {
            kind: Some(ResourceKind::Domain),
            order: Some(order),
            limit: Some(3),
            offset: Some(offset),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.key)
        .collect::<Vec<_>>()
    };
    use idcgate_store::ResourceOrder::*;
    let pages: [(_, _, &[&str]); 5] = [
        (Name { descending: true }, 0, &["d.com", "c.com", "b.com"]),
        (
            Account { descending: false },
            0,
            &["b.com", "d.com", "a.com"],
        ),
        // Never-expiring last both ways; the next page goes on where the first stopped.
        (
            Expiry { descending: false },
            0,
            &["b.com", "d.com", "a.com"],
        ),
        (Expiry { descending: true }, 0, &["a.com", "d.com", "b.com"]),
        (Expiry { descending: true }, 3, &["c.com"]),
    ];
    for (order, offset, want) in pages {
        assert_eq!(keys(order, offset).await, want, "{order:?} from {offset}");
    }
    // A window of expiry: at or after one instant, before another.
    let (page, total) = s
        .page_resources(&ResourceFilter {
            kind: Some(ResourceKind::Domain),
            expires_after_ms: Some(200),
            expires_before_ms: Some(300),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((page.len(), total), (1, 1));
    assert_eq!(page[0].key, "d.com");
    // A name prefix: exactly the names that start with it, case and all, on both
    // backends (SQLite reads it as an index range besides its LIKE).
    let rec = |key: &str, name: &str| {
        ResourceRow {
            kind: ResourceKind::DnsRecord,
            ..row("a", name, None)
        }
        .with_key(key)
    };
    s.upsert_resources(&[
        rec("z/1", "z.com www A 1.2.3.4"),
        rec("z/2", "z.com @ MX mx.z.com"),
        rec("z/3", "z.comb www A 1.2.3.4"),
        rec("z/4", "Z.com www A 1.2.3.5"),
        rec("z/5", "y.com z.com A 1.2.3.6"),
    ])
    .await
    .unwrap();
    let mut names: Vec<String> = s
        .list_resources(&ResourceFilter {
            kind: Some(ResourceKind::DnsRecord),
            name_prefix: Some("z.com ".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.key)
        .collect();
    names.sort();
    assert_eq!(names, ["z/1", "z/2"]);
}

trait WithKey {
    fn with_key(self, key: &str) -> Self;
}

impl WithKey for ResourceRow {
    fn with_key(mut self, key: &str) -> Self {
        self.key = key.into();
        self
    }
}

fn server(i: usize, lifecycle: &str, power: &str) -> ResourceRow {
    ResourceRow {
        account: "x".into(),
        kind: ResourceKind::Server,
        key: format!("{i}"),
        name: format!("vps-{i}"),
        data: json!({"lifecycle": lifecycle, "power": power}),
        expires_at_ms: None,
        first_seen_ms: 1,
        last_seen_ms: 1,
        gone_at_ms: None,
    }
}

fn zone(name: &str, records: Option<i64>) -> ResourceRow {
    ResourceRow {
        account: "w".into(),
        kind: ResourceKind::DnsZone,
        key: name.into(),
        name: name.into(),
        data: json!({"name": name, "record_count": records}),
        expires_at_ms: None,
        first_seen_ms: 1,
        last_seen_ms: 1,
        gone_at_ms: None,
    }
}

/// The states, orders and counts the servers and zones of `servers_and_zones` give.
async fn check_states_and_counts(s: &SqlStore) {
    use idcgate_store::ResourceOrder::*;
    let servers = |state: Option<&str>, order| ResourceFilter {
        kind: Some(ResourceKind::Server),
        state: state.map(String::from),
        order: Some(order),
        ..Default::default()
    };
    // A state is a lifecycle or a power state.
    assert_eq!(
        names(s, servers(Some("running"), Name { descending: false })).await,
        ["vps-1", "vps-3"]
    );
    assert_eq!(
        names(s, servers(Some("suspended"), Name { descending: false })).await,
        ["vps-2", "vps-3"]
    );
    assert!(
        names(s, servers(Some("Running"), Name { descending: false }))
            .await
            .is_empty()
    );
    // By state, ties by name, all one way or the other.
    assert_eq!(
        names(s, servers(None, Lifecycle { descending: false })).await,
        ["vps-1", "vps-4", "vps-2", "vps-3"]
    );
    assert_eq!(
        names(s, servers(None, Lifecycle { descending: true })).await,
        ["vps-3", "vps-2", "vps-4", "vps-1"]
    );
    assert_eq!(
        names(s, servers(None, Power { descending: false })).await,
        ["vps-1", "vps-3", "vps-2", "vps-4"]
    );
    let (page, total) = s
        .page_resources(&ResourceFilter {
            limit: Some(1),
            offset: Some(1),
            ..servers(Some("active"), Power { descending: true })
        })
        .await
        .unwrap();
    assert_eq!((page[0].name.as_str(), total), ("vps-1", 2));
    // Zones by record count; an unknown count below every known one.
    let zones = |descending| ResourceFilter {
        kind: Some(ResourceKind::DnsZone),
        order: Some(RecordCount { descending }),
        ..Default::default()
    };
    assert_eq!(
        names(s, zones(false)).await,
        ["c.com", "b.com", "d.com", "a.com"]
    );
    assert_eq!(
        names(s, zones(true)).await,
        ["a.com", "d.com", "b.com", "c.com"]
    );
}

async fn servers_and_zones(s: &SqlStore) {
    s.upsert_resources(&[
        server(1, "active", "running"),
        server(2, "suspended", "stopped"),
        server(3, "suspended", "running"),
        server(4, "active", "unknown"),
        zone("a.com", Some(300)),
        zone("b.com", Some(2)),
        zone("c.com", None),
        zone("d.com", Some(2)),
    ])
    .await
    .unwrap();
}

async fn servers_filtered_and_sorted_by_state_and_zones_by_record_count(f: &TestDb) {
    let s = &f.store;
    s.upsert_resources(&[server(3, "active", "stopped"), zone("a.com", Some(1))])
        .await
        .unwrap();
    // What a later sync writes is what is filtered and sorted by.
    servers_and_zones(s).await;
    check_states_and_counts(s).await;
    // A server gone is not listed in its state.
    s.mark_gone(
        "x",
        ResourceKind::Server,
        &["1".into(), "2".into(), "4".into()],
        5,
    )
    .await
    .unwrap();
    assert_eq!(
        names(
            s,
            ResourceFilter {
                kind: Some(ResourceKind::Server),
                state: Some("running".into()),
                ..Default::default()
            }
        )
        .await,
        ["vps-1"]
    );
}

async fn state_columns_are_filled_for_rows_written_before_them(f: &TestDb) {
    servers_and_zones(&f.store).await;
    // The database as schema 14 left it, with these rows in it.
    let pool = f.raw_pool().await;
    for sql in [
        "DROP INDEX resources_live_expiry",
        "DROP INDEX resources_live_account",
        "DROP INDEX audit_log_at",
        "DROP INDEX audit_intents_at",
        "DROP INDEX IF EXISTS resources_live_name_c",
        "ALTER TABLE resources DROP COLUMN lifecycle",
        "ALTER TABLE resources DROP COLUMN power",
        "ALTER TABLE resources DROP COLUMN record_count",
        "DROP TABLE zone_markers",
        "DROP TABLE product_units",
        "UPDATE meta SET value = '14' WHERE key = 'schema_version'",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    pool.close().await;
    let s = f.reopen().await;
    check_states_and_counts(&s).await;
}

async fn pages_by_expiry_run_on_past_the_resources_that_never_expire(f: &TestDb) {
    let s = &f.store;
    let rows: Vec<ResourceRow> = (0..7)
        .map(|i| domain_row(&format!("d{i}.com"), (i % 3 != 0).then_some(100 + i % 2), 1))
        .collect();
    s.upsert_resources(&rows).await.unwrap();
    use idcgate_store::ResourceOrder::Expiry;
    for (descending, whole) in [
        // Expiring ones by expiry then name; then the never-expiring by name.
        (
            false,
            [
                "d2.com", "d4.com", "d1.com", "d5.com", "d0.com", "d3.com", "d6.com",
            ],
        ),
        (
            true,
            [
                "d5.com", "d1.com", "d4.com", "d2.com", "d6.com", "d3.com", "d0.com",
            ],
        ),
    ] {
        let filter = |limit, offset| ResourceFilter {
            kind: Some(ResourceKind::Domain),
            order: Some(Expiry { descending }),
            limit,
            offset,
            ..Default::default()
        };
        assert_eq!(names(s, filter(None, None)).await, whole);
        // Every page of every size, and the totals with them.
        for size in 1..=8 {
            for offset in 0..9 {
                let (page, total) = s
                    .page_resources(&filter(Some(size), Some(offset)))
                    .await
                    .unwrap();
                let got: Vec<&str> = page.iter().map(|r| r.name.as_str()).collect();
                let want: Vec<&str> = whole
                    .iter()
                    .skip(offset as usize)
                    .take(size as usize)
                    .copied()
                    .collect();
                assert_eq!(
                    got, want,
                    "descending {descending}, size {size}, offset {offset}"
                );
                assert_eq!(total, 7);
            }
        }
    }
}

async fn audit_pages_filter_sort_and_count_with_unfinished_intents(f: &TestDb) {
    let s = &f.store;
    let entry = |at: i64, actor: &str, action: &str, target: &str, outcome: &str, detail: &str| {
        AuditEntry {
            id: 0,
            at_ms: at,
            actor: actor.into(),
            action: action.into(),
            target: target.into(),
            outcome: outcome.into(),
            detail: detail.into(),
            intent_id: None,
        }
    };
    for e in [
        entry(10, "cli:Bob", "dns.add", "w1/a.cn", "ok", "added 100%"),
        entry(
            20,
            "console:amy",
            "server.reboot",
            "x/1",
            "rate_limited",
            "slow down",
        ),
        entry(30, "token:ops", "dns.delete", "w1/b.cn", "ok", "gone"),
        entry(30, "cli:carl", "sync", "w1", "ok", "12 changes"),
    ] {
        s.append_audit(&e).await.unwrap();
    }
    // Announced, never completed: listed as unfinished, at its own time.
    s.begin_audit(&AuditIntent {
        id: 0,
        at_ms: 25,
        actor: "token:ops".into(),
        action: "dns.add".into(),
        target: "w1/c.cn".into(),
    })
    .await
    .unwrap();
    use common::page;
    let targets = |filter: AuditFilter, page: ListPage| async move {
        let (rows, total) = s.page_audit(&filter, &page).await.unwrap();
        assert_eq!(total, Some(rows.len() as i64), "one page holds them all");
        rows.into_iter().map(|e| e.target).collect::<Vec<_>>()
    };
    let all = AuditFilter::default();
    // Newest first, ties by id; the unfinished intent among them.
    assert_eq!(
        targets(all.clone(), page(None, true, None)).await,
        ["w1", "w1/b.cn", "w1/c.cn", "x/1", "w1/a.cn"]
    );
    let (rows, _) = s.page_audit(&all, &page(None, true, None)).await.unwrap();
    assert_eq!((rows[2].outcome.as_str(), rows[2].id), ("unfinished", 0));
    assert_eq!(rows[2].detail, UNFINISHED_DETAIL);
    assert!(rows[2].intent_id.is_some());
    // A column, ties by time the same way round.
    assert_eq!(
        targets(all.clone(), page(Some("actor"), false, None)).await,
        ["w1/a.cn", "w1", "x/1", "w1/c.cn", "w1/b.cn"]
    );
    assert_eq!(
        targets(all.clone(), page(Some("outcome"), true, None)).await,
        ["w1/c.cn", "x/1", "w1", "w1/b.cn", "w1/a.cn"]
    );
    // Filters: substrings ignoring ASCII case, the outcome exact, a start.
    let filtered = |actor: Option<&str>, outcome: Option<&str>, since| AuditFilter {
        actor: actor.map(String::from),
        outcome: outcome.map(String::from),
        since_ms: since,
        ..Default::default()
    };
    assert_eq!(
        targets(filtered(Some("CLI:b"), None, None), page(None, true, None)).await,
        ["w1/a.cn"]
    );
    assert_eq!(
        targets(
            filtered(Some("ops"), Some("unfinished"), None),
            page(None, true, None)
        )
        .await,
        ["w1/c.cn"]
    );
    assert_eq!(
        targets(filtered(None, Some("ok"), Some(20)), page(None, true, None)).await,
        ["w1", "w1/b.cn"]
    );
    // The search looks in the detail too, and its % is a percent sign.
    assert_eq!(
        targets(all.clone(), page(None, true, Some("100%"))).await,
        ["w1/a.cn"]
    );
    assert!(targets(all.clone(), page(None, true, Some("%x")))
        .await
        .is_empty());
    // A window of the whole, and its total; uncounted when not asked.
    let (rows, total) = s
        .page_audit(&all, &common::window(2, 3, true))
        .await
        .unwrap();
    assert_eq!(
        rows.iter().map(|e| e.target.as_str()).collect::<Vec<_>>(),
        ["x/1", "w1/a.cn"]
    );
    assert_eq!(total, Some(5));
    let uncounted = ListPage {
        count: false,
        ..page(None, true, None)
    };
    assert_eq!(s.page_audit(&all, &uncounted).await.unwrap().1, None);
    assert_eq!(s.audit_outcomes(10).await.unwrap(), ["ok", "rate_limited"]);
}
