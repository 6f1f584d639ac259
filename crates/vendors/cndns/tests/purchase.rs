//! Purchasing against the CNDNS simulator: for every (kind, operation) sold, the quote is
//! what the purchase takes from the balance, settling reads what happened (after a
//! purchase, after none, after an answer lost once the upstream committed), and a short
//! balance is refused without changing anything.
#![allow(clippy::unwrap_used)] // a test may fail loudly

use idcgate_cndns::sim::SAMPLE_HOST_2C2G;
use idcgate_cndns::Sim;
use idcgate_core::purchase::{Operation, PurchaseRequest, Settled};
use idcgate_core::{Error, Money, PowerState, ResourceKind};
use idcgate_wire::testing;
use serde_json::Value;
use std::time::Duration;

idcgate_wire::vendor_env!(Sim, idcgate_cndns::connect);

/// What a case needs before its purchase: a built 橙云 host, stopped for an upgrade, or
/// hosting with three years left (so an upgrade is charged for each of them).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Needs {
    Nothing,
    Host,
    StoppedHost,
    Hosting,
}

struct Case {
    what: &'static str,
    /// Text of the purchase's own request (its page), which a fault can target.
    sent: &'static str,
    needs: Needs,
    /// The request, given the host `Needs` made ("" when none).
    request: fn(&str) -> PurchaseRequest,
}

fn req(kind: ResourceKind, op: Operation, target: &str, months: u32) -> PurchaseRequest {
    PurchaseRequest::new(kind, op, target).months(months)
}

fn with(mut r: PurchaseRequest, options: &[(&str, &str)]) -> PurchaseRequest {
    for (k, v) in options {
        r = r.option(*k, *v);
    }
    r
}

/// The sandbox's sample host with its system password.
fn new_host() -> Vec<(&'static str, &'static str)> {
    [SAMPLE_HOST_2C2G, &[("password", "Strong!Pass1")]].concat()
}

const CASES: [Case; 10] = [
    Case {
        what: "register a domain",
        sent: "CreateDom.aspx",
        needs: Needs::Nothing,
        request: |_| {
            req(
                ResourceKind::Domain,
                Operation::Create,
                "purchase-new.com",
                24,
            )
        },
    },
    Case {
        what: "renew a domain",
        sent: "DomainRenew.aspx",
        needs: Needs::Nothing,
        request: |_| {
            req(
                ResourceKind::Domain,
                Operation::Renew,
                "idcgate-demo.com",
                12,
            )
        },
    },
    Case {
        what: "transfer a domain in",
        sent: "domainzhuanru.aspx",
        needs: Needs::Nothing,
        request: |_| {
            let r = req(
                ResourceKind::Domain,
                Operation::Transfer,
                "taken-name.com",
                12,
            );
            with(r, &[("authcode", "Tr4nsfer-code")])
        },
    },
    Case {
        what: "buy a cloud host",
        sent: "BuyCloud.aspx",
        needs: Needs::Nothing,
        request: |_| {
            with(
                req(ResourceKind::Server, Operation::Create, "web-1", 3),
                &new_host(),
            )
        },
    },
    Case {
        what: "renew a cloud host",
        sent: "renewalCloud.aspx",
        needs: Needs::Host,
        request: |host| req(ResourceKind::Server, Operation::Renew, host, 6),
    },
    Case {
        what: "upgrade a cloud host",
        sent: "upgradeCloud.aspx",
        needs: Needs::StoppedHost,
        request: |host| {
            let r = req(ResourceKind::Server, Operation::Upgrade, host, 0);
            with(r, &[("CPUNum", "1"), ("RAMNum", "1024"), ("HDNum", "20")])
        },
    },
    Case {
        what: "open hosting",
        sent: "CreateHosting.aspx",
        needs: Needs::Nothing,
        request: |_| {
            let r = req(ResourceKind::HostingSite, Operation::Create, "shopsite", 24).offer("bz");
            with(
                r,
                &[
                    ("hostsize", "5"),
                    ("Location", "cn"),
                    ("linetype", "dx"),
                    ("ftppassword", "Shop123!x"),
                ],
            )
        },
    },
    Case {
        what: "open hosting with a generated FTP password",
        sent: "CreateHosting.aspx",
        needs: Needs::Nothing,
        request: |_| {
            let r = req(ResourceKind::HostingSite, Operation::Create, "autosite", 12).offer("bz");
            with(
                r,
                &[("hostsize", "5"), ("Location", "cn"), ("linetype", "dx")],
            )
        },
    },
    Case {
        what: "renew hosting",
        sent: "RenewHosting.aspx",
        needs: Needs::Nothing,
        request: |_| req(ResourceKind::HostingSite, Operation::Renew, "demoweb", 24),
    },
    Case {
        what: "upgrade hosting",
        sent: "HostingUpgrade.aspx",
        needs: Needs::Hosting,
        request: |site| {
            let r = req(ResourceKind::HostingSite, Operation::Upgrade, site, 0).offer("net");
            with(r, &[("hostsize", "8")])
        },
    },
];

