//! The sandbox world and bulk data, inserted directly (no logs, no answers).

use super::state::{self, Account, Agent, State};

/// Sandbox agent account (see [`super::Sim::sandbox`]).
pub const SANDBOX_EMAIL: &str = "agent@sandbox.idcgate.test";
const SANDBOX_PASSWORD: &str = "Sandbox-Agent-2026";
const SANDBOX_TOKEN_ID: u64 = 10_001;
const SANDBOX_TOKEN: &str = "5f1d0c2a9be34e7f8a6b2c4d6e8f0a1b";

/// (name, owner, grade, records as (host, type, line, value)).
type SeedDomain<'a> = (
    &'a str,
    u64,
    &'static str,
    &'a [(&'a str, &'a str, &'a str, &'a str)],
);

/// The sandbox agent's `login_token`.
pub fn sandbox_token() -> String {
    format!("{SANDBOX_TOKEN_ID},{SANDBOX_TOKEN}")
}

/// The sandbox agent's login and agent terms (80% discount, 5000 yuan).
fn sandbox_agent() -> Account {
    let mut a = Account::new(0, SANDBOX_EMAIL, SANDBOX_PASSWORD, "enterprise");
    a.tokens.push((SANDBOX_TOKEN_ID, SANDBOX_TOKEN.into()));
    a.agent = Some(Agent {
        discount: 80,
        balance_fen: 500_000,
        points: 0,
    });
    a
}

pub fn sandbox(st: &mut State) {
    let now = st.clock.now();
    let mut agent = sandbox_agent();
    agent.real_name = "沙箱网络科技有限公司".into();
    agent.nick = "Sandbox Agent".into();
    agent.telephone = "13800138000".into();
    agent.email_verified = true;
    agent.telephone_verified = true;
    let agent_id = st.add_account(agent);
    let users = [
        ("zhang.wei@example.cn", "personal", "张伟", "13912345678"),
        ("li.na@example.cn", "personal", "李娜", "13687654321"),
        (
            "ops@shop-example.cn",
            "enterprise",
            "示例商城有限公司",
            "13500001111",
        ),
    ];
    let mut user_ids = Vec::new();
    for (email, ty, name, tel) in users {
        let mut u = Account::new(0, email, "User-Pass-2026", ty);
        u.real_name = name.into();
        u.telephone = tel.into();
        u.under_agent = Some(agent_id);
        u.email_verified = true;
        user_ids.push(st.add_account(u));
    }
    let seeds: [SeedDomain; 4] = [
        (
            "sandbox-agent.cn",
            agent_id,
            "DP_Free",
            &[
                ("@", "A", "默认", "203.0.113.10"),
                ("www", "CNAME", "默认", "sandbox-agent.cn."),
                ("@", "MX", "默认", "mx.sandbox-agent.cn."),
            ],
        ),
        (
            "agent-status.com",
            agent_id,
            "DP_Free",
            &[
                ("@", "A", "电信", "203.0.113.20"),
                ("@", "A", "联通", "198.51.100.20"),
                ("@", "TXT", "默认", "v=spf1 -all"),
            ],
        ),
        (
            "zhangwei.net",
            user_ids[0],
            "DP_Free",
            &[
                ("@", "A", "默认", "198.51.100.7"),
                ("blog", "A", "默认", "198.51.100.8"),
            ],
        ),
        (
            "shop-example.cn",
            user_ids[2],
            "DP_Extra",
            &[
                ("@", "A", "默认", "203.0.113.80"),
                ("www", "A", "默认", "203.0.113.80"),
                ("api", "AAAA", "默认", "2001:db8::80"),
            ],
        ),
    ];
    for (name, owner, grade, recs) in seeds {
        let did = st.add_domain(name, owner, grade, now);
        for (host, ty, line, value) in recs {
            let line_id = state::BASE_LINES
                .iter()
                .find(|(n, _)| n == line)
                .map_or("0", |(_, id)| id);
            let mx = if *ty == "MX" { 10 } else { 0 };
            let rec = state::new_record(0, host, ty, value, line, line_id, 600, mx, now, false);
            st.add_record(did, rec);
        }
    }
}

/// `domains` domains with `records_per_domain` A records each, owned by the sandbox
/// agent (created if the world has none).
pub fn bulk(st: &mut State, domains: usize, records_per_domain: usize) {
    let now = st.clock.now();
    let owner = match st.by_email.get(SANDBOX_EMAIL) {
        Some(id) => *id,
        None => st.add_account(sandbox_agent()),
    };
    let base = st.next_domain;
    for i in 0..domains {
        let name = format!("bulk{}-{i}.com", base);
        let did = st.add_domain(&name, owner, "DP_Ultra", now);
        for r in 0..records_per_domain {
            let value = format!("10.{}.{}.{}", (r >> 16) & 255, (r >> 8) & 255, r & 255);
            let host = format!("h{r}");
            let rec = state::new_record(0, &host, "A", &value, "默认", "0", 600, 0, now, false);
            st.add_record(did, rec);
        }
    }
}
