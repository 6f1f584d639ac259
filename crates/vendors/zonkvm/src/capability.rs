//! `Compute`, `WebHosting`, `Databases` and `Billing` for a Zonkvm account.
//!
//! Compute covers cloud servers (云服务器), dedicated servers (物理服务器, "lease") and
//! colocation (托管, "idc"); upstream ids are `server_<id>`, `lease_<id>`, `idc_<id>` (the
//! server strips the prefix, see the crate docs). The catalog's regions are the zones
//! (可用区), images the OS list, plans the cloud packages (by name: packages have no id)
//! and the dedicated models (`lease:<guid>`). Deleting is the documented refund.
//! The document has no balance query and no finance record: `Billing::balance` is
//! `Unsupported` and `Billing::charges` reads what the order records say was bought. It
//! has no snapshots for servers, so backups are `Unsupported`.

use crate::client::ZonkvmClient;
use async_trait::async_trait;
use idcgate_core::capability::{Billing, Compute, Databases, WebHosting};
use idcgate_core::{
    Backup, Balance, Charge, ComputeCatalog, ConsoleSession, Database, Direction, Disk, Error,
    FirewallRule, FirewallRuleSpec, HostingSite, LifecycleState, Money, OsImage, PanelCall, Plan,
    PowerAction, PowerState, Region, Resize, Result, RuleProtocol, Server, ServerKind, ServerSpec,
    SiteAction, TrafficSample, Vendor, Verdict,
};
use jiff::Timestamp;
use serde_json::{json, Value};

/// The three server families and their action prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Cloud,
    Lease,
    Idc,
}

impl Family {
    fn prefix(self) -> &'static str {
        match self {
            Family::Cloud => "server",
            Family::Lease => "lease",
            Family::Idc => "idc",
        }
    }

    fn get_action(self) -> &'static str {
        match self {
            Family::Cloud => "getserver",
            Family::Lease => "getlease",
            Family::Idc => "getidc",
        }
    }

    fn list_action(self) -> &'static str {
        match self {
            Family::Cloud => "getservers",
            Family::Lease => "lease_orders",
            Family::Idc => "idc_orders",
        }
    }
}

/// `server_1001` -> (Cloud, "1001"); a bare number is a cloud server.
pub fn parse_server_id(id: &str) -> Result<(Family, String)> {
    let id = id.trim();
    let (family, num) = match id.rsplit_once('_') {
        Some(("server", n)) => (Family::Cloud, n),
        Some(("lease", n)) => (Family::Lease, n),
        Some(("idc", n)) => (Family::Idc, n),
        None => (Family::Cloud, id),
        Some(_) => return Err(bad_id(id)),
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_id(id));
    }
    Ok((family, num.to_string()))
}

fn bad_id(id: &str) -> Error {
    Error::invalid(
        "id",
        format!("Zonkvm server ids are server_<n>, lease_<n> or idc_<n>, got {id:?}"),
    )
}

/// Parses the system's `Y-m-d H:i:s` China-time stamps (UTC+8) to UTC.
pub fn parse_china_time(s: &str) -> Option<Timestamp> {
    let dt = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", s.trim()).ok()?;
    dt.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .ok()
        .map(|z| z.timestamp())
}

/// A chart's points: `date` labels ("Y-m-d H:i", China time) beside the `in` and
/// `out` rates; lists of different lengths or an unreadable label make the answer
/// unreadable rather than a shorter graph.
fn chart_samples(v: &Value) -> std::result::Result<Vec<TrafficSample>, String> {
    let list = |k: &str| {
        v.get(k)
            .and_then(Value::as_array)
            .ok_or_else(|| format!("chart without {k}"))
    };
    let (dates, ins, outs) = (list("date")?, list("in")?, list("out")?);
    if dates.len() != ins.len() || dates.len() != outs.len() {
        return Err("chart lists of different lengths".into());
    }
    let rate = |x: &Value| match x {
        Value::Number(n) => n.as_u64().ok_or_else(|| format!("rate {n}")),
        Value::String(s) => s.trim().parse::<u64>().map_err(|_| format!("rate {s:?}")),
        other => Err(format!("rate {other}")),
    };
    dates
        .iter()
        .zip(ins.iter().zip(outs))
        .map(|(d, (i, o))| {
            let label = d.as_str().unwrap_or_default();
            let at = parse_china_time(&format!("{label}:00"))
                .ok_or_else(|| format!("chart time {label:?}"))?;
            Ok(TrafficSample {
                at,
                in_bps: rate(i)?,
                out_bps: rate(o)?,
            })
        })
        .collect()
}

