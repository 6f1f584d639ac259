//! The downstream side: what idcgate sells to its tenants, as a surface speaking a
//! vendor's dialect needs it. The engine implements [`Storefront`] from its catalog,
//! tenants, ledger and orders; a vendor crate serves it in that vendor's wire format
//! (Zonkvm's `/api/same/index`), so neither knows the other.
//!
//! Prices never come from a request: a [`Purchase`] names an offering and a term, and
//! the storefront prices it from the catalog for the tenant.

use crate::firewall::{FirewallRule, FirewallRuleSpec};
use crate::model::{
    ConsoleSession, Database, HostingSite, OsImage, PanelCall, PowerAction, ResourceKind, Server,
    ServerKind, SiteAction, TrafficSample,
};
use crate::Money;
use async_trait::async_trait;
use jiff::Timestamp;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// An authenticated tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shopper {
    pub tenant: String,
    /// A suspended tenant still reads; it does not buy.
    pub may_buy: bool,
    /// The price level it buys at, as it was when it authenticated.
    pub level: String,
}

/// One product on sale, priced for the tenant asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offering {
    pub id: i64,
    pub name: String,
    pub title: String,
    pub kind: ResourceKind,
    /// For a server: a cloud server, a leased dedicated machine or colocation.
    pub server_kind: ServerKind,
    pub cpu: u32,
    pub ram_mb: u32,
    pub disk_gb: u32,
    pub bandwidth_mbps: u32,
    /// (months, price of the whole term); terms the upstream could not quote just now
    /// are left out.
    pub terms: Vec<(u32, Money)>,
    /// Images a server of this offering may be reinstalled with.
    pub images: Vec<OsImage>,
    /// Offerings a holding of this one may be upgraded to (dearer ones its upstream
    /// can move it to in place).
    pub upgrades: Vec<i64>,
    /// What it sells per unit beyond its base (extra IPs, bandwidth, defense), at the
    /// tenant's prices; empty: one fixed configuration.
    pub units: Vec<crate::units::UnitOffer>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldingState {
    /// Paid for; the upstream is delivering (or its answer is being settled).
    Provisioning,
    Active,
    Expired,
    /// The upstream refused; the money went back.
    Failed,
    Refunded,
}

/// One thing a tenant bought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    /// The id the tenant acts on.
    pub guid: i64,
    pub offering: i64,
    pub kind: ResourceKind,
    pub state: HoldingState,
    /// As the inventory last saw it (after a purchase, as the upstream answered).
    pub server: Option<Server>,
    /// A hosting site or database holding, as the inventory last saw it.
    pub site: Option<HostingSite>,
    pub database: Option<Database>,
    pub bought_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub months: u32,
    pub client_order_id: String,
    pub client_user_id: String,
    /// What the tenant paid for it, net of money given back.
    pub paid: Money,
    /// What the renewal or upgrade that answered with this holding charged: the first
    /// one's when it is asked again under the same id (a replay charges nothing more,
    /// yet answers what was paid); zero for any other answer.
    pub charged: Money,
    /// What it holds beyond its product's base (bought with it, or added since by an
    /// upgrade whose upstream order succeeded).
    pub units: crate::units::Units,
}

#[derive(Clone, PartialEq, Eq)]
pub struct Purchase {
    pub offering: i64,
    pub months: u32,
    /// The tenant's own order id: the same id again is the same purchase, charged once.
    pub client_order_id: Option<String>,
    pub client_user_id: Option<String>,
    /// Settings of the new service the tenant chooses that do not change its price (a
    /// site's language and FTP password, a database's encoding), by the upstream
    /// document's names; secret ones are sent, never journalled. Units beyond the base
    /// (`crate::units::Unit::option_key`) are counts the storefront prices itself.
    pub options: BTreeMap<String, String>,
}

impl std::fmt::Debug for Purchase {
    /// Secret options (a password) by name only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let options: BTreeMap<&str, &str> = self
            .options
            .iter()
            .map(|(k, v)| {
                let shown = if crate::purchase::is_secret_option(k) {
                    "<secret>"
                } else {
                    v.as_str()
                };
                (k.as_str(), shown)
            })
            .collect();
        f.debug_struct("Purchase")
            .field("offering", &self.offering)
            .field("months", &self.months)
            .field("client_order_id", &self.client_order_id)
            .field("client_user_id", &self.client_user_id)
            .field("options", &options)
            .finish()
    }
}

