//! Entry points for the fuzz targets in `fuzz/` (not an API: hidden, unstable). Bytes in,
//! a plain result out, so they keep compiling while the client around them changes.

use crate::errors::{ERRCODE_ERRORS, ERRORS};
use idcgate_core::{Error, Result};
use idcgate_wire::{Decoded, Redactor};
use serde_json::Value;

/// Decodes an answer to `action` (a spec id or short name; `dnsrec.*` use the older
/// `code/body` envelope) as the client does, and turns a refusal into the error a
/// caller would see, with `secrets` redacted as the shared call path redacts them.
pub fn decode_answer(
    action: &str,
    content_type: &str,
    body: &[u8],
    secrets: &[&str],
) -> Result<Value> {
    let a = crate::spec().require(action)?;
    match crate::client::decode_answer(a, content_type, body) {
        Decoded::Data(v) => Ok(v),
        Decoded::Refused(r) => {
            let redactor = Redactor::new(secrets);
            let message = redactor.redact(&r.message);
            let field = r.field.map(|f| redactor.redact(&f));
            let table = if a.action.starts_with("dnsrec.") {
                &ERRORS
            } else {
                &ERRCODE_ERRORS
            };
            Err(table.error(&r.code, &message, field.as_deref()))
        }
        Decoded::Unreadable(why) => Err(Error::Transport {
            vendor: "west".into(),
            message: why,
        }),
    }
}
