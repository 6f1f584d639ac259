//! Failed authentications counted per (scope, subject) — a downstream appid, a client
//! address — in fixed windows, with a lockout once a limit is reached. Kept in the
//! database so that instances behind one load balancer share one count: an attacker
//! spreading guesses over instances gains nothing.

use crate::{first_column, ReadRows, Result, SqlStore};
use async_trait::async_trait;
use sqlx::Row;

/// What a limit is: `max` failures within `window_ms` lock the subject for `lock_ms`.
#[derive(Debug, Clone, Copy)]
pub struct FailureLimit {
    pub max: i64,
    pub window_ms: i64,
    pub lock_ms: i64,
}

/// What counting one failure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    /// The lock in force after this failure, if any.
    pub locked_until_ms: Option<i64>,
    /// This failure started the lock (exactly one concurrent failure does).
    pub started: bool,
}

/// What is on record for one subject: its failures in the current window and the end
/// of its last lock (0 when it was never locked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub failures: i64,
    pub locked_until_ms: i64,
}

/// Subjects whose window and lock ended are forgotten when a failure is counted, so
/// a spray of addresses does not grow the table without bound.
#[async_trait]
pub trait Lockouts: Send + Sync {
    /// The end of the lock on `subject`, if one is in force at `now_ms`.
    async fn locked_until(&self, scope: &str, subject: &str, now_ms: i64) -> Result<Option<i64>>;
    async fn count_failure(
        &self,
        scope: &str,
        subject: &str,
        now_ms: i64,
        limit: FailureLimit,
    ) -> Result<Counted>;
    /// Forgets the failures of `subject` (after a success).
    async fn clear_failures(&self, scope: &str, subject: &str) -> Result<()>;
    /// What is on record for each (scope, subject), in the order asked, in one read: a
    /// caller checking several locks on every request, and clearing only what exists,
    /// needs neither a statement per subject nor a write when nothing is there.
    async fn standings(&self, subjects: &[(&str, &str)]) -> Result<Vec<Option<Standing>>>;
}

#[async_trait]
impl Lockouts for SqlStore {
    async fn locked_until(&self, scope: &str, subject: &str, now_ms: i64) -> Result<Option<i64>> {
        let until: Option<i64> =
            sqlx::query("SELECT locked_until FROM auth_failures WHERE scope = $1 AND subject = $2")
                .bind(scope)
                .bind(subject)
                .read_optional(&self.pool, first_column)
                .await?;
        Ok(until.filter(|u| *u > now_ms))
    }

    async fn count_failure(
        &self,
        scope: &str,
        subject: &str,
        now_ms: i64,
        limit: FailureLimit,
    ) -> Result<Counted> {
        sqlx::query("DELETE FROM auth_failures WHERE window_start < $1 AND locked_until < $2")
            .bind(now_ms - limit.window_ms.max(limit.lock_ms))
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        // One upsert counts the failure, starting a new window when the last one ended.
        let row = sqlx::query(
            "INSERT INTO auth_failures (scope, subject, failures, window_start, locked_until)
             VALUES ($1, $2, 1, $3, 0)
             ON CONFLICT (scope, subject) DO UPDATE SET
               failures = CASE WHEN auth_failures.window_start <= $4 THEN 1
                               ELSE auth_failures.failures + 1 END,
               window_start = CASE WHEN auth_failures.window_start <= $4 THEN $3
                                   ELSE auth_failures.window_start END
             RETURNING failures, locked_until",
        )
        .bind(scope)
        .bind(subject)
        .bind(now_ms)
        .bind(now_ms - limit.window_ms)
        .fetch_one(&self.pool)
        .await?;
        let failures: i64 = row.try_get(0)?;
        let locked: i64 = row.try_get(1)?;
        if locked > now_ms {
            return Ok(Counted {
                locked_until_ms: Some(locked),
                started: false,
            });
        }
        if failures < limit.max {
            return Ok(Counted {
                locked_until_ms: None,
                started: false,
            });
        }
        // Compare-and-set: of failures reaching the limit at once, one starts the lock.
        let until = now_ms.saturating_add(limit.lock_ms);
        let done = sqlx::query(
            "UPDATE auth_failures SET locked_until = $1, failures = 0, window_start = $2
             WHERE scope = $3 AND subject = $4 AND locked_until <= $2",
        )
        .bind(until)
        .bind(now_ms)
        .bind(scope)
        .bind(subject)
        .execute(&self.pool)
        .await?;
        let started = done.rows_affected() > 0;
        let in_force = if started {
            Some(until)
        } else {
            self.locked_until(scope, subject, now_ms).await?
        };
        Ok(Counted {
            locked_until_ms: in_force,
            started,
        })
    }

    async fn clear_failures(&self, scope: &str, subject: &str) -> Result<()> {
        sqlx::query("DELETE FROM auth_failures WHERE scope = $1 AND subject = $2")
            .bind(scope)
            .bind(subject)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn standings(&self, subjects: &[(&str, &str)]) -> Result<Vec<Option<Standing>>> {
        if subjects.is_empty() {
            return Ok(Vec::new());
        }
        let wheres: Vec<String> = (0..subjects.len())
            .map(|i| format!("(scope = ${} AND subject = ${})", 2 * i + 1, 2 * i + 2))
            .collect();
        let sql = format!(
            "SELECT scope, subject, failures, locked_until FROM auth_failures WHERE {}",
            wheres.join(" OR ")
        );
        let mut q = sqlx::query(&sql);
        for (scope, subject) in subjects {
            q = q.bind(*scope).bind(*subject);
        }
        let mut out = vec![None; subjects.len()];
        for row in q.fetch_all(&self.pool).await? {
            let scope: String = row.try_get(0)?;
            let subject: String = row.try_get(1)?;
            let standing = Standing {
                failures: row.try_get(2)?,
                locked_until_ms: row.try_get(3)?,
            };
            for (slot, asked) in out.iter_mut().zip(subjects) {
                if asked.0 == scope && asked.1 == subject {
                    *slot = Some(standing);
                }
            }
        }
        Ok(out)
    }
}
