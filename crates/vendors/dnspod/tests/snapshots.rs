//! Byte-exact pins of typical responses: key order, string-vs-number typing, compact
//! PHP-style JSON (non-ASCII as \uXXXX, `/` as `\/`), the XML shape, HTTP 200 and
//! `text/html;charset=UTF-8` even for errors. The requests run in order against one
//! simulator on a fixed clock, so ids and times are deterministic.

#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;
use common::*;
use idcgate_dnspod::Sim;

/// DNSPod's XML, one element a line, as one literal: `tag: "text"` is `<tag>text</tag>`,
/// `tag/` is `<tag/>`, `tag { .. }` puts what it holds between `<tag>` and `</tag>` lines.
macro_rules! xml {
    () => { "" };
    ($tag:ident : $text:literal $(, $($rest:tt)*)?) => {
        concat!("<", stringify!($tag), ">", $text, "</", stringify!($tag), ">\n", xml!($($($rest)*)?))
    };
    ($tag:ident / $(, $($rest:tt)*)?) => {
        concat!("<", stringify!($tag), "/>\n", xml!($($($rest)*)?))
    };
    ($tag:ident { $($inner:tt)* } $(, $($rest:tt)*)?) => {
        concat!("<", stringify!($tag), ">\n", xml!($($inner)*), "</", stringify!($tag), ">\n", xml!($($($rest)*)?))
    };
}

/// A whole XML answer: the declaration, then `<dnspod>` around `body` (see [`xml!`]).
macro_rules! xml_doc {
    ($($body:tt)*) => {
        concat!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", xml!(dnspod { $($body)* }))
    };
}

/// An XML success answered at the fixed clock: DNSPod's envelope around `body`.
macro_rules! xml_ok {
    ($($body:tt)*) => {
        xml_doc!(
            status { code: 1, message: "Action completed successful", created_at: "2026-01-02 11:04:05" },
            $($body)*
        )
    };
}

