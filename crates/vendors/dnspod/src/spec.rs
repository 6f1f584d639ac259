//! The DNSPod action table (`spec.tsv`), parsed once, plus the one parameter rule the
//! generic spec format cannot express: `domain_id|domain*` ("one of these is required").

use idcgate_core::spec::{ActionSpec, VendorSpec};
use idcgate_core::{Error, Vendor};
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

/// Checks required parameters and types, understanding `a|b` alternatives. Returns the
/// offending field and a reason. Matching is case-insensitive, as the upstream's is.
pub fn check<'a, I>(action: &ActionSpec, supplied: I) -> Result<(), (String, String)>
where
    I: IntoIterator<Item = (&'a str, &'a str)> + Clone,
{
    let lookup = |name: &str| {
        supplied
            .clone()
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    for p in &action.params {
        if p.name.contains('|') {
            let present = p
                .name
                .split('|')
                .any(|alt| lookup(alt).is_some_and(|v| !v.is_empty()));
            if p.required && !present {
                return Err((
                    p.name.clone(),
                    format!("one of {} is required", p.name.replace('|', ", ")),
                ));
            }
            continue;
        }
        match lookup(&p.name) {
            None | Some("") if p.required && p.default.is_none() => {
                return Err((p.name.clone(), format!("{} is required", p.name)))
            }
            Some(v) if !v.is_empty() => p.check(v).map_err(|e| (p.name.clone(), e))?,
            _ => {}
        }
    }
    Ok(())
}

/// `check` as a core error.
pub fn check_err<'a, I>(action: &ActionSpec, supplied: I) -> idcgate_core::Result<()>
where
    I: IntoIterator<Item = (&'a str, &'a str)> + Clone,
{
    check(action, supplied).map_err(|(field, reason)| Error::invalid(field, reason))
}
