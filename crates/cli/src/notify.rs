//! `[notify]` made into the engine's `NotifySettings` (channels with their secrets read
//! from the environment or the file), and `idcgate notify test|log|run`.

use crate::commands::{actor, fmt_ms, truncate};
use crate::config::{EmailFile, Hidden, NotifyFile, WebhookFile};
use crate::output::Out;
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use idcgate_core::{Money, ResourceKind};
use idcgate_engine::notify::NotifySettings;
use idcgate_engine::{now_ms, Engine};
use idcgate_notify::{
    Channel, SmtpChannel, SmtpSettings, TlsMode, WebhookChannel, WebhookSettings,
};
use secrecy::SecretString;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

#[derive(Subcommand)]
pub enum NotifyCmd {
    /// Send a test message on every configured channel now and say how each went.
    Test,
    /// The delivery log: every attempt, newest first, with what the peer answered.
    Log {
        /// How many attempts.
        #[arg(long, default_value_t = 30)]
        limit: i64,
    },
    /// Raise the events due now and send what is due (what `serve` does every
    /// `every_secs`), also checking product prices with --prices.
    Run {
        /// Also quote every product on sale and announce changed upstream costs.
        #[arg(long)]
        prices: bool,
    },
}

/// Where a secret comes from: the file or an environment variable, never both.
fn secret(what: &str, inline: Option<&Hidden>, env: Option<&str>) -> Result<Option<SecretString>> {
    match (inline, env) {
        (Some(_), Some(_)) => bail!("{what}: give the secret or the variable holding it, not both"),
        (Some(h), None) if h.0.is_empty() => bail!("{what}: the secret is empty"),
        (Some(h), None) => Ok(Some(SecretString::from(h.0.clone()))),
        (None, Some(var)) => match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Some(SecretString::from(v))),
            _ => bail!("{what}: the environment variable {var} is not set"),
        },
        (None, None) => Ok(None),
    }
}

fn check_name(kind: &str, name: &str, seen: &mut BTreeSet<String>) -> Result<()> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        bail!("[[notify.{kind}]] name {name:?}: use 1 to 64 letters, digits, '-' and '_'");
    }
    if !seen.insert(name.to_string()) {
        bail!("[[notify.{kind}]] name {name:?}: another channel has this name");
    }
    Ok(())
}

fn email(e: &EmailFile, contact: &str) -> Result<Arc<dyn Channel>> {
    let what = format!("[[notify.email]] {:?}", e.name);
    let tls: TlsMode = e
        .tls
        .as_deref()
        .unwrap_or("starttls")
        .parse()
        .map_err(|m: String| anyhow::anyhow!("{what}: {m}"))?;
    let password = secret(
        &format!("{what} password"),
        e.password.as_ref(),
        e.password_env.as_deref(),
    )?;
    let ca_pem = e
        .ca_file
        .as_ref()
        .map(|p| {
            std::fs::read(p).with_context(|| format!("{what}: cannot read ca_file {}", p.display()))
        })
        .transpose()?;
    let timeout = Duration::from_secs(e.timeout_secs.unwrap_or(30).max(1));
    let helo = contact
        .rsplit_once('@')
        .map(|(_, d)| d.trim().to_string())
        .filter(|d| {
            !d.is_empty()
                && d.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        })
        .unwrap_or_else(|| "idcgate.invalid".into());
    let channel = SmtpChannel::new(SmtpSettings {
        name: e.name.clone(),
        host: e.host.clone(),
        port: e.port.unwrap_or(tls.default_port()),
        tls,
        username: e.username.clone(),
        password,
        from: e.from.clone(),
        to: e.to.clone(),
        ca_pem,
        timeout,
        helo,
    })
    .map_err(|err| anyhow::anyhow!("{err}"))?;
    Ok(Arc::new(channel))
}

fn webhook(w: &WebhookFile) -> Result<Arc<dyn Channel>> {
    let what = format!("[[notify.webhook]] {:?}", w.name);
    let secret = secret(
        &format!("{what} secret"),
        w.secret.as_ref(),
        w.secret_env.as_deref(),
    )?;
    let channel = WebhookChannel::new(WebhookSettings {
        name: w.name.clone(),
        url: w.url.0.clone(),
        secret,
        timeout: Duration::from_secs(w.timeout_secs.unwrap_or(10).max(1)),
        user_agent: format!("idcgate/{} (notifications)", env!("CARGO_PKG_VERSION")),
    })
    .map_err(|err| anyhow::anyhow!("{err}"))?;
    Ok(Arc::new(channel))
}

