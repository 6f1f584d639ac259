//! The console's operators (people who log in) and their sessions.
//!
//! What a password hash is, how a TOTP code is checked and what a role may do are the
//! console's; here a password hash is an opaque string, a TOTP secret is sealed at rest
//! under the master key like upstream credentials, recovery codes and session cookies
//! are kept only as SHA-256 digests (they are 80+ random bits, a slow hash adds
//! nothing), and a failed login is counted in the database so every instance on it
//! sees one lockout.

use crate::{parsed, ReadRows, Result, SqlStore, StoreError};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

/// What an operator may do; the console enforces it on every page and action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything the console shows.
    Viewer,
    /// Reads, and handles money: orders, renewals, tenants' deposits, products.
    Finance,
    /// Reads, and operates resources: DNS, servers, syncs.
    Operator,
    /// Everything, including operators, accounts and tokens.
    Admin,
}

idcgate_core::word_enum!(Role {
    Admin => "admin",
    Operator => "operator",
    Finance => "finance",
    Viewer => "viewer",
});

/// One operator as stored. The password hash is opaque and never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct OperatorRow {
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    pub totp_enabled: bool,
    pub failed_logins: i64,
    /// Unix milliseconds until which logins are refused; 0 when not locked.
    pub locked_until_ms: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

idcgate_core::debug_shows!(OperatorRow: name, role, totp_enabled, failed_logins, locked_until_ms);

/// An operator's second factor: the secret (clear, here only), whether enrolment was
/// confirmed, and how many recovery codes remain.
pub struct TotpState {
    pub secret: Option<String>,
    pub enabled: bool,
    pub recovery_left: usize,
}

idcgate_core::debug_shows!(TotpState: enabled, recovery_left);

/// How far a session has come: a password alone does not open the console for an
/// operator with a second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStage {
    /// Password accepted; the TOTP code (or a recovery code) is still owed.
    SecondFactor,
    /// Logged in.
    Full,
}

idcgate_core::word_enum!(SessionStage {
    SecondFactor => "second_factor",
    Full => "full",
});

/// A live session, with its operator's role as it is now (a role changed while logged
/// in takes effect on the next request).
#[derive(Clone)]
pub struct SessionRow {
    pub operator: String,
    pub role: Role,
    pub csrf: String,
    pub stage: SessionStage,
    pub totp_enabled: bool,
    pub created_at_ms: i64,
    pub last_seen_ms: i64,
}

idcgate_core::debug_shows!(SessionRow: operator, role, stage);

#[async_trait]
pub trait OperatorStore: Send + Sync {
    /// `Conflict` if the name is taken.
    async fn add_operator(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<OperatorRow>;
    async fn get_operator(&self, name: &str) -> Result<Option<OperatorRow>>;
    async fn list_operators(&self) -> Result<Vec<OperatorRow>>;
    /// Sets a new password hash, clears a lockout and ends every session of the
    /// operator. `false` if there is no such operator.
    async fn set_operator_password(&self, name: &str, hash: &str, now_ms: i64) -> Result<bool>;
    async fn set_operator_role(&self, name: &str, role: Role, now_ms: i64) -> Result<bool>;
    /// Removes the operator and its sessions.
    async fn remove_operator(&self, name: &str) -> Result<bool>;
    /// Counts a failed login; once `max` failures are counted the operator is locked
    /// until `now + lock_ms` and the count starts again. Returns the lock's end, if
    /// locked now. Nothing happens for an unknown name.
    async fn login_failed(
        &self,
        name: &str,
        now_ms: i64,
        max: i64,
        lock_ms: i64,
    ) -> Result<Option<i64>>;
    async fn login_succeeded(&self, name: &str) -> Result<()>;
    async fn operator_totp(&self, name: &str) -> Result<TotpState>;
    /// Stores a TOTP secret not yet confirmed (enrolment started); a confirmed factor
    /// stays in force until `confirm_totp` replaces it.
    async fn begin_totp(&self, name: &str, secret: &str, now_ms: i64) -> Result<bool>;
    /// Confirms enrolment and replaces the recovery codes (their digests).
    async fn confirm_totp(
        &self,
        name: &str,
        recovery_digests: &[String],
        now_ms: i64,
    ) -> Result<bool>;
    /// Drops the second factor and its recovery codes.
    async fn clear_totp(&self, name: &str, now_ms: i64) -> Result<bool>;
    /// Uses up one recovery code: `true` once per code.
    async fn use_recovery_code(&self, name: &str, code_digest: &str) -> Result<bool>;

    async fn create_session(
        &self,
        id_digest: &str,
        operator: &str,
        csrf: &str,
        stage: SessionStage,
        now_ms: i64,
    ) -> Result<()>;
    /// The session, if it exists and was seen after `idle_after_ms` and created after
    /// `created_after_ms`; a live one is touched (its last-seen set to `now_ms`), an
    /// expired one deleted.
    async fn session(
        &self,
        id_digest: &str,
        now_ms: i64,
        idle_after_ms: i64,
        created_after_ms: i64,
    ) -> Result<Option<SessionRow>>;
    async fn end_session(&self, id_digest: &str) -> Result<bool>;
}

fn operator_from_row(r: &AnyRow) -> Result<OperatorRow> {
    let role: String = r.try_get("role")?;
    Ok(read_row!(r => OperatorRow {
        name,
        role = parsed(Role::from_word, "role", &role)?,
        password_hash,
        totp_enabled = r.try_get::<i64, _>("totp_enabled")? != 0,
        failed_logins,
        locked_until_ms: "locked_until",
        created_at_ms: "created_at",
        updated_at_ms: "updated_at",
    }))
}

fn recovery_list(r: &AnyRow) -> Result<Vec<String>> {
    let text: String = r.try_get("recovery_hashes")?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("recovery codes: {e}")))
}

