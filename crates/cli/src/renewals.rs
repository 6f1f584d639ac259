//! `renew`: one resource now, the plan (`--plan`), the job once now (`run`), policies and
//! balance floors. What is due and what it costs is decided by the engine
//! (`idcgate_engine::renewals`), the same answer REST gives.

use crate::commands::{actor, fmt_ms, truncate};
use crate::orders::{confirm, place_confirmed, yuan};
use crate::output::Out;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use idcgate_core::purchase::{Operation, PurchaseRequest};
use idcgate_core::{Money, ResourceKind};
use idcgate_engine::renewals::{Decision, PlannedRenewal, RenewalPolicy, DAY_MS};
use idcgate_engine::{now_ms, Engine};
use idcgate_store::{PolicyPatch, PolicyRow, PolicyScope};
use std::sync::Arc;

/// `idcgate renew DOMAIN`, `renew --plan`, `renew run`, `renew policy ...`, `renew floor ...`.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct RenewArgs {
    #[command(subcommand)]
    pub cmd: Option<RenewCmd>,
    /// The resource to renew now: a domain name, an id, or ACCOUNT/KEY (its account is
    /// found in the inventory).
    pub domain: Option<String>,
    /// Length in years (default: the resource's policy, see `renew policy show`).
    #[arg(long)]
    pub years: Option<u32>,
    /// Show the renewals due within `--within` instead of renewing anything: when each
    /// is renewed, at what live price, and what its policy decides.
    #[arg(long)]
    pub plan: bool,
    /// With --plan: the horizon, 30d, 2w, 3m or 1y.
    #[arg(long, default_value = "30d", value_parser = crate::period)]
    pub within: idcgate_engine::period::Period,
    /// The same key again returns the first order and renews nothing.
    #[arg(long)]
    pub idempotency_key: Option<String>,
    /// Confirm spending without asking.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Subcommand)]
