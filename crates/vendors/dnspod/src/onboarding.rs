//! What an operator needs to add a DNSPod account (`idcgate vendors show dnspod`).

use idcgate_core::{CredentialKey, Onboarding};

pub const ONBOARDING: Onboarding = Onboarding {
    title: "DNSPod (dnsapi.cn)",
    keys: &[
        CredentialKey {
            key: "login_token",
            secret: true,
            about: "an API token as `ID,Token` (DNSPod console, API 密钥); preferred",
        },
        CredentialKey {
            key: "login_email",
            secret: false,
            about: "the account's e-mail, with login_password (the older login)",
        },
        CredentialKey {
            key: "login_password",
            secret: true,
            about: "the account's password, with login_email",
        },
        CredentialKey {
            key: "user_id",
            secret: false,
            about: "an agent acting for one of its users gives that user's id",
        },
        CredentialKey {
            key: "login_code",
            secret: true,
            about: "a D令牌 code for the first call, when the account has D令牌 on",
        },
        CredentialKey {
            key: "d_token_cookie",
            secret: true,
            about: "`t<user_id>=value` remembered from an earlier D令牌 login, so no new code is asked",
        },
    ],
    sign_in: &[&["login_token"], &["login_email", "login_password"]],
    base_url: Some("https://dnsapi.cn"),
    base_url_about: "https only: plain http may get the account banned",
    rate_per_sec: 3,
    rate_advice: "DNSPod publishes no numbers (limits vary by domain grade and account level) and bans abuse, such as many changes in a short time, from the API for about an hour; stay low.",
    setup: &[
        "Create an API token (ID and Token) in the DNSPod console; the token is shown once.",
        "Set `contact` in idcgate.toml (or IDCGATE_CONTACT): DNSPod bans clients whose User-Agent names no contact e-mail.",
        "The user API is for an account's own domains; a reseller managing its users' domains uses an agent account and `user_id`.",
    ],
    quirks: &[
        "After one failed login idcgate halts these credentials in the process until they change (`idcgate account update`): more than 30 failed logins in 5 minutes lock login for an hour.",
        "A modification that changes nothing is never sent: more than 5 of them on one record in an hour lock the record for an hour.",
        "Status codes are strings, and ids strings or numbers depending on the call.",
        "No records (code 10) and no domains (code 9) are empty lists, not errors.",
    ],
};
