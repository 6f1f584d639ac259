//! Server groups, servers, templates, IP blocks and addresses.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::*;
use idcgate_core::Error;

#[tokio::test]
async fn groups_servers_and_templates() {
    let (_sim, _srv, conn) = sandbox().await;
    let groups = conn.server_groups().await.unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].servercount, 2);
    let one = conn
        .call_kv("server_groups", &[("groupid", "2")])
        .await
        .unwrap();
    assert_eq!(one[0]["groupname"], "香港-CN2");
    assert!(matches!(
        conn.call_kv("server_groups", &[("groupid", "9")]).await,
        Err(Error::NotFound { .. })
    ));

    assert_eq!(conn.servers(&[]).await.unwrap().len(), 3);
    let hz = conn.servers(&[1]).await.unwrap();
    assert_eq!(
        hz.iter().map(|s| s.serverid).collect::<Vec<_>>(),
        vec![1, 2]
    );
    let v = conn
        .call_kv(
            "server_info",
            &[
                ("serverid", "0"),
                ("servergroups", "1,2"),
                ("quantity", "2"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    let before = conn.servers(&[2]).await.unwrap()[0].vmcount;
    create_vm_on(&conn, 3).await;
    assert_eq!(conn.servers(&[2]).await.unwrap()[0].vmcount, before + 1);

    assert_eq!(conn.os_templates(1).await.unwrap().len(), 5);
    let hk = conn.os_templates(3).await.unwrap();
    assert_eq!(hk.iter().map(|t| t.osid).collect::<Vec<_>>(), vec![1, 2, 4]);
    let v = conn
        .call_kv(
            "server_os_templates",
            &[("serverid", "1"), ("osids", "2,4")],
        )
        .await
        .unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    let v = conn
        .call_kv("server_os_templates", &[("serverid", "1"), ("osid", "4")])
        .await
        .unwrap();
    assert_eq!(v[0]["version"], 1);
}

async fn create_vm_on(conn: &idcgate_xensystem::XensystemClient, serverid: i64) -> i64 {
    let sid = serverid.to_string();
    let v = conn
        .call_kv("vm_create", &create_params("1002", &sid, "extra0001"))
        .await
        .unwrap();
    fields(&v)[0].parse().unwrap()
}

#[tokio::test]
async fn ip_blocks_and_lists_track_usage() {
    let (_sim, _srv, conn) = sandbox().await;
    let blocks = conn.ip_blocks(3).await.unwrap();
    assert_eq!(blocks.len(), 2);
    let public = &blocks[0];
    assert_eq!(
        (public.ipcount, public.freecount, public.shared),
        (21, 19, 0)
    );
    assert_eq!(blocks[1].shared, 1);
    let by_ip = conn
        .call_kv("ip_blocks", &[("serverid", "3"), ("ip", "192.168.80.105")])
        .await
        .unwrap();
    assert_eq!(by_ip[0]["blockid"], blocks[1].blockid);
    let by_id = conn
        .call_kv(
            "ip_blocks",
            &[
                ("serverid", "3"),
                ("blockid", &blocks[0].blockid.to_string()),
            ],
        )
        .await
        .unwrap();
    assert_eq!(by_id.as_array().unwrap().len(), 1);

    let all = conn.call_kv("ip_list", &[("serverid", "3")]).await.unwrap();
    assert_eq!(all.as_array().unwrap().len(), 42);
    let free = conn.free_ips(3).await.unwrap();
    assert_eq!(free.len(), 40);
    let id = create_vm_on(&conn, 3).await;
    assert_eq!(conn.free_ips(3).await.unwrap().len(), 39);
    assert_eq!(conn.ip_blocks(3).await.unwrap()[0].freecount, 18);
    let mine = conn
        .call_kv("ip_list", &[("vpsid", &id.to_string())])
        .await
        .unwrap();
    assert_eq!(mine[0]["ip"], free[0].ip.as_str());
    let ipid = mine[0]["ipid"].to_string();
    let one = conn.call_kv("ip_list", &[("ipid", &ipid)]).await.unwrap();
    assert_eq!(one[0]["vpsid"], id);
}
