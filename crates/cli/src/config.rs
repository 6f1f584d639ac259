//! Settings from `idcgate.toml`, then `IDCGATE_*` environment, then flags (clap applies
//! env and flags; the file fills what neither gave).

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub listen: Option<String>,
    pub contact: Option<String>,
    pub log: Option<String>,
    pub sandbox_port: Option<u16>,
    pub sync_interval_secs: Option<u64>,
    pub timeout_secs: Option<u64>,
    pub tz: Option<crate::clock::Tz>,
    /// `[notify]`: channels (email, webhooks) and what they are told.
    pub notify: Option<NotifyFile>,
}

/// Text that is not shown by `Debug` (a password, a webhook secret or a URL that may
/// carry a token).
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Hidden(pub String);

impl std::fmt::Debug for Hidden {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[hidden]")
    }
}

/// `[notify]` as written; `crate::notify::settings` checks it and makes the channels.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyFile {
    pub every_secs: Option<u64>,
    pub expiring: Option<Vec<String>>,
    pub sync_failures: Option<u32>,
    pub orders: Option<bool>,
    pub price_check_hours: Option<u64>,
    pub max_attempts: Option<u32>,
    pub retry_secs: Option<u64>,
    #[serde(default)]
    pub low_balance: Vec<LowBalanceFile>,
    #[serde(default)]
    pub email: Vec<EmailFile>,
    #[serde(default)]
    pub webhook: Vec<WebhookFile>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LowBalanceFile {
    pub account: String,
    pub below: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailFile {
    pub name: String,
    pub host: String,
    pub port: Option<u16>,
    pub tls: Option<String>,
    pub username: Option<String>,
    pub password: Option<Hidden>,
    pub password_env: Option<String>,
    pub from: String,
    pub to: Vec<String>,
    pub ca_file: Option<PathBuf>,
    pub timeout_secs: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookFile {
    pub name: String,
    pub url: Hidden,
    pub secret: Option<Hidden>,
    pub secret_env: Option<String>,
    pub timeout_secs: Option<u64>,
}

/// Where a config file is looked for when none is named, first found wins: the working
/// directory, the user's config directory, the system's.
pub fn default_paths(xdg_config_home: Option<&OsStr>, home: Option<&OsStr>) -> Vec<PathBuf> {
    let mut paths = vec![PathBuf::from("idcgate.toml")];
    match (
        xdg_config_home.filter(|d| !d.is_empty()),
        home.filter(|h| !h.is_empty()),
    ) {
        (Some(xdg), _) => paths.push(PathBuf::from(xdg).join("idcgate/idcgate.toml")),
        (None, Some(home)) => paths.push(PathBuf::from(home).join(".config/idcgate/idcgate.toml")),
        (None, None) => {}
    }
    paths.push(PathBuf::from("/etc/idcgate/idcgate.toml"));
    paths
}

impl FileConfig {
    /// Reads `path` if given (it must exist), else the first of [`default_paths`] that
    /// exists, else nothing.
    pub fn load(explicit: Option<&Path>) -> Result<Self> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => {
                let found = default_paths(
                    std::env::var_os("XDG_CONFIG_HOME").as_deref(),
                    std::env::var_os("HOME").as_deref(),
                )
                .into_iter()
                .find(|p| p.exists());
                match found {
                    Some(p) => p,
                    None => return Ok(Self::default()),
                }
            }
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        let mut cfg: FileConfig = toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "config file {} is invalid: {}",
                path.display(),
                e.to_string().trim()
            )
        })?;
        if let Some(0) = cfg.sync_interval_secs {
            bail!(
                "config file {}: sync_interval_secs must be at least 1",
                path.display()
            );
        }
        if let Some(0) = cfg.timeout_secs {
            bail!(
                "config file {}: timeout_secs must be at least 1",
                path.display()
            );
        }
        // A relative data_dir means "next to this config file", wherever idcgate runs.
        if let (Some(dir), Some(base)) = (cfg.data_dir.as_mut(), path.parent()) {
            if dir.is_relative() && !base.as_os_str().is_empty() {
                *dir = base.join(&*dir);
            }
        }
        // Likewise a CA file of an email channel.
        if let (Some(n), Some(base)) = (cfg.notify.as_mut(), path.parent()) {
            for e in &mut n.email {
                if let Some(ca) = e.ca_file.as_mut() {
                    if ca.is_relative() && !base.as_os_str().is_empty() {
                        *ca = base.join(&*ca);
                    }
                }
            }
        }
        Ok(cfg)
    }
}

/// Sent in the User-Agent until the operator says who they are.
pub const UNSET_CONTACT: &str = "contact not configured";

/// Effective settings after precedence is applied.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub listen: String,
    pub contact: String,
    pub log: String,
    pub sandbox_port: u16,
    pub sync_interval_secs: u64,
    /// Per upstream request; a write that outlasts it is an unknown outcome.
    pub timeout_secs: u64,
    /// The zone times are shown in.
    pub tz: crate::clock::Tz,
    /// From the file only (channels hold secrets by reference to the environment).
    pub notify: NotifyFile,
}

