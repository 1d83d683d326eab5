//! The check: turns items, in file order, into the model, as ISC does in its
//! single pass (an option defined on line 10 types the values of line 11; a
//! class must be declared before `add` names it). It keeps the stack of open
//! blocks, applies ISC's nesting rules and reports every finding at the token
//! where ISC notices it, with ISC's own words kept beside ours.

use super::ast::*;
use super::model::*;
use super::options::{self, Atom, Lookup, OptionType, ParamType, Support};
use super::values::{self, Cursor, TypeError, Value};
use super::{Finding, IscError};
use crate::diag::{Diagnostic, FileId, SourceMap, Span};

/// What the loader must do after a statement or head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Carry on after the item.
    Next,
    /// A syntax-level error: skip ISC's way from this byte.
    Resync(usize),
    /// Read this file here (`include`).
    Include(String, Span),
}

#[derive(Debug)]
enum FrameKind {
    Scope(ScopeId),
    Failover(usize),
    Key(usize),
    Zone(usize),
    /// A branch of an `if`; `first` when it opens the `if` itself.
    IfBranch {
        cond: Option<Expr>,
        first: bool,
    },
    Switch {
        expr: Expr,
    },
    On {
        events: Vec<String>,
    },
}

#[derive(Debug)]
struct Frame {
    kind: FrameKind,
    keyword: Span,
    head: Span,
    body: Vec<Exec>,
}

/// The check's state while a configuration is read.
#[derive(Debug, Default)]
pub struct Checker {
    pub model: Config,
    pub findings: Vec<Finding>,
    stack: Vec<Frame>,
    /// Set when the item just handled closed an `if` branch (an `else` may follow).
    just_closed_if: bool,
    /// `ddns-update-style` at the outer scope: value and place.
    pub ddns_update_style: Option<(String, Span)>,
    /// `omapi-key` names, checked once everything is read.
    omapi_keys: Vec<(String, Span)>,
    /// Statements kept but not acted on yet, for `--check-config`.
    pub not_implemented: Vec<(String, Span)>,
    /// Set once ISC would have stopped at a fatal error (it reads no further).
    pub fatal: bool,
    /// The end of the previous token, set by the loader before each item:
    /// ISC reports a statement that cannot start there (a stray `else`) at it.
    pub prev_end: Option<Span>,
    /// Host names seen so far (index of the first), to refuse a duplicate.
    host_names: std::collections::HashMap<String, usize>,
    /// Every dynamic range so far, to refuse an address declared twice.
    ranges: Vec<(u32, u32)>,
}

/// The innermost declaration a statement sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Global,
    SharedNetwork,
    Subnet,
    Pool,
    Group,
    Host,
    Class,
    Subclass,
    Failover,
    Key,
    Zone,
}

impl Checker {
    pub fn new() -> Self {
        Checker::default()
    }

    // ------------------------------------------------------------ findings

    fn push(
        &mut self,
        map: &SourceMap,
        diag: Diagnostic,
        isc_at: Option<Span>,
        isc_msg: Option<String>,
    ) {
        debug_assert!(
            super::KINDS.contains(&diag.kind),
            "kind {} missing from KINDS",
            diag.kind
        );
        let isc = isc_msg.map(|m| IscError {
            file: isc_at.map(|s| s.file),
            line: isc_at.and_then(|s| map.line_col(s)).map(|lc| lc.line),
            message: m,
        });
        self.findings.push(Finding { diag, isc });
    }

    /// An error at `span`, ISC reporting the same line with `isc`.
    pub fn error(
        &mut self,
        map: &SourceMap,
        kind: &'static str,
        span: Span,
        msg: impl Into<String>,
        isc: impl Into<String>,
    ) {
        let d = Diagnostic::error(kind, Some(span), msg);
        self.push(map, d, Some(span), Some(isc.into()));
    }

    pub fn warning(&mut self, kind: &'static str, span: Span, msg: impl Into<String>) {
        debug_assert!(
            super::KINDS.contains(&kind),
            "kind {kind} missing from KINDS"
        );
        self.findings.push(Finding {
            diag: Diagnostic::warning(kind, Some(span), msg),
            isc: None,
        });
    }

    fn type_error(&mut self, map: &SourceMap, e: TypeError) {
        let kind = if e.semicolon {
            "semicolon-expected"
        } else {
            "bad-value"
        };
        let mut d = Diagnostic::error(kind, Some(e.span), e.message);
        if e.semicolon {
            d = d.with_label("expected ';' before this");
        }
        self.push(map, d, Some(e.span), Some(e.isc));
    }

    fn not_yet(&mut self, what: String, span: Span) {
        self.not_implemented.push((what, span));
    }

    // ------------------------------------------------------------ context

    fn ctx(&self) -> Ctx {
        for f in self.stack.iter().rev() {
            match &f.kind {
                FrameKind::Scope(id) => {
                    return match self.model.scope(*id).map(|s| s.kind) {
                        Some(ScopeKind::SharedNetwork(_)) => Ctx::SharedNetwork,
                        Some(ScopeKind::Subnet(_)) => Ctx::Subnet,
                        Some(ScopeKind::Pool(_)) => Ctx::Pool,
                        Some(ScopeKind::Group(_)) => Ctx::Group,
                        Some(ScopeKind::Host(_)) => Ctx::Host,
                        Some(ScopeKind::Class(_)) => Ctx::Class,
                        Some(ScopeKind::Subclass(_)) => Ctx::Subclass,
                        _ => Ctx::Global,
                    }
                }
                FrameKind::Failover(_) => return Ctx::Failover,
                FrameKind::Key(_) => return Ctx::Key,
                FrameKind::Zone(_) => return Ctx::Zone,
                _ => continue,
            }
        }
        Ctx::Global
    }

    pub fn in_exec_block(&self) -> bool {
        matches!(
            self.stack.last().map(|f| &f.kind),
            Some(FrameKind::IfBranch { .. } | FrameKind::Switch { .. } | FrameKind::On { .. })
        )
    }

    /// The innermost scope (declarations only).
    fn scope(&self) -> ScopeId {
        for f in self.stack.iter().rev() {
            if let FrameKind::Scope(id) = f.kind {
                return id;
            }
        }
        Config::GLOBAL
    }

    /// The innermost subnet and shared-network around the current point.
    fn network(&self) -> (Option<usize>, Option<usize>) {
        let mut subnet = None;
        let mut shared = None;
        for f in self.stack.iter().rev() {
            if let FrameKind::Scope(id) = f.kind {
                match self.model.scope(id).map(|s| s.kind) {
                    Some(ScopeKind::Subnet(i)) if subnet.is_none() => subnet = Some(i),
                    Some(ScopeKind::SharedNetwork(i)) if shared.is_none() => shared = Some(i),
                    _ => {}
                }
            }
        }
        (subnet, shared)
    }

    fn current_pool(&self) -> Option<usize> {
        match self.model.scope(self.scope()).map(|s| s.kind) {
            Some(ScopeKind::Pool(i)) => Some(i),
            _ => None,
        }
    }

    fn current_host(&self) -> Option<usize> {
        match self.model.scope(self.scope()).map(|s| s.kind) {
            Some(ScopeKind::Host(i)) => Some(i),
            _ => None,
        }
    }

    fn current_class(&self) -> Option<usize> {
        match self.model.scope(self.scope()).map(|s| s.kind) {
            Some(ScopeKind::Class(i)) => Some(i),
            _ => None,
        }
    }

    /// Where executable statements go: the open `if`/`switch`/`on` body, or
    /// the innermost scope. Inside a key, zone or failover peer nothing is kept.
    fn emit(&mut self, e: Exec) {
        let Some(f) = self.stack.last_mut() else {
            if let Some(s) = self.model.scopes.get_mut(0) {
                s.stmts.push(e);
            }
            return;
        };
        match f.kind {
            FrameKind::IfBranch { .. } | FrameKind::Switch { .. } | FrameKind::On { .. } => {
                f.body.push(e)
            }
            FrameKind::Scope(id) => {
                if let Some(s) = self.model.scopes.get_mut(id.0) {
                    s.stmts.push(e);
                }
            }
            _ => {}
        }
    }

    fn last_emitted_mut(&mut self) -> Option<&mut Exec> {
        let Some(f) = self.stack.last_mut() else {
            return self
                .model
                .scopes
                .get_mut(0)
                .and_then(|s| s.stmts.last_mut());
        };
        match f.kind {
            FrameKind::IfBranch { .. } | FrameKind::Switch { .. } | FrameKind::On { .. } => {
                f.body.last_mut()
            }
            FrameKind::Scope(id) => self
                .model
                .scopes
                .get_mut(id.0)
                .and_then(|s| s.stmts.last_mut()),
            _ => None,
        }
    }

    fn new_scope(&mut self, kind: ScopeKind, span: Span) -> ScopeId {
        let parent = Some(self.scope());
        self.model.scopes.push(Scope {
            parent,
            kind,
            span,
            stmts: Vec::new(),
        });
        ScopeId(self.model.scopes.len() - 1)
    }

    /// True inside a key, zone or failover peer block.
    pub fn in_special_block(&self) -> bool {
        matches!(
            self.stack.last().map(|f| &f.kind),
            Some(FrameKind::Key(_) | FrameKind::Zone(_) | FrameKind::Failover(_))
        )
    }

    /// How many blocks are open.
    pub fn depth(&self) -> usize {
        self.stack.len()
    }

