//! End-to-end: the real binary, as a user runs it from the README.
#![allow(clippy::unwrap_used)] // a test may fail loudly

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::{account_add, data_dir, err, idcgate, ok, vendor_count, Running, BIN};

struct Server {
    _running: Running,
    url: String,
}

fn serve_sandbox(data: &Path) -> Server {
    serve_sandbox_with(data, &[], &[])
}

/// `serve --sandbox` with more arguments and environment.
fn serve_sandbox_with(data: &Path, args: &[&str], envs: &[(&str, &str)]) -> Server {
    let mut c = common::cmd(data);
    c.args([
        "serve",
        "--sandbox",
        "--listen",
        "127.0.0.1:0",
        "--sandbox-port",
        &common::sandbox_port(21000).to_string(),
    ])
    .args(args)
    .envs(envs.iter().copied());
    let (running, line) = common::start(c, "listening on ", "server");
    let rest = line.split("listening on ").nth(1).unwrap();
    Server {
        _running: running,
        url: rest.split_whitespace().next().unwrap().to_string(),
    }
}

fn secrets_absent(haystack: &[u8], secret: &str) -> bool {
    !haystack
        .windows(secret.len())
        .any(|w| w == secret.as_bytes())
}

fn dir_bytes(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            all.extend(std::fs::read(p).unwrap());
        }
    }
    all
}

