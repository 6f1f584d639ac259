//! The panel's commands: authentication, routing from the spec, and one function per
//! command. Handlers answer in the panel's own text formats; an `Err` becomes `-1 <text>`.

use super::state::*;
use super::Xen;
use crate::spec::{has_subactions, is_system_only, spec};
use idcgate_core::spec::ActionSpec;
use idcgate_wire::sim::{parsed, remove_where, Call, Handler, Incoming, Route};
use serde_json::{json, Map, Value};

type Answer = Result<String, String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Caller {
    System,
    User { userid: i64 },
}

impl Caller {
    fn sees(self, owner: i64) -> bool {
        match self {
            Caller::System => true,
            Caller::User { userid } => userid == owner,
        }
    }
}

/// One resolved request (form body merged with the query string, query first).
pub(crate) type Req<'a> = Call<'a, Xen>;

/// The panel's readings of a field, with its own error texts. `get` (a trimmed,
/// non-empty value; names match case-insensitively, as ASP.NET's do) comes from the host.
trait Fields {
    fn int(&self, key: &str) -> Result<Option<i64>, String>;
    fn int_or(&self, key: &str, default: i64) -> Result<i64, String>;
    fn need_int(&self, key: &str) -> Result<i64, String>;
    fn need(&self, key: &str) -> Result<&str, String>;
    /// The caller's address as the panel logs it.
    fn peer(&self) -> String;
    /// Who is calling (the public JavaScript API has no caller and no such actions).
    fn caller(&self) -> Result<Caller, String>;
}

impl Fields for Req<'_> {
    fn int(&self, key: &str) -> Result<Option<i64>, String> {
        parsed(self.get(key), || format!("参数 {key} 格式错误"))
    }

    fn int_or(&self, key: &str, default: i64) -> Result<i64, String> {
        Ok(self.int(key)?.unwrap_or(default))
    }

    fn need_int(&self, key: &str) -> Result<i64, String> {
        self.int(key)?.ok_or_else(|| format!("参数 {key} 不能为空"))
    }

    fn need(&self, key: &str) -> Result<&str, String> {
        self.get(key).ok_or_else(|| format!("参数 {key} 不能为空"))
    }

    fn peer(&self) -> String {
        self.client_ip()
            .map_or_else(|| "127.0.0.1".to_string(), |ip| ip.to_string())
    }

    fn caller(&self) -> Result<Caller, String> {
        self.ctx()
            .ok_or_else(|| "API 验证失败：缺少身份".to_string())
    }
}

fn json_text(v: Value) -> Answer {
    Ok(v.to_string())
}

fn ok() -> Answer {
    Ok("0".into())
}

/// Sets every integer field the request carries. All values are parsed before any is
/// written, so a bad one leaves the record untouched.
fn assign_ints<const N: usize>(req: &Req<'_>, slots: [(&str, &mut i64); N]) -> Result<(), String> {
    let mut values = [None; N];
    for (value, (key, _)) in values.iter_mut().zip(&slots) {
        *value = req.int(key)?;
    }
    for ((_, slot), value) in slots.into_iter().zip(values) {
        if let Some(v) = value {
            *slot = v;
        }
    }
    Ok(())
}

/// Refuses one more item when `have` already reaches the allowance `cap`.
fn within_allowance(have: usize, cap: i64, what: &str) -> Result<(), String> {
    if i64::try_from(have).unwrap_or(i64::MAX) >= cap {
        return Err(format!("{what}数量已达上限（{cap}）"));
    }
    Ok(())
}

/// Removes the one row `hit` selects, or answers that `missing` does not exist.
fn remove_one<T>(rows: &mut Vec<T>, hit: impl Fn(&T) -> bool, missing: String) -> Answer {
    remove_where(rows, hit, format!("{missing} 不存在"))?;
    ok()
}

fn authenticate(st: &State, req: &Incoming) -> Result<Caller, String> {
    let name = req.get("api_username").unwrap_or_default();
    let key = req.get("api_key").unwrap_or_default();
    match req.get("identity").unwrap_or("user") {
        "system" => {
            if name == st.panel_id && key == st.system_key {
                Ok(Caller::System)
            } else {
                Err("API 验证失败：主控端识别码或系统 API 密钥错误".into())
            }
        }
        "user" => {
            let user = st
                .users
                .values()
                .find(|u| u.username == name && !u.api_key.is_empty() && u.api_key == key)
                .ok_or("API 验证失败：用户名或 API 密钥错误")?;
            check_ustatus(user).map_err(|m| format!("API 验证失败：{m}"))?;
            Ok(Caller::User {
                userid: user.userid,
            })
        }
        _ => Err("API 验证失败：identity 只能为 system 或 user".into()),
    }
}

fn check_ustatus(user: &User) -> Result<(), String> {
    match user.ustatus {
        1 => Err("用户已被锁定".into()),
        2 => Err("用户已被禁用".into()),
        _ => Ok(()),
    }
}

/// Finds the spec row of a command, following `subaction`/`cmds` to the subaction row.
fn resolve(command: &str, req: &Incoming) -> Result<&'static ActionSpec, String> {
    let unknown = || format!("未知的 API 指令：{command}");
    if has_subactions(command) {
        let field = if command == "vm_cmds" {
            "cmds"
        } else {
            "subaction"
        };
        let sub = req
            .get(field)
            .ok_or_else(|| format!("参数 {field} 不能为空"))?;
        // Subcommand names are case-sensitive (the document says so for vm_cmds).
        return spec()
            .find(&format!("{command}#{sub}"))
            .ok_or_else(|| format!("参数 {field} 无效：不支持的子命令 {sub}"));
    }
    spec()
        .find(command)
        .filter(|a| !a.id.contains('#') && a.method == "POST")
        .ok_or_else(unknown)
}

/// Resolves one API request (`process.aspx?c=api`): who calls, and which command.
pub(crate) fn resolve_api(st: &State, req: &Incoming) -> Result<Route<Xen>, String> {
    let caller = authenticate(st, req)?;
    let raw = req.get("Action").ok_or("参数 Action 不能为空")?;
    // vps_* is the pre-2015 name of every vm_* command and still accepted.
    let command = match raw.strip_prefix("vps_") {
        Some(rest) => format!("vm_{rest}"),
        None => raw.to_string(),
    };
    let action = resolve(&command, req)?;
    if is_system_only(action) && caller != Caller::System {
        return Err("权限不足：该指令仅限系统级接口使用".into());
    }
    Ok(Route {
        action,
        ctx: Some(caller),
    })
}

/// Resolves one JavaScript API request (`process.aspx?c=jsapi`); it needs no credentials.
pub(crate) fn resolve_js(req: &Incoming) -> Result<Route<Xen>, String> {
    match req.get("action") {
        Some("serverstatus") | Some("api") => Ok(Route {
            action: spec()
                .find("serverstatus")
                .ok_or("未知的 API 指令：serverstatus")?,
            ctx: None,
        }),
        Some(other) => Err(format!("未知的 API 指令：{other}")),
        None => Err("参数 action 不能为空".into()),
    }
}

