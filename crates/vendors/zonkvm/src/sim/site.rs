//! The BT (宝塔) panel side of a hosting site, reached through `hosting_operate`:
//! hotlink protection, WAF switches and CC/retry settings, reverse proxies, redirects,
//! user.ini switches, rewrite rules and a file manager over an in-memory tree.
//!
//! Paths are absolute. A site may touch its own root (`/www/wwwroot/<ftp>`) and its
//! rewrite directory (`/www/server/panel/vhost/rewrite/`), nothing else.

use super::hosting::{root_of, site, site_mut};
use super::orders::empty;
use super::state::*;
use super::{Answer, Fields, Handler, Req, OK_READ, OK_WRITE};
use idcgate_wire::sim::remove_where;
use jiff::Timestamp;
use serde_json::{json, Map, Value};

const REWRITE_DIR: &str = "/www/server/panel/vhost/rewrite";

/// The rewrite presets every node ships (name, title, rules).
const PRESETS: [(&str, &str, &str); 4] = [
    ("thinkphp", "ThinkPHP", "location / {\n    if (!-e $request_filename) {\n        rewrite ^(.*)$ /index.php?s=$1 last;\n    }\n}"),
    ("laravel", "Laravel", "location / {\n    try_files $uri $uri/ /index.php$is_args$query_string;\n}"),
    ("wordpress", "WordPress", "location / {\n    try_files $uri $uri/ /index.php?$args;\n}"),
    ("ecshop", "ECShop", "if (!-e $request_filename) {\n    rewrite \"^/index\\.html\" /index.php last;\n}"),
];

/// WAF objects `set_site_obj_open` accepts (the document's list).
const WAF_OBJECTS: [&str; 14] = [
    "readonly",
    "cdn",
    "spider_status",
    "scan_open",
    "drop_china",
    "drop_abroad",
    "cookie",
    "user-agent",
    "get",
    "file_upload",
    "rce_injection",
    "xss_injection",
    "sql_injection",
    "cc",
];

pub(crate) fn new_panel(root: &str, now: Timestamp) -> Panel {
    let mut p = Panel {
        security: (String::new(), ".jpg|.png|.gif|.mp4".into(), 0, "403".into()),
        user_ini: [1, 0, 0],
        ..Panel::default()
    };
    p.files.insert(root.to_string(), dir(now));
    p.files
        .insert(format!("{root}/index.html"), file("<h1>It works</h1>", now));
    p
}

fn dir(now: Timestamp) -> Node {
    Node {
        dir: true,
        content: Vec::new(),
        modified: now,
    }
}

fn file(content: impl Into<Vec<u8>>, now: Timestamp) -> Node {
    Node {
        dir: false,
        content: content.into(),
        modified: now,
    }
}

