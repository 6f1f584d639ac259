//! What the binary's test crates share: the binary on a data directory with nothing
//! from this machine's configuration, its output read as a success or a failure, free
//! ports for the simulators, and a background `idcgate` killed and reaped when dropped.
#![allow(dead_code)] // each test crate uses its own part

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_idcgate");

/// The binary on `data`, with nothing from this machine's configuration (its time zone
/// included) and nothing to read on stdin.
pub fn cmd(data: &Path) -> Command {
    let mut c = Command::new(BIN);
    let home = data.parent().unwrap();
    c.env("IDCGATE_DATA_DIR", data)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("no-config"))
        .env_remove("IDCGATE_MASTER_KEY")
        .env_remove("IDCGATE_DATABASE_URL")
        .env_remove("IDCGATE_CONFIG")
        .env_remove("IDCGATE_TZ")
        .stdin(Stdio::null())
        .current_dir(home);
    c
}

pub fn idcgate<S: AsRef<OsStr>>(data: &Path, args: &[S]) -> Output {
    cmd(data).args(args).output().unwrap()
}

/// A fresh temporary directory (removed when dropped) and the data directory to be
/// made in it.
pub fn data_dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    (tmp, data)
}

/// The element of the JSON array `list` whose `key` is `value`.
pub fn find<'a>(list: &'a serde_json::Value, key: &str, value: &str) -> &'a serde_json::Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|v| v[key] == value)
        .unwrap()
}

/// The arguments of `idcgate account add <name> --vendor <vendor>`, with
/// `--base-url <url>` when given and a `--cred` before each of `creds`.
pub fn account_add(
    name: &str,
    vendor: &str,
    base_url: Option<&str>,
    creds: &[&str],
) -> Vec<String> {
    let mut args: Vec<String> = ["account", "add", name, "--vendor", vendor]
        .map(String::from)
        .into();
    if let Some(url) = base_url {
        args.extend(["--base-url".into(), url.into()]);
    }
    for c in creds {
        args.extend(["--cred".into(), c.to_string()]);
    }
    args
}

/// The binary on `data` with `args`, `input` typed on its stdin.
pub fn idcgate_typed<S: AsRef<OsStr>>(data: &Path, args: &[S], input: &str) -> Output {
    let mut child = cmd(data)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The output of a run that must have succeeded.
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The error text of a run that must have failed.
pub fn err(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "unexpected success: {}",
        text(&out.stdout)
    );
    text(&out.stderr)
}

pub fn vendor_count() -> u16 {
    idcgate::vendors::registry().entries().len() as u16
}

/// Free consecutive ports for the simulators, one per vendor (one range per test); each
/// test crate passes a `first` of its own so crates running at once do not meet. A
/// process's ranges span 80 ports (ten sandboxes before one is reused), and the `first`s
/// used (11000, 21000) keep every range below the kernel's ephemeral ports (32768 up),
/// which outgoing connections may take between the check here and the sandbox's bind.
pub fn sandbox_port(first: u16) -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    loop {
        let base = first
            + (std::process::id() % 100) as u16 * 80
            + NEXT.fetch_add(8, Ordering::SeqCst) % 80;
        if (base..base + vendor_count())
            .all(|p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok())
        {
            return base;
        }
    }
}

/// A background `idcgate`, killed and reaped when dropped (panics included).
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `c` (logging at warn) and waits up to 30 s for the stderr line containing
/// `ready`, which it returns; `what` names the process if it never comes.
pub fn start(mut c: Command, ready: &str, what: &str) -> (Running, String) {
    let child = c
        .env("IDCGATE_LOG", "warn")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let mut lines = BufReader::new(running.0.stderr.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut said = Vec::new();
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if line.contains(ready) {
            // Keep draining stderr so the child never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            return (running, line);
        }
        said.push(line);
    }
    // What it said (a port taken, say) is the only clue to a start that fails once in
    // many runs.
    let exit = running.0.try_wait().ok().flatten();
    panic!(
        "{what} did not start (exit {exit:?}); it said:\n{}",
        said.join("\n")
    );
}
