//! The page shell (navigation, language switch, notices) and the pieces every list
//! page shares: times in China time, money, paging, sorting, searching, empty states.

use crate::i18n::Lang;
use crate::session::{Act, Op};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::Deserialize;

/// Navigation: (path, zh, en, what it needs to be shown).
const NAV: &[(&str, &str, &str, Act)] = &[
    ("/", "概览", "Dashboard", Act::Read),
    ("/domains", "域名", "Domains", Act::Read),
    ("/dns", "DNS", "DNS", Act::Read),
    ("/servers", "服务器", "Servers", Act::Read),
    ("/hosting", "虚拟主机", "Hosting", Act::Read),
    ("/databases", "数据库", "Databases", Act::Read),
    ("/mail", "邮局", "Mail", Act::Read),
    ("/certificates", "证书", "Certificates", Act::Read),
    ("/orders", "订单", "Orders", Act::Read),
    ("/ledger", "账本", "Ledger", Act::Read),
    ("/tenants", "下游客户", "Tenants", Act::Read),
    ("/products", "产品", "Products", Act::Read),
    ("/accounts", "上游账号", "Accounts", Act::Read),
    ("/tokens", "API 令牌", "API tokens", Act::Administer),
    ("/audit", "审计日志", "Audit log", Act::Read),
    ("/operators", "操作员", "Operators", Act::Administer),
];

pub const CSS: &str = include_str!("../assets/console.css");

/// A full page for a logged-in operator.
pub fn page(op: &Op, title: &str, body: Markup) -> Response {
    let l = op.lang;
    let markup = document(
        l,
        title,
        html! {
            body {
                header.top {
                    a.brand href="/" { "idcgate" }
                    nav {
                        @for (path, zh, en, act) in NAV {
                            @if op.may(*act) {
                                @let here = if *path == "/" { op.path == "/" } else { op.path.starts_with(path) };
                                a href=(path) class=[here.then_some("here")] { (l.t(zh, en)) }
                            }
                        }
                    }
                    div.me {
                        (lang_switch(l, &op.path))
                        a href="/account/security" title=(l.t("账号安全", "Account security")) {
                            (op.name) " (" (role_name(l, op.role)) ")"
                        }
                        form.inline method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(op.csrf);
                            button.link type="submit" { (l.t("退出", "Log out")) }
                        }
                    }
                }
                main {
                    @if let Some(n) = &op.notice {
                        p.notice role="status" { (n) }
                    }
                    h1 { (title) }
                    (body)
                }
                footer {
                    (l.t("时间均为中国时间 (UTC+8)。", "Times are China time (UTC+8)."))
                }
            }
        },
    );
    let mut response = Html(markup.into_string()).into_response();
    if op.notice.is_some() {
        crate::session::clear_notice(op, &mut response);
    }
    response
}

/// A page outside a session (login), with the language switch only.
pub fn bare_page(lang: Lang, path: &str, title: &str, body: Markup) -> Markup {
    document(
        lang,
        title,
        html! {
            body.bare {
                main.narrow {
                    div.right { (lang_switch(lang, path)) }
                    h1 { "idcgate" }
                    h2 { (title) }
                    (body)
                }
            }
        },
    )
}

/// An HTML document in `lang` titled `title`, with the console's style sheet.
fn document(lang: Lang, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(if lang == Lang::Zh { "zh-CN" } else { "en" }) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · idcgate" }
                link rel="stylesheet" href="/assets/console.css";
            }
            (body)
        }
    }
}

fn lang_switch(l: Lang, back: &str) -> Markup {
    let other = l.other();
    let next: String =
        percent_encoding::utf8_percent_encode(back, percent_encoding::NON_ALPHANUMERIC).to_string();
    html! {
        a.lang href={ "/lang/" (other.code()) "?next=" (next) } hreflang=(other.code()) {
            (match other { Lang::Zh => "中文", Lang::En => "English" })
        }
    }
}