/// The handler of a command row.
pub(crate) fn handler(name: &str) -> Option<Handler<Xen>> {
    Some(match name {
        "serverstatus" => |st, _| Ok(serverstatus(st)),
        "user_add" => user_add,
        "user_info" => |st, r| user_info(st, r.caller()?, r),
        "user_delete" => user_delete,
        "user_authentication" => |st, r| user_authentication(st, r.caller()?, r),
        "user_update" => |st, r| user_update(st, r.caller()?, r),
        "user_sys_config" => |st, r| user_sys_config(st, r.caller()?, r),
        "user_send_verification_code" => |st, r| send_code(st, r.caller()?, r),
        "server_groups" => server_groups,
        "server_info" => server_info,
        "server_os_templates" => os_templates,
        "ip_blocks" => ip_blocks,
        "ip_list" => ip_list,
        "task_list" => |st, r| task_list(st, r.caller()?, r),
        "task_progress" => |st, r| task_progress(st, r.caller()?, r),
        "vm_state" => |st, r| vm_state(st, r.caller()?, r),
        "vm_start" | "vm_reboot" | "vm_hreboot" | "vm_shutdown" | "vm_hshutdown" => {
            |st, r| power(st, r.caller()?, r, r.action().name())
        }
        "vm_group_info" => |st, r| vm_group_info(st, r.caller()?, r),
        "vm_group_info_update" => |st, r| vm_group_update(st, r.caller()?, r),
        "vm_create" => vm_create,
        "vm_info" => |st, r| vm_info(st, r.caller()?, r),
        "vm_update" => vm_update,
        "vm_info_update" => |st, r| vm_rename(st, r.caller()?, r),
        "vm_reload" => |st, r| vm_reload(st, r.caller()?, r),
        "vm_resetps" => |st, r| vm_resetps(st, r.caller()?, r),
        "vm_delete" => vm_delete,
        "vm_backup#list" | "vm_backup#del" | "vm_backup#revert" | "vm_backup#backup" => {
            |st, r| backup(st, r.caller()?, r, r.action().name())
        }
        "vm_console#state" | "vm_console#enable" | "vm_console#logout" => {
            |st, r| console(st, r.caller()?, r, r.action().name())
        }
        "vm_cd_manage#state" | "vm_cd_manage#change" => {
            |st, r| cdrom(st, r.caller()?, r, r.action().name())
        }
        "vm_vif#plug" | "vm_vif#unplug" | "vm_vif#list" => {
            |st, r| vif(st, r.caller()?, r, r.action().name())
        }
        "vm_setips" => |st, r| setips(st, r.caller()?, r),
        "vm_portmap#list" | "vm_portmap#add" | "vm_portmap#del" => {
            |st, r| portmap(st, r.caller()?, r, r.action().name())
        }
        "vm_domain#list" | "vm_domain#add" | "vm_domain#del" => {
            |st, r| domain(st, r.caller()?, r, r.action().name())
        }
        "vm_stat" => |st, r| vm_stat(st, r.caller()?, r),
        name if name.starts_with("vm_cmds#") => |st, r| vm_cmds(st, r.caller()?, r, r.action()),
        _ => return None,
    })
}

// ---------------------------------------------------------------- users

fn valid_username(s: &str) -> bool {
    (5..=50).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric())
}

fn user_json(u: &User) -> Value {
    json!({
        "id": u.id, "userid": u.userid, "username": u.username, "name": u.name,
        "vcount": u.vcount, "utype": u.utype, "ustatus": u.ustatus, "cvdate": u.cvdate,
        "rvcount": u.rvcount, "email": u.email, "tel": u.tel,
        "email_verified": u.email_verified, "tel_verified": u.tel_verified,
        "reg_ip": u.reg_ip, "login_ip": u.login_ip, "regdate": china(u.regdate)
    })
}

fn user_add(st: &mut State, req: &Req<'_>) -> Answer {
    let userid = req.need_int("userid")?;
    let username = req.need("username")?;
    let password = req.need("password")?;
    let name = req.need("name")?;
    let email = req.need("email")?;
    let tel = req.need("tel")?;
    if st.user_by_userid(userid).is_some() {
        return Err(format!("用户 ID {userid} 已存在"));
    }
    if !valid_username(username) {
        return Err("用户名必须为 5~50 位字母和数字组合".into());
    }
    if st
        .users
        .values()
        .any(|u| u.username.eq_ignore_ascii_case(username))
    {
        return Err(format!("用户名 {username} 已存在"));
    }
    if password.chars().count() < 6 {
        return Err("密码长度不能小于 6 位".into());
    }
    if name.chars().count() > 50 {
        return Err("用户昵称长度不能大于 50".into());
    }
    if !email.contains('@') {
        return Err("邮箱地址格式错误".into());
    }
    // Everything is read before the row exists: a bad field must not leave half a user.
    let (mut vcount, mut utype, mut ustatus, mut rvcount) = (0, 0, 0, 0);
    let (mut email_verified, mut tel_verified) = (0, 0);
    assign_ints(
        req,
        [
            ("vcount", &mut vcount),
            ("Utype", &mut utype),
            ("ustatus", &mut ustatus),
            ("rvcount", &mut rvcount),
            ("email_verified", &mut email_verified),
            ("tel_verified", &mut tel_verified),
        ],
    )?;
    let api_key = random_token(32);
    let id = st.add_user(userid, username, password, name, email, tel, &api_key);
    if let Some(u) = st.users.get_mut(&id) {
        (u.vcount, u.utype, u.ustatus, u.rvcount) = (vcount, utype, ustatus, rvcount);
        (u.email_verified, u.tel_verified) = (email_verified, tel_verified);
        u.cvdate = req.get("cvdate").unwrap_or_default().to_string();
        u.reg_ip = req.get("reg_ip").map_or_else(|| req.peer(), str::to_string);
        u.login_ip = req.get("login_ip").unwrap_or_default().to_string();
    }
    Ok(format!("0|{id}"))
}

/// The user a request may address: system level any, user level only itself (others
/// look absent, as the panel does not reveal who exists).
fn addressed_user(st: &State, caller: Caller, userid: Option<i64>) -> Result<i64, String> {
    let target = match (caller, userid) {
        (Caller::User { userid: me }, None) => me,
        (_, Some(id)) => id,
        (Caller::System, None) => return Err("参数 userid 不能为空".into()),
    };
    if !caller.sees(target) || st.user_by_userid(target).is_none() {
        return Err(format!("用户 {target} 不存在"));
    }
    Ok(target)
}

fn user_info(st: &mut State, caller: Caller, req: &Req<'_>) -> Answer {
    let userid = addressed_user(st, caller, req.int("userid")?)?;
    let u = st.user_by_userid(userid).ok_or("用户不存在")?;
    json_text(user_json(u))
}

fn user_delete(st: &mut State, req: &Req<'_>) -> Answer {
    let userid = req.need_int("userid")?;
    let id = st
        .user_by_userid(userid)
        .map(|u| u.id)
        .ok_or(format!("用户 {userid} 不存在"))?;
    if st.vms.values().any(|v| v.userid == userid) {
        return Err("该用户下还有主机，请先删除主机".into());
    }
    st.users.remove(&id);
    st.vm_groups.retain(|_, g| g.userid != userid);
    ok()
}

fn user_authentication(st: &mut State, caller: Caller, req: &Req<'_>) -> Answer {
    let login = req.need("username")?;
    let password = req.need("password")?;
    let ip = match caller {
        Caller::System => req
            .get("login_ip")
            .map_or_else(|| req.peer(), str::to_string),
        Caller::User { .. } => req.peer(),
    };
    let user = st
        .users
        .values_mut()
        .find(|u| u.username.eq_ignore_ascii_case(login) || u.email.eq_ignore_ascii_case(login))
        .filter(|u| u.password == password)
        .ok_or("用户名或密码错误")?;
    check_ustatus(user)?;
    user.login_ip = ip;
    Ok(format!("0|{}", user.userid))
}

