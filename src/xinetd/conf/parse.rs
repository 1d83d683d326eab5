//! Reading the configuration tree as xinetd 2.3.14 does (X-SYN-1..4): the
//! pest grammar gives every line its shape, and a small state machine walks
//! the lines: an entry head, a lone `{`, attribute lines, a lone `}`.
//! `include` and `includedir` are followed where they stand, so entries come
//! out in xinetd's reading order (which matters for `defaults`, X-DEF-1).

use super::ast::{Attr, Entry, EntryKind, Op, Value};
use super::Finding;
use crate::diag::{FileId, SourceMap, Span};
use crate::sys::syslog::Level;
use pest::iterators::Pair;
use pest::Parser;
use std::path::{Path, PathBuf};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/xinetd.pest"]
struct XinetdGrammar;

/// How deep `include`s may nest before we call it a loop.
const MAX_DEPTH: usize = 16;

/// The shape of one line, from the grammar.
#[derive(Debug, Clone)]
enum Shape {
    Blank,
    Comment,
    Open,
    Close,
    Assign(Attr),
    Words(Vec<Value>),
}

/// Reads the main file and its includes. None when the main file cannot be
/// opened (X-ST-5: xinetd gives up).
pub fn read_tree(
    main: &Path,
    map: &mut SourceMap,
    findings: &mut Vec<Finding>,
) -> Option<Vec<Entry>> {
    let mut entries = Vec::new();
    read_tree_with(main, map, findings, &mut |e, _| {
        if !e.dropped {
            entries.push(e)
        }
    })?;
    Some(entries)
}

/// Reads the tree and hands each complete entry to `on_entry` as soon as its
/// `}` is read, so that attribute messages and parser messages come out in
/// xinetd's reading order. None when the main file cannot be opened.
pub fn read_tree_with(
    main: &Path,
    map: &mut SourceMap,
    findings: &mut Vec<Finding>,
    on_entry: &mut dyn FnMut(Entry, &mut Vec<Finding>),
) -> Option<()> {
    let id = match map.load(main, None) {
        Ok(id) => id,
        Err(e) => {
            findings.push(Finding::plain(
                Level::Err,
                format!("open( {} ) failed: {}", main.display(), errno_text(&e)),
            ));
            return None;
        }
    };
    read_file(id, map, findings, on_entry, 0);
    Some(())
}

/// `%m` as xinetd renders it: `<strerror> (errno = <n>)`.
pub fn errno_text(e: &std::io::Error) -> String {
    let n = e.raw_os_error().unwrap_or(0);
    let text = e.to_string();
    let plain = text.split(" (os error").next().unwrap_or(&text).to_string();
    format!("{plain} (errno = {n})")
}

/// Parses one file's text into line shapes (never fails: the grammar takes any text).
fn shapes(file: FileId, text: &str) -> Vec<(Span, Shape)> {
    let mut out = Vec::new();
    let pairs = match XinetdGrammar::parse(Rule::file, text) {
        Ok(p) => p,
        Err(_) => return out,
    };
    for file_pair in pairs {
        for line in file_pair.into_inner() {
            if !matches!(line.as_rule(), Rule::line | Rule::last_line) {
                continue;
            }
            let s = line.as_span();
            let span = Span::new(file, s.start(), s.end());
            let shape = match line.into_inner().next() {
                None => Shape::Blank,
                Some(p) => shape_of(file, p),
            };
            out.push((span, shape));
        }
    }
    out
}

fn span_of(file: FileId, p: &Pair<'_, Rule>) -> Span {
    let s = p.as_span();
    Span::new(file, s.start(), s.end())
}

