//! The operations fault soak (issue 12): DNS record and server power operations sent to
//! the REST API of a real `idcgate serve` child, with errors, answers dropped after the
//! upstream committed and broken bodies injected at the simulators (the money soak's
//! [`Upstream`]s: each simulator served faulted for the child and clean for the harness).
//! After every operation the harness reads the simulator through its clean server and
//! sorts what the API said against what the upstream holds:
//!
//! - reported ok but not done, reported failed but done: must be 0;
//! - unknown outcome (the API says it cannot know): allowed, counted;
//!
//! and at the end every operation has an audit entry saying what the API said (ok,
//! unknown or failed), no audit intent is left unfinished, and, after a burst of
//! operations in flight is SIGKILLed with the server, every write the upstream received
//! was announced by an audit intent first.
//!
//! Shared by `tests/ops_soak.rs` (CI) and `benches/ops_soak.rs` (the long run).

use super::{upstreams, Children, Upstream};
use idcgate_core::{DnsRecord, PowerState, ResourceKind, Server, Vendor};
use idcgate_store::testing::TestDb;
use idcgate_store::{ResourceFilter, Scope, Store};
use idcgate_wire::FaultConfig;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufRead, BufReader};
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct OpsOptions {
    /// DNS flows: each adds a record, changes it, disables, enables and deletes it.
    pub dns_flows: usize,
    /// Power operations (stop, start, ...) on each server.
    pub server_ops: usize,
    pub parallel: usize,
    pub seed: u64,
    pub error_rate: f64,
    pub drop_after_commit_rate: f64,
    pub malformed_rate: f64,
    /// The server's upstream timeout: how long a dropped answer holds an operation.
    pub timeout_secs: u64,
    /// Operations in flight when the server is SIGKILLed (0: no kill).
    pub kill_burst: usize,
}

impl OpsOptions {
    /// 10% of upstream requests faulted (errors 4%, answers dropped after the commit
    /// 3%, broken bodies 3%); the seed from `IDCGATE_SOAK_SEED` when set.
    pub fn new(dns_flows: usize, server_ops: usize) -> Self {
        OpsOptions {
            dns_flows,
            server_ops,
            parallel: 8,
            seed: super::Options::new(0).seed,
            error_rate: 0.04,
            drop_after_commit_rate: 0.03,
            malformed_rate: 0.03,
            timeout_secs: 1,
            kill_burst: 24,
        }
    }
}

/// What the API said of one operation.
#[derive(Debug, Clone, PartialEq)]
enum Said {
    Ok(Value),
    /// The API's error kind.
    Failed(String),
    Unknown,
}

impl Said {
    fn category(&self) -> &'static str {
        match self {
            Said::Ok(_) => "ok",
            Said::Failed(_) => "failed",
            Said::Unknown => "unknown",
        }
    }
}

/// One operation as sent and as answered, for the audit comparison.
#[derive(Debug, Clone)]
struct Sent {
    action: String,
    target: String,
    said: &'static str,
    /// The API's error for a failure ("502 transport").
    failure: Option<String>,
}

#[derive(Debug, Default)]
pub struct OpsReport {
    pub backend: String,
    pub seed: u64,
    pub ops: usize,
    /// action -> said (ok / failed / unknown) -> count.
    pub by_action: BTreeMap<String, BTreeMap<&'static str, usize>>,
    /// The failures the API answered, by action and error ("server.start 400 invalid_input").
    pub failures: BTreeMap<String, usize>,
    pub failed_but_done: Vec<String>,
    pub ok_but_not_done: Vec<String>,
    /// Operations whose audit entry is missing or says otherwise than the API.
    pub audit_mismatch: Vec<String>,
    pub unfinished_intents: usize,
    pub upstream_requests: u64,
    pub kill_burst_sent: usize,
    /// Writes the upstream received during the killed burst, and intents written for it.
    pub burst_writes: usize,
    pub burst_intents: usize,
    pub wall: Duration,
}

