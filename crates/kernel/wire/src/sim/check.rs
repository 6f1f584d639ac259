//! Checks of request values that upstreams share.

use std::net::IpAddr;

/// A DNS host name with at least two labels (a trailing dot allowed): labels of 1-63
/// letters, digits, `-` (not at either end) or `_`, 253 characters in all.
pub fn valid_hostname(h: &str) -> bool {
    let h = h.trim_end_matches('.');
    h.contains('.')
        && h.len() <= 253
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars()
                    .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        })
}

/// Whether an account's caller-IP list admits `peer`: no list admits everyone; a list
/// refuses a request with no peer address.
pub fn ip_allowed(list: Option<&[IpAddr]>, peer: Option<IpAddr>) -> bool {
    match (list, peer) {
        (None, _) => true,
        (Some(list), Some(ip)) => list.contains(&ip),
        (Some(_), None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_and_ip_lists() {
        assert!(valid_hostname("ns1.example.com."));
        assert!(!valid_hostname("-bad.example.com"));
        assert!(!valid_hostname("localhost"));
        let ip: IpAddr = [10, 0, 0, 1].into();
        assert!(ip_allowed(None, None));
        assert!(ip_allowed(Some(&[ip]), Some(ip)));
        assert!(!ip_allowed(Some(&[ip]), Some([10, 0, 0, 2].into())));
        assert!(!ip_allowed(Some(&[ip]), None));
    }
}