pub(crate) fn handler(op: &str) -> Option<Handler> {
    Some(match op {
        "hosting_get_security" => |st, r| {
            read(st, r, |h| {
                let (domains, fix, status, http) = &h.panel.security;
                json!({"domains": domains, "fix": fix, "status": status, "http_status": http, "none": http})
            })
        },
        "hosting_set_security" => set_security,
        "hosting_get_index" => get_index,
        "hosting_set_site_status" => set_site_status,
        "hosting_set_site_cc_conf" => |st, r| set_post(st, r, |p| &mut p.cc),
        "hosting_set_site_retry" => |st, r| set_post(st, r, |p| &mut p.retry),
        "hosting_get_proxy_list" => |st, r| read(st, r, |h| rows(h, &h.panel.proxies, "proxyname")),
        "hosting_create_proxy" => |st, r| save_rule(st, r, Rule::Proxy, false),
        "hosting_modify_proxy" => |st, r| save_rule(st, r, Rule::Proxy, true),
        "hosting_delete_proxy" => |st, r| delete_rule(st, r, Rule::Proxy),
        "hosting_get_proxy_file" => |st, r| rule_file(st, r, Rule::Proxy),
        "hosting_get_redirect_list" => {
            |st, r| read(st, r, |h| rows(h, &h.panel.redirects, "redirectname"))
        }
        "hosting_create_redirect" => |st, r| save_rule(st, r, Rule::Redirect, false),
        "hosting_modify_redirect" => |st, r| save_rule(st, r, Rule::Redirect, true),
        "hosting_delete_redirect" => |st, r| delete_rule(st, r, Rule::Redirect),
        "hosting_get_redirect_file" => |st, r| rule_file(st, r, Rule::Redirect),
        "hosting_save_redirect_file" => save_redirect_file,
        "hosting_get_dir_binding" => |st, r| {
            read(st, r, |h| {
                let root = root_of(&h.ftp_name);
                json!({"binding": [], "dirs": children(&h.panel, &root).filter(|(_, n)| n.dir).map(|(p, _)| name_of(p)).collect::<Vec<_>>()})
            })
        },
        "hosting_get_dir_user_ini_switch" => |st, r| {
            read(
                st,
                r,
                |h| json!({"userini": user_ini(&h.panel).to_string()}),
            )
        },
        "hosting_get_user_ini" => |st, r| read(st, r, |h| user_ini(&h.panel)),
        "hosting_set_dir_user_ini" => |st, r| {
            let on = r.int_or("status", 0)?;
            site_mut(st, r.guid()?)?.panel.user_ini[0] = on;
            Ok((OK_WRITE, empty()))
        },
        "hosting_get_rewrite_list" => |st, r| {
            site(st, r.guid()?)?;
            Ok((
                OK_READ,
                Value::Array(
                    PRESETS
                        .iter()
                        .map(|(n, t, _)| json!({"name": n, "title": t}))
                        .collect(),
                ),
            ))
        },
        "hosting_get_file_body" => get_file_body,
        "hosting_save_file_body" => save_file_body,
        "hosting_create_file" => |st, r| create(st, r, false),
        "hosting_create_dir" => |st, r| create(st, r, true),
        "hosting_get_dir_new" => list_dir,
        "hosting_get_dir_size" => |st, r| {
            let (h, path) = at(st, r, "path")?;
            let size: usize = subtree(&h.panel, &path).map(|(_, n)| n.content.len()).sum();
            Ok((OK_READ, json!({"size": size})))
        },
        "hosting_delete_file" => delete_file,
        "hosting_mv_file" => mv_file,
        "hosting_check_exists_files" => check_exists,
        "hosting_upload_files_exists" => upload_exists,
        "hosting_upload" => upload,
        "hosting_set_batch_data" => set_batch_data,
        "hosting_paste_file" => paste_file,
        "hosting_batch_paste" => batch_paste,
        "hosting_zip" => zip,
        "hosting_unzip" => unzip,
        _ => return None,
    })
}

fn read(st: &mut State, r: &Req<'_>, f: fn(&Hosting) -> Value) -> Answer {
    Ok((OK_READ, f(site(st, r.guid()?)?)))
}

fn set_security(st: &mut State, r: &Req<'_>) -> Answer {
    let status = r.int_or("statusSecurity", 0)?;
    let fix = r.get("fix").unwrap_or(".jpg|.png|.gif|.mp4").to_string();
    let domains = r.get("domains").unwrap_or_default().to_string();
    let http = r.get("http_status").unwrap_or("403").to_string();
    if !matches!(status, 0 | 1) || http.parse::<u16>().is_err() {
        return Err("参数错误：statusSecurity格式不正确".into());
    }
    site_mut(st, r.guid()?)?.panel.security = (domains, fix, status, http);
    Ok((OK_WRITE, empty()))
}

