//! Encryption of secrets at rest: XChaCha20-Poly1305 under a 32-byte master key.
//!
//! The key comes from `IDCGATE_MASTER_KEY` (64 hex digits) or from a key file created
//! with mode 0600 on first run. A database records an encrypted check value so that a
//! wrong key is detected at start-up, before anything is read or written.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("IDCGATE_MASTER_KEY must be 64 hex digits (32 bytes)")]
    BadEnv,
    #[error("master key file {path} is not 64 hex digits")]
    BadFile { path: String },
    #[error("cannot read or create master key file {path}: {message}")]
    Io { path: String, message: String },
    #[error("no master key: the database has encrypted secrets but neither IDCGATE_MASTER_KEY nor the key file {path} exists")]
    Missing { path: String },
}

#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl MasterKey {
    pub fn from_hex(hex_str: &str) -> Option<Self> {
        let bytes = hex::decode(hex_str.trim()).ok()?;
        let arr: [u8; 32] = bytes.try_into().ok()?;
        Some(MasterKey(arr))
    }

    pub fn generate() -> Self {
        let mut k = [0u8; 32];
        // getrandom only fails when the OS has no entropy source at all.
        if getrandom::getrandom(&mut k).is_err() {
            k = [0u8; 32];
        }
        MasterKey(k)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// `env_value` wins; else the key file; else a new key file is created (0600) if
    /// `may_create` (the database holds no secrets yet).
    pub fn load(
        env_value: Option<&str>,
        key_file: &Path,
        may_create: bool,
    ) -> Result<Self, MasterKeyError> {
        if let Some(v) = env_value.filter(|v| !v.trim().is_empty()) {
            return MasterKey::from_hex(v).ok_or(MasterKeyError::BadEnv);
        }
        let path = key_file.display().to_string();
        match std::fs::read_to_string(key_file) {
            Ok(text) => {
                warn_if_shared(key_file);
                MasterKey::from_hex(&text).ok_or(MasterKeyError::BadFile { path })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !may_create {
                    return Err(MasterKeyError::Missing { path });
                }
                let key = MasterKey::generate();
                write_private(key_file, &key.to_hex()).map_err(|e| MasterKeyError::Io {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
                Ok(key)
            }
            Err(e) => Err(MasterKeyError::Io {
                path,
                message: e.to_string(),
            }),
        }
    }
}

/// A key file others can read defeats the encryption; say so (it still works, so an
/// operator who chose this is not locked out).
fn warn_if_shared(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "master key file is readable by other users; chmod 600 it");
            }
        }
    }
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()
}

/// Encrypts and decrypts small secrets. Output: hex(nonce || ciphertext).
#[derive(Clone)]
pub struct Cipher {
    aead: XChaCha20Poly1305,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher([redacted])")
    }
}

/// `N` bytes from the OS's randomness, or an error naming what they were for: a key,
/// nonce or token drawn without randomness would be guessable.
/// The digest a secret (a session cookie, a recovery code, an API token's or a tenant
/// key's secret part) is stored and looked up by: SHA-256, in hex.
pub fn digest(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Equal digests, compared without an early exit.
pub(crate) fn same_digest(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// `N` random bytes, in hex.
pub(crate) fn random_hex<const N: usize>(what: &str) -> crate::Result<String> {
    Ok(hex::encode(random_bytes::<N>(what)?))
}

pub(crate) fn random_bytes<const N: usize>(what: &str) -> crate::Result<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::getrandom(&mut buf)
        .map_err(|e| crate::StoreError::Database(format!("no randomness for {what}: {e}")))?;
    Ok(buf)
}

impl Cipher {
    pub fn new(key: &MasterKey) -> Self {
        Cipher {
            aead: XChaCha20Poly1305::new((&key.0).into()),
        }
    }

    /// Seals `plain` under a fresh random nonce. Without randomness there is no safe
    /// nonce (a repeated one reveals both plaintexts), so that is an error, not zeros.
    pub fn encrypt(&self, plain: &str) -> crate::Result<String> {
        let nonce = random_bytes::<24>("a nonce")?;
        let ct = self
            .aead
            .encrypt(XNonce::from_slice(&nonce), plain.as_bytes())
            .map_err(|_| crate::StoreError::Database("sealing failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(hex::encode(out))
    }

    pub fn decrypt(&self, sealed: &str) -> Option<String> {
        let bytes = hex::decode(sealed).ok()?;
        if bytes.len() < 24 {
            return None;
        }
        let (nonce, ct) = bytes.split_at(24);
        let plain = self.aead.decrypt(XNonce::from_slice(nonce), ct).ok()?;
        String::from_utf8(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_wrong_key() {
        let k = MasterKey::generate();
        let c = Cipher::new(&k);
        let sealed = c.encrypt("top-secret-api-key").unwrap();
        assert!(!sealed.contains("top-secret"));
        assert_eq!(c.decrypt(&sealed).as_deref(), Some("top-secret-api-key"));
        let other = Cipher::new(&MasterKey::generate());
        assert_eq!(other.decrypt(&sealed), None);
        assert_eq!(c.decrypt("zz"), None);
    }

    #[test]
    fn key_file_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        assert!(matches!(
            MasterKey::load(None, &path, false),
            Err(MasterKeyError::Missing { .. })
        ));
        let k1 = MasterKey::load(None, &path, true).unwrap();
        let k2 = MasterKey::load(None, &path, false).unwrap();
        assert_eq!(k1.to_hex(), k2.to_hex());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(
            MasterKey::load(Some("abc"), &path, true),
            Err(MasterKeyError::BadEnv)
        ));
        std::fs::write(&path, "nothex").unwrap();
        assert!(matches!(
            MasterKey::load(None, &path, true),
            Err(MasterKeyError::BadFile { .. })
        ));
    }
}