    /// ISC refuses some declarations by their keyword alone, before it
    /// reads the head: when a head does not parse, this decides whether the
    /// nesting error comes first. Returns true when it reported one.
    pub fn refuse_keyword(&mut self, map: &SourceMap, word: &str, kw: Span) -> bool {
        let ctx = self.ctx();
        if self.in_exec_block() {
            return false;
        }
        let refused = match word {
            "subnet" => (!matches!(
                ctx,
                Ctx::Global | Ctx::Group | Ctx::SharedNetwork | Ctx::Pool
            ))
            .then_some((
                "a subnet cannot be declared here",
                "subnet declarations not allowed here.",
            )),
            "shared-network" => (!matches!(ctx, Ctx::Global | Ctx::Group)).then_some((
                "a shared-network cannot be declared here",
                "shared-network parameters not allowed here.",
            )),
            "host" => matches!(ctx, Ctx::Host | Ctx::Class | Ctx::Subclass).then_some((
                "a host cannot be declared here",
                "host declarations not allowed here.",
            )),
            "class" | "subclass" => matches!(ctx, Ctx::Class | Ctx::Subclass).then_some((
                "a class cannot be declared inside a class",
                "class declarations not allowed here.",
            )),
            "group" => matches!(ctx, Ctx::Class | Ctx::Subclass).then_some((
                "a group cannot be declared here",
                "group declarations not allowed here.",
            )),
            _ => None,
        };
        match refused {
            Some((msg, isc)) => {
                self.error(map, "not-allowed-here", kw, msg, isc);
                true
            }
            None => false,
        }
    }

    // ------------------------------------------------------------ heads

    /// A block head. Returns `Resync` when the block is refused outright.
    pub fn head(&mut self, map: &SourceMap, head: Head) -> Outcome {
        let just_closed_if = std::mem::take(&mut self.just_closed_if);
        let ctx = self.ctx();
        let kw = head.keyword;
        if self.in_exec_block()
            && !matches!(
                head.kind,
                HeadKind::If { .. }
                    | HeadKind::Elsif { .. }
                    | HeadKind::Else
                    | HeadKind::Switch { .. }
                    | HeadKind::On { .. }
            )
        {
            self.error(
                map,
                "not-allowed-here",
                kw,
                "declarations are not allowed inside an executable block",
                "expecting a declaration",
            );
            return Outcome::Resync(kw.start);
        }
        if matches!(ctx, Ctx::Key | Ctx::Zone | Ctx::Failover) {
            self.misplaced(map, kw, "no block can be declared here");
            return Outcome::Resync(kw.start);
        }
        let frame = |kind: FrameKind| Frame {
            kind,
            keyword: kw,
            head: head.span,
            body: Vec::new(),
        };
        let kind = match head.kind {
            HeadKind::Subnet { net, mask } => {
                // ISC also takes a subnet inside a pool (compat/dhcpd differential).
                if !matches!(
                    ctx,
                    Ctx::Global | Ctx::Group | Ctx::SharedNetwork | Ctx::Pool
                ) {
                    self.error(
                        map,
                        "not-allowed-here",
                        kw,
                        "a subnet cannot be declared here",
                        "subnet declarations not allowed here.",
                    );
                    return Outcome::Resync(kw.start);
                }
                let n = match subnet_addr(&net) {
                    Ok(a) => a,
                    Err(e) => {
                        self.type_error(map, e);
                        return Outcome::Resync(net.span.start);
                    }
                };
                let m = match subnet_addr(&mask) {
                    Ok(a) => a,
                    Err(e) => {
                        self.type_error(map, e);
                        return Outcome::Resync(mask.span.start);
                    }
                };
                if u32::from(n) & !u32::from(m) != 0 {
                    self.error(
                        map,
                        "bad-subnet-mask",
                        net.span.to(mask.span),
                        format!("subnet {n} has bits set outside netmask {m}"),
                        format!("subnet {n} netmask {m}: bad subnet number/mask combination."),
                    );
                }
                let (_, shared) = self.network();
                let idx = self.model.subnets.len();
                let scope = self.new_scope(ScopeKind::Subnet(idx), head.span);
                self.model.subnets.push(Subnet {
                    net: n,
                    mask: m,
                    shared_network: shared,
                    scope,
                    ranges: Vec::new(),
                    pools: Vec::new(),
                    span: head.span,
                });
                if let Some(s) = shared.and_then(|i| self.model.shared_networks.get_mut(i)) {
                    s.subnets.push(idx);
                }
                FrameKind::Scope(scope)
            }
            HeadKind::SharedNetwork { name } => {
                if !matches!(ctx, Ctx::Global | Ctx::Group) {
                    self.error(
                        map,
                        "not-allowed-here",
                        kw,
                        "a shared-network cannot be declared here",
                        "shared-network parameters not allowed here.",
                    );
                    return Outcome::Resync(kw.start);
                }
                let idx = self.model.shared_networks.len();
                let scope = self.new_scope(ScopeKind::SharedNetwork(idx), head.span);
                self.model.shared_networks.push(SharedNetwork {
                    name: name.unquoted(),
                    scope,
                    subnets: Vec::new(),
                    pools: Vec::new(),
                    span: head.span,
                });
                FrameKind::Scope(scope)
            }
            HeadKind::Pool => {
                let (subnet, shared) = self.network();
                if (subnet.is_none() && shared.is_none())
                    || matches!(ctx, Ctx::Host | Ctx::Class | Ctx::Subclass | Ctx::Pool)
                {
                    self.error(
                        map,
                        "pool-outside-network",
                        kw,
                        "a pool must be inside a subnet or shared-network",
                        "pool declared outside of network",
                    );
                    return Outcome::Resync(kw.start);
                }
                let idx = self.model.pools.len();
                let scope = self.new_scope(ScopeKind::Pool(idx), head.span);
                self.model.pools.push(Pool {
                    scope,
                    subnet,
                    shared_network: if subnet.is_some() { None } else { shared },
                    ranges: Vec::new(),
                    permits: Vec::new(),
                    failover_peer: None,
                    span: head.span,
                });
                match (subnet, shared) {
                    (Some(s), _) => {
                        if let Some(sn) = self.model.subnets.get_mut(s) {
                            sn.pools.push(idx)
                        }
                    }
                    (None, Some(s)) => {
                        if let Some(sn) = self.model.shared_networks.get_mut(s) {
                            sn.pools.push(idx)
                        }
                    }
                    _ => {}
                }
                FrameKind::Scope(scope)
            }
            HeadKind::Group { name } => {
                if matches!(ctx, Ctx::Class | Ctx::Subclass | Ctx::Host) {
                    let isc = if ctx == Ctx::Host {
                        "expecting string or identifier."
                    } else {
                        "group declarations not allowed here."
                    };
                    self.error(
                        map,
                        "not-allowed-here",
                        kw,
                        "a group cannot be declared here",
                        isc,
                    );
                    return Outcome::Resync(kw.start);
                }
                let idx = self.model.groups.len();
                let scope = self.new_scope(ScopeKind::Group(idx), head.span);
                self.model.groups.push(Group {
                    name: name.map(|n| n.unquoted()),
                    scope,
                    span: head.span,
                });
                FrameKind::Scope(scope)
            }
            HeadKind::Host { name } => {
                if matches!(ctx, Ctx::Host | Ctx::Class | Ctx::Subclass) {
                    self.error(
                        map,
                        "not-allowed-here",
                        kw,
                        "a host cannot be declared here",
                        "host declarations not allowed here.",
                    );
                    return Outcome::Resync(kw.start);
                }
                let idx = self.model.hosts.len();
                let scope = self.new_scope(ScopeKind::Host(idx), head.span);
                self.model.hosts.push(Host {
                    name: name.unquoted(),
                    scope,
                    hardware: None,
                    fixed_addresses: Vec::new(),
                    client_id: None,
                    host_identifier: None,
                    span: head.span,
                });
                FrameKind::Scope(scope)
            }
            HeadKind::Class { name } => {
                if matches!(ctx, Ctx::Class | Ctx::Subclass) {
                    self.error(
                        map,
                        "not-allowed-here",
                        kw,
                        "a class cannot be declared inside a class",
                        "class declarations not allowed here.",
                    );
                    return Outcome::Resync(kw.start);
                }
                let idx = self.model.classes.len();
                let scope = self.new_scope(ScopeKind::Class(idx), head.span);
                self.model.classes.push(Class {
                    name: name.unquoted(),
                    scope,
                    match_if: None,
                    match_data: None,
                    spawn: None,
                    lease_limit: None,
                    span: head.span,
                });
                FrameKind::Scope(scope)
            }
            HeadKind::Subclass { class, data } => {
                if !self.subclass_ok(map, ctx, kw, &class) {
                    return Outcome::Resync(kw.start);
                }
                let idx = self.model.subclasses.len();
                let scope = self.new_scope(ScopeKind::Subclass(idx), head.span);
                self.model.subclasses.push(Subclass {
                    class: class.unquoted(),
                    data,
                    scope: Some(scope),
                    span: head.span,
                });
                FrameKind::Scope(scope)
            }
            HeadKind::FailoverPeer { name } => {
                if !matches!(ctx, Ctx::Global | Ctx::SharedNetwork) {
                    let outer = self.stack.last().map(|f| f.keyword).unwrap_or(kw);
                    let d = Diagnostic::error("not-allowed-here", Some(kw), "a failover peer can only be declared at the top level or in a shared-network");
                    self.push(
                        map,
                        d,
                        Some(outer),
                        Some("failover peers may only be defined in shared-network".into()),
                    );
                    return Outcome::Resync(kw.start);
                }
                let idx = self.model.failover_peers.len();
                self.model.failover_peers.push(FailoverPeer {
                    name: name.unquoted(),
                    role: None,
                    address: None,
                    port: None,
                    peer_address: None,
                    peer_port: None,
                    mclt: None,
                    split: None,
                    hba: None,
                    load_balance_max_seconds: None,
                    params: Default::default(),
                    span: head.span,
                });
                self.not_yet(format!("failover peer \"{}\"", name.unquoted()), kw);
                FrameKind::Failover(idx)
            }
            HeadKind::Key { name } => {
                let idx = self.model.keys.len();
                self.model.keys.push(Key {
                    name: name.unquoted(),
                    algorithm: None,
                    secret: None,
                    span: head.span,
                });
                FrameKind::Key(idx)
            }
            HeadKind::Zone { name } => {
                let idx = self.model.zones.len();
                self.model.zones.push(Zone {
                    name: name.unquoted(),
                    primary: Vec::new(),
                    secondary: Vec::new(),
                    primary6: Vec::new(),
                    secondary6: Vec::new(),
                    key: None,
                    span: head.span,
                });
                self.not_yet(format!("zone {}", name.unquoted()), kw);
                FrameKind::Zone(idx)
            }
            HeadKind::If { cond } => {
                self.check_bool(map, &cond);
                FrameKind::IfBranch {
                    cond: Some(cond),
                    first: true,
                }
            }
            HeadKind::Elsif { cond } => {
                if !just_closed_if {
                    self.else_without_if(map, kw);
                    return Outcome::Resync(kw.start);
                }
                self.check_bool(map, &cond);
                FrameKind::IfBranch {
                    cond: Some(cond),
                    first: false,
                }
            }
            HeadKind::Else => {
                if !just_closed_if {
                    self.else_without_if(map, kw);
                    return Outcome::Resync(kw.start);
                }
                FrameKind::IfBranch {
                    cond: None,
                    first: false,
                }
            }
            HeadKind::Switch { expr } => {
                self.check_expr(map, &expr);
                FrameKind::Switch { expr }
            }
            HeadKind::On { events } => FrameKind::On {
                events: events.iter().map(|e| e.lower()).collect(),
            },
        };
        self.stack.push(frame(kind));
        Outcome::Next
    }