#[test]
fn sandbox_tour_cli_and_rest() {
    let (_tmp, data) = data_dir();
    let server = serve_sandbox(&data);
    let (code, body) = http("GET", &format!("{}/healthz", server.url), None, None);
    assert_eq!((code, body.as_str()), (200, "ok\n"));

    let tsv = ok(&idcgate(
        &data,
        &["actions", "--vendor", "xensystem", "--format", "tsv"],
    ));
    assert_eq!(tsv.lines().count(), 57, "header + 56 catalog ids");
    assert!(tsv
        .lines()
        .any(|l| l.starts_with("xensystem:vm_backup#revert\t")));

    let vm = ok(&idcgate(
        &data,
        &["call", "xensystem", "vm_info", "vpsid=1"],
    ));
    assert!(vm.contains("\"vpsid\": 1"), "{vm}");

    let sync = ok(&idcgate(&data, &["--json", "sync"]));
    let reports: serde_json::Value = serde_json::from_str(&sync).unwrap();
    assert_eq!(
        reports.as_array().unwrap().len(),
        usize::from(vendor_count())
    );
    for r in reports.as_array().unwrap() {
        assert_eq!(r["failed"].as_array().unwrap().len(), 0, "{r}");
    }
    let domains: serde_json::Value =
        serde_json::from_str(&ok(&idcgate(&data, &["--json", "domains"]))).unwrap();
    let first_zone = domains[0]["name"].as_str().unwrap().to_string();
    let servers: serde_json::Value =
        serde_json::from_str(&ok(&idcgate(&data, &["--json", "servers"]))).unwrap();
    let vendors: std::collections::BTreeSet<String> = servers
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["account"].as_str().unwrap().to_string())
        .collect();
    assert!(
        vendors.contains("sandbox-xensystem") && vendors.contains("sandbox-west"),
        "{vendors:?}"
    );
    // What sync collects of every other kind is listed too, by kind.
    for (cmd, kind) in [
        ("hosting", "hosting_site"),
        ("databases", "database"),
        ("mail", "mail_domain"),
    ] {
        let rows: serde_json::Value =
            serde_json::from_str(&ok(&idcgate(&data, &["--json", cmd]))).unwrap();
        let rows = rows.as_array().unwrap();
        assert!(!rows.is_empty(), "{cmd}: the sandbox has some");
        assert!(rows.iter().all(|r| r["kind"] == kind), "{cmd}: {rows:?}");
    }
    let vendor_only: serde_json::Value = serde_json::from_str(&ok(&idcgate(
        &data,
        &["--json", "databases", "--vendor", "west"],
    )))
    .unwrap();
    assert!(vendor_only
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["account"] == "sandbox-west"));
    let records = ok(&idcgate(&data, &["--json", "dns", "list", &first_zone]));
    assert!(records.contains("\"zone\""), "{records}");
    // The line in JSON is the line of the table: `default` where a record has none.
    let records: serde_json::Value = serde_json::from_str(&records).unwrap();
    let table = ok(&idcgate(&data, &["dns", "list", &first_zone]));
    for r in records.as_array().unwrap() {
        let line = r["line"].as_str().unwrap_or_else(|| panic!("line of {r}"));
        let id = r["upstream_id"].as_str().unwrap();
        let row = table
            .lines()
            .find(|l| l.starts_with(&format!("│ {id} ")))
            .unwrap_or_else(|| panic!("{id} in {table}"));
        assert!(row.contains(&format!(" {line} ")), "{line} / {row}");
    }
    // Every account, those whose vendor has no balance saying so; money written one way.
    let balance = ok(&idcgate(&data, &["balance"]));
    assert!(balance.contains("sandbox-west"), "{balance}");
    let balances: serde_json::Value =
        serde_json::from_str(&ok(&idcgate(&data, &["--json", "balance"]))).unwrap();
    let balances = balances.as_array().unwrap();
    assert_eq!(balances.len(), usize::from(vendor_count()), "{balances:?}");
    for b in balances {
        match b["vendor"].as_str().unwrap() {
            "zonkvm" | "xensystem" => {
                assert_eq!(b["note"], "not offered by this vendor", "{b}");
                assert!(b["balance"].is_null() && b["error"].is_null(), "{b}");
            }
            _ => {
                assert!(b["error"].is_null(), "{b}");
                let available = b["balance"]["available"].as_str().unwrap();
                assert_eq!(
                    available.split_once('.').map(|(_, f)| f.len()),
                    Some(2),
                    "{b}"
                );
                let row = balance
                    .lines()
                    .find(|l| l.contains(b["account"].as_str().unwrap()))
                    .unwrap();
                assert!(
                    row.contains(&format!(" {available} ")),
                    "{available} / {row}"
                );
            }
        }
    }
    assert_eq!(
        balance.matches("not offered by this vendor").count(),
        2,
        "{balance}"
    );

    // REST: 401 without a token, 403 with too small a scope, data with the right one.
    let (code, _) = http("GET", &format!("{}/api/v1/domains", server.url), None, None);
    assert_eq!(code, 401);
    let token: serde_json::Value = serde_json::from_str(&ok(&idcgate(
        &data,
        &["--json", "token", "create", "r", "--scope", "read"],
    )))
    .unwrap();
    let read = token["token"].as_str().unwrap().to_string();
    let (code, body) = http(
        "GET",
        &format!("{}/api/v1/domains?limit=2", server.url),
        Some(&read),
        None,
    );
    assert_eq!(code, 200, "{body}");
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        page["total"].as_i64().unwrap(),
        domains.as_array().unwrap().len() as i64
    );
    let rec = r#"{"host":"e2e","type":"A","value":"192.0.2.77"}"#;
    let url = format!("{}/api/v1/dns/{first_zone}/records", server.url);
    assert_eq!(http("POST", &url, Some(&read), Some(rec)).0, 403);
    let op: serde_json::Value = serde_json::from_str(&ok(&idcgate(
        &data,
        &["--json", "token", "create", "o", "--scope", "operate"],
    )))
    .unwrap();
    let (code, body) = http("POST", &url, op["token"].as_str(), Some(rec));
    assert_eq!(code, 201, "{body}");
    let (code, body) = http(
        "POST",
        &format!("{}/api/v1/dns/no-such-zone.example/records", server.url),
        op["token"].as_str(),
        Some(rec),
    );
    assert_eq!(code, 404, "{body}");
    let (code, body) = http(
        "POST",
        &url,
        op["token"].as_str(),
        Some(r#"{"host":"x","type":"NOPE","value":"1"}"#),
    );
    assert_eq!(code, 400);
    assert!(body.contains("\"field\":\"type\""), "{body}");
    let (code, body) = http(
        "POST",
        &url,
        op["token"].as_str(),
        Some(r#"{"host":"x","type":"A"}"#),
    );
    assert_eq!(code, 400);
    assert!(
        body.contains("\"field\":\"value\""),
        "a missing field is named: {body}"
    );
    let (code, body) = http("GET", &format!("{url}?type=A&limit=1"), Some(&read), None);
    assert_eq!(code, 200, "{body}");
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert!(
        page["total"].as_i64().unwrap() >= 2,
        "the A record added above and the zone's own: {body}"
    );
    assert_eq!(page["items"][0]["type"], "A");
    // Server operations over REST: stop a running XenSystem VM, see the new state.
    let running = servers
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["account"] == "sandbox-xensystem" && s["data"]["power"] == "running")
        .expect("a running sandbox VM");
    let action_url = format!(
        "{}/api/v1/servers/sandbox-xensystem/{}/actions",
        server.url,
        running["key"].as_str().unwrap()
    );
    assert_eq!(
        http(
            "POST",
            &action_url,
            Some(&read),
            Some(r#"{"action":"stop"}"#)
        )
        .0,
        403
    );
    let (code, body) = http(
        "POST",
        &action_url,
        op["token"].as_str(),
        Some(r#"{"action":"stop"}"#),
    );
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"power\":\"stopped\""), "{body}");
    let (code, body) = http(
        "POST",
        &action_url,
        op["token"].as_str(),
        Some(r#"{"action":"explode"}"#),
    );
    assert_eq!(code, 400);
    assert!(body.contains("\"field\":\"action\""), "{body}");
    let (code, _) = http(
        "POST",
        &format!(
            "{}/api/v1/servers/sandbox-xensystem/99999/actions",
            server.url
        ),
        op["token"].as_str(),
        Some(r#"{"action":"stop"}"#),
    );
    assert_eq!(code, 404);
    let audit = ok(&idcgate(&data, &["--json", "audit"]));
    assert!(
        audit.contains("token:o") && audit.contains("dns.add"),
        "{audit}"
    );
    let (code, body) = http(
        "GET",
        &format!("{}/api/v1/openapi.json", server.url),
        None,
        None,
    );
    assert_eq!(code, 200);
    assert!(body.contains("/api/v1/dns/{zone}/records"));
    assert!(
        body.contains("securitySchemes") && body.contains("bearer"),
        "the token scheme is documented"
    );
    let (code, body) = http("GET", &format!("{}/api/v1/nosuch", server.url), None, None);
    assert_eq!(code, 404);
    assert!(
        body.contains("\"error\""),
        "unknown routes answer JSON: {body}"
    );
    let (code, body) = http(
        "DELETE",
        &format!("{}/api/v1/domains", server.url),
        Some(&read),
        None,
    );
    assert_eq!(code, 405);
    assert!(body.contains("method_not_allowed"), "{body}");
}

/// Minimal HTTP/1.1 client: the test needs status codes and bodies, nothing more.
fn http(method: &str, url: &str, token: Option<&str>, body: Option<&str>) -> (u16, String) {
    http_with(method, url, token, &[], body)
}

fn http_with(
    method: &str,
    url: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut s = std::net::TcpStream::connect(host).unwrap();
    let body = body.unwrap_or("");
    let mut auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        auth.push_str("Content-Type: application/json\r\n");
    }
    for (k, v) in headers {
        auth.push_str(&format!("{k}: {v}\r\n"));
    }
    write!(s, "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let code = resp.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = resp
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    // Bodies may be chunked; keep only the JSON/text payload lines.
    let body = if resp
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body.split("\r\n")
            .enumerate()
            .filter(|(i, _)| i % 2 == 1)
            .map(|(_, l)| l)
            .collect()
    } else {
        body
    };
    (code, body)
}

#[test]
fn credentials_never_in_clear_on_disk_or_in_trace_logs() {
    let (_tmp, data) = data_dir();
    let server = serve_sandbox(&data);
    let creds: Vec<(String, String)> =
        idcgate_wire::Simulator::sandbox_credentials(&idcgate_west::Sim::sandbox());
    let secret = creds
        .iter()
        .find(|(k, _)| k == "api_password")
        .map(|(_, v)| v.clone())
        .unwrap();
    let user = creds
        .iter()
        .find(|(k, _)| k == "username")
        .map(|(_, v)| v.clone())
        .unwrap();
    let accounts: serde_json::Value =
        serde_json::from_str(&ok(&idcgate(&data, &["--json", "account", "list"]))).unwrap();
    let west_url = accounts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["vendor"] == "west")
        .unwrap()["base_url"]
        .as_str()
        .unwrap()
        .to_string();
    let run = |args: &[String]| {
        Command::new(BIN)
            .args(args)
            .env("IDCGATE_DATA_DIR", &data)
            .env("IDCGATE_LOG", "trace")
            .output()
            .unwrap()
    };
    let add = run(&account_add(
        "mine",
        "west",
        Some(&west_url),
        &[
            &format!("username={user}"),
            &format!("api_password={secret}"),
        ],
    ));
    ok(&add);
    let test = run(&["account", "test", "mine"].map(String::from));
    let tested = ok(&test);
    assert!(tested.contains("ok"), "{tested}");
    let trace = [add.stderr, test.stderr, test.stdout].concat();
    assert!(
        String::from_utf8_lossy(&trace).contains("TRACE"),
        "trace logging was on"
    );
    assert!(secrets_absent(&trace, &secret), "secret in trace logs");
    drop(server);
    assert!(
        secrets_absent(&dir_bytes(&data), &secret),
        "secret in the SQLite files"
    );
}