fn get_index(st: &mut State, r: &Req<'_>) -> Answer {
    let h = site(st, r.guid()?)?;
    match r.get("s").or(r.get("name")).unwrap_or("get_index") {
        "get_index" => Ok((
            OK_READ,
            json!({"siteName": h.domain, "index": h.index, "runPath": h.run_path}),
        )),
        "get_site_config_byname" => {
            let flag = |k: &str| h.panel.waf.get(k).copied().unwrap_or(0);
            let mut cc = h.panel.cc.clone();
            cc.insert("status".into(), json!(flag("cc")));
            // The sample names the mode (`"mode": "hard"`) where set_site_cc_conf takes
            // `cc_mode` 0 标准 / 1 增强 / 2 严格; "hard" is read as 严格.
            let mode = match as_int(cc.get("cc_mode")) {
                Some(2) => "hard",
                Some(1) => "enhance",
                _ => "normal",
            };
            cc.insert("mode".into(), json!(mode));
            let mut retry = h.panel.retry.clone();
            retry.insert(
                "status".into(),
                json!(flag("retry").max(i64::from(!h.panel.retry.is_empty()))),
            );
            // `count` is the sample's name for the attacks allowed per cycle (`retry`
            // when set); the panel's default is the sample's 300.
            let count = as_int(retry.get("retry")).unwrap_or(300);
            retry.insert("count".into(), json!(count));
            Ok((
                OK_READ,
                json!({"cc": cc, "user_agent": {"status": flag("user-agent")}, "retry": retry}),
            ))
        }
        _ => Err("参数错误：s格式不正确".into()),
    }
}

/// A panel number, sent as a number or as its text.
fn as_int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn set_site_status(st: &mut State, r: &Req<'_>) -> Answer {
    let status = r.int_or("status", 0)?;
    let key = match r.get("s").or(r.get("name")).unwrap_or_default() {
        "set_site_status" => "tamper_proof".to_string(),
        "set_site_obj_open" => {
            let obj = r.need("obj")?;
            if !WAF_OBJECTS.contains(&obj) {
                return Err("参数错误：obj格式不正确".into());
            }
            obj.to_string()
        }
        _ => return Err("参数错误：s格式不正确".into()),
    };
    site_mut(st, r.guid()?)?.panel.waf.insert(key, status);
    Ok((OK_WRITE, empty()))
}

/// CC and retry settings: the `post` object, whose numeric fields must be numbers.
fn set_post(
    st: &mut State,
    r: &Req<'_>,
    slot: fn(&mut Panel) -> &mut Map<String, Value>,
) -> Answer {
    let post = r.object("post")?;
    if post.is_empty() {
        return Err("缺少必要参数：post".into());
    }
    let numeric = [
        "cc_mode",
        "cycle",
        "limit",
        "endtime",
        "retry",
        "retry_time",
        "retry_cycle",
    ];
    if let Some(k) = numeric.iter().find(|k| {
        post.get(**k).is_some_and(|v| {
            !v.is_i64() && v.as_str().and_then(|s| s.parse::<i64>().ok()).is_none()
        })
    }) {
        return Err(format!("参数错误：post.{k}格式不正确"));
    }
    let h = site_mut(st, r.guid()?)?;
    slot(&mut h.panel).extend(post);
    Ok((OK_WRITE, empty()))
}

#[derive(Clone, Copy)]
enum Rule {
    Proxy,
    Redirect,
}

impl Rule {
    fn field(self) -> &'static str {
        match self {
            Rule::Proxy => "proxyData",
            Rule::Redirect => "post",
        }
    }
    fn key(self) -> &'static str {
        match self {
            Rule::Proxy => "proxyname",
            Rule::Redirect => "redirectname",
        }
    }
    fn list(self, p: &mut Panel) -> &mut Vec<Map<String, Value>> {
        match self {
            Rule::Proxy => &mut p.proxies,
            Rule::Redirect => &mut p.redirects,
        }
    }
}

