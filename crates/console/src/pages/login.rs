//! Logging in and out, the second factor, the language switch, and an operator's own
//! security page (password, TOTP enrolment with a QR code, recovery codes).
//!
//! A login form carries a token that matches a short-lived cookie (login CSRF: a
//! session cannot be planted from another site). Every login, failure and change is
//! audited with the operator as actor; a session id changes when a second factor is
//! passed, so a cookie seen before it is worth nothing after.

use crate::auth::{self, normalise_recovery, totp_accepts, LOCKOUT_MS, MAX_FAILED_LOGINS};
use crate::i18n::{Lang, LANG_COOKIE};
use crate::layout::{self, bare_page, csrf};
use crate::session::{self, constant_time_eq, cookie, set_cookie, ClientIp, Op, SESSION_COOKIE};
use crate::Console;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use idcgate_engine::{now_ms, EngineError};
use idcgate_store::{digest, FailureLimit, SessionStage};
use maud::html;
use serde::Deserialize;

const LOGIN_COOKIE: &str = "idcgate_login";

/// Failed logins (passwords and second-factor codes, any name) one address may make:
/// beyond the per-operator lockout, this stops one client guessing across many names.
const PEER_LIMIT: FailureLimit = FailureLimit {
    max: 20,
    window_ms: 10 * 60 * 1000,
    lock_ms: 15 * 60 * 1000,
};
const PEER_SCOPE: &str = "console.peer";

/// Whether `peer` is locked out of logging in now.
async fn peer_locked(console: &Console, peer: &ClientIp) -> bool {
    let Some(ip) = peer.0 else { return false };
    console
        .engine
        .operators()
        .locked_until(PEER_SCOPE, &ip.to_string(), now_ms())
        .await
        .ok()
        .flatten()
        .is_some()
}

/// Counts a failed login against `peer`; a lockout it starts is audited.
async fn peer_failed(console: &Console, peer: &ClientIp) {
    let Some(ip) = peer.0 else { return };
    let counted = console
        .engine
        .operators()
        .count_failure(PEER_SCOPE, &ip.to_string(), now_ms(), PEER_LIMIT)
        .await;
    match counted {
        Ok(c) if c.started => {
            let r: Result<(), EngineError> = Err(EngineError::Invalid(format!(
                "{} failed logins from this address: locked for {} minutes",
                PEER_LIMIT.max,
                PEER_LIMIT.lock_ms / 60_000
            )));
            console
                .engine
                .audit(
                    &format!("peer:{ip}"),
                    "console.lockout",
                    &ip.to_string(),
                    &r,
                    |_| String::new(),
                )
                .await;
        }
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "cannot count a failed login"),
    }
}

/// Counts a wrong password or code against the operator `name`: the lock's end when
/// this failure locks them out. A store that cannot count reads as no lock: this try is
/// refused either way.
async fn operator_failed(console: &Console, name: &str, now: i64) -> Option<i64> {
    console
        .engine
        .operators()
        .login_failed(name, now, MAX_FAILED_LOGINS, LOCKOUT_MS)
        .await
        .ok()
        .flatten()
}

fn too_many_from_here(lang: Lang) -> &'static str {
    lang.t(
        "此地址登录失败次数过多，请 15 分钟后再试。",
        "Too many failed logins from this address; try again in 15 minutes.",
    )
}

pub fn routes() -> Router<Console> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/login/totp", get(totp_page).post(totp_login))
        .route("/logout", post(logout))
        .route("/lang/{code}", get(switch_lang))
        .route("/account/security", get(security_page))
        .route("/account/password", post(change_password))
        .route("/account/totp/start", post(totp_start))
        .route("/account/totp/confirm", post(totp_confirm))
}

#[derive(Deserialize, Default)]
struct Next {
    #[serde(default)]
    next: String,
}

/// Where to go after logging in: a path on this console, never another site.
fn safe_next(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control());
    if ok && !next.starts_with("/login") {
        next
    } else {
        "/"
    }
}

