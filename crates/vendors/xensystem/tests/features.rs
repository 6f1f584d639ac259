//! Backups, console, CD-ROM, NICs, IP binding, port maps, domains, charts, guest commands
//! and VM groups.

#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;
mod expect;

use common::*;
use expect::Expect;
use idcgate_wire::sim::SimServer;
use idcgate_xensystem::{Sim, XensystemClient};
use jiff::Timestamp;
use serde_json::Value;
use std::time::Duration;

/// A call that must succeed.
async fn ok(conn: &XensystemClient, action: &str, params: &[(&str, &str)]) -> Value {
    conn.call_kv(action, params).await.unwrap()
}

/// The first `0|a|b` field of a call that must succeed (the new row's id).
async fn new_id(conn: &XensystemClient, action: &str, params: &[(&str, &str)]) -> String {
    fields(&ok(conn, action, params).await)[0].clone()
}

/// 02:00 China time (18:00 UTC the day before): inside the sandbox backup hours 0-6.
fn night() -> Timestamp {
    "2026-11-24T18:00:00Z".parse().unwrap()
}

/// 14:00 China time: outside them.
fn afternoon() -> Timestamp {
    "2026-11-25T06:00:00Z".parse().unwrap()
}

/// `action` with `params`: the answer or the refusal, as a future that owns the
/// parameters (what the tests' shorthand closures return).
async fn attempt(
    conn: &XensystemClient,
    action: impl AsRef<str>,
    params: Vec<(&str, &str)>,
) -> idcgate_core::Result<Value> {
    conn.call_kv(action.as_ref(), &params).await
}

/// The sandbox (see [`sandbox`]) with its clock at `now`.
async fn sandbox_at(now: Timestamp) -> (Sim, SimServer, XensystemClient) {
    let (sim, srv, conn) = sandbox().await;
    sim.set_now(now);
    (sim, srv, conn)
}

/// Backs VM `vpsid` up (`vm_backup#backup` with `more` parameters): the new backup's id.
async fn backup(conn: &XensystemClient, vpsid: &str, more: &[(&str, &str)]) -> String {
    let params = [&[("vpsid", vpsid)], more].concat();
    new_id(conn, "vm_backup#backup", &params).await
}

#[tokio::test]
async fn backups_respect_allowances_and_backup_hours() {
    let (sim, _srv, conn) = sandbox_at(night()).await;
    let mk = |name, full| {
        let params = vec![("vpsid", "1"), ("bkname", name), ("bktype", full)];
        attempt(&conn, "vm_backup#backup", params)
    };
    mk("snap1", "0").await.unwrap();
    mk("snap2", "0").await.unwrap();
    mk("snap3", "0").await.refused("上限"); // the VM allows 2 snapshots
    let full = fields(&mk("full1", "1").await.unwrap())[0].clone();
    mk("full2", "1").await.refused("上限");
    let list = conn.backups(1).await.unwrap();
    assert_eq!(
        list.iter()
            .map(|b| (b.bkname.as_str(), b.bktype))
            .collect::<Vec<_>>(),
        vec![("snap1", 0), ("snap2", 0), ("full1", 1)]
    );

    // Outside backup hours neither a full backup nor its restore may run as the user
    // (`checkuserlimit=1`, or a user-level call).
    ok(&conn, "vm_backup#del", &[("vpsid", "1"), ("bkid", &full)]).await;
    assert_eq!(conn.backups(1).await.unwrap().len(), 2);
    sim.set_now(afternoon());
    let as_user = [
        ("vpsid", "1"),
        ("bkname", "full3"),
        ("bktype", "1"),
        ("checkuserlimit", "1"),
    ];
    conn.call_kv("vm_backup#backup", &as_user)
        .await
        .refused("时段");
    sim.set_now(night());
    let full = fields(&mk("full4", "1").await.unwrap())[0].clone();
    sim.set_now(afternoon());
    let revert = [
        ("vpsid", "1"),
        ("bkid", full.as_str()),
        ("checkuserlimit", "1"),
    ];
    conn.call_kv("vm_backup#revert", &revert)
        .await
        .refused("时段");

    // A snapshot restore is allowed any time and brings the old OS back.
    let snap = conn.backups(1).await.unwrap()[0].bkid.to_string();
    ok(&conn, "vm_reload", &[("vpsid", "1"), ("osid", "3")]).await;
    finish_tasks(&sim);
    assert_eq!(conn.vm(1).await.unwrap().osid, 3);
    ok(
        &conn,
        "vm_backup#revert",
        &[("vpsid", "1"), ("bkid", &snap)],
    )
    .await;
    let vm = conn.vm(1).await.unwrap();
    assert_eq!((vm.status, vm.osid), (0, 1));
    assert_eq!(conn.tasks(1).await.unwrap().last().unwrap().ttype, 4);
    finish_tasks(&sim);
    assert_eq!(conn.vm(1).await.unwrap().status, 2);
    conn.call_kv("vm_backup#del", &[("vpsid", "1"), ("bkid", "999")])
        .await
        .not_found();
}

