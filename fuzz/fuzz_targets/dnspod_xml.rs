//! DNSPod's XML reader on arbitrary text. Properties: never panics (nor overflows the
//! stack); whatever it reads, written back as XML (CDATA for text, `<item>` for arrays),
//! reads the same.
#![no_main]

use idcgate_dnspod::fuzzing::parse_xml;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn write(out: &mut String, name: &str, v: &Value) {
    match v {
        Value::Null => {
            out.push('<');
            out.push_str(name);
            out.push_str(" />");
        }
        Value::String(s) => {
            out.push_str(&format!("<{name}>"));
            if !s.is_empty() {
                out.push_str("<![CDATA[");
                out.push_str(&s.replace("]]>", "]]]]><![CDATA[>"));
                out.push_str("]]>");
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Array(items) => {
            assert!(!items.is_empty(), "the reader never makes an empty array");
            out.push_str(&format!("<{name}>"));
            for i in items {
                write(out, "item", i);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Object(m) => {
            assert!(!m.is_empty(), "the reader never makes an empty object");
            out.push_str(&format!("<{name}>"));
            for (k, x) in m {
                write(out, k, x);
            }
            out.push_str(&format!("</{name}>"));
        }
        other => panic!("the XML reader produced a non-text scalar {other}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(v) = parse_xml(text) else { return };
    let mut xml = String::new();
    write(&mut xml, "dnspod", &v);
    let again = parse_xml(&xml).unwrap_or_else(|e| panic!("re-read failed: {e}\n{xml}"));
    assert_eq!(again, v, "{xml}");
});
