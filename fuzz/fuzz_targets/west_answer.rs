//! West.cn answers: the declared charset (else UTF-8, else GBK), JSON, then the
//! `result/errcode` (or older `code/body`) envelope. The first input byte picks the
//! action (read/write, new/older API) and the declared charset; the rest is the body.
//! Properties: never panics; an error never carries the API password or its md5 (the
//! body may echo them); the same answer sent in GBK or in UTF-8 (each declared) reads
//! the same.
#![no_main]

use idcgate_west::fuzzing::decode_answer;
use libfuzzer_sys::fuzz_target;

const PASSWORD: &str = "Sandbox-Pass-2024";
const ACTIONS: [&str; 4] = [
    "west:domain.getprice",
    "west:domain.createtemplate",
    "west:dnsrec.list",
    "west:dnsrec.add",
];
const CONTENT_TYPES: [&str; 4] = [
    "application/json",
    "application/json; charset=gb2312",
    "text/html;charset=UTF-8",
    "text/plain; charset=GBK",
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let action = ACTIONS[usize::from(sel & 3)];
    let ct = CONTENT_TYPES[usize::from((sel >> 2) & 3)];
    let md5 = idcgate_west::token("", PASSWORD, "");
    let secrets = [PASSWORD, md5.as_str()];
    let result = decode_answer(action, ct, body, &secrets);
    if let Err(e) = &result {
        let shown = format!("{e} {e:?}");
        for s in secrets {
            assert!(!shown.contains(s), "error shows a secret: {shown}");
        }
    }
    // The text the client reads, re-sent in each charset.
    let text = idcgate_wire::Charset::from_content_type(ct)
        .and_then(|c| c.decode(body))
        .unwrap_or_else(|| idcgate_wire::charset::decode_lenient(body));
    // Only text GBK can carry both ways: since GB18030-2022, 18 private-use characters
    // (U+E796 ...) are sent as forms that read back as standard ones (U+FE19).
    if !idcgate_wire::Charset::Gbk.can_encode(&text) {
        return;
    }
    let gbk = idcgate_wire::Charset::Gbk.encode(&text);
    let as_utf8 = decode_answer(
        action,
        "application/json; charset=utf-8",
        text.as_bytes(),
        &secrets,
    );
    let as_gbk = decode_answer(action, "application/json; charset=GBK", &gbk, &secrets);
    assert_eq!(as_utf8, result);
    assert_eq!(as_gbk, result);
});
