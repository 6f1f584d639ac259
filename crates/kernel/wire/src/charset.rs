//! The two text encodings the upstreams use.

use encoding_rs::GBK;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    Utf8,
    /// GBK (a superset of GB2312, which West.cn names in its Content-Type).
    Gbk,
}

impl Charset {
    pub fn encode(self, text: &str) -> Vec<u8> {
        match self {
            Charset::Utf8 => text.as_bytes().to_vec(),
            Charset::Gbk => GBK.encode(text).0.into_owned(),
        }
    }

    /// Decodes strictly; `None` if the bytes are not valid in this charset.
    pub fn decode(self, bytes: &[u8]) -> Option<String> {
        match self {
            Charset::Utf8 => std::str::from_utf8(bytes).ok().map(str::to_string),
            Charset::Gbk => GBK
                .decode_without_bom_handling_and_without_replacement(bytes)
                .map(|c| c.into_owned()),
        }
    }

    /// Whether `text` survives this charset unchanged: every character has a form in it
    /// that reads back as the same character. GBK lacks emoji and rare CJK; and since
    /// GB18030-2022 the forms of 18 private-use characters read back as standard ones
    /// (U+E792 is sent as A6DE, which reads as U+FE15).
    pub fn can_encode(self, text: &str) -> bool {
        match self {
            Charset::Utf8 => true,
            Charset::Gbk => {
                let (bytes, _, unmappable) = GBK.encode(text);
                !unmappable && self.decode(&bytes).as_deref() == Some(text)
            }
        }
    }

    /// The charset a `Content-Type` header names, if any it knows.
    pub fn from_content_type(ct: &str) -> Option<Charset> {
        let lower = ct.to_ascii_lowercase();
        let cs = lower.split("charset=").nth(1)?.trim().trim_matches('"');
        if cs.starts_with("gb") {
            Some(Charset::Gbk)
        } else if cs.starts_with("utf") {
            Some(Charset::Utf8)
        } else {
            None
        }
    }
}

/// Decodes text that may arrive in either charset (live clients and servers mix them
/// up). Strict UTF-8 is tried first because Chinese UTF-8 text is very often also
/// valid GBK, while GBK text is almost never valid UTF-8; then GBK; then lossy UTF-8.
pub fn decode_lenient(bytes: &[u8]) -> String {
    Charset::Utf8
        .decode(bytes)
        .or_else(|| Charset::Gbk.decode(bytes))
        .unwrap_or_else(|| String::from_utf8_lossy(bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_round_trip_and_content_type() {
        let bytes = Charset::Gbk.encode("西部数码");
        assert_eq!(bytes.len(), 8);
        assert_eq!(Charset::Gbk.decode(&bytes).as_deref(), Some("西部数码"));
        assert_eq!(
            Charset::from_content_type("application/json; Charset=gb2312"),
            Some(Charset::Gbk)
        );
        assert_eq!(
            Charset::from_content_type("text/html;charset=UTF-8"),
            Some(Charset::Utf8)
        );
        assert_eq!(decode_lenient("中文".as_bytes()), "中文");
        assert_eq!(decode_lenient(&Charset::Gbk.encode("中文")), "中文");
    }

    /// Found by `fuzz/form_roundtrip`: `[("u=a\u{e792}", "")]` did not survive a GBK form
    /// round trip, because A6DE (GBK's form of U+E792) reads back as U+FE15.
    #[test]
    fn gbk_cannot_carry_characters_that_read_back_as_others() {
        assert_eq!(
            Charset::Gbk
                .decode(&Charset::Gbk.encode("\u{e792}"))
                .as_deref(),
            Some("\u{fe15}")
        );
        assert!(!Charset::Gbk.can_encode("u=a\u{e792}"));
        assert!(!Charset::Gbk.can_encode("ok 😀"));
        assert!(Charset::Gbk.can_encode("西部数码 \u{fe15} € u=a&b"));
        assert!(Charset::Utf8.can_encode("u=a\u{e792} 😀"));
    }
}
