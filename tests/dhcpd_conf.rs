//! dhcpd.conf front end against ISC dhcpd 4.4: verdict and first-error line
//! parity on the third-party corpus (../shared/corpus, EXPECTED.tsv), the
//! same files through the real `/usr/sbin/dhcpd -t`, and `dhcpd -t`/`-q`/`-T`
//! exit codes (reference D-ST-6, D-ST-7, D-ST-8, D-MSG-parse, D-CC-1).

use crate::harness::{self, ours};
use crate::require;
use pxesuite::dhcp::conf;
use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

/// One row of EXPECTED.tsv that `dhcpd -t -4` judged.
struct Row {
    file: String,
    tool: String,
    verdict: String,
    first_error: String,
}

fn rows() -> Option<Vec<Row>> {
    let text = std::fs::read_to_string(corpus_dir().join("EXPECTED.tsv")).ok()?;
    Some(
        text.lines()
            .skip(1)
            .filter_map(|l| {
                let c: Vec<&str> = l.split('\t').collect();
                let row = Row {
                    file: c.first()?.to_string(),
                    tool: c.get(1)?.to_string(),
                    verdict: c.get(2)?.to_string(),
                    first_error: c.get(4).unwrap_or(&"").to_string(),
                };
                (row.tool == "dhcpd -t -4" || row.tool == "dhcpd -t -4 (fragment on its own)")
                    .then_some(row)
            })
            .collect(),
    )
}

/// The one allowed difference (reference D-ST-6, union rule): ISC 4.4
/// refuses `ddns-update-style ad-hoc`, which 3.0.5 accepts and so do we.
fn isc_rejects_only_for_ad_hoc(first_error: &str, ours: &conf::Loaded) -> bool {
    first_error.contains("ddns-update-style ad_hoc no longer supported") && !ours.has_errors()
}

/// `line N` of a first-error text, if it has one.
fn line_of(first_error: &str) -> Option<&str> {
    let rest = &first_error[first_error.find("line ")? + 5..];
    rest.split(':').next()
}

/// Runs our `dhcpd -t` from an empty directory (as EXPECTED.tsv was made).
fn run_ours(args: &[&str], cwd: &Path) -> std::process::Output {
    let mut cmd = Command::new(ours("dhcpd"));
    cmd.args(args).current_dir(cwd);
    match cmd.output() {
        Ok(o) => o,
        Err(e) => panic!("cannot run our dhcpd: {e}"),
    }
}

