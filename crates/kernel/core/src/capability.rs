//! Capability traits: what an upstream account can do, in vendor-neutral terms.
//!
//! A vendor crate hands out a [`Connection`] per account; the engine asks it for the
//! capabilities it needs (`conn.dns()`, `conn.compute()` ...) and never sees the
//! vendor's wire format. Ids passed in and out are the vendor's own ids as opaque
//! strings (`upstream_id` in the model).

use crate::error::Result;
use crate::model::*;
use crate::spec::VendorSpec;
use async_trait::async_trait;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    Registrar,
    Dns,
    Compute,
    WebHosting,
    Databases,
    Mail,
    Certificates,
    Billing,
    Purchasing,
}

/// Ordered name/value pairs as sent on the wire (order matters to some signers).
pub type Params = Vec<(String, String)>;

/// One authenticated handle on one upstream account.
#[async_trait]
pub trait Connection: Send + Sync {
    fn vendor(&self) -> Vendor;

    fn spec(&self) -> &'static VendorSpec;

    /// A raw, signed call of any implemented action by id or short name; the decoded
    /// answer as JSON (pipe text and JS payloads are converted by the vendor crate).
    async fn call(&self, action: &str, params: &Params) -> Result<serde_json::Value>;

    fn registrar(&self) -> Option<&dyn Registrar> {
        None
    }
    fn dns(&self) -> Option<&dyn Dns> {
        None
    }
    fn compute(&self) -> Option<&dyn Compute> {
        None
    }
    fn web_hosting(&self) -> Option<&dyn WebHosting> {
        None
    }
    fn databases(&self) -> Option<&dyn Databases> {
        None
    }
    fn mail(&self) -> Option<&dyn Mail> {
        None
    }
    fn certificates(&self) -> Option<&dyn Certificates> {
        None
    }
    fn billing(&self) -> Option<&dyn Billing> {
        None
    }
    /// Buying through the order journal; `None` for a vendor that sells nothing.
    fn purchasing(&self) -> Option<&dyn crate::purchase::Purchasing> {
        None
    }
}

/// Which capabilities a connection serves, derived from its accessors so the two can
/// never disagree.
pub struct Capabilities;

impl Capabilities {
    pub fn of(conn: &dyn Connection) -> Vec<Capability> {
        let mut caps = Vec::new();
        let checks: [(bool, Capability); 9] = [
            (conn.registrar().is_some(), Capability::Registrar),
            (conn.dns().is_some(), Capability::Dns),
            (conn.compute().is_some(), Capability::Compute),
            (conn.web_hosting().is_some(), Capability::WebHosting),
            (conn.databases().is_some(), Capability::Databases),
            (conn.mail().is_some(), Capability::Mail),
            (conn.certificates().is_some(), Capability::Certificates),
            (conn.billing().is_some(), Capability::Billing),
            (conn.purchasing().is_some(), Capability::Purchasing),
        ];
        for (has, cap) in checks {
            if has {
                caps.push(cap);
            }
        }
        caps
    }
}

#[async_trait]
pub trait Registrar: Send + Sync {
    async fn list_domains(&self) -> Result<Vec<Domain>>;
    async fn get_domain(&self, name: &str) -> Result<Domain>;
    async fn check_available(&self, name: &str) -> Result<bool>;
    async fn quote_registration(&self, name: &str, years: u32) -> Result<PriceQuote>;
    /// What renewing `name` for `years` costs now (renewal prices differ from
    /// registration prices at every registrar).
    async fn quote_renewal(&self, name: &str, years: u32) -> Result<PriceQuote>;
    /// `client_order_id` makes a retried purchase recognisable; a lost answer is
    /// `Error::UnknownOutcome`.
    async fn register(&self, name: &str, years: u32, client_order_id: &str) -> Result<Order>;
    async fn renew(&self, name: &str, years: u32, client_order_id: &str) -> Result<Order>;
    async fn set_nameservers(&self, name: &str, nameservers: &[String]) -> Result<()>;
}

