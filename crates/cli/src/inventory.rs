//! Inventory and operations commands: sync, domains, hosting, databases, mail, certs,
//! expiring, balance, dns, servers, server, token.

use crate::commands::{actor, fmt_ms, read_secret, truncate};
use crate::output::{Column, Out};
use crate::safety::{coded, confirm, EXIT_NOT_FOUND};
use crate::{Command, DnsCmd, RecordArgs, ServerCmd, TokenCmd};
use anyhow::{anyhow, bail, Result};
use idcgate_core::{PowerAction, RecordInput, ResourceKind};
use idcgate_engine::ops::ServerOp;
use idcgate_engine::sync::{SyncProgress, SyncReport};
use idcgate_engine::{Engine, EngineError};
use idcgate_store::{ResourceFilter, ResourceRow, Scope};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub async fn dispatch(out: &Out, engine: &Arc<Engine>, cmd: Command) -> Result<()> {
    match cmd {
        Command::Sync => sync(out, engine).await,
        Command::Domains {
            expiring,
            vendor,
            search,
        } => {
            let a = crate::KindArgs {
                vendor,
                search,
                expiring,
            };
            let rows = kind_rows(engine, ResourceKind::Domain, a).await?;
            resources(
                out,
                &rows,
                &[
                    ("domain", name),
                    ("account", |r| r.account.clone()),
                    ("status", status),
                    ("expires", expires),
                    ("days left", days_left),
                ],
            )
        }
        Command::Hosting(a) => {
            let rows = kind_rows(engine, ResourceKind::HostingSite, a).await?;
            resources(
                out,
                &rows,
                &[
                    ("site", at),
                    ("name", name),
                    ("plan", |r| str_of(&r.data, "plan")),
                    ("status", status),
                    ("expires", expires),
                ],
            )
        }
        Command::Databases(a) => {
            let rows = kind_rows(engine, ResourceKind::Database, a).await?;
            resources(
                out,
                &rows,
                &[
                    ("database", at),
                    ("name", name),
                    ("engine", |r| str_of(&r.data, "engine")),
                    ("status", status),
                    ("expires", expires),
                ],
            )
        }
        Command::Mail(a) => {
            let rows = kind_rows(engine, ResourceKind::MailDomain, a).await?;
            resources(
                out,
                &rows,
                &[
                    ("mail", at),
                    ("domain", name),
                    ("status", status),
                    ("expires", expires),
                ],
            )
        }
        Command::Certs(a) => {
            let rows = kind_rows(engine, ResourceKind::Certificate, a).await?;
            resources(
                out,
                &rows,
                &[
                    ("certificate", at),
                    ("name", name),
                    ("product", |r| str_of(&r.data, "product")),
                    ("status", status),
                    ("expires", expires),
                ],
            )
        }
        Command::Expiring { within } => {
            let horizon = within.after(idcgate_engine::now_ms());
            let rows = engine
                .reads()
                .resources(&ResourceFilter {
                    expires_before_ms: Some(horizon),
                    ..Default::default()
                })
                .await?;
            resources(
                out,
                &rows,
                &[
                    ("expires", expires),
                    ("days left", days_left),
                    ("kind", |r| r.kind.as_str().to_string()),
                    ("name", name),
                    ("account", |r| r.account.clone()),
                ],
            )
        }
        Command::Balance => {
            let b = engine.balances().await?;
            out.list(
                &b,
                &[
                    ("account", |x| x.account.clone()),
                    ("vendor", |x| x.vendor.clone()),
                    ("available (CNY)", |x| {
                        x.balance
                            .as_ref()
                            .map(|b| b.available.to_string())
                            .unwrap_or_default()
                    }),
                    ("credit (CNY)", |x| {
                        x.balance
                            .as_ref()
                            .map(|b| b.credit.to_string())
                            .unwrap_or_default()
                    }),
                    ("note", |x| {
                        x.error
                            .as_ref()
                            .map(|e| format!("error: {e}"))
                            .or(x.note.clone())
                            .unwrap_or_default()
                    }),
                ],
            )
        }
        Command::Dns(d) => dns(out, engine, d).await,
        Command::Servers { state } => {
            let rows = engine
                .servers(ResourceFilter::default(), state.as_deref())
                .await?;
            resources(
                out,
                &rows,
                &[
                    ("server", at),
                    ("name", name),
                    ("state", |r| str_of(&r.data, "lifecycle")),
                    ("power", |r| str_of(&r.data, "power")),
                    ("ips", |r| {
                        r.data["ips"]
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .filter_map(|v| v.as_str())
                                    .collect::<Vec<_>>()
                                    .join(",")
                            })
                            .unwrap_or_default()
                    }),
                    ("size", |r| {
                        format!("{}c/{}MB", r.data["cpu"], r.data["ram_mb"])
                    }),
                    ("expires", expires),
                ],
            )
        }
        Command::Server(s) => server(out, engine, s).await,
        Command::Token(t) => token(out, engine, t).await,
        _ => Err(anyhow!("not an inventory command")),
    }
}

