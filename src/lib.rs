//! pxesuite: drop-in replacements for ISC `dhcpd`, `xinetd` and tftp-hpa's
//! `in.tftpd`, with tooling for pxelinux configurations.
//!
//! This file only lists the modules; each owns one concern (see DESIGN.md).

#![forbid(unsafe_op_in_unsafe_fn)]
#![warn(missing_debug_implementations)]

pub mod cli;
pub mod dhcp;
pub mod diag;
pub mod lab;
pub mod pxelinux;
pub mod sys;
pub mod tftp;
pub mod xinetd;
