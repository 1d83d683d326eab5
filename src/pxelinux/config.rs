//! pxelinux.cfg files: `grammar/pxelinux.pest` splits lines into keyword and
//! arguments; this module builds the labels and global settings, knows which
//! syslinux version introduced each keyword (reference P-KW) and lists the
//! files a config makes the loader fetch, for the chain checker.

use pest::Parser;
use pest_derive::Parser;

use crate::diag::{Diagnostic, FileId, Span};

#[derive(Parser)]
#[grammar = "../grammar/pxelinux.pest"]
struct PxelinuxParser;

/// A syslinux version, e.g. 3.11 (CentOS 5) or 6.04.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u16, pub u16);

impl Version {
    pub const CENTOS5: Version = Version(3, 11);
    pub const MODERN: Version = Version(6, 4);
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:02}", self.0, self.1)
    }
}

/// One line with a keyword.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stmt {
    /// The keyword as written.
    pub keyword: String,
    /// Everything after the keyword, trimmed.
    pub args: String,
    pub span: Span,
    pub keyword_span: Span,
}

impl Stmt {
    pub fn key(&self) -> String {
        self.keyword.to_ascii_lowercase()
    }

    /// The first word of the arguments (a file name for most keywords).
    pub fn first_arg(&self) -> &str {
        self.args.split_whitespace().next().unwrap_or("")
    }
}

/// A `LABEL` entry and what it boots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Label {
    pub name: String,
    pub span: Option<Span>,
    pub kernel: Option<(String, Span)>,
    pub append: Option<String>,
    pub initrd: Vec<(String, Span)>,
    pub ipappend: Option<String>,
    pub localboot: Option<String>,
    pub menu_label: Option<String>,
    /// `MENU DEFAULT` inside the label: the menu's default entry.
    pub menu_default: bool,
}

/// A parsed config file.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub stmts: Vec<Stmt>,
    pub default: Option<String>,
    pub ui: Option<String>,
    pub labels: Vec<Label>,
}

impl Config {
    pub fn label(&self, name: &str) -> Option<&Label> {
        self.labels.iter().find(|l| l.name == name)
    }

    /// The label an unattended boot selects: ONTIMEOUT, else DEFAULT when it
    /// names a label, else the menu's `MENU DEFAULT` entry, else the first label.
    pub fn boot_label(&self) -> Option<&Label> {
        let ontimeout = self
            .stmts
            .iter()
            .rev()
            .find(|s| s.key() == "ontimeout")
            .map(|s| s.first_arg().to_string());
        let chosen = ontimeout.or_else(|| {
            self.default
                .as_deref()
                .and_then(|d| d.split_whitespace().next())
                .map(String::from)
        });
        chosen
            .and_then(|c| self.label(&c))
            .or_else(|| self.labels.iter().find(|l| l.menu_default))
            .or_else(|| self.labels.first())
    }
}

/// What a referenced file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    Kernel,
    Initrd,
    Display,
    FunctionKey,
    Include,
    Module,
    Background,
}

/// A file the loader may fetch, with where it is named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    pub name: String,
    pub role: FileRole,
    pub span: Span,
}

/// When a keyword appeared (reference P-KW); `None`: not a syslinux keyword.
pub fn keyword_since(key: &str) -> Option<Version> {
    let v = match key {
        "default" | "prompt" | "timeout" | "label" | "kernel" | "append" | "ipappend"
        | "localboot" | "implicit" | "display" | "say" | "serial" | "console" | "font"
        | "kbdmap" | "f1" | "f2" | "f3" | "f4" | "f5" | "f6" | "f7" | "f8" | "f9" | "f0" => {
            Version(1, 0)
        }
        "ontimeout" | "onerror" => Version(2, 8),
        "allowoptions" => Version(2, 10),
        "noescape" | "menu" => Version(3, 0),
        "totaltimeout" => Version(3, 11),
        "f10" | "f11" | "f12" | "include" | "config" | "text" | "endtext" | "linux" | "boot"
        | "bss" | "pxe" | "fdimage" | "comboot" | "com32" => Version(3, 50),
        "initrd" => Version(3, 71),
        "ui" => Version(3, 74),
        "nohalt" | "nocomplete" => Version(4, 0),
        "path" | "sendcookies" => Version(5, 0),
        "sysappend" => Version(5, 10),
        _ => return None,
    };
    Some(v)
}

