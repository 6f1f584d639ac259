//! Money pages: the order journal and its events, the ledger with its balances and
//! check, an upstream account's statement check, tenants (their orders, statements,
//! margins, top-ups, credit, level, suspension) and the product catalog.
//!
//! Every number here is the engine's or the store's: balances are the ledger's sums,
//! prices come from the catalog's rules and live quotes (`Engine::product_prices`),
//! a statement is `Engine::statement`. Nothing is priced or re-derived here.

use super::{posted, ConfirmForm, CsrfForm, FormIn, ListIn, NameIn, QueryIn};
use crate::layout::{self, csrf, money, yuan, Col, Confirm, ConfirmBy, ListQuery};
use crate::session::{self, Act, Op, Page, Refusal};
use crate::Console;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::Router;
use idcgate_core::{Money, OrderState};
use idcgate_engine::catalog::{Basis, PriceRule, Product, TermPrices};
use idcgate_engine::tenants::TenantView;
use idcgate_store::{LedgerFilter, ListPage, OrderFilter, ProductState, TenantState};
use maud::{html, Markup};
use serde::Deserialize;
use std::cmp::Ordering;
use std::time::Duration;

pub fn routes() -> Router<Console> {
    Router::new()
        .route("/orders", get(orders))
        .route("/orders/{id}", get(order))
        .route("/ledger", get(ledger))
        .route("/statements/{account}", get(statement))
        .route("/tenants", get(tenants).post(add_tenant))
        .route("/tenants/{name}", get(tenant))
        .route("/tenants/{name}/orders", get(tenant_orders))
        .route("/tenants/{name}/statement", get(tenant_statement))
        .route("/tenants/{name}/topup", post(topup))
        .route("/tenants/{name}/credit", post(set_credit))
        .route("/tenants/{name}/level", post(set_level))
        .route("/tenants/{name}/suspend", post(suspend))
        .route("/tenants/{name}/resume", post(resume))
        .route("/products", get(products))
        .route("/products/{name}", get(product))
        .route("/products/{name}/retire", get(retire_page).post(retire))
}

/// How long the catalog waits for live quotes before showing what it has.
const QUOTES_WAIT: Duration = Duration::from_secs(8);

/// A page of a list the store filters, sorts and pages (`page_orders`, `page_ledger`):
/// newest first unless a column is asked for; a page past the end is the last one, as
/// the pager says.
async fn list_page<T, F, Fut>(
    q: &ListQuery,
    read: F,
) -> Result<(Vec<T>, i64), idcgate_engine::EngineError>
where
    F: Fn(ListPage) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, i64), idcgate_engine::EngineError>>,
{
    let size = i64::from(layout::PAGE_SIZE);
    let mut page = ListPage {
        search: q.search(),
        sort: q.sort.clone(),
        descending: q.descending(),
        limit: size,
        offset: q.offset(),
        count: true,
    };
    let (rows, total) = read(page.clone()).await?;
    if rows.is_empty() && total > 0 && page.offset > 0 {
        page.offset = (total - 1) / size * size;
        return read(page).await;
    }
    Ok((rows, total))
}

pub(crate) fn order_state_name(op: &Op, s: OrderState) -> &'static str {
    match s {
        OrderState::Pending => op.t("待发送", "pending"),
        OrderState::Submitted => op.t("已发送", "submitted"),
        OrderState::Succeeded => op.t("成功", "succeeded"),
        OrderState::Failed => op.t("失败", "failed"),
        OrderState::Unknown => op.t("结果未知", "unknown"),
    }
}

fn order_state_class(s: OrderState) -> &'static str {
    match s {
        OrderState::Succeeded => "ok",
        OrderState::Failed | OrderState::Unknown => "bad",
        _ => "",
    }
}

fn tenant_state_name(op: &Op, s: TenantState) -> &'static str {
    match s {
        TenantState::Active => op.t("正常", "active"),
        TenantState::Suspended => op.t("已暂停", "suspended"),
        TenantState::Removed => op.t("已移除", "removed"),
    }
}

fn tenant_order_state_name(op: &Op, s: idcgate_store::TenantOrderState) -> &'static str {
    use idcgate_store::TenantOrderState as S;
    match s {
        S::Pending => op.t("处理中", "pending"),
        S::Active => op.t("已交付", "active"),
        S::Failed => op.t("失败（已退款）", "failed (paid back)"),
        S::Refunded => op.t("已退订", "refunded"),
    }
}

/// What a tenant statement line is, in the operator's language (unknown kinds as
/// the engine names them).
fn statement_what(op: &Op, what: &str) -> String {
    match what {
        "deposit" => op.t("充值", "deposit"),
        "create" => op.t("购买", "purchase"),
        "renew" => op.t("续费", "renewal"),
        "refund" => op.t("退订退款", "refund"),
        "return" => op.t("上游拒绝退款", "returned (upstream refused)"),
        other => return other.to_string(),
    }
    .to_string()
}

fn product_state_name(op: &Op, s: ProductState) -> &'static str {
    match s {
        ProductState::OnSale => op.t("在售", "on sale"),
        ProductState::Retired => op.t("已下架", "retired"),
    }
}

fn level_name(op: &Op, level: &str) -> String {
    if level.is_empty() {
        op.t("基础价", "base").to_string()
    } else {
        level.to_string()
    }
}

/// `1,234,567.89` without its thousands separators; `None` when the commas are not
/// ones (`1,2` may mean 1.2 to someone, so it is refused, not read as 12).
fn without_grouping(text: &str) -> Option<String> {
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text, None),
    };
    if !int.contains(',') {
        return Some(text.to_string());
    }
    let digits = int.trim_start_matches(['-', '+']);
    let mut groups = digits.split(',');
    let first_ok = groups
        .next()
        .is_some_and(|g| (1..=3).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_digit()));
    if !first_ok || !groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let int: String = int.chars().filter(|c| *c != ',').collect();
    Some(match frac {
        Some(f) => format!("{int}.{f}"),
        None => int,
    })
}

/// An amount of yuan as typed (`1000`, `1,000.00`, `¥1000`), read exactly.
fn parse_yuan(op: &Op, field: &str, text: &str) -> Result<Money, Refusal> {
    let cleaned = without_grouping(text.trim().trim_start_matches(['¥', '￥']).trim());
    cleaned
        .and_then(|c| idcgate_core::money::plain_decimal(&c))
        .map(Money)
        .ok_or_else(|| {
            layout::bad_input(
                op,
                &format!(
                    "{field} {:?}: {}",
                    layout::bounded(text),
                    op.t(
                        "应为以元计的金额，如 1000.00",
                        "expected an amount in yuan like 1000.00"
                    )
                ),
            )
        })
}

// ---------------------------------------------------------------------------------
// Orders

/// An account filter as typed, cut to `max` characters, or a 400 page saying `why` for
/// one with a control character (no account has one).
fn account_filter(op: &Op, typed: &str, max: usize, why: &str) -> Result<String, Refusal> {
    let account: String = typed.trim().chars().take(max).collect();
    if account.chars().any(char::is_control) {
        return Err(layout::bad_input(op, why));
    }
    Ok(account)
}

#[derive(Deserialize, Default)]
struct OrderQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    account: String,
}