fn str_of(v: &serde_json::Value, key: &str) -> String {
    v[key].as_str().map(str::to_string).unwrap_or_default()
}

/// The inventory's resources of `kind` under a listing's filters.
async fn kind_rows(
    engine: &Engine,
    kind: ResourceKind,
    a: crate::KindArgs,
) -> Result<Vec<ResourceRow>> {
    let mut filter = ResourceFilter {
        kind: Some(kind),
        search: a.search,
        ..Default::default()
    };
    if let Some(e) = a.expiring {
        filter.expires_before_ms = Some(e.after(idcgate_engine::now_ms()));
    }
    if let Some(v) = a.vendor {
        filter.accounts = Some(engine.accounts_of(v.parse()?).await?);
    }
    Ok(engine.reads().resources(&filter).await?)
}

/// Resources as a table of `columns`, or with `--json` as [`json_rows`].
fn resources(out: &Out, rows: &[ResourceRow], columns: &[Column<ResourceRow>]) -> Result<()> {
    out.table(&json_rows(rows), rows, columns)
}

/// Where a resource is: `account/key`, as commands that act on one take it.
fn at(r: &ResourceRow) -> String {
    format!("{}/{}", r.account, r.key)
}

fn name(r: &ResourceRow) -> String {
    r.name.clone()
}

fn status(r: &ResourceRow) -> String {
    str_of(&r.data, "status")
}

fn expires(r: &ResourceRow) -> String {
    r.expires_at_ms.map(fmt_ms).unwrap_or_default()
}

/// Whole days until it expires, in the shown zone's calendar (negative once past).
fn days_left(r: &ResourceRow) -> String {
    r.expires_at_ms
        .map(|ms| crate::clock::days_left(ms, idcgate_engine::now_ms()).to_string())
        .unwrap_or_default()
}

/// Resources as JSON: `expires_at` (RFC 3339) is added beside `expires_at_ms` on output.
fn json_rows(rows: &[ResourceRow]) -> Vec<serde_json::Value> {
    let now = idcgate_engine::now_ms();
    rows.iter()
        .map(|r| json!({"account": r.account, "kind": r.kind.as_str(), "key": r.key, "name": r.name, "expires_at_ms": r.expires_at_ms,
                        "days_left": r.expires_at_ms.map(|ms| crate::clock::days_left(ms, now)), "data": r.data}))
        .collect()
}

/// Runs a server command on the server `reference` resolves to, named as `account/id`
/// in the question (stop, reinstall, password) and in what is printed after.
async fn server(out: &Out, engine: &Engine, cmd: ServerCmd) -> Result<()> {
    const STOPS: &str = "its services stop until it is started again";
    let (reference, action, yes, why) = match &cmd {
        ServerCmd::Start { server } => (server, "start", true, ""),
        ServerCmd::Stop { server, force, yes } => (
            server,
            if *force { "force-stop" } else { "stop" },
            *yes,
            STOPS,
        ),
        ServerCmd::Reboot { server, force } => (
            server,
            if *force { "force-reboot" } else { "reboot" },
            true,
            "",
        ),
        ServerCmd::Reinstall { yes, server, .. } => (
            server,
            "reinstall",
            *yes,
            "its disk is erased and everything on it lost",
        ),
        ServerCmd::Password { server, yes } => (
            server,
            "reset the password of",
            *yes,
            "the old password stops working",
        ),
    };
    let (account, id) = engine.server_account(reference).await?;
    let target = format!("{account}/{id}");
    let name = engine
        .reads()
        .resource(&account, ResourceKind::Server, &id)
        .await?
        .map(|r| r.name)
        .filter(|n| *n != id);
    let shown = match &name {
        Some(n) => format!("{target} ({n})"),
        None => target.clone(),
    };
    if !why.is_empty() {
        confirm(&format!("{action} server {shown}"), why, yes)?;
    }
    let op = match cmd {
        ServerCmd::Start { .. } => ServerOp::Power(PowerAction::Start),
        ServerCmd::Stop { force, .. } => ServerOp::Power(if force {
            PowerAction::ForceStop
        } else {
            PowerAction::Stop
        }),
        ServerCmd::Reboot { force, .. } => ServerOp::Power(if force {
            PowerAction::ForceReboot
        } else {
            PowerAction::Reboot
        }),
        ServerCmd::Reinstall { image, .. } => ServerOp::Reinstall { image },
        // Read after the question: at a terminal the answer comes first.
        ServerCmd::Password { .. } => ServerOp::Password {
            password: read_secret("new password")?,
        },
    };
    let server = engine.server_op(&actor(), &target, op).await?;
    let state = |v: serde_json::Value| v.as_str().unwrap_or("unknown").to_string();
    let lifecycle = state(json!(server.lifecycle));
    let power = state(json!(server.power));
    let mut value = serde_json::to_value(&server)?;
    value["target"] = json!(target);
    value["action"] = json!(action);
    out.message(
        &value,
        &format!("{action} server {shown}: done; now {lifecycle}, power {power}"),
    )
}

