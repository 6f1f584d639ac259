//! Demo data for `Sim::sandbox()` and bulk VMs for benchmarks.

use super::state::{State, TaskEffect};
use jiff::SignedDuration;

pub(crate) const PANEL_ID: &str = "XS-SANDBOX-01";
pub(crate) const SYSTEM_KEY: &str = "xs-sys-7f3c9a2e51d84b06";

/// Sandbox users: (userid, username, password, name, email, tel, api key).
pub(crate) const USERS: [(i64, &str, &str, &str, &str, &str, &str); 2] = [
    (
        1001,
        "alice2024",
        "alice@2024",
        "杭州云途科技",
        "ops@yuntu.example.cn",
        "13800138001",
        "xs-user-alice-9d2f61c0",
    ),
    (
        1002,
        "bobhosting",
        "bob#pass88",
        "香港博客托管",
        "bob@hkblog.example.com",
        "13900139002",
        "xs-user-bob-4e8a27b3",
    ),
];

pub(crate) fn sandbox(st: &mut State) {
    st.add_group(1, "华东-杭州BGP");
    st.add_group(2, "香港-CN2");
    st.add_template(1, "CentOS 7.9 64位", "linux", 2, 20);
    st.add_template(2, "Ubuntu 22.04 LTS 64位", "linux", 2, 20);
    st.add_template(3, "Debian 12 64位", "linux", 2, 20);
    st.add_template(4, "Windows Server 2012 R2 数据中心版", "windows", 1, 40);
    st.add_template(5, "Windows Server 2019 数据中心版", "windows", 2, 40);
    let hz1 = st.add_server(1, "HZ-XEN-01", "10.20.1.11", &[1, 2, 3, 4, 5]);
    let hz2 = st.add_server(1, "HZ-XEN-02", "10.20.1.12", &[1, 2, 3, 4, 5]);
    let hk1 = st.add_server(2, "HK-XEN-01", "10.30.1.11", &[1, 2, 4]);
    st.add_block(hz1, "103.45.12", 10, 40, false);
    st.add_block(hz2, "103.45.13", 10, 30, false);
    st.add_block(hk1, "45.119.80", 10, 30, false);
    st.add_block(hk1, "192.168.80", 100, 120, true);
    for (userid, username, password, name, email, tel, key) in USERS {
        st.add_user(userid, username, password, name, email, tel, key);
        st.add_vm_group(userid, "默认分组");
    }
    let vms = [
        SeedVm {
            userid: 1001,
            serverid: hz1,
            name: "yuntuweb01",
            cpu: 2,
            ram: 2048,
            disk: 50,
            osid: 1,
            status: 2,
            running: true,
        },
        SeedVm {
            userid: 1001,
            serverid: hz2,
            name: "yuntudb01",
            cpu: 4,
            ram: 8192,
            disk: 200,
            osid: 2,
            status: 2,
            running: false,
        },
        SeedVm {
            userid: 1001,
            serverid: hz1,
            name: "yuntustage",
            cpu: 1,
            ram: 1024,
            disk: 30,
            osid: 3,
            status: 0,
            running: false,
        },
        SeedVm {
            userid: 1002,
            serverid: hk1,
            name: "hkblog01",
            cpu: 2,
            ram: 4096,
            disk: 80,
            osid: 1,
            status: 2,
            running: true,
        },
        SeedVm {
            userid: 1002,
            serverid: hk1,
            name: "hkwin2012",
            cpu: 2,
            ram: 4096,
            disk: 60,
            osid: 4,
            status: -1,
            running: false,
        },
        SeedVm {
            userid: 1002,
            serverid: hz2,
            name: "hkmirror01",
            cpu: 1,
            ram: 1024,
            disk: 40,
            osid: 2,
            status: 1,
            running: true,
        },
    ];
    for SeedVm {
        userid,
        serverid,
        name,
        cpu,
        ram,
        disk,
        osid,
        status,
        running,
    } in vms
    {
        let Some(ip) = st.free_ip_on(serverid, false) else {
            continue;
        };
        let vpsid = st.next_vpsid();
        let mut vm = st.new_vm(vpsid, userid, serverid, name, cpu, ram, disk, osid, &ip);
        vm.status = status;
        vm.running = running;
        vm.port = 10;
        vm.bandwidth = 1000;
        vm.backup_snapshot = 2;
        vm.backup_full = 1;
        vm.portmap = 3;
        vm.binding_domain = 2;
        vm.created = st.now() - SignedDuration::from_hours(24 * 30 * vpsid);
        st.set_ip_owner(&ip, vpsid);
        st.count_vps(vm.userid, 1);
        st.vms.insert(vpsid, vm);
        if status == 0 {
            st.start_task(1, "创建主机", vpsid, serverid, TaskEffect::Install);
        }
    }
}

struct SeedVm {
    userid: i64,
    serverid: i64,
    name: &'static str,
    cpu: i64,
    ram: i64,
    disk: i64,
    osid: i64,
    status: i64,
    running: bool,
}

/// Addresses per bulk host server (one /24 each).
const BULK_PER_SERVER: usize = 250;

pub(crate) fn bulk(st: &mut State, n: usize) {
    if st.server_groups.is_empty() {
        st.add_group(1, "批量测试");
    }
    if st.templates.is_empty() {
        st.add_template(1, "CentOS 7.9 64位", "linux", 2, 20);
    }
    if st.users.is_empty() {
        st.add_user(
            9001,
            "benchuser",
            "benchpass",
            "bench",
            "bench@example.com",
            "13000000000",
            "xs-user-bench-0000",
        );
        st.add_vm_group(9001, "默认分组");
    }
    let users: Vec<i64> = st.users.values().map(|u| u.userid).collect();
    let groups: Vec<i64> = st.server_groups.keys().copied().collect();
    let osids: Vec<i64> = st.templates.keys().copied().collect();
    let mut made = 0;
    let mut host = 0usize;
    while made < n {
        let k = st.ids.server + 1;
        let group = groups[host % groups.len()];
        let serverid = st.add_server(
            group,
            &format!("BULK-XEN-{k:03}"),
            &format!("10.99.{}.{}", k / 250, k % 250 + 1),
            &osids,
        );
        st.add_block(
            serverid,
            &format!("172.{}.{}", 16 + k / 256, k % 256),
            1,
            250,
            false,
        );
        host += 1;
        for _ in 0..BULK_PER_SERVER.min(n - made) {
            let Some(ip) = st.free_ip_on_fast(serverid) else {
                break;
            };
            let vpsid = st.next_vpsid();
            let userid = users[made % users.len()];
            let osid = osids[made % osids.len()];
            let mut vm = st.new_vm(
                vpsid,
                userid,
                serverid,
                &format!("bulk{vpsid:06}"),
                1,
                1024,
                20,
                osid,
                &ip,
            );
            vm.status = 2;
            vm.running = made % 5 != 0;
            st.set_ip_owner(&ip, vpsid);
            st.count_vps(vm.userid, 1);
            st.vms.insert(vpsid, vm);
            made += 1;
        }
    }
}