pub(crate) fn i(v: &Value, k: &str) -> i64 {
    match v.get(k) {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

fn u(v: &Value, k: &str) -> u32 {
    u32::try_from(i(v, k)).unwrap_or(0)
}

pub(crate) fn s(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// Order status (cloud `orderStatus`, others `order_status`) and run status to the
/// unified states. -2 locked is a lock; -1 recycled and -2 deleted are gone.
pub fn lifecycle_of(order_status: i64, run_status: i64) -> LifecycleState {
    match order_status {
        0 => LifecycleState::Provisioning,
        3 => LifecycleState::Expired,
        -1 | -2 => LifecycleState::Deleted,
        _ if run_status == -2 => LifecycleState::Locked,
        _ => LifecycleState::Active,
    }
}

pub fn power_of(run_status: i64) -> PowerState {
    match run_status {
        1 => PowerState::Running,
        -1 => PowerState::Stopped,
        _ => PowerState::Unknown,
    }
}

/// IPs from a JSON-in-a-string list (`[{"ip":".."}]` or `[".."]`).
fn ips_in(text: &str) -> Vec<String> {
    let list: Vec<Value> = serde_json::from_str(text).unwrap_or_default();
    list.iter()
        .filter_map(|x| match x {
            Value::String(s) => Some(s.clone()),
            other => other.get("ip").and_then(Value::as_str).map(str::to_string),
        })
        .collect()
}

pub fn cloud_server_of(v: &Value) -> Server {
    let mut ips = vec![s(v, "ip")];
    ips.extend(ips_in(&s(v, "append_ip")));
    ips.retain(|x| !x.is_empty());
    let disks = s(v, "harddisks")
        .split(',')
        .filter_map(|d| d.trim().parse::<u32>().ok())
        .enumerate()
        .map(|(n, size_gb)| Disk {
            size_gb,
            system: n == 0,
        })
        .collect();
    Server {
        upstream_id: format!("server_{}", i(v, "id")),
        name: format!("server_{}", i(v, "id")),
        kind: ServerKind::Cloud,
        region: Some(s(v, "line_guid")),
        plan: None,
        cpu: u(v, "cpu"),
        ram_mb: u(v, "memory").saturating_mul(1024),
        disks,
        bandwidth_mbps: u(v, "bandwidth"),
        ips,
        os_image: Some(s(v, "system_guid")).filter(|x| !x.is_empty()),
        power: power_of(i(v, "runStatus")),
        lifecycle: lifecycle_of(i(v, "orderStatus"), i(v, "runStatus")),
        expires_at: parse_china_time(&s(v, "endTime")),
    }
}

/// Dedicated and colocated servers share the snake_case order shape.
pub fn physical_server_of(family: Family, v: &Value) -> Server {
    let name = s(v, "name");
    Server {
        upstream_id: format!("{}_{}", family.prefix(), i(v, "id")),
        name: if name.is_empty() {
            format!("{}_{}", family.prefix(), i(v, "id"))
        } else {
            name
        },
        kind: if family == Family::Idc {
            ServerKind::Colocation
        } else {
            ServerKind::Dedicated
        },
        region: Some(s(v, "line_guid")),
        plan: Some(s(v, "product_guid")).filter(|x| !x.is_empty()),
        cpu: u(v, "cpu_value"),
        ram_mb: u(v, "memory_num").saturating_mul(1024),
        disks: Vec::new(),
        bandwidth_mbps: u(v, "bandwidth"),
        ips: ips_in(&s(v, "ip")),
        os_image: Some(s(v, "system_guid")).filter(|x| !x.is_empty()),
        power: power_of(i(v, "run_status")),
        lifecycle: lifecycle_of(i(v, "order_status"), i(v, "run_status")),
        expires_at: parse_china_time(&s(v, "end_time")),
    }
}

fn server_of(family: Family, v: &Value) -> Server {
    match family {
        Family::Cloud => cloud_server_of(v),
        other => physical_server_of(other, v),
    }
}

fn money(v: &Value, k: &str) -> Option<Money> {
    s(v, k).parse().ok()
}

impl ZonkvmClient {
    /// Buys one `family` (`server`, `lease`) order and reads it back. An answer without
    /// the new order's id is the exchange's to judge (a write: unknown outcome). The
    /// purchase has happened once create_order answers with an id, so a failed read-back
    /// must not look like a failed purchase (a caller would buy again): it is an unknown
    /// outcome naming the order. This is the one outcome this crate states itself — no
    /// answer was lost, a step after the committed one failed — which the exchange
    /// cannot see.
    async fn buy(
        &self,
        family: &str,
        spec: &ServerSpec,
        content: &Value,
        target: &[(&str, &str)],
    ) -> Result<Server> {
        let order_id = spec.client_order_id.clone().unwrap_or_default();
        let content = content.to_string();
        let mut params = vec![("order_id", order_id.as_str()), ("content", &content)];
        params.extend_from_slice(target);
        let action = format!("create_order#create_{family}");
        let created = self.call_kv_as(&action, &params, created_id).await?;
        let id = format!("{family}_{created}");
        self.get_server(&id).await.map_err(|e| {
            self.exchange.unconfirmed(
                &action,
                format!("order {id} was created; reading it back failed: {e}"),
            )
        })
    }
}

/// The new order's id in a create_order answer (see the simulator's documented shape).
pub(crate) fn created_id(v: Value) -> std::result::Result<i64, String> {
    v.get("ids")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_i64)
        .ok_or_else(|| "create_order succeeded without an order id; reconcile by listing".into())
}

impl ZonkvmClient {
    /// One order's record from its `get*` action (`getserver`, `gethosting`, ...).
    pub(crate) async fn order_record(&self, action: &str, id: &str) -> Result<Value> {
        self.call_kv_as(action, &[("guid", id)], |v| {
            if v.is_object() && v.get("id").is_some() {
                Ok(v)
            } else {
                Err("expected an order object".into())
            }
        })
        .await
    }

    async fn server_json(&self, family: Family, id: &str) -> Result<Value> {
        self.order_record(family.get_action(), id).await
    }

    /// The cloud line a region names: a line guid as is, or the first line open for
    /// purchase in a zone.
    async fn cloud_line(&self, region: &str) -> Result<String> {
        let lines = self.list("getlines", &[]).await?;
        lines
            .iter()
            .find(|l| s(l, "guid") == region)
            .or_else(|| {
                lines
                    .iter()
                    .find(|l| s(l, "line_guid") == region && i(l, "buyStatus") == 1)
            })
            .map(|l| s(l, "guid"))
            .ok_or_else(|| Error::invalid("region", format!("no cloud line in {region:?}")))
    }

    async fn create_cloud(&self, spec: &ServerSpec) -> Result<Server> {
        let line = self.cloud_line(&spec.region).await?;
        let packages = self.list("getproduct", &[]).await?;
        let pkg = match spec.plan.as_deref() {
            Some(p) => Some(
                packages
                    .iter()
                    .find(|x| s(x, "name") == p)
                    .ok_or_else(|| Error::invalid("plan", format!("unknown plan {p:?}")))?,
            ),
            None => None,
        };
        let pick = |explicit: Option<u32>, key: &str, field: &str| {
            explicit
                .map(i64::from)
                .or(pkg.map(|p| i(p, key)))
                .ok_or_else(|| Error::invalid(field, "give a plan or an explicit size"))
        };
        let cpu = pick(spec.cpu, "cpu", "cpu")?;
        let ram = pick(spec.ram_mb.map(|m| m / 1024), "memory", "ram_mb")?;
        let system_disk = pkg.map_or(40, |p| i(p, "systemdisk"));
        let data_disk = match (spec.disk_gb, pkg) {
            (Some(d), _) => i64::from(d),
            (None, Some(p)) => i(p, "harddisk"),
            (None, None) => 0,
        };
        let disks = if data_disk > 0 {
            format!("{system_disk},{data_disk}")
        } else {
            system_disk.to_string()
        };
        let content = json!({
            "cpu": cpu,
            "ram": ram,
            "bandwidth": spec.bandwidth_mbps.map(i64::from).or(pkg.map(|p| i(p, "bandwidth"))).unwrap_or(1),
            "harddisksValues": disks,
            "defense": pkg.map_or(0, |p| i(p, "defense")),
            "ip_num": 1,
            "months": spec.months.unwrap_or(1),
        });
        self.buy(
            "server",
            spec,
            &content,
            &[("line_guid", &line), ("system_guid", &spec.image)],
        )
        .await
    }

    async fn create_lease(&self, spec: &ServerSpec, product: &str) -> Result<Server> {
        let products = self.list("lease_product", &[]).await?;
        let p = products
            .iter()
            .find(|x| s(x, "guid") == product)
            .ok_or_else(|| Error::invalid("plan", format!("unknown model {product:?}")))?;
        let content = json!({
            "bandwidth": spec.bandwidth_mbps.map(i64::from).unwrap_or_else(|| i(p, "bandwidth")),
            "defense": i(p, "defense"),
            "ip_num": 1,
            "months": spec.months.unwrap_or(1),
        });
        self.buy(
            "lease",
            spec,
            &content,
            &[
                ("line_guid", &s(p, "line_guid")),
                ("product_guid", product),
                ("system_guid", &spec.image),
            ],
        )
        .await
    }
}

#[async_trait]
impl Compute for ZonkvmClient {
    async fn catalog(&self) -> Result<ComputeCatalog> {
        let regions = self
            .on_sale("getzones")
            .await?
            .iter()
            .map(|z| Region {
                id: s(z, "guid"),
                name: s(z, "name"),
            })
            .collect();
        let mut images = Vec::new();
        for sys in self.list("getsystems", &[]).await? {
            if i(&sys, "status") != 1 || !s(&sys, "type").contains("create") {
                continue;
            }
            let zones: Vec<String> = serde_json::from_str(&s(&sys, "lines")).unwrap_or_default();
            let name = s(&sys, "name");
            if zones.is_empty() {
                images.push(OsImage {
                    id: s(&sys, "guid"),
                    name: name.clone(),
                    region: None,
                });
            }
            for zone in zones {
                images.push(OsImage {
                    id: s(&sys, "guid"),
                    name: name.clone(),
                    region: Some(zone),
                });
            }
        }
        let mut plans: Vec<Plan> = self
            .on_sale("getproduct")
            .await?
            .iter()
            .map(|p| Plan {
                id: s(p, "name"),
                name: s(p, "name"),
                cpu: u(p, "cpu"),
                ram_mb: u(p, "memory").saturating_mul(1024),
                disk_gb: u(p, "systemdisk").saturating_add(u(p, "harddisk")),
                bandwidth_mbps: u(p, "bandwidth"),
                monthly_price: money(p, "price"),
                kind: ServerKind::Cloud,
            })
            .collect();
        plans.extend(self.on_sale("lease_product").await?.iter().map(|p| Plan {
            id: format!("lease:{}", s(p, "guid")),
            name: s(p, "name"),
            cpu: u(p, "cpu_value"),
            ram_mb: u(p, "memory_num").saturating_mul(1024),
            disk_gb: 0,
            bandwidth_mbps: u(p, "bandwidth"),
            monthly_price: money(p, "price"),
            kind: ServerKind::Dedicated,
        }));
        // Colocation sells space and power for the customer's own machine: no CPU,
        // memory or disk of ours.
        plans.extend(self.on_sale("idc_product").await?.iter().map(|p| Plan {
            id: format!("idc:{}", s(p, "guid")),
            name: s(p, "name"),
            cpu: 0,
            ram_mb: 0,
            disk_gb: 0,
            bandwidth_mbps: u(p, "bandwidth"),
            monthly_price: money(p, "price"),
            kind: ServerKind::Colocation,
        }));
        Ok(ComputeCatalog {
            regions,
            images,
            plans,
        })
    }

    async fn list_servers(&self) -> Result<Vec<Server>> {
        let mut out = Vec::new();
        for family in [Family::Cloud, Family::Lease, Family::Idc] {
            let rows = self.list_all(family.list_action()).await?;
            out.extend(rows.iter().map(|v| server_of(family, v)));
        }
        Ok(out)
    }

    async fn get_server(&self, id: &str) -> Result<Server> {
        let (family, num) = parse_server_id(id)?;
        Ok(server_of(family, &self.server_json(family, &num).await?))
    }

    async fn create_server(&self, spec: &ServerSpec) -> Result<Server> {
        match spec.plan.as_deref().and_then(|p| p.strip_prefix("lease:")) {
            Some(product) => self.create_lease(spec, product).await,
            None => self.create_cloud(spec).await,
        }
    }

    async fn power(&self, id: &str, action: PowerAction) -> Result<()> {
        let (family, num) = parse_server_id(id)?;
        // The document has one stop and one restart; there is no forced variant.
        let verb = match action {
            PowerAction::Start => "start",
            PowerAction::Stop | PowerAction::ForceStop => "stop",
            PowerAction::Reboot | PowerAction::ForceReboot => "restart",
        };
        let name = format!("{}_{verb}", family.prefix());
        self.call_kv(&name, &[("guid", &num)]).await?;
        Ok(())
    }

    async fn reinstall(&self, id: &str, image: &str) -> Result<()> {
        let (family, num) = parse_server_id(id)?;
        // The document makes the new password part of a reinstall; keep the current one.
        let current = self.server_json(family, &num).await?;
        let key = if family == Family::Cloud {
            "loginPassword"
        } else {
            "login_password"
        };
        let password = s(&current, key);
        let name = format!("{}_install", family.prefix());
        self.call_kv(
            &name,
            &[("guid", &num), ("systemID", image), ("password", &password)],
        )
        .await?;
        Ok(())
    }

    async fn reset_password(&self, id: &str, password: &str) -> Result<()> {
        let (family, num) = parse_server_id(id)?;
        let name = format!("{}_setpsw", family.prefix());
        self.call_kv(&name, &[("guid", &num), ("password", password)])
            .await?;
        Ok(())
    }

    async fn resize(&self, id: &str, resize: &Resize) -> Result<()> {
        let (family, num) = parse_server_id(id)?;
        if family != Family::Cloud {
            // Dedicated and colocation upgrades add IPs, bandwidth or defense only.
            if resize.cpu.is_some() || resize.ram_mb.is_some() || resize.disk_gb.is_some() {
                return Err(Error::unsupported(
                    Vendor::Zonkvm,
                    "resizing CPU, RAM or disks of a physical server",
                ));
            }
            let current = self.server_json(family, &num).await?;
            let Some(bw) = resize.bandwidth_mbps else {
                return Err(Error::invalid("resize", "nothing to change"));
            };
            let add = (i64::from(bw) - i(&current, "bandwidth"))
                .max(0)
                .to_string();
            let name = format!("{}_upgrade", family.prefix());
            self.call_kv(&name, &[("guid", &num), ("bandwidthAdd", &add)])
                .await?;
            return Ok(());
        }
        let current = self.server_json(family, &num).await?;
        // server_upgrade takes absolute values; unchanged ones are sent as they are.
        let cpu = resize.cpu.map_or(i(&current, "cpu"), i64::from).to_string();
        let mem = resize
            .ram_mb
            .map_or(i(&current, "memory"), |m| i64::from(m / 1024))
            .to_string();
        let bw = resize
            .bandwidth_mbps
            .map_or(i(&current, "bandwidth"), i64::from)
            .to_string();
        let disks = match resize.disk_gb {
            None => s(&current, "harddisks"),
            Some(d) => {
                let system = s(&current, "harddisks")
                    .split(',')
                    .next()
                    .unwrap_or("40")
                    .to_string();
                format!("{system},{d}")
            }
        };
        let defense = i(&current, "defense").to_string();
        self.call_kv(
            "server_upgrade",
            &[
                ("guid", &num),
                ("cpu", &cpu),
                ("memory", &mem),
                ("bandwidth", &bw),
                ("defense", &defense),
                ("harddisks", &disks),
            ],
        )
        .await?;
        Ok(())
    }

    async fn delete_server(&self, id: &str) -> Result<()> {
        self.refund_server(id).await.map(|_| ())
    }

    async fn refund_server(&self, id: &str) -> Result<Option<Money>> {
        let (family, num) = parse_server_id(id)?;
        self.refund(&format!("{}_refund", family.prefix()), &num)
            .await
    }

    async fn console(&self, id: &str) -> Result<ConsoleSession> {
        let (family, num) = parse_server_id(id)?;
        let name = format!("{}_getvncurl", family.prefix());
        let url = self
            .call_kv_as(&name, &[("guid", &num)], |v| {
                v.get("url")
                    .and_then(Value::as_str)
                    .or_else(|| v.as_str())
                    .map(str::to_string)
                    .ok_or_else(|| "no console url".to_string())
            })
            .await?;
        Ok(ConsoleSession {
            url,
            expires_at: None,
        })
    }

    async fn traffic(
        &self,
        id: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<TrafficSample>> {
        let (family, num) = parse_server_id(id)?;
        let name = format!("get_{}_chart", family.prefix());
        let (start, end) = (
            from.as_millisecond().to_string(),
            to.as_millisecond().to_string(),
        );
        self.call_kv_as(
            &name,
            &[("guid", &num), ("start_time", &start), ("end_time", &end)],
            |v| chart_samples(&v),
        )
        .await
    }

    async fn set_console_password(&self, id: &str, password: &str) -> Result<()> {
        let num = cloud_only(id, "setting the console password")?;
        idcgate_core::firewall::check_console_password(password)?;
        self.call_kv("server_setvnc", &[("guid", &num), ("password", password)])
            .await?;
        Ok(())
    }

    async fn firewall_rules(&self, id: &str) -> Result<Vec<FirewallRule>> {
        let num = cloud_only(id, "firewall rules")?;
        self.policies(&num).await
    }

    async fn add_firewall_rule(&self, id: &str, rule: &FirewallRuleSpec) -> Result<FirewallRule> {
        let num = cloud_only(id, "firewall rules")?;
        rule.check()?;
        let weight = rule.priority.to_string();
        let answer = self
            .call_kv(
                "server_add_hardpolicy",
                &[
                    ("guid", &num),
                    ("name", &rule.name),
                    ("weight", &weight),
                    ("direction", direction_word(rule.direction)),
                    // The document's field for allow/deny; `action` is the call's name.
                    ("operation", verdict_word(rule.verdict)),
                    ("protocol", protocol_word(rule.protocol)),
                    ("remote_ip", &rule.remote),
                    ("local_port", &rule.local_port),
                ],
            )
            .await?;
        // The document shows no answer for this call; the simulator's (and the finance
        // system's) `guid` names the rule. Without one, the rule is the listed one of
        // exactly this content (the last, should there be twins: alike in all but id).
        let guid = s(&answer, "guid");
        let confirm = |e: String| {
            self.exchange.unconfirmed(
                "server_add_hardpolicy",
                format!("the rule was added to server {num}; {e}"),
            )
        };
        let listed = self
            .policies(&num)
            .await
            .map_err(|e| confirm(format!("listing the rules after it failed: {e}")))?;
        listed
            .into_iter()
            .rev()
            .find(|r| {
                if guid.is_empty() {
                    r.spec == *rule
                } else {
                    r.id == guid
                }
            })
            .ok_or_else(|| confirm("the rules listed after it do not show it".into()))
    }

    async fn delete_firewall_rule(&self, id: &str, rule_id: &str) -> Result<()> {
        let num = cloud_only(id, "firewall rules")?;
        let rule_id = rule_id.trim();
        if rule_id.is_empty()
            || rule_id.len() > 64
            || !rule_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(Error::invalid(
                "rule_id",
                "a rule id as the server's rules list it",
            ));
        }
        self.call_kv(
            "server_del_hardpolicy",
            &[("guid", &num), ("policy_guid", rule_id)],
        )
        .await?;
        Ok(())
    }

    async fn list_backups(&self, _id: &str) -> Result<Vec<Backup>> {
        Err(Error::unsupported(Vendor::Zonkvm, "server backups"))
    }

    async fn create_backup(&self, _id: &str, _name: &str, _full: bool) -> Result<()> {
        Err(Error::unsupported(Vendor::Zonkvm, "server backups"))
    }

    async fn restore_backup(&self, _id: &str, _backup_id: &str) -> Result<()> {
        Err(Error::unsupported(Vendor::Zonkvm, "server backups"))
    }

    async fn delete_backup(&self, _id: &str, _backup_id: &str) -> Result<()> {
        Err(Error::unsupported(Vendor::Zonkvm, "server backups"))
    }
}

/// A cloud server's number: the document has VNC passwords and security policies
/// for cloud servers only (its dedicated and colocation sections have neither).
fn cloud_only(id: &str, what: &str) -> Result<String> {
    match parse_server_id(id)? {
        (Family::Cloud, num) => Ok(num),
        _ => Err(Error::unsupported(
            Vendor::Zonkvm,
            format!("{what} of a dedicated or colocated server"),
        )),
    }
}

fn direction_word(d: Direction) -> &'static str {
    match d {
        Direction::Inbound => "Inbound",
        Direction::Outbound => "Outbound",
    }
}

fn protocol_word(p: RuleProtocol) -> &'static str {
    match p {
        RuleProtocol::Tcp => "tcp",
        RuleProtocol::Udp => "udp",
        RuleProtocol::Icmp => "icmp",
    }
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Allow => "allow",
        Verdict::Deny => "deny",
    }
}

