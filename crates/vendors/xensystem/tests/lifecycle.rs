//! VM lifecycle, client -> simulator over a socket: every assertion reads state back.

#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;
mod expect;

use common::*;
use expect::Expect;
use idcgate_core::{Error, Vendor};
use idcgate_wire::{form, Charset, HttpClient, Redactor, WireRequest};
use std::time::Duration;

#[tokio::test]
async fn create_takes_a_free_ip_installs_via_a_task_then_runs() {
    let (sim, _srv, conn) = sandbox().await;
    sim.set_task_duration(Duration::from_secs(30));
    let free = conn.free_ips(1).await.unwrap();
    let (id, ip) = create_vm(&conn, "newvm001", &[]).await;
    assert_eq!(ip, free[0].ip, "auto-assigned from the server's free pool");
    let free_after = conn.free_ips(1).await.unwrap();
    assert_eq!(free_after.len(), free.len() - 1);
    assert!(!free_after.iter().any(|r| r.ip == ip));

    let vm = conn.vm(id).await.unwrap();
    assert_eq!(
        (vm.status, vm.vmstate.as_str(), vm.userid),
        (0, "Halted", ALICE)
    );
    let tasks = conn.tasks(id).await.unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!((tasks[0].ttype, tasks[0].tstatus), (1, 1));
    assert!(conn.task_progress(tasks[0].taskid).await.unwrap().progress < 10);

    sim.advance(Duration::from_secs(15));
    let half = conn.task_progress(tasks[0].taskid).await.unwrap();
    assert!((40..60).contains(&half.progress), "{half:?}");
    assert_eq!(conn.vm(id).await.unwrap().status, 0);

    sim.advance(Duration::from_secs(16));
    let done = conn.task_progress(tasks[0].taskid).await.unwrap();
    assert_eq!((done.tstatus, done.progress), (2, 100));
    let vm = conn.vm(id).await.unwrap();
    assert_eq!((vm.status, vm.vmstate.as_str()), (2, "Running"));
    // task_list filters combine: done tasks of this VM of type 1.
    let v = conn
        .call_kv(
            "task_list",
            &[("vpsid", &id.to_string()), ("tstatus", "2"), ("ttype", "1")],
        )
        .await
        .unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    let v = conn
        .call_kv("task_list", &[("vpsid", &id.to_string()), ("tstatus", "1")])
        .await
        .unwrap();
    assert_eq!(v.as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn create_with_given_ips_and_refuses_one_in_use() {
    let (_sim, _srv, conn) = sandbox().await;
    let mut clash = create_params("1001", "1", "clash001");
    clash.push(("ip", "103.45.12.10"));
    conn.call_kv("vm_create", &clash).await.refused("已被使用");
    let (id, ip) = create_vm(
        &conn,
        "chosen001",
        &[("ip", "103.45.12.30"), ("additionalips", "103.45.12.31")],
    )
    .await;
    assert_eq!(ip, "103.45.12.30");
    let vm = conn.vm(id).await.unwrap();
    assert_eq!(vm.additionalips, "103.45.12.31");
    let owned = conn
        .call_as::<Vec<idcgate_xensystem::types::IpAddress>>(
            "ip_list",
            &[("vpsid", &id.to_string())],
        )
        .await
        .unwrap();
    assert_eq!(owned.len(), 2);
    // Bad names and unknown templates are refused before anything is reserved.
    let before = conn.free_ips(1).await.unwrap().len();
    let mut short = create_params("1001", "1", "ab");
    conn.call_kv("vm_create", &short).await.refused("5~50");
    short[5].1 = "good0001";
    short[6].1 = "99";
    conn.call_kv("vm_create", &short).await.not_found();
    assert_eq!(conn.free_ips(1).await.unwrap().len(), before);
}

#[tokio::test]
async fn power_commands_change_the_power_state() {
    let (sim, _srv, conn) = sandbox().await;
    // The locked VM (6) and the installing one (3) refuse power changes.
    for locked in ["6", "3"] {
        assert!(conn
            .call_kv("vm_shutdown", &[("vpsid", locked)])
            .await
            .is_err());
    }
    assert_eq!(conn.vm_power_state(6).await.unwrap(), "Running");
    let id = "1";
    assert_eq!(conn.vm_power_state(1).await.unwrap(), "Running");
    conn.call_kv("vm_shutdown", &[("vpsid", id)]).await.unwrap();
    assert_eq!(conn.vm_power_state(1).await.unwrap(), "Halted");
    assert_eq!(conn.vm(1).await.unwrap().vmstate, "Halted");
    // A soft reboot needs a running VM.
    let err = conn
        .call_kv("vm_reboot", &[("vpsid", id)])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Upstream { .. }));
    conn.call_kv("vm_start", &[("vpsid", id)]).await.unwrap();
    assert_eq!(conn.vm_power_state(1).await.unwrap(), "Running");
    // A reboot keeps the VM running but restarts its uptime.
    sim.advance(Duration::from_secs(600));
    assert!(uptime(&conn, 1).await >= 600);
    conn.call_kv("vm_reboot", &[("vpsid", id)]).await.unwrap();
    assert_eq!(conn.vm_power_state(1).await.unwrap(), "Running");
    assert!(uptime(&conn, 1).await < 600);
    conn.call_kv("vm_hshutdown", &[("vpsid", id)])
        .await
        .unwrap();
    assert_eq!(conn.vm_power_state(1).await.unwrap(), "Halted");
    conn.call_kv("vm_hreboot", &[("vpsid", id)]).await.unwrap();
    assert_eq!(conn.vm_power_state(1).await.unwrap(), "Running");
    sim.advance(Duration::from_secs(600));
    conn.call_kv("vm_hreboot", &[("vpsid", id)]).await.unwrap();
    assert!(
        uptime(&conn, 1).await < 600,
        "a forced reboot restarts it too"
    );
}

