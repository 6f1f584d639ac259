//! Identity enforcement, credential hygiene and fault handling.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::*;
use idcgate_core::Error;
use idcgate_wire::Simulator;
use std::time::Duration;

#[tokio::test]
async fn bad_system_key_and_unknown_users_are_authentication_errors() {
    let sim = idcgate_xensystem::Sim::sandbox();
    let srv = start(&sim).await;
    let mut creds = sim.sandbox_credentials();
    creds[2].1 = "wrong-system-key".into();
    let conn = connect_with(&srv, &creds);
    let err = conn.vms().await.unwrap_err();
    assert!(matches!(err, Error::Authentication { .. }), "{err:?}");
    assert!(!err.to_string().contains("wrong-system-key"));

    let user = [
        ("identity".to_string(), "user".to_string()),
        ("api_username".into(), "nobody99".into()),
        ("api_key".into(), "k-123456".into()),
    ];
    assert!(matches!(
        connect_with(&srv, &user).vms().await,
        Err(Error::Authentication { .. })
    ));

    // An identity the panel does not know is refused before anything is sent.
    let bad = [
        ("identity".to_string(), "root".to_string()),
        ("api_username".into(), "x".into()),
        ("api_key".into(), "y".into()),
    ];
    let acct = account(&srv.base_url(), &bad);
    assert!(matches!(
        idcgate_xensystem::connect(&acct, &wire(Duration::from_secs(5))),
        Err(Error::InvalidInput { .. })
    ));
    let no_key = [
        ("identity".to_string(), "system".to_string()),
        ("api_username".into(), "x".into()),
    ];
    let missing = account(&srv.base_url(), &no_key);
    assert!(matches!(
        idcgate_xensystem::connect(&missing, &wire(Duration::from_secs(5))),
        Err(Error::InvalidInput { ref field, .. }) if field == "credentials.api_key"
    ));
}

#[tokio::test]
async fn user_level_keys_see_and_touch_only_their_own_vms() {
    let (sim, srv, conn) = sandbox().await;
    let alice = user_conn(&sim, &srv, "alice2024");
    let mine = alice.vms().await.unwrap();
    assert_eq!(mine.len(), 3);
    assert!(mine.iter().all(|v| v.userid == ALICE));
    // VM 4 is bob's: it does not exist for alice, whatever she tries.
    assert!(matches!(alice.vm(4).await, Err(Error::NotFound { .. })));
    for cmd in ["vm_shutdown", "vm_state", "vm_backup#list", "vm_vif#list"] {
        assert!(
            matches!(
                alice.call_kv(cmd, &[("vpsid", "4")]).await,
                Err(Error::NotFound { .. })
            ),
            "{cmd}"
        );
    }
    assert!(matches!(
        alice
            .call_kv("vm_info", &[("userid", "1002")])
            .await
            .map(|v| v.as_array().map(Vec::len)),
        Ok(Some(0))
    ));
    assert_eq!(
        conn.vm_power_state(4).await.unwrap(),
        "Running",
        "bob's VM untouched"
    );
    assert!(matches!(
        alice.user_info(BOB).await,
        Err(Error::NotFound { .. })
    ));
    let install = alice.tasks(3).await.unwrap();
    assert_eq!(install.len(), 1);
    let bob = user_conn(&sim, &srv, "bobhosting");
    assert!(bob.tasks(3).await.unwrap().is_empty());
    assert!(matches!(
        bob.task_progress(install[0].taskid).await,
        Err(Error::NotFound { .. })
    ));

    // System-only commands are refused at user level and change nothing.
    let before = conn.vms().await.unwrap().len();
    let err = alice
        .call_kv("vm_create", &create_params("1001", "1", "sneaky001"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Authentication { .. }), "{err:?}");
    assert!(matches!(
        alice.call_kv("vm_delete", &[("vpsid", "1")]).await,
        Err(Error::Authentication { .. })
    ));
    assert!(matches!(
        alice.call_kv("user_delete", &[("userid", "1002")]).await,
        Err(Error::Authentication { .. })
    ));
    assert_eq!(conn.vms().await.unwrap().len(), before);
    // Her own VM she may drive.
    alice
        .call_kv("vm_shutdown", &[("vpsid", "1")])
        .await
        .unwrap();
    assert_eq!(conn.vm_power_state(1).await.unwrap(), "Halted");
}

#[tokio::test]
async fn a_caller_cannot_override_the_connections_identity() {
    let (sim, srv, _conn) = sandbox().await;
    let alice = user_conn(&sim, &srv, "alice2024");
    for key in ["identity", "API_KEY", "api_username", "Action"] {
        let err = alice
            .call_kv("vm_info", &[(key, "system")])
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidInput { field, .. } if field == key),
            "{key}: {err:?}"
        );
    }
    assert_eq!(alice.vms().await.unwrap().len(), 3);
}

#[tokio::test]
async fn required_params_are_checked_from_the_spec_before_sending() {
    let (_sim, _srv, conn) = sandbox().await;
    assert!(matches!(
        conn.call_kv("vm_start", &[]).await,
        Err(Error::InvalidInput { ref field, .. }) if field == "vpsid"
    ));
    assert!(matches!(
        conn.call_kv("vm_start", &[("vpsid", "abc")]).await,
        Err(Error::InvalidInput { ref field, .. }) if field == "vpsid"
    ));
    assert!(
        matches!(conn.call_kv("vm_fly", &[]).await, Err(Error::InvalidInput { ref field, .. }) if field == "action")
    );
    assert!(matches!(
        conn.call_kv("vm_start", &[("vpsid", "999")]).await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn secrets_stay_out_of_debug_and_errors() {
    let (sim, _srv, conn) = sandbox().await;
    let key = sim.sandbox_credentials()[2].1.clone();
    assert!(!format!("{conn:?}").contains(&key));
    let err = conn
        .call_kv("vm_start", &[("vpsid", "999")])
        .await
        .unwrap_err();
    assert!(!format!("{err:?}").contains(&key));
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_an_unknown_outcome_and_readable_after() {
    let sim = idcgate_xensystem::Sim::sandbox();
    let srv = start(&sim).await;
    let acct = account(&srv.base_url(), &sim.sandbox_credentials());
    let conn = idcgate_xensystem::connect(&acct, &wire(Duration::from_millis(500))).unwrap();
    srv.faults.update(|f| f.drop_next = 1);
    let params: Vec<(String, String)> = create_params("1001", "1", "lostanswer1")
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let err = conn.call("vm_create", &params).await.unwrap_err();
    assert!(
        matches!(err, Error::UnknownOutcome { ref action, .. } if action == "xensystem:vm_create"),
        "{err:?}"
    );
    // Reconcile by reading: the VM was committed.
    let found = conn
        .call("vm_info", &vec![("userid".to_string(), "1001".to_string())])
        .await
        .unwrap();
    let names: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["vname"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"lostanswer1"), "{names:?}");
}

#[tokio::test]
async fn malformed_bodies_are_transport_errors_on_reads_and_unknown_on_writes() {
    let (_sim, srv, conn) = sandbox().await;
    srv.faults.update(|f| f.malformed_next = 1);
    let err = conn.vms().await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    // The next read is clean again.
    assert_eq!(conn.vms().await.unwrap().len(), 6);
    srv.faults.update(|f| f.malformed_next = 1);
    let err = conn
        .call_kv("vm_shutdown", &[("vpsid", "1")])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownOutcome { .. }), "{err:?}");
    srv.faults.update(|f| f.error_next = 1);
    assert!(matches!(conn.vms().await, Err(Error::Transport { .. })));
}