fn kind(name: &str) -> Result<ResourceKind> {
    let canonical = match name {
        "hosting" => "hosting_site",
        "mail" => "mail_domain",
        "cert" | "certs" => "certificate",
        other => other,
    };
    match canonical.parse::<ResourceKind>() {
        Ok(
            k @ (ResourceKind::Domain
            | ResourceKind::Server
            | ResourceKind::HostingSite
            | ResourceKind::Database
            | ResourceKind::MailDomain
            | ResourceKind::Certificate),
        ) => Ok(k),
        _ => bail!(
            "[notify] expiring: {name:?} is not a kind that expires (domain, server, hosting, database, mail_domain, certificate)"
        ),
    }
}

/// The engine's settings from `[notify]`: every channel made (secrets read now), every
/// value checked, so `serve` refuses a broken configuration at start.
pub fn settings(file: &NotifyFile, contact: &str) -> Result<NotifySettings> {
    let mut names = BTreeSet::new();
    let mut channels: Vec<Arc<dyn Channel>> = Vec::new();
    for e in &file.email {
        check_name("email", &e.name, &mut names)?;
        channels.push(email(e, contact)?);
    }
    for w in &file.webhook {
        check_name("webhook", &w.name, &mut names)?;
        channels.push(webhook(w)?);
    }
    let defaults = NotifySettings::default();
    let expiring = match &file.expiring {
        Some(kinds) => kinds.iter().map(|k| kind(k)).collect::<Result<Vec<_>>>()?,
        None => defaults.expiring.clone(),
    };
    let mut low_balance = Vec::new();
    for l in &file.low_balance {
        let below: Money = l.below.trim().parse().map_err(|_| {
            anyhow::anyhow!(
                "[[notify.low_balance]] {:?}: below = {:?} is not an amount in CNY",
                l.account,
                l.below
            )
        })?;
        if below.is_negative() || below.to_fen().is_err() {
            bail!(
                "[[notify.low_balance]] {:?}: below = {:?} must be at least 0, in whole fen",
                l.account,
                l.below
            );
        }
        low_balance.push((l.account.clone(), below));
    }
    let max_attempts = file.max_attempts.unwrap_or(defaults.max_attempts);
    if max_attempts == 0 {
        bail!("[notify] max_attempts must be at least 1");
    }
    Ok(NotifySettings {
        channels,
        expiring,
        low_balance,
        sync_failures: file.sync_failures.unwrap_or(defaults.sync_failures),
        orders: file.orders.unwrap_or(defaults.orders),
        prices: file.price_check_hours != Some(0),
        max_attempts,
        retry_base: file
            .retry_secs
            .map(|s| Duration::from_secs(s.max(1)))
            .unwrap_or(defaults.retry_base),
    })
}

/// The notification job's and the price watch's intervals from `[notify]`.
pub fn intervals(file: &NotifyFile) -> (Duration, Duration) {
    let every = Duration::from_secs(file.every_secs.unwrap_or(30).max(1));
    // 0 turns the watch off in the settings; the job then only reschedules itself.
    let prices = Duration::from_secs(file.price_check_hours.unwrap_or(6).max(1) * 3600);
    (every, prices)
}

fn configured(engine: &Engine, file: &NotifyFile, contact: &str) -> Result<()> {
    let s = settings(file, contact)?;
    if s.channels.is_empty() {
        bail!("no notification channel is configured: add a [[notify.email]] or [[notify.webhook]] section to idcgate.toml (see idcgate.example.toml)");
    }
    engine.set_notify(s);
    Ok(())
}

