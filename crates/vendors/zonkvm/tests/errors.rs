//! Error paths, the envelope on the wire, and a lost answer after a committed purchase.

#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::*;
use idcgate_core::Error;
use idcgate_wire::{Simulator, WireConfig};
use std::time::Duration;

#[tokio::test]
async fn bad_key_and_disabled_api_are_authentication_errors() {
    let (sim, srv, _conn) = sandbox().await;
    let creds = vec![
        ("appid".to_string(), "10086".to_string()),
        ("appkey".to_string(), "wrong-key-123".to_string()),
    ];
    let bad = connect_with(&srv, &creds, Duration::from_secs(5));
    let err = bad.call_kv("getzones", &[]).await.unwrap_err();
    assert!(
        matches!(err, Error::Authentication { ref message, .. } if message == "权限不足"),
        "{err:?}"
    );
    sim.set_api_enabled(false);
    let good = connect_with(&srv, &sim.sandbox_credentials(), Duration::from_secs(5));
    assert!(matches!(
        good.call_kv("getzones", &[]).await,
        Err(Error::Authentication { .. })
    ));
    // The key never shows in Debug.
    assert!(!format!("{good:?}").contains("zk_sandbox"));
}

#[tokio::test]
async fn insufficient_balance_refuses_and_changes_nothing() {
    let (sim, _srv, conn) = sandbox().await;
    sim.set_balance(Money::from_fen(1_000));
    sim.set_credit(Money::from_fen(1_000));
    let (servers, ledger) = (sim.server_count(), sim.ledger().len());
    let params = server_order(&[], SMALLEST);
    let err = conn
        .call_kv("create_order#create_server", &params)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InsufficientBalance { .. }), "{err:?}");
    assert_eq!(
        (
            sim.server_count(),
            sim.ledger().len(),
            in_fen(sim.balance())
        ),
        (servers, ledger, 1_000)
    );
    // Credit counts: 29.00 fits in 10.00 balance + 20.00 credit.
    sim.set_credit(Money::from_fen(2_000));
    conn.call_kv("create_order#create_server", &params)
        .await
        .unwrap();
    assert_eq!(in_fen(sim.balance()), -1_900);
}