#[tokio::test]
async fn checkuserlimit_applies_the_users_quota() {
    let (_sim, _srv, conn) = sandbox_at(night()).await;
    ok(
        &conn,
        "vm_update",
        &[("vpsid", "1"), ("backup_snapshot", "10")],
    )
    .await;
    for i in 0..3 {
        backup(&conn, "1", &[("bkname", &format!("s{i}"))]).await;
    }
    // The user's group allows 3 snapshots, the VM 10.
    let limited = [("vpsid", "1"), ("checkuserlimit", "1")];
    conn.call_kv("vm_backup#backup", &limited)
        .await
        .refused("上限");
    ok(&conn, "vm_backup#backup", &[("vpsid", "1")]).await;
    assert_eq!(conn.backups(1).await.unwrap().len(), 4);
}

/// `checkuserlimit` (default 0) decides whether a system-level call is held to the
/// user's limits: without it a full backup and its restore run outside the backup hours
/// too; a user-level call always is.
#[tokio::test]
async fn checkuserlimit_0_lifts_the_backup_hours() {
    let (sim, srv, conn) = sandbox_at(afternoon()).await;
    let full = [("vpsid", "1"), ("bktype", "1")];
    let bkid = new_id(&conn, "vm_backup#backup", &full).await;
    let with0 = [("vpsid", "1"), ("bktype", "1"), ("checkuserlimit", "0")];
    conn.call_kv("vm_backup#backup", &with0)
        .await
        .refused("上限"); // the VM's one full backup is taken, the hours no obstacle
    let alice = user_conn(&sim, &srv, "alice2024");
    alice
        .call_kv("vm_backup#revert", &[("vpsid", "1"), ("bkid", &bkid)])
        .await
        .refused("时段");
    ok(
        &conn,
        "vm_backup#revert",
        &[("vpsid", "1"), ("bkid", &bkid)],
    )
    .await;
}

