//! Balance, finance records and invoices: the ledger every module charges into.

use super::{dec, fmt_date, fmt_time, m, page, Args, FinRec, Handler, Req, SimErr, State, R};
use rust_decimal::Decimal;
use serde_json::json;

/// Records whose China-time date lies in `[start_date, end_date]` (YYYY-MM-DD compares
/// as text).
fn in_range<'a>(st: &'a State, q: &Req) -> Result<Vec<&'a FinRec>, SimErr> {
    let start = q.arg("start_date").unwrap_or("0000-00-00");
    let end = q.arg("end_date").unwrap_or("9999-99-99");
    for (k, v) in [("start_date", start), ("end_date", end)] {
        if v.len() != 10 || v.as_bytes()[4] != b'-' || v.as_bytes()[7] != b'-' {
            return Err(SimErr::invalid(k, "日期格式必须是YYYY-MM-DD"));
        }
    }
    Ok(st
        .finance
        .iter()
        .rev()
        .filter(|r| {
            let d = fmt_date(r.time);
            d.as_str() >= start && d.as_str() <= end
        })
        .collect())
}

fn spent(st: &State) -> Decimal {
    st.finance
        .iter()
        .filter(|r| r.kind == "消费")
        .map(|r| -r.amount)
        .sum()
}

pub(crate) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "info.getfinance" => getfinance,
        "info.getspending" => getspending,
        "info.checkbalance" => {
            |st, _| Ok(json!({"balance":m(st.balance),"credit":"0.00","available":m(st.balance)}))
        }
        "invoice.getconfig" => getconfig,
        "invoice.getcost" => getcost,
        _ => return None,
    })
}

fn getconfig(st: &mut State, _: &Req) -> R {
    Ok(json!({
        "types":[{"type":"normal","name":"增值税普通发票","minamount":"100.00"},{"type":"special","name":"增值税专用发票","minamount":"1000.00"}],
        "postage":"15.00","freepostage":"500.00","invoiceable":m(spent(st))}))
}

fn getfinance(st: &mut State, q: &Req) -> R {
    let all = in_range(st, q)?;
    if all.is_empty() {
        return Err(SimErr::empty());
    }
    Ok(page(
        &all,
        q.paging()?,
        |r| json!({"id":r.id,"time":fmt_time(r.time),"type":r.kind,"amount":m(r.amount),"balance":m(r.balance),"memo":r.memo,"orderid":r.orderid}),
    ))
}

fn getspending(st: &mut State, q: &Req) -> R {
    let all = in_range(st, q)?;
    let charges: Vec<&&FinRec> = all.iter().filter(|r| r.kind == "消费").collect();
    let total: Decimal = charges.iter().map(|r| -r.amount).sum();
    Ok(
        json!({"start_date":q.arg("start_date").unwrap_or_default(),"end_date":q.arg("end_date").unwrap_or_default(),"total":m(total),"count":charges.len()}),
    )
}

fn getcost(st: &mut State, q: &Req) -> R {
    let amount: Decimal = q
        .need("amount")?
        .parse()
        .map_err(|_| SimErr::invalid("amount", "金额格式错误"))?;
    if amount <= Decimal::ZERO || amount > spent(st) {
        return Err(SimErr::invalid("amount", "金额超过可开票金额"));
    }
    // Postage is waived from 500 yuan; below it the invoice costs the postage.
    let postage = if amount >= dec(500, 0) {
        Decimal::ZERO
    } else {
        dec(15, 0)
    };
    Ok(json!({"amount":m(amount),"postage":m(postage),"cost":m(postage)}))
}
