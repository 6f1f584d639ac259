//! The simulator's state survives a save/load round trip.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::*;
use idcgate_xensystem::Sim;

#[tokio::test]
async fn snapshot_round_trip_keeps_vms_users_and_addresses() {
    let (sim, _srv, conn) = sandbox().await;
    let (id, ip) = create_vm(&conn, "persist01", &[]).await;
    conn.call_kv("vm_shutdown", &[("vpsid", "1")])
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("xs.json");
    sim.save_snapshot(&path).unwrap();

    let restored = Sim::load_snapshot(&path).unwrap();
    let srv2 = start(&restored).await;
    let conn2 = connect_with(
        &srv2,
        &idcgate_wire::Simulator::sandbox_credentials(&restored),
    );
    let vm = conn2.vm(id).await.unwrap();
    assert_eq!(
        (vm.vname.as_str(), vm.ip.as_str()),
        ("persist01", ip.as_str())
    );
    assert_eq!(conn2.vm_power_state(1).await.unwrap(), "Halted");
    assert!(!conn2.free_ips(1).await.unwrap().iter().any(|r| r.ip == ip));
    assert!(restored.user_credentials("alice2024").is_some());
    // Ids continue where they left off.
    let (next, _) = create_vm(&conn2, "persist02", &[]).await;
    assert_eq!(next, id + 1);

    std::fs::write(&path, b"{not json").unwrap();
    assert!(matches!(
        Sim::load_snapshot(&path),
        Err(idcgate_xensystem::SnapshotError::Format(_))
    ));
    assert!(matches!(
        Sim::load_snapshot(&dir.path().join("missing.json")),
        Err(idcgate_xensystem::SnapshotError::Io(_))
    ));
}
