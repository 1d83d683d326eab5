//! The checked model of a dhcpd.conf: what the server runs on. Scopes form a
//! tree (global → shared-network → subnet → pool, with groups, hosts and
//! classes in between) and a lookup walks it the way ISC inherits
//! parameters: the innermost scope that sets a parameter wins.
//!
//! Every element keeps the `Span` it came from, so late checks and the
//! server's own messages can still name the place.

use super::ast::{Expr, OptionVerb, Permission, Token};
use super::options::OptionTable;
use super::values::Value;
use crate::diag::Span;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// Index of a scope in `Config::scopes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScopeId(pub usize);

/// What a scope belongs to (the index is into the matching list of `Config`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    Global,
    SharedNetwork(usize),
    Subnet(usize),
    Pool(usize),
    Group(usize),
    Host(usize),
    Class(usize),
    Subclass(usize),
}

/// One scope: its parent and its statements in order.
#[derive(Debug, Clone)]
pub struct Scope {
    pub parent: Option<ScopeId>,
    pub kind: ScopeKind,
    pub span: Span,
    pub stmts: Vec<Exec>,
}

/// A parameter's checked value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    Flag(bool),
    Values(Vec<Value>),
    Word(String),
    Expr(Expr),
}

/// An option statement with its value typed against the option's definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionSetting {
    pub verb: OptionVerb,
    pub space: String,
    pub name: String,
    pub code: u32,
    pub value: OptionValue,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionValue {
    Typed(Vec<Value>),
    /// `option name = data-expression;`, evaluated per packet.
    Expr(Expr),
}

