//! The vendor registry: how the engine reaches vendor crates without depending on them.
//! The binary fills it; tests can fill it with any subset.

use idcgate_core::spec::VendorSpec;
use idcgate_core::{Connection, Error, Onboarding, UpstreamAccount, Vendor};
use idcgate_wire::{Simulator, WireConfig};
use std::sync::Arc;

pub type ConnectFn = fn(&UpstreamAccount, &WireConfig) -> idcgate_core::Result<Arc<dyn Connection>>;

#[derive(Clone)]
pub struct VendorEntry {
    pub vendor: Vendor,
    pub spec: fn() -> &'static VendorSpec,
    pub connect: ConnectFn,
    /// A simulator seeded with sandbox data.
    pub sandbox: fn() -> Box<dyn Simulator>,
    /// What an operator needs to add an account: credential keys, base URL, rate.
    pub onboarding: &'static Onboarding,
}

#[derive(Clone, Default)]
pub struct Registry {
    entries: Vec<VendorEntry>,
}

impl Registry {
    pub fn new(entries: Vec<VendorEntry>) -> Self {
        Registry { entries }
    }

    pub fn entries(&self) -> &[VendorEntry] {
        &self.entries
    }

    pub fn get(&self, vendor: Vendor) -> idcgate_core::Result<&VendorEntry> {
        self.entries
            .iter()
            .find(|e| e.vendor == vendor)
            .ok_or_else(|| Error::Unsupported {
                vendor: vendor.to_string(),
                capability: "any action yet (its vendor crate has not landed)".into(),
            })
    }

    pub fn connect(
        &self,
        account: &UpstreamAccount,
        wire: &WireConfig,
    ) -> idcgate_core::Result<Arc<dyn Connection>> {
        (self.get(account.vendor)?.connect)(account, wire)
    }
}
