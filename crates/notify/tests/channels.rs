//! Each channel against its local peer: the SMTP sink (plain, STARTTLS with AUTH,
//! implicit TLS, refusals) and the webhook receiver (signature, refusals).
#![allow(clippy::unwrap_used)] // a test may fail loudly

use idcgate_notify::testing::{SinkOptions, SmtpSink, WebhookReceiver, CA_PEM};
use idcgate_notify::webhook::{body, EVENT_HEADER};
use idcgate_notify::{
    sign, Channel, Message, SendError, SmtpChannel, SmtpSettings, TlsMode, WebhookChannel,
    WebhookSettings, SIGNATURE_HEADER,
};
use secrecy::SecretString;
use std::time::Duration;

fn message() -> Message {
    Message {
        id: 42,
        event: "expiring".into(),
        subject: "域名 example.cn 7 天后到期".into(),
        text: "domain example.cn at west-main expires 2030-01-08 (in 7 days)\n.a line with a dot"
            .into(),
        data: serde_json::json!({"account": "west-main", "name": "example.cn", "stage": "7d"}),
        at_ms: 1_700_000_000_000,
    }
}

fn smtp(sink: &SmtpSink, tls: TlsMode) -> SmtpSettings {
    SmtpSettings {
        name: "ops-mail".into(),
        host: "localhost".into(),
        port: sink.addr.port(),
        tls,
        username: None,
        password: None,
        from: "idcgate <idcgate@example.com>".into(),
        to: vec!["ops@example.com".into(), "Boss <boss@example.com>".into()],
        ca_pem: Some(CA_PEM.as_bytes().to_vec()),
        timeout: Duration::from_secs(5),
        helo: "idcgate.test".into(),
    }
}

/// `message()` sent once over a new channel of settings `s`.
async fn send_once(s: SmtpSettings) -> Result<String, SendError> {
    SmtpChannel::new(s).unwrap().send(&message()).await
}

#[tokio::test]
async fn a_plain_relay_receives_the_message_with_its_envelope_subject_and_body() {
    let sink = SmtpSink::start(SinkOptions::default()).await;
    let ch = SmtpChannel::new(smtp(&sink, TlsMode::None)).unwrap();
    let said = ch.send(&message()).await.unwrap();
    assert!(said.starts_with("250"), "{said}");
    let mail = sink.accepted();
    assert_eq!(mail.len(), 1);
    let m = &mail[0];
    assert_eq!(m.from, "idcgate@example.com");
    assert_eq!(m.to, ["ops@example.com", "boss@example.com"]);
    assert!(!m.tls);
    assert_eq!(m.subject(), "域名 example.cn 7 天后到期");
    assert_eq!(
        m.body(),
        "domain example.cn at west-main expires 2030-01-08 (in 7 days)\r\n.a line with a dot\r\n"
    );
    assert_eq!(m.header("X-Idcgate-Event").as_deref(), Some("expiring"));
    assert!(m.header("Message-ID").unwrap().contains("@example.com>"));
}

#[tokio::test]
async fn starttls_comes_before_auth_and_the_message() {
    let sink = SmtpSink::start(SinkOptions {
        starttls: true,
        auth: Some(("idcgate".into(), "s3cret-pass".into())),
        ..Default::default()
    })
    .await;
    let mut s = smtp(&sink, TlsMode::StartTls);
    s.username = Some("idcgate".into());
    s.password = Some(SecretString::from("s3cret-pass"));
    send_once(s.clone()).await.unwrap();
    let m = &sink.accepted()[0];
    assert!(m.tls);
    assert_eq!(m.auth, Some(("idcgate".into(), "s3cret-pass".into())));

    // A wrong password: refused, and the error does not repeat it.
    s.password = Some(SecretString::from("wrong-pass-123"));
    let e = send_once(s).await.unwrap_err();
    assert!(e.0.contains("AUTH PLAIN refused: 535"), "{e}");
    assert!(
        !e.0.contains("wrong-pass") && !e.0.contains("d3Jvbmc"),
        "{e}"
    );
    assert_eq!(sink.all().len(), 1);
}

