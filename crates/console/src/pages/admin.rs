//! Administration pages: upstream accounts (list, add, test, remove), API tokens
//! (list, create, revoke), the audit log, and the console's operators (through
//! `auth::Operators`, as `idcgate user` does it).
//!
//! Secrets go one way: an account's credentials are taken by a form and sealed by the
//! store, and never shown again, not even their lengths; a new token, tenant key or
//! operator password is shown once on the page that answers the form, never in a
//! notice, a redirect or the audit log.

use super::{posted, ConfirmForm, CsrfForm, FormIn, ListIn, NameIn, QueryIn};
use crate::auth::{self, Operators};
use crate::layout::{self, csrf, Col, Confirm, ConfirmBy, ListQuery};
use crate::session::{self, Act, Op, Page, Refusal};
use crate::Console;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::Router;
use idcgate_core::{Credentials, UpstreamAccount, Vendor};
use idcgate_engine::accounts::NewAccount;
use idcgate_engine::EngineError;
use idcgate_store::{AuditFilter, ListPage, Role, Scope, StoreError, TokenInfo};
use maud::{html, Markup};
use serde::Deserialize;
use std::cmp::Ordering;

pub fn routes() -> Router<Console> {
    Router::new()
        .route("/accounts", get(accounts).post(add_account))
        .route("/accounts/{name}/test", post(test_account))
        .route(
            "/accounts/{name}/remove",
            get(remove_account_page).post(remove_account),
        )
        .route("/tokens", get(tokens).post(create_token))
        .route("/tokens/{id}/revoke", get(revoke_page).post(revoke_token))
        .route("/audit", get(audit))
        .route("/operators", get(operators).post(add_operator))
        .route("/operators/{name}/role", post(set_role))
        .route("/operators/{name}/password", post(new_password))
        .route("/operators/{name}/reset2fa", post(reset_2fa))
        .route(
            "/operators/{name}/remove",
            get(remove_operator_page).post(remove_operator),
        )
}

/// The newest entries whose outcomes the outcome filter offers.
const AUDIT_OUTCOMES: i64 = 10_000;
/// The most credential fields, and characters in one value, an account form takes.
const MAX_CREDENTIALS: usize = 20;
const MAX_SECRET_CHARS: usize = 4096;

fn auth_err(op: &Op) -> impl Fn(auth::AuthError) -> Refusal + '_ {
    move |e| match e {
        auth::AuthError::Engine(e) => layout::engine_error(op, &e),
        auth::AuthError::Store(e) => layout::engine_error(op, &e.into()),
        auth::AuthError::NoSuchOperator(_) => layout::not_found(op, &e.to_string()),
        auth::AuthError::Random(_) => {
            layout::engine_error(op, &EngineError::Invalid(e.to_string()))
        }
        auth::AuthError::Invalid(m) => layout::bad_input(op, &m),
    }
}

// ---------------------------------------------------------------------------------
// Upstream accounts

fn account_cmp(key: &str) -> impl Fn(&UpstreamAccount, &UpstreamAccount) -> Ordering + '_ {
    move |a, b| {
        let by = match key {
            "vendor" => a.vendor.as_str().cmp(b.vendor.as_str()),
            "base_url" => layout::shown_url(&a.base_url).cmp(&layout::shown_url(&b.base_url)),
            "rate" => a.rate_limit_per_sec.cmp(&b.rate_limit_per_sec),
            _ => Ordering::Equal,
        };
        by.then(a.name.cmp(&b.name))
    }
}

