//! The client's protections and the simulator's abuse rules.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;
use common::*;
use idcgate_core::capability::Dns;
use idcgate_core::{Error, RecordInput, RecordType};
use idcgate_dnspod::{Format, Sim};
use std::time::Duration;

#[tokio::test]
async fn auth_failure_halts_the_credentials_without_touching_the_network() {
    let sim = Sim::sandbox();
    let srv = serve(&sim).await;
    let bad = client(
        &srv,
        &[("login_token", "10001,wrong-token-value")],
        Format::Json,
    );
    let err = bad.call("Domain.List", &vec![]).await.unwrap_err();
    assert!(matches!(err, Error::Authentication { .. }), "{err:?}");
    assert!(
        !err.to_string().contains("wrong-token-value"),
        "secret leaked: {err}"
    );
    let before = sim.request_count();
    for _ in 0..5 {
        let err = bad.call("Domain.List", &vec![]).await.unwrap_err();
        assert!(matches!(err, Error::Authentication { .. }));
    }
    // A new connection with the same credentials is halted too.
    let again = client(
        &srv,
        &[("login_token", "10001,wrong-token-value")],
        Format::Xml,
    );
    let err = again
        .call("Record.Type", &params(&[("domain_grade", "DP_Free")]))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Authentication { .. }), "{err:?}");
    assert_eq!(
        sim.request_count(),
        before,
        "halted calls must not reach the upstream"
    );
    // Changed credentials are not halted.
    let good = sandbox_client(&sim, &srv, Format::Json);
    assert!(good.call("Domain.List", &vec![]).await.is_ok());
    assert_eq!(sim.request_count(), before + 1);
}

