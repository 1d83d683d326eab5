//! The DHCP server: `conf` (dhcpd.conf to checked model), `leases`
//! (dhcpd.leases reader), `wire` (packet and option codec), and later
//! `server` (allocation and the serving loop).

pub mod conf;
pub mod leases;
pub mod server;
pub mod wire;
