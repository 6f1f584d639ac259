//! Servers: the inventory's list and one server's page with its actions (power,
//! reinstall, new password), each behind a confirmation page that names the server.
//!
//! Actions go through the engine's server operations (as `idcgate server` and the REST
//! API do): announced in the audit log before they are sent, answered with what the
//! upstream did. A new password is made here, sent once, and shown once on the page
//! that answers the form: never in a notice, a redirect or the audit log.

use super::inventory::{self, InventoryFilter};
use crate::layout::{self, csrf, ListQuery};
use crate::session::{self, Act, Op, Page, Refusal};
use crate::Console;
use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Form, Router};
use idcgate_core::{PowerAction, ResourceKind, Server, SERVER_STATES};
use idcgate_engine::ops::ServerOp;
use idcgate_engine::EngineError;
use idcgate_store::ResourceRow;
use maud::{html, Markup};
use serde::Deserialize;

pub fn routes() -> Router<Console> {
    Router::new()
        .route("/servers", get(servers))
        .route("/servers/{account}/{id}", get(server))
        .route(
            "/servers/{account}/{id}/{action}",
            get(confirm_page).post(act),
        )
}

type Q = Result<Query<ListQuery>, QueryRejection>;

/// The actions a server page offers, as their paths name them.
const ACTIONS: [&str; 5] = ["start", "stop", "reboot", "reinstall", "password"];

fn action_name(op: &Op, action: &str) -> &'static str {
    match action {
        "start" => op.t("开机", "Start"),
        "stop" => op.t("关机", "Stop"),
        "reboot" => op.t("重启", "Reboot"),
        "reinstall" => op.t("重装系统", "Reinstall"),
        _ => op.t("重置密码", "Reset password"),
    }
}

fn action_warning(op: &Op, action: &str) -> &'static str {
    match action {
        "start" => op.t("服务器将开机。", "The server is powered on."),
        "stop" => op.t(
            "服务器将关机，其上的服务随即中断。",
            "The server is shut down; what runs on it stops.",
        ),
        "reboot" => op.t(
            "服务器将重启，服务会短暂中断。",
            "The server restarts; what runs on it is briefly down.",
        ),
        "reinstall" => op.t(
            "系统盘将被清空并安装所选系统，盘上数据全部丢失，不能撤销。",
            "The system disk is wiped and the chosen image installed: everything on it is lost, and this cannot be undone.",
        ),
        _ => op.t(
            "将生成新的 root/管理员密码并发往上游，旧密码立即失效。新密码只显示一次。",
            "A new root/administrator password is generated and sent upstream; the old one stops working. The new one is shown once.",
        ),
    }
}

fn state_name(op: &Op, s: &str) -> String {
    let t = |zh, en| op.t(zh, en).to_string();
    match s {
        "running" => t("运行中", "running"),
        "stopped" => t("已关机", "stopped"),
        "unknown" => t("未知", "unknown"),
        "provisioning" => t("开通中", "provisioning"),
        "active" => t("正常", "active"),
        "suspended" => t("已暂停", "suspended"),
        "locked" => t("已锁定", "locked"),
        "expired" => t("已过期", "expired"),
        "deleted" => t("已删除", "deleted"),
        other => other.to_string(),
    }
}

fn server_base(account: &str, id: &str) -> String {
    format!("/servers/{}/{}", layout::seg(account), layout::seg(id))
}