#[derive(Clone, PartialEq, Eq)]
pub enum ServerAction {
    Power(PowerAction),
    Reinstall {
        image: String,
        password: String,
    },
    Password(String),
    Console,
    /// Sets the console (VNC) password.
    ConsolePassword(String),
}

/// Passwords by name only: an action may be logged or put in an error.
impl std::fmt::Debug for ServerAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServerAction::Power(a) => f.debug_tuple("Power").field(a).finish(),
            ServerAction::Reinstall { image, .. } => f
                .debug_struct("Reinstall")
                .field("image", image)
                .finish_non_exhaustive(),
            ServerAction::Password(_) => f.write_str("Password(<secret>)"),
            ServerAction::Console => f.write_str("Console"),
            ServerAction::ConsolePassword(_) => f.write_str("ConsolePassword(<secret>)"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// Wrong appid/appkey.
    Authentication,
    /// Too many failed attempts from this appid or address.
    LockedOut,
    /// No such holding of this tenant (another tenant's is not told apart).
    NotFound,
    Invalid,
    /// Balance + credit do not cover the price.
    Insufficient,
    /// A suspended tenant asked to buy.
    Suspended,
    /// The upstream behind the product cannot do this.
    Unsupported,
    /// The upstream refused, or could not be reached.
    Upstream,
    /// The upstream's answer was lost; the purchase is being settled by reading.
    Unsettled,
    /// Our own failure (the database).
    Internal,
}

/// Why the storefront said no; `message` is for the tenant to read and names no
/// upstream account or secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    pub kind: RefusalKind,
    pub message: String,
}

impl Refusal {
    pub fn new(kind: RefusalKind, message: impl Into<String>) -> Self {
        Refusal {
            kind,
            message: message.into(),
        }
    }
}

pub type Answer<T> = std::result::Result<T, Refusal>;

