//! What DNSPod sells through the order journal: VIP grades for a zone of one of the
//! agent's users (`Domain.Upgrade`, paid from the agent balance at the `Product.List`
//! price), and settling a lost answer by reading the zone back (`Domain.Info`).
//!
//! DNSPod has one action, "代理升级续费域名", for both: the same grade again is a renewal
//! (the VIP end date moves on by the term), another grade an upgrade (a new period at
//! that grade from today). idcgate keeps them apart so that settling knows what to look
//! for, and refuses a request whose operation does not match the zone's grade.
//!
//! Request shape (kind `dns_zone`): `target` = the zone name or its domain id; `offer`
//! = the `Product.List` grade name (`D_Plus`...; optional for a renewal, which keeps the
//! zone's grade); `months` = 12, 24, ... 60 (DNSPod's `term` is whole years); options:
//! `ip_addr` (the end user's real IP, required by DNSPod), `notice_email` (optional;
//! empty sends no mail) and `user_id` (the owning user; found by looking through the
//! agent's users when absent).

use crate::capability::{Product, ProductPrice};
use crate::client::{scalar, DnspodClient};
use async_trait::async_trait;
use idcgate_core::capability::Params;
use idcgate_core::purchase::{not_sold, Operation, PurchaseRequest, Purchasing, Settled};
use idcgate_core::{Error, Money, Order, OrderState, PriceQuote, ResourceKind, Result, Vendor};
use jiff::civil::Date;
use serde_json::{json, Value};
use std::net::IpAddr;

const SELLS: [(ResourceKind, Operation); 2] = [
    (ResourceKind::DnsZone, Operation::Upgrade),
    (ResourceKind::DnsZone, Operation::Renew),
];

/// A zone as `Domain.Info` shows it to its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ZoneGrade {
    id: String,
    name: String,
    grade: String,
    /// The paid period's last day; `None` for a zone that never had one (or an upstream
    /// whose `Domain.Info` does not say).
    vip_end: Option<Date>,
    /// The user who owns the zone (whom the agent acts for to read it).
    user_id: String,
}

impl ZoneGrade {
    fn describe(&self) -> String {
        format!(
            "{} (domain id {}) on {}, VIP until {}",
            self.name,
            self.id,
            self.grade,
            self.vip_end.map_or("none".into(), |d| d.to_string())
        )
    }
}

/// DNSPod's `term` for a request: whole years, as `Product.List` prices them.
fn years(request: &PurchaseRequest) -> Result<u32> {
    match request.months {
        m @ 12..=120 if m % 12 == 0 => Ok(m / 12),
        m => Err(Error::invalid(
            "months",
            format!("{m} months: DNSPod sells VIP grades by whole years (12, 24, ...)"),
        )),
    }
}

/// The price of `grade` for `years` in a price list (by the days a term covers, which
/// is what the term means; its name is DNSPod's `1year`, `2year`...).
fn price_of<'a>(products: &'a [Product], grade: &str, years: u32) -> Result<&'a ProductPrice> {
    let product = products.iter().find(|p| p.grade == grade).ok_or_else(|| {
        let known: Vec<&str> = products.iter().map(|p| p.grade.as_str()).collect();
        Error::invalid(
            "offer",
            format!("{grade:?} is not a DNSPod product (Product.List has {known:?})"),
        )
    })?;
    product
        .prices
        .iter()
        .find(|p| p.days == 365 * years || p.term == format!("{years}year"))
        .ok_or_else(|| Error::invalid("months", format!("{grade} is not sold for {years} year(s)")))
}

fn field(v: &Value, key: &str) -> String {
    v.get(key).map(scalar).unwrap_or_default()
}

/// `Domain.Info`'s dates are `YYYY-MM-DD`, sometimes with a time after them.
fn date(text: &str) -> Option<Date> {
    text.get(..10).and_then(|d| d.parse().ok())
}

fn zone_param(target: &str) -> (String, String) {
    if !target.is_empty() && target.bytes().all(|b| b.is_ascii_digit()) {
        ("domain_id".into(), target.into())
    } else {
        ("domain".into(), target.trim_end_matches('.').to_lowercase())
    }
}

