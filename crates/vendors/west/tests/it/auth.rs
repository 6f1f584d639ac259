//! Auth, the envelope, encodings and the error-code mapping.

use super::*;
use std::time::Duration;

#[test]
fn token_matches_the_known_good_vector() {
    assert_eq!(
        idcgate_west::token("zhangsan", "5dh232kfg!*", "1554691950854"),
        "f17581fb2535b2a7ee4468eb3f96a2a9"
    );
}

#[tokio::test]
async fn wrong_password_is_an_authentication_error() {
    let e = env().await;
    let (u, _) = e.sim.credentials();
    let bad = idcgate_west::connect(
        &account(&e.srv.base_url(), &u, "wrong-password"),
        &testing::config(),
    )
    .unwrap();
    let err = bad
        .call("info.checkbalance", &Vec::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Authentication { ref message, .. } if message.contains("10001")),
        "{err}"
    );
    assert!(!err.to_string().contains("wrong-password"));
}

#[tokio::test]
async fn missing_auth_fields_answer_10000() {
    let e = env().await;
    let v = e
        .raw_json("/api/v2/info/?act=checkbalance", b"username=x".to_vec())
        .await;
    assert_eq!(v["result"], 500);
    assert_eq!(v["errcode"], 10000);
    assert_eq!(v["msg"], "username,time,token必传");
}

#[tokio::test]
async fn hostile_auth_fields_are_refused_without_a_panic() {
    let e = env().await;
    let (u, p) = e.sim.credentials();
    for time in [
        "-9223372036854775808",
        "9223372036854775807",
        "12abc",
        "１２３",
    ] {
        let pairs = vec![
            ("username".to_string(), u.clone()),
            ("time".into(), time.into()),
            ("token".into(), idcgate_west::token(&u, &p, time)),
        ];
        let v = e
            .raw_json("/api/v2/info/?act=checkbalance", gbk_form(&pairs))
            .await;
        assert_eq!(v["errcode"], 10001, "time={time}: {v}");
    }
    // A token signed for another user name, and a body that is not a form at all.
    let mut pairs = e.auth();
    pairs[0].1 = "someone-else".into();
    let v = e
        .raw_json("/api/v2/info/?act=checkbalance", gbk_form(&pairs))
        .await;
    assert_eq!(v["errcode"], 10001);
    let v = e
        .raw_json(
            "/api/v2/info/?act=checkbalance",
            vec![0xff, 0x25, 0x3d, 0x26, 0x81],
        )
        .await;
    assert_eq!(v["errcode"], 10000);
}

#[tokio::test]
async fn tokens_expire_after_ten_minutes() {
    let e = env().await;
    e.ok("info.checkbalance", &[]).await;
    e.sim.advance(Duration::from_secs(9 * 60));
    e.ok("info.checkbalance", &[]).await;
    e.sim.advance(Duration::from_secs(2 * 60));
    let err = e.err("info.checkbalance", &[]).await;
    assert!(
        matches!(err, Error::Authentication { ref message, .. } if message.contains("10001") && message.contains("过期")),
        "{err}"
    );
}

#[tokio::test]
async fn caller_ip_whitelist_answers_10002() {
    let e = env().await;
    e.sim.set_ip_allowlist(testing::allow(&["10.9.9.9"]));
    let err = e.err("info.checkbalance", &[]).await;
    assert!(
        matches!(err, Error::Authentication { ref message, .. } if message.contains("10002")),
        "{err}"
    );
    // The older API is behind the same whitelist.
    let err = e
        .err("dnsrec.list", &[("domain", "idcgate-demo.com")])
        .await;
    assert!(matches!(err, Error::Authentication { .. }), "{err}");
    e.sim.set_ip_allowlist(testing::allow(&["127.0.0.1"]));
    e.ok("info.checkbalance", &[]).await;
}

