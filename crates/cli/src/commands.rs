//! Command implementations. Each is a thin shell over the engine.

use crate::config::Settings;
use crate::output::Out;
use crate::{AccountCmd, Cli, Command};
use anyhow::{anyhow, bail, Context, Result};
use idcgate_core::spec::ActionKind;
use idcgate_core::{Credentials, UpstreamAccount, Vendor};
use idcgate_engine::Engine;
use idcgate_store::{MasterKey, SqlStore};
use idcgate_wire::{SimServer, WireConfig};
use serde_json::json;
use std::sync::Arc;

pub async fn dispatch(cli: Cli, settings: Settings) -> Result<()> {
    let out = Out {
        json: cli.global.json,
    };
    match cli.command {
        Command::Actions { vendor, format } => actions(&out, vendor.as_deref(), &format),
        Command::Vendors { cmd } => crate::onboard::vendors(&out, cmd),
        // Answered in `main` before any configuration is read.
        Command::Completions { .. } | Command::Man { .. } => Ok(()),
        Command::Serve {
            sandbox,
            console_2fa,
            secure_cookies,
            api_auth_failures,
            ..
        } => {
            let console = idcgate_console::ConsoleConfig {
                secure_cookies,
                require_totp: console_2fa
                    .iter()
                    .filter(|r| !r.trim().is_empty())
                    .map(|r| crate::operators::parse_role(r.trim()))
                    .collect::<Result<_>>()?,
                ..Default::default()
            };
            let engine = open_engine(&settings).await?;
            serve(engine, &settings, sandbox, console, api_auth_failures).await
        }
        Command::Notify(cmd) => {
            let engine = open_engine(&settings).await?;
            crate::notify::dispatch(&out, &engine, &settings.notify, &settings.contact, cmd).await
        }
        Command::User(cmd) => {
            let engine = open_engine(&settings).await?;
            crate::operators::dispatch(&out, &engine, cmd).await
        }
        Command::Sandbox { no_register } => {
            let engine = open_engine(&settings).await?;
            let sims = start_sandbox(&engine, settings.sandbox_port, !no_register).await?;
            print_sandbox(&out, &sims)?;
            eprintln!("simulators running; press Ctrl-C to stop");
            shutdown_signal().await;
            Ok(())
        }
        Command::Account(cmd) => {
            let engine = open_engine(&settings).await?;
            account(&out, &engine, cmd).await
        }
        Command::Call {
            vendor,
            action,
            params,
            account,
            yes,
        } => {
            let engine = open_engine(&settings).await?;
            call(&engine, &vendor, &action, &params, account.as_deref(), yes).await
        }
        Command::Sync
        | Command::Domains { .. }
        | Command::Expiring { .. }
        | Command::Hosting(_)
        | Command::Databases(_)
        | Command::Mail(_)
        | Command::Certs(_)
        | Command::Balance
        | Command::Dns(_)
        | Command::Servers { .. }
        | Command::Server(_)
        | Command::Token(_) => {
            let engine = open_engine(&settings).await?;
            crate::inventory::dispatch(&out, &engine, cli.command).await
        }
        Command::Order(cmd) => {
            let engine = open_engine(&settings).await?;
            crate::orders::order(&out, &engine, cmd).await
        }
        Command::Statement { account, since } => {
            let engine = open_engine(&settings).await?;
            crate::orders::statement(&out, &engine, &account, since.as_deref()).await
        }
        Command::Renew(args) => {
            let engine = open_engine(&settings).await?;
            crate::renewals::renew(&out, &engine, args).await
        }
        Command::Spend { by } => {
            let engine = open_engine(&settings).await?;
            crate::orders::spend(&out, &engine, &by).await
        }
        Command::Ledger(args) => {
            let engine = open_engine(&settings).await?;
            crate::orders::ledger(&out, &engine, args).await
        }
        Command::Tenant(cmd) => {
            let engine = open_engine(&settings).await?;
            crate::resale::tenant(&out, &engine, cmd).await
        }
        Command::Product(cmd) => {
            let engine = open_engine(&settings).await?;
            crate::resale::product(&out, &engine, cmd).await
        }
        Command::Audit { limit } => {
            let engine = open_engine(&settings).await?;
            let entries = engine.audit_trail(limit).await?;
            // The table's detail column is cut to fit; --json has it whole.
            out.list(
                &entries,
                &[
                    ("id", |e| e.id.to_string()),
                    ("at", |e| fmt_ms(e.at_ms)),
                    ("actor", |e| e.actor.clone()),
                    ("action", |e| e.action.clone()),
                    ("target", |e| e.target.clone()),
                    ("outcome", |e| e.outcome.clone()),
                    ("detail", |e| truncate(&e.detail, 80)),
                ],
            )
        }
    }
}