fn with_cookies(mut r: Response, cookies: &[String]) -> Response {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

/// A page of the way in (login, second factor): why the last try failed, the form
/// posting back to `path` (`fields`, then its `submit` button), and what follows it.
fn entry_page(
    lang: Lang,
    (path, title, submit): (&str, &str, &str),
    error: Option<&str>,
    fields: maud::Markup,
    after: maud::Markup,
) -> maud::Markup {
    bare_page(
        lang,
        path,
        title,
        html! {
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form.stack method="post" action=(path) {
                (fields)
                button type="submit" { (submit) }
            }
            (after)
        },
    )
}

fn login_form(lang: Lang, next: &str, token: &str, error: Option<&str>) -> maud::Markup {
    let fields = html! {
        input type="hidden" name="token" value=(token);
        input type="hidden" name="next" value=(next);
        label { (lang.t("用户名", "User name"))
            input type="text" name="name" autocomplete="username" required autofocus maxlength="64"; }
        label { (lang.t("密码", "Password"))
            input type="password" name="password" autocomplete="current-password" required maxlength="1024"; }
    };
    let title = lang.t("登录", "Log in");
    entry_page(lang, ("/login", title, title), error, fields, html! {})
}

/// The login page, with a fresh login token in a cookie and in the form.
fn login_response(
    console: &Console,
    lang: Lang,
    next: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let token = match auth::random_token() {
        Ok(t) => t,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let page = login_form(lang, safe_next(next), &token, error);
    let mut r = (status, Html(page.into_string())).into_response();
    r = with_cookies(
        r,
        &[set_cookie(
            console.config.secure_cookies,
            LOGIN_COOKIE,
            &token,
            Some(3600),
        )],
    );
    r
}

async fn login_page(
    State(console): State<Console>,
    lang: Lang,
    headers: HeaderMap,
    Query(q): Query<Next>,
) -> Response {
    if let Some((_, s)) = session::lookup(&console, &headers).await {
        if s.stage == SessionStage::Full {
            return Redirect::to(safe_next(&q.next)).into_response();
        }
    }
    login_response(&console, lang, &q.next, None, StatusCode::OK)
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

async fn login(
    State(console): State<Console>,
    lang: Lang,
    peer: ClientIp,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    // The login page again, saying why.
    let again = |msg: &str, status| login_response(&console, lang, &f.next, Some(msg), status);
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), f.token.as_bytes()) {
        let msg = lang.t(
            "登录表单已过期，请重试。",
            "The login form expired; please try again.",
        );
        return again(msg, StatusCode::FORBIDDEN);
    }
    if peer_locked(&console, &peer).await {
        return again(too_many_from_here(lang), StatusCode::TOO_MANY_REQUESTS);
    }
    let engine = &console.engine;
    let name: String = f.name.trim().chars().take(64).collect();
    let now = now_ms();
    let operator = match engine.operators().get(&name).await {
        Ok(o) => o,
        Err(e) => {
            tracing::error!(error = %e, "cannot read operator");
            let msg = lang.t(
                "暂时无法登录，请稍后再试。",
                "Logging in is not possible right now; try again shortly.",
            );
            return again(msg, StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    let refused = lang.t("用户名或密码错误。", "Wrong user name or password.");
    let Some(operator) = operator else {
        // As slow as a real check, so a name's existence cannot be timed.
        auth::verify_password(&f.password, auth::decoy_hash());
        audit_login(&console, &name, Err("no such operator".into())).await;
        peer_failed(&console, &peer).await;
        return again(refused, StatusCode::UNAUTHORIZED);
    };
    if operator.locked_until_ms > now {
        audit_login(&console, &name, Err("refused: locked out".into())).await;
        let msg = format!(
            "{} {}",
            lang.t(
                "失败次数过多，账号已锁定至",
                "Too many failed logins; the account is locked until"
            ),
            layout::time(operator.locked_until_ms)
        );
        return again(&msg, StatusCode::TOO_MANY_REQUESTS);
    }
    if !auth::verify_password(&f.password, &operator.password_hash) {
        let locked = operator_failed(&console, &name, now).await;
        let detail = match locked {
            Some(_) => format!("wrong password; locked for {} minutes", LOCKOUT_MS / 60_000),
            None => "wrong password".into(),
        };
        audit_login(&console, &name, Err(detail)).await;
        return again(refused, StatusCode::UNAUTHORIZED);
    }
    let stage = if operator.totp_enabled {
        SessionStage::SecondFactor
    } else {
        SessionStage::Full
    };
    if stage == SessionStage::Full {
        let _ = engine.operators().login_succeeded(&name).await;
        audit_login(&console, &name, Ok("logged in".into())).await;
    }
    match start_session(&console, &name, stage).await {
        Ok(cookie) => {
            let to = if stage == SessionStage::Full {
                safe_next(&f.next).to_string()
            } else {
                format!("/login/totp?next={}", layout::enc(safe_next(&f.next)))
            };
            with_cookies(
                Redirect::to(&to).into_response(),
                &[
                    cookie,
                    set_cookie(console.config.secure_cookies, LOGIN_COOKIE, "", Some(0)),
                ],
            )
        }
        Err(r) => r,
    }
}

/// A new session for `operator`; its cookie.
async fn start_session(
    console: &Console,
    operator: &str,
    stage: SessionStage,
) -> Result<String, Response> {
    let fail = |e: String| {
        tracing::error!(error = %e, "cannot start console session");
        (StatusCode::SERVICE_UNAVAILABLE, "cannot start a session").into_response()
    };
    let id = auth::random_token().map_err(|e| fail(e.to_string()))?;
    let csrf = auth::random_token().map_err(|e| fail(e.to_string()))?;
    console
        .engine
        .operators()
        .create_session(&digest(&id), operator, &csrf, stage, now_ms())
        .await
        .map_err(|e| fail(e.to_string()))?;
    Ok(set_cookie(
        console.config.secure_cookies,
        SESSION_COOKIE,
        &id,
        Some(console.config.absolute_timeout_ms / 1000),
    ))
}

async fn audit_login(console: &Console, name: &str, result: Result<String, String>) {
    let r: Result<String, EngineError> = result.map_err(EngineError::Invalid);
    let actor = format!("console:{name}");
    console
        .engine
        .audit(&actor, "console.login", name, &r, |d| d.clone())
        .await;
}

fn totp_form(lang: Lang, next: &str, error: Option<&str>) -> maud::Markup {
    let fields = html! {
        input type="hidden" name="next" value=(next);
        label { (lang.t("验证器中的 6 位验证码，或一个恢复码", "The 6-digit code from your authenticator, or a recovery code"))
            input type="text" name="code" autocomplete="one-time-code" inputmode="numeric" required autofocus maxlength="32"; }
    };
    let cancel = html! {
        form.inline method="post" action="/logout" {
            button.link type="submit" { (lang.t("取消", "Cancel")) }
        }
    };
    let page = (
        "/login/totp",
        lang.t("两步验证", "Two-factor check"),
        lang.t("验证", "Verify"),
    );
    entry_page(lang, page, error, fields, cancel)
}

async fn totp_page(
    State(console): State<Console>,
    lang: Lang,
    headers: HeaderMap,
    Query(q): Query<Next>,
) -> Response {
    match session::lookup(&console, &headers).await {
        Some((_, s)) if s.stage == SessionStage::SecondFactor => {
            Html(totp_form(lang, safe_next(&q.next), None).into_string()).into_response()
        }
        Some(_) => Redirect::to(safe_next(&q.next)).into_response(),
        None => Redirect::to("/login").into_response(),
    }
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    next: String,
    #[serde(default)]
    code: String,
}

async fn totp_login(
    State(console): State<Console>,
    lang: Lang,
    peer: ClientIp,
    headers: HeaderMap,
    Form(f): Form<CodeForm>,
) -> Response {
    // The half-open session is the CSRF guard here: it is SameSite=Strict and was
    // made by this console's own login form.
    let Some((old_digest, s)) = session::lookup(&console, &headers).await else {
        return Redirect::to("/login").into_response();
    };
    if s.stage != SessionStage::SecondFactor {
        return Redirect::to(safe_next(&f.next)).into_response();
    }
    let operators = console.engine.operators();
    let name = s.operator.clone();
    let now = now_ms();
    if let Ok(Some(o)) = operators.get(&name).await {
        if o.locked_until_ms > now {
            let _ = operators.end_session(&old_digest).await;
            audit_login(
                &console,
                &name,
                Err("refused at second factor: locked out".into()),
            )
            .await;
            return Redirect::to("/login").into_response();
        }
    }
    let totp = match operators.totp(&name).await {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "cannot read second factor");
            return (StatusCode::SERVICE_UNAVAILABLE, "cannot check the code").into_response();
        }
    };
    let secret = totp.secret.unwrap_or_default();
    let code = f.code.trim();
    let by_totp = totp.enabled && totp_accepts(&secret, code, now / 1000);
    let by_recovery = !by_totp
        && code.len() > 6
        && operators
            .use_recovery_code(&name, &digest(&normalise_recovery(code)))
            .await
            .unwrap_or(false);
    if !(by_totp || by_recovery) {
        let locked = operator_failed(&console, &name, now).await;
        audit_login(&console, &name, Err("wrong second-factor code".into())).await;
        peer_failed(&console, &peer).await;
        if locked.is_some() {
            let _ = operators.end_session(&old_digest).await;
            return Redirect::to("/login").into_response();
        }
        let msg = lang.t("验证码错误。", "Wrong code.");
        let mut r =
            Html(totp_form(lang, safe_next(&f.next), Some(msg)).into_string()).into_response();
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        return r;
    }
    let _ = operators.login_succeeded(&name).await;
    let _ = operators.end_session(&old_digest).await;
    let how = if by_totp {
        "logged in with a TOTP code".to_string()
    } else {
        "logged in with a recovery code (used up)".to_string()
    };
    audit_login(&console, &name, Ok(how)).await;
    match start_session(&console, &name, SessionStage::Full).await {
        Ok(c) => with_cookies(Redirect::to(safe_next(&f.next)).into_response(), &[c]),
        Err(r) => r,
    }
}

#[derive(Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(console): State<Console>,
    headers: HeaderMap,
    form: Result<Form<CsrfOnly>, axum::extract::rejection::FormRejection>,
) -> Response {
    let clear = || {
        with_cookies(
            Redirect::to("/login").into_response(),
            &[set_cookie(
                console.config.secure_cookies,
                SESSION_COOKIE,
                "",
                Some(0),
            )],
        )
    };
    let Some((id_digest, s)) = session::lookup(&console, &headers).await else {
        return clear();
    };
    // A full session ends only by its own form (no logging out from another site);
    // a half-open one (password only) may always be abandoned.
    let token = form.map(|f| f.0.csrf).unwrap_or_default();
    if s.stage == SessionStage::Full && !constant_time_eq(token.as_bytes(), s.csrf.as_bytes()) {
        return Redirect::to("/").into_response();
    }
    let _ = console.engine.operators().end_session(&id_digest).await;
    let r: Result<String, EngineError> = Ok("logged out".into());
    console
        .engine
        .audit(
            &format!("console:{}", s.operator),
            "console.logout",
            &s.operator,
            &r,
            |d| d.clone(),
        )
        .await;
    clear()
}

async fn switch_lang(
    State(console): State<Console>,
    Path(code): Path<String>,
    Query(q): Query<Next>,
) -> Response {
    let lang = Lang::parse(&code).unwrap_or(Lang::Zh);
    let next = if q.next.starts_with("/login") {
        "/login"
    } else {
        safe_next(&q.next)
    };
    with_cookies(
        Redirect::to(next).into_response(),
        &[set_cookie(
            console.config.secure_cookies,
            LANG_COOKIE,
            lang.code(),
            Some(365 * 86_400),
        )],
    )
}

async fn security_page(State(console): State<Console>, op: Op) -> Response {
    security_view(&console, &op, None, None).await
}

/// The security page; `enrolling` holds a secret being enrolled, `codes` recovery
/// codes to show once.
async fn security_view(
    console: &Console,
    op: &Op,
    enrolling: Option<&str>,
    codes: Option<&[String]>,
) -> Response {
    let required = console.config.require_totp.contains(&op.role);
    let body = html! {
        section {
            h2 { (op.t("两步验证 (TOTP)", "Two-factor authentication (TOTP)")) }
            @if let Some(codes) = codes {
                p.notice { (op.t("两步验证已启用。请保存以下恢复码，每个只能使用一次，且只显示这一次：", "Two-factor authentication is on. Keep these recovery codes; each works once and they are shown only now:")) }
                ul.codes { @for c in codes { li { code { (c) } } } }
            } @else if op.totp_enabled {
                p { (op.t("已启用。登录时需要验证器中的验证码。", "On. Logging in asks for your authenticator's code.")) }
            } @else if let Some(secret) = enrolling {
                p { (op.t("用验证器应用扫描二维码（或手动输入密钥），然后输入它显示的 6 位验证码：", "Scan the QR code with an authenticator app (or type the key), then enter the 6-digit code it shows:")) }
                div.qr { (layout::raw(&auth::qr_svg(&auth::otpauth_uri(&op.name, secret)).unwrap_or_default())) }
                p { (op.t("密钥：", "Key: ")) code.secret { (secret) } }
                form.stack method="post" action="/account/totp/confirm" {
                    (csrf(op))
                    label { (op.t("验证码", "Code")) input type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="6"; }
                    button type="submit" { (op.t("启用", "Turn on")) }
                }
            } @else {
                @if required {
                    p.error { (op.t("你的角色要求启用两步验证后才能使用控制台。", "Your role must turn on two-factor authentication before using the console.")) }
                } @else {
                    p { (op.t("未启用。", "Off.")) }
                }
                form method="post" action="/account/totp/start" {
                    (csrf(op))
                    button type="submit" { (op.t("设置两步验证", "Set up two-factor authentication")) }
                }
            }
        }
        section {
            h2 { (op.t("修改密码", "Change password")) }
            form.stack method="post" action="/account/password" {
                (csrf(op))
                label { (op.t("当前密码", "Current password")) input type="password" name="current" autocomplete="current-password" required maxlength="1024"; }
                label { (op.t("新密码（至少 10 个字符）", "New password (at least 10 characters)")) input type="password" name="new" autocomplete="new-password" required minlength="10" maxlength="1024"; }
                button type="submit" { (op.t("修改", "Change")) }
            }
            p.hint { (op.t("修改后所有会话都会结束，需要重新登录。", "Changing it ends every session; you log in again.")) }
        }
    };
    layout::page(op, op.t("账号安全", "Account security"), body)
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
}

async fn change_password(
    State(console): State<Console>,
    op: Op,
    Form(f): Form<PasswordForm>,
) -> Response {
    if let Err(r) = op.form_ok(&f.csrf) {
        return r.into_response();
    }
    let current_ok = match console.engine.operators().get(&op.name).await {
        Ok(Some(o)) => auth::verify_password(&f.current, &o.password_hash),
        _ => false,
    };
    if !current_ok {
        return layout::refusal(
            &op,
            StatusCode::FORBIDDEN,
            op.t("当前密码不对。", "The current password is wrong."),
        );
    }
    let ops = auth::Operators {
        engine: &console.engine,
        actor: &format!("console:{}", op.name),
    };
    match ops.set_password(&op.name, &f.new).await {
        Ok(()) => Redirect::to("/login").into_response(),
        Err(e) => layout::refusal(&op, StatusCode::BAD_REQUEST, &e.to_string()),
    }
}

async fn totp_start(State(console): State<Console>, op: Op, Form(f): Form<CsrfOnly>) -> Response {
    if let Err(r) = op.form_ok(&f.csrf) {
        return r.into_response();
    }
    if op.totp_enabled {
        return Redirect::to("/account/security").into_response();
    }
    let secret = match auth::new_totp_secret() {
        Ok(s) => s,
        Err(e) => return layout::refusal(&op, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    match console
        .engine
        .operators()
        .begin_totp(&op.name, &secret, now_ms())
        .await
    {
        Ok(true) => security_view(&console, &op, Some(&secret), None).await,
        Ok(false) => Redirect::to("/account/security").into_response(),
        Err(e) => layout::refusal(&op, StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

async fn totp_confirm(
    State(console): State<Console>,
    op: Op,
    Form(f): Form<CodeFormCsrf>,
) -> Response {
    if let Err(r) = op.form_ok(&f.csrf) {
        return r.into_response();
    }
    let operators = console.engine.operators();
    let pending = match operators.totp(&op.name).await {
        Ok(t) if !t.enabled => t.secret,
        _ => None,
    };
    let Some(secret) = pending else {
        return Redirect::to("/account/security").into_response();
    };
    if !totp_accepts(&secret, &f.code, now_ms() / 1000) {
        let mut r = security_view(&console, &op, Some(&secret), None).await;
        *r.status_mut() = StatusCode::BAD_REQUEST;
        return r;
    }
    let (codes, digests) = match auth::new_recovery_codes() {
        Ok(c) => c,
        Err(e) => return layout::refusal(&op, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let result = operators
        .confirm_totp(&op.name, &digests, now_ms())
        .await
        .map_err(EngineError::from);
    console
        .engine
        .audit(
            &format!("console:{}", op.name),
            "operator.totp_enrol",
            &op.name,
            &result,
            |_| "second factor enrolled; recovery codes issued".into(),
        )
        .await;
    match result {
        Ok(true) => {
            let mut op = op;
            op.totp_enabled = true;
            security_view(&console, &op, None, Some(&codes)).await
        }
        Ok(false) => Redirect::to("/account/security").into_response(),
        Err(e) => layout::refusal(&op, StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

#[derive(Deserialize)]
struct CodeFormCsrf {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_console() {
        assert_eq!(safe_next("/dns/example.com?x=1"), "/dns/example.com?x=1");
        for bad in [
            "//evil.example",
            "/\\evil",
            "https://evil",
            "",
            "/login?next=/",
            "/a\nb",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }
}
