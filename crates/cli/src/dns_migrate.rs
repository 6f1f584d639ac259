//! `idcgate dns migrate ZONE --to ACCOUNT`: moving a zone to another account
//! (`idcgate_engine::migrate`), with a dry run and a confirmation before writing.

use crate::commands::actor;
use crate::output::Out;
use crate::safety::confirm;
use anyhow::{Context, Result};
use clap::Args;
use idcgate_engine::migrate::{Migration, MigrationReport, StepAction};
use idcgate_engine::Engine;

#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// The zone, e.g. example.com.
    pub zone: String,
    /// The account to move it to (see `idcgate account list`).
    #[arg(long)]
    pub to: String,
    /// The account to move it from, when more than one other account holds the zone.
    #[arg(long)]
    pub from: Option<String>,
    /// Read both sides and print what would be done; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Once the records are verified at the target, point the domain's nameservers at
    /// the target's, through the registrar account holding the domain.
    #[arg(long)]
    pub switch_ns: bool,
    /// Write without asking (needed when standard input is not a terminal).
    #[arg(long)]
    pub yes: bool,
}

pub async fn run(out: &Out, engine: &Engine, args: MigrateArgs) -> Result<()> {
    let m = Migration {
        zone: args.zone.clone(),
        from: args.from.clone(),
        to: args.to.clone(),
        dry_run: true,
        switch_ns: args.switch_ns,
    };
    // Always planned first: the question names what will be written.
    let plan = engine.dns_migrate(&actor(), &m).await?;
    if args.dry_run {
        return show(out, &plan);
    }
    confirm(
        &format!(
            "copy {} record(s) of {} from {} to {}{}{}",
            plan.created + plan.updated,
            plan.zone,
            plan.from,
            plan.to,
            if plan.zone_created {
                " (adding the zone there)"
            } else {
                ""
            },
            if args.switch_ns {
                " and switch its nameservers"
            } else {
                ""
            }
        ),
        if args.switch_ns {
            "records are written at the target and the domain's delegation changes"
        } else {
            "records are written at the target"
        },
        args.yes,
    )?;
    let done = engine
        .dns_migrate(
            &actor(),
            &Migration {
                dry_run: false,
                ..m
            },
        )
        .await
        .with_context(|| {
            format!(
                "moving {} to {} stopped; what was written stays (see `idcgate audit`), and running the same command again continues where it stopped",
                plan.zone, plan.to
            )
        })?;
    show(out, &done)
}

fn show(out: &Out, report: &MigrationReport) -> Result<()> {
    if out.json_only(report)? {
        return Ok(());
    }
    let verb = |a: StepAction| match (a, report.dry_run) {
        (StepAction::Create, true) => "would create",
        (StepAction::Create, false) => "created",
        (StepAction::Update, true) => "would update",
        (StepAction::Update, false) => "updated",
        (StepAction::Present, _) => "already there",
        (StepAction::Skip, _) => "skipped (apex NS)",
    };
    if report.zone_created {
        println!(
            "zone {} {} at {}",
            report.zone,
            if report.dry_run {
                "would be added"
            } else {
                "added"
            },
            report.to
        );
    }
    let rows = report
        .steps
        .iter()
        .map(|s| {
            vec![
                verb(s.action).to_string(),
                s.record.host.clone(),
                s.record.rtype.to_string(),
                s.record.value.clone(),
                s.record.ttl.to_string(),
                s.record.line.clone().unwrap_or_else(|| "default".into()),
                if s.enabled { "yes" } else { "no" }.to_string(),
            ]
        })
        .collect();
    out.show(
        report,
        &["action", "host", "type", "value", "ttl", "line", "enabled"],
        rows,
    )?;
    println!("{}", report.summary());
    if report.target_only > 0 {
        println!(
            "{} record(s) at {} that {} does not hold were left alone",
            report.target_only, report.to, report.from
        );
    }
    Ok(())
}
