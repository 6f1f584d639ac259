//! The inventory as sync last saw it: domains (with the renewal policy's auto-renew
//! switch) and one list for every other kind that expires (hosting, databases, mail,
//! certificates).
//!
//! Lists are read from the store a page at a time, in the order asked for, so a page
//! costs the same with ten domains or ten thousand. Nothing here calls an upstream.

use super::dashboard::kind_name;
use crate::layout::{self, csrf, ListQuery};
use crate::session::{self, Act, Op, Page, Refusal};
use crate::Console;
use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Form, Router};
use idcgate_core::{ResourceKind, UpstreamAccount, Vendor};
use idcgate_engine::renewals::{Level, Policies};
use idcgate_store::{PolicyPatch, PolicyScope, ResourceFilter, ResourceOrder, ResourceRow};
use maud::{html, Markup};
use serde::Deserialize;

pub fn routes() -> Router<Console> {
    Router::new()
        .route("/domains", get(domains))
        .route("/domains/{account}/{name}/autorenew", post(auto_renew))
        .route("/hosting", get(hosting))
        .route("/databases", get(databases))
        .route("/mail", get(mail))
        .route("/certificates", get(certificates))
}

type Q = Result<Query<ListQuery>, QueryRejection>;
type F = Result<Query<InventoryFilter>, QueryRejection>;

/// The filters an inventory list takes besides search, sort and page.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct InventoryFilter {
    #[serde(default)]
    pub vendor: String,
    #[serde(default)]
    pub account: String,
    /// `expired`, or a number of days: what expires within them (not yet expired).
    #[serde(default)]
    pub expiry: String,
    /// Servers: a lifecycle or power state.
    #[serde(default)]
    pub state: String,
}

/// The expiry windows a list offers.
const WINDOWS: [&str; 5] = ["expired", "7", "30", "90", "365"];

fn window_name(op: &Op, w: &str) -> String {
    match (w, op.lang) {
        ("expired", _) => op.t("已过期", "expired").to_string(),
        (days, crate::i18n::Lang::Zh) => format!("{days} 天内到期"),
        (days, crate::i18n::Lang::En) => format!("within {days} days"),
    }
}

/// A filter value as typed, or a 400 page for one no account or vendor can have.
fn filter_value(op: &Op, what: &str, v: &str) -> Result<String, Refusal> {
    let v = v.trim();
    if v.chars().count() > 64 || v.chars().any(char::is_control) {
        return Err(layout::bad_input(
            op,
            &format!(
                "{what}: {}",
                op.t(
                    "筛选值过长或含控制字符。",
                    "the filter is too long or has control characters."
                )
            ),
        ));
    }
    Ok(v.to_string())
}

