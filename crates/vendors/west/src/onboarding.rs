//! What an operator needs to add a West.cn account (`idcgate vendors show west`).

use idcgate_core::{CredentialKey, Onboarding};

pub const ONBOARDING: Onboarding = Onboarding {
    title: "West.cn (西部数码)",
    keys: &[
        CredentialKey {
            key: "username",
            secret: false,
            about: "your West.cn account name (会员名)",
        },
        CredentialKey {
            key: "api_password",
            secret: true,
            about: "the API password set in the West.cn console (API 接口), not the login password",
        },
        CredentialKey {
            key: "templateid",
            secret: false,
            about: "the contact template used to register domains; without it the first real-name-verified template of the account",
        },
    ],
    sign_in: &[&["username", "api_password"]],
    base_url: Some("https://api.west.cn/api"),
    base_url_about: "`https://api.west.cn` works too: idcgate appends `/api` when it is missing",
    rate_per_sec: 5,
    rate_advice: "West states no limit; 5 requests/s per account is a polite pace that still syncs thousands of records in minutes.",
    setup: &[
        "Set an API password in the West.cn console and enable API access.",
        "Add this machine's public IP address to the API whitelist: calls from other addresses are refused (errcode 10002).",
        "Registering domains needs a real-name-verified contact template (`templateid`).",
    ],
    quirks: &[
        "GBK both ways: text GBK cannot carry (emoji, some rare characters) is refused before anything is sent.",
        "The token is md5(username + api_password + time) with time in milliseconds, valid 10 minutes: keep the machine's clock right.",
        "API errors come with HTTP 200 and `result` 500; idcgate classifies them by errcode.",
        "An identical record already existing is errcode 20118; a record already deleted is 20120.",
        "A record on a specific line (LTEL, LCNC, ...) needs a default-line record for the same host first.",
    ],
};
