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
/// GBK), so GBK and UTF-8 senders are both understood. Short GBK values can also be
/// valid UTF-8 (`記` is `D3 9B`); use [`decode_declared`] when the sender names its
/// charset.
pub fn decode(body: &[u8]) -> Vec<(String, String)> {
    decode_as(body, None)
}

/// Like [`decode`], but a charset declared in the Content-Type (`charset=gbk`) wins
/// wherever the value is valid in it.
pub fn decode_declared(body: &[u8], content_type: Option<&str>) -> Vec<(String, String)> {
    decode_as(body, content_type.and_then(Charset::from_content_type))
}

fn decode_as(body: &[u8], declared: Option<Charset>) -> Vec<(String, String)> {
    body.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let mut it = pair.splitn(2, |b| *b == b'=');
            let k = it.next().unwrap_or_default();
            let v = it.next().unwrap_or_default();
            (unescape(k, declared), unescape(v, declared))
        })
        .collect()
}

fn unescape(raw: &[u8], declared: Option<Charset>) -> String {
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    let bytes: Vec<u8> = percent_decode(&plus_as_space).collect();
    declared
        .and_then(|cs| cs.decode(&bytes))
        .unwrap_or_else(|| decode_lenient(&bytes))
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

    /// Random values (ASCII specials, Chinese, and for UTF-8 emoji) survive a round trip
    /// in both charsets when the charset is declared; undeclared UTF-8 always does (GBK
    /// cannot promise it: see `decode`); the decoder never panics on random bytes.
    #[test]
    fn random_round_trips() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let gbk_pool: Vec<char> =
            "aZ09 +&=%?#/\\\"'*-._~中文测试記錄西部数码解析、，。!@$^()[]{}|<>`"
                .chars()
                .collect();
        let utf8_extra: Vec<char> = "😀🚀ñé€".chars().collect();
        for round in 0..500 {
            let charset = if round % 2 == 0 {
                Charset::Gbk
            } else {
                Charset::Utf8
            };
            let pool: Vec<char> = match charset {
                Charset::Gbk => gbk_pool.clone(),
                Charset::Utf8 => gbk_pool.iter().chain(&utf8_extra).copied().collect(),
            };
            let len = rng.gen_range(0..24);
            let value: String = (0..len)
                .map(|_| pool[rng.gen_range(0..pool.len())])
                .collect();
            let body = encode(&[("k", value.as_str())], charset);
            let declared = match charset {
                Charset::Gbk => "application/x-www-form-urlencoded; charset=gbk",
                Charset::Utf8 => "application/x-www-form-urlencoded; charset=utf-8",
            };
            assert_eq!(
                decode_declared(body.as_bytes(), Some(declared)),
                vec![("k".to_string(), value.clone())],
                "{charset:?} {body}"
            );
            if charset == Charset::Utf8 {
                assert_eq!(
                    decode(body.as_bytes())[0].1,
                    value,
                    "undeclared UTF-8 is always understood"
                );
            }
        }
        for _ in 0..500 {
            let len = rng.gen_range(0..64);
            let bytes: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            let _ = decode(&bytes);
        }
    }

    #[test]
    fn declared_charset_resolves_the_gbk_utf8_ambiguity() {
        let gbk = encode(&[("v", "記")], Charset::Gbk);
        assert_eq!(
            decode(gbk.as_bytes())[0].1,
            "ӛ",
            "undeclared, D3 9B reads as UTF-8"
        );
        assert_eq!(
            decode_declared(
                gbk.as_bytes(),
                Some("application/x-www-form-urlencoded; charset=GBK")
            )[0]
            .1,
            "記"
        );
        let utf = encode(&[("v", "記")], Charset::Utf8);
        assert_eq!(
            decode_declared(
                utf.as_bytes(),
                Some("application/x-www-form-urlencoded; charset=gbk")
            )[0]
            .1,
            "記",
            "not valid GBK: falls back"
        );
    }

    #[test]
    fn odd_input_does_not_panic() {
        let pairs = decode(b"a&=b&c=%ZZ&d=%E4");
        assert_eq!(pairs.len(), 4);
    }
}