pub enum RenewCmd {
    /// Renewal policies: a default per kind, overrides per resource.
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// The balance below which no automatic renewal may take an upstream account:
    /// `renew floor sandbox-west 500.00` (`none` removes it; no arguments lists them).
    Floor {
        /// The upstream account (default: list every floor).
        account: Option<String>,
        /// Yuan, e.g. 500.00, or `none`.
        amount: Option<String>,
    },
    /// Run the renewal job once now (reminders, then every renewal its policy makes due),
    /// under the job's lease so it never overlaps a server's scheduled run.
    Run {
        /// Confirm spending without asking.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
pub enum PolicyCmd {
    /// The policy in force for a resource or a kind, each field with where it comes
    /// from; with neither, every stored level.
    Show {
        /// A domain name, an id, or ACCOUNT/KEY.
        resource: Option<String>,
        /// domain, server, hosting_site, database, mail_domain, ...
        #[arg(long)]
        kind: Option<String>,
    },
    /// Change a kind's default (`--kind K`) or one resource's own policy (what it does
    /// not set comes from its kind's default).
    Set {
        /// A domain name, an id, or ACCOUNT/KEY (or --kind for a kind's default).
        resource: Option<String>,
        /// domain, server, hosting_site, database, mail_domain, ...
        #[arg(long)]
        kind: Option<String>,
        /// Renew automatically: on or off.
        #[arg(long, value_parser = ["on", "off"])]
        auto: Option<String>,
        /// Renew this many days before expiry.
        #[arg(long)]
        days: Option<i64>,
        /// Never renew automatically above this price (yuan), or `none`.
        #[arg(long)]
        max_price: Option<String>,
        /// Renew for this many months (domains: 12, 24, ...).
        #[arg(long)]
        months: Option<i64>,
    },
}

pub async fn renew(out: &Out, engine: &Arc<Engine>, args: RenewArgs) -> Result<()> {
    match (args.cmd, args.plan, args.domain) {
        (Some(RenewCmd::Policy(cmd)), ..) => policy(out, engine, cmd).await,
        (Some(RenewCmd::Floor { account, amount }), ..) => {
            floor(out, engine, account, amount).await
        }
        (Some(RenewCmd::Run { yes }), ..) => run(out, engine, yes).await,
        (None, true, None) => {
            if args.years.is_some() {
                bail!("--plan renews each resource for its policy's length (see `idcgate renew policy show`); leave out --years");
            }
            plan(out, engine, args.within).await
        }
        (None, false, Some(d)) => {
            renew_now(out, engine, &d, args.years, args.idempotency_key, args.yes).await
        }
        (None, true, Some(_)) => bail!("--plan shows what is due; leave out the domain"),
        (None, false, None) => bail!("name a domain to renew, or use --plan, run, policy or floor"),
    }
}

fn kind_arg(kind: Option<&str>) -> Result<Option<ResourceKind>> {
    Ok(kind.map(str::parse::<ResourceKind>).transpose()?)
}

/// Renews one resource now through the journal, for `years` or its policy's length.
async fn renew_now(
    out: &Out,
    engine: &Arc<Engine>,
    reference: &str,
    years: Option<u32>,
    idempotency_key: Option<String>,
    yes: bool,
) -> Result<()> {
    let row = engine.find_resource(reference, None).await?;
    let policy = engine
        .renewal_policies()
        .await?
        .of(row.kind, &row.account, &row.key);
    let months = years.map_or(policy.months, |y| y.saturating_mul(12));
    let p = PurchaseRequest::new(row.kind, Operation::Renew, row.key.clone()).months(months);
    place_confirmed(
        out,
        engine,
        &row.account,
        &p,
        idempotency_key.as_deref(),
        yes,
    )
    .await
}

/// The plan as `--json` prints it: the engine's item, plus `domain` and `years` as
/// this command printed them before policies existed.
#[derive(serde::Serialize)]
struct PlanRow<'a> {
    #[serde(flatten)]
    item: &'a PlannedRenewal,
    domain: &'a str,
    years: Option<u32>,
}

fn length(months: u32) -> String {
    if months % 12 == 0 {
        (months / 12).to_string()
    } else {
        format!("{months}m")
    }
}

async fn plan(
    out: &Out,
    engine: &Arc<Engine>,
    within: idcgate_engine::period::Period,
) -> Result<()> {
    let now = now_ms();
    let plan = engine.renewal_plan(now, within.after(now) - now).await?;
    let json: Vec<PlanRow> = plan
        .items
        .iter()
        .map(|i| PlanRow {
            item: i,
            domain: &i.name,
            years: (i.months % 12 == 0).then_some(i.months / 12),
        })
        .collect();
    let rows = plan
        .items
        .iter()
        .map(|p| {
            let name = match p.kind {
                ResourceKind::Domain => p.name.clone(),
                k => format!("{} ({})", p.name, k.as_str()),
            };
            vec![
                p.account.clone(),
                name,
                fmt_ms(p.expires_at_ms),
                length(p.months),
                p.price.map(|m| m.to_string()).unwrap_or_else(|| {
                    format!("? {}", truncate(p.error.as_deref().unwrap_or_default(), 40))
                }),
                fmt_ms(p.renew_at_ms),
                format!("{}: {}", p.decision.as_str(), truncate(&p.reason, 50)),
            ]
        })
        .collect();
    out.show(
        &json,
        &[
            "account", "domain", "expires", "years", "price", "renews", "decision",
        ],
        rows,
    )?;
    if !out.json {
        for t in &plan.totals {
            let mut line = format!(
                "{}: {} in all; auto-renew would spend {}",
                t.account, t.total, t.auto_total
            );
            if let Some(b) = t.balance {
                line.push_str(&format!(" (balance {b}"));
                if let Some(f) = t.floor {
                    line.push_str(&format!(", floor {f}"));
                }
                line.push(')');
            }
            println!("{line}");
        }
    }
    Ok(())
}

async fn run(out: &Out, engine: &Arc<Engine>, yes: bool) -> Result<()> {
    if !yes {
        // Refused before the plan's quotes: nobody is there to answer.
        if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
            return crate::safety::confirm("renew run", "this spends money", false);
        }
        // What the run would buy now, so the question names it.
        let plan = engine.renewal_plan(now_ms(), 366 * DAY_MS).await?;
        let due: Vec<&PlannedRenewal> = plan
            .items
            .iter()
            .filter(|i| i.decision == Decision::Due)
            .collect();
        let total = due
            .iter()
            .filter_map(|i| i.price)
            .fold(Money::ZERO, |a, b| a + b);
        confirm(
            &format!(
                "renew {} resource(s) due now for {total} in all, per their policies",
                due.len()
            ),
            false,
        )?;
    }
    let owner = format!("cli:{}", std::process::id());
    let schedule = idcgate_engine::jobs::Schedule::default();
    let Some(run) = engine.run_renewals_now(&actor(), &owner, &schedule).await? else {
        bail!("another instance is running renewals right now; try again in a few minutes");
    };
    if out.json {
        println!("{}", serde_json::to_string_pretty(&run)?);
    } else {
        for r in &run.reminders {
            println!(
                "reminder {}: {} {} at {} expires {}",
                r.stage,
                r.kind.as_str(),
                r.name,
                r.account,
                fmt_ms(r.expires_at_ms)
            );
        }
        let rows = run
            .items
            .iter()
            .map(|i| {
                vec![
                    i.account.clone(),
                    i.name.clone(),
                    i.decision.as_str().to_string(),
                    i.order
                        .as_ref()
                        .map(|o| o.id.to_string())
                        .unwrap_or_default(),
                    truncate(&i.reason, 70),
                ]
            })
            .collect();
        out.show(
            &run,
            &["account", "resource", "decision", "order", "why"],
            rows,
        )?;
    }
    if !run.errors.is_empty() {
        bail!("{}", run.errors.join("\n"));
    }
    Ok(())
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

fn show_policy(out: &Out, what: &str, p: &RenewalPolicy) -> Result<()> {
    let rows = vec![
        vec![
            "auto".into(),
            on_off(p.auto_renew).into(),
            p.from.auto_renew.as_str().into(),
        ],
        vec![
            "days before expiry".into(),
            p.days_before.to_string(),
            p.from.days_before.as_str().into(),
        ],
        vec![
            "max price".into(),
            p.max_price.map_or("none".into(), |m| m.to_string()),
            p.from.max_price.as_str().into(),
        ],
        vec![
            "months".into(),
            p.months.to_string(),
            p.from.months.as_str().into(),
        ],
    ];
    if !out.json {
        println!("{what}");
    }
    out.show(p, &["setting", "value", "from"], rows)
}

async fn policy(out: &Out, engine: &Arc<Engine>, cmd: PolicyCmd) -> Result<()> {
    match cmd {
        PolicyCmd::Show { resource, kind } => {
            let kind = kind_arg(kind.as_deref())?;
            let policies = engine.renewal_policies().await?;
            match (resource, kind) {
                (Some(r), kind) => {
                    let row = engine.find_resource(&r, kind).await?;
                    let p = policies.of(row.kind, &row.account, &row.key);
                    let what = format!("{} {} at {}", row.kind.as_str(), row.name, row.account);
                    show_policy(out, &what, &p)
                }
                (None, Some(k)) => {
                    // No resource has this (account, key): the kind's default resolves.
                    let p = policies.of(k, "", "");
                    show_policy(out, &format!("default for {}", k.as_str()), &p)
                }
                (None, None) => {
                    let rows: Vec<PolicyRow> = policies.rows().to_vec();
                    let cell = |v: Option<String>| v.unwrap_or_else(|| "-".into());
                    let table = rows
                        .iter()
                        .map(|r| {
                            vec![
                                match &r.scope.resource {
                                    Some((a, k)) => format!("{a}/{k}"),
                                    None => "(default)".into(),
                                },
                                r.scope.kind.as_str().into(),
                                cell(r.auto_renew.map(|a| on_off(a).to_string())),
                                cell(r.days_before.map(|d| d.to_string())),
                                cell(r.max_price_fen.map(yuan)),
                                cell(r.months.map(|m| m.to_string())),
                            ]
                        })
                        .collect();
                    out.show(
                        &rows,
                        &["resource", "kind", "auto", "days", "max price", "months"],
                        table,
                    )?;
                    if !out.json {
                        println!("unset (-) fields come from the kind's default, then the built-in one (auto off, 30 days, no cap, 12 months)");
                    }
                    Ok(())
                }
            }
        }
        PolicyCmd::Set {
            resource,
            kind,
            auto,
            days,
            max_price,
            months,
        } => {
            let kind = kind_arg(kind.as_deref())?;
            let scope = match (resource, kind) {
                (Some(r), kind) => {
                    let row = engine.find_resource(&r, kind).await?;
                    PolicyScope::resource(row.kind, &row.account, &row.key)
                }
                (None, Some(k)) => PolicyScope::kind(k),
                (None, None) => bail!("name a resource, or --kind for a kind's default"),
            };
            let max_price_fen = max_price
                .map(|m| -> Result<Option<i64>> {
                    if m.trim().eq_ignore_ascii_case("none") {
                        return Ok(None);
                    }
                    let money: Money = m.parse().ok().with_context(|| {
                        format!("--max-price {m:?}: expected yuan like 99.00, or none")
                    })?;
                    Ok(Some(
                        money
                            .to_fen()
                            .with_context(|| format!("--max-price {m:?}"))?,
                    ))
                })
                .transpose()?;
            let patch = PolicyPatch {
                auto_renew: auto.map(|a| a == "on"),
                days_before: days,
                max_price_fen,
                months,
            };
            if patch == PolicyPatch::default() {
                bail!("nothing to change: give --auto, --days, --max-price or --months");
            }
            engine.set_renewal_policy(&actor(), &scope, &patch).await?;
            let policies = engine.renewal_policies().await?;
            let (what, p) = match &scope.resource {
                Some((a, k)) => (
                    format!("{} {k} at {a}", scope.kind.as_str()),
                    policies.of(scope.kind, a, k),
                ),
                None => (
                    format!("default for {}", scope.kind.as_str()),
                    policies.of(scope.kind, "", ""),
                ),
            };
            show_policy(out, &what, &p)
        }
    }
}

async fn floor(
    out: &Out,
    engine: &Arc<Engine>,
    account: Option<String>,
    amount: Option<String>,
) -> Result<()> {
    match (account, amount) {
        (Some(account), Some(amount)) => {
            let floor = if amount.trim().eq_ignore_ascii_case("none") {
                None
            } else {
                let m: Money = amount
                    .parse()
                    .ok()
                    .with_context(|| format!("{amount:?}: expected yuan like 500.00, or none"))?;
                Some(m)
            };
            engine.set_renewal_floor(&actor(), &account, floor).await?;
            let text = match floor {
                Some(f) => format!("{account}: automatic renewals keep at least {f}"),
                None => format!("{account}: no floor"),
            };
            out.message(
                &serde_json::json!({"account": account, "floor": floor}),
                &text,
            )
        }
        (filter, None) => {
            let floors: Vec<(String, Money)> = engine
                .renewal_floors()
                .await?
                .into_iter()
                .filter(|(a, _)| filter.as_ref().is_none_or(|f| f == a))
                .collect();
            let rows = floors
                .iter()
                .map(|(a, f)| vec![a.clone(), f.to_string()])
                .collect();
            out.show(&floors, &["account", "floor"], rows)
        }
        (None, Some(_)) => bail!("name the account"),
    }
}
