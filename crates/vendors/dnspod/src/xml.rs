//! A small reader for DNSPod's XML: elements, text, CDATA, the five entities. No
//! attributes are used by the API. Arrays are elements whose children are all `<item>`.
//! Written here rather than pulling an XML crate because the shape is this narrow.

use serde_json::{Map, Value};

pub fn parse(text: &str) -> Result<Value, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    p.skip_prolog();
    let (name, value) = p.element(0)?;
    if name != "dnspod" {
        return Err(format!("unexpected root element <{name}>"));
    }
    Ok(value)
}

const MAX_DEPTH: usize = 32;

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &[u8] {
        &self.s[self.i.min(self.s.len())..]
    }

    fn skip_ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn skip_prolog(&mut self) {
        loop {
            self.skip_ws();
            if self.rest().starts_with(b"<?") || self.rest().starts_with(b"<!--") {
                let end: &[u8] = if self.rest().starts_with(b"<?") {
                    b"?>"
                } else {
                    b"-->"
                };
                match find(self.rest(), end) {
                    Some(p) => self.i += p + end.len(),
                    None => self.i = self.s.len(),
                }
            } else {
                return;
            }
        }
    }

    fn name(&mut self) -> Result<String, String> {
        let start = self.i;
        while self.i < self.s.len()
            && !matches!(self.s[self.i], b'>' | b'/' | b' ' | b'\t' | b'\r' | b'\n')
        {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .map(str::to_string)
            .map_err(|_| "element name is not UTF-8".to_string())
    }

    /// Parses `<name>...</name>` at the cursor. `depth` bounds the recursion: a hostile
    /// or broken upstream nesting thousands of elements would otherwise overflow the
    /// stack and abort the whole process (DNSPod's documents are 5 levels deep).
    fn element(&mut self, depth: usize) -> Result<(String, Value), String> {
        if depth > MAX_DEPTH {
            return Err(format!("elements nested deeper than {MAX_DEPTH}"));
        }
        self.skip_ws();
        if !self.rest().starts_with(b"<") {
            return Err(format!("expected an element at byte {}", self.i));
        }
        self.i += 1;
        let name = self.name()?;
        // Skip attributes (none expected) up to the end of the start tag.
        let close = find(self.rest(), b">").ok_or("unterminated start tag")?;
        let self_closing = close > 0 && self.rest()[close - 1] == b'/';
        self.i += close + 1;
        if self_closing {
            return Ok((name, Value::Null));
        }
        let mut text = String::new();
        // CDATA is the value verbatim (a TXT record may end in a space); only the bare
        // text around it is layout.
        let mut cdata: Option<String> = None;
        let mut children: Vec<(String, Value)> = Vec::new();
        loop {
            if self.i >= self.s.len() {
                return Err(format!("unterminated element <{name}>"));
            }
            let rest = self.rest();
            if rest.starts_with(b"</") {
                self.i += 2;
                let end = self.name()?;
                if end != name {
                    return Err(format!("mismatched </{end}> for <{name}>"));
                }
                let gt = find(self.rest(), b">").ok_or("unterminated end tag")?;
                self.i += gt + 1;
                break;
            } else if rest.starts_with(b"<![CDATA[") {
                let body = &rest[9..];
                let end = find(body, b"]]>").ok_or("unterminated CDATA")?;
                cdata
                    .get_or_insert_with(String::new)
                    .push_str(std::str::from_utf8(&body[..end]).map_err(|_| "CDATA is not UTF-8")?);
                self.i += 9 + end + 3;
            } else if rest.starts_with(b"<!--") {
                let end = find(rest, b"-->").ok_or("unterminated comment")?;
                self.i += end + 3;
            } else if rest.starts_with(b"<") {
                children.push(self.element(depth + 1)?);
            } else {
                let end = find(rest, b"<").unwrap_or(rest.len());
                let raw = std::str::from_utf8(&rest[..end]).map_err(|_| "text is not UTF-8")?;
                text.push_str(&unescape(raw));
                self.i += end;
            }
        }
        if children.is_empty() {
            let text = match cdata {
                Some(c) => format!("{}{c}", text.trim()),
                None => text.trim().to_string(),
            };
            return Ok((name, Value::String(text)));
        }
        if children.iter().all(|(n, _)| n == "item") {
            return Ok((
                name,
                Value::Array(children.into_iter().map(|(_, v)| v).collect()),
            ));
        }
        let mut map = Map::new();
        for (k, v) in children {
            map.insert(k, v);
        }
        Ok((name, Value::Object(map)))
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The five named entities and numeric references (`&#39;`, `&#x4e2d;`); anything
/// else is kept as written rather than failing the whole answer.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').filter(|&semi| semi <= 10).and_then(|semi| {
            let c = match &rest[1..semi] {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "amp" => Some('&'),
                e => e
                    .strip_prefix("#x")
                    .or_else(|| e.strip_prefix("#X"))
                    .map(|h| u32::from_str_radix(h, 16))
                    .or_else(|| e.strip_prefix('#').map(str::parse::<u32>))
                    .and_then(Result::ok)
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, semi))
        });
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_the_agent_doc_shape() {
        let doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<dnspod>\n  <status>\n    <code>1</code>\n    <message>Action completed successful</message>\n  </status>\n  <users>\n    <item>\n      <id>423255</id>\n      <title><![CDATA[豪华 & VIP]]></title>\n      <weight/>\n    </item>\n  </users>\n  <empty></empty>\n</dnspod>\n";
        let v = super::parse(doc).unwrap();
        assert_eq!(v["status"]["code"], "1");
        assert_eq!(v["users"][0]["id"], "423255");
        assert_eq!(v["users"][0]["title"], "豪华 & VIP");
        assert!(v["users"][0]["weight"].is_null());
        assert_eq!(v["empty"], "");
        assert!(super::parse("<dnspod><a>1</dnspod>").is_err());
    }

    #[test]
    fn cdata_keeps_its_spaces() {
        let v = super::parse("<dnspod>\n <v><![CDATA[ a b ]]></v>\n <w> x </w></dnspod>").unwrap();
        assert_eq!(v["v"], " a b ");
        assert_eq!(v["w"], "x");
    }

    #[test]
    fn entities() {
        assert_eq!(
            super::unescape("a &amp;lt; &#39;x&#x4e2d;&#X41; &bogus; & &#xFFFFFFFF; &"),
            "a &lt; 'x中A &bogus; & &#xFFFFFFFF; &"
        );
    }

    /// Whatever arrives, the parser answers `Err` instead of panicking or overflowing.
    #[test]
    fn hostile_input_is_an_error_not_a_crash() {
        let n = 200_000;
        let deep = format!("<dnspod>{}{}</dnspod>", "<a>".repeat(n), "</a>".repeat(n));
        assert!(super::parse(&deep).unwrap_err().contains("nested"));
        let at_limit = format!(
            "<dnspod>{}x{}</dnspod>",
            "<a>".repeat(super::MAX_DEPTH),
            "</a>".repeat(super::MAX_DEPTH)
        );
        assert!(super::parse(&at_limit).is_ok());
        for bad in [
            "",
            "<",
            "<dnspod",
            "<dnspod>",
            "<dnspod><![CDATA[x</dnspod>",
            "<dnspod><!-- x</dnspod>",
            "<dnspod></",
            "<dnspod></dnspod",
            "<other></other>",
            "<dnspod><a></b></dnspod>",
            "<dnspod>\u{0}<a>&#0;</a></dnspod",
        ] {
            assert!(super::parse(bad).is_err(), "{bad:?}");
        }
        // Every prefix of a real document fails cleanly.
        let doc = "<?xml version=\"1.0\"?><dnspod><status><code>1</code><message><![CDATA[中文]]></message></status><records><item><id>1</id></item></records></dnspod>";
        for end in (0..doc.len()).filter(|&i| doc.is_char_boundary(i)) {
            assert!(super::parse(&doc[..end]).is_err(), "{}", &doc[..end]);
        }
        assert!(super::parse(doc).is_ok());
    }
}
