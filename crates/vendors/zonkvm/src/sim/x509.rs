//! Just enough X.509 to answer `hosting_get_ssl` from the certificate a caller deployed:
//! validity dates, the issuer's name and the DNS names. The workspace has no X.509 crate
//! and the simulator needs nothing else, so this reads PEM -> DER by hand. Every read is
//! bounds-checked: the input is whatever a request sent.

/// What `hosting_get_ssl` reports about a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CertInfo {
    /// `Y-m-d`, as the document's example.
    pub start_date: String,
    pub end_date: String,
    /// The issuer's organisation, else its common name (the example: "Let's Encrypt").
    pub issuer: String,
    /// subjectAltName DNS names, else the subject's common name.
    pub dns: Vec<String>,
}

const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
const OID_O: &[u8] = &[0x55, 0x04, 0x0a];
const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];

/// Reads the first `CERTIFICATE` block of a PEM text; `None` if it is not one.
pub(crate) fn parse_pem(pem: &str) -> Option<CertInfo> {
    let body = pem
        .split("-----BEGIN CERTIFICATE-----")
        .nth(1)?
        .split("-----END CERTIFICATE-----")
        .next()?;
    parse_der(&base64(body)?)
}

/// Whether a text is a PEM private key (`BEGIN PRIVATE KEY`, `BEGIN RSA PRIVATE KEY`, ...)
/// with a decodable body.
pub(crate) fn is_private_key_pem(pem: &str) -> bool {
    let Some((_, rest)) = pem.split_once("-----BEGIN ") else {
        return false;
    };
    let Some((label, rest)) = rest.split_once("-----") else {
        return false;
    };
    let end = format!("-----END {label}-----");
    label.ends_with("PRIVATE KEY")
        && rest
            .split_once(end.as_str())
            .and_then(|(body, _)| base64(body))
            .is_some_and(|der| !der.is_empty())
}

fn parse_der(der: &[u8]) -> Option<CertInfo> {
    let (cert, _) = tlv(der, 0x30)?;
    let (tbs, _) = tlv(cert, 0x30)?;
    let mut rest = tbs;
    if rest.first() == Some(&0xa0) {
        rest = tlv(rest, 0xa0)?.1;
    }
    let (_serial, rest) = tlv(rest, 0x02)?;
    let (_sig_alg, rest) = tlv(rest, 0x30)?;
    let (issuer, rest) = tlv(rest, 0x30)?;
    let (validity, rest) = tlv(rest, 0x30)?;
    let (subject, rest) = tlv(rest, 0x30)?;
    let (_spki, mut rest) = tlv(rest, 0x30)?;
    let (not_before, after) = time(validity)?;
    let (not_after, _) = time(after)?;
    let mut dns = Vec::new();
    while let Some((&tag, _)) = rest.split_first() {
        let (value, next) = tlv(rest, tag)?;
        if tag == 0xa3 {
            dns = san_names(value).unwrap_or_default();
        }
        rest = next;
    }
    if dns.is_empty() {
        dns.extend(name_attr(subject, OID_CN));
    }
    Some(CertInfo {
        start_date: not_before,
        end_date: not_after,
        issuer: name_attr(issuer, OID_O).or_else(|| name_attr(issuer, OID_CN))?,
        dns,
    })
}

/// One DER element with tag `tag` at the start of `buf`: (contents, what follows).
fn tlv(buf: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&t, rest) = buf.split_first()?;
    if t != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let bytes = rest.get(..n)?;
        let len = bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, rest.get(n..)?)
    };
    Some((rest.get(..len)?, rest.get(len..)?))
}

