//! The action table, parsed once. `spec.tsv` is the single source of truth for the
//! client's call surface and the simulator's routing.

use idcgate_core::spec::VendorSpec;
use idcgate_core::Vendor;

const TABLE: &str = include_str!("../spec.tsv");

/// Every documented West action, parsed once (see [`VendorSpec::embedded`]).
pub fn spec() -> &'static VendorSpec {
    idcgate_core::embedded_spec!(Vendor::West, TABLE)
}

/// `v2/domain/` -> `v2/domain`: the form both the client and the simulator compare.
pub(crate) fn norm_path(p: &str) -> String {
    let lower = p.to_ascii_lowercase();
    let rest = match lower.find("v2/") {
        Some(i) => &lower[i..],
        None => lower.as_str(),
    };
    rest.trim_end_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_with_every_row() {
        VendorSpec::parse(Vendor::West, TABLE).unwrap();
        assert_eq!(spec().actions.len(), 190);
    }

    #[test]
    fn paths_normalise() {
        assert_eq!(norm_path("/API/v2/Domain/"), "v2/domain");
        assert_eq!(norm_path("v2/domain/dns/"), "v2/domain/dns");
    }
}