/// Who is running this command, for the audit log and the order journal: the login
/// name from the environment, else the name the system gives the process's user id
/// (cron and systemd units often have no `USER`), else that id. Never "unknown".
pub fn actor() -> String {
    let from_env = ["USER", "LOGNAME"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|n| !n.trim().is_empty());
    let name = from_env.unwrap_or_else(|| {
        let uid = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Uid:"))
                    .and_then(|ids| ids.split_whitespace().next().map(str::to_string))
            });
        match uid {
            Some(uid) => user_named(&uid).unwrap_or(format!("uid-{uid}")),
            // No /proc (not Linux): the process's user cannot be told apart.
            None => "uid-unreadable".into(),
        }
    });
    format!("cli:{name}")
}

/// The account name for a numeric user id in /etc/passwd.
fn user_named(uid: &str) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let mut fields = l.split(':');
        let name = fields.next()?;
        (fields.nth(1)? == uid).then(|| name.to_string())
    })
}

pub use crate::clock::fmt_ms;

pub fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// Opens the store named by the settings and unlocks it with the master key. A fresh
/// database gets a new key file; an existing one refuses any other key.
pub async fn open_store(settings: &Settings) -> Result<SqlStore> {
    if settings.database_url.starts_with("sqlite:") {
        // Created for its owner alone: it holds the database and the master key.
        let mut dir = std::fs::DirBuilder::new();
        dir.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut dir, 0o700);
        dir.create(&settings.data_dir).with_context(|| {
            format!(
                "cannot create data directory {}",
                settings.data_dir.display()
            )
        })?;
    }
    let mut store = SqlStore::open(&settings.database_url).await?;
    let has_key = store.has_master_key().await?;
    let env_key = std::env::var("IDCGATE_MASTER_KEY").ok();
    let key = MasterKey::load(
        env_key.as_deref(),
        &settings.data_dir.join("master.key"),
        !has_key,
    )?;
    store.unlock(&key).await?;
    Ok(store)
}

pub async fn open_engine(settings: &Settings) -> Result<Arc<Engine>> {
    let store = open_store(settings).await?;
    let mut wire = WireConfig::new(&settings.contact);
    wire.timeout = std::time::Duration::from_secs(settings.timeout_secs);
    Ok(Arc::new(Engine::new(
        Arc::new(store),
        idcgate::vendors::registry(),
        wire,
    )))
}

