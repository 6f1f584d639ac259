//! Operations on the inventory and, through capabilities, on the upstreams: routed to
//! whichever account holds the zone or server, written back to the inventory on
//! success, and audited whatever the outcome.

use crate::sync::{record_row, server_row};
use crate::{now_ms, Engine, EngineError, Result};
use idcgate_core::{Balance, DnsRecord, PowerAction, RecordInput, ResourceKind, Server};
use idcgate_store::{ResourceFilter, ResourceRow};
use serde::Serialize;

/// How long "no account hosts this zone" is believed before the upstreams are asked again.
pub const UNKNOWN_ZONE_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// How many zones nobody hosts are remembered at once; beyond it the oldest are dropped.
const UNKNOWN_ZONES_KEPT: usize = 4096;

enum Probe {
    Found(String),
    Nowhere,
    Unsure,
}

/// The probing of zones no inventory lists: one probe at a time, and the zones found
/// nowhere lately.
#[derive(Default)]
pub(crate) struct ZoneProbes {
    probing: tokio::sync::Mutex<()>,
    unknown: std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>,
}

impl ZoneProbes {
    fn known_unknown(&self, zone: &str) -> bool {
        let mut unknown = idcgate_core::lock(&self.unknown);
        match unknown.get(zone) {
            Some(at) if at.elapsed() < UNKNOWN_ZONE_TTL => true,
            Some(_) => {
                unknown.remove(zone);
                false
            }
            None => false,
        }
    }

    fn remember_unknown(&self, zone: &str) {
        let mut unknown = idcgate_core::lock(&self.unknown);
        if unknown.len() >= UNKNOWN_ZONES_KEPT {
            unknown.retain(|_, at| at.elapsed() < UNKNOWN_ZONE_TTL);
        }
        if unknown.len() >= UNKNOWN_ZONES_KEPT {
            if let Some(oldest) = unknown
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(z, _)| z.clone())
            {
                unknown.remove(&oldest);
            }
        }
        unknown.insert(zone.to_string(), std::time::Instant::now());
    }

    /// Forgets that a zone was found nowhere (an account was added or changed).
    pub(crate) fn forget_unknown(&self) {
        idcgate_core::lock(&self.unknown).clear();
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountBalance {
    pub account: String,
    pub vendor: String,
    pub balance: Option<Balance>,
    pub error: Option<String>,
    /// Why there is no balance when that is no failure: the vendor offers none.
    pub note: Option<String>,
}

/// Said of an account whose vendor has no balance to read (XenSystem, Zonkvm).
pub const NO_BALANCE: &str = "not offered by this vendor";

/// What to do to a server.
#[derive(Clone)]
pub enum ServerOp {
    Power(PowerAction),
    Reinstall { image: String },
    Password { password: String },
}

/// Never the new password.
impl std::fmt::Debug for ServerOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServerOp::Power(a) => f.debug_tuple("Power").field(a).finish(),
            ServerOp::Reinstall { image } => {
                f.debug_struct("Reinstall").field("image", image).finish()
            }
            ServerOp::Password { .. } => f.write_str("Password { .. }"),
        }
    }
}

impl ServerOp {
    /// What the audit records of the operation's parameters: never the new password.
    fn audit_params(&self) -> serde_json::Value {
        match self {
            ServerOp::Power(a) => serde_json::json!({ "action": a }),
            ServerOp::Reinstall { image } => serde_json::json!({ "image": image }),
            ServerOp::Password { .. } => serde_json::json!({ "password": "[redacted]" }),
        }
    }

    fn label(&self) -> String {
        match self {
            ServerOp::Power(a) => format!(
                "server.{}",
                serde_json::to_value(a)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            ),
            ServerOp::Reinstall { .. } => "server.reinstall".into(),
            ServerOp::Password { .. } => "server.password".into(),
        }
    }
}

impl Engine {
    /// The account that hosts `zone`, from the inventory.
    pub async fn zone_account(&self, zone: &str) -> Result<String> {
        let zone = normalize_zone(zone)?;
        if let Some(account) = self
            .holders(ResourceKind::DnsZone, &zone)
            .await?
            .into_iter()
            .next()
        {
            return Ok(account);
        }
        self.probe_unlisted_zone(&zone)
            .await?
            .ok_or(EngineError::NoSuchZone(zone))
    }

