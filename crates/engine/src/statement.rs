//! The statement check of one upstream account: what the ledger booked against what the
//! upstream itself shows. Two independent sources, each used where it exists:
//!
//! - the vendor's finance record, charge by charge (`Billing::charges`: West, Zonkvm);
//! - the account's balance, read at sync, at every statement and now: between two
//!   readings it must have fallen by exactly what our orders booked in between. This
//!   works for every vendor with a balance read, finance record or not (CNDNS, DNSPod).
//!
//! Every difference is reported; nothing is smoothed over or corrected. Money that came
//! in (a deposit, a refund) is reported as such, not as a difference.

use crate::{now_ms, Engine, EngineError, Result};
use idcgate_core::{Balance, Error, Money, OrderState};
use idcgate_store::{BalanceReading, OrderFilter, OrderRow};

/// The most readings one statement looks at (an hourly sync keeps ~9,000 a year).
const READINGS_LIMIT: i64 = 100_000;
/// Every order of one account, whatever the store's default page.
const ORDERS_LIMIT: i64 = 1_000_000;

/// The statement check of one upstream account. The first five fields are the finance
/// record's check as it always was; the rest came with the balance check.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Statement {
    pub account: String,
    pub since_ms: i64,
    /// Fen booked by succeeded orders placed since `since_ms`.
    pub booked_fen: i64,
    /// Fen the vendor's record shows charged since `since_ms` (0 without a record).
    pub charged_fen: i64,
    /// What the upstream shows and our ledger does not explain, or the reverse.
    pub differences: Vec<String>,
    /// Whether the vendor's finance record could be read (`charged_fen` comes from it).
    pub finance_record: bool,
    /// How the balance moved from the first usable reading at or after `since_ms` to
    /// the one taken now; `None` with fewer than two readings or no balance read.
    pub balance: Option<BalanceMoves>,
    /// Money that came in beyond what our orders explain (deposits, refunds).
    pub deposits: Vec<String>,
    /// What could not be checked and why, and open orders that may explain a difference.
    pub notes: Vec<String>,
}

impl Statement {
    /// Whether anything was checked at all: a finance record, or two balance readings.
    pub fn checked(&self) -> bool {
        self.finance_record || self.balance.is_some()
    }
}

/// The balance check over `[from_ms, to_ms]`, summed over the intervals between
/// consecutive readings: `change_fen == deposited_fen - booked_fen - unexplained_fen`.
/// Interval by interval, so a deposit in one and a purchase behind our back in another
/// do not cancel out (within one interval they can: two readings see only the net).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BalanceMoves {
    pub from_ms: i64,
    pub from_fen: i64,
    pub to_ms: i64,
    pub to_fen: i64,
    /// `to_fen - from_fen`.
    pub change_fen: i64,
    /// What our succeeded orders booked in between.
    pub booked_fen: i64,
    /// How much more the balance fell than our orders explain.
    pub unexplained_fen: i64,
    /// How much more it rose (or less it fell) than our orders explain.
    pub deposited_fen: i64,
    /// Readings used, both ends included.
    pub readings: usize,
}

fn fen(m: Money) -> Result<i64> {
    m.to_fen()
        .map_err(|e| EngineError::Invalid(format!("amount {m}: {e}")))
}

fn china(ms: i64) -> Option<jiff::Zoned> {
    let ts = jiff::Timestamp::from_millisecond(ms).ok()?;
    Some(ts.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8))))
}

/// `2026-12-02 10:00 China time`.
pub fn china_time(ms: i64) -> String {
    match china(ms) {
        Some(z) => format!("{} China time", z.strftime("%Y-%m-%d %H:%M")),
        None => format!("{ms} ms"),
    }
}

/// `between 2026-12-02 10:00 and 14:00 China time`: the date once when both ends share
/// it, seconds only when minutes would not tell the ends apart.
fn between(a_ms: i64, b_ms: i64) -> String {
    let (Some(a), Some(b)) = (china(a_ms), china(b_ms)) else {
        return format!("between {a_ms} and {b_ms} ms");
    };
    fn minutes(z: &jiff::Zoned) -> String {
        z.strftime("%H:%M").to_string()
    }
    fn seconds(z: &jiff::Zoned) -> String {
        z.strftime("%H:%M:%S").to_string()
    }
    let clock = if minutes(&a) == minutes(&b) {
        seconds
    } else {
        minutes
    };
    if a.date() == b.date() {
        format!(
            "between {} {} and {} China time",
            a.date(),
            clock(&a),
            clock(&b)
        )
    } else {
        format!(
            "between {} {} and {} {} China time",
            a.date(),
            clock(&a),
            b.date(),
            clock(&b)
        )
    }
}