async fn accounts(State(c): State<Console>, op: Op, q: ListIn) -> Page {
    let Query(q) = layout::read(&op, q)?;
    let engine = &c.engine;
    let rows = engine.accounts().await.map_err(layout::err(&op))?;
    let list = layout::listed(
        rows,
        &q,
        // The URL as shown: a search must not find what the page hides.
        |a, s| {
            layout::matches(
                s,
                &[&a.name, a.vendor.as_str(), &layout::shown_url(&a.base_url)],
            )
        },
        false,
        account_cmp(q.sort.as_deref().unwrap_or("name")),
    );
    let vendors: Vec<Vendor> = engine.registry.entries().iter().map(|e| e.vendor).collect();
    let body = html! {
        (layout::search_box(&op, &q, "/accounts"))
        (list.or_empty(op.t("没有符合搜索的账号：换个关键词。", "No account matches: try another search."), op.t("还没有上游账号：用下方表单添加一个（或运行 idcgate sandbox 试用模拟器）。", "No upstream account yet: add one with the form below (or try the simulators with `idcgate sandbox`)."), |rows| html! {
            (layout::list_table(&op, &q, "/accounts", list.total, &[
                Col::Sort("name", op.t("名称", "Name")),
                Col::Sort("vendor", op.t("服务商", "Vendor")),
                Col::Sort("base_url", op.t("接口地址", "Base URL")),
                Col::SortNum("rate", op.t("限速（次/秒）", "Rate limit (req/s)")),
                Col::Plain(op.t("操作", "Actions")),
            ], html! {
                    @for a in rows {
                        tr {
                            td { (a.name) }
                            td { (a.vendor) }
                            td { code { (layout::shown_url(&a.base_url)) } }
                            td.num { (a.rate_limit_per_sec) }
                            td {
                                @if op.may(Act::Operate) {
                                    form.inline method="post" action={ "/accounts/" (layout::seg(&a.name)) "/test" } {
                                        (csrf(&op))
                                        button.secondary type="submit" id={ "test-" (a.name) } { (op.t("测试", "Test")) }
                                    }
                                    " "
                                }
                                a href={ "/statements/" (layout::seg(&a.name)) } { (op.t("对账", "Statement")) }
                                " · "
                                a href={ "/orders?account=" (layout::enc(&a.name)) } { (op.t("订单", "Orders")) }
                                @if op.may(Act::Administer) {
                                    " · "
                                    a.bad href={ "/accounts/" (layout::seg(&a.name)) "/remove" } { (op.t("删除…", "Remove…")) }
                                }
                            }
                        }
                    }
        }))
        }))
        @if op.may(Act::Administer) {
            h2 { (op.t("添加上游账号", "Add an upstream account")) }
            form.stack method="post" action="/accounts" id="add-account" autocomplete="off" {
                (csrf(&op))
                label { (op.t("名称（字母、数字、- _ .）", "Name (letters, digits, - _ .)"))
                    input type="text" name="name" required maxlength="64" pattern="[A-Za-z0-9._-]+"; }
                label { (op.t("服务商", "Vendor"))
                    select name="vendor" required {
                        @for v in &vendors { option value=(v.as_str()) { (v) } }
                    }
                }
                label { (op.t("接口地址", "Base URL"))
                    input type="url" name="base_url" required maxlength="500" placeholder="https://"; }
                label { (op.t("限速（次/秒）", "Rate limit (requests per second)"))
                    input type="number" name="rate" value="5" min="1" max="1000" required; }
                label { (op.t("凭据：每行一个 键=值（如 username=…），键名见服务商文档", "Credentials: one key=value a line (e.g. username=…), keys as the vendor's documents name them"))
                    textarea name="credentials" rows="4" required spellcheck="false" autocomplete="off" {} }
                button type="submit" id="add-account-submit" { (op.t("添加", "Add")) }
            }
            p.hint { (op.t(
                "凭据加密保存，之后任何页面都不会再显示。缺少的凭据键会在添加时指出。",
                "Credentials are sealed when stored and never shown again on any page. A missing key is named when you add the account.")) }
        }
    };
    Ok(layout::page(
        &op,
        op.t("上游账号", "Upstream accounts"),
        body,
    ))
}

#[derive(Deserialize)]
struct AddAccountForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    vendor: String,
    #[serde(default)]
    base_url: String,
    #[serde(default)]
    rate: String,
    #[serde(default)]
    credentials: String,
}

/// `key=value` lines into credentials. A message never quotes a line: a value pasted
/// without its key would be a secret.
fn parse_credentials(op: &Op, text: &str) -> Result<Credentials, Refusal> {
    let mut creds = Credentials::new();
    let mut n = 0;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let bad = |why: &str| {
            layout::bad_input(
                op,
                &format!("{} {}: {why}", op.t("凭据第", "Credentials line"), i + 1),
            )
        };
        let Some((k, v)) = line.split_once('=') else {
            return Err(bad(op.t("应为 键=值", "expected key=value")));
        };
        let k = k.trim();
        let key_ok = !k.is_empty()
            && k.len() <= 64
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !key_ok {
            return Err(bad(op.t(
                "键名应为字母、数字、_ - .",
                "a key is letters, digits, _ - .",
            )));
        }
        if v.is_empty() || v.chars().count() > MAX_SECRET_CHARS || v.chars().any(char::is_control) {
            return Err(bad(op.t(
                "值不能为空、过长或含控制字符",
                "a value is not empty, not too long and has no control characters",
            )));
        }
        if creds.get(k).is_some() {
            return Err(bad(op.t("键重复", "the key is given twice")));
        }
        n += 1;
        if n > MAX_CREDENTIALS {
            return Err(bad(op.t("凭据项过多", "too many credential fields")));
        }
        creds.insert(k, v);
    }
    if n == 0 {
        return Err(layout::bad_input(
            op,
            op.t(
                "请填写凭据（每行一个 键=值）。",
                "Give the credentials (one key=value a line).",
            ),
        ));
    }
    Ok(creds)
}