/// How long an account may go without progress before sync says what it waits for.
const PATIENCE: Duration = Duration::from_secs(3);
/// How often it says so again while the wait goes on (stderr not a terminal).
const REMIND_EVERY: Duration = Duration::from_secs(10);

/// One account's sync as shown: what it is doing and since when.
struct Running {
    bar: ProgressBar,
    doing: String,
    since: Instant,
    /// When sync last said it was waiting on this step (plain output).
    told: Option<Instant>,
}

/// Sync's progress: a bar per account and one of accounts done out of all, at a
/// terminal; plain lines on stderr otherwise. Either way a step with no answer for
/// [`PATIENCE`] is named with how long it has waited.
struct Bars {
    multi: MultiProgress,
    total: ProgressBar,
    /// No terminal: indicatif draws nothing, so lines are written instead.
    plain: bool,
    /// `--json`: no bars and no line per account, only what is waited for.
    quiet: bool,
    accounts: Mutex<HashMap<String, Running>>,
}

/// What sync is doing at a step the engine names.
fn doing(step: &str) -> String {
    match step {
        "balance" => "reading the balance".into(),
        "zones" => "listing DNS zones and their records".into(),
        "records" => "listing DNS records".into(),
        other => format!("listing {other}"),
    }
}

impl Bars {
    fn new(accounts: u64, quiet: bool) -> Bars {
        let multi = if quiet {
            MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden())
        } else {
            MultiProgress::new()
        };
        let total = multi.add(ProgressBar::new(accounts));
        total.set_style(
            ProgressStyle::with_template("{pos}/{len} accounts synced  {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        total.enable_steady_tick(Duration::from_millis(250));
        Bars {
            plain: multi.is_hidden(),
            quiet,
            multi,
            total,
            accounts: Mutex::new(HashMap::new()),
        }
    }

    /// Says which accounts have waited longer than [`PATIENCE`] and on what (called
    /// every half second while the sync runs).
    fn watch(&self) {
        let now = Instant::now();
        let mut lines = Vec::new();
        for (name, r) in idcgate_core::lock(&self.accounts).iter_mut() {
            if r.bar.is_finished() {
                continue;
            }
            let waited = now.duration_since(r.since);
            if waited < PATIENCE {
                continue;
            }
            let what = format!(
                "{}: waiting for the upstream, {} s so far",
                r.doing,
                waited.as_secs()
            );
            if self.plain {
                if r.told.is_none_or(|t| now.duration_since(t) >= REMIND_EVERY) {
                    r.told = Some(now);
                    lines.push(format!("sync: {name}: {what}"));
                }
            } else {
                r.bar.set_message(what);
            }
        }
        for l in lines {
            eprintln!("{l}");
        }
    }
}

impl SyncProgress for Bars {
    fn account_started(&self, account: &str) {
        let bar = self
            .multi
            .insert_before(&self.total, ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix:24} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(account.to_string());
        bar.set_message("connecting");
        bar.enable_steady_tick(Duration::from_millis(120));
        idcgate_core::lock(&self.accounts).insert(
            account.to_string(),
            Running {
                bar,
                doing: "connecting".into(),
                since: Instant::now(),
                told: None,
            },
        );
    }

    fn step(&self, account: &str, what: &str) {
        if let Some(r) = idcgate_core::lock(&self.accounts).get_mut(account) {
            r.doing = doing(what);
            r.since = Instant::now();
            r.told = None;
            r.bar.set_message(r.doing.clone());
        }
    }

