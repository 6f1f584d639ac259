//! The DNSPod action table (`spec.tsv`), parsed once.

use idcgate_core::spec::VendorSpec;
use idcgate_core::Vendor;
use std::sync::OnceLock;

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

/// The parsed table. A malformed table is a build-time bug caught by this crate's tests;
/// at run time it degrades to an empty spec (every call then fails as unknown) rather
/// than panicking inside a server.
pub fn spec() -> &'static VendorSpec {
    static SPEC: OnceLock<VendorSpec> = OnceLock::new();
    SPEC.get_or_init(|| match VendorSpec::parse(Vendor::Dnspod, TABLE) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "dnspod spec.tsv is malformed");
            VendorSpec {
                vendor: Vendor::Dnspod,
                actions: Vec::new(),
            }
        }
    })
}
