//! What this upstream sells through the order journal: quotes, one purchase per order,
//! and settling a lost answer by reading.

use crate::WestClient;
use async_trait::async_trait;
use idcgate_core::capability::Registrar;
use idcgate_core::purchase::{domains, not_sold, Operation, PurchaseRequest, Purchasing, Settled};
use idcgate_core::{Order, PriceQuote, ResourceKind, Result, Vendor};

#[async_trait]
impl Purchasing for WestClient {
    fn sells(&self) -> Vec<(ResourceKind, Operation)> {
        domains::SELLS.to_vec()
    }

    async fn quote(&self, request: &PurchaseRequest) -> Result<PriceQuote> {
        match request.kind {
            ResourceKind::Domain => domains::quote(self, request).await,
            _ => Err(not_sold(Vendor::West, request)),
        }
    }

    async fn before(&self, request: &PurchaseRequest) -> Result<serde_json::Value> {
        match request.kind {
            ResourceKind::Domain => domains::before(self, request).await,
            _ => Err(not_sold(Vendor::West, request)),
        }
    }

    async fn buy(&self, request: &PurchaseRequest, client_order_id: &str) -> Result<Order> {
        match request.kind {
            ResourceKind::Domain => domains::buy(self, request, client_order_id).await,
            _ => Err(not_sold(Vendor::West, request)),
        }
    }

    async fn settle(
        &self,
        request: &PurchaseRequest,
        _client_order_id: &str,
        before: &serde_json::Value,
    ) -> Result<Settled> {
        match request.kind {
            ResourceKind::Domain => domains::settle(self as &dyn Registrar, request, before).await,
            _ => Err(not_sold(Vendor::West, request)),
        }
    }
}
