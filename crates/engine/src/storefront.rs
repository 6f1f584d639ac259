//! The storefront: what tenants buy, from the catalog, with their money in the ledger,
//! fulfilled through the order journal at the product's upstream. It implements
//! `idcgate_core::storefront::Storefront`, which a dialect surface (the Zonkvm-dialect
//! endpoint) serves; it knows no dialect.
//!
//! A purchase is paid before anything is ordered: the tenant order and its charge are
//! written together with the ledger lines, checked against balance + credit with the
//! tenant's row locked. The upstream order then goes through the journal under a key
//! derived from the tenant order, so a repeated `order_id` neither charges nor orders
//! twice. A refusal gives the money back; a lost answer leaves the tenant order
//! provisioning until the journal settles it by reading, and the tenant order follows
//! (read lazily, whenever the tenant looks at it, and by [`Engine::settle_tenant_orders`]).

use crate::catalog::{Product, QUOTE_TARGET};
use crate::ops::ServerOp;
use crate::sync::server_row;
use crate::{now_ms, Engine, EngineError};
use async_trait::async_trait;
use idcgate_core::purchase::{Operation, PurchaseRequest};
use idcgate_core::storefront::{
    Answer, Holding, HoldingState, Offering, Purchase, Refusal, RefusalKind, ServerAction, Shopper,
    Storefront,
};
use idcgate_core::{
    ConsoleSession, Error, FirewallRule, FirewallRuleSpec, Money, OrderState, PanelCall,
    ResourceKind, Server, SiteAction, TrafficSample,
};
use idcgate_store::{
    Charged, FailureLimit, NewCharge, NewTenantOrder, Opened, PricedAs, TenantOrderFilter,
    TenantOrderPatch, TenantOrderRow, TenantOrderState, TenantState,
};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod security;
mod units;

/// Failed appkeys per appid before it is locked, and per address: counted in the
/// store, so instances on one database share them.
const APPID_LIMIT: FailureLimit = FailureLimit {
    max: 5,
    window_ms: 600_000,
    lock_ms: 900_000,
};
const PEER_LIMIT: FailureLimit = FailureLimit {
    max: 20,
    window_ms: 600_000,
    lock_ms: 900_000,
};
const APPID_SCOPE: &str = "downstream.appid";
const PEER_SCOPE: &str = "downstream.peer";
/// A tenant order paid for whose upstream order was never written (its process died in
/// between) is given up after this long, and its money goes back.
const ABANDONED_AFTER_MS: i64 = 10 * 60 * 1000;
/// How long a tenant's view of the catalog (prices quoted upstream) is reused.
const OFFERINGS_TTL: Duration = Duration::from_secs(60);
/// The longest traffic graph a tenant may ask for at once.
const MAX_CHART_MS: i64 = 31 * 86_400_000;
const DAY_MS: i64 = 86_400_000;

type OfferingsCache = HashMap<(String, ResourceKind), (Instant, Vec<Offering>)>;

/// The storefront over one engine.
pub struct Shop {
    engine: Arc<Engine>,
    offerings: Mutex<OfferingsCache>,
}

fn refusal(kind: RefusalKind, message: impl Into<String>) -> Refusal {
    Refusal::new(kind, message)
}

/// What a tenant is told about an engine error: never an upstream account's name,
/// a vendor's raw message, or our database's text.
fn told(e: &EngineError) -> Refusal {
    match e {
        EngineError::Upstream(u) => match u {
            Error::InvalidInput { field, reason } => {
                refusal(RefusalKind::Invalid, format!("参数错误：{field} {reason}"))
            }
            Error::Unsupported { .. } | Error::NotImplemented { .. } => refusal(
                RefusalKind::Unsupported,
                "该产品的上游不支持此操作 (the upstream of this product cannot do this)",
            ),
            Error::UnknownOutcome { .. } => refusal(
                RefusalKind::Unsettled,
                "上游未应答，正在核实 (the upstream's answer was lost; it is being settled by reading)",
            ),
            Error::NotFound { .. } => refusal(RefusalKind::NotFound, "订单不存在"),
            _ => refusal(
                RefusalKind::Upstream,
                "上游暂时无法处理，请稍后再试 (the upstream refused or could not be reached)",
            ),
        },
        // Written for the operator: they name our upstream accounts, journal orders and
        // upstream prices, none of which a tenant is told.
        EngineError::Invalid(m) | EngineError::Conflict(m) => {
            tracing::info!(reason = %m, "a tenant's request refused");
            refusal(
                RefusalKind::Invalid,
                "该操作当前无法完成，请稍后再试 (this cannot be done now; ask again later)",
            )
        }
        EngineError::InvalidInput { field, reason } => {
            refusal(RefusalKind::Invalid, format!("参数错误：{field} {reason}"))
        }
        EngineError::NoSuchServer(_) | EngineError::NoSuchOrder(_) => {
            refusal(RefusalKind::NotFound, "订单不存在")
        }
        EngineError::NoSuchAccount(_) | EngineError::NoSuchZone(_) => refusal(
            RefusalKind::Unsupported,
            "该产品暂不可用 (this product is not available now)",
        ),
        EngineError::Store(_) => refusal(RefusalKind::Internal, "系统繁忙，请稍后再试"),
    }
}

/// The finance system's own words for a charge beyond balance + credit.
fn short(price: Money, available_fen: i64) -> Refusal {
    refusal(
        RefusalKind::Insufficient,
        format!(
            "余额不足: 用户余额+授信额度不足以支付 (需要 {price}，可用 {})",
            Money::from_fen(available_fen)
        ),
    )
}

fn suspended() -> Refusal {
    refusal(
        RefusalKind::Suspended,
        "账户已暂停，只可查询 (this account is suspended: it may read, not buy)",
    )
}

/// What the tenant is told when its charge could not be written: the store's conflict
/// is the tenant suspended since it authenticated.
fn not_charged(e: idcgate_store::StoreError) -> Refusal {
    match e {
        idcgate_store::StoreError::Conflict(_) => suspended(),
        e => told(&e.into()),
    }
}

fn not_found() -> Refusal {
    refusal(RefusalKind::NotFound, "订单不存在")
}

fn holding_state(row: &TenantOrderRow, now: i64) -> HoldingState {
    match row.state {
        TenantOrderState::Pending => HoldingState::Provisioning,
        TenantOrderState::Active if row.expires_ms.is_some_and(|e| e <= now) => {
            HoldingState::Expired
        }
        TenantOrderState::Active => HoldingState::Active,
        TenantOrderState::Failed => HoldingState::Failed,
        TenantOrderState::Refunded => HoldingState::Refunded,
    }
}

fn ts(ms: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// The journal key of the upstream order that delivers a tenant order.
fn create_key(row_key: &str) -> String {
    format!("{row_key}:create")
}

/// What the inventory holds of a resource, as its kind's model.
fn model_of<T: serde::de::DeserializeOwned>(data: Option<&serde_json::Value>) -> Option<T> {
    // Read in place: a page of servers is a hundred documents, not worth copying first.
    data.and_then(|d| T::deserialize(d).ok())
}

/// The upstream's plan a product's offer names.
fn plan_of<'a>(p: &Product, plans: &'a [idcgate_core::Plan]) -> Option<&'a idcgate_core::Plan> {
    let offer = p.offer.as_deref()?;
    plans.iter().find(|pl| pl.id == offer)
}

/// The numbers a dialect shows for a server product: the upstream's plan named by the
/// offer when it has one, else the product's own `cpu` / `ram` (MB) / `disk` /
/// `bandwidth` options, else zero.
fn configuration(p: &Product, plans: &[idcgate_core::Plan]) -> (u32, u32, u32, u32) {
    if let Some(plan) = plan_of(p, plans) {
        return (plan.cpu, plan.ram_mb, plan.disk_gb, plan.bandwidth_mbps);
    }
    let n = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| p.options.get(*k).and_then(|v| v.trim().parse::<u32>().ok()))
            .unwrap_or(0)
    };
    (
        n(&["cpu"]),
        n(&["ram", "memory"]),
        n(&["disk", "HD"]),
        n(&["bandwidth", "BD"]),
    )
}

/// The name a tenant's new resource takes upstream. A hosting site's is its FTP
/// account's, where West takes 4-16 lower-case letters and digits, a letter first, and
/// CNDNS 1-10 letters: `h` and nine random letters. Others carry the tenant's name,
/// for people reading the upstream's lists.
fn create_target(tenant: &str, kind: ResourceKind) -> String {
    let key = crate::orders::new_idempotency_key();
    if kind == ResourceKind::HostingSite {
        let letters: String = key
            .chars()
            .rev()
            .filter_map(|c| c.to_digit(16))
            .take(9)
            .filter_map(|d| u8::try_from(d).ok())
            .map(|d| char::from(b'a' + d))
            .collect();
        return format!("h{letters}");
    }
    let target = format!("{tenant}-{key}");
    target.chars().take(40).collect()
}

/// What paying for a renewal or upgrade came to.
enum Paid {
    /// Charged (this much) and ordered now; the journal order succeeded.
    Now(idcgate_store::OrderRow, Money),
    /// Charged (this much) before under the same key, and its journal order succeeded
    /// (one still being settled is refused as unsettled, not answered as done).
    Before(idcgate_store::OrderRow, Money),
}

impl Paid {
    /// What the tenant was charged for it, now or the first time.
    fn charged(&self) -> Money {
        match self {
            Paid::Now(_, m) | Paid::Before(_, m) => *m,
        }
    }
}

/// Whether a holding of `from` may become `to` in place: a server, hosting site or
/// database of the same upstream account sold with the same options under another
/// offer (what an upstream upgrade moves it to; the options are a create's, which an
/// upgrade does not send again).
fn upgrades_to(from: &Product, to: &Product) -> bool {
    matches!(
        from.kind,
        ResourceKind::Server | ResourceKind::HostingSite | ResourceKind::Database
    ) && to.kind == from.kind
        && to.account == from.account
        && to.options == from.options
        && to.offer.is_some()
        && to.offer != from.offer
}

/// The term an order was bought for and when it ends: what an upgrade of it (to
/// another product, or of units) is priced on. An order without either is not upgraded.
fn upgrade_term(row: &TenantOrderRow) -> Answer<(u32, i64)> {
    let term = u32::try_from(row.order.months).ok().filter(|m| *m > 0);
    match (term, row.expires_ms) {
        (Some(term), Some(end)) => Ok((term, end)),
        _ => Err(refusal(RefusalKind::Invalid, "该订单不可升级")),
    }
}

