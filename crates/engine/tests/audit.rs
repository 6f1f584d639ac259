//! What the audit keeps of an operation (issue 15 item 5): its parameters with secrets
//! blanked, the upstream's answer, and a failure as a failure.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::{add_sandbox, connect_sandbox, engine_on, west};
use idcgate_core::{PowerState, RecordInput, RecordType};
use idcgate_engine::ops::ServerOp;
use idcgate_engine::sync::NoProgress;
use idcgate_engine::EngineError;
use idcgate_store::testing::TestDb;
use idcgate_store::{both_backends, AuditEntry, Scope};
use std::sync::Arc;

both_backends!(
    dns_writes_are_audited_with_their_parameters_and_answers,
    a_server_password_is_never_audited,
    revoking_a_token_that_does_not_exist_is_audited_as_a_failure,
);

fn detail(e: &AuditEntry) -> serde_json::Value {
    serde_json::from_str(&e.detail).unwrap_or_else(|err| panic!("{err}: {}", e.detail))
}

async fn last(engine: &idcgate_engine::Engine, action: &str) -> AuditEntry {
    engine
        .audit_trail(100)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.action == action)
        .unwrap_or_else(|| panic!("no {action} entry"))
}

async fn dns_writes_are_audited_with_their_parameters_and_answers(db: &TestDb) {
    let engine = engine_on(db, vec![west()]).await;
    let sim = idcgate_west::Sim::sandbox();
    let _srv = add_sandbox(&engine, "w", &sim).await;
    engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    let zone = common::first_zone(&engine).await;
    let input = RecordInput {
        host: "audited".into(),
        rtype: RecordType::Txt,
        value: "v=audit1".into(),
        ttl: 900,
        line: None,
        priority: None,
    };
    let added = engine.dns_add("cli:alice", &zone, &input).await.unwrap();
    let id = added.upstream_id.clone().unwrap();
    let entry = last(&engine, "dns.add").await;
    assert_eq!(
        (entry.outcome.as_str(), entry.actor.as_str()),
        ("ok", "cli:alice")
    );
    let d = detail(&entry);
    assert_eq!(d["params"]["zone"], zone.as_str(), "{d}");
    assert_eq!(d["params"]["record"]["host"], "audited", "{d}");
    assert_eq!(d["params"]["record"]["ttl"], 900, "{d}");
    assert_eq!(d["answer"]["upstream_id"], id.as_str(), "the answer: {d}");

    engine.dns_remove("cli:alice", &zone, &id).await.unwrap();
    let d = detail(&last(&engine, "dns.rm").await);
    assert_eq!(
        (d["params"]["id"].as_str(), d["answer"].as_str()),
        (Some(id.as_str()), Some("deleted")),
        "{d}"
    );

    // Removing it again: not found, audited so, with what was asked.
    let again = engine
        .dns_remove("cli:alice", &zone, &id)
        .await
        .unwrap_err();
    assert!(
        matches!(
            again,
            EngineError::Upstream(idcgate_core::Error::NotFound { .. })
        ),
        "{again:?}"
    );
    let entry = last(&engine, "dns.rm").await;
    assert_eq!(entry.outcome, "not_found", "{entry:?}");
    let d = detail(&entry);
    assert_eq!(d["params"]["id"], id.as_str(), "{d}");
    assert!(d["error"].as_str().unwrap().contains(&id), "{d}");
}

async fn a_server_password_is_never_audited(db: &TestDb) {
    let engine = engine_on(db, vec![west()]).await;
    let sim = idcgate_west::Sim::sandbox();
    let srv = add_sandbox(&engine, "w", &sim).await;
    engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    let conn = connect_sandbox(&west(), &sim, &srv);
    let server = conn
        .compute()
        .unwrap()
        .list_servers()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.power == PowerState::Running)
        .unwrap();
    let reference = format!("w/{}", server.upstream_id);
    let secret = "Sekret-Audit-9x!";
    let op = ServerOp::Password {
        password: secret.into(),
    };
    assert!(!format!("{op:?}").contains(secret), "{op:?}");
    engine.server_op("cli:bob", &reference, op).await.unwrap();
    let entry = last(&engine, "server.password").await;
    assert_eq!(
        (entry.outcome.as_str(), entry.target.as_str()),
        ("ok", reference.as_str())
    );
    assert!(!entry.detail.contains(secret), "{}", entry.detail);
    assert_eq!(detail(&entry)["params"]["password"], "[redacted]");

    engine
        .server_op(
            "cli:bob",
            &reference,
            ServerOp::Power(idcgate_core::PowerAction::Stop),
        )
        .await
        .unwrap();
    let d = detail(&last(&engine, "server.stop").await);
    assert_eq!(
        (d["params"]["action"].as_str(), d["answer"].as_str()),
        (Some("stop"), Some("accepted")),
        "{d}"
    );
}

async fn revoking_a_token_that_does_not_exist_is_audited_as_a_failure(db: &TestDb) {
    let engine = engine_on(db, vec![west()]).await;
    let e = engine
        .revoke_token("cli:carol", "nonexistent")
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            EngineError::Upstream(idcgate_core::Error::NotFound { .. })
        ),
        "{e:?}"
    );
    let entry = last(&engine, "token.revoke").await;
    assert_eq!(
        (
            entry.outcome.as_str(),
            entry.target.as_str(),
            entry.actor.as_str()
        ),
        ("not_found", "nonexistent", "cli:carol")
    );
    assert_eq!(detail(&entry)["params"]["id_or_name"], "nonexistent");

    let (info, _token) = engine
        .create_token("test", "ci", Scope::Read)
        .await
        .unwrap();
    let revoked = engine.revoke_token("cli:carol", "ci").await.unwrap();
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].id, info.id);
    let entry = last(&engine, "token.revoke").await;
    assert_eq!(
        (entry.outcome.as_str(), entry.target.as_str()),
        ("ok", info.id.as_str())
    );
    assert_eq!(detail(&entry)["answer"]["revoked"][0]["name"], "ci");
    // Once revoked, it is no longer there to revoke.
    assert!(engine.revoke_token("cli:carol", &info.id).await.is_err());
}