#[async_trait]
pub trait Dns: Send + Sync {
    async fn list_zones(&self) -> Result<Vec<Zone>>;
    async fn list_records(&self, zone: &str) -> Result<Vec<DnsRecord>>;
    async fn create_record(&self, zone: &str, record: &RecordInput) -> Result<DnsRecord>;
    async fn update_record(&self, zone: &str, id: &str, record: &RecordInput) -> Result<DnsRecord>;
    async fn delete_record(&self, zone: &str, id: &str) -> Result<()>;
    async fn set_record_enabled(&self, zone: &str, id: &str, enabled: bool) -> Result<()>;
    /// Resolution lines this zone accepts, vendor-neutral names first.
    async fn lines(&self, zone: &str) -> Result<Vec<String>>;
    /// Adds `zone` to the account, empty but for what the vendor puts in every zone.
    /// `Unsupported` where an account cannot add zones through the API.
    async fn create_zone(&self, zone: &str) -> Result<Zone> {
        let _ = zone;
        Err(unsupported("adding a zone".into()))
    }
}

#[async_trait]
pub trait Compute: Send + Sync {
    async fn catalog(&self) -> Result<ComputeCatalog>;
    async fn list_servers(&self) -> Result<Vec<Server>>;
    async fn get_server(&self, id: &str) -> Result<Server>;
    async fn create_server(&self, spec: &ServerSpec) -> Result<Server>;
    async fn power(&self, id: &str, action: PowerAction) -> Result<()>;
    async fn reinstall(&self, id: &str, image: &str) -> Result<()>;
    async fn reset_password(&self, id: &str, password: &str) -> Result<()>;
    async fn resize(&self, id: &str, resize: &Resize) -> Result<()>;
    async fn delete_server(&self, id: &str) -> Result<()>;
    /// Gives a server back (it is deleted) and says what the upstream returned to our
    /// balance for its unused time: `Some` when its answer says, `None` when it does not
    /// or says it unreadably (unknown, never taken as zero). A lost answer is
    /// `Error::UnknownOutcome`, as for `delete_server`.
    async fn refund_server(&self, id: &str) -> Result<Option<crate::Money>> {
        self.delete_server(id).await?;
        Ok(None)
    }
    async fn console(&self, id: &str) -> Result<ConsoleSession>;
    /// The server's traffic between `from` and `to`, oldest first. Most upstreams
    /// show no such graph through their API.
    async fn traffic(
        &self,
        id: &str,
        from: jiff::Timestamp,
        to: jiff::Timestamp,
    ) -> Result<Vec<crate::model::TrafficSample>> {
        let _ = (id, from, to);
        Err(unsupported("traffic charts".into()))
    }
    /// Sets the password of the server's console (VNC). Most upstreams have none to
    /// set through their API.
    async fn set_console_password(&self, id: &str, password: &str) -> Result<()> {
        let _ = (id, password);
        Err(unsupported("setting the console (VNC) password".into()))
    }
    /// The server's firewall rules, first applied first.
    async fn firewall_rules(&self, id: &str) -> Result<Vec<crate::FirewallRule>> {
        let _ = id;
        Err(unsupported("firewall rules".into()))
    }
    /// Adds a rule (checked with [`crate::FirewallRuleSpec::check`] before anything is
    /// sent); the rule as the upstream keeps it, with the id deleting it takes.
    async fn add_firewall_rule(
        &self,
        id: &str,
        rule: &crate::FirewallRuleSpec,
    ) -> Result<crate::FirewallRule> {
        let _ = (id, rule);
        Err(unsupported("firewall rules".into()))
    }
    /// Deletes the server's rule `rule_id` (a [`crate::FirewallRule::id`]).
    async fn delete_firewall_rule(&self, id: &str, rule_id: &str) -> Result<()> {
        let _ = (id, rule_id);
        Err(unsupported("firewall rules".into()))
    }
    async fn list_backups(&self, id: &str) -> Result<Vec<Backup>>;
    async fn create_backup(&self, id: &str, name: &str, full: bool) -> Result<()>;
    async fn restore_backup(&self, id: &str, backup_id: &str) -> Result<()>;
    async fn delete_backup(&self, id: &str, backup_id: &str) -> Result<()>;
}

