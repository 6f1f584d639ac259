//! The web console: server-rendered HTML pages in Chinese and English, served by
//! `idcgate serve` at `/` with its assets embedded, for operators who log in with a
//! password (argon2id) and, where required, a TOTP second factor.
//!
//! Owns: operator accounts and sessions (the policy: hashing, TOTP, lockout, timeouts,
//! CSRF, what each role may do), the pages and their texts in both languages.
//!
//! Must not know: vendors, wire formats or SQL. Pages read and act through the engine
//! (and the store's read models), exactly as the CLI and REST do, so an action taken
//! here is audited and reconciled the same way. No page computes a price.

pub mod auth;
pub mod i18n;
pub mod layout;
mod pages;
pub mod session;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use idcgate_engine::Engine;
use idcgate_store::Role;
use std::sync::Arc;

/// How sessions behave; `Default` is what `idcgate serve` uses unless configured.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// A session unused this long ends.
    pub idle_timeout_ms: i64,
    /// A session ends this long after its login, used or not.
    pub absolute_timeout_ms: i64,
    /// Mark cookies Secure: set when the console is reached over TLS.
    pub secure_cookies: bool,
    /// Roles that must enrol a TOTP second factor before using the console.
    pub require_totp: Vec<Role>,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            idle_timeout_ms: 30 * 60 * 1000,
            absolute_timeout_ms: 12 * 60 * 60 * 1000,
            secure_cookies: false,
            require_totp: Vec::new(),
        }
    }
}

/// What every console handler is given.
#[derive(Clone)]
pub struct Console {
    pub engine: Arc<Engine>,
    pub config: Arc<ConsoleConfig>,
    /// Resolution lines per zone as its upstream last named them, and when: the record
    /// editor offers them on every view, and some vendors answer them with two calls.
    pub(crate) lines: Arc<std::sync::Mutex<LineCache>>,
}

pub(crate) type LineCache = std::collections::HashMap<String, (std::time::Instant, Vec<String>)>;

/// The console's routes, ready to merge beside the API.
pub fn router(engine: Arc<Engine>, config: ConsoleConfig) -> Router {
    let console = Console {
        engine,
        config: Arc::new(config),
        lines: Arc::default(),
    };
    Router::new()
        .route("/assets/console.css", get(css))
        .merge(pages::routes())
        .layer(axum::middleware::map_response(security_headers))
        .with_state(console)
}

/// No page may be framed (a confirmation clicked through an invisible frame), run a
/// script from elsewhere, or be sniffed as another type; and no page is cached, since
/// each shows one operator's data.
async fn security_headers(mut r: axum::response::Response) -> axum::response::Response {
    let h = r.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: &'static str, v: &'static str| {
        h.entry(k)
            .or_insert(axum::http::HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, "x-frame-options", "DENY");
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "same-origin");
    set(h, "cache-control", "no-store");
    r
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        layout::CSS,
    )
}