    fn account_finished(&self, r: &SyncReport) {
        let summary = if r.failed.is_empty() {
            format!("done: +{} ~{} -{}", r.added, r.changed, r.gone)
        } else {
            format!("{} listing(s) failed", r.failed.len())
        };
        if let Some(run) = idcgate_core::lock(&self.accounts).get(&r.account) {
            run.bar.finish_with_message(summary.clone());
        }
        self.total.inc(1);
        if self.plain && !self.quiet {
            let len = self.total.length().unwrap_or(0);
            eprintln!(
                "sync: {}/{len} accounts ({}: {summary})",
                self.total.position(),
                r.account
            );
        }
    }
}

async fn sync(out: &Out, engine: &Arc<Engine>) -> Result<()> {
    let accounts = engine.accounts().await?.len() as u64;
    let bars = Arc::new(Bars::new(accounts, out.json));
    // Log lines go above the bars while they are drawn.
    crate::output::logs_above((!bars.plain).then(|| bars.multi.clone()));
    let watcher = {
        let b = bars.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                b.watch();
            }
        })
    };
    let reports = engine.sync_all(bars.clone()).await;
    watcher.abort();
    bars.total.finish();
    crate::output::logs_above(None);
    let reports = reports?;
    engine.audit_sync(&actor(), &reports).await;
    let failed = reports.iter().any(|r| !r.failed.is_empty());
    let partial = "some listings failed (see the failed column); everything else was synced";
    if failed && out.json {
        // One document: what was synced and what failed, as an error (exit non-zero).
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "error": partial, "items": reports }))?
        );
        return Err(crate::output::Shown(partial.to_string()).into());
    }
    out.list(
        &reports,
        &[
            ("account", |r| r.account.clone()),
            ("vendor", |r| r.vendor.clone()),
            ("added", |r| r.added.to_string()),
            ("changed", |r| r.changed.to_string()),
            ("gone", |r| r.gone.to_string()),
            ("unchanged", |r| r.unchanged.to_string()),
            ("failed", |r| truncate(&r.failed.join("; "), 100)),
        ],
    )?;
    if failed {
        bail!("{partial}");
    }
    Ok(())
}

fn record_input(r: RecordArgs) -> Result<RecordInput> {
    Ok(RecordInput {
        host: r.host,
        rtype: r.rtype.parse()?,
        value: r.value,
        ttl: r.ttl,
        line: r.line,
        priority: r.priority,
    })
}