    fn else_without_if(&mut self, map: &SourceMap, kw: Span) {
        let d = Diagnostic::error(
            "else-without-if",
            Some(kw),
            "else or elsif without a preceding if",
        );
        let (line, message) = self.cannot_start_here(map, kw, self.prev_end);
        self.findings.push(Finding {
            diag: d,
            isc: Some(IscError {
                file: Some(kw.file),
                line: Some(line),
                message,
            }),
        });
    }

    /// Where and how ISC reports a statement that cannot start at `at`: in a
    /// declaration's body or at the top, "expecting a parameter or
    /// declaration" on the previous token's line (`line 0` before any); in an
    /// `if`/`switch`/`on` body "right brace expected." at the token; in a
    /// key, zone or failover peer "expecting right brace." at the token.
    pub fn cannot_start_here(
        &self,
        map: &SourceMap,
        at: Span,
        prev_end: Option<Span>,
    ) -> (usize, String) {
        let here = map.line_col(at).map(|lc| lc.line).unwrap_or(0);
        match self.stack.last().map(|f| &f.kind) {
            Some(FrameKind::IfBranch { .. } | FrameKind::Switch { .. } | FrameKind::On { .. }) => {
                (here, "right brace expected.".into())
            }
            Some(FrameKind::Key(_) | FrameKind::Zone(_) | FrameKind::Failover(_)) => {
                (here, "expecting right brace.".into())
            }
            _ => {
                let line = prev_end
                    .and_then(|p| map.line_col(p))
                    .map(|lc| lc.line)
                    .unwrap_or(0);
                (line, "expecting a parameter or declaration".into())
            }
        }
    }

    /// Reports a statement that is valid somewhere but not here, ISC's way.
    fn misplaced(&mut self, map: &SourceMap, span: Span, msg: impl Into<String>) {
        let (line, message) = self.cannot_start_here(map, span, self.prev_end);
        let d = Diagnostic::error("not-allowed-here", Some(span), msg);
        self.findings.push(Finding {
            diag: d,
            isc: Some(IscError {
                file: Some(span.file),
                line: Some(line),
                message,
            }),
        });
    }

    fn subclass_ok(&mut self, map: &SourceMap, ctx: Ctx, kw: Span, class: &Token) -> bool {
        if matches!(ctx, Ctx::Class | Ctx::Subclass) {
            self.error(
                map,
                "not-allowed-here",
                kw,
                "a subclass cannot be declared inside a class",
                "class declarations not allowed here.",
            );
            return false;
        }
        let name = class.unquoted();
        if self.model.class_by_name(&name).is_none() {
            self.error(
                map,
                "unknown-class",
                class.span,
                format!("no class named {name} has been declared"),
                format!("no class named {name}"),
            );
            return false;
        }
        true
    }

    /// True when the innermost open block is a `key` (BIND habit: `};`).
    pub fn in_key(&self) -> bool {
        matches!(self.stack.last().map(|f| &f.kind), Some(FrameKind::Key(_)))
    }

    /// A `}`. Returns false when no block of this file is open.
    pub fn close(&mut self, map: &SourceMap, span: Span, file_base: usize) -> bool {
        if self.stack.len() <= file_base {
            return false;
        }
        let Some(frame) = self.stack.pop() else {
            return false;
        };
        match frame.kind {
            FrameKind::Scope(id) => self.close_scope(map, id, span),
            FrameKind::Failover(i) => self.close_failover(map, i, span),
            FrameKind::Key(_) | FrameKind::Zone(_) => {}
            FrameKind::IfBranch { cond, first } => {
                if first {
                    self.emit(Exec::If {
                        branches: vec![(cond, frame.body)],
                        span: frame.head,
                    });
                } else if let Some(Exec::If { branches, .. }) = self.last_emitted_mut() {
                    branches.push((cond, frame.body));
                }
                self.just_closed_if = true;
                return true;
            }
            FrameKind::Switch { expr } => self.emit(Exec::Switch {
                expr,
                body: frame.body,
                span: frame.head,
            }),
            FrameKind::On { events } => {
                self.not_yet(format!("on {}", events.join(" or ")), frame.keyword);
                self.emit(Exec::On {
                    events,
                    body: frame.body,
                    span: frame.head,
                })
            }
        }
        self.just_closed_if = false;
        true
    }

    fn close_scope(&mut self, map: &SourceMap, id: ScopeId, close: Span) {
        match self.model.scope(id).map(|s| s.kind) {
            Some(ScopeKind::SharedNetwork(i))
                if self
                    .model
                    .shared_networks
                    .get(i)
                    .is_some_and(|s| s.subnets.is_empty()) =>
            {
                self.error(
                    map,
                    "empty-shared-network",
                    close,
                    "shared-network declares no subnet",
                    "empty shared-network decl",
                );
            }
            Some(ScopeKind::Pool(i))
                if self.model.pools.get(i).is_some_and(|p| p.ranges.is_empty()) =>
            {
                self.error(
                    map,
                    "pool-without-range",
                    close,
                    "pool declares no address range",
                    "Pool declaration with no address range.",
                );
            }
            Some(ScopeKind::Host(i)) => {
                let name = self
                    .model
                    .hosts
                    .get(i)
                    .map(|h| h.name.clone())
                    .unwrap_or_default();
                let first = match self.host_names.get(&name) {
                    Some(&f) if f != i => self.model.hosts.get(f).map(|h| h.span),
                    Some(_) => None,
                    None => {
                        self.host_names.insert(name.clone(), i);
                        None
                    }
                };
                if let Some(first) = first {
                    let at = self.model.hosts.get(i).map(|h| h.span).unwrap_or(close);
                    let d = Diagnostic::error(
                        "duplicate-host",
                        Some(at),
                        format!("host {name} is declared twice"),
                    )
                    .with_note(Some(first), "first declared here");
                    self.push(
                        map,
                        d,
                        Some(close),
                        Some(format!("host {name}: already exists")),
                    );
                }
            }
            _ => {}
        }
    }

    fn close_failover(&mut self, map: &SourceMap, i: usize, close: Span) {
        let Some(p) = self.model.failover_peers.get(i) else {
            return;
        };
        let (no_peer, no_split) = (
            p.peer_address.is_none(),
            p.role != Some(FailoverRole::Secondary) && p.split.is_none() && p.hba.is_none(),
        );
        if no_peer {
            self.error(
                map,
                "failover-incomplete",
                close,
                "failover peer needs a peer address",
                "peer address may not be omitted",
            );
        }
        if no_split {
            self.error(
                map,
                "failover-incomplete",
                close,
                "a primary failover server needs split or hba",
                "primary failover server must have hba or split.",
            );
        }
    }

    /// A `case VALUE:` or `default:` label.
    pub fn case(&mut self, map: &SourceMap, value: Option<Expr>, span: Span) {
        self.just_closed_if = false;
        if !matches!(
            self.stack.last().map(|f| &f.kind),
            Some(FrameKind::Switch { .. })
        ) {
            self.error(
                map,
                "case-outside-switch",
                span,
                "case label outside a switch",
                "case statement in inappropriate scope.",
            );
            return;
        }
        self.emit(Exec::Case { value, span });
    }

    // ------------------------------------------------------------ statements

