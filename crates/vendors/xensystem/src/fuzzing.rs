//! Entry points for the fuzz targets in `fuzz/` (not an API: hidden, unstable). Bytes in,
//! a plain result out, so they keep compiling while the client around them changes.

use crate::codec::{self, Reply, Shape};
use serde_json::Value;

/// Decodes a 200 answer the way the client does. `shape`: 0 = plain command, 1 =
/// `vm_state`, anything else = `vm_stat` with chart type `shape - 2`. `Err` = the body
/// is unreadable; `Ok(Err(_))` = a `-1` failure, mapped to the error taxonomy.
pub fn decode(body: &[u8], shape: u8) -> Result<Result<Value, idcgate_core::Error>, String> {
    let shape = match shape {
        0 => Shape::Plain,
        1 => Shape::State,
        n => Shape::Chart(i64::from(n) - 2),
    };
    match codec::decode(200, body, shape).map_err(|e| e.to_string())? {
        Reply::Data(v) => Ok(Ok(v)),
        Reply::Failure(msg) => Ok(Err(codec::classify_failure(&msg))),
    }
}
