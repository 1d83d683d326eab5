//! The DHCP server: `conf` (dhcpd.conf to checked model), `wire` (packet codec),
//! `leases` (dhcpd.leases), `server` (allocation and the serving loop).
//! Filled in by the dhcpd issues; the foundation only reserves the place.

pub mod wire;
