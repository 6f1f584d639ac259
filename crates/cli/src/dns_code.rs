//! Zones as code: `dns export`, `dns plan`, `dns apply` over the engine's `dnsplan`.

use crate::commands::actor;
use crate::output::{Out, Shown};
use crate::safety::{coded, confirm, EXIT_ERROR, EXIT_UNKNOWN_OUTCOME};
use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use idcgate_engine::dnsplan::{plans_json, Change, ChangeOp, RecordState, Safety, ZonePlan};
use idcgate_engine::zonefile::ZoneFile;
use idcgate_engine::Engine;
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Default, ValueEnum)]
pub enum ZoneFormat {
    /// octoDNS's YAML layout (read back by `dns plan` and `dns apply`).
    #[default]
    Yaml,
    /// A BIND zone file (records on other lines and paused ones as comments).
    Bind,
}

#[derive(Args)]
pub struct ExportArgs {
    /// The zone, e.g. example.com.
    pub zone: String,
    /// yaml (octoDNS layout) or bind.
    #[arg(long, value_enum, default_value_t = ZoneFormat::Yaml)]
    pub format: ZoneFormat,
    /// Write to this file instead of standard output.
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
}

#[derive(Args)]
pub struct PlanArgs {
    /// A zone file (`<zone>.yaml`, or any name with a `# idcgate: zone <zone>` line) or
    /// a directory of them.
    pub path: PathBuf,
    #[command(flatten)]
    pub safety: SafetyArgs,
}

#[derive(Args)]
pub struct ApplyArgs {
    /// A zone file (`<zone>.yaml`, or any name with a `# idcgate: zone <zone>` line) or
    /// a directory of them.
    pub path: PathBuf,
    /// Carry the plan out without asking (needed when standard input is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Carry out a plan that updates or deletes more of a zone than the thresholds allow.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub safety: SafetyArgs,
}

#[derive(Args)]
pub struct SafetyArgs {
    /// Most records of a zone a plan may update without --force, in percent.
    #[arg(long, default_value_t = Safety::default().max_update_percent,
        value_parser = clap::value_parser!(u32).range(0..=100))]
    pub max_update_percent: u32,
    /// Most records of a zone a plan may delete without --force, in percent.
    #[arg(long, default_value_t = Safety::default().max_delete_percent,
        value_parser = clap::value_parser!(u32).range(0..=100))]
    pub max_delete_percent: u32,
    /// Zones holding fewer records than this are not held to the percentages.
    #[arg(long, default_value_t = Safety::default().min_existing)]
    pub min_existing: usize,
}

impl SafetyArgs {
    fn safety(&self) -> Safety {
        Safety {
            max_update_percent: self.max_update_percent,
            max_delete_percent: self.max_delete_percent,
            min_existing: self.min_existing,
        }
    }
}

