//! Filename remapping (`-m FILE`) with tftp-hpa's syntax and semantics
//! (reference T-MAP-1..4, `man in.tftpd`): one rule a line, `ops regex
//! [replacement]`, POSIX extended regexes, all rules applied top-down.

use std::net::Ipv4Addr;

use super::wire::Direction;
use crate::sys::regex::{Captures, Regex};

/// At most this many rule steps on one name (T-MAP-4).
const MAX_STEPS: usize = 1024;

/// The operation letters of one rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ops {
    pub replace: bool,
    pub global: bool,
    pub icase: bool,
    pub end: bool,
    pub restart: bool,
    pub abort: bool,
    pub get_only: bool,
    pub put_only: bool,
    pub ipv4_only: bool,
    pub ipv6_only: bool,
    pub invert: bool,
}

/// One rule of the map file.
#[derive(Debug)]
pub struct Rule {
    pub ops: Ops,
    regex: Regex,
    replacement: Option<Vec<u8>>,
}

/// A loaded map file.
#[derive(Debug, Default)]
pub struct RemapTable {
    rules: Vec<Rule>,
}

/// The result of remapping one filename.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Name(Vec<u8>),
    /// An `a` rule matched: error 2 with this text.
    Denied(Vec<u8>),
    /// More than 1024 steps: error 2 `Remap table failure`; the last name is kept for the log.
    Loop {
        last: Vec<u8>,
    },
}

/// A peer-supplied name made safe for syslog the way tftp-hpa's log lines
/// show it: printable ASCII (backslash included) as is, anything else as an
/// octal escape, so a name can never forge or split a log line.
pub fn log_safe(bytes: &[u8]) -> String {
    let mut out = String::new();
    for &b in bytes.iter().take(512) {
        match b {
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{b:03o}")),
        }
    }
    out
}

/// Splits a line into fields: whitespace separates, a backslash keeps the
/// next character in the field (the backslash stays for the regex or the
/// replacement to interpret), an unprotected `#` ends the line.
fn fields(line: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cur: Option<Vec<u8>> = None;
    let mut i = 0;
    while i < line.len() {
        let c = line[i];
        if c == b'\\' && i + 1 < line.len() {
            let f = cur.get_or_insert_with(Vec::new);
            f.push(c);
            f.push(line[i + 1]);
            i += 2;
            continue;
        }
        if c == b'#' {
            break;
        }
        if c.is_ascii_whitespace() {
            if let Some(f) = cur.take() {
                out.push(f);
            }
        } else {
            cur.get_or_insert_with(Vec::new).push(c);
        }
        i += 1;
    }
    if let Some(f) = cur {
        out.push(f);
    }
    out
}