/// What an upgrade costs the tenant: the difference between the two products' prices
/// for the order's term (`term_fen`, for `months`), per 30-day month, for the whole
/// days left until `end_ms` (a started day counts, as the finance system counts them),
/// rounded down to the fen once, as the finance system rounds a prorated share: a
/// Zonkvm client's quote of a one-month order's upgrade is then the charge exactly.
fn upgrade_fen(term_fen: i64, months: u32, end_ms: i64, now_ms: i64) -> i64 {
    let days = ((end_ms - now_ms).max(0) + DAY_MS - 1) / DAY_MS;
    let fen = rust_decimal::Decimal::from(term_fen) * rust_decimal::Decimal::from(days)
        / rust_decimal::Decimal::from(30 * i64::from(months.max(1)));
    fen.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::ToZero)
        .try_into()
        .unwrap_or(0)
}

/// What the upstream gave back for a tenant order's resource, as the journal order
/// that books it (under the key of the tenant's own refund, `<tenant order key>:refund`,
/// so margins net it from the cost) and its amount. `None` when it gave nothing back or
/// did not say (logged: the statement still shows the money as having come in).
fn upstream_return(
    row: &TenantOrderRow,
    resource: &str,
    actor: &str,
    returned: Option<Money>,
) -> Option<(idcgate_store::NewOrder, i64)> {
    let fen = match returned.map(|m| m.to_fen()) {
        Some(Ok(fen)) if fen > 0 => fen,
        Some(Ok(_)) => return None,
        _ => {
            tracing::warn!(
                tenant_order = row.id,
                "the upstream did not say what it returned for a refund: not booked"
            );
            return None;
        }
    };
    let order = idcgate_store::NewOrder {
        idem_key: format!("{}:refund", row.order.idem_key),
        account: row.order.account.clone(),
        kind: row.order.kind,
        operation: crate::orders::UPSTREAM_RETURN.into(),
        target: resource.to_string(),
        params: serde_json::json!({ "tenant_order": row.id }),
        quoted_fen: -fen,
        actor: actor.to_string(),
    };
    Some((order, fen))
}

impl Shop {
    pub fn new(engine: Arc<Engine>) -> Self {
        Shop {
            engine,
            offerings: Mutex::new(HashMap::new()),
        }
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    fn actor(who: &Shopper) -> String {
        format!("tenant:{}", who.tenant)
    }

    async fn audit<T>(
        &self,
        who: &Shopper,
        action: &str,
        guid: Option<i64>,
        result: &Answer<T>,
        detail: impl FnOnce(&T) -> String,
    ) {
        let target = match guid {
            Some(g) => format!("tenant-order/{g}"),
            None => format!("tenant/{}", who.tenant),
        };
        let as_engine = result
            .as_ref()
            .map_err(|r| EngineError::Invalid(format!("{:?}: {}", r.kind, r.message)));
        self.engine
            .audit(
                &Self::actor(who),
                &format!("resale.{action}"),
                &target,
                &as_engine,
                |v: &&T| detail(v),
            )
            .await;
    }

    /// The tenant's order `guid`, settled if it was pending; another tenant's is not
    /// found, exactly like one that does not exist.
    async fn own(&self, who: &Shopper, guid: i64) -> Answer<TenantOrderRow> {
        let row = self
            .engine
            .store
            .get_tenant_order(guid)
            .await
            .map_err(|e| told(&e.into()))?
            .filter(|r| r.order.tenant == who.tenant)
            .ok_or_else(not_found)?;
        if row.state == TenantOrderState::Pending {
            return self
                .engine
                .settle_tenant_order(row)
                .await
                .map_err(|e| told(&e));
        }
        Ok(row)
    }

    /// The product `id` of the catalog, on sale (or `retired` too); refused as gone when
    /// there is none.
    async fn product_by_id(&self, id: i64, retired: bool) -> Answer<Product> {
        self.engine
            .products(retired)
            .await
            .map_err(|e| told(&e))?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| refusal(RefusalKind::NotFound, "产品不存在或已下架"))
    }

    async fn product_of(&self, row: &TenantOrderRow) -> Answer<Product> {
        self.engine
            .product(&row.order.product)
            .await
            .map_err(|e| told(&e))
    }

    /// The holding `row` is, everything about it read now (a failed read shows its
    /// part empty: the product's id 0, nothing paid).
    async fn to_holding(&self, row: &TenantOrderRow) -> Holding {
        let offering = self
            .engine
            .store
            .get_product(&row.order.product)
            .await
            .ok()
            .flatten()
            .map_or(0, |p| p.id);
        let paid = self.engine.tenant_order_paid(row.id).await.unwrap_or(0);
        self.holding_of(row, offering, Money::from_fen(paid)).await
    }

    /// The holding `row` is as product `offering`, paid `paid`: what the inventory
    /// holds of its resource and the units it holds are read now.
    async fn holding_of(&self, row: &TenantOrderRow, offering: i64, paid: Money) -> Holding {
        let stored = self.stored(row).await;
        let mut h = self.holding_with(row, stored.as_ref(), offering, paid);
        h.units = self.units_held(row).await;
        h
    }

    fn holding_with(
        &self,
        row: &TenantOrderRow,
        stored: Option<&serde_json::Value>,
        offering: i64,
        paid: Money,
    ) -> Holding {
        let kind = row.order.kind;
        Holding {
            guid: row.id,
            offering,
            kind,
            state: holding_state(row, now_ms()),
            server: model_of(stored.filter(|_| kind == ResourceKind::Server)),
            site: model_of(stored.filter(|_| kind == ResourceKind::HostingSite)),
            database: model_of(stored.filter(|_| kind == ResourceKind::Database)),
            bought_at: ts(row.created_ms),
            expires_at: row.expires_ms.map(ts),
            months: u32::try_from(row.order.months).unwrap_or(0),
            client_order_id: row.order.client_order_id.clone(),
            client_user_id: row.order.client_user_id.clone(),
            paid,
            charged: Money::ZERO,
            units: Default::default(),
        }
    }

    /// What the inventory last saw of the tenant order's resource.
    async fn stored(&self, row: &TenantOrderRow) -> Option<serde_json::Value> {
        let id = row.resource.as_deref()?;
        let stored = self
            .engine
            .store
            .get_resource(&row.order.account, row.order.kind, id)
            .await
            .ok()
            .flatten()?;
        Some(stored.data)
    }

    /// The tenant's price level (one row; its balances are not summed for this).
    async fn level(&self, who: &Shopper) -> crate::Result<String> {
        let row = self.engine.store.get_tenant(&who.tenant).await?;
        row.map(|t| t.price_level)
            .ok_or_else(|| EngineError::Invalid(format!("tenant {} is gone", who.tenant)))
    }

    fn may_buy(who: &Shopper) -> Answer<()> {
        if who.may_buy {
            Ok(())
        } else {
            Err(suspended())
        }
    }

    /// What `who` pays for `purchase` of `p` now, a configuration with `units` beyond
    /// the base (the purchase quoted carries them where it is a create): a live upstream
    /// quote under the rule; and what the upstream asks: the ceiling the journal may
    /// spend. Also the price in fen, refused unless positive (a product that cannot be
    /// priced now is not sold).
    async fn price_units(
        &self,
        who: &Shopper,
        p: &Product,
        purchase: &PurchaseRequest,
        units: &idcgate_core::units::Units,
    ) -> Answer<(Money, Money, i64)> {
        let priced = async {
            let level = self.level(who).await?;
            p.rule.check_months(purchase.months)?;
            let cost = self.engine.quote(&p.account, purchase).await?.price;
            let fixed_units = p.fixed_units(&level, units)?;
            let price = p
                .rule
                .price_with(&level, purchase.months, Some(cost), fixed_units)?;
            crate::Result::Ok((price, cost))
        };
        let (price, cost) = priced.await.map_err(|e| told(&e))?;
        let fen = price
            .to_fen()
            .ok()
            .filter(|f| *f > 0)
            .ok_or_else(|| refusal(RefusalKind::Unsupported, "该产品暂不可售 (no price)"))?;
        Ok((price, cost, fen))
    }

    /// What upgrading `row` from the configuration `from` to `to` (a product and the
    /// units beyond its base) costs now: both at the tenant's price for the order's own
    /// term, so a term's discount applies to the difference as it did to the purchase,
    /// and [`upgrade_fen`] of the difference for the time left. An upgrade that would
    /// cost nothing is refused as `nothing` says.
    async fn upgrade_charge(
        &self,
        who: &Shopper,
        row: &TenantOrderRow,
        from: (&Product, &idcgate_core::units::Units),
        to: (&Product, &idcgate_core::units::Units),
        nothing: &str,
    ) -> Answer<i64> {
        let (term, end) = upgrade_term(row)?;
        let from_fen = self.term_fen(who, from.0, term, from.1).await?;
        let to_fen = self.term_fen(who, to.0, term, to.1).await?;
        match upgrade_fen(to_fen - from_fen, term, end, now_ms()) {
            fen if fen > 0 => Ok(fen),
            _ => Err(refusal(RefusalKind::Invalid, nothing)),
        }
    }

    /// [`Shop::price_units`] in fen of `term` months of `p` with `units`.
    async fn term_fen(
        &self,
        who: &Shopper,
        p: &Product,
        term: u32,
        units: &idcgate_core::units::Units,
    ) -> Answer<i64> {
        let purchase = p.purchase_with(QUOTE_TARGET, term, units);
        let (_, _, fen) = self.price_units(who, p, &purchase, units).await?;
        Ok(fen)
    }

    fn check_client_id(field: &str, v: Option<&str>) -> Answer<String> {
        let v = v.map(str::trim).unwrap_or_default();
        if v.len() > 64 || v.chars().any(char::is_control) {
            return Err(refusal(
                RefusalKind::Invalid,
                format!("参数错误：{field} 至多 64 个可见字符"),
            ));
        }
        Ok(v.to_string())
    }

