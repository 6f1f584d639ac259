//! Operator credentials: passwords (argon2id), TOTP second factors (RFC 6238, SHA-1,
//! six digits, 30-second steps, as every authenticator app reads them) and recovery
//! codes, and the operator commands the CLI and the console share (every change
//! audited).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use hmac::{Hmac, Mac};
use idcgate_engine::{now_ms, Engine, EngineError};
use idcgate_store::{digest, OperatorRow, Role};

/// Passwords shorter than this are refused: the console guards money.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Failed logins before an operator is locked out, and for how long.
pub const MAX_FAILED_LOGINS: i64 = 5;
pub const LOCKOUT_MS: i64 = 15 * 60 * 1000;
/// Recovery codes issued at enrolment; each works once.
pub const RECOVERY_CODES: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    Invalid(String),
    #[error("no operator named {0:?}")]
    NoSuchOperator(String),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Store(#[from] idcgate_store::StoreError),
    #[error("cannot draw random bytes: {0}")]
    Random(String),
}

pub type Result<T, E = AuthError> = std::result::Result<T, E>;

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).map_err(|e| AuthError::Random(e.to_string()))?;
    Ok(b)
}

/// A fresh random token in hex (session ids, CSRF tokens).
pub(crate) fn random_token() -> Result<String> {
    Ok(hex::encode(random_bytes::<32>()?))
}

/// A password to hand out once: 20 characters from an alphabet without look-alikes
/// (about 115 bits).
pub fn generate_password() -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    Ok(random_bytes::<20>()?
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect())
}

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?)
        .map_err(|e| AuthError::Random(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Invalid(format!("cannot hash the password: {e}")))
}

/// Whether `password` matches a stored hash; an unreadable hash matches nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash no password matches, checked for unknown names so that a login for a name
/// that does not exist takes as long as one for a name that does.
pub(crate) fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password never used").unwrap_or_default())
}

