//! The auth chapter: checksum, otime format and day, replays, the IP allow-list, and
//! secrets kept out of errors and Debug.

use super::*;

#[tokio::test]
async fn every_call_carries_a_fresh_valid_signature() {
    let e = env().await;
    // Many calls in a burst: the client never reuses an otime (10036 would refuse it).
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let conn = e.conn.clone();
            tokio::spawn(async move { conn.call("/user/userdetail", &Vec::new()).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
}

/// UserDetail's refusal for an account of `creds` on the simulator.
async fn userdetail_as(e: &Env, creds: Credentials) -> Error {
    let conn = idcgate_cndns::connect(&account(&e.srv.base_url(), creds), &testing::config());
    match conn.unwrap().call("/user/userdetail", &Vec::new()).await {
        Ok(v) => panic!("accepted: {v}"),
        Err(err) => err,
    }
}

#[tokio::test]
async fn wrong_password_is_authentication_and_hides_the_secret() {
    let e = env().await;
    let creds = Credentials::new()
        .with("username", "idcgate-demo")
        .with("api_password", "Wrong-Secret-99")
        .with("email", "demo@idcgate.invalid");
    let err = userdetail_as(&e, creds).await;
    assert!(matches!(err, Error::Authentication { .. }), "{err}");
    assert_eq!(code_of(&err), "10008");
    assert!(!err.to_string().contains("Wrong-Secret-99"));
    let shown = format!("{:?} {:?}", super::creds(&e.sim), e.sim);
    assert!(!shown.contains("Sandbox-Pass-2024"), "{shown}");
}

#[tokio::test]
async fn wrong_email_changes_the_checksum() {
    let e = env().await;
    let creds = creds(&e.sim).with("email", "other@idcgate.invalid");
    let err = userdetail_as(&e, creds).await;
    assert_eq!(code_of(&err), "10008");
}

#[tokio::test]
async fn otime_rules_stale_day_bad_format_and_replay() {
    let e = env().await;
    // Yesterday, correctly signed: 10041.
    let v = e
        .raw("/user/userdetail.aspx", &e.auth_at(&otime(-86_400_000)))
        .await;
    assert_eq!(v["status"], "failed");
    assert!(v["message"].as_str().unwrap().starts_with("10041 "), "{v}");
    // The documentation's own 8-digit examples: 10035.
    let v = e.raw("/user/userdetail.aspx", &e.auth_at("20121011")).await;
    assert!(v["message"].as_str().unwrap().starts_with("10035 "), "{v}");
    // 14 digits are accepted; the same otime twice is a replay (10036).
    let t14 = otime(0)[..14].to_string();
    let v = e.raw("/user/userdetail.aspx", &e.auth_at(&t14)).await;
    assert_eq!(v["status"], "success", "{v}");
    let v = e.raw("/user/userdetail.aspx", &e.auth_at(&t14)).await;
    assert!(v["message"].as_str().unwrap().starts_with("10036 "), "{v}");
    // Exact key order and compact JSON of the live envelope.
    let t = otime(5);
    let v = e.raw("/user/userdetail.aspx", &e.auth_at(&t)).await;
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["action", "status", "message"]);
}

#[tokio::test]
async fn the_client_maps_a_stale_day_to_authentication() {
    let e = env().await;
    // Moving the simulator a day ahead makes every client otime "not today".
    e.sim.advance(std::time::Duration::from_secs(86_400));
    let err = e.err("/user/userdetail", &[]).await;
    assert!(matches!(err, Error::Authentication { .. }), "{err}");
    assert_eq!(code_of(&err), "10041");
}

#[tokio::test]
async fn ip_not_on_the_allow_list_is_refused() {
    let e = env().await;
    e.sim.set_ip_allowlist(testing::allow(&["192.0.2.1"]));
    let err = e.err("/user/userdetail", &[]).await;
    assert!(matches!(err, Error::Authentication { .. }), "{err}");
    assert_eq!(code_of(&err), "10001");
    e.sim.set_ip_allowlist(testing::allow(&["127.0.0.1"]));
    e.ok("/user/userdetail", &[]).await;
}

#[tokio::test]
async fn missing_credentials_and_params_name_the_field() {
    let srv_sim = Sim::sandbox();
    let creds = Credentials::new()
        .with("username", "u")
        .with("api_password", "p-secret");
    let Err(err) =
        idcgate_cndns::connect(&account("http://127.0.0.1:9", creds), &testing::config())
    else {
        panic!("connect without an email must fail");
    };
    assert_field(&err, "credentials.email");
    drop(srv_sim);
    let e = env().await;
    e.refused_field(
        "/domains/addrec",
        &[("domainname", "idcgate-demo.com")],
        "rec_item",
    )
    .await;
    let err = e.err("callback", &[]).await;
    assert!(matches!(err, Error::NotImplemented { .. }), "{err}");
}

#[tokio::test]
async fn an_oversize_body_is_refused_in_the_envelope_not_read_as_empty() {
    let e = env().await;
    let t = otime(0);
    let query = form::encode(&e.auth_at(&t), Charset::Utf8);
    let url = e.url(&format!(
        "/domains/domainaudit.aspx?{query}&domainname=idcgate-demo.cn"
    ));
    // Over the 8 MiB the simulator reads: the images of a DomainAudit gone wrong.
    let body = format!("ownerpicstr={}", "A".repeat(9 << 20));
    let resp = e
        .transmit(&WireRequest::form_post(url, body, "utf-8"))
        .await;
    assert_eq!(resp.content_type, "text/html; charset=utf-8");
    let v: Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(v["action"], "Domain Document Upload", "{v}");
    assert_eq!(v["status"], "failed", "{v}");
    assert!(v["message"].as_str().unwrap().starts_with("10011 "), "{v}");
    // Refused before authentication: the otime was not spent.
    let v = e.raw("/user/userdetail.aspx", &e.auth_at(&t)).await;
    assert_eq!(v["status"], "success", "{v}");
}
