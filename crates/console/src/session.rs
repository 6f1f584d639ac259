//! Sessions: the cookie, the logged-in operator every page and action starts from
//! (`Op`), what each role may do (`Act`), CSRF tokens on every form, and one-shot
//! notices carried across a redirect.
//!
//! Every page handler takes an `Op`; without a full session it never runs (the
//! request is sent to the login page). Every handler that changes something calls
//! `op.allow(act)` and `op.form_ok(token)` first, so a role is enforced on the server
//! whatever a page shows.

use crate::i18n::Lang;
use crate::Console;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use idcgate_engine::now_ms;
use idcgate_store::{digest, Role, SessionStage};

pub const SESSION_COOKIE: &str = "idcgate_session";
const FLASH_COOKIE: &str = "idcgate_flash";

/// What an action needs; `Role::may` says who has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// See pages.
    Read,
    /// Change resources: DNS records, server power, reinstall, passwords, syncs.
    Operate,
    /// Move money: orders, renewals, tenant deposits and credit, products.
    Money,
    /// Operators, upstream accounts, API tokens.
    Administer,
}

pub fn may(role: Role, act: Act) -> bool {
    match act {
        Act::Read => true,
        Act::Operate => matches!(role, Role::Admin | Role::Operator),
        Act::Money => matches!(role, Role::Admin | Role::Finance),
        Act::Administer => role == Role::Admin,
    }
}

/// The value of cookie `name` in a request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value: HttpOnly and SameSite=Strict always, Secure when the console
/// is served over TLS (or says it is behind a proxy that terminates it).
pub fn set_cookie(secure: bool, name: &str, value: &str, max_age_s: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age_s {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// A redirect after a form, with a notice for the next page (Post/Redirect/Get).
pub fn redirect_with(op: &Op, to: &str, notice: &str) -> Response {
    let value: String =
        percent_encoding::utf8_percent_encode(notice, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    let mut r = Redirect::to(to).into_response();
    if let Ok(v) = HeaderValue::from_str(&set_cookie(op.secure, FLASH_COOKIE, &value, Some(60))) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// The client's address, as the server in front of the console saw it (absent when
/// the console is served without it, as in some tests).
pub struct ClientIp(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts.extensions.get::<std::net::IpAddr>().copied(),
        ))
    }
}

/// A page refusing what was asked (boxed: a response is large and most handlers
/// succeed). Handlers return `Page` and use `?` on `allow`, `form_ok` and friends.
pub struct Refusal(Box<Response>);

impl Refusal {
    pub fn new(r: Response) -> Self {
        Refusal(Box::new(r))
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        *self.0
    }
}

impl From<Response> for Refusal {
    fn from(r: Response) -> Self {
        Refusal::new(r)
    }
}

/// What a page handler answers.
pub type Page = Result<Response, Refusal>;

/// The logged-in operator of a request.
#[derive(Clone)]
pub struct Op {
    pub name: String,
    pub role: Role,
    pub lang: Lang,
    pub csrf: String,
    pub totp_enabled: bool,
    /// The notice a redirect carried here, shown once.
    pub notice: Option<String>,
    /// The path asked for, so a page knows its own address.
    pub path: String,
    /// Whether cookies are marked Secure (TLS in front).
    pub secure: bool,
}

impl Op {
    pub fn may(&self, act: Act) -> bool {
        may(self.role, act)
    }

    /// `Err` (a 403 page) unless this operator's role allows `act`.
    pub fn allow(&self, act: Act) -> Result<(), Refusal> {
        self.forbidden_unless(
            self.may(act),
            self.t(
                "你的角色不允许此操作。",
                "Your role does not allow this action.",
            ),
        )
    }

    /// `Err` (a 403 page) unless a form carried this session's CSRF token.
    pub fn form_ok(&self, token: &str) -> Result<(), Refusal> {
        self.forbidden_unless(
            constant_time_eq(token.as_bytes(), self.csrf.as_bytes()),
            self.t(
                "表单已过期或来源不明，请返回刷新后重试。",
                "The form expired or did not come from this console; go back, reload and try again.",
            ),
        )
    }

    fn forbidden_unless(&self, ok: bool, why: &str) -> Result<(), Refusal> {
        if ok {
            return Ok(());
        }
        let page = crate::layout::refusal(self, StatusCode::FORBIDDEN, why);
        Err(Refusal::new(page))
    }

    /// `allow` and `form_ok` together: what every changing handler starts with.
    pub fn may_submit(&self, act: Act, token: &str) -> Result<(), Refusal> {
        self.form_ok(token)?;
        self.allow(act)
    }

    /// A posted form's fields: read (a 400 page when it does not decode), then
    /// `may_submit` on the token it carried, in that order.
    pub fn submitted<T: Posted>(
        &self,
        act: Act,
        form: Result<axum::Form<T>, axum::extract::rejection::FormRejection>,
    ) -> Result<T, Refusal> {
        let axum::Form(f) = crate::layout::read(self, form)?;
        self.may_submit(act, f.csrf())?;
        Ok(f)
    }

    pub fn t(&self, zh: &'static str, en: &'static str) -> &'static str {
        self.lang.t(zh, en)
    }
}