pub fn role_name(l: Lang, r: idcgate_store::Role) -> &'static str {
    use idcgate_store::Role::*;
    match r {
        Admin => l.t("管理员", "admin"),
        Operator => l.t("运维", "operator"),
        Finance => l.t("财务", "finance"),
        Viewer => l.t("只读", "viewer"),
    }
}

/// An error page for an operator (refused, not found, failed).
pub fn refusal(op: &Op, status: StatusCode, message: &str) -> Response {
    let title = match status {
        StatusCode::FORBIDDEN => op.t("不允许", "Not allowed"),
        StatusCode::NOT_FOUND => op.t("未找到", "Not found"),
        s if s.is_client_error() => op.t("请求有误", "Bad request"),
        _ => op.t("出错了", "Something failed"),
    };
    let body = html! {
        p.error role="alert" { (message) }
        p { a href="/" { (op.t("返回概览", "Back to the dashboard")) } }
    };
    let mut r = page(op, title, body);
    *r.status_mut() = status;
    r
}

/// An upstream's base URL as a page may show it: a user and password before the host,
/// and a query or fragment (where a key could ride along), each replaced by `***`.
pub fn shown_url(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, url),
    };
    let (rest, tail) = match rest.find(['?', '#']) {
        Some(i) => (&rest[..i], Some(&rest[i..i + 1])),
        None => (rest, None),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let host = match authority.rfind('@') {
        Some(at) => format!("***@{}", &authority[at + 1..]),
        None => authority.to_string(),
    };
    let mut out = String::with_capacity(url.len());
    if let Some(s) = scheme {
        out.push_str(s);
        out.push_str("://");
    }
    out.push_str(&host);
    out.push_str(path);
    if let Some(mark) = tail {
        out.push_str(mark);
        out.push_str("***");
    }
    out
}

/// China time, to the minute, as every list shows it.
pub fn time(ms: i64) -> String {
    let Ok(ts) = jiff::Timestamp::from_millisecond(ms) else {
        return "-".into();
    };
    let zone = jiff::tz::TimeZone::fixed(jiff::tz::offset(8));
    ts.to_zoned(zone).strftime("%Y-%m-%d %H:%M").to_string()
}

pub fn date(ms: i64) -> String {
    time(ms).chars().take(10).collect()
}

/// Whole days from now until `ms` (negative once past).
pub fn days_left(ms: i64) -> i64 {
    (ms - idcgate_engine::now_ms()).div_euclid(86_400_000)
}