/// The engine's refusal of an account, in the operator's language for the rules every
/// surface shares (the engine names the field).
fn account_refusal(op: &Op, e: EngineError) -> Refusal {
    let EngineError::InvalidInput { field, reason } = &e else {
        if let EngineError::Conflict(_) = e {
            return layout::bad_input(
                op,
                op.t("已有同名账号。", "An account has this name already."),
            );
        }
        return layout::engine_error(op, &e);
    };
    let text = match field.as_str() {
        "name" => op.t(
            "账号名称应为 1–64 个字母、数字、- _ .。",
            "An account name is 1-64 letters, digits, '-', '_' or '.'.",
        ),
        "base_url" => op.t(
            "接口地址应以 http:// 或 https:// 开头，不超过 500 个字符，不能带空白、用户名、密码或查询参数：凭据请填在凭据栏。",
            "The base URL starts with http:// or https://, has at most 500 characters and carries no blanks, user, password or query: credentials go in the credentials field.",
        ),
        "rate" => op.t("限速应为 1–1000 次/秒。", "The rate limit is 1 to 1000 requests per second."),
        _ => {
            let why = format!("{} {reason}", op.t("账号不可用：", "The account is not usable:"));
            return layout::bad_input(op, &why);
        }
    };
    layout::bad_input(op, text)
}

posted!(AddAccountForm, TokenForm, OperatorForm);

async fn add_account(State(c): State<Console>, op: Op, form: FormIn<AddAccountForm>) -> Page {
    let f = op.submitted(Act::Administer, form)?;
    let name = f.name.trim();
    let vendor: Vendor = f
        .vendor
        .parse()
        .map_err(|e: idcgate_core::Error| layout::bad_input(&op, &e.to_string()))?;
    // A rate that is not a number is refused as the engine refuses one out of range.
    let rate = f.rate.trim().parse::<u32>().unwrap_or(0);
    let credentials = parse_credentials(&op, &f.credentials)?;
    let new = NewAccount {
        name: name.to_string(),
        vendor,
        base_url: Some(f.base_url.trim().to_string()),
        credentials,
        rate_limit_per_sec: Some(rate),
    };
    c.engine
        .add_account(&layout::actor(&op), new)
        .await
        .map_err(|e| account_refusal(&op, e))?;
    let notice = format!(
        "{} {name} ({vendor}){}",
        op.t("已添加账号", "Account added:"),
        op.t(
            "。可点“测试”检查凭据。",
            ". Use Test to check its credentials."
        )
    );
    Ok(session::redirect_with(&op, "/accounts", &notice))
}

async fn test_account(
    State(c): State<Console>,
    op: Op,
    name: NameIn,
    form: FormIn<CsrfForm>,
) -> Page {
    let name = layout::path_name(&op, name)?;
    op.submitted(Act::Operate, form)?;
    let answer = c.engine.test_account(&name).await;
    let title = format!("{} {name}", op.t("测试账号", "Test of account"));
    let back =
        html! { p { a href="/accounts" { (op.t("返回上游账号", "Back to the accounts")) } } };
    match answer {
        Ok(msg) => {
            let body = html! {
                p.notice role="status" id="test-answer" { "✓ " (msg) }
                (back)
            };
            Ok(layout::page(&op, &title, body))
        }
        Err(e) => {
            // The answer stays on the page the operator asked for, with its status.
            let status = layout::engine_status(&e);
            let body = html! {
                p.error role="alert" id="test-answer" { "✗ " (layout::bounded(&e.to_string())) }
                (back)
            };
            let mut r = layout::page(&op, &title, body);
            *r.status_mut() = status;
            Ok(r)
        }
    }
}

async fn remove_account_page(State(c): State<Console>, op: Op, name: NameIn) -> Page {
    let name = layout::path_name(&op, name)?;
    op.allow(Act::Administer)?;
    let a = c.engine.account(&name).await.map_err(layout::err(&op))?;
    Ok(layout::confirm_page(
        &op,
        Confirm {
            title: op.t("删除上游账号", "Remove an upstream account"),
            question: html! { (op.t("删除上游账号 ", "Remove upstream account ")) strong { (a.name) } " (" (a.vendor) ")" (op.t("？", "?")) },
            consequence: op.t(
                "它名下的资源将从实时清单中标记为已消失（历史保留）；订单和账本保留。此操作不能撤销，如需恢复须重新添加并输入凭据。",
                "Everything it owned leaves the live inventory (marked gone, history kept); its orders and ledger stay. This cannot be undone: to use it again, add it again with its credentials."),
            action: &format!("/accounts/{}/remove", layout::seg(&a.name)),
            form_id: "remove-account",
            by: ConfirmBy::Typing(op.t("输入账号名称以确认", "Type the account's name to confirm")),
            submit_id: "remove-account-submit",
            submit: op.t("删除账号", "Remove the account"),
            cancel: "/accounts",
        },
    ))
}

async fn remove_account(
    State(c): State<Console>,
    op: Op,
    name: NameIn,
    form: FormIn<ConfirmForm>,
) -> Page {
    let name = layout::path_name(&op, name)?;
    let f = op.submitted(Act::Administer, form)?;
    f.typed(
        &op,
        &name,
        op.t(
            "输入的名称与账号不符，未删除。",
            "The name typed is not the account's; nothing was removed.",
        ),
    )?;
    let removed = c
        .engine
        .remove_account(&layout::actor(&op), &name)
        .await
        .map_err(layout::err(&op))?;
    if !removed {
        return Err(layout::not_found(
            &op,
            op.t("没有这个账号。", "No such account."),
        ));
    }
    let notice = format!("{} {name}", op.t("已删除账号", "Account removed:"));
    Ok(session::redirect_with(&op, "/accounts", &notice))
}

