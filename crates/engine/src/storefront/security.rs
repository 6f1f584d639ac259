//! A tenant's console (VNC) password and firewall rules of its cloud servers, through
//! the product's upstream `Compute` (Zonkvm's `server_setvnc` and security policies;
//! other upstreams answer unsupported). Each write is announced by an audit intent
//! with the tenant as actor before anything is sent, like every server operation; the
//! password is never in an audit entry or a log.

use super::{refusal, told, Shop};
use crate::{EngineError, Result};
use idcgate_core::storefront::{Answer, RefusalKind, Shopper};
use idcgate_core::{FirewallRule, FirewallRuleSpec};
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
        let compute = compute.compute().ok_or_else(no_compute)?;
        let params = serde_json::json!({ "password": "[redacted]" });
        let set = async {
            compute
                .set_console_password(resource, password)
                .await
                .map_err(EngineError::from)
        };
        self.engine
            .audited(
                actor,
                "server.console_password",
                &format!("{account}/{resource}"),
                Some(&params),
                set,
                |_| "accepted".into(),
            )
            .await
    }

    async fn compute_of(&self, account: &str) -> Result<Arc<dyn idcgate_core::Connection>> {
        let conn = self.engine.connection(account).await?;
        if conn.compute().is_none() {
            return Err(no_compute());
        }
        Ok(conn)
    }

    /// The tenant's active server holding `guid`; the same refusals as every per-order
    /// action (another tenant's is not found).
    async fn tenant_server(&self, who: &Shopper, guid: i64) -> Answer<TenantServer> {
        let (row, resource) = self.live_server(who, guid).await?;
        let account = row.order.account;
        let conn = self.compute_of(&account).await.map_err(|e| told(&e))?;
        Ok(TenantServer {
            account,
            resource,
            conn,
        })
    }

    /// `call`, a write to the tenant's `server`, audited with the tenant as actor.
    async fn audited_write<T>(
        &self,
        who: &Shopper,
        server: &TenantServer,
        label: &str,
        params: serde_json::Value,
        call: impl std::future::Future<Output = idcgate_core::Result<T>>,
        detail_ok: impl FnOnce(&T) -> String,
    ) -> Answer<T> {
        let target = format!("{}/{}", server.account, server.resource);
        let call = async { call.await.map_err(EngineError::from) };
        self.engine
            .audited(
                &Self::actor(who),
                label,
                &target,
                Some(&params),
                call,
                detail_ok,
            )
            .await
            .map_err(|e| told(&e))
    }

    pub(super) async fn rules_inner(&self, who: &Shopper, guid: i64) -> Answer<Vec<FirewallRule>> {
        let server = self.tenant_server(who, guid).await?;
        let compute = server.compute()?;
        compute
            .firewall_rules(&server.resource)
            .await
            .map_err(upstream)
    }

    pub(super) async fn add_rule_inner(
        &self,
        who: &Shopper,
        guid: i64,
        rule: &FirewallRuleSpec,
    ) -> Answer<FirewallRule> {
        rule.check().map_err(upstream)?;
        let server = self.tenant_server(who, guid).await?;
        let add = server.compute()?.add_firewall_rule(&server.resource, rule);
        let params = serde_json::to_value(rule).unwrap_or_default();
        self.audited_write(who, &server, "server.firewall_add", params, add, |r| {
            format!("rule {}", r.id)
        })
        .await
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
        let server = self.tenant_server(who, guid).await?;
        let compute = server.compute()?;
        let listed = compute
            .firewall_rules(&server.resource)
            .await
            .map_err(upstream)?;
        if !listed.iter().any(|r| r.id == rule_id) {
            return Err(refusal(RefusalKind::NotFound, "安全组规则不存在"));
        }
        let delete = compute.delete_firewall_rule(&server.resource, rule_id);
        let params = serde_json::json!({ "rule": rule_id });
        self.audited_write(
            who,
            &server,
            "server.firewall_delete",
            params,
            delete,
            |_| "accepted".into(),
        )
        .await
    }
}

/// A tenant's live server: its upstream account and id, and the connection of that
/// account, which has compute.
struct TenantServer {
    account: String,
    resource: String,
    conn: Arc<dyn idcgate_core::Connection>,
}

impl TenantServer {
    fn compute(&self) -> Answer<&dyn idcgate_core::capability::Compute> {
        self.conn.compute().ok_or_else(|| told(&no_compute()))
    }
}

fn no_compute() -> EngineError {
    EngineError::Upstream(idcgate_core::Error::Unsupported {
        vendor: "this vendor".into(),
        capability: "compute".into(),
    })
}
