//! Renewal settings and memory: policies (a default per kind, overrides per resource),
//! balance floors per upstream account, and the notices already given (reminder stages,
//! reasons a renewal was skipped) so each is given once per resource and expiry.
//!
//! The store keeps rows; what they mean together (which level wins, what is due) is the
//! engine's `renewals` module.

use crate::{kind_of, ReadRows, Result, SqlStore};
use async_trait::async_trait;
use idcgate_core::ResourceKind;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

/// What a policy row covers: a kind's default, or one resource of that kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyScope {
    pub kind: ResourceKind,
    /// `(account, key)` of one inventory resource; `None` for the kind's default.
    pub resource: Option<(String, String)>,
}

impl PolicyScope {
    pub fn kind(kind: ResourceKind) -> Self {
        PolicyScope {
            kind,
            resource: None,
        }
    }

    pub fn resource(kind: ResourceKind, account: &str, key: &str) -> Self {
        PolicyScope {
            kind,
            resource: Some((account.to_string(), key.to_string())),
        }
    }

    /// The stored (account, rkey): empty for a kind's default.
    fn columns(&self) -> (&str, &str) {
        match &self.resource {
            Some((a, k)) => (a, k),
            None => ("", ""),
        }
    }
}

/// One stored policy level. A `None` field is not set at this level: a resource takes
/// it from its kind's default, a kind's default from the built-in one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRow {
    #[serde(flatten)]
    pub scope: PolicyScope,
    pub auto_renew: Option<bool>,
    pub days_before: Option<i64>,
    /// The most a renewal may cost, in fen. At a kind's default, `None` is no cap.
    pub max_price_fen: Option<i64>,
    pub months: Option<i64>,
    pub updated_ms: i64,
}

/// A change to one policy level: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyPatch {
    pub auto_renew: Option<bool>,
    pub days_before: Option<i64>,
    /// `Some(None)` clears the cap at this level.
    pub max_price_fen: Option<Option<i64>>,
    pub months: Option<i64>,
}

/// A notice given about one resource's expiry: a reminder stage (`30d`, `7d`, `1d`) or a
/// reason a renewal was skipped (`skip:max-price`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewalNotice {
    pub account: String,
    pub kind: ResourceKind,
    pub key: String,
    /// The expiry the notice was about: a renewed resource's next expiry is new ground.
    pub expires_ms: i64,
    pub stage: String,
    pub at_ms: i64,
    pub detail: String,
}

#[async_trait]
pub trait RenewalStore: Send + Sync {
    /// Every stored policy level, kind defaults first.
    async fn renewal_policies(&self) -> Result<Vec<PolicyRow>>;
    /// Applies `patch` to one level (creating it), and returns the level as stored.
    async fn put_renewal_policy(
        &self,
        scope: &PolicyScope,
        patch: &PolicyPatch,
        now_ms: i64,
    ) -> Result<PolicyRow>;
    /// Sets (or with `None` removes) an upstream account's balance floor.
    async fn set_renewal_floor(
        &self,
        account: &str,
        floor_fen: Option<i64>,
        now_ms: i64,
    ) -> Result<()>;
    async fn renewal_floors(&self) -> Result<Vec<(String, i64)>>;
    /// Records a notice unless the same (resource, expiry, stage) was recorded before;
    /// `true` when this call recorded it, so exactly one of two racing callers gives it.
    async fn record_renewal_notice(&self, notice: &RenewalNotice) -> Result<bool>;
    /// Notices, newest first, of one account or all.
    async fn renewal_notices(
        &self,
        account: Option<&str>,
        limit: i64,
    ) -> Result<Vec<RenewalNotice>>;
    /// Claims the named job now, due or not, unless another owner's lease still holds it
    /// (a job run on demand, `idcgate renew run`, must not overlap the scheduled run).
    async fn claim_job_now(
        &self,
        name: &str,
        owner: &str,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<bool>;
}

fn policy_from(r: &AnyRow) -> Result<PolicyRow> {
    let account: String = r.try_get("account")?;
    let key: String = r.try_get("rkey")?;
    let kind: String = r.try_get("kind")?;
    let auto: Option<i64> = r.try_get("auto_renew")?;
    Ok(read_row!(r => PolicyRow {
        scope = PolicyScope {
            kind: kind_of("renewal", &kind)?,
            resource: (!account.is_empty()).then_some((account, key)),
        },
        auto_renew = auto.map(|a| a != 0),
        days_before,
        max_price_fen,
        months,
        updated_ms: "updated_at",
    }))
}

const POLICY_COLUMNS: &str =
    "kind, account, rkey, auto_renew, days_before, max_price_fen, months, updated_at";

#[async_trait]
impl RenewalStore for SqlStore {
    async fn renewal_policies(&self) -> Result<Vec<PolicyRow>> {
        sqlx::query(&format!(
            "SELECT {POLICY_COLUMNS} FROM renewal_policies ORDER BY account, kind, rkey"
        ))
        .read_all(&self.pool, policy_from)
        .await
    }