/// A form the console's pages post: every one carries the session's CSRF token.
pub trait Posted {
    fn csrf(&self) -> &str;
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// A session as the cookie names it, whatever its stage.
pub(crate) async fn lookup(
    console: &Console,
    headers: &HeaderMap,
) -> Option<(String, idcgate_store::SessionRow)> {
    let id = cookie(headers, SESSION_COOKIE)?;
    let id_digest = digest(&id);
    let now = now_ms();
    let c = &console.config;
    match console
        .engine
        .operators()
        .session(
            &id_digest,
            now,
            now - c.idle_timeout_ms,
            now - c.absolute_timeout_ms,
        )
        .await
    {
        Ok(Some(s)) => Some((id_digest, s)),
        Ok(None) => None,
        Err(e) => {
            tracing::error!(error = %e, "cannot read console session");
            None
        }
    }
}

impl FromRequestParts<Console> for Op {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, Response> {
        let lang = Lang::of(&parts.headers);
        let path = parts.uri.path().to_string();
        let back = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let login = || {
            let next: String =
                percent_encoding::utf8_percent_encode(back, percent_encoding::NON_ALPHANUMERIC)
                    .to_string();
            Redirect::to(&format!("/login?next={next}")).into_response()
        };
        let Some((_, s)) = lookup(console, &parts.headers).await else {
            return Err(login());
        };
        if s.stage == SessionStage::SecondFactor {
            return Err(Redirect::to("/login/totp").into_response());
        }
        // An operator whose role must use a second factor enrols before anything else.
        let enrolling = path.starts_with("/account/") || path == "/logout";
        if !s.totp_enabled && console.config.require_totp.contains(&s.role) && !enrolling {
            return Err(Redirect::to("/account/security").into_response());
        }
        let notice = cookie(&parts.headers, FLASH_COOKIE).map(|v| {
            percent_encoding::percent_decode_str(&v)
                .decode_utf8_lossy()
                .chars()
                .take(300)
                .collect()
        });
        Ok(Op {
            name: s.operator,
            role: s.role,
            lang,
            csrf: s.csrf,
            totp_enabled: s.totp_enabled,
            notice,
            path,
            secure: console.config.secure_cookies,
        })
    }
}

/// Clears the notice once a page showed it.
pub(crate) fn clear_notice(op: &Op, response: &mut Response) {
    if let Ok(v) = HeaderValue::from_str(&set_cookie(op.secure, FLASH_COOKIE, "", Some(0))) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_allow_what_they_name() {
        use Act::*;
        let allowed = |r| {
            [Read, Operate, Money, Administer]
                .into_iter()
                .filter(|a| may(r, *a))
                .collect::<Vec<_>>()
        };
        assert_eq!(allowed(Role::Viewer), vec![Read]);
        assert_eq!(allowed(Role::Finance), vec![Read, Money]);
        assert_eq!(allowed(Role::Operator), vec![Read, Operate]);
        assert_eq!(allowed(Role::Admin), vec![Read, Operate, Money, Administer]);
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut h = HeaderMap::new();
        h.insert(
            "cookie",
            "xidcgate_session=no; idcgate_session=yes".parse().unwrap(),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("yes"));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