/// A fresh sandbox for `case` (with `cfg`), what the case needs bought beforehand, and
/// its request.
async fn start(case: &Case, cfg: idcgate_wire::WireConfig) -> (Env, PurchaseRequest) {
    let env = env_with(Sim::sandbox(), cfg).await;
    let mut host = String::new();
    if case.needs == Needs::Hosting {
        host = "longweb".into();
        env.ok(
            "/hosting/createhosting",
            &[
                ("ftpname", "longweb"),
                ("ftppassword", "Long123!web"),
                ("years", "3"),
                ("hosttype", "bz"),
                ("hostsize", "5"),
                ("linetype", "dx"),
                ("Location", "cn"),
            ],
        )
        .await;
    }
    if matches!(case.needs, Needs::Host | Needs::StoppedHost) {
        let bought = env
            .ok(
                "/cloud/buycloud",
                &[
                    ("cpu", "1"),
                    ("ram", "1024"),
                    ("HD", "50"),
                    ("BD", "1"),
                    ("place", "3"),
                    ("os", "ubuntu22.04_64"),
                    ("tmetpe", "5"),
                ],
            )
            .await;
        host = bought[0]["cloudname"].as_str().unwrap().to_string();
        env.ok(
            "/cloud/createhost",
            &[("cloudname", &host), ("password", "Build!Pass9")],
        )
        .await;
    }
    if case.needs == Needs::StoppedHost {
        env.ok("/cloud/poweroff", &[("cloudname", &host)]).await;
    }
    let request = (case.request)(&host);
    (env, request)
}

fn seller(env: &Env) -> &dyn idcgate_core::purchase::Purchasing {
    env.conn.purchasing().unwrap()
}

/// [`start`], then the quote and what settling will compare against, as the journal
/// reads them before it buys.
async fn quoted(
    case: &Case,
    cfg: idcgate_wire::WireConfig,
) -> (Env, PurchaseRequest, Money, Value) {
    let (env, request) = start(case, cfg).await;
    let p = seller(&env);
    let quote = p.quote(&request).await.unwrap();
    assert!(quote.price > Money::ZERO, "{}", case.what);
    let before = p.before(&request).await.unwrap();
    (env, request, quote.price, before)
}

/// The resource a settled purchase names: the target, except a new cloud host's name,
/// which CNDNS alone gives (in the answer that was lost).
fn named(request: &PurchaseRequest) -> Option<&str> {
    let new_host = (request.kind, request.operation) == (ResourceKind::Server, Operation::Create);
    (!new_host).then_some(request.target.as_str())
}

fn assert_happened(case: &Case, request: &PurchaseRequest, settled: Settled) {
    match settled {
        Settled::Happened {
            upstream_ref,
            evidence,
            ..
        } => assert_eq!(
            upstream_ref.as_deref(),
            named(request),
            "{}: {evidence}",
            case.what
        ),
        other => panic!("{}: {other:?}", case.what),
    }
}