async fn orders(State(c): State<Console>, op: Op, q: ListIn, f: QueryIn<OrderQuery>) -> Page {
    let Query(q) = layout::read(&op, q)?;
    let Query(f) = layout::read(&op, f)?;
    let state = match f.state.trim() {
        "" => None,
        s => Some(OrderState::parse(s).ok_or_else(|| {
            layout::bad_input(
                &op,
                op.t(
                    "未知的订单状态：可选 pending、submitted、succeeded、failed、unknown。",
                    "Unknown order state: pending, submitted, succeeded, failed or unknown.",
                ),
            )
        })?),
    };
    let why = op.t("账号名称无效。", "Not an account name.");
    let account = account_filter(&op, &f.account, 64, why)?;
    let reads = c.engine.reads();
    let filter = OrderFilter {
        account: (!account.is_empty()).then(|| account.clone()),
        state,
        ..Default::default()
    };
    let filter = &filter;
    let (rows, total) = list_page(
        &q,
        |page| async move { reads.order_page(filter, &page).await },
    )
    .await
    .map_err(layout::err(&op))?;
    let accounts: Vec<String> = c
        .engine
        .accounts()
        .await
        .map_err(layout::err(&op))?
        .into_iter()
        .map(|a| a.name)
        .collect();
    let state_text = state.map(OrderState::as_str).unwrap_or("");
    let base = layout::with_filters("/orders", &[("state", state_text), ("account", &account)]);
    let body = html! {
        (layout::filter_form(&op, "/orders", &q, Some(op.t("编号、对象、账号…", "id, target, account…")), html! {
            (layout::choice(op.t("状态", "State"), "state", op.t("全部", "all"), html! {
                @for s in OrderState::ALL {
                    option value=(s.as_str()) selected[state == Some(s)] { (order_state_name(&op, s)) }
                }
            }))
            (layout::choice(op.t("上游账号", "Account"), "account", op.t("全部", "all"), html! {
                @for a in &accounts {
                    option value=(a) selected[*a == account] { (a) }
                }
                @if !account.is_empty() && !accounts.contains(&account) {
                    option value=(account) selected { (account) }
                }
            }))
        }))
        @if rows.is_empty() {
            @if total == 0 && q.search().is_none() && state.is_none() && account.is_empty() {
                (layout::empty(op.t(
                    "还没有订单：用 idcgate order place 下单，或等下游客户通过接口购买。",
                    "No orders yet: place one with `idcgate order place`, or wait for a tenant to buy through the downstream endpoint.")))
            } @else {
                (layout::empty(op.t("没有符合筛选的订单：换个条件或清除筛选。", "No order matches: change or clear the filters.")))
            }
        } @else {
            (layout::list_table(&op, &q, &base, total, &[
                Col::Sort("id", "#"),
                Col::Sort("account", op.t("账号", "Account")),
                Col::Sort("kind", op.t("类型", "Kind")),
                Col::Sort("operation", op.t("操作", "Operation")),
                Col::Sort("target", op.t("对象", "Target")),
                Col::SortNum("quoted", op.t("报价", "Quoted")),
                Col::SortNum("charged", op.t("实扣", "Charged")),
                Col::Sort("state", op.t("状态", "State")),
                Col::Sort("updated", op.t("更新时间", "Updated")),
            ], html! {
                    @for o in &rows {
                        tr {
                            td { a href={ "/orders/" (o.id) } { (o.id) } }
                            td { (o.order.account) }
                            td { (super::dashboard::kind_name(&op, o.order.kind)) }
                            td { (o.order.operation) }
                            td { (o.order.target) }
                            td.num { (money(o.order.quoted_fen)) }
                            td.num { (o.charged_fen.map(money).unwrap_or_else(|| "-".into())) }
                            td class=(order_state_class(o.state)) { (order_state_name(&op, o.state)) }
                            td { (layout::time(o.updated_ms)) }
                        }
                    }
            }))
        }
    };
    Ok(layout::page(&op, op.t("订单", "Orders"), body))
}

async fn order(State(c): State<Console>, op: Op, id: NameIn) -> Page {
    let raw = layout::path_name(&op, id)?;
    let missing = || layout::not_found(&op, op.t("没有这个订单。", "No such order."));
    let id: i64 = raw.parse().map_err(|_| missing())?;
    let reads = c.engine.reads();
    let o = reads
        .order(id)
        .await
        .map_err(layout::err(&op))?
        .ok_or_else(missing)?;
    let events = reads.order_events(id).await.map_err(layout::err(&op))?;
    let params = serde_json::to_string_pretty(&o.order.params).unwrap_or_default();
    let body = html! {
        table {
            tr { th { (op.t("上游账号", "Account")) } td { a href={ "/orders?account=" (layout::enc(&o.order.account)) } { (o.order.account) } } }
            tr { th { (op.t("类型", "Kind")) } td { (super::dashboard::kind_name(&op, o.order.kind)) } }
            tr { th { (op.t("操作", "Operation")) } td { (o.order.operation) } }
            tr { th { (op.t("对象", "Target")) } td { (o.order.target) } }
            tr { th { (op.t("参数", "Parameters")) } td { pre { (params) } } }
            tr { th { (op.t("报价", "Quoted")) } td.num { (money(o.order.quoted_fen)) } }
            tr { th { (op.t("实扣", "Charged")) } td.num { (o.charged_fen.map(money).unwrap_or_else(|| "-".into())) } }
            tr { th { (op.t("状态", "State")) } td class=(order_state_class(o.state)) { (order_state_name(&op, o.state)) } }
            tr { th { (op.t("上游订单号", "Upstream order")) } td { (o.upstream_ref.as_deref().unwrap_or("-")) } }
            tr { th { (op.t("上游资源", "Upstream resource")) } td { (o.resource_ref.as_deref().unwrap_or("-")) } }
            tr { th { (op.t("幂等键", "Idempotency key")) } td { code { (o.order.idem_key) } } }
            tr { th { (op.t("下单人", "Placed by")) } td { (o.order.actor) } }
            tr { th { (op.t("创建时间", "Placed")) } td { (layout::time(o.created_ms)) } }
            tr { th { (op.t("更新时间", "Updated")) } td { (layout::time(o.updated_ms)) } }
        }
        @if o.state == OrderState::Unknown {
            p.error { (op.t(
                "结果未知：答复丢失。请运行 idcgate order reconcile 读取上游确认，切勿重新下单。",
                "Unknown outcome: the answer was lost. Run `idcgate order reconcile` to read the upstream; never place it again.")) }
        }
        h2 { (op.t("事件", "Events")) }
        @if events.is_empty() {
            (layout::empty(op.t("没有事件记录。", "No events recorded.")))
        } @else {
            table {
                thead { tr { th { (op.t("时间", "At")) } th { (op.t("从", "From")) } th { (op.t("到", "To")) } th { (op.t("说明", "Detail")) } } }
                tbody {
                    @for e in &events {
                        tr {
                            td { (layout::time(e.at_ms)) }
                            td { (e.from.map(|s| order_state_name(&op, s)).unwrap_or("-")) }
                            td class=(order_state_class(e.to)) { (order_state_name(&op, e.to)) }
                            td.detail { (e.detail) }
                        }
                    }
                }
            }
        }
        p { a href={ "/statements/" (layout::seg(&o.order.account)) } { (op.t("该账号的对账", "Statement check of this account")) } " · " a href="/orders" { (op.t("全部订单", "All orders")) } }
    };
    let title = format!("{} #{}", op.t("订单", "Order"), o.id);
    Ok(layout::page(&op, &title, body))
}

// ---------------------------------------------------------------------------------
// Ledger

