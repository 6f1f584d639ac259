//! The simulator's world: accounts (agents and their users), domains, records, groups,
//! shares, aliases, locks, logs, batch jobs and the abuse counters. Plain data; the
//! rules live in the handler modules.

use idcgate_wire::sim::{Clock, SimState};
use jiff::Timestamp;
use std::collections::{BTreeMap, HashMap};

/// Grade rules. Lines and types are what `Record.Line` / `Record.Type` report.
#[derive(Debug)]
pub struct Grade {
    pub code: &'static str,
    pub title: &'static str,
    pub enterprise: bool,
    pub vip: bool,
    pub records_max: usize,
    pub min_ttl: u32,
    /// Records of one type on one name and line (round-robin / load balance).
    pub round_robin: usize,
    pub sub_levels: usize,
    pub alias_max: usize,
    pub share_max: usize,
    pub lock_days: u32,
    pub url_max: usize,
    pub types: &'static [&'static str],
    pub extra_lines: bool,
}

const FREE_TYPES: &[&str] = &["A", "CNAME", "MX", "TXT", "NS", "AAAA", "SRV", "URL"];
const VIP_TYPES: &[&str] = &["A", "CNAME", "MX", "TXT", "NS", "AAAA", "SRV", "URL", "CAA"];

/// One tier's limits; the old (`D_`) and current (`DP_`) grades of a tier share them.
macro_rules! tier {
    ($ent:expr, $vip:expr, $max:expr, $ttl:expr, $rr:expr, $lv:expr, $al:expr, $sh:expr, $lock:expr, $url:expr, $types:expr, $lines:expr) => {
        Grade {
            code: "",
            title: "",
            enterprise: $ent,
            vip: $vip,
            records_max: $max,
            min_ttl: $ttl,
            round_robin: $rr,
            sub_levels: $lv,
            alias_max: $al,
            share_max: $sh,
            lock_days: $lock,
            url_max: $url,
            types: $types,
            extra_lines: $lines,
        }
    };
}

const FREE: Grade = tier!(false, false, 500, 600, 2, 2, 0, 2, 30, 5, FREE_TYPES, false);
const PLUS: Grade = tier!(false, true, 5000, 300, 10, 4, 3, 10, 60, 30, VIP_TYPES, true);
const EXTRA: Grade = tier!(false, true, 10000, 120, 20, 5, 5, 20, 90, 50, VIP_TYPES, true);
const EXPERT: Grade = tier!(true, true, 20000, 60, 30, 5, 10, 50, 180, 100, VIP_TYPES, true);
const ULTRA: Grade = tier!(true, true, 50000, 1, 50, 10, 20, 100, 365, 200, VIP_TYPES, true);
/// The DP_ family sells this tier as an enterprise grade.
const EXTRA_ENTERPRISE: Grade = Grade {
    enterprise: true,
    ..EXTRA
};

/// A grade: a tier's limits under the grade's own code and title.
const fn named(code: &'static str, title: &'static str, tier: Grade) -> Grade {
    Grade {
        code,
        title,
        ..tier
    }
}

pub static GRADES: &[Grade] = &[
    named("D_Free", "旧免费套餐", FREE),
    named("D_Plus", "豪华 VIP 套餐", PLUS),
    named("D_Extra", "超级 VIP 套餐", EXTRA),
    named("D_Expert", "专业 VIP 套餐", EXPERT),
    named("D_Ultra", "旗舰 VIP 套餐", ULTRA),
    named("DP_Free", "免费套餐", FREE),
    named("DP_Plus", "个人专业版", PLUS),
    named("DP_Extra", "企业创业版", EXTRA_ENTERPRISE),
    named("DP_Expert", "企业标准版", EXPERT),
    named("DP_Ultra", "企业旗舰版", ULTRA),
];

fn grade_is_vip(code: &str) -> bool {
    grade(code).is_some_and(|g| g.vip)
}

pub fn grade(code: &str) -> Option<&'static Grade> {
    GRADES.iter().find(|g| g.code == code)
}