    async fn buy_inner(&self, who: &Shopper, req: &Purchase) -> Answer<Holding> {
        Self::may_buy(who)?;
        let client_order_id = Self::check_client_id("order_id", req.client_order_id.as_deref())?;
        let client_user_id = Self::check_client_id("user_id", req.client_user_id.as_deref())?;
        let product = self.product_by_id(req.offering, false).await?;
        let key = if client_order_id.is_empty() {
            format!("t:{}:{}", who.tenant, crate::orders::new_idempotency_key())
        } else {
            format!("t:{}:{client_order_id}", who.tenant)
        };
        if let Some(earlier) = self
            .engine
            .store
            .tenant_order_by_key(&key)
            .await
            .map_err(|e| told(&e.into()))?
        {
            return self.repeated(who, earlier, &product, req).await;
        }
        let target = create_target(&who.tenant, product.kind);
        // Units beyond the base: sold by the product, within its maximum, priced here.
        let (options, units) = units::split_units(&req.options)?;
        let units = product
            .add_units(&Default::default(), &units)
            .map_err(|e| told(&e))?;
        let mut purchase = product.purchase_with(&target, req.months, &units);
        for (k, v) in &options {
            // What the product fixes is not the tenant's to change.
            if purchase.options.insert(k.clone(), v.clone()).is_some() {
                return Err(refusal(
                    RefusalKind::Invalid,
                    format!("参数错误：{k} 由产品决定 (the product sets {k})"),
                ));
            }
        }
        let (price, cost, fen) = self.price_units(who, &product, &purchase, &units).await?;
        let opened = self
            .engine
            .store
            .open_tenant_order(
                &NewTenantOrder {
                    tenant: who.tenant.clone(),
                    idem_key: key.clone(),
                    product: product.name.clone(),
                    kind: product.kind,
                    account: product.account.clone(),
                    months: i64::from(req.months),
                    client_order_id,
                    client_user_id,
                },
                &NewCharge {
                    idem_key: create_key(&key),
                    what: "create".into(),
                    fen,
                    months: i64::from(req.months),
                    memo: format!(
                        "{} buys {} for {} months",
                        who.tenant, product.name, req.months
                    ),
                },
                now_ms(),
            )
            .await;
        let row = match opened {
            Ok(Opened::New(row)) => row,
            Ok(Opened::Existing(row)) => return self.repeated(who, row, &product, req).await,
            Ok(Opened::Short { available_fen }) => return Err(short(price, available_fen)),
            Err(e) => return Err(not_charged(e)),
        };
        let placed = self
            .engine
            .place_order_within(
                &Self::actor(who),
                &product.account,
                &purchase,
                Some(&create_key(&key)),
                Some(cost),
            )
            .await;
        let row = match placed {
            Ok(order) => match order.state {
                OrderState::Succeeded => self.engine.deliver(&row, &order).await,
                OrderState::Failed => {
                    self.engine.give_back(&row, "the upstream refused the order; the money went back")
                        .await
                }
                _ => Ok(row),
            },
            // Refused before anything was sent (a quote failed, the price rose): the
            // journal may hold a failed order or none; either way nothing was bought.
            Err(e) => {
                let why = format!("not ordered: {e}");
                if let Err(back) = self.engine.give_back(&row, &why).await {
                    tracing::error!(tenant_order = row.id, error = %back, "could not give money back; it stays pending for the reconciler");
                }
                return Err(told(&e));
            }
        }
        .map_err(|e| told(&e))?;
        if row.state == TenantOrderState::Failed {
            return Err(refusal(
                RefusalKind::Upstream,
                format!("开通失败，款项已退回 ({})", row.detail),
            ));
        }
        Ok(self.holding_of(&row, product.id, price).await)
    }

    /// The same `order_id` again: the first purchase, if it is the same purchase.
    async fn repeated(
        &self,
        who: &Shopper,
        earlier: TenantOrderRow,
        product: &Product,
        req: &Purchase,
    ) -> Answer<Holding> {
        // The units asked for are part of the purchase (what its create carried).
        let asked = units::split_units(&req.options)?.1;
        let bought = self
            .engine
            .store
            .order_by_key(&create_key(&earlier.order.idem_key))
            .await
            .map_err(|e| told(&e.into()))?
            .map(|o| units::units_of_params(&o.order.params));
        if earlier.order.product != product.name
            || earlier.order.months != i64::from(req.months)
            || bought.is_some_and(|b| b != asked)
        {
            return Err(refusal(
                RefusalKind::Invalid,
                format!(
                    "order_id {} was used for another purchase (guid {})",
                    earlier.order.client_order_id, earlier.id
                ),
            ));
        }
        let row = self.own(who, earlier.id).await?;
        // A retry after a lost answer must hear what the first heard: a refused
        // purchase stays refused (its money went back), never a success of nothing.
        if row.state == TenantOrderState::Failed {
            return Err(refusal(
                RefusalKind::Upstream,
                format!("开通失败，款项已退回 ({})", row.detail),
            ));
        }
        Ok(self.to_holding(&row).await)
    }

    async fn live(&self, who: &Shopper, guid: i64) -> Answer<(TenantOrderRow, String)> {
        let row = self.own(who, guid).await?;
        match holding_state(&row, now_ms()) {
            HoldingState::Active => {}
            HoldingState::Provisioning => {
                return Err(refusal(RefusalKind::Invalid, "订单开通中，请稍后"))
            }
            HoldingState::Expired => {
                return Err(refusal(RefusalKind::Invalid, "订单已过期，请先续费"))
            }
            HoldingState::Failed | HoldingState::Refunded => {
                return Err(refusal(RefusalKind::NotFound, "订单不存在或已删除"))
            }
        }
        let resource = row
            .resource
            .clone()
            .ok_or_else(|| refusal(RefusalKind::Unsupported, "该订单没有可操作的实例"))?;
        Ok((row, resource))
    }

    /// [`Shop::live`] of a server holding; a holding of another kind is refused.
    async fn live_server(&self, who: &Shopper, guid: i64) -> Answer<(TenantOrderRow, String)> {
        let (row, resource) = self.live(who, guid).await?;
        if row.order.kind != ResourceKind::Server {
            return Err(refusal(RefusalKind::Unsupported, "该订单不是服务器"));
        }
        Ok((row, resource))
    }

    async fn act_inner(
        &self,
        who: &Shopper,
        guid: i64,
        action: &ServerAction,
    ) -> Answer<Option<ConsoleSession>> {
        let (row, resource) = self.live_server(who, guid).await?;
        let reference = format!("{}/{resource}", row.order.account);
        let actor = Self::actor(who);
        let op = |op| self.engine.server_op(&actor, &reference, op);
        match action {
            ServerAction::Power(a) => op(ServerOp::Power(*a)).await.map(|_| None),
            ServerAction::Password(p) => op(ServerOp::Password {
                password: p.clone(),
            })
            .await
            .map(|_| None),
            ServerAction::Reinstall { image, password } => {
                op(ServerOp::Reinstall {
                    image: image.clone(),
                })
                .await
                .map_err(|e| told(&e))?;
                if password.is_empty() {
                    Ok(None)
                } else {
                    op(ServerOp::Password {
                        password: password.clone(),
                    })
                    .await
                    .map(|_| None)
                }
            }
            ServerAction::ConsolePassword(p) => self
                .console_password(&row.order.account, &resource, &actor, p)
                .await
                .map(|()| None),
            ServerAction::Console => {
                let conn = self.connection(&row.order.account).await?;
                conn.compute()
                    .ok_or_else(unsupported)?
                    .console(&resource)
                    .await
                    .map(Some)
                    .map_err(EngineError::from)
            }
        }
        .map_err(|e| told(&e))
    }

    /// Charges `charge` to a tenant order and places `purchase` through the journal
    /// under the charge's key, at most `cost`: the one path of renewals and upgrades.
    /// A refusal upstream, or one before anything was sent, gives the money back; a
    /// lost answer keeps it until the journal settles the order. The same charge again
    /// charges and orders nothing: it answers what the journal says of the first
    /// (`Before`, with the order once it succeeded), and gives the money back, once,
    /// when the journal has since settled it as refused.
    async fn pay_and_place(
        &self,
        who: &Shopper,
        row: &TenantOrderRow,
        charge: NewCharge,
        purchase: &PurchaseRequest,
        cost: Money,
        noun: &str,
    ) -> Answer<Paid> {
        let key = charge.idem_key.as_str();
        let back = |why: String| NewCharge {
            idem_key: format!("{key}:return"),
            what: "return".into(),
            fen: -charge.fen,
            months: 0,
            memo: format!("{} of tenant order {} returned: {why}", charge.what, row.id),
        };
        let refused = || refusal(RefusalKind::Upstream, format!("{noun}失败，款项已退回"));
        let unsettled = || {
            refusal(
                RefusalKind::Unsettled,
                format!(
                    "{noun}结果待核实 (not settled yet: the upstream's answer is awaited or was lost; ask again later)"
                ),
            )
        };
        let charged = self
            .engine
            .store
            .charge_tenant_order(
                row.id,
                &charge,
                Some(&PricedAs {
                    expires_ms: row.expires_ms,
                    product: &row.order.product,
                }),
                now_ms(),
            )
            .await;
        match charged {
            Ok(Charged::New(_)) => {}
            Ok(Charged::Existing(first_charge)) => {
                let first = self
                    .engine
                    .store
                    .order_by_key(key)
                    .await
                    .map_err(|e| told(&e.into()))?;
                return match first {
                    Some(o) if o.state == OrderState::Failed => {
                        self.engine
                            .store
                            .charge_tenant_order(
                                row.id,
                                &back("the upstream refused".into()),
                                None, now_ms(),
                            )
                            .await
                            .map_err(|e| told(&e.into()))?;
                        Err(refused())
                    }
                    Some(o) if o.state == OrderState::Succeeded => {
                        Ok(Paid::Before(o, Money::from_fen(first_charge.fen)))
                    }
                    // The first is still being placed or its answer was lost: not a
                    // success yet, so the same answer as a lost one (ask again later).
                    _ => Err(unsettled()),
                };
            }
            Ok(Charged::Short { available_fen }) => {
                return Err(short(Money::from_fen(charge.fen), available_fen))
            }
            Ok(Charged::Busy) => {
                return Err(refusal(
                    RefusalKind::Unsettled,
                    format!("{noun}未执行：该订单有其他续费或升级尚未完成，请稍后再试 (another renewal or upgrade of this order is not settled yet; nothing was charged)"),
                ))
            }
            Err(e) => return Err(not_charged(e)),
        }
        let placed = self
            .engine
            .place_order_within(
                &Self::actor(who),
                &row.order.account,
                purchase,
                Some(key),
                Some(cost),
            )
            .await;
        match placed {
            Ok(order) if order.state == OrderState::Succeeded => {
                Ok(Paid::Now(order, Money::from_fen(charge.fen)))
            }
            Ok(order) if order.state == OrderState::Failed => {
                self.engine
                    .store
                    .charge_tenant_order(
                        row.id,
                        &back("the upstream refused".into()),
                        None,
                        now_ms(),
                    )
                    .await
                    .map_err(|e| told(&e.into()))?;
                Err(refused())
            }
            // Lost answer: the charge stands until the journal settles the order.
            Ok(_) => Err(unsettled()),
            Err(e) => {
                if self
                    .engine
                    .store
                    .order_by_key(key)
                    .await
                    .ok()
                    .flatten()
                    .is_none()
                {
                    if let Err(b) = self
                        .engine
                        .store
                        .charge_tenant_order(row.id, &back(e.to_string()), None, now_ms())
                        .await
                    {
                        tracing::error!(tenant_order = row.id, error = %b, "could not return a charge's money");
                    }
                }
                Err(told(&e))
            }
        }
    }

