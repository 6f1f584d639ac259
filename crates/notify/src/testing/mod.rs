//! A local SMTP sink and a local webhook receiver on 127.0.0.1, for tests: each records
//! what it was sent and can refuse the first N deliveries to exercise retries. The sink
//! speaks enough SMTP for one client (EHLO, STARTTLS, AUTH PLAIN/LOGIN, MAIL, RCPT,
//! DATA, RSET, QUIT), with TLS from a test CA (`CA_PEM`, a certificate for localhost and
//! 127.0.0.1) whose key is not kept.
#![allow(clippy::unwrap_used)] // test support: a broken fixture may fail loudly

use crate::b64;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// The test CA the sink's certificate is signed by: what an email channel's `ca_file`
/// names to trust the sink.
pub const CA_PEM: &str = include_str!("ca.pem");
const CERT_PEM: &str = include_str!("localhost.pem");
const KEY_PEM: &str = include_str!("localhost.key");

/// One message the sink accepted (or refused, with `accepted` false).
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// What came after DATA, dot-stuffing undone.
    pub data: String,
    /// Whether the connection was under TLS when the message came.
    pub tls: bool,
    /// (user, password) of the AUTH that preceded it.
    pub auth: Option<(String, String)>,
    pub accepted: bool,
}

impl Mail {
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(v) = value.as_mut() {
                if line.starts_with(' ') || line.starts_with('\t') {
                    v.push_str(line.trim_start());
                    continue;
                }
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case(name) {
                    value = Some(v.trim().to_string());
                }
            }
        }
        value
    }

    /// The subject with RFC 2047 B-words decoded.
    pub fn subject(&self) -> String {
        let raw = self.header("Subject").unwrap_or_default();
        if !raw.starts_with("=?UTF-8?B?") {
            return raw;
        }
        raw.split("?==?UTF-8?B?")
            .map(|w| w.trim_start_matches("=?UTF-8?B?").trim_end_matches("?="))
            .map(|b| String::from_utf8_lossy(&b64::decode(b).unwrap_or_default()).into_owned())
            .collect()
    }

    /// The body, base64 decoded when it was sent so.
    pub fn body(&self) -> String {
        let body = self
            .data
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or("");
        if self
            .header("Content-Transfer-Encoding")
            .is_some_and(|e| e.eq_ignore_ascii_case("base64"))
        {
            String::from_utf8_lossy(&b64::decode(body).unwrap_or_default()).into_owned()
        } else {
            body.to_string()
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct SinkOptions {
    /// Offer STARTTLS.
    pub starttls: bool,
    /// TLS from the first byte.
    pub implicit_tls: bool,
    /// Require this AUTH before MAIL (offered only under TLS).
    pub auth: Option<(String, String)>,
    /// Answer `451` to the end of DATA of the first N messages.
    pub fail_first: usize,
}

pub struct SmtpSink {
    pub addr: SocketAddr,
    mail: Arc<Mutex<Vec<Mail>>>,
    _task: Serving,
}

/// A test server's task, stopped when its owner is dropped.
struct Serving(tokio::task::JoinHandle<()>);

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl SmtpSink {
    pub async fn start(opts: SinkOptions) -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mail = Arc::new(Mutex::new(Vec::new()));
        let failing = Arc::new(AtomicUsize::new(opts.fail_first));
        let acceptor = tls_acceptor();
        let (m, o) = (mail.clone(), Arc::new(opts));
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (m, o, f, a) = (m.clone(), o.clone(), failing.clone(), acceptor.clone());
                tokio::spawn(async move {
                    let mut s = Session {
                        opts: o.clone(),
                        mail: m,
                        failing: f,
                        tls: false,
                        auth: None,
                        from: None,
                        to: Vec::new(),
                    };
                    if o.implicit_tls {
                        let Ok(tls) = a.accept(tcp).await else { return };
                        s.tls = true;
                        let mut conn = BufReader::new(tls);
                        let _ = s.converse(&mut conn, true).await;
                        return;
                    }
                    let mut plain = BufReader::new(tcp);
                    if let Ok(Next::StartTls) = s.converse(&mut plain, true).await {
                        let Ok(tls) = a.accept(plain.into_inner()).await else {
                            return;
                        };
                        s.tls = true;
                        let mut conn = BufReader::new(tls);
                        let _ = s.converse(&mut conn, false).await;
                    }
                });
            }
        });
        SmtpSink {
            addr,
            mail,
            _task: Serving(task),
        }
    }

    /// Every message that reached the end of DATA, refused ones included.
    pub fn all(&self) -> Vec<Mail> {
        self.mail.lock().unwrap().clone()
    }

    /// The messages accepted.
    pub fn accepted(&self) -> Vec<Mail> {
        self.all().into_iter().filter(|m| m.accepted).collect()
    }
}

fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(CERT_PEM.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(KEY_PEM.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

enum Next {
    Quit,
    StartTls,
}

struct Session {
    opts: Arc<SinkOptions>,
    mail: Arc<Mutex<Vec<Mail>>>,
    failing: Arc<AtomicUsize>,
    tls: bool,
    auth: Option<(String, String)>,
    from: Option<String>,
    to: Vec<String>,
}

async fn say<S: AsyncWrite + Unpin>(s: &mut S, line: &str) -> std::io::Result<()> {
    s.write_all(format!("{line}\r\n").as_bytes()).await?;
    s.flush().await
}

async fn line<S: AsyncRead + Unpin>(s: &mut BufReader<S>) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    if s.read_until(b'\n', &mut buf).await? == 0 {
        return Ok(None);
    }
    Ok(Some(
        String::from_utf8_lossy(&buf)
            .trim_end_matches(['\r', '\n'])
            .to_string(),
    ))
}

fn between_angles(s: &str) -> String {
    s.split_once('<')
        .and_then(|(_, r)| r.split_once('>'))
        .map(|(a, _)| a.to_string())
        .unwrap_or_default()
}

impl Session {
    async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        c: &mut BufReader<S>,
        greet: bool,
    ) -> std::io::Result<Next> {
        if greet {
            say(c, "220 sink.test ESMTP idcgate test sink").await?;
        }
        while let Some(cmd) = line(c).await? {
            let upper = cmd.to_ascii_uppercase();
            if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                let mut caps = vec!["sink.test".to_string(), "SIZE 1000000".into()];
                if self.opts.starttls && !self.tls {
                    caps.push("STARTTLS".into());
                }
                if self.tls && self.opts.auth.is_some() {
                    caps.push("AUTH PLAIN LOGIN".into());
                }
                for (i, cap) in caps.iter().enumerate() {
                    let sep = if i + 1 == caps.len() { ' ' } else { '-' };
                    say(c, &format!("250{sep}{cap}")).await?;
                }
            } else if upper == "STARTTLS" && self.opts.starttls && !self.tls {
                say(c, "220 go ahead").await?;
                return Ok(Next::StartTls);
            } else if upper.starts_with("AUTH PLAIN ") && self.tls {
                let raw = b64::decode(&cmd[11..]).unwrap_or_default();
                let parts: Vec<String> = raw
                    .split(|b| *b == 0)
                    .map(|p| String::from_utf8_lossy(p).into_owned())
                    .collect();
                self.check_auth(c, parts.get(1).cloned(), parts.get(2).cloned())
                    .await?;
            } else if upper == "AUTH LOGIN" && self.tls {
                say(c, "334 VXNlcm5hbWU6").await?;
                let user = line(c).await?.and_then(|l| b64::decode(&l));
                say(c, "334 UGFzc3dvcmQ6").await?;
                let pass = line(c).await?.and_then(|l| b64::decode(&l));
                let text = |b: Option<Vec<u8>>| b.map(|b| String::from_utf8_lossy(&b).into_owned());
                self.check_auth(c, text(user), text(pass)).await?;
            } else if upper.starts_with("MAIL FROM:") {
                if self.opts.auth.is_some() && self.auth.is_none() {
                    say(c, "530 authentication required").await?;
                } else {
                    self.from = Some(between_angles(&cmd));
                    self.to.clear();
                    say(c, "250 ok").await?;
                }
            } else if upper.starts_with("RCPT TO:") {
                if self.from.is_none() {
                    say(c, "503 MAIL first").await?;
                } else {
                    self.to.push(between_angles(&cmd));
                    say(c, "250 ok").await?;
                }
            } else if upper == "DATA" {
                if self.to.is_empty() {
                    say(c, "503 RCPT first").await?;
                    continue;
                }
                say(c, "354 end with <CRLF>.<CRLF>").await?;
                let mut data = String::new();
                loop {
                    let Some(l) = line(c).await? else {
                        return Ok(Next::Quit);
                    };
                    if l == "." {
                        break;
                    }
                    data.push_str(l.strip_prefix('.').unwrap_or(&l));
                    data.push_str("\r\n");
                }
                let refuse = self
                    .failing
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                self.mail.lock().unwrap().push(Mail {
                    from: self.from.take().unwrap_or_default(),
                    to: std::mem::take(&mut self.to),
                    data,
                    tls: self.tls,
                    auth: self.auth.clone(),
                    accepted: !refuse,
                });
                if refuse {
                    say(c, "451 4.3.0 try again later").await?;
                } else {
                    say(c, "250 2.0.0 queued as TEST").await?;
                }
            } else if upper == "RSET" {
                self.from = None;
                self.to.clear();
                say(c, "250 ok").await?;
            } else if upper == "QUIT" {
                say(c, "221 bye").await?;
                return Ok(Next::Quit);
            } else {
                say(c, "502 not implemented").await?;
            }
        }
        Ok(Next::Quit)
    }

    async fn check_auth<S: AsyncWrite + Unpin>(
        &mut self,
        c: &mut S,
        user: Option<String>,
        pass: Option<String>,
    ) -> std::io::Result<()> {
        let given = (user.unwrap_or_default(), pass.unwrap_or_default());
        if self.opts.auth.as_ref() == Some(&given) {
            self.auth = Some(given);
            say(c, "235 2.7.0 authenticated").await
        } else {
            say(c, "535 5.7.8 bad credentials").await
        }
    }
}