#[tokio::test]
async fn vm_state_reports_the_hardware_and_update_respects_updatevm() {
    let (_sim, _srv, conn) = sandbox().await;
    let st = conn.call_kv("vm_state", &[("vpsid", "1")]).await.unwrap();
    assert_eq!(st["state"], "Running");
    assert_eq!(st["data"]["vcpus"], 2);
    conn.call_kv(
        "vm_update",
        &[("vpsid", "1"), ("cpu", "4"), ("updatevm", "0")],
    )
    .await
    .unwrap();
    assert_eq!(conn.vm(1).await.unwrap().cpu, 4);
    let st = conn.call_kv("vm_state", &[("vpsid", "1")]).await.unwrap();
    assert_eq!(st["data"]["vcpus"], 2, "data only: hardware untouched");
    conn.call_kv(
        "vm_update",
        &[("vpsid", "1"), ("ram_max", "4096"), ("updatevm", "1")],
    )
    .await
    .unwrap();
    let st = conn.call_kv("vm_state", &[("vpsid", "1")]).await.unwrap();
    assert_eq!(
        (st["data"]["vcpus"].as_i64(), st["data"]["memory"].as_i64()),
        (Some(4), Some(4096))
    );
    // A new main IP frees the old one.
    conn.call_kv("vm_update", &[("vpsid", "1"), ("ip", "103.45.12.35")])
        .await
        .unwrap();
    assert_eq!(conn.vm(1).await.unwrap().ip, "103.45.12.35");
    assert!(conn
        .free_ips(1)
        .await
        .unwrap()
        .iter()
        .any(|r| r.ip == "103.45.12.10"));
    // Arrears status stops the VM.
    conn.call_kv("vm_update", &[("vpsid", "1"), ("status", "-1")])
        .await
        .unwrap();
    let vm = conn.vm(1).await.unwrap();
    assert_eq!((vm.status, vm.vmstate.as_str()), (-1, "Halted"));
    assert!(conn.call_kv("vm_start", &[("vpsid", "1")]).await.is_err());
}

