//! The unified `Compute` capability over the simulator.

#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::*;
use idcgate_core::{
    Capabilities, Capability, Error, LifecycleState, PowerAction, PowerState, Resize, ServerSpec,
};
use idcgate_wire::Simulator;
use std::time::Duration;

#[tokio::test]
async fn catalog_maps_groups_templates_and_presets() {
    let (_sim, srv, _conn) = sandbox().await;
    let sim_creds = idcgate_xensystem::Sim::sandbox().sandbox_credentials();
    let conn = idcgate_xensystem::connect(
        &account(&srv.base_url(), &sim_creds),
        &wire(Duration::from_secs(5)),
    )
    .unwrap();
    assert_eq!(Capabilities::of(conn.as_ref()), vec![Capability::Compute]);
    let compute = conn.compute().unwrap();
    let cat = compute.catalog().await.unwrap();
    assert_eq!(
        cat.regions
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>(),
        vec!["1", "2"]
    );
    // Group 1 offers all five templates, group 2 three.
    assert_eq!(
        cat.images
            .iter()
            .filter(|i| i.region.as_deref() == Some("1"))
            .count(),
        5
    );
    assert_eq!(
        cat.images
            .iter()
            .filter(|i| i.region.as_deref() == Some("2"))
            .count(),
        3
    );
    assert_eq!(cat.plans.len(), 4);
}

#[tokio::test]
async fn list_and_get_map_status_and_power() {
    let (sim, _srv, conn) = sandbox().await;
    let compute: &dyn idcgate_core::capability::Compute = &conn;
    let all = compute.list_servers().await.unwrap();
    assert_eq!(all.len(), sim.vm_count());
    let by_id = |id: &str| all.iter().find(|s| s.upstream_id == id).unwrap().clone();
    let web = by_id("1");
    assert_eq!(
        (web.power, web.lifecycle),
        (PowerState::Running, LifecycleState::Active)
    );
    assert_eq!(
        (web.cpu, web.ram_mb, web.ips.clone()),
        (2, 2048, vec!["103.45.12.10".to_string()])
    );
    assert_eq!(web.region.as_deref(), Some("1"));
    assert_eq!(by_id("2").power, PowerState::Stopped);
    assert_eq!(by_id("3").lifecycle, LifecycleState::Provisioning);
    assert_eq!(by_id("5").lifecycle, LifecycleState::Expired);
    assert_eq!(by_id("6").lifecycle, LifecycleState::Locked);
    assert_eq!(compute.get_server("4").await.unwrap().name, "hkblog01");
    assert!(matches!(
        compute.get_server("404").await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        compute.get_server("abc").await,
        Err(Error::InvalidInput { .. })
    ));
}

