//! The action table, parsed once. `spec.tsv` is the single source of truth for the
//! client's call surface and the simulator's routing.

use idcgate_core::spec::VendorSpec;
use idcgate_core::Vendor;

const TABLE: &str = include_str!("../spec.tsv");

/// Every documented CNDNS action, parsed once (see [`VendorSpec::embedded`]).
pub fn spec() -> &'static VendorSpec {
    idcgate_core::embedded_spec!(Vendor::Cndns, TABLE)
}

/// `/domains/ CreateDom.aspx` -> `/domains/createdom.aspx`: the form both the client and
/// the simulator compare (the document has stray spaces and mixed case in paths).
pub(crate) fn norm_path(p: &str) -> String {
    let p: String = p.chars().filter(|c| !c.is_whitespace()).collect();
    let lower = p.to_ascii_lowercase();
    let path = match lower.find("://") {
        Some(i) => lower[i + 3..]
            .find('/')
            .map_or(String::new(), |j| lower[i + 3 + j..].to_string()),
        None => lower,
    };
    if path.starts_with('/') {
        path
    } else {
        format!("/{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_with_every_row() {
        VendorSpec::parse(Vendor::Cndns, TABLE).unwrap();
        assert_eq!(spec().actions.len(), 216);
    }

    #[test]
    fn paths_normalise() {
        assert_eq!(
            norm_path("/database/ isPresent.aspx"),
            "/database/ispresent.aspx"
        );
        assert_eq!(
            norm_path("http://support.cndns.com/API/Reply.aspx"),
            "/api/reply.aspx"
        );
        assert_eq!(norm_path("check.aspx"), "/check.aspx");
    }
}
