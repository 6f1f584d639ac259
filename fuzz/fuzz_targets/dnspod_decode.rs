//! DNSPod answer bodies as the client decodes them (JSON or XML by the first character),
//! then the status mapping the client applies. Properties: never panics; only UTF-8 is
//! accepted; what was read, written back as JSON, reads the same.
#![no_main]

use idcgate_dnspod::client::scalar;
use idcgate_dnspod::fuzzing::classify;
use idcgate_dnspod::fuzzing::decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = decode(data) else { return };
    assert!(
        std::str::from_utf8(data).is_ok(),
        "accepted a body that is not UTF-8"
    );
    let json = serde_json::to_string(&v).expect("serialises");
    let again = decode(json.as_bytes()).unwrap_or_else(|e| panic!("re-read failed: {e}\n{json}"));
    assert_eq!(again, v);
    if let Some(code) = v.pointer("/status/code").map(scalar) {
        let message = v.pointer("/status/message").map(scalar).unwrap_or_default();
        for action in [
            "Record.Modify",
            "Record.List",
            "Domain.Upgrade",
            "User.Detail",
        ] {
            let _ = classify(action, &code, &message).to_string();
        }
    }
});
