//! `idcgate`: the command-line surface and the process that runs the server.
//!
//! Owns: argument parsing, configuration precedence, logging set-up, human/JSON output,
//! and wiring the vendor crates into the engine (`vendors.rs`).
//!
//! Must not know: vendor wire formats (it only lists vendor crates in the registry),
//! SQL, or the REST surface's shapes.

mod clock;
mod commands;
mod config;
mod dns_code;
mod dns_migrate;
mod inventory;
mod notify;
mod onboard;
mod operators;
mod orders;
mod output;
mod renewals;
mod resale;
mod safety;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// `0.1.0 (abc1234)`: the commit a bug report's binary was built from (build.rs).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("IDCGATE_GIT_COMMIT"),
    ")"
);

#[derive(Parser)]
#[command(
    name = "idcgate",
    version = VERSION,
    about = "One control plane for West.cn, CNDNS, DNSPod, Zonkvm and XenSystem",
    after_help = safety::EXIT_CODES_HELP
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Settings every command takes. Each can also come from its environment variable, read
/// by [`Global::fill_from_env`] rather than by clap: clap counts a value from the
/// environment as typed, and an error's usage line then shows `--data-dir <DATA_DIR>`
/// as though it were required.
#[derive(Args, Clone)]
pub struct Global {
    /// Config file (default: the first of ./idcgate.toml, $XDG_CONFIG_HOME/idcgate/idcgate.toml
    /// or ~/.config/idcgate/idcgate.toml, and /etc/idcgate/idcgate.toml that exists)
    /// [env: IDCGATE_CONFIG]
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Where the SQLite database and the master key file live [env: IDCGATE_DATA_DIR]
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// sqlite:///path/file.db or postgres://user@host/db (default: SQLite in the data dir)
    /// [env: IDCGATE_DATABASE_URL]
    #[arg(long, global = true)]
    pub database_url: Option<String>,
    /// Your contact address, sent in the User-Agent as upstreams ask [env: IDCGATE_CONTACT]
    #[arg(long, global = true)]
    pub contact: Option<String>,
    /// Log filter, e.g. info, debug, idcgate_wire=trace [env: IDCGATE_LOG]
    #[arg(long, global = true)]
    pub log: Option<String>,
    /// First port of the sandbox simulators (one port per vendor from here)
    /// [env: IDCGATE_SANDBOX_PORT]
    #[arg(long, global = true)]
    pub sandbox_port: Option<u16>,
    /// Seconds to wait for an upstream's answer (default 30). A purchase whose answer
    /// does not come in time is an unknown outcome, settled by `order reconcile`
    /// [env: IDCGATE_TIMEOUT]
    #[arg(long, global = true, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// The zone times are shown in: china (UTC+8, as upstreams date; default), local or
    /// utc [env: IDCGATE_TZ]
    #[arg(long, global = true, value_enum)]
    pub tz: Option<clock::Tz>,
}