    /// One statement. The loader reports a missing `;` itself when this
    /// returns `Next` for a statement without one.
    pub fn stmt(&mut self, map: &SourceMap, stmt: &Stmt) -> Outcome {
        self.just_closed_if = false;
        let ctx = self.ctx();
        let end_span = match stmt.end {
            End::Semi(s) | End::Missing(s) => s,
        };
        if matches!(ctx, Ctx::Key | Ctx::Zone | Ctx::Failover)
            && !matches!(stmt.kind, StmtKind::Param { .. } | StmtKind::KeyRef { .. })
        {
            self.misplaced(
                map,
                stmt.span,
                "this statement does not belong in a key, zone or failover peer",
            );
            return Outcome::Resync(stmt.span.start);
        }
        match &stmt.kind {
            StmtKind::Include { path } => return Outcome::Include(path.unquoted(), stmt.span),
            StmtKind::OptionSpace { name, rest } => {
                let n = name.unquoted().to_ascii_lowercase();
                self.model.options.add_space(&n);
                let mut c = Cursor::new(rest, end_span);
                while let Some(t) = c.next() {
                    let what = t.lower();
                    let ok = match what.as_str() {
                        "code" | "length" => c.eat("width") && c.next().is_some(),
                        "hash" => c.eat("size") && c.next().is_some(),
                        _ => false,
                    };
                    if !ok {
                        self.error(
                            map,
                            "bad-option-space",
                            t.span,
                            format!("unexpected {} in option space", t.text),
                            "expecting \"code\", \"length\" or \"hash\"",
                        );
                        return Outcome::Resync(t.span.start);
                    }
                }
            }
            StmtKind::OptionDef { name, code, ty } => return self.option_def(map, name, code, ty),
            StmtKind::Option { verb, name, value } => {
                return self.option_stmt(map, *verb, name, value, stmt.span, end_span)
            }
            StmtKind::Range {
                dynamic_bootp,
                args,
            } => return self.range(map, ctx, *dynamic_bootp, args, stmt.span, end_span),
            StmtKind::Hardware { args } => {
                return self.hardware(map, ctx, args, stmt.span, end_span)
            }
            StmtKind::FixedAddress { args } => {
                if ctx != Ctx::Host {
                    self.error(
                        map,
                        "not-allowed-here",
                        stmt.span,
                        "fixed-address is only allowed in a host",
                        "fixed-address parameter not allowed here.",
                    );
                    return Outcome::Resync(stmt.span.start);
                }
                let mut c = Cursor::new(args, end_span);
                let addrs = match values::comma_list(&mut c, |c| values::ip_or_host(c).map(Some)) {
                    Ok(l) => l,
                    Err(e) => {
                        let at = e.span.start;
                        self.type_error(map, e);
                        return Outcome::Resync(at);
                    }
                };
                if let Err(e) = c.finish() {
                    let at = e.span.start;
                    self.type_error(map, e);
                    return Outcome::Resync(at);
                }
                if let Some(h) = self
                    .current_host()
                    .and_then(|i| self.model.hosts.get_mut(i))
                {
                    if !h.fixed_addresses.is_empty() {
                        let d = Diagnostic::error("duplicate-host", Some(stmt.span), format!("host {} has a second fixed-address statement (list the addresses in one)", h.name));
                        self.push(
                            map,
                            d,
                            Some(end_span),
                            Some("Only one fixed address declaration per host.".into()),
                        );
                        return Outcome::Next;
                    }
                    h.fixed_addresses.extend(addrs);
                }
            }
            StmtKind::Permit { verb, args } => {
                return self.permit(map, ctx, *verb, args, stmt.span, end_span)
            }
            StmtKind::Match { is_if, expr } => {
                if *is_if {
                    self.check_bool(map, expr);
                } else {
                    self.check_expr(map, expr);
                }
                match self
                    .current_class()
                    .and_then(|i| self.model.classes.get_mut(i))
                {
                    Some(c) if *is_if => c.match_if = Some(expr.clone()),
                    Some(c) if c.spawn.is_some() || c.match_data.is_some() => {
                        self.error(
                            map,
                            "match-and-spawn",
                            stmt.span,
                            "a class has one `match` or one `spawn with`, not both",
                            "can't override existing submatch/spawn.",
                        );
                        return Outcome::Resync(stmt.span.start);
                    }
                    Some(c) => c.match_data = Some(expr.clone()),
                    None => {
                        self.misplaced(map, stmt.span, "match is only allowed in a class");
                        return Outcome::Resync(stmt.span.start);
                    }
                }
            }
            StmtKind::Spawn { expr } => {
                self.check_expr(map, expr);
                match self
                    .current_class()
                    .and_then(|i| self.model.classes.get_mut(i))
                {
                    Some(c) if c.spawn.is_some() || c.match_data.is_some() => {
                        self.error(
                            map,
                            "match-and-spawn",
                            stmt.span,
                            "a class has one `match` or one `spawn with`, not both",
                            "can't override existing submatch/spawn.",
                        );
                        return Outcome::Resync(stmt.span.start);
                    }
                    Some(c) => c.spawn = Some(expr.clone()),
                    None => {
                        self.misplaced(map, stmt.span, "spawn is only allowed in a class");
                        return Outcome::Resync(stmt.span.start);
                    }
                }
            }
            StmtKind::Subclass { class, data } => {
                if self.subclass_ok(map, ctx, stmt.span, class) {
                    self.model.subclasses.push(Subclass {
                        class: class.unquoted(),
                        data: data.clone(),
                        scope: None,
                        span: stmt.span,
                    });
                }
            }
            StmtKind::FailoverRef { name } => {
                let n = name.unquoted();
                if ctx == Ctx::Global {
                    self.error(
                        map,
                        "not-allowed-here",
                        stmt.span,
                        "`failover peer NAME;` belongs in a pool",
                        "failover peer reference not in shared-network declaration",
                    );
                    return Outcome::Resync(stmt.span.start);
                }
                if ctx != Ctx::Pool {
                    let (line, message) = self.cannot_start_here(map, stmt.span, self.prev_end);
                    let message = if message.starts_with("expecting a parameter") {
                        "failover peers may only be defined in shared-network".to_string()
                    } else {
                        message
                    };
                    let d = Diagnostic::error(
                        "not-allowed-here",
                        Some(stmt.span),
                        "`failover peer NAME;` belongs in a pool",
                    );
                    self.findings.push(Finding {
                        diag: d,
                        isc: Some(IscError {
                            file: Some(stmt.span.file),
                            line: Some(line),
                            message,
                        }),
                    });
                    return Outcome::Resync(stmt.span.start);
                }
                if !self.model.failover_peers.iter().any(|p| p.name == n) {
                    self.error(
                        map,
                        "unknown-failover-peer",
                        name.span,
                        format!("failover peer {n} has not been declared"),
                        format!("failover peer {n}: not found"),
                    );
                    return Outcome::Next;
                }
                if let Some(p) = self
                    .current_pool()
                    .and_then(|i| self.model.pools.get_mut(i))
                {
                    p.failover_peer = Some(n.clone());
                }
                self.not_yet(format!("failover peer \"{n}\" in a pool"), stmt.span);
            }
            StmtKind::KeyRef { name } => {
                let n = name.unquoted();
                if ctx != Ctx::Zone {
                    self.error(
                        map,
                        "not-allowed-here",
                        stmt.span,
                        "a key reference is only allowed in a zone",
                        "expecting a declaration",
                    );
                    return Outcome::Resync(stmt.span.start);
                }
                if !self.model.keys.iter().any(|k| k.name == n) {
                    self.error(map, "unknown-key", name.span, format!("key {n} has not been declared (keys must come before the zones that use them)"), format!("unknown key {n}"));
                    return Outcome::Next;
                }
                if let Some(FrameKind::Zone(i)) = self.stack.last().map(|f| &f.kind) {
                    let i = *i;
                    if let Some(z) = self.model.zones.get_mut(i) {
                        z.key = Some(n);
                    }
                }
            }
            StmtKind::Set { name, expr } => {
                self.check_expr(map, expr);
                self.emit(Exec::Set {
                    name: name.text.clone(),
                    expr: expr.clone(),
                    span: stmt.span,
                });
            }
            StmtKind::ImplicitSet { name, expr } => {
                self.check_expr(map, expr);
                let lname = name.lower();
                if let Some((ParamType::Expr, _)) = options::param_type(&lname) {
                    self.not_yet(lname.clone(), stmt.span);
                    self.emit(Exec::Param {
                        name: lname,
                        value: ParamValue::Expr(expr.clone()),
                        span: stmt.span,
                    });
                } else {
                    self.emit(Exec::Set {
                        name: name.text.clone(),
                        expr: expr.clone(),
                        span: stmt.span,
                    });
                }
            }
            StmtKind::Unset { name } => self.emit(Exec::Unset {
                name: name.text.clone(),
                span: stmt.span,
            }),
            StmtKind::Log { priority, expr } => {
                self.check_expr(map, expr);
                let p = priority
                    .as_ref()
                    .map(|t| t.lower())
                    .unwrap_or_else(|| "info".into());
                self.emit(Exec::Log {
                    priority: p,
                    expr: expr.clone(),
                    span: stmt.span,
                });
            }
            StmtKind::Execute { args } => {
                for a in args {
                    self.check_expr(map, a);
                }
                self.not_yet("execute".into(), stmt.span);
                self.emit(Exec::Execute {
                    args: args.clone(),
                    span: stmt.span,
                });
            }
            StmtKind::Add { class } => {
                let n = class.unquoted();
                if self.model.class_by_name(&n).is_none() {
                    self.error(
                        map,
                        "unknown-class",
                        class.span,
                        format!("class {n} has not been declared"),
                        format!("class {n}: not found"),
                    );
                    return Outcome::Next;
                }
                self.emit(Exec::Add {
                    class: n,
                    span: stmt.span,
                });
            }
            StmtKind::Break => self.emit(Exec::Break { span: stmt.span }),
            StmtKind::OnEmpty { events } => self.emit(Exec::On {
                events: events.iter().map(|e| e.lower()).collect(),
                body: Vec::new(),
                span: stmt.span,
            }),
            StmtKind::Return { expr } => {
                self.check_expr(map, expr);
                self.emit(Exec::Return {
                    expr: expr.clone(),
                    span: stmt.span,
                });
            }
            StmtKind::NotAuthoritative => self.emit(Exec::Param {
                name: "authoritative".into(),
                value: ParamValue::Flag(false),
                span: stmt.span,
            }),
            StmtKind::Call { name, args } => {
                for a in args {
                    self.check_expr(map, a);
                }
                self.warning(
                    "no-effect",
                    stmt.span,
                    format!(
                        "`{}(...)` calls a function that is never defined",
                        name.text
                    ),
                );
                self.emit(Exec::Call {
                    name: name.text.clone(),
                    args: args.clone(),
                    span: stmt.span,
                });
            }
            StmtKind::Param { name, args } => {
                return self.param(map, ctx, name, args, stmt.span, end_span)
            }
        }
        Outcome::Next
    }

