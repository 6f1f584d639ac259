//! Upstream accounts as every surface adds and changes them: one set of rules for a
//! name, a base URL and a rate (the CLI, REST and the console refuse the same input with
//! the same field named), the vendor's own credential check, and one audit entry per
//! change, written here rather than by each surface.

use crate::{Engine, EngineError, Result};
use idcgate_core::{Credentials, UpstreamAccount, Vendor};
use idcgate_store::StoreError;

/// The longest base URL an account takes.
pub const MAX_URL_CHARS: usize = 500;
/// The highest upstream rate an account may be given, requests per second.
pub const MAX_RATE: u32 = 1000;

/// An account to add. A missing base URL or rate is the vendor's documented default.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub name: String,
    pub vendor: Vendor,
    pub base_url: Option<String>,
    pub credentials: Credentials,
    pub rate_limit_per_sec: Option<u32>,
}

/// What changes in an existing account; `None` keeps what it has.
#[derive(Debug, Clone, Default)]
pub struct AccountChange {
    /// The whole new set of credentials (the surface merged what was set and unset).
    pub credentials: Option<Credentials>,
    pub base_url: Option<String>,
    pub rate_limit_per_sec: Option<u32>,
}

fn invalid(field: &str, reason: impl Into<String>) -> EngineError {
    EngineError::InvalidInput {
        field: field.to_string(),
        reason: reason.into(),
    }
}

/// An account name: it appears in `account/id` server references and in URLs.
pub fn check_account_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "name",
            format!("account name {name:?} must be 1-64 letters, digits, '-', '_' or '.'"),
        ))
    }
}

/// A base URL: http(s), bounded, no blanks or control characters, and nothing a
/// secret could ride along in (a user or password, a query, a fragment): the URL is
/// shown to every console role, and credentials have their own sealed field.
pub fn check_base_url(url: &str) -> Result<()> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let Some(rest) = rest else {
        return Err(invalid(
            "base_url",
            "base URL must start with http:// or https://",
        ));
    };
    if url.chars().count() > MAX_URL_CHARS
        || url.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(invalid(
            "base_url",
            format!("base URL must be at most {MAX_URL_CHARS} characters, without blanks or control characters"),
        ));
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') || rest.contains(['?', '#']) {
        return Err(invalid(
            "base_url",
            "base URL must name a host and carry no user, password, query or fragment (credentials go in their own field)",
        ));
    }
    Ok(())
}

/// An upstream rate: at least one request per second, at most [`MAX_RATE`].
pub fn check_rate(rate: u32) -> Result<()> {
    if (1..=MAX_RATE).contains(&rate) {
        Ok(())
    } else {
        Err(invalid(
            "rate",
            format!("rate must be 1 to {MAX_RATE} requests per second"),
        ))
    }
}

/// `text` with every credential value in it blanked (a vendor crate's refusal may quote
/// what it was given).
fn scrubbed(text: &str, credentials: &Credentials) -> String {
    credentials
        .values()
        .filter(|v| !v.is_empty())
        .fold(text.to_string(), |t, v| t.replace(v, "[redacted]"))
}

impl Engine {
    /// Every configured account (credentials stay inside `UpstreamAccount`, never
    /// shown by its `Debug`).
    pub async fn accounts(&self) -> Result<Vec<UpstreamAccount>> {
        Ok(self.store.list_accounts().await?)
    }

    /// Adds an account after the checks every surface shares. What passes them is
    /// audited as `account.add` by `actor`, stored or not; a refusal of the input
    /// changes nothing and is only answered. A name in use is `Conflict`.
    pub async fn add_account(&self, actor: &str, new: NewAccount) -> Result<UpstreamAccount> {
        let account = self.checked(new)?;
        let result = match self.store.add_account(&account).await {
            Ok(()) => Ok(()),
            Err(StoreError::Conflict(_)) => Err(EngineError::Conflict(format!(
                "account {} already exists",
                account.name
            ))),
            Err(e) => Err(e.into()),
        };
        self.audit(actor, "account.add", &account.name, &result, |_| {
            format!("vendor {}", account.vendor)
        })
        .await;
        result.map(|()| account)
    }

    /// The account `new` describes, with the vendor's defaults filled in, if it passes
    /// every check.
    fn checked(&self, new: NewAccount) -> Result<UpstreamAccount> {
        check_account_name(&new.name)?;
        let ob = self
            .registry
            .get(new.vendor)
            .map_err(|e| invalid("vendor", e.to_string()))?
            .onboarding;
        let rate = new.rate_limit_per_sec.unwrap_or(ob.rate_per_sec);
        check_rate(rate)?;
        let base_url = match new.base_url.or(ob.base_url.map(str::to_string)) {
            Some(u) => u,
            None => {
                return Err(invalid(
                    "base_url",
                    format!(
                        "{} has no public API address: give a base URL, {}",
                        new.vendor, ob.base_url_about
                    ),
                ))
            }
        };
        check_base_url(&base_url)?;
        let account = UpstreamAccount {
            name: new.name,
            vendor: new.vendor,
            base_url,
            credentials: new.credentials,
            rate_limit_per_sec: rate,
        };
        self.usable(&account)?;
        Ok(account)
    }