#[test]
#[cfg_attr(idcgate_postgres_off, ignore = "IDCGATE_TEST_POSTGRES=off")]
fn credentials_sealed_in_postgres() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = rt.block_on(idcgate_store::testing::postgres()) else {
        return;
    };
    let (_tmp, data) = data_dir();
    let secret = "PG-SECRET-do-not-store-9931";
    let out = Command::new(BIN)
        .args([
            "--database-url",
            &db.url,
            "account",
            "add",
            "pgacct",
            "--vendor",
            "dnspod",
            "--base-url",
            "http://127.0.0.1:9",
            "--cred",
            &format!("login_token=1,{secret}"),
        ])
        .env("IDCGATE_DATA_DIR", &data)
        // The fixture sealed the database's key check with the test key.
        .env("IDCGATE_MASTER_KEY", idcgate_store::testing::TEST_KEY_HEX)
        .output()
        .unwrap();
    ok(&out);
    let dump = rt.block_on(async {
        use sqlx::Row;
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
        let mut text = String::new();
        for table in ["accounts", "audit_log", "meta"] {
            let rows = sqlx::query(&format!("SELECT CAST(t.* AS TEXT) FROM {table} t"))
                .fetch_all(&pool)
                .await
                .unwrap();
            for r in rows {
                text.push_str(&r.try_get::<String, _>(0).unwrap());
            }
        }
        text
    });
    assert!(dump.contains("pgacct"));
    assert!(
        !dump.contains(secret),
        "secret stored in clear in PostgreSQL"
    );
    rt.block_on(db.cleanup());
}

#[test]
fn bad_config_wrong_key_and_unreachable_database_fail_clearly_without_loss() {
    let (tmp, data) = data_dir();
    ok(&idcgate(
        &data,
        &account_add(
            "keep",
            "west",
            Some("http://127.0.0.1:9"),
            &["username=u", "api_password=KEEP-ME-1"],
        ),
    ));

    std::fs::write(
        tmp.path().join("idcgate.toml"),
        "listen = 5\nbogus = true\n",
    )
    .unwrap();
    let e = err(&idcgate(&data, &["account", "list"]));
    assert!(e.contains("idcgate.toml") && e.contains("invalid"), "{e}");
    std::fs::remove_file(tmp.path().join("idcgate.toml")).unwrap();

    let e = err(&Command::new(BIN)
        .args(["account", "list"])
        .env("IDCGATE_DATA_DIR", &data)
        .env("IDCGATE_MASTER_KEY", "22".repeat(32))
        .output()
        .unwrap());
    assert!(e.contains("master key"), "{e}");
    let e = err(&Command::new(BIN)
        .args(["account", "list"])
        .env("IDCGATE_DATA_DIR", &data)
        .env("IDCGATE_MASTER_KEY", "not-hex")
        .output()
        .unwrap());
    assert!(e.contains("IDCGATE_MASTER_KEY"), "{e}");

    let e = err(&idcgate(
        &data,
        &[
            "--database-url",
            "postgres://nobody@127.0.0.1:1/none",
            "account",
            "list",
        ],
    ));
    assert!(
        e.contains("cannot open database") && e.contains("refused"),
        "{e}"
    );

    let key = std::fs::read(data.join("master.key")).unwrap();
    std::fs::remove_file(data.join("master.key")).unwrap();
    let e = err(&idcgate(&data, &["account", "list"]));
    assert!(e.contains("master key"), "{e}");
    assert!(
        !data.join("master.key").exists(),
        "no new key was made for a database with secrets"
    );
    std::fs::write(data.join("master.key"), key).unwrap();

    let listed = ok(&idcgate(&data, &["--json", "account", "list"]));
    // Listing decrypts every credential: the right key still opens all of them.
    assert!(listed.contains("\"keep\""), "nothing lost: {listed}");
}