#[tokio::test]
async fn user_level_guarded_operations_need_the_verification_code() {
    let (sim, srv, conn) = sandbox_at(night()).await;
    let alice = user_conn(&sim, &srv, "alice2024");
    let bk = backup(&alice, "1", &[("bkname", "mine")]).await;
    // Sends a fresh code to alice and returns it.
    let send = |params: &'static [(&'static str, &'static str)]| {
        let (alice, sim) = (&alice, &sim);
        async move {
            ok(alice, "user_send_verification_code", params).await;
            sim.sent_verification_code(ALICE).unwrap()
        }
    };

    let revert = [("vpsid", "1"), ("bkid", bk.as_str())];
    alice
        .call_kv("vm_backup#revert", &revert)
        .await
        .invalid("vcode");
    let code = send(&[]).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let with_wrong = [("vpsid", "1"), ("bkid", &bk), ("vcode", wrong)];
    alice
        .call_kv("vm_backup#revert", &with_wrong)
        .await
        .refused("验证码错误");
    assert_eq!(conn.vm(1).await.unwrap().status, 2, "nothing restored");
    ok(
        &alice,
        "vm_backup#revert",
        &[("vpsid", "1"), ("bkid", &bk), ("vcode", &code)],
    )
    .await;
    assert_eq!(conn.vm(1).await.unwrap().status, 0);
    finish_tasks(&sim);
    // A code is used up.
    let reset = [("vpsid", "1"), ("vcode", code.as_str())];
    alice
        .call_kv("vm_resetps", &reset)
        .await
        .refused("验证码错误");

    let code = send(&[("type", "1")]).await;
    // A refused reset does not spend the code.
    let short = [("vpsid", "1"), ("vcode", &code), ("password", "short")];
    alice.call_kv("vm_resetps", &short).await.refused("6 位");
    assert_eq!(sim.sent_verification_code(ALICE), Some(code.clone()));
    let reset = [
        ("vpsid", "1"),
        ("vcode", &code),
        ("password", "Alice#Root1"),
    ];
    ok(&alice, "vm_resetps", &reset).await;
    assert_eq!(sim.vm_password(1).unwrap(), "Alice#Root1");

    let reload = [("vpsid", "1"), ("osid", "2")];
    alice.call_kv("vm_reload", &reload).await.invalid("vcode");
    let bad_code = [("vpsid", "1"), ("osid", "2"), ("vcode", "123")];
    alice
        .call_kv("vm_reload", &bad_code)
        .await
        .refused("验证码错误");
    assert_eq!(conn.vm(1).await.unwrap().osid, 1);
    let code = send(&[]).await;
    ok(
        &alice,
        "vm_reload",
        &[("vpsid", "1"), ("osid", "2"), ("vcode", &code)],
    )
    .await;
    assert_eq!(conn.vm(1).await.unwrap().osid, 2);
    assert_eq!(conn.user_info(ALICE).await.unwrap().rvcount, 1);
    // The system level needs no code.
    finish_tasks(&sim);
    ok(&conn, "vm_reload", &[("vpsid", "1"), ("osid", "3")]).await;
    assert_eq!(conn.vm(1).await.unwrap().osid, 3);
}

#[tokio::test]
async fn backup_hours_come_from_the_users_settings() {
    let (sim, _srv, conn) = sandbox_at(afternoon()).await;
    let full = [("vpsid", "1"), ("bktype", "1"), ("checkuserlimit", "1")];
    conn.call_kv("vm_backup#backup", &full)
        .await
        .refused("时段");
    sim.set_backup_hours(ALICE, &[14]);
    assert_eq!(
        conn.user_sys_config(ALICE).await.unwrap().backup_hours,
        "14"
    );
    conn.call_kv("vm_backup#backup", &full).await.unwrap();
    let list = conn.backups(1).await.unwrap();
    assert_eq!(list.iter().map(|b| b.bktype).collect::<Vec<_>>(), vec![1]);
}

#[tokio::test]
async fn console_sessions_expire_fifteen_minutes_after_the_last_query() {
    let (sim, _srv, conn) = sandbox().await;
    assert_eq!(conn.console_state(1).await.unwrap().state, 0);
    ok(&conn, "vm_console#enable", &[("vpsid", "1")]).await;
    let s = conn.console_state(1).await.unwrap();
    assert_eq!((s.state, s.vsip.as_str()), (1, "10.20.1.11"));
    assert!(!s.token.is_empty());
    sim.advance(Duration::from_secs(10 * 60));
    assert_eq!(
        conn.console_state(1).await.unwrap().state,
        1,
        "query extends the session"
    );
    sim.advance(Duration::from_secs(10 * 60));
    assert_eq!(conn.console_state(1).await.unwrap().state, 1);
    sim.advance(Duration::from_secs(16 * 60));
    assert_eq!(conn.console_state(1).await.unwrap().state, 0, "expired");
    ok(&conn, "vm_console#enable", &[("vpsid", "1")]).await;
    ok(&conn, "vm_console#logout", &[("vpsid", "1")]).await;
    assert_eq!(conn.console_state(1).await.unwrap().state, 0);
    // A halted VM has no console.
    assert!(conn
        .call_kv("vm_console#enable", &[("vpsid", "2")])
        .await
        .is_err());
}