    /// Upstreams that cannot list their zones (CNDNS) never put them in the inventory;
    /// ask those accounts directly whether they host this one, and remember the answer
    /// (a zone found goes into the inventory, a zone no account hosts into a short
    /// negative cache). One probe runs at a time, so a burst of requests for zones
    /// nobody hosts, from any scope, costs the upstreams at most one probe per zone per
    /// [`UNKNOWN_ZONE_TTL`].
    async fn probe_unlisted_zone(&self, zone: &str) -> Result<Option<String>> {
        if self.zones.known_unknown(zone) {
            return Ok(None);
        }
        let _one_at_a_time = self.zones.probing.lock().await;
        // Another caller may have probed it while this one waited.
        if self.zones.known_unknown(zone) {
            return Ok(None);
        }
        if let Some(account) = self
            .holders(ResourceKind::DnsZone, zone)
            .await?
            .into_iter()
            .next()
        {
            return Ok(Some(account));
        }
        let found = self.probe_accounts(zone).await?;
        match &found {
            Probe::Found(account) => return Ok(Some(account.clone())),
            Probe::Nowhere => self.zones.remember_unknown(zone),
            // An account could not be asked: the zone may be there; ask again next time.
            Probe::Unsure => {}
        }
        Ok(None)
    }

    /// The accounts whose live inventory lists `key` of `kind` (keys compared ignoring
    /// ASCII case), in the store's order.
    pub(crate) async fn holders(&self, kind: ResourceKind, key: &str) -> Result<Vec<String>> {
        Ok(self
            .store
            .list_resources(&ResourceFilter {
                kind: Some(kind),
                search: Some(key.to_string()),
                ..Default::default()
            })
            .await?
            .into_iter()
            .filter(|r| r.key.eq_ignore_ascii_case(key))
            .map(|r| r.account)
            .collect())
    }

    async fn probe_accounts(&self, zone: &str) -> Result<Probe> {
        let mut unsure = false;
        for account in self.store.list_accounts().await? {
            let Ok(conn) = self.connection(&account.name).await else {
                continue;
            };
            let Some(dns) = conn.dns() else { continue };
            if !matches!(
                dns.list_zones().await,
                Err(idcgate_core::Error::Unsupported { .. })
            ) {
                continue;
            }
            match dns.list_records(zone).await {
                Ok(records) => {
                    let now = now_ms();
                    let found = idcgate_core::Zone {
                        name: zone.to_string(),
                        upstream_id: None,
                        record_count: u32::try_from(records.len()).ok(),
                        marker: None,
                    };
                    let mut rows = vec![crate::sync::inventory_row(&account.name, &found, now)];
                    rows.extend(records.iter().map(|r| record_row(&account.name, r, now)));
                    self.store.upsert_resources(&rows).await?;
                    return Ok(Probe::Found(account.name));
                }
                // The account answered that it does not host the zone.
                Err(
                    idcgate_core::Error::NotFound { .. }
                    | idcgate_core::Error::Upstream { .. }
                    | idcgate_core::Error::InvalidInput { .. },
                ) => {}
                Err(_) => unsure = true,
            }
        }
        Ok(if unsure {
            Probe::Unsure
        } else {
            Probe::Nowhere
        })
    }

    async fn dns_of(
        &self,
        zone: &str,
    ) -> Result<(String, std::sync::Arc<dyn idcgate_core::Connection>)> {
        let account = self.zone_account(zone).await?;
        let conn = self.connection(&account).await?;
        dns_of_conn(conn.as_ref())?;
        Ok((account, conn))
    }

    /// The zone's records, read live and written back to the inventory.
    pub async fn dns_list(&self, zone: &str) -> Result<Vec<DnsRecord>> {
        let (_, records, _) = self.read_zone_into_inventory(zone).await?;
        Ok(records)
    }

    /// The zone's account, its records read live, and their rows as written.
    async fn read_zone_into_inventory(
        &self,
        zone: &str,
    ) -> Result<(String, Vec<DnsRecord>, Vec<ResourceRow>)> {
        let zone = &normalize_zone(zone)?;
        let (account, conn) = self.dns_of(zone).await?;
        let dns = dns_of_conn(conn.as_ref())?;
        let records = dns.list_records(zone).await?;
        let now = now_ms();
        let rows: Vec<ResourceRow> = records
            .iter()
            .map(|r| record_row(&account, r, now))
            .collect();
        self.store.upsert_resources(&rows).await?;
        Ok((account, records, rows))
    }