// ---------------------------------------------------------------------------------
// API tokens

fn scope_name(op: &Op, s: Scope) -> &'static str {
    match s {
        Scope::Read => op.t("只读", "read"),
        Scope::Operate => op.t("运维", "operate"),
        Scope::Admin => op.t("管理", "admin"),
    }
}

fn token_cmp(key: &str) -> impl Fn(&TokenInfo, &TokenInfo) -> Ordering + '_ {
    move |a, b| {
        let by = match key {
            "id" => a.id.cmp(&b.id),
            "name" => a.name.cmp(&b.name),
            "scope" => a.scope.cmp(&b.scope),
            "state" => a.revoked.cmp(&b.revoked),
            _ => Ordering::Equal,
        };
        by.then(a.created_at_ms.cmp(&b.created_at_ms))
    }
}

async fn tokens(State(c): State<Console>, op: Op, q: ListIn) -> Page {
    op.allow(Act::Administer)?;
    let Query(q) = layout::read(&op, q)?;
    let rows = c.engine.reads().tokens().await.map_err(layout::err(&op))?;
    let list = layout::listed(
        rows,
        &q,
        |t, s| layout::matches(s, &[&t.id, &t.name, t.scope.as_str()]),
        true,
        token_cmp(q.sort.as_deref().unwrap_or("created")),
    );
    let body = html! {
        (layout::search_box(&op, &q, "/tokens"))
        (list.or_empty(op.t("没有符合搜索的令牌。", "No token matches the search."), op.t("还没有 API 令牌：用下方表单创建一个，交给调用 REST API 的程序。", "No API tokens yet: create one with the form below for a program that calls the REST API."), |rows| html! {
            (layout::list_table(&op, &q, "/tokens", list.total, &[
                Col::Sort("id", "ID"),
                Col::Sort("name", op.t("名称", "Name")),
                Col::Sort("scope", op.t("权限", "Scope")),
                Col::Sort("created", op.t("创建时间", "Created")),
                Col::Sort("state", op.t("状态", "State")),
                Col::Plain(""),
            ], html! {
                    @for t in rows {
                        tr {
                            td { code { (t.id) } }
                            td { (t.name) }
                            td { (scope_name(&op, t.scope)) }
                            td { (layout::time(t.created_at_ms)) }
                            @if t.revoked {
                                td.bad { (op.t("已吊销", "revoked")) } td {}
                            } @else {
                                td.ok { (op.t("有效", "active")) }
                                td { a.bad href={ "/tokens/" (layout::seg(&t.id)) "/revoke" } { (op.t("吊销…", "Revoke…")) } }
                            }
                        }
                    }
        }))
        }))
        h2 { (op.t("创建令牌", "Create a token")) }
        form.row method="post" action="/tokens" id="create-token" {
            (csrf(&op))
            label { (op.t("名称", "Name")) input type="text" name="name" required maxlength="64"; }
            label { (op.t("权限", "Scope"))
                select name="scope" {
                    @for s in [Scope::Read, Scope::Operate, Scope::Admin] {
                        option value=(s.as_str()) { (scope_name(&op, s)) }
                    }
                }
            }
            button type="submit" id="create-token-submit" { (op.t("创建", "Create")) }
        }
        p.hint { (op.t("令牌只在创建后显示一次，之后只保存其摘要。", "A token is shown once, right after it is created; only its digest is kept.")) }
    };
    Ok(layout::page(&op, op.t("API 令牌", "API tokens"), body))
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    scope: String,
}

async fn create_token(State(c): State<Console>, op: Op, form: FormIn<TokenForm>) -> Page {
    let f = op.submitted(Act::Administer, form)?;
    let name = f.name.trim();
    let scope = Scope::from_word(f.scope.trim()).ok_or_else(|| {
        layout::bad_input(
            &op,
            op.t(
                "权限应为 read、operate 或 admin。",
                "The scope is read, operate or admin.",
            ),
        )
    })?;
    let (info, token) = match c
        .engine
        .create_token(&layout::actor(&op), name, scope)
        .await
    {
        Ok(v) => v,
        Err(EngineError::InvalidInput { .. }) => {
            return Err(layout::bad_input(
                &op,
                op.t(
                    "令牌名称应为 1–64 个可打印字符。",
                    "A token name is 1 to 64 printable characters.",
                ),
            ))
        }
        Err(EngineError::Conflict(_)) => {
            return Err(layout::bad_input(
                &op,
                &format!(
                    "{} {name}",
                    op.t("已有同名令牌：", "A token has this name already:")
                ),
            ))
        }
        Err(e) => return Err(layout::engine_error(&op, &e)),
    };
    let body = html! {
        p.notice role="status" { (op.t("已创建令牌 ", "Token created: ")) (info.name) " (" (scope_name(&op, info.scope)) ")" }
        p { code.secret id="token" { (token) } }
        p.error role="alert" { (op.t(
            "令牌只显示这一次：请现在复制。idcgate 只保存其摘要，无法再次显示。",
            "The token is shown only now: copy it. idcgate keeps only its digest and cannot show it again.")) }
        p.hint { (op.t("调用 REST API 时放在请求头：", "Send it to the REST API in the header: ")) code { "Authorization: Bearer …" } }
        p { a href="/tokens" { (op.t("返回 API 令牌", "Back to the tokens")) } }
    };
    Ok(layout::page(&op, op.t("令牌已创建", "Token created"), body))
}