pub fn check_password_rules(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AuthError::Invalid(format!(
            "the password must have at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if password.chars().any(char::is_control) {
        return Err(AuthError::Invalid(
            "the password must not contain control characters".into(),
        ));
    }
    Ok(())
}

pub fn check_operator_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
    if ok {
        Ok(())
    } else {
        Err(AuthError::Invalid(format!(
            "operator name {name:?}: 1 to 64 of a-z, 0-9, '-', '_', '.', '@'"
        )))
    }
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

pub(crate) fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

fn unbase32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in text.bytes().filter(|c| *c != b'=' && *c != b' ') {
        let v = BASE32.iter().position(|x| *x == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// A new TOTP secret (160 bits, base32 as authenticator apps take it).
pub fn new_totp_secret() -> Result<String> {
    Ok(base32(&random_bytes::<20>()?))
}

/// The six-digit code for `secret` in the 30-second step that holds `unix_secs`.
pub fn totp_code(secret: &str, unix_secs: i64) -> Option<String> {
    let key = unbase32(secret)?;
    let step = u64::try_from(unix_secs.div_euclid(30)).ok()?;
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&key).ok()?;
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = usize::from(h[19] & 0x0f);
    let bin = (u32::from(h[offset]) & 0x7f) << 24
        | u32::from(h[offset + 1]) << 16
        | u32::from(h[offset + 2]) << 8
        | u32::from(h[offset + 3]);
    Some(format!("{:06}", bin % 1_000_000))
}

/// Whether `code` is the secret's code now, one step before or one after (clocks drift).
pub fn totp_accepts(secret: &str, code: &str, unix_secs: i64) -> bool {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 {
        return false;
    }
    [-30, 0, 30]
        .iter()
        .any(|d| totp_code(secret, unix_secs + d).is_some_and(|c| c == code))
}

/// The `otpauth://` address an authenticator app enrols from (shown as a QR code).
pub fn otpauth_uri(operator: &str, secret: &str) -> String {
    let label: String =
        percent_encoding::utf8_percent_encode(operator, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    format!("otpauth://totp/idcgate:{label}?secret={secret}&issuer=idcgate&digits=6&period=30")
}

/// The address as an SVG QR code, drawn here so the console needs no script.
pub fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

/// New recovery codes (shown once) and the digests to keep.
pub fn new_recovery_codes() -> Result<(Vec<String>, Vec<String>)> {
    let mut codes = Vec::new();
    for _ in 0..RECOVERY_CODES {
        let raw = base32(&random_bytes::<10>()?).to_lowercase();
        codes.push(format!("{}-{}", &raw[..8], &raw[8..]));
    }
    let digests = codes.iter().map(|c| digest(c)).collect();
    Ok((codes, digests))
}

pub(crate) fn normalise_recovery(code: &str) -> String {
    code.trim().to_lowercase()
}

/// `Err(NoSuchOperator)` unless the store had the operator `name` to change.
fn found(name: &str, changed: bool) -> Result<()> {
    if changed {
        Ok(())
    } else {
        Err(AuthError::NoSuchOperator(name.into()))
    }
}

/// Operator commands, shared by `idcgate user` and the console's operators page. Each
/// is audited with the actor who asked.
pub struct Operators<'a> {
    pub engine: &'a Engine,
    pub actor: &'a str,
}

impl Operators<'_> {
    pub async fn add(&self, name: &str, role: Role, password: &str) -> Result<OperatorRow> {
        let result = self.add_inner(name, role, password).await;
        self.audited("operator.add", name, result, |o| {
            format!("role {}", o.role.as_str())
        })
        .await
    }

    async fn add_inner(&self, name: &str, role: Role, password: &str) -> Result<OperatorRow> {
        check_operator_name(name)?;
        check_password_rules(password)?;
        let hash = hash_password(password)?;
        Ok(self
            .engine
            .operators()
            .add(name, role, &hash, now_ms())
            .await?)
    }

    pub async fn set_password(&self, name: &str, password: &str) -> Result<()> {
        let result = async {
            check_password_rules(password)?;
            let hash = hash_password(password)?;
            let changed = self
                .engine
                .operators()
                .set_password(name, &hash, now_ms())
                .await?;
            found(name, changed)
        }
        .await;
        self.audited("operator.passwd", name, result, |_| {
            "password changed; sessions ended".into()
        })
        .await
    }

    pub async fn set_role(&self, name: &str, role: Role) -> Result<()> {
        let result = async {
            self.keep_an_admin(name, Some(role)).await?;
            let changed = self
                .engine
                .operators()
                .set_role(name, role, now_ms())
                .await?;
            found(name, changed)
        }
        .await;
        self.audited("operator.role", name, result, |_| {
            format!("role {}", role.as_str())
        })
        .await
    }

    pub async fn remove(&self, name: &str) -> Result<()> {
        let result = async {
            self.keep_an_admin(name, None).await?;
            found(name, self.engine.operators().remove(name).await?)
        }
        .await;
        self.audited("operator.remove", name, result, |_| "removed".into())
            .await
    }

    /// Drops an operator's second factor (a lost phone); the operator enrols again.
    pub async fn reset_totp(&self, name: &str) -> Result<()> {
        let result = async {
            found(
                name,
                self.engine.operators().clear_totp(name, now_ms()).await?,
            )
        }
        .await;
        self.audited("operator.totp_reset", name, result, |_| {
            "second factor removed".into()
        })
        .await
    }

    /// Refuses to leave the console without an administrator: the last admin cannot
    /// be removed or demoted.
    async fn keep_an_admin(&self, name: &str, new_role: Option<Role>) -> Result<()> {
        if new_role == Some(Role::Admin) {
            return Ok(());
        }
        let operators = self.engine.operators().list().await?;
        let is_admin = operators
            .iter()
            .any(|o| o.name == name && o.role == Role::Admin);
        let admins = operators.iter().filter(|o| o.role == Role::Admin).count();
        if is_admin && admins == 1 {
            return Err(AuthError::Invalid(format!(
                "{name} is the last admin; make another operator admin first"
            )));
        }
        Ok(())
    }

    /// `result`, audited as `action` on `target` with `detail` when it succeeded.
    async fn audited<T>(
        &self,
        action: &str,
        target: &str,
        result: Result<T>,
        detail: impl FnOnce(&T) -> String,
    ) -> Result<T> {
        self.audit(action, target, &result, detail).await;
        result
    }

    async fn audit<T>(
        &self,
        action: &str,
        target: &str,
        result: &Result<T>,
        detail: impl FnOnce(&T) -> String,
    ) {
        let as_engine: std::result::Result<&T, EngineError> = match result {
            Ok(v) => Ok(v),
            Err(e) => Err(EngineError::Invalid(e.to_string())),
        };
        self.engine
            .audit(self.actor, action, target, &as_engine, |v| detail(v))
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totp_matches_rfc6238_sha1_vectors() {
        // RFC 6238 appendix B, key "12345678901234567890", truncated to six digits.
        let secret = base32(b"12345678901234567890");
        assert_eq!(totp_code(&secret, 59).as_deref(), Some("287082"));
        assert_eq!(totp_code(&secret, 1111111109).as_deref(), Some("081804"));
        assert_eq!(totp_code(&secret, 1234567890).as_deref(), Some("005924"));
        assert_eq!(totp_code(&secret, 20000000000).as_deref(), Some("353130"));
        assert!(totp_accepts(&secret, "081804", 1111111109 + 30));
        assert!(!totp_accepts(&secret, "081804", 1111111109 + 90));
        assert!(!totp_accepts(&secret, "", 59));
    }

    #[test]
    fn base32_round_trips() {
        let bytes = random_bytes::<20>().unwrap();
        assert_eq!(unbase32(&base32(&bytes)).unwrap(), bytes);
        assert!(unbase32("not base32!").is_none());
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterx", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(check_password_rules("short").is_err());
    }
}