    /// The key of a renewal or upgrade: the tenant's own id for it, or one drawn.
    fn follow_up_key(row: &TenantOrderRow, what: &str, client_order_id: String) -> String {
        let suffix = if client_order_id.is_empty() {
            crate::orders::new_idempotency_key()
        } else {
            client_order_id
        };
        format!("{}:{what}:{suffix}", row.order.idem_key)
    }

    async fn renew_inner(
        &self,
        who: &Shopper,
        guid: i64,
        months: u32,
        client_order_id: Option<&str>,
    ) -> Answer<Holding> {
        Self::may_buy(who)?;
        let coid = Self::check_client_id("client_order_id", client_order_id)?;
        let row = self.own(who, guid).await?;
        if !matches!(
            holding_state(&row, now_ms()),
            HoldingState::Active | HoldingState::Expired
        ) {
            return Err(refusal(RefusalKind::Invalid, "该订单当前不可续费"));
        }
        let resource = row
            .resource
            .clone()
            .ok_or_else(|| refusal(RefusalKind::Unsupported, "该订单没有可续费的实例"))?;
        let product = self.product_of(&row).await?;
        if product.kind != row.order.kind {
            // A plan's bundled database: it was never priced, so it is not renewed
            // at its plan's price.
            return Err(refusal(
                RefusalKind::Unsupported,
                "赠送数据库不单独续费 (a bundled database is not renewed on its own)",
            ));
        }
        let purchase = PurchaseRequest {
            kind: row.order.kind,
            operation: Operation::Renew,
            target: resource,
            offer: None,
            months,
            options: Default::default(),
        };
        // The units it holds renew with it (in the upstream's quote, and at a fixed
        // price at their own).
        let held = self.units_priced(&row).await?;
        let (_, cost, fen) = self.price_units(who, &product, &purchase, &held).await?;
        let key = Self::follow_up_key(&row, "renew", coid);
        let charge = NewCharge {
            idem_key: key,
            what: "renew".into(),
            fen,
            months: i64::from(months),
            memo: format!(
                "{} renews tenant order {} for {months} months",
                who.tenant, row.id
            ),
        };
        let paid = self
            .pay_and_place(who, &row, charge, &purchase, cost, "续费")
            .await?;
        let charged = paid.charged();
        let Paid::Now(order, _) = paid else {
            // The same renewal again, maybe while the first is still writing its end:
            // the order as it is now, with the upstream's end where it reads one (never
            // the end read before this renewal was paid).
            let row = self.engine.reread(row.id).await.map_err(|e| told(&e))?;
            let upstream_end = self
                .read_sold(&row)
                .await
                .and_then(|s| s.expires_at)
                .map(|t| t.as_millisecond())
                .filter(|t| row.expires_ms.is_none_or(|e| *t > e));
            let mut h = match upstream_end {
                Some(expires) => {
                    self.patch_live(
                        &row,
                        &TenantOrderPatch {
                            expires_ms: Some(expires),
                            ..Default::default()
                        },
                    )
                    .await?
                }
                None => self.to_holding(&row).await,
            };
            h.charged = charged;
            return Ok(h);
        };
        // Until the upstream's own end time is read: a renewal extends the term.
        let base = row.expires_ms.unwrap_or_else(now_ms);
        let mut expires = idcgate_wire::sim::china::add_months_ms(base, i64::from(months));
        if let Some(server) = self.read_sold(&row).await {
            if let Some(t) = server.expires_at {
                expires = t.as_millisecond();
            }
        }
        let detail = format!("renewed {months} months: upstream order {}", order.id);
        let mut h = self
            .patch_live(
                &row,
                &TenantOrderPatch {
                    expires_ms: Some(expires),
                    detail: Some(&detail),
                    ..Default::default()
                },
            )
            .await?;
        h.charged = charged;
        Ok(h)
    }

    /// The server a tenant order holds, read again from its upstream (`None` when it
    /// holds none or the read failed: the next sync reads it).
    async fn read_sold(&self, row: &TenantOrderRow) -> Option<Server> {
        let id = row
            .resource
            .as_deref()
            .filter(|_| row.order.kind == ResourceKind::Server)?;
        self.engine.read_server(&row.order.account, id).await.ok()
    }

    /// Writes what a renewal or upgrade changed on a tenant order, keeping its state.
    async fn patch_live(
        &self,
        row: &TenantOrderRow,
        patch: &TenantOrderPatch<'_>,
    ) -> Answer<Holding> {
        let row = self
            .engine
            .move_and_reread(row, row.state, row.state, patch)
            .await
            .map_err(|e| told(&e))?;
        Ok(self.to_holding(&row).await)
    }

    async fn upgrade_inner(
        &self,
        who: &Shopper,
        guid: i64,
        offering: i64,
        client_order_id: Option<&str>,
    ) -> Answer<Holding> {
        Self::may_buy(who)?;
        let coid = Self::check_client_id("client_order_id", client_order_id)?;
        let (row, resource) = self.live(who, guid).await?;
        let key = Self::follow_up_key(&row, "upgrade", coid);
        // The same upgrade again, before the products are compared (the order may be
        // the bigger one already): what the journal says of the first.
        if let Some(fen) = self.upgrade_charged(&row, &key).await? {
            let purchase = PurchaseRequest::new(row.order.kind, Operation::Upgrade, resource);
            let paid = self
                .pay_upgrade_again(who, &row, key, fen, &purchase)
                .await?;
            return self.upgraded(&row, offering, paid).await;
        }
        let from = self.product_of(&row).await?;
        let to = self.product_by_id(offering, false).await?;
        // What the catalog offers as this product's upgrades (same upstream, options
        // and server family, dearer), as the tenant was shown it.
        let offered = self
            .offerings_inner(who, from.kind)
            .await
            .map_err(|e| told(&e))?;
        let allowed = offered
            .iter()
            .find(|o| o.id == from.id)
            .is_some_and(|o| o.upgrades.contains(&to.id));
        if !allowed || !upgrades_to(&from, &to) {
            return Err(refusal(
                RefusalKind::Unsupported,
                "该订单不能升级到所选配置 (no upgrade from this product to that one)",
            ));
        }
        let none = Default::default();
        let nothing = "只能升级到更高的配置 (an upgrade must cost more than what it replaces)";
        let fen = self
            .upgrade_charge(who, &row, (&from, &none), (&to, &none), nothing)
            .await?;
        let purchase = PurchaseRequest {
            kind: row.order.kind,
            operation: Operation::Upgrade,
            target: resource,
            offer: to.offer.clone(),
            months: 0,
            options: Default::default(),
        };
        let memo = format!(
            "{} upgrades tenant order {} from {} to {}",
            who.tenant, row.id, from.name, to.name
        );
        let paid = self
            .pay_upgrade(who, &row, key, fen, &purchase, memo)
            .await?;
        self.upgraded(&row, to.id, paid).await
    }

    /// What the tenant was charged for the upgrade of `row` under `key`, if it was
    /// asked for before.
    async fn upgrade_charged(&self, row: &TenantOrderRow, key: &str) -> Answer<Option<i64>> {
        let charges = self.charges(row).await?;
        Ok(charges.iter().find(|c| c.idem_key == key).map(|c| c.fen))
    }

    /// Every charge and return of `row`, oldest first.
    async fn charges(&self, row: &TenantOrderRow) -> Answer<Vec<idcgate_store::TenantCharge>> {
        self.engine
            .store
            .tenant_order_charges(row.id)
            .await
            .map_err(|e| told(&e.into()))
    }

    /// The upgrade under `key` asked again, for the `fen` it was charged: the journal
    /// settles or finds the first order, and nothing more is charged.
    async fn pay_upgrade_again(
        &self,
        who: &Shopper,
        row: &TenantOrderRow,
        key: String,
        fen: i64,
        purchase: &PurchaseRequest,
    ) -> Answer<Paid> {
        self.place_upgrade(who, row, key, fen, purchase, Money::ZERO, String::new())
            .await
    }

    /// An upgrade of `row` under `key`, charged `fen` and placed at what the upstream
    /// quotes for it now.
    async fn pay_upgrade(
        &self,
        who: &Shopper,
        row: &TenantOrderRow,
        key: String,
        fen: i64,
        purchase: &PurchaseRequest,
        memo: String,
    ) -> Answer<Paid> {
        let cost = self
            .engine
            .quote(&row.order.account, purchase)
            .await
            .map_err(|e| told(&e))?
            .price;
        self.place_upgrade(who, row, key, fen, purchase, cost, memo)
            .await
    }

    /// The upgrade charge under `key` paid and its journal order placed at `cost`.
    #[allow(clippy::too_many_arguments)]
    async fn place_upgrade(
        &self,
        who: &Shopper,
        row: &TenantOrderRow,
        key: String,
        fen: i64,
        purchase: &PurchaseRequest,
        cost: Money,
        memo: String,
    ) -> Answer<Paid> {
        let charge = NewCharge {
            idem_key: key,
            what: "upgrade".into(),
            fen,
            months: 0,
            memo,
        };
        self.pay_and_place(who, row, charge, purchase, cost, "升级")
            .await
    }

    /// The tenant order after its upgrade to the product `to`: moved to it once the
    /// journal order succeeded (now, or on asking again after a lost answer).
    async fn upgraded(&self, row: &TenantOrderRow, to: i64, paid: Paid) -> Answer<Holding> {
        let charged = paid.charged();
        let (Paid::Now(order, _) | Paid::Before(order, _)) = paid;
        let to = self.product_by_id(to, true).await?;
        let mut h = if to.name == row.order.product {
            self.to_holding(row).await
        } else {
            self.read_sold(row).await;
            let detail = format!(
                "upgraded from {} to {}: upstream order {}",
                row.order.product, to.name, order.id
            );
            self.patch_live(
                row,
                &TenantOrderPatch {
                    product: Some(&to.name),
                    detail: Some(&detail),
                    ..Default::default()
                },
            )
            .await?
        };
        h.charged = charged;
        Ok(h)
    }

