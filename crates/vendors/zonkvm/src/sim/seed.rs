//! The sandbox: catalogs shaped like the document's examples, a funded reseller account
//! with credit, and a few orders of every kind bought through the real rules (so the
//! ledger and balances agree from the start).

use super::state::*;
use super::Zonk;
use axum::http::Method;
use idcgate_wire::sim::{Host, Incoming};
use serde_json::{json, Value};

pub(crate) const APPID: &str = "10086";
pub(crate) const APPKEY: &str = "zk_sandbox_4f9c2a7e5b1d8c3a";

const ZONE_DY: &str = "1696639073705350";
const ZONE_MS: &str = "1698529778685045";
const ZONE_ZJ: &str = "20250407014442321900";
pub(crate) const LINE_DY: &str = "1696808021765605";
const LINE_SX: &str = "20250407014442321990";
const LINE_CLOSED: &str = "1698529778685100";
const SYS_WIN: &str = "1659170726623836";
const SYS_CENTOS: &str = "1659170791658716";
const SYS_UBUNTU: &str = "1701234567890123";
const LEASE_LINE: &str = "1661580261164386";
const LEASE_PRODUCT: &str = "1721941250649658";
const IDC_LINE: &str = "20250409132657673520";
const IDC_PRODUCT: &str = "20250409132727581219";
const HOST_LINE: &str = "20250409132657673528";
const HOST_A: &str = "20250408030033590712";
const SQL_A: &str = "20250407053315151712";
const MONTHS: &str = "1,2,3,4,5,6,7,8,9,12,24,36";

fn system(
    type_id: i64,
    guid: &str,
    name: &str,
    login: &str,
    mirror: &str,
    limits: (i64, i64),
    zones: &[&str],
) -> Value {
    json!({
        "type_id": type_id, "status": 1, "guid": guid, "name": name, "login_name": login,
        "login_password": "***", "port": "23543", "mirror_name": mirror, "cpu_limit": limits.0,
        "ram_limit": limits.1, "type": "create,install", "system_harddisk": 40,
        "support": "server,lease,idc", "lines": json!(zones).to_string(), "sort": 10,
        "create_time": "2022-07-30 14:45:26", "update_time": "2025-03-31 14:33:41",
        // zone_names is worked out from `lines` when served.
        "type_name": if type_id == 1 { "Windows" } else { "Linux" }, "zone_names": "",
    })
}

fn cloud_line(id: i64, guid: &str, zone: &str, name: &str, open_api: i64) -> Value {
    json!({
        "guid": guid, "line_guid": zone, "name": name, "descript": format!("{name}数据中心,自动过白"),
        "introUrl": "", "buyStatus": 1, "upgradeStatus": 1, "renewStatus": 1, "harddiskMinNum": 1,
        "harddiskMaxNum": 6, "harddiskMinSize": 0, "harddiskMaxSize": 1000, "harddiskStep": 10,
        "harddiskPrice": "0.50", "harddisk_free_size": 0, "bandwidthMinSize": 5, "bandwidthMaxSize": 300,
        "bandwidth_free_size": 10, "bandwidth_in_type": 1, "bandwidth_in_value": 10,
        "bandwidth6Price": "9.00", "bandwidth_stairs_price": "[]", "defenseMinSize": 5,
        "defenseMaxSize": 100, "defenseFreeSize": 5, "defensePrice": "2.00", "months": MONTHS,
        "status": 1, "markup": "1.00",
        "discount": "[{\"month\":\"1\",\"discount\":\"1\"},{\"month\":\"12\",\"discount\":\"0.9\"}]",
        "lines_product_type": "1", "_open_api": open_api, "_id": id,
    })
}

fn package(name: &str, cpu: i64, memory: i64, price: &str, line: &str, sort: i64) -> Value {
    json!({
        "name": name, "cpu": cpu, "memory": memory, "systemdisk": 40, "harddisk": 0, "ipnum": 1,
        "bandwidth": 5, "defense": 5, "price": price, "description": "采用华为防火墙,上层封UDP协议",
        "sort": sort, "status": 1, "lines_guid": line,
    })
}

