//! Hostile input on both sides: requests the simulator must answer in DNSPod's envelope
//! (never a panic, a 500 or a hang), and upstream answers the client must turn into
//! errors (never a panic or a stack overflow).
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;
use common::*;
use idcgate_core::Error;
use idcgate_dnspod::{Format, Sim};
use serde_json::Value;

/// (method, form after the login token, the code DNSPod answers): out-of-range numbers,
/// broken encodings and JSON, unknown methods.
#[rustfmt::skip]
const HOSTILE: &[(&str, &str, &str)] = &[
    ("Domain.Info", "&domain=%FF%FE.com", "13"),
    ("Domain.Info", "&domain_id=-1", "6"),
    ("Domain.Info", "&domain_id=99999999999999999999999", "6"),
    ("Record.List", "&domain=sandbox-agent.cn&offset=99999999999999999999999", "7"),
    ("Record.List", "&domain=sandbox-agent.cn&offset=18446744073709551615", "10"),
    ("Record.List", "&domain=sandbox-agent.cn&length=0", "8"),
    ("Record.List", "&domain=sandbox-agent.cn&length=-1", "8"),
    ("Domain.List", "&offset=-5", "6"),
    ("Record.Info", "&domain=sandbox-agent.cn&record_id=18446744073709551616", "8"),
    ("Domain.Lock", "&domain=sandbox-agent.cn&days=99999999999999999", "9"),
    ("Batch.Record.Create", "&domain_id=1&records=%5B%7B", "6"),
    ("Batch.Detail", "&job_id=99999999999999999999", "6"),
    ("User.List", "&offset=1e9", "6"),
    ("Nope.Nope", "", "3"),
];