fn moved(fell_fen: i64) -> String {
    match fell_fen {
        0 => "unchanged".to_string(),
        f if f > 0 => format!("fell {}", Money::from_fen(f)),
        f => format!("rose {}", Money::from_fen(-f)),
    }
}

fn booked(o: &OrderRow) -> i64 {
    o.charged_fen.unwrap_or(o.order.quoted_fen)
}

impl Engine {
    /// Appends one reading of `account`'s balance (taken now) to its history.
    pub async fn record_balance(
        &self,
        account: &str,
        balance: &Balance,
        source: &str,
    ) -> Result<BalanceReading> {
        let mut reading = BalanceReading {
            id: 0,
            account: account.to_string(),
            at_ms: now_ms(),
            available_fen: fen(balance.available)?,
            credit_fen: fen(balance.credit)?,
            source: source.to_string(),
        };
        reading.id = self.store.append_balance_reading(&reading).await?;
        Ok(reading)
    }

    /// Where a statement of `account` starts when no one says: at the last balance
    /// reading before its first order (so the balance check covers that order too), else
    /// at that order, else at its first reading; now when there is nothing at all.
    pub async fn statement_start(&self, account: &str) -> Result<i64> {
        let first_order = self
            .store
            .list_orders(&OrderFilter {
                account: Some(account.to_string()),
                limit: Some(ORDERS_LIMIT),
                ..Default::default()
            })
            .await?
            .iter()
            .map(|o| o.created_ms)
            .min();
        if let Some(t) = first_order {
            let before = self.store.balance_reading_before(account, t).await?;
            return Ok(before.map_or(t, |r| r.at_ms));
        }
        let first_reading = self.store.balance_readings(account, i64::MIN, 1).await?;
        Ok(first_reading.first().map_or_else(now_ms, |r| r.at_ms))
    }