fn ips(d: &serde_json::Value) -> String {
    d["ips"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

async fn servers(
    State(c): State<Console>,
    op: Op,
    q: Q,
    f: Result<Query<InventoryFilter>, QueryRejection>,
) -> Page {
    let Query(q) = layout::read(&op, q)?;
    let Query(f) = layout::read(&op, f)?;
    let state = f.state.trim().to_string();
    if !state.is_empty() && !SERVER_STATES.contains(&state.as_str()) {
        return Err(layout::bad_input(
            &op,
            &format!(
                "{} {}",
                op.t("状态应为以下之一：", "The state is one of:"),
                SERVER_STATES.join(", ")
            ),
        ));
    }
    let (mut filter, filters) = inventory::store_filter(&c, &op, &q, &f).await?;
    filter.kind = Some(ResourceKind::Server);
    filter.state = (!state.is_empty()).then(|| state.clone());
    let filtered =
        q.search().is_some() || !state.is_empty() || filters.iter().any(|(_, v)| !v.is_empty());
    let (rows, total) = inventory::store_page(&c, &op, &q, filter).await?;
    let accounts = c
        .engine
        .accounts()
        .await
        .map_err(|e| layout::engine_error(&op, &e))?;
    let mut pairs: Vec<(&str, &str)> = filters.iter().map(|(k, v)| (*k, v.as_str())).collect();
    pairs.push(("state", &state));
    let base = layout::with_filters("/servers", &pairs);
    let state_select = html! {
        label { (op.t("状态", "State"))
            select name="state" {
                option value="" { (op.t("全部", "all")) }
                @for s in SERVER_STATES { option value=(s) selected[state == s] { (state_name(&op, s)) } }
            }
        }
    };
    let body = html! {
        (inventory::filter_form(&op, "/servers", &q, &accounts, &filters, state_select))
        @if rows.is_empty() {
            (inventory::empty_state(&op, filtered, op.t("服务器", "Servers")))
        } @else {
            table {
                thead { tr {
                    (layout::sort_head(&q, &base, "name", op.t("名称", "Name")))
                    (layout::sort_head(&q, &base, "account", op.t("账号/ID", "Account/ID")))
                    th { "IP" }
                    th { (op.t("配置", "Size")) }
                    (layout::sort_head(&q, &base, "power", op.t("电源", "Power")))
                    (layout::sort_head(&q, &base, "state", op.t("状态", "State")))
                    (layout::sort_head(&q, &base, "expiry", op.t("到期", "Expires")))
                    th.num { (op.t("剩余天数", "Days left")) }
                } }
                tbody {
                    @for r in &rows {
                        tr {
                            td { a href=(server_base(&r.account, &r.key)) { (r.name) } }
                            td { (r.account) "/" (r.key) }
                            td { (ips(&r.data)) }
                            td { (r.data["cpu"]) "C/" (r.data["ram_mb"].as_u64().unwrap_or(0) / 1024) "G" }
                            td { (state_name(&op, r.data["power"].as_str().unwrap_or("unknown"))) }
                            td { (state_name(&op, r.data["lifecycle"].as_str().unwrap_or("-"))) }
                            (inventory::expiry_cells(&op, r.expires_at_ms))
                        }
                    }
                }
            }
            (layout::pager(&op, &q, &base, total))
        }
    };
    Ok(layout::page(&op, op.t("服务器", "Servers"), body))
}

/// The server a path names, as the inventory holds it (gone ones too: the page says so).
async fn server_at(
    c: &Console,
    op: &Op,
    account: &str,
    id: &str,
) -> Result<(ResourceRow, Server), Refusal> {
    let unknown = || {
        layout::not_found(
            op,
            op.t(
                "清单中没有这台服务器：先同步该账号，或检查地址。",
                "No such server in the inventory: sync its account first, or check the address.",
            ),
        )
    };
    for v in [account, id] {
        if v.is_empty() || v.chars().count() > 200 || v.chars().any(char::is_control) {
            return Err(unknown());
        }
    }
    let row = c
        .engine
        .reads()
        .resource(account, ResourceKind::Server, id)
        .await
        .map_err(|e| layout::engine_error(op, &e))?
        .ok_or_else(unknown)?;
    let server: Server = serde_json::from_value(row.data.clone()).map_err(|_| unknown())?;
    Ok((row, server))
}

fn facts(op: &Op, row: &ResourceRow, s: &Server) -> Markup {
    let disks: Vec<String> = s
        .disks
        .iter()
        .map(|d| {
            format!(
                "{} GB{}",
                d.size_gb,
                if d.system {
                    op.t("（系统盘）", " (system)")
                } else {
                    ""
                }
            )
        })
        .collect();
    html! {
        dl.facts {
            dt { (op.t("名称", "Name")) } dd id="server-name" { (s.name) }
            dt { (op.t("账号/ID", "Account/ID")) } dd { (row.account) "/" (row.key) }
            dt { "IP" } dd { (s.ips.join(", ")) }
            dt { (op.t("配置", "Size")) } dd { (s.cpu) " CPU · " (s.ram_mb) " MB · " (disks.join(", ")) @if s.bandwidth_mbps > 0 { " · " (s.bandwidth_mbps) " Mbps" } }
            dt { (op.t("系统", "Image")) } dd { (s.os_image.as_deref().unwrap_or("-")) }
            @if let Some(r) = &s.region { dt { (op.t("地域", "Region")) } dd { (r) } }
            dt { (op.t("电源", "Power")) } dd id="power" { (state_name(op, power_str(s))) }
            dt { (op.t("状态", "State")) } dd { (state_name(op, lifecycle_str(s))) }
            dt { (op.t("到期", "Expires")) } dd {
                @match row.expires_at_ms {
                    Some(ms) => { (layout::date(ms)) " (" (layout::days_left(ms)) (op.t(" 天", " days")) ")" }
                    None => "-",
                }
            }
            dt { (op.t("最近同步", "Last seen")) } dd { (layout::time(row.last_seen_ms)) }
        }
    }
}

fn power_str(s: &Server) -> &'static str {
    match s.power {
        idcgate_core::PowerState::Running => "running",
        idcgate_core::PowerState::Stopped => "stopped",
        idcgate_core::PowerState::Unknown => "unknown",
    }
}

fn lifecycle_str(s: &Server) -> &'static str {
    use idcgate_core::LifecycleState::*;
    match s.lifecycle {
        Provisioning => "provisioning",
        Active => "active",
        Suspended => "suspended",
        Locked => "locked",
        Expired => "expired",
        Deleted => "deleted",
    }
}