/// A UTCTime or GeneralizedTime as `Y-m-d`, and what follows it.
fn time(buf: &[u8]) -> Option<(String, &[u8])> {
    let (text, rest, century) = match buf.first()? {
        0x17 => {
            let (t, r) = tlv(buf, 0x17)?;
            // RFC 5280: two-digit years 50..99 are 19xx, 00..49 are 20xx.
            let yy = std::str::from_utf8(t.get(..2)?).ok()?.parse::<u32>().ok()?;
            (t, r, Some(if yy >= 50 { "19" } else { "20" }))
        }
        0x18 => {
            let (t, r) = tlv(buf, 0x18)?;
            (t, r, None)
        }
        _ => return None,
    };
    let text = std::str::from_utf8(text).ok()?;
    if !text.is_ascii() {
        return None;
    }
    let full = format!("{}{text}", century.unwrap_or(""));
    let (y, m, d) = (full.get(..4)?, full.get(4..6)?, full.get(6..8)?);
    if ![y, m, d]
        .iter()
        .all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    Some((format!("{y}-{m}-{d}"), rest))
}

/// The value of the first attribute `oid` in a Name (SEQUENCE OF SET OF {oid, value}).
fn name_attr(mut name: &[u8], oid: &[u8]) -> Option<String> {
    while !name.is_empty() {
        let (set, next) = tlv(name, 0x31)?;
        let (atv, _) = tlv(set, 0x30)?;
        let (id, value) = tlv(atv, 0x06)?;
        if id == oid {
            let (&tag, _) = value.split_first()?;
            let (text, _) = tlv(value, tag)?;
            return Some(String::from_utf8_lossy(text).into_owned());
        }
        name = next;
    }
    None
}

/// dNSName entries of the subjectAltName extension inside `[3] { SEQUENCE OF Extension }`.
fn san_names(explicit: &[u8]) -> Option<Vec<String>> {
    let (mut exts, _) = tlv(explicit, 0x30)?;
    while !exts.is_empty() {
        let (ext, next) = tlv(exts, 0x30)?;
        let (id, mut rest) = tlv(ext, 0x06)?;
        if id == OID_SAN {
            if rest.first() == Some(&0x01) {
                rest = tlv(rest, 0x01)?.1;
            }
            let (octets, _) = tlv(rest, 0x04)?;
            let (mut names, _) = tlv(octets, 0x30)?;
            let mut out = Vec::new();
            while let Some((&tag, _)) = names.split_first() {
                let (value, next) = tlv(names, tag)?;
                if tag == 0x82 {
                    out.push(String::from_utf8_lossy(value).into_owned());
                }
                names = next;
            }
            return Some(out);
        }
        exts = next;
    }
    None
}

/// Standard base64 with whitespace ignored and nothing read after the first `=`; `None`
/// on any other stray byte.
fn base64(text: &str) -> Option<Vec<u8>> {
    let data = text.bytes().take_while(|&b| b != b'=');
    idcgate_wire::sim::decode_base64(data.filter(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_input_is_refused_not_panicked_on() {
        assert_eq!(parse_pem("no pem here"), None);
        assert_eq!(
            parse_pem("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----"),
            None
        );
        for der in [
            &[][..],
            &[0x30],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            &[0x30, 0x85, 1, 1, 1, 1, 1],
            &[0x30, 0x03, 0x30, 0x01],
        ] {
            assert_eq!(parse_der(der), None);
        }
        assert!(!is_private_key_pem(
            "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----"
        ));
        assert!(is_private_key_pem(
            "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----"
        ));
    }

    #[test]
    fn reads_the_fixture_and_survives_every_truncation() {
        let pem = include_str!("../../tests/fixtures/site.crt");
        let info = parse_pem(pem).unwrap();
        assert_eq!(info.issuer, "Zonk Test CA");
        assert_eq!(
            (info.start_date.as_str(), info.end_date.as_str()),
            ("2026-11-25", "2027-11-25")
        );
        let body = pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>();
        let der = base64(&body).unwrap();
        for n in 0..der.len() {
            assert_eq!(parse_der(&der[..n]), None, "prefix {n}");
            let mut flipped = der.clone();
            flipped[n] ^= 0xff;
            let _ = parse_der(&flipped);
        }
    }

    #[test]
    fn base64_decodes() {
        assert_eq!(base64("aGVs\nbG8=").unwrap(), b"hello");
        assert_eq!(base64("aGk="), Some(b"hi".to_vec()));
    }
}
