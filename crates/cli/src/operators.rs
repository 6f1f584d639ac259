//! `idcgate user`: the console's operators. Passwords are never taken as arguments
//! (they would sit in shell history and `ps`): one is generated and shown once, or
//! read from standard input with `--password-stdin`.

use crate::commands::actor;
use crate::output::Out;
use anyhow::{anyhow, bail, Result};
use clap::Subcommand;
use idcgate_console::auth::Operators;
use idcgate_engine::Engine;
use idcgate_store::Role;
use std::io::BufRead;

#[derive(Subcommand)]
pub enum UserCmd {
    /// Add an operator; prints a generated password once unless --password-stdin.
    Add {
        /// Login name: letters, digits, '-', '_', '.', '@'.
        name: String,
        /// admin, operator, finance or viewer.
        #[arg(long, default_value = "viewer")]
        role: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List operators with their role, second factor and lockout.
    List,
    /// Set a new password (ends the operator's sessions and clears a lockout).
    Passwd {
        /// The operator's login name.
        name: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change an operator's role (the last admin cannot be demoted).
    Role {
        /// The operator's login name.
        name: String,
        /// admin, operator, finance or viewer.
        role: String,
    },
    /// Remove an operator and end its sessions (the last admin cannot be removed).
    Remove {
        /// The operator's login name.
        name: String,
        /// Remove it without asking (needed when standard input is not a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Remove an operator's second factor (a lost phone); they enrol again.
    Reset2fa {
        /// The operator's login name.
        name: String,
    },
}

pub fn parse_role(s: &str) -> Result<Role> {
    Role::from_word(s)
        .ok_or_else(|| anyhow!("unknown role {s:?}: admin, operator, finance or viewer"))
}

fn new_password(from_stdin: bool) -> Result<(String, bool)> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let p = line.trim_end_matches(['\r', '\n']).to_string();
        if p.is_empty() {
            bail!("no password on standard input");
        }
        return Ok((p, false));
    }
    Ok((generate_password()?, true))
}

fn generate_password() -> Result<String> {
    Ok(idcgate_console::auth::generate_password()?)
}

pub async fn dispatch(out: &Out, engine: &Engine, cmd: UserCmd) -> Result<()> {
    let actor = actor();
    let ops = Operators {
        engine,
        actor: &actor,
    };
    match cmd {
        UserCmd::Add {
            name,
            role,
            password_stdin,
        } => {
            let role = parse_role(&role)?;
            let (password, generated) = new_password(password_stdin)?;
            let o = ops.add(&name, role, &password).await?;
            let shown = generated.then_some(password.as_str());
            let mut text = format!("added operator {} ({})", o.name, o.role.as_str());
            if let Some(p) = shown {
                text.push_str(&format!("\npassword (shown once): {p}"));
            }
            out.message(
                &serde_json::json!({ "name": o.name, "role": o.role.as_str(), "password": shown }),
                &text,
            )?;
        }
        UserCmd::List => {
            let list = engine.operators().list().await?;
            let now = idcgate_engine::now_ms();
            let value: Vec<_> = list
                .iter()
                .map(|o| {
                    serde_json::json!({
                        "name": o.name, "role": o.role.as_str(), "totp": o.totp_enabled,
                        "locked_until_ms": (o.locked_until_ms > now).then_some(o.locked_until_ms),
                        "created_at_ms": o.created_at_ms,
                    })
                })
                .collect();
            let rows = list
                .iter()
                .map(|o| {
                    vec![
                        o.name.clone(),
                        o.role.as_str().to_string(),
                        if o.totp_enabled { "on" } else { "off" }.to_string(),
                        if o.locked_until_ms > now {
                            format!("until {}", idcgate_console::layout::time(o.locked_until_ms))
                        } else {
                            "-".into()
                        },
                    ]
                })
                .collect();
            out.show(&value, &["name", "role", "2fa", "locked (UTC+8)"], rows)?;
        }
        UserCmd::Passwd {
            name,
            password_stdin,
        } => {
            let (password, generated) = new_password(password_stdin)?;
            ops.set_password(&name, &password).await?;
            let shown = generated.then_some(password.as_str());
            let mut text = format!("password of {name} changed; its sessions ended");
            if let Some(p) = shown {
                text.push_str(&format!("\npassword (shown once): {p}"));
            }
            out.message(
                &serde_json::json!({ "name": name, "password": shown }),
                &text,
            )?;
        }
        UserCmd::Role { name, role } => {
            let role = parse_role(&role)?;
            ops.set_role(&name, role).await?;
            out.message(
                &serde_json::json!({ "name": name, "role": role.as_str() }),
                &format!("{name} is now {}", role.as_str()),
            )?;
        }
        UserCmd::Remove { name, yes } => {
            crate::safety::confirm(
                &format!("remove console operator {name}"),
                "its sessions end and it can no longer sign in",
                yes,
            )?;
            ops.remove(&name).await?;
            out.message(
                &serde_json::json!({ "removed": name }),
                &format!("removed operator {name}"),
            )?;
        }
        UserCmd::Reset2fa { name } => {
            ops.reset_totp(&name).await?;
            out.message(
                &serde_json::json!({ "name": name, "totp": false }),
                &format!("second factor of {name} removed; they enrol again at /account/security"),
            )?;
        }
    }
    Ok(())
}

/// The sandbox's administrator: made on first start, given a fresh password on every
/// start (the sandbox is for trying things; its login is printed, never stored).
pub async fn sandbox_admin(engine: &Engine) -> Result<(String, String)> {
    const NAME: &str = "sandbox-admin";
    let password = generate_password()?;
    let ops = Operators {
        engine,
        actor: "sandbox",
    };
    if engine.operators().get(NAME).await?.is_some() {
        ops.set_password(NAME, &password).await?;
    } else {
        ops.add(NAME, Role::Admin, &password).await?;
    }
    Ok((NAME.to_string(), password))
}
