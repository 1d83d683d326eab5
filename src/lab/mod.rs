//! The lab: throw-away network namespaces, a private syslog sink, daemons
//! started inside them, and the QEMU PXE boot of the reference deployment.
//! The namespace plumbing here is shared by the `pxesuite-lab` program and the
//! integration tests under `tests/`. It never touches a real interface: every
//! link it makes lives in namespaces it created and deletes.

pub mod boot;
pub mod cpio;
pub mod netns;
pub mod proc;
pub mod sink;