impl Settings {
    /// `o` (environment and flags, in the file's shape) over the file over defaults.
    pub fn resolve(file: FileConfig, o: FileConfig) -> Self {
        let data_dir = o
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(default_data_dir);
        let database_url = o
            .database_url
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("idcgate.db").display()));
        Settings {
            database_url,
            listen: o
                .listen
                .or(file.listen)
                .unwrap_or_else(|| "127.0.0.1:8080".into()),
            contact: o
                .contact
                .or(file.contact)
                .unwrap_or_else(|| UNSET_CONTACT.into()),
            log: o
                .log
                .or(file.log)
                .unwrap_or_else(|| "info,sqlx=warn".into()),
            sandbox_port: o.sandbox_port.or(file.sandbox_port).unwrap_or(7801),
            sync_interval_secs: o
                .sync_interval_secs
                .or(file.sync_interval_secs)
                .unwrap_or(3600),
            timeout_secs: o.timeout_secs.or(file.timeout_secs).unwrap_or(30),
            tz: o.tz.or(file.tz).unwrap_or(crate::clock::Tz::China),
            notify: file.notify.unwrap_or_default(),
            data_dir,
        }
    }
}

fn default_data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("idcgate");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(h).join(".local/share/idcgate");
    }
    PathBuf::from("idcgate-data")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_is_looked_for_here_then_the_users_then_the_systems() {
        let p = |s: &str| PathBuf::from(s);
        assert_eq!(
            default_paths(Some(OsStr::new("/x/cfg")), Some(OsStr::new("/home/u"))),
            [
                p("idcgate.toml"),
                p("/x/cfg/idcgate/idcgate.toml"),
                p("/etc/idcgate/idcgate.toml")
            ]
        );
        assert_eq!(
            default_paths(Some(OsStr::new("")), Some(OsStr::new("/home/u"))),
            [
                p("idcgate.toml"),
                p("/home/u/.config/idcgate/idcgate.toml"),
                p("/etc/idcgate/idcgate.toml")
            ]
        );
        assert_eq!(
            default_paths(None, None),
            [p("idcgate.toml"), p("/etc/idcgate/idcgate.toml")]
        );
    }

    /// idcgate.example.toml names every key, each explained, and is valid with every
    /// line uncommented.
    #[test]
    fn the_example_config_has_every_key() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../idcgate.example.toml");
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let mut uncommented = String::new();
        for line in text.lines() {
            let setting = line.strip_prefix("# ").filter(|l| {
                l.split_once(" = ").is_some_and(|(k, _)| {
                    !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                }) || (l.starts_with('[')
                    && l.ends_with(']')
                    && l.chars()
                        .all(|c| c.is_ascii_lowercase() || "_.[]".contains(c)))
            });
            if let Some(s) = setting {
                uncommented.push_str(s);
                uncommented.push('\n');
            }
        }
        let cfg: FileConfig = toml::from_str(&uncommented).unwrap_or_else(|e| panic!("{e}"));
        // Destructured without `..`: a new key fails to compile here until it is added
        // to the example.
        let FileConfig {
            data_dir,
            database_url,
            listen,
            contact,
            log,
            sandbox_port,
            sync_interval_secs,
            timeout_secs,
            tz,
            notify,
        } = cfg;
        assert!(data_dir.is_some(), "data_dir");
        assert!(database_url.is_some(), "database_url");
        assert!(listen.is_some(), "listen");
        assert!(contact.is_some(), "contact");
        assert!(log.is_some(), "log");
        assert!(sandbox_port.is_some(), "sandbox_port");
        assert!(sync_interval_secs.is_some(), "sync_interval_secs");
        assert!(timeout_secs.is_some(), "timeout_secs");
        assert!(tz.is_some(), "tz");
        let NotifyFile {
            every_secs,
            expiring,
            sync_failures,
            orders,
            price_check_hours,
            max_attempts,
            retry_secs,
            low_balance,
            email,
            webhook,
        } = notify.expect("[notify]");
        assert!(every_secs.is_some(), "notify.every_secs");
        assert!(expiring.is_some(), "notify.expiring");
        assert!(sync_failures.is_some(), "notify.sync_failures");
        assert!(orders.is_some(), "notify.orders");
        assert!(price_check_hours.is_some(), "notify.price_check_hours");
        assert!(max_attempts.is_some(), "notify.max_attempts");
        assert!(retry_secs.is_some(), "notify.retry_secs");
        let LowBalanceFile { account, below } = &low_balance[0];
        assert!(
            !account.is_empty() && !below.is_empty(),
            "notify.low_balance"
        );
        let EmailFile {
            name,
            host,
            port,
            tls,
            username,
            password,
            password_env,
            from,
            to,
            ca_file,
            timeout_secs,
        } = &email[0];
        assert!(!name.is_empty() && !host.is_empty() && !from.is_empty() && !to.is_empty());
        assert!(
            port.is_some() && tls.is_some() && username.is_some(),
            "notify.email"
        );
        assert!(
            password.is_some() && password_env.is_some(),
            "notify.email password"
        );
        assert!(ca_file.is_some() && timeout_secs.is_some(), "notify.email");
        let WebhookFile {
            name,
            url,
            secret,
            secret_env,
            timeout_secs,
        } = &webhook[0];
        assert!(!name.is_empty() && !url.0.is_empty(), "notify.webhook");
        assert!(secret.is_some() && secret_env.is_some() && timeout_secs.is_some());
        // Every setting line has its explanation right above it.
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.starts_with("# ") && line.contains(" = ") && !line.starts_with("#  ") {
                let key = line
                    .trim_start_matches("# ")
                    .split(" = ")
                    .next()
                    .unwrap_or("");
                if key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                    assert!(
                        i > 0 && lines[i - 1].starts_with("# ") && !lines[i - 1].contains(" = "),
                        "{key} has no explanation above it"
                    );
                }
            }
        }
    }
}