fn rows(h: &Hosting, list: &[Map<String, Value>], key: &str) -> Value {
    let rows = list.iter().enumerate().map(|(n, m)| {
        let mut row = Map::new();
        row.insert("id".into(), json!((n + 1).to_string()));
        row.insert("sitename".into(), json!(h.domain));
        row.insert(key.into(), m.get(key).cloned().unwrap_or(Value::Null));
        row.extend(
            m.iter()
                .filter(|(k, _)| k.as_str() != key && k.as_str() != "file")
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        // What the panel keeps for a field the rule was created without (the samples
        // list every one of them).
        let defaults: &[(&str, Value)] = match key {
            "proxyname" => &[
                ("cache", json!(0)),
                ("cachetime", json!(1)),
                ("advanced", json!(0)),
                ("type", json!(1)),
                ("subfilter", json!("[]")),
            ],
            _ => &[("redirectpath", json!("")), ("holdpath", json!(0))],
        };
        for (k, v) in defaults {
            row.entry(*k).or_insert_with(|| v.clone());
        }
        Value::Object(row)
    });
    Value::Array(rows.collect())
}

fn target_url(m: &Map<String, Value>, key: &str) -> Result<(), Fail> {
    match m.get(key).and_then(Value::as_str) {
        Some(u) if u.starts_with("http://") || u.starts_with("https://") => Ok(()),
        _ => Err(format!("参数错误：{key}格式不正确")),
    }
}

/// Creates (or, with `modify`, replaces) a proxy or redirect rule named in its object.
fn save_rule(st: &mut State, r: &Req<'_>, rule: Rule, modify: bool) -> Answer {
    let mut data = r.object(rule.field())?;
    let id = r.guid()?;
    let h = site_mut(st, id)?;
    let list = rule.list(&mut h.panel);
    let name = match (rule, modify) {
        (Rule::Redirect, false) => format!("redirect_{}", list.len() + 1),
        _ => data
            .get(rule.key())
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    };
    if name.is_empty() {
        return Err(format!("缺少必要参数：{}.{}", rule.field(), rule.key()));
    }
    match rule {
        Rule::Proxy => target_url(&data, "proxysite")?,
        Rule::Redirect => {
            target_url(&data, "tourl")?;
            if !matches!(
                data.get("domainorpath").and_then(Value::as_str),
                Some("domain" | "path")
            ) {
                return Err("参数错误：post.domainorpath格式不正确".into());
            }
            if let Some(Value::String(d)) = data.get("redirectdomain") {
                let list: Vec<Value> = d.split(',').map(|x| json!(x.trim())).collect();
                data.insert("redirectdomain".into(), Value::Array(list));
            }
        }
    }
    data.insert(rule.key().into(), json!(name));
    let at = list
        .iter()
        .position(|m| m.get(rule.key()) == Some(&json!(name)));
    match (at, modify) {
        (Some(i), true) => list[i] = data,
        (None, false) => list.push(data),
        (Some(_), false) => return Err("规则名称已存在".into()),
        (None, true) => return Err("规则不存在".into()),
    }
    Ok((OK_WRITE, empty()))
}

fn delete_rule(st: &mut State, r: &Req<'_>, rule: Rule) -> Answer {
    let name = json!(r.need(rule.key())?);
    let list = rule.list(&mut site_mut(st, r.guid()?)?.panel);
    remove_where(
        list,
        |m| m.get(rule.key()) == Some(&name),
        "规则不存在".to_string(),
    )?;
    Ok((OK_WRITE, empty()))
}

/// The nginx snippet a rule becomes (or the text saved over it).
fn render(rule: Rule, m: &Map<String, Value>) -> String {
    let g = |k: &str| match m.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" "),
        Some(v) => v.to_string(),
        None => String::new(),
    };
    if let Some(Value::String(saved)) = m.get("file") {
        return saved.clone();
    }
    match rule {
        Rule::Proxy => format!(
            "#PROXY-START {n}\nlocation {d} {{\n    proxy_pass {s};\n    proxy_set_header Host {t};\n}}\n#PROXY-END {n}",
            n = g("proxyname"), d = Some(g("proxydir")).filter(|d| !d.is_empty()).unwrap_or_else(|| "/".into()), s = g("proxysite"), t = g("todomain")
        ),
        Rule::Redirect => format!(
            "#REWRITE-START {n}\nif ($host ~ '^({d})$') {{\n    return {c} {u}$request_uri;\n}}\n#REWRITE-END {n}",
            n = g("redirectname"), d = g("redirectdomain").replace(' ', "|"), c = g("redirecttype"), u = g("tourl")
        ),
    }
}