/// The README's money tour: a domain registration through the journal, and the ledger
/// explains the sandbox West balance change to the fen; the upstream calls the server
/// made are on /metrics.
#[test]
fn an_order_is_explained_by_the_ledger() {
    let (_tmp, data) = data_dir();
    let server = serve_sandbox(&data);
    let balance = |data: &Path| -> i64 {
        let rows: serde_json::Value =
            serde_json::from_str(&ok(&idcgate(data, &["--json", "balance"]))).unwrap();
        let west = rows
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["account"] == "sandbox-west")
            .unwrap()
            .clone();
        let available: idcgate_core::Money = west["balance"]["available"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        available.to_fen().unwrap()
    };
    let before = balance(&data);
    let place = [
        "--json",
        "order",
        "place",
        "sandbox-west",
        "register",
        "e2e-ledger.com",
        "--years",
        "2",
        "--idempotency-key",
        "e2e-1",
    ];
    // Without --yes and without a terminal, nothing is bought.
    let refused = idcgate(&data, &place[1..]);
    assert!(err(&refused).contains("--yes"));
    assert_eq!(refused.status.code(), Some(3), "not confirmed");
    let mut confirmed = place.to_vec();
    confirmed.push("--yes");
    let placed: serde_json::Value = serde_json::from_str(&ok(&idcgate(&data, &confirmed))).unwrap();
    assert_eq!(placed["order"]["state"], "succeeded", "{placed}");
    let again: serde_json::Value = serde_json::from_str(&ok(&idcgate(&data, &confirmed))).unwrap();
    assert_eq!(again["order"], placed["order"], "same key, same order");
    let after = balance(&data);
    let spent_fen = before - after;
    let lines: serde_json::Value = serde_json::from_str(&ok(&idcgate(
        &data,
        &["--json", "ledger", "--account", "upstream:sandbox-west"],
    )))
    .unwrap();
    let booked: i64 = lines
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["fen"].as_i64().unwrap())
        .sum();
    assert_eq!(-booked, spent_fen, "the ledger explains the balance change");
    assert!(spent_fen > 0);
    ok(&idcgate(&data, &["ledger", "--balances"]));
    let spend: serde_json::Value =
        serde_json::from_str(&ok(&idcgate(&data, &["--json", "spend", "--by", "vendor"]))).unwrap();
    assert_eq!(spend, serde_json::json!([["west", spent_fen]]), "{spend}");

    // The REST twin: a purchase needs an Idempotency-Key and admin scope, and takes no
    // price from the request.
    let admin: serde_json::Value = serde_json::from_str(&ok(&idcgate(
        &data,
        &["--json", "token", "create", "money", "--scope", "admin"],
    )))
    .unwrap();
    let admin = admin["token"].as_str().unwrap().to_string();
    let url = format!("{}/api/v1/orders", server.url);
    let buy = r#"{"account":"sandbox-west","operation":"register","domain":"rest-ledger.com"}"#;
    let (code, body) = http("POST", &url, Some(&admin), Some(buy));
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("Idempotency-Key"), "{body}");
    let key = [("Idempotency-Key", "rest-1")];
    let priced = r#"{"account":"sandbox-west","operation":"register","domain":"rest-ledger.com","price":"0.01"}"#;
    let (code, body) = http_with("POST", &url, Some(&admin), &key, Some(priced));
    assert_eq!(code, 400, "a price in the request is refused: {body}");
    assert!(body.contains("price"), "{body}");
    let (code, first) = http_with("POST", &url, Some(&admin), &key, Some(buy));
    assert_eq!(code, 201, "{first}");
    let (code, again) = http_with("POST", &url, Some(&admin), &key, Some(buy));
    assert_eq!(code, 200, "{again}");
    let first: serde_json::Value = serde_json::from_str(&first).unwrap();
    let again: serde_json::Value = serde_json::from_str(&again).unwrap();
    assert_eq!(first, again, "one key, one order");
    assert_eq!(first["state"], "succeeded");
    let (code, shown) = http("GET", &format!("{url}/{}", first["id"]), Some(&admin), None);
    assert_eq!(code, 200, "{shown}");
    assert!(shown.contains("\"events\""), "{shown}");
    // What is due and what renewing it costs, read from quotes; nothing is bought.
    ok(&idcgate(&data, &["sync"]));
    let plan: serde_json::Value = serde_json::from_str(&ok(&idcgate(
        &data,
        &["--json", "renew", "--plan", "--within", "400d"],
    )))
    .unwrap();
    let plan = plan.as_array().unwrap();
    let domains: Vec<&serde_json::Value> = plan.iter().filter(|p| p["kind"] == "domain").collect();
    assert!(domains.len() >= 2, "{plan:?}");
    assert!(domains.iter().all(|p| p["price"].is_string()), "{plan:?}");
    assert!(
        domains.iter().all(|p| p["decision"] == "manual"),
        "auto-renew is off by default: {plan:?}"
    );
    let due = domains[0]["domain"].as_str().unwrap().to_string();
    ok(&idcgate(&data, &["renew", &due, "--yes"]));
    // Auto-renew by policy: the plan says it is due, the job run now renews it once.
    let auto = domains[1]["domain"].as_str().unwrap().to_string();
    ok(&idcgate(
        &data,
        &[
            "renew", "policy", "set", &auto, "--auto", "on", "--days", "365",
        ],
    ));
    let plan: serde_json::Value = serde_json::from_str(&ok(&idcgate(
        &data,
        &["--json", "renew", "--plan", "--within", "400d"],
    )))
    .unwrap();
    let planned = plan
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["domain"] == auto.as_str())
        .unwrap();
    assert_eq!(planned["decision"], "due", "{planned}");
    let refused = idcgate(&data, &["renew", "run"]);
    assert!(err(&refused).contains("--yes"));
    assert_eq!(refused.status.code(), Some(3), "not confirmed");
    let run: serde_json::Value =
        serde_json::from_str(&ok(&idcgate(&data, &["--json", "renew", "run", "--yes"]))).unwrap();
    let renewed = run["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == auto.as_str())
        .unwrap();
    assert_eq!(renewed["order"]["state"], "succeeded", "{run}");
    ok(&idcgate(&data, &["renew", "run", "--yes"]));
    let orders: serde_json::Value =
        serde_json::from_str(&ok(&idcgate(&data, &["--json", "order", "list"]))).unwrap();
    let renewals_of_auto = orders
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["operation"] == "renew" && o["target"] == auto.as_str())
        .count();
    assert_eq!(renewals_of_auto, 1, "run twice, renewed once: {orders}");
    // The REST twins: reading the plan takes a read token, changing what decides
    // spending takes admin.
    let reader: serde_json::Value = serde_json::from_str(&ok(&idcgate(
        &data,
        &[
            "--json",
            "token",
            "create",
            "renewals-reader",
            "--scope",
            "read",
        ],
    )))
    .unwrap();
    let reader = reader["token"].as_str().unwrap().to_string();
    let renewals = format!("{}/api/v1/renewals", server.url);
    let (code, body) = http(
        "GET",
        &format!("{renewals}/plan?within_days=400"),
        Some(&reader),
        None,
    );
    assert_eq!(code, 200, "{body}");
    assert!(
        body.contains(&auto) && body.contains("\"totals\""),
        "{body}"
    );
    let floor = r#"{"floor":"100.00"}"#;
    let (code, body) = http(
        "PUT",
        &format!("{renewals}/floors/sandbox-west"),
        Some(&reader),
        Some(floor),
    );
    assert_eq!(code, 403, "{body}");
    let (code, body) = http(
        "PUT",
        &format!("{renewals}/floors/sandbox-west"),
        Some(&admin),
        Some(floor),
    );
    assert_eq!(code, 200, "{body}");
    let policy = r#"{"kind":"domain","months":24}"#;
    let (code, body) = http(
        "PUT",
        &format!("{renewals}/policies"),
        Some(&admin),
        Some(policy),
    );
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"months\":24"), "{body}");
    // The vendor's own record agrees with the ledger, fen for fen.
    let statement: serde_json::Value = serde_json::from_str(&ok(&idcgate(
        &data,
        &["--json", "statement", "sandbox-west"],
    )))
    .unwrap();
    assert_eq!(
        statement["differences"],
        serde_json::json!([]),
        "{statement}"
    );
    assert_eq!(
        statement["booked_fen"], statement["charged_fen"],
        "{statement}"
    );
    // The same statement over REST: admin only, and the same figures.
    let url = format!("{}/api/v1/statement/sandbox-west", server.url);
    let (code, _) = http("GET", &url, Some(&reader), None);
    assert_eq!(code, 403);
    let (code, body) = http("GET", &url, Some(&admin), None);
    assert_eq!(code, 200, "{body}");
    let rest: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(rest["booked_fen"], statement["booked_fen"], "{body}");
    assert_eq!(rest["differences"], serde_json::json!([]), "{body}");
    let (code, body) = http(
        "GET",
        &format!("{}/api/v1/ledger?balances=true", server.url),
        Some(&admin),
        None,
    );
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("upstream:sandbox-west"), "{body}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (code, body) = http("GET", &format!("{}/metrics", server.url), None, None);
        assert_eq!(code, 200);
        if body.contains("idcgate_upstream_calls_total{vendor=\"west\",outcome=\"ok\"}") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no upstream calls on /metrics: {body}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Resale from the README's point of view: the sandbox seeds a catalog and a funded