/// What an `allow`/`deny`/`ignore` statement is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PermitKind {
    UnknownClients,
    KnownClients,
    Booting,
    Bootp,
    ClientUpdates,
    Duplicates,
    Declines,
    Leasequery,
    MembersOf(String),
    DynamicBootpClients,
    AuthenticatedClients,
    UnauthenticatedClients,
    AllClients,
    After(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permit {
    pub verb: Permission,
    pub kind: PermitKind,
    pub span: Span,
}

/// An executable statement, in the order written; the server evaluates a
/// scope's list from the outermost scope in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exec {
    Param {
        name: String,
        value: ParamValue,
        span: Span,
    },
    Option(OptionSetting),
    Permit(Permit),
    /// `if`/`elsif`/`else`: conditions (None for else) with their bodies.
    If {
        branches: Vec<(Option<Expr>, Vec<Exec>)>,
        span: Span,
    },
    Switch {
        expr: Expr,
        body: Vec<Exec>,
        span: Span,
    },
    Case {
        value: Option<Expr>,
        span: Span,
    },
    Set {
        name: String,
        expr: Expr,
        span: Span,
    },
    Unset {
        name: String,
        span: Span,
    },
    Log {
        priority: String,
        expr: Expr,
        span: Span,
    },
    Execute {
        args: Vec<Expr>,
        span: Span,
    },
    Add {
        class: String,
        span: Span,
    },
    Break {
        span: Span,
    },
    Return {
        expr: Expr,
        span: Span,
    },
    On {
        events: Vec<String>,
        body: Vec<Exec>,
        span: Span,
    },
    Call {
        name: String,
        args: Vec<Expr>,
        span: Span,
    },
    /// A bare word statement ISC takes without effect (`foo;`).
    Eval {
        name: String,
        span: Span,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    pub low: Ipv4Addr,
    pub high: Ipv4Addr,
    pub dynamic_bootp: bool,
    pub span: Span,
}

impl Range {
    pub fn len(&self) -> u64 {
        u64::from(u32::from(self.high)) - u64::from(u32::from(self.low)) + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn contains(&self, a: Ipv4Addr) -> bool {
        self.low <= a && a <= self.high
    }
}

#[derive(Debug, Clone)]
pub struct SharedNetwork {
    pub name: String,
    pub scope: ScopeId,
    pub subnets: Vec<usize>,
    pub pools: Vec<usize>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Subnet {
    pub net: Ipv4Addr,
    pub mask: Ipv4Addr,
    pub shared_network: Option<usize>,
    pub scope: ScopeId,
    /// Ranges written directly in the subnet.
    pub ranges: Vec<Range>,
    pub pools: Vec<usize>,
    pub span: Span,
}

impl Subnet {
    pub fn contains(&self, a: Ipv4Addr) -> bool {
        u32::from(a) & u32::from(self.mask) == u32::from(self.net)
    }

    pub fn prefix_len(&self) -> u32 {
        u32::from(self.mask).count_ones()
    }
}

#[derive(Debug, Clone)]
pub struct Pool {
    pub scope: ScopeId,
    pub subnet: Option<usize>,
    pub shared_network: Option<usize>,
    pub ranges: Vec<Range>,
    pub permits: Vec<Permit>,
    pub failover_peer: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub name: Option<String>,
    pub scope: ScopeId,
    pub span: Span,
}

/// `hardware TYPE ADDRESS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hardware {
    /// `ethernet`, `token-ring`, `fddi`, `infiniband`.
    pub kind: String,
    /// ARP hardware type number (1 ethernet, 6 token-ring, 8 fddi, 32 infiniband).
    pub htype: u8,
    pub address: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct Host {
    pub name: String,
    pub scope: ScopeId,
    pub hardware: Option<Hardware>,
    /// Addresses or names to look up, in order.
    pub fixed_addresses: Vec<Value>,
    /// `option dhcp-client-identifier` set in the host: hosts are also keyed by it.
    pub client_id: Option<Vec<u8>>,
    /// `host-identifier option NAME VALUE;` (4.x).
    pub host_identifier: Option<(String, Vec<u8>)>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Class {
    pub name: String,
    pub scope: ScopeId,
    /// `match if BOOLEAN;`
    pub match_if: Option<Expr>,
    /// `match DATA;`: the key for subclasses.
    pub match_data: Option<Expr>,
    /// `spawn with DATA;`
    pub spawn: Option<Expr>,
    /// `lease limit N;`
    pub lease_limit: Option<u32>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Subclass {
    pub class: String,
    /// The key: evaluated once at load (a constant).
    pub data: Expr,
    pub scope: Option<ScopeId>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailoverRole {
    Primary,
    Secondary,
}

#[derive(Debug, Clone)]
pub struct FailoverPeer {
    pub name: String,
    pub role: Option<FailoverRole>,
    pub address: Option<Value>,
    pub port: Option<u16>,
    pub peer_address: Option<Value>,
    pub peer_port: Option<u16>,
    pub mclt: Option<u32>,
    pub split: Option<u8>,
    pub hba: Option<Vec<u8>>,
    pub load_balance_max_seconds: Option<u32>,
    /// Every other statement, kept by name.
    pub params: BTreeMap<String, Vec<Token>>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Key {
    pub name: String,
    pub algorithm: Option<String>,
    pub secret: Option<Vec<u8>>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Zone {
    pub name: String,
    pub primary: Vec<Value>,
    pub secondary: Vec<Value>,
    pub primary6: Vec<String>,
    pub secondary6: Vec<String>,
    pub key: Option<String>,
    pub span: Span,
}

/// The whole checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub scopes: Vec<Scope>,
    pub shared_networks: Vec<SharedNetwork>,
    pub subnets: Vec<Subnet>,
    pub pools: Vec<Pool>,
    pub groups: Vec<Group>,
    pub hosts: Vec<Host>,
    pub classes: Vec<Class>,
    pub subclasses: Vec<Subclass>,
    pub failover_peers: Vec<FailoverPeer>,
    pub keys: Vec<Key>,
    pub zones: Vec<Zone>,
    pub options: OptionTable,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            scopes: vec![Scope {
                parent: None,
                kind: ScopeKind::Global,
                span: Span::new(crate::diag::FileId(0), 0, 0),
                stmts: Vec::new(),
            }],
            shared_networks: Vec::new(),
            subnets: Vec::new(),
            pools: Vec::new(),
            groups: Vec::new(),
            hosts: Vec::new(),
            classes: Vec::new(),
            subclasses: Vec::new(),
            failover_peers: Vec::new(),
            keys: Vec::new(),
            zones: Vec::new(),
            options: OptionTable::default(),
        }
    }
}

impl Config {
    pub const GLOBAL: ScopeId = ScopeId(0);

    pub fn scope(&self, id: ScopeId) -> Option<&Scope> {
        self.scopes.get(id.0)
    }

    /// The chain of scopes from `id` out to the global scope.
    pub fn ancestry(&self, id: ScopeId) -> Vec<ScopeId> {
        let mut out = Vec::new();
        let mut cur = Some(id);
        while let Some(s) = cur {
            if out.len() > self.scopes.len() {
                break;
            }
            out.push(s);
            cur = self.scope(s).and_then(|sc| sc.parent);
        }
        out
    }

    /// The unconditional value of a parameter as seen from `id`: the
    /// innermost scope that sets it wins, and within a scope the last setting.
    pub fn param(&self, id: ScopeId, name: &str) -> Option<&ParamValue> {
        self.ancestry(id).into_iter().find_map(|s| {
            self.scope(s)?.stmts.iter().rev().find_map(|e| match e {
                Exec::Param { name: n, value, .. } if n == name => Some(value),
                _ => None,
            })
        })
    }

    /// The unconditional setting of an option (by `space.name`) seen from `id`.
    pub fn option(&self, id: ScopeId, space: &str, name: &str) -> Option<&OptionSetting> {
        self.ancestry(id).into_iter().find_map(|s| {
            self.scope(s)?.stmts.iter().rev().find_map(|e| match e {
                Exec::Option(o) if o.space == space && o.name == name => Some(o),
                _ => None,
            })
        })
    }

    pub fn host_by_name(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name == name)
    }

    /// Hosts keyed by hardware address (type and bytes).
    pub fn hosts_by_hardware(&self, htype: u8, addr: &[u8]) -> impl Iterator<Item = &Host> {
        let addr = addr.to_vec();
        self.hosts.iter().filter(move |h| {
            h.hardware
                .as_ref()
                .is_some_and(|hw| hw.htype == htype && hw.address == addr)
        })
    }

    /// Hosts keyed by client identifier.
    pub fn hosts_by_client_id(&self, id: &[u8]) -> impl Iterator<Item = &Host> {
        let id = id.to_vec();
        self.hosts
            .iter()
            .filter(move |h| h.client_id.as_deref() == Some(id.as_slice()))
    }

    pub fn class_by_name(&self, name: &str) -> Option<&Class> {
        self.classes.iter().find(|c| c.name == name)
    }

    /// The subnet an address belongs to (the most specific one).
    pub fn subnet_for(&self, a: Ipv4Addr) -> Option<&Subnet> {
        self.subnets
            .iter()
            .filter(|s| s.contains(a))
            .max_by_key(|s| s.prefix_len())
    }

    /// Every dynamic range of a subnet: its own and its pools'.
    pub fn ranges_of_subnet(&self, idx: usize) -> Vec<&Range> {
        let Some(s) = self.subnets.get(idx) else {
            return Vec::new();
        };
        let mut out: Vec<&Range> = s.ranges.iter().collect();
        for p in &s.pools {
            if let Some(pool) = self.pools.get(*p) {
                out.extend(pool.ranges.iter());
            }
        }
        out
    }
}
