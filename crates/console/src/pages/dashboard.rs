//! The dashboard: what expires soon by kind, upstream balances with low-balance
//! warnings, spend per month, the last sync and its failures, and orders that need a
//! person (unknown outcomes, failures).
//!
//! Everything here is read from the store, never from an upstream: the page must
//! answer in milliseconds with thousands of resources, and the numbers are as fresh
//! as the last sync, which the page says.

use crate::layout::{self, money};
use crate::session::Op;
use crate::Console;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use idcgate_core::{Money, OrderState, ResourceKind};
use idcgate_engine::now_ms;
use idcgate_store::{LedgerFilter, OrderFilter, ResourceFilter};
use maud::{html, Markup};

pub fn routes() -> Router<Console> {
    Router::new().route("/", get(dashboard))
}

/// Below this an upstream balance is shown as a warning.
const LOW_BALANCE_FEN: i64 = 10_000;
const EXPIRING_DAYS: i64 = 30;

pub(crate) fn kind_name(op: &Op, k: ResourceKind) -> &'static str {
    match k {
        ResourceKind::Domain => op.t("域名", "Domains"),
        ResourceKind::DnsZone => op.t("DNS 区域", "DNS zones"),
        ResourceKind::DnsRecord => op.t("DNS 记录", "DNS records"),
        ResourceKind::Server => op.t("服务器", "Servers"),
        ResourceKind::HostingSite => op.t("虚拟主机", "Hosting"),
        ResourceKind::Database => op.t("数据库", "Databases"),
        ResourceKind::MailDomain => op.t("邮局", "Mail"),
        ResourceKind::Certificate => op.t("证书", "Certificates"),
        ResourceKind::Balance => op.t("余额", "Balances"),
    }
}

/// A dashboard card: its title, then its `rows` in a table, or why there are none.
fn card(title: &str, empty: Option<&str>, rows: Markup) -> Markup {
    html! {
        section.card {
            h2 { (title) }
            @match empty {
                Some(why) => (layout::empty(why)),
                None => table { (rows) },
            }
        }
    }
}

fn fen_of(v: Option<&serde_json::Value>) -> Option<i64> {
    let text = match v? {
        serde_json::Value::String(s) => s.clone(),
        n @ serde_json::Value::Number(_) => n.to_string(),
        _ => return None,
    };
    text.parse::<Money>().ok()?.to_fen().ok()
}

