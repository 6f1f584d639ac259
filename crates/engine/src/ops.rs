//! Operations on the inventory and, through capabilities, on the upstreams: routed to
//! whichever account holds the zone or server, written back to the inventory on
//! success, and audited whatever the outcome.

use crate::sync::{record_row, server_row};
use crate::{now_ms, Engine, EngineError, Result};
use idcgate_core::{Balance, DnsRecord, PowerAction, RecordInput, ResourceKind, Server};
use idcgate_store::{ResourceFilter, ResourceRow};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct AccountBalance {
    pub account: String,
    pub vendor: String,
    pub balance: Option<Balance>,
    pub error: Option<String>,
}

/// What to do to a server.
#[derive(Debug, Clone)]
pub enum ServerOp {
    Power(PowerAction),
    Reinstall { image: String },
    Password { password: String },
}

impl ServerOp {
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
        let rows = self
            .store
            .list_resources(&ResourceFilter {
                kind: Some(ResourceKind::DnsZone),
                search: Some(zone.clone()),
                ..Default::default()
            })
            .await?;
        if let Some(row) = rows.into_iter().find(|r| r.key.eq_ignore_ascii_case(&zone)) {
            return Ok(row.account);
        }
        self.probe_unlisted_zone(&zone)
            .await?
            .ok_or(EngineError::NoSuchZone(zone))
    }

    /// Upstreams that cannot list their zones (CNDNS) never put them in the inventory;
    /// ask those accounts directly whether they host this one, and remember the answer.
    async fn probe_unlisted_zone(&self, zone: &str) -> Result<Option<String>> {
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
            if let Ok(records) = dns.list_records(zone).await {
                let now = now_ms();
                let found = idcgate_core::Zone {
                    name: zone.to_string(),
                    upstream_id: None,
                    record_count: u32::try_from(records.len()).ok(),
                };
                let mut rows = vec![crate::sync::inventory_row(&account.name, &found, now)];
                rows.extend(records.iter().map(|r| record_row(&account.name, r, now)));
                self.store.upsert_resources(&rows).await?;
                return Ok(Some(account.name));
            }
        }
        Ok(None)
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
        Ok(records)
    }

    pub async fn dns_add(&self, actor: &str, zone: &str, input: &RecordInput) -> Result<DnsRecord> {
        let zone = &normalize_zone(zone)?;
        let (account, conn) = self.dns_of(zone).await?;
        let dns = dns_of_conn(conn.as_ref())?;
        let result = match dns.create_record(zone, input).await {
            // The answer was lost: read the zone instead of guessing or retrying.
            Err(lost @ idcgate_core::Error::UnknownOutcome { .. }) => {
                reconcile_created(dns, zone, input, lost).await
            }
            other => other.map_err(EngineError::from),
        };
        if let Ok(r) = &result {
            self.store
                .upsert_resources(&[record_row(&account, r, now_ms())])
                .await?;
        }
        self.audit(
            actor,
            "dns.add",
            &format!("{account}/{zone}"),
            &result,
            json_of,
        )
        .await;
        result
    }

    pub async fn dns_set(
        &self,
        actor: &str,
        zone: &str,
        id: &str,
        input: &RecordInput,
    ) -> Result<DnsRecord> {
        let zone = &normalize_zone(zone)?;
        let id = &normalize_record_id(id)?;
        let (account, conn) = self.dns_of(zone).await?;
        let dns = dns_of_conn(conn.as_ref())?;
        let result = match dns.update_record(zone, id, input).await {
            Err(e) => Err(self.gone_record(&account, dns, zone, id, e).await),
            Ok(r) => Ok(r),
        };
        if let Ok(r) = &result {
            let now = now_ms();
            let old_key = format!("{zone}/{id}");
            let new_row = record_row(&account, r, now);
            // Some upstreams give a modified record a new id.
            if new_row.key != old_key {
                self.store
                    .delete_resource(&account, ResourceKind::DnsRecord, &old_key, now)
                    .await?;
            }
            self.store.upsert_resources(&[new_row]).await?;
        }
        self.audit(
            actor,
            "dns.set",
            &format!("{account}/{zone}/{id}"),
            &result,
            json_of,
        )
        .await;
        result
    }

    pub async fn dns_remove(&self, actor: &str, zone: &str, id: &str) -> Result<()> {
        let zone = &normalize_zone(zone)?;
        let id = &normalize_record_id(id)?;
        let (account, conn) = self.dns_of(zone).await?;
        let dns = dns_of_conn(conn.as_ref())?;
        let result = match dns.delete_record(zone, id).await {
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
            Err(e) => Err(self.gone_record(&account, dns, zone, id, e).await),
            Ok(()) => Ok(()),
        };
        if result.is_ok() {
            self.store
                .delete_resource(
                    &account,
                    ResourceKind::DnsRecord,
                    &format!("{zone}/{id}"),
                    now_ms(),
                )
                .await?;
        }
        self.audit(
            actor,
            "dns.rm",
            &format!("{account}/{zone}/{id}"),
            &result,
            |_| "deleted".into(),
        )
        .await;
        result
    }

    pub async fn dns_enable(&self, actor: &str, zone: &str, id: &str, enabled: bool) -> Result<()> {
        let zone = &normalize_zone(zone)?;
        let id = &normalize_record_id(id)?;
        let (account, conn) = self.dns_of(zone).await?;
        let dns = dns_of_conn(conn.as_ref())?;
        let result = match dns.set_record_enabled(zone, id, enabled).await {
            Err(e) => Err(self.gone_record(&account, dns, zone, id, e).await),
            Ok(()) => Ok(()),
        };
        if result.is_ok() {
            let key = format!("{zone}/{id}");
            if let Some(mut row) = self
                .store
                .get_resource(&account, ResourceKind::DnsRecord, &key)
                .await?
            {
                if let Some(obj) = row.data.as_object_mut() {
                    obj.insert("enabled".into(), serde_json::Value::Bool(enabled));
                }
                row.last_seen_ms = now_ms();
                self.store.upsert_resources(&[row]).await?;
            }
        }
        let action = if enabled { "dns.enable" } else { "dns.disable" };
        self.audit(
            actor,
            action,
            &format!("{account}/{zone}/{id}"),
            &result,
            |_| "ok".into(),
        )
        .await;
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

    pub async fn server_op(&self, actor: &str, reference: &str, op: ServerOp) -> Result<Server> {
        let (account, id) = self.server_account(reference).await?;
        let conn = self.connection(&account).await?;
        let compute = conn
            .compute()
            .ok_or_else(|| idcgate_core::Error::Unsupported {
                vendor: conn.vendor().to_string(),
                capability: "compute".into(),
            })?;
        let result = match &op {
            ServerOp::Power(a) => compute.power(&id, *a).await,
            ServerOp::Reinstall { image } => compute.reinstall(&id, image).await,
            ServerOp::Password { password } => compute.reset_password(&id, password).await,
        }
        .map_err(EngineError::from);
        // Never log the new password: the audit says only what was done.
        self.audit(
            actor,
            &op.label(),
            &format!("{account}/{id}"),
            &result,
            |_| "ok".into(),
        )
        .await;
        result?;
        let server = compute.get_server(&id).await?;
        self.store
            .upsert_resources(&[server_row(&account, &server, now_ms())])
            .await?;
        Ok(server)
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
    /// state, see `SERVER_STATES`) if given. State lives inside the stored document, so
    /// it is matched here, once, for every surface.
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
            limit: None,
            offset: None,
            ..filter
        };
        let rows = self.store.list_resources(&filter).await?;
        Ok(rows
            .into_iter()
            .filter(|r| {
                state.is_none_or(|s| {
                    r.data["lifecycle"].as_str() == Some(s) || r.data["power"].as_str() == Some(s)
                })
            })
            .collect())
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
                    });
                    continue;
                }
            };
            let Some(b) = conn.billing() else { continue };
            match b.balance().await {
                // A vendor with no balance read (Zonkvm) has nothing to show.
                Err(idcgate_core::Error::Unsupported { .. }) => continue,
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
                    })
                }
                Err(e) => out.push(AccountBalance {
                    account: a.name,
                    vendor: a.vendor.to_string(),
                    balance: None,
                    error: Some(e.to_string()),
                }),
            }
        }
        Ok(out)
    }
}

fn json_of<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// After a lost answer to a create: the record exists upstream (the create happened) or
/// it does not (report the unknown outcome; a later sync will show if it lands).
async fn reconcile_created(
    dns: &dyn idcgate_core::capability::Dns,
    zone: &str,
    input: &RecordInput,
    lost: idcgate_core::Error,
) -> Result<DnsRecord> {
    let records = match dns.list_records(zone).await {
        Ok(r) => r,
        Err(_) => return Err(lost.into()),
    };
    let same = |r: &DnsRecord| {
        r.host.eq_ignore_ascii_case(&input.host)
            && r.rtype == input.rtype
            && r.value
                .trim_end_matches('.')
                .eq_ignore_ascii_case(input.value.trim_end_matches('.'))
            && r.line == input.line
    };
    records.into_iter().find(same).ok_or_else(|| lost.into())
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

/// The account's DNS capability, or the error that says it has none.
fn dns_of_conn(conn: &dyn idcgate_core::Connection) -> Result<&dyn idcgate_core::capability::Dns> {
    conn.dns().ok_or_else(|| {
        idcgate_core::Error::Unsupported {
            vendor: conn.vendor().to_string(),
            capability: "dns".into(),
        }
        .into()
    })
}
