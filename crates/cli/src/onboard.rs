//! `idcgate vendors` and what `account add|update` need from a vendor's onboarding
//! (`ONBOARDING` of each vendor crate, reached through the registry).

use crate::commands::{actor, read_secret};
use crate::output::Out;
use crate::{AccountCmd, VendorsCmd};
use anyhow::{bail, Result};
use idcgate_core::{Credentials, Onboarding, Vendor};
use idcgate_engine::accounts::{AccountChange, NewAccount};
use idcgate_engine::{Engine, EngineError};
use serde_json::json;
use std::fmt::Write as _;

pub fn vendors(out: &Out, cmd: Option<VendorsCmd>) -> Result<()> {
    let registry = idcgate::vendors::registry();
    match cmd {
        None => {
            let entries = registry.entries();
            let value: Vec<_> = entries
                .iter()
                .map(|e| onboarding_json(e.vendor, e.onboarding))
                .collect();
            out.table(
                &value,
                entries,
                &[
                    ("vendor", |e| e.vendor.to_string()),
                    ("name", |e| e.onboarding.title.to_string()),
                    ("credentials (--cred)", |e| credentials_line(e.onboarding)),
                    ("live base url", |e| {
                        e.onboarding.base_url.unwrap_or("(yours)").to_string()
                    }),
                    ("req/s", |e| e.onboarding.rate_per_sec.to_string()),
                ],
            )?;
            if !out.json {
                println!("secret keys: give them as `--cred KEY` alone to type the value; details: idcgate vendors show VENDOR");
            }
            Ok(())
        }
        Some(VendorsCmd::Show { vendor, markdown }) => {
            let vendor: Vendor = vendor.parse()?;
            let entry = registry.get(vendor)?;
            if out.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&onboarding_json(vendor, entry.onboarding))?
                );
            } else {
                print!("{}", page(vendor, entry.onboarding, markdown));
            }
            Ok(())
        }
    }
}

fn onboarding_json(vendor: Vendor, ob: &Onboarding) -> serde_json::Value {
    json!({
        "vendor": vendor,
        "title": ob.title,
        "credentials": ob.keys.iter().map(|k| json!({
            "key": k.key,
            "secret": k.secret,
            "need": need(ob, k.key),
            "about": k.about,
        })).collect::<Vec<_>>(),
        "sign_in": ob.sign_in,
        "base_url": ob.base_url,
        "base_url_about": ob.base_url_about,
        "rate_per_sec": ob.rate_per_sec,
        "rate_advice": ob.rate_advice,
        "setup": ob.setup,
        "quirks": ob.quirks,
    })
}

/// `required`, `optional`, or how the key takes part in one of several ways to sign in.
fn need(ob: &Onboarding, key: &str) -> String {
    let sets: Vec<&&[&str]> = ob.sign_in.iter().filter(|s| s.contains(&key)).collect();
    if sets.is_empty() {
        return "optional".into();
    }
    if sets.len() == ob.sign_in.len() {
        return "required".into();
    }
    let others: Vec<String> = ob
        .sign_in
        .iter()
        .filter(|s| !s.contains(&key))
        .map(|s| s.join(" + "))
        .collect();
    let partners: Vec<&str> = sets
        .iter()
        .flat_map(|s| s.iter().copied())
        .filter(|k| *k != key)
        .collect();
    let with = if partners.is_empty() {
        String::new()
    } else {
        format!(" with {}", partners.join(" + "))
    };
    format!("required{with}, or instead {}", others.join(", or "))
}

fn key_name(ob: &Onboarding, key: &str) -> String {
    match ob.key(key) {
        Some(k) if k.secret => format!("{key} (secret)"),
        _ => key.to_string(),
    }
}

/// `username + api_password (secret)`; alternatives joined by `| `, then the optional keys.
fn credentials_line(ob: &Onboarding) -> String {
    let ways: Vec<String> = ob
        .sign_in
        .iter()
        .map(|set| {
            set.iter()
                .map(|k| key_name(ob, k))
                .collect::<Vec<_>>()
                .join(" + ")
        })
        .collect();
    let optional: Vec<String> = ob
        .keys
        .iter()
        .filter(|k| !ob.signs_in(k.key))
        .map(|k| key_name(ob, k.key))
        .collect();
    let mut line = ways.join(" | ");
    if !optional.is_empty() {
        let _ = write!(line, "; optional: {}", optional.join(", "));
    }
    line
}