#[derive(Deserialize, Default)]
struct LedgerQuery {
    #[serde(default)]
    account: String,
    #[serde(default)]
    since: String,
}

async fn ledger(State(c): State<Console>, op: Op, q: ListIn, f: QueryIn<LedgerQuery>) -> Page {
    let Query(q) = layout::read(&op, q)?;
    let Query(f) = layout::read(&op, f)?;
    let why = op.t("账户名无效。", "Not a ledger account name.");
    let account = account_filter(&op, &f.account, 100, why)?;
    let since = f.since.trim();
    let since_ms = match since {
        "" => None,
        d => Some(layout::day(&op, d)?),
    };
    let reads = c.engine.reads();
    let filter = LedgerFilter {
        account: (!account.is_empty()).then(|| account.clone()),
        since_ms,
        limit: None,
    };
    let filter = &filter;
    let (lines, total) = list_page(
        &q,
        |page| async move { reads.ledger_page(filter, &page).await },
    )
    .await
    .map_err(layout::err(&op))?;
    let balances = reads.ledger_balances().await.map_err(layout::err(&op))?;
    let unbalanced = reads
        .unbalanced_transactions()
        .await
        .map_err(layout::err(&op))?;
    let sum: i64 = balances.iter().map(|(_, f)| *f).sum();
    // The balances the filters name (the check above them is always the whole ledger's).
    let search = q.search().map(|s| s.to_lowercase());
    let shown: Vec<&(String, i64)> = balances
        .iter()
        .filter(|(a, _)| match account.as_str() {
            "" => true,
            p if p.ends_with(':') => a.starts_with(p),
            exact => a == exact,
        })
        .filter(|(a, _)| {
            search
                .as_deref()
                .is_none_or(|s| a.to_lowercase().contains(s))
        })
        .collect();
    let base = layout::with_filters("/ledger", &[("account", &account), ("since", since)]);
    let body = html! {
        form.row method="get" action="/ledger" {
            label { (op.t("搜索摘要或账户", "Search memos and accounts"))
                input type="search" name="q" value=(q.q) maxlength="100"; }
            label { (op.t("账户（或以 : 结尾的前缀）", "Account (or a prefix ending in :)"))
                input type="text" name="account" value=(account) maxlength="100" list="ledger-accounts" placeholder="upstream:"; }
            datalist id="ledger-accounts" {
                option value="upstream:" {} option value="cost:" {} option value="tenant:" {} option value="revenue:" {}
                @for (a, _) in &balances { option value=(a) {} }
            }
            label { (op.t("起始日期", "Since"))
                input type="date" name="since" value=(since); }
            button type="submit" { (op.t("筛选", "Filter")) }
        }
        @if lines.is_empty() {
            @if total == 0 && account.is_empty() && since_ms.is_none() && q.search().is_none() {
                (layout::empty(op.t(
                    "账本还是空的：订单成功或为下游客户充值后，这里会出现分录。",
                    "The ledger is empty: entries appear when an order succeeds or a tenant is topped up.")))
            } @else {
                (layout::empty(op.t("没有符合筛选的分录：换个条件或清除筛选。", "No entry matches: change or clear the filters.")))
            }
        } @else {
            (layout::list_table(&op, &q, &base, total, &[
                Col::Sort("txn", op.t("交易", "Txn")),
                Col::Sort("at", op.t("时间", "At")),
                Col::Sort("account", op.t("账户", "Account")),
                Col::SortNum("amount", op.t("金额", "Amount")),
                Col::Sort("order", op.t("订单", "Order")),
                Col::Plain(op.t("摘要", "Memo")),
            ], html! {
                    @for l in &lines {
                        tr {
                            td { (l.txn_id) }
                            td { (layout::time(l.at_ms)) }
                            td { a href={ "/ledger?account=" (layout::enc(&l.account)) } { (l.account) } }
                            td.num.bad[l.fen < 0] { (money(l.fen)) }
                            td { @if let Some(id) = l.order_id { a href={ "/orders/" (id) } { (id) } } }
                            td { (l.memo) }
                        }
                    }
            }))
        }
        h2 { (op.t("各账户余额", "Balances per ledger account")) }
        @if unbalanced.is_empty() && sum == 0 {
            p.ok { (op.t("✓ 每笔交易的分录合计为零，所有账户余额合计为零。", "✓ Every transaction sums to zero, and so do all balances together.")) }
        } @else {
            p.error role="alert" {
                (op.t("账本不平：以下交易的分录合计不为零（有人绕过 idcgate 改了数据库）：", "The ledger does not balance: these transactions do not sum to zero (someone wrote to the database behind idcgate's back):"))
                " " (unbalanced.iter().map(i64::to_string).collect::<Vec<_>>().join(", "))
                " · " (op.t("余额合计", "sum of balances")) " " (money(sum))
            }
        }
        @if balances.is_empty() {
            (layout::empty(op.t("还没有任何账户：第一笔分录会开设它们。", "No ledger account yet: the first entry opens them.")))
        } @else if shown.is_empty() {
            (layout::empty(op.t("没有符合筛选的账户。", "No ledger account matches the filters.")))
        } @else {
            table {
                thead { tr { th { (op.t("账户", "Account")) } th.num { (op.t("余额", "Balance")) } } }
                tbody {
                    @for (a, fen) in &shown {
                        tr {
                            td { a href={ "/ledger?account=" (layout::enc(a)) } { (a) } }
                            td.num { (money(*fen)) }
                        }
                    }
                }
            }
            p.hint { (op.t(
                "正数为借方（钱进入该账户），负数为贷方。upstream:* 为负表示已付给上游的钱。",
                "Positive is a debit (money arrived in the account), negative a credit. A negative upstream:* is money paid to that upstream.")) }
        }
    };
    Ok(layout::page(&op, op.t("账本", "Ledger"), body))
}

// ---------------------------------------------------------------------------------
// Statement check of an upstream account

#[derive(Deserialize, Default)]
struct SinceQuery {
    #[serde(default)]
    since: String,
}