#[tokio::test]
async fn responses_are_compact_gbk_with_the_live_content_type() {
    let e = env().await;
    let mut pairs = e.auth();
    pairs.push(("act".into(), "checkword".into()));
    pairs.push(("word".into(), "赌博网站".into()));
    // act in the body, upper-case path, GBK body.
    let resp = e.raw("/API/V2/Domain/", gbk_form(&pairs)).await;
    assert_eq!(resp.content_type, "application/json; Charset=gb2312");
    assert!(
        std::str::from_utf8(&resp.body).is_err(),
        "Chinese text must be GBK, not UTF-8"
    );
    let text = Charset::Gbk.decode(&resp.body).unwrap();
    assert!(
        text.starts_with("{\"result\":200,\"clientid\":\""),
        "{text}"
    );
    assert!(
        !text.contains("\": ") && !text.contains(", \""),
        "not compact: {text}"
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["data"]["word"], "赌博网站");
    assert_eq!(v["data"]["sensitive"], 1);
    assert_eq!(v["data"]["hits"][0], "赌博");
}

/// A body over the 4 MB limit is refused in West's envelope, never read as an empty form
/// (the query alone would then have answered the balance).
#[tokio::test]
async fn an_oversize_body_is_refused_in_the_vendors_own_envelope() {
    let e = env().await;
    let mut query = e.auth();
    query.push(("act".into(), "checkbalance".into()));
    let big = format!("pad={}", "x".repeat(5 << 20)).into_bytes();
    let path = format!("/v2/info/?{}", String::from_utf8(gbk_form(&query)).unwrap());
    let v = e.raw_json(&path, big.clone()).await;
    assert_eq!(v["result"], 500, "{v}");
    assert_eq!(v["errcode"], 20000, "{v}");
    assert!(v["msg"].as_str().unwrap().starts_with("body: "), "{v}");
    assert!(v["clientid"].as_str().is_some_and(|c| !c.is_empty()), "{v}");
    // The older record API answers in its own envelope.
    let v = e.raw_json("/v2/domain/dns/?act=dnsrec.list", big).await;
    assert_eq!(v["code"], 400, "{v}");
    assert!(v["msg"].as_str().unwrap().starts_with("body: "), "{v}");
    assert_eq!(v["body"], serde_json::json!({}));
}

#[tokio::test]
async fn utf8_requests_and_the_documented_timestamp_field_are_accepted() {
    let e = env().await;
    let mut pairs: Vec<(String, String)> = e
        .auth()
        .into_iter()
        .map(|(k, v)| {
            if k == "time" {
                ("timestamp".into(), v)
            } else {
                (k, v)
            }
        })
        .collect();
    pairs.push(("word".into(), "色情内容".into()));
    let body = form::encode(&pairs, Charset::Utf8).into_bytes();
    let v = e.raw_json("/api/v2/domain/?act=checkword", body).await;
    assert_eq!(v["data"]["word"], "色情内容");
    assert_eq!(v["data"]["sensitive"], 1);
    // A harmless word is not flagged.
    let ok = e.ok("domain.checkword", &[("word", "西部数码")]).await;
    assert_eq!(ok["sensitive"], 0);
}