#[tokio::test]
async fn starttls_is_required_when_configured_and_the_certificate_must_be_trusted() {
    // A relay that does not offer STARTTLS gets nothing.
    let plain = SmtpSink::start(SinkOptions::default()).await;
    let e = send_once(smtp(&plain, TlsMode::StartTls))
        .await
        .unwrap_err();
    assert!(e.0.contains("does not offer STARTTLS"), "{e}");
    assert!(plain.all().is_empty());

    // A certificate from a CA not configured is refused.
    let tls = SmtpSink::start(SinkOptions {
        starttls: true,
        ..Default::default()
    })
    .await;
    let mut s = smtp(&tls, TlsMode::StartTls);
    s.ca_pem = None;
    let e = send_once(s).await.unwrap_err();
    assert!(e.0.contains("TLS"), "{e}");
    assert!(tls.all().is_empty());
}

#[tokio::test]
async fn implicit_tls_from_the_first_byte() {
    let sink = SmtpSink::start(SinkOptions {
        implicit_tls: true,
        ..Default::default()
    })
    .await;
    send_once(smtp(&sink, TlsMode::Implicit)).await.unwrap();
    assert!(sink.accepted()[0].tls);
}

#[tokio::test]
async fn a_refused_message_is_an_error_naming_the_reply() {
    let sink = SmtpSink::start(SinkOptions {
        fail_first: 1,
        ..Default::default()
    })
    .await;
    let ch = SmtpChannel::new(smtp(&sink, TlsMode::None)).unwrap();
    let e = ch.send(&message()).await.unwrap_err();
    assert!(e.0.contains("451"), "{e}");
    ch.send(&message()).await.unwrap();
    assert_eq!(sink.accepted().len(), 1);
    // Nobody listening: an error, not a hang.
    let addr = sink.addr;
    drop(sink);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut s = smtp(
        &SmtpSink::start(SinkOptions::default()).await,
        TlsMode::None,
    );
    s.port = addr.port();
    assert!(send_once(s).await.is_err());
}

fn hook(url: &str, secret: Option<&str>) -> WebhookChannel {
    WebhookChannel::new(WebhookSettings {
        name: "ops-hook".into(),
        url: url.into(),
        secret: secret.map(SecretString::from),
        timeout: Duration::from_secs(5),
        user_agent: "idcgate-test".into(),
    })
    .unwrap()
}

#[tokio::test]
async fn a_webhook_is_json_signed_over_its_exact_body() {
    let rx = WebhookReceiver::start(0).await;
    let said = hook(&rx.url, Some("whsec-123"))
        .send(&message())
        .await
        .unwrap();
    assert_eq!(said, "HTTP 204");
    let got = &rx.delivered()[0];
    assert_eq!(
        got.headers[&SIGNATURE_HEADER.to_ascii_lowercase()],
        sign(b"whsec-123", &got.body)
    );
    assert_eq!(got.headers[&EVENT_HEADER.to_ascii_lowercase()], "expiring");
    assert_eq!(got.body, body(&message()));
    let v = got.json();
    assert_eq!(v["id"], 42);
    assert_eq!(v["event"], "expiring");
    assert_eq!(v["data"]["stage"], "7d");
    assert_eq!(v["at"], "2023-11-14T22:13:20Z");
    // Unsigned when no secret is configured.
    hook(&rx.url, None).send(&message()).await.unwrap();
    assert!(!rx.delivered()[1]
        .headers
        .contains_key(&SIGNATURE_HEADER.to_ascii_lowercase()));
}

#[tokio::test]
async fn a_webhook_answered_otherwise_than_2xx_is_not_delivered() {
    let rx = WebhookReceiver::start(1).await;
    let ch = hook(&rx.url, Some("k"));
    let e = ch.send(&message()).await.unwrap_err();
    assert!(e.0.contains("HTTP 503"), "{e}");
    assert!(!e.0.contains("/hook"), "the URL's path is not shown: {e}");
    ch.send(&message()).await.unwrap();
    assert_eq!((rx.all().len(), rx.delivered().len()), (2, 1));
}

#[tokio::test]
async fn a_relay_that_never_answers_is_an_error_within_the_timeout() {
    // Accepts and says nothing: the greeting never comes.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let sink = SmtpSink::start(SinkOptions::default()).await;
    let mut s = smtp(&sink, TlsMode::None);
    s.port = port;
    s.timeout = Duration::from_millis(300);
    let started = std::time::Instant::now();
    let e = send_once(s).await.unwrap_err();
    assert!(e.0.contains("no answer within 0.3 s"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(3));
    hold.abort();
}