fn catalog() -> Catalog {
    let mut php = std::collections::BTreeMap::new();
    php.insert(
        HOST_LINE.to_string(),
        ["56", "74", "80", "81", "82"].map(String::from).to_vec(),
    );
    Catalog {
        zones: vec![
            json!({"status": 1, "guid": ZONE_DY, "name": "德阳电信", "identityStatus": 1, "whiteListStatus": 0, "sort": 111}),
            json!({"status": 0, "guid": ZONE_MS, "name": "眉山二区", "identityStatus": 1, "whiteListStatus": 0, "sort": 16}),
            json!({"status": 1, "guid": ZONE_ZJ, "name": "绍兴BGP", "identityStatus": 1, "whiteListStatus": 1, "sort": 12}),
        ],
        systems: vec![
            system(
                1,
                SYS_WIN,
                "2016 数据中心版 64位",
                "administrator",
                "Win2016_40",
                (2, 2),
                &[ZONE_DY, ZONE_ZJ],
            ),
            system(
                2,
                SYS_CENTOS,
                "CentOS 7.9 64位",
                "root",
                "CentOS7.9_40",
                (0, 0),
                &[ZONE_DY, ZONE_ZJ],
            ),
            system(
                2,
                SYS_UBUNTU,
                "Ubuntu 22.04 64位",
                "root",
                "Ubuntu22.04_40",
                (0, 0),
                &[ZONE_ZJ],
            ),
        ],
        lines: vec![
            cloud_line(26, LINE_DY, ZONE_DY, "德阳电信", 1),
            cloud_line(31, LINE_SX, ZONE_ZJ, "绍兴BGP", 1),
            cloud_line(40, LINE_CLOSED, ZONE_MS, "眉山二区", 0),
        ],
        packages: vec![
            package("德阳电信-1核1G", 1, 1, "29.00", LINE_DY, 30),
            package("德阳电信-2核4G", 2, 4, "79.00", LINE_DY, 29),
            package("德阳电信-4核8G", 4, 8, "149.00", LINE_DY, 28),
            package("绍兴BGP- A型", 4, 8, "168.00", LINE_SX, 23),
            package("绍兴BGP- B型", 8, 8, "208.00", LINE_SX, 22),
        ],
        lease_lines: vec![json!({
            "guid": LEASE_LINE, "line_guid": ZONE_DY, "status": 1, "name": "德阳电信",
            "descript": "德阳电信高防,全网互通,单机600G防护", "intro_url": "", "buy_status": 1,
            "renew_status": 1, "upgrade_status": 1, "defense_status": 1, "buy_order_max_num": 20,
            "bandwidth_price": "16.00", "bandwidth_stairs_price": "[]", "bandwidth_max_size": 1000,
            "ip_price": "100.00", "ip_min_size": 1, "ip_max_size": 100, "ip_free_size": 1,
            "ip_num_list": "1,4,8,16,32,64", "defense_price": "0.00", "defense_max_size": 600,
            "defense_num_list": "100,200,300,400,500,600", "defense_step": 100, "months": MONTHS,
            "retention_days": 7, "discount1": "0.95", "discount2": "0.90", "discount3": "0.85",
            "life_time": 4464, "bandwidth_share_size": 0, "bandwidth_share_price": "0.00",
            "release_hour": 48, "ip_upgrade_type": "1", "user_vnc": 1, "bandwidth_in_type": 1,
            "bandwidth_in_value": 30, "bandwidth_step": 10, "ip_bandwidth_rate": "0",
        })],
        lease_disks: vec![
            json!({"guid": "1658944863134013", "type": "SSD", "size": 500, "status": 1}),
            json!({"guid": "1658944863134014", "type": "SATA", "size": 2000, "status": 1}),
        ],
        lease_products: vec![json!({
            "product_type": "local", "guid": LEASE_PRODUCT, "name": "基础型 24核16G(ESSD)",
            "line_guid": LEASE_LINE, "cpu_value": 24, "cpu": "E5-2620v2", "cpu_num": 2,
            "memory": "DDR3-ECC", "memory_num": 16, "ipnum": "1", "bandwidth": 30, "defense": 100,
            "main_board": "Intel C602", "price": "550.00", "size": 1, "description": "入门级双路服务器",
            "status": 1, "upgrade_status": 1, "line_names": "德阳电信",
            "cpu_max_num": 2, "memory_max_num": 128, "harddisk_guid": "1658944863134013,1658944863134014",
            "harddisk_max_num": 4, "system_partition_size": 40, "system_partition_support": "1",
            "raid_tips": "支持RAID0/1/5/10", "recommend_status": 0, "stock_type": 1, "cpu_threads": 24,
            "gpu": "",
        })],
        idc_lines: vec![json!({
            "guid": IDC_LINE, "line_guid": ZONE_ZJ, "status": 1, "name": "温州BGP", "descript": "温州BGP高防机房",
            "bandwidth_price": "10.00", "bandwidth_stairs_price": "[]", "bandwidth_max_size": 1000,
            "ip_price": "300.00", "ip_min_size": 1, "ip_max_size": 100, "ip_free_size": 1,
            "ip_num_list": "1,4,8,16,32,64", "defense_price": "0.00", "defense_max_size": 600,
            "defense_num_list": "100,200,300,400,500,600", "defense_step": 100, "months": MONTHS,
            "retention_days": 7, "discount1": "0.00", "discount2": "0.00", "discount3": "0.00",
            "buy_status": 1, "sort": 0,
        })],
        idc_products: vec![json!({
            "product_type": 1, "guid": IDC_PRODUCT, "name": "1U", "line_guid": IDC_LINE,
            "power": "[{\"name\":\"0.5A/220V\",\"price\":\"0.00\"},{\"name\":\"1A/220V\",\"price\":\"100.00\"}]",
            "bandwidth": 50, "defense": 5, "ipnum": "1", "price": "800.00", "size": "1U",
            "description": "1U标准机架式服务器托管", "status": 1, "market_status": 1, "line_names": "温州BGP",
            "stock_type": 1, "sort": 0, "server_group": "",
        })],
        hosting_lines: vec![json!({
            "guid": HOST_LINE, "name": "浙江专线二区", "domain": "jhgf.gyhost.cn", "ip": "61.164.174.128",
            "status": 1, "stock": 1, "descript": "浙江BGP多线虚拟主机线路", "cname": "jhgf.gyhost.cn",
            "sort": 0, "white": 0, "renew": 1, "retention_days": 30,
        })],
        hosting_products: vec![
            hosting_product(HOST_A, "防劫持IP空间-A型", "80.00", 200, 100),
            hosting_product(
                "20250408030033590713",
                "防劫持IP空间-B型",
                "150.00",
                500,
                200,
            ),
        ],
        php_versions: php,
        sql_products: vec![
            sql_product(SQL_A, "云数据库1G-A型", "28.00", 1000),
            sql_product("20250407053315151713", "云数据库2G-B型", "48.00", 2000),
        ],
    }
}