fn assert_did_not_happen(case: &Case, settled: Settled) {
    assert!(
        matches!(settled, Settled::DidNotHappen { .. }),
        "{}: {settled:?}",
        case.what
    );
}

#[tokio::test]
async fn every_purchase_takes_exactly_its_quote_and_reads_back_as_happened() {
    for case in &CASES {
        let (env, request, price, before) = quoted(case, testing::config()).await;
        let p = seller(&env);
        assert!(p.sells().contains(&(request.kind, request.operation)));
        if case.needs == Needs::Hosting {
            // (net 8 at 680 a year - bz 5 at 340) for each of the three years left.
            assert_eq!(price, Money::from_fen(102_000));
        }
        let balance = env.sim.balance();
        let order = p.buy(&request, "purchase-1").await.unwrap();
        assert_eq!(balance - env.sim.balance(), price, "{}", case.what);
        let made = order.upstream_id.clone().unwrap();
        match named(&request) {
            Some(target) => assert_eq!(made, target, "{}", case.what),
            // A bought host is built with the password given, and runs.
            None => {
                let server = env.conn.compute().unwrap().get_server(&made).await.unwrap();
                assert_eq!(server.power, PowerState::Running);
                assert_eq!((server.cpu, server.ram_mb), (2, 2048));
            }
        }
        let settled = p.settle(&request, "purchase-1", &before).await.unwrap();
        assert_happened(case, &request, settled);
    }
}

#[tokio::test]
async fn a_purchase_never_sent_reads_back_as_not_happened() {
    for case in &CASES {
        let (env, request, _, before) = quoted(case, testing::config()).await;
        let p = seller(&env);
        let balance = env.sim.balance();
        let settled = p.settle(&request, "never-sent", &before).await.unwrap();
        assert_did_not_happen(case, settled);
        assert_eq!(
            env.sim.balance(),
            balance,
            "{}: settling only reads",
            case.what
        );
    }
}

#[tokio::test]
async fn an_answer_lost_after_the_upstream_committed_reads_back_as_happened() {
    for case in &CASES {
        let cfg = testing::wire_config(Duration::from_millis(700));
        let (env, request, price, before) = quoted(case, cfg).await;
        let p = seller(&env);
        let balance = env.sim.balance();
        env.srv.faults.update(|c| {
            c.next_only_matching = case.sent.into();
            c.drop_next = 1;
        });
        let lost = p.buy(&request, "lost-1").await.unwrap_err();
        assert_eq!(lost.kind(), "unknown_outcome", "{}: {lost}", case.what);
        assert_eq!(
            env.srv.faults.get().drop_next,
            0,
            "{}: fault unused",
            case.what
        );
        assert_eq!(balance - env.sim.balance(), price, "{}", case.what);
        let settled = p.settle(&request, "lost-1", &before).await.unwrap();
        if let Settled::Happened {
            charged: Some(c), ..
        } = &settled
        {
            assert_eq!(*c, price, "{}", case.what);
        }
        assert_happened(case, &request, settled);
    }
}

#[tokio::test]
async fn a_short_balance_is_refused_and_changes_nothing() {
    for case in &CASES {
        let (env, request, price, before) = quoted(case, testing::config()).await;
        let p = seller(&env);
        let short = price - Money::from_fen(1);
        env.sim.set_balance(short);
        let refused = p.buy(&request, "short-1").await.unwrap_err();
        let kind = refused.kind();
        assert_eq!(kind, "insufficient_balance", "{}: {refused}", case.what);
        assert_eq!(env.sim.balance(), short, "{}", case.what);
        let settled = p.settle(&request, "short-1", &before).await.unwrap();
        assert_did_not_happen(case, settled);
    }
}

