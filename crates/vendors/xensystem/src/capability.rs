//! `Compute` for a XenSystem panel: server groups are regions, OS templates are images,
//! VMs are servers.
//!
//! The panel has no plans (every size is explicit at `vm_create`), so the catalog offers
//! a few size presets of our own; they carry no price because the panel sells nothing.

use crate::client::XensystemClient;
use crate::types::{BackupSet, Vm};
use async_trait::async_trait;
use idcgate_core::capability::Compute;
use idcgate_core::{
    Backup, ComputeCatalog, ConsoleSession, Disk, Error, LifecycleState, OsImage, Plan,
    PowerAction, PowerState, Region, Resize, Result, Server, ServerKind, ServerSpec,
};
use jiff::Timestamp;
use serde_json::Value;
use std::collections::BTreeMap;

/// Size presets: (id, vCPU, RAM MB, disk GB, port Mbps).
const PRESETS: [(&str, u32, u32, u32, u32); 4] = [
    ("xs-1c1g", 1, 1024, 30, 5),
    ("xs-2c2g", 2, 2048, 50, 10),
    ("xs-4c8g", 4, 8192, 100, 20),
    ("xs-8c16g", 8, 16384, 200, 50),
];

/// Maps the panel's VM status to the unified lifecycle. -1 (欠费停机, stopped for unpaid
/// fees) is an expiry; -3 (over traffic, stopped) is a suspension; -2 still runs.
pub fn lifecycle_of(status: i64) -> LifecycleState {
    match status {
        0 => LifecycleState::Provisioning,
        1 => LifecycleState::Locked,
        -1 => LifecycleState::Expired,
        -3 => LifecycleState::Suspended,
        _ => LifecycleState::Active,
    }
}

/// Maps the panel's Xen power-state word.
pub fn power_of(state: &str) -> PowerState {
    match state {
        "Running" => PowerState::Running,
        "Halted" => PowerState::Stopped,
        _ => PowerState::Unknown,
    }
}

/// Parses the panel's `yyyy-MM-dd HH:mm:ss` China-time stamps (UTC+8) to UTC.
pub fn parse_china_time(s: &str) -> Option<Timestamp> {
    let dt = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", s.trim()).ok()?;
    dt.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .ok()
        .map(|z| z.timestamp())
}

