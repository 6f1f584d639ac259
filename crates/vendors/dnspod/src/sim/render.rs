//! One ordered response value, rendered as DNSPod's compact PHP-style JSON or as its XML.
//! Handlers build a [`V`] once; the requested `format` only picks the renderer, so the
//! two formats can never drift apart. Typing (string vs number) is explicit per field,
//! because clients depend on the live server's inconsistent choices.

use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq)]
pub enum V {
    Null,
    Bool(bool),
    Int(i64),
    /// A number whose text is kept verbatim (money: never through f64).
    Num(String),
    Str(String),
    Arr(Vec<V>),
    Obj(Vec<(String, V)>),
}

/// `impl From<T> for V`, a conversion a line: what handlers may hand to [`obj!`].
macro_rules! from {
    ($($ty:ty => |$x:ident| $v:expr;)*) => {
        $(impl From<$ty> for V {
            fn from($x: $ty) -> Self {
                $v
            }
        })*
    };
}

from! {
    &str => |s| V::Str(s.to_string());
    String => |s| V::Str(s);
    &String => |s| V::Str(s.clone());
    i64 => |n| V::Int(n);
    u64 => |n| V::Int(i64::try_from(n).unwrap_or(i64::MAX));
    u32 => |n| V::Int(i64::from(n));
    usize => |n| V::Int(i64::try_from(n).unwrap_or(i64::MAX));
    bool => |b| V::Bool(b);
    Vec<V> => |a| V::Arr(a);
}

/// `obj!("k" => value, ...)`: an ordered object; values go through `V::from`.
macro_rules! obj {
    ($($k:expr => $v:expr),* $(,)?) => {
        $crate::sim::render::V::Obj(vec![$(($k.to_string(), $crate::sim::render::V::from($v))),*])
    };
}
pub(crate) use obj;

/// A string value: ids that the live API types as strings go through this.
pub fn s(x: impl ToString) -> V {
    V::Str(x.to_string())
}

/// Money in fen as a JSON number in yuan ("698", "12.5").
pub fn yuan(fen: i64) -> V {
    V::Num(yuan_text(fen))
}

pub fn yuan_text(fen: i64) -> String {
    rust_decimal::Decimal::new(fen, 2).normalize().to_string()
}

/// Compact JSON as PHP's `json_encode` writes it: non-ASCII as `\uXXXX`, `/` as `\/`.
pub fn to_json(v: &V) -> String {
    let mut out = String::new();
    write_json(v, &mut out);
    out
}

fn write_json(v: &V, out: &mut String) {
    match v {
        V::Null => out.push_str("null"),
        V::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        V::Int(n) => {
            let _ = write!(out, "{n}");
        }
        V::Num(t) => out.push_str(t),
        V::Str(s) => write_json_str(s, out),
        V::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        V::Obj(fields) => {
            out.push('{');
            for (i, (k, val)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_str(k, out);
                out.push(':');
                write_json(val, out);
            }
            out.push('}');
        }
    }
}

fn write_json_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// DNSPod's XML: `<dnspod>` root, keys as elements, arrays as `<item>`s. The agent
/// document pretty-prints with indentation, but live answers put one element per line
/// without indentation and wrap text in CDATA once it has more than plain word
/// characters (`<message><![CDATA[Login fail, please check login info]]></message>`
/// next to `<created_at>2020-09-30 09:49:58</created_at>`); live behaviour wins.
pub fn to_xml(v: &V) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    write_xml_elem("dnspod", v, &mut out);
    out
}

/// Text that goes out bare; anything else is CDATA.
fn xml_plain(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '.' | ':' | '_' | '@'))
}

fn write_xml_elem(name: &str, v: &V, out: &mut String) {
    match v {
        V::Arr(items) if items.is_empty() => {
            let _ = writeln!(out, "<{name}></{name}>");
        }
        V::Obj(fields) if fields.is_empty() => {
            let _ = writeln!(out, "<{name}></{name}>");
        }
        V::Arr(items) => {
            let _ = writeln!(out, "<{name}>");
            for item in items {
                write_xml_elem("item", item, out);
            }
            let _ = writeln!(out, "</{name}>");
        }
        V::Obj(fields) => {
            let _ = writeln!(out, "<{name}>");
            for (k, val) in fields {
                write_xml_elem(k, val, out);
            }
            let _ = writeln!(out, "</{name}>");
        }
        V::Null => {
            let _ = writeln!(out, "<{name}/>");
        }
        V::Bool(b) => {
            let _ = writeln!(out, "<{name}>{b}</{name}>");
        }
        V::Int(n) => {
            let _ = writeln!(out, "<{name}>{n}</{name}>");
        }
        V::Num(t) => {
            let _ = writeln!(out, "<{name}>{t}</{name}>");
        }
        V::Str(s) => {
            if xml_plain(s) {
                let _ = writeln!(out, "<{name}>{s}</{name}>");
            } else if !s.contains("]]>") {
                let _ = writeln!(out, "<{name}><![CDATA[{s}]]></{name}>");
            } else {
                let esc = s
                    .replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;");
                let _ = writeln!(out, "<{name}>{esc}</{name}>");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_php_style_and_xml_uses_items() {
        let v = obj!("a" => s(1), "b" => 2i64, "c" => "电信/x", "d" => vec![V::Null, V::Bool(true)], "e" => yuan(1250));
        assert_eq!(
            to_json(&v),
            r#"{"a":"1","b":2,"c":"\u7535\u4fe1\/x","d":[null,true],"e":12.5}"#
        );
        assert_eq!(
            to_xml(&v),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<dnspod>\n<a>1</a>\n<b>2</b>\n<c><![CDATA[电信/x]]></c>\n<d>\n<item/>\n<item>true</item>\n</d>\n<e>12.5</e>\n</dnspod>\n"
        );
    }
}
