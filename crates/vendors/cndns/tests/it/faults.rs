//! A purchase whose answer is lost after the simulator committed it: the client says
//! UnknownOutcome, and reading the upstream finds the domain and the charge once.

use super::*;
use std::time::Duration;

#[tokio::test]
async fn lost_createdom_answer_is_unknown_outcome_and_reconciles() {
    let e = env_with(
        Sim::sandbox(),
        testing::wire_config(Duration::from_millis(800)),
    )
    .await;
    let uid = list(&e.ok("/domains/contactlist", &[]).await)
        .into_iter()
        .find(|c| c["ischecked"] == "2")
        .unwrap()["userid"]
        .as_str()
        .unwrap()
        .to_string();
    let before = e.balance().await;
    e.srv.faults.update(|f| f.drop_next = 1);
    let err = e
        .err(
            "/domains/createdom",
            &createdom(&uid, "lost-answer.com", "1", "abc12345"),
        )
        .await;
    assert!(
        matches!(err, Error::UnknownOutcome { ref action, .. } if action == "cndns:/domains/createdom"),
        "{err}"
    );
    let d = e.detail("lost-answer.com").await;
    assert_eq!(d["d_dme"], "lost-answer.com");
    assert_eq!(e.balance().await, before - Decimal::new(55, 0));
    assert_eq!(e.sim.charges_mentioning("lost-answer.com").len(), 1);
}

#[tokio::test]
async fn reads_are_retried_writes_are_not() {
    let e = env_with(Sim::sandbox(), retrying_once()).await;
    e.srv.faults.update(|f| f.error_next = 1);
    e.ok("/user/userdetail", &[]).await;
    let kv = rec("idcgate-demo.com", "r", "A", "192.0.2.1");
    e.add_record_unanswered(|f| f.error_next = 1, &kv).await;
}
