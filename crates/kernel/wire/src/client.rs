//! The HTTP client every vendor client sends through.
//!
//! The transport under [`crate::exchange`]: User-Agent, timeouts, the per-account rate
//! limit, and logging with secrets blanked. Retry and outcome policy live in `exchange`.

use crate::exchange::Failure;
use crate::ratelimit::{RateLimiter, SharedGate, SharedLimit};
use crate::redact::Redactor;
use bytes::Bytes;
use idcgate_core::{Error, Result, Vendor};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct WireConfig {
    pub user_agent: String,
    pub timeout: Duration,
    /// Extra attempts for reads that failed in transport or whose answer was unreadable.
    /// Writes are never retried.
    pub read_retries: u32,
    /// Where accounts' send slots are reserved when other processes call the same
    /// accounts (the engine sets its database here); `None`: this process alone.
    pub rate_gate: Option<SharedGate>,
}

impl WireConfig {
    /// `contact` is the operator's address, as DNSPod's abuse rules ask every client to say.
    pub fn new(contact: &str) -> Self {
        WireConfig {
            user_agent: format!("idcgate/{} ({contact})", env!("CARGO_PKG_VERSION")),
            timeout: Duration::from_secs(30),
            read_retries: 2,
            rate_gate: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

#[derive(Debug, Clone)]
pub struct WireRequest {
    pub method: Method,
    pub url: String,
    pub body: Option<Vec<u8>>,
    pub content_type: Option<String>,
    pub headers: Vec<(String, String)>,
}

impl WireRequest {
    pub fn form_post(url: impl Into<String>, body: String, charset_label: &str) -> Self {
        WireRequest {
            method: Method::Post,
            url: url.into(),
            body: Some(body.into_bytes()),
            content_type: Some(format!(
                "application/x-www-form-urlencoded; charset={charset_label}"
            )),
            headers: Vec::new(),
        }
    }

    pub fn get(url: impl Into<String>) -> Self {
        WireRequest {
            method: Method::Get,
            url: url.into(),
            body: None,
            content_type: None,
            headers: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct WireResponse {
    pub status: u16,
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl WireResponse {
    pub fn header<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub struct HttpClient {
    vendor: Vendor,
    http: reqwest::Client,
    limiter: Arc<RateLimiter>,
    rate_per_sec: u32,
    shared: Option<SharedLimit>,
    redactor: Redactor,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("vendor", &self.vendor)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    pub fn new(
        vendor: Vendor,
        cfg: &WireConfig,
        rate_per_sec: u32,
        redactor: Redactor,
    ) -> Result<Self> {
        let http = reqwest::Client::builder()
            .user_agent(cfg.user_agent.clone())
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| Error::Transport {
                vendor: vendor.to_string(),
                message: format!("cannot build HTTP client: {e}"),
            })?;
        Ok(HttpClient {
            vendor,
            http,
            limiter: Arc::new(RateLimiter::new(rate_per_sec)),
            rate_per_sec,
            shared: None,
            redactor,
        })
    }

    /// Holds the rate limit together with every other process that reserves `account`'s
    /// slots through `gate`, not only within this one.
    pub fn shared_by(mut self, gate: &SharedGate, account: &str) -> Self {
        self.shared = SharedLimit::new(gate.0.clone(), account, self.rate_per_sec);
        self
    }

    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Sends one request under the account's rate limit, once. Policy (retries,
    /// outcomes) belongs to [`crate::exchange::Exchange`]; this is only the transport.
    pub async fn transmit(
        &self,
        action: &str,
        req: &WireRequest,
    ) -> std::result::Result<WireResponse, Failure> {
        // Locally first: a process over the limit on its own waits without asking the gate.
        self.limiter.acquire().await;
        if let Some(shared) = &self.shared {
            shared.acquire().await;
        }
        tracing::debug!(vendor = %self.vendor, action, "upstream call");
        if let Some(body) = &req.body {
            tracing::trace!(
                vendor = %self.vendor,
                body = %self.redactor.redact(&loggable_form(body)),
                "request body"
            );
        }
        match self.send_once(req).await {
            Ok(resp) => {
                tracing::trace!(
                    vendor = %self.vendor,
                    status = resp.status,
                    body = %self.redactor.redact(&String::from_utf8_lossy(&resp.body)),
                    "response body"
                );
                Ok(resp)
            }
            Err(e) => Err(Failure {
                reached: !e.is_connect() && !e.is_builder(),
                message: self.redactor.redact(&describe(&e)),
            }),
        }
    }

    async fn send_once(
        &self,
        req: &WireRequest,
    ) -> std::result::Result<WireResponse, reqwest::Error> {
        let mut builder = match req.method {
            Method::Get => self.http.get(&req.url),
            Method::Post => self.http.post(&req.url),
        };
        if let Some(ct) = &req.content_type {
            builder = builder.header(reqwest::header::CONTENT_TYPE, ct);
        }
        for (k, v) in &req.headers {
            builder = builder.header(k, v);
        }
        if let Some(body) = &req.body {
            builder = builder.body(body.clone());
        }
        let resp = builder.send().await?;
        let status = resp.status().as_u16();
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let content_type = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let body = resp.bytes().await?;
        Ok(WireResponse {
            status,
            content_type,
            headers,
            body,
        })
    }
}

/// A form body as it may be logged: secret-looking parameters blanked, also inside
/// JSON-valued parameters (XenSystem's `cmd_params` carries `newPassword`).
fn loggable_form(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if !text.contains('=') {
        return text.into_owned();
    }
    text.split('&')
        .map(|pair| {
            let Some((raw_key, raw_value)) = pair.split_once('=') else {
                return pair.to_string();
            };
            let decoded = crate::form::decode(pair.as_bytes());
            let Some((key, value)) = decoded.first() else {
                return pair.to_string();
            };
            if crate::redact::is_secret_name(key) {
                return format!("{raw_key}=[redacted]");
            }
            match serde_json::from_str::<serde_json::Value>(value) {
                Ok(json @ serde_json::Value::Object(_)) => {
                    format!("{raw_key}={}", crate::redact::scrub_json(&json))
                }
                _ => format!("{raw_key}={raw_value}"),
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn describe(e: &reqwest::Error) -> String {
    // reqwest's Display includes the URL, which may carry credentials in a query string.
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "broken response body"
    } else if e.is_request() {
        "request failed"
    } else {
        "HTTP error"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        what.to_string()
    } else {
        format!("{what}: {detail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_forms_hide_secret_parameters() {
        let body = b"Action=user_add&password=hunter22&api_key=k1&vcode=123456&cmd_params=%7B%22newPassword%22%3A1%7D&name=ok";
        let shown = loggable_form(body);
        assert_eq!(
            shown,
            "Action=user_add&password=[redacted]&api_key=[redacted]&vcode=[redacted]&cmd_params={\"newPassword\":\"[redacted]\"}&name=ok"
        );
        assert!(!shown.contains("hunter22") && !shown.contains("123456"));
    }
}
