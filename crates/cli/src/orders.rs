//! Money commands: `order quote|place|list|show|reconcile` and `ledger`.

use crate::commands::{actor, fmt_ms, truncate};
use crate::output::{Column, Out};
use crate::{LedgerArgs, OrderCmd, PurchaseArgs};
use anyhow::{bail, Context, Result};
use idcgate_core::purchase::PurchaseRequest;
use idcgate_core::{Money, OrderState};
use idcgate_engine::orders::PurchaseTerms;
use idcgate_engine::Engine;
use idcgate_store::{LedgerFilter, OrderFilter, OrderRow};
use std::sync::Arc;

fn purchase(p: &PurchaseArgs) -> Result<PurchaseRequest> {
    let mut options = std::collections::BTreeMap::new();
    for kv in &p.options {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("--opt {kv:?}: expected KEY=VALUE"))?;
        options.insert(k.trim().to_string(), v.to_string());
    }
    Ok(PurchaseTerms {
        kind: Some(p.kind.clone()),
        operation: p.operation.clone(),
        target: p.target.clone(),
        offer: p.offer.clone(),
        months: p.months,
        years: p.years,
        options,
    }
    .request()?)
}

pub(crate) fn yuan(fen: i64) -> String {
    Money::from_fen(fen).to_string()
}

const ORDER_COLUMNS: [Column<OrderRow>; 8] = [
    ("id", |o| o.id.to_string()),
    ("placed", |o| fmt_ms(o.created_ms)),
    ("account", |o| o.order.account.clone()),
    ("what", |o| {
        format!("{} {}", o.order.operation, o.order.kind.as_str())
    }),
    ("target", |o| o.order.target.clone()),
    ("quoted", |o| yuan(o.order.quoted_fen)),
    ("booked", |o| o.charged_fen.map(yuan).unwrap_or_default()),
    ("state", |o| o.state.as_str().to_string()),
];

/// Spending money needs a yes: asked at a terminal, `--yes` otherwise.
pub(crate) fn confirm(what: &str, yes: bool) -> Result<()> {
    crate::safety::confirm(what, "this spends money", yes)
}

/// Places `p` at `account` once the operator has confirmed its live price, and reports
/// the order; an order that did not succeed is an error (`order place`, `renew`).
pub(crate) async fn place_confirmed(
    out: &Out,
    engine: &Engine,
    account: &str,
    p: &PurchaseRequest,
    idempotency_key: Option<&str>,
    yes: bool,
) -> Result<()> {
    // A repeated key answers with its order without asking: nothing is spent.
    let known = match idempotency_key {
        Some(k) => engine.reads().order_by_key(k).await?,
        None => None,
    };
    // The confirmed price is a ceiling for the order that follows.
    let confirmed = match known {
        Some(_) => None,
        None => {
            let q = engine.quote(account, p).await?;
            confirm(&format!("{p} at {account}: {}", q.price), yes)?;
            Some(q.price)
        }
    };
    let o = engine
        .place_order_within(&actor(), account, p, idempotency_key, confirmed)
        .await?;
    show_order(out, engine, &o).await?;
    match o.state {
        OrderState::Succeeded => Ok(()),
        OrderState::Unknown => Err(crate::safety::coded(
            crate::safety::EXIT_UNKNOWN_OUTCOME,
            format!("order {} has an unknown outcome: the answer was lost; `idcgate order reconcile` reads the upstream to settle it (never re-send)", o.id),
        )),
        state => bail!("order {} is {}", o.id, state.as_str()),
    }
}