/// (label, method, form after the login token, expected body)
const CASES: &[(&str, &str, &str, &str)] = &[
    (
        "domain_create_json",
        "Domain.Create",
        "&format=json&domain=example.com",
        r#"{"status":{"code":"1","message":"Action completed successful","created_at":"2026-01-02 11:04:05"},"domain":{"id":"2238269","punycode":"example.com","domain":"example.com"}}"#,
    ),
    (
        "record_create_json",
        "Record.Create",
        "&format=json&domain=example.com&sub_domain=www&record_type=A&record_line=%E9%BB%98%E8%AE%A4&value=1.1.1.1",
        r#"{"status":{"code":"1","message":"Action completed successful","created_at":"2026-01-02 11:04:05"},"record":{"id":"16894441","name":"www","status":"enabled"}}"#,
    ),
    (
        "record_create_xml",
        "Record.Create",
        "&domain=example.com&sub_domain=mail&record_type=MX&record_line_id=0&value=mx.example.com.&mx=5&ttl=3600",
        xml_ok!(record { id: 16894442, name: "mail", status: "enabled" }),
    ),
    (
        "record_list_json",
        "Record.List",
        "&format=json&domain=example.com&sub_domain=www",
        r#"{"status":{"code":"1","message":"Action completed successful","created_at":"2026-01-02 11:04:05"},"domain":{"id":2238269,"name":"example.com","punycode":"example.com","grade":"DP_Free","owner":"owner@example.com","ext_status":"","ttl":600},"info":{"sub_domains":"4","record_total":"1"},"records":[{"id":"16894441","name":"www","line":"\u9ed8\u8ba4","line_id":"0","type":"A","ttl":"600","value":"1.1.1.1","weight":null,"mx":"0","enabled":"1","status":"enabled","monitor_status":"","remark":"","updated_on":"2026-01-02 11:04:05","use_aqb":"no"}]}"#,
    ),
    (
        "record_list_xml",
        "Record.List",
        "&domain=example.com&sub_domain=www",
        xml_ok!(
            domain {
                id: 2238269, name: "example.com", punycode: "example.com", grade: "DP_Free",
                owner: "owner@example.com", ext_status: "", ttl: 600
            },
            info { sub_domains: 4, record_total: 1 },
            records {
                item {
                    id: 16894441, name: "www", line: "<![CDATA[默认]]>", line_id: 0, type: "A",
                    ttl: 600, value: "1.1.1.1", weight/, mx: 0, enabled: 1, status: "enabled",
                    monitor_status: "", remark: "", updated_on: "2026-01-02 11:04:05",
                    use_aqb: "no"
                }
            }
        ),
    ),
    (
        "record_modify_json",
        "Record.Modify",
        "&format=json&domain=example.com&record_id=16894441&sub_domain=www&record_type=A&record_line_id=10%3D0&value=2.2.2.2",
        r#"{"status":{"code":"1","message":"Action completed successful","created_at":"2026-01-02 11:04:05"},"record":{"id":16894441,"name":"www","value":"2.2.2.2","status":"enable"}}"#,
    ),
    (
        "record_ddns_json",
        "Record.Ddns",
        "&format=json&domain=example.com&record_id=16894441&sub_domain=www&record_line_id=10%3D0&value=3.3.3.3",
        r#"{"status":{"code":"1","message":"Action completed successful","created_at":"2026-01-02 11:04:05"},"record":{"id":16894441,"name":"www","value":"3.3.3.3"}}"#,
    ),
    (
        "record_status_json",
        "Record.Status",
        "&format=json&domain=example.com&record_id=16894441&status=disable",
        r#"{"status":{"code":"1","message":"Action completed successful","created_at":"2026-01-02 11:04:05"},"record":{"id":16894441,"name":"www","status":"disable"}}"#,
    ),
    (
        "record_info_json",
        "Record.Info",
        "&format=json&domain=example.com&record_id=16894441",
        r#"{"status":{"code":"1","message":"Action completed successful","created_at":"2026-01-02 11:04:05"},"domain":{"id":2238269,"domain":"example.com","domain_grade":"DP_Free"},"record":{"id":"16894441","sub_domain":"www","record_type":"A","record_line":"\u7535\u4fe1","record_line_id":"10=0","value":"3.3.3.3","weight":null,"mx":"0","ttl":"600","enabled":"0","monitor_status":"","remark":"","updated_on":"2026-01-02 11:04:05","domain_id":"2238269"}}"#,
    ),
    (
        "domain_list_json",
        "Domain.List",
        "&format=json",
        r#"{"status":{"code":"1","message":"Action completed successful","created_at":"2026-01-02 11:04:05"},"info":{"domain_total":1,"all_total":1,"mine_total":1,"share_total":0,"vip_total":0,"ismark_total":0,"pause_total":0,"error_total":0,"lock_total":0,"spam_total":0,"vip_expire":0,"share_out_total":0},"domains":[{"id":2238269,"status":"enable","grade":"DP_Free","group_id":"1","searchengine_push":"yes","is_mark":"no","ttl":"600","cname_speedup":"disable","remark":"","created_on":"2026-01-02 11:04:05","updated_on":"2026-01-02 11:04:05","punycode":"example.com","ext_status":"","name":"example.com","grade_title":"\u514d\u8d39\u5957\u9910","is_vip":"no","owner":"owner@example.com","records":"4","auth_to_anquanbao":false}]}"#,
    ),
    (
        "domain_info_json",
        "Domain.Info",
        "&format=json&domain=example.com",
        r#"{"status":{"code":"1","message":"Action completed successful","created_at":"2026-01-02 11:04:05"},"domain":{"id":"2238269","name":"example.com","punycode":"example.com","grade":"DP_Free","grade_title":"\u514d\u8d39\u5957\u9910","status":"enable","ext_status":"","records":"4","group_id":"1","is_mark":"no","remark":false,"is_vip":"no","searchengine_push":"yes","user_id":"423255","created_on":"2026-01-02 11:04:05","updated_on":"2026-01-02 11:04:05","ttl":"600","cname_speedup":"disable","owner":"owner@example.com","auth_to_anquanbao":false}}"#,
    ),
    (
        "record_line_json",
        "Record.Line",
        "&format=json&domain=example.com&domain_grade=DP_Free",
        r#"{"status":{"code":"1","message":"Action completed successful","created_at":"2026-01-02 11:04:05"},"line_ids":{"\u9ed8\u8ba4":0,"\u56fd\u5185":"7=0","\u56fd\u5916":"3=0","\u7535\u4fe1":"10=0","\u8054\u901a":"10=1","\u6559\u80b2\u7f51":"10=2","\u79fb\u52a8":"10=3","\u767e\u5ea6":"90=0","\u8c37\u6b4c":"90=1","\u641c\u641c":"90=4","\u6709\u9053":"90=2","\u5fc5\u5e94":"90=3","\u641c\u72d7":"90=5","\u5947\u864e":"90=6","\u641c\u7d22\u5f15\u64ce":"80=0"},"lines":["\u9ed8\u8ba4","\u56fd\u5185","\u56fd\u5916","\u7535\u4fe1","\u8054\u901a","\u6559\u80b2\u7f51","\u79fb\u52a8","\u767e\u5ea6","\u8c37\u6b4c","\u641c\u641c","\u6709\u9053","\u5fc5\u5e94","\u641c\u72d7","\u5947\u864e","\u641c\u7d22\u5f15\u64ce"]}"#,
    ),
    (
        "record_type_xml",
        "Record.Type",
        "&domain_grade=D_Free",
        xml_ok!(types {
            item: "A", item: "CNAME", item: "MX", item: "TXT", item: "NS", item: "AAAA",
            item: "SRV", item: "URL"
        }),
    ),
    (
        "no_records_json",
        "Record.List",
        "&format=json&domain=example.com&sub_domain=nohost",
        r#"{"status":{"code":"10","message":"No records","created_at":"2026-01-02 11:04:05"},"domain":{"id":2238269,"name":"example.com","punycode":"example.com","grade":"DP_Free","owner":"owner@example.com","ext_status":"","ttl":600},"info":{"sub_domains":"4","record_total":"0"}}"#,
    ),
    (
        "not_exists_cn_json",
        "Domain.Info",
        "&format=json&lang=cn&domain=nope.com",
        r#"{"status":{"code":"13","message":"\u57df\u540d\u4e0d\u5b58\u5728","created_at":"2026-01-02 11:04:05"}}"#,
    ),
    (
        "info_version_xml",
        "Info.Version",
        "",
        xml_doc!(status { code: 1, message: "4.6", created_at: "2026-01-02 11:04:05" }),
    ),
    (
        "exists_json",
        "Record.Create",
        "&format=json&domain=example.com&sub_domain=mail&record_type=MX&record_line_id=0&value=mx.example.com.&mx=5&ttl=3600",
        r#"{"status":{"code":"31","message":"Domain record already exists","created_at":"2026-01-02 11:04:05"}}"#,
    ),
];