    fn option_def(
        &mut self,
        map: &SourceMap,
        name: &Token,
        code: &Token,
        ty: &OptionTypeAst,
    ) -> Outcome {
        let (space, oname) = options::split_name(&name.text);
        if !self.model.options.spaces.contains_key(&space) {
            self.error(
                map,
                "unknown-option-space",
                name.span,
                format!("option space {space} has not been declared"),
                format!("no option space named {space}."),
            );
            return Outcome::Next;
        }
        let code_n = match values::number(&code.text, code.span) {
            Ok(n) if (0..=65535).contains(&n) => n as u32,
            Ok(n) => {
                self.error(
                    map,
                    "bad-value",
                    code.span,
                    format!("option code {n} is out of range"),
                    format!("{n} exceeds max (255) for precision."),
                );
                return Outcome::Next;
            }
            Err(e) => {
                self.type_error(map, e);
                return Outcome::Resync(code.span.start);
            }
        };
        let mut record = Vec::new();
        for a in &ty.record {
            let atom = match a {
                TypeAtomAst::IpAddress => Atom::Ip,
                TypeAtomAst::Ip6Address => Atom::Ip6,
                TypeAtomAst::Boolean => Atom::Bool,
                TypeAtomAst::Text => Atom::Text,
                TypeAtomAst::String => Atom::Data,
                TypeAtomAst::DomainName => Atom::DomainName,
                TypeAtomAst::DomainList { compressed } => Atom::DomainList {
                    compressed: *compressed,
                },
                TypeAtomAst::Encapsulate(sp) => {
                    let s = sp.text.to_ascii_lowercase();
                    if !self.model.options.spaces.contains_key(&s) {
                        self.error(
                            map,
                            "unknown-option-space",
                            sp.span,
                            format!("option space {s} has not been declared"),
                            format!("unknown option space {s}"),
                        );
                        return Outcome::Resync(sp.span.start);
                    }
                    Atom::Encapsulate(s)
                }
                TypeAtomAst::Integer { signed, width } => match (width.text.as_str(), signed) {
                    ("8", false) => Atom::U8,
                    ("16", false) => Atom::U16,
                    ("32", false) => Atom::U32,
                    ("8", true) => Atom::I8,
                    ("16", true) => Atom::I16,
                    ("32", true) => Atom::I32,
                    _ => {
                        self.error(
                            map,
                            "bad-option-type",
                            width.span,
                            format!("integers are 8, 16 or 32 bits, not {}", width.text),
                            format!("{} bit precision is not supported.", width.text),
                        );
                        return Outcome::Resync(width.span.start);
                    }
                },
                TypeAtomAst::Unknown(t) => {
                    self.error(
                        map,
                        "bad-option-type",
                        t.span,
                        format!("unknown option type {}", t.text),
                        format!("unknown data type {}", t.text),
                    );
                    return Outcome::Resync(t.span.start);
                }
            };
            record.push(atom);
        }
        self.model.options.define(
            &space,
            &oname,
            code_n,
            OptionType {
                record,
                array: ty.array,
            },
            true,
        );
        Outcome::Next
    }

    fn option_stmt(
        &mut self,
        map: &SourceMap,
        verb: OptionVerb,
        name: &Token,
        value: &OptionValueAst,
        span: Span,
        end: Span,
    ) -> Outcome {
        let def = match self.model.options.lookup(&name.text) {
            Lookup::Found(d) => d.clone(),
            Lookup::NoOption(space, n) => {
                self.error(
                    map,
                    "unknown-option",
                    name.span,
                    format!("unknown option {space}.{n}"),
                    format!("unknown option {space}.{n}"),
                );
                return Outcome::Resync(name.span.start);
            }
            Lookup::NoSpace(space) => {
                self.error(
                    map,
                    "unknown-option-space",
                    name.span,
                    format!("option space {space} has not been declared"),
                    format!("no option space named {space}."),
                );
                return Outcome::Resync(name.span.start);
            }
        };
        let v = match value {
            OptionValueAst::Expr(e) => {
                self.check_expr(map, e);
                OptionValue::Expr(e.clone())
            }
            OptionValueAst::Tokens(toks) => match values::parse_option_value(&def.ty, toks, end) {
                Ok(v) => OptionValue::Typed(v),
                Err(e) => {
                    let at = e.span.start;
                    self.type_error(map, e);
                    return Outcome::Resync(at);
                }
            },
        };
        if def.space == "dhcp" && def.code == 61 {
            if let (Some(h), OptionValue::Typed(vals)) = (self.current_host(), &v) {
                if let Some(Value::Data(d)) = vals.first() {
                    if let Some(host) = self.model.hosts.get_mut(h) {
                        host.client_id = Some(d.clone());
                    }
                }
            }
        }
        self.emit(Exec::Option(OptionSetting {
            verb,
            space: def.space,
            name: def.name,
            code: def.code,
            value: v,
            span,
        }));
        Outcome::Next
    }

    fn range(
        &mut self,
        map: &SourceMap,
        ctx: Ctx,
        dynamic_bootp: bool,
        args: &[Token],
        span: Span,
        end: Span,
    ) -> Outcome {
        let (subnet, shared) = self.network();
        let allowed = match ctx {
            Ctx::Subnet | Ctx::Pool => true,
            Ctx::Group => subnet.is_some(),
            _ => false,
        };
        if !allowed {
            self.error(
                map,
                "not-allowed-here",
                span,
                "a range must be inside a subnet or pool",
                "range declaration not allowed here.",
            );
            return Outcome::Resync(span.start);
        }
        let mut c = Cursor::new(args, end);
        let mut addrs = Vec::new();
        for i in 0..2 {
            if i == 1 && c.at_end() {
                break;
            }
            let here = c.here();
            match c.next() {
                Some(t) if t.text.bytes().next().is_some_and(|b| b.is_ascii_digit()) => {
                    match values::dotted_quad(t) {
                        Ok(a) => addrs.push(a),
                        Err(e) => {
                            self.type_error(map, e);
                            return Outcome::Resync(t.span.start);
                        }
                    }
                }
                _ => {
                    self.error(
                        map,
                        "bad-value",
                        here,
                        "expecting an address",
                        "expecting numeric value.",
                    );
                    return Outcome::Resync(here.start);
                }
            }
        }
        if let Err(e) = c.finish() {
            let at = e.span.start;
            self.type_error(map, e);
            return Outcome::Resync(at);
        }
        let low = addrs[0];
        let high = *addrs.get(1).unwrap_or(&low);
        let (low, high) = if low <= high {
            (low, high)
        } else {
            (high, low)
        };
        // The subnet the range must fall in: the enclosing one, or for a pool
        // directly in a shared-network, the one of its subnets holding `low`.
        let sub = subnet.or_else(|| {
            shared
                .and_then(|s| self.model.shared_networks.get(s))
                .and_then(|sn| {
                    sn.subnets
                        .iter()
                        .copied()
                        .find(|&i| self.model.subnets.get(i).is_some_and(|x| x.contains(low)))
                })
        });
        let Some(sub_i) = sub else {
            let d = Diagnostic::error(
                "range-outside-subnet",
                Some(span),
                format!("range {low}-{high} is in no subnet of this shared-network"),
            );
            self.push(
                map,
                d,
                None,
                Some(format!("No subnet declaration for range {low}")),
            );
            self.fatal = true;
            return Outcome::Next;
        };
        let Some(s) = self.model.subnets.get(sub_i) else {
            return Outcome::Next;
        };
        for a in [low, high] {
            if !s.contains(a) {
                let (net, mask, sspan) = (s.net, s.mask, s.span);
                let d = Diagnostic::error(
                    "range-outside-subnet",
                    Some(span),
                    format!(
                        "range {low}-{high} is outside subnet {net}/{}",
                        s.prefix_len()
                    ),
                )
                .with_note(Some(sspan), "the subnet is declared here");
                self.push(
                    map,
                    d,
                    None,
                    Some(format!(
                        "bad range, address {a} not in subnet {net} netmask {mask}"
                    )),
                );
                self.fatal = true;
                return Outcome::Next;
            }
        }
        let (lo, hi) = (u32::from(low), u32::from(high));
        let dup = self
            .ranges
            .iter()
            .filter(|(a, b)| *a <= hi && lo <= *b)
            .map(|(a, _)| (*a).max(lo))
            .min();
        if let Some(d) = dup {
            let a = std::net::Ipv4Addr::from(d);
            self.error(
                map,
                "duplicate-lease",
                span,
                format!("address {a} is already in another range"),
                format!("lease {a} is declared twice!"),
            );
        }
        self.ranges.push((lo, hi));
        let r = Range {
            low,
            high,
            dynamic_bootp,
            span,
        };
        match self.current_pool() {
            Some(p) => {
                if let Some(pool) = self.model.pools.get_mut(p) {
                    pool.ranges.push(r);
                }
            }
            None => {
                if let Some(s) = self.model.subnets.get_mut(sub_i) {
                    s.ranges.push(r);
                }
            }
        }
        Outcome::Next
    }

    fn hardware(
        &mut self,
        map: &SourceMap,
        ctx: Ctx,
        args: &[Token],
        span: Span,
        end: Span,
    ) -> Outcome {
        if ctx != Ctx::Host {
            self.error(
                map,
                "not-allowed-here",
                span,
                "hardware is only allowed in a host",
                "hardware address parameter not allowed here.",
            );
            return Outcome::Resync(span.start);
        }
        let mut c = Cursor::new(args, end);
        let here = c.here();
        let (kind, htype) = match c.next().map(|t| t.lower()).as_deref() {
            Some("ethernet") => ("ethernet", 1),
            Some("token-ring") => ("token-ring", 6),
            Some("fddi") => ("fddi", 8),
            Some("infiniband") => ("infiniband", 32),
            _ => {
                self.error(
                    map,
                    "bad-value",
                    here,
                    "expecting ethernet, token-ring, fddi or infiniband",
                    "expecting a network hardware type",
                );
                return Outcome::Resync(here.start);
            }
        };
        if self
            .current_host()
            .and_then(|i| self.model.hosts.get(i))
            .is_some_and(|h| h.hardware.is_some())
        {
            let name = self
                .current_host()
                .and_then(|i| self.model.hosts.get(i))
                .map(|h| h.name.clone())
                .unwrap_or_default();
            self.error(
                map,
                "duplicate-host",
                span,
                format!("host {name} already has a hardware address"),
                format!("Host {name} hardware address already configured."),
            );
            return Outcome::Next;
        }
        let here = c.here();
        let address = match c.next() {
            // ISC takes `hardware ethernet ;` (an empty address).
            None => Vec::new(),
            Some(t) => match values::colon_hex(&t.text) {
                Some(b) => b,
                None => {
                    self.error(
                        map,
                        "bad-value",
                        t.span,
                        format!("{} is not a hardware address", t.text),
                        "expecting numeric value.",
                    );
                    return Outcome::Resync(t.span.start);
                }
            },
        };
        let _ = here;
        if let Err(e) = c.finish() {
            let at = e.span.start;
            self.type_error(map, e);
            return Outcome::Resync(at);
        }
        if let Some(h) = self
            .current_host()
            .and_then(|i| self.model.hosts.get_mut(i))
        {
            h.hardware = Some(Hardware {
                kind: kind.into(),
                htype,
                address,
            });
        }
        Outcome::Next
    }

