//! Typed views of the panel's JSON answers, for the unified layer. Field names are the
//! panel's own; numbers are accepted as JSON numbers or numeric strings because ASP.NET
//! serialisers of that era emit either.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

pub(crate) fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| serde::de::Error::custom(format!("{n} is not an integer"))),
        Value::String(s) if s.trim().is_empty() => Ok(0),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("{s:?} is not an integer"))),
        Value::Null => Ok(0),
        other => Err(serde::de::Error::custom(format!(
            "expected an integer, got {other}"
        ))),
    }
}

pub(crate) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

macro_rules! record {
    ($(#[$m:meta])* $name:ident { $($field:ident : $kind:tt),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
        #[serde(default)]
        #[allow(non_snake_case)]
        pub struct $name {
            $(
                #[serde(deserialize_with = $kind)]
                pub $field: record!(@ty $kind),
            )*
        }
    };
    (@ty "int") => { i64 };
    (@ty "text") => { String };
}

record!(
    /// A panel user (`user_info`). `id` is the database row id, `userid` the business id.
    User { id: "int", userid: "int", username: "text", name: "text", vcount: "int", utype: "int",
           ustatus: "int", cvdate: "text", rvcount: "int", email: "text", tel: "text",
           email_verified: "int", tel_verified: "int", reg_ip: "text", login_ip: "text",
           regdate: "text" }
);

record!(
    /// Per-user settings from `user_sys_config` (verification switches and quotas).
    UserSysConfig { email_vps_reload: "int", sms_vps_reload: "int", email_vps_revert: "int",
                    sms_vps_revert: "int", email_vps_reset_password: "int",
                    sms_vps_reset_password: "int", backup_snapshot: "int", backup_full: "int",
                    backup_hours: "text", port_map: "int", binding_domain: "int" }
);

record!(
    /// A server group (`server_groups`): the unified layer's region.
    ServerGroup { groupid: "int", groupname: "text", grouporder: "int", servercount: "int" }
);

record!(
    /// A host server (`server_info`).
    HostServer { serverid: "int", groupid: "int", servername: "text", serverip: "text",
                 cpu: "int", ram: "int", disk: "int", vmcount: "int", status: "int" }
);

record!(
    /// An OS template (`server_os_templates`). `version` 2 templates accept a chosen
    /// password on reset.
    OsTemplate { osid: "int", osname: "text", ostype: "text", version: "int", size: "int" }
);

record!(IpBlock {
    blockid: "int",
    serverid: "int",
    blockname: "text",
    gateway: "text",
    netmask: "text",
    dns1: "text",
    dns2: "text",
    shared: "int",
    ipcount: "int",
    freecount: "int"
});

record!(
    /// One address (`ip_list`); `vpsid` 0 means free.
    IpAddress { ipid: "int", blockid: "int", serverid: "int", ip: "text", vpsid: "int" }
);

record!(
    /// A background task (`task_list`); `tstatus` 0 waiting, 1 running, 2 done, 3 failed.
    Task { taskid: "int", ttype: "int", tname: "text", serverid: "int", vpsid: "int",
           tstatus: "int", maintask: "int", progress: "int", createtime: "text",
           endtime: "text" }
);

record!(TaskProgress {
    taskid: "int",
    tstatus: "int",
    progress: "int"
});

record!(
    /// A VM (`vm_info`). `status`: -3 over-traffic stopped, -2 over-traffic running,
    /// -1 arrears stopped, 0 installing, 1 locked, 2 normal. `vmstate` is the last power
    /// state the panel saw (`Running`, `Halted`).
    Vm { vpsid: "int", userid: "int", groupid: "int", serverid: "int", servergroup: "int",
         vname: "text", cpu: "int", ram_max: "int", ram_min: "int", disk: "int",
         bandwidth: "int", port: "int", osid: "int", osname: "text", ip: "text",
         additionalips: "text", shareip: "int", status: "int", vmstate: "text",
         backup_snapshot: "int", backup_full: "int", portmap: "int", binding_domain: "int",
         bwusage: "text", bwdate: "text", createtime: "text" }
);

record!(VmGroup {
    groupid: "int",
    userid: "int",
    groupname: "text",
    grouporder: "int"
});

record!(
    /// A backup set (`vm_backup` list); `bktype` 0 snapshot, 1 full.
    BackupSet { bkid: "int", bkname: "text", bktype: "int", createtime: "text", size: "int" }
);

record!(
    /// VNC session (`vm_console` state); `expireTime` is China time.
    ConsoleState { state: "int", vsip: "text", port: "int", token: "text", expireTime: "text" }
);

record!(PortMap {
    portid: "int",
    privateport: "int",
    publicport: "int",
    publicip: "text"
});

record!(BoundDomain {
    domainid: "int",
    domain: "text",
    createtime: "text"
});

record!(IsoImage {
    id: "text",
    name: "text"
});

/// CD-ROM state (`vm_cd_manage` state): available ISOs and what is mounted ("" = empty).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct CdState {
    #[serde(deserialize_with = "text")]
    pub mounted: String,
    pub images: Vec<IsoImage>,
}

/// One NIC from `vm_vif` list, whose wire shape is a flat object of `id_N`, `mac_N`...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nic {
    pub id: String,
    pub mac: String,
    pub enabled: bool,
    pub network: String,
}

impl Nic {
    pub(crate) fn from_flat(v: &Value) -> Option<Vec<Nic>> {
        let obj = v.as_object()?;
        let field = |k: String| -> String {
            match obj.get(&k) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            }
        };
        let count: usize = field("count".into()).parse().ok()?;
        (0..count)
            .map(|i| {
                let id = field(format!("id_{i}"));
                (!id.is_empty()).then(|| Nic {
                    id,
                    mac: field(format!("mac_{i}")),
                    enabled: field(format!("status_{i}")) == "1",
                    network: field(format!("network_{i}")),
                })
            })
            .collect()
    }
}