fn hosting_product(guid: &str, name: &str, price: &str, disk: i64, db: i64) -> Value {
    json!({
        "guid": guid, "name": name, "lines_guid": HOST_LINE, "desc": "入门型虚拟主机", "price": price,
        "months": MONTHS, "discount": "[{\"month\":12,\"discount\":85},{\"month\":24,\"discount\":75}]",
        "disk": disk, "db": db, "domain": 5, "domainsub": 10, "flow": 30, "max_flow": 100, "up_flow": 10,
        "up_flow_price": "5.00", "def": 1, "buy_limit": 0, "is_limit_rate": 0, "perserver": 0, "perip": 0,
        "limit_rate": 0, "timeout": 0, "sort": 0, "stock": 1, "status": 1, "suggest": 0, "upgradation": 1,
        "line_names": "浙江专线二区",
    })
}

fn sql_product(guid: &str, name: &str, price: &str, db: i64) -> Value {
    json!({
        "guid": guid, "name": name, "lines_guid": HOST_LINE, "desc": "入门型云数据库,适合小型网站",
        "price": price, "months": MONTHS, "discount": "[{\"month\":12,\"discount\":85},{\"month\":24,\"discount\":75}]",
        "db": db, "buy_limit": 0, "timeout": 0, "sort": 0, "stock": 1, "status": 1, "suggest": 0,
        "upgradation": 1, "line_names": "浙江专线二区",
    })
}

