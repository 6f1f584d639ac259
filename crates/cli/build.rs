//! Stamps the binary with the commit it was built from (`idcgate --version`), and marks
//! the PostgreSQL half of the tests ignored when `IDCGATE_TEST_POSTGRES=off` so the test
//! summary counts them as not run instead of passed.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn main() {
    println!("cargo::rerun-if-env-changed=IDCGATE_GIT_COMMIT");
    // A build without the repository (a source tarball, a Docker context without .git)
    // may be told the commit; otherwise it says it does not know.
    let commit = std::env::var("IDCGATE_GIT_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| git(&["rev-parse", "--short=9", "HEAD"]))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo::rustc-env=IDCGATE_GIT_COMMIT={commit}");
    // Rebuild when HEAD moves: HEAD itself (a checkout), the branch it names (a commit)
    // and packed-refs (a gc). Worktrees keep HEAD and refs in different directories.
    for path in [
        git(&["rev-parse", "--path-format=absolute", "--git-path", "HEAD"]),
        git(&["symbolic-ref", "-q", "HEAD"])
            .and_then(|r| git(&["rev-parse", "--path-format=absolute", "--git-path", &r])),
        git(&[
            "rev-parse",
            "--path-format=absolute",
            "--git-path",
            "packed-refs",
        ]),
    ]
    .into_iter()
    .flatten()
    // A branch in packed-refs has no file of its own; naming a missing file would rerun
    // this script on every build.
    .filter(|p| std::path::Path::new(p).exists())
    {
        println!("cargo::rerun-if-changed={path}");
    }
    idcgate_pg_cfg();
}

/// The same few lines in every crate whose tests use `idcgate_store::both_backends!`.
fn idcgate_pg_cfg() {
    println!("cargo::rustc-check-cfg=cfg(idcgate_postgres_off)");
    println!("cargo::rerun-if-env-changed=IDCGATE_TEST_POSTGRES");
    if std::env::var("IDCGATE_TEST_POSTGRES").is_ok_and(|v| v == "off") {
        println!("cargo::rustc-cfg=idcgate_postgres_off");
    }
}
