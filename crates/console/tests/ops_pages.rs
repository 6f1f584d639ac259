//! The console's inventory, DNS and server pages over real HTTP: a console router
//! served on a free port, an engine on a fresh store (both backends) with a synced West
//! simulator account, and operators of every role logged in through the real login
//! form. Changes are checked in the simulator itself (read through the account's own
//! connection, not the inventory) and in the audit log; what a role may not do is
//! refused on the server (403) and changes nothing.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::{by_id, client, refused_for_role, refused_safely, urlencode, App, Browser, OPERATORS};
use idcgate_core::{DnsRecord, ResourceKind};
use idcgate_engine::sync::{inventory_row, NoProgress};
#[allow(unused_imports)]
// the store's traits, for what a test seeds or reads behind the engine
use idcgate_store::prelude::*;
use idcgate_store::testing::TestDb;
use idcgate_store::{AuditEntry, Role};
use reqwest::StatusCode;
use std::sync::Arc;

/// The console on `db` with account `w` (a West sandbox, synced: 5 domains with
/// zones and records, 2 servers, a site, a database, a mail domain) and operators
/// `adm`, `ops`, `fin` and `view`.
async fn start(db: &TestDb) -> App {
    let app = common::start(db).await;
    let report = app
        .engine
        .sync_account("w", Arc::new(NoProgress))
        .await
        .unwrap();
    assert!(report.failed.is_empty(), "sync: {:?}", report.failed);
    app
}

const ZONE: &str = "idcgate-demo.com";

/// The zone's records as the simulator holds them, read through the account's own
/// connection (not the inventory).
async fn upstream_records(app: &App, zone: &str) -> Vec<DnsRecord> {
    let conn = app.engine.connection("w").await.unwrap();
    conn.dns().unwrap().list_records(zone).await.unwrap()
}

async fn upstream_servers(app: &App) -> Vec<idcgate_core::Server> {
    let conn = app.engine.connection("w").await.unwrap();
    conn.compute().unwrap().list_servers().await.unwrap()
}

async fn audit(app: &App) -> Vec<AuditEntry> {
    app.engine.audit_trail(10_000).await.unwrap()
}