async fn find_token(c: &Console, op: &Op, id: &str) -> Result<TokenInfo, Refusal> {
    c.engine
        .reads()
        .tokens()
        .await
        .map_err(layout::err(op))?
        .into_iter()
        .find(|t| t.id == id && !t.revoked)
        .ok_or_else(|| {
            layout::not_found(
                op,
                op.t("没有这个有效的令牌。", "No active token has this id."),
            )
        })
}

async fn revoke_page(State(c): State<Console>, op: Op, id: NameIn) -> Page {
    let id = layout::path_name(&op, id)?;
    op.allow(Act::Administer)?;
    let t = find_token(&c, &op, &id).await?;
    Ok(layout::confirm_page(
        &op,
        Confirm {
            title: op.t("吊销令牌", "Revoke a token"),
            question: html! { (op.t("吊销令牌 ", "Revoke token ")) strong { (t.name) } " (" code { (t.id) } ", " (scope_name(&op, t.scope)) ")" (op.t("？", "?")) },
            consequence: op.t("使用它的程序将立即（最多 1 秒内）无法调用 API。吊销不能撤销。", "Programs using it stop reaching the API at once (within a second). Revoking cannot be undone."),
            action: &format!("/tokens/{}/revoke", layout::seg(&t.id)),
            form_id: "revoke-token",
            by: ConfirmBy::Given(&t.id),
            submit_id: "revoke-token-submit",
            submit: op.t("吊销", "Revoke"),
            cancel: "/tokens",
        },
    ))
}

async fn revoke_token(
    State(c): State<Console>,
    op: Op,
    id: NameIn,
    form: FormIn<ConfirmForm>,
) -> Page {
    let id = layout::path_name(&op, id)?;
    let f = op.submitted(Act::Administer, form)?;
    f.confirms(
        &op,
        &id,
        op.t(
            "请从确认页面吊销。",
            "Revoke it from its confirmation page.",
        ),
    )?;
    // By id only: the store also takes a name, which a form must not stand in for.
    let t = find_token(&c, &op, &id).await?;
    c.engine
        .revoke_token(&layout::actor(&op), &t.id)
        .await
        .map_err(layout::err(&op))?;
    let notice = format!(
        "{} {} ({})",
        op.t("已吊销令牌", "Token revoked:"),
        t.name,
        t.id
    );
    Ok(session::redirect_with(&op, "/tokens", &notice))
}

// ---------------------------------------------------------------------------------
// Audit log

#[derive(Deserialize, Default)]
struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    since: String,
}

/// A filter as typed: trimmed, bounded, lower case, free of control characters.
fn filter_text(s: &str) -> String {
    s.trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect::<String>()
}