/// One `get_security_policy` row; a field that is missing or says something else
/// than the document's words makes the answer unreadable rather than a rule guessed.
fn policy_of(v: &Value) -> std::result::Result<FirewallRule, String> {
    let word = |k: &str| s(v, k).trim().to_ascii_lowercase();
    let direction = match word("direction").as_str() {
        "inbound" => Direction::Inbound,
        "outbound" => Direction::Outbound,
        other => return Err(format!("policy direction {other:?}")),
    };
    let protocol = match word("protocol").as_str() {
        "tcp" => RuleProtocol::Tcp,
        "udp" => RuleProtocol::Udp,
        "icmp" => RuleProtocol::Icmp,
        other => return Err(format!("policy protocol {other:?}")),
    };
    let verdict = match word("action").as_str() {
        "allow" => Verdict::Allow,
        "deny" => Verdict::Deny,
        other => return Err(format!("policy action {other:?}")),
    };
    let id = s(v, "guid");
    if id.is_empty() {
        return Err("policy without a guid".into());
    }
    let priority =
        u32::try_from(i(v, "weight")).map_err(|_| format!("policy weight {}", s(v, "weight")))?;
    Ok(FirewallRule {
        id,
        spec: FirewallRuleSpec {
            name: s(v, "name"),
            priority,
            direction,
            protocol,
            verdict,
            remote: s(v, "remote_ip"),
            local_port: s(v, "local_port"),
        },
        created_at: parse_china_time(&s(v, "create_time")),
    })
}