/// Some clients send `user_token` for `login_token`; the server takes either.
#[tokio::test]
async fn user_token_is_an_alias_of_login_token() {
    let sim = Sim::sandbox();
    let srv = serve(&sim).await;
    let token = SANDBOX_TOKEN;
    let (_, _, body) = raw_post(
        &srv.base_url(),
        "User.Detail",
        &format!("format=json&user_token={token}"),
    )
    .await;
    assert!(
        body.contains(r#""email":"agent@sandbox.idcgate.test""#),
        "{body}"
    );
    let (_, _, body) = raw_post(&srv.base_url(), "User.Detail", "user_token=10001,nope").await;
    assert!(body.contains("<code>-1</code>"), "{body}");
}

#[tokio::test]
async fn email_password_login_and_its_failure() {
    let sim = Sim::new();
    sim.add_user("pw@example.com", "Right-Pass-1", false);
    let srv = serve(&sim).await;
    for format in FORMATS {
        let c = client(
            &srv,
            &[
                ("login_email", "pw@example.com"),
                ("login_password", "Right-Pass-1"),
            ],
            format,
        );
        let doc = c.call("User.Detail", &vec![]).await.unwrap();
        assert_eq!(doc["info"]["user"]["email"], "pw@example.com");
    }
    let c = client(
        &srv,
        &[
            ("login_email", "pw@example.com"),
            ("login_password", "Wrong-Pass-1"),
        ],
        Format::Json,
    );
    let err = c.call("User.Detail", &vec![]).await.unwrap_err();
    assert!(
        matches!(&err, Error::Authentication { message, .. } if message.starts_with("-1 ")),
        "{err:?}"
    );
    assert!(!format!("{err:?}").contains("Wrong-Pass-1"));
}

/// A world on the fixed clock with one user (password `Right-Pass-1`), served; its token.
async fn one_user(email: &str) -> (Sim, idcgate_wire::SimServer, String) {
    let sim = fixed_sim();
    let (_, token) = sim.add_user(email, "Right-Pass-1", false);
    let srv = serve(&sim).await;
    (sim, srv, token)
}

/// The status code DNSPod answers `form` posted to User.Detail (JSON asked for).
async fn login_code(base: &str, form: &str) -> String {
    let (_, _, body) = raw_post(base, "User.Detail", form).await;
    let doc: serde_json::Value =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{body}: {e}"));
    doc["status"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn thirty_failed_logins_in_five_minutes_ban_login_for_an_hour() {
    let (sim, srv, _) = one_user("ban@example.com").await;
    let base = srv.base_url();
    let good = "format=json&login_email=ban%40example.com&login_password=Right-Pass-1";
    let bad = "format=json&login_email=ban%40example.com&login_password=nope";
    for _ in 0..30 {
        assert_eq!(login_code(&base, bad).await, "-1");
    }
    // 30 failures are tolerated; the 31st within the window bans login.
    assert_eq!(login_code(&base, good).await, "1");
    assert_eq!(login_code(&base, bad).await, "-1");
    assert_eq!(
        login_code(&base, good).await,
        "-8",
        "right password refused while banned"
    );
    sim.advance(Duration::from_secs(3599));
    assert_eq!(login_code(&base, good).await, "-8");
    sim.advance(Duration::from_secs(2));
    assert_eq!(
        login_code(&base, good).await,
        "1",
        "ban lifts after an hour"
    );
}

#[tokio::test]
async fn the_ban_is_the_accounts_whichever_way_it_logs_in() {
    let (sim, srv, token) = one_user("both@example.com").await;
    let base = srv.base_url();
    let token_id = token.split(',').next().unwrap();
    let wrong = format!("format=json&login_token={token_id},wrong");
    for _ in 0..31 {
        login_code(&base, &wrong).await;
    }
    let by_email = "format=json&login_email=both%40example.com&login_password=Right-Pass-1";
    assert_eq!(login_code(&base, by_email).await, "-8");
    // The client reads -8 as a login failure and halts these credentials.
    let c = client(&srv, &[("login_token", &token)], Format::Xml);
    let err = c.call("User.Detail", &vec![]).await.unwrap_err();
    assert!(matches!(err, Error::Authentication { .. }), "{err:?}");
    assert!(c.is_halted());
    // Other accounts are untouched.
    let (_, other) = sim.add_user("other@example.com", "Right-Pass-1", false);
    let ok = client(&srv, &[("login_token", &other)], Format::Json);
    assert!(ok.call("User.Detail", &vec![]).await.is_ok());
}

#[tokio::test]
async fn failures_spread_over_more_than_five_minutes_do_not_ban() {
    let (sim, srv, _) = one_user("slow@example.com").await;
    let base = srv.base_url();
    let form = |password: &str| {
        format!("format=json&login_email=slow%40example.com&login_password={password}")
    };
    for _ in 0..40 {
        login_code(&base, &form("x")).await;
        sim.advance(Duration::from_secs(20));
    }
    assert_eq!(login_code(&base, &form("Right-Pass-1")).await, "1");
}

#[tokio::test]
async fn no_op_modifications_lock_the_record_for_an_hour() {
    let (sim, srv, token) = one_user("noop@example.com").await;
    let base = srv.base_url();
    let auth = format!("format=json&login_token={token}");
    raw_post(&base, "Domain.Create", &format!("{auth}&domain=noop.com")).await;
    let (_, _, body) = raw_post(
        &base,
        "Record.Create",
        &format!(
            "{auth}&domain=noop.com&sub_domain=home&record_type=A&record_line_id=0&value=1.2.3.4"
        ),
    )
    .await;
    let id = body
        .split(r#""id":""#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let same = format!(
        "{auth}&domain=noop.com&record_id={id}&sub_domain=home&record_line_id=0&value=1.2.3.4"
    );
    for i in 0..5 {
        let (_, _, body) = raw_post(&base, "Record.Ddns", &same).await;
        assert!(
            body.contains(r#""code":"1""#),
            "no-op {i} still accepted: {body}"
        );
    }
    let (_, _, body) = raw_post(&base, "Record.Ddns", &same).await;
    assert!(body.contains(r#""code":"-2""#), "6th no-op locks: {body}");
    // Locked even for a real change, for an hour.
    let change = format!("{auth}&domain=noop.com&record_id={id}&sub_domain=home&record_type=A&record_line_id=0&value=5.6.7.8");
    let (_, _, body) = raw_post(&base, "Record.Modify", &change).await;
    assert!(body.contains(r#""code":"-2""#), "{body}");
    sim.advance(Duration::from_secs(3601));
    let (_, _, body) = raw_post(&base, "Record.Modify", &change).await;
    assert!(body.contains(r#""code":"1""#), "{body}");
}

#[tokio::test]
async fn the_client_does_not_send_a_modification_that_changes_nothing() {
    let sim = Sim::new();
    let (_, token) = sim.add_user("skip@example.com", "Right-Pass-1", false);
    let srv = serve(&sim).await;
    for format in FORMATS {
        let c = client(&srv, &[("login_token", &token)], format);
        let zone = format!("skip-{format:?}.com").to_lowercase();
        c.call("Domain.Create", &params(&[("domain", &zone)]))
            .await
            .unwrap();
        let input = RecordInput {
            host: "home".into(),
            rtype: RecordType::A,
            value: "1.2.3.4".into(),
            ttl: 600,
            line: None,
            priority: None,
        };
        let rec = c.create_record(&zone, &input).await.unwrap();
        let id = rec.upstream_id.clone().unwrap();
        // Ten identical updates: the server would lock the record after 5; the client
        // only reads (Record.Info) and never sends Record.Modify.
        for _ in 0..10 {
            let before = sim.request_count();
            let same = c.update_record(&zone, &id, &input).await.unwrap();
            assert_eq!(same.value, "1.2.3.4");
            assert_eq!(sim.request_count(), before + 1, "only the Record.Info read");
        }
        let raw = c
            .call(
                "Record.Ddns",
                &params(&[
                    ("domain", &zone),
                    ("record_id", &id),
                    ("sub_domain", "home"),
                    ("record_line", "默认"),
                    ("value", "1.2.3.4"),
                ]),
            )
            .await
            .unwrap();
        assert_eq!(raw["skipped"], true);
        // A real change is sent, and then the record reads back changed.
        let changed = RecordInput {
            value: "9.9.9.9".into(),
            ..input.clone()
        };
        c.update_record(&zone, &id, &changed).await.unwrap();
        let recs = c.list_records(&zone).await.unwrap();
        assert!(recs
            .iter()
            .any(|r| r.upstream_id.as_deref() == Some(id.as_str()) && r.value == "9.9.9.9"));
    }
}

#[tokio::test]
async fn d_token_code_then_remembered_cookie() {
    let sim = Sim::new();
    let (uid, token) = sim.add_user("dtoken@example.com", "Right-Pass-1", false);
    sim.enable_dtoken(uid, "totp-secret");
    let srv = serve(&sim).await;
    for format in FORMATS {
        let c = client(&srv, &[("login_token", &token)], format);
        let err = c.call("User.Detail", &vec![]).await.unwrap_err();
        assert!(
            matches!(&err, Error::Authentication { message, .. } if message.starts_with("50 ")),
            "{err:?}"
        );
        assert!(c.is_halted());
        c.set_login_code("000000x");
        let err = c.call("User.Detail", &vec![]).await.unwrap_err();
        assert!(
            matches!(&err, Error::Authentication { message, .. } if message.starts_with("52 ")),
            "{err:?}"
        );
        c.set_login_code(&sim.dtoken_code(uid).unwrap());
        c.call("User.Detail", &vec![]).await.unwrap();
        let cookie = c.remembered_cookie().unwrap();
        assert!(cookie.starts_with(&format!("t{uid}=")), "{cookie}");
        // Later calls need no code: the cookie is sent.
        c.call("User.Detail", &vec![]).await.unwrap();
        // And a new connection restores it from the credential.
        let again = client(
            &srv,
            &[("login_token", &token), ("d_token_cookie", &cookie)],
            format,
        );
        again.call("Domain.List", &vec![]).await.unwrap();
    }
}

#[tokio::test]
async fn post_only_and_user_agent_required() {
    let sim = Sim::sandbox();
    let srv = serve(&sim).await;
    let body = raw_get(&srv.base_url(), "Domain.List").await;
    assert!(body.contains(r#""code":"2""#), "{body}");
    // A browser UA is refused.
    let http = reqwest_free_post(&srv.base_url(), "Mozilla/5.0 (Windows NT 10.0)").await;
    assert!(http.contains(r#""code":"-7""#), "{http}");
    let http = reqwest_free_post(&srv.base_url(), "").await;
    assert!(http.contains(r#""code":"-7""#), "{http}");
}

/// A Domain.List POST with a chosen User-Agent (none when empty), over a plain socket.
async fn reqwest_free_post(base: &str, ua: &str) -> String {
    let body = sandbox_json();
    socket_request(base, "POST", "/Domain.List", ua, FORM, body.as_bytes()).await
}

#[tokio::test]
async fn calls_hold_the_account_rate_limit() {
    let sim = Sim::sandbox();
    let srv = serve(&sim).await;
    let mut acct = account(&srv.base_url(), &[("login_token", SANDBOX_TOKEN)]);
    acct.rate_limit_per_sec = 5;
    // Two handles on one account share its limit.
    let c = idcgate_dnspod::connect_client(&acct, &cfg()).unwrap();
    let d = idcgate_dnspod::connect(&acct, &cfg()).unwrap();
    let started = std::time::Instant::now();
    for _ in 0..5 {
        c.call("Record.Type", &params(&[("domain_grade", "DP_Free")]))
            .await
            .unwrap();
        d.call("Record.Type", &params(&[("domain_grade", "DP_Free")]))
            .await
            .unwrap();
    }
    // A burst of 5, then 5 more at 5/s.
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn debug_output_carries_no_secret() {
    let acct = account(
        "http://127.0.0.1:9",
        &[
            ("login_email", "a@example.com"),
            ("login_password", "Very-Secret-Pw"),
            ("d_token_cookie", "t1=cookie-secret-value"),
        ],
    );
    let c = idcgate_dnspod::connect_client(&acct, &cfg()).unwrap();
    let shown = format!("{c:?} {acct:?}");
    assert!(
        !shown.contains("Very-Secret-Pw") && !shown.contains("cookie-secret-value"),
        "{shown}"
    );
}