fn rule_file(st: &mut State, r: &Req<'_>, rule: Rule) -> Answer {
    let name = json!(r.need(rule.key())?);
    let h = site_mut(st, r.guid()?)?;
    let m = rule
        .list(&mut h.panel)
        .iter()
        .find(|m| m.get(rule.key()) == Some(&name))
        .ok_or("规则不存在")?;
    Ok((OK_READ, json!({"content": render(rule, m), "status": true})))
}

fn save_redirect_file(st: &mut State, r: &Req<'_>) -> Answer {
    let path = r.need("path")?;
    let name = json!(path
        .rsplit('/')
        .next()
        .unwrap_or(path)
        .trim_end_matches(".conf"));
    let text = r.need("text")?.to_string();
    let h = site_mut(st, r.guid()?)?;
    let m = h
        .panel
        .redirects
        .iter_mut()
        .find(|m| m.get("redirectname") == Some(&name))
        .ok_or("规则不存在")?;
    m.insert("file".into(), json!(text));
    Ok((OK_WRITE, empty()))
}

fn user_ini(p: &Panel) -> Value {
    json!({"open_basedir": p.user_ini[0], "log_access": p.user_ini[1], "password_access": p.user_ini[2]})
}

// ---- the file tree ----

/// The site and an absolute, normalised path inside what it may touch.
fn at<'a>(st: &'a mut State, r: &Req<'_>, key: &str) -> Result<(&'a mut Hosting, String), Fail> {
    let raw = r.need(key)?.to_string();
    let h = site_mut(st, r.guid()?)?;
    let path = checked(h, &raw, key)?;
    Ok((h, path))
}

fn checked(h: &Hosting, raw: &str, key: &str) -> Result<String, Fail> {
    let path = raw.trim().trim_end_matches('/').to_string();
    let root = root_of(&h.ftp_name);
    let inside = path == root
        || path.starts_with(&format!("{root}/"))
        || path.starts_with(&format!("{REWRITE_DIR}/"));
    if !path.starts_with('/') || path.split('/').any(|s| s == "..") || !inside {
        return Err(format!("参数错误：{key}格式不正确"));
    }
    Ok(path)
}

fn name_of(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_string()
}

fn parent_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("/", |(p, _)| p)
}

fn children<'a>(p: &'a Panel, dir: &'a str) -> impl Iterator<Item = (&'a String, &'a Node)> + 'a {
    p.files
        .iter()
        .filter(move |(k, _)| parent_of(k) == dir && k.as_str() != dir)
}

fn subtree<'a>(p: &'a Panel, path: &'a str) -> impl Iterator<Item = (&'a String, &'a Node)> + 'a {
    p.files
        .iter()
        .filter(move |(k, _)| k.as_str() == path || k.starts_with(&format!("{path}/")))
}

fn ensure_parent(p: &Panel, path: &str) -> Result<(), Fail> {
    let parent = parent_of(path);
    if parent.starts_with(REWRITE_DIR) || p.files.get(parent).is_some_and(|n| n.dir) {
        Ok(())
    } else {
        Err("上级目录不存在".into())
    }
}

fn create(st: &mut State, r: &Req<'_>, is_dir: bool) -> Answer {
    let now = st.now();
    let (h, path) = at(st, r, "path")?;
    if h.panel.files.contains_key(&path) {
        return Err("文件或目录已存在".into());
    }
    ensure_parent(&h.panel, &path)?;
    h.panel
        .files
        .insert(path, if is_dir { dir(now) } else { file("", now) });
    Ok((OK_WRITE, empty()))
}