fn actions(out: &Out, vendor: Option<&str>, format: &str) -> Result<()> {
    let filter: Option<Vendor> = vendor.map(str::parse).transpose()?;
    let registry = idcgate::vendors::registry();
    let mut rows = Vec::new();
    for entry in registry.entries() {
        if filter.is_some_and(|v| v != entry.vendor) {
            continue;
        }
        for a in (entry.spec)().implemented() {
            let params = a
                .params
                .iter()
                .map(|p| format!("{}{}", p.name, if p.required { "*" } else { "" }))
                .collect::<Vec<_>>()
                .join(",");
            let kind = match a.kind {
                ActionKind::Read => "read",
                ActionKind::Write => "write",
            };
            rows.push(vec![
                a.id.clone(),
                entry.vendor.to_string(),
                kind.to_string(),
                a.method.clone(),
                a.path.clone(),
                a.action.clone(),
                params,
            ]);
        }
    }
    let headers = ["id", "vendor", "kind", "method", "path", "action", "params"];
    match format {
        "tsv" => {
            println!("{}", headers.join("\t"));
            for r in rows {
                println!("{}", r.join("\t"));
            }
            Ok(())
        }
        "json" => {
            let v: Vec<_> = rows
                .iter()
                .map(|r| {
                    headers
                        .iter()
                        .zip(r)
                        .map(|(h, c)| (h.to_string(), json!(c)))
                        .collect::<serde_json::Map<_, _>>()
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(())
        }
        "table" if out.json => actions(&Out { json: false }, vendor, "json"),
        "table" => out.show(&rows, &headers, rows.clone()),
        other => bail!("unknown format {other:?} (expected table, tsv or json)"),
    }
}

async fn account(out: &Out, engine: &Engine, cmd: AccountCmd) -> Result<()> {
    match cmd {
        cmd @ AccountCmd::Add { .. } => crate::onboard::account_add(out, engine, cmd).await,
        cmd @ AccountCmd::Update { .. } => crate::onboard::account_update(out, engine, cmd).await,
        AccountCmd::List => {
            let accounts = engine.accounts().await?;
            let value: Vec<_> = accounts
                .iter()
                .map(|a| {
                    json!({"name": a.name, "vendor": a.vendor, "base_url": a.base_url,
                           "credentials": a.credentials.keys().collect::<Vec<_>>(), "rate_limit": a.rate_limit_per_sec})
                })
                .collect();
            out.table(
                &value,
                &accounts,
                &[
                    ("name", |a| a.name.clone()),
                    ("vendor", |a| a.vendor.to_string()),
                    ("base url", |a| a.base_url.clone()),
                    ("credentials", |a| {
                        a.credentials.keys().collect::<Vec<_>>().join(",")
                    }),
                    ("req/s", |a| a.rate_limit_per_sec.to_string()),
                ],
            )
        }
        AccountCmd::Remove { name, yes } => {
            // Asked only of an account that is there; an unknown one is audited and
            // reported as not found.
            if let Ok(a) = engine.account(&name).await {
                let owned = engine
                    .reads()
                    .resources(&idcgate_store::ResourceFilter {
                        account: Some(name.clone()),
                        ..Default::default()
                    })
                    .await?
                    .len();
                crate::safety::confirm(
                    &format!(
                        "remove account {name} ({}, {} resources in the inventory)",
                        a.vendor, owned
                    ),
                    "its credentials are deleted and its resources marked gone",
                    yes,
                )?;
            }
            if !engine.remove_account(&actor(), &name).await? {
                return Err(crate::safety::coded(
                    crate::safety::EXIT_NOT_FOUND,
                    format!("no account named {name:?} (see `idcgate account list`)"),
                ));
            }
            out.message(
                &json!({"removed": name}),
                &format!("account {name} removed; its resources are marked gone in the inventory"),
            )
        }
        AccountCmd::Test { name } => {
            let msg = engine.test_account(&name).await?;
            out.message(
                &json!({"account": name, "result": msg}),
                &format!("{name}: {msg}"),
            )
        }
    }
}

/// Reads one secret line from standard input; at a terminal the typing is not echoed.
pub fn read_secret(key: &str) -> Result<String> {
    use std::io::IsTerminal;
    let terminal = std::io::stdin().is_terminal();
    eprint!("{key}: ");
    let set_echo = |on: bool| {
        // stty acts on the terminal it inherits as standard input.
        let _ = std::process::Command::new("stty")
            .arg(if on { "echo" } else { "-echo" })
            .stdin(std::process::Stdio::inherit())
            .status();
    };
    if terminal {
        set_echo(false);
    }
    let mut line = String::new();
    let read = std::io::stdin().read_line(&mut line);
    if terminal {
        set_echo(true);
        eprintln!();
    }
    read.with_context(|| format!("cannot read {key} from standard input"))?;
    let v = line.trim_end_matches(['\r', '\n']).to_string();
    if v.is_empty() {
        bail!("empty value for {key}");
    }
    Ok(v)
}

async fn pick_account(engine: &Engine, vendor: Vendor, explicit: Option<&str>) -> Result<String> {
    if let Some(a) = explicit {
        let acct = engine.account(a).await?;
        if acct.vendor != vendor {
            bail!("account {a} is a {} account, not {vendor}", acct.vendor);
        }
        return Ok(a.to_string());
    }
    let all: Vec<_> = engine
        .accounts()
        .await?
        .into_iter()
        .filter(|a| a.vendor == vendor)
        .collect();
    match all.as_slice() {
        [] => bail!(
            "no {vendor} account; add one with `idcgate account add` or run `idcgate sandbox`"
        ),
        [one] => Ok(one.name.clone()),
        many => bail!(
            "several {vendor} accounts ({}); choose one with --account",
            many.iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

async fn call(
    engine: &Engine,
    vendor: &str,
    action: &str,
    params: &[String],
    account: Option<&str>,
    yes: bool,
) -> Result<()> {
    let vendor: Vendor = vendor.parse()?;
    let entry = engine.registry.get(vendor)?;
    let spec = (entry.spec)().require(action)?;
    let mut pairs = Vec::new();
    for p in params {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| anyhow!("parameter {p:?} is not key=value"))?;
        pairs.push((k.to_string(), v.to_string()));
    }
    let name = pick_account(engine, vendor, account).await?;
    if spec.kind == ActionKind::Write {
        crate::safety::confirm(
            &format!("call {} at {name}", spec.id),
            "a write action: it may change, delete or buy something upstream",
            yes,
        )?;
    }
    let value = engine.call_action(&actor(), &name, spec, &pairs).await?;
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(())
}

/// A running simulator and the credentials of its sandbox account.
pub struct SandboxSim {
    pub server: SimServer,
    pub credentials: Vec<(String, String)>,
}

/// Starts every registered simulator on consecutive ports from `first_port` and, if
/// `register`, stores its sandbox account as `sandbox-<vendor>`.
pub async fn start_sandbox(
    engine: &Engine,
    first_port: u16,
    register: bool,
) -> Result<Vec<SandboxSim>> {
    let mut sims = Vec::new();
    for (i, entry) in engine.registry.entries().iter().enumerate() {
        let port = u16::try_from(i)
            .ok()
            .and_then(|i| first_port.checked_add(i))
            .ok_or_else(|| anyhow!("sandbox port range overflows"))?;
        let sim = (entry.sandbox)();
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let server = idcgate_wire::sim::serve(sim.as_ref(), addr)
            .await
            .with_context(|| {
                format!(
                    "cannot start the {} simulator on {addr} (port busy? use --sandbox-port)",
                    entry.vendor
                )
            })?;
        let credentials = sim.sandbox_credentials();
        if register {
            let name = format!("sandbox-{}", entry.vendor);
            let mut creds = Credentials::new();
            for (k, v) in &credentials {
                creds.insert(k, v);
            }
            engine
                .put_sandbox_account(&UpstreamAccount {
                    name,
                    vendor: entry.vendor,
                    base_url: server.base_url(),
                    credentials: creds,
                    rate_limit_per_sec: 50,
                })
                .await?;
        }
        sims.push(SandboxSim {
            server,
            credentials,
        });
    }
    Ok(sims)
}

fn print_sandbox(out: &Out, sims: &[SandboxSim]) -> Result<()> {
    let mut rows = Vec::new();
    let mut value = Vec::new();
    for SandboxSim {
        server: s,
        credentials,
    } in sims
    {
        let shown = credentials
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ");
        let account = format!("sandbox-{}", s.vendor);
        rows.push(vec![
            s.vendor.to_string(),
            s.base_url(),
            account.clone(),
            shown,
        ]);
        value.push(json!({"vendor": s.vendor, "base_url": s.base_url(), "account": account,
                          "credentials": credentials.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>()}));
    }
    out.show(
        &value,
        &["vendor", "base url", "account", "sandbox credentials"],
        rows,
    )
}

async fn serve(
    engine: Arc<Engine>,
    settings: &Settings,
    sandbox: bool,
    console: idcgate_console::ConsoleConfig,
    api_auth_failures: u32,
) -> Result<()> {
    if settings.contact == crate::config::UNSET_CONTACT {
        tracing::warn!("no contact configured: upstreams such as DNSPod ask every client to name its operator in the User-Agent; set `contact` in idcgate.toml or IDCGATE_CONTACT");
    }
    let sims = if sandbox {
        start_sandbox(&engine, settings.sandbox_port, true).await?
    } else {
        Vec::new()
    };
    for SandboxSim { server: s, .. } in &sims {
        eprintln!(
            "sandbox {} simulator at {} (account sandbox-{})",
            s.vendor,
            s.base_url(),
            s.vendor
        );
    }
    let sandbox_login = if sandbox {
        crate::resale::seed_sandbox(&engine).await;
        Some(crate::operators::sandbox_admin(&engine).await?)
    } else {
        None
    };
    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    eprintln!("idcgate listening on http://{addr} (console: /, health: /healthz, API: /api/v1, OpenAPI: /api/v1/openapi.json, downstream resellers: POST /api/same/index)");
    match sandbox_login {
        Some((name, password)) => eprintln!(
            "console login: http://{addr}/ as {name} with password {password} (new at every sandbox start)"
        ),
        None => {
            if engine.operators().list().await?.is_empty() {
                eprintln!("no console operator yet: add one with `idcgate user add NAME --role admin`");
            }
        }
    }
    let notify = crate::notify::settings(&settings.notify, &settings.contact)
        .context("[notify] in idcgate.toml")?;
    if notify.channels.is_empty() {
        tracing::info!("notifications: no channel configured ([notify] in idcgate.toml)");
    } else {
        let names: Vec<String> = notify
            .channels
            .iter()
            .map(|c| format!("{} {}", c.kind(), c.name()))
            .collect();
        tracing::info!(channels = %names.join(", "), "notifications on");
    }
    for (account, _) in &notify.low_balance {
        if !engine.has_account(account).await? {
            tracing::warn!(account = %account, "[[notify.low_balance]] names no account: nothing to watch");
        }
    }
    engine.set_notify(notify);
    let (notify_every, prices_every) = crate::notify::intervals(&settings.notify);
    let schedule = idcgate_engine::jobs::Schedule {
        sync_every: std::time::Duration::from_secs(settings.sync_interval_secs),
        notify_every,
        prices_every,
        ..Default::default()
    };
    let owner_name = format!("{}:{}", hostname(), std::process::id());
    let scheduler = tokio::spawn(idcgate_engine::jobs::run_scheduler(
        engine.clone(),
        owner_name.clone(),
        schedule,
    ));
    let mut state = idcgate::vendors::server_state(engine.clone());
    state.auth_failure_limit = api_auth_failures;
    let app = idcgate_server::router_with(state, idcgate_console::router(engine.clone(), console));
    idcgate_server::serve_app(app, listener, shutdown_signal()).await?;
    // Requests in flight have been answered; a scheduled job in flight is abandoned (its
    // writes go through the journal and the reconciler) and its lease given back, so
    // another instance runs it now instead of in half an hour.
    scheduler.abort();
    match engine.release_jobs(&owner_name).await {
        Ok(n) => tracing::info!(released = n, "job leases released; stopped"),
        Err(e) => tracing::error!(error = %e, "could not release job leases; stopped"),
    }
    drop(sims);
    Ok(())
}

/// Waits for SIGINT or SIGTERM (what `kill` and systemd send) and says which arrived.
async fn shutdown_signal() {
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::pin!(term);
    let got = tokio::select! {
        r = tokio::signal::ctrl_c() => r.is_ok().then_some("SIGINT"),
        () = &mut term => Some("SIGTERM"),
    };
    let signal = match got {
        Some(s) => s,
        // No handler for Ctrl-C: only SIGTERM (or a kill) ends the server.
        None => {
            term.await;
            "SIGTERM"
        }
    };
    tracing::warn!(
        signal,
        "shutting down: no new connections, finishing requests in flight"
    );
    eprintln!("idcgate: {signal} received, shutting down");
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "idcgate".into())
}

#[cfg(test)]
mod actor_tests {
    #[test]
    fn a_user_id_is_named_from_the_password_file() {
        assert_eq!(super::user_named("0").as_deref(), Some("root"));
        assert_eq!(super::user_named("4294967294x"), None);
        assert!(!super::actor().ends_with("unknown"));
    }
}
