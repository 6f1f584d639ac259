//! 🔒 SSL管理 of a hosting site: deploy a certificate, report it, force HTTPS, take it
//! down. `hosting_get_ssl` reads its fields from the certificate the caller deployed
//! (see `x509`). The three IIS operations stay `todo`: the simulated nodes are BT-panel
//! (Linux) sites, and the document shows no answer for them.

use super::hosting::{site, site_mut};
use super::orders::empty;
use super::x509;
use super::{Fields, Handler, OK_READ, OK_WRITE};
use serde_json::json;

const NO_SSL: &str = "站点未部署SSL证书";

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
        "hosting_close_to_https" => |st, r| {
            site_mut(st, r.guid()?)?.panel.force_https = false;
            Ok((OK_WRITE, empty()))
        },
        _ => return None,
    })
}