fn list_dir(st: &mut State, r: &Req<'_>) -> Answer {
    let (h, path) = at(st, r, "path")?;
    if !h.panel.files.get(&path).is_some_and(|n| n.dir) {
        return Err("目录不存在".into());
    }
    let rows = children(&h.panel, &path)
        .map(|(k, n)| {
            let size: usize = if n.dir { 4096 } else { n.content.len() };
            json!({"filename": name_of(k), "type": if n.dir { "dir" } else { "file" }, "size": size.to_string(), "modify_time": fmt_time(n.modified)})
        })
        .collect();
    Ok((OK_READ, Value::Array(rows)))
}

fn delete_file(st: &mut State, r: &Req<'_>) -> Answer {
    let (h, path) = at(st, r, "path")?;
    if path == root_of(&h.ftp_name) {
        return Err("网站根目录不能删除".into());
    }
    let doomed: Vec<String> = subtree(&h.panel, &path).map(|(k, _)| k.clone()).collect();
    if doomed.is_empty() {
        return Err("文件或目录不存在".into());
    }
    for k in doomed {
        h.panel.files.remove(&k);
    }
    Ok((OK_WRITE, empty()))
}

/// Moves (or copies) the subtree at `from` to `to`; refuses to overwrite unless asked.
fn relocate(
    p: &mut Panel,
    from: &str,
    to: &str,
    copy: bool,
    overwrite: bool,
    now: Timestamp,
) -> Result<(), Fail> {
    let moved: Vec<(String, Node)> = subtree(p, from)
        .map(|(k, n)| (k.clone(), n.clone()))
        .collect();
    if moved.is_empty() {
        return Err("源文件不存在".into());
    }
    if to == from || to.starts_with(&format!("{from}/")) {
        return Err("目标不能在源目录内".into());
    }
    if p.files.contains_key(to) && !overwrite {
        return Err("目标文件已存在".into());
    }
    ensure_parent(p, to)?;
    for (k, mut n) in moved {
        if !copy {
            p.files.remove(&k);
        }
        n.modified = now;
        p.files.insert(format!("{to}{}", &k[from.len()..]), n);
    }
    Ok(())
}

fn mv_file(st: &mut State, r: &Req<'_>) -> Answer {
    let now = st.now();
    let (h, from) = at(st, r, "sfile")?;
    let to = checked(h, r.need("dfile")?, "dfile")?;
    if r.get("rename") == Some("true") && parent_of(&from) != parent_of(&to) {
        return Err("重命名不能改变目录".into());
    }
    relocate(&mut h.panel, &from, &to, false, false, now)?;
    Ok((OK_WRITE, empty()))
}

fn check_exists(st: &mut State, r: &Req<'_>) -> Answer {
    let (h, dir_path) = at(st, r, "contents_path")?;
    let only = r.get("filename");
    let rows = children(&h.panel, &dir_path)
        .filter(|(k, _)| only.is_none_or(|f| name_of(k) == f))
        .map(|(k, n)| json!({"filename": name_of(k), "size": n.content.len(), "mtime": fmt_time(n.modified)}))
        .collect();
    Ok((OK_READ, Value::Array(rows)))
}

/// Which of `files` already exist in the site root (where uploads land by default).
fn upload_exists(st: &mut State, r: &Req<'_>) -> Answer {
    let names: Vec<String> = serde_json::from_str(r.need("files")?)
        .map_err(|_| "参数错误：files格式不正确".to_string())?;
    let h = site(st, r.guid()?)?;
    let root = root_of(&h.ftp_name);
    let found: Vec<&String> = names
        .iter()
        .filter(|n| h.panel.files.contains_key(&format!("{root}/{n}")))
        .collect();
    Ok((OK_READ, json!(found)))
}

