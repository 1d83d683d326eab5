//! dhcpd.leases: the reader (`dhcpd -T`, and later the server's start-up
//! replay). The durable store that appends and rewrites the file comes with
//! the server; it will build on `LeaseFile` and `Lease` here.

pub mod parse;

pub use parse::{load_file, load_str, Lease, LeaseFile, LeaseTime};

/// A fuzzer's entry point: arbitrary bytes as a lease file; never panics.
pub fn fuzz_parse(data: &[u8]) -> usize {
    let text = String::from_utf8_lossy(data);
    load_str("fuzz.leases", &text).leases.len()
}