async fn audit(State(c): State<Console>, op: Op, q: ListIn, f: QueryIn<AuditQuery>) -> Page {
    let Query(q) = layout::read(&op, q)?;
    let Query(f) = layout::read(&op, f)?;
    let (actor, action, target, outcome) = (
        filter_text(&f.actor),
        filter_text(&f.action),
        filter_text(&f.target),
        filter_text(&f.outcome),
    );
    let since = f.since.trim();
    let since_ms = match since {
        "" => None,
        d => Some(layout::day(&op, d)?),
    };
    let filtered =
        !(actor.is_empty() && action.is_empty() && target.is_empty() && outcome.is_empty())
            || since_ms.is_some()
            || q.search().is_some();
    let base = layout::with_filters(
        "/audit",
        &[
            ("actor", &actor),
            ("action", &action),
            ("target", &target),
            ("outcome", &outcome),
            ("since", since),
        ],
    );
    // Filtered, sorted and paged by the store. The log browsed page by page newest
    // first is not counted (it only grows): one entry more says whether a page follows.
    let size = i64::from(layout::PAGE_SIZE);
    let browsing = !filtered && q.sort.is_none();
    let non_empty = |v: &str| (!v.is_empty()).then(|| v.to_string());
    let filter = AuditFilter {
        actor: non_empty(&actor),
        action: non_empty(&action),
        target: non_empty(&target),
        outcome: non_empty(&outcome),
        since_ms,
    };
    let mut page = ListPage {
        search: q.search(),
        sort: q.sort.clone(),
        // Newest first unless a column is asked for.
        descending: q.sort.is_none() || q.descending(),
        limit: if browsing { size + 1 } else { size },
        offset: q.offset(),
        count: !browsing,
    };
    let (mut rows, total) = c
        .engine
        .reads()
        .audit_page(&filter, &page)
        .await
        .map_err(layout::err(&op))?;
    let pager = match total {
        None => {
            let more = rows.len() as i64 > size;
            rows.truncate(layout::PAGE_SIZE as usize);
            newest_first_pager(&op, &q, &base, more)
        }
        Some(total) => {
            // A page past the end shows the last page, as the pager says.
            if rows.is_empty() && total > 0 && page.offset > 0 {
                page.offset = (total - 1) / size * size;
                rows = c
                    .engine
                    .reads()
                    .audit_page(&filter, &page)
                    .await
                    .map_err(layout::err(&op))?
                    .0;
            }
            layout::pager(&op, &q, &base, total)
        }
    };
    let recent = c
        .engine
        .reads()
        .audit_outcomes(AUDIT_OUTCOMES)
        .await
        .map_err(layout::err(&op))?;
    let mut outcomes: Vec<String> = ["ok", "error", "unfinished"]
        .into_iter()
        .map(String::from)
        .chain(recent)
        .chain(non_empty(&outcome))
        .collect();
    outcomes.sort();
    outcomes.dedup();
    let body = html! {
        form.row method="get" action="/audit" {
            label { (op.t("操作者", "Actor")) input type="text" name="actor" value=(actor) maxlength="100" placeholder="console:"; }
            label { (op.t("动作", "Action")) input type="text" name="action" value=(action) maxlength="100" placeholder="tenant."; }
            label { (op.t("对象包含", "Target contains")) input type="text" name="target" value=(target) maxlength="100"; }
            label { (op.t("结果", "Outcome"))
                select name="outcome" {
                    option value="" { (op.t("全部", "all")) }
                    @for o in &outcomes { option value=(o) selected[*o == outcome] { (o) } }
                }
            }
            label { (op.t("起始日期", "Since")) input type="date" name="since" value=(since); }
            label { (op.t("详情包含", "Detail contains")) input type="search" name="q" value=(q.q) maxlength="100"; }
            button type="submit" { (op.t("筛选", "Filter")) }
        }
        @if rows.is_empty() {
            @if filtered {
                (layout::empty(op.t("没有符合筛选的记录：换个条件或清除筛选。", "No entry matches: change or clear the filters.")))
            } @else if q.page() > 1 {
                (layout::empty(op.t("这一页已超出日志末尾：返回上一页。", "This page is past the end of the log: go back a page.")))
                (pager)
            } @else {
                (layout::empty(op.t("审计日志还是空的：每次登录和改动都会记录在这里。", "The audit log is empty: every login and change is recorded here.")))
            }
        } @else {
            table {
                thead { tr { (layout::heads(&q, &base, &[
                    Col::Sort("at", op.t("时间", "At")),
                    Col::Sort("actor", op.t("操作者", "Actor")),
                    Col::Sort("action", op.t("动作", "Action")),
                    Col::Sort("target", op.t("对象", "Target")),
                    Col::Sort("outcome", op.t("结果", "Outcome")),
                    Col::Plain(op.t("详情", "Detail")),
                ])) } }
                tbody {
                    @for e in &rows {
                        tr {
                            td { (layout::time(e.at_ms)) }
                            td { (e.actor) }
                            td { (e.action) }
                            td { (e.target) }
                            td.ok[e.outcome == "ok"].bad[e.outcome != "ok"] { (e.outcome) }
                            td.detail { (e.detail) }
                        }
                    }
                }
            }
            (pager)
        }
    };
    Ok(layout::page(&op, op.t("审计日志", "Audit log"), body))
}

/// Previous and next for a list read only up to its page, whose length is not known.
fn newest_first_pager(op: &Op, q: &ListQuery, base: &str, more: bool) -> Markup {
    let page = q.page();
    html! {
        nav.pager {
            @if page > 1 { a rel="prev" href=(q.href(base, page - 1, None, false)) { "‹ " (op.t("上一页", "Previous")) } }
            span { (op.t("第 ", "Page ")) (page) (op.t(" 页，最新在前", ", newest first")) }
            @if more { a rel="next" href=(q.href(base, page + 1, None, false)) { (op.t("下一页", "Next")) " ›" } }
        }
    }
}

// ---------------------------------------------------------------------------------
// Operators

fn role_select(op: &Op, selected: Role) -> Markup {
    html! {
        select name="role" {
            @for r in Role::ALL {
                option value=(r.as_str()) selected[r == selected] { (layout::role_name(op.lang, r)) }
            }
        }
    }
}

fn operator_path(op: &Op, name: NameIn) -> Result<String, Refusal> {
    let name = layout::path_name(op, name)?;
    auth::check_operator_name(&name)
        .map_err(|_| layout::not_found(op, op.t("没有这个操作员。", "No such operator.")))?;
    Ok(name)
}