async fn server(
    State(c): State<Console>,
    op: Op,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Page {
    let Path((account, id)) = layout::read(&op, path)?;
    let (row, s) = server_at(&c, &op, &account, &id).await?;
    let base = server_base(&row.account, &row.key);
    let body = html! {
        p { a href="/servers" { "‹ " (op.t("全部服务器", "All servers")) } }
        (facts(&op, &row, &s))
        @if row.gone_at_ms.is_some() {
            p.error role="alert" { (op.t("这台服务器已不在上游（同步时消失），不能再操作。", "This server is gone upstream (a sync no longer found it); it cannot be acted on.")) }
        } @else if op.may(Act::Operate) {
            div.actions {
                @for a in ACTIONS {
                    a.button.danger[matches!(a, "reinstall" | "stop")] href={ (base) "/" (a) } id={ "action-" (a) } { (action_name(&op, a)) "…" }
                }
            }
            p.hint { (op.t("每个操作都会先显示确认页面，并记入审计日志。", "Each action asks for confirmation first and is recorded in the audit log.")) }
        }
        p { a href={ "/audit?target=" (layout::enc(&format!("{}/{}", row.account, row.key))) } { (op.t("此服务器的审计记录", "This server's audit entries")) } }
    };
    let title = format!("{} {}", op.t("服务器", "Server"), s.name);
    Ok(layout::page(&op, &title, body))
}

/// The account, id and action a path names; a 404 page for an action not offered.
fn action_path(
    op: &Op,
    path: Result<Path<(String, String, String)>, PathRejection>,
) -> Result<(String, String, &'static str), Refusal> {
    let Path((account, id, action)) = layout::read(op, path)?;
    let action = ACTIONS
        .into_iter()
        .find(|a| *a == action)
        .ok_or_else(|| layout::not_found(op, op.t("没有这个操作。", "No such action.")))?;
    Ok((account, id, action))
}

async fn confirm_page(
    State(c): State<Console>,
    op: Op,
    path: Result<Path<(String, String, String)>, PathRejection>,
) -> Page {
    let (account, id, action) = action_path(&op, path)?;
    op.allow(Act::Operate)?;
    let (row, s) = server_at(&c, &op, &account, &id).await?;
    if row.gone_at_ms.is_some() {
        return Err(layout::bad_input(
            &op,
            op.t("这台服务器已不在上游。", "This server is gone upstream."),
        ));
    }
    let reference = format!("{}/{}", row.account, row.key);
    // Images only for a reinstall: the catalog is a live read of the upstream.
    let images = if action == "reinstall" {
        Some(
            c.engine
                .server_images(&row.account, s.region.as_deref())
                .await,
        )
    } else {
        None
    };
    let base = server_base(&row.account, &row.key);
    let body = html! {
        div.confirm {
            p {
                (action_name(&op, action)) (op.t("服务器 ", " server ")) strong id="server" { (s.name) } " (" code { (reference) } ")" (op.t("？", "?"))
            }
            p { (action_warning(&op, action)) }
            form.stack method="post" action={ (base) "/" (action) } id={ "confirm-" (action) } {
                (csrf(&op))
                input type="hidden" name="confirm" value=(reference);
                @match &images {
                    Some(Ok(images)) if !images.is_empty() => {
                        label { (op.t("安装的系统", "Image to install"))
                            select name="image" required {
                                @for i in images { option value=(i.id) selected[s.os_image.as_deref() == Some(i.id.as_str())] { (i.name) " (" (i.id) ")" } }
                            }
                        }
                    }
                    Some(other) => {
                        @if let Err(e) = other {
                            p.error role="alert" { (op.t("无法读取可用系统：", "The images could not be read: ")) (layout::bounded(&e.to_string())) }
                        }
                        label { (op.t("系统镜像 ID", "Image id"))
                            input type="text" name="image" required maxlength="200"; }
                    }
                    None => {}
                }
                div {
                    button.danger type="submit" id="confirm" { (action_name(&op, action)) }
                    " "
                    a href=(base) { (op.t("取消", "Cancel")) }
                }
            }
        }
    };
    let title = format!("{} · {}", action_name(&op, action), s.name);
    Ok(layout::page(&op, &title, body))
}

#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    image: String,
}

