//! 🔒 SSL管理 of a hosting site: deploy a certificate, report it, force HTTPS, take it
//! down. `hosting_get_ssl` reads its fields from the certificate the caller deployed
//! (see `x509`).
//!
//! The three IIS operations ("仅IIS环境有效"): a site is an IIS site when it runs ASP
//! (create_hosting's `content.program` "php、asp等", `program_version` "asp_net"); any
//! other is refused with the document's words. The document shows no answer for them;
//! ours: the certificate files are the site's `.pfx`/`.p12` files, listed as
//! hosting_get_dir_new lists files (plus `path`); setting one binds it to a domain of
//! the site; the status by domain lists every bound domain with whether it has one and
//! which. A PFX is not opened (its password is not sent), so no certificate fields.

use super::hosting::{site, site_mut};
use super::orders::empty;
use super::state::{fmt_time, Fail, Hosting, State};
use super::x509;
use super::{Fields, Handler, Req, OK_READ, OK_WRITE};
use serde_json::{json, Value};

const NO_SSL: &str = "站点未部署SSL证书";
const IIS_ONLY: &str = "仅IIS环境有效";

fn iis(h: &Hosting) -> Result<&Hosting, Fail> {
    if h.program.eq_ignore_ascii_case("asp") || h.program_version.starts_with("asp") {
        Ok(h)
    } else {
        Err(IIS_ONLY.into())
    }
}

/// A site's certificate files: (path, node) of its `.pfx` / `.p12` files.
fn cert_files(h: &Hosting) -> impl Iterator<Item = (&String, &super::state::Node)> {
    h.panel.files.iter().filter(|(path, node)| {
        let lower = path.to_ascii_lowercase();
        !node.dir && (lower.ends_with(".pfx") || lower.ends_with(".p12"))
    })
}

fn iis_file_list(st: &mut State, r: &Req<'_>) -> super::Answer {
    let h = iis(site(st, r.guid()?)?)?;
    let rows = cert_files(h)
        .map(|(path, n)| {
            let name = path.rsplit('/').next().unwrap_or(path);
            json!({"filename": name, "path": path, "size": n.content.len().to_string(), "modify_time": fmt_time(n.modified)})
        })
        .collect();
    Ok((OK_READ, Value::Array(rows)))
}

fn iis_by_domain(st: &mut State, r: &Req<'_>) -> super::Answer {
    let h = iis(site(st, r.guid()?)?)?;
    let rows = h
        .domains
        .iter()
        .map(|d| {
            let file = h.panel.iis_ssl.get(&d.name);
            json!({"domain": d.name, "port": d.port, "status": file.is_some(), "path": file.cloned().unwrap_or_default()})
        })
        .collect();
    Ok((OK_READ, Value::Array(rows)))
}

fn iis_set_by_file(st: &mut State, r: &Req<'_>) -> super::Answer {
    let domain = r.need("domain")?.to_ascii_lowercase();
    let path = r.need("path")?.trim().to_string();
    let h = site_mut(st, r.guid()?)?;
    iis(h)?;
    // "纯域名,不含http://": a URL or a domain with a port is not a domain.
    if domain.contains("://") || domain.contains('/') || domain.contains(':') {
        return Err("参数错误：domain格式不正确".into());
    }
    if !h.domains.iter().any(|d| d.name == domain) {
        return Err("域名未绑定到该站点".into());
    }
    if !cert_files(h).any(|(p, _)| *p == path) {
        return Err("证书文件不存在".into());
    }
    h.panel.iis_ssl.insert(domain, path);
    Ok((OK_WRITE, empty()))
}

pub(crate) fn handler(name: &str) -> Option<Handler> {
    Some(match name.strip_prefix("hosting_operate#")? {
        "hosting_get_ssl" => |st, r| {
            let data = match &site(st, r.guid()?)?.panel.ssl {
                Some(c) => json!({
                    "status": true, "startDate": c.start_date, "endDate": c.end_date,
                    "issuer": c.issuer, "dns": c.dns,
                }),
                None => {
                    json!({"status": false, "startDate": "", "endDate": "", "issuer": "", "dns": []})
                }
            };
            Ok((OK_READ, data))
        },
        "hosting_set_ssl" => |st, r| {
            // `type` is not enumerated by the document; the spec checks it is an integer.
            let key = r.need("key")?;
            // `csr` carries the certificate PEM (the document's own description).
            let cert = r.need("csr")?;
            if !x509::is_private_key_pem(key) {
                return Err("参数错误：key格式不正确".into());
            }
            let info = x509::parse_pem(cert).ok_or("参数错误：csr格式不正确")?;
            site_mut(st, r.guid()?)?.panel.ssl = Some(info);
            Ok((OK_WRITE, empty()))
        },
        // The document gives this IIS-looking `name`/`password`; a BT site has one
        // certificate, so they select nothing here.
        "hosting_unset_ssl" | "hosting_close_ssl_conf" => |st, r| {
            let h = site_mut(st, r.guid()?)?;
            if h.panel.ssl.take().is_none() {
                return Err(NO_SSL.into());
            }
            // Without an SSL listener a forced redirect would make the site unreachable.
            h.panel.force_https = false;
            Ok((OK_WRITE, empty()))
        },
        "hosting_http_to_https" => |st, r| {
            let h = site_mut(st, r.guid()?)?;
            if h.panel.ssl.is_none() {
                return Err(NO_SSL.into());
            }
            h.panel.force_https = true;
            Ok((OK_WRITE, empty()))
        },
        "hosting_get_iis_ssl_file_list" => iis_file_list,
        "hosting_get_iis_ssl_bydomain" => iis_by_domain,
        "hosting_set_domain_iis_byfile" => iis_set_by_file,
        "hosting_close_to_https" => |st, r| {
            site_mut(st, r.guid()?)?.panel.force_https = false;
            Ok((OK_WRITE, empty()))
        },
        _ => return None,
    })
}
