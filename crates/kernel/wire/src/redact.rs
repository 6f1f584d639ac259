//! Keeps secrets out of logs and error texts: every known secret value (and its
//! percent-encoded and md5-style derived forms the caller registers) becomes `[redacted]`.

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
        let mut out = text.to_string();
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
    HINTS.iter().any(|h| n.contains(h)) || n == "sign" || n == "signature"
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_plain_and_encoded() {
        let r = Redactor::new(["5dh232kfg!*", "ab"]);
        let t = r.redact("password=5dh232kfg%21*&x=5dh232kfg!* ab");
        assert_eq!(t, "password=[redacted]&x=[redacted] ab");
    }
}
