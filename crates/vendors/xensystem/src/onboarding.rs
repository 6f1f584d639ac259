//! What an operator needs to add a XenSystem panel (`idcgate vendors show xensystem`).

use crate::client::{CRED_API_KEY, CRED_API_USERNAME, CRED_IDENTITY};
use idcgate_core::{CredentialKey, Onboarding};

pub const ONBOARDING: Onboarding = Onboarding {
    title: "XenSystem (VPS panel)",
    keys: &[
        CredentialKey {
            key: CRED_IDENTITY,
            secret: false,
            about: "`user` (the default) or `system`, the level the key belongs to",
        },
        CredentialKey {
            key: CRED_API_USERNAME,
            secret: false,
            about: "system level: the panel id (主控端识别码); user level: the user's username",
        },
        CredentialKey {
            key: CRED_API_KEY,
            secret: true,
            about: "system level: the system API key from the admin backend; user level: the user's API key",
        },
    ],
    sign_in: &[&[CRED_API_USERNAME, CRED_API_KEY]],
    base_url: None,
    base_url_about: "your panel's address, e.g. `http://panel.example.com` (idcgate posts to `process.aspx?c=api` under it)",
    rate_per_sec: 5,
    rate_advice: "No limit is stated; the panel runs on your own server, so pick what it bears.",
    setup: &[
        "Enable the API in the panel and set an API key (system level: the admin backend; user level: the user's account settings).",
        "Panels usually serve plain HTTP and nothing is signed: reach yours over a private network or put TLS in front of it.",
    ],
    quirks: &[
        "Replies are pipe text (`0|a|b`, `-1 message`), JSON or JavaScript; idcgate decodes each.",
        "Some commands are system-level only: a user-level key gets an authentication error for them.",
        "The panel sells nothing and keeps no balance: `idcgate balance` says so.",
        "User-level reinstall, password reset and restore need a verification code idcgate cannot pass yet.",
    ],
};
