//! The durable side of dhcpd.leases: lease blocks in ISC's format, the
//! compacting rewrite (`<file>.<time>`, `<file>~`, rename), and a writer
//! thread that appends committed leases and fsyncs them before the caller
//! may answer — many commits waiting together share one fsync.

use super::parse::{Lease, LeaseTime};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;

/// The comment block a new file starts with (D-L-1).
pub const HEADER: &str = "\
# All times in this file are in UTC (GMT), not your local timezone.   This is
# not a bug, so please don't ask about it.   There is no portable way to
# store leases in the local timezone, so please don't request this as a
# feature.   If this is inconvenient or confusing to you, we sincerely
# apologize.   Seriously, though - don't ask.
# The format of this file is documented in the dhcpd.leases(5) manual page.
";

fn header() -> String {
    format!(
        "{HEADER}# This lease file was written by pxesuite dhcpd {}\n\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// `W YYYY/MM/DD HH:MM:SS` in UTC, W the weekday with 0 = Sunday.
pub fn format_time(t: LeaseTime) -> String {
    let secs = match t {
        LeaseTime::Never => return "never".into(),
        LeaseTime::At(s) => s,
    };
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    let wday = (days + 4).rem_euclid(7);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{wday} {y}/{m:02}/{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A quoted string as ISC writes `uid` and `client-hostname`: printable
/// ASCII as is, `"` and `\` escaped, everything else as three-digit octal.
pub fn quote(bytes: &[u8]) -> String {
    let mut s = String::from("\"");
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                s.push('\\');
                s.push(b as char);
            }
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\{b:03o}")),
        }
    }
    s.push('"');
    s
}

/// One lease block, fields in 3.0.5's order (D-L-2).
pub fn format_lease(addr: Ipv4Addr, l: &Lease) -> String {
    let mut s = format!("lease {addr} {{\n");
    let time = |s: &mut String, name: &str, t: Option<LeaseTime>| match t {
        Some(LeaseTime::At(0)) | None => {}
        Some(t) => s.push_str(&format!("  {name} {};\n", format_time(t))),
    };
    time(&mut s, "starts", l.starts);
    time(&mut s, "ends", l.ends);
    time(&mut s, "tstp", l.tstp);
    time(&mut s, "tsfp", l.tsfp);
    time(&mut s, "atsfp", l.atsfp);
    time(&mut s, "cltt", l.cltt);
    if let Some(b) = &l.binding_state {
        s.push_str(&format!("  binding state {b};\n"));
        if let Some(n) = &l.next_binding_state {
            if n != b {
                s.push_str(&format!("  next binding state {n};\n"));
            }
        }
    }
    if let Some((kind, hw)) = &l.hardware {
        let mac: Vec<String> = hw.iter().map(|b| format!("{b:02x}")).collect();
        s.push_str(&format!("  hardware {kind} {};\n", mac.join(":")));
    }
    if let Some(u) = &l.uid {
        s.push_str(&format!("  uid {};\n", quote(u)));
    }
    for (name, value) in &l.bindings {
        s.push_str(&format!("  set {name} = {value};\n"));
    }
    if let Some(h) = &l.client_hostname {
        s.push_str(&format!("  client-hostname {};\n", quote(h.as_bytes())));
    }
    for o in &l.other {
        // Only whole statements: the reader also keeps bare tokens here.
        let o = o.trim();
        if o.ends_with(';') || o.ends_with('}') {
            s.push_str(&format!("  {o}\n"));
        }
    }
    s.push_str("}\n");
    s
}

/// Whether a rewrite keeps the lease (D-L-5): it names a client or is not free.
pub fn worth_keeping(l: &Lease) -> bool {
    l.hardware.is_some() || l.uid.is_some() || l.binding_state.as_deref() != Some("free")
}

/// Rewrites `path` with `leases` as ISC does at start: a new file
/// `<path>.<time>`, the old one hard-linked to `<path>~`, then a rename.
/// Returns how many leases were written and warnings to log.
pub fn rewrite<'a>(
    path: &Path,
    leases: impl Iterator<Item = (Ipv4Addr, &'a Lease)>,
    now: i64,
) -> io::Result<(usize, Vec<String>)> {
    let mut warnings = Vec::new();
    let tmp = PathBuf::from(format!("{}.{now}", path.display()));
    let mut text = header();
    let mut n = 0;
    for (a, l) in leases {
        if worth_keeping(l) {
            text.push_str(&format_lease(a, l));
            n += 1;
        }
    }
    {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    let backup = PathBuf::from(format!("{}~", path.display()));
    match std::fs::remove_file(&backup) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => warnings.push(format!(
            "Can't remove old lease database backup {}: {e}",
            backup.display()
        )),
    }
    match std::fs::hard_link(path, &backup) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => warnings.push(format!(
            "{} is missing - no lease db to backup.",
            path.display()
        )),
        Err(e) => warnings.push(format!(
            "Can't backup lease database {} to {}: {e}",
            path.display(),
            backup.display()
        )),
    }
    std::fs::rename(&tmp, path)?;
    sync_dir(path);
    Ok((n, warnings))
}

fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

/// What the writer thread is asked to do.
enum Work {
    /// Append lease blocks.
    Append(String),
    /// Replace the file with these records (the periodic rewrite).
    Rewrite(Vec<(Ipv4Addr, Lease)>, i64),
}

type Job = (Work, mpsc::SyncSender<io::Result<Vec<String>>>);

/// The writer thread's handle: `commit` returns once the text is on disk.
#[derive(Clone, Debug)]
pub struct LeaseWriter {
    tx: mpsc::Sender<Job>,
}

impl LeaseWriter {
    /// Opens `path` for append and starts the writer thread.
    pub fn start(path: &Path) -> io::Result<LeaseWriter> {
        let file = OpenOptions::new().append(true).open(path)?;
        let (tx, rx) = mpsc::channel::<Job>();
        let path = path.to_path_buf();
        thread::Builder::new()
            .name("lease-writer".into())
            .spawn(move || writer_loop(path, file, rx))?;
        Ok(LeaseWriter { tx })
    }

    fn ask(&self, w: Work) -> io::Result<Vec<String>> {
        let (done_tx, done_rx) = mpsc::sync_channel(1);
        self.tx
            .send((w, done_tx))
            .map_err(|_| io::Error::other("lease writer stopped"))?;
        done_rx
            .recv()
            .map_err(|_| io::Error::other("lease writer stopped"))?
    }

    /// Appends `text` and waits for the fsync that covers it.
    pub fn commit(&self, text: String) -> io::Result<()> {
        self.ask(Work::Append(text)).map(|_| ())
    }

    /// Rewrites the file with `records` (see `rewrite`) between appends;
    /// returns the warnings to log.
    pub fn rewrite(&self, records: Vec<(Ipv4Addr, Lease)>, now: i64) -> io::Result<Vec<String>> {
        self.ask(Work::Rewrite(records, now))
    }
}

/// Takes every job waiting; appends are written in order and share one
/// fsync, and each caller is answered with the outcome.
fn writer_loop(path: PathBuf, mut file: File, rx: mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        let mut pending: Vec<mpsc::SyncSender<io::Result<Vec<String>>>> = Vec::new();
        let mut text = String::new();
        for (work, done) in batch {
            match work {
                Work::Append(t) => {
                    text.push_str(&t);
                    pending.push(done);
                }
                Work::Rewrite(records, now) => {
                    flush(&mut file, &mut text, &mut pending);
                    let r = rewrite(&path, records.iter().map(|(a, l)| (*a, l)), now);
                    let r = match r {
                        Ok((n, mut w)) => {
                            match OpenOptions::new().append(true).open(&path) {
                                Ok(f) => file = f,
                                Err(e) => {
                                    w.push(format!("Can't open {} for append: {e}", path.display()))
                                }
                            }
                            w.push(format!("Wrote {n} leases to leases file."));
                            Ok(w)
                        }
                        Err(e) => Err(e),
                    };
                    let _ = done.send(r);
                }
            }
        }
        flush(&mut file, &mut text, &mut pending);
    }
}