impl ZonkvmClient {
    /// A cloud server's security policies, lowest weight (first applied) first.
    async fn policies(&self, num: &str) -> Result<Vec<FirewallRule>> {
        let mut rules = self
            .call_kv_as("get_security_policy", &[("guid", num)], |v| {
                v.as_array()
                    .ok_or_else(|| "a policy list that is not a list".to_string())?
                    .iter()
                    .map(policy_of)
                    .collect::<std::result::Result<Vec<_>, _>>()
            })
            .await?;
        rules.sort_by_key(|r| r.spec.priority);
        Ok(rules)
    }

    /// Refunds order `num` by `action` (each family has its own) and reads what came
    /// back.
    async fn refund(&self, action: &str, num: &str) -> Result<Option<Money>> {
        let answer = self.call_kv(action, &[("guid", num)]).await?;
        Ok(refunded(&answer))
    }
}

/// What a `<family>_refund` answer says went back to our balance. The document lists
/// no response fields; the finance system answers `{"id","money"}` with `money` in yuan
/// (text or a number). The server is gone whatever this says, so an amount missing,
/// unreadable or negative is unknown (`None`), not a failed write and not zero.
fn refunded(answer: &Value) -> Option<Money> {
    let money = answer.get("money")?;
    let text = match money {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    text.parse::<Money>().ok().filter(|m| *m >= Money::ZERO)
}

fn status_word(order_status: i64, run_status: i64) -> String {
    match (order_status, run_status) {
        (0, _) => "provisioning",
        (3, _) => "expired",
        (-2, _) | (-1, _) => "deleted",
        (_, -1) => "stopped",
        _ => "active",
    }
    .to_string()
}

#[async_trait]
impl WebHosting for ZonkvmClient {
    async fn list_sites(&self) -> Result<Vec<HostingSite>> {
        let rows = self.list_all("hosting_orders").await?;
        Ok(rows
            .iter()
            .map(|v| {
                let mut domains = vec![s(v, "domain")];
                domains.extend(ips_in(&s(v, "domain_list")));
                domains.retain(|d| !d.is_empty());
                HostingSite {
                    upstream_id: i(v, "id").to_string(),
                    name: s(v, "name"),
                    plan: Some(s(v, "product_guid")),
                    domains,
                    status: status_word(i(v, "order_status"), i(v, "run_status")),
                    expires_at: parse_china_time(&s(v, "end_time")),
                    path: Some(s(v, "path")).filter(|p| !p.is_empty()),
                }
            })
            .collect())
    }

    async fn site_action(&self, id: &str, action: &SiteAction) -> Result<Vec<String>> {
        let num = order_number(id)?;
        let (op, extra): (&str, Option<(&str, &str)>) = match action {
            SiteAction::Start => ("hosting_start", None),
            SiteAction::Stop => ("hosting_stop", None),
            SiteAction::Password(p) => ("hosting_edit_pwd", Some(("ftp_password", p))),
            SiteAction::Domains => ("hosting_domain_list", None),
            SiteAction::AddDomain(d) => ("hosting_add_domain", Some(("domainText", d))),
            SiteAction::RemoveDomain(d) => ("hosting_del_domain", Some(("name", d))),
        };
        let mut params = vec![("guid", num.as_str())];
        params.extend(extra);
        let name = format!("hosting_operate#{op}");
        if *action != SiteAction::Domains {
            self.call_kv(&name, &params).await?;
            return Ok(Vec::new());
        }
        self.call_kv_as(&name, &params, |v| {
            v.as_array()
                .ok_or_else(|| "a domain list that is not a list".to_string())
                .map(|rows| {
                    rows.iter()
                        .map(|r| match s(r, "port").as_str() {
                            "" | "80" => s(r, "name"),
                            port => format!("{}:{port}", s(r, "name")),
                        })
                        .collect()
                })
        })
        .await
    }

    async fn refund_site(&self, id: &str) -> Result<Option<Money>> {
        self.refund("hosting_operate#hosting_refund", &order_number(id)?)
            .await
    }

    async fn site_panel(&self, id: &str, call: &PanelCall) -> Result<Value> {
        self.panel("hosting_operate", id, call).await
    }

    /// `line_guid` is the line the product `offer` is sold on: `line` where the
    /// product names one, else the first its row lists (as a purchase takes it).
    async fn line_panel(&self, offer: &str, line: Option<&str>, call: &PanelCall) -> Result<Value> {
        let fields = crate::panel::line_fields(&call.operation, &call.fields)
            .map_err(|(field, reason)| Error::invalid(field, reason))?;
        let mut product = None;
        for list in ["hosting_product", "sql_product"] {
            let rows = self.list(list, &[]).await?;
            if let Some(p) = rows.into_iter().find(|p| s(p, "guid") == offer) {
                product = Some(p);
                break;
            }
        }
        let product =
            product.ok_or_else(|| Error::not_found(format!("hosting product {offer:?}")))?;
        let on = s(&product, "lines_guid");
        let line = match line.filter(|l| !l.trim().is_empty()) {
            Some(l) if on.split(',').any(|x| x == l) => l.to_string(),
            Some(l) => {
                return Err(Error::invalid(
                    "line_guid",
                    format!("{offer:?} is not sold on line {l:?}"),
                ))
            }
            None => on.split(',').next().unwrap_or_default().to_string(),
        };
        let mut params = vec![("line_guid", line.as_str())];
        params.extend(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let answer = self.call_kv(&call.operation, &params).await?;
        Ok(envelope_data(answer))
    }

    /// `hosting_add_database`, unless the site has its bundled database already
    /// (`sql_orders` lists a live one tied to it): that one is the answer, so a call
    /// whose answer was lost, made again, finds what the first made instead of the
    /// upstream's "already added". The new database is read back with `getsql`.
    async fn add_bundled_database(
        &self,
        id: &str,
        engine: Option<&str>,
        password: &str,
    ) -> Result<Database> {
        let num = order_number(id)?;
        let bundled = |v: &Value| s(v, "hosting_id") == num && i(v, "order_status") == 1;
        if let Some(row) = self
            .list_all("sql_orders")
            .await?
            .iter()
            .find(|v| bundled(v))
        {
            return Ok(database_of(row));
        }
        let mut params = vec![("guid", num.as_str()), ("db_password", password)];
        if let Some(e) = engine.filter(|e| !e.trim().is_empty()) {
            params.push(("db_type", e));
        }
        let action = "hosting_operate#hosting_add_database";
        let created = self
            .call_kv_as(action, &params, |v| {
                v.get("id")
                    .and_then(|n| n.as_i64().or_else(|| n.as_str()?.trim().parse().ok()))
                    .ok_or_else(|| {
                        "hosting_add_database answered without the database's id".to_string()
                    })
            })
            .await?;
        let record = self
            .order_record("getsql", &created.to_string())
            .await
            .map_err(|e| {
                self.exchange.unconfirmed(
                    action,
                    format!("database {created} was added; reading it back failed: {e}"),
                )
            })?;
        Ok(database_of(&record))
    }
}

/// A `getsql` / `sql_orders` row.
fn database_of(v: &Value) -> Database {
    Database {
        upstream_id: i(v, "id").to_string(),
        name: s(v, "db_name"),
        engine: s(v, "db_type"),
        size_mb: Some(u(v, "db_size")),
        status: status_word(i(v, "order_status"), i(v, "run_status")),
        expires_at: parse_china_time(&s(v, "end_time")),
    }
}

/// The envelope's `data` (`""` where the upstream sent none): `call` gives the whole
/// envelope back when `data` is empty.
fn envelope_data(answer: Value) -> Value {
    match answer {
        Value::Object(ref m) if m.contains_key("code") && m.contains_key("msg") => {
            m.get("data").cloned().unwrap_or_default()
        }
        other => other,
    }
}

impl ZonkvmClient {
    /// A panel sub-operation on order `id`, checked against [`crate::panel`] here too:
    /// a caller cannot reach a money operation or send a field its row does not list.
    /// Answers the envelope's `data` (`""` where the upstream sent none).
    async fn panel(&self, family: &str, id: &str, call: &PanelCall) -> Result<Value> {
        let num = order_number(id)?;
        if let Some(list) = crate::panel::by_record(family, &call.operation) {
            return self.by_record(family, &num, list, call).await;
        }
        if !crate::panel::passes(family, &call.operation) {
            return Err(Error::unsupported(
                Vendor::Zonkvm,
                format!("{family} {} through the panel", call.operation),
            ));
        }
        let fields = crate::panel::fields(family, &call.operation, &call.fields)
            .map_err(|(field, reason)| Error::invalid(field, reason))?;
        let mut params = vec![("guid", num.as_str())];
        params.extend(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let action = format!("{family}#{}", call.operation);
        let answer = match &call.file {
            None => self.call_kv(&action, &params).await?,
            Some(file) => {
                if !crate::spec::spec()
                    .find(&action)
                    .is_some_and(crate::spec::is_multipart)
                {
                    return Err(Error::invalid(
                        crate::client::FILE,
                        format!("{} takes no file", call.operation),
                    ));
                }
                // The file's own name unless a field names it.
                if !params.iter().any(|(k, _)| *k == "filename") {
                    params.push(("filename", &file.name));
                }
                self.exchange
                    .call_kv_file(&action, &params, crate::client::FILE, file.clone())
                    .await?
            }
        };
        Ok(envelope_data(answer))
    }

    /// A sub-operation on one of order `num`'s records (a backup): sent, with the
    /// record's id as `guid`, only when the order's own list (`list`) shows it; any
    /// other id is not found and nothing is sent.
    async fn by_record(
        &self,
        family: &str,
        num: &str,
        list: &str,
        call: &PanelCall,
    ) -> Result<Value> {
        let record = call
            .fields
            .iter()
            .find(|(k, _)| k == crate::panel::RECORD)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty() && v.len() <= 20 && v.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                Error::invalid(
                    crate::panel::RECORD,
                    "a record id as the order's list shows it",
                )
            })?;
        let rows = self
            .list(&format!("{family}#{list}"), &[("guid", num)])
            .await?;
        if !rows.iter().any(|r| s(r, "id") == record) {
            return Err(Error::not_found(format!("record {record} of order {num}")));
        }
        let answer = self
            .call_kv(&format!("{family}#{}", call.operation), &[("guid", record)])
            .await?;
        Ok(envelope_data(answer))
    }
}

/// A hosting or database order's number (`7`, or `hosting_7` / `sql_7` as the journal
/// names them).
fn order_number(id: &str) -> Result<String> {
    let num = id
        .strip_prefix("hosting_")
        .or_else(|| id.strip_prefix("sql_"))
        .unwrap_or(id)
        .trim();
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(
            "id",
            format!("{id:?} is not an order number"),
        ));
    }
    Ok(num.to_string())
}