#[tokio::test]
async fn unknown_orders_bad_lines_and_missing_params() {
    let (_sim, srv, conn) = sandbox().await;
    for action in ["getserver", "getlease", "getidc", "gethosting", "getsql"] {
        let err = conn
            .call_kv(action, &[("guid", "99999")])
            .await
            .unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{action}: {err:?}");
    }
    // The documented prefix stripping: server_1001 is order 1001.
    assert_eq!(
        conn.call_kv("getserver", &[("guid", "server_1001")])
            .await
            .unwrap()["id"],
        1001
    );
    let err = conn
        .call_kv(
            "create_order#create_server",
            &[
                ("line_guid", "nope"),
                ("system_guid", CENTOS),
                ("content", r#"{"cpu":1,"ram":1}"#),
            ],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidInput { ref field, .. } if field == "line_guid"),
        "{err:?}"
    );
    // Missing params are refused by the client from the spec ...
    let err = conn
        .call_kv("server_setpsw", &[("guid", "1001")])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { ref field, .. } if field == "password"));
    // ... and by the simulator for a raw caller, naming the field.
    let body = raw(
        &srv.base_url(),
        "appid=10086&appkey=zk_sandbox_4f9c2a7e5b1d8c3a&action=server_setpsw&guid=1001",
    )
    .await;
    assert_eq!(
        body,
        r#"{"code":0,"msg":"缺少必要参数：password","data":"","url":"javascript:history.back(-1);","wait":3}"#
    );
    let body = raw(&srv.base_url(), "appid=10086&action=getzones").await;
    assert!(body.contains(r#""msg":"缺少必要参数""#));
    let body = raw(
        &srv.base_url(),
        "appid=10086&appkey=zk_sandbox_4f9c2a7e5b1d8c3a&action=no_such",
    )
    .await;
    assert!(body.contains(r#""msg":"请求错误""#));
    // An IIS-only operation on a BT (PHP) site is the system's refusal, in its words.
    let err = conn
        .call_kv(
            "hosting_operate#hosting_get_iis_ssl_file_list",
            &[("guid", "1")],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Upstream { ref message, .. } if message == "仅IIS环境有效"),
        "{err:?}"
    );
}

async fn raw(base: &str, body: &str) -> String {
    let resp = reqwest_post(base, body).await;
    assert_eq!(resp.0, 200, "ThinkPHP answers errors with HTTP 200");
    assert_eq!(resp.1, "application/json; charset=utf-8");
    resp.2
}

/// A plain form POST through the wire client (no vendor logic in between).
async fn reqwest_post(base: &str, body: &str) -> (u16, String, String) {
    let http = idcgate_wire::HttpClient::new(
        idcgate_core::Vendor::Zonkvm,
        &WireConfig::new("t@x"),
        0,
        Default::default(),
    )
    .unwrap();
    let req = idcgate_wire::WireRequest::form_post(
        format!("{base}/api/same/index"),
        body.to_string(),
        "utf-8",
    );
    let r = http.transmit("raw", &req).await.unwrap();
    (
        r.status,
        r.content_type,
        String::from_utf8(r.body.to_vec()).unwrap(),
    )
}

#[tokio::test]
async fn success_envelope_is_byte_faithful() {
    let (_sim, srv, _conn) = sandbox().await;
    let body = raw(
        &srv.base_url(),
        "appid=10086&appkey=zk_sandbox_4f9c2a7e5b1d8c3a&action=getzones",
    )
    .await;
    assert!(body.starts_with(r#"{"code":1,"msg":"获取成功","data":[{"status":1,"guid":"1696639073705350","name":"德阳电信","identityStatus":1,"whiteListStatus":0,"sort":111}"#), "{body}");
    assert!(body.ends_with(r#"],"url":"","wait":3}"#));
    let soft = raw(&srv.base_url(), &format!("appid=10086&appkey=zk_sandbox_4f9c2a7e5b1d8c3a&action=hosting_get_soft_find&line_guid={HOST_LINE}&sNname=phpmyadmin")).await;
    assert!(
        soft.contains(r#""url":"https:\/\/jhgf.gyhost.cn\/phpmyadmin_"#),
        "PHP escapes slashes: {soft}"
    );
}

#[tokio::test]
async fn lost_answer_after_purchase_is_unknown_outcome_and_charged_once() {
    let (sim, srv) = served().await;
    let conn = connect_with(&srv, &sim.sandbox_credentials(), Duration::from_millis(500));
    let (before, count) = (
        in_fen(sim.balance()),
        conn.list_all("getservers").await.unwrap().len(),
    );
    srv.faults.update(|f| f.drop_next = 1);
    let params = server_order(&[("order_id", "lost-1")], SMALLEST);
    let err = conn
        .call_kv("create_order#create_server", &params)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::UnknownOutcome { ref action, .. } if action == "zonkvm:create_order#create_server"),
        "{err:?}"
    );
    // Reconcile by reading: the order exists, and it was charged exactly once.
    let after = conn.list_all("getservers").await.unwrap();
    assert_eq!(after.len(), count + 1);
    assert_eq!(in_fen(sim.balance()), before - 2_900);
    let buys: Vec<_> = sim
        .ledger()
        .into_iter()
        .filter(|r| r.client_order_id == "lost-1")
        .collect();
    assert_eq!(buys.len(), 1);
    // Retrying with the same order id does not buy twice.
    let v = conn
        .call_kv("create_order#create_server", &params)
        .await
        .unwrap();
    assert_eq!(v["ids"][0], after.last().unwrap()["id"]);
    assert_eq!(in_fen(sim.balance()), before - 2_900);
}

#[tokio::test]
async fn a_malformed_answer_to_a_read_is_transport() {
    let (_sim, srv, conn) = sandbox().await;
    srv.faults.update(|f| f.malformed_next = 1);
    assert!(matches!(
        conn.call_kv("getzones", &[]).await,
        Err(Error::Transport { .. })
    ));
    assert!(Simulator::vendor(&idcgate_zonkvm::Sim::sandbox()) == idcgate_core::Vendor::Zonkvm);
}
