//! Units beyond a server product's base (extra IPs, bandwidth, defense): bought with it
//! and added later, each priced per unit from the catalog (the product's rule on the
//! upstream's quote, or the unit's fixed price), paid before the upstream is asked.
//!
//! What a holding has is never a column: it is the sum of the units its succeeded
//! journal orders carried (its create and each upgrade), so a lost answer counts once
//! the journal settles it, and the same `client_order_id` again adds nothing.

use super::{told, Paid, Shop};
use crate::catalog::{unit_options, Basis, Product};
use idcgate_core::purchase::{Operation, PurchaseRequest};
use idcgate_core::storefront::{Answer, Holding, RefusalKind, Shopper};
use idcgate_core::units::{Unit, UnitOffer, Units, MAX_UNITS};
use idcgate_core::{Money, ResourceKind};
use idcgate_store::TenantOrderRow;
use std::collections::{BTreeMap, HashMap};

use super::refusal;

/// The units a journal order's stored purchase carries.
pub(super) fn units_of_params(params: &serde_json::Value) -> Units {
    let mut out = Units::new();
    if let Some(options) = params["options"].as_object() {
        for (k, v) in options {
            let n = v.as_str().and_then(|v| v.trim().parse::<u32>().ok());
            if let (Some(unit), Some(n)) = (Unit::of_option(k), n) {
                out.insert(unit, n);
            }
        }
    }
    out
}

/// Takes the unit counts out of a purchase's options: each a whole number from 1 to
/// `MAX_UNITS` (0 asks for nothing and is dropped); the rest are left as they are.
pub(super) fn split_units(
    options: &BTreeMap<String, String>,
) -> Answer<(BTreeMap<String, String>, Units)> {
    let mut rest = BTreeMap::new();
    let mut units = Units::new();
    for (k, v) in options {
        let Some(unit) = Unit::of_option(k) else {
            rest.insert(k.clone(), v.clone());
            continue;
        };
        let n = v
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= MAX_UNITS)
            .ok_or_else(|| {
                refusal(
                    RefusalKind::Invalid,
                    format!("参数错误：{k} 须为 0 到 {MAX_UNITS} 的整数"),
                )
            })?;
        if n > 0 {
            units.insert(unit, n);
        }
    }
    Ok((rest, units))
}

impl Shop {
    /// What a tenant order holds beyond its product's base, for showing it (a failed
    /// read shows none, logged; what is priced reads with [`Shop::units_priced`]).
    pub(super) async fn units_held(&self, row: &TenantOrderRow) -> Units {
        match self.units_of(row).await {
            Ok(units) => units,
            Err(e) => {
                tracing::warn!(tenant_order = row.id, error = %e, "could not read the units an order holds");
                Units::new()
            }
        }
    }

    /// What a tenant order holds beyond its base, for pricing: a failed read refuses
    /// rather than price the order without its units.
    pub(super) async fn units_priced(&self, row: &TenantOrderRow) -> Answer<Units> {
        self.units_of(row).await.map_err(|e| told(&e.into()))
    }

    /// The units of the tenant order's journal orders that succeeded (its create and
    /// each upgrade of units).
    async fn units_of(&self, row: &TenantOrderRow) -> idcgate_store::Result<Units> {
        let mut held = self.units_of_page(&[row]).await?;
        Ok(held.remove(&row.id).unwrap_or_default())
    }

    /// [`Self::units_of`] for a page of tenant orders in one read, by tenant order id
    /// (only servers hold units; an order holding none may be absent).
    pub(super) async fn units_of_page(
        &self,
        rows: &[&TenantOrderRow],
    ) -> idcgate_store::Result<HashMap<i64, Units>> {
        let servers: Vec<i64> = rows
            .iter()
            .filter(|r| r.order.kind == ResourceKind::Server)
            .map(|r| r.id)
            .collect();
        let mut out: HashMap<i64, Units> = HashMap::new();
        for (id, params) in self.engine.store.paid_purchases(&servers).await? {
            let units = out.entry(id).or_default();
            for (unit, n) in units_of_params(&params) {
                let sum = units.get(&unit).copied().unwrap_or(0).saturating_add(n);
                units.insert(unit, sum);
            }
        }
        Ok(out)
    }