fn shape_of(file: FileId, p: Pair<'_, Rule>) -> Shape {
    match p.as_rule() {
        Rule::comment => Shape::Comment,
        Rule::open_brace => Shape::Open,
        Rule::close_brace => Shape::Close,
        Rule::assignment => {
            let span = span_of(file, &p);
            let mut name = String::new();
            let mut name_span = span;
            let mut op = Op::Set;
            let mut values = Vec::new();
            for part in p.into_inner() {
                match part.as_rule() {
                    Rule::attr_name => {
                        name = part.as_str().to_string();
                        name_span = span_of(file, &part);
                    }
                    Rule::operator => {
                        op = match part.as_str() {
                            "+=" => Op::Add,
                            "-=" => Op::Remove,
                            _ => Op::Set,
                        }
                    }
                    _ => values.push(Value {
                        text: part.as_str().to_string(),
                        span: span_of(file, &part),
                    }),
                }
            }
            Shape::Assign(Attr {
                name,
                name_span,
                op,
                values,
                span,
            })
        }
        _ => Shape::Words(
            p.into_inner()
                .map(|w| Value {
                    text: w.as_str().to_string(),
                    span: span_of(file, &w),
                })
                .collect(),
        ),
    }
}

/// Where the walker stands.
enum State {
    Outside,
    /// After `service NAME`/`defaults`, waiting for `{`.
    ExpectOpen(EntryKind, Span),
    /// Inside an entry; the number of findings when it opened.
    Inside(Entry, usize),
    /// Dropping lines up to the next `}` (an entry xinetd refused).
    Skip,
}

fn read_file(
    id: FileId,
    map: &mut SourceMap,
    findings: &mut Vec<Finding>,
    out: &mut dyn FnMut(Entry, &mut Vec<Finding>),
    depth: usize,
) {
    let text = map.text(id).to_string();
    let lines = shapes(id, &text);
    let mut state = State::Outside;
    let mut defaults_seen = false;
    for (line_span, shape) in lines {
        state = match (state, shape) {
            (s, Shape::Blank) | (s, Shape::Comment) => s,
            (State::Outside, Shape::Words(w)) => {
                let first = w[0].text.as_str();
                match first {
                    "service" => match w.get(1) {
                        Some(name) => {
                            State::ExpectOpen(EntryKind::Service(name.text.clone()), line_span)
                        }
                        None => {
                            findings.push(Finding::at(
                                Level::Err,
                                line_span,
                                "service name missing",
                            ));
                            State::Skip
                        }
                    },
                    "defaults" => State::ExpectOpen(EntryKind::Defaults, line_span),
                    "include" | "includedir" => {
                        match w.get(1) {
                            Some(target) if depth < MAX_DEPTH => {
                                let path = PathBuf::from(&target.text);
                                if first == "include" {
                                    include_file(&path, line_span, map, findings, out, depth);
                                } else {
                                    include_dir(&path, line_span, map, findings, out, depth);
                                }
                            }
                            Some(_) => findings.push(Finding::at(
                                Level::Err,
                                line_span,
                                "include nesting too deep (a loop?): not followed",
                            )),
                            None => findings.push(Finding::at(
                                Level::Err,
                                line_span,
                                "missing service keyword",
                            )),
                        }
                        State::Outside
                    }
                    _ => {
                        findings.push(Finding::at(
                            Level::Err,
                            w[0].span,
                            "missing service keyword",
                        ));
                        State::Skip
                    }
                }
            }
            (State::Outside, Shape::Close) => State::Outside,
            (State::Outside, _) => {
                findings.push(Finding::at(
                    Level::Err,
                    line_span,
                    "missing service keyword",
                ));
                State::Skip
            }
            (State::ExpectOpen(kind, head), Shape::Open) => {
                if kind == EntryKind::Defaults && defaults_seen {
                    findings.push(Finding::at(
                        Level::Err,
                        head,
                        "only 1 defaults entry is allowed. This entry will be ignored",
                    ));
                    State::Skip
                } else {
                    if kind == EntryKind::Defaults {
                        defaults_seen = true;
                    }
                    State::Inside(
                        Entry {
                            kind,
                            head,
                            attrs: Vec::new(),
                            dropped: false,
                        },
                        findings.len(),
                    )
                }
            }
            (State::ExpectOpen(kind, _), _) => {
                let name = match &kind {
                    EntryKind::Service(n) => n.clone(),
                    EntryKind::Defaults => "defaults".into(),
                };
                findings.push(Finding::at(
                    Level::Err,
                    line_span,
                    format!("Service {name}: missing '{{'"),
                ));
                State::Skip
            }
            (State::Inside(e, mark), Shape::Close) => {
                out(e, findings);
                // The entry's parser and attribute messages in line order, as xinetd reads them.
                if let Some(tail) = findings.get_mut(mark..) {
                    tail.sort_by_key(|f| f.span.map(|s| s.start).unwrap_or(usize::MAX));
                }
                State::Outside
            }
            (State::Inside(mut e, mark), Shape::Assign(a)) => {
                e.attrs.push(a);
                State::Inside(e, mark)
            }
            (State::Inside(e, mark), Shape::Words(w)) => {
                let first = &w[0];
                if let Some(eq) = first.text.find('=') {
                    // `disable= yes` or `disable=yes`: xinetd drops the whole entry.
                    let name = first.text[..eq].trim_end_matches(['+', '-']);
                    findings.push(Finding::at(
                        Level::Err,
                        first.span,
                        format!("Attribute {name} needs a space before operator"),
                    ));
                    out(Entry { dropped: true, ..e }, findings);
                    if let Some(tail) = findings.get_mut(mark..) {
                        tail.sort_by_key(|f| f.span.map(|s| s.start).unwrap_or(usize::MAX));
                    }
                    State::Skip
                } else if w.len() == 1 {
                    findings.push(Finding::at(
                        Level::Err,
                        first.span,
                        format!("Nothing after attribute: {}", first.text),
                    ));
                    State::Inside(e, mark)
                } else {
                    findings.push(Finding::at(
                        Level::Err,
                        w[1].span,
                        format!("Bad operator for attribute: {}", first.text),
                    ));
                    State::Inside(e, mark)
                }
            }
            (State::Inside(e, mark), Shape::Open) => {
                findings.push(Finding::at(
                    Level::Err,
                    line_span,
                    "Bad operator for attribute: {",
                ));
                State::Inside(e, mark)
            }
            (State::Skip, Shape::Close) => State::Outside,
            (State::Skip, _) => State::Skip,
        };
    }
    match state {
        State::Inside(e, _) => {
            findings.push(Finding::at(
                Level::Err,
                e.head,
                "missing } in last service entry",
            ));
        }
        State::ExpectOpen(_, head) => {
            findings.push(Finding::at(Level::Err, head, "incomplete entry"));
        }
        _ => {}
    }
}