pub async fn order(out: &Out, engine: &Arc<Engine>, cmd: OrderCmd) -> Result<()> {
    match cmd {
        OrderCmd::Quote { account, what } => {
            let p = purchase(&what)?;
            let q = engine.quote(&account, &p).await?;
            out.show(
                &q,
                &["account", "product", "months", "price"],
                vec![vec![
                    account,
                    q.product.clone(),
                    q.period_months.to_string(),
                    q.price.to_string(),
                ]],
            )
        }
        OrderCmd::Place {
            account,
            what,
            idempotency_key,
            yes,
        } => {
            let p = purchase(&what)?;
            place_confirmed(out, engine, &account, &p, idempotency_key.as_deref(), yes).await
        }
        OrderCmd::List { account, state } => {
            let state = state
                .map(|s| {
                    OrderState::parse(&s).with_context(|| {
                        format!(
                            "unknown state {s:?}: pending, submitted, succeeded, failed, unknown"
                        )
                    })
                })
                .transpose()?;
            let orders = engine
                .reads()
                .orders(&OrderFilter {
                    account,
                    state,
                    ..Default::default()
                })
                .await?;
            out.list(&orders, &ORDER_COLUMNS)
        }
        OrderCmd::Show { id } => {
            let o = engine.order(id).await?;
            show_order(out, engine, &o).await
        }
        OrderCmd::Reconcile { id, stale_after } => {
            let stale_ms = parse_duration_ms(&stale_after)?;
            let resolved = match id {
                Some(id) => vec![engine.reconcile_order(id).await?],
                None => engine.reconcile_orders(stale_ms).await?,
            };
            // Tenant orders delivered by these follow them (their money goes back if the
            // upstream did not deliver).
            engine.settle_tenant_orders().await?;
            out.list(&resolved, &ORDER_COLUMNS)
        }
    }
}

/// `90s`, `10m`, `2h`, `1d` (a bare number is seconds) in milliseconds.
fn parse_duration_ms(s: &str) -> Result<i64> {
    let t = s.trim();
    let (num, unit_ms) = [
        ("ms", 1),
        ("s", 1_000),
        ("m", 60_000),
        ("h", 3_600_000),
        ("d", 86_400_000),
    ]
    .iter()
    .find_map(|(suffix, ms)| t.strip_suffix(suffix).map(|n| (n, *ms)))
    .unwrap_or((t, 1_000));
    let n: i64 = num
        .trim()
        .parse()
        .ok()
        .filter(|n| (0..=365 * 86_400_000).contains(n))
        .with_context(|| format!("{s:?} is not a duration like 90s, 10m or 2h"))?;
    Ok(n * unit_ms)
}

pub(crate) async fn show_order(out: &Out, engine: &Engine, o: &OrderRow) -> Result<()> {
    let events = engine.reads().order_events(o.id).await?;
    if out.json_only(&serde_json::json!({"order": o, "events": events}))? {
        return Ok(());
    }
    out.one(o, &ORDER_COLUMNS)?;
    println!("idempotency key: {}", o.order.idem_key);
    for e in &events {
        println!(
            "  {}  {} -> {}  {}",
            fmt_ms(e.at_ms),
            e.from.map_or("-", |s| s.as_str()),
            e.to.as_str(),
            e.detail
        );
    }
    Ok(())
}

pub async fn ledger(out: &Out, engine: &Arc<Engine>, args: LedgerArgs) -> Result<()> {
    let since_ms = args.since.as_deref().map(china_day_ms).transpose()?;
    if args.balances {
        let balances = engine.reads().ledger_balances().await?;
        let rows = balances
            .iter()
            .map(|(a, fen)| vec![a.clone(), yuan(*fen)])
            .collect();
        let unbalanced = engine.reads().unbalanced_transactions().await?;
        out.show(&balances, &["account", "balance"], rows)?;
        if !unbalanced.is_empty() {
            bail!("transactions that do not balance: {unbalanced:?}");
        }
        return Ok(());
    }
    let lines = engine
        .reads()
        .ledger(&LedgerFilter {
            account: args.account,
            since_ms,
            limit: None,
        })
        .await?;
    out.list(
        &lines,
        &[
            ("txn", |l| l.txn_id.to_string()),
            ("at", |l| fmt_ms(l.at_ms)),
            ("account", |l| l.account.clone()),
            ("amount", |l| yuan(l.fen)),
            ("order", |l| {
                l.order_id.map(|o| o.to_string()).unwrap_or_default()
            }),
            ("memo", |l| truncate(&l.memo, 60)),
        ],
    )
}

