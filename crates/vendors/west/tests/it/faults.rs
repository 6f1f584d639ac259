//! A purchase whose answer is lost after the simulator committed it: the client says
//! UnknownOutcome, and reading the upstream finds the resource and the charge once.

use super::*;
use std::time::Duration;

async fn short_env() -> Env {
    let mut c = cfg();
    c.timeout = Duration::from_millis(800);
    env_with(Sim::sandbox(), c).await
}

#[tokio::test]
async fn lost_regdomain_answer_is_unknown_outcome_and_reconciles() {
    let e = short_env().await;
    let tid = id_of(
        &items(&e.ok("domain.gettemplatelist", &[]).await)[0],
        "templateid",
    );
    let bal = e.balance().await;
    let fin = e.sim.finance_len();
    e.srv.faults.update(|f| f.drop_next = 1);
    let err = e
        .err(
            "domain.regdomain",
            &[("domain", "lost-answer.com"), ("templateid", &tid)],
        )
        .await;
    assert!(
        matches!(err, Error::UnknownOutcome { ref action, .. } if action == "west:domain.regdomain"),
        "{err}"
    );
    let found = e
        .ok("domain.getdomains", &[("domain", "lost-answer.com")])
        .await;
    assert_eq!(items(&found).len(), 1);
    let charges: Vec<Value> = items(&e.ok("info.getfinance", &[("limit", "100")]).await)
        .into_iter()
        .filter(|r| r["memo"].as_str().unwrap().contains("lost-answer.com"))
        .collect();
    assert_eq!(charges.len(), 1);
    assert_eq!(e.balance().await, bal - Decimal::new(5500, 2));
    assert_eq!(e.sim.finance_len(), fin + 1);
}

#[tokio::test]
async fn lost_server_buy_answer_is_unknown_outcome_and_reconciles() {
    let e = short_env().await;
    let bal = e.balance().await;
    e.srv.faults.update(|f| f.drop_next = 1);
    let err = e
        .err(
            "server.buy",
            &[
                ("serverroom", "3"),
                ("os", "centos7.9"),
                ("cpu", "1"),
                ("memory", "1"),
                ("disk", "0"),
                ("bandwidth", "1"),
                ("password", "Lost2025pass"),
                ("name", "lost-one"),
            ],
        )
        .await;
    assert!(matches!(err, Error::UnknownOutcome { .. }), "{err}");
    let servers = e.conn.compute().unwrap().list_servers().await.unwrap();
    assert_eq!(servers.iter().filter(|s| s.name == "lost-one").count(), 1);
    let fin = e.ok("info.getfinance", &[]).await;
    assert_eq!(
        items(&fin)
            .iter()
            .filter(|r| r["memo"].as_str().unwrap().contains("购买云服务器"))
            .count(),
        1
    );
    assert_eq!(e.balance().await, bal - Decimal::new(5200, 2));
}

#[tokio::test]
async fn a_malformed_answer_to_a_write_is_unknown_and_to_a_read_is_transport() {
    let e = env().await;
    e.srv.faults.update(|f| f.malformed_next = 1);
    let err = e
        .err(
            "domain.modifydomain",
            &[("domain", "mybrand.net"), ("remark", "x")],
        )
        .await;
    assert!(matches!(err, Error::UnknownOutcome { .. }), "{err}");
    e.srv.faults.update(|f| f.malformed_next = 1);
    let err = e.err("info.checkbalance", &[]).await;
    assert!(matches!(err, Error::Transport { .. }), "{err}");
}