    /// A sync of one zone: its records read live and written to the inventory, and the
    /// inventory's records of the zone that the complete listing no longer holds marked
    /// gone (deleted upstream by someone else).
    pub async fn dns_refresh(&self, zone: &str) -> Result<Vec<DnsRecord>> {
        let (account, records, rows) = self.read_zone_into_inventory(zone).await?;
        let zone = &normalize_zone(zone)?;
        let now = now_ms();
        let seen: std::collections::HashSet<&str> = rows.iter().map(|r| r.key.as_str()).collect();
        let prefix = format!("{zone}/");
        let held = self
            .store
            .list_resources(&ResourceFilter {
                account: Some(account.clone()),
                kind: Some(ResourceKind::DnsRecord),
                name_prefix: Some(format!("{zone} ")),
                ..Default::default()
            })
            .await?;
        for r in held
            .iter()
            .filter(|r| r.key.starts_with(&prefix) && !seen.contains(r.key.as_str()))
        {
            self.store
                .delete_resource(&account, ResourceKind::DnsRecord, &r.key, now)
                .await?;
        }
        Ok(records)
    }

    /// The resolution lines the zone's account accepts (vendor-neutral names first).
    pub async fn dns_lines(&self, zone: &str) -> Result<Vec<String>> {
        let zone = &normalize_zone(zone)?;
        let (_, conn) = self.dns_of(zone).await?;
        Ok(dns_of_conn(conn.as_ref())?.lines(zone).await?)
    }

    /// The images a server of `account` may be reinstalled with: the account's catalog,
    /// narrowed to `region` when the server has one and the catalog names regions.
    pub async fn server_images(
        &self,
        account: &str,
        region: Option<&str>,
    ) -> Result<Vec<idcgate_core::OsImage>> {
        let conn = self.connection(account).await?;
        let compute = conn
            .compute()
            .ok_or_else(|| idcgate_core::Error::Unsupported {
                vendor: conn.vendor().to_string(),
                capability: "compute".into(),
            })?;
        let images = compute.catalog().await?.images;
        let in_region: Vec<_> = images
            .iter()
            .filter(|i| region.is_some_and(|r| i.region.as_deref() == Some(r)))
            .cloned()
            .collect();
        Ok(if in_region.is_empty() {
            images
        } else {
            in_region
        })
    }

    pub async fn dns_add(&self, actor: &str, zone: &str, input: &RecordInput) -> Result<DnsRecord> {
        let account = self.zone_account(zone).await?;
        self.dns_add_at(actor, &account, zone, input).await
    }

    /// [`Engine::dns_add`] at a named account (a zone two accounts hold while it moves).
    pub async fn dns_add_at(
        &self,
        actor: &str,
        account: &str,
        zone: &str,
        input: &RecordInput,
    ) -> Result<DnsRecord> {
        self.dns_add_after(actor, account, zone, input, None).await
    }

    /// [`Engine::dns_add_at`] for a caller that read the zone already (`before`, taken
    /// after its last delete or change of a record like this one): many creates in a
    /// row then read the zone once, not once each.
    pub(crate) async fn dns_add_after(
        &self,
        actor: &str,
        account: &str,
        zone: &str,
        input: &RecordInput,
        before: Option<&[DnsRecord]>,
    ) -> Result<DnsRecord> {
        let zone = &normalize_zone(zone)?;
        printable_record(input)?;
        let conn = self.connection(account).await?;
        let dns = dns_of_conn(conn.as_ref())?;
        let add = async {
            // What the zone held before: if the create's answer is lost, only a record
            // that was not there before can be the one it made. Unreadable now: a lost
            // answer stays an unknown outcome.
            let read_now;
            let before = match before {
                Some(known) => Some(known),
                None => {
                    read_now = dns.list_records(zone).await.ok();
                    read_now.as_deref()
                }
            };
            let result = match dns.create_record(zone, input).await {
                // The answer was lost: read the zone instead of guessing or retrying.
                Err(lost @ idcgate_core::Error::UnknownOutcome { .. }) => {
                    reconcile_created(dns, zone, input, before, lost).await
                }
                other => other.map_err(EngineError::from),
            };
            self.forget_zone_marker(account, zone).await;
            result
        };
        let target = format!("{account}/{zone}");
        let params = record_params(zone, None, input);
        let result = self
            .audited(actor, "dns.add", &target, Some(&params), add, json_of)
            .await;
        if let Ok(r) = &result {
            self.keep(&[record_row(account, r, now_ms())]).await;
        }
        result
    }