#[tokio::test]
async fn rename_reload_and_reset_password() {
    let (sim, _srv, conn) = sandbox().await;
    conn.call_kv("vm_info_update", &[("vpsid", "2"), ("vname", "数据库主机")])
        .await
        .unwrap();
    assert_eq!(conn.vm(2).await.unwrap().vname, "数据库主机");

    let before = sim.vm_password(2).unwrap();
    conn.call_kv("vm_reload", &[("vpsid", "2"), ("osid", "3")])
        .await
        .unwrap();
    let vm = conn.vm(2).await.unwrap();
    assert_eq!((vm.status, vm.osid), (0, 3));
    assert_ne!(sim.vm_password(2).unwrap(), before);
    let tasks = conn.tasks(2).await.unwrap();
    assert_eq!(tasks.last().unwrap().ttype, 2);
    finish_tasks(&sim);
    assert_eq!(conn.vm(2).await.unwrap().status, 2);
    assert!(conn
        .call_kv("vm_reload", &[("vpsid", "2"), ("osid", "42")])
        .await
        .is_err());

    conn.call_kv("vm_resetps", &[("vpsid", "2"), ("password", "N3wRootPw")])
        .await
        .unwrap();
    assert_eq!(sim.vm_password(2).unwrap(), "N3wRootPw");
}

#[tokio::test]
async fn delete_honours_vstatus_and_frees_the_ip() {
    let (_sim, _srv, conn) = sandbox().await;
    let (id, ip) = create_vm(&conn, "doomed001", &[]).await;
    let sid = id.to_string();
    let err = conn
        .call_kv("vm_delete", &[("vpsid", &sid), ("vstatus", "2,1")])
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Upstream { .. }),
        "installing VM is not in 2,1"
    );
    assert_eq!(conn.vm(id).await.unwrap().vpsid, id);
    let v = conn
        .call_kv(
            "vm_delete",
            &[("vpsid", &sid), ("vstatus", "0"), ("returnmsg", "true")],
        )
        .await
        .unwrap();
    assert_eq!(fields(&v), vec![ip.clone(), "doomed001".to_string()]);
    conn.vm(id).await.not_found();
    assert!(conn.free_ips(1).await.unwrap().iter().any(|r| r.ip == ip));
    conn.call_kv("vm_delete", &[("vpsid", &sid)])
        .await
        .not_found();
}

#[tokio::test]
async fn vm_info_filters_combine() {
    let (_sim, _srv, conn) = sandbox().await;
    let all = conn.vms().await.unwrap();
    assert_eq!(all.len(), 6);
    let q = |p: Vec<(&'static str, String)>| {
        let conn = &conn;
        async move {
            let b: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
            conn.call_as::<Vec<idcgate_xensystem::types::Vm>>("vm_info", &b)
                .await
                .unwrap()
        }
    };
    assert_eq!(q(vec![("userid", "1001".into())]).await.len(), 3);
    assert_eq!(
        q(vec![("userid", "1001".into()), ("serverid", "1".into())])
            .await
            .len(),
        2
    );
    assert_eq!(
        q(vec![("userid", "1002".into()), ("serverid", "1".into())])
            .await
            .len(),
        0
    );
    let by_ip = q(vec![("ip", "45.119.80.10".into())]).await;
    assert_eq!(by_ip.len(), 1);
    assert_eq!(by_ip[0].vname, "hkblog01");
    let group = all[0].groupid;
    assert_eq!(q(vec![("groupid", group.to_string())]).await.len(), 3);
}

