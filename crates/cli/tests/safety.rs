//! Safety and truth at the command line, through the real binary against the sandbox
//! simulators (issue 15 items 4, 5, 6, 9 and 10): destructive and spending commands
//! need a yes and name what they act on; the audit keeps parameters, answers and
//! failures under the user's name; a record already gone is said to be; times carry
//! their zone and days left; sync says how far it is and what it waits for.
#![allow(clippy::unwrap_used)] // a test may fail loudly

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

mod common;

use common::{account_add, cmd, data_dir, idcgate, idcgate_typed, ok, text, vendor_count, Running};

/// The failure's stderr, after checking it exited with `code`.
fn fails(out: &Output, code: i32) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stderr)
}

fn json(data: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&ok(&idcgate(data, &all))).unwrap()
}

/// `idcgate sandbox`: the simulators, registered as accounts of `data`, until dropped.
fn sandbox(data: &Path) -> Running {
    let mut c = cmd(data);
    c.args([
        "sandbox",
        "--sandbox-port",
        &common::sandbox_port(11000).to_string(),
    ]);
    common::start(c, "simulators running", "the sandbox").0
}

/// A synced sandbox on a fresh data directory.
fn synced() -> (tempfile::TempDir, std::path::PathBuf, Running) {
    let (tmp, data) = data_dir();
    let sb = sandbox(&data);
    let reports = json(&data, &["sync"]);
    for r in reports.as_array().unwrap() {
        assert!(r["failed"].as_array().unwrap().is_empty(), "{r}");
    }
    (tmp, data, sb)
}

fn audit(data: &Path) -> Vec<Value> {
    json(data, &["audit", "--limit", "500"])
        .as_array()
        .unwrap()
        .clone()
}

fn audited(data: &Path, action: &str) -> Vec<Value> {
    audit(data)
        .into_iter()
        .filter(|e| e["action"] == action)
        .collect()
}

/// A running West server (West resets passwords with no verification code) whose key
/// no other account's server has, so a bare key finds it.
fn unique_running_server(data: &Path) -> (String, String) {
    let servers = json(data, &["servers"]);
    let servers = servers.as_array().unwrap();
    let s = servers
        .iter()
        .find(|s| {
            s["account"] == "sandbox-west"
                && s["data"]["power"] == "running"
                && servers.iter().filter(|o| o["key"] == s["key"]).count() == 1
                && servers.iter().filter(|o| o["name"] == s["key"]).count() <= 1
        })
        .expect("a running server with a key of its own");
    (
        s["account"].as_str().unwrap().to_string(),
        s["key"].as_str().unwrap().to_string(),
    )
}

fn first_zone(data: &Path) -> (String, String) {
    let zones = json(data, &["domains", "--vendor", "west"]);
    let z = &zones[0];
    (
        z["name"].as_str().unwrap().to_string(),
        z["account"].as_str().unwrap().to_string(),
    )
}

