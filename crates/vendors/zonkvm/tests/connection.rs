//! The public entry points as the engine uses them: `connect`, `Connection::call` with
//! flat sub-fields, the capabilities served, and credential handling.

#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::*;
use idcgate_core::{Capabilities, Capability, Error};
use idcgate_wire::Simulator;
use std::time::Duration;

#[tokio::test]
async fn connect_serves_compute_hosting_and_databases() {
    let (sim, srv) = served().await;
    let creds = sim.sandbox_credentials();
    let keys: Vec<&str> = creds.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [idcgate_zonkvm::CRED_APPID, idcgate_zonkvm::CRED_APPKEY]
    );
    let conn = idcgate_zonkvm::connect(
        &account(&srv.base_url(), &creds),
        &wire(Duration::from_secs(5)),
    )
    .unwrap();
    assert_eq!(
        Capabilities::of(conn.as_ref()),
        [
            Capability::Compute,
            Capability::WebHosting,
            Capability::Databases,
            Capability::Billing,
            Capability::Purchasing
        ]
    );
    let params: Vec<(String, String)> = [
        ("line_guid", LINE_DY),
        ("system_guid", CENTOS),
        ("content.cpu", "4"),
        ("content.ram", "8"),
        ("order_id", "call-1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let v = conn
        .call("zonkvm:create_order#create_server", &params)
        .await
        .unwrap();
    let id = v["ids"][0].as_i64().unwrap().to_string();
    let s = conn
        .call("getserver", &vec![("guid".into(), format!("server_{id}"))])
        .await
        .unwrap();
    assert_eq!(
        (s["cpu"].as_i64(), s["memory"].as_i64()),
        (Some(4), Some(8))
    );
    let err = conn.call("no_such_action", &vec![]).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { ref field, .. } if field == "action"));
}

#[tokio::test]
async fn missing_credentials_are_named() {
    let err = idcgate_zonkvm::connect(
        &account("http://127.0.0.1:9", &[("appid".into(), "1".into())]),
        &wire(Duration::from_secs(1)),
    )
    .err()
    .unwrap();
    assert!(matches!(err, Error::InvalidInput { ref field, .. } if field == "credentials.appkey"));
}
