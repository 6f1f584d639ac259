//! Users, login rules and verification codes.

mod common;

use common::*;
use idcgate_core::Error;

fn upstream_msg(e: &Error) -> &str {
    match e {
        Error::Upstream { message, .. } => message,
        other => panic!("expected an upstream error, got {other:?}"),
    }
}

async fn add(
    conn: &idcgate_xensystem::XensystemClient,
    userid: &str,
    username: &str,
    password: &str,
) -> Result<Vec<String>, Error> {
    conn.call_kv(
        "user_add",
        &[
            ("userid", userid),
            ("username", username),
            ("password", password),
            ("name", "测试用户"),
            ("email", "t@example.cn"),
            ("tel", "13700137000"),
        ],
    )
    .await
    .map(|v| fields(&v))
}

#[tokio::test]
async fn user_add_returns_the_row_id_and_enforces_name_and_password_rules() {
    let (_sim, _srv, conn) = sandbox().await;
    let row = add(&conn, "2001", "carol2026", "secret1").await.unwrap();
    assert_eq!(
        row,
        vec!["3".to_string()],
        "database row id, not the userid"
    );
    let u = conn.user_info(2001).await.unwrap();
    assert_eq!(
        (u.id, u.userid, u.username.as_str(), u.ustatus),
        (3, 2001, "carol2026", 0)
    );

    for (userid, name, pw, why) in [
        ("2002", "abcd", "secret1", "5~50"),
        ("2002", "bad_name!", "secret1", "5~50"),
        ("2002", "goodname2", "12345", "6 位"),
        ("2001", "another01", "secret1", "已存在"),
        ("2002", "CAROL2026", "secret1", "已存在"),
    ] {
        let err = add(&conn, userid, name, pw).await.unwrap_err();
        assert!(upstream_msg(&err).contains(why), "{name}: {err:?}");
    }
    assert!(matches!(
        conn.user_info(2002).await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn authentication_follows_user_status_and_records_login_ip() {
    let (_sim, _srv, conn) = sandbox().await;
    add(&conn, "2001", "carol2026", "secret1").await.unwrap();
    let v = conn
        .call_kv(
            "user_authentication",
            &[
                ("username", "carol2026"),
                ("password", "secret1"),
                ("login_ip", "1.2.3.4"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(fields(&v), vec!["2001"]);
    assert_eq!(conn.user_info(2001).await.unwrap().login_ip, "1.2.3.4");
    // By e-mail works too.
    let v = conn
        .call_kv(
            "user_authentication",
            &[("username", "t@example.cn"), ("password", "secret1")],
        )
        .await
        .unwrap();
    assert_eq!(fields(&v), vec!["2001"]);
    let err = conn
        .call_kv(
            "user_authentication",
            &[("username", "carol2026"), ("password", "wrong1")],
        )
        .await
        .unwrap_err();
    assert!(upstream_msg(&err).contains("密码错误"));

    for (status, word) in [("1", "锁定"), ("2", "禁用")] {
        conn.call_kv(
            "user_update",
            &[("id", "3"), ("userid", "2001"), ("ustatus", status)],
        )
        .await
        .unwrap();
        let err = conn
            .call_kv(
                "user_authentication",
                &[("username", "carol2026"), ("password", "secret1")],
            )
            .await
            .unwrap_err();
        assert!(upstream_msg(&err).contains(word), "{err:?}");
    }
    conn.call_kv(
        "user_update",
        &[("id", "3"), ("userid", "2001"), ("ustatus", "0")],
    )
    .await
    .unwrap();
    assert!(conn
        .call_kv(
            "user_authentication",
            &[("username", "carol2026"), ("password", "secret1")]
        )
        .await
        .is_ok());
}

#[tokio::test]
async fn locked_users_keys_stop_working() {
    let (sim, srv, conn) = sandbox().await;
    let alice = user_conn(&sim, &srv, "alice2024");
    assert!(alice.user_info(ALICE).await.is_ok());
    conn.call_kv(
        "user_update",
        &[("id", "1"), ("userid", "1001"), ("ustatus", "1")],
    )
    .await
    .unwrap();
    assert!(matches!(
        alice.user_info(ALICE).await,
        Err(Error::Authentication { .. })
    ));
}

#[tokio::test]
async fn user_update_changes_profile_and_password_with_checks() {
    let (sim, srv, conn) = sandbox().await;
    // id and userid must name the same row.
    assert!(matches!(
        conn.call_kv(
            "user_update",
            &[("id", "2"), ("userid", "1001"), ("name", "x")]
        )
        .await,
        Err(Error::NotFound { .. })
    ));
    conn.call_kv(
        "user_update",
        &[
            ("id", "1"),
            ("userid", "1001"),
            ("name", "云途新名"),
            ("tel", "13812345678"),
        ],
    )
    .await
    .unwrap();
    let u = conn.user_info(ALICE).await.unwrap();
    assert_eq!(
        (u.name.as_str(), u.tel.as_str()),
        ("云途新名", "13812345678")
    );

    let err = conn
        .call_kv(
            "user_update",
            &[
                ("id", "1"),
                ("userid", "1001"),
                ("password1", "newpass1"),
                ("password2", "newpass2"),
            ],
        )
        .await
        .unwrap_err();
    assert!(upstream_msg(&err).contains("不一致"));
    // User level must prove the old password.
    let alice = user_conn(&sim, &srv, "alice2024");
    let err = alice
        .call_kv(
            "user_update",
            &[
                ("id", "1"),
                ("userid", "1001"),
                ("password", "nope00"),
                ("password1", "newpass1"),
                ("password2", "newpass1"),
            ],
        )
        .await
        .unwrap_err();
    assert!(upstream_msg(&err).contains("原密码错误"));
    alice
        .call_kv(
            "user_update",
            &[
                ("id", "1"),
                ("userid", "1001"),
                ("password", "alice@2024"),
                ("password1", "newpass1"),
                ("password2", "newpass1"),
            ],
        )
        .await
        .unwrap();
    let v = conn
        .call_kv(
            "user_authentication",
            &[("username", "alice2024"), ("password", "newpass1")],
        )
        .await
        .unwrap();
    assert_eq!(fields(&v), vec!["1001"]);
    // User level cannot unlock or re-rank itself.
    alice
        .call_kv(
            "user_update",
            &[("id", "1"), ("userid", "1001"), ("utype", "9")],
        )
        .await
        .unwrap();
    assert_eq!(conn.user_info(ALICE).await.unwrap().utype, 0);
}

#[tokio::test]
async fn sys_config_and_verification_codes() {
    let (sim, srv, conn) = sandbox().await;
    let cfg = conn.user_sys_config(ALICE).await.unwrap();
    assert_eq!(
        (cfg.sms_vps_reload, cfg.backup_hours.as_str()),
        (1, "0,1,2,3,4,5,6")
    );
    assert!(sim.sent_verification_code(ALICE).is_none());
    conn.call_kv(
        "user_send_verification_code",
        &[("userid", "1001"), ("type", "2")],
    )
    .await
    .unwrap();
    let first = sim.sent_verification_code(ALICE).unwrap();
    assert_eq!(first.len(), 6);
    // Using the code spends it...
    let alice = user_conn(&sim, &srv, "alice2024");
    alice
        .call_kv("vm_resetps", &[("vpsid", "1"), ("vcode", &first)])
        .await
        .unwrap();
    assert!(sim.sent_verification_code(ALICE).is_none());
    // ...and at user level the command addresses the caller without userid.
    alice
        .call_kv("user_send_verification_code", &[])
        .await
        .unwrap();
    assert!(sim.sent_verification_code(ALICE).is_some());
    assert!(sim.sent_verification_code(BOB).is_none());
    assert!(matches!(
        conn.call_kv("user_send_verification_code", &[]).await,
        Err(Error::InvalidInput { ref field, .. }) if field == "userid"
    ));
}

#[tokio::test]
async fn user_delete_refuses_owners_of_vms_and_removes_others() {
    let (_sim, _srv, conn) = sandbox().await;
    let err = conn
        .call_kv("user_delete", &[("userid", "1001")])
        .await
        .unwrap_err();
    assert!(upstream_msg(&err).contains("主机"));
    assert!(conn.user_info(ALICE).await.is_ok());
    add(&conn, "2001", "carol2026", "secret1").await.unwrap();
    conn.call_kv("user_delete", &[("userid", "2001")])
        .await
        .unwrap();
    assert!(matches!(
        conn.user_info(2001).await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn a_refused_user_update_changes_nothing() {
    let (_sim, _srv, conn) = sandbox().await;
    let before = conn.user_info(ALICE).await.unwrap();
    let long_name = "名".repeat(51);
    for (key, value) in [
        ("email", "not-an-address"),
        ("name", long_name.as_str()),
        ("password2", "other99"),
    ] {
        // A valid password change and phone number ride along with one bad field.
        let mut p = vec![
            ("id", "1"),
            ("userid", "1001"),
            ("password1", "changed1"),
            ("password2", "changed1"),
            ("tel", "13000000001"),
        ];
        p.retain(|(k, _)| *k != key);
        p.push((key, value));
        let err = conn.call_kv("user_update", &p).await.unwrap_err();
        assert!(matches!(err, Error::Upstream { .. }), "{key}: {err:?}");
        assert_eq!(conn.user_info(ALICE).await.unwrap(), before, "{key}");
    }
    // The old password still logs in.
    conn.call_kv(
        "user_authentication",
        &[("username", "alice2024"), ("password", "alice@2024")],
    )
    .await
    .unwrap();
    // The document's `vcunt` and the real column name both set the VPS count.
    for key in ["vcunt", "vcount"] {
        conn.call_kv(
            "user_update",
            &[("id", "1"), ("userid", "1001"), (key, "7")],
        )
        .await
        .unwrap();
        assert_eq!(conn.user_info(ALICE).await.unwrap().vcount, 7);
        conn.call_kv(
            "user_update",
            &[("id", "1"), ("userid", "1001"), (key, "0")],
        )
        .await
        .unwrap();
    }
}