/// `MENU` sub-commands that syslinux 3.11's menu.c32 lacks.
fn menu_sub_since(sub: &str) -> Version {
    match sub {
        "title" | "label" | "hide" | "default" | "passwd" | "master" | "width" | "margin"
        | "rows" | "passwordrow" | "tabmsgrow" | "cmdlinerow" | "endrow" | "passwordmargin"
        | "timeoutrow" | "helpmsgrow" | "color" | "background" | "autoboot" | "tabmsg"
        | "notabmsg" | "passprompt" | "vshift" | "msgcolor" => Version(3, 0),
        _ => Version(3, 50),
    }
}

/// Splits a file into statements; only unparsable text is an error.
pub fn parse(text: &str, file: FileId) -> (Vec<Stmt>, Vec<Diagnostic>) {
    let mut stmts = Vec::new();
    let mut diags = Vec::new();
    match PxelinuxParser::parse(Rule::file, text) {
        Ok(mut pairs) => {
            let Some(top) = pairs.next() else {
                return (stmts, diags);
            };
            for p in top.into_inner() {
                match p.as_rule() {
                    Rule::stmt => {
                        let span = Span::new(file, p.as_span().start(), p.as_span().end());
                        let mut inner = p.into_inner();
                        let Some(kw) = inner.next() else { continue };
                        let keyword_span =
                            Span::new(file, kw.as_span().start(), kw.as_span().end());
                        let args = inner
                            .next()
                            .map(|a| a.as_str().trim().to_string())
                            .unwrap_or_default();
                        stmts.push(Stmt {
                            keyword: kw.as_str().to_string(),
                            args,
                            span,
                            keyword_span,
                        });
                    }
                    Rule::text_help => {
                        let span = Span::new(file, p.as_span().start(), p.as_span().end());
                        if !p.clone().into_inner().any(|c| c.as_rule() == Rule::endtext) {
                            diags.push(Diagnostic::warning(
                                "pxelinux-text-without-endtext",
                                Some(Span::new(file, span.start, span.start + 4)),
                                "TEXT HELP without ENDTEXT: the help text runs to the end of the file",
                            ));
                        }
                        stmts.push(Stmt {
                            keyword: "TEXT".into(),
                            args: "HELP".into(),
                            span,
                            keyword_span: Span::new(file, span.start, span.start + 4),
                        });
                    }
                    _ => {}
                }
            }
        }
        Err(e) => {
            let pos = match e.location {
                pest::error::InputLocation::Pos(p) => p,
                pest::error::InputLocation::Span((s, _)) => s,
            };
            let msg = if text[pos.min(text.len())..]
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("text")
            {
                "TEXT HELP block without ENDTEXT"
            } else {
                "cannot read this line"
            };
            diags.push(Diagnostic::error(
                "pxelinux-syntax",
                Some(Span::new(file, pos, pos + 1)),
                msg,
            ));
        }
    }
    (stmts, diags)
}

