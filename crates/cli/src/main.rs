//! `idcgate`: the command-line surface and the process that runs the server.
//!
//! Owns: argument parsing, configuration precedence, logging set-up, human/JSON output,
//! and wiring the vendor crates into the engine (`vendors.rs`).
//!
//! Must not know: vendor wire formats (it only lists vendor crates in the registry),
//! SQL, or the REST surface's shapes.

mod commands;
mod config;
mod output;
mod vendors;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "idcgate", version, about = "One control plane for West.cn, CNDNS, DNSPod, Zonkvm and XenSystem")]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Clone)]
pub struct Global {
    /// Config file (default: ./idcgate.toml if present).
    #[arg(long, global = true, env = "IDCGATE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Where the SQLite database and the master key file live.
    #[arg(long, global = true, env = "IDCGATE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// sqlite:///path/file.db or postgres://user@host/db (default: SQLite in the data dir).
    #[arg(long, global = true, env = "IDCGATE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Your contact address, sent in the User-Agent as upstreams ask.
    #[arg(long, global = true, env = "IDCGATE_CONTACT")]
    pub contact: Option<String>,
    /// Log filter, e.g. info, debug, idcgate_wire=trace.
    #[arg(long, global = true, env = "IDCGATE_LOG")]
    pub log: Option<String>,
    /// First port of the sandbox simulators (one port per vendor from here).
    #[arg(long, global = true, env = "IDCGATE_SANDBOX_PORT")]
    pub sandbox_port: Option<u16>,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the server (REST API, metrics, scheduled jobs).
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long, env = "IDCGATE_LISTEN")]
        listen: Option<String>,
        /// Also run every vendor simulator in-process and register sandbox accounts.
        #[arg(long)]
        sandbox: bool,
    },
    /// Run every vendor simulator, print their base URLs and credentials, and register
    /// them as accounts `sandbox-<vendor>`.
    Sandbox {
        /// Do not register the sandbox accounts in the store.
        #[arg(long)]
        no_register: bool,
    },
    /// Manage upstream accounts.
    #[command(subcommand)]
    Account(AccountCmd),
    /// List implemented upstream actions with their catalog ids.
    Actions {
        #[arg(long)]
        vendor: Option<String>,
        /// table (default), tsv or json.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Make one raw, signed call: `idcgate call xensystem vm_info vpsid=1`.
    Call {
        vendor: String,
        action: String,
        /// Parameters as key=value.
        params: Vec<String>,
        /// Account to use (default: the only account of that vendor).
        #[arg(long)]
        account: Option<String>,
    },
    /// Show the audit log, newest first.
    Audit {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

#[derive(Subcommand)]
pub enum AccountCmd {
    /// Add an account. Credentials as --cred key=value; --cred key alone reads the value
    /// from standard input so it stays out of shell history.
    Add {
        name: String,
        #[arg(long)]
        vendor: String,
        #[arg(long)]
        base_url: String,
        #[arg(long = "cred")]
        creds: Vec<String>,
        /// Requests per second toward this upstream.
        #[arg(long, default_value_t = 5)]
        rate: u32,
    },
    List,
    Remove { name: String },
    /// Check the credentials with a cheap read.
    Test { name: String },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let file = config::FileConfig::load(cli.global.config.as_deref())?;
    let settings = config::Settings::resolve(
        file,
        config::Overrides {
            data_dir: cli.global.data_dir.clone(),
            database_url: cli.global.database_url.clone(),
            listen: match &cli.command {
                Command::Serve { listen, .. } => listen.clone(),
                _ => None,
            },
            contact: cli.global.contact.clone(),
            log: cli.global.log.clone(),
            sandbox_port: cli.global.sandbox_port,
        },
    );
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
        .with_writer(std::io::stderr)
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot set up logging: {e}"))
}
