//! Serving simulators: a vendor crate supplies its API as an axum `Router` (usually
//! through the shared [`Host`]); this module wraps it in fault injection, adds the
//! control endpoints and binds it to a port.

mod base64;
mod check;
pub mod china;
mod clock;
mod host;
pub mod money;

pub use base64::decode_base64;
pub use check::{ip_allowed, valid_hostname};
pub use clock::{Clock, ClockChange, ClockControl, ClockView};
pub use host::{
    handler_in, Call, FieldOrder, Handler, Handlers, Host, Incoming, Mount, Outcome, Refusal,
    Route, SimState, SimVendor,
};
/// The clock's type, for the handles [`sim_handle!`](crate::sim_handle) writes.
pub use jiff::Timestamp;

use crate::fault::{inject, FaultConfig, FaultHandle};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use idcgate_core::Vendor;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Path of the run-time control endpoint (GET shows, PUT replaces the fault config).
pub const FAULTS_PATH: &str = "/__sim/faults";

/// Path of the clock control endpoint (GET shows, PUT moves: see [`ClockChange`]).
/// Only simulators with a [`Simulator::clock`] have it.
pub const CLOCK_PATH: &str = "/__sim/clock";

pub trait Simulator: Send + Sync {
    fn vendor(&self) -> Vendor;
    /// The vendor's API with the simulator's state behind it.
    fn router(&self) -> Router;
    /// Credentials of the sandbox account the simulator is seeded with, as the names the
    /// vendor's client expects in `Credentials`.
    fn sandbox_credentials(&self) -> Vec<(String, String)>;
    /// The simulator's clock, steerable through [`CLOCK_PATH`].
    fn clock(&self) -> Option<Arc<dyn ClockControl>> {
        None
    }
}

/// A vendor's simulator handle: a [`Host`] inside, and all of [`Simulator`] delegated
/// to it. Written by [`sim_handle!`](crate::sim_handle), which also adds the clock hooks;
/// the host is handed out as a trait object so the vendor's host type stays private.
pub trait Hosted: Send + Sync {
    fn host(&self) -> &dyn Simulator;
}

impl<T: Hosted> Simulator for T {
    fn vendor(&self) -> Vendor {
        self.host().vendor()
    }

    fn router(&self) -> Router {
        self.host().router()
    }

    fn sandbox_credentials(&self) -> Vec<(String, String)> {
        self.host().sandbox_credentials()
    }

    fn clock(&self) -> Option<Arc<dyn ClockControl>> {
        self.host().clock()
    }
}

/// Declares a vendor's simulator handle, `struct Name(Host<Vendor>);`: a `Clone` +
/// `Debug` struct whose clones share one upstream, with a private `host` field, the
/// [`Simulator`] implementation and the clock hooks every simulator offers (`set_now`,
/// `advance`, `now`). The vendor adds its constructors and test hooks in an `impl` of
/// its own (`Name::from_state(state)`, `self.host.with_state(..)`).
#[macro_export]
macro_rules! sim_handle {
    ($(#[$attr:meta])* $vis:vis struct $name:ident(Host<$vendor:ty>);) => {
        $(#[$attr])*
        #[derive(Clone, Debug)]
        $vis struct $name {
            host: $crate::sim::Host<$vendor>,
        }

        impl $crate::sim::Hosted for $name {
            fn host(&self) -> &dyn $crate::sim::Simulator {
                &self.host
            }
        }

        impl $name {
            /// The handle of a simulator holding `state`.
            fn from_state(state: <$vendor as $crate::sim::SimVendor>::State) -> Self {
                $name {
                    host: $crate::sim::Host::new(state),
                }
            }

            /// Freezes the simulator's clock at `now`.
            pub fn set_now(&self, now: $crate::sim::Timestamp) {
                self.host.set_now(now);
            }

            /// Moves the simulator's clock forward.
            pub fn advance(&self, by: ::std::time::Duration) {
                self.host.advance(by);
            }

            /// The simulator's clock.
            pub fn now(&self) -> $crate::sim::Timestamp {
                self.host.now()
            }

            /// The simulator's clock in Unix milliseconds.
            pub fn now_ms(&self) -> i64 {
                self.host.now().as_millisecond()
            }
        }
    };
}

pub struct SimServer {
    pub vendor: Vendor,
    pub addr: SocketAddr,
    pub faults: FaultHandle,
    task: tokio::task::JoinHandle<()>,
}

impl SimServer {
    /// A server already running as `task` (the test harness's recorded simulator).
    #[cfg(feature = "testing")]
    pub(crate) fn spawned(
        vendor: Vendor,
        addr: SocketAddr,
        faults: FaultHandle,
        task: tokio::task::JoinHandle<()>,
    ) -> Self {
        SimServer {
            vendor,
            addr,
            faults,
            task,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Removes every item `gone` picks, or answers `missing` when there was none: an
/// upstream refuses to delete what is not there, it never quietly succeeds.
pub fn remove_where<T, E>(
    items: &mut Vec<T>,
    gone: impl Fn(&T) -> bool,
    missing: E,
) -> Result<(), E> {
    let before = items.len();
    items.retain(|x| !gone(x));
    if items.len() == before {
        return Err(missing);
    }
    Ok(())
}

/// A field's value parsed, `None` when the field is absent; a value that does not parse
/// is the vendor's refusal `bad`, never read as absent (the upstream would not guess).
pub fn parsed<T: std::str::FromStr, E>(
    value: Option<&str>,
    bad: impl FnOnce() -> E,
) -> Result<Option<T>, E> {
    value.map(|v| v.parse().map_err(|_| bad())).transpose()
}

/// The simulator's router with faults applied, plus the control endpoint (never faulted).
pub fn app(sim: &dyn Simulator, faults: FaultHandle) -> Router {
    let api = sim
        .router()
        .layer(axum::middleware::from_fn_with_state(faults.clone(), inject));
    let control = Router::new()
        .route(
            FAULTS_PATH,
            get(
                |axum::extract::State(h): axum::extract::State<FaultHandle>| async move {
                    Json(h.get())
                },
            )
            .put(
                |axum::extract::State(h): axum::extract::State<FaultHandle>,
                 Json(cfg): Json<FaultConfig>| async move {
                    h.set(cfg.clone());
                    Json(cfg)
                },
            ),
        )
        .with_state(faults);
    let control = match sim.clock() {
        Some(clock) => control.merge(clock_routes(clock)),
        None => control,
    };
    control.merge(api)
}

/// The clock endpoint; outside the fault layer, like the faults endpoint, so a test
/// can always steer time.
fn clock_routes(clock: Arc<dyn ClockControl>) -> Router {
    type Clk = State<Arc<dyn ClockControl>>;
    Router::new()
        .route(
            CLOCK_PATH,
            get(|State(c): Clk| async move { Json(ClockView { now: c.now() }) }).put(
                |State(c): Clk, Json(change): Json<ClockChange>| async move {
                    if let Some(now) = change.now {
                        c.set_now(now);
                    }
                    if let Some(secs) = change.advance_secs {
                        c.advance(Duration::from_secs(secs));
                    }
                    Json(ClockView { now: c.now() })
                },
            ),
        )
        .with_state(clock)
}

/// Binds `addr` (port 0 = any free port) and serves the simulator in the background.
pub async fn serve(sim: &dyn Simulator, addr: SocketAddr) -> std::io::Result<SimServer> {
    let faults = FaultHandle::default();
    let router = app(sim, faults.clone());
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        {
            tracing::error!(error = %e, "simulator stopped");
        }
    });
    Ok(SimServer {
        vendor: sim.vendor(),
        addr,
        faults,
        task,
    })
}
