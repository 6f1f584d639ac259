//! Chinese and English. Every text is written at its use as a pair, `lang.t("中文",
//! "English")`, so a page and its translation are read and changed together and no
//! key can be missing.

use axum::http::request::Parts;
use axum::http::HeaderMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

/// The cookie that holds an explicit choice; it wins over the browser's languages.
pub const LANG_COOKIE: &str = "idcgate_lang";

impl Lang {
    pub fn t(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The cookie choice, else the first of Chinese or English the browser lists (its
    /// order, quality values aside: browsers list in preference order), else Chinese,
    /// the language of the market idcgate serves.
    pub fn of(headers: &HeaderMap) -> Lang {
        if let Some(l) = crate::session::cookie(headers, LANG_COOKIE).and_then(|v| Lang::parse(&v))
        {
            return l;
        }
        let accept = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        for tag in accept.split(',') {
            let tag = tag
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if tag.starts_with("zh") {
                return Lang::Zh;
            }
            if tag.starts_with("en") {
                return Lang::En;
            }
        }
        Lang::Zh
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::of(&parts.headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(accept: &str, cookie: Option<&str>) -> Lang {
        let mut h = HeaderMap::new();
        h.insert("accept-language", accept.parse().unwrap());
        if let Some(c) = cookie {
            h.insert("cookie", c.parse().unwrap());
        }
        Lang::of(&h)
    }

    #[test]
    fn browser_language_then_cookie() {
        assert_eq!(with("en-US,en;q=0.9,zh-CN;q=0.8", None), Lang::En);
        assert_eq!(with("zh-CN,zh;q=0.9,en;q=0.8", None), Lang::Zh);
        assert_eq!(with("fr-FR,en;q=0.5", None), Lang::En);
        assert_eq!(with("", None), Lang::Zh);
        assert_eq!(with("en-US", Some("a=b; idcgate_lang=zh")), Lang::Zh);
        assert_eq!(with("zh-CN", Some("idcgate_lang=bogus")), Lang::Zh);
    }
}