#[tokio::test]
async fn cdrom_mounts_and_ejects() {
    let (_sim, _srv, conn) = sandbox().await;
    let s = conn.cd_state(1).await.unwrap();
    assert_eq!((s.mounted.as_str(), s.images.len()), ("", 3));
    ok(
        &conn,
        "vm_cd_manage#change",
        &[("vpsid", "1"), ("cd_image", "2")],
    )
    .await;
    assert_eq!(conn.cd_state(1).await.unwrap().mounted, "2");
    assert_eq!(
        ok(&conn, "vm_state", &[("vpsid", "1")]).await["data"]["cd_image"],
        "2"
    );
    let unknown = [("vpsid", "1"), ("cd_image", "77")];
    conn.call_kv("vm_cd_manage#change", &unknown)
        .await
        .not_found();
    ok(&conn, "vm_cd_manage#change", &[("vpsid", "1")]).await;
    assert_eq!(conn.cd_state(1).await.unwrap().mounted, "");
}

#[tokio::test]
async fn nics_plug_unplug_and_ip_binding() {
    let (sim, _srv, conn) = sandbox().await;
    let nics = conn.nics(1).await.unwrap();
    assert_eq!(nics.len(), 2);
    assert!(nics[0].enabled && !nics[1].enabled);
    ok(
        &conn,
        "vm_vif#plug",
        &[("vpsid", "1"), ("vfid", &nics[1].id)],
    )
    .await;
    ok(
        &conn,
        "vm_vif#unplug",
        &[("vpsid", "1"), ("vfid", &nics[0].id)],
    )
    .await;
    let now = conn.nics(1).await.unwrap();
    assert!(!now[0].enabled && now[1].enabled);
    let unknown = [("vpsid", "1"), ("vfid", "vif-x")];
    conn.call_kv("vm_vif#plug", &unknown).await.not_found();

    let foreign = [("vpsid", "1"), ("mac_0", &nics[0].mac), ("ip_0", "8.8.8.8")];
    conn.call_kv("vm_setips", &foreign).await.refused("不属于");
    let both = [
        ("vpsid", "1"),
        ("nicCount", "2"),
        ("mac_0", &nics[0].mac),
        ("ip_0", "103.45.12.10"),
        ("mac_1", &nics[1].mac),
        ("ip_1", "dhcp"),
    ];
    ok(&conn, "vm_setips", &both).await;
    // The vif list names only what the document lists (no addresses): the binding is
    // seen in the panel.
    assert_eq!(
        sim.nic_bindings(1),
        Some(vec!["103.45.12.10".to_string(), "dhcp".to_string()])
    );
    let raw = ok(&conn, "vm_vif#list", &[("vpsid", "1")]).await;
    assert!(raw.get("ip_0").is_none(), "{raw}");
}

#[tokio::test]
async fn port_maps_within_allowance() {
    let (_sim, _srv, conn) = sandbox().await;
    let add = |port| {
        attempt(
            &conn,
            "vm_portmap#add",
            vec![("vpsid", "4"), ("privateport", port)],
        )
    };
    let first = fields(&add("22").await.unwrap());
    add("22").await.refused("已映射");
    add("80").await.unwrap();
    add("443").await.unwrap();
    add("8080").await.refused("上限"); // the VM allows 3
    let maps = conn.port_maps(4).await.unwrap();
    assert_eq!(maps.len(), 3);
    assert_eq!(maps[0].publicport.to_string(), first[1]);
    assert_eq!(maps[0].publicip, "10.30.1.11");
    ok(
        &conn,
        "vm_portmap#del",
        &[("vpsid", "4"), ("portid", &first[0])],
    )
    .await;
    assert_eq!(
        conn.port_maps(4)
            .await
            .unwrap()
            .iter()
            .map(|m| m.privateport)
            .collect::<Vec<_>>(),
        vec![80, 443]
    );
    add("8080").await.unwrap();
    let unknown = [("vpsid", "4"), ("portid", "999")];
    conn.call_kv("vm_portmap#del", &unknown).await.not_found();
}

