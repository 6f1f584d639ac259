//! The operator's kit, through the real binary: vendor onboarding, account add/update,
//! help and shell integration, config lookup, private data files, and the deployment
//! files (Dockerfile, systemd unit, compose file) run or checked as they are written.
#![allow(clippy::unwrap_used)] // a test may fail loudly

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;

use common::{account_add, cmd, data_dir, err, find, idcgate, idcgate_typed, ok, BIN};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn vendors_lists_each_vendors_keys_base_url_and_rate() {
    let (_tmp, data) = data_dir();
    let table = ok(&idcgate(&data, &["vendors"]));
    let registry = idcgate::vendors::registry();
    for e in registry.entries() {
        assert!(table.contains(&format!(" {} ", e.vendor)), "{table}");
        for k in e.onboarding.keys {
            assert!(table.contains(k.key), "{}: {}", e.vendor, k.key);
        }
    }
    assert!(table.contains("login_token (secret) | login_email + login_password (secret)"));
    let json: serde_json::Value =
        serde_json::from_str(&ok(&idcgate(&data, &["--json", "vendors"]))).unwrap();
    assert_eq!(json.as_array().unwrap().len(), registry.entries().len());
    let dnspod = find(&json, "vendor", "dnspod");
    assert_eq!(dnspod["base_url"], "https://dnsapi.cn");
    assert_eq!(
        dnspod["sign_in"],
        serde_json::json!([["login_token"], ["login_email", "login_password"]])
    );
    let token = &dnspod["credentials"][0];
    assert_eq!(
        (token["key"].as_str(), token["secret"].as_bool()),
        (Some("login_token"), Some(true))
    );
    let show = ok(&idcgate(&data, &["vendors", "show", "zonkvm"]));
    assert!(
        show.contains("No default") && show.contains("appkey"),
        "{show}"
    );
    assert!(err(&idcgate(&data, &["vendors", "show", "nosuch"])).contains("unknown vendor"));
}

/// docs/vendors/V.md is exactly what `vendors show V --markdown` prints, so each key of
/// the vendor crate's ONBOARDING is on its page; each sandbox signs in by the table.
#[test]
fn each_vendor_has_its_page_and_a_consistent_table() {
    let (_tmp, data) = data_dir();
    for e in idcgate::vendors::registry().entries() {
        e.onboarding.validate().unwrap();
        let path = repo().join(format!("docs/vendors/{}.md", e.vendor));
        let page = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("{} is missing", path.display()));
        for k in e.onboarding.keys {
            assert!(
                page.contains(&format!("`{}`", k.key)),
                "{}: {}",
                e.vendor,
                k.key
            );
        }
        let generated = ok(&idcgate(
            &data,
            &["vendors", "show", e.vendor.as_str(), "--markdown"],
        ));
        assert!(
            page == generated,
            "{} is stale: regenerate with `idcgate vendors show {} --markdown > docs/vendors/{}.md`",
            path.display(),
            e.vendor,
            e.vendor
        );
        let mut creds = idcgate_core::Credentials::new();
        for (k, v) in (e.sandbox)().sandbox_credentials() {
            creds.insert(&k, &v);
        }
        e.onboarding.check(&creds).unwrap();
    }
}

