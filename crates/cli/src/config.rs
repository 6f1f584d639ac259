//! Settings from `idcgate.toml`, then `IDCGATE_*` environment, then flags (clap applies
//! env and flags; the file fills what neither gave).

use anyhow::{bail, Context, Result};
use serde::Deserialize;
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
}

impl FileConfig {
    /// Reads `path` if given (it must exist), else `./idcgate.toml` if present.
    pub fn load(explicit: Option<&Path>) -> Result<Self> {
        let (path, must_exist) = match explicit {
            Some(p) => (p.to_path_buf(), true),
            None => (PathBuf::from("idcgate.toml"), false),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
                return Ok(Self::default())
            }
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot read config file {}", path.display()))
            }
        };
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