/// tenant; prices come from live upstream quotes; a tenant's key is shown once and kept
/// nowhere in clear; a top-up is deposited once per key, from the CLI and from REST,
/// and explained by the ledger.
#[test]
fn tenants_and_the_catalog_through_cli_and_rest() {
    let (_tmp, data) = data_dir();
    let server = serve_sandbox(&data);
    let json = |args: &[&str]| -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&ok(&idcgate(&data, &all))).unwrap()
    };
    let money =
        |v: &serde_json::Value| -> idcgate_core::Money { v.as_str().unwrap().parse().unwrap() };

    let products = json(&["product", "list"]);
    let names: Vec<&str> = products
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for seeded in [
        "west-cloud-1c1g",
        "cndns-cloud-2c2g",
        "west-host-l1",
        "cndns-host-bz",
        "west-mssql-100",
        "zonkvm-cloud-1c1g",
        "zonkvm-dedicated",
        "zonkvm-colocation",
        "zonkvm-host",
        "zonkvm-db",
    ] {
        assert!(names.contains(&seeded), "{seeded} not seeded: {names:?}");
    }
    let tenants = json(&["tenant", "list"]);
    let sandbox = &tenants.as_array().unwrap()[0];
    assert_eq!(sandbox["name"], "sandbox-tenant");
    assert_eq!(money(&sandbox["balance"]).to_string(), "1000.00");

    // The cost is the upstream's quote now; the price is the rule's (gold: cost + 15 %,
    // 5 % off a year).
    let quote = json(&[
        "order",
        "quote",
        "sandbox-west",
        "create",
        "any",
        "--kind",
        "server",
        "--offer",
        "c1m1",
        "--opt",
        "serverroom=3",
        "--opt",
        "os=centos7.9",
        "--months",
        "12",
    ]);
    let price = json(&[
        "product",
        "price",
        "west-cloud-1c1g",
        "--tenant",
        "sandbox-tenant",
        "--months",
        "12",
    ]);
    let cost = money(&price["cost"]);
    assert_eq!(cost, money(&quote["price"]), "{price}");
    // × 1.15 × 0.95 in fen, half a fen up.
    let fen = cost.to_fen().unwrap();
    let expected = idcgate_core::Money::from_fen((fen * 115 * 95 + 5_000) / 10_000);
    assert_eq!(money(&price["price"]), expected, "{price}");
    assert_eq!(money(&price["margin"]), expected - cost);
    assert!(err(&idcgate(
        &data,
        &["product", "price", "west-host-l1", "--months", "5"]
    ))
    .contains("not offered"));

    // A dedicated server sold with more IPs and bandwidth per unit: each unit's
    // monthly cost (the upstream's 100.00 an IP, 16.00 a Mbps) and price (gold: + 10 %).
    json(&[
        "product",
        "add",
        "zonkvm-lease",
        "--account",
        "sandbox-zonkvm",
        "--kind",
        "server",
        "--offer",
        "lease:1721941250649658",
        "--opt",
        "system_guid=1659170791658716",
        "--price",
        "20%",
        "--level",
        "gold=10%",
        "--periods",
        "1,12",
    ]);
    assert!(err(&idcgate(
        &data,
        &["product", "units", "zonkvm-lease", "--unit", "ip=500"]
    ))
    .contains("ipnum"));
    json(&[
        "product",
        "units",
        "zonkvm-lease",
        "--unit",
        "ip=8",
        "--unit",
        "bandwidth=100@20.00",
    ]);
    let shown = json(&["product", "show", "zonkvm-lease"]);
    let units = shown["units"].as_array().unwrap();
    let prices = |u: &serde_json::Value| -> Vec<String> {
        u["prices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| format!("{}={}", p[0].as_str().unwrap(), p[1].as_str().unwrap()))
            .collect()
    };
    assert_eq!(
        (
            units[0]["unit"].as_str(),
            units[0]["cost"].as_str(),
            prices(&units[0])
        ),
        (
            Some("ip"),
            Some("100.00"),
            vec!["=120.00".into(), "gold=110.00".into()]
        ),
        "{shown}"
    );
    assert_eq!(
        (
            units[1]["unit"].as_str(),
            units[1]["max_extra"].as_u64(),
            prices(&units[1])
        ),
        (
            Some("bandwidth"),
            Some(100),
            vec!["=19.20".into(), "gold=17.60".into()]
        ),
        "{shown}"
    );
    assert_eq!(shown["product"]["units"][1]["fixed"], "20.00", "{shown}");
    let table = ok(&idcgate(&data, &["product", "show", "zonkvm-lease"]));
    assert!(
        table.contains("price a month") && table.contains("120.00"),
        "{table}"
    );

    let added = json(&["tenant", "add", "acme", "--credit", "100"]);
    let key = added["appkey"].as_str().unwrap().to_string();
    // Rekeying stops the old key: not without a yes.
    assert_eq!(
        idcgate(&data, &["tenant", "rekey", "sandbox-tenant"])
            .status
            .code(),
        Some(3)
    );
    let rekeyed = json(&["tenant", "rekey", "sandbox-tenant", "--yes"]);
    let sandbox_key = rekeyed["appkey"].as_str().unwrap().to_string();

    // The README's downstream purchase, as written there: line 7 is the Zonkvm cloud
    // line, bought with the sandbox tenant's key.
    let form = format!(
        "appid={}&appkey={sandbox_key}&action=create_order&obj_type=create_server\
         &line_guid=7&system_guid=7&order_id=readme-1\
         &content=%7B%22cpu%22%3A1%2C%22ram%22%3A1%2C%22months%22%3A1%7D",
        sandbox["appid"].as_str().unwrap()
    );
    let urlencoded = [("Content-Type", "application/x-www-form-urlencoded")];
    let downstream = format!("{}/api/same/index", server.url);
    let (code, body) = http_with("POST", &downstream, None, &urlencoded, Some(&form));
    assert_eq!(code, 200, "{body}");
    let bought: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(bought["code"], 1, "{bought}");
    assert_eq!(bought["data"]["order_id"], "readme-1", "{bought}");
    for _ in 0..2 {
        let t = json(&[
            "tenant",
            "topup",
            "acme",
            "200.00",
            "--idempotency-key",
            "e2e-t1",
            "--yes",
        ]);
        assert_eq!(money(&t["tenant"]["balance"]).to_string(), "200.00", "{t}");
    }
    assert!(err(&idcgate(
        &data,
        &[
            "tenant",
            "topup",
            "acme",
            "5",
            "--idempotency-key",
            "e2e-t1",
            "--yes"
        ]
    ))
    .contains("e2e-t1"));

    // REST: reading takes a read token, money and changes take admin.
    let token = |name: &str, scope: &str| -> String {
        json(&["token", "create", name, "--scope", scope])["token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (reader, admin) = (token("resale-read", "read"), token("resale-admin", "admin"));
    let api = format!("{}/api/v1", server.url);
    let (code, body) = http("GET", &format!("{api}/tenants/acme"), Some(&reader), None);
    assert_eq!(code, 200, "{body}");
    assert!(!body.contains(&key) && !body.contains("appkey"), "{body}");
    let topups = format!("{api}/tenants/acme/topups");
    let pay = r#"{"amount":"50.00","memo":"rest"}"#;
    let k = [("Idempotency-Key", "e2e-rest-1")];
    let (code, body) = http_with("POST", &topups, Some(&reader), &k, Some(pay));
    assert_eq!(code, 403, "{body}");
    let (code, body) = http("POST", &topups, Some(&admin), Some(pay));
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("Idempotency-Key"), "{body}");
    let (code, first) = http_with("POST", &topups, Some(&admin), &k, Some(pay));
    assert_eq!(code, 201, "{first}");
    let (code, again) = http_with("POST", &topups, Some(&admin), &k, Some(pay));
    assert_eq!(code, 200, "{again}");
    assert!(again.contains("\"repeated\":true"), "{again}");
    // An amount is written as people write money: `1e3` moved a thousand (QA).
    for amount in ["1e3", " 5", "1_000", ".5"] {
        let pay = format!(r#"{{"amount":"{amount}"}}"#);
        let k = [("Idempotency-Key", "e2e-rest-odd")];
        let (code, body) = http_with("POST", &topups, Some(&admin), &k, Some(&pay));
        assert_eq!(code, 400, "{amount}: {body}");
    }
    assert!(err(&idcgate(
        &data,
        &["tenant", "topup", "acme", "1e3", "--yes"]
    ))
    .contains("1e3"));
    let (code, body) = http(
        "GET",
        &format!("{api}/products/west-host-l1/price?tenant=sandbox-tenant&months=24"),
        Some(&reader),
        None,
    );
    assert_eq!(code, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let (code, lease) = http(
        "GET",
        &format!("{api}/products/zonkvm-lease"),
        Some(&reader),
        None,
    );
    assert_eq!(code, 200, "{lease}");
    let lease: serde_json::Value = serde_json::from_str(&lease).unwrap();
    assert_eq!(lease["units"][0]["prices"][0][1], "120.00", "{lease}");
    assert_eq!(lease["product"]["units"][0]["max_extra"], 8, "{lease}");
    assert_eq!(
        money(&v["price"]).to_string(),
        "273.60",
        "gold 12.00 a month, 24 months, 5 % off: {v}"
    );
    let (code, body) = http(
        "POST",
        &format!("{api}/tenants/acme/suspend"),
        Some(&admin),
        None,
    );
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"state\":\"suspended\""), "{body}");

    // The ledger explains the balance; the keys are nowhere on disk.
    let lines = json(&["ledger", "--account", "tenant:acme"]);
    let fen: i64 = lines
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["fen"].as_i64().unwrap())
        .sum();
    assert_eq!(fen, 25_000);
    assert_eq!(
        money(&json(&["tenant", "show", "acme"])["tenant"]["balance"]).to_string(),
        "250.00"
    );
    drop(server);
    let disk = dir_bytes(&data);
    assert!(secrets_absent(&disk, &key), "a tenant key on disk");
    assert!(
        secrets_absent(&disk, &sandbox_key),
        "the sandbox tenant's key on disk"
    );
}