#[test]
fn account_add_names_every_missing_key_and_update_changes_an_account() {
    let (_tmp, data) = data_dir();
    let none = err(&idcgate(
        &data,
        &["account", "add", "w", "--vendor", "west"],
    ));
    assert!(
        none.contains("missing credentials: username, api_password"),
        "{none}"
    );
    assert!(none.contains("idcgate vendors show west"), "{none}");
    let half = err(&idcgate(
        &data,
        &account_add("d", "dnspod", None, &["login_email=a@b.c"]),
    ));
    assert!(
        half.contains("missing credentials: login_token, or login_password (given: login_email)"),
        "{half}"
    );
    let typo = err(&idcgate(
        &data,
        &account_add("w", "west", None, &["usrname=u", "api_password=p"]),
    ));
    assert!(typo.contains("unknown credential key usrname"), "{typo}");
    let no_url = err(&idcgate(
        &data,
        &account_add("z", "zonkvm", None, &["appid=1", "appkey=k"]),
    ));
    assert!(no_url.contains("give --base-url"), "{no_url}");

    // The vendor's live URL and advised rate are the defaults.
    ok(&idcgate(
        &data,
        &account_add("d", "dnspod", None, &["login_token=1,tok"]),
    ));
    // A secret typed on standard input, not on the command line.
    ok(&idcgate_typed(
        &data,
        &account_add(
            "w",
            "west",
            Some("http://127.0.0.1:9"),
            &["username=u", "api_password"],
        ),
        "TYPED-SECRET-1\n",
    ));
    let list = |data: &Path| -> serde_json::Value {
        serde_json::from_str(&ok(&idcgate(data, &["--json", "account", "list"]))).unwrap()
    };
    let accounts = list(&data);
    let d = find(&accounts, "name", "d");
    assert_eq!(d["base_url"], "https://dnsapi.cn");
    assert_eq!(d["rate_limit"], 3);
    let w = find(&accounts, "name", "w");
    assert_eq!(
        w["credentials"],
        serde_json::json!(["api_password", "username"])
    );
    assert_eq!(w["rate_limit"], 5);

    let again = err(&idcgate(
        &data,
        &account_add("w", "west", None, &["username=u", "api_password=p"]),
    ));
    assert!(
        again.contains("already exists") && again.contains("account update w"),
        "{again}"
    );

    let changed = ok(&idcgate(
        &data,
        &[
            "account",
            "update",
            "w",
            "--cred",
            "api_password=NEW-SECRET-2",
            "--cred",
            "templateid=7",
            "--rate",
            "7",
        ],
    ));
    assert!(
        changed.contains("api_password, templateid, rate"),
        "{changed}"
    );
    let w = list(&data)
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "w")
        .cloned()
        .unwrap();
    assert_eq!(w["rate_limit"], 7);
    assert_eq!(
        w["credentials"],
        serde_json::json!(["api_password", "templateid", "username"])
    );
    let gone = err(&idcgate(
        &data,
        &["account", "update", "w", "--unset-cred", "username"],
    ));
    assert!(gone.contains("missing credentials: username"), "{gone}");
    assert!(err(&idcgate(&data, &["account", "update", "w"])).contains("nothing to change"));
    assert!(err(&idcgate(
        &data,
        &["account", "update", "nosuch", "--rate", "2"]
    ))
    .contains("nosuch"));
    ok(&idcgate(
        &data,
        &["account", "update", "w", "--unset-cred", "templateid"],
    ));

    let audit = ok(&idcgate(&data, &["--json", "audit"]));
    assert!(audit.contains("account.update"), "{audit}");
    assert!(
        audit.contains("changed api_password, templateid, rate"),
        "{audit}"
    );
    for secret in ["NEW-SECRET-2", "TYPED-SECRET-1"] {
        assert!(!audit.contains(secret));
    }
}

#[test]
fn a_short_action_name_several_ids_end_in_is_ambiguous() {
    let (_tmp, data) = data_dir();
    let e = err(&idcgate(&data, &["call", "west", "getprice"]));
    assert!(e.contains("ambiguous"), "{e}");
    let candidates = e.matches("getprice").count();
    assert!(candidates >= 3, "the name and its candidates: {e}");
}

#[test]
fn help_usage_completions_man_and_version() {
    let (tmp, data) = data_dir();
    // The data dir comes from the environment: usage does not ask for it.
    let usage = err(&cmd(&data)
        .env(
            "IDCGATE_DATABASE_URL",
            "postgres://u:HUNTER2@127.0.0.1:1/db",
        )
        .args(["account", "add"])
        .output()
        .unwrap());
    let line = usage.lines().find(|l| l.starts_with("Usage:")).unwrap();
    assert!(!line.contains("--data-dir"), "{line}");
    assert!(line.contains("<NAME>"), "{line}");
    let help = ok(&cmd(&data)
        .env(
            "IDCGATE_DATABASE_URL",
            "postgres://u:HUNTER2@127.0.0.1:1/db",
        )
        .args(["account", "add", "--help"])
        .output()
        .unwrap());
    assert!(help.contains("[env: IDCGATE_DATABASE_URL]"), "{help}");
    assert!(!help.contains("HUNTER2"), "a password in the help text");
    assert!(help.contains("--cred <KEY[=VALUE]>"), "{help}");

    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef idcgate"),
        ("fish", "complete -c idcgate"),
    ] {
        let script = ok(&idcgate(&data, &["completions", shell]));
        assert!(script.contains(marker), "{shell}");
        assert!(script.contains("vendors"), "{shell}: subcommands completed");
    }
    let man = ok(&idcgate(&data, &["man"]));
    assert!(
        man.contains(".TH idcgate 1"),
        "{}",
        &man[..200.min(man.len())]
    );
    assert!(man.contains("vendors"));
    let dir = tmp.path().join("man");
    ok(&idcgate(&data, &["man", "--dir", dir.to_str().unwrap()]));
    for page in ["idcgate.1", "idcgate-account.1", "idcgate-vendors.1"] {
        assert!(dir.join(page).is_file(), "{page}");
    }
    // Neither needs a configuration: they work before anything is set up.
    assert!(!data.exists(), "completions and man opened the store");

    let version = ok(&idcgate(&data, &["--version"]));
    let head = Command::new("git")
        .args(["rev-parse", "--short=9", "HEAD"])
        .current_dir(repo())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match head {
        // Built from this checkout: the commit is the one checked out (or a later
        // build's; a test binary is rebuilt when HEAD moves).
        Some(h) => assert_eq!(version.trim(), format!("idcgate 0.1.0 ({h})")),
        None => assert!(version.contains("(unknown)"), "{version}"),
    }
}