fn parse_role(op: &Op, s: &str) -> Result<Role, Refusal> {
    Role::from_word(s.trim()).ok_or_else(|| {
        layout::bad_input(
            op,
            op.t(
                "角色应为 admin、operator、finance 或 viewer。",
                "The role is admin, operator, finance or viewer.",
            ),
        )
    })
}

async fn operators(State(c): State<Console>, op: Op, q: ListIn) -> Page {
    op.allow(Act::Administer)?;
    let Query(q) = layout::read(&op, q)?;
    let rows = c
        .engine
        .operators()
        .list()
        .await
        .map_err(layout::err(&op))?;
    let now = idcgate_engine::now_ms();
    let key = q.sort.clone().unwrap_or_else(|| "name".into());
    let list = layout::listed(
        rows,
        &q,
        |o, s| layout::matches(s, &[&o.name, o.role.as_str()]),
        false,
        |a, b| {
            let by = match key.as_str() {
                "role" => a.role.cmp(&b.role),
                "totp" => a.totp_enabled.cmp(&b.totp_enabled),
                "created" => a.created_at_ms.cmp(&b.created_at_ms),
                _ => Ordering::Equal,
            };
            by.then(a.name.cmp(&b.name))
        },
    );
    let body = html! {
        (layout::search_box(&op, &q, "/operators"))
        @if list.rows.is_empty() {
            (layout::empty(op.t("没有符合搜索的操作员。", "No operator matches the search.")))
        } @else {
            (layout::list_table(&op, &q, "/operators", list.total, &[
                Col::Sort("name", op.t("名称", "Name")),
                Col::Sort("role", op.t("角色", "Role")),
                Col::Sort("totp", op.t("两步验证", "2FA")),
                Col::Plain(op.t("锁定", "Locked")),
                Col::Sort("created", op.t("创建时间", "Created")),
                Col::Plain(op.t("操作", "Actions")),
            ], html! {
                    @for o in &list.rows {
                        @let path = format!("/operators/{}", layout::seg(&o.name));
                        tr {
                            td { (o.name) @if o.name == op.name { " " span.hint { (op.t("（你）", "(you)")) } } }
                            td {
                                form.inline method="post" action={ (path) "/role" } {
                                    (csrf(&op))
                                    (role_select(&op, o.role))
                                    " "
                                    button.secondary type="submit" id={ "role-" (o.name) } { (op.t("改角色", "Change role")) }
                                }
                            }
                            td { @if o.totp_enabled { span.ok { (op.t("已启用", "on")) } } @else { (op.t("未启用", "off")) } }
                            td { @if o.locked_until_ms > now { span.bad { (op.t("至 ", "until ")) (layout::time(o.locked_until_ms)) } } @else { "-" } }
                            td { (layout::time(o.created_at_ms)) }
                            td {
                                form.inline method="post" action={ (path) "/password" } {
                                    (csrf(&op))
                                    button.secondary type="submit" id={ "password-" (o.name) } { (op.t("重置密码", "New password")) }
                                }
                                " "
                                @if o.totp_enabled {
                                    form.inline method="post" action={ (path) "/reset2fa" } {
                                        (csrf(&op))
                                        button.secondary type="submit" id={ "reset2fa-" (o.name) } { (op.t("重置两步验证", "Reset 2FA")) }
                                    }
                                    " "
                                }
                                a.bad href={ (path) "/remove" } { (op.t("删除…", "Remove…")) }
                            }
                        }
                    }
            }))
        }
        h2 { (op.t("添加操作员", "Add an operator")) }
        form.row method="post" action="/operators" id="add-operator" {
            (csrf(&op))
            label { (op.t("登录名", "Login name")) input type="text" name="name" required maxlength="64" pattern="[A-Za-z0-9._@-]+"; }
            label { (op.t("角色", "Role")) (role_select(&op, Role::Viewer)) }
            button type="submit" id="add-operator-submit" { (op.t("添加", "Add")) }
        }
        p.hint { (op.t(
            "密码由系统生成并只显示一次；重置密码会结束该操作员的所有会话。最后一位管理员不能被删除或降级。",
            "The password is generated and shown once; a new password ends the operator's sessions. The last admin cannot be removed or demoted.")) }
    };
    Ok(layout::page(&op, op.t("操作员", "Operators"), body))
}

#[derive(Deserialize)]
struct OperatorForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

/// A password shown once, on the page that answers the form.
fn password_page(op: &Op, title: &str, who: &str, password: &str) -> Page {
    let body = html! {
        p.notice role="status" { (title) ": " (who) }
        p { (op.t("密码：", "Password: ")) code.secret id="password" { (password) } }
        p.error role="alert" { (op.t(
            "密码只显示这一次：请现在复制并安全地交给对方。",
            "The password is shown only now: copy it and hand it over safely.")) }
        p { a href="/operators" { (op.t("返回操作员", "Back to the operators")) } }
    };
    Ok(layout::page(op, title, body))
}

