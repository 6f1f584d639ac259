//! What an operator needs to connect an account at an upstream: its credential keys
//! (which are secret, which may stand in for others), where its API lives, how fast to
//! call it, and what surprises it holds. Each vendor crate states its own as a const
//! (`ONBOARDING`); `idcgate vendors`, `account add|update` and `docs/vendors/*.md` read
//! it, so the advice and the check can never disagree.

use crate::Credentials;

/// One credential key a vendor crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialKey {
    pub key: &'static str,
    /// Redacted from logs and answers, read from standard input by `--cred KEY` alone.
    pub secret: bool,
    /// What it is and where the upstream's console shows it.
    pub about: &'static str,
}

/// Everything an operator needs to add an account of one vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Onboarding {
    /// The vendor as its customers know it.
    pub title: &'static str,
    /// Every key the vendor crate reads, required or not.
    pub keys: &'static [CredentialKey],
    /// Ways to sign in: one of these sets of keys must be given in full (the first is
    /// the preferred one). A key in no set is optional.
    pub sign_in: &'static [&'static [&'static str]],
    /// The live API root, when the vendor has one (a self-hosted panel has none).
    pub base_url: Option<&'static str>,
    /// What to give as `--base-url`.
    pub base_url_about: &'static str,
    /// Requests per second an account should be limited to (`account add --rate`).
    pub rate_per_sec: u32,
    /// Why that rate, and what the upstream does to clients that go beyond it.
    pub rate_advice: &'static str,
    /// Where to get the credentials and what to set up at the upstream first.
    pub setup: &'static [&'static str],
    /// What the live API does that its documents leave out.
    pub quirks: &'static [&'static str],
}

/// Why a set of credentials cannot sign in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    #[error("{}", missing_text(.0, .1))]
    Missing(Vec<Vec<&'static str>>, Vec<&'static str>),
    #[error("unknown credential key{} {} (known: {})", if .0.len() == 1 { "" } else { "s" }, .0.join(", "), .1.join(", "))]
    Unknown(Vec<String>, Vec<&'static str>),
    #[error("credential {0} is empty")]
    Empty(String),
}

/// "missing credentials: a, b" or, with alternatives, "missing credentials: a, or b
/// and c": every key to add, named at once.
fn missing_text(alternatives: &[Vec<&'static str>], given: &[&'static str]) -> String {
    let options: Vec<String> = alternatives
        .iter()
        .map(|keys| {
            keys.join(if alternatives.len() > 1 {
                " and "
            } else {
                ", "
            })
        })
        .collect();
    let mut text = format!("missing credentials: {}", options.join(", or "));
    if !given.is_empty() {
        text.push_str(&format!(" (given: {})", given.join(", ")));
    }
    text
}

impl Onboarding {
    pub fn key(&self, key: &str) -> Option<&CredentialKey> {
        self.keys.iter().find(|k| k.key == key)
    }

    /// Whether `key` is part of some way to sign in.
    pub fn signs_in(&self, key: &str) -> bool {
        self.sign_in.iter().any(|set| set.contains(&key))
    }

    /// Every key known, none empty, and one way to sign in complete; otherwise every
    /// key that is wrong or missing, named at once.
    pub fn check(&self, credentials: &Credentials) -> Result<(), CredentialsError> {
        let unknown: Vec<String> = credentials
            .keys()
            .filter(|k| self.key(k).is_none())
            .map(str::to_string)
            .collect();
        if !unknown.is_empty() {
            return Err(CredentialsError::Unknown(
                unknown,
                self.keys.iter().map(|k| k.key).collect(),
            ));
        }
        if let Some(empty) = credentials
            .keys()
            .find(|k| credentials.get(k).is_some_and(|v| v.trim().is_empty()))
        {
            return Err(CredentialsError::Empty(empty.to_string()));
        }
        if self.sign_in.is_empty() {
            return Ok(());
        }
        let has = |k: &str| credentials.get(k).is_some();
        let mut missing: Vec<Vec<&'static str>> = Vec::new();
        for set in self.sign_in {
            let lacking: Vec<&'static str> = set.iter().copied().filter(|k| !has(k)).collect();
            if lacking.is_empty() {
                return Ok(());
            }
            missing.push(lacking);
        }
        // What was given of the sign-in keys, so "login_password" alone reads as the
        // half of a pair it is.
        let given: Vec<&'static str> = self
            .keys
            .iter()
            .map(|k| k.key)
            .filter(|k| self.signs_in(k) && has(k))
            .collect();
        Err(CredentialsError::Missing(missing, given))
    }

    /// The table is consistent: every sign-in key is a known key, no key twice, a rate.
    pub fn validate(&self) -> Result<(), String> {
        for (i, k) in self.keys.iter().enumerate() {
            if self.keys[..i].iter().any(|o| o.key == k.key) {
                return Err(format!("credential key {} listed twice", k.key));
            }
        }
        for set in self.sign_in {
            for k in *set {
                if self.key(k).is_none() {
                    return Err(format!("sign-in key {k} is not among the keys"));
                }
            }
        }
        if self.rate_per_sec == 0 {
            return Err("rate_per_sec must be at least 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAIR_OR_TOKEN: Onboarding = Onboarding {
        title: "T",
        keys: &[
            CredentialKey {
                key: "token",
                secret: true,
                about: "",
            },
            CredentialKey {
                key: "email",
                secret: false,
                about: "",
            },
            CredentialKey {
                key: "password",
                secret: true,
                about: "",
            },
            CredentialKey {
                key: "extra",
                secret: false,
                about: "",
            },
        ],
        sign_in: &[&["token"], &["email", "password"]],
        base_url: None,
        base_url_about: "",
        rate_per_sec: 1,
        rate_advice: "",
        setup: &[],
        quirks: &[],
    };

    #[test]
    fn either_way_of_signing_in_is_enough() {
        assert_eq!(PAIR_OR_TOKEN.validate(), Ok(()));
        let t = Credentials::new().with("token", "1,abc");
        assert_eq!(PAIR_OR_TOKEN.check(&t), Ok(()));
        let p = Credentials::new()
            .with("email", "a@b")
            .with("password", "x")
            .with("extra", "1");
        assert_eq!(PAIR_OR_TOKEN.check(&p), Ok(()));
    }

    #[test]
    fn every_missing_key_is_named_at_once() {
        let e = PAIR_OR_TOKEN.check(&Credentials::new()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "missing credentials: token, or email and password"
        );
        let half = Credentials::new().with("email", "a@b");
        assert_eq!(
            PAIR_OR_TOKEN.check(&half).unwrap_err().to_string(),
            "missing credentials: token, or password (given: email)"
        );
    }

    #[test]
    fn unknown_and_empty_keys_are_refused() {
        let typo = Credentials::new().with("tokn", "x").with("token", "1,a");
        assert_eq!(
            PAIR_OR_TOKEN.check(&typo).unwrap_err().to_string(),
            "unknown credential key tokn (known: token, email, password, extra)"
        );
        let empty = Credentials::new().with("token", " ");
        assert_eq!(
            PAIR_OR_TOKEN.check(&empty),
            Err(CredentialsError::Empty("token".into()))
        );
    }

    #[test]
    fn an_inconsistent_table_is_caught() {
        let bad = Onboarding {
            sign_in: &[&["nope"]],
            ..PAIR_OR_TOKEN
        };
        assert!(bad.validate().is_err());
    }
}
