//! DNS: the zones of the inventory and, per zone, its records with an editor (add,
//! edit, delete behind a confirmation, enable/disable, refresh from the upstream).
//!
//! Records are read from the inventory a page at a time; every change goes through the
//! engine's DNS operations (as `idcgate dns` and the REST API do), which announce it in
//! the audit log before it is sent and write what the upstream answered back to the
//! inventory. What an upstream refuses (a TTL below its minimum, a line its grade does
//! not offer) comes back as a page saying so, with the status its kind has.

use super::{posted, ConfirmForm, CsrfForm, FormIn, ListIn};
use crate::layout::{self, csrf, Col, Confirm, ConfirmBy};
use crate::session::{self, Act, Op, Page, Refusal};
use crate::Console;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::Router;
use idcgate_core::{DnsRecord, RecordInput, RecordType, ResourceKind};
use idcgate_engine::ops::{normalize_record_id, normalize_zone};
use idcgate_engine::EngineError;
use idcgate_store::{ResourceFilter, ResourceOrder, ResourceRow};
use maud::{html, Markup};
use serde::Deserialize;
use std::cmp::Ordering;
use std::time::{Duration, Instant};

pub fn routes() -> Router<Console> {
    Router::new()
        .route("/dns", get(zones))
        .route("/dns/{account}/{zone}", get(zone))
        .route("/dns/{account}/{zone}/records", post(add_record))
        .route("/dns/{account}/{zone}/refresh", post(refresh))
        .route(
            "/dns/{account}/{zone}/records/{id}",
            get(edit_page).post(save_record),
        )
        .route(
            "/dns/{account}/{zone}/records/{id}/delete",
            get(delete_page).post(delete_record),
        )
        .route("/dns/{account}/{zone}/records/{id}/enable", post(enable))
        .route("/dns/{account}/{zone}/records/{id}/disable", post(disable))
}

type ZonePath = Result<Path<(String, String)>, PathRejection>;
type RecordPath = Result<Path<(String, String, String)>, PathRejection>;

/// How long the lines an upstream named for a zone are offered without asking again.
const LINES_TTL: Duration = Duration::from_secs(600);
/// The most zones whose lines are remembered at once.
const LINES_KEPT: usize = 1024;
/// Records of one zone sorted in memory by a column the store cannot order by.
const MAX_ZONE_SCAN: i64 = 20_000;
const TYPES: [RecordType; 8] = [
    RecordType::A,
    RecordType::Aaaa,
    RecordType::Cname,
    RecordType::Mx,
    RecordType::Txt,
    RecordType::Ns,
    RecordType::Srv,
    RecordType::Caa,
];

/// Back to the zone's page after a change to record `r`, saying `done` and which record.
/// What a change to a record answers: back to the zone saying `done` and the record,
/// or the page of the engine's refusal.
fn back_to_zone(
    op: &Op,
    account: &str,
    zone: &str,
    done: &str,
    changed: Result<DnsRecord, EngineError>,
) -> Page {
    let r = changed.map_err(|e| zone_error(op, account, zone, &e))?;
    let notice = format!("{done} {}", record_label(&r));
    Ok(session::redirect_with(
        op,
        &zone_base(account, zone),
        &notice,
    ))
}

fn zone_base(account: &str, zone: &str) -> String {
    format!("/dns/{}/{}", layout::seg(account), layout::seg(zone))
}

fn record_base(account: &str, zone: &str, id: &str) -> String {
    format!("{}/records/{}", zone_base(account, zone), layout::seg(id))
}