    fn permit(
        &mut self,
        map: &SourceMap,
        ctx: Ctx,
        verb: Permission,
        args: &[Token],
        span: Span,
        end: Span,
    ) -> Outcome {
        let mut c = Cursor::new(args, end);
        let here = c.here();
        let words: Vec<String> = args.iter().map(|t| t.lower()).collect();
        let w = |i: usize| words.get(i).map(String::as_str);
        let (kind, used) = match (w(0), w(1)) {
            (Some("unknown-clients"), _) => (Some(PermitKind::UnknownClients), 1),
            (Some("known-clients"), _) => (Some(PermitKind::KnownClients), 1),
            (Some("unknown"), Some("clients")) if ctx == Ctx::Pool => {
                (Some(PermitKind::UnknownClients), 2)
            }
            (Some("known"), Some("clients")) if ctx == Ctx::Pool => {
                (Some(PermitKind::KnownClients), 2)
            }
            (Some("booting"), _) => (Some(PermitKind::Booting), 1),
            (Some("bootp"), _) => (Some(PermitKind::Bootp), 1),
            (Some("client-updates"), _) => (Some(PermitKind::ClientUpdates), 1),
            (Some("duplicates"), _) => (Some(PermitKind::Duplicates), 1),
            (Some("declines"), _) => (Some(PermitKind::Declines), 1),
            (Some("leasequery"), _) => (Some(PermitKind::Leasequery), 1),
            (Some("members"), Some("of")) if ctx == Ctx::Pool => match args.get(2) {
                Some(t) if t.is_string() => {
                    let n = t.unquoted();
                    if self.model.class_by_name(&n).is_none() {
                        self.error(
                            map,
                            "unknown-class",
                            t.span,
                            format!("class {n} has not been declared"),
                            format!("no such class: {n}"),
                        );
                        return Outcome::Next;
                    }
                    (Some(PermitKind::MembersOf(n)), 3)
                }
                other => {
                    let at = other.map(|t| t.span).unwrap_or(end);
                    self.error(
                        map,
                        "bad-value",
                        at,
                        "expecting a quoted class name",
                        "expecting class name.",
                    );
                    return Outcome::Resync(at.start);
                }
            },
            (Some("dynamic"), Some("bootp")) if ctx == Ctx::Pool && w(2) == Some("clients") => {
                (Some(PermitKind::DynamicBootpClients), 3)
            }
            (Some("authenticated"), Some("clients")) if ctx == Ctx::Pool => {
                (Some(PermitKind::AuthenticatedClients), 2)
            }
            (Some("unauthenticated"), Some("clients")) if ctx == Ctx::Pool => {
                (Some(PermitKind::UnauthenticatedClients), 2)
            }
            (Some("all"), Some("clients")) if ctx == Ctx::Pool => (Some(PermitKind::AllClients), 2),
            (Some("after"), _) if ctx == Ctx::Pool => {
                let date: Vec<String> = args.iter().skip(1).map(|t| t.text.clone()).collect();
                (Some(PermitKind::After(date.join(" "))), args.len())
            }
            _ => (None, 0),
        };
        let Some(kind) = kind else {
            self.error(
                map,
                "bad-permit",
                here,
                "unknown allow/deny keyword",
                "expecting allow/deny key",
            );
            return Outcome::Resync(here.start);
        };
        c.pos = used;
        if let Err(e) = c.finish() {
            let at = e.span.start;
            self.type_error(map, e);
            return Outcome::Resync(at);
        }
        if matches!(
            kind,
            PermitKind::ClientUpdates
                | PermitKind::Duplicates
                | PermitKind::Declines
                | PermitKind::Leasequery
        ) {
            self.not_yet(format!("{} {}", verb_word(verb), permit_word(&kind)), span);
        }
        let p = Permit { verb, kind, span };
        if ctx == Ctx::Pool {
            if let Some(pool) = self
                .current_pool()
                .and_then(|i| self.model.pools.get_mut(i))
            {
                pool.permits.push(p.clone());
            }
        }
        self.emit(Exec::Permit(p));
        Outcome::Next
    }