/// One chunk of a file upload into `contents_path`: `start` 0 (re)writes the file, any
/// other `start` must be the size already uploaded in bytes (resuming) and appends.
/// The chunk is the `file` part's bytes as sent (a text field `file` sent in-process
/// or urlencoded is its UTF-8).
fn upload(st: &mut State, r: &Req<'_>) -> Answer {
    let start = r.int_or("start", 0)?;
    let name = r.need("filename")?.to_string();
    // A file's bytes are data, not a value to trim.
    let chunk = match r.file("file") {
        Some(bytes) => bytes,
        None => r
            .raw("file")
            .ok_or("缺少必要参数：file")?
            .as_bytes()
            .to_vec(),
    };
    if name.contains('/') || name == "." || name == ".." {
        return Err("参数错误：filename格式不正确".into());
    }
    let now = st.now();
    let (h, dir_path) = at(st, r, "contents_path")?;
    if !h.panel.files.get(&dir_path).is_some_and(|n| n.dir) {
        return Err("目录不存在".into());
    }
    let path = format!("{dir_path}/{name}");
    let node = h.panel.files.entry(path).or_insert_with(|| file("", now));
    if node.dir {
        return Err("文件或目录已存在".into());
    }
    match usize::try_from(start) {
        Ok(0) => node.content = chunk,
        Ok(n) if n == node.content.len() => node.content.extend_from_slice(&chunk),
        _ => return Err("参数错误：start格式不正确".into()),
    }
    node.modified = now;
    Ok((OK_WRITE, empty()))
}

fn set_batch_data(st: &mut State, r: &Req<'_>) -> Answer {
    let kind = r.need("type")?.to_string();
    let names: Vec<String> =
        serde_json::from_str(r.need("arr")?).map_err(|_| "参数错误：arr格式不正确".to_string())?;
    let (h, dir_path) = at(st, r, "path")?;
    if names
        .iter()
        .any(|n| n.contains('/') || !h.panel.files.contains_key(&format!("{dir_path}/{n}")))
    {
        return Err("文件或目录不存在".into());
    }
    match kind.as_str() {
        "Delete" => {
            for n in names {
                let path = format!("{dir_path}/{n}");
                let doomed: Vec<String> =
                    subtree(&h.panel, &path).map(|(k, _)| k.clone()).collect();
                doomed.iter().for_each(|k| {
                    h.panel.files.remove(k);
                });
            }
        }
        "Copy" | "Cut" => h.panel.clipboard = Some((kind, dir_path, names)),
        _ => return Err("参数错误：type格式不正确".into()),
    }
    Ok((OK_WRITE, empty()))
}

fn marked(h: &Hosting, kind: &str) -> Result<(String, Vec<String>), Fail> {
    match &h.panel.clipboard {
        Some((k, d, names)) if k.eq_ignore_ascii_case(kind) => Ok((d.clone(), names.clone())),
        _ => Err("请先标记要粘贴的文件".into()),
    }
}

fn paste_file(st: &mut State, r: &Req<'_>) -> Answer {
    let now = st.now();
    let kind = r.need("type")?.to_string();
    let (h, from) = at(st, r, "sfile")?;
    let to_dir = checked(h, r.need("dfile")?, "dfile")?;
    let (dir_marked, names) = marked(h, &kind)?;
    if !names.iter().any(|n| format!("{dir_marked}/{n}") == from) {
        return Err("请先标记要粘贴的文件".into());
    }
    let to = format!("{to_dir}/{}", name_of(&from));
    relocate(
        &mut h.panel,
        &from,
        &to,
        kind == "copy",
        r.get("isOverride") == Some("true"),
        now,
    )?;
    Ok((OK_WRITE, empty()))
}

fn batch_paste(st: &mut State, r: &Req<'_>) -> Answer {
    let now = st.now();
    let kind = r.need("type")?.to_string();
    let skip: Vec<String> = r
        .get("skip")
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let (h, to_dir) = at(st, r, "contents_path")?;
    let (from_dir, names) = marked(h, &kind)?;
    for n in names.iter().filter(|n| !skip.contains(n)) {
        relocate(
            &mut h.panel,
            &format!("{from_dir}/{n}"),
            &format!("{to_dir}/{n}"),
            kind == "copy",
            true,
            now,
        )?;
    }
    h.panel.clipboard = None;
    Ok((OK_WRITE, empty()))
}