#[async_trait]
impl OperatorStore for SqlStore {
    async fn add_operator(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<OperatorRow> {
        let done = sqlx::query(
            "INSERT INTO operators (name, role, password_hash, totp_sealed, totp_enabled,
               recovery_hashes, failed_logins, locked_until, created_at, updated_at)
             VALUES ($1, $2, $3, NULL, 0, '[]', 0, 0, $4, $4) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(password_hash)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!("operator {name}")));
        }
        self.get_operator(name)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("operator {name}")))
    }

    async fn get_operator(&self, name: &str) -> Result<Option<OperatorRow>> {
        sqlx::query("SELECT * FROM operators WHERE name = $1")
            .bind(name)
            .read_optional(&self.pool, operator_from_row)
            .await
    }

    async fn list_operators(&self) -> Result<Vec<OperatorRow>> {
        sqlx::query("SELECT * FROM operators ORDER BY name")
            .read_all(&self.pool, operator_from_row)
            .await
    }

    async fn set_operator_password(&self, name: &str, hash: &str, now_ms: i64) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE operators SET password_hash = $1, failed_logins = 0, locked_until = 0,
             updated_at = $2 WHERE name = $3",
        )
        .bind(hash)
        .bind(now_ms)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM console_sessions WHERE operator = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_operator_role(&self, name: &str, role: Role, now_ms: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE operators SET role = $1, updated_at = $2 WHERE name = $3")
            .bind(role.as_str())
            .bind(now_ms)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn remove_operator(&self, name: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM console_sessions WHERE operator = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM operators WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn login_failed(
        &self,
        name: &str,
        now_ms: i64,
        max: i64,
        lock_ms: i64,
    ) -> Result<Option<i64>> {
        // One statement, so concurrent failures on several instances each count.
        let row = sqlx::query(
            "UPDATE operators SET
               locked_until = CASE WHEN failed_logins + 1 >= $1 THEN $2 ELSE locked_until END,
               failed_logins = CASE WHEN failed_logins + 1 >= $1 THEN 0 ELSE failed_logins + 1 END
             WHERE name = $3 RETURNING locked_until",
        )
        .bind(max)
        .bind(now_ms.saturating_add(lock_ms))
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let until: i64 = row.try_get(0)?;
        Ok((until > now_ms).then_some(until))
    }

    async fn login_succeeded(&self, name: &str) -> Result<()> {
        sqlx::query("UPDATE operators SET failed_logins = 0 WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn operator_totp(&self, name: &str) -> Result<TotpState> {
        let row = sqlx::query("SELECT * FROM operators WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("operator {name}")))?;
        let sealed: Option<String> = row.try_get("totp_sealed")?;
        let secret = match sealed {
            Some(s) => Some(
                self.cipher()?
                    .decrypt(&s)
                    .ok_or(StoreError::WrongMasterKey)?,
            ),
            None => None,
        };
        Ok(TotpState {
            secret,
            enabled: row.try_get::<i64, _>("totp_enabled")? != 0,
            recovery_left: recovery_list(&row)?.len(),
        })
    }

    async fn begin_totp(&self, name: &str, secret: &str, now_ms: i64) -> Result<bool> {
        // An enrolled factor is not replaced by an unconfirmed one: the pending secret
        // waits in the same column only while no factor is enabled.
        let sealed = self.cipher()?.encrypt(secret)?;
        let done = sqlx::query(
            "UPDATE operators SET totp_sealed = $1, updated_at = $2
             WHERE name = $3 AND totp_enabled = 0",
        )
        .bind(sealed)
        .bind(now_ms)
        .bind(name)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn confirm_totp(
        &self,
        name: &str,
        recovery_digests: &[String],
        now_ms: i64,
    ) -> Result<bool> {
        let list = serde_json::to_string(recovery_digests)
            .map_err(|e| StoreError::Database(e.to_string()))?;
        let done = sqlx::query(
            "UPDATE operators SET totp_enabled = 1, recovery_hashes = $1, updated_at = $2
             WHERE name = $3 AND totp_sealed IS NOT NULL",
        )
        .bind(list)
        .bind(now_ms)
        .bind(name)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn clear_totp(&self, name: &str, now_ms: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE operators SET totp_sealed = NULL, totp_enabled = 0, recovery_hashes = '[]',
             updated_at = $1 WHERE name = $2",
        )
        .bind(now_ms)
        .bind(name)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn use_recovery_code(&self, name: &str, code_digest: &str) -> Result<bool> {
        // Compare-and-set on the whole list, retried when another use changed it first:
        // a code is spent once without a read-then-write transaction, which SQLite would
        // refuse under concurrent writers.
        for _ in 0..8 {
            let row = sqlx::query("SELECT recovery_hashes FROM operators WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
            let Some(row) = row else { return Ok(false) };
            let before: String = row.try_get("recovery_hashes")?;
            let mut codes = recovery_list(&row)?;
            let count = codes.len();
            codes.retain(|c| c != code_digest);
            if codes.len() == count {
                return Ok(false);
            }
            let list =
                serde_json::to_string(&codes).map_err(|e| StoreError::Database(e.to_string()))?;
            let done = sqlx::query(
                "UPDATE operators SET recovery_hashes = $1 WHERE name = $2 AND recovery_hashes = $3",
            )
            .bind(list)
            .bind(name)
            .bind(&before)
            .execute(&self.pool)
            .await?;
            if done.rows_affected() > 0 {
                return Ok(true);
            }
        }
        Err(StoreError::Database(
            "recovery codes kept changing under this use; try again".into(),
        ))
    }

    async fn create_session(
        &self,
        id_digest: &str,
        operator: &str,
        csrf: &str,
        stage: SessionStage,
        now_ms: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO console_sessions (id_hash, operator, csrf, stage, created_at, last_seen)
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(id_digest)
        .bind(operator)
        .bind(csrf)
        .bind(stage.as_str())
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session(
        &self,
        id_digest: &str,
        now_ms: i64,
        idle_after_ms: i64,
        created_after_ms: i64,
    ) -> Result<Option<SessionRow>> {
        let row = sqlx::query(
            "SELECT s.operator, s.csrf, s.stage, s.created_at, s.last_seen, o.role, o.totp_enabled
             FROM console_sessions s JOIN operators o ON o.name = s.operator
             WHERE s.id_hash = $1",
        )
        .bind(id_digest)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let created: i64 = row.try_get("created_at")?;
        let seen: i64 = row.try_get("last_seen")?;
        if seen <= idle_after_ms || created <= created_after_ms {
            self.end_session(id_digest).await?;
            return Ok(None);
        }
        // Touching on every request would write on every page view; a minute's
        // precision is enough for an idle timeout counted in minutes.
        if now_ms - seen > 60_000 {
            sqlx::query("UPDATE console_sessions SET last_seen = $1 WHERE id_hash = $2")
                .bind(now_ms)
                .bind(id_digest)
                .execute(&self.pool)
                .await?;
        }
        let role: String = row.try_get("role")?;
        let stage: String = row.try_get("stage")?;
        Ok(Some(read_row!(row => SessionRow {
            operator,
            role = parsed(Role::from_word, "role", &role)?,
            csrf,
            stage = parsed(SessionStage::from_word, "session stage", &stage)?,
            totp_enabled = row.try_get::<i64, _>("totp_enabled")? != 0,
            created_at_ms = created,
            last_seen_ms = seen,
        })))
    }

    async fn end_session(&self, id_digest: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM console_sessions WHERE id_hash = $1")
            .bind(id_digest)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