/// Item 4: without a terminal and without --yes, every destructive or spending command
/// is refused with exit code 3 before anything is done, naming what it would act on;
/// with --yes it goes ahead; every server command names the `account/id` it resolved.
#[test]
fn destructive_commands_need_a_yes_and_name_what_they_act_on() {
    let (_tmp, data, _sb) = synced();
    let (account, key) = unique_running_server(&data);
    let target = format!("{account}/{key}");

    // A bare id: what was rebooted is named.
    let rebooted = ok(&idcgate(&data, &["server", "reboot", &key]));
    assert!(rebooted.contains(&target), "{rebooted}");

    let (zone, zone_account) = first_zone(&data);
    let records = json(&data, &["dns", "list", &zone]);
    let record = records[0]["upstream_id"].as_str().unwrap().to_string();
    ok(&idcgate(&data, &["token", "create", "keep-me"]));
    ok(&idcgate(&data, &["tenant", "add", "acme"]));
    let before = audit(&data).len();

    let refusals: Vec<(Vec<&str>, String)> = vec![
        (vec!["server", "stop", &key], target.clone()),
        (
            vec!["server", "reinstall", &key, "--image", "1"],
            target.clone(),
        ),
        (vec!["server", "password", &key], target.clone()),
        (
            vec!["dns", "rm", &zone, &record],
            format!("{zone_account}/{zone}/{record}"),
        ),
        (
            vec!["account", "remove", "sandbox-cndns"],
            "sandbox-cndns".into(),
        ),
        (vec!["token", "revoke", "keep-me"], "keep-me".into()),
        (vec!["tenant", "remove", "acme"], "acme".into()),
        (vec!["tenant", "topup", "acme", "10.00"], "acme".into()),
        (vec!["tenant", "rekey", "acme"], "acme".into()),
        (vec!["product", "retire", "web-1"], "web-1".into()),
        (vec!["user", "remove", "nobody"], "nobody".into()),
        (
            vec![
                "call",
                "west",
                "domain.deldnsrecord",
                "domain=x.com",
                "id=1",
            ],
            "sandbox-west".into(),
        ),
        (
            vec![
                "order",
                "place",
                "sandbox-west",
                "register",
                "safety-e2e.com",
            ],
            "sandbox-west".into(),
        ),
        (vec!["renew", "run"], "renew run".into()),
    ];
    for (args, named) in &refusals {
        let e = fails(&idcgate(&data, args), 3);
        assert!(e.contains("--yes"), "{args:?}: {e}");
        assert!(e.contains(named.as_str()), "{args:?} names {named}: {e}");
        assert!(e.contains("nothing was done"), "{args:?}: {e}");
        // The same in JSON: one document, the same exit code.
        let mut j = vec!["--json"];
        j.extend_from_slice(args);
        let out = idcgate(&data, &j);
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(doc["error"].as_str().unwrap().contains("--yes"), "{doc}");
    }
    // Nothing was done: no audit entry, the account, token and tenant still there.
    assert_eq!(
        audit(&data).len(),
        before,
        "refused commands leave no trace upstream"
    );
    assert!(json(&data, &["account", "list"])
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["name"] == "sandbox-cndns"));
    assert!(json(&data, &["token", "list"])
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "keep-me" && !t["revoked"].as_bool().unwrap()));
    assert!(json(&data, &["dns", "list", &zone])
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["upstream_id"] == record.as_str()));

    // With --yes it is done, and says on what.
    let stopped = ok(&idcgate(&data, &["server", "stop", &key, "--yes"]));
    assert!(
        stopped.contains(&target) && stopped.contains("stopped"),
        "{stopped}"
    );
    let stop = audited(&data, "server.stop");
    assert_eq!(stop.len(), 1, "{stop:?}");
    assert_eq!(stop[0]["target"], target.as_str());
    let pw = idcgate_typed(
        &data,
        &["server", "password", &key, "--yes"],
        "Safety-Pass-42!\n",
    );
    assert!(ok(&pw).contains(&target), "{}", text(&pw.stdout));
    let revoked = ok(&idcgate(&data, &["token", "revoke", "keep-me", "--yes"]));
    assert!(revoked.contains("keep-me"), "{revoked}");
    let removed = ok(&idcgate(
        &data,
        &["account", "remove", "sandbox-cndns", "--yes"],
    ));
    assert!(removed.contains("sandbox-cndns"), "{removed}");
    let gone = fails(
        &idcgate(&data, &["account", "remove", "sandbox-cndns", "--yes"]),
        4,
    );
    assert!(gone.contains("no account named"), "{gone}");
}

