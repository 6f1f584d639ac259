//! What the shared simulator host brings to DNSPod: an oversize body answered in
//! DNSPod's envelope, the D令牌 cookie kept when a later check refuses the call, and
//! the clock behind `/__sim/clock`.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;
use common::*;
use idcgate_dnspod::Sim;

/// A raw form POST over a plain socket; the whole answer, headers included.
async fn post(base: &str, method: &str, body: &[u8]) -> String {
    let path = format!("/{method}");
    socket_request(base, "POST", &path, TEST_UA, FORM, body).await
}

#[tokio::test]
async fn an_oversize_body_gets_dnspods_refusal_not_an_empty_form() {
    let sim = Sim::sandbox();
    let srv = serve(&sim).await;
    let mut body = format!("{}&x=", sandbox_json()).into_bytes();
    body.resize((4 << 20) + 1024, b'a');
    let answer = post(&srv.base_url(), "Domain.List", &body).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Unread, the body cannot ask for JSON: the answer is the default XML, code 6.
    assert!(answer.contains("<code>6</code>"), "{answer}");
    assert!(answer.contains("Request too large"), "{answer}");
    assert!(
        !answer.contains("<code>-1</code>"),
        "read as an empty form: {answer}"
    );
    // A normal request afterwards is served.
    let (_, _, body) = raw_post(&srv.base_url(), "Info.Version", &sandbox_json()).await;
    assert!(body.contains(r#""message":"4.6""#), "{body}");
}

#[tokio::test]
async fn a_d_token_login_remembers_the_device_even_when_the_call_is_refused() {
    let sim = fixed_sim();
    let (uid, token) = sim.add_user("cookie@example.com", "Right-Pass-1", false);
    sim.enable_dtoken(uid, "totp-secret");
    let srv = serve(&sim).await;
    let code = sim.dtoken_code(uid).unwrap();
    // An agent method from a non-agent: refused after the login passed the D令牌.
    let form = format!("format=json&login_token={token}&login_code={code}");
    let answer = post(&srv.base_url(), "User.List", form.as_bytes()).await;
    assert!(answer.contains(r#""code":"-3""#), "{answer}");
    let cookie = format!("set-cookie: t{uid}=");
    assert!(answer.to_lowercase().contains(&cookie), "{answer}");
    // A refusal by the spec after login keeps it too.
    let code = sim.dtoken_code(uid).unwrap();
    let form = format!("format=json&login_token={token}&login_code={code}&domain_id=abc");
    let answer = post(&srv.base_url(), "Domain.Info", form.as_bytes()).await;
    assert!(answer.contains(r#""code":"6""#), "{answer}");
    assert!(answer.to_lowercase().contains(&cookie), "{answer}");
}

#[tokio::test]
async fn the_clock_endpoint_moves_the_simulators_time() {
    let sim = Sim::sandbox_at(start());
    let srv = serve(&sim).await;
    let auth = &sandbox_json();
    let (_, _, body) = raw_post(&srv.base_url(), "Info.Version", auth).await;
    assert!(body.contains("2026-01-02 11:04:05"), "{body}");
    let path = idcgate_wire::sim::CLOCK_PATH;
    let advance = br#"{"advance_secs":3600}"#;
    let answer = socket_request(
        &srv.base_url(),
        "PUT",
        path,
        TEST_UA,
        "application/json",
        advance,
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let (_, _, body) = raw_post(&srv.base_url(), "Info.Version", auth).await;
    assert!(body.contains("2026-01-02 12:04:05"), "{body}");
    // The test hook moves the same clock.
    sim.advance(std::time::Duration::from_secs(60));
    let (_, _, body) = raw_post(&srv.base_url(), "Info.Version", auth).await;
    assert!(body.contains("2026-01-02 12:05:05"), "{body}");
}