#[async_trait]
impl Databases for ZonkvmClient {
    async fn list_databases(&self) -> Result<Vec<Database>> {
        let rows = self.list_all("sql_orders").await?;
        Ok(rows.iter().map(database_of).collect())
    }

    async fn database_action(&self, id: &str, action: &SiteAction) -> Result<Vec<String>> {
        let num = order_number(id)?;
        match action {
            SiteAction::Password(p) => {
                self.call_kv(
                    "sql_operate#sql_reset_password",
                    &[("guid", &num), ("password", p)],
                )
                .await?;
                Ok(Vec::new())
            }
            other => Err(Error::unsupported(
                Vendor::Zonkvm,
                format!(
                    "the database operation {} (sql_operate has none)",
                    other.name()
                ),
            )),
        }
    }

    async fn refund_database(&self, id: &str) -> Result<Option<Money>> {
        self.refund("sql_operate#sql_refund", &order_number(id)?)
            .await
    }

    async fn database_panel(&self, id: &str, call: &PanelCall) -> Result<Value> {
        self.panel("sql_operate", id, call).await
    }
}

#[async_trait]
impl Billing for ZonkvmClient {
    async fn balance(&self) -> Result<Balance> {
        Err(Error::unsupported(
            Vendor::Zonkvm,
            "reading the balance (the document has no balance query)",
        ))
    }

