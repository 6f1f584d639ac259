//! Entry points for the fuzz targets in `fuzz/` (not an API: hidden, unstable). Bytes in,
//! a plain result out, so they keep compiling while the client around them changes.

use serde_json::{json, Value};

/// What the client does with an answer body: lenient charset decoding, then the tolerant
/// envelope decoder. `Err` when no envelope is found; `Ok` holds the decoded parts as
/// `{"success","action","message","skipped","extra"}`.
pub fn decode_body(bytes: &[u8]) -> Result<Value, String> {
    let text = idcgate_wire::charset::decode_lenient(bytes);
    let d = crate::decode::decode_body(&text).ok_or("no CNDNS envelope in the body")?;
    Ok(json!({
        "success": d.success,
        "action": d.action,
        "message": d.message,
        "skipped": d.skipped,
        "extra": d.extra,
    }))
}