    pub async fn dns_set(
        &self,
        actor: &str,
        zone: &str,
        id: &str,
        input: &RecordInput,
    ) -> Result<DnsRecord> {
        let account = self.zone_account(zone).await?;
        self.dns_set_at(actor, &account, zone, id, input).await
    }

    /// [`Engine::dns_set`] at a named account.
    pub async fn dns_set_at(
        &self,
        actor: &str,
        account: &str,
        zone: &str,
        id: &str,
        input: &RecordInput,
    ) -> Result<DnsRecord> {
        let (zone, id) = &record_ref(zone, id)?;
        printable_record(input)?;
        let conn = self.connection(account).await?;
        let dns = dns_of_conn(conn.as_ref())?;
        let set = self.record_write(account, dns, zone, id, dns.update_record(zone, id, input));
        let target = format!("{account}/{zone}/{id}");
        let params = record_params(zone, Some(id), input);
        let result = self
            .audited(actor, "dns.set", &target, Some(&params), set, json_of)
            .await;
        if let Ok(r) = &result {
            let now = now_ms();
            let old_key = format!("{zone}/{id}");
            let new_row = record_row(account, r, now);
            // Some upstreams give a modified record a new id.
            if new_row.key != old_key {
                if let Err(e) = self
                    .store
                    .delete_resource(account, ResourceKind::DnsRecord, &old_key, now)
                    .await
                {
                    tracing::warn!(account, key = old_key, error = %e, "could not retire a record's old id; the next sync will");
                }
            }
            self.keep(&[new_row]).await;
        }
        result
    }

    pub async fn dns_remove(&self, actor: &str, zone: &str, id: &str) -> Result<()> {
        let (zone, id) = &record_ref(zone, id)?;
        let (account, conn) = self.dns_of(zone).await?;
        let dns = dns_of_conn(conn.as_ref())?;
        let mut already_gone = false;
        let remove = async {
            // Upstreams answer a delete of a record already gone as done (West 20120,
            // CNDNS 11318), so what the operator meant to delete would silently not
            // have been there: the zone is read first and a record it does not list is
            // reported gone with nothing sent. Unreadable now: the delete is sent as
            // asked.
            let listed = dns.list_records(zone).await;
            already_gone = listed
                .as_ref()
                .is_ok_and(|records| !records.iter().any(|r| r.upstream_id.as_deref() == Some(id)));
            let result = if already_gone {
                Err(idcgate_core::Error::NotFound {
                    what: format!("record {id} in zone {zone}: already gone, nothing deleted"),
                }
                .into())
            } else {
                self.delete_listed(&account, dns, zone, id).await
            };
            self.forget_zone_marker(&account, zone).await;
            result
        };
        let target = format!("{account}/{zone}/{id}");
        let params = serde_json::json!({ "zone": zone, "id": id });
        let result = self
            .audited(actor, "dns.rm", &target, Some(&params), remove, |_| {
                "deleted".into()
            })
            .await;
        if result.is_ok() || already_gone {
            let key = format!("{zone}/{id}");
            if let Err(e) = self
                .store
                .delete_resource(&account, ResourceKind::DnsRecord, &key, now_ms())
                .await
            {
                tracing::warn!(account, key, error = %e, "could not mark a deleted record gone; the next sync will");
            }
        }
        result
    }

