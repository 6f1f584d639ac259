//! The conformance suite (issue 13): every "返回参考" sample of the DNSPod agent document,
//! XML and JSON (`tests/fixtures/conformance.txt`), decoded by the client, and answered
//! in the same shape by the simulator after the fixture's preparation.

use idcgate_dnspod::Sim;
use idcgate_wire::testing::{conformance, Conformance, ShapeDiff};
use serde_json::Value;

/// The second agent [`sim`] adds, the target of `User.Transfer` (ids are handed out in
/// order: the sandbox agent 423255, its three users, then this one).
const AGENT2: &str = "423259";

/// Either format, read as the client reads it (XML text becomes JSON strings).
fn parse(body: &[u8]) -> Option<Value> {
    idcgate_dnspod::client::decode(body).ok()
}

/// The client returns the whole document, status included; any `status.code` but `"1"`
/// is a refusal with `status.message`.
fn expect(sample: &Value) -> Result<Value, (String, String)> {
    let text = |p: &str| match sample.pointer(p) {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => String::new(),
    };
    match text("/status/code").as_str() {
        "1" => Ok(sample.clone()),
        code => Err((code.to_string(), text("/status/message"))),
    }
}

/// Every key of an answer is in the samples; nothing is allowed beyond them.
fn allowed(_: &ShapeDiff) -> bool {
    false
}

/// The sandbox with a second agent to transfer users to.
fn sim() -> Sim {
    let sim = Sim::sandbox();
    let (id, _) = sim.add_user("agent2@example.cn", "Agent-Two-2026", true);
    assert_eq!(id.to_string(), AGENT2, "the second agent's id moved");
    sim
}

#[tokio::test]
async fn every_document_sample() {
    let summary = conformance(&Conformance {
        sim,
        connect: idcgate_dnspod::connect,
        spec: idcgate_dnspod::spec,
        fixtures: include_str!("fixtures/conformance.txt"),
        parse,
        expect,
        allowed,
        // What dnsapi.cn sends for both formats (VENDOR-FACTS).
        content_type: "text/html;charset=UTF-8",
        answer_content_type: Some("text/html;charset=UTF-8"),
        vars: &[("agent2", AGENT2), ("user", "423256")],
    })
    .await;
    summary.assert_clean();
}
