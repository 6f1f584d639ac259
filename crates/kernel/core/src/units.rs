//! Quantities a server product may sell beyond its base configuration, priced per unit
//! and month: extra IPs, bandwidth (Mbps) and defense (G). Vendor-neutral: a purchase
//! carries them as options under [`Unit::option_key`], which each vendor crate's
//! `Purchasing` maps to its own fields (a create: that many beyond the offer's; an
//! upgrade: that many more than the order has).

use crate::Money;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most of one unit a purchase or upgrade may ask for at once: beyond it is a typo
/// or an attack, and it keeps every price computation far from overflow.
pub const MAX_UNITS: u32 = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// One more IP address.
    Ip,
    /// One more Mbps of bandwidth.
    Bandwidth,
    /// One more G of defense.
    Defense,
}

crate::word_enum!(Unit {
    Ip => "ip",
    Bandwidth => "bandwidth",
    Defense => "defense",
});

impl Unit {
    pub fn parse(s: &str) -> Option<Unit> {
        Unit::ALL.into_iter().find(|u| u.as_str() == s.trim())
    }

    /// The purchase option that carries this unit's count.
    pub fn option_key(self) -> &'static str {
        match self {
            Unit::Ip => "units.ip",
            Unit::Bandwidth => "units.bandwidth",
            Unit::Defense => "units.defense",
        }
    }

    /// The unit whose purchase option `key` is.
    pub fn of_option(key: &str) -> Option<Unit> {
        Unit::ALL.into_iter().find(|u| u.option_key() == key)
    }

    /// What one unit is, for people.
    pub fn measure(self) -> &'static str {
        match self {
            Unit::Ip => "IP",
            Unit::Bandwidth => "Mbps",
            Unit::Defense => "G",
        }
    }
}

/// Counts per unit (units absent count zero).
pub type Units = BTreeMap<Unit, u32>;

/// One unit a product sells, priced for the tenant asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitOffer {
    pub unit: Unit,
    /// The price of one unit for a month (before a term's discount, which applies to
    /// units as to the base).
    pub monthly: Money,
    /// The most a holding may have beyond the base.
    pub max_extra: u32,
}
