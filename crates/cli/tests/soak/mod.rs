//! The money fault soak (issue 10): purchases placed by the real `idcgate` binary against
//! simulators served in this process, with errors, answers dropped after the upstream
//! committed, malformed bodies and latency injected, and the child killed (SIGKILL) at
//! random points and sometimes re-run with the same idempotency key. Then `idcgate order
//! reconcile` settles what is open, and every upstream charge is compared with the
//! journal and the ledger: nothing lost, nothing doubled, every transaction balanced, and
//! each upstream account's ledger spend equal to its simulator's balance change.
//!
//! Shared by `tests/fault_soak.rs` (CI, 200 flows per backend) and `benches/soak.rs`
//! (1,000 flows and more). The plan of a run (what each flow buys, where it is killed,
//! whether it is re-run) comes from one seeded RNG; `IDCGATE_SOAK_SEED` replays it.
//!
//! What is bought is a table per vendor built from each account's `Purchasing::sells()`,
//! so a vendor or kind that starts selling is picked up; a sold (kind, operation) with no
//! [`RECIPES`] row is listed as not exercised rather than silently skipped.
#![allow(dead_code)] // the test and the bench each use part of it

pub mod ops;

use idcgate_core::ledger::LedgerAccount;
use idcgate_core::purchase::Operation;
use idcgate_core::{Connection, Credentials, Money, OrderState, ResourceKind, UpstreamAccount};
use idcgate_core::{Error, Vendor};
use idcgate_store::testing::{TestDb, TEST_KEY_HEX};
use idcgate_store::{LedgerFilter, OrderFilter, OrderRow, OrderStore, Store};
use idcgate_wire::{FaultConfig, FaultHandle, SimServer, Simulator, WireConfig};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_idcgate");

/// What a run does. The fault rates apply to every request a flow makes (reads are
/// retried by the client; a faulted write is an unknown outcome or a refusal).
#[derive(Debug, Clone)]
pub struct Options {
    pub flows: usize,
    /// Flows running at once.
    pub parallel: usize,
    pub seed: u64,
    /// Share of flows whose process is SIGKILLed at a random point.
    pub kill_share: f64,
    /// Share of killed flows run again with the same idempotency key.
    pub rerun_share: f64,
    pub error_rate: f64,
    pub drop_after_commit_rate: f64,
    pub malformed_rate: f64,
    /// Latencies drawn per flow (applied to every request while it runs).
    pub latencies_ms: Vec<u64>,
    /// The children's upstream timeout (`IDCGATE_TIMEOUT`): how long a dropped answer
    /// holds a flow before it is an unknown outcome.
    pub timeout_secs: u64,
    /// Domains registered at each account before the soak, so renewals have targets
    /// from the first flow.
    pub seed_domains: usize,
}

impl Options {
    /// `flows` flows with the default fault mix; the seed from `IDCGATE_SOAK_SEED` when
    /// set (to replay a failure), else a fresh one.
    pub fn new(flows: usize) -> Self {
        let seed = std::env::var("IDCGATE_SOAK_SEED")
            .ok()
            .and_then(|s| {
                let s = s.trim();
                s.strip_prefix("0x")
                    .map_or_else(|| s.parse().ok(), |h| u64::from_str_radix(h, 16).ok())
            })
            .unwrap_or_else(rand::random);
        Options {
            flows,
            parallel: 4,
            seed,
            kill_share: 0.25,
            rerun_share: 0.5,
            error_rate: 0.04,
            drop_after_commit_rate: 0.02,
            malformed_rate: 0.03,
            latencies_ms: vec![0, 0, 1, 5, 20],
            timeout_secs: 1,
            seed_domains: 4,
        }
    }
}

/// How the soak buys one (kind, operation) at an account's vendor. `vendor: None` fits
/// every vendor that sells the pair. A create names a fresh resource; anything else acts
/// on one the soak created (or seeded) at that account.
#[derive(Debug, Clone, Copy)]
pub struct Recipe {
    pub vendor: Option<Vendor>,
    pub kind: ResourceKind,
    pub operation: Operation,
    pub offer: Option<&'static str>,
    pub months: u32,
    pub options: &'static [(&'static str, &'static str)],
    /// What a created resource's name ends with (`.com` for a domain).
    pub suffix: &'static str,
    /// How a created resource is named.
    pub naming: Naming,
    /// Relative frequency among an account's recipes.
    pub weight: u32,
}

/// How the soak names what a create buys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// The run's prefix and the flow's number (`s1a2b3cn00042.com`).
    Numbered,
    /// Ten lower-case letters (`z` and the run's and the flow's number in letters), for a
    /// vendor that takes nothing else (a CNDNS FTP name); no other target holds a `z`.
    Letters,
}

