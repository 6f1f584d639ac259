//! What every product family shares: buying (with client order ids), renewing,
//! refunding, power, paging. Each rule checks everything first and changes state last,
//! so a refusal leaves nothing half-done.

use super::state::*;
use super::{Answer, Fields, Req, MAX_MONTHS, OK_READ, OK_WRITE};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

/// Rows per page of every list (the document states 100 for getservers).
pub(crate) const PAGE_SIZE: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fam {
    Server,
    Lease,
    Idc,
    Hosting,
    Sql,
}

impl Fam {
    pub fn name(self) -> &'static str {
        match self {
            Fam::Server => "server",
            Fam::Lease => "lease",
            Fam::Idc => "idc",
            Fam::Hosting => "hosting",
            Fam::Sql => "sql",
        }
    }
}

pub(crate) fn base(st: &State, fam: Fam, id: i64) -> Result<&Base, Fail> {
    let b = match fam {
        Fam::Server => st.servers.get(&id).map(|x| &x.base),
        Fam::Lease => st.leases.get(&id).map(|x| &x.base),
        Fam::Idc => st.idcs.get(&id).map(|x| &x.base),
        Fam::Hosting => st.hostings.get(&id).map(|x| &x.base),
        Fam::Sql => st.sqls.get(&id).map(|x| &x.base),
    };
    b.ok_or_else(|| NOT_FOUND.into())
}

pub(crate) fn base_mut(st: &mut State, fam: Fam, id: i64) -> Result<&mut Base, Fail> {
    let b = match fam {
        Fam::Server => st.servers.get_mut(&id).map(|x| &mut x.base),
        Fam::Lease => st.leases.get_mut(&id).map(|x| &mut x.base),
        Fam::Idc => st.idcs.get_mut(&id).map(|x| &mut x.base),
        Fam::Hosting => st.hostings.get_mut(&id).map(|x| &mut x.base),
        Fam::Sql => st.sqls.get_mut(&id).map(|x| &mut x.base),
    };
    b.ok_or_else(|| NOT_FOUND.into())
}

/// The parsed common part of a create_order request.
pub(crate) struct Purchase {
    pub content: Map<String, Value>,
    pub months: i64,
    pub number: i64,
    pub renew_auto: i64,
    pub client_user_id: i64,
    pub order_id: String,
}

impl Purchase {
    pub fn read(req: &Req<'_>) -> Result<Self, Fail> {
        let content = req.object("content")?;
        let p = Purchase {
            months: cint(&content, "months", 1)?,
            number: cint(&content, "number", 1)?,
            renew_auto: cint(&content, "renew_auto", 0)?,
            client_user_id: req.int_or("user_id", 0)?,
            order_id: req.get("order_id").unwrap_or_default().to_string(),
            content,
        };
        if !(1..=20).contains(&p.number) {
            return Err("参数错误：content.number格式不正确".into());
        }
        if !(1..=MAX_MONTHS).contains(&p.months) {
            return Err("参数错误：content.months格式不正确".into());
        }
        Ok(p)
    }

    pub fn int(&self, key: &str, default: i64) -> Result<i64, Fail> {
        cint(&self.content, key, default)
    }

    pub fn text(&self, key: &str) -> Option<String> {
        match self.content.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// An integer in `content`, given as a JSON number or a numeric string.
fn cint(content: &Map<String, Value>, key: &str, default: i64) -> Result<i64, Fail> {
    match content.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| format!("参数错误：content.{key}格式不正确")),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(default),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map_err(|_| format!("参数错误：content.{key}格式不正确")),
        Some(_) => Err(format!("参数错误：content.{key}格式不正确")),
    }
}

/// A replayed answer for a client order id already seen, if any.
pub(crate) fn replay(st: &State, what: &str, client_order_id: &str) -> Option<Answer> {
    if client_order_id.is_empty() {
        return None;
    }
    st.idempotent
        .get(&(what.to_string(), client_order_id.to_string()))
        .map(|v| Ok((OK_WRITE, v.clone())))
}

fn remember(st: &mut State, what: &str, client_order_id: &str, data: &Value) {
    if !client_order_id.is_empty() {
        st.idempotent.insert(
            (what.to_string(), client_order_id.to_string()),
            data.clone(),
        );
    }
}

