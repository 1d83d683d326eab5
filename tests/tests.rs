//! The one integration-test binary: every module below is a group of tests in
//! network namespaces with real clients and peers. Shared helpers live in
//! `harness`.

mod harness;

mod dhcp_wire;
pub mod dhcpd_conf;
mod dhcpd_differential;
mod dhcpd_server;
mod foundation;
mod lab;
mod pxelinux_corpus;
mod tftp;
mod xinetd;