fn user_update(st: &mut State, caller: Caller, req: &Req<'_>) -> Answer {
    let id = req.need_int("id")?;
    let userid = req.need_int("userid")?;
    if !caller.sees(userid) {
        return Err(format!("用户 {userid} 不存在"));
    }
    let new_name = req.get("username").map(str::to_string);
    if let Some(n) = &new_name {
        if !valid_username(n) {
            return Err("用户名必须为 5~50 位字母和数字组合".into());
        }
        if st
            .users
            .values()
            .any(|u| u.id != id && u.username.eq_ignore_ascii_case(n))
        {
            return Err(format!("用户名 {n} 已存在"));
        }
    }
    let user = st
        .users
        .get_mut(&id)
        .filter(|u| u.userid == userid)
        .ok_or(format!("用户 {userid} 不存在"))?;
    let new_password = match (req.get("password1"), req.get("password2")) {
        (None, None) => None,
        (Some(a), Some(b)) if a == b => {
            if a.chars().count() < 6 {
                return Err("新密码长度不能小于 6 位".into());
            }
            Some(a.to_string())
        }
        _ => return Err("两次输入的新密码不一致".into()),
    };
    // User level always proves the old password; system level only when it gives one.
    let old = req.get("password");
    let must_verify = new_password.is_some() && (caller != Caller::System || old.is_some());
    if must_verify && old != Some(user.password.as_str()) {
        return Err("原密码错误".into());
    }
    // Every check before the first write: a refused update changes nothing.
    let name = req.get("name");
    if name.is_some_and(|n| n.chars().count() > 50) {
        return Err("用户昵称长度不能大于 50".into());
    }
    let email = req.get("email");
    if email.is_some_and(|v| !v.contains('@')) {
        return Err("邮箱地址格式错误".into());
    }
    // Only the system may change what the panel enforces on a user.
    if caller == Caller::System {
        // The document spells it `vcunt`; the panel's own column is vcount.
        let vcount = req.int("vcunt")?.or(req.int("vcount")?);
        assign_ints(
            req,
            [
                ("utype", &mut user.utype),
                ("ustatus", &mut user.ustatus),
                ("rvcount", &mut user.rvcount),
                ("email_verified", &mut user.email_verified),
                ("tel_verified", &mut user.tel_verified),
            ],
        )?;
        if let Some(v) = vcount {
            user.vcount = v;
        }
        for (key, slot) in [
            ("cvdate", &mut user.cvdate),
            ("reg_ip", &mut user.reg_ip),
            ("login_ip", &mut user.login_ip),
        ] {
            if let Some(v) = req.get(key) {
                *slot = v.to_string();
            }
        }
    }
    for (value, slot) in [
        (new_password.as_deref(), &mut user.password),
        (new_name.as_deref(), &mut user.username),
        (name, &mut user.name),
        (email, &mut user.email),
        (req.get("tel"), &mut user.tel),
    ] {
        if let Some(v) = value {
            *slot = v.to_string();
        }
    }
    ok()
}

fn user_sys_config(st: &mut State, caller: Caller, req: &Req<'_>) -> Answer {
    let userid = addressed_user(st, caller, req.int("userid")?)?;
    let c = &st.user_by_userid(userid).ok_or("用户不存在")?.config;
    let flag = |b: bool| i64::from(b);
    json_text(json!({
        "email_vps_reload": flag(c.email_vps_reload), "sms_vps_reload": flag(c.sms_vps_reload),
        "email_vps_revert": flag(c.email_vps_revert), "sms_vps_revert": flag(c.sms_vps_revert),
        "email_vps_reset_password": flag(c.email_vps_reset_password),
        "sms_vps_reset_password": flag(c.sms_vps_reset_password),
        "backup_snapshot": c.backup_snapshot, "backup_full": c.backup_full,
        "backup_hours": c.backup_hours.iter().map(u32::to_string).collect::<Vec<_>>().join(","),
        "port_map": c.port_map, "binding_domain": c.binding_domain
    }))
}

fn send_code(st: &mut State, caller: Caller, req: &Req<'_>) -> Answer {
    let userid = match caller {
        Caller::System => req.need_int("userid")?,
        Caller::User { userid } => userid,
    };
    let kind = req.int_or("type", 1)?;
    let user = st
        .user_by_userid_mut(userid)
        .ok_or(format!("用户 {userid} 不存在"))?;
    match kind {
        1 if user.tel.is_empty() => return Err("用户未设置手机号码".into()),
        2 if user.email.is_empty() => return Err("用户未设置邮箱地址".into()),
        _ => {}
    }
    use rand::Rng;
    user.vcode = Some(format!("{:06}", rand::thread_rng().gen_range(0..1_000_000)));
    ok()
}

/// User-level guarded operations need the last code sent; it is used up on success.
fn check_vcode(
    st: &mut State,
    caller: Caller,
    req: &Req<'_>,
    needed: fn(&UserConfig) -> bool,
) -> Result<(), String> {
    let Caller::User { userid } = caller else {
        return Ok(());
    };
    let user = st.user_by_userid_mut(userid).ok_or("用户不存在")?;
    if !needed(&user.config) {
        return Ok(());
    }
    let given = req.need("vcode")?;
    match &user.vcode {
        Some(code) if code == given => {
            user.vcode = None;
            Ok(())
        }
        _ => Err("验证码错误或已过期".into()),
    }
}

// ---------------------------------------------------------------- resources

fn server_json(st: &State, s: &HostServer) -> Value {
    json!({
        "serverid": s.serverid, "groupid": s.groupid, "servername": s.servername,
        "serverip": s.serverip, "cpu": s.cpu, "ram": s.ram, "disk": s.disk,
        "vmcount": st.vms.values().filter(|v| v.serverid == s.serverid).count(),
        "status": 1
    })
}

fn server_groups(st: &mut State, req: &Req<'_>) -> Answer {
    let groupid = req.int_or("groupid", 0)?;
    let list: Vec<Value> = st
        .server_groups
        .values()
        .filter(|g| groupid == 0 || g.groupid == groupid)
        .map(|g| {
            json!({
                "groupid": g.groupid, "groupname": g.groupname, "grouporder": g.grouporder,
                "servercount": st.servers.values().filter(|s| s.groupid == g.groupid).count()
            })
        })
        .collect();
    if groupid != 0 && list.is_empty() {
        return Err(format!("服务器分组 {groupid} 不存在"));
    }
    json_text(Value::Array(list))
}

fn id_list(s: Option<&str>) -> Result<Option<Vec<i64>>, String> {
    s.map(|s| {
        s.split(',')
            .filter(|x| !x.trim().is_empty())
            .map(|x| {
                x.trim()
                    .parse()
                    .map_err(|_| format!("编号列表格式错误：{s}"))
            })
            .collect()
    })
    .transpose()
}

fn server_info(st: &mut State, req: &Req<'_>) -> Answer {
    let serverid = req.int_or("serverid", 0)?;
    let groups = id_list(req.get("servergroups"))?;
    let quantity = req.int("quantity")?.and_then(|q| usize::try_from(q).ok());
    let list: Vec<Value> = st
        .servers
        .values()
        .filter(|s| serverid == 0 || s.serverid == serverid)
        .filter(|s| groups.as_ref().is_none_or(|g| g.contains(&s.groupid)))
        .take(quantity.unwrap_or(usize::MAX))
        .map(|s| server_json(st, s))
        .collect();
    if serverid != 0 && list.is_empty() {
        return Err(format!("服务器 {serverid} 不存在"));
    }
    json_text(Value::Array(list))
}

fn server_of(st: &State, serverid: i64) -> Result<&HostServer, String> {
    st.servers
        .get(&serverid)
        .ok_or(format!("服务器 {serverid} 不存在"))
}

fn os_templates(st: &mut State, req: &Req<'_>) -> Answer {
    let server = server_of(st, req.need_int("serverid")?)?;
    let osid = req.int_or("osid", 0)?;
    let osids = id_list(req.get("osids"))?;
    let list: Vec<Value> = server
        .osids
        .iter()
        .filter_map(|id| st.templates.get(id))
        .filter(|t| osid == 0 || t.osid == osid)
        .filter(|t| osids.as_ref().is_none_or(|l| l.contains(&t.osid)))
        .map(|t| {
            json!({"osid": t.osid, "osname": t.osname, "ostype": t.ostype,
                   "version": t.version, "size": t.size})
        })
        .collect();
    json_text(Value::Array(list))
}