#[tokio::test]
async fn create_power_resize_reinstall_password_delete() {
    let (sim, _srv, conn) = sandbox().await;
    let compute: &dyn idcgate_core::capability::Compute = &conn;
    let spec = server_spec("capvm0001", "2", "2", "xs-2c2g", "1002");
    let s = compute.create_server(&spec).await.unwrap();
    assert_eq!(
        (s.lifecycle, s.cpu, s.ram_mb, s.region.as_deref()),
        (LifecycleState::Provisioning, 2, 2048, Some("2"))
    );
    assert!(s.ips[0].starts_with("45.119.80."));
    finish_tasks(&sim);
    let s = compute.get_server(&s.upstream_id).await.unwrap();
    assert_eq!(
        (s.lifecycle, s.power),
        (LifecycleState::Active, PowerState::Running)
    );
    let id = s.upstream_id.clone();

    for (action, after) in [
        (PowerAction::Stop, PowerState::Stopped),
        (PowerAction::Start, PowerState::Running),
        (PowerAction::ForceStop, PowerState::Stopped),
        (PowerAction::ForceReboot, PowerState::Running),
    ] {
        compute.power(&id, action).await.unwrap();
        let power = compute.get_server(&id).await.unwrap().power;
        assert_eq!(power, after, "after {action:?}");
    }
    let vpsid: i64 = id.parse().unwrap();
    sim.advance(Duration::from_secs(600));
    compute.power(&id, PowerAction::Reboot).await.unwrap();
    assert!(uptime(&conn, vpsid).await < 600, "reboot restarted the VM");

    compute
        .resize(
            &id,
            &Resize {
                cpu: Some(4),
                ram_mb: Some(8192),
                bandwidth_mbps: Some(20),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let s = compute.get_server(&id).await.unwrap();
    assert_eq!((s.cpu, s.ram_mb, s.bandwidth_mbps), (4, 8192, 20));

    compute.reinstall(&id, "4").await.unwrap();
    let s = compute.get_server(&id).await.unwrap();
    assert_eq!(
        (s.os_image.as_deref(), s.lifecycle),
        (Some("4"), LifecycleState::Provisioning)
    );
    finish_tasks(&sim);
    compute.reset_password(&id, "Fresh#Pass9").await.unwrap();
    // Template 4 is a V1 template: the panel picks the password itself.
    assert_ne!(sim.vm_password(vpsid).unwrap(), "Fresh#Pass9");
    compute.reinstall(&id, "1").await.unwrap();
    finish_tasks(&sim);
    compute.reset_password(&id, "Fresh#Pass9").await.unwrap();
    assert_eq!(sim.vm_password(vpsid).unwrap(), "Fresh#Pass9");

    let ip = compute.get_server(&id).await.unwrap().ips[0].clone();
    compute.delete_server(&id).await.unwrap();
    assert!(matches!(
        compute.get_server(&id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(conn.free_ips(3).await.unwrap().iter().any(|r| r.ip == ip));

    let no_owner = ServerSpec {
        owner: None,
        ..spec.clone()
    };
    assert!(
        matches!(compute.create_server(&no_owner).await, Err(Error::InvalidInput { ref field, .. }) if field == "owner")
    );
    let bad_name = ServerSpec {
        name: "cap-vm".into(),
        ..spec
    };
    assert!(
        matches!(compute.create_server(&bad_name).await, Err(Error::InvalidInput { ref field, .. }) if field == "name")
    );
}

#[tokio::test]
async fn console_and_backups() {
    let (sim, srv, conn) = sandbox().await;
    sim.set_now("2026-11-24T19:00:00Z".parse().unwrap()); // 03:00 China time
    let compute: &dyn idcgate_core::capability::Compute = &conn;
    let c = compute.console("1").await.unwrap();
    assert!(
        c.url
            .starts_with(&format!("{}/console.html?cc=", srv.base_url())),
        "{}",
        c.url
    );
    assert_eq!(c.expires_at.unwrap().to_string(), "2026-11-24T19:15:00Z");
    assert_eq!(conn.console_state(1).await.unwrap().state, 1);

    compute.create_backup("1", "nightly", false).await.unwrap();
    compute.create_backup("1", "weekly", true).await.unwrap();
    let list = compute.list_backups("1").await.unwrap();
    assert_eq!(
        list.iter()
            .map(|b| (b.name.as_str(), b.full))
            .collect::<Vec<_>>(),
        vec![("nightly", false), ("weekly", true)]
    );
    assert_eq!(
        list[0].created_at.unwrap().to_string(),
        "2026-11-24T19:00:00Z"
    );
    compute.restore_backup("1", &list[0].id).await.unwrap();
    assert_eq!(
        compute.get_server("1").await.unwrap().lifecycle,
        LifecycleState::Provisioning
    );
    compute.delete_backup("1", &list[1].id).await.unwrap();
    assert_eq!(compute.list_backups("1").await.unwrap().len(), 1);
}

#[tokio::test]
async fn bulk_seeding_lists_every_vm() {
    let (sim, _srv, conn) = sandbox().await;
    sim.seed_bulk_vms(5000);
    assert_eq!(sim.vm_count(), 5006);
    let compute: &dyn idcgate_core::capability::Compute = &conn;
    let all = compute.list_servers().await.unwrap();
    assert_eq!(all.len(), 5006);
    let mut ips: Vec<&str> = all.iter().map(|s| s.ips[0].as_str()).collect();
    ips.sort_unstable();
    ips.dedup();
    assert_eq!(ips.len(), 5006, "every VM has its own address");
}