/// Item 5: the audit keeps an operation's parameters (secrets blanked) and the
/// upstream's answer, a failure as a failure, and the user's name even when the
/// environment has none.
#[test]
fn the_audit_keeps_parameters_answers_failures_and_the_user() {
    let (_tmp, data, _sb) = synced();
    // cron and systemd units run without USER or LOGNAME: the name comes from the uid.
    let run = |args: &[&str]| -> Output {
        cmd(&data)
            .args(args)
            .env_remove("USER")
            .env_remove("LOGNAME")
            .output()
            .unwrap()
    };
    let me = Command::new("id").arg("-un").output().unwrap();
    let uid = text(&Command::new("id").arg("-u").output().unwrap().stdout);
    let expected = if me.status.success() {
        format!("cli:{}", text(&me.stdout).trim())
    } else {
        format!("cli:uid-{}", uid.trim())
    };

    let e = fails(&run(&["token", "revoke", "nonexistent", "--yes"]), 4);
    assert!(e.contains("nonexistent"), "{e}");
    let revoke = audited(&data, "token.revoke");
    assert_eq!(revoke.len(), 1, "{revoke:?}");
    assert_eq!(
        revoke[0]["outcome"], "not_found",
        "a failure audited as one"
    );
    assert_eq!(revoke[0]["actor"], expected.as_str());
    assert_ne!(revoke[0]["actor"], "cli:unknown");

    let (zone, account) = first_zone(&data);
    ok(&run(&[
        "dns", "add", &zone, "audited", "TXT", "v=safety", "--ttl", "700",
    ]));
    let add = &audited(&data, "dns.add")[0];
    assert_eq!(add["actor"], expected.as_str());
    assert_eq!(add["outcome"], "ok");
    let detail: Value = serde_json::from_str(add["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["params"]["record"]["value"], "v=safety", "{detail}");
    assert_eq!(detail["params"]["record"]["ttl"], 700, "{detail}");
    assert_eq!(
        detail["answer"]["host"], "audited",
        "the upstream's answer: {detail}"
    );
    assert!(add["target"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{account}/")));

    // A raw write through `call`: its parameters with the secret-looking one blanked.
    let (srv_account, key) = unique_running_server(&data);
    let secret = "Call-Secret-77";
    let vendor = json(&data, &["account", "list"])
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == srv_account.as_str())
        .unwrap()["vendor"]
        .as_str()
        .unwrap()
        .to_string();
    ok(&idcgate_typed(
        &data,
        &[
            "server",
            "password",
            &format!("{srv_account}/{key}"),
            "--yes",
        ],
        &format!("{secret}\n"),
    ));
    let entry = &audited(&data, "server.password")[0];
    let all = serde_json::to_string(&audit(&data)).unwrap();
    assert!(
        !all.contains(secret),
        "the password is in the audit: {entry}"
    );
    let detail: Value = serde_json::from_str(entry["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["params"]["password"], "[redacted]", "{detail}");
    assert!(!vendor.is_empty());
}

/// Item 6: deleting a record that is already gone says so, with exit code 4, and the
/// exit codes are documented in `--help`.
#[test]
fn removing_a_record_already_gone_says_so() {
    let (_tmp, data, _sb) = synced();
    let (zone, account) = first_zone(&data);
    let added = json(&data, &["dns", "add", &zone, "gone-soon", "A", "192.0.2.9"]);
    let id = added["upstream_id"].as_str().unwrap().to_string();
    assert_eq!(added["account"], account.as_str());
    let target = format!("{account}/{zone}/{id}");
    let deleted = ok(&idcgate(&data, &["dns", "rm", &zone, &id, "--yes"]));
    assert!(deleted.contains(&target), "{deleted}");
    let again = fails(&idcgate(&data, &["dns", "rm", &zone, &id, "--yes"]), 4);
    assert!(
        again.contains("already gone") && again.contains(&target),
        "{again}"
    );
    let doc = idcgate(&data, &["--json", "dns", "rm", &zone, &id, "--yes"]);
    assert_eq!(doc.status.code(), Some(4));
    let doc: Value = serde_json::from_slice(&doc.stdout).unwrap();
    assert!(
        doc["error"].as_str().unwrap().contains("already gone"),
        "{doc}"
    );
    let rm = audited(&data, "dns.rm");
    assert_eq!(
        rm.iter()
            .map(|e| e["outcome"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["not_found", "not_found", "ok"],
        "newest first"
    );

    let help = ok(&idcgate(&data, &["--help"]));
    for code in [
        "Exit codes:",
        "3  not confirmed",
        "4  not found or already gone",
        "5  unknown outcome",
    ] {
        assert!(help.contains(code), "{code}: {help}");
    }
}

/// Item 9: times in the chosen zone with the zone written, days left, RFC 3339 beside
/// the milliseconds in JSON, and periods in days, weeks, months or years.
#[test]
fn times_carry_their_zone_and_periods_take_every_unit() {
    let (tmp, data, _sb) = synced();
    let china = ok(&idcgate(&data, &["domains"]));
    assert!(china.contains(" UTC+8 "), "China time by default: {china}");
    assert!(china.contains("days left"), "{china}");
    let utc = ok(&idcgate(&data, &["--tz", "utc", "domains"]));
    assert!(utc.contains(" UTC ") && !utc.contains("UTC+8"), "{utc}");
    let env_utc = cmd(&data)
        .args(["domains"])
        .env("IDCGATE_TZ", "utc")
        .output()
        .unwrap();
    assert_eq!(ok(&env_utc), utc);
    let local = cmd(&data)
        .args(["--tz", "local", "domains"])
        .env("TZ", "Asia/Tokyo")
        .output()
        .unwrap();
    assert!(ok(&local).contains(" JST "), "{}", text(&local.stdout));
    assert_eq!(
        idcgate(&data, &["--tz", "mars", "domains"]).status.code(),
        Some(2)
    );
    std::fs::write(tmp.path().join("idcgate.toml"), "tz = \"utc\"\n").unwrap();
    assert_eq!(
        ok(&idcgate(&data, &["domains"])),
        utc,
        "from the config file"
    );
    std::fs::remove_file(tmp.path().join("idcgate.toml")).unwrap();

    let domains = json(&data, &["domains"]);
    let now = jiff::Timestamp::now();
    for d in domains.as_array().unwrap() {
        let ms = d["expires_at_ms"].as_i64().unwrap();
        let at: jiff::Timestamp = d["expires_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(at.as_millisecond(), ms, "{d}");
        assert!(d["expires_at"].as_str().unwrap().ends_with("+08:00"), "{d}");
        let days = d["days_left"].as_i64().unwrap();
        let approx = (ms - now.as_millisecond()) / 86_400_000;
        assert!((days - approx).abs() <= 1, "{d}");
        let row = china
            .lines()
            .find(|l| l.contains(d["name"].as_str().unwrap()))
            .unwrap();
        assert!(row.contains(&format!(" {days} ")), "{days} in {row}");
    }

    let count = |within: &str| {
        json(&data, &["expiring", "--within", within])
            .as_array()
            .unwrap()
            .len()
    };
    let (w2, m3, y1, y5) = (count("2w"), count("3m"), count("1y"), count("5y"));
    assert!(
        w2 <= m3 && m3 <= y1 && y1 <= y5 && y5 > 0,
        "{w2} {m3} {y1} {y5}"
    );
    assert_eq!(count("14"), w2);
    assert_eq!(count("14d"), w2);
    let expiring = ok(&idcgate(&data, &["expiring", "--within", "5y"]));
    assert!(expiring.contains("days left"), "{expiring}");
    let bad = fails(&idcgate(&data, &["expiring", "--within", "3x"]), 2);
    assert!(bad.contains("30d, 2w, 3m or 1y"), "{bad}");
    let in_a_year = json(&data, &["domains", "--expiring", "1y"])
        .as_array()
        .unwrap()
        .len();
    assert!(in_a_year <= domains.as_array().unwrap().len());
    ok(&idcgate(&data, &["renew", "--plan", "--within", "3m"]));
    // Other times in JSON too: the audit's.
    let entry = &audit(&data)[0];
    assert!(entry["at"].as_str().unwrap().contains('T'), "{entry}");
}

/// Item 10: sync counts accounts against their total, says what it waits for on a slow
/// upstream, and keeps stdout to the table; a piped table is never cut.
#[test]
fn sync_says_how_far_it_is_and_what_it_waits_for() {
    let (_tmp, data) = data_dir();
    let _sb = sandbox(&data);
    let n = usize::from(vendor_count());
    let out = idcgate(&data, &["sync"]);
    let table = ok(&out);
    let progress = text(&out.stderr);
    for i in 1..=n {
        assert!(
            progress.contains(&format!("sync: {i}/{n} accounts (")),
            "{i}/{n}: {progress}"
        );
    }
    // stdout is the table alone, every line of it.
    assert!(
        table
            .lines()
            .all(|l| l.starts_with(['┌', '│', '╞', '├', '└'])),
        "{table}"
    );

    // An upstream that accepts connections and never answers.
    let hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = hole.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in hole.incoming() {
            held.push(c);
        }
    });
    ok(&idcgate(
        &data,
        &account_add(
            "slow-panel",
            "xensystem",
            Some(&format!("http://127.0.0.1:{port}")),
            &["api_username=u", "api_key=k"],
        ),
    ));
    let started = Instant::now();
    let out = idcgate(&data, &["--timeout", "4", "sync"]);
    let progress = text(&out.stderr);
    assert!(!out.status.success(), "the slow account's listing failed");
    assert!(
        progress
            .contains("sync: slow-panel: listing servers: waiting for the upstream, 3 s so far"),
        "{progress}"
    );
    assert!(
        progress.contains(&format!("/{} accounts", n + 1)),
        "{progress}"
    );
    assert!(started.elapsed() >= Duration::from_secs(3));
    // With --json too, on stderr: stdout stays one document.
    let out = idcgate(&data, &["--json", "--timeout", "4", "sync"]);
    let progress = text(&out.stderr);
    assert!(
        progress.contains("slow-panel: listing servers: waiting"),
        "{progress}"
    );
    assert!(!progress.contains(" accounts ("), "{progress}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["error"].is_string() && doc["items"].is_array(), "{doc}");

    // `actions`, piped: every parameter list whole.
    let actions = ok(&idcgate(&data, &["actions"]));
    assert!(
        actions.lines().any(|l| l.chars().count() > 200),
        "a long line kept whole when piped"
    );
}

/// `dns migrate` (issue 16): a dry run prints the plan and writes nothing; the move
/// itself asks first (exit 3 without a terminal or --yes, nothing written), then copies
/// and verifies; run again, it has nothing left to write.
#[test]
fn moving_a_zone_shows_its_plan_and_asks_before_writing() {
    let (_tmp, data, _sb) = synced();
    let (zone, from) = first_zone(&data);
    let to = "sandbox-dnspod";
    let plan = ok(&idcgate(
        &data,
        &["dns", "migrate", &zone, "--to", to, "--dry-run"],
    ));
    assert!(
        plan.contains("would create") && plan.contains(&format!("would move {zone} -> {to}")),
        "{plan}"
    );
    let refused = fails(&idcgate(&data, &["dns", "migrate", &zone, "--to", to]), 3);
    assert!(
        refused.contains(&zone) && refused.contains(&from),
        "{refused}"
    );
    assert!(audited(&data, "dns.add").is_empty());
    assert!(audited(&data, "dns.migrate").is_empty());

    let done = json(&data, &["dns", "migrate", &zone, "--to", to, "--yes"]);
    assert_eq!(done["verified"], true, "{done}");
    assert_eq!(done["from"], from.as_str());
    let created = done["created"].as_u64().unwrap();
    assert!(created >= 4, "{done}");
    assert_eq!(audited(&data, "dns.add").len() as u64, created);
    let again = json(&data, &["dns", "migrate", &zone, "--to", to, "--yes"]);
    assert_eq!(again["created"], 0, "{again}");
    assert_eq!(again["present"].as_u64().unwrap(), created);
    assert_eq!(audited(&data, "dns.migrate").len(), 2);
}