/// Builds labels and globals from statements.
pub fn build(stmts: Vec<Stmt>) -> Config {
    let mut cfg = Config::default();
    let mut cur: Option<Label> = None;
    for s in &stmts {
        let key = s.key();
        let arg_span = s.span;
        match key.as_str() {
            "label" => {
                if let Some(l) = cur.take() {
                    cfg.labels.push(l);
                }
                cur = Some(Label {
                    name: s.args.clone(),
                    span: Some(s.span),
                    ..Label::default()
                });
            }
            "default" => cfg.default = Some(s.args.clone()),
            "ui" => cfg.ui = Some(s.args.clone()),
            "kernel" | "linux" | "boot" | "bss" | "pxe" | "fdimage" | "comboot" | "com32" => {
                if let Some(l) = cur.as_mut() {
                    l.kernel = Some((s.first_arg().to_string(), arg_span));
                }
            }
            "append" => {
                let initrds: Vec<(String, Span)> = s
                    .args
                    .split_whitespace()
                    .filter_map(|w| w.strip_prefix("initrd="))
                    .flat_map(|v| v.split(','))
                    .filter(|v| !v.is_empty())
                    .map(|v| (v.to_string(), arg_span))
                    .collect();
                if let Some(l) = cur.as_mut() {
                    l.append = Some(s.args.clone());
                    l.initrd.extend(initrds);
                }
            }
            "initrd" => {
                if let Some(l) = cur.as_mut() {
                    l.initrd.extend(
                        s.args
                            .split(',')
                            .filter(|v| !v.trim().is_empty())
                            .map(|v| (v.trim().to_string(), arg_span)),
                    );
                }
            }
            "ipappend" | "sysappend" => {
                if let Some(l) = cur.as_mut() {
                    l.ipappend = Some(s.args.clone());
                }
            }
            "localboot" => {
                if let Some(l) = cur.as_mut() {
                    l.localboot = Some(s.args.clone());
                }
            }
            "menu" => {
                let mut words = s.args.splitn(2, char::is_whitespace);
                let sub = words.next().unwrap_or("").to_ascii_lowercase();
                let rest = words.next().unwrap_or("").trim().to_string();
                if let Some(l) = cur.as_mut() {
                    match sub.as_str() {
                        "label" => l.menu_label = Some(rest),
                        "default" => l.menu_default = true,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(l) = cur.take() {
        cfg.labels.push(l);
    }
    cfg.stmts = stmts;
    cfg
}

/// Parses and builds in one step.
pub fn load(text: &str, file: FileId) -> (Config, Vec<Diagnostic>) {
    let (stmts, diags) = parse(text, file);
    (build(stmts), diags)
}

/// Warnings for keywords unknown to syslinux and for keywords the `target`
/// version lacks (a syslinux 6 config on CentOS 5's pxelinux 3.11).
pub fn check_keywords(cfg: &Config, target: Version) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for s in &cfg.stmts {
        let key = s.key();
        match keyword_since(&key) {
            None => out.push(
                Diagnostic::warning(
                    "pxelinux-unknown-keyword",
                    Some(s.keyword_span),
                    format!(
                        "unknown keyword `{}`; pxelinux ignores this line",
                        s.keyword
                    ),
                )
                .with_label("not a syslinux keyword"),
            ),
            Some(v) if v > target => out.push(
                Diagnostic::warning(
                    "pxelinux-keyword-too-new",
                    Some(s.keyword_span),
                    format!(
                        "`{}` needs syslinux {v} or later; the target pxelinux is {target}",
                        s.keyword.to_ascii_uppercase()
                    ),
                )
                .with_label("not understood by this version"),
            ),
            Some(_) if key == "menu" => {
                let sub = s.first_arg().to_ascii_lowercase();
                let v = menu_sub_since(&sub);
                if v > target {
                    out.push(Diagnostic::warning(
                        "pxelinux-keyword-too-new",
                        Some(s.keyword_span),
                        format!("`MENU {}` needs syslinux {v} or later; the target pxelinux is {target}", sub.to_ascii_uppercase()),
                    ));
                }
            }
            Some(_) => {}
        }
    }
    out
}

/// Every file the config makes the loader fetch (relative to the TFTP path prefix).
pub fn referenced_files(cfg: &Config) -> Vec<FileRef> {
    let mut out = Vec::new();
    let mut push = |name: &str, role, span| {
        if !name.is_empty() {
            out.push(FileRef {
                name: name.to_string(),
                role,
                span,
            });
        }
    };
    for s in &cfg.stmts {
        let key = s.key();
        match key.as_str() {
            "display" => push(s.first_arg(), FileRole::Display, s.span),
            "include" | "config" => push(s.first_arg(), FileRole::Include, s.span),
            "ui" => push(s.first_arg(), FileRole::Module, s.span),
            k if k.len() <= 3
                && k.starts_with('f')
                && k[1..].chars().all(|c| c.is_ascii_digit())
                && k.len() > 1 =>
            {
                push(s.first_arg(), FileRole::FunctionKey, s.span)
            }
            "menu" => {
                let mut w = s.args.split_whitespace();
                match w.next().map(|x| x.to_ascii_lowercase()).as_deref() {
                    Some("include") => push(w.next().unwrap_or(""), FileRole::Include, s.span),
                    Some("background") => {
                        push(w.next().unwrap_or(""), FileRole::Background, s.span)
                    }
                    _ => {}
                }
            }
            "default" => {
                let first = s.first_arg();
                if first.ends_with(".c32") && cfg.label(first).is_none() {
                    push(first, FileRole::Module, s.span);
                }
            }
            _ => {}
        }
    }
    for l in &cfg.labels {
        if let Some((k, span)) = &l.kernel {
            push(k, FileRole::Kernel, *span);
        }
        for (i, span) in &l.initrd {
            push(i, FileRole::Initrd, *span);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "default linux # the default label\nprompt 1\ntimeout 60\ndisplay boot.msg\nF1 boot.msg\nF2 options.msg\n\nlabel 1\nkernel linux/rh44-x86-32/vmlinuz\nappend initrd=linux/rh44-x86-32/initrd.img ramdisk_size=8192 ksdevice=link\n";

    #[test]
    fn seed_default_parses_into_labels_and_files() {
        let (cfg, diags) = load(SEED, FileId(0));
        assert!(diags.is_empty());
        assert_eq!(cfg.labels.len(), 1);
        let l = &cfg.labels[0];
        assert_eq!(l.name, "1");
        assert_eq!(l.kernel.as_ref().unwrap().0, "linux/rh44-x86-32/vmlinuz");
        assert_eq!(l.initrd[0].0, "linux/rh44-x86-32/initrd.img");
        let files: Vec<(String, FileRole)> = referenced_files(&cfg)
            .into_iter()
            .map(|f| (f.name, f.role))
            .collect();
        assert!(files.contains(&("boot.msg".into(), FileRole::Display)));
        assert!(files.contains(&("options.msg".into(), FileRole::FunctionKey)));
        assert!(files.contains(&("linux/rh44-x86-32/vmlinuz".into(), FileRole::Kernel)));
        assert!(check_keywords(&cfg, Version::CENTOS5).is_empty());
    }

    /// P-KW: a syslinux 6 config on CentOS 5's pxelinux 3.11.
    #[test]
    fn flags_keywords_the_3_11_target_lacks_p_kw() {
        let text = "UI menu.c32\nLABEL a\n  LINUX vmlinuz\n  INITRD initrd.img\n  TEXT HELP\n  Some help\n  ENDTEXT\nF10 f10.txt\nbogus thing\n";
        let (cfg, diags) = load(text, FileId(0));
        assert!(diags.is_empty(), "{diags:?}");
        let w = check_keywords(&cfg, Version::CENTOS5);
        let kinds: Vec<String> = w.iter().map(|d| d.message.clone()).collect();
        assert!(
            kinds
                .iter()
                .any(|m| m.starts_with("`UI` needs syslinux 3.74")),
            "{kinds:?}"
        );
        assert!(
            kinds
                .iter()
                .any(|m| m.starts_with("`LINUX` needs syslinux 3.50")),
            "{kinds:?}"
        );
        assert!(
            kinds
                .iter()
                .any(|m| m.starts_with("`INITRD` needs syslinux 3.71")),
            "{kinds:?}"
        );
        assert!(
            kinds.iter().any(|m| m.starts_with("`TEXT` needs")),
            "{kinds:?}"
        );
        assert!(
            kinds.iter().any(|m| m.starts_with("`F10` needs")),
            "{kinds:?}"
        );
        assert!(
            kinds
                .iter()
                .any(|m| m.starts_with("unknown keyword `bogus`")),
            "{kinds:?}"
        );
        assert!(check_keywords(&cfg, Version::MODERN)
            .iter()
            .all(|d| d.kind == "pxelinux-unknown-keyword"));
        assert_eq!(cfg.labels[0].initrd[0].0, "initrd.img");
    }

    #[test]
    fn unterminated_text_help_is_a_warning() {
        let (cfg, diags) = load("LABEL a\nTEXT HELP\nno end\n", FileId(0));
        assert_eq!(diags.len(), 1);
        assert!(!diags[0].is_error());
        assert_eq!(
            cfg.stmts.len(),
            2,
            "the help text is not read as statements"
        );
    }

    #[test]
    fn boot_label_prefers_ontimeout_then_default() {
        let (cfg, _) = load(
            "DEFAULT b\nONTIMEOUT c\nLABEL b\nKERNEL kb\nLABEL c\nKERNEL kc\n",
            FileId(0),
        );
        assert_eq!(cfg.boot_label().unwrap().name, "c");
        let (cfg, _) = load(
            "DEFAULT b\nLABEL a\nKERNEL ka\nLABEL b\nKERNEL kb\n",
            FileId(0),
        );
        assert_eq!(cfg.boot_label().unwrap().name, "b");
        let (cfg, _) = load(
            "UI menu.c32\nLABEL a\nKERNEL ka\nLABEL b\nMENU DEFAULT\nKERNEL kb\n",
            FileId(0),
        );
        assert_eq!(cfg.boot_label().unwrap().name, "b");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in ".{0,400}") {
            let (cfg, _) = load(&s, FileId(0));
            let _ = check_keywords(&cfg, Version::CENTOS5);
            let _ = referenced_files(&cfg);
        }
    }
}
