//! xinetd's log formats (X-LOG): the program's own messages (syslog ident
//! `xinetd` with pid, or `-filelog FILE` lines, or stderr under `-d`), and
//! the per-service START/EXIT/FAIL records to the service's `log_type`.

use crate::sys::clock;
use crate::sys::syslog::{self, Level};
use crate::xinetd::conf::model::{FailureFlags, LogTarget, SuccessFlags};
use std::io::Write;
use std::path::PathBuf;

/// Where xinetd's own messages go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgramSink {
    /// syslog on this facility (`-syslog`, default daemon).
    Syslog(i32),
    /// `-filelog FILE`.
    File(PathBuf),
    /// `-d`: the terminal (stderr here), each line prefixed with the level and pid.
    Debug,
}

/// xinetd's word for a level in file and debug output.
pub fn level_word(level: Level) -> &'static str {
    match level {
        Level::Emerg => "EMERG",
        Level::Alert => "ALERT",
        Level::Crit => "CRITICAL",
        Level::Err => "ERROR",
        Level::Warning => "WARNING",
        Level::Notice => "NOTICE",
        Level::Info => "INFO",
        Level::Debug => "DEBUG",
    }
}

/// `YY/M/D@HH:MM:SS`: two-digit year, month and day not zero-padded, local time.
pub fn stamp() -> String {
    let t = clock::now();
    format!(
        "{:02}/{}/{}@{:02}:{:02}:{:02}",
        t.year % 100,
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second
    )
}

/// The program logger.
#[derive(Debug)]
pub struct Logger {
    pub sink: ProgramSink,
    debug: bool,
}

impl Logger {
    pub fn new(sink: ProgramSink) -> Self {
        if let ProgramSink::Syslog(f) = sink {
            syslog::open("xinetd", true, f);
        }
        let debug = sink == ProgramSink::Debug;
        Logger { sink, debug }
    }

    /// Logs one program message. DEBUG messages are shown only under `-d` or in a file log.
    pub fn msg(&self, level: Level, text: &str) {
        match &self.sink {
            ProgramSink::Syslog(_) => {
                if level != Level::Debug {
                    syslog::log(level, text)
                }
            }
            ProgramSink::File(p) => {
                let line = format!(
                    "{} xinetd[{}]: {}: {}\n",
                    stamp(),
                    std::process::id(),
                    level_word(level),
                    text
                );
                append(p, &line);
            }
            ProgramSink::Debug => {
                let _ = writeln!(
                    std::io::stderr(),
                    "{}: {}: {} {}",
                    stamp(),
                    level_word(level),
                    std::process::id(),
                    text
                );
            }
        }
        let _ = self.debug;
    }

    /// Writes one service record to its target (X-LOG-2).
    pub fn record(&self, target: Option<&LogTarget>, text: &str) {
        match target {
            None => {}
            Some(LogTarget::Syslog {
                facility, level, ..
            }) => {
                if let ProgramSink::Syslog(_) = self.sink {
                    syslog::log_with_facility(*level, *facility, text);
                } else {
                    // Service records still go to syslog when the program logs elsewhere.
                    syslog::open("xinetd", true, *facility);
                    syslog::log_with_facility(*level, *facility, text);
                }
            }
            Some(LogTarget::File { path, hard, .. }) => {
                if let Some(h) = hard {
                    if std::fs::metadata(path)
                        .map(|m| m.len() >= *h)
                        .unwrap_or(false)
                    {
                        return;
                    }
                }
                append(path, &format!("{}: {}\n", stamp(), text));
            }
        }
    }
}

fn append(path: &PathBuf, line: &str) {
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = f.write_all(line.as_bytes());
    }
}

/// `START: <id>[ pid=<pid>][ from=<addr>]`
pub fn start_line(id: &str, pid: u32, addr: &str, flags: &SuccessFlags) -> String {
    let mut s = format!("START: {id}");
    if flags.pid {
        s.push_str(&format!(" pid={pid}"));
    }
    if flags.host {
        s.push_str(&format!(" from={addr}"));
    }
    s
}

/// How a server ended, for EXIT lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Status(i32),
    Signal(i32),
}

/// `EXIT: <id>[ status=<n>| signal=<n>][ pid=<pid>][ duration=<s>(sec)]`
pub fn exit_line(id: &str, ended: Ended, pid: u32, secs: u64, flags: &SuccessFlags) -> String {
    let mut s = format!("EXIT: {id}");
    if flags.exit {
        match ended {
            Ended::Status(n) => s.push_str(&format!(" status={n}")),
            Ended::Signal(n) => s.push_str(&format!(" signal={n}")),
        }
    }
    if flags.pid {
        s.push_str(&format!(" pid={pid}"));
    }
    if flags.duration {
        s.push_str(&format!(" duration={secs}(sec)"));
    }
    s
}

/// `FAIL: <id> <reason>[ from=<addr>]`
pub fn fail_line(id: &str, reason: &str, addr: &str, flags: &FailureFlags) -> String {
    let mut s = format!("FAIL: {id} {reason}");
    if flags.host {
        s.push_str(&format!(" from={addr}"));
    }
    s
}

/// EXIT lines are written when EXIT or DURATION is set (X-LOG-2).
pub fn wants_exit(flags: &SuccessFlags) -> bool {
    flags.exit || flags.duration
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_follow_the_flags() {
        let all = SuccessFlags {
            pid: true,
            host: true,
            exit: true,
            duration: true,
            ..Default::default()
        };
        assert_eq!(
            start_line("tftp", 9760, "10.77.0.20", &all),
            "START: tftp pid=9760 from=10.77.0.20"
        );
        assert_eq!(
            exit_line("sleeper", Ended::Status(0), 10858, 6, &all),
            "EXIT: sleeper status=0 pid=10858 duration=6(sec)"
        );
        let host = FailureFlags {
            host: true,
            ..Default::default()
        };
        assert_eq!(
            fail_line(
                "burst",
                "connections per second",
                "::ffff:10.77.0.20",
                &host
            ),
            "FAIL: burst connections per second from=::ffff:10.77.0.20"
        );
        assert_eq!(
            start_line("x", 1, "a", &SuccessFlags::default()),
            "START: x"
        );
    }

    #[test]
    fn stamp_has_xinetd_shape() {
        let s = stamp();
        let (date, time) = s.split_once('@').unwrap();
        assert_eq!(date.split('/').count(), 3);
        assert_eq!(time.len(), 8);
    }
}
