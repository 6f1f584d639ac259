//! Entry points for the fuzz targets in `fuzz/` (not an API: hidden, unstable). Bytes in,
//! a plain result out, so they keep compiling while the client around them changes.

use crate::codec;
use idcgate_wire::Decoded;
use serde_json::Value;

/// Decodes a 200 answer the way the client does. `Err` = not a ThinkPHP envelope;
/// `Ok(Err(_))` = a refusal, classified through the error table as the client does.
pub fn decode(body: &[u8]) -> Result<Result<Value, idcgate_core::Error>, String> {
    match codec::decode(200, body) {
        Decoded::Data(v) => Ok(Ok(v)),
        Decoded::Refused(r) => Ok(Err(crate::errors::ERRORS.error(
            &r.code,
            &r.message,
            r.field.as_deref(),
        ))),
        Decoded::Unreadable(why) => Err(why),
    }
}