/// Parses a map file. Every bad line is reported (the T-MAP-4 texts); the
/// caller logs each and exits 78 after the whole file.
pub fn parse(text: &[u8]) -> Result<RemapTable, Vec<String>> {
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for (n, raw) in text.split(|&b| b == b'\n').enumerate() {
        let lineno = n + 1;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let f = fields(line);
        if f.is_empty() {
            continue;
        }
        let shown = String::from_utf8_lossy(line).into_owned();
        let mut ops = Ops::default();
        let mut bad = false;
        for &c in &f[0] {
            match c {
                b'r' => ops.replace = true,
                b'g' => ops.global = true,
                b'i' => ops.icase = true,
                b'e' => ops.end = true,
                b's' => ops.restart = true,
                b'a' => ops.abort = true,
                b'G' => ops.get_only = true,
                b'P' => ops.put_only = true,
                b'4' => ops.ipv4_only = true,
                b'6' => ops.ipv6_only = true,
                b'~' => ops.invert = true,
                other => {
                    errors.push(format!(
                        "Remap command \"{}\" on line {lineno} contains invalid char \"{}\"",
                        String::from_utf8_lossy(&f[0]),
                        other as char
                    ));
                    bad = true;
                    break;
                }
            }
        }
        if bad {
            continue;
        }
        if ops.invert && ops.replace {
            errors.push(format!(
                "r rules cannot be inverted, line {lineno}: {shown}"
            ));
            continue;
        }
        let Some(pattern) = f.get(1) else {
            errors.push(format!("No regex on remap line {lineno}: {shown}"));
            continue;
        };
        match Regex::new(pattern, ops.icase) {
            Ok(regex) => rules.push(Rule {
                ops,
                regex,
                replacement: f.get(2).cloned(),
            }),
            Err(e) => errors.push(format!("Bad regex in remap line {lineno}: {e}")),
        }
    }
    if errors.is_empty() {
        Ok(RemapTable { rules })
    } else {
        Err(errors)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Case {
    Keep,
    Upper,
    Lower,
}

/// Expands a replacement pattern (T-MAP-3).
fn expand(pattern: &[u8], input: &[u8], caps: &Captures, client: Ipv4Addr) -> Vec<u8> {
    let mut out = Vec::new();
    let mut case = Case::Keep;
    let push = |out: &mut Vec<u8>, bytes: &[u8], case: Case| {
        out.extend(bytes.iter().map(|&b| match case {
            Case::Keep => b,
            Case::Upper => b.to_ascii_uppercase(),
            Case::Lower => b.to_ascii_lowercase(),
        }))
    };
    let mut i = 0;
    while i < pattern.len() {
        let c = pattern[i];
        if c != b'\\' || i + 1 >= pattern.len() {
            push(&mut out, &[c], case);
            i += 1;
            continue;
        }
        let e = pattern[i + 1];
        i += 2;
        match e {
            b'0'..=b'9' => {
                if let Some((s, t)) = caps[(e - b'0') as usize] {
                    push(&mut out, &input[s..t], case);
                }
            }
            b'i' => push(&mut out, client.to_string().as_bytes(), case),
            b'x' => push(
                &mut out,
                format!("{:08X}", u32::from(client)).as_bytes(),
                case,
            ),
            b'U' => case = Case::Upper,
            b'L' => case = Case::Lower,
            b'E' => case = Case::Keep,
            other => push(&mut out, &[other], case),
        }
    }
    out
}

fn substitute(input: &[u8], caps: &Captures, pattern: &[u8], client: Ipv4Addr) -> Vec<u8> {
    let (s, e) = caps[0].unwrap_or((0, 0));
    let mut out = input[..s].to_vec();
    out.extend(expand(pattern, input, caps, client));
    out.extend_from_slice(&input[e..]);
    out
}

impl RemapTable {
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Applies the rules to `name`; `trace` receives the verbosity-3 log lines.
    pub fn apply(
        &self,
        name: &[u8],
        dir: Direction,
        client: Ipv4Addr,
        trace: &mut dyn FnMut(String),
    ) -> Outcome {
        let show = |b: &[u8]| log_safe(b);
        let mut cur = name.to_vec();
        trace(format!("remap: input: {}", show(&cur)));
        let mut steps = 0;
        let mut i = 0;
        'rules: while i < self.rules.len() {
            let rule = &self.rules[i];
            let o = rule.ops;
            let skip = (o.get_only && dir != Direction::Read)
                || (o.put_only && dir != Direction::Write)
                || o.ipv6_only;
            if skip {
                i += 1;
                continue;
            }
            loop {
                steps += 1;
                if steps > MAX_STEPS {
                    return Outcome::Loop { last: cur };
                }
                let caps = rule.regex.captures(&cur);
                if caps.is_some() == o.invert {
                    break;
                }
                let caps = caps.unwrap_or([None; 10]);
                if o.replace {
                    // A rule without a replacement deletes what it matched.
                    let rep = rule.replacement.as_deref().unwrap_or(b"");
                    cur = substitute(&cur, &caps, rep, client);
                    trace(format!("remap: rule {i}: rewrite: {}", show(&cur)));
                }
                if o.abort {
                    let msg = match &rule.replacement {
                        Some(rep) if !o.replace => substitute(&cur, &caps, rep, client),
                        Some(_) => cur.clone(),
                        None => b"Access denied".to_vec(),
                    };
                    trace(format!("remap: rule {i}: abort: {}", show(&cur)));
                    return Outcome::Denied(msg);
                }
                if o.end {
                    trace(format!("remap: rule {i}: exit"));
                    return Outcome::Name(cur);
                }
                if o.restart {
                    // tftp-hpa logs the restart after resetting its rule counter, so
                    // the line always says rule 0 (observed with tftpd-hpa 5.2 -vvv).
                    trace("remap: rule 0: restart".to_string());
                    // tftp-hpa 0.42 and 5.2 resume at the second rule, not the first (T-MAP-2).
                    i = 1;
                    continue 'rules;
                }
                if !(o.global && o.replace) {
                    break;
                }
            }
            i += 1;
        }
        trace("remap: done".to_string());
        Outcome::Name(cur)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 20);

    fn map(rules: &str, name: &str) -> Outcome {
        let t = parse(rules.as_bytes()).unwrap();
        t.apply(name.as_bytes(), Direction::Read, CLIENT, &mut |_| {})
    }

    fn name(s: &str) -> Outcome {
        Outcome::Name(s.as_bytes().to_vec())
    }

    #[test]
    fn strips_the_tftpboot_prefix() {
        assert_eq!(
            map("r ^/tftpboot/ ", "/tftpboot/pxelinux.0"),
            name("pxelinux.0")
        );
        assert_eq!(
            map("r ^/tftpboot/ /", "/tftpboot/pxelinux.0"),
            name("/pxelinux.0")
        );
        assert_eq!(
            map("r ^/tftpboot/(.*) \\1 # comment", "/tftpboot/pxelinux.0"),
            name("pxelinux.0")
        );
    }

    #[test]
    fn escapes_groups_ip_and_case() {
        assert_eq!(
            map("r ^(.*)$ \\i/\\x/\\U\\1\\E!", "ab"),
            name("10.77.0.20/0A4D0014/AB!")
        );
        assert_eq!(map("ri ^PXE pxe", "PxElinux"), name("pxelinux"));
        assert_eq!(map("rg \\\\ /", "a\\b\\c"), name("a/b/c"));
        assert_eq!(map("r x a\\ b", "x"), name("a b"));
    }

    #[test]
    fn abort_uses_the_replacement_as_text() {
        // `away` is a third field, so only `Go` is the replacement (observed).
        assert_eq!(
            map("a \\.\\./ Go away", "..//etc"),
            Outcome::Denied(b"Go/etc".to_vec())
        );
        assert_eq!(
            map("a secret", "my-secret"),
            Outcome::Denied(b"Access denied".to_vec())
        );
        assert_eq!(
            map("a~ ^pxe", "other"),
            Outcome::Denied(b"Access denied".to_vec())
        );
        assert_eq!(map("a~ ^pxe", "pxelinux.0"), name("pxelinux.0"));
    }

    #[test]
    fn all_rules_apply_unless_e_and_s_restarts_at_rule_two() {
        assert_eq!(map("r a b\nr b c", "a"), name("c"));
        assert_eq!(map("re a b\nr b c", "a"), name("b"));
        // restart resumes at rule 1 (0-based): rule 0 never runs again.
        assert_eq!(map("r ^x xx\nrs ^y z\nr z w", "y"), name("w"));
        assert!(matches!(map("rg a aa", "a"), Outcome::Loop { .. }));
    }

    #[test]
    fn g_and_p_rules_select_the_direction() {
        let t = parse(b"rG a b\nrP a c").unwrap();
        assert_eq!(
            t.apply(b"a", Direction::Write, CLIENT, &mut |_| {}),
            name("c")
        );
        assert_eq!(
            t.apply(b"a", Direction::Read, CLIENT, &mut |_| {}),
            name("b")
        );
    }

    #[test]
    fn load_errors_have_tftp_hpa_texts() {
        let e = parse(b"rz a b\n~r a b\nr\nr ( x\n\n# only a comment\n").unwrap_err();
        assert_eq!(
            e[0],
            "Remap command \"rz\" on line 1 contains invalid char \"z\""
        );
        assert_eq!(e[1], "r rules cannot be inverted, line 2: ~r a b");
        assert_eq!(e[2], "No regex on remap line 3: r");
        assert!(e[3].starts_with("Bad regex in remap line 4: "), "{}", e[3]);
        assert_eq!(e.len(), 4);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_map_files_and_names_never_panic(
            text in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            name in proptest::collection::vec(1u8..=255, 0..60),
        ) {
            if let Ok(t) = parse(&text) {
                let _ = t.apply(&name, Direction::Read, CLIENT, &mut |_| {});
            }
        }

        #[test]
        fn a_bogus_op_letter_is_rejected_with_its_line(line in 1usize..20, bad in "[bcdfhjkmnoqtuvwxyz]") {
            let mut text = "r a b\n".repeat(line - 1);
            text.push_str(&format!("r{bad} a b\n"));
            let e = parse(text.as_bytes()).unwrap_err();
            proptest::prop_assert_eq!(e.len(), 1);
            proptest::prop_assert!(e[0].contains(&format!("on line {line} ")), "{}", e[0]);
        }
    }

    #[test]
    fn trace_lines_follow_t_log_1() {
        let t = parse(b"r ^/tftpboot/ \ne x").unwrap();
        let mut lines = Vec::new();
        t.apply(b"/tftpboot/x", Direction::Read, CLIENT, &mut |l| {
            lines.push(l)
        });
        assert_eq!(
            lines,
            vec![
                "remap: input: /tftpboot/x",
                "remap: rule 0: rewrite: x",
                "remap: rule 1: exit"
            ]
        );
    }
}