async fn add_operator(State(c): State<Console>, op: Op, form: FormIn<OperatorForm>) -> Page {
    let f = op.submitted(Act::Administer, form)?;
    let role = parse_role(&op, &f.role)?;
    let password = auth::generate_password().map_err(auth_err(&op))?;
    let actor = layout::actor(&op);
    let ops = Operators {
        engine: &c.engine,
        actor: &actor,
    };
    let name = f.name.trim();
    let o = match ops.add(name, role, &password).await {
        Ok(o) => o,
        // Said as the other lists say it, not as a storage failure.
        Err(auth::AuthError::Store(StoreError::Conflict(_))) => {
            return Err(layout::bad_input(
                &op,
                &format!(
                    "{} {name}",
                    op.t("已有同名操作员：", "An operator has this name already:")
                ),
            ))
        }
        Err(e) => return Err(auth_err(&op)(e)),
    };
    password_page(
        &op,
        op.t("已添加操作员", "Operator added"),
        &o.name,
        &password,
    )
}

async fn set_role(
    State(c): State<Console>,
    op: Op,
    name: NameIn,
    form: FormIn<OperatorForm>,
) -> Page {
    let name = operator_path(&op, name)?;
    let f = op.submitted(Act::Administer, form)?;
    let role = parse_role(&op, &f.role)?;
    let actor = layout::actor(&op);
    Operators {
        engine: &c.engine,
        actor: &actor,
    }
    .set_role(&name, role)
    .await
    .map_err(auth_err(&op))?;
    let notice = format!("{name}: {}", layout::role_name(op.lang, role));
    Ok(session::redirect_with(&op, "/operators", &notice))
}

async fn new_password(
    State(c): State<Console>,
    op: Op,
    name: NameIn,
    form: FormIn<CsrfForm>,
) -> Page {
    let name = operator_path(&op, name)?;
    op.submitted(Act::Administer, form)?;
    let password = auth::generate_password().map_err(auth_err(&op))?;
    let actor = layout::actor(&op);
    Operators {
        engine: &c.engine,
        actor: &actor,
    }
    .set_password(&name, &password)
    .await
    .map_err(auth_err(&op))?;
    password_page(
        &op,
        op.t("已设置新密码", "New password set"),
        &name,
        &password,
    )
}

async fn reset_2fa(State(c): State<Console>, op: Op, name: NameIn, form: FormIn<CsrfForm>) -> Page {
    let name = operator_path(&op, name)?;
    op.submitted(Act::Administer, form)?;
    let actor = layout::actor(&op);
    Operators {
        engine: &c.engine,
        actor: &actor,
    }
    .reset_totp(&name)
    .await
    .map_err(auth_err(&op))?;
    let notice = format!(
        "{name}: {}",
        op.t(
            "两步验证已移除，需重新绑定。",
            "second factor removed; they enrol again."
        )
    );
    Ok(session::redirect_with(&op, "/operators", &notice))
}

async fn remove_operator_page(State(c): State<Console>, op: Op, name: NameIn) -> Page {
    let name = operator_path(&op, name)?;
    op.allow(Act::Administer)?;
    let o = c
        .engine
        .operators()
        .get(&name)
        .await
        .map_err(layout::err(&op))?
        .ok_or_else(|| layout::not_found(&op, op.t("没有这个操作员。", "No such operator.")))?;
    Ok(layout::confirm_page(
        &op,
        Confirm {
            title: op.t("删除操作员", "Remove an operator"),
            question: html! { (op.t("删除操作员 ", "Remove operator ")) strong { (o.name) } " (" (layout::role_name(op.lang, o.role)) ")" (op.t("？", "?")) },
            consequence: op.t("其所有会话立即结束。", "All their sessions end at once."),
            action: &format!("/operators/{}/remove", layout::seg(&o.name)),
            form_id: "remove-operator",
            by: ConfirmBy::Typing(op.t("输入登录名以确认", "Type the login name to confirm")),
            submit_id: "remove-operator-submit",
            submit: op.t("删除操作员", "Remove the operator"),
            cancel: "/operators",
        },
    ))
}

async fn remove_operator(
    State(c): State<Console>,
    op: Op,
    name: NameIn,
    form: FormIn<ConfirmForm>,
) -> Page {
    let name = operator_path(&op, name)?;
    let f = op.submitted(Act::Administer, form)?;
    f.typed(
        &op,
        &name,
        op.t(
            "输入的名称与操作员不符，未删除。",
            "The name typed is not the operator's; nothing was removed.",
        ),
    )?;
    let actor = layout::actor(&op);
    Operators {
        engine: &c.engine,
        actor: &actor,
    }
    .remove(&name)
    .await
    .map_err(auth_err(&op))?;
    let notice = format!("{} {name}", op.t("已删除操作员", "Operator removed:"));
    Ok(session::redirect_with(&op, "/operators", &notice))
}
