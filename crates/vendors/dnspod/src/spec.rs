//! The DNSPod action table (`spec.tsv`), parsed once.

use idcgate_core::spec::VendorSpec;
use idcgate_core::Vendor;

const TABLE: &str = include_str!("../spec.tsv");

/// The agent (reseller) API methods. They act on the agent itself, so the common
/// `user_id` parameter (an agent acting for one of its users) is not added to them and
/// `User.Transfer`/`Verify.*` use `user_id` as their own argument.
pub const AGENT_ACTIONS: &[&str] = &[
    "User.List",
    "User.Under",
    "User.Transfer",
    "User.Create",
    "Verify.Email",
    "Verify.Telephone",
    "Product.List",
    "Domain.Upgrade",
];

/// Every documented DNSPod action, parsed once (see [`VendorSpec::embedded`]).
pub fn spec() -> &'static VendorSpec {
    idcgate_core::embedded_spec!(Vendor::Dnspod, TABLE)
}