/// The store filter for an inventory list's filters (`kind` set by the caller), or a
/// 400 page saying which filter cannot be used.
pub(crate) async fn store_filter(
    c: &Console,
    op: &Op,
    q: &ListQuery,
    f: &InventoryFilter,
) -> Result<(ResourceFilter, [(&'static str, String); 3]), Refusal> {
    let vendor = filter_value(op, "vendor", &f.vendor)?;
    let account = filter_value(op, "account", &f.account)?;
    let expiry = filter_value(op, "expiry", &f.expiry)?;
    let mut filter = ResourceFilter {
        search: q.search(),
        ..Default::default()
    };
    if !account.is_empty() {
        filter.account = Some(account.clone());
    }
    if !vendor.is_empty() {
        let v: Vendor = vendor
            .parse()
            .map_err(|e: idcgate_core::Error| layout::bad_input(op, &e.to_string()))?;
        filter.accounts = Some(
            c.engine
                .accounts_of(v)
                .await
                .map_err(|e| layout::engine_error(op, &e))?,
        );
    }
    let now = idcgate_engine::now_ms();
    match expiry.as_str() {
        "" => {}
        "expired" => filter.expires_before_ms = Some(now),
        days => {
            let d: i64 = days
                .parse()
                .ok()
                .filter(|d| (1..=3650).contains(d))
                .ok_or_else(|| {
                    layout::bad_input(
                        op,
                        op.t(
                            "到期筛选应为 expired 或 1–3650 天。",
                            "The expiry filter is 'expired' or 1 to 3650 days.",
                        ),
                    )
                })?;
            filter.expires_after_ms = Some(now);
            filter.expires_before_ms = Some(now + d * 86_400_000);
        }
    }
    Ok((
        filter,
        [("vendor", vendor), ("account", account), ("expiry", expiry)],
    ))
}

/// The store's order for a list's sort column (name, account, expiry; a server's
/// power and state, a zone's record count), or `None` for a column it cannot order by.
pub(crate) fn store_order(q: &ListQuery) -> Option<ResourceOrder> {
    let descending = q.descending();
    match q.sort.as_deref() {
        None | Some("name") => Some(ResourceOrder::Name { descending }),
        Some("account") => Some(ResourceOrder::Account { descending }),
        Some("expiry") => Some(ResourceOrder::Expiry { descending }),
        Some("power") => Some(ResourceOrder::Power { descending }),
        Some("state") => Some(ResourceOrder::Lifecycle { descending }),
        Some("records") => Some(ResourceOrder::RecordCount { descending }),
        Some(_) => None,
    }
}

/// One page of a filtered list, paged and ordered by the store.
pub(crate) async fn store_page(
    c: &Console,
    op: &Op,
    q: &ListQuery,
    mut filter: ResourceFilter,
) -> Result<(Vec<ResourceRow>, i64), Refusal> {
    // Without a sort asked for, a window of expiry reads soonest first.
    filter.order = if q.sort.is_none() && filter.expires_before_ms.is_some() {
        None
    } else {
        Some(store_order(q).unwrap_or(ResourceOrder::Name { descending: false }))
    };
    filter.limit = Some(i64::from(layout::PAGE_SIZE));
    filter.offset = Some(q.offset());
    let reads = c.engine.reads();
    let failed = |e| layout::engine_error(op, &e);
    let (rows, total) = reads.resource_page(&filter).await.map_err(failed)?;
    // A page past the end shows the last page, as the pager says.
    if rows.is_empty() && total > 0 && q.offset() > 0 {
        let last = (total - 1) / i64::from(layout::PAGE_SIZE);
        filter.offset = Some(last * i64::from(layout::PAGE_SIZE));
        return reads.resource_page(&filter).await.map_err(failed);
    }
    Ok((rows, total))
}

/// The filter row: search, vendor, account, expiry window (and `extra` fields).
pub(crate) fn filter_form(
    op: &Op,
    base: &str,
    q: &ListQuery,
    accounts: &[UpstreamAccount],
    f: &[(&'static str, String); 3],
    extra: Markup,
) -> Markup {
    let mut vendors: Vec<Vendor> = accounts.iter().map(|a| a.vendor).collect();
    vendors.sort_by_key(|v| v.as_str());
    vendors.dedup();
    html! {
        (layout::filter_form(op, base, q, None, html! {
            (layout::choice(op.t("服务商", "Vendor"), "vendor", op.t("全部", "all"), html! {
                @for v in &vendors { option value=(v.as_str()) selected[f[0].1 == v.as_str()] { (v) } }
            }))
            (layout::choice(op.t("账号", "Account"), "account", op.t("全部", "all"), html! {
                @for a in accounts { option value=(a.name) selected[f[1].1 == a.name] { (a.name) } }
            }))
            (layout::choice(op.t("到期", "Expiry"), "expiry", op.t("全部", "any"), html! {
                @for w in WINDOWS { option value=(w) selected[f[2].1 == w] { (window_name(op, w)) } }
            }))
            (extra)
        }))
    }
}

/// The expiry date and the days left, warned when close or past.
pub(crate) fn expiry_cells(op: &Op, expires: Option<i64>) -> Markup {
    html! {
        @match expires {
            Some(ms) => {
                @let left = layout::days_left(ms);
                td { (layout::date(ms)) }
                @if left < 0 {
                    td.num.bad { (op.t("已过期 ", "expired ")) (-left) (op.t(" 天", " d ago")) }
                } @else if left <= 30 {
                    td.num class="warn" { span.bad { (left) } }
                } @else {
                    td.num { (left) }
                }
            }
            None => { td { "-" } td.num { "-" } }
        }
    }
}

/// What an empty inventory list says.
pub(crate) fn empty_state(op: &Op, filtered: bool, what: &str) -> Markup {
    if filtered {
        layout::empty(op.t(
            "没有符合筛选的记录：换个条件或清除筛选。",
            "Nothing matches: change or clear the filters.",
        ))
    } else {
        let message = format!(
            "{what}{}",
            op.t(
                "：还没有数据。先在“上游账号”页添加账号，再运行同步（idcgate sync，或等待定时同步）。",
                ": nothing yet. Add an upstream account on the Accounts page, then run a sync (`idcgate sync`, or wait for the scheduled one).",
            )
        );
        html! { p.empty { (message) " " a href="/accounts" { (op.t("前往上游账号", "Go to the accounts")) } } }
    }
}

fn vendor_of<'a>(accounts: &'a [UpstreamAccount], name: &str) -> &'a str {
    accounts
        .iter()
        .find(|a| a.name == name)
        .map_or("-", |a| a.vendor.as_str())
}

async fn accounts(c: &Console, op: &Op) -> Result<Vec<UpstreamAccount>, Refusal> {
    c.engine
        .accounts()
        .await
        .map_err(|e| layout::engine_error(op, &e))
}

// ---------------------------------------------------------------------------------
// Domains

fn level_name(op: &Op, l: Level) -> &'static str {
    match l {
        Level::BuiltIn => op.t("默认", "built-in"),
        Level::Kind => op.t("域名默认", "domain default"),
        Level::Resource => op.t("单独设置", "set here"),
    }
}

fn auto_renew_cell(op: &Op, policies: &Policies, r: &ResourceRow, back: &str) -> Markup {
    let p = policies.of(ResourceKind::Domain, &r.account, &r.key);
    let on = p.auto_renew;
    html! {
        td {
            span class=(if on { "ok" } else { "muted" }) { (if on { op.t("开", "on") } else { op.t("关", "off") }) }
            " " span.hint { "(" (level_name(op, p.from.auto_renew)) ")" }
            @if op.may(Act::Money) {
                " "
                form.inline method="post" action={ "/domains/" (layout::seg(&r.account)) "/" (layout::seg(&r.key)) "/autorenew" } {
                    (csrf(op))
                    input type="hidden" name="on" value=(if on { "0" } else { "1" });
                    input type="hidden" name="back" value=(back);
                    button.secondary type="submit" id={ "autorenew-" (r.key) } {
                        (if on { op.t("关闭自动续费", "Turn off") } else { op.t("开启自动续费", "Turn on") })
                    }
                }
            }
        }
    }
}

async fn domains(State(c): State<Console>, op: Op, q: Q, f: F) -> Page {
    let Query(q) = layout::read(&op, q)?;
    let Query(f) = layout::read(&op, f)?;
    let (mut filter, filters) = store_filter(&c, &op, &q, &f).await?;
    filter.kind = Some(ResourceKind::Domain);
    let filtered = q.search().is_some() || filters.iter().any(|(_, v)| !v.is_empty());
    let (rows, total) = store_page(&c, &op, &q, filter).await?;
    let accounts = accounts(&c, &op).await?;
    let policies = c
        .engine
        .renewal_policies()
        .await
        .map_err(|e| layout::engine_error(&op, &e))?;
    let pairs: Vec<(&str, &str)> = filters.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let base = layout::with_filters("/domains", &pairs);
    let here = q.href(&base, q.page(), q.sort.as_deref(), q.descending());
    let body = html! {
        (filter_form(&op, "/domains", &q, &accounts, &filters, html! {}))
        @if rows.is_empty() {
            (empty_state(&op, filtered, op.t("域名", "Domains")))
        } @else {
            table {
                thead { tr {
                    (layout::sort_head(&q, &base, "name", op.t("域名", "Domain")))
                    (layout::sort_head(&q, &base, "account", op.t("账号", "Account")))
                    th { (op.t("服务商", "Vendor")) }
                    th { (op.t("状态", "Status")) }
                    (layout::sort_head(&q, &base, "expiry", op.t("到期", "Expires")))
                    th.num { (op.t("剩余天数", "Days left")) }
                    th { (op.t("自动续费", "Auto-renew")) }
                    th {}
                } }
                tbody {
                    @for r in &rows {
                        tr {
                            td { (r.name) }
                            td { (r.account) }
                            td { (vendor_of(&accounts, &r.account)) }
                            td { (r.data["status"].as_str().unwrap_or("-")) }
                            (expiry_cells(&op, r.expires_at_ms))
                            (auto_renew_cell(&op, &policies, r, &here))
                            td { a href={ "/dns?q=" (layout::enc(&r.name)) } { "DNS" } }
                        }
                    }
                }
            }
            (layout::pager(&op, &q, &base, total))
        }
        p.hint { (op.t(
            "自动续费按续费策略执行：到期前按设定天数经订单流水续费，受最高价和余额下限约束。",
            "Auto-renew follows the renewal policy: renewed through the order journal the set days before expiry, within the maximum price and the balance floor.")) }
    };
    Ok(layout::page(&op, op.t("域名", "Domains"), body))
}

#[derive(Deserialize)]
struct AutoRenewForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    on: String,
    #[serde(default)]
    back: String,
}

