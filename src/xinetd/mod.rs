//! The super-server (`xinetd`), a drop-in for xinetd 2.3.14 (reference section 3):
//! configuration (`conf`), access control (`access`, `wrappers`), limits
//! (`limits`), the spawn plan (`launch`), internal services (`internal`), log
//! formats (`log`), the command line (`cli`), `--check-config` (`report`) and
//! the single-threaded supervisor loop (`supervisor`).

pub mod access;
pub mod cli;
pub mod conf;
pub mod internal;
pub mod launch;
pub mod limits;
pub mod log;
pub mod redirect;
pub mod report;
pub mod supervisor;
pub mod wrappers;

/// The version xinetd 2.3.14 reports; kept because log watchers grep for it.
pub const VERSION: &str = "2.3.14";
/// The compile options xinetd lists after its version.
pub const OPTIONS: &str = "libwrap loadavg";
