//! Users, login rules and verification codes.

#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;
mod expect;

use common::*;
use expect::Expect;
use idcgate_core::Error;
use idcgate_xensystem::XensystemClient;
use serde_json::Value;

/// A call that must succeed.
async fn ok(conn: &XensystemClient, action: &str, params: &[(&str, &str)]) -> Value {
    conn.call_kv(action, params).await.unwrap()
}

/// Logs in through `user_authentication`.
async fn login(conn: &XensystemClient, username: &str, password: &str) -> Result<Value, Error> {
    let params = [("username", username), ("password", password)];
    conn.call_kv("user_authentication", &params).await
}

/// `user_update` of alice's row (id 1, userid 1001) with `changes`.
async fn update_alice(conn: &XensystemClient, changes: &[(&str, &str)]) -> Result<Value, Error> {
    let mut p = vec![("id", "1"), ("userid", "1001")];
    p.extend_from_slice(changes);
    conn.call_kv("user_update", &p).await
}

async fn add(
    conn: &XensystemClient,
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
        add(&conn, userid, name, pw).await.refused(why);
    }
    conn.user_info(2002).await.not_found();
}

#[tokio::test]
async fn authentication_follows_user_status_and_records_login_ip() {
    let (_sim, _srv, conn) = sandbox().await;
    add(&conn, "2001", "carol2026", "secret1").await.unwrap();
    let from = [
        ("username", "carol2026"),
        ("password", "secret1"),
        ("login_ip", "1.2.3.4"),
    ];
    let v = ok(&conn, "user_authentication", &from).await;
    assert_eq!(fields(&v), vec!["2001"]);
    assert_eq!(conn.user_info(2001).await.unwrap().login_ip, "1.2.3.4");
    // By e-mail works too.
    let v = login(&conn, "t@example.cn", "secret1").await.unwrap();
    assert_eq!(fields(&v), vec!["2001"]);
    login(&conn, "carol2026", "wrong1")
        .await
        .refused("密码错误");

    let set_status = |status: &'static str| {
        let conn = &conn;
        async move {
            let p = [("id", "3"), ("userid", "2001"), ("ustatus", status)];
            ok(conn, "user_update", &p).await;
        }
    };
    for (status, word) in [("1", "锁定"), ("2", "禁用")] {
        set_status(status).await;
        login(&conn, "carol2026", "secret1").await.refused(word);
    }
    set_status("0").await;
    assert!(login(&conn, "carol2026", "secret1").await.is_ok());
}

#[tokio::test]
async fn locked_users_keys_stop_working() {
    let (sim, srv, conn) = sandbox().await;
    let alice = user_conn(&sim, &srv, "alice2024");
    assert!(alice.user_info(ALICE).await.is_ok());
    update_alice(&conn, &[("ustatus", "1")]).await.unwrap();
    assert!(matches!(
        alice.user_info(ALICE).await,
        Err(Error::Authentication { .. })
    ));
}

#[tokio::test]
async fn user_update_changes_profile_and_password_with_checks() {
    let (sim, srv, conn) = sandbox().await;
    // id and userid must name the same row.
    let mismatched = [("id", "2"), ("userid", "1001"), ("name", "x")];
    conn.call_kv("user_update", &mismatched).await.not_found();
    let profile = [("name", "云途新名"), ("tel", "13812345678")];
    update_alice(&conn, &profile).await.unwrap();
    let u = conn.user_info(ALICE).await.unwrap();
    assert_eq!(
        (u.name.as_str(), u.tel.as_str()),
        ("云途新名", "13812345678")
    );

    let unequal = [("password1", "newpass1"), ("password2", "newpass2")];
    update_alice(&conn, &unequal).await.refused("不一致");
    // User level must prove the old password.
    let alice = user_conn(&sim, &srv, "alice2024");
    let change = |old| {
        [
            ("password", old),
            ("password1", "newpass1"),
            ("password2", "newpass1"),
        ]
    };
    update_alice(&alice, &change("nope00"))
        .await
        .refused("原密码错误");
    update_alice(&alice, &change("alice@2024")).await.unwrap();
    let v = login(&conn, "alice2024", "newpass1").await.unwrap();
    assert_eq!(fields(&v), vec!["1001"]);
    // User level cannot unlock or re-rank itself.
    update_alice(&alice, &[("utype", "9")]).await.unwrap();
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
    let to_alice = [("userid", "1001"), ("type", "2")];
    ok(&conn, "user_send_verification_code", &to_alice).await;
    let first = sim.sent_verification_code(ALICE).unwrap();
    assert_eq!(first.len(), 6);
    // Using the code spends it...
    let alice = user_conn(&sim, &srv, "alice2024");
    ok(&alice, "vm_resetps", &[("vpsid", "1"), ("vcode", &first)]).await;
    assert!(sim.sent_verification_code(ALICE).is_none());
    // ...and at user level the command addresses the caller without userid.
    ok(&alice, "user_send_verification_code", &[]).await;
    assert!(sim.sent_verification_code(ALICE).is_some());
    assert!(sim.sent_verification_code(BOB).is_none());
    conn.call_kv("user_send_verification_code", &[])
        .await
        .invalid("userid");
}

#[tokio::test]
async fn user_delete_refuses_owners_of_vms_and_removes_others() {
    let (_sim, _srv, conn) = sandbox().await;
    let alices = [("userid", "1001")];
    conn.call_kv("user_delete", &alices).await.refused("主机");
    assert!(conn.user_info(ALICE).await.is_ok());
    add(&conn, "2001", "carol2026", "secret1").await.unwrap();
    ok(&conn, "user_delete", &[("userid", "2001")]).await;
    conn.user_info(2001).await.not_found();
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
    login(&conn, "alice2024", "alice@2024").await.unwrap();
    // The document's `vcunt` and the real column name both set the VPS count.
    for key in ["vcunt", "vcount"] {
        update_alice(&conn, &[(key, "7")]).await.unwrap();
        assert_eq!(conn.user_info(ALICE).await.unwrap().vcount, 7);
        update_alice(&conn, &[(key, "0")]).await.unwrap();
    }
}

/// `vcount` is "用户所有的 VPS 数量": it follows the user's VPSs as they are created,
/// given to another user and deleted.
#[tokio::test]
async fn vcount_counts_the_users_vpss() {
    let (_sim, _srv, conn) = sandbox().await;
    let vcount = |userid| {
        let conn = &conn;
        async move { conn.user_info(userid).await.unwrap().vcount }
    };
    // The sandbox gives alice three VPSs and bob three.
    assert_eq!((vcount(ALICE).await, vcount(BOB).await), (3, 3));
    let (vpsid, _) = create_vm(&conn, "counted01", &[]).await;
    let vpsid = vpsid.to_string();
    assert_eq!(vcount(ALICE).await, 4);
    ok(&conn, "vm_update", &[("vpsid", &vpsid), ("userid", "1002")]).await;
    assert_eq!((vcount(ALICE).await, vcount(BOB).await), (3, 4));
    ok(&conn, "vm_delete", &[("vpsid", &vpsid)]).await;
    assert_eq!((vcount(ALICE).await, vcount(BOB).await), (3, 3));
}