fn ip_blocks(st: &mut State, req: &Req<'_>) -> Answer {
    let serverid = server_of(st, req.need_int("serverid")?)?.serverid;
    let blockid = req.int_or("blockid", 0)?;
    let by_ip = match req.get("ip") {
        Some(ip) => Some(
            st.ip_index
                .get(ip)
                .and_then(|id| st.ips.get(id))
                .map(|r| r.blockid)
                .ok_or(format!("IP 地址 {ip} 不存在"))?,
        ),
        None => None,
    };
    let list: Vec<Value> = st
        .blocks
        .values()
        .filter(|b| b.serverid == serverid)
        .filter(|b| blockid == 0 || b.blockid == blockid)
        .filter(|b| by_ip.is_none_or(|id| id == b.blockid))
        .map(|b| {
            let rows = st.ips.values().filter(|r| r.blockid == b.blockid);
            let (all, free) = rows.fold((0, 0), |(a, f), r| (a + 1, f + i64::from(r.vpsid == 0)));
            json!({
                "blockid": b.blockid, "serverid": b.serverid, "blockname": b.blockname,
                "gateway": b.gateway, "netmask": b.netmask, "dns1": "223.5.5.5",
                "dns2": "114.114.114.114", "shared": i64::from(b.shared), "ipcount": all,
                "freecount": free
            })
        })
        .collect();
    json_text(Value::Array(list))
}

fn ip_json(r: &IpRow) -> Value {
    json!({"ipid": r.ipid, "blockid": r.blockid, "serverid": r.serverid, "ip": r.ip, "vpsid": r.vpsid})
}

fn ip_list(st: &mut State, req: &Req<'_>) -> Answer {
    let ipid = req.int_or("ipid", 0)?;
    let serverid = req.int("serverid")?;
    let vpsid = req.int("vpsid")?;
    if ipid != 0 {
        let row = st.ips.get(&ipid).ok_or(format!("IP {ipid} 不存在"))?;
        return json_text(Value::Array(vec![ip_json(row)]));
    }
    if serverid.is_none() && vpsid.is_none() {
        return Err("参数 serverid 不能为空".into());
    }
    // serverid alone: every address of the server; with vpsid=0: its free ones;
    // vpsid alone: that VM's addresses.
    let list: Vec<Value> = st
        .ips
        .values()
        .filter(|r| serverid.is_none_or(|s| r.serverid == s))
        .filter(|r| vpsid.is_none_or(|v| r.vpsid == v))
        .map(ip_json)
        .collect();
    json_text(Value::Array(list))
}

fn task_json(t: &Task, now: jiff::Timestamp) -> Value {
    json!({
        "taskid": t.taskid, "ttype": t.ttype, "tname": t.tname, "serverid": t.serverid,
        "vpsid": t.vpsid, "tstatus": t.tstatus(now), "maintask": t.maintask,
        "progress": t.progress(now), "createtime": china(t.start),
        "endtime": if t.done { china(t.end) } else { String::new() }
    })
}

fn task_visible(st: &State, caller: Caller, t: &Task) -> bool {
    match caller {
        Caller::System => true,
        Caller::User { userid } => st.vms.get(&t.vpsid).is_some_and(|v| v.userid == userid),
    }
}

fn task_list(st: &mut State, caller: Caller, req: &Req<'_>) -> Answer {
    let now = st.now();
    let taskid = req.int_or("taskid", 0)?;
    let ttype = req.int_or("ttype", 0)?;
    let serverid = req.int_or("serverid", 0)?;
    let vpsid = req.int_or("vpsid", 0)?;
    let tstatus = req.int_or("tstatus", -1)?;
    let maintask = req.int_or("maintask", 0)?;
    let list: Vec<Value> = st
        .tasks
        .values()
        .filter(|t| taskid == 0 || t.taskid == taskid)
        .filter(|t| ttype == 0 || t.ttype == ttype)
        .filter(|t| serverid == 0 || t.serverid == serverid)
        .filter(|t| vpsid == 0 || t.vpsid == vpsid)
        .filter(|t| tstatus == -1 || t.tstatus(now) == tstatus)
        .filter(|t| maintask == 0 || t.maintask == maintask)
        .filter(|t| task_visible(st, caller, t))
        .map(|t| task_json(t, now))
        .collect();
    json_text(Value::Array(list))
}

fn task_progress(st: &mut State, caller: Caller, req: &Req<'_>) -> Answer {
    let now = st.now();
    let taskid = req.int_or("taskid", 0)?;
    let t = st
        .tasks
        .get(&taskid)
        .filter(|t| task_visible(st, caller, t))
        .ok_or(format!("任务 {taskid} 不存在"))?;
    json_text(json!({"taskid": t.taskid, "tstatus": t.tstatus(now), "progress": t.progress(now)}))
}

fn serverstatus(st: &State) -> String {
    let now = st.now();
    let servers: Vec<Value> = st
        .servers
        .values()
        .map(|s| {
            let vms = st
                .vms
                .values()
                .filter(|v| v.serverid == s.serverid && v.running)
                .count();
            json!({
                "serverid": s.serverid, "servername": s.servername, "status": 1,
                "uptime": now.duration_since(s.booted).as_secs(),
                "load": format!("{:.2}", 0.15 + vms as f64 * 0.05),
                "vmrunning": vms
            })
        })
        .collect();
    json!({"time": china(now), "servers": servers}).to_string()
}

// ---------------------------------------------------------------- VMs

fn not_found(vpsid: i64) -> String {
    format!("主机 {vpsid} 不存在")
}

/// The VM a request addresses; another user's VM looks absent at user level.
fn vm_mut(st: &mut State, caller: Caller, vpsid: i64) -> Result<&mut Vm, String> {
    st.vms
        .get_mut(&vpsid)
        .filter(|v| caller.sees(v.userid))
        .ok_or_else(|| not_found(vpsid))
}

fn vm_json(st: &State, v: &Vm) -> Value {
    let osname = st
        .templates
        .get(&v.osid)
        .map(|t| t.osname.clone())
        .unwrap_or_default();
    let group = st.servers.get(&v.serverid).map_or(0, |s| s.groupid);
    json!({
        "vpsid": v.vpsid, "userid": v.userid, "groupid": v.groupid, "serverid": v.serverid,
        "servergroup": group, "vname": v.vname, "cpu": v.cpu, "ram_max": v.ram_max,
        "ram_min": v.ram_min, "disk": v.disk, "bandwidth": v.bandwidth, "port": v.port,
        "osid": v.osid, "osname": osname, "ip": v.ip,
        "additionalips": v.additional_ips.join(","), "shareip": v.shareip, "status": v.status,
        "vmstate": if v.running { "Running" } else { "Halted" },
        "backup_snapshot": v.backup_snapshot, "backup_full": v.backup_full,
        "portmap": v.portmap, "binding_domain": v.binding_domain, "bwusage": v.bwusage,
        "bwdate": v.bwdate, "createtime": china(v.created)
    })
}

fn vm_info(st: &mut State, caller: Caller, req: &Req<'_>) -> Answer {
    let vpsid = req.int_or("vpsid", 0)?;
    let userid = req.int("userid")?;
    let serverid = req.int("serverid")?;
    let ip = req.get("ip");
    let groupid = req.int("groupid")?;
    let list: Vec<Value> = st
        .vms
        .values()
        .filter(|v| caller.sees(v.userid))
        .filter(|v| vpsid == 0 || v.vpsid == vpsid)
        .filter(|v| userid.is_none_or(|u| v.userid == u))
        .filter(|v| serverid.is_none_or(|s| v.serverid == s))
        .filter(|v| ip.is_none_or(|ip| v.owns_ip(ip)))
        .filter(|v| groupid.is_none_or(|g| v.groupid == g))
        .map(|v| vm_json(st, v))
        .collect();
    if vpsid != 0 && list.is_empty() {
        return Err(not_found(vpsid));
    }
    json_text(Value::Array(list))
}

fn vm_state(st: &mut State, caller: Caller, req: &Req<'_>) -> Answer {
    let now = st.now();
    let vm = vm_mut(st, caller, req.need_int("vpsid")?)?;
    let word = if vm.running { "Running" } else { "Halted" };
    let uptime = if vm.running {
        now.duration_since(vm.started).as_secs()
    } else {
        0
    };
    let data = json!({
        "vpsid": vm.vpsid, "status": vm.status, "vcpus": vm.hardware.cpu,
        "memory": vm.hardware.ram_max, "disk": vm.hardware.disk, "uptime": uptime,
        "cd_image": vm.cd_image
    });
    Ok(format!("{word} {data}"))
}

