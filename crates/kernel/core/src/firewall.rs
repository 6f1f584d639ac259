//! A server's firewall rules (Zonkvm's 安全组, a cloud panel's security policy), in
//! vendor-neutral terms, and the console (VNC) password's rules.
//!
//! A rule is checked here once, before any vendor crate spells it, so every surface
//! refuses the same input naming the same field and nothing malformed reaches an
//! upstream (the upstreams' own checks are undocumented).

use crate::error::{Error, Result};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleProtocol {
    Tcp,
    Udp,
    Icmp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Allow,
    Deny,
}

/// The longest rule name taken.
pub const MAX_RULE_NAME: usize = 64;
/// Priorities run from 1 (applied first) to this.
pub const MAX_PRIORITY: u32 = 65_535;
/// Ports and ranges one rule may list (`80,443,8000-8080`).
const MAX_PORT_PARTS: usize = 16;

/// What a rule does, as a tenant or operator writes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FirewallRuleSpec {
    pub name: String,
    /// Lower is applied first.
    pub priority: u32,
    pub direction: Direction,
    pub protocol: RuleProtocol,
    pub verdict: Verdict,
    /// The other end: an address or a CIDR block (`0.0.0.0/0` is everyone).
    pub remote: String,
    /// The server's port: `80`, a range `8000-8080`, or a comma list of those.
    pub local_port: String,
}

/// A rule as the upstream keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirewallRule {
    /// The upstream's id of the rule, as deleting it takes it.
    pub id: String,
    pub spec: FirewallRuleSpec,
    pub created_at: Option<Timestamp>,
}

impl FirewallRuleSpec {
    /// Refuses what no upstream should be sent, naming the field: a name too long or
    /// holding control characters, a priority outside 1..=65535, a remote that is not
    /// an address or CIDR block, a port that is not 1-65535 (or a range or list of
    /// them).
    pub fn check(&self) -> Result<()> {
        if self.name.chars().count() > MAX_RULE_NAME || self.name.chars().any(char::is_control) {
            return Err(Error::invalid(
                "name",
                format!("at most {MAX_RULE_NAME} characters, none of them control characters"),
            ));
        }
        if !(1..=MAX_PRIORITY).contains(&self.priority) {
            return Err(Error::invalid(
                "priority",
                format!("1 to {MAX_PRIORITY} (lower is applied first)"),
            ));
        }
        if !is_address_or_block(&self.remote) {
            return Err(Error::invalid(
                "remote",
                format!(
                    "an IP address or CIDR block such as 0.0.0.0/0, got {:?}",
                    shorten(&self.remote)
                ),
            ));
        }
        if !is_port_list(&self.local_port) {
            return Err(Error::invalid(
                "local_port",
                format!(
                    "a port 1-65535, a range such as 8000-8080, or a comma list of them, got {:?}",
                    shorten(&self.local_port)
                ),
            ));
        }
        Ok(())
    }
}

fn shorten(s: &str) -> String {
    s.chars().take(64).collect()
}

fn is_address_or_block(s: &str) -> bool {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let Ok(ip) = addr.parse::<IpAddr>() else {
        return false;
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    match prefix {
        None => true,
        Some(p) => {
            !p.is_empty()
                && p.len() <= 3
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u32>().is_ok_and(|n| n <= max)
        }
    }
}

fn is_port_list(s: &str) -> bool {
    let port = |p: &str| {
        !p.is_empty()
            && p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|n| (1..=65_535).contains(&n))
    };
    let parts: Vec<&str> = s.split(',').collect();
    parts.len() <= MAX_PORT_PARTS
        && parts.iter().all(|part| match part.split_once('-') {
            Some((a, b)) => port(a) && port(b) && a.parse::<u32>().ok() <= b.parse::<u32>().ok(),
            None => port(part),
        })
}

/// The shortest and longest console password taken.
pub const CONSOLE_PASSWORD_LEN: (usize, usize) = (6, 32);

/// A console (VNC) password: 6 to 32 visible ASCII characters. VNC's own
/// authentication reads few characters and some panels pass the password through a
/// shell or URL, so nothing beyond printable ASCII is sent.
pub fn check_console_password(password: &str) -> Result<()> {
    let (min, max) = CONSOLE_PASSWORD_LEN;
    if !(min..=max).contains(&password.len()) || !password.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid(
            "password",
            format!("{min} to {max} visible ASCII characters, no blanks"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> FirewallRuleSpec {
        FirewallRuleSpec {
            name: "web".into(),
            priority: 10,
            direction: Direction::Inbound,
            protocol: RuleProtocol::Tcp,
            verdict: Verdict::Allow,
            remote: "0.0.0.0/0".into(),
            local_port: "80".into(),
        }
    }

    #[test]
    fn a_rule_is_checked_field_by_field() {
        assert!(rule().check().is_ok());
        let field = |r: FirewallRuleSpec| match r.check() {
            Err(Error::InvalidInput { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        for (remote, ok) in [
            ("10.0.0.1", true),
            ("10.0.0.0/8", true),
            ("::/0", true),
            ("2001:db8::/128", true),
            ("10.0.0.0/33", false),
            ("10.0.0.0/", false),
            ("10.0.0.0/+8", false),
            ("1' OR '1'='1", false),
            ("", false),
            ("example.com", false),
        ] {
            let r = FirewallRuleSpec {
                remote: remote.into(),
                ..rule()
            };
            assert_eq!(r.check().is_ok(), ok, "{remote}");
            if !ok {
                assert_eq!(field(r), "remote");
            }
        }
        for (port, ok) in [
            ("22", true),
            ("8000-8080", true),
            ("80,443,8000-8080", true),
            ("65535", true),
            ("0", false),
            ("65536", false),
            ("90-80", false),
            ("+80", false),
            ("80;DROP TABLE x", false),
            ("", false),
            ("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", false),
        ] {
            let r = FirewallRuleSpec {
                local_port: port.into(),
                ..rule()
            };
            assert_eq!(r.check().is_ok(), ok, "{port}");
        }
        for p in [0, MAX_PRIORITY + 1] {
            assert_eq!(
                field(FirewallRuleSpec {
                    priority: p,
                    ..rule()
                }),
                "priority"
            );
        }
        assert_eq!(
            field(FirewallRuleSpec {
                name: "a\0b".into(),
                ..rule()
            }),
            "name"
        );
        assert_eq!(
            field(FirewallRuleSpec {
                name: "x".repeat(MAX_RULE_NAME + 1),
                ..rule()
            }),
            "name"
        );
        // Quotes and the like are a name's business: sent as text, never interpreted.
        assert!(FirewallRuleSpec {
            name: "o'brien; DROP TABLE rules --".into(),
            ..rule()
        }
        .check()
        .is_ok());
    }

    #[test]
    fn a_console_password_is_visible_ascii_of_a_sane_length() {
        assert!(check_console_password("vnc123").is_ok());
        assert!(check_console_password(&"x".repeat(32)).is_ok());
        for bad in [
            "short",
            "with space",
            "nul\0byte",
            "密码密码密码",
            &"x".repeat(33),
        ] {
            assert!(check_console_password(bad).is_err(), "{bad:?}");
        }
    }
}