impl Global {
    /// What a flag left unset, from its environment variable (an empty one is unset).
    fn fill_from_env(&mut self) -> Result<()> {
        fn os(name: &str) -> Option<std::ffi::OsString> {
            std::env::var_os(name).filter(|v| !v.is_empty())
        }
        fn text(name: &str) -> Result<Option<String>> {
            os(name)
                .map(|v| {
                    v.into_string()
                        .map_err(|_| anyhow::anyhow!("{name} is not valid UTF-8"))
                })
                .transpose()
        }
        self.config = self
            .config
            .take()
            .or_else(|| os("IDCGATE_CONFIG").map(PathBuf::from));
        self.data_dir = self
            .data_dir
            .take()
            .or_else(|| os("IDCGATE_DATA_DIR").map(PathBuf::from));
        if self.database_url.is_none() {
            self.database_url = text("IDCGATE_DATABASE_URL")?;
        }
        if self.contact.is_none() {
            self.contact = text("IDCGATE_CONTACT")?;
        }
        if self.log.is_none() {
            self.log = text("IDCGATE_LOG")?;
        }
        if self.sandbox_port.is_none() {
            if let Some(v) = text("IDCGATE_SANDBOX_PORT")? {
                self.sandbox_port = Some(v.trim().parse().map_err(|_| {
                    anyhow::anyhow!("IDCGATE_SANDBOX_PORT={v:?} is not a port number")
                })?);
            }
        }
        if self.tz.is_none() {
            self.tz = text("IDCGATE_TZ")?
                .map(|v| v.parse().map_err(|e| anyhow::anyhow!("IDCGATE_TZ: {e}")))
                .transpose()?;
        }
        if self.timeout.is_none() {
            if let Some(v) = text("IDCGATE_TIMEOUT")? {
                match v.trim().parse::<u64>() {
                    Ok(n) if n >= 1 => self.timeout = Some(n),
                    _ => anyhow::bail!(
                        "IDCGATE_TIMEOUT={v:?} must be a number of seconds, at least 1"
                    ),
                }
            }
        }
        Ok(())
    }
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the server (REST API, metrics, scheduled jobs).
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long, env = "IDCGATE_LISTEN", hide_env_values = true)]
        listen: Option<String>,
        /// Also run every vendor simulator in-process and register sandbox accounts.
        #[arg(long)]
        sandbox: bool,
        /// Roles that must use a TOTP second factor in the console, e.g. admin,finance.
        #[arg(
            long,
            env = "IDCGATE_CONSOLE_2FA",
            hide_env_values = true,
            value_delimiter = ','
        )]
        console_2fa: Vec<String>,
        /// Mark console cookies Secure (set when a TLS proxy is in front).
        #[arg(long, env = "IDCGATE_SECURE_COOKIES", hide_env_values = true)]
        secure_cookies: bool,
        /// Failed API token authentications one address may make per minute before it
        /// is refused for the rest of that minute.
        #[arg(long, env = "IDCGATE_API_AUTH_FAILURES", default_value_t = idcgate_server::DEFAULT_AUTH_FAILURE_LIMIT)]
        api_auth_failures: u32,
    },
    /// Run every vendor simulator, print their base URLs and credentials, and register
    /// them as accounts `sandbox-<vendor>`.
    Sandbox {
        /// Do not register the sandbox accounts in the store.
        #[arg(long)]
        no_register: bool,
    },
    /// What each vendor needs to add an account: credential keys (secret or not, and
    /// which may stand in for others), live base URL, rate advice and quirks.
    Vendors {
        #[command(subcommand)]
        cmd: Option<VendorsCmd>,
    },
    /// Manage upstream accounts.
    #[command(subcommand)]
    Account(AccountCmd),
    /// List implemented upstream actions with their catalog ids.
    Actions {
        /// Only this vendor's (west, cndns, dnspod, zonkvm or xensystem).
        #[arg(long)]
        vendor: Option<String>,
        /// table (default), tsv or json.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Make one raw, signed call: `idcgate call xensystem vm_info vpsid=1`.
    Call {
        /// west, cndns, dnspod, zonkvm or xensystem.
        vendor: String,
        /// The action's id or a short name only one id ends in (see `idcgate actions`).
        action: String,
        /// Parameters as key=value.
        params: Vec<String>,
        /// Account to use (default: the only account of that vendor).
        #[arg(long)]
        account: Option<String>,
        /// A write action (it may change or buy something upstream) goes ahead without
        /// asking; needed when standard input is not a terminal.
        #[arg(long)]
        yes: bool,
    },
    /// Pull every resource of every account into the inventory.
    Sync,
    /// Domains in the inventory, with the days left until each expires.
    Domains {
        /// Only those expiring within this period: 30d, 2w, 3m or 1y.
        #[arg(long, value_parser = period)]
        expiring: Option<Period>,
        /// Only those of this vendor's accounts (west, cndns, dnspod, zonkvm, xensystem).
        #[arg(long)]
        vendor: Option<String>,
        /// Only those whose name contains this (case-insensitive).
        #[arg(long)]
        search: Option<String>,
    },
    /// Web hosting sites in the inventory.
    Hosting(KindArgs),
    /// Databases in the inventory.
    Databases(KindArgs),
    /// Mail domains in the inventory.
    Mail(KindArgs),
    /// Certificates in the inventory.
    Certs(KindArgs),
    /// Everything that expires, all kinds, soonest first, with the days left.
    Expiring {
        /// Horizon: 30d, 2w, 3m or 1y.
        #[arg(long, default_value = "30d", value_parser = period)]
        within: Period,
    },
    /// Balances of every account (live); says so where a vendor offers none.
    Balance,
    /// DNS records, routed to whichever account hosts the zone.
    #[command(subcommand)]
    Dns(DnsCmd),
    /// Servers in the inventory.
    Servers {
        /// Lifecycle or power state: active, provisioning, running, stopped...
        #[arg(long)]
        state: Option<String>,
    },
    /// Operate a server (`account/id` or an id unique across accounts).
    #[command(subcommand)]
    Server(ServerCmd),
    /// API tokens for the REST API.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Purchases through the order journal: quoted, recorded before anything is sent,
    /// booked in the ledger, never made twice for one idempotency key.
    #[command(subcommand)]
    Order(OrderCmd),
    /// The double-entry ledger: every fen spent, and on what.
    Ledger(LedgerArgs),
    /// Compare what the ledger booked at an upstream account with the vendor's own
    /// finance record, and list every difference.
    Statement {
        /// The upstream account.
        account: String,
        /// From this date (China time), e.g. 2026-12-01; default: the account's first order.
        #[arg(long)]
        since: Option<String>,
    },
    /// Renewals: one resource now (`renew DOMAIN`), what is due and what it costs
    /// (`--plan`), the renewal job once now (`run`), policies (`policy show|set`) and
    /// balance floors (`floor`).
    Renew(renewals::RenewArgs),
    /// What was spent at upstreams, from the ledger, grouped.
    Spend {
        /// vendor (per upstream account), kind (per product kind) or month (China time).
        #[arg(long, default_value = "kind")]
        by: String,
    },
    /// Downstream resellers: keys, balances and credit (from the ledger), price levels.
    #[command(subcommand)]
    Tenant(resale::TenantCmd),
    /// The resale catalog: upstream offers with price rules; the cost is always the
    /// upstream's live quote.
    #[command(subcommand)]
    Product(resale::ProductCmd),
    /// The web console's operators: roles, passwords, second factors.
    #[command(subcommand)]
    User(operators::UserCmd),
    /// Notifications by email and webhook (configured under [notify] in idcgate.toml):
    /// a test message on every channel, the delivery log, one run now.
    #[command(subcommand)]
    Notify(notify::NotifyCmd),
    /// Show the audit log, newest first.
    Audit {
        /// How many entries.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Print a shell completion script: `idcgate completions bash > /etc/bash_completion.d/idcgate`.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `idcgate man | man -l -`.
    Man {
        /// Write one page per command (idcgate.1, idcgate-account.1, ...) into this directory instead.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum VendorsCmd {
    /// One vendor's onboarding in full: keys, where to get them, base URL, rate, quirks.
    Show {
        /// west, cndns, dnspod, zonkvm or xensystem.
        vendor: String,
        /// Print the page as Markdown (docs/vendors/VENDOR.md is this output).
        #[arg(long)]
        markdown: bool,
    },
}

#[derive(Subcommand)]
pub enum AccountCmd {
    /// Add an account. Credentials as --cred key=value; --cred key alone reads the value
    /// from standard input so it stays out of shell history. `idcgate vendors show V`
    /// lists each vendor's keys.
    Add {
        /// The account's name in idcgate (letters, digits, '-', '_', '.').
        name: String,
        /// west, cndns, dnspod, zonkvm or xensystem.
        #[arg(long)]
        vendor: String,
        /// The upstream's API root (default: the vendor's live API, where it has one; a
        /// simulator's URL in the sandbox).
        #[arg(long)]
        base_url: Option<String>,
        /// A credential as KEY=VALUE, or KEY alone to read its value from standard input
        /// (repeatable).
        #[arg(long = "cred", value_name = "KEY[=VALUE]")]
        creds: Vec<String>,
        /// Requests per second toward this upstream (default: the vendor's advice, see
        /// `idcgate vendors`).
        #[arg(long)]
        rate: Option<u32>,
    },
    /// Change an account: credentials (given keys replaced, others kept), base URL, rate.
    Update {
        /// The account to change.
        name: String,
        /// A credential as KEY=VALUE, or KEY alone to read its value from standard input
        /// (repeatable).
        #[arg(long = "cred", value_name = "KEY[=VALUE]")]
        creds: Vec<String>,
        /// Remove this credential key (repeatable).
        #[arg(long = "unset-cred", value_name = "KEY")]
        unset: Vec<String>,
        /// A new API root.
        #[arg(long)]
        base_url: Option<String>,
        /// A new rate limit in requests per second.
        #[arg(long)]
        rate: Option<u32>,
    },
    /// List accounts with their credential keys (never the values).
    List,
    /// Remove an account; its resources are marked gone in the inventory.
    Remove {
        /// The account to remove.
        name: String,
        /// Remove it without asking (needed when standard input is not a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Check the credentials with a cheap read.
    Test {
        /// The account to check.
        name: String,
    },
}

#[derive(Args, Clone)]
pub struct RecordArgs {
    /// Host relative to the zone (@ for the apex).
    pub host: String,
    /// A, AAAA, CNAME, MX, TXT, NS, SRV, CAA.
    #[arg(value_name = "TYPE")]
    pub rtype: String,
    /// The record's content: an address, a name, a text.
    pub value: String,
    /// Time to live in seconds.
    #[arg(long, default_value_t = 600)]
    pub ttl: u32,
    /// Resolution line (vendor-specific; default line if omitted).
    #[arg(long)]
    pub line: Option<String>,
    /// MX/SRV priority.
    #[arg(long)]
    pub priority: Option<u16>,
}

/// Filters of a listing of one kind of resource.
#[derive(clap::Args)]
pub struct KindArgs {
    /// Only those of this vendor's accounts (west, cndns, dnspod, zonkvm, xensystem).
    #[arg(long)]
    pub vendor: Option<String>,
    /// Only those whose name contains this (case-insensitive).
    #[arg(long)]
    pub search: Option<String>,
    /// Only those expiring within this period: 30d, 2w, 3m or 1y.
    #[arg(long, value_parser = period)]
    pub expiring: Option<Period>,
}

#[derive(Subcommand)]
pub enum DnsCmd {
    /// List a zone's records (live).
    List {
        /// The zone, e.g. example.com.
        zone: String,
    },
    /// Add a record: `idcgate dns add example.com www A 1.2.3.4`.
    Add {
        /// The zone, e.g. example.com.
        zone: String,
        #[command(flatten)]
        record: RecordArgs,
    },
    /// Replace a record's content by id.
    Set {
        /// The zone, e.g. example.com.
        zone: String,
        /// The record's id (see `dns list`).
        id: String,
        #[command(flatten)]
        record: RecordArgs,
    },
    /// Delete a record by id (exit code 4 if it is already gone).
    Rm {
        /// The zone, e.g. example.com.
        zone: String,
        /// The record's id (see `dns list`).
        id: String,
        /// Delete it without asking (needed when standard input is not a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Resume a paused record.
    Enable {
        /// The zone, e.g. example.com.
        zone: String,
        /// The record's id (see `dns list`).
        id: String,
    },
    /// Pause a record without deleting it.
    Disable {
        /// The zone, e.g. example.com.
        zone: String,
        /// The record's id (see `dns list`).
        id: String,
    },
    /// Write a zone as a file: octoDNS's YAML layout (default) or BIND.
    Export(dns_code::ExportArgs),
    /// Compare zone files with what the upstreams hold: creates, updates and deletes per
    /// zone (nothing is changed).
    Plan(dns_code::PlanArgs),
    /// Make the upstreams hold what zone files say, through the same audited operations
    /// as `dns add|set|rm`.
    Apply(dns_code::ApplyArgs),
    /// Move a zone to another account: copy every record (adding the zone there where
    /// the vendor can), verify by reading back, optionally switch the nameservers.
    /// Running it again continues a run that stopped, without duplicating records.
    Migrate(dns_migrate::MigrateArgs),
}

#[derive(Subcommand)]
pub enum ServerCmd {
    /// Power a server on.
    Start {
        /// `account/id`, or an id unique across accounts.
        server: String,
    },
    /// Shut a server down.
    Stop {
        /// `account/id`, or an id unique across accounts.
        server: String,
        /// Power off without asking the guest.
        #[arg(long)]
        force: bool,
        /// Stop it without asking (needed when standard input is not a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Restart a server.
    Reboot {
        /// `account/id`, or an id unique across accounts.
        server: String,
        /// Reset without asking the guest.
        #[arg(long)]
        force: bool,
    },
    /// Reinstall a server's operating system (its disk is erased).
    Reinstall {
        /// `account/id`, or an id unique across accounts.
        server: String,
        /// OS image id (see the vendor's catalog).
        #[arg(long)]
        image: String,
        /// Erase and reinstall without asking (needed when standard input is not a
        /// terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Reset the root/administrator password (read from standard input).
    Password {
        /// `account/id`, or an id unique across accounts.
        server: String,
        /// Reset it without asking (needed when standard input is not a terminal).
        #[arg(long)]
        yes: bool,
    },
}

/// What to buy.
#[derive(Args, Debug)]
pub struct PurchaseArgs {
    /// create (or register), renew, upgrade or transfer.
    pub operation: String,
    /// The domain name, or the upstream id of the resource to renew or upgrade.
    pub target: String,
    /// domain, server, hosting_site, database, mail_domain or dns_zone.
    #[arg(long, default_value = "domain")]
    pub kind: String,
    /// The vendor's product, plan or configuration code (see `idcgate actions`).
    #[arg(long)]
    pub offer: Option<String>,
    /// Length in years (domains are sold by the year).
    #[arg(long, conflicts_with = "months")]
    pub years: Option<u32>,
    /// Length in months.
    #[arg(long)]
    pub months: Option<u32>,
    /// A vendor setting the offer needs, as KEY=VALUE (repeatable).
    #[arg(long = "opt", value_name = "KEY=VALUE")]
    pub options: Vec<String>,
}

#[derive(Subcommand)]
pub enum OrderCmd {
    /// What the upstream asks for it now: `idcgate order quote sandbox-west register example.com`.
    Quote {
        /// The upstream account to buy from.
        account: String,
        #[command(flatten)]
        what: PurchaseArgs,
    },
    /// Buy it. Asks for confirmation at a terminal; `--yes` otherwise.
    Place {
        /// The upstream account to buy from.
        account: String,
        #[command(flatten)]
        what: PurchaseArgs,
        /// The same key again returns the first order and buys nothing (default: a new key).
        #[arg(long)]
        idempotency_key: Option<String>,
        /// Confirm spending without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Orders, newest first.
    List {
        /// Only this upstream account's.
        #[arg(long)]
        account: Option<String>,
        /// pending, submitted, succeeded, failed or unknown.
        #[arg(long)]
        state: Option<String>,
    },
    /// One order with its history.
    Show {
        /// The order's number.
        id: i64,
    },
    /// Settle unknown orders (or one) by reading the upstream; never re-sends a purchase.
    Reconcile {
        /// Only this order (default: every unknown one).
        id: Option<i64>,
        /// Also settle orders left `submitted` or `pending` for at least this long (their
        /// process is presumed gone), e.g. 10m, 90s, 0s. An order still being placed by a
        /// live process must not be settled under it: keep this above the upstream timeout.
        #[arg(long, default_value = "10m")]
        stale_after: String,
    },
}

#[derive(Args, Debug)]
pub struct LedgerArgs {
    /// One account (`upstream:sandbox-west`) or a family (`cost:`).
    #[arg(long)]
    pub account: Option<String>,
    /// From this date on (China time), e.g. 2026-12-01.
    #[arg(long)]
    pub since: Option<String>,
    /// Balances per ledger account instead of entries (and a check that every
    /// transaction sums to zero).
    #[arg(long)]
    pub balances: bool,
}

#[derive(Subcommand)]
pub enum TokenCmd {
    /// Create a token; it is shown once.
    Create {
        /// A name to recognise the token by.
        name: String,
        /// read, operate or admin.
        #[arg(long, default_value = "read")]
        scope: String,
    },
    /// List tokens (never the tokens themselves).
    List,
    /// Revoke a token: it stops working within a second everywhere (exit code 4 if no
    /// active token has that id or name).
    Revoke {
        /// The token's id or name.
        id_or_name: String,
        /// Revoke it without asking (needed when standard input is not a terminal).
        #[arg(long)]
        yes: bool,
    },
}

use idcgate_engine::period::Period;

/// `30d`, `2w`, `3m`, `1y` (what clap says when it is not one).
fn period(s: &str) -> Result<Period, String> {
    s.parse()
        .map_err(|e: idcgate_engine::period::PeriodError| e.to_string())
}

fn main() -> std::process::ExitCode {
    // Like every Unix filter, end quietly when the reader goes away (`| head`) instead of
    // panicking on the next write.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of one signal before any thread starts.
    #[allow(unsafe_code)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let json = cli.global.json;
    // Neither reads the configuration: they work before anything is set up.
    match &cli.command {
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "idcgate", &mut std::io::stdout());
            return std::process::ExitCode::SUCCESS;
        }
        Command::Man { dir } => {
            return match man(dir.as_deref()) {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    std::process::ExitCode::FAILURE
                }
            };
        }
        _ => {}
    }
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            let code = std::process::ExitCode::from(safety::exit_code(&e));
            if e.downcast_ref::<output::Shown>().is_some() {
                return code;
            }
            if json {
                println!("{}", serde_json::json!({ "error": format!("{e:#}") }));
            } else {
                match safety::hint(&e) {
                    Some(hint) => eprintln!("error: {e:#} ({hint})"),
                    None => eprintln!("error: {e:#}"),
                }
            }
            code
        }
    }
}

/// The manual page of idcgate on standard output, or one per command into `dir`.
fn man(dir: Option<&std::path::Path>) -> Result<()> {
    let cmd = <Cli as clap::CommandFactory>::command();
    match dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(cmd, dir)
                .with_context(|| format!("cannot write manual pages into {}", dir.display()))
        }
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut out)?;
            std::io::Write::write_all(&mut std::io::stdout(), &out)?;
            Ok(())
        }
    }
}

