//! Every pxelinux config of the shared corpus parses without an error (P-KW):
//! unknown keywords and version gaps are warnings, never errors.

use crate::require;
use pxesuite::diag::SourceMap;
use pxesuite::pxelinux::config::{self, Version};
use std::path::{Path, PathBuf};

pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn corpus_pxelinux_configs_parse_without_errors_p_kw() {
    let dir = corpus_dir().join("pxelinux");
    require!(dir.is_dir(), "no corpus at {}", dir.display());
    let mut files = Vec::new();
    files_under(&dir, &mut files);
    assert!(files.len() >= 38, "only {} corpus files", files.len());
    let mut labels = 0;
    let mut failures = Vec::new();
    for f in &files {
        let mut map = SourceMap::new();
        let id = map.load(f, None).unwrap();
        let (cfg, diags) = config::load(map.text(id), id);
        labels += cfg.labels.len();
        let _ = config::check_keywords(&cfg, Version::MODERN);
        for d in diags.iter().filter(|d| d.is_error()) {
            failures.push(pxesuite::diag::render(d, &map));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(labels > 100, "labels found: {labels}");
}
