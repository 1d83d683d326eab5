//! What `dhcpd -t` and `--check-config` print for a loaded configuration:
//! our diagnostics for stderr, ISC's shape for syslog (reference
//! D-MSG-parse), ISC's summary line, and the `--check-config` warnings for
//! statements pxesuite parses but does not act on yet.

use super::{render_isc, Loaded};
use crate::diag::{render, Diagnostic};

/// ISC's closing line after parse errors.
pub const ERRORS_ENCOUNTERED: &str = "Configuration file errors encountered -- exiting";

/// The fatal trailer of dhcpd 3.0.5 (reference D-MSG-trailer): tools grep
/// its first line and `exiting.`.
pub const TRAILER: &[&str] = &[
    "",
    "If you did not get this software from ftp.isc.org, please",
    "get the latest from ftp.isc.org and install that before",
    "requesting help.",
    "",
    "If you did get this software from ftp.isc.org and have not",
    "yet read the README, please read it before requesting help.",
    "If you intend to request help from the dhcp-server@isc.org",
    "mailing list, please read the section on the README about",
    "submitting bug reports and requests for help.",
    "",
    "Please do not under any circumstances send requests for",
    "help directly to the authors of this software - please",
    "send them to the appropriate mailing list as described in",
    "the README file.",
    "",
    "exiting.",
];

/// Our diagnostics, every finding in order, rendered for stderr.
pub fn diagnostics_text(l: &Loaded) -> String {
    let mut out = String::new();
    for f in &l.findings {
        out.push_str(&render(&f.diag, &l.map));
    }
    out
}

/// ISC's lines for syslog: each error's `FILE line N: MSG`, source and caret.
pub fn isc_lines(l: &Loaded) -> Vec<String> {
    let mut out = Vec::new();
    for f in l.errors() {
        if let Some(e) = &f.isc {
            out.extend(render_isc(e, f.diag.span, &l.map));
        }
    }
    out
}

/// The line that ends a failed check: ISC's summary after parse errors, or
/// the fatal message itself when ISC stopped on one without a line.
pub fn summary_line(l: &Loaded) -> Option<String> {
    if !l.has_errors() {
        return None;
    }
    let parse_errors = l
        .errors()
        .any(|f| f.isc.as_ref().is_some_and(|e| e.line.is_some()));
    if parse_errors {
        return Some(ERRORS_ENCOUNTERED.to_string());
    }
    l.errors()
        .find_map(|f| f.isc.as_ref().map(|e| e.message.clone()))
        .or_else(|| Some(ERRORS_ENCOUNTERED.to_string()))
}

/// `--check-config` warnings: every statement kept but not acted on yet, and
/// the consequences of failover and OMAPI.
pub fn not_implemented_warnings(l: &Loaded) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (what, span) in &l.not_implemented {
        let msg = if what.starts_with("failover peer") {
            format!("{what}: failover is not implemented; with two servers running, both would lease the same pool")
        } else if what == "omapi-port" || what == "omapi-key" {
            format!("{what}: OMAPI is not implemented; OMAPI clients (Foreman's smart-proxy, Cobbler, omshell) cannot connect")
        } else {
            format!("{what}: parsed, but pxesuite does not act on it yet")
        };
        if seen.insert(msg.clone()) {
            out.push(Diagnostic::warning("not-implemented", Some(*span), msg));
        }
    }
    out
}
