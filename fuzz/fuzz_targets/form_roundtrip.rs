//! The form round trip: pairs of arbitrary strings that the charset can represent
//! (`Charset::can_encode`),
//! encoded by `form::encode` in GBK or UTF-8, come back unchanged from
//! `form::decode_declared` with that charset declared (and, for UTF-8, from the
//! undeclared `form::decode` too).
#![no_main]

use idcgate_wire::form::{decode, decode_declared, encode};
use idcgate_wire::Charset;
use libfuzzer_sys::fuzz_target;

/// `s` without the characters GBK cannot carry (emoji; private-use characters whose GBK
/// form reads back as another character).
fn gbk_only(s: &str) -> String {
    if Charset::Gbk.can_encode(s) {
        return s.to_string();
    }
    let mut buf = [0u8; 4];
    s.chars()
        .filter(|c| Charset::Gbk.can_encode(c.encode_utf8(&mut buf)))
        .collect()
}

fuzz_target!(|input: (u8, Vec<(String, String)>)| {
    let (sel, pairs) = input;
    let (charset, ct) = match sel % 4 {
        0 => (
            Charset::Gbk,
            "application/x-www-form-urlencoded; charset=GBK",
        ),
        1 => (
            Charset::Gbk,
            "application/x-www-form-urlencoded;charset=gb2312",
        ),
        2 => (
            Charset::Utf8,
            "application/x-www-form-urlencoded; charset=UTF-8",
        ),
        _ => (
            Charset::Utf8,
            "application/x-www-form-urlencoded; charset=\"utf-8\"",
        ),
    };
    let pairs: Vec<(String, String)> = match charset {
        Charset::Gbk => pairs
            .iter()
            .map(|(k, v)| (gbk_only(k), gbk_only(v)))
            .collect(),
        Charset::Utf8 => pairs,
    };
    let body = encode(&pairs, charset);
    assert!(body.is_ascii(), "{body}");
    assert_eq!(
        decode_declared(body.as_bytes(), Some(ct)),
        pairs,
        "{charset:?} {body}"
    );
    if charset == Charset::Utf8 {
        assert_eq!(decode(body.as_bytes()), pairs, "undeclared UTF-8 {body}");
    }
});