/// Spend per upstream account, product kind or month: the cost side of every purchase
/// transaction (refunds net out, as the ledger books them against cost).
pub async fn spend(out: &Out, engine: &Arc<Engine>, by: &str) -> Result<()> {
    if !matches!(by, "vendor" | "kind" | "month") {
        bail!("--by {by:?}: vendor, kind or month");
    }
    let vendor_of: std::collections::HashMap<String, String> = engine
        .accounts()
        .await?
        .into_iter()
        .map(|a| (a.name, a.vendor.to_string()))
        .collect();
    let lines = engine
        .reads()
        .ledger(&LedgerFilter {
            account: None,
            since_ms: None,
            // Totals need every line; the store's default page would cut them short.
            limit: Some(i64::MAX),
        })
        .await?;
    let mut totals: std::collections::BTreeMap<String, i64> = Default::default();
    // A transaction's cost lines say what was bought; its upstream line says where.
    let mut by_txn: std::collections::BTreeMap<i64, (Option<String>, i64, i64)> =
        Default::default();
    for l in &lines {
        let entry = by_txn.entry(l.txn_id).or_insert((None, 0, l.at_ms));
        if let Some(kind) = l.account.strip_prefix("cost:") {
            entry.1 += l.fen;
            if by == "kind" {
                entry.0 = Some(kind.to_string());
            }
        } else if let Some(acct) = l.account.strip_prefix("upstream:") {
            if by == "vendor" {
                // An account removed since still spent what it spent: name it instead.
                entry.0 = Some(
                    vendor_of
                        .get(acct)
                        .cloned()
                        .unwrap_or_else(|| acct.to_string()),
                );
            }
        }
    }
    for (_, (group, fen, at_ms)) in by_txn {
        if fen == 0 {
            continue;
        }
        let key = match by {
            "month" => jiff::Timestamp::from_millisecond(at_ms)
                .map(|t| {
                    t.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
                        .strftime("%Y-%m")
                        .to_string()
                })
                .unwrap_or_default(),
            _ => group.unwrap_or_else(|| "-".into()),
        };
        *totals.entry(key).or_default() += fen;
    }
    let rows: Vec<(String, i64)> = totals.into_iter().collect();
    let table = rows
        .iter()
        .map(|(k, fen)| vec![k.clone(), yuan(*fen)])
        .collect();
    out.show(&rows, &[by, "spent"], table)
}

/// The start of a day in China time, in Unix milliseconds.
fn china_day_ms(day: &str) -> Result<i64> {
    day.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| {
            d.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
                .ok()
        })
        .map(|z| z.timestamp().as_millisecond())
        .with_context(|| format!("--since {day:?}: expected a date like 2026-12-01 (China time)"))
}

pub async fn statement(
    out: &Out,
    engine: &Arc<Engine>,
    account: &str,
    since: Option<&str>,
) -> Result<()> {
    let since_ms = match since {
        Some(day) => china_day_ms(day)?,
        None => engine.statement_start(account).await?,
    };
    let s = engine.statement(account, since_ms).await?;
    if out.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        let charged = if s.finance_record {
            yuan(s.charged_fen)
        } else {
            "(no finance record)".to_string()
        };
        println!(
            "{account} since {}: booked {}, charged {charged}",
            fmt_ms(s.since_ms),
            yuan(s.booked_fen),
        );
        if let Some(b) = &s.balance {
            let change = match b.change_fen {
                c if c < 0 => format!("fell {}", yuan(-c)),
                c => format!("rose {}", yuan(c)),
            };
            println!(
                "  balance {} at {} -> {} now: {change}; orders booked {}, unexplained {}, deposits {} ({} readings)",
                yuan(b.from_fen),
                idcgate_engine::statement::china_time(b.from_ms),
                yuan(b.to_fen),
                yuan(b.booked_fen),
                yuan(b.unexplained_fen),
                yuan(b.deposited_fen),
                b.readings
            );
        }
        for d in &s.deposits {
            println!("  deposit: {d}");
        }
        for n in &s.notes {
            println!("  note: {n}");
        }
        for d in &s.differences {
            println!("  {d}");
        }
    }
    if !s.differences.is_empty() {
        bail!(
            "{} difference(s) with {account}'s own record",
            s.differences.len()
        )
    }
    // Nothing checked is not "nothing wrong": say so in the exit status too.
    if !s.checked() {
        bail!("nothing to check {account}'s ledger against yet (see the note above)")
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_duration_ms;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("0s").ok(), Some(0));
        assert_eq!(parse_duration_ms("250ms").ok(), Some(250));
        assert_eq!(parse_duration_ms("90s").ok(), Some(90_000));
        assert_eq!(parse_duration_ms("10m").ok(), Some(600_000));
        assert_eq!(parse_duration_ms("2h").ok(), Some(7_200_000));
        assert_eq!(parse_duration_ms("45").ok(), Some(45_000));
        assert!(parse_duration_ms("-1s").is_err());
        assert!(parse_duration_ms("ten minutes").is_err());
    }
}
