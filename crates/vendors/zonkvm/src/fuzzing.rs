//! Entry points for the fuzz targets in `fuzz/` (not an API: hidden, unstable). Bytes in,
//! a plain result out, so they keep compiling while the client around them changes.

use crate::codec::{self, Reply};
use serde_json::Value;

/// Decodes a 200 answer the way the client does. `Err` = not a ThinkPHP envelope;
/// `Ok(Err(_))` = a `code: 0` failure, mapped to the error taxonomy.
pub fn decode(body: &[u8]) -> Result<Result<Value, idcgate_core::Error>, String> {
    match codec::decode(200, body).map_err(|e| e.to_string())? {
        Reply::Data(v) => Ok(Ok(v)),
        Reply::Failure(msg) => Ok(Err(codec::classify_failure(&msg))),
    }
}