async fn statement(
    State(c): State<Console>,
    op: Op,
    account: NameIn,
    f: QueryIn<SinceQuery>,
) -> Page {
    let account = layout::path_name(&op, account)?;
    let Query(f) = layout::read(&op, f)?;
    let engine = &c.engine;
    engine.account(&account).await.map_err(layout::err(&op))?;
    let since = f.since.trim();
    let since_ms = match since {
        "" => engine
            .statement_start(&account)
            .await
            .map_err(layout::err(&op))?,
        d => layout::day(&op, d)?,
    };
    let s = engine
        .statement(&account, since_ms)
        .await
        .map_err(layout::err(&op))?;
    let body = html! {
        form.row method="get" action={ "/statements/" (layout::seg(&account)) } {
            label { (op.t("起始日期", "Since")) input type="date" name="since" value=(since); }
            button type="submit" { (op.t("重新对账", "Check again")) }
        }
        p.hint { (op.t(
            "对账读取上游的余额和财务记录（若有），与账本中的订单逐笔核对；每次对账都会记录一次余额读数。",
            "The check reads the upstream's balance and finance record (where it keeps one) and compares them with the orders in the ledger; each check records a balance reading.")) }
        table {
            tr { th { (op.t("起始", "Since")) } td { (layout::time(s.since_ms)) } }
            tr { th { (op.t("账本记入", "Booked by our orders")) } td.num { (money(s.booked_fen)) } }
            tr { th { (op.t("上游记录扣款", "Charged in the upstream's record")) }
                td.num { @if s.finance_record { (money(s.charged_fen)) } @else { (op.t("（上游无可读的财务记录）", "(no finance record to read)")) } } }
            @if let Some(b) = &s.balance {
                tr { th { (op.t("余额变化", "Balance")) }
                    td { (money(b.from_fen)) " (" (layout::time(b.from_ms)) ") → " (money(b.to_fen)) " (" (layout::time(b.to_ms)) ")" } }
                tr { th { (op.t("变化 / 订单 / 不明支出 / 存入", "Change / orders / unexplained / deposited")) }
                    td.num { (money(b.change_fen)) " / " (money(b.booked_fen)) " / " (money(b.unexplained_fen)) " / " (money(b.deposited_fen)) } }
                tr { th { (op.t("读数", "Readings")) } td.num { (b.readings) } }
            }
        }
        @if s.differences.is_empty() {
            @if s.checked() {
                p.ok { (op.t("✓ 没有差异：上游所示与账本一致。", "✓ No differences: what the upstream shows matches the ledger.")) }
            } @else {
                p.error { (op.t("还没有可核对的依据（见下方说明），不代表没有问题。", "Nothing to check against yet (see the notes below); that is not the same as nothing wrong.")) }
            }
        } @else {
            h2.bad { (op.t("差异", "Differences")) }
            ul { @for d in &s.differences { li.bad { (d) } } }
        }
        @if !s.deposits.is_empty() {
            h2 { (op.t("存入", "Money that came in")) }
            ul { @for d in &s.deposits { li { (d) } } }
        }
        @if !s.notes.is_empty() {
            h2 { (op.t("说明", "Notes")) }
            ul { @for n in &s.notes { li.detail { (n) } } }
        }
        p { a href={ "/orders?account=" (layout::enc(&account)) } { (op.t("该账号的订单", "Orders of this account")) } " · " a href="/accounts" { (op.t("上游账号", "Accounts")) } }
    };
    let title = format!("{} {}", op.t("对账", "Statement check of"), account);
    Ok(layout::page(&op, &title, body))
}

// ---------------------------------------------------------------------------------
// Tenants

#[derive(Deserialize, Default)]
struct AllQuery {
    #[serde(default)]
    all: String,
}

fn tenant_cmp(key: &str) -> impl Fn(&TenantView, &TenantView) -> Ordering + '_ {
    move |a, b| {
        let by = match key {
            "appid" => a.tenant.appid.cmp(&b.tenant.appid),
            "state" => a.tenant.state.as_str().cmp(b.tenant.state.as_str()),
            "level" => a.tenant.price_level.cmp(&b.tenant.price_level),
            "balance" => a.balance.cmp(&b.balance),
            "credit" => a.credit_limit.cmp(&b.credit_limit),
            "available" => a.available.cmp(&b.available),
            _ => Ordering::Equal,
        };
        by.then(a.tenant.name.cmp(&b.tenant.name))
    }
}

async fn tenants(State(c): State<Console>, op: Op, q: ListIn, f: QueryIn<AllQuery>) -> Page {
    let Query(q) = layout::read(&op, q)?;
    let Query(f) = layout::read(&op, f)?;
    let all = f.all == "1";
    let rows = c.engine.tenants(all).await.map_err(layout::err(&op))?;
    let list = layout::listed(
        rows,
        &q,
        |t, s| layout::matches(s, &[&t.tenant.name, &t.tenant.appid, &t.tenant.price_level]),
        false,
        tenant_cmp(q.sort.as_deref().unwrap_or("name")),
    );
    let base = layout::with_filters("/tenants", &[("all", if all { "1" } else { "" })]);
    let body = html! {
        (layout::filter_form(&op, "/tenants", &q, Some(op.t("名称、appid、等级", "name, appid, level")), html! {
            label { (op.t("含已移除", "Include removed")) input type="checkbox" name="all" value="1" checked[all]; }
        }))
        (list.or_empty(op.t("没有符合搜索的客户：换个关键词。", "No tenant matches: try another search."), op.t("还没有下游客户：用下方表单添加一个，把 appid 和 appkey 交给对方。", "No tenants yet: add one with the form below and hand its appid and appkey over."), |rows| html! {
            (layout::list_table(&op, &q, &base, list.total, &[
                Col::Sort("name", op.t("名称", "Name")),
                Col::Sort("appid", "appid"),
                Col::Sort("state", op.t("状态", "State")),
                Col::Sort("level", op.t("价格等级", "Level")),
                Col::SortNum("balance", op.t("余额", "Balance")),
                Col::SortNum("credit", op.t("信用额度", "Credit")),
                Col::PlainNum(op.t("已用信用", "Drawn")),
                Col::SortNum("available", op.t("可用", "Available")),
            ], html! {
                    @for t in rows {
                        tr {
                            td { a href={ "/tenants/" (layout::seg(&t.tenant.name)) } { (t.tenant.name) } }
                            td { code { (t.tenant.appid) } }
                            td class=[(t.tenant.state != TenantState::Active).then_some("bad")] { (tenant_state_name(&op, t.tenant.state)) }
                            td { (level_name(&op, &t.tenant.price_level)) }
                            td.num { (yuan(t.balance)) }
                            td.num { (yuan(t.credit_limit)) }
                            td.num { (yuan(t.credit_drawn)) }
                            td.num { (yuan(t.available)) }
                        }
                    }
        }))
        }))
        @if op.may(Act::Money) {
            h2 { (op.t("添加下游客户", "Add a tenant")) }
            form.row method="post" action="/tenants" id="add-tenant" {
                (csrf(&op))
                label { (op.t("名称", "Name")) input type="text" name="name" required maxlength="64" pattern="[A-Za-z0-9][A-Za-z0-9._-]*"; }
                label { (op.t("价格等级（留空为基础价）", "Price level (empty: base)")) input type="text" name="level" maxlength="64"; }
                label { (op.t("信用额度（元）", "Credit limit (yuan)")) input type="text" name="credit" value="0" inputmode="decimal" maxlength="20"; }
                button type="submit" id="add-tenant-submit" { (op.t("添加", "Add")) }
            }
            p.hint { (op.t("appkey 只在添加后显示一次，之后只保存其摘要。", "The appkey is shown once, right after adding; only its digest is kept.")) }
        }
    };
    Ok(layout::page(&op, op.t("下游客户", "Tenants"), body))
}

#[derive(Deserialize)]
struct AddTenantForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    credit: String,
}

posted!(AddTenantForm, TopupForm, CreditForm, LevelForm);

async fn add_tenant(State(c): State<Console>, op: Op, form: FormIn<AddTenantForm>) -> Page {
    let f = op.submitted(Act::Money, form)?;
    let credit = if f.credit.trim().is_empty() {
        Money::ZERO
    } else {
        parse_yuan(&op, op.t("信用额度", "credit limit"), &f.credit)?
    };
    let (view, key) = c
        .engine
        .add_tenant(&layout::actor(&op), f.name.trim(), f.level.trim(), credit)
        .await
        .map_err(layout::err(&op))?;
    let t = &view.tenant;
    // The key is on this page and nowhere else: not in a notice cookie, a redirect or
    // the audit log (which has the appid only).
    let body = html! {
        p.notice role="status" { (op.t("已添加下游客户 ", "Tenant added: ")) (t.name) }
        table {
            tr { th { "appid" } td { code { (t.appid) } } }
            tr { th { "appkey" } td { code.secret id="appkey" { (key.expose()) } } }
            tr { th { (op.t("价格等级", "Level")) } td { (level_name(&op, &t.price_level)) } }
            tr { th { (op.t("信用额度", "Credit limit")) } td.num { (yuan(view.credit_limit)) } }
        }
        p.error role="alert" { (op.t(
            "appkey 只显示这一次：请现在复制并安全地交给客户。idcgate 只保存其摘要，无法再次显示。",
            "The appkey is shown only now: copy it and hand it over safely. idcgate keeps only its digest and cannot show it again.")) }
        p { a href={ "/tenants/" (layout::seg(&t.name)) } { (op.t("查看客户", "Go to the tenant")) } }
    };
    Ok(layout::page(
        &op,
        op.t("下游客户已添加", "Tenant added"),
        body,
    ))
}