/// An `account add` line that works as given once the values are filled in: plain keys
/// as KEY=..., secrets as KEY alone (read from standard input).
fn example(vendor: Vendor, ob: &Onboarding) -> String {
    let mut line = format!("idcgate account add my-{vendor} --vendor {vendor}");
    match ob.base_url {
        Some(url) => {
            let _ = write!(line, " --base-url {url}");
        }
        None => line.push_str(" --base-url https://..."),
    }
    for key in ob.sign_in.first().copied().unwrap_or_default() {
        match ob.key(key) {
            Some(k) if k.secret => {
                let _ = write!(line, " --cred {key}");
            }
            _ => {
                let _ = write!(line, " --cred {key}=...");
            }
        }
    }
    line
}

/// One vendor's onboarding as text, or as the Markdown page of docs/vendors/.
pub fn page(vendor: Vendor, ob: &Onboarding, markdown: bool) -> String {
    let mut p = String::new();
    let (h1, h2, item, code) = if markdown {
        ("# ", "\n## ", "- ", "`")
    } else {
        ("", "\n", "  - ", "")
    };
    let _ = writeln!(p, "{h1}{} — vendor `{vendor}`", ob.title);
    if markdown {
        let _ = writeln!(
            p,
            "\n<!-- Generated by `idcgate vendors show {vendor} --markdown` from the vendor crate's ONBOARDING; a test keeps it so. -->"
        );
    }
    let _ = writeln!(
        p,
        "{h2}Credentials{}",
        if markdown {
            ""
        } else {
            " (--cred KEY=VALUE; --cred KEY alone reads a secret from standard input):"
        }
    );
    if markdown {
        let _ = writeln!(
            p,
            "\nGive each as `--cred KEY=VALUE`, or `--cred KEY` alone to type a secret so it stays out of shell history.\n"
        );
        p.push_str("| key | secret | need | what it is |\n|---|---|---|---|\n");
        for k in ob.keys {
            let _ = writeln!(
                p,
                "| `{}` | {} | {} | {} |",
                k.key,
                if k.secret { "yes" } else { "no" },
                need(ob, k.key),
                k.about
            );
        }
    } else {
        let width = ob.keys.iter().map(|k| k.key.len()).max().unwrap_or(0);
        for k in ob.keys {
            let _ = writeln!(
                p,
                "  {:width$}  {}{}\n  {:width$}  {}",
                k.key,
                if k.secret { "secret; " } else { "" },
                need(ob, k.key),
                "",
                k.about
            );
        }
    }
    let ways: Vec<String> = ob
        .sign_in
        .iter()
        .map(|s| {
            s.iter()
                .map(|k| format!("{code}{k}{code}"))
                .collect::<Vec<_>>()
                .join(" + ")
        })
        .collect();
    let _ = writeln!(
        p,
        "{}Sign in with {}.",
        if markdown { "\n" } else { "  " },
        ways.join(", or ")
    );
    let _ = writeln!(p, "{h2}Base URL");
    let _ = writeln!(
        p,
        "{}{}{}",
        if markdown { "\n" } else { "  " },
        match ob.base_url {
            Some(url) =>
                format!("Live: {code}{url}{code}, the default of `account add`. `--base-url`: "),
            None => "No default. `--base-url`: ".to_string(),
        },
        ob.base_url_about
    );
    let _ = writeln!(p, "{h2}Rate limit");
    let _ = writeln!(
        p,
        "{}{} requests/s per account (the default of `account add --rate`). {}",
        if markdown { "\n" } else { "  " },
        ob.rate_per_sec,
        ob.rate_advice
    );
    let _ = writeln!(
        p,
        "{h2}Before you start{}",
        if markdown { "\n" } else { "" }
    );
    for s in ob.setup {
        let _ = writeln!(p, "{item}{s}");
    }
    let _ = writeln!(p, "{h2}Quirks{}", if markdown { "\n" } else { "" });
    for q in ob.quirks {
        let _ = writeln!(p, "{item}{q}");
    }
    let _ = writeln!(p, "{h2}Example{}", if markdown { "\n" } else { "" });
    if markdown {
        let _ = writeln!(
            p,
            "```sh\n{}\nidcgate account test my-{vendor}\n```",
            example(vendor, ob)
        );
    } else {
        let _ = writeln!(
            p,
            "  {}\n  idcgate account test my-{vendor}",
            example(vendor, ob)
        );
    }
    p
}

/// `--cred` arguments as keys with a value, or `None` for one to read from standard
/// input (read later, once the keys are known to be right).
fn cred_args(creds: &[String]) -> Result<Vec<(String, Option<String>)>> {
    creds
        .iter()
        .map(|c| {
            let (k, v) = match c.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.to_string())),
                None => (c.trim(), None),
            };
            if k.is_empty() {
                bail!("--cred {c:?} names no key (KEY=VALUE, or KEY alone)");
            }
            Ok((k.to_string(), v))
        })
        .collect()
}