    /// The tenant's own live holding (its order and upstream id) and the connection of
    /// the account that holds it: where a site or database operation goes.
    async fn live_site(
        &self,
        who: &Shopper,
        guid: i64,
    ) -> Answer<(TenantOrderRow, String, Arc<dyn idcgate_core::Connection>)> {
        let (row, resource) = self.live(who, guid).await?;
        let conn = self.connection(&row.order.account).await?;
        Ok((row, resource, conn))
    }

    /// The connection of upstream account `account`, as the tenant is told of a failure.
    async fn connection(&self, account: &str) -> Answer<Arc<dyn idcgate_core::Connection>> {
        self.engine.connection(account).await.map_err(|e| told(&e))
    }

    async fn site_inner(
        &self,
        who: &Shopper,
        guid: i64,
        action: &SiteAction,
    ) -> Answer<Vec<String>> {
        let (row, resource, conn) = self.live_site(who, guid).await?;
        match SiteService::of(&row, conn.as_ref())? {
            SiteService::Hosting(h) => h.site_action(&resource, action).await,
            SiteService::Database(d) => d.database_action(&resource, action).await,
        }
        .map_err(|e| told(&e.into()))
    }

    /// A panel operation on the tenant's own live site or database, on the upstream's
    /// id of it (the tenant's guid never leaves here).
    async fn panel_inner(
        &self,
        who: &Shopper,
        guid: i64,
        call: &PanelCall,
    ) -> Answer<serde_json::Value> {
        let (row, resource, conn) = self.live_site(who, guid).await?;
        match SiteService::of(&row, conn.as_ref())? {
            SiteService::Hosting(h) => h.site_panel(&resource, call).await,
            SiteService::Database(d) => d.database_panel(&resource, call).await,
        }
        .map_err(|e| told(&e.into()))
    }

    /// The database a live hosting holding's plan includes, created at its upstream
    /// (an audit intent first, the password in none of it) and held from then on by
    /// the tenant as a tenant order of its own: zero-priced, no money moved, under
    /// the key `<hosting key>:database:<upstream id>`, so the same database is one
    /// holding however often it is asked for. It is an order of its own upstream,
    /// with the site's end when it was added: the site's refund or renewal leaves it
    /// as it is, as the finance system does.
    async fn add_bundled_database_inner(
        &self,
        who: &Shopper,
        guid: i64,
        engine: Option<&str>,
        password: &str,
    ) -> Answer<Holding> {
        Self::may_buy(who)?;
        if password.is_empty() || password.len() > 64 || password.chars().any(char::is_control) {
            return Err(refusal(
                RefusalKind::Invalid,
                "参数错误：db_password 为 1-64 个可见字符",
            ));
        }
        if engine.is_some_and(|e| {
            e.is_empty() || e.len() > 16 || !e.bytes().all(|b| b.is_ascii_alphanumeric())
        }) {
            return Err(refusal(RefusalKind::Invalid, "参数错误：db_type格式不正确"));
        }
        let (row, resource, conn) = self.live_site(who, guid).await?;
        if row.order.kind != ResourceKind::HostingSite {
            return Err(refusal(RefusalKind::NotFound, "未找到产品记录"));
        }
        let hosting = conn.web_hosting().ok_or_else(unsupported)?;
        let add = async {
            hosting
                .add_bundled_database(&resource, engine, password)
                .await
                .map_err(EngineError::from)
        };
        let target = format!("{}/{resource}", row.order.account);
        let db = self
            .engine
            .audited(
                &Self::actor(who),
                "database.create",
                &target,
                None,
                add,
                |d| {
                    format!(
                        "the bundled database {} of tenant order {}",
                        d.upstream_id, row.id
                    )
                },
            )
            .await
            .map_err(|e| told(&e))?;
        let now = now_ms();
        self.engine
            .keep(&[crate::sync::inventory_row(&row.order.account, &db, now)])
            .await;
        let detail = format!(
            "the bundled database of tenant order {}: upstream database {}",
            row.id, db.upstream_id
        );
        let opened = self
            .engine
            .store
            .open_free_tenant_order(
                &NewTenantOrder {
                    tenant: who.tenant.clone(),
                    idem_key: format!("{}:database:{}", row.order.idem_key, db.upstream_id),
                    // The plan it came with: its line is the site's.
                    product: row.order.product.clone(),
                    kind: ResourceKind::Database,
                    account: row.order.account.clone(),
                    months: 0,
                    client_order_id: String::new(),
                    client_user_id: row.order.client_user_id.clone(),
                },
                &db.upstream_id,
                db.expires_at.map(|t| t.as_millisecond()).or(row.expires_ms),
                &detail,
                now,
            )
            .await;
        match opened {
            Ok(Opened::New(held)) => Ok(self.to_holding(&held).await),
            Ok(Opened::Existing(held)) => Err(refusal(
                RefusalKind::Invalid,
                format!(
                    "已添加过赠送数据库 (the site's bundled database is guid {})",
                    held.id
                ),
            )),
            Ok(Opened::Short { .. }) => Err(refusal(RefusalKind::Internal, "系统繁忙，请稍后再试")),
            Err(idcgate_store::StoreError::Conflict(_)) => Err(suspended()),
            Err(e) => {
                tracing::error!(tenant_order = row.id, upstream = %db.upstream_id, error = %e, "a bundled database was added upstream but could not be recorded; asking again records it");
                Err(told(&e.into()))
            }
        }
    }

    async fn refund_inner(&self, who: &Shopper, guid: i64) -> Answer<Money> {
        let row = self.own(who, guid).await?;
        let now = now_ms();
        let state = holding_state(&row, now);
        if !matches!(state, HoldingState::Active | HoldingState::Expired) {
            return Err(refusal(RefusalKind::Invalid, "该订单当前不可退款"));
        }
        let resource = row
            .resource
            .clone()
            .ok_or_else(|| refusal(RefusalKind::Unsupported, "该订单没有可退的实例"))?;
        let conn = self.connection(&row.order.account).await?;
        let no_refund = || refusal(RefusalKind::Unsupported, "该产品的上游不支持退款");
        match row.order.kind {
            ResourceKind::Server => conn.compute().map(|_| ()),
            ResourceKind::HostingSite => conn.web_hosting().map(|_| ()),
            ResourceKind::Database => conn.databases().map(|_| ()),
            _ => None,
        }
        .ok_or_else(no_refund)?;
        // The document's rule: an expired order is deleted with nothing back; else the
        // unused share of what was paid goes back. Worked out before the upstream call
        // so the answer and the books agree whatever time the call takes.
        let paid = self.refundable_paid(&row).await?;
        let back = match (state, row.expires_ms) {
            (HoldingState::Active, Some(end)) if end > row.created_ms => {
                let span = i128::from(end - row.created_ms);
                let left = i128::from((end - now).max(0));
                i64::try_from(i128::from(paid.max(0)) * left / span).unwrap_or(0)
            }
            _ => 0,
        };
        let target = format!("{}/{resource}", row.order.account);
        let delete = format!("{}.delete", row.order.kind.as_str());
        let actor = Self::actor(who);
        // Announced before the upstream call, like every server write.
        let intent = self
            .engine
            .begin_audit(&actor, &delete, &target)
            .await
            .map_err(|e| told(&e))?;
        let sent_ms = now_ms();
        let deleted = match row.order.kind {
            ResourceKind::Server => {
                conn.compute()
                    .ok_or_else(no_refund)?
                    .refund_server(&resource)
                    .await
            }
            ResourceKind::HostingSite => {
                conn.web_hosting()
                    .ok_or_else(no_refund)?
                    .refund_site(&resource)
                    .await
            }
            _ => {
                conn.databases()
                    .ok_or_else(no_refund)?
                    .refund_database(&resource)
                    .await
            }
        }
        .map_err(EngineError::from);
        self.engine
            .finish_audit(intent, &actor, &delete, &target, &deleted, |m| {
                let returned =
                    m.map_or_else(|| "an amount it did not say".into(), |m| m.to_string());
                format!(
                    "tenant order {} given back; the upstream returned {returned}",
                    row.id
                )
            })
            .await;
        let returned = deleted.map_err(|e| told(&e))?;
        let upstream = upstream_return(&row, &resource, &actor, returned);
        let charge = (back > 0).then(|| NewCharge {
            idem_key: format!("{}:refund", row.order.idem_key),
            what: "refund".into(),
            fen: -back,
            months: 0,
            memo: format!("refund of tenant order {}: the unused time", row.id),
        });
        let detail = format!("refunded {}", Money::from_fen(back));
        // The upstream's return, the tenant's and the order's move are one transaction:
        // either the books show the whole refund or none of it.
        let settled = self
            .engine
            .store
            .refund_tenant_order(
                row.id,
                upstream.as_ref().map(|(o, fen)| (o, *fen, sent_ms)),
                charge.as_ref(),
                &detail,
                now,
            )
            .await
            .map_err(|e| {
                tracing::error!(tenant_order = row.id, error = %e, "the upstream refunded but the refund could not be written");
                told(&e.into())
            })?;
        if !settled {
            return Err(refusal(RefusalKind::Invalid, "该订单当前不可退款"));
        }
        if let Err(e) = self
            .engine
            .store
            .delete_resource(&row.order.account, row.order.kind, &resource, now)
            .await
        {
            tracing::warn!(error = %e, "could not mark a refunded server gone");
        }
        Ok(Money::from_fen(back))
    }

    /// What a refund of `row` prorates, in fen: its create charge (net of any return)
    /// and the renewals and upgrades the journal saw succeed. A follow-up the upstream
    /// refused is given back whole first, under the return key its own path uses (so
    /// once, whichever comes first): a refunded order takes no renewal asked again. A
    /// follow-up still being placed is never counted: its own return, should its
    /// upstream call fail once the resource is gone, would give that money back a
    /// second time. While one is in flight (charged, its journal order not settled)
    /// the refund is refused as unsettled, so the tenant does not lose the share of a
    /// renewal about to succeed.
    async fn refundable_paid(&self, row: &TenantOrderRow) -> Answer<i64> {
        let charges = self.charges(row).await?;
        let create = create_key(&row.order.idem_key);
        let create_return = format!("{}:return", row.order.idem_key);
        let mut paid = 0;
        for c in &charges {
            if c.idem_key == create || c.idem_key == create_return {
                paid += c.fen;
                continue;
            }
            // A follow-up's return is settled with its charge below.
            if c.fen < 0 {
                continue;
            }
            let returned = format!("{}:return", c.idem_key);
            if charges.iter().any(|r| r.idem_key == returned) {
                continue;
            }
            let journal = self
                .engine
                .store
                .order_by_key(&c.idem_key)
                .await
                .map_err(|e| told(&e.into()))?;
            match journal.map(|o| o.state) {
                Some(OrderState::Succeeded) => paid += c.fen,
                Some(OrderState::Failed) => {
                    let back = NewCharge {
                        idem_key: returned,
                        what: "return".into(),
                        fen: -c.fen,
                        months: 0,
                        memo: format!(
                            "{} of tenant order {} returned: the upstream refused",
                            c.what, row.id
                        ),
                    };
                    self.engine
                        .store
                        .charge_tenant_order(row.id, &back, None, now_ms())
                        .await
                        .map_err(|e| told(&e.into()))?;
                }
                Some(OrderState::Pending | OrderState::Submitted | OrderState::Unknown) | None => {
                    return Err(refusal(
                        RefusalKind::Unsettled,
                        "该订单有续费或升级尚未完成，请稍后再退款 (a renewal or upgrade of this order is not settled yet; ask again later)",
                    ));
                }
            }
        }
        Ok(paid)
    }