impl OpsReport {
    pub fn is_clean(&self) -> bool {
        self.failed_but_done.is_empty()
            && self.ok_but_not_done.is_empty()
            && self.audit_mismatch.is_empty()
            && self.unfinished_intents == 0
            && self.burst_writes <= self.burst_intents
    }

    #[track_caller]
    pub fn assert_clean(&self) {
        assert!(
            self.is_clean(),
            "the operations soak found problems:\n{self}"
        );
    }
}

impl fmt::Display for OpsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        super::heading(f, "operations fault soak", &self.backend, self.seed)?;
        writeln!(
            f,
            "  operations {} through REST, upstream requests {}, wall {:.1}s",
            self.ops,
            self.upstream_requests,
            self.wall.as_secs_f64()
        )?;
        for (action, said) in &self.by_action {
            let said: Vec<String> = said.iter().map(|(k, v)| format!("{k} {v}")).collect();
            writeln!(f, "  {action}: {}", said.join(", "))?;
        }
        if !self.failures.is_empty() {
            let failures: Vec<String> = self
                .failures
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            writeln!(f, "  failures answered: {}", failures.join(", "))?;
        }
        writeln!(
            f,
            "  reported failed but done {}, reported ok but not done {}, audit mismatches {}, unfinished intents {}",
            self.failed_but_done.len(),
            self.ok_but_not_done.len(),
            self.audit_mismatch.len(),
            self.unfinished_intents
        )?;
        writeln!(
            f,
            "  SIGKILL burst: {} operations in flight, {} writes reached the upstreams, {} audit intents written",
            self.kill_burst_sent, self.burst_writes, self.burst_intents
        )?;
        for p in self
            .failed_but_done
            .iter()
            .chain(&self.ok_but_not_done)
            .chain(&self.audit_mismatch)
        {
            writeln!(f, "  problem: {p}")?;
        }
        Ok(())
    }
}

/// A running `idcgate serve` and how to reach its API.
struct Api {
    child: Mutex<Child>,
    url: String,
    token: String,
    http: reqwest::Client,
}

impl Drop for Api {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Api {
    async fn start(children: &Children, token: &str) -> Api {
        let mut child = children
            .command(&[
                "serve".to_string(),
                "--listen".to_string(),
                "127.0.0.1:0".to_string(),
            ])
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let url = tokio::task::spawn_blocking(move || {
            let mut lines = BufReader::new(stderr).lines();
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                let Some(Ok(line)) = lines.next() else { break };
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let url = rest.split_whitespace().next().unwrap().to_string();
                    // Keep draining so the child never blocks on a full pipe.
                    std::thread::spawn(move || for _ in lines {});
                    return Some(url);
                }
            }
            None
        })
        .await
        .unwrap()
        .expect("idcgate serve did not start");
        Api {
            child: Mutex::new(child),
            url,
            token: token.to_string(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .unwrap(),
        }
    }

