//! Email over SMTP (RFC 5321): plain, STARTTLS (RFC 3207) or implicit TLS (RFC 8314),
//! AUTH PLAIN or LOGIN only under TLS, one message per connection.
//!
//! Written here rather than taken from a mail crate: what a notification needs is one
//! short text message to a few recipients, and the TLS it needs (rustls with ring, the
//! web PKI roots, tokio-rustls) is already in the tree for HTTPS, where a full mail crate
//! would bring its own address parser, MIME builder and encoders to compile on every
//! build. The message is always UTF-8 text sent as base64, so no line of it can be
//! mistaken for the end of the data and no 8BITMIME support is needed.

use crate::{b64, bounded, rfc3339, Channel, Message, SendError};
use async_trait::async_trait;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio::net::TcpStream;

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain text throughout; no password is ever sent this way.
    None,
    /// Plain, then upgraded by STARTTLS before anything else (usually port 587); a relay
    /// that does not offer STARTTLS is refused rather than used in the clear.
    StartTls,
    /// TLS from the first byte (usually port 465).
    Implicit,
}

impl TlsMode {
    pub fn default_port(self) -> u16 {
        match self {
            TlsMode::None => 25,
            TlsMode::StartTls => 587,
            TlsMode::Implicit => 465,
        }
    }
}

impl std::str::FromStr for TlsMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(TlsMode::None),
            "starttls" => Ok(TlsMode::StartTls),
            "tls" => Ok(TlsMode::Implicit),
            other => Err(format!(
                "tls = {other:?}: use \"starttls\", \"tls\" (implicit, port 465) or \"none\""
            )),
        }
    }
}

/// One mail channel as configured. `Debug` shows no password (`SecretString`).
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    /// `idcgate <idcgate@example.com>` or a bare address.
    pub from: String,
    pub to: Vec<String>,
    /// Extra trust anchors in PEM, for a relay with a private CA.
    pub ca_pem: Option<Vec<u8>>,
    /// For the whole exchange of one message.
    pub timeout: Duration,
    /// The name given in EHLO.
    pub helo: String,
}

pub struct SmtpChannel {
    settings: SmtpSettings,
    from_addr: String,
    to_addrs: Vec<String>,
    tls: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for SmtpChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpChannel")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The address inside `Name <addr>`, or `s` itself; refused if it could not be an
/// address or could break the command it goes into.
pub fn envelope_address(s: &str) -> Result<String, String> {
    if s.chars().any(char::is_control) || s.matches('<').count() > 1 || s.matches('>').count() > 1 {
        return Err(format!("{s:?} is not an email address"));
    }
    let inner = match (s.find('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b => &s[a + 1..b],
        (None, None) => s,
        _ => return Err(format!("{s:?} is not an email address")),
    };
    let addr = inner.trim();
    let ok = addr.len() <= 254
        && addr
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty() && !d.contains('@'))
        && !addr
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ','));
    if ok {
        Ok(addr.to_string())
    } else {
        Err(format!("{s:?} is not an email address"))
    }
}