/// Money as every page shows it: yuan with two decimals and a thousands separator.
pub fn money(fen: i64) -> String {
    let neg = fen < 0;
    let abs = fen.unsigned_abs();
    let yuan = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in yuan.chars().enumerate() {
        if i > 0 && (yuan.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{}¥{grouped}.{:02}", if neg { "-" } else { "" }, abs % 100)
}

/// What every list page takes: a search text, a page, a sort column and direction.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub page: Option<u32>,
    #[serde(default)]
    pub sort: Option<String>,
    #[serde(default)]
    pub desc: Option<u8>,
}

pub const PAGE_SIZE: u32 = 50;

impl ListQuery {
    pub fn page(&self) -> u32 {
        self.page.unwrap_or(1).clamp(1, 100_000)
    }
    pub fn offset(&self) -> i64 {
        i64::from((self.page() - 1) * PAGE_SIZE)
    }
    pub fn descending(&self) -> bool {
        self.desc == Some(1)
    }
    /// The search text, trimmed and bounded (the store matches it with LIKE).
    pub fn search(&self) -> Option<String> {
        let q: String = self
            .q
            .trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(100)
            .collect();
        (!q.is_empty()).then_some(q)
    }

    /// This query's address with some parameters replaced.
    pub fn href(&self, base: &str, page: u32, sort: Option<&str>, desc: bool) -> String {
        let mut parts = Vec::new();
        if let Some(q) = self.search() {
            parts.push(format!("q={}", enc(&q)));
        }
        if let Some(s) = sort {
            parts.push(format!("sort={}", enc(s)));
            if desc {
                parts.push("desc=1".into());
            }
        }
        if page > 1 {
            parts.push(format!("page={page}"));
        }
        // A base may carry a list's own filters (`/orders?state=failed`).
        let sep = if base.contains('?') { '&' } else { '?' };
        if parts.is_empty() {
            base.to_string()
        } else {
            format!("{base}{sep}{}", parts.join("&"))
        }
    }
}

pub fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A name as one segment of a path: letters, digits, `-`, `_`, `.` and `~` as they
/// are (names read as themselves in the address bar), the rest escaped; a name of dots
/// only is escaped whole, so it can never read as `.` or `..`.
pub fn seg(s: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    if s.chars().all(|c| c == '.') {
        s.replace('.', "%2E")
    } else {
        percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
    }
}

/// A sortable column heading: a link that sorts by `key`, and again the other way.
pub fn sort_head(q: &ListQuery, base: &str, key: &str, label: &str) -> Markup {
    sort_head_in(q, base, key, label, false)
}

/// `sort_head` over a column of amounts, aligned right like the amounts under it.
pub fn sort_head_num(q: &ListQuery, base: &str, key: &str, label: &str) -> Markup {
    sort_head_in(q, base, key, label, true)
}

fn sort_head_in(q: &ListQuery, base: &str, key: &str, label: &str, num: bool) -> Markup {
    let active = q.sort.as_deref() == Some(key);
    let desc = active && !q.descending();
    html! {
        th.num[num] {
            a href=(q.href(base, 1, Some(key), desc)) {
                (label)
                @if active { (if q.descending() { " ▼" } else { " ▲" }) }
            }
        }
    }
}

/// Previous/next links and where in the list this page is.
pub fn pager(op: &Op, q: &ListQuery, base: &str, total: i64) -> Markup {
    let pages = u32::try_from((total + i64::from(PAGE_SIZE) - 1) / i64::from(PAGE_SIZE))
        .unwrap_or(u32::MAX)
        .max(1);
    let page = q.page().min(pages);
    let sort = q.sort.as_deref();
    html! {
        nav.pager {
            @if page > 1 { a rel="prev" href=(q.href(base, page - 1, sort, q.descending())) { "‹ " (op.t("上一页", "Previous")) } }
            span { (op.t("第", "Page ")) (page) " / " (pages) (op.t(" 页，共 ", " · ")) (total) (op.t(" 条", " in all")) }
            @if page < pages { a rel="next" href=(q.href(base, page + 1, sort, q.descending())) { (op.t("下一页", "Next")) " ›" } }
        }
    }
}

/// The search box of a list.
pub fn search_box(op: &Op, q: &ListQuery, base: &str) -> Markup {
    html! {
        form.search method="get" action=(base) {
            input type="search" name="q" value=(q.q) placeholder=(op.t("搜索…", "Search…")) maxlength="100";
            button type="submit" { (op.t("搜索", "Search")) }
        }
    }
}

/// A list's filter form (a GET of `action`): the search box, the list's own
/// `filters`, the button.
pub fn filter_form(
    op: &Op,
    action: &str,
    q: &ListQuery,
    placeholder: Option<&str>,
    filters: Markup,
) -> Markup {
    html! {
        form.row method="get" action=(action) {
            label { (op.t("搜索", "Search")) input type="search" name="q" value=(q.q) maxlength="100" placeholder=[placeholder]; }
            (filters)
            button type="submit" { (op.t("筛选", "Filter")) }
        }
    }
}

/// A filter's drop-down: `all` (no filter) first, then the `options`.
pub fn choice(label: &str, name: &str, all: &str, options: Markup) -> Markup {
    html! {
        label { (label)
            select name=(name) {
                option value="" { (all) }
                (options)
            }
        }
    }
}

/// What an empty list says: why it is empty and what to do next.
pub fn empty(message: &str) -> Markup {
    html! { p.empty { (message) } }
}

/// A list held in memory, one page of it as a list page shows it.
pub struct Listed<T> {
    pub rows: Vec<T>,
    /// Rows the search found, on every page.
    pub total: i64,
    /// Whether the list had any row before the search: an empty page then says "no
    /// match" rather than "nothing yet".
    pub any: bool,
}

/// `rows` narrowed to what the query's search finds (`found(row, needle)`, the needle
/// in lower case), sorted as `sort_list` does, and the page the query asks for.
pub fn listed<T>(
    mut rows: Vec<T>,
    q: &ListQuery,
    found: impl Fn(&T, &str) -> bool,
    default_desc: bool,
    cmp: impl Fn(&T, &T) -> std::cmp::Ordering,
) -> Listed<T> {
    let any = !rows.is_empty();
    if let Some(s) = q.search() {
        let s = s.to_lowercase();
        rows.retain(|r| found(r, &s));
    }
    sort_list(&mut rows, q, default_desc, cmp);
    let (rows, total) = page_of(rows, q);
    Listed { rows, total, any }
}

impl<T> Listed<T> {
    /// The page's `table` of rows, or why there are none: `no_match` when the search
    /// left nothing, `none_yet` when the list is empty.
    pub fn or_empty(
        &self,
        no_match: &str,
        none_yet: &str,
        table: impl FnOnce(&[T]) -> Markup,
    ) -> Markup {
        match (self.rows.is_empty(), self.any) {
            (false, _) => table(&self.rows),
            (true, true) => empty(no_match),
            (true, false) => empty(none_yet),
        }
    }
}

/// A column heading of a list's table.
pub enum Col<'a> {
    /// Sorts the list by its key.
    Sort(&'a str, &'a str),
    /// Sorts by its key, a column of amounts.
    SortNum(&'a str, &'a str),
    /// Not sortable.
    Plain(&'a str),
    /// Not sortable, over amounts.
    PlainNum(&'a str),
}

/// A list's table: its headings, `rows` under them, and the pager.
pub fn list_table(
    op: &Op,
    q: &ListQuery,
    base: &str,
    total: i64,
    cols: &[Col],
    rows: Markup,
) -> Markup {
    html! {
        table {
            thead { tr { (heads(q, base, cols)) } }
            tbody { (rows) }
        }
        (pager(op, q, base, total))
    }
}

/// The headings of a list's table.
pub fn heads(q: &ListQuery, base: &str, cols: &[Col]) -> Markup {
    html! {
        @for c in cols {
            @match c {
                Col::Sort(key, label) => (sort_head(q, base, key, label)),
                Col::SortNum(key, label) => (sort_head_num(q, base, key, label)),
                Col::Plain(label) => th { (label) },
                Col::PlainNum(label) => th.num { (label) },
            }
        }
    }
}

/// What a confirmation page is confirmed with.
pub enum ConfirmBy<'a> {
    /// The name typed again, under this label: for what is easily mistaken for another.
    Typing(&'a str),
    /// The page's own copy of what it confirms, which a form from elsewhere lacks.
    Given(&'a str),
}

/// A page asking to confirm what cannot be undone: the question, what follows from it,
/// and the form that confirms it (a danger button, and a way back).
pub struct Confirm<'a> {
    pub title: &'a str,
    pub question: Markup,
    pub consequence: &'a str,
    pub action: &'a str,
    pub form_id: &'a str,
    pub by: ConfirmBy<'a>,
    pub submit_id: &'a str,
    pub submit: &'a str,
    pub cancel: &'a str,
}

pub fn confirm_page(op: &Op, c: Confirm<'_>) -> Response {
    let cancel = html! { a href=(c.cancel) { (op.t("取消", "Cancel")) } };
    let submit = html! { button.danger type="submit" id=(c.submit_id) { (c.submit) } };
    let body = html! {
        div.confirm {
            p { (c.question) }
            p { (c.consequence) }
            @match c.by {
                ConfirmBy::Typing(label) => {
                    form.stack method="post" action=(c.action) id=(c.form_id) {
                        (csrf(op))
                        label { (label)
                            input type="text" name="confirm" required autocomplete="off" maxlength="64"; }
                        div { (submit) " " (cancel) }
                    }
                }
                ConfirmBy::Given(value) => {
                    form.row method="post" action=(c.action) id=(c.form_id) {
                        (csrf(op))
                        input type="hidden" name="confirm" value=(value);
                        (submit)
                        (cancel)
                    }
                }
            }
        }
    };
    page(op, c.title, body)
}

/// An inline SVG bar chart: one bar per (label, value), drawn on the server.
pub fn bar_chart(bars: &[(String, i64)], unit_label: impl Fn(i64) -> String) -> Markup {
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let w = 60 * bars.len().max(1);
    let h = 160;
    html! {
        svg.chart width=(w) height=(h + 40) viewBox={ "0 0 " (w) " " (h + 40) } role="img" {
            @for (i, (label, v)) in bars.iter().enumerate() {
                @let bh = (*v * h as i64 / max).max(if *v > 0 { 1 } else { 0 });
                @let x = i * 60 + 10;
                rect x=(x) y=(h as i64 - bh + 14) width="40" height=(bh) {
                    title { (label) ": " (unit_label(*v)) }
                }
                text x=(x + 20) y=(h + 30) text-anchor="middle" { (label) }
                @if *v > 0 {
                    text x=(x + 20) y=(h as i64 - bh + 10) text-anchor="middle" class="v" { (unit_label(*v)) }
                }
            }
        }
    }
}

/// A hidden CSRF field for a form.
pub fn csrf(op: &Op) -> Markup {
    html! { input type="hidden" name="csrf" value=(op.csrf); }
}

pub fn raw(s: &str) -> PreEscaped<&str> {
    PreEscaped(s)
}

/// Longest message an error page carries: enough for any message of ours, short enough
/// that no input (a 10,000-character name) comes back whole.
const MAX_MESSAGE_CHARS: usize = 300;

pub fn bounded(message: &str) -> String {
    match message.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &message[..cut]),
        None => message.to_string(),
    }
}