/// Refuses an operation on a VM whose status is one of `blocked`, saying why.
fn refuse_status(status: i64, blocked: &[i64]) -> Result<(), String> {
    if !blocked.contains(&status) {
        return Ok(());
    }
    Err(match status {
        0 => "主机正在安装中，请稍后再试",
        1 => "主机已被锁定",
        -1 => "主机已欠费停机",
        -3 => "主机流量超限已停机",
        _ => "主机状态异常",
    }
    .into())
}

fn power(st: &mut State, caller: Caller, req: &Req<'_>, command: &str) -> Answer {
    let now = st.now();
    let vm = vm_mut(st, caller, req.need_int("vpsid")?)?;
    refuse_status(vm.status, &[0, 1, -1, -3])?;
    match command {
        "vm_start" => {
            if !vm.running {
                vm.running = true;
                vm.started = now;
            }
        }
        "vm_shutdown" => {
            if !vm.running {
                return Err("主机未运行".into());
            }
            vm.running = false;
        }
        "vm_hshutdown" => vm.running = false,
        "vm_reboot" => {
            if !vm.running {
                return Err("主机未运行".into());
            }
            vm.started = now;
        }
        _ => {
            // Forced reboot powers a halted VM on as well.
            vm.running = true;
            vm.started = now;
        }
    }
    ok()
}

fn vm_group_info(st: &mut State, caller: Caller, req: &Req<'_>) -> Answer {
    let userid = match caller {
        Caller::System => req.int("userid")?,
        Caller::User { userid } => Some(userid),
    };
    let groupid = req.int("groupid")?;
    let list: Vec<Value> = st
        .vm_groups
        .values()
        .filter(|g| userid.is_none_or(|u| g.userid == u))
        .filter(|g| groupid.is_none_or(|id| g.groupid == id))
        .map(|g| {
            json!({"groupid": g.groupid, "userid": g.userid, "groupname": g.groupname,
                   "grouporder": g.grouporder,
                   "vmcount": st.vms.values().filter(|v| v.groupid == g.groupid).count()})
        })
        .collect();
    json_text(Value::Array(list))
}

fn vm_group_update(st: &mut State, caller: Caller, req: &Req<'_>) -> Answer {
    let groupid = req.need_int("groupid")?;
    let order = req.int("grouporder")?;
    let g = st
        .vm_groups
        .get_mut(&groupid)
        .filter(|g| caller.sees(g.userid))
        .ok_or(format!("主机分组 {groupid} 不存在"))?;
    if let Some(name) = req.get("groupname") {
        if name.chars().count() > 50 {
            return Err("分组名称长度不能大于 50".into());
        }
        g.groupname = name.to_string();
    }
    if let Some(o) = order {
        g.grouporder = o;
    }
    if let Some(p) = req.get("grouppassword") {
        g.grouppassword = p.to_string();
    }
    ok()
}