    async fn offerings_inner(
        &self,
        who: &Shopper,
        kind: ResourceKind,
    ) -> crate::Result<Vec<Offering>> {
        // What it is shown is priced at the level it authenticated with; what it pays
        // is priced at the level read when it buys.
        let level = who.level.clone();
        if let Ok(cache) = self.offerings.lock() {
            if let Some((at, list)) = cache.get(&(level.clone(), kind)) {
                if at.elapsed() < OFFERINGS_TTL {
                    return Ok(list.clone());
                }
            }
        }
        let products: Vec<Product> = self
            .engine
            .products(false)
            .await?
            .into_iter()
            .filter(|p| p.kind == kind)
            .collect();
        let mut catalogs: HashMap<String, idcgate_core::ComputeCatalog> = HashMap::new();
        // An upstream that could not be reached is asked nothing more while this list
        // is built (each ask waits out its retries: a dozen products of an upstream that
        // stopped answering held a caller for minutes), and the list is not kept, so
        // its lines come back at the next ask once it answers again.
        let mut unreachable: std::collections::HashSet<String> = Default::default();
        let cut_off =
            |e: &EngineError| matches!(e, EngineError::Upstream(u) if u.is_retryable_read());
        let mut out = Vec::new();
        for p in &products {
            if kind == ResourceKind::Server && !catalogs.contains_key(&p.account) {
                let catalog = match self.engine.connection(&p.account).await {
                    Ok(conn) => match conn.compute() {
                        Some(c) => match c.catalog().await {
                            Ok(catalog) => Some(catalog),
                            Err(e) => {
                                if e.is_retryable_read() {
                                    unreachable.insert(p.account.clone());
                                }
                                None
                            }
                        },
                        None => None,
                    },
                    Err(_) => None,
                };
                catalogs.insert(
                    p.account.clone(),
                    catalog.unwrap_or(idcgate_core::ComputeCatalog {
                        regions: vec![],
                        images: vec![],
                        plans: vec![],
                    }),
                );
            }
            let (plans, images) = catalogs
                .get(&p.account)
                .map(|c| (c.plans.as_slice(), c.images.clone()))
                .unwrap_or((&[], vec![]));
            let (cpu, ram_mb, disk_gb, bandwidth_mbps) = configuration(p, plans);
            let mut terms = Vec::new();
            for months in p.rule.shown_periods() {
                if unreachable.contains(&p.account) {
                    break;
                }
                let cost = self
                    .engine
                    .quote(&p.account, &p.purchase(QUOTE_TARGET, months))
                    .await;
                if cost.as_ref().is_err_and(cut_off) {
                    unreachable.insert(p.account.clone());
                }
                if let Ok(price) = cost.and_then(|q| p.rule.price(&level, months, Some(q.price))) {
                    terms.push((months, price));
                }
            }
            out.push(Offering {
                id: p.id,
                name: p.name.clone(),
                title: p.title.clone(),
                kind: p.kind,
                server_kind: plan_of(p, plans).map(|pl| pl.kind).unwrap_or_default(),
                cpu,
                ram_mb,
                disk_gb,
                bandwidth_mbps,
                terms,
                images,
                upgrades: Vec::new(),
                units: self.unit_offers(&level, p).await,
            });
        }
        self.link_upgrades(&products, &mut out).await;
        if !unreachable.is_empty() {
            tracing::warn!(accounts = ?unreachable, "offerings listed without unreachable upstreams; not kept");
            return Ok(out);
        }
        if let Ok(mut cache) = self.offerings.lock() {
            if cache.len() > 64 {
                cache.clear();
            }
            cache.insert((level, kind), (Instant::now(), out.clone()));
        }
        Ok(out)
    }

    /// Each offering's upgrades: the products a holding of it may move to in place
    /// (`upgrades_to`), dearer for the shortest term both sell, where the account's
    /// upstream sells upgrades of its kind.
    async fn link_upgrades(&self, products: &[Product], out: &mut [Offering]) {
        let mut sells: HashMap<String, bool> = HashMap::new();
        for p in products {
            if sells.contains_key(&p.account) {
                continue;
            }
            let upgrades = match self.engine.connection(&p.account).await {
                Ok(conn) => conn
                    .purchasing()
                    .is_some_and(|s| s.sells().contains(&(p.kind, Operation::Upgrade))),
                Err(_) => false,
            };
            sells.insert(p.account.clone(), upgrades);
        }
        let first = |o: &Offering| o.terms.iter().min_by_key(|(m, _)| *m).copied();
        let dearer: Vec<Vec<i64>> = products
            .iter()
            .zip(out.iter())
            .map(|(from, fo)| {
                if !sells.get(&from.account).copied().unwrap_or(false) {
                    return Vec::new();
                }
                products
                    .iter()
                    .zip(out.iter())
                    .filter(|(to, to_o)| {
                        upgrades_to(from, to)
                            && to_o.server_kind == fo.server_kind
                            && match (first(fo), first(to_o)) {
                                (Some((m, a)), Some((n, b))) => m == n && b > a,
                                _ => false,
                            }
                    })
                    .map(|(to, _)| to.id)
                    .collect()
            })
            .collect();
        for (o, ids) in out.iter_mut().zip(dearer) {
            o.upgrades = ids;
        }
    }

    async fn holdings_inner(
        &self,
        who: &Shopper,
        kind: ResourceKind,
        page: u32,
        per_page: u32,
    ) -> crate::Result<(u64, Vec<Holding>)> {
        let per = i64::from(per_page.clamp(1, 1000));
        let filter = TenantOrderFilter {
            tenant: Some(who.tenant.clone()),
            kind: Some(kind),
            offset: Some(i64::from(page.max(1) - 1).saturating_mul(per)),
            limit: Some(per),
            ..Default::default()
        };
        let (rows, total) = self.engine.store.page_tenant_orders(&filter).await?;
        let total = u64::try_from(total).unwrap_or(0);
        let mut page_rows = Vec::new();
        for row in rows {
            page_rows.push(if row.state == TenantOrderState::Pending {
                self.engine.settle_tenant_order(row).await?
            } else {
                row
            });
        }
        // One query per upstream account for the page's servers, never the account's
        // whole inventory.
        let mut wanted: HashMap<String, Vec<String>> = HashMap::new();
        for r in &page_rows {
            if let Some(id) = &r.resource {
                wanted
                    .entry(r.order.account.clone())
                    .or_default()
                    .push(id.clone());
            }
        }
        let mut stored: HashMap<(String, String), serde_json::Value> = HashMap::new();
        for (account, keys) in wanted {
            for r in self
                .engine
                .store
                .get_resources(&account, kind, &keys)
                .await?
            {
                stored.insert((r.account, r.key), r.data);
            }
        }
        // Product ids by name: the offerings (cached) know those on sale; a retired
        // product's id is read only when a page holds one.
        let mut ids: HashMap<String, i64> = self
            .offerings_inner(who, kind)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|o| (o.name, o.id))
            .collect();
        if page_rows
            .iter()
            .any(|r| !ids.contains_key(&r.order.product))
        {
            for p in self.engine.store.list_products(true).await? {
                ids.insert(p.product.name, p.id);
            }
        }
        // The page's units in one read (a read per order was most of a page's time on
        // PostgreSQL); shown without them if it fails, as one order's are.
        let refs: Vec<&TenantOrderRow> = page_rows.iter().collect();
        let mut units = self.units_of_page(&refs).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not read the units a page of orders holds");
            HashMap::new()
        });
        let mut holdings = Vec::with_capacity(page_rows.len());
        for row in &page_rows {
            let data = row
                .resource
                .as_ref()
                .and_then(|id| stored.get(&(row.order.account.clone(), id.clone())));
            let offering = ids.get(&row.order.product).copied().unwrap_or(0);
            let mut h = self.holding_with(row, data, offering, Money::ZERO);
            h.units = units.remove(&row.id).unwrap_or_default();
            holdings.push(h);
        }
        Ok((total, holdings))
    }
}

#[async_trait]
impl Storefront for Shop {
    async fn authenticate(&self, appid: &str, appkey: &str, peer: IpAddr) -> Answer<Shopper> {
        let store = &self.engine.store;
        let now = now_ms();
        let appid_key: String = appid.chars().take(32).collect();
        let peer_key = peer.to_string();
        let stored = |e: idcgate_store::StoreError| told(&e.into());
        // Both locks in one read, which also says whether the appid has anything to
        // forget: a good key then writes nothing, so reads do not queue for the
        // database's write lock (SQLite has one) behind every tenant's call.
        let on_record = store
            .standings(&[(APPID_SCOPE, &appid_key), (PEER_SCOPE, &peer_key)])
            .await
            .map_err(stored)?;
        if on_record.iter().flatten().any(|s| s.locked_until_ms > now) {
            return Err(refusal(
                RefusalKind::LockedOut,
                "尝试次数过多，请稍后再试 (too many failed attempts; try again later)",
            ));
        }
        let well_formed = !appid.is_empty()
            && appid.len() <= 32
            && appid.bytes().all(|b| b.is_ascii_digit())
            && !appkey.is_empty()
            && appkey.len() <= 128;
        let found = if well_formed {
            store
                .verify_tenant(appid, appkey)
                .await
                .map_err(stored)?
                .filter(|t| t.state != TenantState::Removed)
        } else {
            None
        };
        if let Some(t) = found {
            // Only the appid's count is forgotten: one good key must not reset the
            // count of an address that guesses others. A failure counted after the
            // read above came after this success, so it stands, as it would had it
            // arrived a moment later.
            if on_record.first().is_some_and(Option::is_some) {
                store
                    .clear_failures(APPID_SCOPE, &appid_key)
                    .await
                    .map_err(stored)?;
            }
            return Ok(Shopper {
                may_buy: t.state == TenantState::Active,
                level: t.price_level,
                tenant: t.name,
            });
        }
        let by_appid = store
            .count_failure(APPID_SCOPE, &appid_key, now, APPID_LIMIT)
            .await
            .map_err(stored)?;
        let by_peer = store
            .count_failure(PEER_SCOPE, &peer_key, now, PEER_LIMIT)
            .await
            .map_err(stored)?;
        // Logged without the key presented; a lockout is audited once.
        tracing::warn!(appid = %appid_key, %peer, "downstream authentication failed");
        if by_appid.started || by_peer.started {
            let entry = idcgate_store::AuditEntry {
                id: 0,
                at_ms: now,
                actor: format!("peer:{peer}"),
                action: "resale.lockout".into(),
                target: format!("appid/{appid_key}"),
                outcome: "refused".into(),
                detail: format!(
                    "failed appkeys: {} locked for {} minutes",
                    if by_appid.started { "appid" } else { "address" },
                    APPID_LIMIT.lock_ms / 60_000
                ),
                intent_id: None,
            };
            if let Err(e) = store.append_audit(&entry).await {
                tracing::error!(error = %e, "could not write audit entry");
            }
        }
        Err(refusal(RefusalKind::Authentication, "权限不足"))
    }

