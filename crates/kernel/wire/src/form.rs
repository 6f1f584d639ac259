//! `application/x-www-form-urlencoded` in either charset. Values are encoded to bytes in
//! the charset first, then percent-encoded, which is what GBK upstreams expect.

use crate::charset::{decode_lenient, Charset};
use percent_encoding::{percent_decode, percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Like `URLSearchParams`: everything but `*-._` and alphanumerics is escaped.
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_');

pub fn encode_component(value: &str, charset: Charset) -> String {
    let bytes = charset.encode(value);
    percent_encode(&bytes, FORM).to_string().replace("%20", "+")
}

pub fn encode<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)], charset: Charset) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                encode_component(k.as_ref(), charset),
                encode_component(v.as_ref(), charset)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Decodes a form body or query string; each value is decoded on its own (UTF-8, else
/// GBK), so GBK and UTF-8 senders are both understood.
pub fn decode(body: &[u8]) -> Vec<(String, String)> {
    body.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let mut it = pair.splitn(2, |b| *b == b'=');
            let k = it.next().unwrap_or_default();
            let v = it.next().unwrap_or_default();
            (unescape(k), unescape(v))
        })
        .collect()
}

fn unescape(raw: &[u8]) -> String {
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    let bytes: Vec<u8> = percent_decode(&plus_as_space).collect();
    decode_lenient(&bytes)
}

/// First value of a key, matched case-insensitively (upstreams disagree on case).
pub fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_and_utf8_forms_round_trip() {
        let pairs = [("value", "测试 记录&x=1"), ("act", "adddnsrecord")];
        let gbk = encode(&pairs, Charset::Gbk);
        assert!(gbk.contains("%B2%E2%CA%D4+"), "{gbk}");
        let back = decode(gbk.as_bytes());
        assert_eq!(back[0].1, "测试 记录&x=1");
        let utf = encode(&pairs, Charset::Utf8);
        assert_eq!(decode(utf.as_bytes())[0].1, "测试 记录&x=1");
        assert_eq!(get(&back, "ACT"), Some("adddnsrecord"));
    }

    #[test]
    fn odd_input_does_not_panic() {
        let pairs = decode(b"a&=b&c=%ZZ&d=%E4");
        assert_eq!(pairs.len(), 4);
    }
}