/// Charges `number` units of `monthly` x `months` x `discount`, then builds each unit
/// with `make` (which inserts it); each keeps `monthly`, the list price, for renewals
/// (which take their own term's discount) and upgrades. Answers `{order_id, ids, money}`.
pub(crate) fn buy(
    st: &mut State,
    fam: Fam,
    p: &Purchase,
    monthly: Decimal,
    discount: Decimal,
    mut make: impl FnMut(&mut State, Base),
) -> Answer {
    let what = format!("create_{}", fam.name());
    if let Some(a) = replay(st, &what, &p.order_id) {
        return a;
    }
    let monthly_fen = to_fen(monthly);
    let unit_fen = to_fen(monthly * Decimal::from(p.months) * discount);
    let total = unit_fen.checked_mul(p.number).ok_or(NO_BALANCE)?;
    let now = st.now();
    let first = st.peek(fam.name());
    st.account.charge(
        now,
        total,
        Entry {
            kind: "buy",
            product: fam.name(),
            order_id: first,
            client_order_id: &p.order_id,
        },
    )?;
    let mut ids = Vec::new();
    for _ in 0..p.number {
        let id = st.alloc(fam.name());
        let mut b = Base::new(id, now, p.months, monthly_fen, unit_fen);
        b.client_user_id = p.client_user_id;
        b.client_order_id = p.order_id.clone();
        make(st, b);
        ids.push(id);
    }
    let data = json!({"order_id": p.order_id, "ids": ids, "money": yuan(total)});
    remember(st, &what, &p.order_id, &data);
    Ok((OK_WRITE, data))
}

/// How an order renews: the row whose `months` lists the terms it is sold for (the
/// cloud or machine line, the hosting or database product; none for a bundled database
/// or a product no longer listed: any term) and that row's discount for a term.
type Terms<'a> = (Option<&'a Value>, fn(&Value, i64) -> Decimal);

const RENEW_TERM: &str = "续费时长不正确";

fn renewal_terms(st: &State, fam: Fam, id: i64) -> Result<Terms<'_>, Fail> {
    let c = &st.catalog;
    Ok(match fam {
        Fam::Server => {
            let line = find(&c.lines, "guid", &order(&st.servers, id)?.line_guid)
                .filter(|l| vi(l, "renewStatus") == 1)
                .ok_or("该线路暂停续费")?;
            (Some(line), super::cloud::discount)
        }
        Fam::Lease | Fam::Idc => {
            let (lines, orders) = if fam == Fam::Lease {
                (&c.lease_lines, &st.leases)
            } else {
                (&c.idc_lines, &st.idcs)
            };
            // The idc lines carry no renew_status (the document's example has none).
            let line = find(lines, "guid", &order(orders, id)?.line_guid)
                .filter(|l| l.get("renew_status").is_none() || vi(l, "renew_status") == 1)
                .ok_or("该线路暂停续费")?;
            (Some(line), super::physical::discount)
        }
        Fam::Hosting => (
            find(
                &c.hosting_products,
                "guid",
                &order(&st.hostings, id)?.product_guid,
            ),
            percent_discount,
        ),
        Fam::Sql => (
            find(&c.sql_products, "guid", &order(&st.sqls, id)?.product_guid),
            percent_discount,
        ),
    })
}

/// The discount of a renewal for `months`: a term the order's line or product sells,
/// as a purchase must be (the document's `months` lists), with its discount table.
fn renewal_discount(st: &State, fam: Fam, id: i64, months: i64) -> Result<Decimal, Fail> {
    if !(1..=MAX_MONTHS).contains(&months) {
        return Err(RENEW_TERM.into());
    }
    match renewal_terms(st, fam, id)? {
        (Some(row), _) if !months_allowed(row, months) => Err(RENEW_TERM.into()),
        (Some(row), discount) => Ok(discount(row, months)),
        (None, _) => Ok(Decimal::ONE),
    }
}

/// Renews for `months` at the order's monthly list price with the term's discount.
pub(crate) fn renew(
    st: &mut State,
    fam: Fam,
    id: i64,
    months: i64,
    client_order_id: &str,
) -> Answer {
    // Keyed by order too: one client order id reused for another order must not
    // replay the first order's answer.
    let what = format!("renew_{}_{id}", fam.name());
    if let Some(a) = replay(st, &what, client_order_id) {
        return a;
    }
    let b = base(st, fam, id)?;
    if matches!(b.order_status, -1 | -2) {
        return Err("产品已删除".into());
    }
    let discount = renewal_discount(st, fam, id, months)?;
    let cost = to_fen(Decimal::new(b.monthly_fen, 2) * Decimal::from(months) * discount);
    let now = st.now();
    st.account.charge(
        now,
        cost,
        Entry {
            kind: "renew",
            product: fam.name(),
            order_id: id,
            client_order_id,
        },
    )?;
    let b = base_mut(st, fam, id)?;
    b.extend(now, months, cost);
    let data = json!({"id": id, "end_time": fmt_time(b.end_time), "money": yuan(cost)});
    remember(st, &what, client_order_id, &data);
    Ok((OK_WRITE, data))
}

