//! `application/x-www-form-urlencoded` in either charset, and the one
//! `multipart/form-data` decoder the simulators and the downstream endpoint share. Values
//! are encoded to bytes in the charset first, then percent-encoded, which is what GBK
//! upstreams expect. A file is bytes, not text: [`multipart_file`] and [`raw_value`]
//! give a value as sent, where the fields hold it decoded.

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

/// A request body's fields, urlencoded or multipart by its Content-Type, in the
/// declared charset. A multipart file part's `filename` becomes the field `file_field`
/// too, where a vendor names the upload that way.
pub fn decode_body(
    body: &[u8],
    content_type: Option<&str>,
    file_field: Option<&str>,
) -> Vec<(String, String)> {
    let declared = content_type.and_then(Charset::from_content_type);
    let Some(boundary) = content_type.and_then(multipart_boundary) else {
        return decode_declared(body, content_type);
    };
    let mut fields = Vec::new();
    for part in decode_multipart(body, &boundary, declared) {
        let filename = part.filename;
        fields.push((part.name, part.value));
        if let (Some(field), Some(name)) = (file_field, filename) {
            fields.push((field.to_string(), name));
        }
    }
    fields
}

/// One part of a `multipart/form-data` body.
#[derive(Clone, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    /// The content as text: a plain field decoded in its charset; a file part's bytes
    /// as lossy UTF-8 (a copy for form fields, not the file: see `bytes`).
    pub value: String,
    /// The `filename` of a file part; `None` for a plain field.
    pub filename: Option<String>,
    /// The content exactly as sent, before any decoding: a file part's data.
    pub bytes: Vec<u8>,
}

/// Names and sizes only: a part may be a file or a secret.
impl std::fmt::Debug for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Part")
            .field("name", &self.name)
            .field("filename", &self.filename)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// The first part named `name` (case-insensitively) of a multipart body, its bytes as sent (a file part, or
/// a plain one: PHP's `$_POST` keeps a value's bytes too); `None` for a body that is
/// not multipart or has no such part.
pub fn multipart_file(body: &[u8], content_type: Option<&str>, name: &str) -> Option<Part> {
    let boundary = content_type.and_then(multipart_boundary)?;
    let declared = content_type.and_then(Charset::from_content_type);
    decode_multipart(body, &boundary, declared)
        .into_iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))
}

/// The first value of `key` (matched case-insensitively) in a urlencoded body as bytes:
/// percent-decoded and nothing more, where a file's data is no text in any charset.
pub fn raw_value(body: &[u8], key: &str) -> Option<Vec<u8>> {
    let bytes = |raw: &[u8]| -> Vec<u8> {
        let spaced: Vec<u8> = raw
            .iter()
            .map(|b| if *b == b'+' { b' ' } else { *b })
            .collect();
        percent_decode(&spaced).collect()
    };
    body.split(|b| *b == b'&').find_map(|pair| {
        let mut it = pair.splitn(2, |b| *b == b'=');
        let k = bytes(it.next().unwrap_or_default());
        k.eq_ignore_ascii_case(key.as_bytes())
            .then(|| bytes(it.next().unwrap_or_default()))
    })
}

/// RFC 2046 caps a boundary at 70 characters; a longer one is refused rather than
/// searched for (it only makes the delimiter scan slower).
const MAX_BOUNDARY: usize = 70;

/// The boundary of a `multipart/form-data` Content-Type; `None` for anything else or a
/// boundary that is empty or longer than RFC 2046 allows.
pub fn multipart_boundary(content_type: &str) -> Option<String> {
    let (mime, params) = content_type.split_once(';').unwrap_or((content_type, ""));
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    header_params(params)
        .into_iter()
        .find(|(k, _)| k == "boundary")
        .map(|(_, v)| v)
        .filter(|b| !b.is_empty() && b.len() <= MAX_BOUNDARY)
}

/// The parts of a multipart body, in order. Names and text values are decoded in the
/// part's declared charset, else the request's (`declared`), else leniently; a file
/// part's bytes are data, kept as sent in `bytes` (its `value` is lossy UTF-8). Malformed parts are skipped and a
/// part without its closing delimiter is dropped (a truncated upload must not be stored
/// as if it were whole); nothing here panics on hostile input.
pub fn decode_multipart(body: &[u8], boundary: &str, declared: Option<Charset>) -> Vec<Part> {
    let delim = [b"--", boundary.as_bytes()].concat();
    if boundary.is_empty() || boundary.len() > MAX_BOUNDARY {
        return Vec::new();
    }
    // A delimiter is a whole line (or the closing `--`): a value may quote the boundary.
    let starts: Vec<usize> = memchr::memmem::find_iter(body, &delim)
        .filter(|&at| {
            let line_start = at == 0 || body[at - 1] == b'\n';
            let rest = &body[at + delim.len()..];
            line_start && (rest.starts_with(b"--") || only_padding_then_newline(rest))
        })
        .collect();
    let mut out = Vec::new();
    for pair in starts.windows(2) {
        let segment = &body[pair[0] + delim.len()..pair[1]];
        if segment.starts_with(b"--") {
            break; // the closing delimiter: the rest is epilogue
        }
        if let Some(part) = decode_part(segment, declared) {
            out.push(part);
        }
    }
    out
}

