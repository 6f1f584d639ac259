//! What the shared call path decides for answers the simulator never gives: a scripted
//! panel answering each command with a fixed body.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use axum::extract::State;
use axum::routing::post;
use axum::Router;
use common::*;
use idcgate_core::{Error, ServerSpec};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Answers by `Action`; counts the requests per command.
#[derive(Clone, Default)]
struct Scripted {
    answers: Arc<BTreeMap<&'static str, &'static str>>,
    hits: Arc<Mutex<BTreeMap<String, usize>>>,
}

async fn answer(State(s): State<Scripted>, body: String) -> String {
    let fields = idcgate_wire::form::decode(body.as_bytes());
    let action = idcgate_wire::form::get(&fields, "Action")
        .unwrap_or_default()
        .to_string();
    *s.hits.lock().unwrap().entry(action.clone()).or_default() += 1;
    s.answers
        .get(action.as_str())
        .copied()
        .unwrap_or("-1 未知的 API 指令")
        .to_string()
}

async fn panel(answers: &[(&'static str, &'static str)]) -> (String, Scripted) {
    let s = Scripted {
        answers: Arc::new(answers.iter().copied().collect()),
        ..Scripted::default()
    };
    let app = Router::new()
        .route("/process.aspx", post(answer))
        .with_state(s.clone());
    (idcgate_wire::testing::serve_app(app).await, s)
}

fn creds() -> Vec<(String, String)> {
    vec![
        ("identity".into(), "system".into()),
        ("api_username".into(), "XS-01".into()),
        ("api_key".into(), "k-secret-123".into()),
    ]
}

#[tokio::test]
async fn a_create_answered_without_its_id_is_an_unknown_outcome_sent_once() {
    let (url, panel) = panel(&[
        ("server_info", r#"[{"serverid":1,"groupid":1}]"#),
        ("ip_list", r#"[{"ipid":1,"ip":"10.0.0.2"}]"#),
        ("vm_create", "0"),
    ])
    .await;
    let conn = idcgate_xensystem::connect(&account(&url, &creds()), &wire(Duration::from_secs(5)))
        .unwrap();
    let spec = ServerSpec {
        name: "lostid001".into(),
        region: "1".into(),
        image: "1".into(),
        plan: Some("xs-1c1g".into()),
        owner: Some("1001".into()),
        ..ServerSpec::default()
    };
    let err = conn
        .compute()
        .unwrap()
        .create_server(&spec)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::UnknownOutcome { action, .. } if action == "xensystem:vm_create"),
        "{err:?}"
    );
    assert_eq!(panel.hits.lock().unwrap().get("vm_create"), Some(&1));
}

#[tokio::test]
async fn a_read_whose_answer_has_the_wrong_shape_is_retried_then_a_transport_error() {
    let (url, panel) = panel(&[("vm_info", r#"{"not":"a list"}"#)]).await;
    let mut cfg = wire(Duration::from_secs(5));
    cfg.read_retries = 2;
    let conn = idcgate_xensystem::XensystemClient::new(&account(&url, &creds()), &cfg).unwrap();
    let err = conn.vms().await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(panel.hits.lock().unwrap().get("vm_info"), Some(&3));
}
