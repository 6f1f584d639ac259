//! Wire: the HTTP machinery shared by every vendor client and simulator.
//!
//! Owns: form encoding in GBK or UTF-8, the one call path every vendor client runs
//! through (`exchange`: spec checks, retries for reads only, unknown outcomes for
//! writes, timing), the HTTP transport (User-Agent, timeouts, per-account rate
//! limits), secret redaction, and the simulators' host (state, clock, decoding,
//! dispatch, rollback), fault-injection layer and server helpers.
//!
//! Must not know: any particular vendor's actions, envelopes or field names; storage.

pub mod charset;
pub mod client;
pub mod exchange;
pub mod fault;
pub mod form;
pub mod ratelimit;
pub mod redact;
pub mod sim;
#[cfg(feature = "testing")]
pub mod testing;

pub use charset::Charset;
pub use client::{HttpClient, WireConfig, WireRequest, WireResponse};
pub use exchange::{Decoded, Exchange, Protocol, Refusal};
pub use fault::{FaultConfig, FaultHandle};
pub use ratelimit::{GateError, RateGate, SharedGate};
pub use redact::Redactor;
pub use sim::{Host, SimServer, SimVendor, Simulator};