fn u32_of(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

pub fn server_of(vm: &Vm) -> Server {
    let mut ips = vec![];
    if !vm.ip.is_empty() {
        ips.push(vm.ip.clone());
    }
    ips.extend(
        vm.additionalips
            .split([',', ' ', ';'])
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    );
    Server {
        upstream_id: vm.vpsid.to_string(),
        name: vm.vname.clone(),
        kind: ServerKind::Vps,
        region: Some(vm.servergroup.to_string()),
        plan: None,
        cpu: u32_of(vm.cpu),
        ram_mb: u32_of(vm.ram_max),
        disks: vec![Disk {
            size_gb: u32_of(vm.disk),
            system: true,
        }],
        bandwidth_mbps: u32_of(vm.port),
        ips,
        os_image: (vm.osid > 0).then(|| vm.osid.to_string()),
        power: power_of(&vm.vmstate),
        lifecycle: lifecycle_of(vm.status),
        expires_at: None,
    }
}

fn backup_of(b: &BackupSet) -> Backup {
    Backup {
        id: b.bkid.to_string(),
        name: b.bkname.clone(),
        full: b.bktype == 1,
        created_at: parse_china_time(&b.createtime),
    }
}

fn vpsid(id: &str) -> Result<i64> {
    id.trim()
        .parse()
        .map_err(|_| Error::invalid("id", format!("XenSystem VM ids are numbers, got {id:?}")))
}

impl XensystemClient {
    /// Runs a command on one VM addressed by its unified id, plus extra fields.
    async fn vm_command(&self, command: &str, id: &str, extra: &[(&str, &str)]) -> Result<()> {
        let vpsid = vpsid(id)?.to_string();
        let mut params = vec![("vpsid", vpsid.as_str())];
        params.extend_from_slice(extra);
        self.call_kv(command, &params).await.map(drop)
    }
}

#[async_trait]
impl Compute for XensystemClient {
    async fn catalog(&self) -> Result<ComputeCatalog> {
        let groups = self.server_groups().await?;
        let regions = groups
            .iter()
            .map(|g| Region {
                id: g.groupid.to_string(),
                name: g.groupname.clone(),
            })
            .collect();
        // Templates are per host server; an image is listed once per region offering it.
        let mut images: BTreeMap<(String, i64), OsImage> = BTreeMap::new();
        for server in self.servers(&[]).await? {
            let region = server.groupid.to_string();
            for t in self.os_templates(server.serverid).await? {
                images
                    .entry((region.clone(), t.osid))
                    .or_insert_with(|| OsImage {
                        id: t.osid.to_string(),
                        name: t.osname.clone(),
                        region: Some(region.clone()),
                    });
            }
        }
        let plans = PRESETS
            .iter()
            .map(|&(id, cpu, ram_mb, disk_gb, bandwidth_mbps)| Plan {
                id: id.to_string(),
                name: format!("{cpu} vCPU / {} GB RAM / {disk_gb} GB disk", ram_mb / 1024),
                cpu,
                ram_mb,
                disk_gb,
                bandwidth_mbps,
                monthly_price: None,
                kind: ServerKind::Vps,
            })
            .collect();
        Ok(ComputeCatalog {
            regions,
            images: images.into_values().collect(),
            plans,
        })
    }

    async fn list_servers(&self) -> Result<Vec<Server>> {
        Ok(self.vms().await?.iter().map(server_of).collect())
    }

    async fn get_server(&self, id: &str) -> Result<Server> {
        Ok(server_of(&self.vm(vpsid(id)?).await?))
    }

    async fn create_server(&self, spec: &ServerSpec) -> Result<Server> {
        let owner = spec.owner.as_deref().ok_or_else(|| {
            Error::invalid("owner", "XenSystem needs the panel user id owning the VM")
        })?;
        if !(5..=50).contains(&spec.name.len())
            || !spec.name.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(Error::invalid(
                "name",
                "XenSystem VM names are 5-50 letters and digits",
            ));
        }
        let group: i64 = spec
            .region
            .parse()
            .map_err(|_| Error::invalid("region", "expected a server group id"))?;
        let preset = match spec.plan.as_deref() {
            Some(p) => Some(
                PRESETS
                    .iter()
                    .find(|x| x.0 == p)
                    .ok_or_else(|| Error::invalid("plan", format!("unknown plan {p:?}")))?,
            ),
            None => None,
        };
        let pick = |explicit: Option<u32>, from_plan: Option<u32>, field: &str| {
            explicit
                .or(from_plan)
                .ok_or_else(|| Error::invalid(field, "give a plan or an explicit size"))
        };
        let cpu = pick(spec.cpu, preset.map(|p| p.1), "cpu")?;
        let ram = pick(spec.ram_mb, preset.map(|p| p.2), "ram_mb")?;
        let disk = pick(spec.disk_gb, preset.map(|p| p.3), "disk_gb")?;
        let port = spec.bandwidth_mbps.or(preset.map(|p| p.4)).unwrap_or(0);
        // The panel places a VM on a host, not in a group: take the first host of the
        // group that still has a free address.
        let mut target = None;
        for server in self.servers(&[group]).await? {
            if !self.free_ips(server.serverid).await?.is_empty() {
                target = Some(server.serverid);
                break;
            }
        }
        let serverid = target.ok_or_else(|| {
            Error::invalid(
                "region",
                format!("no server in group {group} has a free IP"),
            )
        })?;
        let (cpu, ram, disk, port, serverid) = (
            cpu.to_string(),
            ram.to_string(),
            disk.to_string(),
            port.to_string(),
            serverid.to_string(),
        );
        // The VM exists once the panel answers `0|<id>|<ip>`; an answer without the id
        // leaves a VM we cannot name, so it is an unknown outcome, not a success.
        let id = self
            .exchange
            .call_kv_as(
                "vm_create",
                &[
                    ("userid", owner),
                    ("cpu", &cpu),
                    ("ram_max", &ram),
                    ("ram_min", &ram),
                    ("disk", &disk),
                    ("port", &port),
                    ("vpsname", &spec.name),
                    ("osid", &spec.image),
                    ("serverid", &serverid),
                ],
                |v| {
                    v.get("data")
                        .and_then(|d| d.get(0))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .ok_or_else(|| "vm_create succeeded without a VPS id".to_string())
                },
            )
            .await?;
        self.get_server(&id).await
    }

    async fn power(&self, id: &str, action: PowerAction) -> Result<()> {
        let command = match action {
            PowerAction::Start => "vm_start",
            PowerAction::Stop => "vm_shutdown",
            PowerAction::Reboot => "vm_reboot",
            PowerAction::ForceStop => "vm_hshutdown",
            PowerAction::ForceReboot => "vm_hreboot",
        };
        self.vm_command(command, id, &[]).await
    }

    async fn reinstall(&self, id: &str, image: &str) -> Result<()> {
        self.vm_command("vm_reload", id, &[("osid", image)]).await
    }

    async fn reset_password(&self, id: &str, password: &str) -> Result<()> {
        self.vm_command("vm_resetps", id, &[("password", password)])
            .await
    }

    async fn resize(&self, id: &str, resize: &Resize) -> Result<()> {
        let sizes = [
            ("cpu", resize.cpu),
            ("ram_max", resize.ram_mb),
            // Without dynamic memory the panel ignores ram_min; keep it equal to ram_max.
            ("ram_min", resize.ram_mb),
            ("disk", resize.disk_gb),
            ("port", resize.bandwidth_mbps),
        ];
        let owned: Vec<(&str, String)> = sizes
            .iter()
            .filter_map(|(k, v)| v.map(|v| (*k, v.to_string())))
            .collect();
        if owned.is_empty() {
            return Err(Error::invalid("resize", "nothing to change"));
        }
        let mut extra: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
        extra.push(("updatevm", "1"));
        self.vm_command("vm_update", id, &extra).await
    }

    async fn delete_server(&self, id: &str) -> Result<()> {
        self.vm_command("vm_delete", id, &[]).await
    }

    async fn console(&self, id: &str) -> Result<ConsoleSession> {
        let vpsid = vpsid(id)?;
        self.vm_command("vm_console#enable", id, &[]).await?;
        let s = self.console_state(vpsid).await?;
        // console.html takes the four values in one `cc` parameter; the panel's JS
        // `encode` is not documented, so we pass them space-separated and form-encoded.
        let cc = format!("{} {} {} {}", s.expireTime, s.vsip, s.port, s.token);
        Ok(ConsoleSession {
            url: format!(
                "{}/console.html?cc={}",
                self.base_url(),
                idcgate_wire::form::encode_component(&cc, idcgate_wire::Charset::Utf8)
            ),
            expires_at: parse_china_time(&s.expireTime),
        })
    }

    async fn list_backups(&self, id: &str) -> Result<Vec<Backup>> {
        Ok(self
            .backups(vpsid(id)?)
            .await?
            .iter()
            .map(backup_of)
            .collect())
    }

    async fn create_backup(&self, id: &str, name: &str, full: bool) -> Result<()> {
        let bktype = if full { "1" } else { "0" };
        self.vm_command(
            "vm_backup#backup",
            id,
            &[("bkname", name), ("bktype", bktype)],
        )
        .await
    }

    async fn restore_backup(&self, id: &str, backup_id: &str) -> Result<()> {
        self.vm_command("vm_backup#revert", id, &[("bkid", backup_id)])
            .await
    }

    async fn delete_backup(&self, id: &str, backup_id: &str) -> Result<()> {
        self.vm_command("vm_backup#del", id, &[("bkid", backup_id)])
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_map() {
        assert_eq!(lifecycle_of(0), LifecycleState::Provisioning);
        assert_eq!(lifecycle_of(2), LifecycleState::Active);
        assert_eq!(lifecycle_of(-1), LifecycleState::Expired);
        assert_eq!(lifecycle_of(1), LifecycleState::Locked);
        assert_eq!(power_of("Halted"), PowerState::Stopped);
        assert_eq!(power_of("Paused"), PowerState::Unknown);
    }

    #[test]
    fn china_time_is_utc_plus_8() {
        let t = parse_china_time("2026-11-25 20:00:00").unwrap();
        assert_eq!(t.to_string(), "2026-11-25T12:00:00Z");
        assert!(parse_china_time("yesterday").is_none());
    }
}