/// A refusal page for what an engine call answered, with the status its kind has (as
/// the REST API gives it): bad input 400, not found 404, an upstream's failure 502.
/// `engine_error` as a `map_err` argument, for the engine's errors and the store's
/// (which the operators' records answer with) alike.
pub fn err<E: Into<idcgate_engine::EngineError>>(
    op: &Op,
) -> impl Fn(E) -> crate::session::Refusal + '_ {
    move |e| engine_error(op, &e.into())
}

pub fn engine_error(op: &Op, e: &idcgate_engine::EngineError) -> crate::session::Refusal {
    if engine_status(e) == StatusCode::SERVICE_UNAVAILABLE {
        tracing::error!(error = %e, "console: storage failed");
    }
    refusal(op, engine_status(e), &bounded(&e.to_string())).into()
}

/// The status an engine error is answered with.
pub fn engine_status(e: &idcgate_engine::EngineError) -> StatusCode {
    use idcgate_core::Error as E;
    use idcgate_engine::EngineError as EE;
    match e {
        EE::Upstream(E::InvalidInput { .. }) | EE::Invalid(_) | EE::InvalidInput { .. } => {
            StatusCode::BAD_REQUEST
        }
        EE::Conflict(_) => StatusCode::CONFLICT,
        EE::Upstream(E::NotFound { .. })
        | EE::NoSuchAccount(_)
        | EE::NoSuchZone(_)
        | EE::NoSuchServer(_)
        | EE::NoSuchOrder(_) => StatusCode::NOT_FOUND,
        EE::Upstream(E::RateLimited { .. }) => StatusCode::TOO_MANY_REQUESTS,
        EE::Upstream(E::InsufficientBalance { .. }) => StatusCode::PAYMENT_REQUIRED,
        EE::Upstream(E::UnknownOutcome { .. }) => StatusCode::GATEWAY_TIMEOUT,
        EE::Upstream(E::NotImplemented { .. } | E::Unsupported { .. }) => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        EE::Upstream(_) => StatusCode::BAD_GATEWAY,
        // What the store refuses for what was asked is not a failure of the store.
        EE::Store(idcgate_store::StoreError::Conflict(_)) => StatusCode::CONFLICT,
        EE::Store(idcgate_store::StoreError::NotFound(_)) => StatusCode::NOT_FOUND,
        EE::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// A 400 page for input that cannot be used, saying why.
pub fn bad_input(op: &Op, why: &str) -> crate::session::Refusal {
    refusal(op, StatusCode::BAD_REQUEST, &bounded(why)).into()
}

/// A 404 page.
pub fn not_found(op: &Op, what: &str) -> crate::session::Refusal {
    refusal(op, StatusCode::NOT_FOUND, &bounded(what)).into()
}

/// An extractor's value, or a 400 page when the request could not be read (a form,
/// a query or a path that does not decode): never axum's bare text answer.
pub fn read<T, E: std::fmt::Display>(
    op: &Op,
    r: Result<T, E>,
) -> Result<T, crate::session::Refusal> {
    r.map_err(|e| {
        let why = format!(
            "{} {e}",
            op.t("请求无法读取：", "The request could not be read:")
        );
        bad_input(op, &why)
    })
}

/// One page of a list held in memory (lists the store cannot page itself) and how
/// many rows it has in all.
pub fn page_of<T>(rows: Vec<T>, q: &ListQuery) -> (Vec<T>, i64) {
    let total = rows.len();
    let size = PAGE_SIZE as usize;
    let pages = total.div_ceil(size).max(1);
    let page = (q.page() as usize).min(pages);
    let rows = rows
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .collect();
    (rows, i64::try_from(total).unwrap_or(i64::MAX))
}

/// Where a filtered list starts: `path` with its own filters in the address (empty
/// ones left out), so paging and sorting links keep them.
pub fn with_filters(path: &str, filters: &[(&str, &str)]) -> String {
    let qs: Vec<String> = filters
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    if qs.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", qs.join("&"))
    }
}

/// Sorts a list held in memory ascending by `cmp`, then flips it when the query asks
/// for descending; without a sort asked for, `default_desc` says which way the list's
/// own order runs (newest first for journals and logs).
pub fn sort_list<T>(
    rows: &mut [T],
    q: &ListQuery,
    default_desc: bool,
    cmp: impl Fn(&T, &T) -> std::cmp::Ordering,
) {
    rows.sort_by(cmp);
    let desc = if q.sort.is_some() {
        q.descending()
    } else {
        default_desc
    };
    if desc {
        rows.reverse();
    }
}

/// Whether any of `fields` contains `needle` (already lower case), ignoring case.
pub fn matches(needle: &str, fields: &[&str]) -> bool {
    fields.iter().any(|f| f.to_lowercase().contains(needle))
}

/// The start of a China-time day given as `2026-12-01`, in Unix milliseconds.
pub fn china_day_ms(day: &str) -> Option<i64> {
    let d = day.trim().parse::<jiff::civil::Date>().ok()?;
    let z = d
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .ok()?;
    Some(z.timestamp().as_millisecond())
}

/// A China-time day as a filter gives it (`2026-12-01`), or a 400 page saying how
/// one is written.
pub fn day(op: &Op, text: &str) -> Result<i64, crate::session::Refusal> {
    china_day_ms(text).ok_or_else(|| {
        bad_input(
            op,
            op.t(
                "起始日期应形如 2026-12-01（中国时间）。",
                "The start date should read like 2026-12-01 (China time).",
            ),
        )
    })
}

/// Who an operator is in the audit log and the journal.
pub fn actor(op: &Op) -> String {
    format!("console:{}", op.name)
}

/// A name taken from the path, or a 404 page for one no record can have (control
/// characters, absurd lengths): such text never reaches the store.
pub fn path_name<E: std::fmt::Display>(
    op: &Op,
    raw: Result<axum::extract::Path<String>, E>,
) -> Result<String, crate::session::Refusal> {
    let axum::extract::Path(name) = read(op, raw)?;
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(not_found(
            op,
            op.t("没有这个名称的记录。", "Nothing has this name."),
        ));
    }
    Ok(name)
}

