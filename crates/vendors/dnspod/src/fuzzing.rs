//! Entry points for the fuzz targets in `fuzz/` (not an API: hidden, unstable). Bytes in,
//! a plain result out, so they keep compiling while the client around them changes.

use serde_json::Value;

/// The XML reader alone (DNSPod's default `format=xml`).
pub fn parse_xml(text: &str) -> Result<Value, String> {
    crate::xml::parse(text)
}

/// What the client does with an answer body: JSON or XML by its first character.
pub fn decode(bytes: &[u8]) -> Result<Value, String> {
    crate::client::decode(bytes)
}

/// A refusal's status as the client classifies it (per method: DNSPod numbers its
/// refusals per method).
pub fn classify(action: &str, code: &str, message: &str) -> idcgate_core::Error {
    crate::errors::error(action, code, message)
}