/// A tenant's money and settings, as every tenant page shows them first.
fn tenant_summary(op: &Op, v: &TenantView) -> Markup {
    let t = &v.tenant;
    html! {
        table {
            tr { th { "appid" } td { code { (t.appid) } } }
            tr { th { (op.t("状态", "State")) } td class=[(t.state != TenantState::Active).then_some("bad")] { (tenant_state_name(op, t.state)) } }
            tr { th { (op.t("价格等级", "Price level")) } td { (level_name(op, &t.price_level)) } }
            tr { th { (op.t("余额", "Balance")) } td.num { (yuan(v.balance)) } }
            tr { th { (op.t("信用额度 / 已用", "Credit limit / drawn")) } td.num { (yuan(v.credit_limit)) " / " (yuan(v.credit_drawn)) } }
            tr { th { (op.t("可用", "Available")) } td.num { (yuan(v.available)) } }
            tr { th { (op.t("创建时间", "Added")) } td { (layout::time(t.created_ms)) } }
        }
    }
}

fn tenant_base(name: &str) -> String {
    format!("/tenants/{}", layout::seg(name))
}

async fn tenant(State(c): State<Console>, op: Op, name: NameIn) -> Page {
    let name = layout::path_name(&op, name)?;
    let engine = &c.engine;
    let st = engine
        .tenant_statement(&name)
        .await
        .map_err(layout::err(&op))?;
    let margins = engine
        .margins(Some(&name))
        .await
        .map_err(layout::err(&op))?;
    let orders = engine
        .tenant_orders(&name)
        .await
        .map_err(layout::err(&op))?;
    let v = &st.tenant;
    let t = &v.tenant;
    let base = tenant_base(&name);
    // A fresh key for this form: submitting it twice (a double click, a reload) books
    // the top-up once.
    let topup_key = format!(
        "console-{}",
        crate::auth::random_token()
            .map_err(|e| layout::bad_input(&op, &e.to_string()))?
            .get(..32)
            .unwrap_or_default()
    );
    let total = |f: fn(&idcgate_engine::storefront::Margin) -> Money| {
        margins.iter().fold(Money::ZERO, |a, m| a + f(m))
    };
    let open = t.state != TenantState::Removed;
    let body = html! {
        (tenant_summary(&op, v))
        h2 { (op.t("对账单", "Statement")) }
        table {
            tr { th { (op.t("充值合计", "Deposits")) } td.num { (yuan(st.deposits)) } }
            tr { th { (op.t("扣款合计", "Charges")) } td.num { (yuan(st.charges)) } }
            tr { th { (op.t("退款合计", "Refunds")) } td.num { (yuan(st.refunds)) } }
            tr { th { (op.t("余额", "Balance")) } td.num { (yuan(v.balance)) } }
        }
        p { a href={ (base) "/statement" } { (op.t("全部流水", "Every statement line")) " (" (st.lines.len()) ")" } }
        h2 { (op.t("订单", "Orders")) }
        @if orders.is_empty() {
            (layout::empty(op.t("该客户还没有通过接口购买任何东西。", "This tenant has bought nothing through the endpoint yet.")))
        } @else {
            (tenant_orders_table(&op, &orders.iter().take(10).collect::<Vec<_>>()))
            p { a href={ (base) "/orders" } { (op.t("全部订单", "All its orders")) " (" (orders.len()) ")" } }
        }
        h2 { (op.t("毛利", "Margin")) }
        @if margins.is_empty() {
            (layout::empty(op.t("还没有成交，暂无毛利。", "No sales yet, so no margin.")))
        } @else {
            table {
                thead { tr { th { (op.t("产品", "Product")) } th.num { (op.t("订单数", "Orders")) } th.num { (op.t("收入", "Revenue")) } th.num { (op.t("成本", "Cost")) } th.num { (op.t("毛利", "Margin")) } } }
                tbody {
                    @for m in &margins {
                        tr {
                            td { a href={ "/products/" (layout::seg(&m.product)) } { (m.product) } }
                            td.num { (m.orders) }
                            td.num { (yuan(m.revenue)) }
                            td.num { (yuan(m.cost)) }
                            td.num.bad[m.margin.is_negative()] { (yuan(m.margin)) }
                        }
                    }
                    tr {
                        th { (op.t("合计", "Total")) } td {}
                        th.num { (yuan(total(|m| m.revenue))) }
                        th.num { (yuan(total(|m| m.cost))) }
                        th.num { (yuan(total(|m| m.margin))) }
                    }
                }
            }
        }
        @if op.may(Act::Money) && open {
            h2 { (op.t("充值", "Top up")) }
            form.row method="post" action={ (base) "/topup" } id="topup" {
                (csrf(&op))
                input type="hidden" name="key" value=(topup_key);
                label { (op.t("金额（元）", "Amount (yuan)")) input type="text" name="amount" required inputmode="decimal" maxlength="20" placeholder="1000.00"; }
                label { (op.t("备注（如银行流水号）", "Memo (a bank reference)")) input type="text" name="memo" maxlength="200"; }
                button type="submit" id="topup-submit" { (op.t("记入充值", "Book the top-up")) }
            }
            p.hint { (op.t("同一张表单重复提交只记一次。", "Submitting this form again books nothing more.")) }
            h2 { (op.t("设置", "Settings")) }
            form.row method="post" action={ (base) "/credit" } id="credit" {
                (csrf(&op))
                label { (op.t("信用额度（元）", "Credit limit (yuan)")) input type="text" name="limit" value=(v.credit_limit) required inputmode="decimal" maxlength="20"; }
                button.secondary type="submit" id="credit-submit" { (op.t("设置额度", "Set credit")) }
            }
            form.row method="post" action={ (base) "/level" } id="level" {
                (csrf(&op))
                label { (op.t("价格等级（留空为基础价）", "Price level (empty: base)")) input type="text" name="level" value=(t.price_level) maxlength="64"; }
                button.secondary type="submit" id="level-submit" { (op.t("设置等级", "Set level")) }
            }
            @match t.state {
                TenantState::Active => {
                    form.row method="post" action={ (base) "/suspend" } id="suspend" {
                        (csrf(&op))
                        button.danger type="submit" id="suspend-submit" { (op.t("暂停（停止购买）", "Suspend (no more buying)")) }
                    }
                }
                TenantState::Suspended => {
                    form.row method="post" action={ (base) "/resume" } id="resume" {
                        (csrf(&op))
                        button type="submit" id="resume-submit" { (op.t("恢复", "Resume")) }
                    }
                }
                TenantState::Removed => {}
            }
        }
        p { a href="/tenants" { (op.t("全部下游客户", "All tenants")) } }
    };
    let title = format!("{} {}", op.t("下游客户", "Tenant"), t.name);
    Ok(layout::page(&op, &title, body))
}