    /// The statement check's other side. The document has no finance record, so this
    /// is what the order records say was bought since `since`: one charge per order, at
    /// its buy time, priced as the purchase was (hosting and databases: `renew_price` x
    /// `buymonths` at the product's discount for that term; servers: the catalog price
    /// of the configuration for the term the record shows). Renewals and upgrades are in no record with a date or amount, so
    /// they are not here (and an order renewed or upgraded since shows its new term or
    /// configuration); `charges_show` says so, and the statement notes them as
    /// unchecked rather than reporting differences.
    async fn charges(&self, since: Timestamp) -> Result<Vec<Charge>> {
        self.purchases_since(since).await
    }

    fn charges_show(&self, operation: idcgate_core::Operation) -> bool {
        operation == idcgate_core::Operation::Create
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_ids_keep_families_apart() {
        assert_eq!(
            parse_server_id("server_1001").unwrap(),
            (Family::Cloud, "1001".into())
        );
        assert_eq!(
            parse_server_id("lease_3").unwrap(),
            (Family::Lease, "3".into())
        );
        assert_eq!(parse_server_id("idc_2").unwrap(), (Family::Idc, "2".into()));
        assert_eq!(parse_server_id("7").unwrap(), (Family::Cloud, "7".into()));
        assert!(parse_server_id("vm_1").is_err());
        assert!(parse_server_id("server_x").is_err());
    }

    #[test]
    fn a_refund_answer_says_what_came_back_or_that_it_is_unknown() {
        let m = |v: Value| refunded(&v);
        assert_eq!(
            m(serde_json::json!({"id": 1, "money": "28.99"})),
            Some("28.99".parse().unwrap())
        );
        assert_eq!(
            m(serde_json::json!({"id": 1, "money": 12.5})),
            Some("12.50".parse().unwrap())
        );
        assert_eq!(
            m(serde_json::json!({"id": 1, "money": "0.00"})),
            Some(Money::ZERO)
        );
        for unknown in [
            serde_json::json!({"id": 1}),
            serde_json::json!({"id": 1, "money": "lots"}),
            serde_json::json!({"id": 1, "money": "-3.00"}),
            serde_json::json!({"id": 1, "money": null}),
            serde_json::json!(true),
        ] {
            assert_eq!(m(unknown.clone()), None, "{unknown}");
        }
    }

    #[test]
    fn states_map() {
        assert_eq!(lifecycle_of(1, 1), LifecycleState::Active);
        assert_eq!(lifecycle_of(1, -2), LifecycleState::Locked);
        assert_eq!(lifecycle_of(3, -1), LifecycleState::Expired);
        assert_eq!(lifecycle_of(-2, -1), LifecycleState::Deleted);
        assert_eq!(power_of(-1), PowerState::Stopped);
        assert_eq!(
            parse_china_time("2026-11-25 20:00:00").unwrap().to_string(),
            "2026-11-25T12:00:00Z"
        );
    }
}