#[test]
fn the_config_file_is_found_in_the_users_config_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("xdg/idcgate");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(cfg.join("idcgate.toml"), "data_dir = \"state\"\n").unwrap();
    let out = Command::new(BIN)
        .args(["account", "list"])
        .env_remove("IDCGATE_DATA_DIR")
        .env_remove("IDCGATE_DATABASE_URL")
        .env_remove("IDCGATE_CONFIG")
        .env_remove("IDCGATE_MASTER_KEY")
        .env("XDG_CONFIG_HOME", tmp.path().join("xdg"))
        .env("HOME", tmp.path())
        .current_dir(tmp.path())
        .output()
        .unwrap();
    ok(&out);
    assert!(cfg.join("state/idcgate.db").is_file());
    assert!(cfg.join("state/master.key").is_file());
    // A broken one is named, not skipped.
    std::fs::write(cfg.join("idcgate.toml"), "data_dri = 1\n").unwrap();
    let out = Command::new(BIN)
        .args(["account", "list"])
        .env_remove("IDCGATE_DATA_DIR")
        .env_remove("IDCGATE_CONFIG")
        .env("XDG_CONFIG_HOME", tmp.path().join("xdg"))
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let e = err(&out);
    assert!(
        e.contains("xdg/idcgate/idcgate.toml") && e.contains("data_dri"),
        "{e}"
    );
}

#[cfg(unix)]
#[test]
fn the_data_directory_and_its_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let (_tmp, data) = data_dir();
    ok(&idcgate(
        &data,
        &account_add("d", "dnspod", None, &["login_token=1,tok"]),
    ));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    let mut files = Vec::new();
    for e in std::fs::read_dir(&data).unwrap() {
        let p = e.unwrap().path();
        assert_eq!(mode(&p), 0o600, "{}", p.display());
        files.push(p.file_name().unwrap().to_string_lossy().into_owned());
    }
    assert!(files.contains(&"idcgate.db".to_string()), "{files:?}");
    assert!(files.contains(&"master.key".to_string()), "{files:?}");
}

/// The instructions of the Dockerfile's last stage: ENV pairs, USER, VOLUME, and the
/// command ENTRYPOINT + CMD make.
struct Image {
    env: Vec<(String, String)>,
    user: String,
    volumes: Vec<String>,
    command: Vec<String>,
}

fn image() -> Image {
    let text = std::fs::read_to_string(repo().join("Dockerfile")).unwrap();
    // Continuation lines joined, comments dropped.
    let joined = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("\\\n", " ");
    let last_stage = joined.rsplit_once("\nFROM ").unwrap().1;
    let mut image = Image {
        env: Vec::new(),
        user: String::new(),
        volumes: Vec::new(),
        command: Vec::new(),
    };
    let (mut entrypoint, mut cmd) = (Vec::new(), Vec::new());
    for line in last_stage.lines() {
        let (word, rest) = line.trim().split_once(' ').unwrap_or((line.trim(), ""));
        let json = |s: &str| serde_json::from_str::<Vec<String>>(s.trim()).unwrap();
        match word {
            "ENV" => {
                for pair in rest.split_whitespace() {
                    let (k, v) = pair.split_once('=').unwrap();
                    image.env.push((k.to_string(), v.to_string()));
                }
            }
            "USER" => image.user = rest.trim().to_string(),
            "VOLUME" => image.volumes = json(rest),
            "ENTRYPOINT" => entrypoint = json(rest),
            "CMD" => cmd = json(rest),
            _ => {}
        }
    }
    image.command = entrypoint.into_iter().chain(cmd).collect();
    image
}

fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let code = answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (code, body)
}