/// Raw forms: lowercase `action`, the legacy `vps_` prefix, multipart bodies.
#[tokio::test]
async fn simulator_accepts_action_spellings_legacy_names_and_multipart() {
    let (sim, srv, conn) = sandbox().await;
    let creds = idcgate_wire::Simulator::sandbox_credentials(&sim);
    let http = HttpClient::new(
        Vendor::Xensystem,
        &wire(Duration::from_secs(5)),
        100,
        Redactor::default(),
    )
    .unwrap();
    let url = format!("{}/process.aspx?c=api", srv.base_url());
    let mut pairs: Vec<(String, String)> = creds.clone();
    pairs.push(("action".into(), "vps_shutdown".into()));
    pairs.push(("vpsid".into(), "1".into()));
    let req = WireRequest::form_post(&url, form::encode(&pairs, Charset::Utf8), "utf-8");
    let resp = http.transmit("raw", &req).await.unwrap();
    assert_eq!(&resp.body[..], b"0");
    assert_eq!(conn.vm_power_state(1).await.unwrap(), "Halted");

    let mut body = String::new();
    for (k, v) in creds
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain([("Action", "vps_start"), ("vpsid", "1")])
    {
        body.push_str(&format!(
            "--b0undary\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    body.push_str("--b0undary--\r\n");
    let mut req = WireRequest::form_post(&url, body, "utf-8");
    req.content_type = Some("multipart/form-data; boundary=b0undary".into());
    let resp = http.transmit("raw", &req).await.unwrap();
    assert_eq!(&resp.body[..], b"0");
    assert_eq!(conn.vm_power_state(1).await.unwrap(), "Running");

    // Missing required params are answered by the simulator in the panel's format.
    let mut pairs = creds.clone();
    pairs.push(("Action".into(), "vm_start".into()));
    let req = WireRequest::form_post(&url, form::encode(&pairs, Charset::Utf8), "utf-8");
    let resp = http.transmit("raw", &req).await.unwrap();
    assert_eq!(
        String::from_utf8_lossy(&resp.body),
        "-1 参数 vpsid 不能为空"
    );
    // Subcommand names are case-sensitive.
    let mut pairs = creds.clone();
    pairs.extend(
        [
            ("Action", "vm_cmds"),
            ("vpsid", "1"),
            ("cmds", "setservername"),
            ("cmd_params", "{\"serverName\":\"x\"}"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let req = WireRequest::form_post(&url, form::encode(&pairs, Charset::Utf8), "utf-8");
    let resp = http.transmit("raw", &req).await.unwrap();
    assert!(String::from_utf8_lossy(&resp.body).starts_with("-1 参数 cmds 无效"));
}

#[tokio::test]
async fn serverstatus_js_api_reflects_running_vms() {
    let (_sim, _srv, conn) = sandbox().await;
    let running = |v: &serde_json::Value| v["servers"][0]["vmrunning"].as_i64().unwrap();
    let before = conn.call_kv("serverstatus", &[]).await.unwrap();
    assert_eq!(before["servers"].as_array().unwrap().len(), 3);
    conn.call_kv("vm_shutdown", &[("vpsid", "1")])
        .await
        .unwrap();
    let after = conn.call_kv("serverstatus", &[]).await.unwrap();
    assert_eq!(running(&after), running(&before) - 1);
}

#[tokio::test]
async fn update_refusals_leave_the_vm_unchanged() {
    let (_sim, _srv, conn) = sandbox().await;
    let before = conn.vm(1).await.unwrap();
    // VM 2 holds 103.45.13.10 on another server; 103.45.12.11 is VM 3's.
    for (key, value) in [
        ("ip", "103.45.12.11"),
        ("ip", "103.45.13.10"),
        ("additionalips", "103.45.12.11"),
        ("cpu", "0"),
        ("ram_min", "99999"),
        ("userid", "4242"),
        ("vpsname", "no"),
    ] {
        let r = conn
            .call_kv("vm_update", &[("vpsid", "1"), ("disk", "99"), (key, value)])
            .await;
        assert!(r.is_err(), "{key}={value}");
        assert_eq!(conn.vm(1).await.unwrap(), before, "{key}={value}");
    }
    assert!(!conn
        .free_ips(1)
        .await
        .unwrap()
        .iter()
        .any(|r| r.ip == before.ip));
}

#[tokio::test]
async fn shareip_takes_the_address_from_a_shared_block() {
    let (_sim, _srv, conn) = sandbox().await;
    let mut p = create_params("1002", "3", "natvm0001");
    p.push(("shareip", "1"));
    let v = conn.call_kv("vm_create", &p).await.unwrap();
    let ip = fields(&v)[1].clone();
    assert_eq!(ip, "192.168.80.100");
    let vm = conn.vm(fields(&v)[0].parse().unwrap()).await.unwrap();
    assert_eq!((vm.shareip, vm.ip.as_str()), (1, "192.168.80.100"));
    // Without shareip the dedicated block is used.
    let v = conn
        .call_kv("vm_create", &create_params("1002", "3", "pubvm0001"))
        .await
        .unwrap();
    assert!(fields(&v)[1].starts_with("45.119.80."));
}