/// The purchases the soak knows how to make. Domains are one product per suffix at
/// every registrar (`purchase::domains`), so their rows fit any vendor that sells them;
/// other kinds name a vendor's sandbox offers. Only creates of other kinds: renewing or
/// upgrading one needs its upstream id, which the journal does not learn from a create.
/// Not Zonkvm servers: their orders carry nothing of ours (no read by client order id,
/// no name), so a lost create settles only while no other of the same configuration is
/// new, and the soak's many identical creates leave some unknown for a person.
pub const RECIPES: &[Recipe] = &[
    any(ResourceKind::Domain, Operation::Create, 12, ".com", 6),
    any(ResourceKind::Domain, Operation::Renew, 12, ".com", 5),
    create(
        Vendor::West,
        ResourceKind::Server,
        "c1m1",
        1,
        "",
        &[("serverroom", "3"), ("os", "centos7.9")],
    ),
    create(
        Vendor::West,
        ResourceKind::HostingSite,
        "L1",
        12,
        "",
        &[("password", "Host2025pass")],
    ),
    create(
        Vendor::West,
        ResourceKind::HostingSite,
        "miniapp:basic",
        12,
        ".com",
        &[],
    ),
    create(
        Vendor::West,
        ResourceKind::MailDomain,
        "M5",
        12,
        ".com",
        &[("password", "Mail2025pass")],
    ),
    create(
        Vendor::West,
        ResourceKind::Database,
        "100",
        12,
        "",
        &[("version", "2019"), ("password", "Sql2025pass")],
    ),
    create(
        Vendor::Zonkvm,
        ResourceKind::HostingSite,
        "20250408030033590712",
        12,
        ".com",
        &[("content.program_version", "php74"), ("pwd", "Ftp-Pass-1")],
    ),
    create(
        Vendor::Zonkvm,
        ResourceKind::Database,
        "20250407053315151712",
        1,
        "",
        &[("content.code", "utf8")],
    ),
    // DNSPod VIP grades of the sandbox agent's users' zones ([`DNSPOD_ZONES`]): every
    // offer is tried on both, so some are refused upstream (a personal grade on the
    // enterprise zone, the grade a zone is already on) and fail with nothing booked; a
    // renewal keeps the zone's grade (refused while it is on the free one).
    // CNDNS hosting: the target is the FTP name, which its finance memo names. Not its
    // cloud hosts: BuyCloud names a new host itself, so its charge names nothing of ours.
    Recipe {
        naming: Naming::Letters,
        weight: 3,
        ..create(
            Vendor::Cndns,
            ResourceKind::HostingSite,
            "bz",
            12,
            "",
            &[
                ("hostsize", "5"),
                ("Location", "cn"),
                ("linetype", "dx"),
                ("ftppassword", "Shop123!x"),
            ],
        )
    },
    zone(Operation::Upgrade, Some("D_Plus"), 2),
    zone(Operation::Upgrade, Some("D_Extra"), 2),
    zone(Operation::Upgrade, Some("D_Expert"), 2),
    zone(Operation::Upgrade, Some("D_Ultra"), 1),
    zone(Operation::Renew, None, 4),
];

/// The sandbox zones DNSPod upgrades and renewals act on: one of a personal user (on the
/// free grade) and one of an enterprise user (on a VIP grade), each with more like it
/// ([`DNSPOD_MORE_ZONES`]).
pub const DNSPOD_ZONES: &[&str] = &["zhangwei.net", "shop-example.cn"];

/// Zones added before the soak (name, the sandbox zone whose owner and grade it takes):
/// an order left unknown holds its zone back until reconciling, so two zones alone
/// would soon hold back every DNSPod flow.
const DNSPOD_MORE_ZONES: &[(&str, &str)] = &[
    ("soakp1.net", "zhangwei.net"),
    ("soakp2.net", "zhangwei.net"),
    ("soakp3.net", "zhangwei.net"),
    ("soakp4.net", "zhangwei.net"),
    ("soake1.cn", "shop-example.cn"),
    ("soake2.cn", "shop-example.cn"),
    ("soake3.cn", "shop-example.cn"),
    ("soake4.cn", "shop-example.cn"),
];

/// The end user's IP DNSPod requires with every upgrade.
const DNSPOD_OPTIONS: &[(&str, &str)] = &[("ip_addr", "203.0.113.45")];

const fn zone(operation: Operation, offer: Option<&'static str>, weight: u32) -> Recipe {
    Recipe {
        vendor: Some(Vendor::Dnspod),
        kind: ResourceKind::DnsZone,
        operation,
        offer,
        months: 12,
        options: DNSPOD_OPTIONS,
        suffix: "",
        naming: Naming::Numbered,
        weight,
    }
}

const fn any(
    kind: ResourceKind,
    operation: Operation,
    months: u32,
    suffix: &'static str,
    weight: u32,
) -> Recipe {
    Recipe {
        vendor: None,
        kind,
        operation,
        offer: None,
        months,
        options: &[],
        suffix,
        naming: Naming::Numbered,
        weight,
    }
}

const fn create(
    vendor: Vendor,
    kind: ResourceKind,
    offer: &'static str,
    months: u32,
    suffix: &'static str,
    options: &'static [(&'static str, &'static str)],
) -> Recipe {
    Recipe {
        vendor: Some(vendor),
        kind,
        operation: Operation::Create,
        offer: Some(offer),
        months,
        options,
        suffix,
        naming: Naming::Numbered,
        weight: 1,
    }
}

/// Path-and-query texts (lower case) of a vendor's purchase requests (what the counting
/// layer counts as "bought upstream"): West names its act in the query, CNDNS and DNSPod their path.
pub fn purchase_markers(vendor: Vendor) -> &'static [&'static str] {
    match vendor {
        Vendor::West => &["act=regdomain&", "act=renewdomain&", "act=buy&"],
        Vendor::Cndns => &[
            "/domains/createdom.aspx",
            "/domains/domainrenew.aspx",
            "/hosting/createhosting",
        ],
        Vendor::Dnspod => &["/domain.upgrade"],
        _ => &[],
    }
}

/// A simulator with the hooks the soak needs where its vendor's handle offers them.
pub enum SimHandle {
    West(idcgate_west::Sim),
    Cndns(idcgate_cndns::Sim),
    Zonkvm(idcgate_zonkvm::Sim),
    Dnspod(idcgate_dnspod::Sim),
    Other(Box<dyn Simulator>),
}

impl SimHandle {
    /// The registry's sandbox simulator of `vendor`, as a concrete handle where the
    /// soak uses one.
    fn sandbox(vendor: Vendor) -> Self {
        match vendor {
            Vendor::West => SimHandle::West(idcgate_west::Sim::sandbox()),
            Vendor::Cndns => SimHandle::Cndns(idcgate_cndns::Sim::sandbox()),
            Vendor::Zonkvm => SimHandle::Zonkvm(idcgate_zonkvm::Sim::sandbox()),
            Vendor::Dnspod => SimHandle::Dnspod(idcgate_dnspod::Sim::sandbox()),
            other => {
                let registry = idcgate::vendors::registry();
                let entry = registry.get(other).unwrap();
                SimHandle::Other((entry.sandbox)())
            }
        }
    }