async fn dashboard(State(console): State<Console>, op: Op) -> Response {
    match render(&console, &op).await {
        Ok(r) => r,
        Err(e) => layout::refusal(&op, StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

async fn render(console: &Console, op: &Op) -> Result<Response, idcgate_engine::EngineError> {
    let reads = console.engine.reads();
    let now = now_ms();
    let soon = now + EXPIRING_DAYS * 86_400_000;
    let mut expiring = Vec::new();
    for kind in [
        ResourceKind::Domain,
        ResourceKind::Server,
        ResourceKind::HostingSite,
        ResourceKind::Database,
        ResourceKind::MailDomain,
        ResourceKind::Certificate,
    ] {
        let n = reads
            .count_resources(&ResourceFilter {
                kind: Some(kind),
                expires_before_ms: Some(soon),
                ..Default::default()
            })
            .await?;
        expiring.push((kind, n));
    }
    let balances = reads
        .resources(&ResourceFilter {
            kind: Some(ResourceKind::Balance),
            ..Default::default()
        })
        .await?;
    let attention = {
        let mut rows = Vec::new();
        for state in [
            OrderState::Unknown,
            OrderState::Submitted,
            OrderState::Failed,
        ] {
            rows.extend(
                reads
                    .orders(&OrderFilter {
                        state: Some(state),
                        limit: Some(10),
                        ..Default::default()
                    })
                    .await?,
            );
        }
        rows
    };
    // Spend: what upstreams were paid, by China-time month, for the last six months:
    // each month's first instant, and the next month's after the last.
    let this_month = jiff::Timestamp::from_millisecond(now)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .date()
        .first_of_month();
    let firsts: Vec<jiff::civil::Date> = (0..7)
        .rev()
        .map(|back: i64| {
            this_month
                .checked_sub(jiff::Span::new().months(back - 1))
                .unwrap_or(this_month)
        })
        .collect();
    let bounds: Vec<i64> = firsts
        .iter()
        .map(|d| layout::china_day_ms(&d.to_string()).unwrap_or(now))
        .collect();
    // The cost side of every purchase, as `idcgate spend` sums it: a purchase debits
    // `cost:<kind>` (positive), a refund credits it back; money put into an upstream
    // account moves `upstream:` lines without being spent, so those are not read.
    let sums = reads
        .ledger_sums(
            &LedgerFilter {
                account: Some("cost:".into()),
                ..Default::default()
            },
            &bounds,
        )
        .await?;
    let spend: Vec<(String, i64)> = firsts
        .iter()
        .zip(sums)
        .map(|(d, fen)| (d.strftime("%Y-%m").to_string(), fen))
        .collect();
    let syncs = console.engine.last_syncs().await?;

    let body = html! {
        div.cards {
            (card(op.t("30 天内到期", "Expiring within 30 days"), None, html! {
                @for (kind, n) in &expiring {
                    tr class=[(*n > 0).then_some("warn")] {
                        td { (kind_name(op, *kind)) }
                        td.num { (n) }
                    }
                }
            }))
            (card(op.t("上游余额", "Upstream balances"), balances.is_empty().then_some(op.t("还没有余额数据：添加上游账号并同步。", "No balances yet: add an upstream account and sync it.")), html! {
                @for b in &balances {
                    @let avail = fen_of(b.data.get("available"));
                    @let low = avail.is_some_and(|f| f < LOW_BALANCE_FEN);
                    tr class=[low.then_some("warn")] {
                        td { (b.account) }
                        td.num { (avail.map(money).unwrap_or_else(|| "-".into())) }
                        td { @if low { (op.t("余额不足", "low balance")) } }
                    }
                }
            }))
            (card(op.t("各账号最近同步", "Last sync per account"), syncs.is_empty().then_some(op.t("还没有同步过：运行 idcgate sync 或等待定时同步。", "Never synced: run `idcgate sync` or wait for the scheduled sync.")), html! {
                @for e in &syncs {
                    tr class=[(e.outcome != "ok").then_some("warn")] {
                        td { (e.target) }
                        td { (layout::time(e.at_ms)) }
                        td class=(if e.outcome == "ok" { "ok" } else { "bad" }) {
                            @if e.outcome == "ok" { (e.detail) } @else { (op.t("失败：", "failed: ")) (e.detail) }
                        }
                    }
                }
            }))
        }
        section {
            h2 { (op.t("每月上游支出（近 6 个月）", "Upstream spend per month (last 6 months)")) }
            @if spend.iter().all(|(_, fen)| *fen == 0) {
                (layout::empty(op.t("近 6 个月没有上游支出：订单付款后会按月显示在这里。", "No upstream spend in the last 6 months: paid orders show here by month.")))
            } @else {
                (layout::bar_chart(&spend, money))
            }
        }
        section {
            h2 { (op.t("需要处理的订单", "Orders needing attention")) }
            @if attention.is_empty() {
                (layout::empty(op.t("没有需要处理的订单。", "No order needs attention.")))
            } @else {
                table {
                    thead { tr { th { "#" } th { (op.t("账号", "Account")) } th { (op.t("对象", "Target")) } th { (op.t("状态", "State")) } th { (op.t("更新时间", "Updated")) } } }
                    tbody {
                        @for o in &attention {
                            tr {
                                td { a href={ "/orders/" (o.id) } { (o.id) } }
                                td { (o.order.account) }
                                td { (o.order.target) }
                                td.bad { (o.state.as_str()) }
                                td { (layout::time(o.updated_ms)) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(op, op.t("概览", "Dashboard"), body))
}