    fn param(
        &mut self,
        map: &SourceMap,
        ctx: Ctx,
        name: &Token,
        args: &[Token],
        span: Span,
        end: Span,
    ) -> Outcome {
        let lname = name.lower();
        match ctx {
            Ctx::Key => return self.key_param(map, &lname, name, args, end),
            Ctx::Zone => return self.zone_param(map, &lname, name, args, end),
            Ctx::Failover => return self.failover_param(map, &lname, name, args, end),
            _ => {}
        }
        if lname == "lease" && ctx == Ctx::Class {
            // lease limit N;   (a class's cap on leases held by its members)
            let mut c = Cursor::new(args, end);
            let here = c.here();
            if !c.eat("limit") {
                self.error(
                    map,
                    "bad-value",
                    here,
                    "expecting `limit`",
                    "expecting \"limit\"",
                );
                return Outcome::Resync(here.start);
            }
            match values::parse_atom(&Atom::U32, &mut c).and_then(|v| c.finish().map(|_| v)) {
                Ok(Value::Int(n)) => {
                    if let Some(cl) = self
                        .current_class()
                        .and_then(|i| self.model.classes.get_mut(i))
                    {
                        cl.lease_limit = Some(n as u32);
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    let at = e.span.start;
                    self.type_error(map, e);
                    return Outcome::Resync(at);
                }
            }
            return Outcome::Next;
        }
        let Some((ty, support)) = options::param_type(&lname) else {
            // ISC takes an unknown word as the start of an executable
            // statement: alone it is accepted, followed by anything else
            // ISC wants the `;` at the next token (see compat/dhcpd err cases).
            if is_isc_keyword(&lname) {
                // A word ISC's lexer knows as a keyword cannot start a statement.
                self.misplaced(
                    map,
                    name.span,
                    format!("`{}` cannot start a statement", name.text),
                );
                return Outcome::Resync(name.span.start);
            }
            if let Some(t) = args.first() {
                self.type_error(map, TypeError::semicolon(t.span));
                return Outcome::Resync(t.span.start);
            }
            if self.in_exec_block() {
                let at = Span::new(name.span.file, name.span.end, name.span.end);
                self.type_error(map, TypeError::semicolon(at));
                return Outcome::Resync(name.span.start);
            }
            if map.text(end.file).as_bytes().get(end.start) == Some(&b'{') {
                // A word then a block: ISC wants the `;` at the brace.
                self.type_error(map, TypeError::semicolon(end));
                return Outcome::Resync(end.start);
            }
            if ctx != Ctx::Global {
                self.misplaced(
                    map,
                    name.span,
                    format!("`{}` is not a dhcpd.conf statement", name.text),
                );
                return Outcome::Resync(name.span.start);
            }
            self.warning(
                "no-effect",
                span,
                format!(
                    "`{}` is not a dhcpd.conf parameter; the statement has no effect",
                    name.text
                ),
            );
            self.emit(Exec::Eval {
                name: name.text.clone(),
                span,
            });
            return Outcome::Next;
        };
        let mut c = Cursor::new(args, end);
        let value = match ty {
            ParamType::Flag => ParamValue::Flag(true),
            ParamType::Bool => {
                let here = c.here();
                match c.next().map(|t| t.lower()).as_deref() {
                    Some("true" | "on") => ParamValue::Flag(true),
                    Some("false" | "off") => ParamValue::Flag(false),
                    _ => {
                        self.error(
                            map,
                            "bad-value",
                            here,
                            "expecting true, false, on or off",
                            "expecting boolean.",
                        );
                        return Outcome::Resync(here.start);
                    }
                }
            }
            ParamType::U8 | ParamType::U16 | ParamType::U32 => {
                // ISC takes `-1` for a 32-bit parameter (it wraps to the largest
                // value), so signed input is accepted there.
                let atom = match ty {
                    ParamType::U8 => Atom::U8,
                    ParamType::U16 => Atom::U16,
                    _ => Atom::I32,
                };
                match values::parse_atom(&atom, &mut c) {
                    Ok(v) => ParamValue::Values(vec![v]),
                    Err(e) => {
                        let at = e.span.start;
                        self.type_error(map, e);
                        return Outcome::Resync(at);
                    }
                }
            }
            ParamType::Text | ParamType::Space | ParamType::KeyName => {
                match values::parse_atom(&Atom::Text, &mut c) {
                    Ok(Value::Text(t)) => ParamValue::Word(t),
                    Ok(_) => ParamValue::Word(String::new()),
                    Err(e) => {
                        let at = e.span.start;
                        self.type_error(map, e);
                        return Outcome::Resync(at);
                    }
                }
            }
            ParamType::IpOrHost => match values::ip_or_host(&mut c) {
                Ok(v) => ParamValue::Values(vec![v]),
                Err(e) => {
                    let at = e.span.start;
                    self.type_error(map, e);
                    return Outcome::Resync(at);
                }
            },
            ParamType::Enum(words) => {
                let here = c.here();
                match c.next() {
                    Some(t) if words.contains(&t.lower().as_str()) => ParamValue::Word(t.lower()),
                    _ => {
                        self.error(
                            map,
                            "bad-value",
                            here,
                            format!("expecting one of: {}", words.join(", ")),
                            "unknown value",
                        );
                        return Outcome::Resync(here.start);
                    }
                }
            }
            ParamType::Date => {
                let words: Vec<String> = args.iter().map(|t| t.text.clone()).collect();
                c.pos = args.len();
                ParamValue::Word(words.join(" "))
            }
            ParamType::Expr => match values::parse_atom(&Atom::Text, &mut c) {
                Ok(Value::Text(t)) => ParamValue::Word(t),
                _ => {
                    let here = args.first().map(|t| t.span).unwrap_or(end);
                    self.error(
                        map,
                        "bad-value",
                        here,
                        "expecting a string or `= expression`",
                        "expecting string.",
                    );
                    return Outcome::Resync(here.start);
                }
            },
        };
        if let Err(e) = c.finish() {
            let at = e.span.start;
            self.type_error(map, e);
            return Outcome::Resync(at);
        }
        match (lname.as_str(), &value) {
            ("ddns-update-style", ParamValue::Word(w)) if self.stack.is_empty() => {
                self.ddns_update_style = Some((w.clone(), span))
            }
            ("omapi-key", ParamValue::Word(w)) => self.omapi_keys.push((w.clone(), span)),
            ("vendor-option-space" | "site-option-space", ParamValue::Word(w))
                if !self
                    .model
                    .options
                    .spaces
                    .contains_key(&w.to_ascii_lowercase()) =>
            {
                self.warning(
                    "unknown-option-space",
                    span,
                    format!("option space {w} has not been declared"),
                );
            }
            _ => {}
        }
        if support == Support::NotYet && lname != "ddns-update-style" {
            self.not_yet(lname.clone(), span);
        }
        self.emit(Exec::Param {
            name: lname,
            value,
            span,
        });
        Outcome::Next
    }

    fn key_param(
        &mut self,
        map: &SourceMap,
        lname: &str,
        name: &Token,
        args: &[Token],
        end: Span,
    ) -> Outcome {
        let Some(FrameKind::Key(i)) = self.stack.last().map(|f| &f.kind) else {
            return Outcome::Next;
        };
        let i = *i;
        match lname {
            "algorithm" => {
                let mut c = Cursor::new(args, end);
                let here = c.here();
                let Some(t) = c.next() else {
                    self.error(
                        map,
                        "bad-value",
                        here,
                        "expecting an algorithm name",
                        "expecting key algorithm name.",
                    );
                    return Outcome::Resync(here.start);
                };
                if let Err(e) = c.finish() {
                    let at = e.span.start;
                    self.type_error(map, e);
                    return Outcome::Resync(at);
                }
                if let Some(k) = self.model.keys.get_mut(i) {
                    k.algorithm = Some(t.unquoted().to_ascii_lowercase());
                }
            }
            "secret" => {
                let text: String = args.iter().map(|t| t.unquoted()).collect();
                let at = args.first().map(|t| t.span).unwrap_or(end);
                if args.is_empty() {
                    // ISC reads the `;` itself as the first base64 character.
                    self.error(
                        map,
                        "bad-key-secret",
                        at,
                        "the key secret is missing",
                        "invalid base64 character 59.",
                    );
                    return Outcome::Next;
                }
                match decode_base64(&text) {
                    Ok(bytes) => {
                        if let Some(k) = self.model.keys.get_mut(i) {
                            k.secret = Some(bytes);
                        }
                    }
                    Err((msg, isc)) => self.error(map, "bad-key-secret", at, msg, isc),
                }
            }
            _ => {
                self.error(
                    map,
                    "bad-key-statement",
                    name.span,
                    format!("{} is not a key statement (algorithm, secret)", name.text),
                    "expecting key statement",
                );
                return Outcome::Resync(name.span.start);
            }
        }
        Outcome::Next
    }

    fn zone_param(
        &mut self,
        map: &SourceMap,
        lname: &str,
        name: &Token,
        args: &[Token],
        end: Span,
    ) -> Outcome {
        let Some(FrameKind::Zone(i)) = self.stack.last().map(|f| &f.kind) else {
            return Outcome::Next;
        };
        let i = *i;
        let mut c = Cursor::new(args, end);
        match lname {
            "primary" | "secondary" => {
                let list = match values::comma_list(&mut c, |c| values::ip_or_host(c).map(Some)) {
                    Ok(l) => l,
                    Err(e) => {
                        let at = e.span.start;
                        self.type_error(map, e);
                        return Outcome::Resync(at);
                    }
                };
                if let Some(z) = self.model.zones.get_mut(i) {
                    if lname == "primary" {
                        z.primary.extend(list)
                    } else {
                        z.secondary.extend(list)
                    }
                }
            }
            "primary6" | "secondary6" => {
                let ip6 = |c: &mut Cursor<'_>| {
                    values::parse_atom(&Atom::Ip6, c).map(|v| match v {
                        Value::Ip6(a) => Some(a),
                        _ => None,
                    })
                };
                let list = match values::comma_list(&mut c, ip6) {
                    Ok(l) => l,
                    Err(e) => {
                        let at = e.span.start;
                        self.type_error(map, e);
                        return Outcome::Resync(at);
                    }
                };
                if let Some(z) = self.model.zones.get_mut(i) {
                    if lname == "primary6" {
                        z.primary6.extend(list)
                    } else {
                        z.secondary6.extend(list)
                    }
                }
            }
            _ => {
                self.error(
                    map,
                    "bad-zone-statement",
                    name.span,
                    format!(
                        "{} is not a zone statement (primary, secondary, key)",
                        name.text
                    ),
                    "expecting key statement",
                );
                return Outcome::Resync(name.span.start);
            }
        }
        if let Err(e) = c.finish() {
            let at = e.span.start;
            self.type_error(map, e);
            return Outcome::Resync(at);
        }
        Outcome::Next
    }

    fn failover_param(
        &mut self,
        map: &SourceMap,
        lname: &str,
        name: &Token,
        args: &[Token],
        end: Span,
    ) -> Outcome {
        let Some(FrameKind::Failover(i)) = self.stack.last().map(|f| &f.kind) else {
            return Outcome::Next;
        };
        let i = *i;
        let mut c = Cursor::new(args, end);
        let is_peer = lname == "peer";
        let key = if is_peer {
            // ISC takes `peer` as a prefix it may read more than once.
            let mut word = c.next().map(|t| t.lower());
            while word.as_deref() == Some("peer") {
                word = c.next().map(|t| t.lower());
            }
            word.map(|w| format!("peer {w}")).unwrap_or_default()
        } else {
            lname.to_string()
        };
        let r: Result<(), TypeError> = (|| {
            let p = &mut self.model.failover_peers[i];
            match key.as_str() {
                "primary" => p.role = Some(FailoverRole::Primary),
                "secondary" => p.role = Some(FailoverRole::Secondary),
                "address" => p.address = Some(values::ip_or_host(&mut c)?),
                "peer address" => p.peer_address = Some(values::ip_or_host(&mut c)?),
                "port" => {
                    p.port = int_value(values::parse_atom(&Atom::U16, &mut c)?).map(|v| v as u16)
                }
                "peer port" => {
                    p.peer_port =
                        int_value(values::parse_atom(&Atom::U16, &mut c)?).map(|v| v as u16)
                }
                "mclt" => {
                    p.mclt = int_value(values::parse_atom(&Atom::U32, &mut c)?).map(|v| v as u32)
                }
                "split" => {
                    p.split = int_value(values::parse_atom(&Atom::U8, &mut c)?).map(|v| v as u8)
                }
                "hba" => {
                    if let Value::Data(d) = values::parse_atom(&Atom::Data, &mut c)? {
                        p.hba = Some(d);
                    }
                }
                "load" => {
                    // load balance max seconds N;
                    for w in ["balance", "max", "seconds"] {
                        if !c.eat(w) {
                            return Err(TypeError::new(
                                c.here(),
                                format!("expecting `{w}`"),
                                "expecting a failover statement",
                            ));
                        }
                    }
                    p.load_balance_max_seconds =
                        int_value(values::parse_atom(&Atom::U32, &mut c)?).map(|v| v as u32);
                }
                "max-response-delay"
                | "max-unacked-updates"
                | "max-lease-misbalance"
                | "max-lease-ownership"
                | "min-balance"
                | "max-balance"
                | "auto-partner-down"
                | "max-transmit-idle"
                | "max-unacked-packets" => {
                    values::parse_atom(&Atom::U32, &mut c)?;
                    p.params.insert(key.clone(), args.to_vec());
                }
                _ => {
                    return Err(TypeError::new(
                        name.span,
                        format!("{} is not a failover peer statement", name.text),
                        "expecting a failover statement",
                    ));
                }
            }
            c.finish()
        })();
        let p = &self.model.failover_peers[i];
        if r.is_ok()
            && p.role == Some(FailoverRole::Secondary)
            && (p.split.is_some() || p.hba.is_some())
            && (key == "split" || key == "hba")
        {
            self.error(
                map,
                "failover-incomplete",
                name.span,
                "a secondary failover server may not set split or hba",
                "secondary may not define load balance settings.",
            );
            return Outcome::Next;
        }
        if let Err(e) = r {
            let at = e.span.start;
            self.type_error(map, e);
            return Outcome::Resync(at);
        }
        Outcome::Next
    }

    // ------------------------------------------------------------ expressions

    fn check_bool(&mut self, map: &SourceMap, e: &Expr) {
        self.check_expr(map, e);
        if matches!(expr_kind(e), ExprKind::Data | ExprKind::Numeric) {
            self.error(
                map,
                "not-boolean",
                e.span(),
                "expecting a boolean expression (a comparison, exists, known, and/or/not)",
                "Expecting a boolean expression.",
            );
        }
    }

    fn check_expr(&mut self, map: &SourceMap, e: &Expr) {
        let mut todo = vec![e];
        while let Some(e) = todo.pop() {
            match e {
                Expr::Binary { lhs, rhs, .. } => {
                    todo.push(lhs);
                    todo.push(rhs);
                }
                Expr::Not { inner, .. } => todo.push(inner),
                Expr::Call { args, .. } => todo.extend(args.iter()),
                Expr::Option { name, .. }
                | Expr::ConfigOption { name, .. }
                | Expr::Exists { name, .. } => {
                    if !matches!(self.model.options.lookup(&name.text), Lookup::Found(_)) {
                        let (space, n) = options::split_name(&name.text);
                        self.error(
                            map,
                            "unknown-option",
                            name.span,
                            format!("unknown option {space}.{n}"),
                            format!("no option named {n} in space {space}"),
                        );
                    }
                }
                Expr::Str(_) | Expr::Word(_) => {}
            }
        }
    }