    async fn put_renewal_policy(
        &self,
        scope: &PolicyScope,
        patch: &PolicyPatch,
        now_ms: i64,
    ) -> Result<PolicyRow> {
        let (account, key) = scope.columns();
        let mut tx = self.begin_write().await?;
        // COALESCE keeps what the patch leaves out; the max price has a "clear" of its
        // own ($9), since NULL there is a value, not "leave it".
        sqlx::query(
            "INSERT INTO renewal_policies (kind, account, rkey, auto_renew, days_before, max_price_fen, months, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (kind, account, rkey) DO UPDATE SET
               auto_renew = COALESCE(excluded.auto_renew, renewal_policies.auto_renew),
               days_before = COALESCE(excluded.days_before, renewal_policies.days_before),
               max_price_fen = CASE WHEN $9 = 1 THEN excluded.max_price_fen ELSE renewal_policies.max_price_fen END,
               months = COALESCE(excluded.months, renewal_policies.months),
               updated_at = excluded.updated_at",
        )
        .bind(scope.kind.as_str())
        .bind(account)
        .bind(key)
        .bind(patch.auto_renew.map(i64::from))
        .bind(patch.days_before)
        .bind(patch.max_price_fen.flatten())
        .bind(patch.months)
        .bind(now_ms)
        .bind(i64::from(patch.max_price_fen.is_some()))
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(&format!(
            "SELECT {POLICY_COLUMNS} FROM renewal_policies WHERE kind = $1 AND account = $2 AND rkey = $3"
        ))
        .bind(scope.kind.as_str())
        .bind(account)
        .bind(key)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        policy_from(&row)
    }

    async fn set_renewal_floor(
        &self,
        account: &str,
        floor_fen: Option<i64>,
        now_ms: i64,
    ) -> Result<()> {
        match floor_fen {
            Some(fen) => {
                sqlx::query(
                    "INSERT INTO renewal_floors (account, floor_fen, updated_at) VALUES ($1, $2, $3)
                     ON CONFLICT (account) DO UPDATE SET floor_fen = excluded.floor_fen, updated_at = excluded.updated_at",
                )
                .bind(account)
                .bind(fen)
                .bind(now_ms)
                .execute(&self.pool)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM renewal_floors WHERE account = $1")
                    .bind(account)
                    .execute(&self.pool)
                    .await?;
            }
        }
        Ok(())
    }

    async fn renewal_floors(&self) -> Result<Vec<(String, i64)>> {
        sqlx::query("SELECT account, floor_fen FROM renewal_floors ORDER BY account")
            .read_all(&self.pool, |r| {
                Ok((r.try_get("account")?, r.try_get("floor_fen")?))
            })
            .await
    }

    async fn record_renewal_notice(&self, n: &RenewalNotice) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO renewal_notices (account, kind, rkey, expires_at, stage, at, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (account, kind, rkey, expires_at, stage) DO NOTHING",
        )
        .bind(&n.account)
        .bind(n.kind.as_str())
        .bind(&n.key)
        .bind(n.expires_ms)
        .bind(&n.stage)
        .bind(n.at_ms)
        .bind(&n.detail)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn renewal_notices(
        &self,
        account: Option<&str>,
        limit: i64,
    ) -> Result<Vec<RenewalNotice>> {
        sqlx::query(
            "SELECT account, kind, rkey, expires_at, stage, at, detail FROM renewal_notices
             WHERE ($1 IS NULL OR account = $1) ORDER BY at DESC, kind, rkey, stage LIMIT $2",
        )
        .bind(account)
        .bind(limit)
        .read_all(&self.pool, |r| {
            let kind: String = r.try_get("kind")?;
            Ok(read_row!(r => RenewalNotice {
                account,
                kind = kind_of("renewal", &kind)?,
                key: "rkey",
                expires_ms: "expires_at",
                stage,
                at_ms: "at",
                detail,
            }))
        })
        .await
    }

    async fn claim_job_now(
        &self,
        name: &str,
        owner: &str,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<bool> {
        // One UPDATE decides: the row lock (PostgreSQL) or the single writer (SQLite)
        // lets only one of two racing claims see the lease free.
        let done = sqlx::query(
            "UPDATE jobs SET locked_by = $1, locked_until = $2
             WHERE name = $3 AND (locked_until IS NULL OR locked_until < $4)",
        )
        .bind(owner)
        .bind(lease_until_ms)
        .bind(name)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