async fn dns(out: &Out, engine: &Engine, cmd: DnsCmd) -> Result<()> {
    let show_record = |verb: &str, account: &str, r: &idcgate_core::DnsRecord| -> Result<()> {
        let mut value = serde_json::to_value(r)?;
        value["account"] = json!(account);
        out.message(
            &value,
            &format!(
                "{verb} {account}/{}/{}: {} {} {} ttl {}",
                r.zone,
                r.upstream_id.as_deref().unwrap_or("-"),
                r.host,
                r.rtype,
                r.value,
                r.ttl,
            ),
        )
    };
    match cmd {
        DnsCmd::List { zone } => {
            let records = engine.dns_list(&zone).await?;
            // The line as the table shows it: a record on the default line says so
            // rather than `null`.
            let value: Vec<serde_json::Value> = records
                .iter()
                .map(|r| {
                    let mut v = serde_json::to_value(r)?;
                    v["line"] = json!(line_of(r));
                    Ok(v)
                })
                .collect::<Result<_>>()?;
            out.table(
                &value,
                &records,
                &[
                    ("id", |r| r.upstream_id.clone().unwrap_or_default()),
                    ("host", |r| r.host.clone()),
                    ("type", |r| r.rtype.to_string()),
                    ("value", |r| r.value.clone()),
                    ("ttl", |r| r.ttl.to_string()),
                    ("line", line_of),
                    ("prio", |r| {
                        r.priority.map(|p| p.to_string()).unwrap_or_default()
                    }),
                    ("enabled", |r| if r.enabled { "yes" } else { "no" }.into()),
                ],
            )
        }
        DnsCmd::Add { zone, record } => {
            let account = engine.zone_account(&zone).await?;
            let r = engine
                .dns_add(&actor(), &zone, &record_input(record)?)
                .await?;
            show_record("added", &account, &r)
        }
        DnsCmd::Set { zone, id, record } => {
            let account = engine.zone_account(&zone).await?;
            let r = engine
                .dns_set(&actor(), &zone, &id, &record_input(record)?)
                .await?;
            show_record("changed", &account, &r)
        }
        DnsCmd::Rm { zone, id, yes } => {
            let zone = idcgate_engine::ops::normalize_zone(&zone)?;
            let account = engine.zone_account(&zone).await?;
            let target = format!("{account}/{zone}/{id}");
            // What the inventory last saw of it, so the question says which record.
            let known = engine
                .reads()
                .live_resource(&account, ResourceKind::DnsRecord, &format!("{zone}/{id}"))
                .await?
                .map(|r| {
                    format!(
                        " ({} {} {})",
                        str_of(&r.data, "host"),
                        str_of(&r.data, "rtype"),
                        str_of(&r.data, "value")
                    )
                })
                .unwrap_or_default();
            confirm(
                &format!("delete DNS record {target}{known}"),
                "it is deleted upstream",
                yes,
            )?;
            match engine.dns_remove(&actor(), &zone, &id).await {
                Ok(()) => out.message(
                    &json!({"deleted": id, "zone": zone, "account": account, "target": target}),
                    &format!("deleted DNS record {target}{known}"),
                ),
                Err(EngineError::Upstream(idcgate_core::Error::NotFound { .. })) => Err(coded(
                    EXIT_NOT_FOUND,
                    format!("DNS record {target} is already gone: {zone} at {account} lists no record {id}; nothing was deleted"),
                )),
                Err(e) => Err(e.into()),
            }
        }
        DnsCmd::Enable { zone, id } => {
            let account = engine.zone_account(&zone).await?;
            engine.dns_enable(&actor(), &zone, &id, true).await?;
            out.message(
                &json!({"enabled": id, "account": account}),
                &format!("enabled DNS record {account}/{zone}/{id}"),
            )
        }
        DnsCmd::Export(args) => crate::dns_code::export(out, engine, args).await,
        DnsCmd::Plan(args) => crate::dns_code::plan(out, engine, args).await,
        DnsCmd::Apply(args) => crate::dns_code::apply(out, engine, args).await,
        DnsCmd::Migrate(args) => crate::dns_migrate::run(out, engine, args).await,
        DnsCmd::Disable { zone, id } => {
            let account = engine.zone_account(&zone).await?;
            engine.dns_enable(&actor(), &zone, &id, false).await?;
            out.message(
                &json!({"disabled": id, "account": account}),
                &format!("disabled DNS record {account}/{zone}/{id}"),
            )
        }
    }
}

/// A record's resolution line, `default` when it has none of its own.
fn line_of(r: &idcgate_core::DnsRecord) -> String {
    r.line
        .clone()
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| "default".into())
}

async fn token(out: &Out, engine: &Engine, cmd: TokenCmd) -> Result<()> {
    match cmd {
        TokenCmd::Create { name, scope } => {
            let scope = Scope::from_word(&scope)
                .ok_or_else(|| anyhow!("scope must be read, operate or admin"))?;
            let (info, token) = engine.create_token(&actor(), &name, scope).await?;
            out.message(
                &json!({"id": info.id, "name": info.name, "scope": scope, "token": token}),
                &format!(
                    "token {name} ({}): {token}\nit is shown only once",
                    scope.as_str()
                ),
            )
        }
        TokenCmd::List => {
            let tokens = engine.reads().tokens().await?;
            out.list(
                &tokens,
                &[
                    ("id", |t| t.id.clone()),
                    ("name", |t| t.name.clone()),
                    ("scope", |t| t.scope.as_str().into()),
                    ("created", |t| fmt_ms(t.created_at_ms)),
                    ("state", |t| {
                        if t.revoked { "revoked" } else { "active" }.into()
                    }),
                ],
            )
        }
        TokenCmd::Revoke { id_or_name, yes } => {
            let named = |tokens: &[idcgate_store::TokenInfo]| {
                tokens
                    .iter()
                    .map(|t| format!("{} ({}, {})", t.id, t.name, t.scope.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            // Nothing to ask about when nothing matches: the engine reports (and
            // audits) it as not found.
            let matching = engine.active_tokens(&id_or_name).await?;
            if !matching.is_empty() {
                confirm(
                    &format!("revoke token {}", named(&matching)),
                    "whatever uses it is refused from a second later",
                    yes,
                )?;
            }
            let revoked = engine.revoke_token(&actor(), &id_or_name).await?;
            out.message(
                &json!({"revoked": revoked}),
                &format!("revoked token {}", named(&revoked)),
            )
        }
    }
}