/// D-MSG-parse, D-ST-6: every corpus file ISC 4.4 judged with `-t -4` gets the
/// same verdict from us, and for rejected files our first error names ISC's line.
#[test]
fn corpus_verdicts_and_first_error_lines_match_isc() {
    let Some(rows) = rows() else {
        require!(false, "no ../shared/corpus/EXPECTED.tsv");
        return;
    };
    let empty = tempfile::tempdir().expect("tempdir");
    let mut failures = Vec::new();
    let mut checked = 0;
    for r in &rows {
        let path = corpus_dir().join(&r.file);
        let loaded = conf::load_file(&path);
        let out = run_ours(
            &["-t", "-cf", path.to_str().unwrap_or_default()],
            empty.path(),
        );
        let ours_ok = out.status.code() == Some(0);
        let isc_ok = r.verdict == "accepted";
        checked += 1;
        if ours_ok != isc_ok {
            if !isc_ok && isc_rejects_only_for_ad_hoc(&r.first_error, &loaded) {
                continue;
            }
            failures.push(format!(
                "{}: ISC {} ({}), ours {} ({:?})",
                r.file,
                r.verdict,
                r.first_error,
                if ours_ok { "accepted" } else { "rejected" },
                loaded.first_isc_error()
            ));
            continue;
        }
        if ours_ok == loaded.has_errors() {
            failures.push(format!("{}: binary and library disagree", r.file));
        }
        if !isc_ok {
            let ours_first = loaded.first_isc_error().unwrap_or_default();
            if line_of(&r.first_error) != line_of(&ours_first) {
                failures.push(format!(
                    "{}: ISC first error `{}`, ours `{}`",
                    r.file, r.first_error, ours_first
                ));
            }
        }
    }
    assert!(checked >= 70, "only {checked} corpus rows");
    assert!(
        failures.is_empty(),
        "{} of {checked} rows differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The real ISC dhcpd's verdict on a file: accepted, and its first error as
/// `line N: message` (path removed) or a bare fatal message.
pub fn isc_verdict(path: &Path, cwd: &Path) -> Option<(bool, Option<String>)> {
    let out = Command::new(harness::peers::ISC_DHCPD)
        .args(["-t", "-4", "-cf"])
        .arg(path)
        .current_dir(cwd)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    let first = first_isc_line(&text, path);
    Some((out.status.code() == Some(0), first))
}

/// The first error line in ISC's stderr, normalised like EXPECTED.tsv.
pub fn first_isc_line(stderr: &str, path: &Path) -> Option<String> {
    let p = path.display().to_string();
    let banner = [
        "Internet Systems",
        "Copyright",
        "All rights",
        "For info",
        "Config file:",
        "Database file:",
        "PID file:",
    ];
    stderr.lines().find_map(|l| {
        if let Some(rest) = l.strip_prefix(&format!("{p} ")) {
            return Some(rest.to_string());
        }
        if l.contains(" line ") && l.contains(": ") {
            return Some(l.to_string());
        }
        if l.starts_with("Can't open")
            || l.starts_with("bad range")
            || l.starts_with("OMAPI key")
            || l.contains("no longer supported")
        {
            return Some(l.to_string());
        }
        let _ = banner;
        None
    })
}

/// D-ST-6 live: the same corpus files through the real `/usr/sbin/dhcpd -t`
/// now, so a difference in the installed ISC build shows up here too.
#[test]
fn corpus_live_differential_against_isc_dhcpd() {
    let Some(rows) = rows() else {
        require!(false, "no ../shared/corpus/EXPECTED.tsv");
        return;
    };
    require!(
        Path::new(harness::peers::ISC_DHCPD).exists(),
        "missing peer {}",
        harness::peers::ISC_DHCPD
    );
    let empty = tempfile::tempdir().expect("tempdir");
    let mut failures = Vec::new();
    for r in rows.iter().filter(|r| r.tool == "dhcpd -t -4") {
        let path = corpus_dir().join(&r.file);
        let Some((isc_ok, isc_first)) = isc_verdict(&path, empty.path()) else {
            failures.push(format!("{}: could not run ISC dhcpd", r.file));
            continue;
        };
        let loaded = conf::load_file(&path);
        let ours_ok = !loaded.has_errors();
        let isc_first = isc_first.unwrap_or_default();
        // the one allowed exception: ISC 4.4 rejects only for `ddns-update-style ad-hoc`
        let allowed = !isc_ok && isc_rejects_only_for_ad_hoc(&isc_first, &loaded);
        if ours_ok != isc_ok && !allowed {
            failures.push(format!(
                "{}: ISC {isc_ok} `{isc_first}`, ours {ours_ok} {:?}",
                r.file,
                loaded.first_isc_error()
            ));
        } else if !isc_ok
            && !ours_ok
            && line_of(&isc_first) != line_of(&loaded.first_isc_error().unwrap_or_default())
        {
            failures.push(format!(
                "{}: ISC `{isc_first}`, ours {:?}",
                r.file,
                loaded.first_isc_error()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write fixture");
    p
}

const GOOD: &str = "ddns-update-style none;\nsubnet 10.9.0.0 netmask 255.255.255.0 {\n  range 10.9.0.10 10.9.0.20;\n  next-server 10.9.0.1;\n  filename \"pxelinux.0\";\n}\n";
const BAD: &str = "subnet 10.9.0.0 netmask 255.255.255.0 {\n  option routers 10.9.0.1\n  range 10.9.0.10 10.9.0.20;\n}\n";

/// D-ST-7, D-MSG-parse: `-t` exits 0 on a clean file and 1 on an error,
/// with our `FILE:LINE:COL` diagnostic then ISC's summary line on stderr.
#[test]
fn dhcpd_t_exit_codes_and_stderr_shape() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = write(dir.path(), "good.conf", GOOD);
    let bad = write(dir.path(), "bad.conf", BAD);
    let o = run_ours(&["-t", "-cf", "good.conf"], dir.path());
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = run_ours(&["-t", "-cf", "bad.conf"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.conf:3:3: error: semicolon expected\n"),
        "{err}"
    );
    assert!(
        err.contains("\nConfiguration file errors encountered -- exiting\n"),
        "{err}"
    );
    assert!(err.trim_end().ends_with("exiting."), "{err}");
    let _ = (good, bad);
}

/// D-INIT-7, 2.3 `-q`: `-q -t` prints nothing at all, even on errors; the
/// exit status is the only verdict.
#[test]
fn dhcpd_q_t_is_silent() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "good.conf", GOOD);
    write(dir.path(), "bad.conf", BAD);
    for (f, code) in [("good.conf", 0), ("bad.conf", 1)] {
        let o = run_ours(&["-q", "-t", "-cf", f], dir.path());
        assert_eq!(o.status.code(), Some(code));
        assert!(
            o.stderr.is_empty() && o.stdout.is_empty(),
            "{f}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// D-ST-6 union rule: a config without `ddns-update-style` (fatal in 3.0.5)
/// and one with `ad-hoc` (fatal in 4.4) both pass `-t` with a warning.
#[test]
fn ddns_update_style_union_rule() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "none.conf",
        "subnet 10.9.0.0 netmask 255.255.255.0 { }\n",
    );
    write(dir.path(), "adhoc.conf", "ddns-update-style ad-hoc;\n");
    for f in ["none.conf", "adhoc.conf"] {
        let o = run_ours(&["-t", "-cf", f], dir.path());
        assert_eq!(o.status.code(), Some(0), "{f}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("warning: "),
            "{f}"
        );
    }
}

/// D-ST-8: `-T` reads the lease file too; a missing one is fatal with
/// ISC's words, a clean one exits 0, a broken one exits 1.
#[test]
fn dhcpd_big_t_reads_the_lease_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "good.conf", GOOD);
    let o = run_ours(
        &["-T", "-cf", "good.conf", "-lf", "missing.leases"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("Can't open lease database missing.leases: No such file or directory --\n  check for failed database rewrite attempt!"), "{err}");
    write(dir.path(), "ok.leases", "lease 10.9.0.10 {\n  starts 4 2026/11/26 10:00:00;\n  ends never;\n  binding state active;\n  hardware ethernet 00:11:22:33:44:55;\n}\n");
    let o = run_ours(&["-T", "-cf", "good.conf", "-lf", "ok.leases"], dir.path());
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    write(
        dir.path(),
        "bad.leases",
        "lease 10.9.0.10 {\n  starts 4 2026/11/26;\n}\n",
    );
    let o = run_ours(&["-T", "-cf", "good.conf", "-lf", "bad.leases"], dir.path());
    assert_eq!(o.status.code(), Some(1));
}

/// D-CC-1, D-CC-2: `--check-config` gives `-t`'s verdict, a summary on
/// success, and names statements that parse but do nothing yet.
#[test]
fn check_config_summary_and_not_implemented_warnings() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "c.conf", &format!("omapi-port 7911;\nfailover peer \"f\" {{ primary; address 10.9.0.1; peer address 10.9.0.2; split 128; mclt 60; }}\n{GOOD}subnet 10.8.0.0 netmask 255.255.255.0 {{ pool {{ failover peer \"f\"; range 10.8.0.10 10.8.0.19; }} }}\n"));
    let o = run_ours(&["--check-config", "-cf", "c.conf"], dir.path());
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        out.contains("10.9.0.0/24 (1 range, 11 free addresses)"),
        "{out}"
    );
    assert!(
        out.contains("boot: next-server 10.9.0.1, filename \"pxelinux.0\""),
        "{out}"
    );
    assert!(err.contains("OMAPI clients"), "{err}");
    assert!(err.contains("both would lease the same pool"), "{err}");
    write(dir.path(), "bad.conf", BAD);
    assert_eq!(
        run_ours(&["--check-config", "-cf", "bad.conf"], dir.path())
            .status
            .code(),
        Some(1)
    );
}

/// D-MSG-usage: an unknown flag prints the 3.0.5 usage and exits 1.
#[test]
fn unknown_flag_prints_usage_and_exits_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = run_ours(&["-x"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("Usage: dhcpd [-p <UDP port #>] [-d] [-f]\n"),
        "{err}"
    );
    assert!(err.contains("\n\t\t   [-tf trace-output-file]\n"), "{err}");
}

/// D-F-3: `PATH_DHCPD_CONF` names the config when `-cf` is absent.
#[test]
fn path_dhcpd_conf_overrides_the_default() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "env.conf", BAD);
    let o = Command::new(ours("dhcpd"))
        .args(["-t"])
        .env("PATH_DHCPD_CONF", "env.conf")
        .current_dir(dir.path())
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("env.conf:3:3:"));
}