impl DnspodClient {
    fn dns_zone_only(&self, request: &PurchaseRequest) -> Result<()> {
        if SELLS.contains(&(request.kind, request.operation)) {
            request.validate()
        } else {
            Err(not_sold(Vendor::Dnspod, request))
        }
    }

    /// `Domain.Info` of `target` acting for `user_id`.
    async fn zone_as(&self, user_id: &str, target: &str) -> Result<ZoneGrade> {
        let params: Params = vec![zone_param(target)];
        let owner = user_id.to_string();
        self.for_user(user_id)
            .call_as("Domain.Info", &params, move |doc| {
                let d = doc.get("domain").cloned().unwrap_or(Value::Null);
                let id = field(&d, "id");
                if id.is_empty() {
                    return Err("Domain.Info without domain.id".into());
                }
                let end = field(&d, "vip_end_at");
                Ok(ZoneGrade {
                    id,
                    name: field(&d, "name"),
                    grade: field(&d, "grade"),
                    vip_end: date(&end),
                    user_id: Some(field(&d, "user_id"))
                        .filter(|u| !u.is_empty())
                        .unwrap_or_else(|| owner.clone()),
                })
            })
            .await
    }

    /// The zone and its owner. An agent reads a user's zone only by acting for that user,
    /// so without `user_id` (option, or this handle's) the agent's users are tried in
    /// turn: a read per user, paid only when the caller does not say whose zone it is.
    async fn zone(&self, request: &PurchaseRequest) -> Result<ZoneGrade> {
        let target = request.target.as_str();
        let named = request
            .options
            .get("user_id")
            .map(String::as_str)
            .filter(|u| !u.is_empty())
            .or(self.acting_for());
        if let Some(uid) = named {
            return self.zone_as(uid, target).await;
        }
        for user in self.list_users().await? {
            if user.domains == 0 {
                continue;
            }
            match self.zone_as(&user.id, target).await {
                Ok(zone) => return Ok(zone),
                // Not this user's zone (DNSPod says "not found" or "not the owner").
                Err(Error::NotFound { .. } | Error::Upstream { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::not_found(format!(
            "DNSPod zone {target} under any of this agent's users"
        )))
    }

    /// The grade the request buys, checked against the zone: a renewal keeps the zone's
    /// paid grade, an upgrade changes it.
    fn grade_for(request: &PurchaseRequest, zone: &ZoneGrade) -> Result<String> {
        let offer = request
            .offer
            .as_deref()
            .map(str::trim)
            .filter(|o| !o.is_empty());
        match (request.operation, offer) {
            (Operation::Renew, None) => Ok(zone.grade.clone()),
            (Operation::Renew, Some(o)) if o == zone.grade => Ok(o.to_string()),
            (Operation::Renew, Some(o)) => Err(Error::invalid(
                "offer",
                format!(
                    "{} is on {}; moving it to {o} is an upgrade, not a renewal",
                    zone.name, zone.grade
                ),
            )),
            (_, Some(o)) if o == zone.grade => Err(Error::invalid(
                "offer",
                format!(
                    "{} is already on {o}; more time on the same grade is a renewal",
                    zone.name
                ),
            )),
            (_, Some(o)) => Ok(o.to_string()),
            (_, None) => request.need_offer().map(str::to_string),
        }
    }

    /// The grade bought (checked against the zone when it has been read) and its
    /// `Product.List` price for the term.
    async fn priced(
        &self,
        request: &PurchaseRequest,
        zone: Option<&ZoneGrade>,
    ) -> Result<(String, ProductPrice)> {
        let years = years(request)?;
        let grade = match zone {
            Some(z) => Self::grade_for(request, z)?,
            None => request.need_offer()?.trim().to_string(),
        };
        let products = self.products().await?;
        let price = price_of(&products, &grade, years)?.clone();
        Ok((grade, price))
    }
}

#[async_trait]
impl Purchasing for DnspodClient {
    fn sells(&self) -> Vec<(ResourceKind, Operation)> {
        SELLS.to_vec()
    }

    /// The `Product.List` price of the grade for the term: what `Domain.Upgrade` takes
    /// from the agent balance (the list an agent reads carries its own price).
    async fn quote(&self, request: &PurchaseRequest) -> Result<PriceQuote> {
        self.dns_zone_only(request)?;
        let zone = match (request.operation, &request.offer) {
            (Operation::Renew, None) => Some(self.zone(request).await?),
            _ => None,
        };
        let (grade, price) = self.priced(request, zone.as_ref()).await?;
        Ok(PriceQuote {
            product: format!("{grade} {}", price.term),
            period_months: request.months,
            price: Money(price.price),
        })
    }

    /// The zone's grade, VIP end date and owner: what settling compares against.
    async fn before(&self, request: &PurchaseRequest) -> Result<Value> {
        self.dns_zone_only(request)?;
        years(request)?;
        let zone = self.zone(request).await?;
        let grade = Self::grade_for(request, &zone)?;
        Ok(json!({
            "domain_id": zone.id,
            "domain": zone.name,
            "user_id": zone.user_id,
            "grade_before": zone.grade,
            "vip_end_before": zone.vip_end.map(|d| d.to_string()),
            "grade": grade,
        }))
    }

    /// One `Domain.Upgrade`. DNSPod takes no order id of ours and keeps no remark, so
    /// `client_order_id` is not sent; settling reads the zone's grade and VIP end date.
    async fn buy(&self, request: &PurchaseRequest, _client_order_id: &str) -> Result<Order> {
        self.dns_zone_only(request)?;
        let ip = request.need_option("ip_addr")?;
        if ip.parse::<IpAddr>().is_err() {
            return Err(Error::invalid(
                "ip_addr",
                "the end user's real IP address (DNSPod requires it)",
            ));
        }
        let notice = request
            .options
            .get("notice_email")
            .map_or("", String::as_str);
        let zone = self.zone(request).await?;
        let (grade, price) = self.priced(request, Some(&zone)).await?;
        let done = self
            .upgrade_domain(&zone.name, &grade, &price.term, ip, notice)
            .await?;
        Ok(Order {
            id: done.journal_number,
            product: format!("{} {}", done.grade, price.term),
            amount: Money(done.agent_price),
            state: OrderState::Succeeded,
            upstream_id: Some(zone.id),
            created_at: jiff::Timestamp::now(),
        })
    }

    /// Reads the zone as its owner: an upgrade happened if the zone is now on the grade
    /// bought (it was on another before); a renewal if its VIP end date moved past the one
    /// read before. A `Domain.Info` that shows no VIP end date cannot tell a renewal, so
    /// that is an error (the order stays unknown) rather than a guess.
    async fn settle(
        &self,
        request: &PurchaseRequest,
        _client_order_id: &str,
        before: &Value,
    ) -> Result<Settled> {
        self.dns_zone_only(request)?;
        let text = |k: &str| before.get(k).and_then(Value::as_str).unwrap_or_default();
        let mut lookup = request.clone();
        if !text("user_id").is_empty() {
            lookup
                .options
                .insert("user_id".into(), text("user_id").to_string());
        }
        let zone = self.zone(&lookup).await?;
        let end_before = date(text("vip_end_before"));
        let bought = match text("grade") {
            "" => request.offer.clone().unwrap_or_else(|| zone.grade.clone()),
            g => g.to_string(),
        };
        let seen = format!(
            "read {}: before {} until {}",
            zone.describe(),
            match text("grade_before") {
                "" => "unknown grade",
                g => g,
            },
            end_before.map_or("none".into(), |d| d.to_string())
        );
        let happened = match request.operation {
            // The grade itself is the evidence: an upgrade restarts the period from
            // today, which may end on the very day the old one did.
            Operation::Upgrade => zone.grade == bought && text("grade_before") != bought,
            _ => match zone.vip_end {
                None => {
                    return Err(Error::unsupported(
                        Vendor::Dnspod,
                        format!(
                            "telling whether {} was renewed: Domain.Info shows no VIP end date",
                            zone.name
                        ),
                    ))
                }
                Some(now) => zone.grade == bought && end_before.is_none_or(|b| now > b),
            },
        };
        Ok(if happened {
            Settled::Happened {
                upstream_ref: Some(zone.id),
                charged: None,
                evidence: format!("{seen}: it happened"),
            }
        } else {
            Settled::DidNotHappen {
                evidence: format!("{seen}: it did not happen"),
            }
        })
    }
}
