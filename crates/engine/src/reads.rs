//! The read models the surfaces show: inventory pages, orders and the ledger, the audit
//! trail, tokens, tenants' deposits, delivery counts. Reading only: every change goes
//! through an engine method that validates and audits it, so a surface holding
//! [`Reads`] cannot write behind the engine's back.

use crate::{Engine, Result};
use idcgate_core::ResourceKind;
use idcgate_store::{
    AuditEntry, AuditFilter, DepositRow, LedgerFilter, LedgerLine, ListPage, OrderEvent,
    OrderFilter, OrderRow, ProductRow, ResourceFilter, ResourceRow, Store, TokenInfo,
};

/// Read access to what the engine keeps (see the module's documentation).
#[derive(Clone, Copy)]
pub struct Reads<'a> {
    store: &'a dyn Store,
}

impl Engine {
    /// The read models; see [`Reads`].
    pub fn reads(&self) -> Reads<'_> {
        Reads {
            store: self.store.as_ref(),
        }
    }
}

impl Reads<'_> {
    /// A round trip to the database: healthy means it answers.
    pub async fn ping(&self) -> Result<()> {
        Ok(self.store.ping().await?)
    }

    // ---- inventory

    /// Moves on whenever a write to the inventory through this engine's store ends (see
    /// `Store::inventory_generation`): a page read while it stood still may be shown
    /// again until it moves. Another process's writes do not move it; a surface that
    /// keeps pages bounds how long it trusts one.
    pub fn inventory_generation(&self) -> u64 {
        self.store.inventory_generation()
    }

    /// Every resource `filter` names (its limit and offset apply).
    pub async fn resources(&self, filter: &ResourceFilter) -> Result<Vec<ResourceRow>> {
        Ok(self.store.list_resources(filter).await?)
    }

    /// One page of `filter` and the total it names, in one read.
    pub async fn resource_page(&self, filter: &ResourceFilter) -> Result<(Vec<ResourceRow>, i64)> {
        Ok(self.store.page_resources(filter).await?)
    }

    pub async fn count_resources(&self, filter: &ResourceFilter) -> Result<i64> {
        Ok(self.store.count_resources(filter).await?)
    }

    /// The resource as last seen, gone or not (`gone_at_ms` says).
    pub async fn resource(
        &self,
        account: &str,
        kind: ResourceKind,
        id: &str,
    ) -> Result<Option<ResourceRow>> {
        Ok(self.store.get_resource(account, kind, id).await?)
    }

    /// The resource if it is in the live inventory.
    pub async fn live_resource(
        &self,
        account: &str,
        kind: ResourceKind,
        id: &str,
    ) -> Result<Option<ResourceRow>> {
        Ok(self
            .resource(account, kind, id)
            .await?
            .filter(|r| r.gone_at_ms.is_none()))
    }

    // ---- orders and the ledger

    pub async fn orders(&self, filter: &OrderFilter) -> Result<Vec<OrderRow>> {
        Ok(self.store.list_orders(filter).await?)
    }

    pub async fn order_page(
        &self,
        filter: &OrderFilter,
        page: &ListPage,
    ) -> Result<(Vec<OrderRow>, i64)> {
        Ok(self.store.page_orders(filter, page).await?)
    }

    pub async fn order(&self, id: i64) -> Result<Option<OrderRow>> {
        Ok(self.store.get_order(id).await?)
    }

    /// The order placed under an idempotency key.
    pub async fn order_by_key(&self, key: &str) -> Result<Option<OrderRow>> {
        Ok(self.store.order_by_key(key).await?)
    }

    /// An order's journal: every move, oldest first.
    pub async fn order_events(&self, id: i64) -> Result<Vec<OrderEvent>> {
        Ok(self.store.order_events(id).await?)
    }

    pub async fn ledger(&self, filter: &LedgerFilter) -> Result<Vec<LedgerLine>> {
        Ok(self.store.ledger_lines(filter).await?)
    }

    pub async fn ledger_page(
        &self,
        filter: &LedgerFilter,
        page: &ListPage,
    ) -> Result<(Vec<LedgerLine>, i64)> {
        Ok(self.store.page_ledger(filter, page).await?)
    }

    /// The sum of the lines `filter` names in each window between consecutive `bounds`.
    pub async fn ledger_sums(&self, filter: &LedgerFilter, bounds: &[i64]) -> Result<Vec<i64>> {
        Ok(self.store.ledger_sums(filter, bounds).await?)
    }

    /// Every ledger account's balance in fen.
    pub async fn ledger_balances(&self) -> Result<Vec<(String, i64)>> {
        Ok(self.store.ledger_balances().await?)
    }

    /// Transactions that do not balance: empty unless the database was written behind
    /// idcgate's back.
    pub async fn unbalanced_transactions(&self) -> Result<Vec<i64>> {
        Ok(self.store.unbalanced_transactions().await?)
    }

    // ---- audit, tokens, resale, notifications

    /// A page of the audit trail with unfinished intents among it, and the total when
    /// `page.count`.
    pub async fn audit_page(
        &self,
        filter: &AuditFilter,
        page: &ListPage,
    ) -> Result<(Vec<AuditEntry>, Option<i64>)> {
        Ok(self.store.page_audit(filter, page).await?)
    }

    /// The outcomes the newest `limit` audit entries name (what a filter offers).
    pub async fn audit_outcomes(&self, limit: i64) -> Result<Vec<String>> {
        Ok(self.store.audit_outcomes(limit).await?)
    }

    /// Every API token, revoked ones included (never their secrets).
    pub async fn tokens(&self) -> Result<Vec<TokenInfo>> {
        Ok(self.store.list_tokens().await?)
    }

    /// A tenant's deposits, oldest first.
    pub async fn deposits(&self, tenant: &str) -> Result<Vec<DepositRow>> {
        Ok(self.store.deposits(tenant).await?)
    }

    pub async fn product(&self, name_or_id: &str) -> Result<Option<ProductRow>> {
        Ok(self.store.get_product(name_or_id).await?)
    }

    /// Notification deliveries: (pending, sent, given up).
    pub async fn delivery_counts(&self) -> Result<(i64, i64, i64)> {
        Ok(self.store.delivery_counts().await?)
    }
}