    // ------------------------------------------------------------ the end

    /// Closes blocks left open at the end of a file (an error) and returns
    /// true when any was.
    pub fn unwind_to(&mut self, base: usize) -> bool {
        let mut any = false;
        while self.stack.len() > base {
            self.stack.pop();
            any = true;
        }
        any
    }

    /// ISC's checks once the whole configuration is read (D-ST-6), with the
    /// union rule for `ddns-update-style`.
    pub fn finish(&mut self, map: &SourceMap, main: Option<FileId>) {
        for (name, span) in std::mem::take(&mut self.omapi_keys) {
            if !self.model.keys.iter().any(|k| k.name == name) {
                let d = Diagnostic::error(
                    "unknown-key",
                    Some(span),
                    format!("omapi-key names key {name}, which is not declared"),
                );
                self.push(map, d, None, Some(format!("OMAPI key {name}: not found")));
            }
        }
        for p in &self.model.failover_peers {
            if !self
                .model
                .pools
                .iter()
                .any(|pool| pool.failover_peer.as_deref() == Some(p.name.as_str()))
            {
                let d = Diagnostic::error(
                    "failover-without-pool",
                    Some(p.span),
                    format!("failover peer {} is used by no pool", p.name),
                )
                .with_note(
                    None,
                    "every failover peer must be named by `failover peer` in at least one pool",
                );
                self.findings.push(Finding {
                    diag: d,
                    isc: Some(IscError {
                        file: None,
                        line: None,
                        message: "Failover configuration sanity check failed".into(),
                    }),
                });
            }
        }
        let at = main.map(|f| Span::new(f, 0, 0));
        match &self.ddns_update_style {
            None => {
                let path = main
                    .map(|f| map.path(f).display().to_string())
                    .unwrap_or_default();
                self.findings.push(Finding {
                    diag: Diagnostic::warning("ddns-update-style-missing", at, "no global ddns-update-style statement")
                        .with_note(None, format!("dhcpd 3.0.5 refuses to start without one (\"You must add a global ddns-update-style statement to {path}\"); 4.x takes `none`. Add `ddns-update-style none;`")),
                    isc: None,
                });
            }
            Some((style, span)) if style == "ad-hoc" => {
                let d = Diagnostic::warning("ddns-ad-hoc", Some(*span), "ddns-update-style ad-hoc: DNS updates are not sent")
                    .with_note(None, "dhcpd 4.4 refuses this (\"ddns-update-style ad_hoc no longer supported\"); 3.0.5 accepts it");
                self.findings.push(Finding { diag: d, isc: None });
            }
            Some((style, span)) if style == "interim" || style == "standard" => {
                self.warning(
                    "ddns-not-sent",
                    *span,
                    format!("ddns-update-style {style}: pxesuite does not send DNS updates yet"),
                );
            }
            _ => {}
        }
    }
}

fn int_value(v: Value) -> Option<i64> {
    match v {
        Value::Int(n) => Some(n),
        _ => None,
    }
}

fn verb_word(v: Permission) -> &'static str {
    match v {
        Permission::Allow => "allow",
        Permission::Deny => "deny",
        Permission::Ignore => "ignore",
    }
}

fn permit_word(k: &PermitKind) -> &'static str {
    match k {
        PermitKind::ClientUpdates => "client-updates",
        PermitKind::Duplicates => "duplicates",
        PermitKind::Declines => "declines",
        PermitKind::Leasequery => "leasequery",
        _ => "",
    }
}

/// A subnet number or netmask: ISC wants digits here, never a host name.
fn subnet_addr(t: &Token) -> Result<std::net::Ipv4Addr, TypeError> {
    if !t.text.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        return Err(TypeError::new(
            t.span,
            format!("expecting an address, found {}", t.text),
            "expecting numeric value.",
        ));
    }
    let first_bad = t
        .text
        .split('.')
        .find(|p| !p.bytes().all(|b| b.is_ascii_digit()) || p.is_empty());
    if first_bad.is_some() {
        return Err(TypeError::new(
            t.span,
            format!("{} is not a dotted-quad address", t.text),
            "expecting numeric value.",
        ));
    }
    values::dotted_quad(t)
}

/// Base64 as ISC reads a key secret, with its two complaints.
fn decode_base64(s: &str) -> Result<Vec<u8>, (String, String)> {
    let mut out = Vec::new();
    let mut acc: u32 = 0;
    let mut n = 0;
    for ch in s.chars() {
        let v = match ch {
            'A'..='Z' => ch as u32 - 'A' as u32,
            'a'..='z' => ch as u32 - 'a' as u32 + 26,
            '0'..='9' => ch as u32 - '0' as u32 + 52,
            '+' => 62,
            '/' => 63,
            '=' => break,
            _ => {
                return Err((
                    format!("{ch:?} is not a base64 character in the key secret"),
                    format!("invalid base64 character {}.", ch as u32),
                ))
            }
        };
        acc = (acc << 6) | v;
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
    }
    match n {
        0 => Ok(out),
        2 => {
            out.push((acc >> 4) as u8);
            Ok(out)
        }
        3 => {
            out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]);
            Ok(out)
        }
        _ => Err((
            "the key secret is not complete base64 (a character is left over)".into(),
            format!("partial base64 value left over: {acc}."),
        )),
    }
}

/// What an expression yields, as far as the check can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExprKind {
    Boolean,
    Data,
    Numeric,
    /// A variable or an unknown function: could be anything.
    Any,
}

pub fn expr_kind(e: &Expr) -> ExprKind {
    match e {
        Expr::Binary { op, .. } => match op {
            BinOp::Or
            | BinOp::And
            | BinOp::Equal
            | BinOp::NotEqual
            | BinOp::RegexMatch
            | BinOp::RegexIMatch => ExprKind::Boolean,
            _ => ExprKind::Numeric,
        },
        Expr::Not { .. } | Expr::Exists { .. } => ExprKind::Boolean,
        Expr::Option { .. } | Expr::ConfigOption { .. } | Expr::Str(_) => ExprKind::Data,
        Expr::Call { name, .. } => match name.lower().as_str() {
            "substring" | "suffix" | "concat" | "lcase" | "ucase" | "binary-to-ascii"
            | "encode-int" | "pick-first-value" | "reverse" | "packet" | "gethostname"
            | "gethostbyname" | "v6relay" => ExprKind::Data,
            "extract-int" => ExprKind::Numeric,
            "defined" | "check" => ExprKind::Boolean,
            _ => ExprKind::Any,
        },
        Expr::Word(t) => {
            let w = t.lower();
            match w.as_str() {
                "known" | "static" | "true" | "false" => ExprKind::Boolean,
                "hardware" | "leased-address" | "host-decl-name" | "null" | "filename"
                | "server-name" | "client-state" => ExprKind::Data,
                "lease-time" => ExprKind::Numeric,
                _ if w.bytes().all(|b| b.is_ascii_digit()) => ExprKind::Numeric,
                _ if w.contains(':') && values::colon_hex(&w).is_some() => ExprKind::Data,
                _ => ExprKind::Any,
            }
        }
    }
}

/// Words ISC's lexer reads as keywords that cannot start a statement: an
/// unknown statement starting with one is refused where it starts, while an
/// unknown plain name is taken as the start of an executable statement.
fn is_isc_keyword(w: &str) -> bool {
    const WORDS: &[&str] = &[
        "array",
        "of",
        "code",
        "domain-name",
        "domain-list",
        "ip-address",
        "ip6-address",
        "text",
        "string",
        "boolean",
        "integer",
        "signed",
        "unsigned",
        "encapsulate",
        "compressed",
        "netmask",
        "ethernet",
        "token-ring",
        "fddi",
        "infiniband",
        "peer",
        "port",
        "address",
        "primary",
        "secondary",
        "split",
        "hba",
        "mclt",
        "load",
        "balance",
        "max",
        "seconds",
        "known",
        "static",
        "exists",
        "substring",
        "suffix",
        "concat",
        "packet",
        "leased-address",
        "binary-to-ascii",
        "encode-int",
        "extract-int",
        "pick-first-value",
        "lcase",
        "ucase",
        "reverse",
        "null",
        "true",
        "false",
        "off",
        "with",
        "unknown-clients",
        "known-clients",
        "booting",
        "bootp",
        "client-updates",
        "members",
        "unknown",
        "clients",
        "after",
        "never",
        "epoch",
        "starts",
        "ends",
        "tstp",
        "tsfp",
        "cltt",
        "binding",
        "state",
        "next",
        "rewind",
        "uid",
        "client-hostname",
        "billing",
        "abandoned",
        "backup",
        "free",
        "active",
        "expired",
        "released",
        "reset",
        "leasequery",
        "declines",
        "duplicates",
        "config-option",
        "host-decl-name",
        "authenticated",
        "unauthenticated",
        "all",
        "commit",
        "expiry",
        "release",
        "lease",
        "width",
        "length",
        "hash",
        "space",
        "limit",
        "dynamic",
        "size",
        "algorithm",
        "secret",
        "primary6",
        "secondary6",
        "elsif",
        "fixed-address6",
        "fixed-prefix6",
        "range6",
        "prefix6",
        "subnet6",
        "host-identifier",
        "and",
        "or",
    ];
    WORDS.contains(&w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_complaints_match_isc() {
        assert_eq!(decode_base64("YWJj").unwrap(), b"abc");
        assert_eq!(decode_base64("YWI=").unwrap(), b"ab");
        assert_eq!(
            decode_base64("FIXME").unwrap_err().1,
            "partial base64 value left over: 4."
        );
        assert_eq!(
            decode_base64("YOUR_KEY").unwrap_err().1,
            "invalid base64 character 95."
        );
    }
}