/// Docker cannot run on the project machines (no daemon), so the image's entry point is
/// run as the image would run it: its command, its environment (the data volume and the
/// listen address moved to a temporary directory and a free loopback port), then
/// `docker stop`'s SIGTERM.
#[test]
fn the_docker_entry_point_serves_healthz_and_stops_cleanly_on_sigterm() {
    let image = image();
    assert!(
        !image.user.is_empty() && image.user != "root" && image.user != "0",
        "the image runs as {:?}",
        image.user
    );
    let env: std::collections::HashMap<_, _> = image.env.iter().cloned().collect();
    let data_dir = env
        .get("IDCGATE_DATA_DIR")
        .expect("IDCGATE_DATA_DIR in ENV");
    assert_eq!(
        image.volumes,
        std::slice::from_ref(data_dir),
        "the data directory is the volume"
    );
    assert!(env
        .get("IDCGATE_LISTEN")
        .is_some_and(|l| l.starts_with("0.0.0.0:")));
    assert_eq!(image.command, ["idcgate", "serve"]);

    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("volume");
    let mut child = Command::new(BIN);
    child.args(&image.command[1..]);
    for (k, v) in &image.env {
        child.env(k, v);
    }
    let mut child = child
        .env("IDCGATE_DATA_DIR", &data)
        .env("IDCGATE_LISTEN", "127.0.0.1:0")
        .env_remove("IDCGATE_DATABASE_URL")
        .env_remove("IDCGATE_MASTER_KEY")
        .env_remove("IDCGATE_CONFIG")
        .env_remove("IDCGATE_LOG")
        .env("HOME", tmp.path())
        .env("XDG_CONFIG_HOME", tmp.path().join("none"))
        .current_dir(tmp.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    let sink = log.clone();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_string());
            }
            sink.lock().unwrap().push(line);
        }
    });
    let addr = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(a) => a,
        Err(_) => {
            let _ = child.kill();
            panic!("did not start: {:?}", log.lock().unwrap());
        }
    };
    assert_eq!(get(&addr, "/healthz"), (200, "ok\n".to_string()));
    assert!(
        data.join("master.key").is_file(),
        "state goes to the volume"
    );

    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("still running 30 s after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    reader.join().unwrap();
    let log = log.lock().unwrap().join("\n");
    assert!(status.success(), "exit {status:?}: {log}");
    assert!(log.contains("SIGTERM received, shutting down"), "{log}");
    assert!(log.contains("job leases released; stopped"), "{log}");
}

/// The environment variables the binary reads, from its own help text.
fn known_settings() -> BTreeSet<String> {
    let help = ok(&Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .unwrap());
    let mut names: BTreeSet<String> = help
        .split("[env: ")
        .skip(1)
        .filter_map(|s| s.split([']', '=']).next())
        .map(str::to_string)
        .collect();
    assert!(
        names.contains("IDCGATE_DATA_DIR") && names.contains("IDCGATE_LISTEN"),
        "{names:?}"
    );
    // Read by the store, not by a flag.
    names.insert("IDCGATE_MASTER_KEY".into());
    names
}

fn settings_named(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("IDCGATE_") && w.len() > "IDCGATE_".len())
        // Build-time, not a setting of the binary; the compose file's own inputs.
        .filter(|w| !matches!(*w, "IDCGATE_GIT_COMMIT" | "IDCGATE_DB_PASSWORD"))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_systemd_unit_and_compose_file_use_settings_the_binary_knows() {
    let known = known_settings();
    let unit = std::fs::read_to_string(repo().join("deploy/idcgate.service")).unwrap();
    let compose = std::fs::read_to_string(repo().join("deploy/compose.yaml")).unwrap();
    let docker = std::fs::read_to_string(repo().join("Dockerfile")).unwrap();
    for (file, text) in [
        ("unit", &unit),
        ("compose", &compose),
        ("Dockerfile", &docker),
    ] {
        let named = settings_named(text);
        assert!(!named.is_empty(), "{file}");
        let unknown: Vec<_> = named.difference(&known).collect();
        assert!(
            unknown.is_empty(),
            "{file} sets what idcgate does not read: {unknown:?}"
        );
    }
    // The unit's command is one the binary accepts.
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap();
    let mut words = exec.split_whitespace();
    assert_eq!(words.next(), Some("/usr/local/bin/idcgate"));
    let args: Vec<&str> = words.collect();
    assert_eq!(args, ["serve"]);
    let help = ok(&Command::new(BIN)
        .args(&args)
        .arg("--help")
        .output()
        .unwrap());
    assert!(help.contains("Run the server"), "{help}");
    assert!(unit.contains("KillSignal=SIGTERM") && unit.contains("StateDirectory=idcgate"));
    // The compose file runs this repository's image beside PostgreSQL.
    assert!(compose.contains("image: postgres:"), "{compose}");
    assert!(
        compose.contains("IDCGATE_DATABASE_URL: postgres://"),
        "{compose}"
    );
    assert!(compose.contains("dockerfile: Dockerfile"), "{compose}");
    assert!(compose.contains("condition: service_healthy"), "{compose}");

    // systemd's own check, where systemd-analyze is installed: with this binary at the
    // unit's ExecStart, no complaint at all (unknown values are only warned about).
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("idcgate.service");
    std::fs::write(&copy, unit.replace("/usr/local/bin/idcgate", BIN)).unwrap();
    match Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&copy)
        .output()
    {
        Ok(out) => {
            let said = String::from_utf8_lossy(&out.stderr).into_owned()
                + &String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && said.trim().is_empty(),
                "systemd-analyze: {said}"
            );
        }
        Err(e) => {
            eprintln!("systemd-analyze not run here ({e}); the unit was checked by text only")
        }
    }
}
