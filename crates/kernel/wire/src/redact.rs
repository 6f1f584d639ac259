//! Keeps secrets out of logs and error texts: every known secret value (and its
//! percent-encoded and md5-style derived forms the caller registers) becomes `[redacted]`,
//! and so does the value of every secret-looking field ([`is_secret_name`]) in what an
//! upstream sends back, whatever it wraps it in ([`scrub_text`]): a password an upstream
//! answers with (Zonkvm's `loginPassword`, `ftp_password`) is no known secret.

#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Redactor {
    pub fn new<I, S>(secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut r = Redactor::default();
        for s in secrets {
            r.add(s.as_ref());
        }
        r
    }

    pub fn add(&mut self, secret: &str) {
        // Very short values would redact ordinary text and protect nothing.
        if secret.len() < 4 {
            return;
        }
        let encoded = crate::form::encode_component(secret, crate::Charset::Utf8);
        for s in [secret.to_string(), encoded] {
            if !self.secrets.contains(&s) {
                self.secrets.push(s);
            }
        }
        // Longest first so a secret containing another is removed whole.
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = scrub_text(text);
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "[redacted]");
            }
        }
        out
    }
}

/// Whether a parameter or field name says its value is secret, whatever the vendor
/// (passwords being set, verification codes, per-call tokens and keys).
pub fn is_secret_name(name: &str) -> bool {
    const HINTS: [&str; 10] = [
        "pass",
        "pwd",
        "secret",
        "token",
        "apikey",
        "api_key",
        "appkey",
        "privatekey",
        "vcode",
        "checksum",
    ];
    let n = name.to_ascii_lowercase();
    // A field named just `key` carries a private key (Zonkvm's `hosting_set_ssl`).
    HINTS.iter().any(|h| n.contains(h))
        || ["sign", "signature", "key", "private_key"].contains(&n.as_str())
}

/// A JSON document with the scalar values of secret-looking fields replaced, at any
/// depth; objects and arrays under such names are walked, not dropped.
pub fn scrub_json(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let blank = is_secret_name(k) && !v.is_object() && !v.is_array();
                    let v = if blank {
                        Value::String("[redacted]".into())
                    } else {
                        scrub_json(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(scrub_json).collect()),
        other => other.clone(),
    }
}

/// What the redactor puts in place of a secret.
const REDACTED: &str = "[redacted]";

/// `text` with the value of every secret-looking field blanked, in the encodings
/// upstreams answer in: a JSON document, JSON inside anything else (JSONP, an HTML page,
/// JSON escaped once or more inside a string), XML elements and form pairs
/// (`a=1&password=x`). Text with no field names (XenSystem's `0|a|b`) cannot be read
/// this way; only known secrets are removed from it.
pub fn scrub_text(text: &str) -> String {
    let trimmed = text.trim();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(trimmed) {
            return scrub_json(&v).to_string();
        }
    }
    if !text.contains(['"', '=', '<']) {
        return text.to_string();
    }
    let text = scrub_quoted_fields(text);
    let text = scrub_xml_elements(&text);
    scrub_form_pairs(&text)
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// `"name": value` anywhere, also escaped (`\"name\":\"value\"`): a secret name's
/// string or scalar value is blanked; objects and arrays are left to be walked.
fn scrub_quoted_fields(text: &str) -> String {
    let b = text.as_bytes();
    blank_values(text, b':', |i| {
        // Back from the colon: blanks, a quote, the name, a quote.
        let mut j = i;
        while j > 0 && b[j - 1].is_ascii_whitespace() {
            j -= 1;
        }
        let mut secret = false;
        if j > 0 && b[j - 1] == b'"' {
            let mut k = j - 1;
            while k > 0 && b[k - 1] == b'\\' {
                k -= 1;
            }
            let name_end = k;
            while k > 0 && is_name_byte(b[k - 1]) {
                k -= 1;
            }
            let opened = k > 0 && (b[k - 1] == b'"' || b[k - 1] == b'\\');
            secret = opened && k < name_end && is_secret_name(&text[k..name_end]);
        }
        if !secret {
            return Found::Nothing(i + 1);
        }
        // Forward from the colon: the value.
        let mut v = i + 1;
        while v < b.len() && b[v].is_ascii_whitespace() {
            v += 1;
        }
        let slashes = b[v..].iter().take_while(|&&c| c == b'\\').count();
        if b.get(v + slashes) == Some(&b'"') {
            // A string: it ends at a quote behind as many backslashes as opened it (more
            // would be a quote escaped inside it).
            let start = v + slashes + 1;
            let mut e = start;
            let mut found = None;
            while e < b.len() {
                if b[e] == b'"' {
                    let before = b[..e].iter().rev().take_while(|&&c| c == b'\\').count();
                    if before == slashes {
                        found = Some(e - slashes);
                        break;
                    }
                }
                e += 1;
            }
            Found::Value(start, found.unwrap_or(b.len()))
        } else if matches!(b.get(v), Some(b'{') | Some(b'[')) || v >= b.len() {
            Found::Nothing(i + 1)
        } else {
            let mut e = v;
            while e < b.len()
                && !matches!(b[e], b',' | b'}' | b']' | b'\\' | b'&' | b'<')
                && !b[e].is_ascii_whitespace()
            {
                e += 1;
            }
            Found::Value(v, e)
        }
    })
}