fn run(mut cli: Cli) -> Result<()> {
    cli.global.fill_from_env()?;
    let file = config::FileConfig::load(cli.global.config.as_deref())?;
    let settings = config::Settings::resolve(
        file,
        config::FileConfig {
            data_dir: cli.global.data_dir.clone(),
            database_url: cli.global.database_url.clone(),
            listen: match &cli.command {
                Command::Serve { listen, .. } => listen.clone(),
                _ => None,
            },
            contact: cli.global.contact.clone(),
            log: cli.global.log.clone(),
            sandbox_port: cli.global.sandbox_port,
            sync_interval_secs: None,
            timeout_secs: cli.global.timeout,
            tz: cli.global.tz,
            notify: None,
        },
    );
    clock::set(settings.tz);
    init_logging(&settings.log)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(commands::dispatch(cli, settings))
}

fn init_logging(filter: &str) -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .map_err(|e| anyhow::anyhow!("invalid log filter {filter:?}: {e}"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(output::LogWriter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot set up logging: {e}"))
}

#[cfg(test)]
mod help_tests {
    use super::Cli;
    use clap::CommandFactory;

    /// Every subcommand and argument without help text, as `idcgate dns rm <ID>`.
    fn undocumented(cmd: &clap::Command, path: &str, found: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            // clap's own --help and --version say what they do.
            if matches!(id, "help" | "version") {
                continue;
            }
            let has_help = arg
                .get_help()
                .or(arg.get_long_help())
                .is_some_and(|h| !h.to_string().trim().is_empty());
            if !has_help {
                found.push(format!("{path} <{id}>"));
            }
        }
        for sub in cmd.get_subcommands() {
            let p = format!("{path} {}", sub.get_name());
            let has_about = sub
                .get_about()
                .or(sub.get_long_about())
                .is_some_and(|h| !h.to_string().trim().is_empty());
            if !has_about {
                found.push(p.clone());
            }
            undocumented(sub, &p, found);
        }
    }

    #[test]
    fn every_subcommand_and_argument_has_help() {
        let mut cmd = Cli::command();
        cmd.build();
        let mut found = Vec::new();
        undocumented(&cmd, "idcgate", &mut found);
        assert!(found.is_empty(), "without help text:\n{}", found.join("\n"));
    }

    #[test]
    fn the_command_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_walk_finds_what_lacks_help() {
        let cmd = clap::Command::new("t")
            .about("t")
            .arg(clap::Arg::new("bare"))
            .subcommand(clap::Command::new("quiet"));
        let mut found = Vec::new();
        undocumented(&cmd, "t", &mut found);
        assert_eq!(found, ["t <bare>", "t quiet"]);
    }

    #[test]
    fn the_version_names_a_commit() {
        let v = Cli::command().get_version().unwrap_or_default().to_string();
        let commit = v
            .split_once(" (")
            .and_then(|(_, c)| c.strip_suffix(')'))
            .unwrap_or_default();
        assert!(
            commit == "unknown"
                || (commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit())),
            "{v}"
        );
    }
}