    /// Deletes record `id`, which the zone listed a moment ago.
    async fn delete_listed(
        &self,
        account: &str,
        dns: &dyn idcgate_core::capability::Dns,
        zone: &str,
        id: &str,
    ) -> Result<()> {
        match dns.delete_record(zone, id).await {
            // The answer was lost: the record is gone if the zone no longer lists it.
            Err(lost @ idcgate_core::Error::UnknownOutcome { .. }) => match dns
                .list_records(zone)
                .await
            {
                Ok(records) if !records.iter().any(|r| r.upstream_id.as_deref() == Some(id)) => {
                    Ok(())
                }
                _ => Err(lost.into()),
            },
            Err(e) => Err(self.gone_record(account, dns, zone, id, e).await),
            Ok(()) => Ok(()),
        }
    }

    pub async fn dns_enable(&self, actor: &str, zone: &str, id: &str, enabled: bool) -> Result<()> {
        let account = self.zone_account(zone).await?;
        self.dns_enable_at(actor, &account, zone, id, enabled).await
    }

    /// [`Engine::dns_enable`] at a named account.
    pub async fn dns_enable_at(
        &self,
        actor: &str,
        account: &str,
        zone: &str,
        id: &str,
        enabled: bool,
    ) -> Result<()> {
        let (zone, id) = &record_ref(zone, id)?;
        let conn = self.connection(account).await?;
        let dns = dns_of_conn(conn.as_ref())?;
        let action = if enabled { "dns.enable" } else { "dns.disable" };
        let switch = self.record_write(
            account,
            dns,
            zone,
            id,
            dns.set_record_enabled(zone, id, enabled),
        );
        let target = format!("{account}/{zone}/{id}");
        let params = serde_json::json!({ "zone": zone, "id": id, "enabled": enabled });
        let result = self
            .audited(actor, action, &target, Some(&params), switch, |_| {
                "accepted".into()
            })
            .await;
        if result.is_ok() {
            let key = format!("{zone}/{id}");
            match self
                .store
                .get_resource(account, ResourceKind::DnsRecord, &key)
                .await
            {
                Ok(Some(mut row)) => {
                    if let Some(obj) = row.data.as_object_mut() {
                        obj.insert("enabled".into(), serde_json::Value::Bool(enabled));
                    }
                    row.last_seen_ms = now_ms();
                    self.keep(&[row]).await;
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(account, key, error = %e, "could not update a record's row; the next sync will")
                }
            }
        }
        result
    }

    /// After a write through idcgate to a zone, whatever its outcome: the zone is listed
    /// at the next sync. Its upstream marker has moved too, but the stored one is never
    /// advanced to it (another change in that same second would hide behind it), and a
    /// write's answer may have been lost, or the inventory may hold the record only as
    /// it was sent, for a listing to confirm. Forgotten at the write's time, so a sync
    /// that observed the zone before the write cannot store its marker back.
    pub(crate) async fn forget_zone_marker(&self, account: &str, zone: &str) {
        let forget = [(zone.to_string(), String::new())];
        if let Err(e) = self
            .store
            .put_zone_markers(account, &forget, now_ms())
            .await
        {
            tracing::warn!(account, zone, error = %e, "could not forget a zone's change marker; it is listed once its upstream marker moves");
        }
    }

    /// Writes what an upstream write left behind into the inventory. The upstream has
    /// changed already, so a store that fails now leaves the inventory stale for the
    /// next sync; it does not turn the operation into a failure.
    pub(crate) async fn keep(&self, rows: &[ResourceRow]) {
        if let Err(e) = self.store.upsert_resources(rows).await {
            tracing::warn!(error = %e, "could not update the inventory after a write; the next sync will");
        }
    }

    /// `write` to record `id` of `zone`, its refusal told by [`Engine::gone_record`];
    /// the zone's change marker is forgotten however it ended.
    async fn record_write<T>(
        &self,
        account: &str,
        dns: &dyn idcgate_core::capability::Dns,
        zone: &str,
        id: &str,
        write: impl std::future::Future<Output = idcgate_core::Result<T>>,
    ) -> Result<T> {
        let result = match write.await {
            Err(e) => Err(self.gone_record(account, dns, zone, id, e).await),
            Ok(r) => Ok(r),
        };
        self.forget_zone_marker(account, zone).await;
        result
    }