    /// Changes an account after the same checks as [`Engine::add_account`], audited as
    /// `account.update` naming what changed (credential keys, never values). Returns
    /// the account as stored and what changed.
    pub async fn update_account(
        &self,
        actor: &str,
        name: &str,
        change: AccountChange,
    ) -> Result<(UpstreamAccount, Vec<String>)> {
        let (account, changed) = self.changed(name, change).await?;
        let result = self
            .store
            .put_account(&account)
            .await
            .map_err(EngineError::from);
        self.audit(actor, "account.update", name, &result, |()| {
            format!("changed {}", changed.join(", "))
        })
        .await;
        result?;
        self.forget_connection(name);
        Ok((account, changed))
    }

    async fn changed(
        &self,
        name: &str,
        change: AccountChange,
    ) -> Result<(UpstreamAccount, Vec<String>)> {
        let mut account = self.account(name).await?;
        let mut changed = Vec::new();
        if let Some(credentials) = change.credentials {
            for k in account.credentials.keys() {
                if credentials.get(k).is_none() {
                    changed.push(format!("-{k}"));
                }
            }
            for k in credentials.keys() {
                if account.credentials.get(k) != credentials.get(k) {
                    changed.push(k.to_string());
                }
            }
            account.credentials = credentials;
        }
        if let Some(url) = change.base_url {
            check_base_url(&url)?;
            account.base_url = url;
            changed.push("base_url".into());
        }
        if let Some(rate) = change.rate_limit_per_sec {
            check_rate(rate)?;
            account.rate_limit_per_sec = rate;
            changed.push("rate".into());
        }
        if changed.is_empty() {
            return Err(invalid("change", "nothing to change"));
        }
        self.usable(&account)?;
        Ok((account, changed))
    }

    /// The vendor's credential rules and its crate's own checks (building a connection
    /// touches no network), so an unusable account is never stored.
    fn usable(&self, account: &UpstreamAccount) -> Result<()> {
        let ob = self.registry.get(account.vendor)?.onboarding;
        ob.check(&account.credentials)
            .map_err(|e| invalid("credentials", e.to_string()))?;
        self.registry.connect(account, &self.wire).map_err(|e| {
            invalid(
                "credentials",
                format!(
                    "{} account {} is not usable: {}",
                    account.vendor,
                    account.name,
                    scrubbed(&e.to_string(), &account.credentials)
                ),
            )
        })?;
        Ok(())
    }

    /// Stores the account of a local simulator as it is now (its port and credentials
    /// are new at every start), replacing one of the same name. Only for sandboxes the
    /// process itself started: nothing is checked or audited beyond what the simulator
    /// gave.
    pub async fn put_sandbox_account(&self, account: &UpstreamAccount) -> Result<()> {
        self.store.put_account(account).await?;
        self.forget_connection(&account.name);
        Ok(())
    }

    /// Whether an account of this name exists (a configuration naming one that does
    /// not is worth a warning).
    pub async fn has_account(&self, name: &str) -> Result<bool> {
        Ok(self.store.get_account(name).await?.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(r: Result<()>) -> Option<String> {
        match r {
            Ok(()) => None,
            Err(EngineError::InvalidInput { field, .. }) => Some(field),
            Err(e) => panic!("not an input refusal: {e}"),
        }
    }

    #[test]
    fn names_are_what_references_and_urls_can_carry() {
        for ok in ["w", "sandbox-west", "a.b_c-9", &"x".repeat(64)] {
            assert_eq!(field_of(check_account_name(ok)), None, "{ok}");
        }
        for bad in ["", "no spaces", "a/b", "名字", &"x".repeat(65), "a\u{0}"] {
            assert_eq!(
                field_of(check_account_name(bad)).as_deref(),
                Some("name"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn base_urls_carry_a_host_and_nothing_secret() {
        for ok in [
            "https://api.west.cn/API/v2",
            "http://127.0.0.1:9",
            "http://host/path/with@at",
        ] {
            assert_eq!(field_of(check_base_url(ok)), None, "{ok}");
        }
        let long = format!("https://h/{}", "p".repeat(MAX_URL_CHARS));
        for bad in [
            "ftp://h",
            "api.west.cn",
            "http://",
            "http:///path",
            "http://user:pw@h",
            "http://h/?key=k",
            "http://h/#k",
            "http://h /x",
            "http://h/\u{7}",
            long.as_str(),
        ] {
            assert_eq!(
                field_of(check_base_url(bad)).as_deref(),
                Some("base_url"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn rates_are_bounded() {
        assert_eq!(field_of(check_rate(1)), None);
        assert_eq!(field_of(check_rate(MAX_RATE)), None);
        assert_eq!(field_of(check_rate(0)).as_deref(), Some("rate"));
        assert_eq!(field_of(check_rate(MAX_RATE + 1)).as_deref(), Some("rate"));
    }
}
