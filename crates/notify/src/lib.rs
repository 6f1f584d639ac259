//! Delivery of notifications: one message to one channel, once per call. Channels are
//! email over SMTP (plain, STARTTLS or implicit TLS, `smtp.rs`) and webhooks (a JSON
//! POST signed with HMAC-SHA256 over its body, `webhook.rs`).
//!
//! Owns: the wire of each channel and keeping its secrets (SMTP password, webhook
//! secret) out of `Debug`, logs and error texts.
//!
//! Must not know: what an event means, when to send, retries or the delivery log: the
//! engine decides events, remembers them in the store, claims deliveries and retries
//! them with backoff. A channel only answers "sent" or "not sent, because ...".

mod b64;
pub mod smtp;
#[cfg(feature = "testing")]
pub mod testing;
pub mod webhook;

use async_trait::async_trait;
use serde::Serialize;

pub use smtp::{SmtpChannel, SmtpSettings, TlsMode};
pub use webhook::{sign, WebhookChannel, WebhookSettings, SIGNATURE_HEADER};

/// One notification as a channel sends it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// The event's id in the store (0 for a message not stored): receivers dedupe by it.
    pub id: i64,
    /// `expiring`, `low_balance`, `order_failed`, `order_unknown`, `sync_failing`,
    /// `price_changed` or `test`.
    pub event: String,
    pub subject: String,
    /// The human text (an email's body).
    pub text: String,
    /// The event's facts for machines (a webhook's `data`).
    pub data: serde_json::Value,
    /// When the event was raised, Unix ms.
    pub at_ms: i64,
}

/// Why a message was not delivered. The text names the channel's peer and what went
/// wrong, never a secret (nor a webhook URL, which often holds a token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SendError(pub String);

impl SendError {
    fn new(s: impl Into<String>) -> Self {
        SendError(bounded(&s.into(), 300))
    }
}

/// `s` on one line, without control characters, at most `max` characters: a peer's
/// answer goes into logs and the delivery log as it is.
pub(crate) fn bounded(s: &str, max: usize) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.trim();
    if clean.chars().count() <= max {
        clean.to_string()
    } else {
        let mut out: String = clean.chars().take(max).collect();
        out.push('…');
        out
    }
}

/// A configured way to reach the operator.
#[async_trait]
pub trait Channel: Send + Sync {
    /// The name given in the configuration (`ops-mail`), unique among channels: the
    /// store keeps one delivery per event and channel name.
    fn name(&self) -> &str;
    /// `email` or `webhook`.
    fn kind(&self) -> &'static str;
    /// One attempt; `Ok` carries what the peer said (`250 queued as ...`, `HTTP 200`).
    async fn send(&self, message: &Message) -> Result<String, SendError>;
}

impl std::fmt::Debug for dyn Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} channel {:?}", self.kind(), self.name())
    }
}

/// `at_ms` as RFC 3339 UTC, for bodies and headers.
pub(crate) fn rfc3339(at_ms: i64) -> String {
    jiff::Timestamp::from_millisecond(at_ms)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| at_ms.to_string())
}