/// Money held as a decimal (the engine's views), as every page shows it.
pub fn yuan(m: idcgate_core::Money) -> String {
    m.to_fen().map(money).unwrap_or_else(|_| m.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_shown_without_what_could_be_a_credential() {
        for (url, shown) in [
            ("https://api.west.cn/v2", "https://api.west.cn/v2"),
            ("http://u:p@h:1/x", "http://***@h:1/x"),
            ("http://u@h", "http://***@h"),
            ("https://h/a?key=s#f", "https://h/a?***"),
            ("https://h#frag", "https://h#***"),
            // An @ after the host is part of the path, not a user.
            ("https://h/a@b", "https://h/a@b"),
            ("https://a:b@c@h/", "https://***@h/"),
        ] {
            assert_eq!(shown_url(url), shown, "{url}");
        }
    }

    #[test]
    fn money_and_time_read_as_people_write_them() {
        assert_eq!(money(0), "¥0.00");
        assert_eq!(money(123456789), "¥1,234,567.89");
        assert_eq!(money(-5), "-¥0.05");
        assert_eq!(time(0), "1970-01-01 08:00");
        assert_eq!(date(1_700_000_000_000), "2023-11-15");
    }

    #[test]
    fn list_links_keep_a_lists_own_filters() {
        let q = ListQuery {
            q: "a b".into(),
            page: Some(3),
            sort: Some("state".into()),
            desc: Some(1),
        };
        assert_eq!(
            q.href("/orders", 2, Some("id"), false),
            "/orders?q=a%20b&sort=id&page=2"
        );
        assert_eq!(
            q.href("/orders?state=failed", 1, Some("id"), true),
            "/orders?state=failed&q=a%20b&sort=id&desc=1"
        );
        assert_eq!(
            ListQuery::default().href("/orders?state=failed", 1, None, false),
            "/orders?state=failed"
        );
    }

    #[test]
    fn names_in_paths_read_as_themselves() {
        assert_eq!(seg("sandbox-west_1.a~"), "sandbox-west_1.a~");
        assert_eq!(seg("a/b c?"), "a%2Fb%20c%3F");
        assert_eq!(seg(".."), "%2E%2E");
        assert_eq!(seg("下游"), "%E4%B8%8B%E6%B8%B8");
    }

    #[test]
    fn pages_of_a_list_in_memory() {
        let rows: Vec<u32> = (0..120).collect();
        let at = |page| ListQuery {
            page: Some(page),
            ..Default::default()
        };
        let (p1, total) = page_of(rows.clone(), &at(1));
        assert_eq!((p1.len(), p1[0], total), (50, 0, 120));
        let (p3, _) = page_of(rows.clone(), &at(3));
        assert_eq!((p3.len(), p3[0]), (20, 100));
        // Beyond the last page: the last page, as the pager says.
        let (p9, _) = page_of(rows, &at(9));
        assert_eq!(p9[0], 100);
        assert_eq!(page_of(Vec::<u32>::new(), &at(2)), (vec![], 0));
    }

    #[test]
    fn messages_are_bounded_and_days_are_china_time() {
        assert_eq!(bounded("short"), "short");
        let long = "字".repeat(1000);
        assert_eq!(bounded(&long).chars().count(), MAX_MESSAGE_CHARS + 1);
        assert_eq!(china_day_ms("1970-01-02"), Some(16 * 3_600_000));
        assert_eq!(china_day_ms("<script>"), None);
        assert!(matches("ab", &["xx", "zABz"]));
        assert!(!matches("ab", &["a b"]));
    }
}