fn tenant_orders_table(op: &Op, rows: &[&idcgate_engine::storefront::TenantOrderView]) -> Markup {
    html! {
        table {
            thead { tr {
                th { "guid" } th { (op.t("产品", "Product")) } th { (op.t("状态", "State")) } th.num { (op.t("月数", "Months")) }
                th.num { (op.t("实付", "Paid")) } th { (op.t("到期", "Expires")) } th { (op.t("上游", "Upstream")) }
                th { (op.t("客户订单号", "Their order id")) } th { (op.t("说明", "Detail")) }
            } }
            tbody {
                @for o in rows {
                    tr {
                        td { (o.order.id) }
                        td { a href={ "/products/" (layout::seg(&o.order.order.product)) } { (o.order.order.product) } }
                        td { (tenant_order_state_name(op, o.order.state)) }
                        td.num { (o.order.order.months) }
                        td.num { (yuan(o.paid)) }
                        td { (o.order.expires_ms.map(layout::date).unwrap_or_default()) }
                        td { (o.order.order.account) "/" (o.order.resource.as_deref().unwrap_or("-")) }
                        td { (o.order.order.client_order_id) }
                        td.detail { (o.order.detail) }
                    }
                }
            }
        }
    }
}

async fn tenant_orders(State(c): State<Console>, op: Op, name: NameIn, q: ListIn) -> Page {
    let name = layout::path_name(&op, name)?;
    let Query(q) = layout::read(&op, q)?;
    let rows = c
        .engine
        .tenant_orders(&name)
        .await
        .map_err(layout::err(&op))?;
    let key = q.sort.clone().unwrap_or_else(|| "guid".into());
    let list = layout::listed(
        rows,
        &q,
        |o, s| {
            layout::matches(
                s,
                &[
                    &o.order.id.to_string(),
                    &o.order.order.product,
                    &o.order.order.client_order_id,
                    o.order.resource.as_deref().unwrap_or(""),
                    o.order.state.as_str(),
                ],
            )
        },
        true,
        |a, b| {
            let by = match key.as_str() {
                "product" => a.order.order.product.cmp(&b.order.order.product),
                "state" => a.order.state.as_str().cmp(b.order.state.as_str()),
                "paid" => a.paid.cmp(&b.paid),
                "expires" => a.order.expires_ms.cmp(&b.order.expires_ms),
                _ => Ordering::Equal,
            };
            by.then(a.order.id.cmp(&b.order.id))
        },
    );
    let base = format!("{}/orders", tenant_base(&name));
    let body = html! {
        (layout::search_box(&op, &q, &base))
        p.hint {
            (op.t("排序：", "Sort by: "))
            @for (k, zh, en) in [("guid", "编号", "guid"), ("product", "产品", "product"), ("state", "状态", "state"), ("paid", "实付", "paid"), ("expires", "到期", "expires")] {
                a href=(q.href(&base, 1, Some(k), q.sort.as_deref() == Some(k) && !q.descending())) { (op.t(zh, en)) } " "
            }
        }
        (list.or_empty(op.t("没有符合搜索的订单。", "No order matches the search."), op.t("该客户还没有通过接口购买任何东西。", "This tenant has bought nothing through the endpoint yet."), |rows| html! {
            (tenant_orders_table(&op, &rows.iter().collect::<Vec<_>>()))
            (layout::pager(&op, &q, &base, list.total))
        }))
        p { a href=(tenant_base(&name)) { (op.t("返回客户", "Back to the tenant")) } }
    };
    let title = format!("{} {}", name, op.t("的订单", "orders"));
    Ok(layout::page(&op, &title, body))
}

async fn tenant_statement(State(c): State<Console>, op: Op, name: NameIn, q: ListIn) -> Page {
    let name = layout::path_name(&op, name)?;
    let Query(q) = layout::read(&op, q)?;
    let st = c
        .engine
        .tenant_statement(&name)
        .await
        .map_err(layout::err(&op))?;
    let key = q.sort.clone().unwrap_or_else(|| "at".into());
    let list = layout::listed(
        st.lines.clone(),
        &q,
        |l, s| {
            layout::matches(
                s,
                &[
                    &l.what,
                    &l.guid.map(|g| g.to_string()).unwrap_or_default(),
                    &l.txn_id.to_string(),
                ],
            )
        },
        true,
        |a, b| {
            let by = match key.as_str() {
                "what" => a.what.cmp(&b.what),
                "amount" => a.amount.cmp(&b.amount),
                _ => Ordering::Equal,
            };
            by.then(a.at_ms.cmp(&b.at_ms)).then(a.txn_id.cmp(&b.txn_id))
        },
    );
    let base = format!("{}/statement", tenant_base(&name));
    let body = html! {
        (tenant_summary(&op, &st.tenant))
        table {
            tr { th { (op.t("充值合计", "Deposits")) } td.num { (yuan(st.deposits)) } }
            tr { th { (op.t("扣款合计", "Charges")) } td.num { (yuan(st.charges)) } }
            tr { th { (op.t("退款合计", "Refunds")) } td.num { (yuan(st.refunds)) } }
        }
        (layout::search_box(&op, &q, &base))
        (list.or_empty(op.t("没有符合搜索的流水。", "No line matches the search."), op.t("还没有流水：充值或购买后会出现在这里。", "No lines yet: top-ups and purchases appear here."), |rows| html! {
            (layout::list_table(&op, &q, &base, list.total, &[
                Col::Sort("at", op.t("时间", "At")),
                Col::Sort("what", op.t("项目", "What")),
                Col::Plain("guid"),
                Col::SortNum("amount", op.t("金额", "Amount")),
                Col::Plain(op.t("账本交易", "Ledger txn")),
            ], html! {
                    @for l in rows {
                        tr {
                            td { (layout::time(l.at_ms)) }
                            td { (statement_what(&op, &l.what)) }
                            td { (l.guid.map(|g| g.to_string()).unwrap_or_default()) }
                            td.num.bad[l.amount.is_negative()] { (yuan(l.amount)) }
                            td { (l.txn_id) }
                        }
                    }
        }))
        }))
        p { a href=(tenant_base(&name)) { (op.t("返回客户", "Back to the tenant")) } }
    };
    let title = format!("{} {}", name, op.t("的对账单", "statement"));
    Ok(layout::page(&op, &title, body))
}

#[derive(Deserialize)]
struct TopupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    memo: String,
    #[serde(default)]
    key: String,
}

async fn topup(State(c): State<Console>, op: Op, name: NameIn, form: FormIn<TopupForm>) -> Page {
    let name = layout::path_name(&op, name)?;
    let f = op.submitted(Act::Money, form)?;
    if f.key.trim().is_empty() {
        return Err(layout::bad_input(
            &op,
            op.t(
                "表单缺少充值键，请刷新页面后重试。",
                "The form has lost its top-up key; reload the page and try again.",
            ),
        ));
    }
    let amount = parse_yuan(&op, op.t("金额", "amount"), &f.amount)?;
    let memo = Some(f.memo.trim()).filter(|m| !m.is_empty());
    let t = c
        .engine
        .topup_tenant(&layout::actor(&op), &name, amount, Some(f.key.trim()), memo)
        .await
        .map_err(layout::err(&op))?;
    let notice = if t.repeated {
        format!(
            "{} {}",
            op.t(
                "这笔充值已记入过，本次未重复记账。余额",
                "This top-up was booked already; nothing was booked again. Balance"
            ),
            yuan(t.tenant.balance)
        )
    } else {
        format!(
            "{} {} · {} {}",
            op.t("已记入充值", "Top-up booked:"),
            yuan(Money::from_fen(t.deposit.deposit.fen)),
            op.t("余额", "balance"),
            yuan(t.tenant.balance)
        )
    };
    Ok(session::redirect_with(&op, &tenant_base(&name), &notice))
}