#[tokio::test]
async fn typical_responses_are_byte_exact() {
    let sim = fixed_sim();
    let (_, token) = sim.add_user("owner@example.com", "Passw0rd-1", false);
    let srv = serve(&sim).await;
    let base = srv.base_url();
    for (label, method, extra, expected) in CASES {
        let (status, content_type, body) =
            raw_post(&base, method, &format!("login_token={token}{extra}")).await;
        assert_eq!(status, 200, "{label}");
        assert_eq!(content_type, "text/html;charset=UTF-8", "{label}");
        assert_eq!(body, *expected, "{label}");
    }
    // The live login failure, byte for byte as seen from dnsapi.cn in XML (no
    // indentation, the ASCII message in CDATA) and as JSON.
    let token_id = token.split(',').next().unwrap();
    let (status, _, body) = raw_post(
        &base,
        "User.Detail",
        &format!("login_token={token_id},nope"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        xml_doc!(status {
            code: "-1",
            message: "<![CDATA[Login fail, please check login info]]>",
            created_at: "2026-01-02 11:04:05"
        })
    );
    let (_, _, body) = raw_post(&base, "User.Detail", "format=json&login_token=77,nope").await;
    assert_eq!(
        body,
        r#"{"status":{"code":"10002","message":"The login token ID is invalid","created_at":"2026-01-02 11:04:05"}}"#
    );
    assert_eq!(
        raw_get(&base, "Info.Version").await,
        r#"{"status":{"code":"2","message":"Post request only","created_at":"2026-01-02 11:04:05"}}"#
    );
}

/// Agent and account calls on the sandbox, in order; `{job}` is the last `job_id` seen.
/// The second Batch.Detail runs one simulated second later.
const SANDBOX_CASES: &[(&str, &str, &str, &str)] = &[
    (
        "user_list_xml",
        "User.List",
        "&length=2",
        xml_ok!(
            info { user_total: 3 },
            users {
                item { id: 423256, email: "zhang.wei@example.cn", status: "enabled", domains: 1, points: 0 },
                item { id: 423257, email: "li.na@example.cn", status: "enabled", domains: 0, points: 0 }
            }
        ),
    ),
    (
        "user_create_json",
        "User.Create",
        "&format=json&email=new%40example.cn&password=Secret-123&user_type=personal&real_name=%E7%8E%8B%E4%BA%94&telephone=13700001234&ip_addr=198.51.100.9",
        r#"{"status":{"code":"1","message":"Action completed successful","created_at":"2026-01-02 11:04:05"},"user":{"id":"423259"}}"#,
    ),
    (
        "user_detail_json",
        "User.Detail",
        "&format=json",
        r#"{"status":{"code":"1","message":"Action completed successful","created_at":"2026-01-02 11:04:05"},"info":{"user":{"real_name":"\u6c99\u7bb1\u7f51\u7edc\u79d1\u6280\u6709\u9650\u516c\u53f8","user_type":"enterprise","telephone":"13800138000","im":"","nick":"Sandbox Agent","id":"423255","email":"agent@sandbox.idcgate.test","status":"enabled","email_verified":"yes","telephone_verified":"yes","weixin_binded":"no","agent_pending":false,"balance":5000,"smsbalance":0,"user_grade":"DP_Free"}}}"#,
    ),
    (
        "upgrade_json",
        "Domain.Upgrade",
        "&format=json&domain=zhangwei.net&grade=D_Plus&term=2year&ip_addr=198.51.100.9&notice_email=",
        r#"{"status":{"code":"1","message":"Action completed successful","created_at":"2026-01-02 11:04:05"},"agent":{"user_id":"423255","discount":"80","points":1116,"balance":3883.2},"domain":{"domain_id":"2238271","domain":"zhangwei.net","grade":"D_Plus","term":"2year","vip_start_at":"2026-01-02","vip_end_at":"2028-01-01"},"bill":{"user_price":1396,"agent_price":"1116.8","journal_number":"2026010211PLU002YN9753"},"notice":{"title":"\u57df\u540d zhangwei.net \u7eed\u8d39 VIP \u670d\u52a1\u6210\u529f","content":"\u60a8\u7684\u57df\u540d zhangwei.net \u5df2\u7ecf\u6210\u529f\u7eed\u8d39\u4e3a\uff1a \u8c6a\u534e VIP \u5957\u9910-\u4e8c\u5e74\uff0cVIP \u670d\u52a1\u5230\u671f\u65e5\u671f\u4e3a 2028-01-01 \u3002","dns":"ns1.dnsv2.com \u548c ns2.dnsv2.com"}}"#,
    ),
    (
        "upgrade_broke_json",
        "Domain.Upgrade",
        "&format=json&domain=shop-example.cn&grade=D_Ultra&term=5year&ip_addr=198.51.100.9",
        r#"{"status":{"code":"13","message":"Balance insufficient","created_at":"2026-01-02 11:04:05"}}"#,
    ),
    (
        "lock_json",
        "Domain.Lock",
        "&format=json&domain=agent-status.com&days=3",
        r#"{"status":{"code":"1","message":"Action completed successful","created_at":"2026-01-02 11:04:05"},"lock":{"domain_id":2238270,"lock_code":"67312ab3a8","lock_end":"2026-01-05"}}"#,
    ),
    (
        "batch_json",
        "Batch.Domain.Create",
        "&format=json&domains=batch-a.com&record_value=192.0.2.1",
        r#"{"status":{"code":"1","message":"Action completed successful","created_at":"2026-01-02 11:04:05"},"job_id":"409754"}"#,
    ),
    (
        "batch_detail_json",
        "Batch.Detail",
        "&format=json&job_id={job}",
        r#"{"status":{"code":"1","message":"Action completed successful","created_at":"2026-01-02 11:04:05"},"detail":[{"id":0,"domain_id":"","domain":"batch-a.com","domain_grade":"DP_Free","err_msg":"","status":"running","operation":"plus","records":[{"id":0,"record_id":null,"sub_domain":"@","record_type":"A","area":"\u9ed8\u8ba4","value":"192.0.2.1","mx":"0","ttl":600,"err_msg":"","status":"running","operation":"plus"},{"id":1,"record_id":null,"sub_domain":"www","record_type":"A","area":"\u9ed8\u8ba4","value":"192.0.2.1","mx":"0","ttl":600,"err_msg":"","status":"running","operation":"plus"}]}],"total":3,"success":0,"fail":0,"type":"domain","created_at":"2026-01-02 11:04:05"}"#,
    ),
    (
        "batch_detail_later_json",
        "Batch.Detail",
        "&format=json&job_id={job}",
        r#"{"status":{"code":"1","message":"Action completed successful","created_at":"2026-01-02 11:04:06"},"detail":[{"id":0,"domain_id":"2238273","domain":"batch-a.com","domain_grade":"DP_Free","err_msg":"","status":"ok","operation":"plus","records":[{"id":0,"record_id":16894460,"sub_domain":"@","record_type":"A","area":"\u9ed8\u8ba4","value":"192.0.2.1","mx":"0","ttl":600,"err_msg":"","status":"ok","operation":"plus"},{"id":1,"record_id":16894461,"sub_domain":"www","record_type":"A","area":"\u9ed8\u8ba4","value":"192.0.2.1","mx":"0","ttl":600,"err_msg":"","status":"ok","operation":"plus"}]}],"total":3,"success":3,"fail":0,"type":"domain","created_at":"2026-01-02 11:04:05"}"#,
    ),
    (
        "share_list_empty_json",
        "Domainshare.List",
        "&format=json&domain=sandbox-agent.cn",
        r#"{"status":{"code":"7","message":"No shares","created_at":"2026-01-02 11:04:06"}}"#,
    ),
    (
        "domain_list_empty_json",
        "Domain.List",
        "&format=json&type=vip",
        r#"{"status":{"code":"9","message":"No domains","created_at":"2026-01-02 11:04:06"},"info":{"domain_total":0,"all_total":3,"mine_total":3,"share_total":0,"vip_total":0,"ismark_total":0,"pause_total":0,"error_total":0,"lock_total":1,"spam_total":0,"vip_expire":0,"share_out_total":0}}"#,
    ),
    (
        "domain_list_empty_no_json",
        "Domain.List",
        "&format=json&type=vip&error_on_empty=no",
        r#"{"status":{"code":"1","message":"Action completed successful","created_at":"2026-01-02 11:04:06"},"info":{"domain_total":0,"all_total":3,"mine_total":3,"share_total":0,"vip_total":0,"ismark_total":0,"pause_total":0,"error_total":0,"lock_total":1,"spam_total":0,"vip_expire":0,"share_out_total":0},"domains":[]}"#,
    ),
];

#[tokio::test]
async fn agent_and_batch_responses_are_byte_exact() {
    let sim = Sim::sandbox_at(start());
    let srv = serve(&sim).await;
    let base = srv.base_url();
    let auth = format!("login_token={SANDBOX_TOKEN}");
    let mut job = String::new();
    for (label, method, extra, expected) in SANDBOX_CASES {
        if *label == "batch_detail_later_json" {
            sim.advance(std::time::Duration::from_secs(1));
        }
        let extra = extra.replace("{job}", &job);
        let (status, _, body) = raw_post(&base, method, &format!("{auth}{extra}")).await;
        assert_eq!(status, 200, "{label}");
        assert_eq!(body, *expected, "{label}");
        if let Some(rest) = body.split(r#""job_id":""#).nth(1) {
            job = rest.split('"').next().unwrap().to_string();
        }
    }
}

#[tokio::test]
async fn monitor_responses_are_byte_exact() {
    let sim = Sim::sandbox_at(start());
    let srv = serve(&sim).await;
    let base = srv.base_url();
    let auth = sandbox_json();
    let (_, _, body) = raw_post(
        &base,
        "Monitor.Create",
        &format!("{auth}&domain_id=2238269&record_id=16894441&port=80&monitor_interval=60&host=sandbox-agent.cn&monitor_type=http&monitor_path=%2F&points=ctc%2Ccuc&bak_ip=pass"),
    )
    .await;
    assert_eq!(
        body,
        r#"{"status":{"code":"1","message":"Action completed successful","created_at":"2026-01-02 11:04:05"},"monitor":{"monitor_id":"47ef1b6e-9b0d-5bb2-4b09-3e65ac662e44","record_id":16894441}}"#
    );
    let (_, _, body) = raw_post(&base, "Monitor.List", &auth).await;
    assert_eq!(
        body,
        r#"{"status":{"code":"1","message":"Action completed successful","created_at":"2026-01-02 11:04:05"},"info":{"total_count":1,"down_count":0},"monitors":[{"monitor_id":"47ef1b6e-9b0d-5bb2-4b09-3e65ac662e44","domain":"sandbox-agent.cn","domain_id":"2238269","domain_grade":"DP_Free","record_id":"16894441","sub_domain":"@","record_line":"\u9ed8\u8ba4","ip":"203.0.113.10","now_ip":"203.0.113.10","host":"sandbox-agent.cn","port":"80","monitor_type":"http","monitor_path":"\/","monitor_interval":"60","points":"ctc,cuc","bak_ip":"pass","status":"Ok","status_code":200,"sms_notice":"me","email_notice":"me","less_notice":"no","callback_url":"","callback_key":"","monitor_status":"enabled","created_on":"2026-01-02 11:04:05","updated_on":"2026-01-02 11:04:05","bak_ip_status":[]}]}"#
    );
}

/// A field's type in DNSPod's JSON.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Json {
    Str,
    Num,
}
use Json::{Num, Str};

