//! Wire: the HTTP machinery shared by every vendor client and simulator.
//!
//! Owns: form encoding in GBK or UTF-8, the HTTP client (User-Agent, timeouts, per-account
//! rate limits, retries for reads only, unknown-outcome mapping for writes), secret
//! redaction, and the simulators' host (state, clock, decoding, dispatch, rollback),
//! fault-injection layer and server helpers.
//!
//! Must not know: any particular vendor's actions, envelopes or field names; storage.

pub mod charset;
pub mod client;
pub mod fault;
pub mod form;
pub mod ratelimit;
pub mod redact;
pub mod sim;

pub use charset::Charset;
pub use client::{HttpClient, WireConfig, WireRequest, WireResponse};
pub use fault::{FaultConfig, FaultHandle};
pub use redact::Redactor;
pub use sim::{Host, SimServer, SimVendor, Simulator};