/// The inventory id of the server named `name`.
async fn server_id(app: &App, name: &str) -> String {
    app.engine
        .reads()
        .resources(&idcgate_store::ResourceFilter {
            kind: Some(ResourceKind::Server),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.name == name)
        .unwrap()
        .key
}

fn position(body: &str, needle: &str) -> usize {
    body.find(needle)
        .unwrap_or_else(|| panic!("{needle} not on the page"))
}

async fn lists_render_search_sort_and_page(db: &TestDb) {
    let app = start(db).await;
    let view = Browser::login(&app, "view").await;
    // Every list renders in both languages with the synced inventory.
    for (path, shows) in [
        ("/domains", "mybrand.net"),
        ("/hosting", "demosite"),
        ("/databases", "demodb"),
        ("/mail", ZONE),
        ("/dns", ZONE),
        ("/dns/w/idcgate-demo.com", "203.0.113.10"),
        ("/servers", "web-01"),
    ] {
        for lang in ["en", "zh-CN"] {
            let a = view.get_in(path, lang).await;
            assert_eq!(a.status, StatusCode::OK, "{path} {lang}: {}", a.body);
            assert!(a.body.contains(shows), "{path} {lang} shows {shows}");
        }
    }
    let zh = view.get_in("/domains", "zh-CN").await.body;
    assert!(zh.contains("剩余天数") && zh.contains("自动续费"));
    let en = view.get("/domains").await.body;
    assert!(en.contains("Days left") && en.contains("Auto-renew"));
    let web = server_id(&app, "web-01").await;
    let a = view.get(&format!("/servers/w/{web}")).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(by_id(&a.body, "server-name").is_some_and(|n| n == "web-01"));
    // A viewer is offered no editor and no action.
    for (path, absent) in [
        ("/dns/w/idcgate-demo.com", "id=\"add-record\""),
        ("/dns/w/idcgate-demo.com", "id=\"refresh\""),
        (&format!("/servers/w/{web}") as &str, "id=\"action-reboot\""),
        ("/domains", "id=\"autorenew-"),
    ] {
        assert!(
            !view.get(path).await.body.contains(absent),
            "{path}: {absent}"
        );
    }
    // The empty state says what to do next.
    let certs = view.get("/certificates").await.body;
    assert!(certs.contains("Add an upstream account") && certs.contains("sync"));

    // Search, filters and sort.
    let found = view.get("/domains?q=DEMO").await.body;
    assert!(
        found.contains(ZONE) && found.contains("demo-shop.cn") && !found.contains("mybrand.net")
    );
    let soon = view.get("/domains?expiry=30").await.body;
    assert!(
        soon.contains("mybrand.net") && !soon.contains("demo-shop.cn"),
        "only mybrand.net expires within 30 days"
    );
    assert!(!view
        .get("/domains?expiry=expired")
        .await
        .body
        .contains("mybrand.net"));
    let west = view.get("/domains?vendor=west&account=w").await.body;
    assert!(west.contains("startup.xyz"));
    let by_expiry = view.get("/domains?sort=expiry").await.body;
    // mybrand.net (registered 350 days ago) expires first, blog-site.top last.
    assert!(position(&by_expiry, "mybrand.net") < position(&by_expiry, "blog-site.top"));
    let desc = view.get("/domains?sort=expiry&desc=1").await.body;
    assert!(position(&desc, "mybrand.net") > position(&desc, "blog-site.top"));
    let by_name = view.get("/domains?sort=name&desc=1").await.body;
    assert!(position(&by_name, "startup.xyz") < position(&by_name, "blog-site.top"));
    let recs = view.get("/dns/w/idcgate-demo.com?sort=type").await.body;
    assert!(
        position(&recs, "203.0.113.10") < position(&recs, "v=spf1"),
        "A before TXT"
    );
    let recs = view.get("/dns/w/idcgate-demo.com?q=spf").await.body;
    assert!(recs.contains("v=spf1") && !recs.contains("203.0.113.10"));
    let servers = view
        .get("/servers?state=running&sort=name&desc=1")
        .await
        .body;
    assert!(position(&servers, "web-01") < position(&servers, "hk-app-01"));
    assert!(!view
        .get("/servers?state=stopped")
        .await
        .body
        .contains("web-01"));
    assert!(view.get("/servers?q=hk-").await.body.contains("hk-app-01"));

    // Paging, in the store's query: 120 more domains make three pages.
    let now = idcgate_engine::now_ms();
    let rows: Vec<_> = (0..120)
        .map(|i| {
            inventory_row(
                "w",
                &idcgate_core::Domain {
                    name: format!("paged{i:03}.com"),
                    status: idcgate_core::DomainStatus::Active,
                    registered_at: None,
                    expires_at: jiff::Timestamp::from_millisecond(now + 400 * 86_400_000).ok(),
                    nameservers: vec![],
                    auto_renew: false,
                    upstream_id: None,
                },
                now,
            )
        })
        .collect();
    app.store.upsert_resources(&rows).await.unwrap();
    let p1 = view.get("/domains?q=paged").await.body;
    assert!(
        p1.contains("paged000.com") && p1.contains("paged049.com") && !p1.contains("paged050.com")
    );
    assert!(p1.contains("rel=\"next\"") && p1.contains("120 in all"));
    let p3 = view.get("/domains?q=paged&page=3").await.body;
    assert!(
        p3.contains("paged119.com") && !p3.contains("paged099.com") && !p3.contains("rel=\"next\"")
    );
    // Past the end: the last page.
    let p9 = view.get("/domains?q=paged&page=9").await.body;
    assert!(p9.contains("paged119.com"));
    // Links keep the filters.
    let f = view.get("/domains?q=paged&vendor=west").await.body;
    assert!(
        f.contains("href=\"/domains?vendor=west&amp;q=paged&amp;page=2\""),
        "pager keeps filters"
    );
}

async fn records_are_edited_in_the_upstream(db: &TestDb) {
    let app = start(db).await;
    let ops = Browser::login(&app, "ops").await;
    let zone_page = format!("/dns/w/{ZONE}");
    let page = ops.get(&zone_page).await.body;
    assert!(page.contains("id=\"add-record\"") && page.contains("id=\"refresh\""));
    // Lines are offered as the vendor names them.
    assert!(page.contains("value=\"telecom\""), "West's lines offered");

    // Add.
    let a = ops
        .post(
            &format!("{zone_page}/records"),
            &[
                ("name", "api"),
                ("type", "A"),
                ("value", "192.0.2.7"),
                ("line", ""),
                ("ttl", "600"),
                ("mx", ""),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(a.location.as_deref(), Some(zone_page.as_str()));
    assert!(a.notice.unwrap().contains("api A 192.0.2.7"));
    let added = upstream_records(&app, ZONE)
        .await
        .into_iter()
        .find(|r| r.host == "api")
        .expect("the record is in the simulator");
    assert_eq!(
        (added.value.as_str(), added.ttl, added.line.as_deref()),
        ("192.0.2.7", 600, None)
    );
    let id = added.upstream_id.clone().unwrap();
    assert!(ops.get(&zone_page).await.body.contains("192.0.2.7"));
    // A line of its own for a host that has its default one.
    let a = ops
        .post(
            &format!("{zone_page}/records"),
            &[
                ("name", "www"),
                ("type", "A"),
                ("value", "192.0.2.70"),
                ("line", "unicom"),
                ("ttl", "600"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert!(upstream_records(&app, ZONE)
        .await
        .iter()
        .any(|r| r.value == "192.0.2.70" && r.line.as_deref() == Some("unicom")));

    // Edit.
    let edit = ops.get(&format!("{zone_page}/records/{id}")).await;
    assert_eq!(edit.status, StatusCode::OK);
    assert!(edit.body.contains("id=\"save-record\"") && edit.body.contains("value=\"192.0.2.7\""));
    let a = ops
        .post(
            &format!("{zone_page}/records/{id}"),
            &[
                ("name", "api"),
                ("type", "A"),
                ("value", "192.0.2.8"),
                ("line", ""),
                ("ttl", "1200"),
                ("mx", ""),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let now: Vec<DnsRecord> = upstream_records(&app, ZONE).await;
    let edited = now.iter().find(|r| r.value == "192.0.2.8").unwrap();
    assert_eq!(
        (edited.value.as_str(), edited.ttl, edited.line.as_deref()),
        ("192.0.2.8", 1200, None)
    );
    let id = edited.upstream_id.clone().unwrap();

    // A vendor limit: West takes TTLs from 60 s. The page says so; nothing changes.
    let before = upstream_records(&app, ZONE).await;
    let a = ops
        .post(
            &format!("{zone_page}/records"),
            &[
                ("name", "low"),
                ("type", "A"),
                ("value", "192.0.2.9"),
                ("ttl", "30"),
            ],
        )
        .await;
    assert!(a.status.is_client_error(), "{}", a.status);
    assert!(
        by_id(&a.body, "error").is_some_and(|e| !e.is_empty()),
        "{}",
        a.body
    );
    assert!(
        a.body.contains(&format!("href=\"{zone_page}\"")),
        "the way back"
    );
    assert_eq!(upstream_records(&app, ZONE).await, before);

    // Disable, enable.
    let a = ops
        .post(&format!("{zone_page}/records/{id}/disable"), &[])
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let r = |rs: Vec<DnsRecord>| {
        rs.into_iter()
            .find(|r| r.upstream_id.as_deref() == Some(id.as_str()))
            .unwrap()
    };
    assert!(!r(upstream_records(&app, ZONE).await).enabled);
    assert!(ops
        .get(&zone_page)
        .await
        .body
        .contains(&format!("id=\"enable-{id}\"")));
    let a = ops
        .post(&format!("{zone_page}/records/{id}/enable"), &[])
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert!(r(upstream_records(&app, ZONE).await).enabled);

    // Delete, behind a confirmation that names the record.
    let confirm = ops.get(&format!("{zone_page}/records/{id}/delete")).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(by_id(&confirm.body, "record").is_some_and(|t| t.contains("api A 192.0.2.8")));
    assert!(confirm.body.contains("id=\"confirm\""));
    // Not from the confirmation page: refused.
    let a = ops
        .post(&format!("{zone_page}/records/{id}/delete"), &[])
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(upstream_records(&app, ZONE)
        .await
        .iter()
        .any(|r| r.value == "192.0.2.8"));
    let a = ops
        .post(
            &format!("{zone_page}/records/{id}/delete"),
            &[("confirm", &id)],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert!(!upstream_records(&app, ZONE)
        .await
        .iter()
        .any(|r| r.value == "192.0.2.8"));
    assert!(!ops.get(&zone_page).await.body.contains("192.0.2.8"));
    assert_eq!(
        ops.get(&format!("{zone_page}/records/{id}")).await.status,
        StatusCode::NOT_FOUND
    );

    // Each change audited as the operator, as it ended.
    let trail = audit(&app).await;
    for action in ["dns.add", "dns.set", "dns.disable", "dns.enable", "dns.rm"] {
        assert!(
            trail.iter().any(|e| e.action == action
                && e.actor == "console:ops"
                && e.outcome == "ok"
                && e.target.starts_with(&format!("w/{ZONE}"))),
            "{action} audited"
        );
    }
    assert!(
        trail
            .iter()
            .any(|e| e.action == "dns.add" && e.outcome != "ok"),
        "the refusal too"
    );

    // Refresh: a record deleted upstream behind idcgate's back leaves the page.
    let txt = upstream_records(&app, ZONE)
        .await
        .into_iter()
        .find(|r| r.value.starts_with("v=spf1"))
        .unwrap();
    let conn = app.engine.connection("w").await.unwrap();
    conn.dns()
        .unwrap()
        .delete_record(ZONE, txt.upstream_id.as_deref().unwrap())
        .await
        .unwrap();
    assert!(
        ops.get(&zone_page).await.body.contains("v=spf1"),
        "the inventory still has it"
    );
    let a = ops.post(&format!("{zone_page}/refresh"), &[]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert!(!ops.get(&zone_page).await.body.contains("v=spf1"));
}

async fn server_actions_go_through_their_confirmation(db: &TestDb) {
    let app = start(db).await;
    let ops = Browser::login(&app, "ops").await;
    let id = server_id(&app, "web-01").await;
    let base = format!("/servers/w/{id}");
    let page = ops.get(&base).await.body;
    for a in ["start", "stop", "reboot", "reinstall", "password"] {
        assert!(
            page.contains(&format!("id=\"action-{a}\" "))
                || page.contains(&format!("id=\"action-{a}\">")),
            "{a} offered"
        );
        let confirm = ops.get(&format!("{base}/{a}")).await;
        assert_eq!(confirm.status, StatusCode::OK, "{a}: {}", confirm.body);
        assert!(
            by_id(&confirm.body, "server").is_some_and(|n| n == "web-01"),
            "{a} names the server"
        );
        assert!(
            confirm.body.contains(&format!("w/{id}")) && confirm.body.contains("id=\"confirm\"")
        );
    }
    // Reboot through the confirmation: done upstream, audited.
    let before = audit(&app).await.len();
    let a = ops
        .post(
            &format!("{base}/reboot"),
            &[("confirm", &format!("w/{id}"))],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(a.location.as_deref(), Some(base.as_str()));
    let trail = audit(&app).await;
    assert_eq!(trail.len(), before + 1);
    let e = &trail[0];
    assert_eq!(
        (
            e.action.as_str(),
            e.target.as_str(),
            e.actor.as_str(),
            e.outcome.as_str()
        ),
        (
            "server.reboot",
            format!("w/{id}").as_str(),
            "console:ops",
            "ok"
        )
    );
    // Without the confirmation's reference: refused, nothing sent.
    let a = ops
        .post(&format!("{base}/stop"), &[("confirm", "w/other")])
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(audit(&app).await.len(), before + 1);
    // Stop: the simulator has it stopped; then a refusal the vendor gives (stopping a
    // stopped server) is a clear page, not a 500.
    let a = ops
        .post(&format!("{base}/stop"), &[("confirm", &format!("w/{id}"))])
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let s = upstream_servers(&app)
        .await
        .into_iter()
        .find(|s| s.upstream_id == id)
        .unwrap();
    assert_eq!(s.power, idcgate_core::PowerState::Stopped);
    assert!(ops
        .get("/servers?state=stopped")
        .await
        .body
        .contains("web-01"));
    let a = ops
        .post(&format!("{base}/stop"), &[("confirm", &format!("w/{id}"))])
        .await;
    assert!(
        a.status.is_client_error() || a.status == StatusCode::BAD_GATEWAY,
        "{}",
        a.status
    );
    assert!(by_id(&a.body, "error").is_some_and(|e| !e.is_empty()));
    let a = ops
        .post(&format!("{base}/start"), &[("confirm", &format!("w/{id}"))])
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);

    // Reinstall with an image the catalog offers.
    let confirm = ops.get(&format!("{base}/reinstall")).await.body;
    let image = field_in_select(&confirm, "image").expect("images offered");
    let a = ops
        .post(
            &format!("{base}/reinstall"),
            &[("confirm", &format!("w/{id}")), ("image", &image)],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert!(audit(&app)
        .await
        .iter()
        .any(|e| e.action == "server.reinstall" && e.outcome == "ok"));

    // A new password: shown once on the answer, nowhere else.
    let a = ops
        .post(
            &format!("{base}/password"),
            &[("confirm", &format!("w/{id}"))],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let password = by_id(&a.body, "new-password").unwrap();
    assert_eq!(password.len(), 20);
    assert!(
        a.set_cookies.iter().all(|c| !c.contains(&password)),
        "not in a cookie"
    );
    assert!(a.notice.is_none());
    let trail = audit(&app).await;
    assert!(trail
        .iter()
        .any(|e| e.action == "server.password" && e.outcome == "ok" && e.actor == "console:ops"));
    assert!(trail
        .iter()
        .all(|e| !e.detail.contains(&password) && !e.target.contains(&password)));
    for p in [base.as_str(), "/servers", "/audit"] {
        assert!(!ops.get(p).await.body.contains(&password), "{p}");
    }
}

/// The first option's value of select `name`.
fn field_in_select(body: &str, name: &str) -> Option<String> {
    let at = body.find(&format!("select name=\"{name}\""))?;
    let rest = &body[at..];
    let at = rest.find("option value=\"")? + 14;
    Some(rest[at..at + rest[at..].find('"')?].to_string())
}

/// What a refused form must leave as it was: the zone upstream, the servers upstream,
/// the inventory's records, the audit log, the renewal policies.
async fn snapshot(app: &App) -> (Vec<DnsRecord>, Vec<String>, i64, usize, usize) {
    let servers = upstream_servers(app)
        .await
        .into_iter()
        .map(|s| format!("{} {:?} {:?}", s.upstream_id, s.power, s.os_image))
        .collect();
    let records = app
        .engine
        .reads()
        .count_resources(&idcgate_store::ResourceFilter {
            kind: Some(ResourceKind::DnsRecord),
            ..Default::default()
        })
        .await
        .unwrap();
    let policies = app.store.renewal_policies().await.unwrap().len();
    (
        upstream_records(app, ZONE).await,
        servers,
        records,
        audit(app).await.len(),
        policies,
    )
}

async fn roles_are_enforced_on_the_server(db: &TestDb) {
    let app = start(db).await;
    let id = server_id(&app, "web-01").await;
    let rec = upstream_records(&app, ZONE)
        .await
        .into_iter()
        .find(|r| r.host == "www" && r.rtype == idcgate_core::RecordType::A)
        .unwrap();
    let rid = rec.upstream_id.unwrap();
    let zone_page = format!("/dns/w/{ZONE}");
    let server = format!("/servers/w/{id}");
    let reference = format!("w/{id}");
    for (name, role) in OPERATORS {
        let b = Browser::login(&app, name).await;
        let operate = matches!(role, Role::Admin | Role::Operator);
        let money = matches!(role, Role::Admin | Role::Finance);
        // Confirmation and edit pages are for those who may act.
        for p in [
            format!("{zone_page}/records/{rid}"),
            format!("{zone_page}/records/{rid}/delete"),
            format!("{server}/reboot"),
            format!("{server}/password"),
        ] {
            let want = if operate {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(b.get(&p).await.status, want, "{name} GET {p}");
        }
        let domains = b.get("/domains").await.body;
        assert_eq!(
            domains.contains("id=\"autorenew-mybrand.net\""),
            money,
            "{name} auto-renew switch"
        );
        let before = snapshot(&app).await;
        let mut refused: Vec<(String, Vec<(&str, &str)>)> = Vec::new();
        if !operate {
            refused.extend([
                (
                    format!("{zone_page}/records"),
                    vec![
                        ("name", "x"),
                        ("type", "A"),
                        ("value", "192.0.2.1"),
                        ("ttl", "600"),
                    ],
                ),
                (
                    format!("{zone_page}/records/{rid}"),
                    vec![
                        ("name", "www"),
                        ("type", "A"),
                        ("value", "192.0.2.1"),
                        ("ttl", "600"),
                    ],
                ),
                (
                    format!("{zone_page}/records/{rid}/delete"),
                    vec![("confirm", rid.as_str())],
                ),
                (format!("{zone_page}/records/{rid}/disable"), vec![]),
                (format!("{zone_page}/records/{rid}/enable"), vec![]),
                (format!("{zone_page}/refresh"), vec![]),
                (
                    format!("{server}/stop"),
                    vec![("confirm", reference.as_str())],
                ),
                (
                    format!("{server}/reboot"),
                    vec![("confirm", reference.as_str())],
                ),
                (
                    format!("{server}/reinstall"),
                    vec![("confirm", reference.as_str()), ("image", "centos7.9")],
                ),
                (
                    format!("{server}/password"),
                    vec![("confirm", reference.as_str())],
                ),
            ]);
        }
        if !money {
            refused.push(("/domains/w/mybrand.net/autorenew".into(), vec![("on", "1")]));
        }
        for (path, fields) in &refused {
            let a = b.post(path, fields).await;
            refused_for_role(&a, &format!("{name} POST {path}"));
            assert!(!a.body.contains("new-password"));
        }
        // Without this session's token, refused whoever sends it.
        let a = b
            .post_raw(
                &format!("{server}/reboot"),
                &[("csrf", "forged"), ("confirm", reference.as_str())],
            )
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN);
        assert_eq!(
            snapshot(&app).await,
            before,
            "{name}: refused forms changed something"
        );
        // What the role may do, it can.
        if money {
            let a = b
                .post(
                    "/domains/w/mybrand.net/autorenew",
                    &[("on", "1"), ("back", "/domains?q=my")],
                )
                .await;
            assert_eq!(a.status, StatusCode::SEE_OTHER, "{name}: {}", a.body);
            assert_eq!(a.location.as_deref(), Some("/domains?q=my"));
            let policies = app.engine.renewal_policies().await.unwrap();
            assert!(
                policies
                    .of(ResourceKind::Domain, "w", "mybrand.net")
                    .auto_renew
            );
            let a = b
                .post(
                    "/domains/w/mybrand.net/autorenew",
                    &[("on", "0"), ("back", "https://evil.example/")],
                )
                .await;
            assert_eq!(a.location.as_deref(), Some("/domains"));
            assert!(
                !app.engine
                    .renewal_policies()
                    .await
                    .unwrap()
                    .of(ResourceKind::Domain, "w", "mybrand.net")
                    .auto_renew
            );
        }
        if operate {
            let a = b
                .post(
                    &format!("{server}/reboot"),
                    &[("confirm", reference.as_str())],
                )
                .await;
            assert_eq!(a.status, StatusCode::SEE_OTHER, "{name}: {}", a.body);
        }
    }
    // Not logged in: sent to the login form, nothing done.
    let before = snapshot(&app).await;
    let anon = client();
    for p in ["/domains", "/dns", &zone_page, "/servers", &server] {
        let r = anon.get(format!("{}{p}", app.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{p}");
    }
    let r = anon
        .post(format!("{}{server}/reboot", app.base))
        .form(&[("confirm", reference.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(snapshot(&app).await, before);
}

async fn hostile_input_gets_a_clear_refusal(db: &TestDb) {
    let app = start(db).await;
    let adm = Browser::login(&app, "adm").await;
    let id = server_id(&app, "web-01").await;
    let rid = upstream_records(&app, ZONE).await[0]
        .upstream_id
        .clone()
        .unwrap();
    let zone_page = format!("/dns/w/{ZONE}");
    let reference = format!("w/{id}");
    let script = "<script>alert(1)</script>";
    let long = "x".repeat(10_000);
    let nul = "a\0b";
    let before = snapshot(&app).await;
    let add = format!("{zone_page}/records");
    let rec = |name, rtype, value, ttl, mx| {
        vec![
            ("name", name),
            ("type", rtype),
            ("value", value),
            ("ttl", ttl),
            ("mx", mx),
        ]
    };
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (add.clone(), rec("www2", "A", "192.0.2.1", "abc", "")),
        (add.clone(), rec("www2", "A", "192.0.2.1", "0", "")),
        (
            add.clone(),
            rec("www2", "A", "192.0.2.1", "99999999999", ""),
        ),
        (add.clone(), rec("www2", "A", "192.0.2.1", "-5", "")),
        (add.clone(), rec(nul, "A", "192.0.2.1", "600", "")),
        (add.clone(), rec("www2", "A", nul, "600", "")),
        (add.clone(), rec(&long, "A", "192.0.2.1", "600", "")),
        (add.clone(), rec("www2", script, "192.0.2.1", "600", "")),
        (add.clone(), rec("www2", "MX", "mx.a.com", "600", "big")),
        (
            add.clone(),
            vec![
                ("name", "www2"),
                ("type", "A"),
                ("value", "192.0.2.1"),
                ("ttl", "600"),
                ("line", nul),
            ],
        ),
        (add.clone(), rec(script, "A", "192.0.2.1", "600", "")),
        (
            "/dns/w/nope.example/records".into(),
            rec("www2", "A", "192.0.2.1", "600", ""),
        ),
        (
            format!("{zone_page}/records/{rid}"),
            rec("www", "A", "192.0.2.1", "1e9", ""),
        ),
        (
            format!("{zone_page}/records/no%20such/delete"),
            vec![("confirm", "no such")],
        ),
        (
            format!("{zone_page}/records/{rid}/delete"),
            vec![("confirm", &long)],
        ),
        ("/dns/w/nope.example/refresh".into(), vec![]),
        (
            format!("/servers/w/{id}/explode"),
            vec![("confirm", &reference)],
        ),
        (
            "/servers/w/999999/reboot".into(),
            vec![("confirm", "w/999999")],
        ),
        (
            format!("/servers/w/{id}/reinstall"),
            vec![("confirm", &reference), ("image", nul)],
        ),
        (
            format!("/servers/w/{id}/reinstall"),
            vec![("confirm", &reference), ("image", "")],
        ),
        (format!("/servers/w/{id}/reboot"), vec![("confirm", script)]),
        (
            "/domains/w/mybrand.net/autorenew".into(),
            vec![("on", script)],
        ),
        ("/domains/w/no-such.com/autorenew".into(), vec![("on", "1")]),
    ];
    for (path, fields) in &posts {
        let a = adm.post(path, fields).await;
        refused_safely(&a, path, fields, 30_000);
    }
    assert_eq!(
        snapshot(&app).await.0,
        before.0,
        "the zone upstream is as it was"
    );
    assert_eq!(
        snapshot(&app).await.1,
        before.1,
        "the servers upstream are as they were"
    );

    let gets = [
        format!("/domains?q={long}"),
        format!("/dns?q={long}"),
        format!("/servers?q={long}"),
        format!("{zone_page}?q={long}"),
        format!("/domains?q={}", urlencode(script)),
        "/domains?expiry=abc".into(),
        "/domains?expiry=-1".into(),
        "/domains?vendor=%3Cscript%3E".into(),
        "/domains?account=%00".into(),
        "/domains?page=abc".into(),
        "/domains?sort=%3Cscript%3E&desc=1".into(),
        "/servers?state=%3Cscript%3E".into(),
        "/dns?sort=records&page=99".into(),
        "/dns/w/nope.example".into(),
        "/dns/w/%00".into(),
        format!("/dns/w/{long}.com"),
        "/dns/nobody/idcgate-demo.com".into(),
        format!("{zone_page}/records/nope"),
        format!("{zone_page}/records/%3Cscript%3E/delete"),
        format!("{zone_page}?sort=ttl&page=-3"),
        "/servers/w/999999".into(),
        "/servers/%00/1".into(),
        format!("/servers/w/{id}/%3Cscript%3E"),
        "/hosting?expiry=%3Cscript%3E".into(),
    ];
    for p in &gets {
        let a = adm.get(p).await;
        let short = p.chars().take(60).collect::<String>();
        assert!(
            a.status.is_success() || a.status.is_client_error(),
            "GET {short}: {}",
            a.status
        );
        assert!(!a.body.contains("<script>alert"), "GET {short}: unescaped");
        assert!(a.body.contains("</html>"), "GET {short}: a page");
        assert!(
            a.body.len() < 60_000,
            "GET {short}: the input came back whole"
        );
    }
    assert_eq!(
        adm.get("/dns/w/nope.example").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        adm.get("/domains?expiry=abc").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        adm.get("/servers?state=bogus").await.status,
        StatusCode::BAD_REQUEST
    );
}

idcgate_store::both_backends!(
    lists_render_search_sort_and_page,
    records_are_edited_in_the_upstream,
    server_actions_go_through_their_confirmation,
    roles_are_enforced_on_the_server,
    hostile_input_gets_a_clear_refusal,
);