/// A password for a server: 20 characters with lower and upper case letters and
/// digits, which every vendor's rule of strength takes (West 8–32, CNDNS 6–20).
fn server_password() -> Result<String, crate::auth::AuthError> {
    for _ in 0..20 {
        let p = crate::auth::generate_password()?;
        if p.chars().any(|c| c.is_ascii_lowercase())
            && p.chars().any(|c| c.is_ascii_uppercase())
            && p.chars().any(|c| c.is_ascii_digit())
        {
            return Ok(p);
        }
    }
    Err(crate::auth::AuthError::Random(
        "no password of every character class drawn".into(),
    ))
}

/// What a refused or failed action says, with the way back to the server.
fn action_error(op: &Op, base: &str, e: &EngineError) -> Refusal {
    if let EngineError::Store(se) = e {
        tracing::error!(error = %se, "console: storage failed");
    }
    let unknown = matches!(
        e,
        EngineError::Upstream(idcgate_core::Error::UnknownOutcome { .. })
    );
    let body = html! {
        p.error role="alert" id="error" { (layout::bounded(&e.to_string())) }
        @if unknown {
            p { (op.t("上游的结果未知：操作可能已执行。请稍后同步查看，勿直接重试。", "The upstream's outcome is unknown: the action may have been done. Sync later to see; do not simply retry.")) }
        }
        p { a href=(base) { "‹ " (op.t("返回服务器", "Back to the server")) } }
    };
    let mut r = layout::page(op, op.t("操作未完成", "Not done"), body);
    *r.status_mut() = layout::engine_status(e);
    r.into()
}

async fn act(
    State(c): State<Console>,
    op: Op,
    path: Result<Path<(String, String, String)>, PathRejection>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Page {
    let (account, id, action) = action_path(&op, path)?;
    let Form(f) = layout::read(&op, form)?;
    op.may_submit(Act::Operate, &f.csrf)?;
    let (row, s) = server_at(&c, &op, &account, &id).await?;
    let reference = format!("{}/{}", row.account, row.key);
    if f.confirm != reference {
        return Err(layout::bad_input(
            &op,
            op.t(
                "请从确认页面操作。",
                "Act from the action's confirmation page.",
            ),
        ));
    }
    if row.gone_at_ms.is_some() {
        return Err(layout::bad_input(
            &op,
            op.t("这台服务器已不在上游。", "This server is gone upstream."),
        ));
    }
    let base = server_base(&row.account, &row.key);
    let mut password = None;
    let server_op = match action {
        "start" => ServerOp::Power(PowerAction::Start),
        "stop" => ServerOp::Power(PowerAction::Stop),
        "reboot" => ServerOp::Power(PowerAction::Reboot),
        "reinstall" => {
            let image = f.image.trim();
            if image.is_empty()
                || image.chars().count() > 200
                || image.chars().any(char::is_control)
            {
                return Err(layout::bad_input(
                    &op,
                    op.t("请选择要安装的系统。", "Choose the image to install."),
                ));
            }
            ServerOp::Reinstall {
                image: image.to_string(),
            }
        }
        _ => {
            let p = server_password()
                .map_err(|e| layout::engine_error(&op, &EngineError::Invalid(e.to_string())))?;
            password = Some(p.clone());
            ServerOp::Password { password: p }
        }
    };
    let after = c
        .engine
        .server_op(&layout::actor(&op), &reference, server_op)
        .await
        .map_err(|e| action_error(&op, &base, &e))?;
    if let Some(p) = password {
        // Shown here once; the page is not cached (every console answer is no-store).
        let body = html! {
            p.notice role="status" { (op.t("已重置服务器密码：", "Server password reset: ")) strong { (s.name) } " (" code { (reference) } ")" }
            p { (op.t("新密码：", "New password: ")) code.secret id="new-password" { (p) } }
            p.error role="alert" { (op.t(
                "密码只显示这一次：请现在复制并妥善保存。idcgate 不保存它，审计日志中也没有。",
                "The password is shown only now: copy it and keep it safe. idcgate does not keep it, and the audit log does not hold it.")) }
            p { a href=(base) { "‹ " (op.t("返回服务器", "Back to the server")) } }
        };
        return Ok(layout::page(&op, op.t("新密码", "New password"), body));
    }
    let notice = format!(
        "{} {} ({reference}): {}",
        action_name(&op, action),
        after.name,
        state_name(&op, power_str(&after))
    );
    Ok(session::redirect_with(&op, &base, &notice))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_passwords_hold_every_class() {
        for _ in 0..200 {
            let p = server_password().unwrap();
            assert_eq!(p.len(), 20);
            assert!(p.chars().any(|c| c.is_ascii_digit()), "{p}");
            assert!(p.chars().any(|c| c.is_ascii_uppercase()), "{p}");
            assert!(p.chars().any(|c| c.is_ascii_lowercase()), "{p}");
        }
    }
}