/// Charges a prorated monthly price increase (upgrades); `Ok(charged fen)`.
pub(crate) fn charge_upgrade(
    st: &mut State,
    fam: Fam,
    id: i64,
    new_monthly_fen: i64,
) -> Result<i64, Fail> {
    let now = st.now();
    let b = base(st, fam, id)?;
    b.usable()?;
    let cost = b.prorate_fen(now, new_monthly_fen - b.monthly_fen);
    st.account.charge(
        now,
        cost,
        Entry {
            kind: "upgrade",
            product: fam.name(),
            order_id: id,
            client_order_id: "",
        },
    )?;
    let b = base_mut(st, fam, id)?;
    b.monthly_fen = new_monthly_fen.max(b.monthly_fen);
    b.paid_fen += cost;
    Ok(cost)
}

/// The document's refund: see `Base::refund_amount`.
pub(crate) fn refund(st: &mut State, fam: Fam, id: i64) -> Answer {
    let now = st.now();
    let amount = base(st, fam, id)?.refund_amount(now)?;
    if amount > 0 {
        st.account.refund(
            now,
            amount,
            Entry {
                kind: "refund",
                product: fam.name(),
                order_id: id,
                client_order_id: "",
            },
        );
    }
    let b = base_mut(st, fam, id)?;
    b.order_status = -2;
    b.run_status = -1;
    Ok((OK_WRITE, json!({"id": id, "money": yuan(amount)})))
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Power {
    Start,
    Stop,
    Restart,
}

pub(crate) fn power(st: &mut State, fam: Fam, id: i64, op: Power) -> Answer {
    let b = base_mut(st, fam, id)?;
    b.usable()?;
    b.run_status = match (op, b.run_status) {
        (Power::Start, 1) => return Err("产品已是运行状态".into()),
        (Power::Start, _) => 1,
        (Power::Stop, -1) => return Err("产品已是关机状态".into()),
        (Power::Stop, _) => -1,
        (Power::Restart, 1) => 1,
        (Power::Restart, _) => return Err("产品未运行,无法重启".into()),
    };
    Ok((OK_WRITE, Value::String(String::new())))
}

/// `{pages, servers}` for the page (from 1) the request asks for of `rows`.
pub(crate) fn paged(rows: impl IntoIterator<Item = Value>, req: &Req<'_>) -> Answer {
    let page = req.int_or("page", 1)?;
    let rows: Vec<Value> = rows.into_iter().collect();
    let pages = rows.len().div_ceil(PAGE_SIZE);
    let skip = usize::try_from(page.max(1) - 1)
        .unwrap_or(0)
        .saturating_mul(PAGE_SIZE);
    let servers: Vec<Value> = rows.into_iter().skip(skip).take(PAGE_SIZE).collect();
    Ok((OK_READ, json!({"pages": pages, "servers": servers})))
}

/// A traffic chart for an order over `[start_time, end_time]` (ms): 5-minute points,
/// shaped by the order's bandwidth so different orders and ranges differ.
pub(crate) fn chart(req: &Req<'_>, id: i64, bandwidth_mbps: i64) -> Answer {
    let ms = |k: &str| -> Result<i64, Fail> {
        req.need(k)?
            .parse::<i64>()
            .map_err(|_| format!("参数错误：{k}格式不正确"))
    };
    let (start, end) = (ms("start_time")?, ms("end_time")?);
    let step = 300_000;
    let count = match end.checked_sub(start) {
        Some(span) if span > 0 => (span / step).clamp(1, 288),
        _ => return Err("结束时间必须大于开始时间".into()),
    };
    let ts = |t: i64| -> Result<jiff::Timestamp, Fail> {
        jiff::Timestamp::from_millisecond(t)
            .map_err(|_| "参数错误：start_time格式不正确".to_string())
    };
    let label = |t: jiff::Timestamp| t.to_zoned(china()).strftime("%Y-%m-%d %H:%M").to_string();
    let peak = bandwidth_mbps.clamp(1, 1_000_000) * 1_000_000;
    let (mut date, mut inn, mut out) = (Vec::new(), Vec::new(), Vec::new());
    for n in 0..count {
        let t = start + n * step;
        date.push(label(ts(t)?));
        let wave = (t / step % 12 + id % 12).rem_euclid(12) + 1;
        inn.push(peak * wave / 24);
        out.push(peak * wave / 48);
    }
    Ok((
        OK_READ,
        json!({"date": date, "in": inn, "out": out, "start_time": label(ts(start)?), "end_time": label(ts(end)?), "unit": "bps"}),
    ))
}

/// A console URL with a fresh token (the document shows no answer; ours is `{url}`).
pub(crate) fn vnc_url(st: &mut State, fam: Fam, id: i64) -> Answer {
    base(st, fam, id)?.usable()?;
    let token = st.token("vnc");
    Ok((
        OK_READ,
        json!({"url": format!("https://vnc.zonkvm.example/console/{}/{id}?token={token}", fam.name())}),
    ))
}

/// Renewal to a given end (`newEndTimeStr`, hosting and databases); the months are
/// `renewLength` or, when absent, the whole months needed to reach it.
pub(crate) fn renew_until(st: &mut State, fam: Fam, req: &Req<'_>) -> Answer {
    let id = req.guid()?;
    let new_end =
        parse_time(req.need("newEndTimeStr")?).ok_or("参数错误：newEndTimeStr格式不正确")?;
    let b = base(st, fam, id)?;
    let from = b.end_time.max(st.now());
    if new_end <= from {
        return Err("新到期时间必须晚于当前到期时间".into());
    }
    // Whole months needed to reach the new end; a stated renewLength may be longer
    // (the caller pays for it) but never shorter, or the term would outrun the payment.
    let needed = (1..=MAX_MONTHS)
        .find(|m| add_months(from, *m) >= new_end)
        .ok_or(RENEW_TERM)?;
    // Without renewLength, the shortest term on sale that reaches the new end.
    let months = match req.int("renewLength")? {
        Some(m) if m < needed => return Err("续费时长不足以到达新到期时间".into()),
        Some(m) => m,
        None => match renewal_terms(st, fam, id)? {
            (Some(row), _) => (needed..=MAX_MONTHS)
                .find(|m| months_allowed(row, *m))
                .ok_or(RENEW_TERM)?,
            (None, _) => needed,
        },
    };
    renew(st, fam, id, months, "")?;
    let b = base_mut(st, fam, id)?;
    b.end_time = new_end;
    Ok((OK_WRITE, json!({"id": id, "end_time": fmt_time(new_end)})))
}

/// Percent discount lists of hosting and database products (`[{"month":12,"discount":85}]`).
pub(crate) fn percent_discount(product: &Value, months: i64) -> Decimal {
    let list: Vec<Value> = serde_json::from_str(&vs(product, "discount")).unwrap_or_default();
    list.iter()
        .find(|d| vi(d, "month") == months)
        .map(|d| vd(d, "discount") / Decimal::ONE_HUNDRED)
        .filter(|d| !d.is_zero())
        .unwrap_or(Decimal::ONE)
}

/// Moves a hosting or database order to a dearer product of its line, charging the
/// difference pro rata; answers the new product row (the caller applies its sizes).
pub(crate) fn upgrade_product(
    st: &mut State,
    fam: Fam,
    id: i64,
    to_guid: &str,
) -> Result<Value, Fail> {
    let c = &st.catalog;
    let (products, line_guid, from_guid) = match fam {
        Fam::Hosting => {
            let h = order(&st.hostings, id)?;
            (&c.hosting_products, &h.line_guid, &h.product_guid)
        }
        Fam::Sql => {
            let d = order(&st.sqls, id)?;
            (&c.sql_products, &d.line_guid, &d.product_guid)
        }
        _ => return Err(NOT_FOUND.into()),
    };
    let from = find(products, "guid", from_guid).ok_or("产品不存在或已下架")?;
    let to = find(products, "guid", to_guid)
        .filter(|p| vi(p, "status") == 1 && vs(p, "lines_guid").split(',').any(|l| l == line_guid))
        .ok_or("产品不存在或已下架")?
        .clone();
    if vi(from, "upgradation") != 1 || vd(&to, "price") <= vd(from, "price") {
        return Err("只能升级到更高规格的产品".into());
    }
    // The list prices' difference: what the order pays beyond its product (hosting
    // traffic bought on top) stays.
    let delta = to_fen(vd(&to, "price") - vd(from, "price"));
    let new_monthly = base(st, fam, id)?.monthly_fen.saturating_add(delta);
    charge_upgrade(st, fam, id, new_monthly)?;
    Ok(to)
}

/// Reads a product row open for purchase on a line (hosting and databases), for a term
/// it sells: the product and the line's guid.
pub(crate) fn product_on_line(
    products: &[Value],
    lines: &[Value],
    req: &Req<'_>,
    months: i64,
) -> Result<(Value, String), Fail> {
    let line = req.need("line_guid")?;
    find(lines, "guid", line)
        .filter(|l| vi(l, "status") == 1)
        .ok_or(BAD_LINE)?;
    let product = find(products, "guid", req.need("product_guid")?)
        .filter(|p| {
            vi(p, "status") == 1
                && vi(p, "stock") == 1
                && vs(p, "lines_guid").split(',').any(|l| l == line)
        })
        .ok_or("产品不存在或已下架")?;
    term_offered(product, months)?;
    Ok((product.clone(), line.to_string()))
}

/// Refuses a purchase of `months` that `row` (a line or a product) does not sell.
pub(crate) fn term_offered(row: &Value, months: i64) -> Result<(), Fail> {
    if months_allowed(row, months) {
        Ok(())
    } else {
        Err("购买时长不正确".into())
    }
}

pub(crate) fn empty() -> Value {
    Value::String(String::new())
}
