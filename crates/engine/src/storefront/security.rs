//! A tenant's console (VNC) password and firewall rules of its cloud servers, through
//! the product's upstream `Compute` (Zonkvm's `server_setvnc` and security policies;
//! other upstreams answer unsupported). Each write is announced by an audit intent
//! with the tenant as actor before anything is sent, like every server operation; the
//! password is never in an audit entry or a log.

use super::{refusal, told, Shop};
use crate::{EngineError, Result};
use idcgate_core::storefront::{Answer, RefusalKind, Shopper};
use idcgate_core::{FirewallRule, FirewallRuleSpec, ResourceKind};
use idcgate_store::TenantOrderRow;
use std::sync::Arc;

fn upstream(e: idcgate_core::Error) -> idcgate_core::storefront::Refusal {
    told(&e.into())
}

impl Shop {
    /// Sets the console password of the server `account/resource`.
    pub(super) async fn console_password(
        &self,
        account: &str,
        resource: &str,
        actor: &str,
        password: &str,
    ) -> Result<()> {
        idcgate_core::firewall::check_console_password(password)?;
        let compute = self.compute_of(account).await?;
        let label = "server.console_password";
        let target = format!("{account}/{resource}");
        let intent = self.engine.begin_audit(actor, label, &target).await?;
        let result = compute
            .compute()
            .ok_or_else(no_compute)?
            .set_console_password(resource, password)
            .await
            .map_err(EngineError::from);
        let params = serde_json::json!({ "password": "[redacted]" });
        self.engine
            .finish_audit_with(intent, actor, label, &target, &params, &result, |_| {
                "accepted".into()
            })
            .await;
        result
    }

    async fn compute_of(&self, account: &str) -> Result<Arc<dyn idcgate_core::Connection>> {
        let conn = self.engine.connection(account).await?;
        if conn.compute().is_none() {
            return Err(no_compute());
        }
        Ok(conn)
    }

    /// The tenant's active server holding `guid` and its upstream id; the same
    /// refusals as every per-order action (another tenant's is not found).
    async fn server_holding(&self, who: &Shopper, guid: i64) -> Answer<(TenantOrderRow, String)> {
        let (row, resource) = self.live(who, guid).await?;
        if row.order.kind != ResourceKind::Server {
            return Err(refusal(RefusalKind::Unsupported, "该订单不是服务器"));
        }
        Ok((row, resource))
    }

    pub(super) async fn rules_inner(&self, who: &Shopper, guid: i64) -> Answer<Vec<FirewallRule>> {
        let (row, resource) = self.server_holding(who, guid).await?;
        let conn = self
            .compute_of(&row.order.account)
            .await
            .map_err(|e| told(&e))?;
        let compute = conn.compute().ok_or_else(|| told(&no_compute()))?;
        compute.firewall_rules(&resource).await.map_err(upstream)
    }

    pub(super) async fn add_rule_inner(
        &self,
        who: &Shopper,
        guid: i64,
        rule: &FirewallRuleSpec,
    ) -> Answer<FirewallRule> {
        rule.check().map_err(upstream)?;
        let (row, resource) = self.server_holding(who, guid).await?;
        let account = &row.order.account;
        let conn = self.compute_of(account).await.map_err(|e| told(&e))?;
        let compute = conn.compute().ok_or_else(|| told(&no_compute()))?;
        let (actor, label) = (Self::actor(who), "server.firewall_add");
        let target = format!("{account}/{resource}");
        let intent = self
            .engine
            .begin_audit(&actor, label, &target)
            .await
            .map_err(|e| told(&e))?;
        let result = compute
            .add_firewall_rule(&resource, rule)
            .await
            .map_err(EngineError::from);
        let params = serde_json::to_value(rule).unwrap_or_default();
        self.engine
            .finish_audit_with(intent, &actor, label, &target, &params, &result, |r| {
                format!("rule {}", r.id)
            })
            .await;
        result.map_err(|e| told(&e))
    }

    /// Only a rule the upstream lists for this very server is deleted: the id is
    /// checked against the server's own list first, so an id of another server's rule
    /// is not found here, whatever the upstream would do with it.
    pub(super) async fn delete_rule_inner(
        &self,
        who: &Shopper,
        guid: i64,
        rule_id: &str,
    ) -> Answer<()> {
        let (row, resource) = self.server_holding(who, guid).await?;
        let account = &row.order.account;
        let conn = self.compute_of(account).await.map_err(|e| told(&e))?;
        let compute = conn.compute().ok_or_else(|| told(&no_compute()))?;
        let listed = compute.firewall_rules(&resource).await.map_err(upstream)?;
        if !listed.iter().any(|r| r.id == rule_id) {
            return Err(refusal(RefusalKind::NotFound, "安全组规则不存在"));
        }
        let (actor, label) = (Self::actor(who), "server.firewall_delete");
        let target = format!("{account}/{resource}");
        let intent = self
            .engine
            .begin_audit(&actor, label, &target)
            .await
            .map_err(|e| told(&e))?;
        let result = compute
            .delete_firewall_rule(&resource, rule_id)
            .await
            .map_err(EngineError::from);
        let params = serde_json::json!({ "rule": rule_id });
        self.engine
            .finish_audit_with(intent, &actor, label, &target, &params, &result, |_| {
                "accepted".into()
            })
            .await;
        result.map_err(|e| told(&e))
    }
}

fn no_compute() -> EngineError {
    EngineError::Upstream(idcgate_core::Error::Unsupported {
        vendor: "this vendor".into(),
        capability: "compute".into(),
    })
}