#[tokio::test]
async fn chinese_text_round_trips_through_gbk() {
    let e = env().await;
    let txt = "你好，西部数码！验证=中文";
    let id = id_of(
        &e.ok(
            "domain.adddnsrecord",
            &[
                ("domain", "mybrand.net"),
                ("host", "zh"),
                ("type", "TXT"),
                ("value", txt),
            ],
        )
        .await,
        "id",
    );
    let recs = e
        .ok("domain.getdnsrecords", &[("domain", "mybrand.net")])
        .await;
    let found = items(&recs)
        .into_iter()
        .find(|r| id_of(r, "id") == id)
        .unwrap();
    assert_eq!(found["value"], txt);
    let t = e
        .ok(
            "domain.createintltemplate",
            &[
                ("name", "李四"),
                ("email", "li@example.com"),
                ("phone", "02888888888"),
                ("address", "成都市武侯区"),
            ],
        )
        .await;
    let tid = id_of(&t, "templateid");
    let info = e
        .ok("domain.gettemplateinfo", &[("templateid", &tid)])
        .await;
    assert_eq!(info["name"], "李四");
    // 一为要时 in GBK is also valid UTF-8 (һΪҪʱ): the simulator must honour the
    // declared charset instead of guessing.
    let tricky = "一为要时";
    assert_eq!(
        std::str::from_utf8(&Charset::Gbk.encode(tricky)).unwrap(),
        "һΪҪʱ"
    );
    e.ok(
        "domain.modifytemplate",
        &[("templateid", &tid), ("city", tricky)],
    )
    .await;
    let info = e
        .ok("domain.gettemplateinfo", &[("templateid", &tid)])
        .await;
    assert_eq!(info["city"], tricky);
    // Text GBK cannot carry is refused before sending, naming the field, instead of
    // reaching West as an HTML character reference.
    let emoji = [("domain", "mybrand.net"), ("host", "emoji")];
    let record = [&emoji[..], &[("type", "TXT"), ("value", "ok 😀")]].concat();
    e.refused_field("domain.adddnsrecord", &record, "value")
        .await;
    e.lists_nothing("domain.getdnsrecord", &emoji).await;
    assert_eq!(info["address"], "成都市武侯区");
}

#[tokio::test]
async fn error_codes_map_to_core_errors() {
    let e = env().await;
    let field = |err: &Error| match err {
        Error::InvalidInput { field, reason } => format!("{field}|{reason}"),
        other => panic!("expected InvalidInput, got {other}"),
    };
    // 20000 invalid input (the simulator names the field)
    let f = field(&e.err("domain.getprice", &[("domain", ".nosuchtld")]).await);
    assert!(f.starts_with("domain|") && f.contains("20000"), "{f}");
    // 20102 unknown id
    assert!(
        field(&e.err("server.detail", &[("id", "999999")]).await).starts_with("id|errcode 20102")
    );
    // 20113 bad value, 20116 ttl/level, 20119 line
    for (k, v, want) in [
        ("value", "not-an-ip", "value|errcode 20113"),
        ("ttl", "30", "ttl|errcode 20116"),
        ("line", "LMARS", "line|errcode 20119"),
    ] {
        let mut kv = vec![("domain", "mybrand.net"), ("host", "x"), ("type", "A")];
        if k != "value" {
            kv.push(("value", "192.0.2.1"));
        }
        kv.push((k, v));
        let f = field(&e.err("domain.adddnsrecord", &kv).await);
        assert!(f.starts_with(want), "{f}");
    }
    // 20001 / 20112 / 20109: domain not in account or DNS not at West
    let nf = |err: Error, code: &str| {
        assert!(
            matches!(&err, Error::NotFound { what } if what.contains(code)),
            "{err}"
        )
    };
    nf(
        e.err("domain.getdnsrecords", &[("domain", "not-mine-at-all.com")])
            .await,
        "20001",
    );
    nf(
        e.err("domain.getdnsrecords", &[("domain", "baidu.com")])
            .await,
        "20112",
    );
    e.ok(
        "domain.modifydns",
        &[
            ("domain", "startup.xyz"),
            ("dns1", "ns1.other-dns.com"),
            ("dns2", "ns2.other-dns.com"),
        ],
    )
    .await;
    nf(
        e.err("domain.getdnsrecords", &[("domain", "startup.xyz")])
            .await,
        "20109",
    );
    // 20118 duplicate, 20120 deleted twice
    let kv = [
        ("domain", "mybrand.net"),
        ("host", "dup"),
        ("type", "A"),
        ("value", "192.0.2.1"),
    ];
    let id = id_of(&e.ok("domain.adddnsrecord", &kv).await, "id");
    assert_eq!(e.code("domain.adddnsrecord", &kv).await, "20118");
    let del = [("domain", "mybrand.net"), ("id", &id)];
    e.ok("domain.deldnsrecord", &del).await;
    assert_eq!(e.code("domain.deldnsrecord", &del).await, "20120");
    // 30001 / 30201: nothing found is an empty list
    let empty = e
        .ok(
            "domain.getdnsrecord",
            &[("domain", "mybrand.net"), ("host", "nothing-here")],
        )
        .await;
    assert_eq!(empty["total"], 0);
    assert!(items(&empty).is_empty());
    e.lists_nothing("domain.gettransferlist", &[]).await;
    // Insufficient balance
    let (bal, fin) = (e.balance().await, e.sim.finance_len());
    let servers = e.ok("server.list", &[]).await["total"].clone();
    let order = server_order("3", "centos7.9", HUGE, "Abc12345678", &[("month", "36")]);
    let err = e.err("server.buy", &order).await;
    assert!(matches!(err, Error::InsufficientBalance { .. }), "{err}");
    // ... and the refusal changed nothing.
    assert_eq!(e.balance().await, bal);
    assert_eq!(e.sim.finance_len(), fin);
    assert_eq!(e.ok("server.list", &[]).await["total"], servers);
}

