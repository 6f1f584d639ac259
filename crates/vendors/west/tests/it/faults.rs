//! A purchase whose answer is lost after the simulator committed it: the client says
//! UnknownOutcome, and reading the upstream finds the resource and the charge once.

use super::*;
use std::time::Duration;

/// The timeout of these tests: a dropped answer fails fast.
const SHORT: Duration = Duration::from_millis(800);

async fn short_env() -> Env {
    env_with(Sim::sandbox(), testing::wire_config(SHORT)).await
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
        .err("domain.regdomain", &reg("lost-answer.com", &tid))
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
    let name = [("name", "lost-one")];
    let order = server_order("3", "centos7.9", TINY, "Lost2025pass", &name);
    let err = e.err("server.buy", &order).await;
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

/// Reads retried, short timeout: what the shared call path does with a broken answer.
async fn retrying_env() -> Env {
    env_with(Sim::sandbox(), testing::wire_config_retrying(SHORT, 2)).await
}

#[tokio::test]
async fn a_read_is_retried_after_a_500_and_after_an_unreadable_200() {
    let e = retrying_env().await;
    let want = e.balance().await;
    // A proxy's 500 page, then the real answer.
    e.srv.faults.update(|f| f.error_next = 1);
    let before = e.srv.faults.requests();
    assert_eq!(e.balance().await, want);
    assert_eq!(
        e.srv.faults.requests() - before,
        2,
        "one retry after the 500"
    );
    // A 200 whose body is cut and is not GBK JSON any more, then the real answer.
    e.srv.faults.update(|f| f.malformed_next = 1);
    let before = e.srv.faults.requests();
    let zones = e
        .ok("domain.getdnsrecords", &[("domain", "mybrand.net")])
        .await;
    assert!(!items(&zones).is_empty());
    assert_eq!(
        e.srv.faults.requests() - before,
        2,
        "one retry after the unreadable body"
    );
}

#[tokio::test]
async fn a_write_is_never_retried() {
    let e = retrying_env().await;
    let count = |v: &Value| {
        items(v)
            .iter()
            .filter(|r| r["item"] == "once" && r["value"] == "192.0.2.77")
            .count()
    };
    let add = [
        ("domain", "mybrand.net"),
        ("host", "once"),
        ("type", "A"),
        ("value", "192.0.2.77"),
    ];
    let once = [("domain", "mybrand.net"), ("host", "once")];
    // The handler commits, then the answer arrives cut: the outcome is unknown, the
    // record exists once, and the client asked once.
    e.srv.faults.update(|f| f.malformed_next = 1);
    let before = e.srv.faults.requests();
    let err = e.err("domain.adddnsrecord", &add).await;
    assert!(
        matches!(err, Error::UnknownOutcome { ref action, .. } if action == "west:domain.adddnsrecord"),
        "{err}"
    );
    assert_eq!(e.srv.faults.requests() - before, 1, "a write is sent once");
    let recs = e.ok("domain.getdnsrecord", &once).await;
    assert_eq!(count(&recs), 1, "the change happened exactly once");
    // A 500 in front of a write: sent once as well (the client cannot know nothing
    // changed, so it says so), and nothing more was added.
    e.srv.faults.update(|f| f.error_next = 1);
    let before = e.srv.faults.requests();
    let err = e
        .err(
            "domain.pausednsrecord",
            &[
                ("domain", "mybrand.net"),
                ("id", &id_of(&items(&recs)[0], "id")),
                ("val", "1"),
            ],
        )
        .await;
    assert!(matches!(err, Error::UnknownOutcome { .. }), "{err}");
    assert_eq!(e.srv.faults.requests() - before, 1, "a write is sent once");
    let recs = e.ok("domain.getdnsrecord", &once).await;
    assert_eq!(count(&recs), 1);
    assert_eq!(
        items(&recs)[0]["pause"],
        0,
        "the refused-at-the-door pause did not happen"
    );
}