impl SmtpChannel {
    pub fn new(settings: SmtpSettings) -> Result<Self, SendError> {
        let name = settings.name.clone();
        let bad = |m: String| SendError::new(format!("email channel {name:?}: {m}"));
        let from_addr = envelope_address(&settings.from).map_err(|e| bad(format!("from: {e}")))?;
        if settings.to.is_empty() {
            return Err(bad("to: name at least one recipient".into()));
        }
        let to_addrs = settings
            .to
            .iter()
            .map(|t| envelope_address(t).map_err(|e| bad(format!("to: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        if settings.host.is_empty()
            || settings
                .host
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(bad(format!("host {:?} is not a host name", settings.host)));
        }
        if settings.username.is_some() != settings.password.is_some() {
            return Err(bad("give both username and password, or neither".into()));
        }
        if settings.username.is_some() && settings.tls == TlsMode::None {
            return Err(bad(
                "a password is never sent without TLS: use tls = \"starttls\" or \"tls\"".into(),
            ));
        }
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(pem) = &settings.ca_pem {
            let mut added = 0;
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| bad(format!("ca_file: {e}")))?;
                roots.add(cert).map_err(|e| bad(format!("ca_file: {e}")))?;
                added += 1;
            }
            if added == 0 {
                return Err(bad("ca_file holds no PEM certificate".into()));
            }
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(SmtpChannel {
            settings,
            from_addr,
            to_addrs,
            tls: Arc::new(tls),
        })
    }

    fn err(&self, what: impl std::fmt::Display) -> SendError {
        SendError::new(format!(
            "SMTP {}:{}: {what}",
            self.settings.host, self.settings.port
        ))
    }

    async fn handshake(
        &self,
        tcp: TcpStream,
    ) -> Result<tokio_rustls::client::TlsStream<TcpStream>, SendError> {
        let server = ServerName::try_from(self.settings.host.clone())
            .map_err(|e| self.err(format!("TLS name: {e}")))?;
        tokio_rustls::TlsConnector::from(self.tls.clone())
            .connect(server, tcp)
            .await
            .map_err(|e| self.err(format!("TLS: {e}")))
    }

    async fn exchange(&self, data: &str) -> Result<String, SendError> {
        let s = &self.settings;
        let tcp = TcpStream::connect((s.host.as_str(), s.port))
            .await
            .map_err(|e| self.err(format!("cannot connect: {e}")))?;
        let (mut conn, caps): (BufReader<Box<dyn Io>>, Vec<String>) = match s.tls {
            TlsMode::Implicit => {
                let mut conn = BufReader::new(Box::new(self.handshake(tcp).await?) as Box<dyn Io>);
                self.expect(&mut conn, &[220], "greeting").await?;
                let caps = self.ehlo(&mut conn).await?;
                (conn, caps)
            }
            TlsMode::StartTls => {
                let mut plain = BufReader::new(tcp);
                self.expect(&mut plain, &[220], "greeting").await?;
                let caps = self.ehlo(&mut plain).await?;
                if !caps.iter().any(|c| c == "STARTTLS") {
                    return Err(self.err(
                        "the server does not offer STARTTLS (tls = \"starttls\"); nothing was sent in the clear",
                    ));
                }
                self.command(&mut plain, "STARTTLS", &[220], "STARTTLS")
                    .await?;
                // Anything the server sent before the handshake would be read as if it
                // came over TLS (the STARTTLS injection of CVE-2011-0411's kind).
                if !plain.buffer().is_empty() {
                    return Err(self.err("the server sent data before TLS began"));
                }
                let tls = self.handshake(plain.into_inner()).await?;
                let mut conn = BufReader::new(Box::new(tls) as Box<dyn Io>);
                let caps = self.ehlo(&mut conn).await?;
                (conn, caps)
            }
            TlsMode::None => {
                let mut conn = BufReader::new(Box::new(tcp) as Box<dyn Io>);
                self.expect(&mut conn, &[220], "greeting").await?;
                let caps = self.ehlo(&mut conn).await?;
                (conn, caps)
            }
        };
        if let (Some(user), Some(pass)) = (&s.username, &s.password) {
            self.auth(&mut conn, &caps, user, pass).await?;
        }
        self.command(
            &mut conn,
            &format!("MAIL FROM:<{}>", self.from_addr),
            &[250],
            "MAIL FROM",
        )
        .await?;
        for to in &self.to_addrs {
            self.command(
                &mut conn,
                &format!("RCPT TO:<{to}>"),
                &[250, 251],
                "RCPT TO",
            )
            .await?;
        }
        self.command(&mut conn, "DATA", &[354], "DATA").await?;
        conn.write_all(data.as_bytes())
            .await
            .map_err(|e| self.err(format!("writing the message: {e}")))?;
        let done = self.command(&mut conn, ".", &[250], "the message").await?;
        // The message is accepted; a QUIT that goes wrong changes nothing.
        let _ = self.command(&mut conn, "QUIT", &[221], "QUIT").await;
        Ok(bounded(
            &format!("{} {}", done.code, done.lines.join(" ")),
            200,
        ))
    }

    async fn ehlo<S: AsyncBufRead + AsyncWrite + Unpin>(
        &self,
        conn: &mut S,
    ) -> Result<Vec<String>, SendError> {
        let r = self
            .command(
                conn,
                &format!("EHLO {}", self.settings.helo),
                &[250],
                "EHLO",
            )
            .await?;
        Ok(r.lines
            .iter()
            .skip(1)
            .map(|l| l.trim().to_ascii_uppercase())
            .collect())
    }

    async fn auth<S: AsyncBufRead + AsyncWrite + Unpin>(
        &self,
        conn: &mut S,
        caps: &[String],
        user: &str,
        pass: &SecretString,
    ) -> Result<(), SendError> {
        let mechs: Vec<&str> = caps
            .iter()
            .filter_map(|c| c.strip_prefix("AUTH").map(str::split_whitespace))
            .flatten()
            .collect();
        if mechs.contains(&"PLAIN") {
            let token = b64::encode(format!("\0{user}\0{}", pass.expose_secret()).as_bytes());
            self.command(conn, &format!("AUTH PLAIN {token}"), &[235], "AUTH PLAIN")
                .await?;
        } else if mechs.contains(&"LOGIN") {
            self.command(conn, "AUTH LOGIN", &[334], "AUTH LOGIN")
                .await?;
            self.command(
                conn,
                &b64::encode(user.as_bytes()),
                &[334],
                "AUTH LOGIN user",
            )
            .await?;
            self.command(
                conn,
                &b64::encode(pass.expose_secret().as_bytes()),
                &[235],
                "AUTH LOGIN password",
            )
            .await?;
        } else {
            return Err(self.err("the server offers neither AUTH PLAIN nor AUTH LOGIN"));
        }
        Ok(())
    }

    /// Sends `line` and reads the reply. Errors name `what`, never the line itself (it
    /// may hold credentials).
    async fn command<S: AsyncBufRead + AsyncWrite + Unpin>(
        &self,
        conn: &mut S,
        line: &str,
        want: &[u16],
        what: &str,
    ) -> Result<Reply, SendError> {
        conn.write_all(format!("{line}\r\n").as_bytes())
            .await
            .map_err(|e| self.err(format!("{what}: {e}")))?;
        conn.flush()
            .await
            .map_err(|e| self.err(format!("{what}: {e}")))?;
        self.expect(conn, want, what).await
    }

    async fn expect<S: AsyncBufRead + Unpin>(
        &self,
        conn: &mut S,
        want: &[u16],
        what: &str,
    ) -> Result<Reply, SendError> {
        let r = read_reply(conn)
            .await
            .map_err(|e| self.err(format!("{what}: {e}")))?;
        if want.contains(&r.code) {
            Ok(r)
        } else {
            Err(self.err(format!("{what} refused: {} {}", r.code, r.lines.join(" "))))
        }
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

#[derive(Debug)]
struct Reply {
    code: u16,
    lines: Vec<String>,
}

/// One reply, multi-line or not (`250-a`, `250 b`); lines and their number bounded.
async fn read_reply<S: AsyncBufRead + Unpin>(conn: &mut S) -> Result<Reply, String> {
    let mut lines = Vec::new();
    loop {
        let mut buf = Vec::new();
        let n = (&mut *conn)
            .take(2048)
            .read_until(b'\n', &mut buf)
            .await
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim_end_matches(['\r', '\n']);
        let code = line
            .get(..3)
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| format!("not an SMTP reply: {}", bounded(line, 80)))?;
        let rest = line.get(4..).unwrap_or("");
        lines.push(rest.to_string());
        if line.as_bytes().get(3) != Some(&b'-') {
            return Ok(Reply { code, lines });
        }
        if lines.len() > 100 {
            return Err("a reply of more than 100 lines".into());
        }
    }
}

/// A header value as RFC 2047 encoded words where it is not plain ASCII, folded so that
/// no line is longer than the RFC allows; control characters (a header break) dropped.
fn header_text(s: &str) -> String {
    let clean: String = s.chars().filter(|c| !c.is_control()).collect();
    if clean.is_ascii() && clean.len() <= 900 {
        return clean;
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in clean.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(format!("=?UTF-8?B?{}?=", b64::encode(chunk.as_bytes())));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", b64::encode(chunk.as_bytes())));
    }
    words.join("\r\n ")
}

/// `Name <addr>` with a non-ASCII name encoded.
fn mailbox_header(s: &str) -> String {
    match s.find('<') {
        Some(i) if !s[..i].trim().is_empty() => {
            format!(
                "{} {}",
                header_text(s[..i].trim().trim_matches('"')),
                s[i..].trim()
            )
        }
        _ => s.trim().to_string(),
    }
}

/// The message as sent after DATA, ending with the line `.` sent by the caller. The body
/// is base64 (76 per line), so no line starts with a dot.
pub fn format_message(
    from: &str,
    to: &[String],
    m: &Message,
    message_id: &str,
    date: &str,
) -> String {
    let mut out = String::new();
    let mut h = |name: &str, value: &str| {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push_str("\r\n");
    };
    h("From", &mailbox_header(from));
    h(
        "To",
        &to.iter()
            .map(|t| mailbox_header(t))
            .collect::<Vec<_>>()
            .join(", "),
    );
    h("Subject", &header_text(&m.subject));
    h("Date", date);
    h("Message-ID", message_id);
    h("MIME-Version", "1.0");
    h("Content-Type", "text/plain; charset=utf-8");
    h("Content-Transfer-Encoding", "base64");
    h("X-Idcgate-Event", &header_text(&m.event));
    let mut text = m.text.replace("\r\n", "\n").replace('\n', "\r\n");
    text.push_str("\r\n");
    out.push_str("\r\n");
    let body = b64::encode(text.as_bytes());
    for line in body.as_bytes().chunks(76) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push_str("\r\n");
    }
    out
}

#[async_trait]
impl Channel for SmtpChannel {
    fn name(&self) -> &str {
        &self.settings.name
    }

    fn kind(&self) -> &'static str {
        "email"
    }

    async fn send(&self, m: &Message) -> Result<String, SendError> {
        let now = jiff::Zoned::now();
        let date = jiff::fmt::rfc2822::to_string(&now).unwrap_or_else(|_| rfc3339(m.at_ms));
        let domain = self
            .from_addr
            .rsplit_once('@')
            .map(|(_, d)| d)
            .unwrap_or("idcgate");
        let message_id = format!(
            "<idcgate.{}.{}.{:08x}@{domain}>",
            m.id,
            now.timestamp().as_millisecond(),
            rand::random::<u32>()
        );
        let data = format_message(
            &self.settings.from,
            &self.settings.to,
            m,
            &message_id,
            &date,
        );
        match tokio::time::timeout(self.settings.timeout, self.exchange(&data)).await {
            Ok(r) => r,
            Err(_) => Err(self.err(format!(
                "no answer within {} s",
                self.settings.timeout.as_secs_f64()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_taken_from_mailboxes_and_refused_when_they_could_break_a_command() {
        assert_eq!(
            envelope_address("idcgate <a@example.com>").unwrap(),
            "a@example.com"
        );
        assert_eq!(envelope_address(" a@b.c ").unwrap(), "a@b.c");
        for bad in [
            "a",
            "a@",
            "@b",
            "a@b@c",
            "<a@b.c",
            "a@b.c>x\r\nRCPT TO:<evil@x>",
            "a b@c",
            "a@b,c@d",
        ] {
            assert!(envelope_address(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn subjects_are_encoded_and_cannot_break_a_header() {
        assert_eq!(header_text("plain\r\nBcc: x@y"), "plainBcc: x@y");
        let long = "域名 example.cn 将于 7 天后到期，请尽快续费。".repeat(3);
        let enc = header_text(&long);
        assert!(enc.is_ascii());
        for line in enc.split("\r\n") {
            assert!(line.len() <= 76, "{line}");
        }
        let decoded: String = enc
            .split("\r\n ")
            .map(|w| {
                let b = w.trim_start_matches("=?UTF-8?B?").trim_end_matches("?=");
                String::from_utf8(b64::decode(b).unwrap()).unwrap()
            })
            .collect();
        assert_eq!(decoded, long);
    }

    #[test]
    fn the_body_is_base64_lines_and_headers_name_the_event() {
        let m = Message {
            id: 7,
            event: "expiring".into(),
            subject: "到期提醒".into(),
            text: "line one\n.line two starting with a dot".into(),
            data: serde_json::json!({}),
            at_ms: 0,
        };
        let data = format_message(
            "idc <a@b.c>",
            &["o@b.c".into()],
            &m,
            "<x@b.c>",
            "Thu, 1 Jan 1970 00:00:00 +0000",
        );
        let (head, body) = data.split_once("\r\n\r\n").unwrap();
        assert!(head.contains("X-Idcgate-Event: expiring"));
        assert!(head.contains("Subject: =?UTF-8?B?"));
        assert!(body.lines().all(|l| l.len() <= 76 && !l.starts_with('.')));
        let text = String::from_utf8(b64::decode(body).unwrap()).unwrap();
        assert_eq!(text, "line one\r\n.line two starting with a dot\r\n");
    }

    #[test]
    fn a_password_is_never_configured_without_tls_and_never_shown() {
        let s = SmtpSettings {
            name: "m".into(),
            host: "mail.example.com".into(),
            port: 25,
            tls: TlsMode::None,
            username: Some("u".into()),
            password: Some(SecretString::from("hunter2-secret")),
            from: "a@b.c".into(),
            to: vec!["o@b.c".into()],
            ca_pem: None,
            timeout: Duration::from_secs(5),
            helo: "h".into(),
        };
        assert!(!format!("{s:?}").contains("hunter2"));
        let e = SmtpChannel::new(s.clone()).unwrap_err();
        assert!(e.0.contains("without TLS"), "{e}");
        let ok = SmtpChannel::new(SmtpSettings {
            tls: TlsMode::StartTls,
            ..s
        })
        .unwrap();
        assert!(!format!("{ok:?}").contains("hunter2"));
    }
}