/// Checks `creds` against the vendor's onboarding before anything is read from standard
/// input (values to be typed stand in as placeholders), then reads them.
fn fill(
    vendor: Vendor,
    ob: &Onboarding,
    mut credentials: Credentials,
    args: Vec<(String, Option<String>)>,
) -> Result<Credentials> {
    let mut probe = credentials.clone();
    for (k, v) in &args {
        probe.insert(k, v.as_deref().unwrap_or("typed"));
    }
    ob.check(&probe)
        .map_err(|e| anyhow::anyhow!("{e} (see `idcgate vendors show {vendor}`)"))?;
    for (k, v) in args {
        let v = match v {
            Some(v) => v,
            None => read_secret(&k)?,
        };
        credentials.insert(&k, &v);
    }
    ob.check(&credentials)?;
    Ok(credentials)
}

pub async fn account_add(out: &Out, engine: &Engine, cmd: AccountCmd) -> Result<()> {
    let AccountCmd::Add {
        name,
        vendor,
        base_url,
        creds,
        rate,
    } = cmd
    else {
        bail!("not account add");
    };
    let vendor: Vendor = vendor.parse()?;
    let ob = engine.registry.get(vendor)?.onboarding;
    // The rules are the engine's; checked before any secret is read from the terminal.
    idcgate_engine::accounts::check_account_name(&name).map_err(flagged)?;
    if engine.has_account(&name).await? {
        bail!("account {name} already exists; change it with `idcgate account update {name} --cred KEY=VALUE ...`");
    }
    if base_url.is_none() && ob.base_url.is_none() {
        bail!(
            "{vendor} has no public API address: give --base-url, {}",
            ob.base_url_about
        );
    }
    let credentials = fill(vendor, ob, Credentials::new(), cred_args(&creds)?)?;
    let new = NewAccount {
        name: name.clone(),
        vendor,
        base_url,
        credentials,
        rate_limit_per_sec: rate,
    };
    let account = engine
        .add_account(&actor(), new)
        .await
        .map_err(|e| match e {
            EngineError::Conflict(m) => anyhow::anyhow!(
                "{m}; change it with `idcgate account update {name} --cred KEY=VALUE ...`"
            ),
            e => flagged(e),
        })?;
    let rate = account.rate_limit_per_sec;
    out.message(
        &json!({"added": name, "vendor": vendor, "base_url": account.base_url, "rate_limit": rate}),
        &format!(
            "account {name} added ({vendor}, {}, {rate} req/s); check it with `idcgate account test {name}`",
            account.base_url
        ),
    )
}

/// An engine refusal of input, naming the field as this command's flag.
fn flagged(e: EngineError) -> anyhow::Error {
    match e {
        EngineError::InvalidInput { field, reason } => {
            let flag = match field.as_str() {
                "base_url" => "--base-url".to_string(),
                "rate" => "--rate".to_string(),
                "credentials" => "--cred".to_string(),
                other => other.to_string(),
            };
            anyhow::anyhow!("{reason} ({flag})")
        }
        e => e.into(),
    }
}

pub async fn account_update(out: &Out, engine: &Engine, cmd: AccountCmd) -> Result<()> {
    let AccountCmd::Update {
        name,
        creds,
        unset,
        base_url,
        rate,
    } = cmd
    else {
        bail!("not account update");
    };
    if creds.is_empty() && unset.is_empty() && base_url.is_none() && rate.is_none() {
        bail!("nothing to change: give --cred, --unset-cred, --base-url or --rate");
    }
    let mut account = engine.account(&name).await?;
    let vendor = account.vendor;
    let ob = engine.registry.get(vendor)?.onboarding;
    for k in &unset {
        if !account.credentials.remove(k) {
            bail!("account {name} has no credential {k:?}");
        }
    }
    let args = cred_args(&creds)?;
    let credentials = if args.is_empty() && unset.is_empty() {
        None
    } else {
        Some(fill(vendor, ob, account.credentials, args)?)
    };
    let change = AccountChange {
        credentials,
        base_url,
        rate_limit_per_sec: rate,
    };
    let (_, changed) = engine
        .update_account(&actor(), &name, change)
        .await
        .map_err(flagged)?;
    out.message(
        &json!({"updated": name, "changed": changed}),
        &format!("account {name} updated ({})", changed.join(", ")),
    )
}