#[tokio::test]
async fn hostile_requests_get_a_dnspod_answer() {
    let sim = Sim::sandbox();
    let srv = serve(&sim).await;
    let base = srv.base_url();
    let auth = sandbox_json();
    let many_hosts = vec!["h"; 400].join(",");
    let many_ids = vec!["2238269"; 300].join(",");
    let oversized_batch = format!(
        "&domain_id={many_ids}&records=%5B%7B%22sub_domain%22%3A%22{many_hosts}%22%2C%22record_type%22%3A%22A%22%2C%22value%22%3A%221.1.1.1%22%7D%5D"
    );
    let cases =
        HOSTILE
            .iter()
            .copied()
            .chain([("Batch.Record.Create", oversized_batch.as_str(), "6")]);
    for (method, extra, want) in cases {
        let (status, content_type, body) = raw_post(&base, method, &format!("{auth}{extra}")).await;
        assert_eq!(status, 200, "{method}{extra}");
        assert_eq!(content_type, "text/html;charset=UTF-8");
        let doc: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{body}: {e}"));
        assert_eq!(doc["status"]["code"], want, "{method}{extra}: {body}");
    }
    // Monitor history is bounded however many hours are asked for.
    let (_, _, body) = raw_post(
        &base,
        "Monitor.Gethistory",
        &format!("{auth}&monitor_id=x&hours=99999999999999999"),
    )
    .await;
    assert!(body.contains(r#""code":"6""#), "{body}");
    // Still serving.
    let (_, _, body) = raw_post(&base, "Info.Version", &auth).await;
    assert!(body.contains(r#""message":"4.6""#), "{body}");
}

/// Values with XML metacharacters, CDATA terminators and non-ASCII text round-trip
/// through the simulator's XML and the client's parser unchanged.
#[tokio::test]
async fn awkward_values_round_trip_in_both_formats() {
    let sim = Sim::sandbox();
    let srv = serve(&sim).await;
    for format in FORMATS {
        let c = sandbox_client(&sim, &srv, format);
        let value = format!("v=x <a>&amp; ]]> \"q\" '{format:?}' 中文");
        let created = c
            .call(
                "Record.Create",
                &params(&[
                    ("domain", "sandbox-agent.cn"),
                    ("sub_domain", "odd"),
                    ("record_type", "TXT"),
                    ("record_line", "默认"),
                    ("value", &value),
                ]),
            )
            .await
            .unwrap();
        let id = created["record"]["id"].as_str().unwrap().to_string();
        let remark = "备注 <b> & ]]>";
        c.call(
            "Record.Remark",
            &params(&[
                ("domain", "sandbox-agent.cn"),
                ("record_id", &id),
                ("remark", remark),
            ]),
        )
        .await
        .unwrap();
        let info = c
            .call(
                "Record.Info",
                &params(&[("domain", "sandbox-agent.cn"), ("record_id", &id)]),
            )
            .await
            .unwrap();
        assert_eq!(info["record"]["value"], value.as_str(), "{format:?}");
        assert_eq!(info["record"]["remark"], remark, "{format:?}");
    }
}

/// Serves `body` as the answer to every request, on a plain socket.
async fn fake_upstream(body: Vec<u8>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let _ = s.read(&mut buf).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html;charset=UTF-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(head.as_bytes()).await;
                let _ = s.write_all(&body).await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn hostile_answers_are_errors_not_crashes() {
    let deep = format!(
        "<?xml version=\"1.0\"?><dnspod>{}{}</dnspod>",
        "<a>".repeat(100_000),
        "</a>".repeat(100_000)
    );
    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let bodies: Vec<Vec<u8>> = vec![
        deep.into_bytes(),
        deep_json.into_bytes(),
        b"\xff\xfe<dnspod></dnspod>".to_vec(),
        b"<dnspod><status><code>1</code>".to_vec(),
        br#"{"status":{"message":"no code"}}"#.to_vec(),
        br#"{"status":"1"}"#.to_vec(),
        b"<html><body>502 Bad Gateway</body></html>".to_vec(),
        Vec::new(),
    ];
    for body in bodies {
        let shown = String::from_utf8_lossy(&body[..body.len().min(40)]).to_string();
        let base = fake_upstream(body).await;
        for format in [Format::Json, Format::Xml] {
            let acct = account(&base, &[("login_token", "1,robustness-secret")]);
            let c = idcgate_dnspod::connect_client(&acct, &cfg())
                .unwrap()
                .with_format(format);
            let err = c.call("Domain.List", &vec![]).await.unwrap_err();
            assert!(matches!(err, Error::Transport { .. }), "{shown}: {err:?}");
            let err = c
                .call("Domain.Create", &params(&[("domain", "x.com")]))
                .await
                .unwrap_err();
            assert!(
                matches!(err, Error::UnknownOutcome { .. }),
                "{shown}: {err:?}"
            );
            assert!(!c.is_halted(), "a broken answer is not a login failure");
        }
    }
    // A status code in an answer the client can read is honoured whatever its type.
    let base = fake_upstream(br#"{"status":{"code":-1,"message":"Login fail"}}"#.to_vec()).await;
    let acct = account(&base, &[("login_token", "2,robustness-secret")]);
    let c = idcgate_dnspod::connect_client(&acct, &cfg()).unwrap();
    let err = c.call("Domain.List", &vec![]).await.unwrap_err();
    assert!(matches!(err, Error::Authentication { .. }), "{err:?}");
    assert!(!format!("{err:?}").contains("robustness-secret"));
}

/// Methods that number each bad parameter answer that parameter's own code for a value
/// outside its list or a missing one, not the generic 6 (catalog: User.Create 6-15,
/// Monitor.Create/Modify 8-22); the client reads the code back as that field.
#[tokio::test]
async fn each_method_answers_its_own_code_for_a_bad_parameter() {
    let sim = Sim::sandbox();
    let srv = serve(&sim).await;
    let base = srv.base_url();
    let auth = sandbox_json();
    let user =
        "&email=n%40example.cn&password=Secret-123&telephone=13700001234&ip_addr=198.51.100.9";
    let monitor =
        "&domain_id=1&record_id=1&port=80&host=a.cn&monitor_path=%2F&points=ctc&bak_ip=pass";
    for (method, extra, want) in [
        ("User.Create", format!("{user}&user_type=company&real_name=x"), "9"),
        ("User.Create", format!("{user}&user_type=personal"), "10"),
        ("User.Create", format!("{user}&user_type=personal&real_name="), "10"),
        ("Monitor.Create", format!("{monitor}&monitor_type=http&monitor_interval=90"), "12"),
        ("Monitor.Create", format!("{monitor}&monitor_type=ftp&monitor_interval=60"), "10"),
        ("Monitor.Modify", "&monitor_id=x&port=80&monitor_path=%2F&points=ctc&bak_ip=pass&monitor_type=http&monitor_interval=7".into(), "12"),
        // A method without numbered parameters keeps the generic code.
        ("Domain.List", "&type=nope".into(), "6"),
    ] {
        let (_, _, body) = raw_post(&base, method, &format!("{auth}{extra}")).await;
        let doc: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{body}: {e}"));
        assert_eq!(doc["status"]["code"], want, "{method}{extra}: {body}");
    }
    // The client classifies what the simulator answers: the field, named.
    for (code, msg, field) in [
        ("9", "User type invalid", "user_type"),
        ("10", "Real name invalid", "real_name"),
    ] {
        match idcgate_dnspod::errors::error("User.Create", code, msg) {
            Error::InvalidInput { field: f, .. } => assert_eq!(f, field),
            other => panic!("{code}: {other:?}"),
        }
    }
}