#[tokio::test]
async fn what_a_purchase_lacks_is_named_before_anything_is_bought() {
    let env = env().await;
    let p = seller(&env);
    let host = |opts: &[(&str, &str)]| {
        with(
            req(ResourceKind::Server, Operation::Create, "web-2", 1),
            opts,
        )
    };
    let cases: Vec<(PurchaseRequest, &str)> = vec![
        (host(&SAMPLE_HOST_2C2G[..5]), "os"),
        (host(&[("password", "two words")]), "password"),
        (host(SAMPLE_HOST_2C2G).months(0), "months"),
        (
            with(
                req(ResourceKind::HostingSite, Operation::Create, "shopsite", 12).offer("bz"),
                &[
                    ("hostsize", "5"),
                    ("Location", "cn"),
                    ("ftppassword", "abc12345"),
                ],
            ),
            "ftppassword",
        ),
        (
            req(
                ResourceKind::HostingSite,
                Operation::Create,
                "shop-site",
                12,
            ),
            "target",
        ),
        (
            req(ResourceKind::HostingSite, Operation::Renew, "demoweb", 72),
            "months",
        ),
        (
            with(
                req(ResourceKind::HostingSite, Operation::Upgrade, "demoweb", 0),
                &[("hostsize", "3")],
            ),
            "hostsize",
        ),
        (
            req(
                ResourceKind::Domain,
                Operation::Transfer,
                "taken-name.com",
                12,
            ),
            "authcode",
        ),
        (
            with(
                req(
                    ResourceKind::Domain,
                    Operation::Transfer,
                    "taken-name.com",
                    24,
                ),
                &[("authcode", "Tr4nsfer-code")],
            ),
            "months",
        ),
    ];
    let balance = env.sim.balance();
    for (request, field) in cases {
        match p.quote(&request).await {
            Err(Error::InvalidInput { field: f, reason }) => {
                assert_eq!(f, field, "{request}: {reason}")
            }
            other => panic!("{request}: {other:?}"),
        }
        assert!(p.buy(&request, "bad").await.is_err(), "{request}");
    }
    assert_eq!(env.sim.balance(), balance);
}

#[tokio::test]
async fn a_cloud_upgrade_beyond_what_the_host_may_take_is_refused_by_field() {
    let case = &CASES[5];
    let (env, request) = start(case, testing::config()).await;
    let p = seller(&env);
    // The host has 1 CPU of at most 8: 8 more is over.
    let over = with(request.clone(), &[("CPUNum", "8")]);
    match p.quote(&over).await {
        Err(Error::InvalidInput { field, reason }) => {
            assert_eq!(field, "CPUNum");
            assert!(reason.contains("0 to 7"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let nothing = PurchaseRequest::new(ResourceKind::Server, Operation::Upgrade, &request.target);
    assert!(matches!(
        p.quote(&nothing).await,
        Err(Error::InvalidInput { field, .. }) if field == "CPUNum"
    ));
}

#[tokio::test]
async fn what_cndns_sells_without_a_price_call_is_refused_with_the_reason() {
    let env = env().await;
    let p = seller(&env);
    for kind in [ResourceKind::Database, ResourceKind::MailDomain] {
        for op in [Operation::Create, Operation::Renew, Operation::Upgrade] {
            assert!(!p.sells().contains(&(kind, op)));
            let r = req(kind, op, "sq_demodb01", 12);
            match p.quote(&r).await {
                Err(Error::Unsupported { capability, .. }) => {
                    assert!(capability.contains("no price call"), "{capability}")
                }
                other => panic!("{r}: {other:?}"),
            }
        }
    }
    let cert = req(ResourceKind::Certificate, Operation::Create, "x.com", 12);
    assert!(matches!(
        p.quote(&cert).await,
        Err(Error::Unsupported { .. })
    ));
}

#[tokio::test]
async fn the_finance_record_is_unsupported_and_says_why() {
    let env = env().await;
    match env
        .conn
        .billing()
        .unwrap()
        .charges(jiff::Timestamp::UNIX_EPOCH)
        .await
    {
        Err(Error::Unsupported { vendor, capability }) => {
            assert_eq!(vendor, "cndns");
            assert!(capability.contains("running totals"), "{capability}");
        }
        other => panic!("{other:?}"),
    }
}
