//! The console's identities: operators, their second factors, sessions and the failure
//! counts that lock a name or an address. The console owns the rules (password hashing,
//! TOTP, roles, never the last admin) and audits every change through the engine; this
//! is the one way it reaches the records, so nothing else in a surface holds the store.
//! Errors stay the store's: the console tells a storage failure from a refusal itself.

use crate::Engine;
use idcgate_store::{
    Counted, FailureLimit, OperatorRow, Result, Role, SessionRow, SessionStage, Store, TotpState,
};

/// See the module's documentation.
#[derive(Clone, Copy)]
pub struct Operators<'a> {
    store: &'a dyn Store,
}

impl Engine {
    /// The console's operators and sessions; see [`Operators`].
    pub fn operators(&self) -> Operators<'_> {
        Operators {
            store: self.store.as_ref(),
        }
    }
}

impl Operators<'_> {
    pub async fn list(&self) -> Result<Vec<OperatorRow>> {
        self.store.list_operators().await
    }

    pub async fn get(&self, name: &str) -> Result<Option<OperatorRow>> {
        self.store.get_operator(name).await
    }

    /// `Conflict` if the name is taken.
    pub async fn add(
        &self,
        name: &str,
        role: Role,
        hash: &str,
        now_ms: i64,
    ) -> Result<OperatorRow> {
        self.store.add_operator(name, role, hash, now_ms).await
    }

    /// A new password hash; ends the operator's sessions. `false`: no such operator.
    pub async fn set_password(&self, name: &str, hash: &str, now_ms: i64) -> Result<bool> {
        self.store.set_operator_password(name, hash, now_ms).await
    }

    pub async fn set_role(&self, name: &str, role: Role, now_ms: i64) -> Result<bool> {
        self.store.set_operator_role(name, role, now_ms).await
    }

    pub async fn remove(&self, name: &str) -> Result<bool> {
        self.store.remove_operator(name).await
    }

    pub async fn totp(&self, name: &str) -> Result<TotpState> {
        self.store.operator_totp(name).await
    }

    pub async fn begin_totp(&self, name: &str, secret: &str, now_ms: i64) -> Result<bool> {
        self.store.begin_totp(name, secret, now_ms).await
    }

    pub async fn confirm_totp(
        &self,
        name: &str,
        code_digests: &[String],
        now_ms: i64,
    ) -> Result<bool> {
        self.store.confirm_totp(name, code_digests, now_ms).await
    }

    pub async fn clear_totp(&self, name: &str, now_ms: i64) -> Result<bool> {
        self.store.clear_totp(name, now_ms).await
    }

    /// Uses up one recovery code: `true` once per code.
    pub async fn use_recovery_code(&self, name: &str, code_digest: &str) -> Result<bool> {
        self.store.use_recovery_code(name, code_digest).await
    }

    /// Counts a failed login; the lock's end once `max` are counted.
    pub async fn login_failed(
        &self,
        name: &str,
        now_ms: i64,
        max: i64,
        lock_ms: i64,
    ) -> Result<Option<i64>> {
        self.store.login_failed(name, now_ms, max, lock_ms).await
    }

    pub async fn login_succeeded(&self, name: &str) -> Result<()> {
        self.store.login_succeeded(name).await
    }

    pub async fn create_session(
        &self,
        id_digest: &str,
        operator: &str,
        csrf: &str,
        stage: SessionStage,
        now_ms: i64,
    ) -> Result<()> {
        self.store
            .create_session(id_digest, operator, csrf, stage, now_ms)
            .await
    }

    /// The live session (touched), if seen after `idle_after_ms` and created after
    /// `created_after_ms`.
    pub async fn session(
        &self,
        id_digest: &str,
        now_ms: i64,
        idle_after_ms: i64,
        created_after_ms: i64,
    ) -> Result<Option<SessionRow>> {
        self.store
            .session(id_digest, now_ms, idle_after_ms, created_after_ms)
            .await
    }

    pub async fn end_session(&self, id_digest: &str) -> Result<bool> {
        self.store.end_session(id_digest).await
    }

    /// The end of the lock on `subject` in `scope` (an address), if one is in force.
    pub async fn locked_until(
        &self,
        scope: &str,
        subject: &str,
        now_ms: i64,
    ) -> Result<Option<i64>> {
        self.store.locked_until(scope, subject, now_ms).await
    }

    pub async fn count_failure(
        &self,
        scope: &str,
        subject: &str,
        now_ms: i64,
        limit: FailureLimit,
    ) -> Result<Counted> {
        self.store
            .count_failure(scope, subject, now_ms, limit)
            .await
    }
}
