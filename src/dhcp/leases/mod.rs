//! dhcpd.leases: the reader (`dhcpd -T`, and the server's start-up replay)
//! and the durable store (`store`) that appends and rewrites the file.

pub mod parse;
pub mod store;

pub use parse::{load_file, load_str, Lease, LeaseFile, LeaseTime};

/// A fuzzer's entry point: arbitrary bytes as a lease file; never panics.
pub fn fuzz_parse(data: &[u8]) -> usize {
    let text = String::from_utf8_lossy(data);
    load_str("fuzz.leases", &text).leases.len()
}