/// JSON pointers into an answer and the type each must hold there.
type Fields = &'static [(&'static str, Json)];

/// The string-vs-number table of the catalog notes, call by call, on the raw JSON: (method,
/// form after the login token with `{rid}`/`{job}` for the record and job seen last, the
/// fields and their types). Batch.Detail runs two simulated seconds after the job starts.
#[rustfmt::skip]
const TYPING: &[(&str, &str, Fields)] = &[
    ("Domaingroup.Create", "&user_id=423258&group_name=g1", &[("/groups/id", Str)]),
    ("Domaingroup.List", "&user_id=423258", &[("/groups/0/group_id", Num), ("/groups/0/size", Num)]),
    ("Domainalias.Create", "&user_id=423258&domain_id=2238272&domain=alias-typing.cn", &[("/alias/id", Str)]),
    ("Domainalias.List", "&user_id=423258&domain_id=2238272", &[("/alias/0/id", Str)]),
    ("Domain.Info", "&user_id=423258&domain_id=2238272", &[("/domain/group_id", Str), ("/domain/user_id", Str)]),
    ("User.Detail", "", &[("/info/user/id", Str)]),
    ("Monitor.Listsubdomain", "&domain=agent-status.com", &[("/domain/id", Num)]),
    ("Monitor.Listsubvalue", "&domain=agent-status.com&subdomain=%40", &[("/domain/id", Num), ("/records/0/id", Str)]),
    ("Record.Info", "&domain=agent-status.com&record_id={rid}", &[("/domain/id", Num), ("/record/domain_id", Str), ("/record/id", Str), ("/record/ttl", Str)]),
    ("Batch.Record.Modify", "&record_id={rid}&change=ttl&change_to=1200", &[("/job_id", Str)]),
    ("Batch.Detail", "&job_id={job}", &[("/total", Num), ("/detail/0/id", Num), ("/detail/0/records/0/record_id", Num)]),
    ("Record.Status", "&domain=agent-status.com&record_id={rid}&status=enable", &[("/record/id", Num)]),
];

#[tokio::test]
async fn id_typing_follows_the_live_api_per_call() {
    let sim = Sim::sandbox_at(start());
    let srv = serve(&sim).await;
    let auth = sandbox_json();
    let (mut rid, mut job) = (String::new(), String::new());
    for (method, extra, fields) in TYPING {
        if *method == "Batch.Detail" {
            sim.advance(std::time::Duration::from_secs(2));
        }
        let extra = extra.replace("{rid}", &rid).replace("{job}", &job);
        let (_, _, body) = raw_post(&srv.base_url(), method, &format!("{auth}{extra}")).await;
        let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(doc["status"]["code"], "1", "{method}: {body}");
        for (ptr, want) in *fields {
            let got = match doc.pointer(ptr) {
                Some(v) if v.is_string() => Some(Str),
                Some(v) if v.is_number() => Some(Num),
                _ => None,
            };
            assert_eq!(got, Some(*want), "{method}: {ptr} in {doc}");
        }
        if let Some(id) = doc.pointer("/records/0/id").and_then(|v| v.as_str()) {
            rid = id.to_string();
        }
        if let Some(id) = doc["job_id"].as_str() {
            job = id.to_string();
        }
    }
}