fn split_ips(s: Option<&str>) -> Vec<String> {
    s.unwrap_or_default()
        .split([',', ' ', ';', '|'])
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// Checks that `ip` belongs to `serverid` and is free (or already `vpsid`'s).
fn claimable(st: &State, ip: &str, serverid: i64, vpsid: i64) -> Result<(), String> {
    let row = st
        .ip_index
        .get(ip)
        .and_then(|id| st.ips.get(id))
        .filter(|r| r.serverid == serverid)
        .ok_or(format!("IP 地址 {ip} 不属于该服务器"))?;
    if row.vpsid != 0 && row.vpsid != vpsid {
        return Err(format!("IP 地址 {ip} 已被使用"));
    }
    Ok(())
}

/// The hardware limits both vm_create and vm_update enforce.
fn check_sizes(cpu: i64, ram_max: i64, ram_min: i64, disk: i64) -> Result<(), String> {
    if cpu < 1 || ram_max < 128 || disk < 1 || ram_min < 1 || ram_min > ram_max {
        return Err("主机配置参数错误".into());
    }
    Ok(())
}

fn vm_create(st: &mut State, req: &Req<'_>) -> Answer {
    let userid = req.need_int("userid")?;
    let cpu = req.need_int("cpu")?;
    let ram_max = req.need_int("ram_max")?;
    let ram_min = req.need_int("ram_min")?;
    let disk = req.need_int("disk")?;
    let vname = req.need("vpsname")?;
    let osid = req.need_int("osid")?;
    let serverid = req.need_int("serverid")?;
    if st.user_by_userid(userid).is_none() {
        return Err(format!("用户 {userid} 不存在"));
    }
    if !valid_username(vname) {
        return Err("主机别名必须为 5~50 位字母和数字组合".into());
    }
    check_sizes(cpu, ram_max, ram_min, disk)?;
    let shared = req.int_or("shareip", 0)? == 1;
    let server = server_of(st, serverid)?;
    if !server.osids.contains(&osid) {
        return Err(format!("系统模板 {osid} 不存在"));
    }
    let vpsid = st.ids.vm + 1;
    let ip = match req.get("ip") {
        Some(ip) => {
            claimable(st, ip, serverid, vpsid)?;
            ip.to_string()
        }
        None => st
            .free_ip_on(serverid, shared)
            .ok_or("服务器没有可用的 IP 地址")?,
    };
    let extra = split_ips(req.get("additionalips"));
    for (i, a) in extra.iter().enumerate() {
        if *a == ip || extra[..i].contains(a) {
            return Err(format!("IP 地址 {a} 已被使用"));
        }
        claimable(st, a, serverid, vpsid)?;
    }
    let image_os = match req.int_or("imageid", 0)? {
        0 => None,
        id => Some(
            st.vms
                .values()
                .flat_map(|v| v.backups.iter())
                .find(|b| b.bkid == id && b.bktype == 1)
                .map(|b| b.osid)
                .ok_or(format!("完整备份集 {id} 不存在"))?,
        ),
    };
    let vpsid = st.next_vpsid();
    let mut vm = st.new_vm(
        vpsid,
        userid,
        serverid,
        vname,
        cpu,
        ram_max,
        disk,
        image_os.unwrap_or(osid),
        &ip,
    );
    vm.ram_min = ram_min;
    vm.shareip = i64::from(shared);
    assign_ints(
        req,
        [
            ("bandwidth", &mut vm.bandwidth),
            ("port", &mut vm.port),
            ("backup_snapshot", &mut vm.backup_snapshot),
            ("backup_full", &mut vm.backup_full),
            ("portmap", &mut vm.portmap),
            ("binding_domain", &mut vm.binding_domain),
        ],
    )?;
    vm.additional_ips = extra.clone();
    st.set_ip_owner(&ip, vpsid);
    for a in &extra {
        st.set_ip_owner(a, vpsid);
    }
    st.count_vps(vm.userid, 1);
    st.vms.insert(vpsid, vm);
    st.start_task(1, "创建主机", vpsid, serverid, TaskEffect::Install);
    Ok(format!("0|{vpsid}|{ip}"))
}

fn vm_update(st: &mut State, req: &Req<'_>) -> Answer {
    let vpsid = req.need_int("vpsid")?;
    let mut vm = st
        .vms
        .get(&vpsid)
        .cloned()
        .ok_or_else(|| not_found(vpsid))?;
    // Changes go to a copy that replaces the record only once every check has passed.
    assign_ints(
        req,
        [
            ("userid", &mut vm.userid),
            ("cpu", &mut vm.cpu),
            ("ram_max", &mut vm.ram_max),
            ("ram_min", &mut vm.ram_min),
            ("disk", &mut vm.disk),
            ("bandwidth", &mut vm.bandwidth),
            ("port", &mut vm.port),
            ("status", &mut vm.status),
            ("backup_snapshot", &mut vm.backup_snapshot),
            ("backup_full", &mut vm.backup_full),
            ("portmap", &mut vm.portmap),
            ("binding_domain", &mut vm.binding_domain),
        ],
    )?;
    if req.get("userid").is_some() && st.user_by_userid(vm.userid).is_none() {
        return Err(format!("用户 {} 不存在", vm.userid));
    }
    if req.get("ram_max").is_some() && req.get("ram_min").is_none() {
        // A lower maximum drags the minimum down rather than refusing the resize.
        vm.ram_min = vm.ram_min.min(vm.ram_max);
    }
    check_sizes(vm.cpu, vm.ram_max, vm.ram_min, vm.disk)?;
    if let Some(n) = req.get("vpsname") {
        if !valid_username(n) {
            return Err("主机别名必须为 5~50 位字母和数字组合".into());
        }
        vm.vname = n.to_string();
    }
    let old_ips: Vec<String> = std::iter::once(vm.ip.clone())
        .chain(vm.additional_ips.iter().cloned())
        .collect();
    if let Some(ip) = req.get("ip") {
        claimable(st, ip, vm.serverid, vpsid)?;
        vm.ip = ip.to_string();
    }
    if let Some(list) = req.get("additionalips") {
        vm.additional_ips = split_ips(Some(list));
        for a in &vm.additional_ips {
            claimable(st, a, vm.serverid, vpsid)?;
        }
    }
    for (key, slot) in [("bwdate", &mut vm.bwdate), ("bwusage", &mut vm.bwusage)] {
        if let Some(v) = req.get(key) {
            *slot = v.to_string();
        }
    }
    // Stopped states power the VM off, as the panel's traffic/arrears jobs do.
    if matches!(vm.status, -1 | -3) {
        vm.running = false;
    }
    if req.int_or("updatevm", 1)? == 1 {
        vm.hardware = Hardware {
            cpu: vm.cpu,
            ram_max: vm.ram_max,
            disk: vm.disk,
        };
    }
    for ip in &old_ips {
        st.set_ip_owner(ip, 0);
    }
    for ip in std::iter::once(&vm.ip).chain(&vm.additional_ips) {
        st.set_ip_owner(ip, vpsid);
    }
    if let Some(before) = st.vms.get(&vpsid).map(|v| v.userid) {
        if before != vm.userid {
            st.count_vps(before, -1);
            st.count_vps(vm.userid, 1);
        }
    }
    st.vms.insert(vpsid, vm);
    ok()
}

fn vm_rename(st: &mut State, caller: Caller, req: &Req<'_>) -> Answer {
    let name = req.need("vname")?.to_string();
    if name.chars().count() > 50 {
        return Err("主机别名长度不能大于 50".into());
    }
    let vm = vm_mut(st, caller, req.need_int("vpsid")?)?;
    if let Some(u) = req.int("userid")? {
        if u != vm.userid {
            return Err(not_found(vm.vpsid));
        }
    }
    vm.vname = name;
    ok()
}

fn vm_reload(st: &mut State, caller: Caller, req: &Req<'_>) -> Answer {
    let vpsid = req.need_int("vpsid")?;
    let osid = req.need_int("osid")?;
    let (serverid, status, owner) = {
        let vm = vm_mut(st, caller, vpsid)?;
        (vm.serverid, vm.status, vm.userid)
    };
    if !server_of(st, serverid)?.osids.contains(&osid) {
        return Err(format!("系统模板 {osid} 不存在"));
    }
    refuse_status(status, &[0, 1])?;
    check_vcode(st, caller, req, |c| c.email_vps_reload || c.sms_vps_reload)?;
    if let Some(u) = st.user_by_userid_mut(owner) {
        u.rvcount = u.rvcount.saturating_add(1);
    }
    let vm = vm_mut(st, caller, vpsid)?;
    vm.osid = osid;
    vm.status = 0;
    vm.running = false;
    vm.password = random_token(12);
    vm.guest = Guest::default();
    if req.int_or("rot", 1)? == 0 {
        // Formatting every disk takes the backups' restore points with it.
        vm.backups.clear();
    }
    st.start_task(2, "重装系统", vpsid, serverid, TaskEffect::Install);
    ok()
}

fn vm_resetps(st: &mut State, caller: Caller, req: &Req<'_>) -> Answer {
    let vpsid = req.need_int("vpsid")?;
    let osid = vm_mut(st, caller, vpsid)?.osid;
    // Only V2 templates take a chosen password; older ones always get a generated one.
    let v2 = st.templates.get(&osid).is_some_and(|t| t.version >= 2);
    let chosen = req.get("password").filter(|_| v2).map(str::to_string);
    if chosen.as_ref().is_some_and(|p| p.chars().count() < 6) {
        return Err("密码长度不能小于 6 位".into());
    }
    // Last check: a code is spent only by an operation that then happens.
    check_vcode(st, caller, req, |c| {
        c.email_vps_reset_password || c.sms_vps_reset_password
    })?;
    let vm = vm_mut(st, caller, vpsid)?;
    vm.password = chosen.unwrap_or_else(|| random_token(12));
    ok()
}

fn vm_delete(st: &mut State, req: &Req<'_>) -> Answer {
    let vpsid = req.need_int("vpsid")?;
    let vm = st.vms.get(&vpsid).ok_or_else(|| not_found(vpsid))?;
    if let Some(allowed) = id_list(req.get("vstatus"))? {
        if !allowed.contains(&vm.status) {
            return Err(format!("主机状态 {} 不在允许删除的状态范围内", vm.status));
        }
    }
    let extra = if req.get("returnmsg") == Some("true") {
        format!("|{}|{}", vm.ip, vm.vname)
    } else {
        String::new()
    };
    let (serverid, owner) = (vm.serverid, vm.userid);
    st.vms.remove(&vpsid);
    st.count_vps(owner, -1);
    for row in st.ips.values_mut().filter(|r| r.vpsid == vpsid) {
        row.vpsid = 0;
    }
    st.start_task(5, "删除主机", vpsid, serverid, TaskEffect::None);
    Ok(format!("0{extra}"))
}

// ---------------------------------------------------------------- VM features

fn in_backup_hours(st: &State, owner: i64) -> Result<(), String> {
    let hour = china_hour(st.now());
    let hours = st
        .user_by_userid(owner)
        .map(|u| u.config.backup_hours.clone())
        .unwrap_or_default();
    if hours.contains(&hour) {
        Ok(())
    } else {
        let list = hours
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        Err(format!(
            "当前时段不允许进行完整备份或还原操作，允许时段：{list}"
        ))
    }
}

fn backup(st: &mut State, caller: Caller, req: &Req<'_>, action: &str) -> Answer {
    let vpsid = req.need_int("vpsid")?;
    let now = st.now();
    let (owner, status, serverid) = {
        let vm = vm_mut(st, caller, vpsid)?;
        (vm.userid, vm.status, vm.serverid)
    };
    let user_limits = caller != Caller::System || req.int_or("checkuserlimit", 0)? == 1;
    match action {
        "vm_backup#list" => {
            let vm = vm_mut(st, caller, vpsid)?;
            let list: Vec<Value> = vm
                .backups
                .iter()
                .map(|b| {
                    json!({"bkid": b.bkid, "bkname": b.bkname, "bktype": b.bktype,
                           "createtime": china(b.created), "size": b.size})
                })
                .collect();
            json_text(Value::Array(list))
        }
        "vm_backup#backup" => {
            let bktype = req.int_or("bktype", 0)?;
            if status != 2 {
                return Err("主机状态异常，无法备份".into());
            }
            // The hours are a user-level limit: `checkuserlimit=0` (the default) lets a
            // system-level call back up whenever, as it lifts the user's allowances.
            if bktype == 1 && user_limits {
                in_backup_hours(st, owner)?;
            }
            let config = st
                .user_by_userid(owner)
                .map(|u| u.config.clone())
                .unwrap_or_default();
            let vm = vm_mut(st, caller, vpsid)?;
            let have = vm.backups.iter().filter(|b| b.bktype == bktype).count();
            let (vm_cap, user_cap, kind, mb_per_gb) = if bktype == 1 {
                (vm.backup_full, config.backup_full, "完整备份集", 1024)
            } else {
                (
                    vm.backup_snapshot,
                    config.backup_snapshot,
                    "快照备份集",
                    128,
                )
            };
            let cap = if user_limits {
                vm_cap.min(user_cap)
            } else {
                vm_cap
            };
            within_allowance(have, cap, kind)?;
            let size = vm.hardware.disk.saturating_mul(mb_per_gb);
            let osid = vm.osid;
            let bkid = st.next_backup();
            let name = req
                .get("bkname")
                .map_or_else(|| format!("backup{bkid}"), str::to_string);
            vm_mut(st, caller, vpsid)?.backups.push(BackupRow {
                bkid,
                bkname: name,
                bktype,
                created: now,
                size,
                osid,
            });
            st.start_task(3, "创建备份", vpsid, serverid, TaskEffect::None);
            Ok(format!("0|{bkid}"))
        }
        "vm_backup#del" => {
            let bkid = req.need_int("bkid")?;
            let backups = &mut vm_mut(st, caller, vpsid)?.backups;
            remove_one(backups, |b| b.bkid == bkid, format!("备份集 {bkid}"))
        }
        _ => {
            let bkid = req.need_int("bkid")?;
            let (bktype, osid) = vm_mut(st, caller, vpsid)?
                .backups
                .iter()
                .find(|b| b.bkid == bkid)
                .map(|b| (b.bktype, b.osid))
                .ok_or(format!("备份集 {bkid} 不存在"))?;
            refuse_status(status, &[0])?;
            if bktype == 1 && user_limits {
                in_backup_hours(st, owner)?;
            }
            check_vcode(st, caller, req, |c| c.email_vps_revert || c.sms_vps_revert)?;
            let vm = vm_mut(st, caller, vpsid)?;
            vm.osid = osid;
            vm.status = 0;
            vm.running = false;
            st.start_task(4, "还原备份", vpsid, serverid, TaskEffect::Install);
            ok()
        }
    }
}

fn console(st: &mut State, caller: Caller, req: &Req<'_>, action: &str) -> Answer {
    let now = st.now();
    let vpsid = req.need_int("vpsid")?;
    let serverid = vm_mut(st, caller, vpsid)?.serverid;
    let vsip = server_of(st, serverid)?.serverip.clone();
    let vm = vm_mut(st, caller, vpsid)?;
    if vm.console.as_ref().is_some_and(|c| c.expires <= now) {
        vm.console = None;
    }
    match action {
        "vm_console#enable" => {
            if !vm.running {
                return Err("主机未运行".into());
            }
            vm.console = Some(Console {
                token: random_token(24),
                port: 5900 + vpsid % 1000,
                vsip,
                expires: now + CONSOLE_TTL,
            });
            ok()
        }
        "vm_console#logout" => {
            vm.console = None;
            ok()
        }
        _ => {
            let body = match vm.console.as_mut() {
                Some(c) => {
                    c.expires = now + CONSOLE_TTL;
                    json!({"state": 1, "vsip": c.vsip, "port": c.port, "token": c.token,
                           "expireTime": china(c.expires)})
                }
                None => json!({"state": 0, "vsip": "", "port": 0, "token": "", "expireTime": ""}),
            };
            json_text(body)
        }
    }
}

fn cdrom(st: &mut State, caller: Caller, req: &Req<'_>, action: &str) -> Answer {
    let isos = st.isos.clone();
    let vm = vm_mut(st, caller, req.need_int("vpsid")?)?;
    if action == "vm_cd_manage#state" {
        let images: Vec<Value> = isos
            .iter()
            .map(|(id, name)| json!({"id": id, "name": name}))
            .collect();
        return json_text(json!({"mounted": vm.cd_image, "images": images}));
    }
    match req.get("cd_image") {
        None => vm.cd_image.clear(),
        Some(id) => {
            if !isos.iter().any(|(i, _)| i == id) {
                return Err(format!("光盘镜像 {id} 不存在"));
            }
            vm.cd_image = id.to_string();
        }
    }
    ok()
}

fn vif(st: &mut State, caller: Caller, req: &Req<'_>, action: &str) -> Answer {
    let vm = vm_mut(st, caller, req.need_int("vpsid")?)?;
    if action == "vm_vif#list" {
        let mut m = Map::new();
        m.insert("count".into(), Value::String(vm.nics.len().to_string()));
        for (i, n) in vm.nics.iter().enumerate() {
            m.insert(format!("id_{i}"), Value::String(n.id.clone()));
            m.insert(format!("mac_{i}"), Value::String(n.mac.clone()));
            m.insert(
                format!("status_{i}"),
                Value::String(if n.enabled { "1" } else { "0" }.into()),
            );
            m.insert(format!("network_{i}"), Value::String(n.network.clone()));
        }
        return json_text(Value::Object(m));
    }
    let vfid = req.need("vfid")?;
    let nic = vm
        .nics
        .iter_mut()
        .find(|n| n.id == vfid)
        .ok_or(format!("网卡 {vfid} 不存在"))?;
    nic.enabled = action == "vm_vif#plug";
    ok()
}

/// Refuses the first address of a space-separated list the VM does not own.
fn check_owned(vm: &Vm, ips: &str) -> Result<(), String> {
    match ips.split(' ').find(|ip| !ip.is_empty() && !vm.owns_ip(ip)) {
        Some(ip) => Err(format!("IP 地址 {ip} 不属于该主机")),
        None => Ok(()),
    }
}

/// Refuses the first MAC of a space-separated list that is none of the VM's NICs.
fn check_macs(vm: &Vm, macs: &str) -> Result<(), String> {
    let known = |mac: &str| vm.nics.iter().any(|n| n.mac.eq_ignore_ascii_case(mac));
    match macs.split(' ').find(|m| !m.is_empty() && !known(m)) {
        Some(mac) => Err(format!("网卡 MAC 地址 {mac} 不存在")),
        None => Ok(()),
    }
}

fn setips(st: &mut State, caller: Caller, req: &Req<'_>) -> Answer {
    let vm = vm_mut(st, caller, req.need_int("vpsid")?)?;
    let count = usize::try_from(req.int_or("nicCount", 1)?)
        .ok()
        .filter(|c| (1..=vm.nics.len()).contains(c))
        .ok_or_else(|| format!("参数 nicCount 无效：主机只有 {} 块网卡", vm.nics.len()))?;
    let mut plan = Vec::with_capacity(count);
    for (i, nic) in vm.nics.iter().enumerate().take(count) {
        if let Some(mac) = req.get(&format!("mac_{i}")) {
            if !nic.mac.eq_ignore_ascii_case(mac) {
                return Err(format!("网卡 MAC 地址 {mac} 不存在"));
            }
        }
        let ips = req.need(&format!("ip_{i}"))?;
        if ips != "dhcp" {
            check_owned(vm, ips)?;
        }
        plan.push(ips.to_string());
    }
    for (nic, ips) in vm.nics.iter_mut().zip(plan) {
        nic.bound = ips;
    }
    ok()
}

fn portmap(st: &mut State, caller: Caller, req: &Req<'_>, action: &str) -> Answer {
    let vpsid = req.need_int("vpsid")?;
    let serverid = vm_mut(st, caller, vpsid)?.serverid;
    let public_ip = server_of(st, serverid)?.serverip.clone();
    match action {
        "vm_portmap#list" => {
            let vm = vm_mut(st, caller, vpsid)?;
            let list: Vec<Value> = vm
                .portmaps
                .iter()
                .map(|p| {
                    json!({"portid": p.portid, "privateport": p.privateport,
                           "publicport": p.publicport, "publicip": public_ip})
                })
                .collect();
            json_text(Value::Array(list))
        }
        "vm_portmap#add" => {
            let private = req.need_int("privateport")?;
            if !(1..=65535).contains(&private) {
                return Err("参数 privateport 无效：端口范围 1~65535".into());
            }
            {
                let vm = vm_mut(st, caller, vpsid)?;
                within_allowance(vm.portmaps.len(), vm.portmap, "端口映射")?;
                if vm.portmaps.iter().any(|p| p.privateport == private) {
                    return Err(format!("内网端口 {private} 已映射"));
                }
            }
            let (portid, publicport) = st.next_portmap();
            vm_mut(st, caller, vpsid)?.portmaps.push(PortMapRow {
                portid,
                privateport: private,
                publicport,
            });
            Ok(format!("0|{portid}|{publicport}"))
        }
        _ => {
            let portid = req.need_int("portid")?;
            let maps = &mut vm_mut(st, caller, vpsid)?.portmaps;
            remove_one(maps, |p| p.portid == portid, format!("端口映射 {portid}"))
        }
    }
}

fn valid_domain(d: &str) -> bool {
    d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

fn domain(st: &mut State, caller: Caller, req: &Req<'_>, action: &str) -> Answer {
    let vpsid = req.need_int("vpsid")?;
    let now = st.now();
    vm_mut(st, caller, vpsid)?;
    match action {
        "vm_domain#list" => {
            let vm = vm_mut(st, caller, vpsid)?;
            let list: Vec<Value> = vm
                .domains
                .iter()
                .map(|d| json!({"domainid": d.domainid, "domain": d.domain, "createtime": china(d.created)}))
                .collect();
            json_text(Value::Array(list))
        }
        "vm_domain#add" => {
            let name = req.need("domain")?.to_ascii_lowercase();
            if !valid_domain(&name) {
                return Err(format!("域名 {name} 格式错误"));
            }
            if st
                .vms
                .values()
                .any(|v| v.domains.iter().any(|d| d.domain == name))
            {
                return Err(format!("域名 {name} 已被绑定"));
            }
            {
                let vm = vm_mut(st, caller, vpsid)?;
                within_allowance(vm.domains.len(), vm.binding_domain, "绑定域名")?;
            }
            let domainid = st.next_domain();
            vm_mut(st, caller, vpsid)?.domains.push(DomainRow {
                domainid,
                domain: name,
                created: now,
            });
            Ok(format!("0|{domainid}"))
        }
        _ => {
            let domainid = req.need_int("domainid")?;
            let domains = &mut vm_mut(st, caller, vpsid)?.domains;
            remove_one(
                domains,
                |d| d.domainid == domainid,
                format!("域名绑定 {domainid}"),
            )
        }
    }
}

fn vm_stat(st: &mut State, caller: Caller, req: &Req<'_>) -> Answer {
    let now = st.now();
    let vm = vm_mut(st, caller, req.need_int("Vpsid")?)?;
    let kind = req.int_or("charttype", 1)?;
    let interval = req.int_or("chartinterval", 5)?;
    let (points, title, unit) = match kind {
        1 => (120, "CPU", "%"),
        2 => (120, "空闲内存", "MB"),
        3 => (120, "磁盘读写", "KB/s"),
        _ => (120, "网卡流量", "KB/s"),
    };
    let points: i64 = match interval {
        3600 => 24,
        86400 => 30,
        2592000 => 3,
        _ => points,
    };
    let end_ms = now.as_millisecond();
    let mut series = Vec::new();
    for i in 0..points {
        let t = end_ms - (points - 1 - i) * interval * 1000;
        // Deterministic per VM and time so repeated queries agree; a halted VM is idle.
        let seed = (vm.vpsid * 7919 + t / 1000 / interval.max(1) * 104_729).rem_euclid(1000);
        let v = if !vm.running {
            if kind == 2 {
                vm.hardware.ram_max
            } else {
                0
            }
        } else {
            match kind {
                1 => 5 + seed % 60,
                2 => vm.hardware.ram_max / 4 + seed % (vm.hardware.ram_max / 2).max(1),
                _ => seed * 3,
            }
        };
        series.push(format!("[{t},{v}]"));
    }
    Ok(format!(
        "var chartData_{kind} = [{}];\n$(document).ready(function () {{\n    $('#jqChart').jqChart({{\n        title: {{ text: '{title}' }},\n        axes: [{{ type: 'dateTime', location: 'bottom' }}, {{ type: 'linear', location: 'left', title: {{ text: '{unit}' }} }}],\n        series: [{{ type: 'line', title: '{title}', data: chartData_{kind} }}]\n    }});\n}});\n",
        series.join(",")
    ))
}

/// Keys vm_cmds accepts for a subcommand, from the spec's `cmd_params.*` columns
/// (`ip_N` matches `ip_0`, `ip_1`...). Case-sensitive, as the document insists.
fn allowed_cmd_keys(action: &ActionSpec) -> Vec<&str> {
    action
        .params
        .iter()
        .filter_map(|p| p.name.strip_prefix("cmd_params."))
        .collect()
}

fn key_allowed(allowed: &[&str], key: &str) -> bool {
    allowed
        .iter()
        .any(|a| match a.strip_suffix('N').filter(|p| p.ends_with('_')) {
            Some(prefix) => key
                .strip_prefix(prefix)
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())),
            None => *a == key,
        })
}