/// Whether `rest` is blanks up to a line break (stops at the first other byte, so the
/// scan over every candidate delimiter stays linear).
fn only_padding_then_newline(rest: &[u8]) -> bool {
    for b in rest {
        match b {
            b'\n' => return true,
            b' ' | b'\t' | b'\r' => {}
            _ => return false,
        }
    }
    false
}

/// One part: the rest of its delimiter line (transport padding), headers, a blank
/// line, the content, and the line break that belongs to the next delimiter.
fn decode_part(segment: &[u8], declared: Option<Charset>) -> Option<Part> {
    let nl = segment.iter().position(|b| *b == b'\n')?;
    let content = &segment[nl + 1..];
    let content = content.strip_suffix(b"\n").unwrap_or(content);
    let content = content.strip_suffix(b"\r").unwrap_or(content);
    let (head, value) = split_head(content)?;
    let head = declared
        .and_then(|cs| cs.decode(head))
        .unwrap_or_else(|| decode_lenient(head));
    let mut name = None;
    let mut filename = None;
    let mut charset = declared;
    for line in head.lines() {
        let Some((key, rest)) = line.split_once(':') else {
            continue;
        };
        let key = key.trim();
        if key.eq_ignore_ascii_case("content-disposition") {
            let params = rest.split_once(';').map_or("", |(_, p)| p);
            for (k, v) in header_params(params) {
                match k.as_str() {
                    "name" => name = Some(v),
                    "filename" => filename = Some(v),
                    _ => {}
                }
            }
        } else if key.eq_ignore_ascii_case("content-type") {
            charset = Charset::from_content_type(rest).or(charset);
        }
    }
    let text = if filename.is_some() {
        String::from_utf8_lossy(value).into_owned()
    } else {
        charset
            .and_then(|cs| cs.decode(value))
            .unwrap_or_else(|| decode_lenient(value))
    };
    Some(Part {
        name: name?,
        value: text,
        filename,
        bytes: value.to_vec(),
    })
}

/// Headers and content of a part, split at the first blank line (CRLF or bare LF).
fn split_head(content: &[u8]) -> Option<(&[u8], &[u8])> {
    let crlf = memchr::memmem::find(content, b"\r\n\r\n").map(|at| (at, 4));
    let lf = memchr::memmem::find(content, b"\n\n").map(|at| (at, 2));
    let (at, len) = match (crlf, lf) {
        (Some(a), Some(b)) => {
            if a.0 <= b.0 {
                a
            } else {
                b
            }
        }
        (a, b) => a.or(b)?,
    };
    Some((&content[..at], &content[at + len..]))
}