    async fn offerings(&self, who: &Shopper, kind: ResourceKind) -> Answer<Vec<Offering>> {
        self.offerings_inner(who, kind).await.map_err(|e| told(&e))
    }

    async fn holdings(
        &self,
        who: &Shopper,
        kind: ResourceKind,
        page: u32,
        per_page: u32,
    ) -> Answer<(u64, Vec<Holding>)> {
        self.holdings_inner(who, kind, page, per_page)
            .await
            .map_err(|e| told(&e))
    }

    async fn holding(&self, who: &Shopper, guid: i64) -> Answer<Holding> {
        let row = self.own(who, guid).await?;
        Ok(self.to_holding(&row).await)
    }

    async fn buy(&self, who: &Shopper, purchase: &Purchase) -> Answer<Holding> {
        let result = self.buy_inner(who, purchase).await;
        self.audit(
            who,
            "buy",
            result.as_ref().ok().map(|h| h.guid),
            &result,
            |h| {
                format!(
                    "product {} for {} months: guid {}, paid {}",
                    purchase.offering, purchase.months, h.guid, h.paid
                )
            },
        )
        .await;
        result
    }

    async fn act(
        &self,
        who: &Shopper,
        guid: i64,
        action: &ServerAction,
    ) -> Answer<Option<ConsoleSession>> {
        let result = self.act_inner(who, guid, action).await;
        let what = match action {
            ServerAction::Power(a) => format!("power {a:?}"),
            ServerAction::Reinstall { image, .. } => format!("reinstall {image}"),
            // Never the password itself.
            ServerAction::Password(_) => "password".into(),
            ServerAction::Console => "console".into(),
            ServerAction::ConsolePassword(_) => "console password".into(),
        };
        self.audit(who, "server", Some(guid), &result, |_| what)
            .await;
        result
    }

    async fn renew(
        &self,
        who: &Shopper,
        guid: i64,
        months: u32,
        client_order_id: Option<&str>,
    ) -> Answer<Holding> {
        let result = self.renew_inner(who, guid, months, client_order_id).await;
        self.audit(who, "renew", Some(guid), &result, |h| {
            format!("{months} months; paid in all {}", h.paid)
        })
        .await;
        result
    }

    async fn upgrade(
        &self,
        who: &Shopper,
        guid: i64,
        offering: i64,
        client_order_id: Option<&str>,
    ) -> Answer<Holding> {
        let result = self
            .upgrade_inner(who, guid, offering, client_order_id)
            .await;
        self.audit(who, "upgrade", Some(guid), &result, |h| {
            format!("to product {offering}; paid in all {}", h.paid)
        })
        .await;
        result
    }

    async fn traffic(
        &self,
        who: &Shopper,
        guid: i64,
        from: jiff::Timestamp,
        to: jiff::Timestamp,
    ) -> Answer<Vec<TrafficSample>> {
        let span = to.as_millisecond() - from.as_millisecond();
        if span <= 0 || span > MAX_CHART_MS {
            return Err(refusal(
                RefusalKind::Invalid,
                "参数错误：end_time 须晚于 start_time，且至多 31 天",
            ));
        }
        let (row, resource) = self.live_server(who, guid).await?;
        let conn = self.connection(&row.order.account).await?;
        conn.compute()
            .ok_or_else(unsupported)?
            .traffic(&resource, from, to)
            .await
            .map_err(|e| told(&e.into()))
    }

    async fn site(&self, who: &Shopper, guid: i64, action: &SiteAction) -> Answer<Vec<String>> {
        let result = self.site_inner(who, guid, action).await;
        self.audit(who, "site", Some(guid), &result, |_| format!("{action:?}"))
            .await;
        result
    }

    async fn refund(&self, who: &Shopper, guid: i64) -> Answer<Money> {
        let result = self.refund_inner(who, guid).await;
        self.audit(who, "refund", Some(guid), &result, |m| format!("{m} back"))
            .await;
        result
    }

    async fn rules(&self, who: &Shopper, guid: i64) -> Answer<Vec<FirewallRule>> {
        self.rules_inner(who, guid).await
    }

    async fn add_rule(
        &self,
        who: &Shopper,
        guid: i64,
        rule: &FirewallRuleSpec,
    ) -> Answer<FirewallRule> {
        let result = self.add_rule_inner(who, guid, rule).await;
        self.audit(who, "rule_add", Some(guid), &result, |r| {
            format!(
                "rule {}: {:?} {:?} {:?} from {} to port {} (priority {})",
                r.id,
                rule.direction,
                rule.protocol,
                rule.verdict,
                rule.remote,
                rule.local_port,
                rule.priority
            )
        })
        .await;
        result
    }

    async fn add_units(
        &self,
        who: &Shopper,
        guid: i64,
        add: &idcgate_core::units::Units,
        client_order_id: Option<&str>,
    ) -> Answer<Holding> {
        let result = self.add_units_inner(who, guid, add, client_order_id).await;
        let asked: Vec<String> = add.iter().map(|(u, n)| format!("{u} +{n}")).collect();
        self.audit(who, "upgrade", Some(guid), &result, |h| {
            format!("units {}; paid in all {}", asked.join(", "), h.paid)
        })
        .await;
        result
    }

    async fn delete_rule(&self, who: &Shopper, guid: i64, rule_id: &str) -> Answer<()> {
        let result = self.delete_rule_inner(who, guid, rule_id).await;
        self.audit(who, "rule_delete", Some(guid), &result, |()| {
            format!("rule {rule_id}")
        })
        .await;
        result
    }

    /// A read of the panel about a hosting line: `offering` must be a hosting or
    /// database product the tenant is shown (a line, downstream); its upstream is
    /// asked on the line of the product's offer.
    async fn line_panel(
        &self,
        who: &Shopper,
        offering: i64,
        call: &PanelCall,
    ) -> Answer<serde_json::Value> {
        // A read: nothing written, not even an audit entry.
        let mut shown = false;
        for kind in [ResourceKind::HostingSite, ResourceKind::Database] {
            let offered = self
                .offerings_inner(who, kind)
                .await
                .map_err(|e| told(&e))?;
            if offered.iter().any(|o| o.id == offering) {
                shown = true;
                break;
            }
        }
        let product = match shown {
            true => self
                .engine
                .products(false)
                .await
                .map_err(|e| told(&e))?
                .into_iter()
                .find(|p| p.id == offering),
            false => None,
        }
        .ok_or_else(|| refusal(RefusalKind::NotFound, "线路不存在或已关闭"))?;
        let offer = product.offer.as_deref().ok_or_else(unsupported)?;
        let conn = self.connection(&product.account).await?;
        conn.web_hosting()
            .ok_or_else(unsupported)?
            .line_panel(
                offer,
                product.options.get("line_guid").map(String::as_str),
                call,
            )
            .await
            .map_err(|e| told(&e.into()))
    }

    async fn add_bundled_database(
        &self,
        who: &Shopper,
        guid: i64,
        engine: Option<&str>,
        password: &str,
    ) -> Answer<Holding> {
        let result = self
            .add_bundled_database_inner(who, guid, engine, password)
            .await;
        // Never the password.
        self.audit(who, "bundled_database", Some(guid), &result, |h| {
            format!("the site's bundled database: guid {}", h.guid)
        })
        .await;
        result
    }

    async fn panel(&self, who: &Shopper, guid: i64, call: &PanelCall) -> Answer<serde_json::Value> {
        let result = self.panel_inner(who, guid, call).await;
        // The operation and field names only: values may be secret (a private key).
        self.audit(who, "panel", Some(guid), &result, |_| format!("{call:?}"))
            .await;
        result
    }
}

impl Engine {
    /// Follows a pending tenant order's upstream order: delivered, refused (money
    /// back), or still open.
    pub async fn settle_tenant_order(&self, row: TenantOrderRow) -> crate::Result<TenantOrderRow> {
        if row.state != TenantOrderState::Pending {
            return Ok(row);
        }
        let key = create_key(&row.order.idem_key);
        match self.store.order_by_key(&key).await? {
            Some(o) if o.state == OrderState::Succeeded => self.deliver(&row, &o).await,
            Some(o) if o.state == OrderState::Failed => {
                self.give_back(&row, "the upstream refused the order; the money went back")
                    .await
            }
            Some(_) => Ok(row),
            None if now_ms() - row.updated_ms > ABANDONED_AFTER_MS => {
                self.give_back(
                    &row,
                    "never sent upstream (its process stopped); the money went back",
                )
                .await
            }
            None => Ok(row),
        }
    }

    /// Settles every pending tenant order (the scheduled reconciliation calls it after
    /// the journal's). Returns how many moved.
    pub async fn settle_tenant_orders(&self) -> crate::Result<usize> {
        let pending = self
            .store
            .list_tenant_orders(&TenantOrderFilter {
                state: Some(TenantOrderState::Pending),
                limit: Some(10_000),
                ..Default::default()
            })
            .await?;
        let mut moved = 0;
        for row in pending {
            if self.settle_tenant_order(row).await?.state != TenantOrderState::Pending {
                moved += 1;
            }
        }
        Ok(moved)
    }

