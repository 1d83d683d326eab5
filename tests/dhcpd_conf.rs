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
                (row.tool == "dhcpd -t -4" || row.tool == "dhcpd -t -4 (fragment on its own)").then_some(row)
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
        let out = run_ours(&["-t", "-cf", path.to_str().unwrap_or_default()], empty.path());
        let ours_ok = out.status.code() == Some(0);
        let isc_ok = r.verdict == "accepted";
        checked += 1;
        if ours_ok != isc_ok {
            if !isc_ok && isc_rejects_only_for_ad_hoc(&r.first_error, &loaded) {
                continue;
            }
            failures.push(format!("{}: ISC {} ({}), ours {} ({:?})", r.file, r.verdict, r.first_error, if ours_ok { "accepted" } else { "rejected" }, loaded.first_isc_error()));
            continue;
        }
        if ours_ok != !loaded.has_errors() {
            failures.push(format!("{}: binary and library disagree", r.file));
        }
        if !isc_ok {
            let ours_first = loaded.first_isc_error().unwrap_or_default();
            if line_of(&r.first_error) != line_of(&ours_first) {
                failures.push(format!("{}: ISC first error `{}`, ours `{}`", r.file, r.first_error, ours_first));
            }
        }
    }
    assert!(checked >= 70, "only {checked} corpus rows");
    assert!(failures.is_empty(), "{} of {checked} rows differ:\n{}", failures.len(), failures.join("\n"));
}