fn vm_cmds(st: &mut State, caller: Caller, req: &Req<'_>, action: &ActionSpec) -> Answer {
    let now = st.now();
    let sub = action.name().split_once('#').map_or("", |(_, s)| s);
    let raw = req.need("cmd_params")?;
    let params: Map<String, Value> = match serde_json::from_str(raw) {
        Ok(Value::Object(m)) => m,
        _ => return Err("参数 cmd_params 格式错误：必须为 JSON 对象".into()),
    };
    let allowed = allowed_cmd_keys(action);
    if let Some(bad) = params.keys().find(|k| !key_allowed(&allowed, k)) {
        return Err(format!(
            "参数 cmd_params 包含未知字段 {bad}（字段名区分大小写）"
        ));
    }
    let text = |k: &str| -> Result<String, String> {
        match params.get(k) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            _ => Err(format!("参数 cmd_params.{k} 不能为空")),
        }
    };
    let vpsid = req.need_int("vpsid")?;
    let osid = vm_mut(st, caller, vpsid)?.osid;
    let osname = st
        .templates
        .get(&osid)
        .map(|t| t.osname.clone())
        .unwrap_or_default();
    let vm = vm_mut(st, caller, vpsid)?;
    if !vm.running {
        return Err("主机未运行，无法执行内部操作".into());
    }
    match sub {
        "configNetwork" => {
            check_macs(vm, &text("macs")?)?;
            for (k, v) in &params {
                if k.starts_with("ip_") {
                    check_owned(vm, v.as_str().unwrap_or_default())?;
                }
            }
            vm.guest.network = params.clone();
        }
        "changePassword" => {
            let user = text("userName")?;
            let pw = text("newPassword")?;
            if pw.chars().count() < 6 {
                return Err("密码长度不能小于 6 位".into());
            }
            vm.guest.passwords.insert(user, pw);
        }
        "setServerName" => vm.guest.hostname = text("serverName")?,
        "writeFile" => {
            let path = text("filePath")?;
            let content = params
                .get("fileContent")
                .and_then(Value::as_str)
                .unwrap_or_default();
            vm.guest.files.insert(path, content.to_string());
        }
        "shellCommands" => {
            let cmd = text("commands")?;
            if cmd.trim_start().starts_with("shutdown") {
                vm.running = false;
            }
            vm.guest.last_command = cmd;
        }
        _ => {
            let name = text("dataName")?;
            let uptime = now.duration_since(vm.started).as_secs();
            return json_text(json!({
                "dataName": name, "hostname": vm.guest.hostname, "osname": osname,
                "uptime": uptime, "network": Value::Object(vm.guest.network.clone()),
                "files": vm.guest.files.keys().collect::<Vec<_>>(),
                "lastCommand": vm.guest.last_command
            }));
        }
    }
    ok()
}