    pub async fn statement(&self, account: &str, since_ms: i64) -> Result<Statement> {
        let conn = self.connection(account).await?;
        let vendor = conn.vendor();
        let since = jiff::Timestamp::from_millisecond(since_ms)
            .map_err(|e| EngineError::Invalid(format!("since: {e}")))?;
        let mut s = Statement {
            account: account.to_string(),
            since_ms,
            booked_fen: 0,
            charged_fen: 0,
            differences: Vec::new(),
            finance_record: false,
            balance: None,
            deposits: Vec::new(),
            notes: Vec::new(),
        };
        let billing = conn.billing();
        // Read now, before the orders: an order that succeeds after this read is one
        // the reading may not show yet, and is treated as open.
        let live = match billing {
            Some(b) => match b.balance().await {
                Ok(bal) => Some(self.record_balance(account, &bal, "statement").await?),
                Err(Error::Unsupported { .. }) => None,
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        let charges = match billing {
            Some(b) => match b.charges(since).await {
                Ok(c) => Some(c),
                Err(Error::Unsupported { capability, .. }) => {
                    s.notes.push(format!(
                        "{vendor} keeps no finance record idcgate can read; unsupported: {capability}"
                    ));
                    None
                }
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        let orders = self
            .store
            .list_orders(&OrderFilter {
                account: Some(account.to_string()),
                limit: Some(ORDERS_LIMIT),
                ..Default::default()
            })
            .await?;
        let succeeded_since: Vec<&OrderRow> = orders
            .iter()
            .filter(|o| o.state == OrderState::Succeeded && o.created_ms >= since_ms)
            .collect();
        s.booked_fen = succeeded_since.iter().map(|o| booked(o)).sum();

        // Spending the finance record already names: the balance check repeats it only
        // when it finds more than that.
        let mut flagged_fen = 0i64;
        if let Some(charges) = &charges {
            s.finance_record = true;
            // Orders of an operation the record never shows are noted, not matched.
            let (shown, unshown): (Vec<&OrderRow>, Vec<&OrderRow>) =
                succeeded_since.into_iter().partition(|o| {
                    // Money given back is no purchase: a record of charges lists none.
                    if o.order.operation == crate::orders::UPSTREAM_RETURN {
                        return false;
                    }
                    let shows = |b: &dyn idcgate_core::capability::Billing| {
                        o.order
                            .operation
                            .parse::<idcgate_core::Operation>()
                            .map_or(true, |op| b.charges_show(op))
                    };
                    billing.is_none_or(shows)
                });
            for o in unshown {
                s.notes.push(format!(
                    "order {} ({} {}, {}) cannot be checked against {vendor}'s record: it \
                     does not show {}s",
                    o.id,
                    o.order.operation,
                    o.order.target,
                    Money::from_fen(booked(o)),
                    o.order.operation
                ));
            }
            flagged_fen = self.match_charges(&mut s, charges, shown)?;
        }

        match live {
            Some(live) => {
                let readings = self
                    .store
                    .balance_readings(account, since_ms, READINGS_LIMIT)
                    .await?;
                self.balance_check(&mut s, readings, live, &orders, flagged_fen);
            }
            None if billing.is_some() => s.notes.push(format!(
                "{vendor} offers no balance read: the balance check cannot be made"
            )),
            None => s.notes.push(format!(
                "{vendor} offers no billing capability: no balance read, no finance record"
            )),
        }
        if !s.checked() {
            s.notes.push(format!(
                "nothing to check {account}'s ledger against since {}: no finance record \
                 and fewer than two balance readings (every sync and every \
                 statement records one)",
                china_time(since_ms)
            ));
        }
        Ok(s)
    }

    /// The finance record's check, charge by charge. Returns the fen of charges it
    /// reports as more than we booked.
    fn match_charges(
        &self,
        s: &mut Statement,
        charges: &[idcgate_core::Charge],
        orders: Vec<&OrderRow>,
    ) -> Result<i64> {
        let account = s.account.clone();
        let mut orders = orders;
        let mut flagged = 0i64;
        for c in charges {
            let fen = fen(c.amount)?;
            s.charged_fen += fen;
            // Matched by the vendor's order id where both sides have it, else by what
            // was bought (the vendor's memo names it) and the amount.
            let by_ref = c.reference.as_deref().and_then(|r| {
                orders
                    .iter()
                    .position(|o| o.upstream_ref.as_deref() == Some(r))
            });
            let by_target = || {
                orders
                    .iter()
                    .position(|o| c.memo.contains(&o.order.target) && o.charged_fen == Some(fen))
            };
            let by_memo = || orders.iter().position(|o| c.memo.contains(&o.order.target));
            match by_ref.or_else(by_target).or_else(by_memo) {
                Some(i) => {
                    let o = orders.remove(i);
                    let booked = booked(o);
                    if booked != fen {
                        flagged += (fen - booked).max(0);
                        s.differences.push(format!(
                            "order {} recorded {}, {account} charged {}",
                            o.id,
                            Money::from_fen(booked),
                            c.amount
                        ));
                    }
                }
                None => {
                    flagged += fen;
                    s.differences.push(format!(
                        "{account} charged {} on {} with no order of ours ({})",
                        c.amount,
                        c.at.strftime("%Y-%m-%d %H:%M:%S UTC"),
                        c.memo
                    ))
                }
            }
        }
        for o in &orders {
            s.differences.push(format!(
                "order {} booked {} but {account} shows no charge for it",
                o.id,
                Money::from_fen(booked(o))
            ));
        }
        Ok(flagged)
    }

    /// The balance check: from the first usable reading at or after `since` to `live`,
    /// interval by interval, what the balance did against what our orders booked.
    ///
    /// An order is placed in the interval between the last reading at or before it was
    /// written and the first at or after it succeeded: its charge happened in between.
    /// A reading taken while an order was under way could show the balance before or
    /// after its charge, so it is not used as a boundary (its neighbours are).
    fn balance_check(
        &self,
        s: &mut Statement,
        mut readings: Vec<BalanceReading>,
        live: BalanceReading,
        orders: &[OrderRow],
        flagged_fen: i64,
    ) {
        let account = s.account.clone();
        if readings.last().map(|r| r.id) != Some(live.id) {
            // More readings than one statement looks at: the live one ends the window.
            readings.retain(|r| r.at_ms <= live.at_ms && r.id != live.id);
            readings.push(live.clone());
        }
        let done: Vec<&OrderRow> = orders
            .iter()
            .filter(|o| o.state == OrderState::Succeeded && o.updated_ms <= live.at_ms)
            .collect();
        let under_way = |r: &BalanceReading| {
            done.iter()
                .any(|o| o.created_ms < r.at_ms && r.at_ms < o.updated_ms)
        };
        let last = readings.len().saturating_sub(1);
        let kept: Vec<&BalanceReading> = readings
            .iter()
            .enumerate()
            .filter(|(i, r)| *i == last || !under_way(r))
            .map(|(_, r)| r)
            .collect();
        let (Some(first), Some(end)) = (kept.first(), kept.last()) else {
            return;
        };
        // Orders that may have moved the balance without being booked yet.
        for o in orders {
            let in_window = o.created_ms <= live.at_ms && o.updated_ms >= first.at_ms;
            let open = match o.state {
                OrderState::Submitted | OrderState::Unknown => true,
                OrderState::Succeeded => o.updated_ms > live.at_ms,
                OrderState::Pending | OrderState::Failed => false,
            };
            if open && in_window {
                s.notes.push(format!(
                    "order {} ({} {} {}, quoted {}) was {} when the balance was read: \
                     its charge may be in the balance and not yet booked",
                    o.id,
                    o.order.operation,
                    o.order.kind.as_str(),
                    o.order.target,
                    Money::from_fen(o.order.quoted_fen),
                    o.state.as_str()
                ));
            }
        }
        if kept.len() < 2 {
            s.notes.push(format!(
                "{account}: one usable balance reading since {} (now, {}): the balance \
                 check needs an earlier one (every sync records one)",
                china_time(s.since_ms),
                Money::from_fen(live.available_fen)
            ));
            return;
        }
        let mut totals = BalanceMoves {
            from_ms: first.at_ms,
            from_fen: first.available_fen,
            to_ms: end.at_ms,
            to_fen: end.available_fen,
            change_fen: end.available_fen - first.available_fen,
            booked_fen: 0,
            unexplained_fen: 0,
            deposited_fen: 0,
            readings: kept.len(),
        };
        let mut placed = vec![false; done.len()];
        let mut unexplained = Vec::new();
        for pair in kept.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let mut booked_here = 0i64;
            for (i, o) in done.iter().enumerate() {
                if !placed[i] && a.at_ms <= o.created_ms && o.updated_ms <= b.at_ms {
                    placed[i] = true;
                    booked_here += booked(o);
                }
            }
            totals.booked_fen += booked_here;
            let fell = a.available_fen - b.available_fen;
            let gap = fell - booked_here;
            let when = between(a.at_ms, b.at_ms);
            if gap > 0 {
                totals.unexplained_fen += gap;
                unexplained.push(format!(
                    "{account} balance fell {} more than our orders explain (fell {}, booked {}) {when}",
                    Money::from_fen(gap),
                    Money::from_fen(fell),
                    Money::from_fen(booked_here)
                ));
            } else if gap < 0 {
                totals.deposited_fen += -gap;
                s.deposits.push(format!(
                    "{account} received {} (a deposit or refund) {when}: balance {}, booked {}",
                    Money::from_fen(-gap),
                    moved(fell),
                    Money::from_fen(booked_here)
                ));
            }
        }
        if !s.finance_record {
            s.differences.extend(unexplained);
        } else if totals.unexplained_fen > flagged_fen {
            // The finance record misses spending the balance shows.
            s.differences.push(format!(
                "{account} balance fell {} more than our orders explain {}, and its finance \
                 record accounts for only {} of it",
                Money::from_fen(totals.unexplained_fen),
                between(totals.from_ms, totals.to_ms),
                Money::from_fen(flagged_fen)
            ));
            s.notes.extend(unexplained);
        } else {
            // Already itemised, charge by charge, by the finance record's check.
            s.notes.extend(unexplained);
        }
        s.balance = Some(totals);
    }
}