#[tokio::test]
async fn bound_domains_within_allowance_and_unique() {
    let (_sim, _srv, conn) = sandbox().await;
    let add = |vps, d| attempt(&conn, "vm_domain#add", vec![("vpsid", vps), ("domain", d)]);
    let a = fields(&add("4", "blog.example.com").await.unwrap())[0].clone();
    add("4", "www.example.com").await.unwrap();
    add("4", "shop.example.com").await.refused("上限"); // the VM allows 2
    add("1", "blog.example.com").await.refused("已被绑定");
    add("1", "not a domain").await.refused("格式错误");
    ok(&conn, "vm_domain#del", &[("vpsid", "4"), ("domainid", &a)]).await;
    let left = conn.bound_domains(4).await.unwrap();
    assert_eq!(
        left.iter().map(|d| d.domain.as_str()).collect::<Vec<_>>(),
        vec!["www.example.com"]
    );
    add("1", "blog.example.com").await.unwrap();
    assert_eq!(conn.bound_domains(1).await.unwrap().len(), 1);
}

#[tokio::test]
async fn charts_are_javascript_decoded_to_points() {
    let (_sim, _srv, conn) = sandbox().await;
    let cpu = ok(&conn, "vm_stat", &[("Vpsid", "1"), ("charttype", "1")]).await;
    assert_eq!(cpu["title"], "CPU");
    let pts = cpu["points"].as_array().unwrap();
    assert_eq!(pts.len(), 120);
    assert!(pts.iter().any(|p| p[1].as_i64().unwrap() > 0));
    let hourly = [
        ("Vpsid", "1"),
        ("charttype", "4"),
        ("chartinterval", "3600"),
    ];
    let day = ok(&conn, "vm_stat", &hourly).await;
    assert_eq!(day["points"].as_array().unwrap().len(), 24);
    // A halted VM is idle.
    let idle = ok(&conn, "vm_stat", &[("Vpsid", "2"), ("charttype", "1")]).await;
    assert!(idle["points"].as_array().unwrap().iter().all(|p| p[1] == 0));
    let unknown = [("Vpsid", "1"), ("charttype", "9")];
    conn.call_kv("vm_stat", &unknown).await.invalid("charttype");
}

#[tokio::test]
async fn guest_commands_validate_names_and_take_effect() {
    let (sim, _srv, conn) = sandbox().await;
    let run = |cmd, params| {
        attempt(
            &conn,
            format!("vm_cmds#{cmd}"),
            vec![("vpsid", "1"), ("cmd_params", params)],
        )
    };
    let data = || async {
        let params = [("vpsid", "1"), ("cmd_params", "{\"dataName\":\"test\"}")];
        ok(&conn, "vm_cmds#getData", &params).await
    };
    // Parameter names are case-sensitive.
    run("setServerName", "{\"servername\":\"web01\"}")
        .await
        .invalid("cmd_params");
    assert!(run("setServerName", "[1]").await.is_err());
    run("setServerName", "{\"serverName\":\"web01\"}")
        .await
        .unwrap();
    assert_eq!(data().await["hostname"], "web01");

    run(
        "writeFile",
        "{\"filePath\":\"C:\\\\Windows\\\\1.txt\",\"fileContent\":\"hi\"}",
    )
    .await
    .unwrap();
    assert_eq!(data().await["files"][0], "C:\\Windows\\1.txt");

    let foreign_ip = "{\"macs\":\"00:16:3e:00:01:00\",\"ip_0\":\"1.1.1.1\"}";
    run("configNetwork", foreign_ip).await.refused("不属于");
    let unknown_mac = "{\"macs\":\"00:16:3e:00:99:00\",\"ip_0\":\"103.45.12.10\"}";
    run("configNetwork", unknown_mac).await.not_found();
    assert_eq!(data().await["network"], serde_json::json!({}));
    run("configNetwork", "{\"macs\":\"00:16:3e:00:01:00\",\"ip_0\":\"103.45.12.10\",\"netmask_0\":\"255.255.255.0\",\"gateway_0\":\"103.45.12.1\",\"dns1\":\"223.5.5.5\"}")
        .await
        .unwrap();
    assert_eq!(data().await["network"]["gateway_0"], "103.45.12.1");

    assert!(run(
        "changePassword",
        "{\"userName\":\"root\",\"newpassword\":\"x\"}"
    )
    .await
    .is_err());
    run(
        "changePassword",
        "{\"userName\":\"root\",\"newPassword\":\"G0odPass!\"}",
    )
    .await
    .unwrap();
    assert_eq!(sim.guest_password(1, "root").unwrap(), "G0odPass!");

    run("shellCommands", "{\"commands\":\"shutdown -t 10\"}")
        .await
        .unwrap();
    assert_eq!(conn.vm_power_state(1).await.unwrap(), "Halted");
    assert!(
        run("setServerName", "{\"serverName\":\"web02\"}")
            .await
            .is_err(),
        "guest is down"
    );
}

