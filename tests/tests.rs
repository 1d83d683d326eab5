//! The one integration-test binary: every module below is a group of tests in
//! network namespaces with real clients and peers. Shared helpers live in
//! `harness`.

mod harness;

mod foundation;
mod lab;
mod xinetd;
