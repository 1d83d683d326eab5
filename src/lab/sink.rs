//! A private syslog sink: a datagram socket of our own that daemons started by
//! `proc::spawn` see as `/dev/log` (these machines have none). Every record is
//! kept in order, parsed into ident, pid and message, for tests to wait on.

use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A scratch directory removed (recursively) on drop.
#[derive(Debug)]
pub struct ScratchDir {
    path: PathBuf,
    keep: bool,
}

impl ScratchDir {
    pub fn new(prefix: &str) -> io::Result<ScratchDir> {
        let path =
            std::env::temp_dir().join(format!("pxesuite-{}", super::netns::unique_name(prefix)));
        std::fs::create_dir_all(&path)?;
        Ok(ScratchDir { path, keep: false })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Keeps the directory after drop (the lab's `--keep`).
    pub fn keep(&mut self) {
        self.keep = true;
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// One syslog record as glibc's syslog(3) formats it: `<PRI>Mmm dd hh:mm:ss ident[pid]: msg`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub facility: u8,
    pub severity: u8,
    pub ident: String,
    pub pid: Option<u32>,
    pub msg: String,
}

impl Record {
    /// Parses a record; text that does not fit the format is kept whole as the message.
    pub fn parse(raw: &str) -> Record {
        let raw = raw.trim_end_matches(['\n', '\0']);
        let mut pri = 13u32; // user.notice, syslog's default
        let mut rest = raw;
        if let Some(r) = raw.strip_prefix('<') {
            if let Some(end) = r.find('>') {
                if let Ok(p) = r[..end].parse() {
                    pri = p;
                    rest = &r[end + 1..];
                }
            }
        }
        // Skip the "Mmm dd hh:mm:ss " timestamp (15 characters plus a space) when present.
        if rest.len() > 16
            && rest.as_bytes().get(15) == Some(&b' ')
            && rest.as_bytes().get(2) != Some(&b':')
        {
            rest = &rest[16..];
        }
        let (ident, pid, msg) = match rest.find(": ") {
            Some(i) if !rest[..i].contains(' ') => {
                let tag = &rest[..i];
                let msg = rest[i + 2..].to_string();
                match tag.find('[') {
                    Some(b) if tag.ends_with(']') => (
                        tag[..b].to_string(),
                        tag[b + 1..tag.len() - 1].parse().ok(),
                        msg,
                    ),
                    _ => (tag.to_string(), None, msg),
                }
            }
            _ => (String::new(), None, rest.to_string()),
        };
        Record {
            facility: (pri >> 3) as u8,
            severity: (pri & 7) as u8,
            ident,
            pid,
            msg,
        }
    }

    /// `ident[pid]: msg` or `ident: msg`, as a log file would show it.
    pub fn line(&self) -> String {
        match self.pid {
            Some(p) => format!("{}[{}]: {}", self.ident, p, self.msg),
            None => format!("{}: {}", self.ident, self.msg),
        }
    }
}

#[derive(Debug, Default)]
struct Shared {
    records: Mutex<Vec<Record>>,
    arrived: Condvar,
}

/// The sink: a bound socket and a thread that collects records.
#[derive(Debug)]
pub struct SyslogSink {
    dir: ScratchDir,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SyslogSink {
    pub fn new() -> io::Result<SyslogSink> {
        let dir = ScratchDir::new("log")?;
        let path = dir.path().join("log");
        let sock = UnixDatagram::bind(&path)?;
        // World-writable, as /dev/log is: daemons that dropped root must still log.
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o666))?;
        std::fs::create_dir_all(dir.path().join("realdev"))?;
        sock.set_read_timeout(Some(Duration::from_millis(100)))?;
        let shared = Arc::new(Shared::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (s2, stop2) = (shared.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            while !stop2.load(Ordering::Relaxed) {
                if let Ok(n) = sock.recv(&mut buf) {
                    let rec = Record::parse(&String::from_utf8_lossy(&buf[..n]));
                    if let Ok(mut v) = s2.records.lock() {
                        v.push(rec);
                    }
                    s2.arrived.notify_all();
                }
            }
        });
        Ok(SyslogSink {
            dir,
            shared,
            stop,
            thread: Some(thread),
        })
    }

    /// The socket that stands in for `/dev/log`.
    pub fn socket_path(&self) -> PathBuf {
        self.dir.path().join("log")
    }

    /// A directory private to this sink (used for the sandbox's view of the real /dev).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn records(&self) -> Vec<Record> {
        self.shared
            .records
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default()
    }

    /// Every record as `ident[pid]: msg`.
    pub fn lines(&self) -> Vec<String> {
        self.records().iter().map(Record::line).collect()
    }

    /// Waits until a record satisfies `pred`, returning it, or `None` at the deadline.
    pub fn wait_for(&self, timeout: Duration, pred: impl Fn(&Record) -> bool) -> Option<Record> {
        let deadline = Instant::now() + timeout;
        let mut guard = self.shared.records.lock().ok()?;
        loop {
            if let Some(r) = guard.iter().find(|r| pred(r)) {
                return Some(r.clone());
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            guard = self
                .shared
                .arrived
                .wait_timeout(guard, deadline - now)
                .ok()?
                .0;
        }
    }

    /// Waits for a record whose message contains `needle`.
    pub fn wait_for_msg(&self, timeout: Duration, needle: &str) -> Option<Record> {
        self.wait_for(timeout, |r| r.msg.contains(needle))
    }
}

impl Drop for SyslogSink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_glibc_records_with_and_without_pid() {
        let r =
            Record::parse("<30>Nov 29 05:11:43 dhcpd: DHCPDISCOVER from 52:54:00:12:34:56 via br0");
        assert_eq!(r.ident, "dhcpd");
        assert_eq!(r.pid, None);
        assert_eq!(r.facility, 3);
        assert_eq!(r.severity, 6);
        assert_eq!(r.msg, "DHCPDISCOVER from 52:54:00:12:34:56 via br0");
        let r = Record::parse(
            "<30>Nov  9 05:11:43 in.tftpd[77]: RRQ from 192.168.0.130 filename pxelinux.0",
        );
        assert_eq!(r.ident, "in.tftpd");
        assert_eq!(r.pid, Some(77));
        assert_eq!(
            r.line(),
            "in.tftpd[77]: RRQ from 192.168.0.130 filename pxelinux.0"
        );
    }

    #[test]
    fn collects_datagrams_and_wakes_waiters() {
        let sink = SyslogSink::new().unwrap();
        let c = UnixDatagram::unbound().unwrap();
        c.send_to(b"<13>Nov 29 05:11:43 x[1]: hello world", sink.socket_path())
            .unwrap();
        let r = sink.wait_for_msg(Duration::from_secs(5), "hello").unwrap();
        assert_eq!(r.ident, "x");
        assert!(sink
            .wait_for_msg(Duration::from_millis(10), "absent")
            .is_none());
    }
}