    fn sim(&self) -> &dyn Simulator {
        match self {
            SimHandle::West(s) => s,
            SimHandle::Cndns(s) => s,
            SimHandle::Zonkvm(s) => s,
            SimHandle::Dnspod(s) => s,
            SimHandle::Other(s) => s.as_ref(),
        }
    }

    /// The balance as the simulator holds it, where its handle shows it.
    fn balance(&self) -> Option<Money> {
        match self {
            SimHandle::West(s) => Some(s.balance()),
            SimHandle::Cndns(s) => Some(s.balance()),
            SimHandle::Zonkvm(s) => Some(s.balance()),
            // The sandbox token is the agent's: upgrades are paid from its balance.
            SimHandle::Dnspod(s) => s.agent_balance(idcgate_dnspod::sim::SANDBOX_EMAIL),
            SimHandle::Other(_) => None,
        }
    }

    /// The simulator's own finance record where its handle lists it: (reference, memo,
    /// charged), the memo carrying the client order id the vendor keeps.
    fn listed_charges(&self) -> Option<Vec<(String, String, Money)>> {
        match self {
            SimHandle::Zonkvm(s) => Some(
                s.ledger()
                    .into_iter()
                    .filter(|r| r.amount_fen < 0)
                    .map(|r| {
                        let memo = format!(
                            "{} {} order {} {}",
                            r.kind, r.product, r.order_id, r.client_order_id
                        );
                        (r.id.to_string(), memo, Money::from_fen(-r.amount_fen))
                    })
                    .collect(),
            ),
            // A bill's journal number is unique; its memo names the zone.
            SimHandle::Dnspod(s) => Some(s.agent_bills(idcgate_dnspod::sim::SANDBOX_EMAIL)),
            _ => None,
        }
    }