#[derive(Deserialize)]
struct CreditForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    limit: String,
}

async fn set_credit(
    State(c): State<Console>,
    op: Op,
    name: NameIn,
    form: FormIn<CreditForm>,
) -> Page {
    let name = layout::path_name(&op, name)?;
    let f = op.submitted(Act::Money, form)?;
    let limit = parse_yuan(&op, op.t("信用额度", "credit limit"), &f.limit)?;
    let t = c
        .engine
        .set_tenant_credit(&layout::actor(&op), &name, limit)
        .await
        .map_err(layout::err(&op))?;
    let notice = format!(
        "{} {}",
        op.t("信用额度已设为", "Credit limit set to"),
        yuan(t.credit_limit)
    );
    Ok(session::redirect_with(&op, &tenant_base(&name), &notice))
}

#[derive(Deserialize)]
struct LevelForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    level: String,
}

async fn set_level(
    State(c): State<Console>,
    op: Op,
    name: NameIn,
    form: FormIn<LevelForm>,
) -> Page {
    let name = layout::path_name(&op, name)?;
    let f = op.submitted(Act::Money, form)?;
    let t = c
        .engine
        .set_tenant_level(&layout::actor(&op), &name, f.level.trim())
        .await
        .map_err(layout::err(&op))?;
    let notice = format!(
        "{} {}",
        op.t("价格等级已设为", "Price level set to"),
        level_name(&op, &t.tenant.price_level)
    );
    Ok(session::redirect_with(&op, &tenant_base(&name), &notice))
}

async fn suspend(State(c): State<Console>, op: Op, name: NameIn, form: FormIn<CsrfForm>) -> Page {
    move_tenant(c, op, name, form, true).await
}

async fn resume(State(c): State<Console>, op: Op, name: NameIn, form: FormIn<CsrfForm>) -> Page {
    move_tenant(c, op, name, form, false).await
}

async fn move_tenant(
    c: Console,
    op: Op,
    name: NameIn,
    form: FormIn<CsrfForm>,
    suspend: bool,
) -> Page {
    let name = layout::path_name(&op, name)?;
    op.submitted(Act::Money, form)?;
    let actor = layout::actor(&op);
    let t = if suspend {
        c.engine.suspend_tenant(&actor, &name).await
    } else {
        c.engine.resume_tenant(&actor, &name).await
    }
    .map_err(layout::err(&op))?;
    let notice = format!(
        "{} {}",
        t.tenant.name,
        tenant_state_name(&op, t.tenant.state)
    );
    Ok(session::redirect_with(&op, &tenant_base(&name), &notice))
}

// ---------------------------------------------------------------------------------
// Products

fn basis_text(op: &Op, b: &Basis) -> String {
    match b {
        Basis::Markup(p) => format!("{} {}%", op.t("成本加价", "cost +"), p.normalize()),
        Basis::Fixed(m) => format!("{}{}", yuan(*m), op.t(" / 月", " a month")),
    }
}

