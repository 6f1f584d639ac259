//! The panel's data: users, host servers, templates, addresses, VMs and tasks, plus the
//! simulator's clock. Everything lives in one `State` behind one mutex.

use idcgate_wire::sim::{Clock, SimState};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// How long a VNC session lives after its last state query.
pub(crate) const CONSOLE_TTL: SignedDuration = SignedDuration::from_secs(15 * 60);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct UserConfig {
    pub email_vps_reload: bool,
    pub sms_vps_reload: bool,
    pub email_vps_revert: bool,
    pub sms_vps_revert: bool,
    pub email_vps_reset_password: bool,
    pub sms_vps_reset_password: bool,
    pub backup_snapshot: i64,
    pub backup_full: i64,
    /// China-time hours (0-23) in which full backups and restores may run.
    pub backup_hours: Vec<u32>,
    pub port_map: i64,
    pub binding_domain: i64,
}

impl Default for UserConfig {
    fn default() -> Self {
        UserConfig {
            email_vps_reload: false,
            sms_vps_reload: true,
            email_vps_revert: false,
            sms_vps_revert: true,
            email_vps_reset_password: false,
            sms_vps_reset_password: true,
            backup_snapshot: 3,
            backup_full: 2,
            backup_hours: (0..=6).collect(),
            port_map: 10,
            binding_domain: 10,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct User {
    /// Database row id (what user_add returns).
    pub id: i64,
    pub userid: i64,
    pub username: String,
    pub password: String,
    pub name: String,
    pub vcount: i64,
    pub utype: i64,
    pub ustatus: i64,
    pub cvdate: String,
    pub rvcount: i64,
    pub email: String,
    pub tel: String,
    pub email_verified: i64,
    pub tel_verified: i64,
    pub reg_ip: String,
    pub login_ip: String,
    pub regdate: Timestamp,
    pub api_key: String,
    pub config: UserConfig,
    /// The last verification code sent, consumed by the operation it authorises.
    pub vcode: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ServerGroup {
    pub groupid: i64,
    pub groupname: String,
    pub grouporder: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct HostServer {
    pub serverid: i64,
    pub groupid: i64,
    pub servername: String,
    pub serverip: String,
    pub cpu: i64,
    pub ram: i64,
    pub disk: i64,
    pub osids: Vec<i64>,
    pub booted: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OsTemplate {
    pub osid: i64,
    pub osname: String,
    pub ostype: String,
    pub version: i64,
    pub size: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IpBlock {
    pub blockid: i64,
    pub serverid: i64,
    pub blockname: String,
    pub gateway: String,
    pub netmask: String,
    pub shared: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IpRow {
    pub ipid: i64,
    pub blockid: i64,
    pub serverid: i64,
    pub ip: String,
    /// 0 = free.
    pub vpsid: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BackupRow {
    pub bkid: i64,
    pub bkname: String,
    pub bktype: i64,
    pub created: Timestamp,
    pub size: i64,
    pub osid: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Console {
    pub token: String,
    pub port: i64,
    pub vsip: String,
    pub expires: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Nic {
    pub id: String,
    pub mac: String,
    pub enabled: bool,
    pub network: String,
    /// Addresses bound with vm_setips (`dhcp` or a space-separated list).
    pub bound: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PortMapRow {
    pub portid: i64,
    pub privateport: i64,
    pub publicport: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DomainRow {
    pub domainid: i64,
    pub domain: String,
    pub created: Timestamp,
}

/// What the guest agent has been told to do (vm_cmds), as getData reports it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Guest {
    pub hostname: String,
    pub passwords: BTreeMap<String, String>,
    pub files: BTreeMap<String, String>,
    pub network: serde_json::Map<String, serde_json::Value>,
    pub last_command: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Hardware {
    pub cpu: i64,
    pub ram_max: i64,
    pub disk: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Vm {
    pub vpsid: i64,
    pub userid: i64,
    pub groupid: i64,
    pub serverid: i64,
    pub vname: String,
    pub cpu: i64,
    pub ram_max: i64,
    pub ram_min: i64,
    pub disk: i64,
    pub bandwidth: i64,
    pub port: i64,
    pub osid: i64,
    pub ip: String,
    pub additional_ips: Vec<String>,
    pub shareip: i64,
    pub status: i64,
    pub running: bool,
    pub started: Timestamp,
    pub backup_snapshot: i64,
    pub backup_full: i64,
    pub portmap: i64,
    pub binding_domain: i64,
    pub bwusage: String,
    pub bwdate: String,
    pub created: Timestamp,
    pub password: String,
    /// What the hypervisor runs; differs from the data fields after `updatevm=0`.
    pub hardware: Hardware,
    pub backups: Vec<BackupRow>,
    pub console: Option<Console>,
    pub cd_image: String,
    pub nics: Vec<Nic>,
    pub portmaps: Vec<PortMapRow>,
    pub domains: Vec<DomainRow>,
    pub guest: Guest,
}

impl Vm {
    /// Whether `ip` is the VM's main or one of its additional addresses.
    pub fn owns_ip(&self, ip: &str) -> bool {
        self.ip == ip || self.additional_ips.iter().any(|a| a == ip)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum TaskEffect {
    /// Installation (create, reload, restore) finishes: status 0 -> 2, powered on.
    Install,
    None,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Task {
    pub taskid: i64,
    pub ttype: i64,
    pub tname: String,
    pub serverid: i64,
    pub vpsid: i64,
    pub maintask: i64,
    pub start: Timestamp,
    pub end: Timestamp,
    pub done: bool,
    pub effect: TaskEffect,
}

impl Task {
    pub fn tstatus(&self, now: Timestamp) -> i64 {
        if self.done {
            2
        } else if now >= self.start {
            1
        } else {
            0
        }
    }

    pub fn progress(&self, now: Timestamp) -> i64 {
        if self.done {
            return 100;
        }
        let total = self.end.duration_since(self.start).as_millis().max(1);
        let spent = now.duration_since(self.start).as_millis().clamp(0, total);
        i64::try_from(spent * 99 / total).unwrap_or(99)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct VmGroup {
    pub groupid: i64,
    pub userid: i64,
    pub groupname: String,
    pub grouporder: i64,
    pub grouppassword: String,
}

/// Monotonic id sequences, one per table.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Ids {
    pub user: i64,
    pub server: i64,
    pub block: i64,
    pub ip: i64,
    pub vm: i64,
    pub task: i64,
    pub backup: i64,
    pub portmap: i64,
    pub domain: i64,
    pub public_port: i64,
    pub vm_group: i64,
}

fn bump(x: &mut i64) -> i64 {
    *x += 1;
    *x
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct State {
    pub panel_id: String,
    pub system_key: String,
    /// Flattened so snapshots keep their `fixed_now` / `offset` keys.
    #[serde(flatten)]
    pub clock: Clock,
    pub task_duration: Duration,
    pub ids: Ids,
    pub users: BTreeMap<i64, User>,
    pub server_groups: BTreeMap<i64, ServerGroup>,
    pub servers: BTreeMap<i64, HostServer>,
    pub templates: BTreeMap<i64, OsTemplate>,
    pub blocks: BTreeMap<i64, IpBlock>,
    pub ips: BTreeMap<i64, IpRow>,
    pub ip_index: HashMap<String, i64>,
    pub vms: BTreeMap<i64, Vm>,
    pub vm_groups: BTreeMap<i64, VmGroup>,
    pub tasks: BTreeMap<i64, Task>,
    pub isos: Vec<(String, String)>,
}

impl SimState for State {
    fn clock(&mut self) -> &mut Clock {
        &mut self.clock
    }
}

impl State {
    pub fn new(panel_id: &str, system_key: &str) -> Self {
        State {
            panel_id: panel_id.to_string(),
            system_key: system_key.to_string(),
            clock: Clock::default(),
            task_duration: Duration::from_secs(5),
            ids: Ids::default(),
            users: BTreeMap::new(),
            server_groups: BTreeMap::new(),
            servers: BTreeMap::new(),
            templates: BTreeMap::new(),
            blocks: BTreeMap::new(),
            ips: BTreeMap::new(),
            ip_index: HashMap::new(),
            vms: BTreeMap::new(),
            vm_groups: BTreeMap::new(),
            tasks: BTreeMap::new(),
            isos: vec![
                ("1".into(), "CentOS-7-x86_64-Minimal-2009.iso".into()),
                ("2".into(), "cn_windows_server_2012_r2_x64.iso".into()),
                ("3".into(), "virtio-win-0.1.240.iso".into()),
            ],
        }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Completes every task whose time has come. Called before each request, so tasks
    /// advance without background threads.
    pub fn tick(&mut self) {
        let now = self.now();
        let mut finished = Vec::new();
        for t in self.tasks.values_mut() {
            if !t.done && t.end <= now {
                t.done = true;
                finished.push((t.vpsid, t.effect, t.end));
            }
        }
        for (vpsid, effect, at) in finished {
            if effect == TaskEffect::Install {
                if let Some(vm) = self.vms.get_mut(&vpsid) {
                    if vm.status == 0 {
                        vm.status = 2;
                        vm.running = true;
                        vm.started = at;
                    }
                }
            }
        }
    }

    /// `vcount` is the panel's column of a user's VPS count: it moves as VPSs are
    /// created, deleted or given to another user (user_add/user_update may also set it).
    pub fn count_vps(&mut self, userid: i64, delta: i64) {
        if let Some(u) = self.user_by_userid_mut(userid) {
            u.vcount = u.vcount.saturating_add(delta).max(0);
        }
    }

    pub fn user_by_userid(&self, userid: i64) -> Option<&User> {
        self.users.values().find(|u| u.userid == userid)
    }

    pub fn user_by_userid_mut(&mut self, userid: i64) -> Option<&mut User> {
        self.users.values_mut().find(|u| u.userid == userid)
    }

    pub fn add_group(&mut self, groupid: i64, name: &str) {
        self.server_groups.insert(
            groupid,
            ServerGroup {
                groupid,
                groupname: name.to_string(),
                grouporder: groupid,
            },
        );
    }

    pub fn add_template(&mut self, osid: i64, name: &str, ostype: &str, version: i64, size: i64) {
        self.templates.insert(
            osid,
            OsTemplate {
                osid,
                osname: name.to_string(),
                ostype: ostype.to_string(),
                version,
                size,
            },
        );
    }

    pub fn add_server(&mut self, groupid: i64, name: &str, ip: &str, osids: &[i64]) -> i64 {
        let serverid = bump(&mut self.ids.server);
        let booted = self.now() - SignedDuration::from_hours(24 * 37);
        self.servers.insert(
            serverid,
            HostServer {
                serverid,
                groupid,
                servername: name.to_string(),
                serverip: ip.to_string(),
                cpu: 48,
                ram: 262_144,
                disk: 8000,
                osids: osids.to_vec(),
                booted,
            },
        );
        serverid
    }

    /// Adds a block of `prefix.first` ..= `prefix.last` (a /24) to a server.
    pub fn add_block(
        &mut self,
        serverid: i64,
        prefix: &str,
        first: u8,
        last: u8,
        shared: bool,
    ) -> i64 {
        let blockid = bump(&mut self.ids.block);
        self.blocks.insert(
            blockid,
            IpBlock {
                blockid,
                serverid,
                blockname: format!("{prefix}.0/24"),
                gateway: format!("{prefix}.1"),
                netmask: "255.255.255.0".into(),
                shared,
            },
        );
        for host in first..=last {
            let ipid = bump(&mut self.ids.ip);
            let ip = format!("{prefix}.{host}");
            self.ip_index.insert(ip.clone(), ipid);
            self.ips.insert(
                ipid,
                IpRow {
                    ipid,
                    blockid,
                    serverid,
                    ip,
                    vpsid: 0,
                },
            );
        }
        blockid
    }

    #[allow(clippy::too_many_arguments)]
    pub fn add_user(
        &mut self,
        userid: i64,
        username: &str,
        password: &str,
        name: &str,
        email: &str,
        tel: &str,
        api_key: &str,
    ) -> i64 {
        let id = bump(&mut self.ids.user);
        let regdate = self.now();
        self.users.insert(
            id,
            User {
                id,
                userid,
                username: username.to_string(),
                password: password.to_string(),
                name: name.to_string(),
                vcount: 0,
                utype: 0,
                ustatus: 0,
                cvdate: String::new(),
                rvcount: 0,
                email: email.to_string(),
                tel: tel.to_string(),
                email_verified: 0,
                tel_verified: 0,
                reg_ip: String::new(),
                login_ip: String::new(),
                regdate,
                api_key: api_key.to_string(),
                config: UserConfig::default(),
                vcode: None,
            },
        );
        id
    }

    pub fn add_vm_group(&mut self, userid: i64, name: &str) -> i64 {
        let groupid = bump(&mut self.ids.vm_group);
        self.vm_groups.insert(
            groupid,
            VmGroup {
                groupid,
                userid,
                groupname: name.to_string(),
                grouporder: groupid,
                grouppassword: String::new(),
            },
        );
        groupid
    }

    /// The first free address of a server in a dedicated (`shared` false) or shared block.
    pub fn free_ip_on(&self, serverid: i64, shared: bool) -> Option<String> {
        self.ips
            .values()
            .filter(|r| r.serverid == serverid && r.vpsid == 0)
            .find(|r| self.blocks.get(&r.blockid).map(|b| b.shared) == Some(shared))
            .map(|r| r.ip.clone())
    }

    pub fn set_ip_owner(&mut self, ip: &str, vpsid: i64) {
        if let Some(row) = self.ip_index.get(ip).and_then(|id| self.ips.get_mut(id)) {
            row.vpsid = vpsid;
        }
    }

    pub fn next_vpsid(&mut self) -> i64 {
        bump(&mut self.ids.vm)
    }

    pub fn next_task(&mut self) -> i64 {
        bump(&mut self.ids.task)
    }

    pub fn next_backup(&mut self) -> i64 {
        bump(&mut self.ids.backup)
    }

    pub fn next_portmap(&mut self) -> (i64, i64) {
        let id = bump(&mut self.ids.portmap);
        let public = 20_000 + bump(&mut self.ids.public_port);
        (id, public)
    }

    pub fn next_domain(&mut self) -> i64 {
        bump(&mut self.ids.domain)
    }

    /// Starts a task on a VM that completes `task_duration` from now.
    pub fn start_task(
        &mut self,
        ttype: i64,
        tname: &str,
        vpsid: i64,
        serverid: i64,
        effect: TaskEffect,
    ) -> i64 {
        let taskid = self.next_task();
        let start = self.now();
        let dur =
            SignedDuration::try_from(self.task_duration).unwrap_or(SignedDuration::from_secs(5));
        self.tasks.insert(
            taskid,
            Task {
                taskid,
                ttype,
                tname: tname.to_string(),
                serverid,
                vpsid,
                maintask: 0,
                start,
                end: start.checked_add(dur).unwrap_or(start),
                done: false,
                effect,
            },
        );
        taskid
    }

    /// A VM record with the panel's defaults; the caller has already reserved `ip`.
    #[allow(clippy::too_many_arguments)]
    pub fn new_vm(
        &self,
        vpsid: i64,
        userid: i64,
        serverid: i64,
        vname: &str,
        cpu: i64,
        ram: i64,
        disk: i64,
        osid: i64,
        ip: &str,
    ) -> Vm {
        let now = self.now();
        let groupid = self
            .vm_groups
            .values()
            .find(|g| g.userid == userid)
            .map_or(0, |g| g.groupid);
        Vm {
            vpsid,
            userid,
            groupid,
            serverid,
            vname: vname.to_string(),
            cpu,
            ram_max: ram,
            ram_min: ram,
            disk,
            bandwidth: 0,
            port: 0,
            osid,
            ip: ip.to_string(),
            additional_ips: Vec::new(),
            shareip: 0,
            status: 0,
            running: false,
            started: now,
            backup_snapshot: 0,
            backup_full: 0,
            portmap: 0,
            binding_domain: 0,
            bwusage: "0.00".into(),
            bwdate: String::new(),
            created: now,
            password: random_token(12),
            hardware: Hardware {
                cpu,
                ram_max: ram,
                disk,
            },
            backups: Vec::new(),
            console: None,
            cd_image: String::new(),
            nics: vec![
                Nic {
                    id: format!("vif-{vpsid}-0"),
                    mac: mac_for(vpsid, 0),
                    enabled: true,
                    network: "Public Network".into(),
                    bound: ip.to_string(),
                },
                Nic {
                    id: format!("vif-{vpsid}-1"),
                    mac: mac_for(vpsid, 1),
                    enabled: false,
                    network: "Private Network".into(),
                    bound: String::new(),
                },
            ],
            portmaps: Vec::new(),
            domains: Vec::new(),
            guest: Guest::default(),
        }
    }
}

pub(crate) fn mac_for(vpsid: i64, nic: i64) -> String {
    let b = vpsid.to_be_bytes();
    format!("00:16:3e:{:02x}:{:02x}:{:02x}", b[6], b[7], nic & 0xff)
}

pub(crate) fn random_token(len: usize) -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| char::from(CHARS[rng.gen_range(0..CHARS.len())]))
        .collect()
}

/// `yyyy-MM-dd HH:mm:ss` in China time, as the panel prints every timestamp.
pub(crate) use idcgate_wire::sim::china::datetime as china;

pub(crate) fn china_hour(ts: Timestamp) -> u32 {
    u32::try_from(idcgate_wire::sim::china::at(ts).hour()).unwrap_or(0)
}

impl State {
    /// `free_ip_on` for a server whose addresses were all added last: scans from the end
    /// of the table, so bulk seeding stays linear.
    pub fn free_ip_on_fast(&self, serverid: i64) -> Option<String> {
        self.ips
            .values()
            .rev()
            .take_while(|r| r.serverid == serverid)
            .filter(|r| r.vpsid == 0)
            .last()
            .map(|r| r.ip.clone())
    }
}
