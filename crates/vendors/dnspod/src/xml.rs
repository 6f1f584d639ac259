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
    let (name, value) = p.element()?;
    if name != "dnspod" {
        return Err(format!("unexpected root element <{name}>"));
    }
    Ok(value)
}

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

    /// Parses `<name>...</name>` at the cursor.
    fn element(&mut self) -> Result<(String, Value), String> {
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
                text.push_str(std::str::from_utf8(&body[..end]).map_err(|_| "CDATA is not UTF-8")?);
                self.i += 9 + end + 3;
            } else if rest.starts_with(b"<!--") {
                let end = find(rest, b"-->").ok_or("unterminated comment")?;
                self.i += end + 3;
            } else if rest.starts_with(b"<") {
                children.push(self.element()?);
            } else {
                let end = find(rest, b"<").unwrap_or(rest.len());
                let raw = std::str::from_utf8(&rest[..end]).map_err(|_| "text is not UTF-8")?;
                text.push_str(&unescape(raw));
                self.i += end;
            }
        }
        if children.is_empty() {
            return Ok((name, Value::String(text.trim().to_string())));
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

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
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
}