/// A line as people read it; the vendor-neutral names are translated, others shown as
/// the upstream names them.
fn line_name(op: &Op, line: &str) -> String {
    let t = |zh, en| op.t(zh, en).to_string();
    match line {
        "" | "default" => t("默认", "default"),
        "telecom" => t("电信", "telecom"),
        "unicom" => t("联通", "unicom"),
        "mobile" => t("移动", "mobile"),
        "education" => t("教育网", "education"),
        "search" => t("搜索引擎", "search engines"),
        "abroad" => t("境外", "abroad"),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------------
// Zones

async fn zones(
    State(c): State<Console>,
    op: Op,
    q: ListIn,
    f: super::QueryIn<super::inventory::InventoryFilter>,
) -> Page {
    let Query(q) = layout::read(&op, q)?;
    let Query(f) = layout::read(&op, f)?;
    let f = super::inventory::InventoryFilter {
        expiry: String::new(),
        ..f
    };
    let (mut filter, filters) = super::inventory::store_filter(&c, &op, &q, &f).await?;
    filter.kind = Some(ResourceKind::DnsZone);
    let filtered = q.search().is_some() || filters.iter().any(|(_, v)| !v.is_empty());
    let (rows, total) = super::inventory::store_page(&c, &op, &q, filter).await?;
    let accounts = c.engine.accounts().await.map_err(layout::err(&op))?;
    let pairs: Vec<(&str, &str)> = filters
        .iter()
        .filter(|(k, _)| *k != "expiry")
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    let base = layout::with_filters("/dns", &pairs);
    let body = html! {
        (layout::filter_form(&op, "/dns", &q, None, layout::choice(op.t("账号", "Account"), "account", op.t("全部", "all"), html! {
            @for a in &accounts { option value=(a.name) selected[filters[1].1 == a.name] { (a.name) " (" (a.vendor) ")" } }
        })))
        @if rows.is_empty() {
            (super::inventory::empty_state(&op, filtered, op.t("DNS 区域", "DNS zones")))
        } @else {
            (layout::list_table(&op, &q, &base, total, &[
                Col::Sort("name", op.t("区域", "Zone")),
                Col::Sort("records", op.t("记录数", "Records")),
                Col::Sort("account", op.t("账号", "Account")),
                Col::Plain(op.t("最近同步", "Last seen")),
            ], html! {
                    @for r in &rows {
                        tr {
                            td { a href=(zone_base(&r.account, &r.key)) { (r.name) } }
                            td.num { @match r.data["record_count"].as_u64() { Some(n) => (n), None => "-" } }
                            td { (r.account) }
                            td { (layout::time(r.last_seen_ms)) }
                        }
                    }
            }))
        }
    };
    Ok(layout::page(&op, op.t("DNS 区域", "DNS zones"), body))
}

/// The account and zone a path names, if the inventory holds that zone there; a 404
/// page for any other (a zone no domain name can be included).
async fn zone_of(c: &Console, op: &Op, path: ZonePath) -> Result<(String, String), Refusal> {
    let Path((account, zone)) = layout::read(op, path)?;
    let unknown = || {
        layout::not_found(
            op,
            op.t(
                "清单中没有这个 DNS 区域：先同步该账号，或检查区域名。",
                "No such DNS zone in the inventory: sync its account first, or check the name.",
            ),
        )
    };
    if account.is_empty() || account.chars().count() > 64 || account.chars().any(char::is_control) {
        return Err(unknown());
    }
    let zone = normalize_zone(&zone).map_err(|_| unknown())?;
    let row = c
        .engine
        .reads()
        .resource(&account, ResourceKind::DnsZone, &zone)
        .await
        .map_err(layout::err(op))?;
    match row {
        Some(r) if r.gone_at_ms.is_none() => Ok((account, zone)),
        _ => Err(unknown()),
    }
}

/// Before a write: the engine routes a zone to the account the inventory names for it,
/// which must be the account in the address (two accounts holding one zone name would
/// otherwise send the change to the other one).
async fn writable_zone(c: &Console, op: &Op, path: ZonePath) -> Result<(String, String), Refusal> {
    let (account, zone) = zone_of(c, op, path).await?;
    let serving = c
        .engine
        .zone_account(&zone)
        .await
        .map_err(|e| layout::engine_error(op, &e))?;
    if serving != account {
        let why = format!(
            "{zone}: {} {serving}{}",
            op.t(
                "此区域的更改会发往账号",
                "changes to this zone go to account"
            ),
            op.t("，请在该账号下操作。", "; change it there."),
        );
        return Err(
            layout::refusal(op, axum::http::StatusCode::CONFLICT, &layout::bounded(&why)).into(),
        );
    }
    Ok((account, zone))
}

/// The lines a zone accepts, from the cache or its upstream; `Err` with the reason
/// when the upstream could not say (the editor then takes a line as typed).
async fn lines(c: &Console, account: &str, zone: &str) -> Result<Vec<String>, String> {
    let key = format!("{account}/{zone}");
    {
        let cache = idcgate_core::lock(&c.lines);
        if let Some((at, lines)) = cache.get(&key) {
            if at.elapsed() < LINES_TTL {
                return Ok(lines.clone());
            }
        }
    }
    let lines = c.engine.dns_lines(zone).await.map_err(|e| e.to_string())?;
    let mut cache = idcgate_core::lock(&c.lines);
    if cache.len() >= LINES_KEPT {
        cache.retain(|_, (at, _)| at.elapsed() < LINES_TTL);
        if cache.len() >= LINES_KEPT {
            cache.clear();
        }
    }
    cache.insert(key, (Instant::now(), lines.clone()));
    Ok(lines)
}

fn record_of(r: &ResourceRow) -> Option<DnsRecord> {
    serde_json::from_value(r.data.clone()).ok()
}

/// The record form's fields, shared by add and edit.
fn record_fields(op: &Op, lines: &Result<Vec<String>, String>, r: Option<&DnsRecord>) -> Markup {
    let rtype = r.map_or(RecordType::A, |r| r.rtype);
    let line = r.and_then(|r| r.line.clone()).unwrap_or_default();
    html! {
        label { (op.t("主机记录", "Name"))
            input type="text" name="name" required maxlength="253" value=(r.map_or("", |r| r.host.as_str())) placeholder="@ / www"; }
        label { (op.t("类型", "Type"))
            select name="type" {
                @for t in TYPES { option value=(t.as_str()) selected[t == rtype] { (t.as_str()) } }
            }
        }
        label { (op.t("记录值", "Value"))
            input type="text" name="value" required maxlength="4096" value=(r.map_or("", |r| r.value.as_str())); }
        label { (op.t("线路", "Line"))
            @match lines {
                Ok(lines) if !lines.is_empty() => {
                    select name="line" {
                        @for l in lines {
                            @let v = if l == "default" { "" } else { l.as_str() };
                            option value=(v) selected[v == line] { (line_name(op, l)) }
                        }
                        @if !line.is_empty() && !lines.contains(&line) {
                            option value=(line) selected { (line_name(op, &line)) }
                        }
                    }
                }
                _ => { input type="text" name="line" maxlength="64" value=(line) placeholder=(op.t("默认", "default")); }
            }
        }
        label { "TTL"
            input type="number" name="ttl" min="1" max="604800" value=(r.map_or(600, |r| r.ttl)) required; }
        label { (op.t("MX 优先级", "MX priority"))
            input type="number" name="mx" min="0" max="65535" value=[r.and_then(|r| r.priority)]; }
    }
}

fn record_cmp(key: &str) -> impl Fn(&DnsRecord, &DnsRecord) -> Ordering + '_ {
    move |a, b| {
        let by = match key {
            "type" => a.rtype.as_str().cmp(b.rtype.as_str()),
            "value" => a.value.cmp(&b.value),
            "ttl" => a.ttl.cmp(&b.ttl),
            "line" => a.line.cmp(&b.line),
            "state" => a.enabled.cmp(&b.enabled),
            _ => Ordering::Equal,
        };
        by.then(a.host.cmp(&b.host))
            .then(a.rtype.as_str().cmp(b.rtype.as_str()))
            .then(a.value.cmp(&b.value))
    }
}

async fn zone(State(c): State<Console>, op: Op, path: ZonePath, q: ListIn) -> Page {
    let (account, zone) = zone_of(&c, &op, path).await?;
    let Query(q) = layout::read(&op, q)?;
    let base = zone_base(&account, &zone);
    let mut filter = ResourceFilter {
        account: Some(account.clone()),
        kind: Some(ResourceKind::DnsRecord),
        // A record's inventory name is `zone host TYPE value`.
        name_prefix: Some(format!("{zone} ")),
        search: q.search(),
        ..Default::default()
    };
    let (rows, total): (Vec<DnsRecord>, i64) = match q.sort.as_deref() {
        None | Some("name") => {
            filter.order = Some(ResourceOrder::Name {
                descending: q.descending(),
            });
            let (rows, total) = super::inventory::store_page(&c, &op, &q, filter).await?;
            (rows.iter().filter_map(record_of).collect(), total)
        }
        Some(key) => {
            filter.limit = Some(MAX_ZONE_SCAN);
            let rows = c
                .engine
                .reads()
                .resources(&filter)
                .await
                .map_err(layout::err(&op))?;
            let mut records: Vec<DnsRecord> = rows.iter().filter_map(record_of).collect();
            layout::sort_list(&mut records, &q, false, record_cmp(key));
            layout::page_of(records, &q)
        }
    };
    let operate = op.may(Act::Operate);
    let lines = if operate {
        lines(&c, &account, &zone).await
    } else {
        Err(String::new())
    };
    let body = html! {
        p { a href="/dns" { "‹ " (op.t("全部区域", "All zones")) } " · " (op.t("账号 ", "Account ")) strong { (account) } }
        div.actions {
            (layout::search_box(&op, &q, &base))
            @if operate {
                form.inline method="post" action={ (base) "/refresh" } {
                    (csrf(&op))
                    button.secondary type="submit" id="refresh" { (op.t("从上游刷新", "Refresh from upstream")) }
                }
            }
        }
        @if rows.is_empty() {
            @if q.search().is_some() {
                (layout::empty(op.t("没有符合搜索的记录。", "No record matches the search.")))
            } @else {
                (layout::empty(op.t("清单中此区域还没有记录：点“从上游刷新”读取，或在下方添加。", "No records of this zone in the inventory: refresh from the upstream, or add one below.")))
            }
        } @else {
            table {
                thead { tr {
                    (layout::sort_head(&q, &base, "name", op.t("主机记录", "Name")))
                    (layout::sort_head(&q, &base, "type", op.t("类型", "Type")))
                    (layout::sort_head(&q, &base, "value", op.t("记录值", "Value")))
                    (layout::sort_head(&q, &base, "line", op.t("线路", "Line")))
                    (layout::sort_head(&q, &base, "ttl", "TTL"))
                    th.num { "MX" }
                    (layout::sort_head(&q, &base, "state", op.t("状态", "State")))
                    @if operate { th { (op.t("操作", "Actions")) } }
                } }
                tbody {
                    @for r in &rows {
                        tr class=[(!r.enabled).then_some("off")] {
                            td { (r.host) }
                            td { (r.rtype.as_str()) }
                            td { code { (r.value) } }
                            td { (line_name(&op, r.line.as_deref().unwrap_or(""))) }
                            td.num { (r.ttl) }
                            td.num { @if let Some(p) = r.priority { (p) } }
                            td { @if r.enabled { span.ok { (op.t("启用", "enabled")) } } @else { span.muted { (op.t("已暂停", "paused")) } } }
                            @if operate {
                                td {
                                    @if let Some(id) = &r.upstream_id {
                                        @let rb = record_base(&account, &zone, id);
                                        a href=(rb) id={ "edit-" (id) } { (op.t("修改", "Edit")) }
                                        " "
                                        form.inline method="post" action={ (rb) (if r.enabled { "/disable" } else { "/enable" }) } {
                                            (csrf(&op))
                                            button.secondary type="submit" id={ (if r.enabled { "disable-" } else { "enable-" }) (id) } {
                                                (if r.enabled { op.t("暂停", "Disable") } else { op.t("启用", "Enable") })
                                            }
                                        }
                                        " "
                                        a.bad href={ (rb) "/delete" } id={ "delete-" (id) } { (op.t("删除…", "Delete…")) }
                                    } @else {
                                        span.hint { (op.t("上游未给出记录 ID，无法修改", "no upstream id: cannot be changed here")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            (layout::pager(&op, &q, &base, total))
        }
        @if operate {
            h2 { (op.t("添加记录", "Add a record")) }
            form.row method="post" action={ (base) "/records" } id="add-record" {
                (csrf(&op))
                (record_fields(&op, &lines, None))
                button type="submit" id="add-record-submit" { (op.t("添加", "Add")) }
            }
            @if let Err(why) = &lines {
                p.hint { (op.t("无法读取此区域可用的线路，可直接填写线路名：", "The zone's lines could not be read; type a line name: ")) (layout::bounded(why)) }
            }
            p.hint { (op.t(
                "TTL、线路和记录数受服务商及套餐限制（如西部数码 TTL 60–86400 秒）；被拒绝时页面会给出服务商的原因，记录不会改动。",
                "TTL, lines and record counts are limited by the vendor and the zone's plan (West: TTL 60 to 86400 s); a refusal shows the vendor's reason and changes nothing.")) }
        }
    };
    let title = format!("{} {zone}", op.t("DNS 区域", "DNS zone"));
    Ok(layout::page(&op, &title, body))
}

#[derive(Deserialize)]
struct RecordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default, rename = "type")]
    rtype: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    line: String,
    #[serde(default)]
    ttl: String,
    #[serde(default)]
    mx: String,
}

posted!(RecordForm);

/// A record form as the engine takes it, or a 400 page naming the field.
fn record_input(op: &Op, f: &RecordForm) -> Result<RecordInput, Refusal> {
    let bad = |field: &str, why: &str| layout::bad_input(op, &format!("{field}: {why}"));
    let printable = |s: &str| !s.chars().any(char::is_control);
    let host = f.name.trim();
    if host.is_empty() || host.chars().count() > 253 || !printable(host) || host.contains(' ') {
        return Err(bad(
            op.t("主机记录", "Name"),
            op.t(
                "应为 1–253 个字符、不含空格（顶级用 @）。",
                "1 to 253 characters without blanks (@ for the zone itself).",
            ),
        ));
    }
    let rtype: RecordType = f.rtype.parse().map_err(|_| {
        bad(
            op.t("类型", "Type"),
            op.t("不支持的记录类型。", "not a record type offered here."),
        )
    })?;
    let value = f.value.trim();
    if value.is_empty() || value.chars().count() > 4096 || !printable(value) {
        return Err(bad(
            op.t("记录值", "Value"),
            op.t(
                "不能为空、过长或含控制字符。",
                "not empty, not too long, no control characters.",
            ),
        ));
    }
    let ttl = match f.ttl.trim() {
        "" => 600,
        t => t
            .parse::<u32>()
            .ok()
            .filter(|t| (1..=604_800).contains(t))
            .ok_or_else(|| {
                bad(
                    "TTL",
                    op.t(
                        "应为 1–604800 之间的整数秒。",
                        "a whole number of seconds, 1 to 604800.",
                    ),
                )
            })?,
    };
    let priority = match f.mx.trim() {
        "" if matches!(rtype, RecordType::Mx | RecordType::Srv) => Some(10),
        "" => None,
        p => Some(p.parse::<u16>().map_err(|_| {
            bad(
                op.t("MX 优先级", "MX priority"),
                op.t("应为 0–65535 之间的整数。", "a whole number, 0 to 65535."),
            )
        })?),
    };
    let line = f.line.trim();
    if line.chars().count() > 64 || !printable(line) {
        return Err(bad(
            op.t("线路", "Line"),
            op.t("过长或含控制字符。", "too long or has control characters."),
        ));
    }
    Ok(RecordInput {
        host: host.to_string(),
        rtype,
        value: value.to_string(),
        ttl,
        line: (!line.is_empty() && line != "default").then(|| line.to_string()),
        priority,
    })
}

/// What an engine refusal on a zone page says: the upstream's reason, with the way
/// back to the zone, and the status its kind has.
fn zone_error(op: &Op, account: &str, zone: &str, e: &EngineError) -> Refusal {
    if let EngineError::Store(se) = e {
        tracing::error!(error = %se, "console: storage failed");
    }
    let body = html! {
        p.error role="alert" id="error" { (layout::bounded(&e.to_string())) }
        p { (op.t("没有任何改动，或上游的结果未知（见审计日志）。", "Nothing was changed, or the upstream's outcome is unknown (see the audit log).")) }
        p { a href=(zone_base(account, zone)) { "‹ " (op.t("返回区域 ", "Back to zone ")) (zone) } }
    };
    let mut r = layout::page(op, op.t("操作未完成", "Not done"), body);
    *r.status_mut() = layout::engine_status(e);
    r.into()
}

fn record_label(r: &DnsRecord) -> String {
    let mut s = format!("{} {} {}", r.host, r.rtype, r.value);
    if let Some(l) = &r.line {
        s.push_str(&format!(" [{l}]"));
    }
    s
}

async fn add_record(
    State(c): State<Console>,
    op: Op,
    path: ZonePath,
    form: FormIn<RecordForm>,
) -> Page {
    let f = op.submitted(Act::Operate, form)?;
    let (account, zone) = writable_zone(&c, &op, path).await?;
    let input = record_input(&op, &f)?;
    let added = c.engine.dns_add(&layout::actor(&op), &zone, &input).await;
    let done = op.t("已添加记录", "Record added:");
    back_to_zone(&op, &account, &zone, done, added)
}

async fn refresh(State(c): State<Console>, op: Op, path: ZonePath, form: FormIn<CsrfForm>) -> Page {
    op.submitted(Act::Operate, form)?;
    let (account, zone) = writable_zone(&c, &op, path).await?;
    let records = c
        .engine
        .dns_refresh(&zone)
        .await
        .map_err(|e| zone_error(&op, &account, &zone, &e))?;
    idcgate_core::lock(&c.lines).remove(&format!("{account}/{zone}"));
    let notice = format!(
        "{zone}: {} {}",
        op.t("已从上游读取记录", "records read from the upstream:"),
        records.len()
    );
    Ok(session::redirect_with(
        &op,
        &zone_base(&account, &zone),
        &notice,
    ))
}

/// The record a path names, live in the inventory, with its zone.
async fn record_at(
    c: &Console,
    op: &Op,
    path: RecordPath,
) -> Result<(String, String, String, DnsRecord), Refusal> {
    let Path((account, zone, id)) = layout::read(op, path)?;
    let (account, zone) = zone_of(c, op, Ok(Path((account, zone)))).await?;
    let gone = || {
        layout::not_found(
            op,
            op.t(
                "此区域没有这条记录（可能已被删除）：刷新区域后再试。",
                "This zone has no such record (it may have been deleted): refresh the zone and try again.",
            ),
        )
    };
    let id = normalize_record_id(&id).map_err(|_| gone())?;
    let row = c
        .engine
        .reads()
        .live_resource(&account, ResourceKind::DnsRecord, &format!("{zone}/{id}"))
        .await
        .map_err(layout::err(op))?
        .ok_or_else(gone)?;
    let record = record_of(&row).ok_or_else(gone)?;
    Ok((account, zone, id, record))
}

fn record_facts(op: &Op, account: &str, zone: &str, r: &DnsRecord) -> Markup {
    html! {
        dl.facts {
            dt { (op.t("区域", "Zone")) } dd { (zone) " (" (account) ")" }
            dt { (op.t("主机记录", "Name")) } dd { (r.host) }
            dt { (op.t("类型", "Type")) } dd { (r.rtype.as_str()) }
            dt { (op.t("记录值", "Value")) } dd { code { (r.value) } }
            dt { (op.t("线路", "Line")) } dd { (line_name(op, r.line.as_deref().unwrap_or(""))) }
            dt { "TTL" } dd { (r.ttl) }
            @if let Some(p) = r.priority { dt { (op.t("MX 优先级", "MX priority")) } dd { (p) } }
            dt { (op.t("状态", "State")) } dd { (if r.enabled { op.t("启用", "enabled") } else { op.t("已暂停", "paused") }) }
        }
    }
}

async fn edit_page(State(c): State<Console>, op: Op, path: RecordPath) -> Page {
    let (account, zone, id, r) = record_at(&c, &op, path).await?;
    op.allow(Act::Operate)?;
    let lines = lines(&c, &account, &zone).await;
    let body = html! {
        (record_facts(&op, &account, &zone, &r))
        h2 { (op.t("修改为", "Change to")) }
        form.stack method="post" action=(record_base(&account, &zone, &id)) id="save-record" {
            (csrf(&op))
            (record_fields(&op, &lines, Some(&r)))
            div {
                button type="submit" id="save-record-submit" { (op.t("保存", "Save")) }
                " "
                a href=(zone_base(&account, &zone)) { (op.t("取消", "Cancel")) }
            }
        }
    };
    let title = format!("{} {}", op.t("修改记录", "Edit record"), record_label(&r));
    Ok(layout::page(&op, &title, body))
}

async fn save_record(
    State(c): State<Console>,
    op: Op,
    path: RecordPath,
    form: FormIn<RecordForm>,
) -> Page {
    let f = op.submitted(Act::Operate, form)?;
    let (account, zone, id, _) = record_at(&c, &op, path).await?;
    writable_zone(&c, &op, Ok(Path((account.clone(), zone.clone())))).await?;
    let input = record_input(&op, &f)?;
    let saved = c
        .engine
        .dns_set(&layout::actor(&op), &zone, &id, &input)
        .await;
    let done = op.t("已保存记录", "Record saved:");
    back_to_zone(&op, &account, &zone, done, saved)
}

async fn delete_page(State(c): State<Console>, op: Op, path: RecordPath) -> Page {
    let (account, zone, id, r) = record_at(&c, &op, path).await?;
    op.allow(Act::Operate)?;
    Ok(layout::confirm_page(
        &op,
        Confirm {
            title: op.t("删除记录", "Delete a record"),
            question: html! { (op.t("删除区域 ", "Delete from zone ")) strong { (zone) } (op.t(" 的记录 ", " the record ")) strong id="record" { (record_label(&r)) } (op.t("？", "?")) },
            consequence: op.t(
                "记录将在上游删除，解析随即失效。此操作不能撤销。",
                "The record is deleted upstream and stops resolving. This cannot be undone.",
            ),
            action: &format!("{}/delete", record_base(&account, &zone, &id)),
            form_id: "delete-record",
            by: ConfirmBy::Given(&id),
            submit_id: "confirm",
            submit: op.t("删除记录", "Delete the record"),
            cancel: &zone_base(&account, &zone),
        },
    ))
}

async fn delete_record(
    State(c): State<Console>,
    op: Op,
    path: RecordPath,
    form: FormIn<ConfirmForm>,
) -> Page {
    let f = op.submitted(Act::Operate, form)?;
    let (account, zone, id, r) = record_at(&c, &op, path).await?;
    f.confirms(
        &op,
        &id,
        op.t(
            "请从确认页面删除。",
            "Delete it from its confirmation page.",
        ),
    )?;
    writable_zone(&c, &op, Ok(Path((account.clone(), zone.clone())))).await?;
    let removed = c.engine.dns_remove(&layout::actor(&op), &zone, &id).await;
    let done = op.t("已删除记录", "Record deleted:");
    back_to_zone(&op, &account, &zone, done, removed.map(|()| r))
}

async fn switch(
    c: Console,
    op: Op,
    path: RecordPath,
    form: FormIn<CsrfForm>,
    enabled: bool,
) -> Page {
    op.submitted(Act::Operate, form)?;
    let (account, zone, id, r) = record_at(&c, &op, path).await?;
    writable_zone(&c, &op, Ok(Path((account.clone(), zone.clone())))).await?;
    let switched = c
        .engine
        .dns_enable(&layout::actor(&op), &zone, &id, enabled)
        .await;
    let done = if enabled {
        op.t("已启用记录", "Record enabled:")
    } else {
        op.t("已暂停记录", "Record disabled:")
    };
    back_to_zone(&op, &account, &zone, done, switched.map(|_| r))
}

async fn enable(
    State(c): State<Console>,
    op: Op,
    path: RecordPath,
    form: FormIn<CsrfForm>,
) -> Page {
    switch(c, op, path, form, true).await
}

async fn disable(
    State(c): State<Console>,
    op: Op,
    path: RecordPath,
    form: FormIn<CsrfForm>,
) -> Page {
    switch(c, op, path, form, false).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(name: &str, rtype: &str, value: &str, ttl: &str, mx: &str) -> RecordForm {
        RecordForm {
            csrf: String::new(),
            name: name.into(),
            rtype: rtype.into(),
            value: value.into(),
            line: String::new(),
            ttl: ttl.into(),
            mx: mx.into(),
        }
    }

    fn op() -> Op {
        Op {
            name: "t".into(),
            role: idcgate_store::Role::Operator,
            lang: crate::i18n::Lang::En,
            csrf: String::new(),
            totp_enabled: false,
            notice: None,
            path: "/".into(),
            secure: false,
        }
    }

    #[test]
    fn record_forms_are_read_or_refused_by_field() {
        let op = op();
        let Ok(ok) = record_input(&op, &form(" www ", "a", "1.2.3.4", "", "")) else {
            panic!("a plain A record is taken")
        };
        assert_eq!(
            (ok.host.as_str(), ok.rtype, ok.ttl, ok.priority),
            ("www", RecordType::A, 600, None)
        );
        let Ok(mx) = record_input(&op, &form("@", "MX", "mx.a.com", "3600", "")) else {
            panic!("an MX record is taken")
        };
        assert_eq!(mx.priority, Some(10));
        for bad in [
            form("", "A", "1.2.3.4", "600", ""),
            form("a b", "A", "1.2.3.4", "600", ""),
            form("www", "XX", "1.2.3.4", "600", ""),
            form("www", "A", "", "600", ""),
            form("www", "A", "1.2\0.3.4", "600", ""),
            form("www", "A", "1.2.3.4", "0", ""),
            form("www", "A", "1.2.3.4", "ten", ""),
            form("www", "A", "1.2.3.4", "99999999999", ""),
            form("www", "MX", "mx.a.com", "600", "70000"),
        ] {
            assert!(
                record_input(&op, &bad).is_err(),
                "{:?}",
                (bad.name, bad.rtype, bad.value, bad.ttl, bad.mx)
            );
        }
    }
}