    /// The error for a refused write on record `id`: if the zone, read now, no longer
    /// lists it, the record is gone whatever the upstream called it (West: "already
    /// deleted", an unknown id), so `NotFound`, and its inventory row goes too; any other
    /// refusal, or a failed read, stays as it was.
    async fn gone_record(
        &self,
        account: &str,
        dns: &dyn idcgate_core::capability::Dns,
        zone: &str,
        id: &str,
        refused: idcgate_core::Error,
    ) -> EngineError {
        use idcgate_core::Error as E;
        if !matches!(
            refused,
            E::InvalidInput { .. } | E::NotFound { .. } | E::Upstream { .. }
        ) {
            return refused.into();
        }
        match dns.list_records(zone).await {
            Ok(records) if !records.iter().any(|r| r.upstream_id.as_deref() == Some(id)) => {
                let key = format!("{zone}/{id}");
                if let Err(e) = self
                    .store
                    .delete_resource(account, ResourceKind::DnsRecord, &key, now_ms())
                    .await
                {
                    tracing::warn!(account, key, error = %e, "could not mark a gone record gone");
                }
                E::NotFound {
                    what: format!("record {id} in zone {zone}"),
                }
                .into()
            }
            _ => refused.into(),
        }
    }

    /// Finds a server by `account/id` or by an id unique across accounts.
    pub async fn server_account(&self, reference: &str) -> Result<(String, String)> {
        if let Some((account, id)) = reference.split_once('/') {
            if self
                .store
                .get_resource(account, ResourceKind::Server, id)
                .await?
                .is_some()
            {
                return Ok((account.to_string(), id.to_string()));
            }
            return Err(EngineError::NoSuchServer(reference.into()));
        }
        let rows = self
            .store
            .list_resources(&ResourceFilter {
                kind: Some(ResourceKind::Server),
                ..Default::default()
            })
            .await?;
        let matches: Vec<_> = rows
            .into_iter()
            .filter(|r| r.key == reference || r.name == reference)
            .collect();
        match matches.as_slice() {
            [one] => Ok((one.account.clone(), one.key.clone())),
            [] => Err(EngineError::NoSuchServer(reference.into())),
            many => Err(EngineError::Invalid(format!(
                "server {reference:?} is ambiguous; use one of {}",
                many.iter()
                    .map(|r| format!("{}/{}", r.account, r.key))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Runs `op` on a server and reads the server back. The operation's outcome is the
    /// action's: once the upstream accepted it, a failed read after it does not make it
    /// a failure. The server is then the inventory's last view with its power state
    /// unknown (so marked in the inventory too) until the next sync reads it.
    pub async fn server_op(&self, actor: &str, reference: &str, op: ServerOp) -> Result<Server> {
        let (account, id) = self.server_account(reference).await?;
        let conn = self.connection(&account).await?;
        let compute = conn
            .compute()
            .ok_or_else(|| idcgate_core::Error::Unsupported {
                vendor: conn.vendor().to_string(),
                capability: "compute".into(),
            })?;
        let run = async {
            match &op {
                ServerOp::Power(a) => compute.power(&id, *a).await,
                ServerOp::Reinstall { image } => compute.reinstall(&id, image).await,
                ServerOp::Password { password } => compute.reset_password(&id, password).await,
            }
            .map_err(EngineError::from)
        };
        // Never log the new password: the audit says only what was done.
        let params = op.audit_params();
        let target = format!("{account}/{id}");
        self.audited(actor, &op.label(), &target, Some(&params), run, |_| {
            "accepted".into()
        })
        .await?;
        match compute.get_server(&id).await {
            Ok(server) => {
                self.keep(&[server_row(&account, &server, now_ms())]).await;
                Ok(server)
            }
            Err(e) => {
                tracing::warn!(account, id, error = %e, "server operation done; reading the server after it failed");
                Ok(self.server_unread(&account, &id).await)
            }
        }
    }

    /// The inventory's server with its power state unknown, written back so: an action
    /// was done whose effect could not be read.
    async fn server_unread(&self, account: &str, id: &str) -> Server {
        let row = self
            .store
            .get_resource(account, ResourceKind::Server, id)
            .await
            .ok()
            .flatten();
        let known = row
            .as_ref()
            .and_then(|r| serde_json::from_value::<Server>(r.data.clone()).ok());
        let mut server = known.unwrap_or_else(|| Server {
            upstream_id: id.to_string(),
            name: row
                .as_ref()
                .map_or_else(|| id.to_string(), |r| r.name.clone()),
            kind: idcgate_core::ServerKind::Cloud,
            region: None,
            plan: None,
            cpu: 0,
            ram_mb: 0,
            disks: Vec::new(),
            bandwidth_mbps: 0,
            ips: Vec::new(),
            os_image: None,
            power: idcgate_core::PowerState::Unknown,
            lifecycle: idcgate_core::LifecycleState::Active,
            expires_at: None,
        });
        server.power = idcgate_core::PowerState::Unknown;
        if let Some(r) = row {
            // Keep the row's first sighting and expiry; only what was read changes.
            let mut updated = server_row(account, &server, now_ms());
            updated.first_seen_ms = r.first_seen_ms;
            self.keep(&[updated]).await;
        }
        server
    }

    /// Names of the configured accounts of one vendor (for `--vendor` filters).
    pub async fn accounts_of(&self, vendor: idcgate_core::Vendor) -> Result<Vec<String>> {
        Ok(self
            .store
            .list_accounts()
            .await?
            .into_iter()
            .filter(|a| a.vendor == vendor)
            .map(|a| a.name)
            .collect())
    }

    /// Servers in the inventory matching `filter`, and `state` (a lifecycle or power
    /// state, see `SERVER_STATES`) if given: the state is checked here, once, for every
    /// surface, and matched by the store.
    pub async fn servers(
        &self,
        filter: ResourceFilter,
        state: Option<&str>,
    ) -> Result<Vec<ResourceRow>> {
        if let Some(s) = state.filter(|s| !idcgate_core::SERVER_STATES.contains(s)) {
            return Err(idcgate_core::Error::invalid(
                "state",
                format!(
                    "unknown server state {s:?} (one of {})",
                    idcgate_core::SERVER_STATES.join(", ")
                ),
            )
            .into());
        }
        let filter = ResourceFilter {
            kind: Some(ResourceKind::Server),
            state: state.map(str::to_string),
            limit: None,
            offset: None,
            ..filter
        };
        Ok(self.store.list_resources(&filter).await?)
    }

    /// Live balances of every account that has billing; errors are per account.
    pub async fn balances(&self) -> Result<Vec<AccountBalance>> {
        let mut out = Vec::new();
        for a in self.store.list_accounts().await? {
            let conn = match self.connection(&a.name).await {
                Ok(c) => c,
                Err(e) => {
                    out.push(AccountBalance {
                        account: a.name,
                        vendor: a.vendor.to_string(),
                        balance: None,
                        error: Some(e.to_string()),
                        note: None,
                    });
                    continue;
                }
            };
            let not_offered = AccountBalance {
                account: a.name.clone(),
                vendor: a.vendor.to_string(),
                balance: None,
                error: None,
                note: Some(NO_BALANCE.into()),
            };
            // Every account is listed: one without a balance says why, not left out.
            let Some(b) = conn.billing() else {
                out.push(not_offered);
                continue;
            };
            match b.balance().await {
                Err(idcgate_core::Error::Unsupported { .. }) => out.push(not_offered),
                Ok(bal) => {
                    // A free reading for the statement check; showing the balance does
                    // not depend on keeping it.
                    if let Err(e) = self.record_balance(&a.name, &bal, "balance").await {
                        tracing::warn!(account = %a.name, error = %e, "could not keep the balance reading");
                    }
                    out.push(AccountBalance {
                        account: a.name,
                        vendor: a.vendor.to_string(),
                        balance: Some(bal),
                        error: None,
                        note: None,
                    })
                }
                Err(e) => out.push(AccountBalance {
                    account: a.name,
                    vendor: a.vendor.to_string(),
                    balance: None,
                    error: Some(e.to_string()),
                    note: None,
                }),
            }
        }
        Ok(out)
    }
}

/// A record write's parameters as the audit keeps them.
fn record_params(zone: &str, id: Option<&str>, input: &RecordInput) -> serde_json::Value {
    let mut p = serde_json::json!({ "zone": zone, "record": input });
    if let Some(id) = id {
        p["id"] = serde_json::json!(id);
    }
    p
}

fn json_of<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// After a lost answer to a create: the record exists upstream (the create happened) or
/// it does not (report the unknown outcome; a later sync will show if it lands). Only a
/// record that `before` (the zone read before the create) did not hold can be the one the
/// create made: an identical record that was already there proves nothing.
async fn reconcile_created(
    dns: &dyn idcgate_core::capability::Dns,
    zone: &str,
    input: &RecordInput,
    before: Option<&[DnsRecord]>,
    lost: idcgate_core::Error,
) -> Result<DnsRecord> {
    let Some(before) = before else {
        return Err(lost.into());
    };
    let records = match dns.list_records(zone).await {
        Ok(r) => r,
        Err(_) => return Err(lost.into()),
    };
    let same = |r: &DnsRecord| same_content(r, input);
    let had: Vec<&DnsRecord> = before.iter().filter(|r| same(r)).collect();
    let now: Vec<DnsRecord> = records.into_iter().filter(same).collect();
    // By id where the vendor gives one; without ids, only a rise in the count of
    // identical records shows that one was added.
    let new = if now.iter().all(|r| r.upstream_id.is_some()) {
        now.into_iter()
            .find(|r| !had.iter().any(|h| h.upstream_id == r.upstream_id))
    } else if now.len() > had.len() {
        now.into_iter().next()
    } else {
        None
    };
    new.ok_or_else(|| lost.into())
}

/// Whether `r` holds what `input` asks for, TTL aside: host, type, value (a trailing dot
/// and ASCII case aside, as upstreams store names either way) and line (one line
/// whichever way a vendor spells it).
pub(crate) fn same_content(r: &DnsRecord, input: &RecordInput) -> bool {
    r.host.eq_ignore_ascii_case(&input.host)
        && r.rtype == input.rtype
        && r.value
            .trim_end_matches('.')
            .eq_ignore_ascii_case(input.value.trim_end_matches('.'))
        && idcgate_core::lines::same(r.line.as_deref(), input.line.as_deref())
}

/// The one spelling of a zone used upstream and in the inventory: no surrounding blanks,
/// no trailing dot, lower case. Anything that cannot be a domain name is refused here
/// rather than sent upstream or remembered.
pub fn normalize_zone(zone: &str) -> Result<String> {
    let z = zone.trim().trim_end_matches('.').to_ascii_lowercase();
    let valid = !z.is_empty()
        && z.len() <= 253
        && z.contains('.')
        && !z
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '/' || c == '%');
    if valid {
        Ok(z)
    } else {
        Err(idcgate_core::Error::invalid("zone", format!("{zone:?} is not a domain name")).into())
    }
}

/// Refuses a record holding a control character before anything is sent, as a zone
/// file's is refused (invariant 34): West stores a TXT value's newline, and the record
/// then reads back as something nobody wrote.
fn printable_record(input: &RecordInput) -> Result<()> {
    for (field, text) in [("host", &input.host), ("value", &input.value)] {
        if let Some(ch) = text.chars().find(|c| c.is_control()) {
            return Err(idcgate_core::Error::invalid(
                field,
                format!("holds control character U+{:04X}", ch as u32),
            )
            .into());
        }
    }
    Ok(())
}

/// The one spelling of a record id: no surrounding blanks. An upstream that trims them
/// would delete record `1297` for ` 1297` while the inventory row `zone/ 1297` matched
/// nothing. Ids are opaque tokens: blanks inside, control characters and `/` (which
/// separates zone and id in an inventory key) are refused before any call.
pub fn normalize_record_id(id: &str) -> Result<String> {
    let t = id.trim();
    let valid = !t.is_empty()
        && t.len() <= 128
        && !t
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '/');
    if valid {
        Ok(t.to_string())
    } else {
        Err(idcgate_core::Error::invalid("id", format!("{id:?} is not a record id")).into())
    }
}

/// A record's zone and id, each in its one spelling ([`normalize_zone`],
/// [`normalize_record_id`]).
fn record_ref(zone: &str, id: &str) -> Result<(String, String)> {
    Ok((normalize_zone(zone)?, normalize_record_id(id)?))
}

/// The account's DNS capability, or the error that says it has none.
pub(crate) fn dns_of_conn(
    conn: &dyn idcgate_core::Connection,
) -> Result<&dyn idcgate_core::capability::Dns> {
    conn.dns().ok_or_else(|| {
        idcgate_core::Error::Unsupported {
            vendor: conn.vendor().to_string(),
            capability: "dns".into(),
        }
        .into()
    })
}
