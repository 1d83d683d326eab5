//! The DHCP server's serving core. `binding` is the in-memory lease record,
//! `optenc` turns the model's typed option values into wire bytes, and
//! `engine` holds the pure decisions: (request, model, lease view, now) →
//! (reply, lease changes, log lines). Sockets, the lease file and the
//! process live elsewhere (`sys::packet`, `leases::store`, `bin/dhcpd`).

pub mod binding;
pub mod engine;
pub mod optenc;
pub mod runtime;
pub mod start;

pub use binding::{Binding, State};
pub use engine::{decide, Decision, Incoming, LeaseView, LogLine};