/// Lines every grade has (the documented D_Free list, in its order).
pub const BASE_LINES: &[(&str, &str)] = &[
    ("默认", "0"),
    ("国内", "7=0"),
    ("国外", "3=0"),
    ("电信", "10=0"),
    ("联通", "10=1"),
    ("教育网", "10=2"),
    ("移动", "10=3"),
    ("百度", "90=0"),
    ("谷歌", "90=1"),
    ("搜搜", "90=4"),
    ("有道", "90=2"),
    ("必应", "90=3"),
    ("搜狗", "90=5"),
    ("奇虎", "90=6"),
    ("搜索引擎", "80=0"),
];

/// Province and continent lines of the VIP grades.
pub const VIP_LINES: &[(&str, &str)] = &[
    ("北京", "7=1"),
    ("上海", "7=2"),
    ("广东", "7=3"),
    ("亚洲", "3=1"),
    ("欧洲", "3=2"),
];

pub fn lines_of(g: &Grade) -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    let extra = g.extra_lines;
    BASE_LINES
        .iter()
        .chain(VIP_LINES.iter().filter(move |_| extra))
}

/// An agent's VIP products: name, type, title, yearly price in fen.
pub const PRODUCTS: &[(&str, &str, &str, i64)] = &[
    ("D_Plus", "personal", "豪华 VIP 套餐", 69_800),
    ("D_Extra", "personal", "超级 VIP 套餐", 169_800),
    ("D_Expert", "enterprise", "专业 VIP 套餐", 199_800),
    ("D_Ultra", "enterprise", "旗舰 VIP 套餐", 399_800),
];

pub const TERMS: &[(&str, &str, u32)] = &[
    ("1year", "一年", 1),
    ("2year", "二年", 2),
    ("3year", "三年", 3),
    ("4year", "四年", 4),
    ("5year", "五年", 5),
];

pub const SYSTEM_GROUPS: &[(u64, &str)] = &[
    (1, "默认分组"),
    (2, "经常修改"),
    (3, "很少修改"),
    (4, "即将到期"),
    (5, "私人域名"),
    (6, "公司域名"),
    (7, "客户域名"),
    (8, "与我共享"),
];

#[derive(Debug, Clone)]
pub struct Agent {
    /// Percent of the list price the agent pays.
    pub discount: u32,
    pub balance_fen: i64,
    pub points: i64,
}

/// `Debug` shows no password, token or D令牌 secret.
#[derive(Clone)]
pub struct Account {
    pub id: u64,
    pub email: String,
    pub password: String,
    pub user_type: String,
    pub real_name: String,
    pub nick: String,
    pub telephone: String,
    pub im: String,
    pub id_card: String,
    pub status: String,
    pub email_verified: bool,
    pub telephone_verified: bool,
    pub agent: Option<Agent>,
    pub under_agent: Option<u64>,
    pub tokens: Vec<(u64, String)>,
    /// D令牌 secret; `Some` = the account has the D-token switched on.
    pub dtoken: Option<String>,
    /// Remembered D-token cookies (`t<id>` values) and their expiry.
    pub remembered: Vec<(String, Timestamp)>,
    pub password_history: Vec<String>,
    pub phone_code: Option<String>,
    pub groups: Vec<(u64, String)>,
    pub logs: Vec<String>,
    pub balance_fen: i64,
    pub sms_balance: i64,
}

idcgate_core::debug_shows!(Account: id, email, agent, under_agent);