/// Buys through the same pipeline a client's request goes through.
fn order(host: &Host<Zonk>, fields: &[(&str, &str)]) {
    let mut all: Vec<(String, String)> = vec![
        ("appid".into(), APPID.into()),
        ("appkey".into(), APPKEY.into()),
        ("action".into(), "create_order".into()),
    ];
    all.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    // The seed is fixed data against a fixed catalog; a refusal is a seed bug that the
    // sandbox tests catch by counting orders.
    let _ = host.answer(&Incoming::new(Method::POST, "/api/same/index", all));
}

pub(crate) fn sandbox(host: &Host<Zonk>) {
    host.with_state(|st| {
        st.catalog = catalog();
        st.account.balance_fen = 5_000_000;
        st.account.credit_fen = 100_000;
    });
    order(
        host,
        &[
            ("obj_type", "create_server"),
            ("order_id", "seed-s1"),
            ("line_guid", LINE_DY),
            ("system_guid", SYS_CENTOS),
            (
                "content",
                r#"{"cpu":2,"ram":4,"bandwidth":10,"harddisksValues":"40,60","defense":5,"months":3}"#,
            ),
        ],
    );
    order(
        host,
        &[
            ("obj_type", "create_server"),
            ("order_id", "seed-s2"),
            ("line_guid", LINE_SX),
            ("system_guid", SYS_WIN),
            (
                "content",
                r#"{"cpu":4,"ram":8,"bandwidth":5,"harddisksValues":"40","defense":5}"#,
            ),
        ],
    );
    order(
        host,
        &[
            ("obj_type", "create_lease"),
            ("order_id", "seed-l1"),
            ("line_guid", LEASE_LINE),
            ("product_guid", LEASE_PRODUCT),
            ("system_guid", SYS_CENTOS),
            ("content", r#"{"bandwidth":30,"defense":100,"ip_num":1}"#),
        ],
    );
    order(
        host,
        &[
            ("obj_type", "create_idc"),
            ("order_id", "seed-i1"),
            ("line_guid", IDC_LINE),
            ("product_guid", IDC_PRODUCT),
            (
                "content",
                r#"{"bandwidth":50,"power":"0.5A/220V","defense":5,"ipnum":1}"#,
            ),
        ],
    );
    order(
        host,
        &[
            ("obj_type", "create_hosting"),
            ("order_id", "seed-h1"),
            ("line_guid", HOST_LINE),
            ("product_guid", HOST_A),
            ("prefix", "shop"),
            (
                "content",
                r#"{"program":"php","program_version":"php81","db":"mysql","code":"utf8","months":12}"#,
            ),
        ],
    );
    order(
        host,
        &[
            ("obj_type", "create_database"),
            ("order_id", "seed-d1"),
            ("line_guid", HOST_LINE),
            ("product_guid", SQL_A),
            ("prefix", "crm"),
            ("content", r#"{"db":"1000","code":"utf8mb4"}"#),
        ],
    );
    // One server the owner has shut down.
    host.with_state(|st| {
        if let Some(s) = st.servers.values_mut().nth(1) {
            s.base.run_status = -1;
        }
    });
}

/// `n` more running cloud servers on the first line, without charges (benchmarks).
pub(crate) fn bulk_servers(st: &mut State, n: usize) {
    let now = st.now();
    for _ in 0..n {
        let id = st.alloc("server");
        let base = Base::new(id, now, 1, 2900, 2900);
        st.servers.insert(
            id,
            Cloud {
                base,
                line_guid: LINE_DY.into(),
                line_id: 26,
                system_guid: SYS_CENTOS.into(),
                ip: format!(
                    "103.{}.{}.{}",
                    40 + id / 65536 % 200,
                    id / 256 % 256,
                    id % 256
                ),
                local_ip: format!("10.{}.{}.{}", id / 65536 % 256, id / 256 % 256, id % 256),
                cpu: 1,
                memory: 1,
                harddisks: "40".into(),
                bandwidth: 5,
                in_bandwidth: 10,
                defense: 5,
                login_name: "root".into(),
                login_password: format!("Bulk{id:08}"),
                act_status: 0,
                vnc_port: 5900 + id % 1000,
                vnc_password: format!("v{id}"),
                login_port: 23543,
                policies: Vec::new(),
            },
        );
    }
}