/// One request the webhook receiver got.
#[derive(Debug, Clone)]
pub struct Hook {
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    pub answered: u16,
}

impl Hook {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

pub struct WebhookReceiver {
    /// POST here.
    pub url: String,
    hooks: Arc<Mutex<Vec<Hook>>>,
    _task: Serving,
}

impl WebhookReceiver {
    /// Answers `503` to the first `fail_first` requests, then `204`.
    pub async fn start(fail_first: usize) -> WebhookReceiver {
        use axum::http::{HeaderMap, StatusCode};
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hooks = Arc::new(Mutex::new(Vec::new()));
        let failing = Arc::new(AtomicUsize::new(fail_first));
        let h = hooks.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: bytes::Bytes| {
                let (h, failing) = (h.clone(), failing.clone());
                async move {
                    let refuse = failing
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                    let status = if refuse {
                        StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        StatusCode::NO_CONTENT
                    };
                    h.lock().unwrap().push(Hook {
                        headers: headers
                            .iter()
                            .map(|(k, v)| {
                                (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())
                            })
                            .collect(),
                        body: body.to_vec(),
                        answered: status.as_u16(),
                    });
                    status
                }
            }),
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        WebhookReceiver {
            url: format!("http://{addr}/hook"),
            hooks,
            _task: Serving(task),
        }
    }

    /// Every request, refused ones included.
    pub fn all(&self) -> Vec<Hook> {
        self.hooks.lock().unwrap().clone()
    }

    /// The requests answered 2xx.
    pub fn delivered(&self) -> Vec<Hook> {
        self.all()
            .into_iter()
            .filter(|h| (200..300).contains(&h.answered))
            .collect()
    }
}
