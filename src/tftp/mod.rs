//! The TFTP server (`in.tftpd`, reference section 5): `wire` (packet codec),
//! `options` (RFC 2347 negotiation), `netascii`, `transfer` (the state
//! machine, no sockets), `remap` (`-m` rules), `fs` (paths and permissions
//! under the root), `access` (hosts.allow/deny), `config` (flags) and
//! `server` (standalone and inetd serving).

pub mod access;
pub mod config;
pub mod fs;
pub mod netascii;
pub mod options;
pub mod remap;
pub mod server;
pub mod transfer;
pub mod wire;