/// `--json sync` with listings that fail prints one JSON document (what was synced and
/// what failed, as an error) and exits non-zero, never a report followed by an error.
#[test]
fn json_sync_with_failed_listings_prints_one_document() {
    let (_tmp, data) = data_dir();
    // An upstream nobody listens on: every listing of the account fails.
    ok(&idcgate(
        &data,
        &account_add(
            "gone",
            "west",
            Some("http://127.0.0.1:9"),
            &["username=demo", "api_password=not-a-real-one"],
        ),
    ));
    let out = idcgate(&data, &["--json", "--timeout", "2", "sync"]);
    assert!(!out.status.success(), "a partial sync is a failure");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let doc: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{stdout}"));
    assert!(
        doc["error"].as_str().unwrap().contains("listings failed"),
        "{doc}"
    );
    let items = doc["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{doc}");
    assert_eq!(items[0]["account"], "gone");
    assert!(!items[0]["failed"].as_array().unwrap().is_empty(), "{doc}");
}

/// The README's notifications: `serve` with `[notify]` in its config announces what the
/// sandbox holds (domains expiring, a balance under its threshold) by mail over STARTTLS
/// with AUTH and by a signed webhook, each once; `notify test` reports each channel and
/// `notify log` shows every attempt, never a secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_by_mail_and_webhook_from_serve_and_the_cli() {
    use idcgate_notify::testing::{SinkOptions, SmtpSink, WebhookReceiver, CA_PEM};
    const PASSWORD: &str = "smtp-pass-e2e-7731";
    const SECRET: &str = "whsec-e2e-5521";
    let sink = SmtpSink::start(SinkOptions {
        starttls: true,
        auth: Some(("idcgate".into(), PASSWORD.into())),
        ..Default::default()
    })
    .await;
    let hooks = WebhookReceiver::start(1).await; // the first POST is refused: retried
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::write(dir.path().join("ca.pem"), CA_PEM).unwrap();
    let config = dir.path().join("idcgate.toml");
    std::fs::write(
        &config,
        format!(
            r#"contact = "ops@example.com"
[notify]
every_secs = 1
retry_secs = 1
[[notify.low_balance]]
account = "sandbox-west"
below = "99999999.00"
[[notify.email]]
name = "ops-mail"
host = "localhost"
port = {port}
tls = "starttls"
username = "idcgate"
password_env = "E2E_SMTP_PASSWORD"
from = "idcgate <idcgate@example.com>"
to = ["ops@example.com"]
ca_file = "ca.pem"
[[notify.webhook]]
name = "ops-hook"
url = "{url}"
secret_env = "E2E_HOOK_SECRET"
"#,
            port = sink.addr.port(),
            url = hooks.url
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let envs = [("E2E_SMTP_PASSWORD", PASSWORD), ("E2E_HOOK_SECRET", SECRET)];
    let run = |args: &[&str], envs: &[(&str, &str)]| {
        Command::new(BIN)
            .arg("--config")
            .arg(cfg)
            .args(args)
            .envs(envs.iter().copied())
            .env("IDCGATE_DATA_DIR", &data)
            .env_remove("IDCGATE_MASTER_KEY")
            .env_remove("IDCGATE_DATABASE_URL")
            .output()
            .unwrap()
    };
    // A secret named but not set: refused at once, naming the variable.
    let e = err(&run(&["notify", "test"], &[("E2E_HOOK_SECRET", SECRET)]));
    assert!(e.contains("E2E_SMTP_PASSWORD is not set"), "{e}");

    let server = serve_sandbox_with(&data, &["--config", cfg], &envs);
    // The scheduled sync fills the inventory and takes balance readings; the
    // notification job announces what it found.
    let deadline = Instant::now() + Duration::from_secs(90);
    let wanted = |subjects: &[String]| {
        subjects.iter().any(|s| s.contains(" expires in "))
            && subjects
                .iter()
                .any(|s| s.starts_with("balance of sandbox-west"))
    };
    loop {
        let mails: Vec<String> = sink.accepted().iter().map(|m| m.subject()).collect();
        let posted: Vec<String> = hooks
            .delivered()
            .iter()
            .map(|h| h.json()["subject"].as_str().unwrap_or("").to_string())
            .collect();
        if wanted(&mails) && wanted(&posted) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not announced in time: mail {mails:?}, webhook {posted:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // Every mail went over TLS with the configured login; every webhook is signed.
    assert!(sink
        .accepted()
        .iter()
        .all(|m| m.tls && m.auth == Some(("idcgate".into(), PASSWORD.into()))));
    for h in hooks.delivered() {
        assert_eq!(
            h.headers["x-idcgate-signature"],
            idcgate_notify::sign(SECRET.as_bytes(), &h.body)
        );
    }
    assert_eq!(
        hooks.all()[0].answered,
        503,
        "the first POST was refused and retried"
    );
    // Each event once per channel, however many job runs passed.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut subjects: Vec<String> = sink.accepted().iter().map(|m| m.subject()).collect();
    let n = subjects.len();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), n, "a subject mailed twice: {subjects:?}");

    // The CLI beside the server: a test message on every channel, then the log.
    let out = ok(&run(&["notify", "test"], &envs));
    assert!(
        out.contains("ops-mail") && out.contains("ops-hook"),
        "{out}"
    );
    assert_eq!(out.matches("sent").count(), 2, "{out}");
    assert!(sink
        .accepted()
        .iter()
        .any(|m| m.subject() == "idcgate test notification"));
    let log = run(&["notify", "log", "--limit", "200"], &[]);
    let log_text = ok(&log);
    assert!(
        log_text.contains("HTTP 503") && log_text.contains("HTTP 204"),
        "{log_text}"
    );
    assert!(log_text.contains("sent"), "{log_text}");
    let json = ok(&run(&["--json", "notify", "log"], &[]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["event"] == "low_balance"));
    for out in [&log.stdout, &log.stderr, json.as_bytes()] {
        assert!(secrets_absent(out, PASSWORD) && secrets_absent(out, SECRET));
    }
    drop(server);
    // No channel configured: said so.
    let empty = dir.path().join("empty.toml");
    std::fs::write(&empty, "").unwrap();
    let e = err(&Command::new(BIN)
        .args(["--config", empty.to_str().unwrap(), "notify", "test"])
        .env("IDCGATE_DATA_DIR", &data)
        .output()
        .unwrap());
    assert!(e.contains("no notification channel is configured"), "{e}");
}