fn flush(
    file: &mut File,
    text: &mut String,
    pending: &mut Vec<mpsc::SyncSender<io::Result<Vec<String>>>>,
) {
    if pending.is_empty() {
        return;
    }
    let result = file
        .write_all(text.as_bytes())
        .and_then(|_| file.sync_data());
    for done in pending.drain(..) {
        let r = match &result {
            Ok(()) => Ok(Vec::new()),
            Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
        };
        let _ = done.send(r);
    }
    text.clear();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dhcp::leases::load_str;

    #[test]
    fn times_are_utc_with_sunday_zero() {
        // 26 Nov 2026 10:00:00 UTC is a Thursday.
        assert_eq!(
            format_time(LeaseTime::At(1_795_687_200)),
            "4 2026/11/26 10:00:00"
        );
        assert_eq!(format_time(LeaseTime::At(0)), "4 1970/01/01 00:00:00");
        assert_eq!(format_time(LeaseTime::Never), "never");
    }

    #[test]
    fn uid_quoting_matches_isc() {
        assert_eq!(
            quote(&[1, 0, 0x11, b'"', b'3', b'D', b'U']),
            "\"\\001\\000\\021\\\"3DU\""
        );
    }

    fn sample() -> Lease {
        Lease {
            address: Some(Ipv4Addr::new(192, 168, 0, 128)),
            starts: Some(LeaseTime::At(1_795_687_200)),
            ends: Some(LeaseTime::At(1_795_689_000)),
            cltt: Some(LeaseTime::At(1_795_687_200)),
            binding_state: Some("active".into()),
            next_binding_state: Some("free".into()),
            hardware: Some(("ethernet".into(), vec![0, 0x11, 0x22, 0x33, 0x44, 0x55])),
            uid: Some(vec![1, 0, 0x11, 0x22, 0x33, 0x44, 0x55]),
            client_hostname: Some("pxe-node1".into()),
            ..Lease::default()
        }
    }

    #[test]
    fn a_written_block_reads_back_the_same() {
        let l = sample();
        let text = format_lease(Ipv4Addr::new(192, 168, 0, 128), &l);
        assert!(text.starts_with(
            "lease 192.168.0.128 {\n  starts 4 2026/11/26 10:00:00;\n  ends 4 2026/11/26 10:30:00;\n  cltt 4 2026/11/26 10:00:00;\n  binding state active;\n  next binding state free;\n  hardware ethernet 00:11:22:33:44:55;\n"
        ));
        let back = load_str("t.leases", &format!("{}{text}", header()));
        assert!(!back.has_errors(), "{}", back.diagnostics_text());
        let got = &back.leases[&Ipv4Addr::new(192, 168, 0, 128)];
        assert_eq!(got.starts, l.starts);
        assert_eq!(got.ends, l.ends);
        assert_eq!(got.uid, l.uid);
        assert_eq!(got.hardware, l.hardware);
        assert_eq!(got.client_hostname, l.client_hostname);
        assert_eq!(got.binding_state, l.binding_state);
        // Read and written again, the block is unchanged (the rewrite at start).
        assert_eq!(format_lease(Ipv4Addr::new(192, 168, 0, 128), got), text);
    }

    #[test]
    fn rewrite_keeps_a_backup_and_group_commit_appends() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("dhcpd.leases");
        std::fs::write(&path, "").expect("write");
        let l = sample();
        let a = Ipv4Addr::new(192, 168, 0, 128);
        let (n, warnings) = rewrite(&path, [(a, &l)].into_iter(), 5).expect("rewrite");
        assert_eq!((n, warnings.len()), (1, 0));
        assert!(dir.path().join("dhcpd.leases~").exists());
        let w = LeaseWriter::start(&path).expect("writer");
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let w = w.clone();
                let mut l = sample();
                l.client_hostname = Some(format!("n{i}"));
                thread::spawn(move || w.commit(format_lease(Ipv4Addr::new(10, 0, 0, i), &l)))
            })
            .collect();
        for h in handles {
            assert!(matches!(h.join(), Ok(Ok(()))));
        }
        let back = super::super::load_file(&path).expect("load");
        assert!(!back.has_errors());
        assert_eq!(back.leases.len(), 5);
        // A rewrite between appends: the file is replaced, appends go on.
        let records: Vec<(Ipv4Addr, Lease)> =
            back.leases.iter().map(|(a, l)| (*a, l.clone())).collect();
        let warnings = w.rewrite(records, 6).expect("rewrite");
        assert!(warnings
            .iter()
            .any(|x| x == "Wrote 5 leases to leases file."));
        w.commit(format_lease(Ipv4Addr::new(10, 0, 0, 9), &l))
            .expect("commit");
        let back = super::super::load_file(&path).expect("load");
        assert_eq!(back.leases.len(), 6);
    }

    #[test]
    fn a_truncated_last_record_loses_only_itself() {
        let l = sample();
        let mut text = header();
        text.push_str(&format_lease(Ipv4Addr::new(192, 168, 0, 128), &l));
        let second = format_lease(Ipv4Addr::new(192, 168, 0, 129), &l);
        text.push_str(&second[..second.len() / 2]);
        let back = load_str("t.leases", &text);
        assert!(back.has_errors());
        assert!(back.leases.contains_key(&Ipv4Addr::new(192, 168, 0, 128)));
    }
}