/// Where a form may send the operator back to: a list of this console, nowhere else.
fn back_to(back: &str, list: &str) -> String {
    let ok = back.starts_with(list)
        && back.len() <= 2000
        && !back.contains("//")
        && !back.chars().any(|c| c.is_control() || c == '\\');
    if ok {
        back.to_string()
    } else {
        list.to_string()
    }
}

async fn auto_renew(
    State(c): State<Console>,
    op: Op,
    path: Result<Path<(String, String)>, PathRejection>,
    form: Result<Form<AutoRenewForm>, FormRejection>,
) -> Page {
    let Path((account, name)) = layout::read(&op, path)?;
    let Form(f) = layout::read(&op, form)?;
    op.may_submit(Act::Money, &f.csrf)?;
    let on = match f.on.as_str() {
        "1" => true,
        "0" => false,
        _ => {
            return Err(layout::bad_input(
                &op,
                op.t("开关值应为 1 或 0。", "The switch is 1 or 0."),
            ))
        }
    };
    for v in [&account, &name] {
        if v.is_empty() || v.chars().count() > 253 || v.chars().any(char::is_control) {
            return Err(layout::not_found(
                &op,
                op.t("清单中没有这个域名。", "No such domain in the inventory."),
            ));
        }
    }
    c.engine
        .set_renewal_policy(
            &layout::actor(&op),
            &PolicyScope::resource(ResourceKind::Domain, &account, &name),
            &PolicyPatch {
                auto_renew: Some(on),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| layout::engine_error(&op, &e))?;
    let notice = format!(
        "{name}: {}",
        if on {
            op.t("已开启自动续费", "auto-renew on")
        } else {
            op.t("已关闭自动续费", "auto-renew off")
        }
    );
    Ok(session::redirect_with(
        &op,
        &back_to(&f.back, "/domains"),
        &notice,
    ))
}

// ---------------------------------------------------------------------------------
// Hosting, databases, mail, certificates: one list

/// What a kind's rows say beyond name and status.
fn detail(kind: ResourceKind, d: &serde_json::Value, mailboxes: &str) -> String {
    let s = |k: &str| d[k].as_str().unwrap_or_default().to_string();
    match kind {
        ResourceKind::HostingSite => {
            let domains: Vec<&str> = d["domains"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
                .unwrap_or_default();
            [s("plan"), domains.join(", ")]
                .into_iter()
                .filter(|x| !x.is_empty())
                .collect::<Vec<_>>()
                .join(" · ")
        }
        ResourceKind::Database => match d["size_mb"].as_u64() {
            Some(mb) => format!("{} · {mb} MB", s("engine")),
            None => s("engine"),
        },
        ResourceKind::MailDomain => d["mailbox_quota"]
            .as_u64()
            .map(|n| format!("{n} {mailboxes}"))
            .unwrap_or_default(),
        ResourceKind::Certificate => s("product"),
        _ => String::new(),
    }
}

async fn kind_list(c: Console, op: Op, q: Q, f: F, kind: ResourceKind, path: &str) -> Page {
    let Query(q) = layout::read(&op, q)?;
    let Query(f) = layout::read(&op, f)?;
    let (mut filter, filters) = store_filter(&c, &op, &q, &f).await?;
    filter.kind = Some(kind);
    let filtered = q.search().is_some() || filters.iter().any(|(_, v)| !v.is_empty());
    let (rows, total) = store_page(&c, &op, &q, filter).await?;
    let accounts = accounts(&c, &op).await?;
    let pairs: Vec<(&str, &str)> = filters.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let base = layout::with_filters(path, &pairs);
    let title = kind_name(&op, kind);
    let body = html! {
        (filter_form(&op, path, &q, &accounts, &filters, html! {}))
        @if rows.is_empty() {
            (empty_state(&op, filtered, title))
        } @else {
            table {
                thead { tr {
                    (layout::sort_head(&q, &base, "name", op.t("名称", "Name")))
                    (layout::sort_head(&q, &base, "account", op.t("账号", "Account")))
                    th { "ID" }
                    th { (op.t("状态", "Status")) }
                    th { (op.t("详情", "Detail")) }
                    (layout::sort_head(&q, &base, "expiry", op.t("到期", "Expires")))
                    th.num { (op.t("剩余天数", "Days left")) }
                } }
                tbody {
                    @for r in &rows {
                        tr {
                            td { (r.name) }
                            td { (r.account) " " span.hint { (vendor_of(&accounts, &r.account)) } }
                            td { code { (r.key) } }
                            td { (r.data["status"].as_str().unwrap_or("-")) }
                            td.detail { (detail(kind, &r.data, op.t("个邮箱", "mailboxes"))) }
                            (expiry_cells(&op, r.expires_at_ms))
                        }
                    }
                }
            }
            (layout::pager(&op, &q, &base, total))
        }
    };
    Ok(layout::page(&op, title, body))
}

async fn hosting(State(c): State<Console>, op: Op, q: Q, f: F) -> Page {
    kind_list(c, op, q, f, ResourceKind::HostingSite, "/hosting").await
}

async fn databases(State(c): State<Console>, op: Op, q: Q, f: F) -> Page {
    kind_list(c, op, q, f, ResourceKind::Database, "/databases").await
}

async fn mail(State(c): State<Console>, op: Op, q: Q, f: F) -> Page {
    kind_list(c, op, q, f, ResourceKind::MailDomain, "/mail").await
}

async fn certificates(State(c): State<Console>, op: Op, q: Q, f: F) -> Page {
    kind_list(c, op, q, f, ResourceKind::Certificate, "/certificates").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_send_back_only_to_their_own_list() {
        assert_eq!(
            back_to("/domains?q=a&page=2", "/domains"),
            "/domains?q=a&page=2"
        );
        assert_eq!(back_to("https://evil.example/", "/domains"), "/domains");
        assert_eq!(back_to("/domains//evil.example", "/domains"), "/domains");
        assert_eq!(back_to("/orders", "/domains"), "/domains");
    }

    #[test]
    fn details_name_what_each_kind_holds() {
        let site = serde_json::json!({"plan": "L2", "domains": ["a.com", "b.com"]});
        assert_eq!(
            detail(ResourceKind::HostingSite, &site, ""),
            "L2 · a.com, b.com"
        );
        let db = serde_json::json!({"engine": "mssql", "size_mb": 500});
        assert_eq!(detail(ResourceKind::Database, &db, ""), "mssql · 500 MB");
    }
}