pub async fn dispatch(
    out: &Out,
    engine: &Arc<Engine>,
    file: &NotifyFile,
    contact: &str,
    cmd: NotifyCmd,
) -> Result<()> {
    match cmd {
        NotifyCmd::Test => {
            configured(engine, file, contact)?;
            let results = engine.notify_test(&actor()).await?;
            let failed = results.iter().filter(|r| !r.ok).count();
            let rows = results
                .iter()
                .map(|r| {
                    vec![
                        r.channel.clone(),
                        r.kind.clone(),
                        if r.ok { "sent" } else { "FAILED" }.to_string(),
                        truncate(&r.detail, 90),
                    ]
                })
                .collect();
            out.show(&results, &["channel", "kind", "result", "detail"], rows)?;
            if failed > 0 {
                bail!("{failed} of {} channels failed", results.len());
            }
            Ok(())
        }
        NotifyCmd::Log { limit } => {
            let log = engine.delivery_log(limit.clamp(1, 10_000)).await?;
            let (pending, sent, failed) = engine.reads().delivery_counts().await?;
            if !out.json {
                println!("deliveries: {sent} sent, {pending} pending, {failed} given up");
            }
            out.list(
                &log,
                &[
                    ("at", |a| fmt_ms(a.at_ms)),
                    ("event", |a| format!("#{} {}", a.event_id, a.event)),
                    ("subject", |a| truncate(&a.subject, 50)),
                    ("channel", |a| a.channel.clone()),
                    ("try", |a| a.attempt.to_string()),
                    ("outcome", |a| a.outcome.clone()),
                    ("now", |a| a.state.as_str().to_string()),
                    ("detail", |a| truncate(&a.detail, 60)),
                ],
            )
        }
        NotifyCmd::Run { prices } => {
            configured(engine, file, contact)?;
            let now = now_ms();
            let mut scan = engine.scan_events(now).await?;
            if prices {
                let p = engine.watch_prices(now).await?;
                scan.raised.extend(p.raised);
                scan.errors.extend(p.errors);
            }
            let sent = engine
                .send_due(&format!("cli:{}", std::process::id()), now_ms())
                .await?;
            let report =
                serde_json::json!({ "raised": scan.raised, "sent": sent, "errors": scan.errors });
            if !out.json_only(&report)? {
                for (kind, subject) in &scan.raised {
                    println!("raised {kind}: {subject}");
                }
                println!(
                    "{} raised; {} delivered, {} to retry, {} given up",
                    scan.raised.len(),
                    sent.sent,
                    sent.retrying,
                    sent.failed
                );
            }
            if !scan.errors.is_empty() {
                bail!("{}", scan.errors.join("\n"));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LowBalanceFile;

    fn file() -> NotifyFile {
        NotifyFile {
            email: vec![EmailFile {
                name: "ops-mail".into(),
                host: "smtp.example.com".into(),
                username: Some("u".into()),
                password_env: Some("IDCGATE_TEST_NOTIFY_UNSET_VAR".into()),
                from: "a@example.com".into(),
                to: vec!["o@example.com".into()],
                ..Default::default()
            }],
            webhook: vec![WebhookFile {
                name: "ops-hook".into(),
                url: Hidden("https://hooks.example.com/T0KEN".into()),
                secret: Some(Hidden("whsec-not-shown".into())),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn a_missing_secret_is_named_by_its_variable_and_no_secret_is_shown() {
        let e = settings(&file(), "ops@example.com")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("IDCGATE_TEST_NOTIFY_UNSET_VAR is not set"),
            "{e}"
        );
        let mut f = file();
        f.email[0].password_env = None;
        f.email[0].password = Some(Hidden("inline-pass-xyz".into()));
        let s = settings(&f, "ops@example.com").unwrap();
        assert_eq!(s.channels.len(), 2);
        let shown = format!("{f:?} {s:?}");
        for secret in ["inline-pass-xyz", "whsec-not-shown", "T0KEN"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn bad_values_are_refused_with_what_to_write() {
        let mut f = file();
        f.email[0].password = Some(Hidden("p".into()));
        f.email[0].password_env = None;
        f.webhook[0].name = "ops-mail".into();
        assert!(settings(&f, "")
            .unwrap_err()
            .to_string()
            .contains("another channel"));
        f.webhook[0].name = "ops-hook".into();
        f.email[0].tls = Some("ssl".into());
        assert!(settings(&f, "")
            .unwrap_err()
            .to_string()
            .contains("\"starttls\""));
        f.email[0].tls = None;
        f.expiring = Some(vec!["dns_record".into()]);
        assert!(settings(&f, "")
            .unwrap_err()
            .to_string()
            .contains("not a kind that expires"));
        f.expiring = Some(vec!["hosting".into(), "certs".into()]);
        assert_eq!(
            settings(&f, "").unwrap().expiring,
            [ResourceKind::HostingSite, ResourceKind::Certificate]
        );
        f.low_balance = vec![LowBalanceFile {
            account: "w".into(),
            below: "lots".into(),
        }];
        assert!(settings(&f, "")
            .unwrap_err()
            .to_string()
            .contains("not an amount"));
        f.low_balance[0].below = "500.5".into();
        assert_eq!(
            settings(&f, "").unwrap().low_balance[0].1.to_string(),
            "500.50"
        );
        f.max_attempts = Some(0);
        assert!(settings(&f, "").is_err());
    }
}