    /// Resources of `kind` that renewals and upgrades may act on from the first flow,
    /// added here where the sandbox has too few (domains are registered by
    /// [`seed_domains`] instead). Called once per account.
    fn existing(&self, kind: ResourceKind) -> Vec<String> {
        match (self, kind) {
            (SimHandle::Dnspod(s), ResourceKind::DnsZone) => {
                for (name, like) in DNSPOD_MORE_ZONES {
                    assert!(s.add_zone_like(name, like), "adding {name}");
                }
                DNSPOD_ZONES
                    .iter()
                    .chain(DNSPOD_MORE_ZONES.iter().map(|(n, _)| n))
                    .map(|z| z.to_string())
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    /// Enough money that no flow is refused for the balance (booked as a deposit).
    fn fund(&self, to: Money) {
        match self {
            SimHandle::West(s) => s.set_balance(to),
            SimHandle::Cndns(s) => s.set_balance(to),
            SimHandle::Zonkvm(s) => s.set_balance(to),
            SimHandle::Dnspod(s) => {
                assert!(s.set_agent_balance(idcgate_dnspod::sim::SANDBOX_EMAIL, to));
            }
            SimHandle::Other(_) => {}
        }
    }

    /// Every charge in the simulator's own finance record mentioning `needle`, as
    /// positive amounts, for a vendor whose record the API cannot list (CNDNS).
    fn charges_mentioning(&self, needle: &str) -> Option<Vec<Money>> {
        match self {
            SimHandle::Cndns(s) => Some(
                s.charges_mentioning(needle)
                    .into_iter()
                    .filter(|m| m.0.is_sign_negative())
                    .map(|m| Money(-m.0))
                    .collect(),
            ),
            _ => None,
        }
    }
}

/// A simulator served for the children, with faults and a log of every request's
/// path and query (to count purchase requests).
pub struct Served {
    pub url: String,
    pub faults: FaultHandle,
    pub seen: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Served {
    /// Requests whose path and query hold one of `markers`.
    pub fn count(&self, markers: &[&str]) -> usize {
        idcgate_core::lock(&self.seen)
            .iter()
            .filter(|s| {
                let s = s.to_ascii_lowercase();
                markers.iter().any(|m| s.contains(m))
            })
            .count()
    }
}

async fn log_request(
    axum::extract::State(seen): axum::extract::State<Arc<Mutex<Vec<String>>>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let pq = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    idcgate_core::lock(&seen).push(pq);
    next.run(req).await
}

pub async fn serve_logged(sim: &dyn Simulator) -> Served {
    let faults = FaultHandle::default();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let router = idcgate_wire::sim::app(sim, faults.clone()).layer(
        axum::middleware::from_fn_with_state(seen.clone(), log_request),
    );
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    Served {
        url: format!("http://{addr}"),
        faults,
        seen,
        task,
    }
}

/// One upstream account of the soak: its simulator served twice (faulted for the
/// children, clean for the harness's own reads) and what it looked like before.
pub struct Upstream {
    pub account: String,
    pub vendor: Vendor,
    pub handle: SimHandle,
    pub served: Served,
    clean: SimServer,
    pub conn: Arc<dyn Connection>,
    pub sells: Vec<(ResourceKind, Operation)>,
    balance_before: Money,
    record_before: Record,
}

/// The simulator's finance record as the harness can read it: through the simulator's
/// own hook (charges mentioning each target, oldest first), or through the vendor's
/// finance API (every charge with its reference), or not at all.
#[derive(Debug, Clone, Default)]
enum Record {
    #[default]
    Unreadable,
    Hook {
        total: Vec<Money>,
        by_target: BTreeMap<String, Vec<Money>>,
    },
    Listed(Vec<(String, String, Money)>),
}

/// The charges made since an earlier reading, attributed to the target each names.
#[derive(Debug, Default)]
struct NewCharges {
    all: Vec<Money>,
    by_target: BTreeMap<String, Vec<Money>>,
    /// Charges naming no target the soak knows, described.
    unattributed: Vec<String>,
}

impl Record {
    /// `names`: what a memo may say (a target, or an idempotency key where the vendor
    /// keeps the client order id) → the target it stands for.
    fn since(&self, before: &Record, names: &BTreeMap<String, String>) -> Option<NewCharges> {
        let tail = |v: &[Money], had: usize| v[had.min(v.len())..].to_vec();
        match (self, before) {
            (Record::Unreadable, _) => None,
            (
                Record::Hook { total, by_target },
                Record::Hook {
                    total: t0,
                    by_target: b0,
                },
            ) => {
                let mut new = NewCharges {
                    all: tail(total, t0.len()),
                    ..Default::default()
                };
                let mut attributed = 0;
                for (t, v) in by_target {
                    let n = tail(v, b0.get(t).map_or(0, Vec::len));
                    attributed += n.len();
                    if !n.is_empty() {
                        new.by_target.insert(t.clone(), n);
                    }
                }
                for _ in attributed..new.all.len() {
                    new.unattributed
                        .push("a charge whose memo names no soak target".into());
                }
                Some(new)
            }
            (Record::Listed(now), Record::Listed(then)) => {
                let seen: BTreeSet<&String> = then.iter().map(|(r, _, _)| r).collect();
                let mut new = NewCharges::default();
                for (reference, memo, amount) in now.iter().filter(|(r, _, _)| !seen.contains(r)) {
                    new.all.push(*amount);
                    match names.iter().find(|(n, _)| memo.contains(n.as_str())) {
                        Some((_, t)) => new.by_target.entry(t.clone()).or_default().push(*amount),
                        None => new
                            .unattributed
                            .push(format!("{amount} {reference} {memo}")),
                    }
                }
                Some(new)
            }
            _ => panic!("the finance record changed shape between two readings"),
        }
    }
}

impl Upstream {
    pub async fn start(vendor: Vendor, account: &str) -> Self {
        let handle = SimHandle::sandbox(vendor);
        handle.fund(Money::from_fen(100_000_000));
        let served = serve_logged(handle.sim()).await;
        let clean =
            idcgate_wire::sim::serve(handle.sim(), SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
                .await
                .unwrap();
        let registry = idcgate::vendors::registry();
        let entry = registry.get(vendor).unwrap();
        let mut cfg = WireConfig::new("soak@idcgate.invalid");
        cfg.timeout = Duration::from_secs(10);
        let conn = (entry.connect)(
            &UpstreamAccount {
                name: account.to_string(),
                vendor,
                base_url: clean.base_url(),
                credentials: credentials(handle.sim()),
                rate_limit_per_sec: 0,
            },
            &cfg,
        )
        .unwrap();
        let sells = conn.purchasing().map(|p| p.sells()).unwrap_or_default();
        Upstream {
            account: account.to_string(),
            vendor,
            handle,
            served,
            clean,
            conn,
            sells,
            balance_before: Money::ZERO,
            record_before: Record::default(),
        }
    }

    /// The account as the children reach it: through the faulted server.
    pub fn upstream_account(&self) -> UpstreamAccount {
        UpstreamAccount {
            name: self.account.clone(),
            vendor: self.vendor,
            base_url: self.served.url.clone(),
            credentials: credentials(self.handle.sim()),
            rate_limit_per_sec: 0,
        }
    }

    pub async fn balance(&self) -> Money {
        if let Some(b) = self.handle.balance() {
            return b;
        }
        let billing = self
            .conn
            .billing()
            .expect("the soak needs a readable balance");
        billing.balance().await.unwrap().available
    }

    /// Reads the simulator's finance record (charges only), for `targets` where the
    /// record can only be searched by what a memo mentions.
    async fn record(&self, targets: &BTreeSet<String>) -> Record {
        if let Some(total) = self.handle.charges_mentioning("") {
            let by_target = targets
                .iter()
                .map(|t| {
                    (
                        t.clone(),
                        self.handle.charges_mentioning(t).unwrap_or_default(),
                    )
                })
                .collect();
            return Record::Hook { total, by_target };
        }
        if let Some(listed) = self.handle.listed_charges() {
            return Record::Listed(listed);
        }
        let Some(billing) = self.conn.billing() else {
            return Record::Unreadable;
        };
        match billing.charges(jiff::Timestamp::UNIX_EPOCH).await {
            // A reference is the vendor's order id: one per charge.
            Ok(charges) => Record::Listed(
                charges
                    .into_iter()
                    .map(|c| {
                        let reference = c
                            .reference
                            .unwrap_or_else(|| format!("{} {}", c.at, c.memo));
                        (reference, c.memo, c.amount)
                    })
                    .collect(),
            ),
            Err(Error::Unsupported { .. }) => Record::Unreadable,
            Err(e) => panic!("{}: reading the finance record: {e}", self.account),
        }
    }
}

fn credentials(sim: &dyn Simulator) -> Credentials {
    let mut c = Credentials::new();
    for (k, v) in sim.sandbox_credentials() {
        c.insert(&k, &v);
    }
    c
}

/// The environment every child runs in: the test database, its key, a short upstream
/// timeout, quiet logs, and a directory of its own (no stray `idcgate.toml`).
pub struct Children {
    pub database_url: String,
    pub dir: PathBuf,
    pub timeout_secs: u64,
}

impl Children {
    pub fn command(&self, args: &[String]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .env("IDCGATE_DATABASE_URL", &self.database_url)
            .env("IDCGATE_MASTER_KEY", TEST_KEY_HEX)
            .env("IDCGATE_DATA_DIR", &self.dir)
            .env("IDCGATE_TIMEOUT", self.timeout_secs.to_string())
            .env("IDCGATE_LOG", "error")
            .env_remove("IDCGATE_CONFIG")
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }
}

/// How one child run ended.
#[derive(Debug, Clone)]
pub struct Run {
    pub killed: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Run {
    /// What the CLI said, in the soak's categories.
    pub fn outcome(&self) -> &'static str {
        if self.killed {
            "killed"
        } else if self.code == Some(0) {
            "succeeded"
        } else if self.stderr.contains("unknown outcome") {
            "unknown"
        } else if self.stderr.contains("is failed") {
            "failed"
        } else if self.stderr.contains(" is pending") || self.stderr.contains(" is submitted") {
            "open (earlier run)"
        } else if self.stderr.contains("settle it first") {
            "held back (an open order on the resource)"
        } else {
            "refused before ordering"
        }
    }
}

/// Runs a child to its end, or SIGKILLs it once `kill_after` has passed.
pub fn run_child(mut cmd: Command, kill_after: Option<Duration>) -> Run {
    let started = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let mut killed = false;
    if let Some(after) = kill_after {
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if started.elapsed() >= after {
                // Child::kill is SIGKILL on Unix: no destructor, no flush, no rollback.
                killed = child.kill().is_ok();
                break;
            }
            std::thread::sleep(Duration::from_micros(500));
        }
    }
    let out = child.wait_with_output().unwrap();
    Run {
        killed,
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: started.elapsed(),
    }
}

/// One planned purchase.
#[derive(Debug, Clone)]
struct Flow {
    n: usize,
    upstream: usize,
    recipe: Recipe,
    target: String,
    key: String,
    kill_after: Option<Duration>,
    rerun: bool,
}

impl Flow {
    fn args(&self, account: &str) -> Vec<String> {
        let r = &self.recipe;
        let mut a: Vec<String> = vec![
            "order".into(),
            "place".into(),
            account.into(),
            r.operation.as_str().into(),
            self.target.clone(),
            "--kind".into(),
            r.kind.as_str().into(),
            "--months".into(),
            r.months.to_string(),
        ];
        if let Some(o) = r.offer {
            a.extend(["--offer".into(), o.into()]);
        }
        for (k, v) in r.options {
            a.extend(["--opt".into(), format!("{k}={v}")]);
        }
        a.extend(["--idempotency-key".into(), self.key.clone(), "--yes".into()]);
        a
    }
}

struct Done {
    flow: Flow,
    first: Run,
    again: Option<Run>,
}

/// One upstream account's figures after reconciliation.
#[derive(Debug, Clone)]
pub struct AccountFigures {
    pub account: String,
    /// `None` where the vendor's purchases are not told apart by URL.
    pub purchase_requests: Option<usize>,
    pub charges: usize,
    pub charged: Money,
    pub ledger_spend: Money,
    pub balance_change: Money,
    /// Whether the simulator's charge record could be read (else only the balance is
    /// compared).
    pub record_readable: bool,
}

/// What a run found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub backend: String,
    pub seed: u64,
    pub flows: usize,
    pub kills: usize,
    pub reruns: usize,
    pub outcomes: BTreeMap<String, usize>,
    pub by_purchase: BTreeMap<String, usize>,
    pub not_exercised: Vec<String>,
    /// Orders open (pending, submitted, unknown) when the flows ended.
    pub open_before_reconcile: BTreeMap<String, usize>,
    /// Orders `order reconcile` moved to a final state.
    pub reconciled: usize,
    pub reconcile_passes: usize,
    pub orders: usize,
    pub succeeded: usize,
    pub lost: usize,
    pub doubled: usize,
    /// Succeeded orders with no upstream charge (booked money that was never spent).
    pub phantom: usize,
    /// Targets whose charges and bookings agree in number but not in amount.
    pub misbooked: usize,
    pub unbalanced: usize,
    pub unsettled: usize,
    pub accounts: Vec<AccountFigures>,
    pub problems: Vec<String>,
    pub wall: Duration,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.lost == 0
            && self.doubled == 0
            && self.phantom == 0
            && self.misbooked == 0
            && self.unbalanced == 0
            && self.unsettled == 0
            && self
                .accounts
                .iter()
                .all(|a| a.ledger_spend == a.balance_change)
            && self.problems.is_empty()
    }

    #[track_caller]
    pub fn assert_clean(&self) {
        assert!(self.is_clean(), "soak found money problems:\n{self}");
    }
}

/// A report's first line: which soak, on which backend, and how to replay it.
fn heading(f: &mut fmt::Formatter<'_>, soak: &str, backend: &str, seed: u64) -> fmt::Result {
    writeln!(
        f,
        "{soak} on {backend} (seed {seed:#x}; replay with IDCGATE_SOAK_SEED={seed:#x})"
    )
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        heading(f, "fault soak", &self.backend, self.seed)?;
        writeln!(
            f,
            "  flows {}, killed {}, re-run with the same key {}, wall {:.1}s",
            self.flows,
            self.kills,
            self.reruns,
            self.wall.as_secs_f64()
        )?;
        let join = |m: &BTreeMap<String, usize>| {
            m.iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(f, "  purchases: {}", join(&self.by_purchase))?;
        writeln!(f, "  first runs: {}", join(&self.outcomes))?;
        if !self.not_exercised.is_empty() {
            writeln!(
                f,
                "  sold but not exercised (no recipe): {}",
                self.not_exercised.join(", ")
            )?;
        }
        writeln!(
            f,
            "  open after the flows: {} -> reconciled {} in {} pass(es); orders {}, succeeded {}",
            if self.open_before_reconcile.is_empty() {
                "none".to_string()
            } else {
                join(&self.open_before_reconcile)
            },
            self.reconciled,
            self.reconcile_passes,
            self.orders,
            self.succeeded
        )?;
        writeln!(
            f,
            "  lost {}, doubled {}, phantom {}, misbooked {}, unbalanced transactions {}, unsettled {}",
            self.lost, self.doubled, self.phantom, self.misbooked, self.unbalanced, self.unsettled
        )?;
        for a in &self.accounts {
            writeln!(
                f,
                "  {}: purchase requests {}, charges {} ({}{}), ledger spend {}, balance change {} -> {}",
                a.account,
                a.purchase_requests
                    .map_or_else(|| "-".to_string(), |n| n.to_string()),
                a.charges,
                a.charged,
                if a.record_readable { "" } else { ", record unreadable" },
                a.ledger_spend,
                a.balance_change,
                if a.ledger_spend == a.balance_change {
                    "equal to the fen"
                } else {
                    "DIFFERENT"
                }
            )?;
        }
        for p in &self.problems {
            writeln!(f, "  problem: {p}")?;
        }
        Ok(())
    }
}

/// The vendors the soak runs: every registry vendor whose account sells something.
pub async fn upstreams() -> Vec<Upstream> {
    let mut all = Vec::new();
    for entry in idcgate::vendors::registry().entries() {
        let name = format!("soak-{}", entry.vendor);
        let up = Upstream::start(entry.vendor, &name).await;
        if !up.sells.is_empty() {
            all.push(up);
        }
    }
    all
}

fn recipes_for(up: &Upstream) -> (Vec<Recipe>, Vec<String>) {
    let mut use_ = Vec::new();
    let mut missing = Vec::new();
    for &(kind, op) in &up.sells {
        let found: Vec<Recipe> = RECIPES
            .iter()
            .filter(|r| {
                r.kind == kind && r.operation == op && r.vendor.is_none_or(|v| v == up.vendor)
            })
            .copied()
            .collect();
        if found.is_empty() {
            missing.push(format!("{} {} {}", up.vendor, op, kind.as_str()));
        }
        use_.extend(found);
    }
    (use_, missing)
}

/// Registers `n` domains at `up` through the clean server: renewal targets from the
/// first flow on.
async fn seed_domains(up: &Upstream, prefix: &str, n: usize) -> Vec<String> {
    let Some(registrar) = up.conn.registrar() else {
        return Vec::new();
    };
    let mut names = Vec::new();
    for i in 0..n {
        let name = format!("{prefix}p{i:05}.com");
        registrar.register(&name, 1, &name).await.unwrap();
        names.push(name);
    }
    names
}

/// Runs the soak on `db` and reports what it found (it asserts nothing itself).
pub async fn run(db: &TestDb, opts: &Options) -> Report {
    let started = Instant::now();
    let backend = if db.url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    eprintln!(
        "fault soak on {backend}: {} flows, seed {:#x} (IDCGATE_SOAK_SEED={:#x} replays it)",
        opts.flows, opts.seed, opts.seed
    );
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let dir = tempfile::tempdir().unwrap();
    let children = Children {
        database_url: db.url.clone(),
        dir: dir.path().to_path_buf(),
        timeout_secs: opts.timeout_secs,
    };
    // Fixed-width names: no target's name is inside another's, so a memo naming one
    // names only it.
    let prefix = format!("s{:06x}", rng.gen::<u32>() >> 8);
    let mut ups = upstreams().await;
    let mut report = Report {
        backend: backend.into(),
        seed: opts.seed,
        flows: opts.flows,
        ..Default::default()
    };
    let mut tables = Vec::new();
    // Per account and kind: what later flows may renew or upgrade.
    let mut pools: Vec<HashMap<ResourceKind, Vec<String>>> = Vec::new();
    let mut targets: Vec<BTreeSet<String>> = Vec::new();
    // An account that sells nothing the soak can buy is listed, not run.
    ups.retain(|up| {
        let (use_, missing) = recipes_for(up);
        report.not_exercised.extend(missing);
        !use_.is_empty()
    });
    for up in ups.iter_mut() {
        db.store.add_account(&up.upstream_account()).await.unwrap();
        let (use_, _) = recipes_for(up);
        let seeded = if use_.iter().any(|r| r.kind == ResourceKind::Domain) {
            let p = format!("{prefix}{}", &up.vendor.to_string()[..2]);
            seed_domains(up, &p, opts.seed_domains).await
        } else {
            Vec::new()
        };
        let mut pool = HashMap::from([(ResourceKind::Domain, seeded)]);
        for r in &use_ {
            if r.operation != Operation::Create && !pool.contains_key(&r.kind) {
                pool.insert(r.kind, up.handle.existing(r.kind));
            }
        }
        targets.push(pool.values().flatten().cloned().collect());
        pools.push(pool);
        tables.push(use_);
    }
    // Before: after seeding, so only the soak's own purchases count.
    for (i, up) in ups.iter_mut().enumerate() {
        up.balance_before = up.balance().await;
        up.record_before = up.record(&targets[i]).await;
    }
    let usable: Vec<usize> = (0..ups.len()).filter(|&i| !tables[i].is_empty()).collect();
    assert!(
        !usable.is_empty(),
        "no account sells anything the soak can buy"
    );

    let mut planned: BTreeMap<String, Flow> = BTreeMap::new();
    let mut keys_per_target: BTreeMap<(usize, String), BTreeSet<String>> = BTreeMap::new();
    let mut durations: Vec<Duration> = Vec::new();
    let mut running = tokio::task::JoinSet::new();
    let mut next = 0usize;
    let children = Arc::new(children);
    while next < opts.flows || !running.is_empty() {
        if next < opts.flows && running.len() < opts.parallel {
            let u = usable[rng.gen_range(0..usable.len())];
            let table = &tables[u];
            let weights: Vec<u32> = table
                .iter()
                .map(|r| {
                    let has_target = pools[u].get(&r.kind).is_some_and(|p| !p.is_empty());
                    if r.operation == Operation::Create || has_target {
                        r.weight
                    } else {
                        0
                    }
                })
                .collect();
            let total: u32 = weights.iter().sum();
            let mut pick = rng.gen_range(0..total.max(1));
            let mut ri = 0;
            for (i, w) in weights.iter().enumerate() {
                if pick < *w {
                    ri = i;
                    break;
                }
                pick -= w;
            }
            let recipe = table[ri];
            // Renewals and upgrades pick among what was seeded and every create planned
            // so far (one that failed or is still running is refused or held back).
            let pool = pools[u].entry(recipe.kind).or_default();
            let target = if recipe.operation == Operation::Create {
                let name = match recipe.naming {
                    Naming::Numbered => format!("{prefix}n{next:05}{}", recipe.suffix),
                    Naming::Letters => letters_name(&prefix, next, recipe.suffix),
                };
                pool.push(name.clone());
                name
            } else {
                pool[rng.gen_range(0..pool.len())].clone()
            };
            // Kill somewhere in a typical flow's life, calibrated on the flows that ran
            // to their end so far; the draws are the same whatever the timing, so a seed
            // replays the plan.
            let window = median(&durations).unwrap_or(Duration::from_millis(80));
            let kill = rng.gen_bool(opts.kill_share);
            let at: f64 = rng.gen();
            let kill_after = window.mul_f64(1.5 * at).max(Duration::from_millis(1));
            let rerun = rng.gen_bool(opts.rerun_share) && kill;
            let latency = opts.latencies_ms[rng.gen_range(0..opts.latencies_ms.len())];
            let flow = Flow {
                n: next,
                upstream: u,
                recipe,
                target: target.clone(),
                key: format!("soak-{:016x}-{next:06}", opts.seed),
                kill_after: kill.then_some(kill_after),
                rerun,
            };
            next += 1;
            ups[u].served.faults.set(FaultConfig {
                latency_ms: latency,
                error_rate: opts.error_rate,
                drop_after_commit_rate: opts.drop_after_commit_rate,
                malformed_rate: opts.malformed_rate,
                ..Default::default()
            });
            targets[u].insert(target.clone());
            keys_per_target
                .entry((u, target))
                .or_default()
                .insert(flow.key.clone());
            planned.insert(flow.key.clone(), flow.clone());
            let args = flow.args(&ups[u].account);
            let ch = children.clone();
            running.spawn_blocking(move || {
                let first = run_child(ch.command(&args), flow.kill_after);
                let again =
                    (first.killed && flow.rerun).then(|| run_child(ch.command(&args), None));
                Done { flow, first, again }
            });
            continue;
        }
        let Some(done) = running.join_next().await else {
            break;
        };
        let done = done.unwrap();
        let f = &done.flow;
        *report
            .by_purchase
            .entry(format!(
                "{} {} {}",
                ups[f.upstream].vendor,
                f.recipe.operation,
                f.recipe.kind.as_str()
            ))
            .or_default() += 1;
        *report
            .outcomes
            .entry(done.first.outcome().to_string())
            .or_default() += 1;
        if done.first.killed {
            report.kills += 1;
        } else {
            durations.push(done.first.took);
        }
        if done.again.is_some() {
            report.reruns += 1;
        }
    }

    // `--stale-after 0s` is right only once nothing is placing: every child has exited;
    // give a request a killed child left in the simulator's latency time to land.
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Settle: once with the faults still on, then without until nothing is open.
    let before = all_orders(&db.store).await;
    for o in before.iter().filter(|o| !o.state.is_final()) {
        *report
            .open_before_reconcile
            .entry(o.state.as_str().to_string())
            .or_default() += 1;
    }
    let open = |orders: &[OrderRow]| orders.iter().filter(|o| !o.state.is_final()).count();
    for pass in 0..6 {
        if pass == 1 {
            for up in &ups {
                up.served.faults.set(FaultConfig::default());
            }
        }
        if pass > 0 && open(&all_orders(&db.store).await) == 0 {
            break;
        }
        let args: Vec<String> = ["order", "reconcile", "--stale-after", "0s"]
            .map(String::from)
            .to_vec();
        let ch = children.clone();
        let run = tokio::task::spawn_blocking(move || run_child(ch.command(&args), None))
            .await
            .unwrap();
        report.reconcile_passes += 1;
        if run.code != Some(0) {
            report
                .problems
                .push(format!("order reconcile failed: {}", run.stderr.trim()));
        }
    }
    for up in &ups {
        up.served.faults.set(FaultConfig::default());
    }
    let orders = all_orders(&db.store).await;
    report.orders = orders.len();
    report.unsettled = open(&orders);
    report.reconciled = open(&before) - report.unsettled.min(open(&before));
    report.succeeded = orders
        .iter()
        .filter(|o| o.state == OrderState::Succeeded)
        .count();
    report.unbalanced = db.store.unbalanced_transactions().await.unwrap().len();
    for o in &orders {
        match planned.get(&o.order.idem_key) {
            Some(f) if f.target == o.order.target && ups[f.upstream].account == o.order.account => {
            }
            _ => report.problems.push(format!(
                "order {} (key {}) is not what its key planned",
                o.id, o.order.idem_key
            )),
        }
    }

    // Every upstream charge against the journal and the ledger.
    for (u, up) in ups.iter().enumerate() {
        let after = up.record(&targets[u]).await;
        let balance_change = Money(up.balance_before.0 - up.balance().await.0);
        let lines = db
            .store
            .ledger_lines(&LedgerFilter {
                account: Some(LedgerAccount::upstream(&up.account).to_string()),
                since_ms: None,
                limit: Some(i64::MAX),
            })
            .await
            .unwrap();
        let ledger_spend = Money::from_fen(-lines.iter().map(|l| l.fen).sum::<i64>());
        let mine: Vec<&OrderRow> = orders
            .iter()
            .filter(|o| o.order.account == up.account && o.state == OrderState::Succeeded)
            .collect();
        let mut names: BTreeMap<String, String> =
            targets[u].iter().map(|t| (t.clone(), t.clone())).collect();
        for ((_, t), keys) in keys_per_target.iter().filter(|((uu, _), _)| *uu == u) {
            names.extend(keys.iter().map(|k| (k.clone(), t.clone())));
        }
        let new = after.since(&up.record_before, &names);
        if let Some(new) = &new {
            for t in &targets[u] {
                let charged = new.by_target.get(t).map(Vec::as_slice).unwrap_or_default();
                let booked: Vec<&&OrderRow> =
                    mine.iter().filter(|o| &o.order.target == t).collect();
                let keys = keys_per_target
                    .get(&(u, t.clone()))
                    .map_or(0, BTreeSet::len);
                let (c, s) = (charged.len(), booked.len());
                // More purchases than keys that asked: a key bought twice.
                let doubled = c.saturating_sub(keys);
                report.doubled += doubled;
                report.lost += c.saturating_sub(s).saturating_sub(doubled);
                report.phantom += s.saturating_sub(c);
                let booked_sum = Money::from_fen(
                    booked
                        .iter()
                        .map(|o| o.charged_fen.unwrap_or(o.order.quoted_fen))
                        .sum(),
                );
                if c == s && sum(charged) != booked_sum {
                    report.misbooked += 1;
                }
                if c != s || sum(charged) != booked_sum {
                    report.problems.push(format!(
                        "{} {t}: upstream charged {c} time(s) {} for {keys} key(s); the journal booked {s} order(s) {}",
                        up.account,
                        sum(charged),
                        booked_sum
                    ));
                }
            }
            // A charge naming nothing the soak bought belongs to no order: lost.
            report.lost += new.unattributed.len();
            for what in &new.unattributed {
                report
                    .problems
                    .push(format!("{}: charge with no order: {what}", up.account));
            }
        }
        report.accounts.push(AccountFigures {
            account: up.account.clone(),
            purchase_requests: Some(purchase_markers(up.vendor))
                .filter(|m| !m.is_empty())
                .map(|m| up.served.count(m)),
            charges: new.as_ref().map_or(0, |n| n.all.len()),
            charged: new.as_ref().map_or(Money::ZERO, |n| sum(&n.all)),
            ledger_spend,
            balance_change,
            record_readable: new.is_some(),
        });
    }
    report.wall = started.elapsed();
    drop(dir);
    report
}

async fn all_orders(store: &dyn OrderStore) -> Vec<OrderRow> {
    store
        .list_orders(&OrderFilter {
            limit: Some(i64::MAX),
            ..Default::default()
        })
        .await
        .unwrap()
}

/// `z`, four letters for the run (from `prefix`'s hex digits) and five for the flow.
fn letters_name(prefix: &str, n: usize, suffix: &str) -> String {
    let letter = |d: usize| char::from(b'a' + (d % 26) as u8);
    let run = prefix
        .chars()
        .filter_map(|c| c.to_digit(16))
        .take(4)
        .map(|d| letter(d as usize));
    let flow = (0..5).rev().map(|i| letter(n / 26usize.pow(i)));
    std::iter::once('z')
        .chain(run)
        .chain(flow)
        .chain(suffix.chars())
        .collect()
}

fn sum(m: &[Money]) -> Money {
    Money(m.iter().map(|m| m.0).sum())
}

fn median(d: &[Duration]) -> Option<Duration> {
    if d.is_empty() {
        return None;
    }
    let mut v = d.to_vec();
    v.sort();
    Some(v[v.len() / 2])
}

/// Places one key from two `idcgate` processes at once, against an upstream that
/// answers slowly enough for them to overlap; returns (purchase requests the simulator
/// saw, orders under the key, the two runs).
pub async fn same_key_twice(db: &TestDb, vendor: Vendor) -> (usize, Vec<OrderRow>, Vec<Run>) {
    let up = Upstream::start(vendor, &format!("twice-{vendor}")).await;
    db.store.add_account(&up.upstream_account()).await.unwrap();
    // Every request slow: both processes are inside their purchase at once.
    up.served.faults.set(FaultConfig {
        latency_ms: 150,
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let children = Arc::new(Children {
        database_url: db.url.clone(),
        dir: dir.path().to_path_buf(),
        timeout_secs: 10,
    });
    let name = format!("twice{:08x}.com", rand::random::<u32>());
    let key = format!("twice-{name}");
    let args: Vec<String> = [
        "order",
        "place",
        up.account.as_str(),
        "register",
        name.as_str(),
        "--years",
        "1",
        "--idempotency-key",
        key.as_str(),
        "--yes",
    ]
    .map(String::from)
    .to_vec();
    let barrier = Arc::new(std::sync::Barrier::new(2));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..2 {
        let (ch, args, b) = (children.clone(), args.clone(), barrier.clone());
        set.spawn_blocking(move || {
            let cmd = ch.command(&args);
            b.wait();
            run_child(cmd, None)
        });
    }
    let mut runs = Vec::new();
    while let Some(r) = set.join_next().await {
        runs.push(r.unwrap());
    }
    let orders: Vec<OrderRow> = db
        .store
        .list_orders(&OrderFilter {
            account: Some(up.account.clone()),
            limit: Some(i64::MAX),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|o| o.order.idem_key == key)
        .collect();
    let purchases = up.served.count(purchase_markers(vendor));
    drop(dir);
    (purchases, orders, runs)
}
