//! Inventory and operations commands: sync, domains, hosting, databases, mail, certs,
//! expiring, balance, dns, servers, server, token.

use crate::commands::{actor, fmt_ms, read_secret, truncate};
use crate::output::Out;
use crate::{Command, DnsCmd, RecordArgs, ServerCmd, TokenCmd};
use anyhow::{anyhow, bail, Result};
use idcgate_core::{PowerAction, RecordInput, ResourceKind};
use idcgate_engine::ops::ServerOp;
use idcgate_engine::sync::{SyncProgress, SyncReport};
use idcgate_engine::Engine;
use idcgate_store::{ResourceFilter, ResourceRow, Scope};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub async fn dispatch(out: &Out, engine: &Arc<Engine>, cmd: Command) -> Result<()> {
    match cmd {
        Command::Sync => sync(out, engine).await,
        Command::Domains {
            expiring,
            vendor,
            search,
        } => {
            let mut filter = ResourceFilter {
                kind: Some(ResourceKind::Domain),
                search,
                ..Default::default()
            };
            if let Some(e) = expiring {
                filter.expires_before_ms =
                    Some(idcgate_engine::now_ms() + parse_days(&e)? * 86_400_000);
            }
            if let Some(v) = vendor {
                filter.accounts = Some(engine.accounts_of(v.parse()?).await?);
            }
            let rows = engine.store.list_resources(&filter).await?;
            out.table(
                &json_rows(&rows),
                &rows,
                &[
                    ("domain", |r| r.name.clone()),
                    ("account", |r| r.account.clone()),
                    ("status", |r| str_of(&r.data, "status")),
                    ("expires", expires),
                ],
            )
        }
        Command::Hosting(a) => {
            let rows = kind_rows(engine, ResourceKind::HostingSite, a).await?;
            out.table(
                &json_rows(&rows),
                &rows,
                &[
                    ("site", |r| format!("{}/{}", r.account, r.key)),
                    ("name", |r| r.name.clone()),
                    ("plan", |r| str_of(&r.data, "plan")),
                    ("status", |r| str_of(&r.data, "status")),
                    ("expires", expires),
                ],
            )
        }
        Command::Databases(a) => {
            let rows = kind_rows(engine, ResourceKind::Database, a).await?;
            out.table(
                &json_rows(&rows),
                &rows,
                &[
                    ("database", |r| format!("{}/{}", r.account, r.key)),
                    ("name", |r| r.name.clone()),
                    ("engine", |r| str_of(&r.data, "engine")),
                    ("status", |r| str_of(&r.data, "status")),
                    ("expires", expires),
                ],
            )
        }
        Command::Mail(a) => {
            let rows = kind_rows(engine, ResourceKind::MailDomain, a).await?;
            out.table(
                &json_rows(&rows),
                &rows,
                &[
                    ("mail", |r| format!("{}/{}", r.account, r.key)),
                    ("domain", |r| r.name.clone()),
                    ("status", |r| str_of(&r.data, "status")),
                    ("expires", expires),
                ],
            )
        }
        Command::Certs(a) => {
            let rows = kind_rows(engine, ResourceKind::Certificate, a).await?;
            out.table(
                &json_rows(&rows),
                &rows,
                &[
                    ("certificate", |r| format!("{}/{}", r.account, r.key)),
                    ("name", |r| r.name.clone()),
                    ("product", |r| str_of(&r.data, "product")),
                    ("status", |r| str_of(&r.data, "status")),
                    ("expires", expires),
                ],
            )
        }
        Command::Expiring { within } => {
            let horizon = idcgate_engine::now_ms() + parse_days(&within)? * 86_400_000;
            let rows = engine
                .store
                .list_resources(&ResourceFilter {
                    expires_before_ms: Some(horizon),
                    ..Default::default()
                })
                .await?;
            out.table(
                &json_rows(&rows),
                &rows,
                &[
                    ("expires", expires),
                    ("kind", |r| r.kind.as_str().to_string()),
                    ("name", |r| r.name.clone()),
                    ("account", |r| r.account.clone()),
                ],
            )
        }
        Command::Balance => {
            let b = engine.balances().await?;
            out.table(
                &b,
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
            out.table(
                &json_rows(&rows),
                &rows,
                &[
                    ("server", |r| format!("{}/{}", r.account, r.key)),
                    ("name", |r| r.name.clone()),
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
        Command::Server(s) => {
            let (reference, op) = match s {
                ServerCmd::Start { server } => (server, ServerOp::Power(PowerAction::Start)),
                ServerCmd::Stop { server, force } => (
                    server,
                    ServerOp::Power(if force {
                        PowerAction::ForceStop
                    } else {
                        PowerAction::Stop
                    }),
                ),
                ServerCmd::Reboot { server, force } => (
                    server,
                    ServerOp::Power(if force {
                        PowerAction::ForceReboot
                    } else {
                        PowerAction::Reboot
                    }),
                ),
                ServerCmd::Reinstall { server, image } => (server, ServerOp::Reinstall { image }),
                ServerCmd::Password { server } => (
                    server,
                    ServerOp::Password {
                        password: read_secret("new password")?,
                    },
                ),
            };
            let server = engine.server_op(&actor(), &reference, op).await?;
            out.message(
                &server,
                &format!("{}: {:?} / {:?}", reference, server.lifecycle, server.power),
            )
        }
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
        filter.expires_before_ms = Some(idcgate_engine::now_ms() + parse_days(&e)? * 86_400_000);
    }
    if let Some(v) = a.vendor {
        filter.accounts = Some(engine.accounts_of(v.parse()?).await?);
    }
    Ok(engine.store.list_resources(&filter).await?)
}

fn expires(r: &ResourceRow) -> String {
    r.expires_at_ms.map(fmt_ms).unwrap_or_default()
}

fn json_rows(rows: &[ResourceRow]) -> Vec<serde_json::Value> {
    rows.iter()
        .map(|r| json!({"account": r.account, "kind": r.kind.as_str(), "key": r.key, "name": r.name, "expires_at_ms": r.expires_at_ms, "data": r.data}))
        .collect()
}

/// `30d`, `2w`, `12` (days).
pub fn parse_days(s: &str) -> Result<i64> {
    let s = s.trim();
    let (num, mult) = if let Some(n) = s.strip_suffix('d') {
        (n, 1)
    } else if let Some(n) = s.strip_suffix('w') {
        (n, 7)
    } else {
        (s, 1)
    };
    let n: i64 = num
        .parse()
        .map_err(|_| anyhow!("period {s:?} is not like 30d or 2w"))?;
    if !(0..=36500).contains(&n) {
        bail!("period {s:?} is out of range");
    }
    Ok(n * mult)
}

struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl SyncProgress for Bars {
    fn account_started(&self, account: &str) {
        let pb = self.multi.add(ProgressBar::new_spinner());
        pb.set_style(
            ProgressStyle::with_template("{spinner} {prefix:20} {pos:>6} steps  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.set_prefix(account.to_string());
        pb.enable_steady_tick(std::time::Duration::from_millis(120));
        if let Ok(mut b) = self.bars.lock() {
            b.insert(account.to_string(), pb);
        }
    }
    fn step(&self, account: &str, what: &str) {
        if let Some(pb) = self.bars.lock().ok().and_then(|b| b.get(account).cloned()) {
            pb.inc(1);
            pb.set_message(what.to_string());
        }
    }
    fn account_finished(&self, r: &SyncReport) {
        if let Some(pb) = self
            .bars
            .lock()
            .ok()
            .and_then(|b| b.get(&r.account).cloned())
        {
            pb.finish_with_message(if r.failed.is_empty() {
                "done".to_string()
            } else {
                format!("{} failures", r.failed.len())
            });
        }
    }
}

async fn sync(out: &Out, engine: &Arc<Engine>) -> Result<()> {
    let progress: Arc<dyn SyncProgress> = if out.json {
        Arc::new(idcgate_engine::sync::NoProgress)
    } else {
        Arc::new(Bars {
            multi: MultiProgress::new(),
            bars: Mutex::new(HashMap::new()),
        })
    };
    let reports = engine.sync_all(progress).await?;
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
    out.table(
        &reports,
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
    let show_record = |r: &idcgate_core::DnsRecord| -> Result<()> {
        out.message(
            r,
            &format!(
                "{} {} {} {} (id {})",
                r.host,
                r.rtype,
                r.value,
                r.ttl,
                r.upstream_id.as_deref().unwrap_or("-")
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
        DnsCmd::Add { zone, record } => show_record(
            &engine
                .dns_add(&actor(), &zone, &record_input(record)?)
                .await?,
        ),
        DnsCmd::Set { zone, id, record } => show_record(
            &engine
                .dns_set(&actor(), &zone, &id, &record_input(record)?)
                .await?,
        ),
        DnsCmd::Rm { zone, id } => {
            engine.dns_remove(&actor(), &zone, &id).await?;
            out.message(
                &json!({"deleted": id}),
                &format!("deleted record {id} of {zone}"),
            )
        }
        DnsCmd::Enable { zone, id } => {
            engine.dns_enable(&actor(), &zone, &id, true).await?;
            out.message(
                &json!({"enabled": id}),
                &format!("enabled record {id} of {zone}"),
            )
        }
        DnsCmd::Disable { zone, id } => {
            engine.dns_enable(&actor(), &zone, &id, false).await?;
            out.message(
                &json!({"disabled": id}),
                &format!("disabled record {id} of {zone}"),
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
            let scope = Scope::parse(&scope)
                .ok_or_else(|| anyhow!("scope must be read, operate or admin"))?;
            let (info, token) = engine
                .store
                .create_token(&name, scope, idcgate_engine::now_ms())
                .await?;
            let ok: idcgate_engine::Result<()> = Ok(());
            engine
                .audit(&actor(), "token.create", &name, &ok, |_| {
                    format!("scope {}", scope.as_str())
                })
                .await;
            out.message(
                &json!({"id": info.id, "name": info.name, "scope": scope, "token": token}),
                &format!(
                    "token {name} ({}): {token}\nit is shown only once",
                    scope.as_str()
                ),
            )
        }
        TokenCmd::List => {
            let tokens = engine.store.list_tokens().await?;
            out.table(
                &tokens,
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
        TokenCmd::Revoke { id_or_name } => {
            let r = engine
                .store
                .revoke_token(&id_or_name)
                .await
                .map_err(idcgate_engine::EngineError::from);
            engine
                .audit(&actor(), "token.revoke", &id_or_name, &r, |r| {
                    format!("revoked: {r}")
                })
                .await;
            if !r? {
                bail!("no active token {id_or_name:?}");
            }
            out.message(
                &json!({"revoked": id_or_name}),
                &format!("token {id_or_name} revoked"),
            )
        }
    }
}