    /// Marks a tenant order delivered, reading the server into the inventory (a failed
    /// read leaves it for the next sync: the purchase happened all the same).
    /// A server as its upstream says now, written into the inventory (`keep`: a
    /// failed write is logged, the read stands).
    pub(crate) async fn read_server(&self, account: &str, id: &str) -> crate::Result<Server> {
        let conn = self.connection(account).await?;
        let compute = conn.compute().ok_or_else(|| Error::Unsupported {
            vendor: conn.vendor().to_string(),
            capability: "compute".into(),
        })?;
        let server = compute.get_server(id).await?;
        self.keep(&[server_row(account, &server, now_ms())]).await;
        Ok(server)
    }

    pub(crate) async fn deliver(
        &self,
        row: &TenantOrderRow,
        order: &idcgate_store::OrderRow,
    ) -> crate::Result<TenantOrderRow> {
        let resource = order
            .resource_ref
            .clone()
            .or_else(|| order.upstream_ref.clone());
        let mut expires = None;
        if let (Some(id), ResourceKind::Server) = (resource.as_deref(), row.order.kind) {
            match self.read_server(&row.order.account, id).await {
                Ok(server) => expires = server.expires_at.map(|t| t.as_millisecond()),
                Err(e) => tracing::warn!(
                    tenant_order = row.id,
                    error = %e,
                    "could not read a sold server; the next sync will"
                ),
            }
        }
        let expires = expires.unwrap_or_else(|| {
            idcgate_wire::sim::china::add_months_ms(row.created_ms, row.order.months)
        });
        let detail = format!("delivered: upstream order {}", order.id);
        let patch = TenantOrderPatch {
            resource: resource.as_deref(),
            expires_ms: Some(expires),
            detail: Some(&detail),
            ..Default::default()
        };
        self.move_and_reread(
            row,
            TenantOrderState::Pending,
            TenantOrderState::Active,
            &patch,
        )
        .await
    }

    /// Moves a tenant order from `from` to `to` with `patch` (compare-and-set: one no
    /// longer in `from` stays as it is), and reads it back as it is now.
    async fn move_and_reread(
        &self,
        row: &TenantOrderRow,
        from: TenantOrderState,
        to: TenantOrderState,
        patch: &TenantOrderPatch<'_>,
    ) -> crate::Result<TenantOrderRow> {
        self.store
            .move_tenant_order(row.id, from, to, patch, now_ms())
            .await?;
        self.reread(row.id).await
    }

    /// What tenant order `id` was paid, in fen: its charges net of money given back.
    pub(crate) async fn tenant_order_paid(&self, id: i64) -> crate::Result<i64> {
        let charges = self.store.tenant_order_charges(id).await?;
        Ok(charges.iter().map(|c| c.fen).sum())
    }

    pub(crate) async fn reread(&self, id: i64) -> crate::Result<TenantOrderRow> {
        self.store
            .get_tenant_order(id)
            .await?
            .ok_or_else(|| EngineError::Invalid(format!("tenant order {id} vanished")))
    }

    /// Returns what a pending order was charged and marks it failed.
    pub(crate) async fn give_back(
        &self,
        row: &TenantOrderRow,
        why: &str,
    ) -> crate::Result<TenantOrderRow> {
        let paid = self.tenant_order_paid(row.id).await?;
        if paid > 0 {
            let charge = NewCharge {
                idem_key: format!("{}:return", row.order.idem_key),
                what: "return".into(),
                fen: -paid,
                months: 0,
                memo: format!("tenant order {} returned: {why}", row.id),
            };
            self.store
                .charge_tenant_order(row.id, &charge, None, now_ms())
                .await?;
        }
        let patch = TenantOrderPatch {
            detail: Some(why),
            ..Default::default()
        };
        self.move_and_reread(
            row,
            TenantOrderState::Pending,
            TenantOrderState::Failed,
            &patch,
        )
        .await
    }
}

/// A tenant order with what it was paid, for people.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TenantOrderView {
    #[serde(flatten)]
    pub order: TenantOrderRow,
    /// Charged net of money given back.
    pub paid: Money,
}

/// One line of a tenant's statement: money in (`amount` > 0: a deposit, a refund) or
/// out (a purchase, a renewal).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TenantStatementLine {
    pub at_ms: i64,
    /// `deposit`, `create`, `renew`, `refund`, `return`.
    pub what: String,
    /// The tenant order (its guid), for charges.
    pub guid: Option<i64>,
    pub amount: Money,
    /// The ledger transaction.
    pub txn_id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TenantStatement {
    pub tenant: crate::tenants::TenantView,
    pub lines: Vec<TenantStatementLine>,
    pub deposits: Money,
    pub charges: Money,
    pub refunds: Money,
}

/// Resale price minus upstream cost, per tenant and product, from the books.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Margin {
    pub tenant: String,
    pub product: String,
    pub orders: i64,
    /// What the tenant paid net of money given back.
    pub revenue: Money,
    /// What the upstream orders those payments paid for cost.
    pub cost: Money,
    pub margin: Money,
}

impl Engine {
    /// A tenant's orders through the downstream endpoint, pending ones settled first.
    pub async fn tenant_orders(&self, tenant: &str) -> crate::Result<Vec<TenantOrderView>> {
        Ok(self.tenant_orders_page(tenant, 100_000, 0).await?.0)
    }

    /// `limit` of a tenant's orders from `offset` on, oldest first, pending ones
    /// settled first, and how many it has in all.
    pub async fn tenant_orders_page(
        &self,
        tenant: &str,
        limit: i64,
        offset: i64,
    ) -> crate::Result<(Vec<TenantOrderView>, i64)> {
        self.tenant(tenant).await?;
        let filter = TenantOrderFilter {
            tenant: Some(tenant.to_string()),
            limit: Some(limit),
            offset: Some(offset),
            ..Default::default()
        };
        if limit <= 0 {
            return Ok((Vec::new(), self.store.count_tenant_orders(&filter).await?));
        }
        let (rows, total) = self.store.page_tenant_orders(&filter).await?;
        let mut paid: HashMap<i64, i64> = HashMap::new();
        for c in self.store.tenant_charges(tenant).await? {
            *paid.entry(c.tenant_order_id).or_default() += c.fen;
        }
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let row = self.settle_tenant_order(row).await?;
            out.push(TenantOrderView {
                paid: Money::from_fen(paid.get(&row.id).copied().unwrap_or(0)),
                order: row,
            });
        }
        Ok((out, total))
    }

    /// Deposits, charges and refunds of one tenant, each with its ledger transaction.
    pub async fn tenant_statement(&self, tenant: &str) -> crate::Result<TenantStatement> {
        let view = self.tenant(tenant).await?;
        let mut lines: Vec<TenantStatementLine> = self
            .store
            .deposits(tenant)
            .await?
            .into_iter()
            .map(|d| TenantStatementLine {
                at_ms: d.at_ms,
                what: "deposit".into(),
                guid: None,
                amount: Money::from_fen(d.deposit.fen),
                txn_id: d.txn_id,
            })
            .collect();
        lines.extend(
            self.store
                .tenant_charges(tenant)
                .await?
                .into_iter()
                .map(|c| TenantStatementLine {
                    at_ms: c.at_ms,
                    what: c.what,
                    guid: Some(c.tenant_order_id),
                    amount: Money::from_fen(-c.fen),
                    txn_id: c.txn_id,
                }),
        );
        lines.sort_by_key(|l| (l.at_ms, l.txn_id));
        let sum = |pick: &dyn Fn(&TenantStatementLine) -> bool| {
            lines
                .iter()
                .filter(|l| pick(l))
                .fold(Money::ZERO, |acc, l| acc + l.amount)
        };
        let deposits = sum(&|l| l.what == "deposit");
        let charges = Money::ZERO - sum(&|l| l.amount.0.is_sign_negative());
        let refunds = sum(&|l| l.what != "deposit" && !l.amount.0.is_sign_negative());
        Ok(TenantStatement {
            tenant: view,
            lines,
            deposits,
            charges,
            refunds,
        })
    }

    /// Margins per tenant and product (`tenant` to keep to one).
    pub async fn margins(&self, tenant: Option<&str>) -> crate::Result<Vec<Margin>> {
        Ok(self
            .store
            .margins(tenant)
            .await?
            .into_iter()
            .map(|m| Margin {
                margin: Money::from_fen(m.revenue_fen - m.cost_fen),
                revenue: Money::from_fen(m.revenue_fen),
                cost: Money::from_fen(m.cost_fen),
                tenant: m.tenant,
                product: m.product,
                orders: m.orders,
            })
            .collect())
    }
}

/// A holding whose upstream has no capability for the operation asked.
fn unsupported() -> Refusal {
    refusal(RefusalKind::Unsupported, "该产品的上游不支持此操作")
}

/// What serves a live site or database holding at its upstream.
enum SiteService<'a> {
    Hosting(&'a dyn idcgate_core::capability::WebHosting),
    Database(&'a dyn idcgate_core::capability::Databases),
}

impl<'a> SiteService<'a> {
    /// The capability of `conn` that serves `row`'s kind: a holding of another kind is
    /// not found (it is no site), an upstream without the capability cannot.
    fn of(row: &TenantOrderRow, conn: &'a dyn idcgate_core::Connection) -> Answer<Self> {
        match row.order.kind {
            ResourceKind::HostingSite => conn.web_hosting().map(SiteService::Hosting),
            ResourceKind::Database => conn.databases().map(SiteService::Database),
            _ => return Err(refusal(RefusalKind::NotFound, "未找到产品记录")),
        }
        .ok_or_else(unsupported)
    }
}

#[cfg(test)]
mod upgrade_share {
    use super::{upgrade_fen, DAY_MS};

    #[test]
    fn a_share_is_rounded_down_to_the_fen_and_a_started_day_counts() {
        let now = 1_000 * DAY_MS;
        // 1.00 yuan a month, 2 days left: 6.67 fen is charged as 6, as the finance
        // system charges it (half up would be 7).
        assert_eq!(upgrade_fen(100, 1, now + 2 * DAY_MS, now), 6);
        // A day begun counts whole: 1 ms past two days is three days.
        assert_eq!(upgrade_fen(100, 1, now + 2 * DAY_MS + 1, now), 10);
        // A 3-month term of 3.00 yuan is 1.00 a month.
        assert_eq!(upgrade_fen(300, 3, now + 2 * DAY_MS, now), 6);
        assert_eq!(upgrade_fen(100, 1, now - DAY_MS, now), 0, "an ended order");
    }
}