fn compat_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("compat/dhcpd")
}

/// Every golden case: (folder, name).
fn golden_cases() -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for sub in ["ok", "err"] {
        let dir = compat_dir().join(sub);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_suffix(".conf"))
                    .map(str::to_string)
            })
            .collect();
        names.sort();
        out.extend(names.into_iter().map(|n| (dir.clone(), n)));
    }
    out
}

/// Our stderr without the banner line (it names the version).
fn stderr_without_banner(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter(|l| !l.starts_with("pxesuite dhcpd "))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// compat/dhcpd golden cases (STYLE.md §9): our stderr and exit status for
/// `dhcpd -t -cf NAME.conf` match NAME.stderr and NAME.status (`BLESS=1`
/// rewrites them), and our verdict and first-error line match ISC's own,
/// recorded in NAME.isc by compat/dhcpd/record-isc.sh, unless NAME.differs
/// explains why not.
#[test]
fn golden_cases_match_and_agree_with_isc() {
    let bless = std::env::var("BLESS").is_ok_and(|v| v == "1");
    let cases = golden_cases();
    assert!(cases.len() >= 60, "only {} golden cases", cases.len());
    let mut failures = Vec::new();
    for (dir, name) in &cases {
        let o = run_ours(&["-t", "-cf", &format!("{name}.conf")], dir);
        let got_err = stderr_without_banner(&o);
        let got_status = format!("{}\n", o.status.code().unwrap_or(-1));
        let err_path = dir.join(format!("{name}.stderr"));
        let status_path = dir.join(format!("{name}.status"));
        if bless {
            std::fs::write(&err_path, &got_err).expect("bless stderr");
            std::fs::write(&status_path, &got_status).expect("bless status");
        }
        let want_err = std::fs::read_to_string(&err_path).unwrap_or_default();
        let want_status = std::fs::read_to_string(&status_path).unwrap_or_default();
        if got_err != want_err || got_status != want_status {
            failures.push(format!("{name}: output differs\n--- want (status {want_status})\n{want_err}--- got (status {got_status})\n{got_err}"));
        }
        if dir.join(format!("{name}.differs")).exists() {
            continue;
        }
        let isc = std::fs::read_to_string(dir.join(format!("{name}.isc"))).unwrap_or_default();
        let isc_ok = isc.lines().any(|l| l == "status 0");
        let isc_first = isc
            .lines()
            .find(|l| !l.starts_with("status "))
            .unwrap_or("");
        let ours_ok = o.status.code() == Some(0);
        if isc_ok != ours_ok {
            failures.push(format!(
                "{name}: ISC {} ({isc_first}), ours {}",
                if isc_ok { "accepts" } else { "rejects" },
                if ours_ok { "accepts" } else { "rejects" }
            ));
            continue;
        }
        if !isc_ok {
            let prev = std::env::current_dir().ok();
            let loaded = conf::load_file(&dir.join(format!("{name}.conf")));
            let _ = prev;
            let ours_first = loaded.first_isc_error().unwrap_or_default();
            if line_of(isc_first).is_some() && line_of(isc_first) != line_of(&ours_first) {
                failures.push(format!("{name}: ISC `{isc_first}`, ours `{ours_first}`"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every diagnostic kind the front end can emit has a golden case that shows it.
#[test]
fn every_diagnostic_kind_has_a_golden_case() {
    let mut seen = std::collections::BTreeSet::new();
    for (dir, name) in golden_cases() {
        let path = dir.join(format!("{name}.conf"));
        // Relative includes resolve from the case's folder, as the binary runs there.
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let loaded = if text.contains("include") {
            let out = Command::new(ours("dhcpd"))
                .args(["-t", "-cf", &format!("{name}.conf")])
                .current_dir(&dir)
                .output()
                .expect("run");
            let _ = out;
            conf::load_file(&path)
        } else {
            conf::load_file(&path)
        };
        for f in &loaded.findings {
            seen.insert(f.diag.kind);
        }
        for w in conf::report::not_implemented_warnings(&loaded) {
            seen.insert(w.kind);
        }
    }
    // Includes are opened relative to the working directory, as ISC does.
    for (dir, name) in golden_cases() {
        let here = std::env::current_dir().ok();
        let _ = here;
        let text = std::fs::read_to_string(dir.join(format!("{name}.conf"))).unwrap_or_default();
        if text.contains("include") {
            let o = run_ours(&["-t", "-cf", &format!("{name}.conf")], &dir);
            let err = String::from_utf8_lossy(&o.stderr);
            if err.contains("cannot open") {
                seen.insert("cannot-open");
            }
            if err.contains("includes nested more than") {
                seen.insert("include-depth");
            }
        }
    }
    let missing: Vec<&&str> = conf::KINDS.iter().filter(|k| !seen.contains(**k)).collect();
    assert!(
        missing.is_empty(),
        "diagnostic kinds without a golden case: {missing:?}"
    );
}
