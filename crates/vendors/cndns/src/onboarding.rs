//! What an operator needs to add a CNDNS account (`idcgate vendors show cndns`).

use idcgate_core::{CredentialKey, Onboarding};

pub const ONBOARDING: Onboarding = Onboarding {
    title: "CNDNS (美橙互联)",
    keys: &[
        CredentialKey {
            key: "username",
            secret: false,
            about: "your cndns.com member name",
        },
        CredentialKey {
            key: "api_password",
            secret: true,
            about: "the API password set under API 管理 at cndns.com",
        },
        CredentialKey {
            key: "email",
            secret: false,
            about: "the e-mail address on file at cndns.com (part of every checksum)",
        },
        CredentialKey {
            key: "contact_id",
            secret: false,
            about: "the contact (userid) used to register domains; without it the first audited contact of the account",
        },
    ],
    sign_in: &[&["username", "api_password", "email"]],
    base_url: Some("http://api.cndns.com"),
    base_url_about: "the API host as the document gives it; its check and support hosts are reached under the same base URL",
    rate_per_sec: 5,
    rate_advice: "CNDNS states no limit, but refuses a request it takes for a repeat (10036): every call carries a fresh time to the millisecond, so keep the rate modest.",
    setup: &[
        "Apply for API access at cndns.com (API 管理) and set the API password; an application waits for review (10003).",
        "Add this machine's public IP address to the API allow-list: other addresses get 10001.",
        "Keep the machine's clock right: the request time must fall on the same day in China time (10041).",
    ],
    quirks: &[
        "Every call is a GET with all its parameters, the checksum too, in the query.",
        "Answers are not always clean JSON (wrapped in HTML or JSONP, over-escaped, single broken list items); what cannot be read is retried for a read and an unknown outcome for a write.",
        "No call lists what the account owns: domains, zones and cloud hosts are not in the inventory; `idcgate dns` finds a zone by asking, `idcgate call` reaches the rest.",
        "11318 on DeleteRec means the record is already gone.",
    ],
};
