//! Zonkvm's ThinkPHP envelope `{code,msg,data,url,wait}`. Properties: never panics; data
//! is never `null` or `""` (those answers return the whole envelope); data written back
//! into an envelope reads the same; `code` as a number and as a string mean the same.
#![no_main]

use idcgate_zonkvm::fuzzing::decode;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

fuzz_target!(|data: &[u8]| {
    let result = decode(data);
    if let Ok(Ok(v)) = &result {
        assert!(
            !v.is_null() && v != &json!(""),
            "empty data returned as data"
        );
        let env = serde_json::to_vec(&json!({"code": 1, "msg": "", "data": v})).unwrap();
        assert_eq!(decode(&env), Ok(Ok(v.clone())));
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(Value::Object(env)) = serde_json::from_str(text.trim().trim_start_matches('\u{feff}'))
    else {
        return;
    };
    let other = match env.get("code") {
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => json!(i.to_string()),
            None => return,
        },
        Some(Value::String(s)) => match s.trim().parse::<i64>() {
            Ok(i) => json!(i),
            Err(_) => return,
        },
        _ => return,
    };
    let mut env2 = env.clone();
    env2.insert("code".into(), other);
    let result2 = decode(&serde_json::to_vec(&env2).unwrap());
    match (&result, &result2) {
        (Ok(Ok(a)), Ok(Ok(b))) => assert!(
            a == b || (a == &Value::Object(env.clone()) && b == &Value::Object(env2.clone())),
            "{a} vs {b}"
        ),
        (Ok(Err(a)), Ok(Err(b))) => assert_eq!(a, b),
        (Err(_), Err(_)) => {}
        _ => panic!(
            "code {:?} and {:?} read differently: {result:?} vs {result2:?}",
            env["code"], env2["code"]
        ),
    }
});