impl Account {
    pub fn new(id: u64, email: &str, password: &str, user_type: &str) -> Self {
        Account {
            id,
            email: email.to_string(),
            password: password.to_string(),
            user_type: user_type.to_string(),
            real_name: String::new(),
            nick: String::new(),
            telephone: String::new(),
            im: String::new(),
            id_card: String::new(),
            status: "enabled".into(),
            email_verified: false,
            telephone_verified: false,
            agent: None,
            under_agent: None,
            tokens: Vec::new(),
            dtoken: None,
            remembered: Vec::new(),
            password_history: vec![password.to_string()],
            phone_code: None,
            groups: Vec::new(),
            logs: Vec::new(),
            balance_fen: 0,
            sms_balance: 0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Record {
    pub id: u64,
    pub name: String,
    pub line: String,
    pub line_id: String,
    pub rtype: String,
    pub ttl: u32,
    pub value: String,
    pub mx: u32,
    pub weight: Option<u32>,
    pub enabled: bool,
    pub remark: String,
    pub updated_on: Timestamp,
    /// The two default NS records: shown with `"hold":"hold"`, not removable.
    pub hold: bool,
    /// Times of modifications that changed nothing (abuse rule).
    pub noop_mods: Vec<Timestamp>,
    pub locked_until: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct Share {
    pub email: String,
    pub mode: String,
    pub sub_domain: Option<String>,
    pub status: String,
}

#[derive(Debug, Clone)]
pub struct Domain {
    pub id: u64,
    pub name: String,
    pub owner: u64,
    pub grade: &'static str,
    pub status: &'static str,
    pub group_id: u64,
    pub is_mark: bool,
    pub remark: String,
    pub searchengine_push: bool,
    pub ttl: u32,
    pub created_on: Timestamp,
    pub updated_on: Timestamp,
    pub records: BTreeMap<u64, Record>,
    pub aliases: Vec<(u64, String)>,
    pub shares: Vec<Share>,
    pub lock: Option<(String, Timestamp)>,
    pub logs: Vec<String>,
    pub vip: Option<(jiff::civil::Date, jiff::civil::Date)>,
}

#[derive(Debug, Clone)]
pub struct JobRecord {
    pub record_id: Option<u64>,
    pub sub_domain: String,
    pub record_type: String,
    pub area: String,
    pub value: String,
    pub mx: u32,
    pub ttl: u32,
    pub status: &'static str,
    pub err_msg: String,
}

#[derive(Debug, Clone)]
pub struct JobDomain {
    pub domain_id: Option<u64>,
    pub domain: String,
    pub domain_grade: String,
    pub status: &'static str,
    pub err_msg: String,
    pub records: Vec<JobRecord>,
}

#[derive(Debug, Clone)]
pub enum JobOp {
    DomainCreate,
    RecordAdd,
    RecordModify {
        change: String,
        change_to: String,
        value: String,
        mx: String,
    },
}

#[derive(Debug, Clone)]
pub struct Job {
    pub id: u64,
    pub owner: u64,
    pub op: JobOp,
    pub created: Timestamp,
    pub ip: String,
    pub items: Vec<JobDomain>,
    pub done: usize,
}

/// A D监控 monitor on one A record.
#[derive(Debug, Clone)]
pub struct Monitor {
    pub id: String,
    pub owner: u64,
    pub domain_id: u64,
    pub record_id: u64,
    pub port: u16,
    pub interval: u32,
    pub host: String,
    pub monitor_type: String,
    pub path: String,
    pub points: String,
    pub bak_ip: String,
    pub keep_ttl: bool,
    pub sms_notice: String,
    pub email_notice: String,
    pub less_notice: bool,
    pub callback_url: String,
    pub callback_key: String,
    pub enabled: bool,
    pub created: Timestamp,
    pub updated: Timestamp,
    /// Outages: (start, reason `short|long`), newest last.
    pub downs: Vec<(Timestamp, String)>,
}

#[derive(Debug, Default, Clone)]
pub struct State {
    /// The simulator's "now" (moved by `Sim::set_now`/`advance` and `/__sim/clock`).
    pub clock: Clock,
    pub accounts: BTreeMap<u64, Account>,
    pub by_email: HashMap<String, u64>,
    pub by_token: HashMap<u64, u64>,
    pub domains: BTreeMap<u64, Domain>,
    pub by_name: HashMap<String, u64>,
    pub record_domain: HashMap<u64, u64>,
    pub jobs: BTreeMap<u64, Job>,
    pub monitors: BTreeMap<String, Monitor>,
    pub login_failures: HashMap<String, Vec<Timestamp>>,
    pub login_bans: HashMap<String, Timestamp>,
    /// Pending domain retrievals: domain -> (requesting account, whois email, code).
    pub acquires: HashMap<String, (u64, String, String)>,
    pub next_account: u64,
    pub next_domain: u64,
    pub next_record: u64,
    pub next_misc: u64,
    pub requests: u64,
    /// Every `Domain.Upgrade` charge, oldest first: the agent's bills.
    pub bills: Vec<Bill>,
}

/// One `Domain.Upgrade` bill: what the agent paid (its `agent_price`) and for what.
#[derive(Debug, Clone)]
pub struct Bill {
    pub agent: u64,
    pub journal_number: String,
    /// `升级域名 <zone> 到 <grade> <term>`, as the agent's log has it.
    pub memo: String,
    pub agent_price_fen: i64,
}

impl SimState for State {
    fn clock(&mut self) -> &mut Clock {
        &mut self.clock
    }
}

impl State {
    pub fn new() -> Self {
        State {
            next_account: 423_255,
            next_domain: 2_238_269,
            next_record: 16_894_439,
            next_misc: 409_752,
            ..Default::default()
        }
    }

    pub fn add_account(&mut self, mut acc: Account) -> u64 {
        if acc.id == 0 {
            acc.id = self.next_account;
            self.next_account += 1;
        }
        let id = acc.id;
        self.by_email.insert(acc.email.to_ascii_lowercase(), id);
        for (tid, _) in &acc.tokens {
            self.by_token.insert(*tid, id);
        }
        self.accounts.insert(id, acc);
        id
    }

    pub fn misc_id(&mut self) -> u64 {
        self.next_misc += 1;
        self.next_misc
    }

    /// A new domain with the two held NS records every DNSPod zone starts with.
    pub fn add_domain(
        &mut self,
        name: &str,
        owner: u64,
        grade: &'static str,
        now: Timestamp,
    ) -> u64 {
        let id = self.next_domain;
        self.next_domain += 1;
        let mut d = Domain {
            id,
            name: name.to_string(),
            owner,
            grade,
            status: "enable",
            group_id: 1,
            is_mark: false,
            remark: String::new(),
            searchengine_push: true,
            ttl: 600,
            created_on: now,
            updated_on: now,
            records: BTreeMap::new(),
            aliases: Vec::new(),
            shares: Vec::new(),
            lock: None,
            logs: Vec::new(),
            vip: None,
        };
        for ns in ["f1g1ns1.dnspod.net.", "f1g1ns2.dnspod.net."] {
            let rid = self.next_record;
            self.next_record += 1;
            d.records.insert(
                rid,
                new_record(rid, "@", "NS", ns, "默认", "0", 86400, 0, now, true),
            );
            self.record_domain.insert(rid, id);
        }
        if grade_is_vip(grade) {
            // Seeded VIP domains come with a year of VIP service from today.
            let today = now
                .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
                .date();
            let end = today
                .checked_add(jiff::Span::new().days(364))
                .unwrap_or(today);
            d.vip = Some((today, end));
        }
        self.by_name.insert(name.to_string(), id);
        self.domains.insert(id, d);
        id
    }

    pub fn add_record(&mut self, domain_id: u64, mut rec: Record) -> u64 {
        let rid = self.next_record;
        self.next_record += 1;
        rec.id = rid;
        if let Some(d) = self.domains.get_mut(&domain_id) {
            d.records.insert(rid, rec);
            self.record_domain.insert(rid, domain_id);
        }
        rid
    }
}

#[allow(clippy::too_many_arguments)]
pub fn new_record(
    id: u64,
    name: &str,
    rtype: &str,
    value: &str,
    line: &str,
    line_id: &str,
    ttl: u32,
    mx: u32,
    now: Timestamp,
    hold: bool,
) -> Record {
    Record {
        id,
        name: name.to_string(),
        line: line.to_string(),
        line_id: line_id.to_string(),
        rtype: rtype.to_string(),
        ttl,
        value: value.to_string(),
        mx,
        weight: None,
        enabled: true,
        remark: String::new(),
        updated_on: now,
        hold,
        noop_mods: Vec::new(),
        locked_until: None,
    }
}