    /// The units `p` sells, priced for a tenant at `level` (a unit that cannot be
    /// priced now is left out, as a term that cannot is).
    pub(super) async fn unit_offers(&self, level: &str, p: &Product) -> Vec<UnitOffer> {
        let mut out = Vec::new();
        for u in &p.units {
            let cost = match p.rule.basis_for(level).0 {
                Basis::Markup(_) => match self.engine.unit_cost(p, u.unit).await {
                    Ok(c) => Some(c),
                    Err(_) => continue,
                },
                Basis::Fixed(_) => None,
            };
            if let Ok(monthly) = p.unit_monthly(level, u, cost) {
                if monthly > Money::ZERO {
                    out.push(UnitOffer {
                        unit: u.unit,
                        monthly,
                        max_extra: u.max_extra,
                    });
                }
            }
        }
        out
    }

    pub(super) async fn add_units_inner(
        &self,
        who: &Shopper,
        guid: i64,
        add: &Units,
        client_order_id: Option<&str>,
    ) -> Answer<Holding> {
        Self::may_buy(who)?;
        let coid = Self::check_client_id("client_order_id", client_order_id)?;
        let (row, resource) = self.live_server(who, guid).await?;
        let add: Units = add
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(u, n)| (*u, *n))
            .collect();
        let purchase = PurchaseRequest {
            kind: row.order.kind,
            operation: Operation::Upgrade,
            target: resource,
            offer: None,
            months: 0,
            options: unit_options(&add),
        };
        // Keys of their own: an upgrade to another product under the same id must
        // never be taken for this one again (it would move the order unpaid).
        let key = Self::follow_up_key(&row, "units", coid);
        if let Some(fen) = self.upgrade_charged(&row, &key).await? {
            let journal = self
                .engine
                .store
                .order_by_key(&key)
                .await
                .map_err(|e| told(&e.into()))?;
            // Nothing more under a used id is that upgrade asked again: a client of
            // absolute values (the Zonkvm dialect's `server_upgrade`) asking again for
            // the configuration it has reached asks for no more.
            if journal.is_some_and(|o| !add.is_empty() && units_of_params(&o.order.params) != add) {
                return Err(refusal(
                    RefusalKind::Invalid,
                    "client_order_id 已用于另一升级 (used for another upgrade)",
                ));
            }
            let paid = self
                .pay_upgrade_again(who, &row, key, fen, &purchase)
                .await?;
            if matches!(paid, Paid::Before(..)) {
                self.read_sold(&row).await;
            }
            let mut h = self.to_holding(&row).await;
            h.charged = paid.charged();
            return Ok(h);
        }
        if add.is_empty() {
            return Err(refusal(
                RefusalKind::Invalid,
                "参数错误：未指定升级内容 (nothing to add: give IPs, bandwidth or defense)",
            ));
        }
        let product = self.product_of(&row).await?;
        let have = self.units_priced(&row).await?;
        let new = product.add_units(&have, &add).map_err(|e| told(&e))?;
        // Priced as an upgrade to another product is: the term's discount applies to
        // the units as it did to the purchase.
        let nothing = "升级金额为零，不可升级 (the units cost nothing for the time left)";
        let fen = self
            .upgrade_charge(who, &row, (&product, &have), (&product, &new), nothing)
            .await?;
        let what: Vec<String> = add
            .iter()
            .map(|(u, n)| format!("{n} {}", u.measure()))
            .collect();
        let memo = format!(
            "{} adds {} to tenant order {}",
            who.tenant,
            what.join(", "),
            row.id
        );
        let paid = self
            .pay_upgrade(who, &row, key, fen, &purchase, memo)
            .await?;
        let charged = paid.charged();
        let (Paid::Now(order, _) | Paid::Before(order, _)) = paid;
        self.read_sold(&row).await;
        let detail = format!("added {}: upstream order {}", what.join(", "), order.id);
        let mut h = self
            .patch_live(
                &row,
                &idcgate_store::TenantOrderPatch {
                    detail: Some(&detail),
                    ..Default::default()
                },
            )
            .await?;
        h.charged = charged;
        Ok(h)
    }
}