#[async_trait]
pub trait Storefront: Send + Sync {
    /// The tenant whose appid and appkey these are. Failures count against the appid
    /// and the peer's address; past the limit every attempt is `LockedOut` for a while.
    async fn authenticate(&self, appid: &str, appkey: &str, peer: IpAddr) -> Answer<Shopper>;
    async fn offerings(&self, who: &Shopper, kind: ResourceKind) -> Answer<Vec<Offering>>;
    /// The tenant's holdings of `kind`, oldest first: (total, one page).
    async fn holdings(
        &self,
        who: &Shopper,
        kind: ResourceKind,
        page: u32,
        per_page: u32,
    ) -> Answer<(u64, Vec<Holding>)>;
    async fn holding(&self, who: &Shopper, guid: i64) -> Answer<Holding>;
    async fn buy(&self, who: &Shopper, purchase: &Purchase) -> Answer<Holding>;
    /// Returns a console session for [`ServerAction::Console`].
    async fn act(
        &self,
        who: &Shopper,
        guid: i64,
        action: &ServerAction,
    ) -> Answer<Option<ConsoleSession>>;
    async fn renew(
        &self,
        who: &Shopper,
        guid: i64,
        months: u32,
        client_order_id: Option<&str>,
    ) -> Answer<Holding>;
    /// Moves a holding to `offering` (one of its offering's `upgrades`), charging the
    /// price difference for the time it has left; the same `client_order_id` again is
    /// the same upgrade, charged once.
    async fn upgrade(
        &self,
        who: &Shopper,
        guid: i64,
        offering: i64,
        client_order_id: Option<&str>,
    ) -> Answer<Holding>;
    /// A server holding's traffic between `from` and `to`, as its upstream measured it.
    async fn traffic(
        &self,
        who: &Shopper,
        guid: i64,
        from: Timestamp,
        to: Timestamp,
    ) -> Answer<Vec<TrafficSample>>;
    /// One management operation on a hosting site or database holding; `Domains`
    /// answers the site's domains.
    async fn site(&self, who: &Shopper, guid: i64, action: &SiteAction) -> Answer<Vec<String>>;
    /// Gives a holding back; returns what went back to the tenant.
    async fn refund(&self, who: &Shopper, guid: i64) -> Answer<Money>;
    /// A server holding's firewall rules as its upstream keeps them, first applied
    /// first.
    async fn rules(&self, who: &Shopper, guid: i64) -> Answer<Vec<FirewallRule>>;
    /// Adds a firewall rule to a server holding; the rule as the upstream keeps it.
    async fn add_rule(
        &self,
        who: &Shopper,
        guid: i64,
        rule: &FirewallRuleSpec,
    ) -> Answer<FirewallRule>;
    /// Deletes a rule `rules` lists for this holding; any other id is not found.
    async fn delete_rule(&self, who: &Shopper, guid: i64, rule_id: &str) -> Answer<()>;
    /// One operation of a hosting site's or database's control panel, passed to its
    /// upstream as it is (on the upstream's id of the tenant's own holding), answered
    /// with the upstream's data. Upstreams with no such panel refuse it as unsupported.
    async fn panel(&self, who: &Shopper, guid: i64, call: &PanelCall) -> Answer<serde_json::Value> {
        let _ = (who, guid);
        Err(Refusal::new(
            RefusalKind::Unsupported,
            format!(
                "该操作暂不支持 ({} is not offered by this provider)",
                call.operation
            ),
        ))
    }
    /// A read of a hosting line's panel (PHP versions, a tool's address): `offering` is
    /// a hosting or database product on sale to the tenant (a line, downstream), asked
    /// of its upstream on the line of its offer. Upstreams without it refuse it as
    /// unsupported.
    async fn line_panel(
        &self,
        who: &Shopper,
        offering: i64,
        call: &PanelCall,
    ) -> Answer<serde_json::Value> {
        let _ = (who, offering);
        Err(Refusal::new(
            RefusalKind::Unsupported,
            format!(
                "该操作暂不支持 ({} is not offered by this provider)",
                call.operation
            ),
        ))
    }
    /// Creates the database a hosting holding's plan includes at its upstream, held by
    /// the tenant from then on as a database holding of its own, with nothing charged:
    /// that holding. `password` is the database's, never kept.
    async fn add_bundled_database(
        &self,
        who: &Shopper,
        guid: i64,
        engine: Option<&str>,
        password: &str,
    ) -> Answer<Holding> {
        let _ = (who, guid, engine, password);
        Err(Refusal::new(
            RefusalKind::Unsupported,
            "该操作暂不支持 (hosting_add_database is not offered by this provider)",
        ))
    }
    /// Adds units (IPs, bandwidth, defense) to a server holding, charging their price
    /// for the time it has left; the same `client_order_id` again is the same upgrade,
    /// charged once (also when asking for nothing more: a client of absolute values
    /// asking again for the configuration it reached). A storefront that sells no
    /// units answers `Unsupported`.
    async fn add_units(
        &self,
        who: &Shopper,
        guid: i64,
        add: &crate::units::Units,
        client_order_id: Option<&str>,
    ) -> Answer<Holding> {
        let _ = (who, guid, add, client_order_id);
        Err(Refusal::new(
            RefusalKind::Unsupported,
            "该产品不按单位升级 (no units are sold for this product)",
        ))
    }
}

/// One answer of a dialect, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialectAnswer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

/// A vendor's wire format served over a [`Storefront`]: downstream systems call
/// idcgate exactly as they call that vendor.
#[async_trait]
pub trait Dialect: Send + Sync {
    /// The one path it answers on (`/api/same/index`).
    fn path(&self) -> &'static str;
    async fn answer(
        &self,
        front: &dyn Storefront,
        peer: IpAddr,
        content_type: Option<&str>,
        body: &[u8],
    ) -> DialectAnswer;
    /// Its refusal of a request whose body could not be read (too large, too slow),
    /// in its own envelope: a downstream client reads no other shape.
    fn unreadable(&self, why: &str) -> DialectAnswer;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_actions_never_show_a_password() {
        for action in [
            ServerAction::Password("hunter22".into()),
            ServerAction::ConsolePassword("hunter22".into()),
            ServerAction::Reinstall {
                image: "img".into(),
                password: "hunter22".into(),
            },
        ] {
            let shown = format!("{action:?}");
            assert!(!shown.contains("hunter22"), "{shown}");
        }
        assert_eq!(
            format!("{:?}", ServerAction::Power(PowerAction::Stop)),
            "Power(Stop)"
        );
    }
}
