//! Webhooks: the message as JSON in a POST, signed with HMAC-SHA256 over the exact body
//! bytes (`X-Idcgate-Signature: sha256=<hex>`), so a receiver can check it came from us
//! before it reads anything. Any 2xx answer is delivered; anything else is not (the
//! engine retries). Redirects are not followed: a POST is not re-sent elsewhere.

use crate::{bounded, rfc3339, Channel, Message, SendError};
use async_trait::async_trait;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use std::time::Duration;

pub const SIGNATURE_HEADER: &str = "X-Idcgate-Signature";
pub const EVENT_HEADER: &str = "X-Idcgate-Event";
pub const DELIVERY_HEADER: &str = "X-Idcgate-Delivery";

/// One webhook channel as configured. `Debug` shows neither the secret nor the URL's
/// path and query (hook URLs often carry a token).
#[derive(Clone)]
pub struct WebhookSettings {
    pub name: String,
    pub url: String,
    /// Signs every body; without it nothing is signed.
    pub secret: Option<SecretString>,
    pub timeout: Duration,
    pub user_agent: String,
}

impl std::fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("name", &self.name)
            .field("url", &shown_url(&self.url))
            .field("signed", &self.secret.is_some())
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Scheme and host of a URL, the rest hidden.
fn shown_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => format!(
            "{}://{}{}/…",
            u.scheme(),
            u.host_str().unwrap_or(""),
            u.port().map(|p| format!(":{p}")).unwrap_or_default()
        ),
        Err(_) => "(invalid URL)".into(),
    }
}

/// `sha256=<hex of HMAC-SHA256(secret, body)>`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The JSON a webhook receives.
pub fn body(m: &Message) -> Vec<u8> {
    let v = serde_json::json!({
        "id": m.id,
        "event": m.event,
        "subject": m.subject,
        "text": m.text,
        "at": rfc3339(m.at_ms),
        "at_ms": m.at_ms,
        "data": m.data,
    });
    serde_json::to_vec(&v).unwrap_or_default()
}

pub struct WebhookChannel {
    settings: WebhookSettings,
    client: reqwest::Client,
}

impl std::fmt::Debug for WebhookChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookChannel")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl WebhookChannel {
    pub fn new(settings: WebhookSettings) -> Result<Self, SendError> {
        let name = settings.name.clone();
        let bad = |m: String| SendError::new(format!("webhook {name:?}: {m}"));
        let url = reqwest::Url::parse(&settings.url)
            .map_err(|e| bad(format!("url is not a URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("url must be http:// or https://".into()));
        }
        if settings
            .secret
            .as_ref()
            .is_some_and(|s| s.expose_secret().is_empty())
        {
            return Err(bad("the secret is empty".into()));
        }
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(settings.user_agent.clone())
            .build()
            .map_err(|e| bad(format!("HTTP client: {}", e.without_url())))?;
        Ok(WebhookChannel { settings, client })
    }
}

#[async_trait]
impl Channel for WebhookChannel {
    fn name(&self) -> &str {
        &self.settings.name
    }

    fn kind(&self) -> &'static str {
        "webhook"
    }

    async fn send(&self, m: &Message) -> Result<String, SendError> {
        let body = body(m);
        let mut req = self
            .client
            .post(&self.settings.url)
            .header("Content-Type", "application/json")
            .header(EVENT_HEADER, m.event.as_str())
            .header(DELIVERY_HEADER, m.id.to_string());
        if let Some(secret) = &self.settings.secret {
            req = req.header(
                SIGNATURE_HEADER,
                sign(secret.expose_secret().as_bytes(), &body),
            );
        }
        let shown = shown_url(&self.settings.url);
        let resp = req.body(body).send().await.map_err(|e| {
            let why = if e.is_timeout() {
                format!("no answer within {} s", self.settings.timeout.as_secs_f64())
            } else if e.is_connect() {
                "cannot connect".to_string()
            } else {
                e.without_url().to_string()
            };
            SendError::new(format!("POST {shown}: {why}"))
        })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(format!("HTTP {}", status.as_u16()));
        }
        let text = resp.text().await.unwrap_or_default();
        Err(SendError::new(format!(
            "POST {shown}: HTTP {}{}",
            status.as_u16(),
            if text.trim().is_empty() {
                String::new()
            } else {
                format!(": {}", bounded(&text, 120))
            }
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn neither_the_secret_nor_the_urls_token_is_shown() {
        let s = WebhookSettings {
            name: "h".into(),
            url: "https://hooks.example.com/services/T0KEN-in-path?key=qs-token".into(),
            secret: Some(SecretString::from("whsec-do-not-show")),
            timeout: Duration::from_secs(1),
            user_agent: "idcgate".into(),
        };
        let shown = format!("{:?}", WebhookChannel::new(s).unwrap());
        for secret in ["whsec-do-not-show", "T0KEN", "qs-token"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("hooks.example.com"));
    }
}