fn include_file(
    path: &Path,
    from: Span,
    map: &mut SourceMap,
    findings: &mut Vec<Finding>,
    out: &mut dyn FnMut(Entry, &mut Vec<Finding>),
    depth: usize,
) {
    match map.load(path, Some(from)) {
        Ok(id) => read_file(id, map, findings, out, depth + 1),
        Err(_) => findings.push(Finding::at(
            Level::Err,
            from,
            format!(
                "Unable to open included configuration file: {}",
                path.display()
            ),
        )),
    }
}

/// True for the names `includedir` reads: none containing a `.`, none ending
/// in `~` (X-SYN-3; also skips chkconfig's `tftp.XXXXXX` temp files and `.rpmnew`).
pub fn includedir_takes(name: &str) -> bool {
    !name.is_empty() && !name.contains('.') && !name.ends_with('~')
}

fn include_dir(
    dir: &Path,
    from: Span,
    map: &mut SourceMap,
    findings: &mut Vec<Finding>,
    out: &mut dyn FnMut(Entry, &mut Vec<Finding>),
    depth: usize,
) {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(_) => {
            findings.push(Finding::at(
                Level::Err,
                from,
                format!("Unable to read included directory: {}", dir.display()),
            ));
            return;
        }
    };
    // strcmp order: compare the raw bytes of the names (C locale).
    let mut names: Vec<Vec<u8>> = rd
        .filter_map(|e| e.ok())
        .map(|e| std::os::unix::ffi::OsStrExt::as_bytes(e.file_name().as_os_str()).to_vec())
        .collect();
    names.sort();
    for raw in names {
        let name = String::from_utf8_lossy(&raw).into_owned();
        if !includedir_takes(&name) {
            continue;
        }
        let path = dir.join(&name);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => {
                findings.push(Finding::at(
                    Level::Debug,
                    from,
                    format!("Reading included configuration file: {}", path.display()),
                ));
                include_file(&path, from, map, findings, out, depth);
            }
            _ => findings.push(Finding::at(
                Level::Err,
                from,
                format!(
                    "{} is not a regular file. It is being skipped.",
                    path.display()
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> (Vec<Entry>, Vec<Finding>) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("xinetd.conf");
        std::fs::write(&p, text).unwrap();
        let mut map = SourceMap::new();
        let mut f = Vec::new();
        let e = read_tree(&p, &mut map, &mut f).unwrap();
        (e, f)
    }

    #[test]
    fn reads_the_centos_tftp_file() {
        let text = "# default: off\nservice tftp\n{\n\tsocket_type\t\t= dgram\n\tserver_args\t\t= -s /tftpboot\n\tdisable\t\t\t= yes\n}\n";
        let (e, f) = parse_text(text);
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].kind, EntryKind::Service("tftp".into()));
        assert_eq!(e[0].attrs[1].texts(), vec!["-s", "/tftpboot"]);
    }

    #[test]
    fn hash_inside_a_line_is_a_value() {
        let (e, _) = parse_text("service a\n{\n per_source = 10 # max\n}\n");
        assert_eq!(e[0].attrs[0].texts(), vec!["10", "#", "max"]);
    }

    #[test]
    fn glued_operator_drops_the_entry() {
        let (e, f) =
            parse_text("service a\n{\n disable=no\n wait = no\n}\nservice b\n{\n wait = no\n}\n");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].kind, EntryKind::Service("b".into()));
        assert_eq!(
            f[0].message,
            "Attribute disable needs a space before operator"
        );
    }

    #[test]
    fn operators_and_missing_brace() {
        let (e, f) =
            parse_text("service a\nwait = no\n}\nservice b\n{\n x += 1\n y -= 2\n z ! 3\n}\n");
        assert_eq!(e.len(), 1);
        assert_eq!(f[0].message, "Service a: missing '{'");
        assert_eq!(e[0].attrs[0].op, Op::Add);
        assert_eq!(e[0].attrs[1].op, Op::Remove);
        assert_eq!(f[1].message, "Bad operator for attribute: z");
    }

    #[test]
    fn missing_close_brace_at_eof() {
        let (e, f) = parse_text("service a\n{\n wait = no\n");
        assert!(e.is_empty());
        assert_eq!(f[0].message, "missing } in last service entry");
    }

    #[test]
    fn includedir_skips_dotted_and_tilde_names_in_strcmp_order() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("xinetd.d");
        std::fs::create_dir(&d).unwrap();
        for n in ["tftp", "tftp.rpmnew", "tftp.Ab12Cd", "tftp~", "Zed", "echo"] {
            std::fs::write(d.join(n), format!("service {n}\n{{\n}}\n")).unwrap();
        }
        std::fs::create_dir(d.join("sub")).unwrap();
        let main = dir.path().join("xinetd.conf");
        std::fs::write(&main, format!("includedir {}\n", d.display())).unwrap();
        let mut map = SourceMap::new();
        let mut f = Vec::new();
        let e = read_tree(&main, &mut map, &mut f).unwrap();
        let names: Vec<_> = e
            .iter()
            .map(|e| match &e.kind {
                EntryKind::Service(n) => n.clone(),
                EntryKind::Defaults => "defaults".into(),
            })
            .collect();
        assert_eq!(names, vec!["Zed", "echo", "tftp"]);
        assert!(f.iter().any(|f| f
            .message
            .ends_with("sub is not a regular file. It is being skipped.")));
    }

    #[test]
    fn unreadable_main_file_is_fatal() {
        let mut map = SourceMap::new();
        let mut f = Vec::new();
        assert!(read_tree(Path::new("/nonexistent/xinetd.conf"), &mut map, &mut f).is_none());
        assert_eq!(
            f[0].message,
            "open( /nonexistent/xinetd.conf ) failed: No such file or directory (errno = 2)"
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn load_text(text: &str) -> (Vec<Entry>, Vec<Finding>, SourceMap) {
        let mut map = SourceMap::new();
        let id = map.add("x.conf", text.to_string(), None);
        let mut f = Vec::new();
        let mut out = Vec::new();
        read_file(id, &mut map, &mut f, &mut |e, _| out.push(e), MAX_DEPTH);
        (out, f, map)
    }

    const TFTP: &str = "service tftp\n{\n\tsocket_type\t\t= dgram\n\tprotocol\t\t= udp\n\twait\t\t\t= yes\n\tuser\t\t\t= root\n\tserver_args\t\t= -s /tftpboot\n\tper_source\t\t= 11\n}\n";

    proptest! {
        /// Arbitrary text never panics, and every finding points inside the text.
        #[test]
        fn arbitrary_input_never_panics(text in "(?s).{0,400}") {
            let (_, findings, map) = load_text(&text);
            for f in findings {
                if let Some(span) = f.span {
                    prop_assert!(span.end <= text.len());
                    prop_assert!(map.line_col(span).is_some());
                }
            }
        }

        /// Line-shaped input made of xinetd's tokens never panics either.
        #[test]
        fn token_soup_never_panics(lines in proptest::collection::vec(
            prop_oneof![
                Just("service x".to_string()), Just("defaults".to_string()), Just("{".to_string()),
                Just("}".to_string()), Just("# c".to_string()), Just("a = b".to_string()),
                Just("a += b c".to_string()), Just("a -= ".to_string()), Just("a=b".to_string()),
                Just("include /nonexistent".to_string()), Just("".to_string()), "[ -~\t]{0,20}",
                Just("wait = yes".to_string()), Just("socket_type = stream".to_string()),
                Just("cps = x 1".to_string()), Just("only_from = 1.2.3.{4,5} 10.0.0.0/33".to_string()),
                Just("log_type = FILE".to_string()), Just("flags = IPv4 IPv6".to_string()),
                Just("port = 99999".to_string()), Just("instances = -1".to_string()),
                Just("umask = 99".to_string()), Just("type = INTERNAL UNLISTED".to_string()),
                Just("enabled =".to_string()), Just("access_times = 25:00-1:00".to_string()),
                Just("log_type = SYSLOG nope".to_string()), Just("rlimit_as = 5Q".to_string()),
                Just("redirect = host:x".to_string()), Just("env = A".to_string()),
            ], 0..40)) {
            let text = lines.join("\n");
            let (entries, mut findings, map) = load_text(&text);
            let _ = crate::xinetd::conf::check::build(&entries, &map, &[], &mut findings);
        }

        /// A bogus keyword injected into a service is reported at its own line and column.
        #[test]
        fn injected_bogus_attribute_is_positioned(at in 2usize..8, name in "[a-z]{3,10}_bogus") {
            let mut lines: Vec<String> = TFTP.lines().map(String::from).collect();
            let at = at.min(lines.len() - 1);
            lines.insert(at, format!("\t{name} = 1"));
            let text = lines.join("\n") + "\n";
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("tftp");
            std::fs::write(&p, &text).unwrap();
            let loaded = crate::xinetd::conf::load(&p, &[]);
            let f = loaded.findings.iter().find(|f| f.message == format!("bad service attribute: {name}"));
            prop_assert!(f.is_some(), "{:?}", loaded.findings);
            let lc = loaded.map.line_col(f.and_then(|f| f.span).unwrap()).unwrap();
            prop_assert_eq!((lc.line, lc.col), (at + 1, 2));
        }
    }
}