pub async fn export(out: &Out, engine: &Engine, args: ExportArgs) -> Result<()> {
    let file = engine.dns_export(&args.zone).await?;
    let text = match args.format {
        ZoneFormat::Yaml => file.to_yaml(),
        ZoneFormat::Bind => file.to_bind(),
    };
    match args.output {
        Some(path) => {
            std::fs::write(&path, &text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            out.message(
                &json!({"zone": file.zone, "records": file.record_count(), "file": path}),
                &format!(
                    "exported {} ({} records) to {}",
                    file.zone,
                    file.record_count(),
                    path.display()
                ),
            )
        }
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// The zone files at `path`: the file itself, or every `*.yaml`/`*.yml` of the directory.
pub fn read_files(path: &Path) -> Result<Vec<ZoneFile>> {
    let mut paths = Vec::new();
    if path.is_dir() {
        for entry in std::fs::read_dir(path)
            .with_context(|| format!("cannot read directory {}", path.display()))?
        {
            let p = entry?.path();
            let yaml = p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
            if yaml && p.is_file() {
                paths.push(p);
            }
        }
        paths.sort();
        if paths.is_empty() {
            bail!("{} holds no .yaml zone files", path.display());
        }
    } else {
        paths.push(path.to_path_buf());
    }
    paths
        .iter()
        .map(|p| {
            let meta =
                std::fs::metadata(p).with_context(|| format!("cannot read {}", p.display()))?;
            if meta.len() > idcgate_engine::zonefile::MAX_FILE_BYTES as u64 {
                bail!("{} is larger than a zone file may be", p.display());
            }
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            // octoDNS names a zone's file after the zone.
            let stem = p
                .file_stem()
                .and_then(|s| s.to_str())
                .filter(|s| s.contains('.'));
            ZoneFile::from_yaml(&text, stem).with_context(|| format!("{}", p.display()))
        })
        .collect()
}

fn state_text(s: &RecordState) -> String {
    let mut t = match s.priority {
        Some(p) => format!("{p} {}", s.value),
        None => s.value.clone(),
    };
    t.push_str(&format!(" ttl {}", s.ttl));
    if !s.enabled {
        t.push_str(" (paused)");
    }
    t
}

fn change_text(c: &Change) -> String {
    let name = if c.name.is_empty() { "@" } else { &c.name };
    let line = c
        .line
        .as_deref()
        .map(|l| format!(" [line {l}]"))
        .unwrap_or_default();
    let id =
        c.id.as_deref()
            .map(|i| format!(" #{i}"))
            .unwrap_or_default();
    match (c.op, &c.before, &c.after) {
        (ChangeOp::Create, _, Some(a)) => format!("  + {name} {}{line} {}", c.rtype, state_text(a)),
        (ChangeOp::Update, Some(b), Some(a)) => format!(
            "  ~ {name} {}{line}{id} {} -> {}",
            c.rtype,
            state_text(b),
            state_text(a)
        ),
        (ChangeOp::Delete, Some(b), _) => {
            format!("  - {name} {}{line}{id} {}", c.rtype, state_text(b))
        }
        _ => format!("  ? {name} {}", c.rtype),
    }
}

fn plans_text(plans: &[ZonePlan], safety: &Safety) -> String {
    let mut text = String::new();
    let mut total = 0;
    for p in plans {
        let (c, u, d) = (
            p.count(ChangeOp::Create),
            p.count(ChangeOp::Update),
            p.count(ChangeOp::Delete),
        );
        total += p.changes.len();
        if p.changes.is_empty() {
            text.push_str(&format!(
                "{} (account {}, {} records): no changes\n",
                p.zone, p.account, p.existing
            ));
        } else {
            text.push_str(&format!(
                "{} (account {}, {} records): {c} to create, {u} to update, {d} to delete\n",
                p.zone, p.account, p.existing
            ));
        }
        for ch in &p.changes {
            text.push_str(&change_text(ch));
            text.push('\n');
        }
        for s in &p.skipped {
            text.push_str(&format!("  (left alone: {s})\n"));
        }
        if let Some(why) = p.unsafe_reason(safety) {
            text.push_str(&format!("  needs --force: {why}\n"));
        }
    }
    let zones = if plans.len() == 1 { "zone" } else { "zones" };
    text.push_str(&format!("{total} changes in {} {zones}", plans.len()));
    text
}

pub async fn plan(out: &Out, engine: &Engine, args: PlanArgs) -> Result<()> {
    let files = read_files(&args.path)?;
    let plans = engine.dns_plan(&files).await?;
    let safety = args.safety.safety();
    out.message(&plans_json(&plans, &safety), &plans_text(&plans, &safety))
}

pub async fn apply(out: &Out, engine: &Engine, args: ApplyArgs) -> Result<()> {
    let files = read_files(&args.path)?;
    let safety = args.safety.safety();
    let plans = engine.dns_plan(&files).await?;
    let total: usize = plans.iter().map(|p| p.changes.len()).sum();
    if total == 0 {
        return out.message(
            &json!({"plans": plans_json(&plans, &safety), "applied": []}),
            &format!("{}\nnothing to do", plans_text(&plans, &safety)),
        );
    }
    if !out.json {
        println!("{}", plans_text(&plans, &safety));
    }
    let zones: Vec<&str> = plans
        .iter()
        .filter(|p| !p.changes.is_empty())
        .map(|p| p.zone.as_str())
        .collect();
    confirm(
        &format!("apply {total} DNS changes to {}", zones.join(", ")),
        "they are made upstream",
        args.yes,
    )?;
    // The engine plans again before it writes: what is carried out is what the zone
    // needs now, not what it needed when the question was asked.
    let (_, report) = engine
        .dns_apply(&actor(), &files, &safety, args.force)
        .await?;
    let summary: Vec<String> = report
        .zones
        .iter()
        .map(|z| {
            format!(
                "{} (account {}): {} created, {} updated, {} deleted",
                z.zone, z.account, z.created, z.updated, z.deleted
            )
        })
        .collect();
    match &report.failed {
        None => out.message(&report, &format!("applied\n{}", summary.join("\n"))),
        Some(f) => {
            let code = if f.unknown_outcome {
                EXIT_UNKNOWN_OUTCOME
            } else {
                EXIT_ERROR
            };
            let message = format!(
                "{}: {} failed: {}{}; nothing after it was sent",
                f.zone,
                change_text(&f.change).trim(),
                f.error,
                if f.unknown_outcome {
                    " (the answer was lost: `dns plan` reads the zone and shows whether it happened)"
                } else {
                    ""
                }
            );
            if out.json {
                let mut v = json!(report);
                v["error"] = json!(message);
                println!("{}", serde_json::to_string_pretty(&v)?);
                return Err(coded(code, message.clone()).context(Shown(message)));
            }
            println!("{}", summary.join("\n"));
            Err(coded(code, message))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        safety: SafetyArgs,
    }

    /// A share is a percentage, as REST holds it: 1000 would silently disable the check.
    #[test]
    fn a_share_beyond_100_percent_is_refused() {
        for flag in ["--max-update-percent", "--max-delete-percent"] {
            let e = Cmd::try_parse_from(["t", flag, "101"])
                .err()
                .map(|e| e.to_string());
            assert!(
                e.as_deref().is_some_and(|e| e.contains("0..=100")),
                "{flag}: {e:?}"
            );
            let ok = Cmd::try_parse_from(["t", flag, "100"]).map(|c| c.safety.safety());
            assert!(ok.is_ok(), "{flag}");
        }
    }
}