/// A price rule in words, in the operator's language (the rule itself, not a price).
fn rule_text(op: &Op, r: &PriceRule) -> Markup {
    html! {
        span { (basis_text(op, &r.basis)) }
        @for (name, b) in &r.levels {
            br; span { (name) ": " (basis_text(op, b)) }
        }
        @for (m, d) in &r.discounts {
            br; span.hint { (m) (op.t(" 个月起优惠 ", " months and more: ")) (d.normalize()) (op.t("%", "% off")) }
        }
        @if !r.periods.is_empty() {
            br; span.hint { (op.t("期限：", "terms: ")) (r.periods.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")) (op.t(" 个月", " months")) }
        }
    }
}

/// The engine's prices of one product: each term's live cost and the price at every
/// level, as `product show` prints them.
fn prices_table(op: &Op, terms: &[TermPrices], with_margin: bool) -> Markup {
    html! {
        table {
            thead { tr {
                th.num { (op.t("月数", "Months")) } th { (op.t("等级", "Level")) } th.num { (op.t("上游成本", "Cost now")) } th.num { (op.t("售价", "Price")) }
                @if with_margin { th.num { (op.t("毛利", "Margin")) } }
            } }
            tbody {
                @for t in terms {
                    @for (level, price) in &t.prices {
                        tr {
                            td.num { (t.months) }
                            td { (level_name(op, level)) }
                            td.num {
                                @match (t.cost, &t.error) {
                                    (Some(c), _) => (yuan(c)),
                                    (None, Some(e)) => span.bad title=(e) { (op.t("报价失败", "quote failed")) },
                                    (None, None) => "-",
                                }
                            }
                            td.num { (price.map(yuan).unwrap_or_else(|| "-".into())) }
                            @if with_margin {
                                @let margin = price.zip(t.cost).map(|(p, c)| p - c);
                                td.num.bad[margin.is_some_and(Money::is_negative)] {
                                    (margin.map(yuan).unwrap_or_else(|| "-".into()))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn product_cmp(key: &str) -> impl Fn(&Product, &Product) -> Ordering + '_ {
    move |a, b| {
        let by = match key {
            "name" => a.name.cmp(&b.name),
            "title" => a.title.cmp(&b.title),
            "account" => a.account.cmp(&b.account),
            "kind" => a.kind.as_str().cmp(b.kind.as_str()),
            "state" => a.state.as_str().cmp(b.state.as_str()),
            _ => Ordering::Equal,
        };
        by.then(a.id.cmp(&b.id))
    }
}

/// Each product's prices, asked of the engine together (each is a live quote per term)
/// and waited for at most [`QUOTES_WAIT`]; a product whose quotes did not come in time
/// has `None` and says so.
async fn prices_of(c: &Console, products: &[Product]) -> Vec<Option<Vec<TermPrices>>> {
    let mut out: Vec<Option<Vec<TermPrices>>> = products.iter().map(|_| None).collect();
    let mut set = tokio::task::JoinSet::new();
    for (i, p) in products.iter().enumerate() {
        let engine = c.engine.clone();
        let p = p.clone();
        set.spawn(async move { (i, engine.product_prices(&p).await) });
    }
    let _ = tokio::time::timeout(QUOTES_WAIT, async {
        while let Some(done) = set.join_next().await {
            if let Ok((i, prices)) = done {
                if let Some(slot) = out.get_mut(i) {
                    *slot = Some(prices);
                }
            }
        }
    })
    .await;
    out
}

async fn products(State(c): State<Console>, op: Op, q: ListIn, f: QueryIn<AllQuery>) -> Page {
    let Query(q) = layout::read(&op, q)?;
    let Query(f) = layout::read(&op, f)?;
    let all = f.all == "1";
    let rows = c.engine.products(all).await.map_err(layout::err(&op))?;
    let list = layout::listed(
        rows,
        &q,
        |p, s| {
            layout::matches(
                s,
                &[
                    &p.name,
                    &p.title,
                    &p.account,
                    p.kind.as_str(),
                    p.offer.as_deref().unwrap_or(""),
                ],
            )
        },
        false,
        product_cmp(q.sort.as_deref().unwrap_or("id")),
    );
    let prices = prices_of(&c, &list.rows).await;
    let base = layout::with_filters("/products", &[("all", if all { "1" } else { "" })]);
    let body = html! {
        (layout::filter_form(&op, "/products", &q, Some(op.t("名称、账号、类型…", "name, account, kind…")), html! {
            label { (op.t("含已下架", "Include retired")) input type="checkbox" name="all" value="1" checked[all]; }
        }))
        (list.or_empty(op.t("没有符合搜索的产品：换个关键词。", "No product matches: try another search."), op.t("目录是空的：用 idcgate product add 添加产品（上游账号的套餐加价格规则）。", "The catalog is empty: add a product (an upstream account's offer and a price rule) with `idcgate product add`."), |rows| html! {
            (layout::list_table(&op, &q, &base, list.total, &[
                Col::Sort("id", "#"),
                Col::Sort("name", op.t("产品", "Product")),
                Col::Sort("account", op.t("上游账号", "Account")),
                Col::Sort("kind", op.t("类型", "Kind")),
                Col::Plain(op.t("价格规则", "Price rule")),
                Col::Plain(op.t("各等级价格（实时报价）", "Prices per level (live cost)")),
                Col::Sort("state", op.t("状态", "State")),
            ], html! {
                    @for (p, terms) in rows.iter().zip(&prices) {
                        tr {
                            td { (p.id) }
                            td { a href={ "/products/" (layout::seg(&p.name)) } { (p.name) } br; span.hint { (p.title) } }
                            td { (p.account) br; span.hint { (p.offer.as_deref().unwrap_or("-")) } }
                            td { (super::dashboard::kind_name(&op, p.kind)) }
                            td { (rule_text(&op, &p.rule)) }
                            td {
                                @match terms {
                                    Some(t) => (prices_table(&op, t, false)),
                                    None => span.hint { (op.t("报价超时，见详情页。", "Quotes did not come in time; see the product's page.")) },
                                }
                            }
                            td class=[(p.state == ProductState::Retired).then_some("bad")] { (product_state_name(&op, p.state)) }
                        }
                    }
        }))
        }))
    };
    Ok(layout::page(&op, op.t("产品", "Products"), body))
}

async fn product(State(c): State<Console>, op: Op, name: NameIn) -> Page {
    let name = layout::path_name(&op, name)?;
    let p = c.engine.product(&name).await.map_err(layout::err(&op))?;
    let terms = c.engine.product_prices(&p).await;
    let units = c.engine.unit_prices(&p).await;
    let body = html! {
        table {
            tr { th { (op.t("名称", "Name")) } td { (p.name) } }
            tr { th { (op.t("标题", "Title")) } td { (p.title) } }
            tr { th { (op.t("上游账号", "Account")) } td { (p.account) } }
            tr { th { (op.t("类型", "Kind")) } td { (super::dashboard::kind_name(&op, p.kind)) } }
            tr { th { (op.t("上游套餐", "Upstream offer")) } td { (p.offer.as_deref().unwrap_or("-")) } }
            tr { th { (op.t("购买选项", "Purchase options")) } td {
                @for (k, v) in &p.options { code { (k) "=" (v) } " " }
            } }
            tr { th { (op.t("价格规则", "Price rule")) } td { (rule_text(&op, &p.rule)) } }
            tr { th { (op.t("状态", "State")) } td { (product_state_name(&op, p.state)) } }
            tr { th { (op.t("创建时间", "Added")) } td { (layout::time(p.created_ms)) } }
        }
        h2 { (op.t("价格（上游实时报价）", "Prices (live upstream cost)")) }
        (prices_table(&op, &terms, true))
        @for t in &terms {
            @if let Some(e) = &t.error { p.error { (t.months) (op.t(" 个月报价失败：", " months: the quote failed: ")) (e) } }
        }
        @if !units.is_empty() {
            h2 { (op.t("按单位加购（每月）", "Units beyond the base (a month)")) }
            table {
                tr {
                    th { (op.t("单位", "Unit")) } th { (op.t("最多加购", "Up to")) }
                    th { (op.t("价格等级", "Level")) } th { (op.t("上游成本", "Cost now")) }
                    th { (op.t("售价", "Price")) }
                }
                @for u in &units {
                    @for (level, price) in &u.prices {
                        tr {
                            td { (u.unit) " (" (u.unit.measure()) ")" }
                            td { (u.max_extra) }
                            td { @if level.is_empty() { (op.t("基础", "(base)")) } @else { (level) } }
                            td { @if let Some(c) = u.cost { (c) } @else { (u.error.as_deref().unwrap_or("-")) } }
                            td { @if let Some(p) = price { (p) } @else { "-" } }
                        }
                    }
                }
            }
        }
        @if op.may(Act::Money) && p.state == ProductState::OnSale {
            p { a href={ "/products/" (layout::seg(&p.name)) "/retire" } id="retire-link" { (op.t("下架此产品…", "Retire this product…")) } }
        }
        p { a href="/products" { (op.t("全部产品", "All products")) } }
    };
    let title = format!("{} {}", op.t("产品", "Product"), p.name);
    Ok(layout::page(&op, &title, body))
}

async fn retire_page(State(c): State<Console>, op: Op, name: NameIn) -> Page {
    let name = layout::path_name(&op, name)?;
    op.allow(Act::Money)?;
    let p = c.engine.product(&name).await.map_err(layout::err(&op))?;
    let base = format!("/products/{}", layout::seg(&p.name));
    Ok(layout::confirm_page(
        &op,
        Confirm {
            title: op.t("下架产品", "Retire a product"),
            question: html! { (op.t("下架产品 ", "Retire product ")) strong { (p.name) } " (" (p.title) ")" (op.t("？", "?")) },
            consequence: op.t(
                "下架后下游客户不能再购买它；已有订单和续费不受影响。下架不能撤销（名称也不能再用）。",
                "Tenants can no longer buy it; existing orders are kept. Retiring cannot be undone (and the name is not reused)."),
            action: &format!("{base}/retire"),
            form_id: "retire",
            by: ConfirmBy::Given(&p.name),
            submit_id: "retire-submit",
            submit: op.t("确认下架", "Retire it"),
            cancel: &base,
        },
    ))
}

async fn retire(State(c): State<Console>, op: Op, name: NameIn, form: FormIn<ConfirmForm>) -> Page {
    let name = layout::path_name(&op, name)?;
    let f = op.submitted(Act::Money, form)?;
    f.confirms(
        &op,
        &name,
        op.t(
            "请从确认页面下架。",
            "Retire it from its confirmation page.",
        ),
    )?;
    let p = c
        .engine
        .retire_product(&layout::actor(&op), &name)
        .await
        .map_err(layout::err(&op))?;
    let notice = format!("{} {}", op.t("已下架", "Retired"), p.name);
    Ok(session::redirect_with(&op, "/products", &notice))
}

#[cfg(test)]
mod tests {
    use super::without_grouping;

    #[test]
    fn thousands_separators_only_where_they_group_thousands() {
        assert_eq!(without_grouping("1,234.50").as_deref(), Some("1234.50"));
        assert_eq!(without_grouping("12,345,678").as_deref(), Some("12345678"));
        assert_eq!(without_grouping("1000.5").as_deref(), Some("1000.5"));
        for bad in ["1,2", "1,23", "1234,567", ",123", "1,,234", "1,234,5"] {
            assert_eq!(without_grouping(bad), None, "{bad}");
        }
    }
}
