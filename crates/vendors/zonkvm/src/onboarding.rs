//! What an operator needs to add a Zonkvm account (`idcgate vendors show zonkvm`).

use crate::client::{CRED_APPID, CRED_APPKEY};
use idcgate_core::{CredentialKey, Onboarding};

pub const ONBOARDING: Onboarding = Onboarding {
    title: "Zonkvm (finance system, 财务系统)",
    keys: &[
        CredentialKey {
            key: CRED_APPID,
            secret: false,
            about: "your user id at the provider's finance system (用户ID)",
        },
        CredentialKey {
            key: CRED_APPKEY,
            secret: true,
            about: "the API key (API密钥) from the finance system's user centre",
        },
    ],
    sign_in: &[&[CRED_APPID, CRED_APPKEY]],
    base_url: None,
    base_url_about: "your provider's finance-system address, e.g. `https://idc.example.com` (idcgate posts to `/api/same/index` under it)",
    rate_per_sec: 5,
    rate_advice: "No limit is stated; the finance system is one application shared by all of the provider's resellers, so 5 requests/s is plenty.",
    setup: &[
        "Ask the provider to enable API access for your user (权限不足 otherwise) and note the appid and appkey.",
        "Fund the account: a purchase beyond balance + credit is refused (余额不足).",
    ],
    quirks: &[
        "Errors carry no codes, only text (权限不足, 余额不足, 未找到产品记录, 缺少必要参数); idcgate classifies them by wording.",
        "Server ids carry their family: `server_1001` cloud, `lease_3` dedicated, `idc_2` colocation; a bare number is a cloud server.",
        "The API offers no balance reading: `idcgate balance` says so.",
        "hosting_del_backup takes the backup record's id as guid (not the hosting order's); the three IIS SSL operations work on ASP (IIS) sites only.",
    ],
};