    /// SIGKILL (`Child::kill` on Unix): no destructor, no flush, nothing completed.
    fn kill(&self) {
        let mut child = idcgate_core::lock(&self.child);
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Sends one request; `None` if no answer came (the server was killed).
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Option<(u16, Value)> {
        let url = format!("{}/api/v1{path}", self.url);
        let mut req = match method {
            "POST" => self.http.post(&url),
            "PUT" => self.http.put(&url),
            "DELETE" => self.http.delete(&url),
            _ => self.http.get(&url),
        }
        .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.ok()?;
        let status = resp.status().as_u16();
        let text = resp.text().await.ok()?;
        Some((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    async fn said(&self, method: &str, path: &str, body: Option<Value>) -> Said {
        match self.call(method, path, body).await {
            Some((status, v)) if (200..300).contains(&status) => Said::Ok(v),
            Some((_, v)) if v["error"]["kind"] == "unknown_outcome" => Said::Unknown,
            Some((status, v)) => Said::Failed(format!(
                "{status} {}",
                v["error"]["kind"].as_str().unwrap_or("?")
            )),
            None => Said::Failed("no answer".into()),
        }
    }
}

/// What the soak acts on at one upstream account.
struct Targets {
    zones: Vec<String>,
    servers: Vec<String>,
}

/// Shared by the flows: what was sent and what was found wrong.
#[derive(Default)]
struct Tally {
    sent: Vec<Sent>,
    failed_but_done: Vec<String>,
    ok_but_not_done: Vec<String>,
}

type Shared = Arc<Mutex<Tally>>;

fn note(t: &Shared, action: &str, target: &str, said: &Said) {
    idcgate_core::lock(t).sent.push(Sent {
        action: action.into(),
        target: target.into(),
        said: said.category(),
        failure: match said {
            Said::Failed(kind) => Some(format!("{action} {kind}")),
            _ => None,
        },
    });
}

fn wrong(t: &Shared, ok_but_not_done: bool, what: String) {
    let mut t = idcgate_core::lock(t);
    if ok_but_not_done {
        t.ok_but_not_done.push(what);
    } else {
        t.failed_but_done.push(what);
    }
}

async fn records(up: &Upstream, zone: &str) -> Vec<DnsRecord> {
    up.conn.dns().unwrap().list_records(zone).await.unwrap()
}

async fn server(up: &Upstream, id: &str) -> Server {
    up.conn.compute().unwrap().get_server(id).await.unwrap()
}

/// One record's life: add, change, disable, enable, delete; each checked upstream.
async fn dns_flow(api: &Api, up: &Upstream, zone: &str, name: &str, tally: &Shared) {
    let account = &up.account;
    let records_path = format!("/dns/{zone}/records");
    // The record's body with `value`; the flow writes it twice.
    let txt = |value: &str| Some(json!({"host": name, "type": "TXT", "value": value, "ttl": 600}));
    let v1 = format!("{name}-a");
    let said = api.said("POST", &records_path, txt(&v1)).await;
    note(tally, "dns.add", &format!("{account}/{zone}"), &said);
    let now = records(up, zone).await;
    let mine: Vec<&DnsRecord> = now.iter().filter(|r| r.host == name).collect();
    let id = match &said {
        Said::Ok(v) => {
            let id = v["id"].as_str().unwrap_or_default().to_string();
            if !mine
                .iter()
                .any(|r| r.upstream_id.as_deref() == Some(&id) && r.value == v1)
            {
                wrong(
                    tally,
                    true,
                    format!("dns.add {zone} {name}: {v} not upstream"),
                );
                return;
            }
            id
        }
        Said::Failed(kind) => {
            if !mine.is_empty() {
                wrong(
                    tally,
                    false,
                    format!("dns.add {zone} {name}: said {kind}, created"),
                );
            }
            return;
        }
        Said::Unknown => match mine.first().and_then(|r| r.upstream_id.clone()) {
            Some(id) => id,
            None => return,
        },
    };
    let record_path = format!("{records_path}/{id}");
    let target = format!("{account}/{zone}/{id}");

    let v2 = format!("{name}-b");
    let said = api.said("PUT", &record_path, txt(&v2)).await;
    note(tally, "dns.set", &target, &said);
    let now = records(up, zone).await;
    let changed = now.iter().find(|r| r.value == v2);
    let id = match (&said, changed) {
        (Said::Ok(v), Some(r)) if r.upstream_id.as_deref() == v["id"].as_str() => {
            r.upstream_id.clone().unwrap_or(id)
        }
        (Said::Ok(v), _) => {
            wrong(tally, true, format!("dns.set {target}: {v} not upstream"));
            return;
        }
        (Said::Failed(kind), Some(_)) => {
            wrong(
                tally,
                false,
                format!("dns.set {target}: said {kind}, changed"),
            );
            return;
        }
        (_, Some(r)) => r.upstream_id.clone().unwrap_or(id),
        (_, None) => id,
    };
    let record_path = format!("{records_path}/{id}");
    let target = format!("{account}/{zone}/{id}");

    for enabled in [false, true] {
        let (verb, action) = if enabled {
            ("enable", "dns.enable")
        } else {
            ("disable", "dns.disable")
        };
        let before = records(up, zone)
            .await
            .into_iter()
            .find(|r| r.upstream_id.as_deref() == Some(&id))
            .map(|r| r.enabled);
        let said = api
            .said("POST", &format!("{record_path}/{verb}"), None)
            .await;
        note(tally, action, &target, &said);
        let after = records(up, zone)
            .await
            .into_iter()
            .find(|r| r.upstream_id.as_deref() == Some(&id))
            .map(|r| r.enabled);
        match &said {
            Said::Ok(_) if after != Some(enabled) => {
                wrong(tally, true, format!("{action} {target}: {after:?}"));
            }
            Said::Failed(kind) if after != before => {
                wrong(
                    tally,
                    false,
                    format!("{action} {target}: said {kind}, {before:?} -> {after:?}"),
                );
            }
            _ => {}
        }
    }

    let said = api.said("DELETE", &record_path, None).await;
    note(tally, "dns.rm", &target, &said);
    let there = records(up, zone)
        .await
        .iter()
        .any(|r| r.upstream_id.as_deref() == Some(&id));
    match &said {
        Said::Ok(_) if there => wrong(tally, true, format!("dns.rm {target}: still there")),
        Said::Failed(kind) if !there => wrong(
            tally,
            false,
            format!("dns.rm {target}: said {kind}, deleted"),
        ),
        _ => {}
    }
}

/// Stops and starts one server `n` times over; each checked upstream.
async fn server_flow(api: &Api, up: &Upstream, id: &str, n: usize, tally: &Shared) {
    let account = &up.account;
    let target = format!("{account}/{id}");
    let path = format!("/servers/{account}/{id}/actions");
    for _ in 0..n {
        let before = server(up, id).await.power;
        let (verb, want) = if before == PowerState::Running {
            ("stop", PowerState::Stopped)
        } else {
            ("start", PowerState::Running)
        };
        let action = format!("server.{verb}");
        let said = api
            .said("POST", &path, Some(json!({ "action": verb })))
            .await;
        note(tally, &action, &target, &said);
        let after = server(up, id).await.power;
        match &said {
            Said::Ok(_) if after != want => {
                wrong(tally, true, format!("{action} {target}: {after:?}"))
            }
            Said::Failed(kind) if after != before => wrong(
                tally,
                false,
                format!("{action} {target}: said {kind}, {before:?} -> {after:?}"),
            ),
            _ => {}
        }
    }
}

fn set_faults(ups: &[Upstream], opts: &OpsOptions) {
    for up in ups {
        up.served.faults.set(FaultConfig {
            error_rate: opts.error_rate,
            drop_after_commit_rate: opts.drop_after_commit_rate,
            malformed_rate: opts.malformed_rate,
            ..Default::default()
        });
    }
}

fn clear_faults(ups: &[Upstream]) {
    for up in ups {
        up.served.faults.set(FaultConfig::default());
    }
}

/// Markers of the writes a vendor's DNS and power operations send (path and query, lower
/// case), for the SIGKILL burst's count of what reached the upstream.
fn write_markers(vendor: Vendor) -> &'static [&'static str] {
    match vendor {
        Vendor::West => &[
            "act=adddnsrecord",
            "act=moddnsrecord",
            "act=deldnsrecord",
            "act=pausednsrecord",
            "act=setstatus",
        ],
        Vendor::Dnspod => &[
            "/record.create",
            "/record.modify",
            "/record.remove",
            "/record.status",
        ],
        _ => &[],
    }
}

/// Runs the soak on `db` and reports what it found (it asserts nothing itself).
pub async fn run(db: &TestDb, opts: &OpsOptions) -> OpsReport {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let mut report = OpsReport {
        backend: if db.url.starts_with("postgres") {
            "PostgreSQL".into()
        } else {
            "SQLite".into()
        },
        seed: opts.seed,
        ..Default::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let children = Children {
        database_url: db.url.clone(),
        dir: dir.path().to_path_buf(),
        timeout_secs: opts.timeout_secs,
    };
    let ups = Arc::new(upstreams_with_operations().await);
    for up in ups.iter() {
        db.store.add_account(&up.upstream_account()).await.unwrap();
    }
    let (_, token) = db
        .store
        .create_token("soak", Scope::Operate, 0)
        .await
        .unwrap();
    let api = Arc::new(Api::start(&children, &token).await);
    let (status, synced) = api.call("POST", "/sync", None).await.unwrap();
    assert_eq!(status, 200, "{synced}");
    let targets = targets(&db.store, &ups).await;

    let prefix = format!("o{:05x}", rng.gen::<u32>() >> 12);
    let requests_before: u64 = ups.iter().map(|u| u.served.faults.requests()).sum();
    set_faults(&ups, opts);
    let tally: Shared = Arc::default();
    let mut running = tokio::task::JoinSet::new();
    let dns_at: Vec<(usize, &String)> = targets
        .iter()
        .enumerate()
        .flat_map(|(i, t)| t.zones.iter().map(move |z| (i, z)))
        .collect();
    assert!(!dns_at.is_empty(), "no zone to soak");
    let mut jobs: Vec<(usize, String, Option<String>)> = Vec::new();
    for n in 0..opts.dns_flows {
        let (i, zone) = dns_at[rng.gen_range(0..dns_at.len())];
        jobs.push((i, zone.clone(), Some(format!("{prefix}{n:04}"))));
    }
    for (i, t) in targets.iter().enumerate() {
        for s in &t.servers {
            jobs.push((i, s.clone(), None));
        }
    }
    let mut jobs = jobs.into_iter();
    loop {
        while running.len() < opts.parallel {
            let Some((i, target, name)) = jobs.next() else {
                break;
            };
            let (api, ups, tally) = (api.clone(), ups.clone(), tally.clone());
            let server_ops = opts.server_ops;
            running.spawn(async move {
                let up = &ups[i];
                match name {
                    Some(name) => dns_flow(&api, up, &target, &name, &tally).await,
                    None => server_flow(&api, up, &target, server_ops, &tally).await,
                }
            });
        }
        match running.join_next().await {
            Some(r) => r.unwrap(),
            None => break,
        }
    }
    clear_faults(&ups);
    report.upstream_requests =
        ups.iter().map(|u| u.served.faults.requests()).sum::<u64>() - requests_before;

    // Every operation audited as the API answered it, nothing left unfinished.
    let tally = std::mem::take(&mut *idcgate_core::lock(&tally));
    report.ops = tally.sent.len();
    report.failed_but_done = tally.failed_but_done;
    report.ok_but_not_done = tally.ok_but_not_done;
    for s in &tally.sent {
        *report
            .by_action
            .entry(s.action.clone())
            .or_default()
            .entry(s.said)
            .or_default() += 1;
        if let Some(f) = &s.failure {
            *report.failures.entry(f.clone()).or_default() += 1;
        }
    }
    let audit = db.store.list_audit(1_000_000).await.unwrap();
    let mut audited: BTreeMap<(String, String, &str), i64> = BTreeMap::new();
    for a in audit.iter().filter(|a| a.actor == "token:soak") {
        let said = match a.outcome.as_str() {
            "ok" => "ok",
            "unknown_outcome" => "unknown",
            _ => "failed",
        };
        if a.action.starts_with("dns.") || a.action.starts_with("server.") {
            *audited
                .entry((a.action.clone(), a.target.clone(), said))
                .or_default() += 1;
        }
    }
    for s in &tally.sent {
        *audited
            .entry((s.action.clone(), s.target.clone(), s.said))
            .or_default() -= 1;
    }
    for ((action, target, said), n) in audited {
        if n != 0 {
            report.audit_mismatch.push(format!(
                "{action} {target} said {said}: {} audit entries {} than answers",
                n.abs(),
                if n > 0 { "more" } else { "fewer" }
            ));
        }
    }
    report.unfinished_intents = db.store.unfinished_audit(1_000_000).await.unwrap().len();

    if opts.kill_burst > 0 {
        kill_burst(db, &children, &ups, &targets, opts, &prefix, &mut report).await;
    }
    drop(api);
    report.wall = started.elapsed();
    report
}

/// Every registry vendor whose sandbox account has DNS or servers to act on.
async fn upstreams_with_operations() -> Vec<Upstream> {
    let mut all = upstreams().await;
    // `upstreams` keeps accounts that sell something; XenSystem sells nothing but has
    // servers.
    for entry in idcgate::vendors::registry().entries() {
        if !all.iter().any(|u| u.vendor == entry.vendor) {
            all.push(Upstream::start(entry.vendor, &format!("soak-{}", entry.vendor)).await);
        }
    }
    all.retain(|u| u.conn.dns().is_some() || u.conn.compute().is_some());
    all
}

/// Zones (TXT records welcome) and running or stopped servers the inventory holds for
/// each upstream after the first sync.
async fn targets(store: &dyn Store, ups: &[Upstream]) -> Vec<Targets> {
    let mut out = Vec::new();
    for up in ups {
        let rows = |kind| ResourceFilter {
            account: Some(up.account.clone()),
            kind: Some(kind),
            ..Default::default()
        };
        let mut zones = Vec::new();
        if up.vendor == Vendor::West || up.vendor == Vendor::Dnspod {
            for z in store
                .list_resources(&rows(ResourceKind::DnsZone))
                .await
                .unwrap()
            {
                if up.conn.dns().unwrap().list_records(&z.key).await.is_ok() {
                    zones.push(z.key);
                }
            }
        }
        let mut servers = Vec::new();
        if up.conn.compute().is_some() {
            for s in store
                .list_resources(&rows(ResourceKind::Server))
                .await
                .unwrap()
            {
                // Only a server at rest: one its upstream is still installing powers on
                // by itself when the install ends (XenSystem's seeded VM 3), so a flow on
                // it could not tell what its own call did.
                let now = server(up, &s.key).await;
                if now.power != PowerState::Unknown
                    && now.lifecycle == idcgate_core::LifecycleState::Active
                {
                    servers.push(s.key);
                }
            }
        }
        out.push(Targets { zones, servers });
    }
    out
}

/// Sends `opts.kill_burst` operations with slow upstreams, SIGKILLs the server while
/// they are in flight, and counts the writes that reached the upstreams against the
/// audit intents written for them.
async fn kill_burst(
    db: &TestDb,
    children: &Children,
    ups: &Arc<Vec<Upstream>>,
    targets: &[Targets],
    opts: &OpsOptions,
    prefix: &str,
    report: &mut OpsReport,
) {
    let (_, token) = db
        .store
        .create_token("burst", Scope::Operate, 0)
        .await
        .unwrap();
    let api = Arc::new(Api::start(children, &token).await);
    let writes = |ups: &[Upstream]| -> usize {
        ups.iter()
            .map(|u| u.served.count(write_markers(u.vendor)))
            .sum()
    };
    let writes_before = writes(ups);
    for up in ups.iter() {
        up.served.faults.set(FaultConfig {
            latency_ms: 150,
            ..Default::default()
        });
    }
    let zones: Vec<&String> = targets.iter().flat_map(|t| t.zones.iter()).collect();
    let mut set = tokio::task::JoinSet::new();
    for n in 0..opts.kill_burst {
        let zone = zones[n % zones.len()].clone();
        let api = api.clone();
        let name = format!("{prefix}k{n:03}");
        set.spawn(async move {
            api.call(
                "POST",
                &format!("/dns/{zone}/records"),
                Some(json!({"host": name, "type": "TXT", "value": name, "ttl": 600})),
            )
            .await
        });
    }
    // Some writes have reached the upstreams, others not yet: kill now.
    let deadline = Instant::now() + Duration::from_secs(30);
    while writes(ups) == writes_before && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    report.kill_burst_sent = opts.kill_burst;
    api.kill();
    while set.join_next().await.is_some() {}
    clear_faults(ups);
    report.burst_writes = writes(ups) - writes_before;
    // Intents of the burst: completed (before the kill) or not.
    let completed = db
        .store
        .list_audit(1_000_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.actor == "token:burst" && a.intent_id.is_some())
        .count();
    let unfinished = db
        .store
        .unfinished_audit(1_000_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|i| i.actor == "token:burst")
        .count();
    report.burst_intents = completed + unfinished;
}
