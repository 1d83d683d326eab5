//! The DHCP server: `conf` (dhcpd.conf to checked model), `leases`
//! (dhcpd.leases reader), and later `wire` (packet codec) and `server`
//! (allocation and the serving loop).

pub mod conf;
pub mod leases;