#[async_trait]
pub trait WebHosting: Send + Sync {
    async fn list_sites(&self) -> Result<Vec<HostingSite>>;
    /// One management operation on a site: `Domains` answers the bound domains, the
    /// others nothing.
    async fn site_action(&self, id: &str, action: &SiteAction) -> Result<Vec<String>> {
        let _ = id;
        Err(unsupported(format!(
            "the hosting operation {}",
            action.name()
        )))
    }
    /// Gives a site back, as [`Compute::refund_server`] gives a server.
    async fn refund_site(&self, id: &str) -> Result<Option<crate::Money>> {
        let _ = id;
        Err(unsupported("refunding a hosting site".into()))
    }
    /// One operation of the site's control panel passed through as the upstream names
    /// it, answered with the upstream's data; only a vendor whose panel the downstream
    /// dialect speaks has it.
    async fn site_panel(&self, id: &str, call: &crate::PanelCall) -> Result<serde_json::Value> {
        let _ = id;
        Err(unsupported(format!(
            "the hosting panel's {}",
            call.operation
        )))
    }
    /// A read of the panel about a hosting line rather than a site (the PHP versions
    /// its nodes run, a tool's address): the line the product `offer` is sold on
    /// (`line` where the product names one), answered with the upstream's data.
    async fn line_panel(
        &self,
        offer: &str,
        line: Option<&str>,
        call: &crate::PanelCall,
    ) -> Result<serde_json::Value> {
        let _ = (offer, line);
        Err(unsupported(format!(
            "the hosting line's {}",
            call.operation
        )))
    }
    /// Creates the database a site's plan includes (free, tied to the site) with
    /// `password` (`engine`: the upstream's default when `None`); the database as the
    /// upstream keeps it.
    async fn add_bundled_database(
        &self,
        id: &str,
        engine: Option<&str>,
        password: &str,
    ) -> Result<Database> {
        let _ = (id, engine, password);
        Err(unsupported("a site's bundled database".into()))
    }
}

#[async_trait]
pub trait Databases: Send + Sync {
    async fn list_databases(&self) -> Result<Vec<Database>>;
    /// One management operation on a database (a password, start, stop).
    async fn database_action(&self, id: &str, action: &SiteAction) -> Result<Vec<String>> {
        let _ = id;
        Err(unsupported(format!(
            "the database operation {}",
            action.name()
        )))
    }
    /// Gives a database back, as [`Compute::refund_server`] gives a server.
    async fn refund_database(&self, id: &str) -> Result<Option<crate::Money>> {
        let _ = id;
        Err(unsupported("refunding a database".into()))
    }
    /// One operation of the database's control panel, as [`WebHosting::site_panel`].
    async fn database_panel(&self, id: &str, call: &crate::PanelCall) -> Result<serde_json::Value> {
        let _ = id;
        Err(unsupported(format!(
            "the database panel's {}",
            call.operation
        )))
    }
}

/// What a default method answers where a vendor has no such operation.
fn unsupported(capability: String) -> crate::Error {
    crate::Error::unsupported("this vendor", capability)
}

#[async_trait]
pub trait Mail: Send + Sync {
    async fn list_mail_domains(&self) -> Result<Vec<MailDomain>>;
    async fn list_mailboxes(&self, domain: &str) -> Result<Vec<Mailbox>>;
}

#[async_trait]
pub trait Certificates: Send + Sync {
    async fn list_certificates(&self) -> Result<Vec<Certificate>>;
}

#[async_trait]
pub trait Billing: Send + Sync {
    async fn balance(&self) -> Result<Balance>;
    /// What the vendor's own finance record says this account was charged since
    /// `since`: the other side of the statement check. `Unsupported` where a vendor
    /// keeps no readable record.
    async fn charges(&self, since: jiff::Timestamp) -> Result<Vec<Charge>> {
        let _ = since;
        Err(unsupported("reading its finance record".into()))
    }

    /// Whether [`Billing::charges`] shows purchases of this operation at all. A record
    /// built from order listings shows what was bought, not renewals or upgrades; an
    /// order it cannot show is not a difference, only something it cannot check.
    fn charges_show(&self, operation: crate::purchase::Operation) -> bool {
        let _ = operation;
        true
    }
}
