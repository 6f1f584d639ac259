//! Entry points for the fuzz targets in `fuzz/` (not an API: hidden, unstable). Bytes in,
//! a plain result out, so they keep compiling while the client around them changes.

use idcgate_core::Result;
use idcgate_wire::charset::decode_lenient;
use idcgate_wire::{Charset, Redactor};
use serde_json::Value;

/// Decodes an answer to `action` (a spec id or short name; `dnsrec.*` use the older
/// `code/body` envelope) as `WestClient::send` does: the declared charset (else UTF-8,
/// else GBK), JSON, then the envelope mapped to a payload or an error whose text has
/// `secrets` redacted.
pub fn decode_answer(
    action: &str,
    content_type: &str,
    body: &[u8],
    secrets: &[&str],
) -> Result<Value> {
    let a = crate::spec().require(action)?;
    let redactor = Redactor::new(secrets);
    let text = Charset::from_content_type(content_type)
        .and_then(|c| c.decode(body))
        .unwrap_or_else(|| decode_lenient(body));
    let value: Value = serde_json::from_str(&text)
        .map_err(|_| crate::client::bad_body(a, "a body that is not JSON".into()))?;
    let redact = |msg: &str| redactor.redact(msg);
    if a.action.starts_with("dnsrec.") {
        crate::client::map_legacy(a, value, redact)
    } else {
        crate::client::map_envelope(a, value, redact)
    }
}