/// `; key=value; key="quoted; value"` as (lower-case key, value) pairs. A quoted value
/// runs to the next quote: browsers send backslashes in file names raw, not as escapes.
fn header_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        rest = rest.trim_start_matches(|c: char| c == ';' || c.is_whitespace());
        let key_end = rest.find(['=', ';']).unwrap_or(rest.len());
        let key = rest[..key_end].trim().to_ascii_lowercase();
        rest = &rest[key_end..];
        let Some(after_eq) = rest.strip_prefix('=') else {
            continue;
        };
        let after_eq = after_eq.trim_start();
        let value;
        if let Some(quoted) = after_eq.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            value = quoted[..end].to_string();
            rest = quoted.get(end + 1..).unwrap_or("");
        } else {
            let end = after_eq.find(';').unwrap_or(after_eq.len());
            value = after_eq[..end].trim().to_string();
            rest = &after_eq[end..];
        }
        if !key.is_empty() {
            out.push((key, value));
        }
    }
    out
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
    fn a_raw_value_is_percent_decoded_bytes() {
        let body = b"a=1&File=%00%FF%E4+x%zz&file=second";
        assert_eq!(raw_value(body, "file").unwrap(), b"\x00\xff\xe4 x%zz");
        assert_eq!(raw_value(body, "a").unwrap(), b"1");
        assert_eq!(raw_value(b"file", "file").unwrap(), b"");
        assert!(raw_value(body, "b").is_none());
    }

    #[test]
    fn odd_input_does_not_panic() {
        let pairs = decode(b"a&=b&c=%ZZ&d=%E4");
        assert_eq!(pairs.len(), 4);
    }

    #[test]
    fn multipart_fields_and_files_are_read() {
        let body = b"--XYZ\r\nContent-Disposition: form-data; name=\"Action\"\r\n\r\nvm_info\r\n--XYZ\r\nContent-Disposition: form-data; name=\"vpsid\"\r\n\r\n3\r\n--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a;b.txt\"\r\nContent-Type: application/octet-stream\r\n\r\nline1\r\n--XYZ-ish\r\n\xff\r\n--XYZ--\r\nepilogue";
        let b = multipart_boundary("multipart/form-data; boundary=XYZ").unwrap();
        let parts = decode_multipart(body, &b, None);
        let fields: Vec<(&str, &str)> = parts
            .iter()
            .map(|p| (p.name.as_str(), p.value.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("Action", "vm_info"),
                ("vpsid", "3"),
                ("file", "line1\r\n--XYZ-ish\r\n\u{fffd}")
            ]
        );
        assert_eq!(parts[2].filename.as_deref(), Some("a;b.txt"));
        assert_eq!(
            parts[2].bytes, b"line1\r\n--XYZ-ish\r\n\xff",
            "a file part's bytes as sent, 0xff included"
        );
        assert_eq!(parts[0].filename, None);
        assert_eq!(parts[0].bytes, b"vm_info");
    }

    /// Every byte value, twice (CR LF and `--` among them), arrives as sent; only the
    /// line break before the next delimiter belongs to the delimiter.
    #[test]
    fn a_file_parts_bytes_are_kept_as_sent() {
        let data: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        let mut body = b"--b\r\nContent-Disposition: form-data; name=\"start\"\r\n\r\n0\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n\r\n".to_vec();
        body.extend(&data);
        body.extend(b"\r\n--b--\r\n");
        let ct = Some("multipart/form-data; boundary=b");
        let part = multipart_file(&body, ct, "file").unwrap();
        assert_eq!(part.bytes, data);
        assert_eq!(part.filename.as_deref(), Some("a.bin"));
        assert_eq!(
            format!("{part:?}"),
            r#"Part { name: "file", filename: Some("a.bin"), bytes: 512 }"#,
            "Debug shows no content"
        );
        assert_eq!(multipart_file(&body, ct, "start").unwrap().bytes, b"0");
        assert!(multipart_file(&body, ct, "none").is_none());
        assert!(multipart_file(&body, Some("application/x-www-form-urlencoded"), "file").is_none());
        assert!(multipart_file(&body, None, "file").is_none());
    }

    #[test]
    fn multipart_boundaries() {
        assert!(multipart_boundary("application/x-www-form-urlencoded").is_none());
        assert!(multipart_boundary("multipart/form-datax; boundary=a").is_none());
        assert_eq!(
            multipart_boundary("Multipart/Form-Data; boundary=\"XYZ\"; charset=utf-8").as_deref(),
            Some("XYZ")
        );
        assert_eq!(
            multipart_boundary("multipart/form-data; charset=utf-8; boundary=b0").as_deref(),
            Some("b0")
        );
        assert!(multipart_boundary("multipart/form-data; boundary=").is_none());
        assert!(multipart_boundary("multipart/form-data").is_none());
        let long = format!("multipart/form-data; boundary={}", "x".repeat(71));
        assert!(multipart_boundary(&long).is_none());
    }

    #[test]
    fn multipart_edge_cases() {
        // Bare LF line ends, a declared GBK text part, a part without a name.
        let mut body = b"preamble\n--b\nContent-Disposition: form-data; name=v\nContent-Type: text/plain; charset=gbk\n\n".to_vec();
        body.extend(Charset::Gbk.encode("記"));
        body.extend(b"\n--b\nContent-Disposition: form-data\n\nx\n--b--\n");
        let parts = decode_multipart(&body, "b", None);
        assert_eq!(parts.len(), 1);
        assert_eq!(
            (parts[0].name.as_str(), parts[0].value.as_str()),
            ("v", "記")
        );
        // A part whose closing delimiter never came is dropped, earlier ones kept.
        let cut = b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--b\r\nContent-Disposition: form-data; name=file; filename=x\r\n\r\npartial";
        let parts = decode_multipart(cut, "b", None);
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].value, "1");
        // An empty value and an empty body.
        let empty = b"--b\r\nContent-Disposition: form-data; name=\"e\"\r\n\r\n\r\n--b--";
        assert_eq!(decode_multipart(empty, "b", None)[0].value, "");
        assert!(decode_multipart(b"", "b", None).is_empty());
        assert!(decode_multipart(b"--b--", "b", None).is_empty());
    }

    /// Random bytes, random cuts and random splices of a valid body never panic.
    #[test]
    fn multipart_survives_hostile_bodies() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let valid: &[u8] = b"--b\r\nContent-Disposition: form-data; name=\"a\"; filename=\"\r\n\r\nv\r\n--b\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\n--b\r\n--b--\r\n";
        let pool: &[u8] = b"-b\r\n\";=: name\xff\xe4";
        for _ in 0..3000 {
            let mut body = valid.to_vec();
            for _ in 0..rng.gen_range(0..8) {
                let at = rng.gen_range(0..=body.len());
                match rng.gen_range(0..3) {
                    0 => body.insert(at, pool[rng.gen_range(0..pool.len())]),
                    1 if at < body.len() => {
                        body.remove(at);
                    }
                    _ => body.truncate(at),
                }
            }
            let _ = decode_multipart(&body, "b", None);
            let _ = decode_multipart(&body, "b", Some(Charset::Gbk));
        }
        for _ in 0..500 {
            let len = rng.gen_range(0..128);
            let bytes: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            let _ = decode_multipart(&bytes, "b", None);
            let ct = String::from_utf8_lossy(&bytes).into_owned();
            let _ = multipart_boundary(&format!("multipart/form-data;{ct}"));
        }
    }
}
