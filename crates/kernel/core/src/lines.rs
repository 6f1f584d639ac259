//! Resolution lines (默认/电信/联通/移动 ...) across vendors. Each vendor crate names
//! its lines in its own neutral spelling (DNSPod `edu`, West `education`); this table
//! says which spellings are one line, so a record moved between vendors keeps its line,
//! and a line the other side lacks is named rather than sent.

use crate::error::{Error, Result};

/// Each line: its canonical name, then every other spelling a vendor or person uses,
/// lower case (vendor codes such as West's `LTEL` included).
const LINES: &[(&str, &[&str])] = &[
    ("default", &["默认", "", "any"]),
    ("china", &["国内", "境内"]),
    ("abroad", &["国外", "境外", "lfor", "overseas", "foreign"]),
    ("telecom", &["电信", "ltel", "ctc", "chinanet"]),
    ("unicom", &["联通", "lcnc", "cuc", "cnc"]),
    ("mobile", &["移动", "lmob", "cmcc", "cmc"]),
    ("education", &["教育网", "edu", "ledu", "cernet"]),
    ("search", &["搜索引擎", "lseo", "seo"]),
    ("baidu", &["百度"]),
    ("google", &["谷歌"]),
    ("soso", &["搜搜"]),
    ("youdao", &["有道"]),
    ("bing", &["必应"]),
    ("sogou", &["搜狗"]),
    ("qihoo", &["奇虎", "360"]),
];

/// The canonical name of a line, `None` for one this table does not know.
pub fn canonical(line: &str) -> Option<&'static str> {
    let l = line.trim().to_lowercase();
    LINES
        .iter()
        .find(|(name, aliases)| *name == l || aliases.contains(&l.as_str()))
        .map(|(name, _)| *name)
}

/// Whether `line` (as a record carries it: `None` is the default) is the default line.
pub fn is_default(line: Option<&str>) -> bool {
    line.is_none_or(|l| canonical(l) == Some("default"))
}

/// Whether two spellings name one line; unknown lines match only themselves (ignoring
/// case and surrounding blanks).
pub fn same(a: Option<&str>, b: Option<&str>) -> bool {
    match (is_default(a), is_default(b)) {
        (true, true) => true,
        (false, false) => {
            let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
            match (canonical(a), canonical(b)) {
                (Some(x), Some(y)) => x == y,
                _ => a.trim().eq_ignore_ascii_case(b.trim()),
            }
        }
        _ => false,
    }
}

/// `line` spelled as one of `offered` (the lines a zone accepts, as its vendor crate
/// names them): `None` for the default line, which every zone has; an error naming the
/// line and what is offered when the zone has no such line.
pub fn map_to(line: Option<&str>, offered: &[String]) -> Result<Option<String>> {
    if is_default(line) {
        return Ok(None);
    }
    let wanted = line.unwrap_or_default();
    offered
        .iter()
        .find(|o| same(Some(wanted), Some(o)))
        .map(|o| Some(o.clone()))
        .ok_or_else(|| {
            Error::invalid(
                "line",
                format!(
                    "line {wanted:?} does not exist there (lines offered: {})",
                    offered.join(", ")
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_has_many_spellings_and_unknown_lines_match_only_themselves() {
        assert_eq!(canonical("电信"), Some("telecom"));
        assert_eq!(canonical("LTEL"), Some("telecom"));
        assert_eq!(canonical(" Edu "), Some("education"));
        assert_eq!(canonical("江苏电信"), None);
        assert!(same(Some("edu"), Some("education")));
        assert!(same(None, Some("默认")));
        assert!(same(Some("default"), None));
        assert!(!same(Some("telecom"), Some("unicom")));
        assert!(!same(None, Some("telecom")));
        assert!(same(Some("江苏电信"), Some("江苏电信")));
        assert!(!same(Some("江苏电信"), Some("telecom")));
    }

    #[test]
    fn a_line_is_spelled_as_the_target_offers_it_or_refused_by_name() {
        let west: Vec<String> = ["default", "telecom", "education"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            map_to(Some("edu"), &west).unwrap(),
            Some("education".into())
        );
        assert_eq!(map_to(Some("电信"), &west).unwrap(), Some("telecom".into()));
        assert_eq!(map_to(None, &west).unwrap(), None);
        assert_eq!(map_to(Some("默认"), &["default".into()]).unwrap(), None);
        let err = map_to(Some("mobile"), &["default".into()]).unwrap_err();
        assert!(err.to_string().contains("mobile"), "{err}");
    }
}