#[tokio::test]
async fn client_checks_the_spec_before_sending() {
    let e = env().await;
    e.refused_field("domain.regdomain", &[("domain", "x.com")], "templateid")
        .await;
    e.refused_field("domain.nosuchact", &[], "action").await;
    e.refused_field(
        "server.setstatus",
        &[("id", "1"), ("status", "explode")],
        "status",
    )
    .await;
}

#[tokio::test]
async fn client_debug_and_errors_hide_the_password() {
    let acc = account("http://127.0.0.1:9", "someone", "very-secret-pw");
    let c = idcgate_west::WestClient::new(&acc, &testing::config()).unwrap();
    let shown = format!("{c:?}");
    assert!(
        shown.contains("someone") && !shown.contains("very-secret-pw"),
        "{shown}"
    );
    let err = c.call("info.checkbalance", &Vec::new()).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err}");
    assert!(!err.to_string().contains("very-secret-pw"));
}

#[tokio::test]
async fn the_token_travels_in_the_query_not_in_the_logged_body() {
    use axum::body::Bytes;
    use axum::extract::RawQuery;
    use std::sync::Mutex;
    // The wire layer logs request bodies through the redactor, which cannot know a token
    // that changes every call: the token must not be in the body.
    type Seen = Arc<Mutex<Vec<(String, Vec<u8>)>>>;
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().fallback(move |RawQuery(q): RawQuery, body: Bytes| {
        log.lock()
            .unwrap()
            .push((q.unwrap_or_default(), body.to_vec()));
        async {
            (
                [("content-type", "application/json; Charset=gb2312")],
                r#"{"result":200,"clientid":"1","data":{"id":7}}"#,
            )
        }
    });
    let base = testing::serve_app(app).await;
    let conn = idcgate_west::connect(
        &account(&base, "someone", "very-secret-pw"),
        &testing::config(),
    )
    .unwrap();
    let kv = [
        ("domain", "example.com"),
        ("host", "www"),
        ("type", "A"),
        ("value", "192.0.2.1"),
    ];
    let params = kv
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(
        conn.call("domain.adddnsrecord", &params).await.unwrap()["id"],
        7
    );
    let (query, body) = seen.lock().unwrap()[0].clone();
    let body = String::from_utf8(body).unwrap();
    assert!(
        query.starts_with("act=adddnsrecord&username=someone&time=") && query.contains("&token="),
        "{query}"
    );
    assert!(
        body.contains("domain=example.com") && body.contains("value=192.0.2.1"),
        "{body}"
    );
    for secret in ["token", "time=", "very-secret-pw"] {
        assert!(
            !body.contains(secret) && !query.contains("very-secret-pw"),
            "{secret}: {body}"
        );
    }
}