/// `<name>value</name>` (DNSPod's XML) for a secret name: the value blanked.
fn scrub_xml_elements(text: &str) -> String {
    let b = text.as_bytes();
    blank_values(text, b'<', |i| {
        let mut k = i + 1;
        while k < b.len() && is_name_byte(b[k]) {
            k += 1;
        }
        let name = &text[i + 1..k];
        let Some(close) = text[k..].find('>').map(|c| k + c) else {
            return Found::Nothing(b.len());
        };
        if name.is_empty() || !is_secret_name(name) || b[close - 1] == b'/' {
            return Found::Nothing(k.max(i + 1));
        }
        let start = close + 1;
        Found::Value(
            start,
            text[start..].find('<').map_or(b.len(), |e| start + e),
        )
    })
}

/// `name=value` pairs (forms, query strings, `key=value` lines): a secret name's value
/// blanked up to the next `&`, blank, quote or tag.
fn scrub_form_pairs(text: &str) -> String {
    let b = text.as_bytes();
    blank_values(text, b'=', |i| {
        let mut k = i;
        while k > 0 && (is_name_byte(b[k - 1]) || b[k - 1] == b'%') {
            k -= 1;
        }
        let starts_pair = k == 0
            || matches!(b[k - 1], b'&' | b'?' | b';' | b'\n')
            || b[k - 1].is_ascii_whitespace();
        let value_start = i + 1;
        let is_blank =
            b.get(value_start) == Some(&b'[') && text[value_start..].starts_with(REDACTED);
        if k == i || !starts_pair || is_blank || !is_secret_name(&text[k..i]) {
            return Found::Nothing(i + 1);
        }
        let mut e = value_start;
        while e < b.len()
            && !matches!(b[e], b'&' | b'"' | b'\'' | b'<')
            && !b[e].is_ascii_whitespace()
        {
            e += 1;
        }
        Found::Value(value_start, e)
    })
}

/// What a scrubber makes of one `marker` byte.
enum Found {
    /// A secret value at these byte offsets: blanked, and the scan goes on after it.
    Value(usize, usize),
    /// No value to blank here: the scan goes on at this offset.
    Nothing(usize),
}

/// `text` with every value `at` finds blanked; `at` is asked at each `marker` byte (by
/// its offset) that lies outside the values found so far.
fn blank_values(text: &str, marker: u8, mut at: impl FnMut(usize) -> Found) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] != marker {
            i += 1;
            continue;
        }
        match at(i) {
            Found::Value(start, end) => {
                out.push_str(&text[copied..start]);
                out.push_str(REDACTED);
                copied = end;
                i = end.max(i + 1);
            }
            Found::Nothing(next) => i = next,
        }
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_named_key_is_secret_a_key_inside_a_name_is_not() {
        assert!(is_secret_name("key") && is_secret_name("Private_Key"));
        assert!(!is_secret_name("keyword") && !is_secret_name("monkey"));
    }

    #[test]
    fn redacts_plain_and_encoded() {
        let r = Redactor::new(["5dh232kfg!*", "ab"]);
        let t = r.redact("password=5dh232kfg%21*&x=5dh232kfg!* ab");
        assert_eq!(t, "password=[redacted]&x=[redacted] ab");
    }

    #[test]
    fn secret_fields_of_answers_are_blanked_in_every_encoding() {
        let cases = [
            // Zonkvm's ThinkPHP envelope, plain JSON.
            (
                r#"{"code":1,"msg":"ok","data":{"loginPassword":"Zk-Secret-1","ftp_password":"Ftp-Secret-2","db_password":12345678,"name":"site"}}"#,
                vec!["Zk-Secret-1", "Ftp-Secret-2", "12345678"],
                vec!["site", "loginPassword"],
            ),
            // CNDNS: JSON inside JSONP and inside an HTML page.
            (
                r#"jsonp123({"Ftppassword":"Cn-Secret-3","FtpName":"shop"})"#,
                vec!["Cn-Secret-3"],
                vec!["shop", "jsonp123"],
            ),
            (
                r#"<html><body>{"result":1, "ftppassword" : "Cn-Secret-4", "n": 2}</body></html>"#,
                vec!["Cn-Secret-4"],
                vec!["\"n\": 2", "<body>"],
            ),
            // JSON escaped once inside a string (over-escaped answers).
            (
                r#""{\"db_password\":\"Esc-Secret-5\",\"x\":\"keep\"}""#,
                vec!["Esc-Secret-5"],
                vec!["keep"],
            ),
            // DNSPod's XML.
            (
                "<dnspod><user><password>Xml-Secret-6</password><email>a@b.cn</email></user></dnspod>",
                vec!["Xml-Secret-6"],
                vec!["a@b.cn"],
            ),
            // A form or query string.
            (
                "status=ok&password=Form-Secret-7&id=9",
                vec!["Form-Secret-7"],
                vec!["status=ok", "id=9"],
            ),
        ];
        for (answer, gone, kept) in cases {
            let shown = Redactor::default().redact(answer);
            for secret in gone {
                assert!(!shown.contains(secret), "{secret} shown in {shown}");
            }
            for text in kept {
                assert!(shown.contains(text), "{text} lost from {shown}");
            }
            assert!(shown.contains(REDACTED), "{shown}");
        }
        // Ordinary text is left alone.
        let plain = "0|vm-1|running: password must be 8 characters";
        assert_eq!(scrub_text(plain), plain);
    }
}