/// An archive is a file whose content is the JSON of its members (relative path ->
/// content, `null` for directories): enough for unzip to restore them. A member that
/// is not UTF-8 is the array of its bytes.
fn zip(st: &mut State, r: &Req<'_>) -> Answer {
    let now = st.now();
    let kind = r.get("z_type").unwrap_or("zip").to_string();
    if !matches!(kind.as_str(), "zip" | "tar.gz") {
        return Err("参数错误：z_type格式不正确".into());
    }
    let names = r.need("filename")?.to_string();
    let (h, dir_path) = at(st, r, "path")?;
    let target = checked(h, r.need("dfile")?, "dfile")?;
    let mut members = Map::new();
    for n in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let src = format!("{dir_path}/{n}");
        for (k, node) in subtree(&h.panel, &src) {
            let rel = k[dir_path.len() + 1..].to_string();
            members.insert(
                rel,
                if node.dir {
                    Value::Null
                } else {
                    match std::str::from_utf8(&node.content) {
                        Ok(text) => json!(text),
                        Err(_) => json!(node.content),
                    }
                },
            );
        }
    }
    if members.is_empty() {
        return Err("源文件不存在".into());
    }
    ensure_parent(&h.panel, &target)?;
    h.panel
        .files
        .insert(target, file(Value::Object(members).to_string(), now));
    Ok((OK_WRITE, empty()))
}

fn unzip(st: &mut State, r: &Req<'_>) -> Answer {
    let now = st.now();
    let (h, archive) = at(st, r, "dfile")?;
    let to_dir = checked(h, r.need("path")?, "path")?;
    let members: Map<String, Value> = h
        .panel
        .files
        .get(&archive)
        .and_then(|n| serde_json::from_slice(&n.content).ok())
        .ok_or("压缩包不存在或已损坏")?;
    ensure_parent(&h.panel, &format!("{to_dir}/x"))?;
    for (rel, content) in members {
        let node = match content {
            Value::String(text) => file(text, now),
            Value::Array(bytes) => {
                let bytes: Option<Vec<u8>> = bytes
                    .iter()
                    .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                    .collect();
                file(bytes.ok_or("压缩包不存在或已损坏")?, now)
            }
            _ => dir(now),
        };
        h.panel.files.insert(format!("{to_dir}/{rel}"), node);
    }
    Ok((OK_WRITE, empty()))
}

fn rewrite_path(h: &Hosting, r: &Req<'_>) -> Result<String, Fail> {
    match r.int_or("file_type", 0)? {
        0 => Ok(format!(
            "{REWRITE_DIR}/{}.conf",
            r.need("path")?.trim_end_matches(".conf")
        )),
        _ => checked(h, r.need("path")?, "path"),
    }
}

/// A preset's rules, or a saved file (by `path`, or the site's rewrite file by name).
/// The document shows text only; a file that is not UTF-8 is refused in the BT
/// panel's words (its editor reads text).
fn get_file_body(st: &mut State, r: &Req<'_>) -> Answer {
    let h = site(st, r.guid()?)?;
    let name = r.need("rewrite")?;
    let path = match r.get("path") {
        Some(p) => checked(h, p, "path")?,
        None if name.starts_with('/') => checked(h, name, "rewrite")?,
        None => format!("{REWRITE_DIR}/{name}.conf"),
    };
    let body = match h.panel.files.get(&path) {
        Some(n) => String::from_utf8(n.content.clone())
            .map_err(|_| "文件编码不被兼容，无法正确读取文件".to_string())?,
        None => PRESETS
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|p| p.2.to_string())
            .ok_or("文件不存在")?,
    };
    Ok((OK_READ, json!({"status": true, "data": body})))
}

fn save_file_body(st: &mut State, r: &Req<'_>) -> Answer {
    let now = st.now();
    let text = r.get("text").unwrap_or_default().to_string();
    let h = site_mut(st, r.guid()?)?;
    let path = rewrite_path(h, r)?;
    ensure_parent(&h.panel, &path)?;
    h.panel.files.insert(path, file(text, now));
    Ok((OK_WRITE, empty()))
}