#[tokio::test]
async fn vm_groups_are_per_user() {
    let (sim, srv, conn) = sandbox().await;
    let all = conn.vm_groups().await.unwrap();
    assert_eq!(all.len(), 2);
    let alice_group = all.iter().find(|g| g.userid == ALICE).unwrap().groupid;
    let bob_group = all.iter().find(|g| g.userid == BOB).unwrap().groupid;
    let only = ok(&conn, "vm_group_info", &[("userid", "1002")]).await;
    assert_eq!(only.as_array().unwrap().len(), 1);
    let alice_group = alice_group.to_string();
    let rename = [
        ("groupid", alice_group.as_str()),
        ("groupname", "生产"),
        ("grouporder", "5"),
    ];
    ok(&conn, "vm_group_info_update", &rename).await;
    let alice = user_conn(&sim, &srv, "alice2024");
    let mine = alice.vm_groups().await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(
        (mine[0].groupname.as_str(), mine[0].grouporder),
        ("生产", 5)
    );
    let bob_group = bob_group.to_string();
    let bobs = [("groupid", bob_group.as_str()), ("groupname", "x")];
    alice
        .call_kv("vm_group_info_update", &bobs)
        .await
        .not_found();
}

#[tokio::test]
async fn a_full_backup_seeds_a_new_vm() {
    let (_sim, _srv, conn) = sandbox_at(night()).await;
    // VM 2 runs template 2; its full backup becomes the image of a VM asking for 1.
    let bk = backup(&conn, "2", &[("bktype", "1")]).await;
    let (id, _) = create_vm(&conn, "fromimage1", &[("imageid", &bk)]).await;
    assert_eq!(conn.vm(id).await.unwrap().osid, 2);
    // A snapshot is no image.
    let snap = backup(&conn, "2", &[("bktype", "0")]).await;
    let mut p = create_params("1001", "1", "fromsnap01");
    p.push(("imageid", &snap));
    conn.call_kv("vm_create", &p).await.not_found();
}

#[tokio::test]
async fn a_chart_carries_the_chart_type_asked_for() {
    let (_sim, _srv, conn) = sandbox().await;
    for (kind, title) in [("2", "空闲内存"), ("4", "网卡流量")] {
        let v = ok(&conn, "vm_stat", &[("Vpsid", "1"), ("charttype", kind)]).await;
        assert_eq!(v["charttype"].to_string(), kind);
        assert_eq!(v["title"], title);
    }
    let default = ok(&conn, "vm_stat", &[("Vpsid", "1")]).await;
    let keys: Vec<&String> = default.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["charttype", "title", "points"]);
    assert_eq!(default["charttype"], 1);
}
