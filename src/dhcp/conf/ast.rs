//! The syntax tree of one dhcpd.conf item, built from pest pairs. Every node
//! carries a `Span`; values stay raw `Token`s for the check to type.

use super::parser::Rule;
use crate::diag::{FileId, Span};
use pest::iterators::Pair;

/// One token as written (a string keeps its quotes; see `Token::unquoted`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub span: Span,
}

impl Token {
    pub fn is_string(&self) -> bool {
        self.text.starts_with('"')
    }

    /// The value of a quoted string with its escapes decoded, or the text itself.
    pub fn unquoted(&self) -> String {
        if !self.is_string() {
            return self.text.clone();
        }
        let inner = self
            .text
            .get(1..self.text.len().saturating_sub(1))
            .unwrap_or("");
        String::from_utf8_lossy(&unescape(inner)).into_owned()
    }

    /// The bytes of a quoted string with its escapes decoded.
    pub fn string_bytes(&self) -> Vec<u8> {
        let inner = self
            .text
            .get(1..self.text.len().saturating_sub(1))
            .unwrap_or("");
        unescape(inner)
    }

    pub fn lower(&self) -> String {
        self.text.to_ascii_lowercase()
    }
}

/// C escapes as ISC's lexer reads them: `\n \t \r \b \ooo \xhh`, else the char itself.
pub fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 >= b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let c = b[i + 1];
        i += 2;
        match c {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'b' => out.push(8),
            b'0'..=b'7' => {
                let mut v = u32::from(c - b'0');
                let mut n = 1;
                while n < 3 && i < b.len() && (b'0'..=b'7').contains(&b[i]) {
                    v = v * 8 + u32::from(b[i] - b'0');
                    i += 1;
                    n += 1;
                }
                out.push(v as u8);
            }
            b'x' => {
                let mut v = 0u32;
                let mut n = 0;
                while n < 2 && i < b.len() && b[i].is_ascii_hexdigit() {
                    v = v * 16 + (b[i] as char).to_digit(16).unwrap_or(0);
                    i += 1;
                    n += 1;
                }
                out.push(v as u8);
            }
            other => out.push(other),
        }
    }
    out
}

/// A binary operator of dhcp-eval(5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Equal,
    NotEqual,
    RegexMatch,
    RegexIMatch,
    BitOr,
    BitXor,
    BitAnd,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl BinOp {
    fn from_text(s: &str) -> Option<BinOp> {
        Some(match s.to_ascii_lowercase().as_str() {
            "or" => BinOp::Or,
            "and" => BinOp::And,
            "=" => BinOp::Equal,
            "!=" => BinOp::NotEqual,
            "~=" => BinOp::RegexMatch,
            "~~" => BinOp::RegexIMatch,
            "|" => BinOp::BitOr,
            "^" => BinOp::BitXor,
            "&" => BinOp::BitAnd,
            "+" => BinOp::Add,
            "-" => BinOp::Sub,
            "*" => BinOp::Mul,
            "/" => BinOp::Div,
            "%" => BinOp::Mod,
            _ => return None,
        })
    }

    /// Binding strength: higher binds tighter (dhcp-eval(5): `or` < `and` <
    /// comparisons < bit operators < `+ -` < `* / %`).
    fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Equal | BinOp::NotEqual | BinOp::RegexMatch | BinOp::RegexIMatch => 3,
            BinOp::BitOr | BinOp::BitXor => 4,
            BinOp::BitAnd => 5,
            BinOp::Add | BinOp::Sub => 6,
            BinOp::Mul | BinOp::Div | BinOp::Mod => 7,
        }
    }
}

/// An expression of dhcp-eval(5), untyped; `check` decides boolean/data/numeric.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
        span: Span,
    },
    Not {
        inner: Box<Expr>,
        span: Span,
    },
    Call {
        name: Token,
        args: Vec<Expr>,
        span: Span,
    },
    /// `option [space.]name`
    Option {
        name: Token,
        span: Span,
    },
    /// `config-option [space.]name`
    ConfigOption {
        name: Token,
        span: Span,
    },
    /// `exists [space.]name`
    Exists {
        name: Token,
        span: Span,
    },
    /// A quoted string.
    Str(Token),
    /// A number, colon-hex data, a keyword such as `known` or `hardware`, or a variable.
    Word(Token),
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::Binary { span, .. }
            | Expr::Not { span, .. }
            | Expr::Call { span, .. }
            | Expr::Option { span, .. }
            | Expr::ConfigOption { span, .. }
            | Expr::Exists { span, .. } => *span,
            Expr::Str(t) | Expr::Word(t) => t.span,
        }
    }
}

/// How a statement ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Semi(Span),
    /// No `;`: the span is the token that came instead (`{`, `}`) or the end of file.
    Missing(Span),
}

/// The verb of an option statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionVerb {
    Option,
    Supersede,
    Default,
    Prepend,
    Append,
    Send,
}

/// `allow`, `deny` or `ignore`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Allow,
    Deny,
    Ignore,
}

/// The value side of an option statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionValueAst {
    Tokens(Vec<Token>),
    Expr(Expr),
}

/// `option name code N = <type>`: the written type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionTypeAst {
    pub array: bool,
    pub record: Vec<TypeAtomAst>,
    pub braced: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeAtomAst {
    IpAddress,
    Ip6Address,
    Boolean,
    Text,
    String,
    DomainName,
    DomainList {
        compressed: bool,
    },
    Encapsulate(Token),
    Integer {
        signed: bool,
        width: Token,
    },
    /// A word that names no type; the check reports it.
    Unknown(Token),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StmtKind {
    Include {
        path: Token,
    },
    OptionSpace {
        name: Token,
        rest: Vec<Token>,
    },
    OptionDef {
        name: Token,
        code: Token,
        ty: OptionTypeAst,
    },
    Option {
        verb: OptionVerb,
        name: Token,
        value: OptionValueAst,
    },
    Range {
        dynamic_bootp: bool,
        args: Vec<Token>,
    },
    Hardware {
        args: Vec<Token>,
    },
    FixedAddress {
        args: Vec<Token>,
    },
    Permit {
        verb: Permission,
        args: Vec<Token>,
    },
    Match {
        is_if: bool,
        expr: Expr,
    },
    Spawn {
        expr: Expr,
    },
    Subclass {
        class: Token,
        data: Expr,
    },
    FailoverRef {
        name: Token,
    },
    KeyRef {
        name: Token,
    },
    Set {
        name: Token,
        expr: Expr,
    },
    Unset {
        name: Token,
    },
    Log {
        priority: Option<Token>,
        expr: Expr,
    },
    Execute {
        args: Vec<Expr>,
    },
    Add {
        class: Token,
    },
    /// `on EVENT;`: an empty handler.
    OnEmpty {
        events: Vec<Token>,
    },
    Break,
    Return {
        expr: Expr,
    },
    NotAuthoritative,
    /// A parameter (`default-lease-time 600`) or an unknown word with its tokens.
    Param {
        name: Token,
        args: Vec<Token>,
    },
    /// `name = expression;` without `set`.
    ImplicitSet {
        name: Token,
        expr: Expr,
    },
    /// `name(args);`
    Call {
        name: Token,
        args: Vec<Expr>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stmt {
    pub kind: StmtKind,
    /// From the first token to the last token before the terminator.
    pub span: Span,
    pub end: End,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadKind {
    Subnet { net: Token, mask: Token },
    SharedNetwork { name: Token },
    Pool,
    Group { name: Option<Token> },
    Host { name: Token },
    Class { name: Token },
    Subclass { class: Token, data: Expr },
    FailoverPeer { name: Token },
    Key { name: Token },
    Zone { name: Token },
    If { cond: Expr },
    Elsif { cond: Expr },
    Else,
    Switch { expr: Expr },
    On { events: Vec<Token> },
}

/// A block head, up to and including its `{`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub kind: HeadKind,
    /// The keyword that opens it.
    pub keyword: Span,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Close(Span),
    Head(Head),
    Case { value: Option<Expr>, span: Span },
    Stmt(Stmt),
}

/// Turns the pair of an `item` into an `Item`; `offset` is where the parse
/// started in the file, `file` the file's id.
pub fn build_item(pair: Pair<'_, Rule>, file: FileId, offset: usize) -> Option<Item> {
    let b = Builder { file, offset };
    let inner = pair.into_inner().next()?;
    Some(match inner.as_rule() {
        Rule::close => Item::Close(b.span(&inner)),
        Rule::case_label => {
            let span = b.span(&inner);
            let value = inner
                .into_inner()
                .find(|p| p.as_rule() == Rule::expr)
                .map(|p| b.expr(p));
            Item::Case { value, span }
        }
        Rule::statement
        | Rule::stmt_option
        | Rule::stmt_hardware
        | Rule::stmt_fixed_address
        | Rule::stmt_range
        | Rule::stmt_generic => Item::Stmt(b.statement(inner)?),
        _ => Item::Head(b.head(inner)?),
    })
}

struct Builder {
    file: FileId,
    offset: usize,
}

impl Builder {
    fn span(&self, p: &Pair<'_, Rule>) -> Span {
        let s = p.as_span();
        Span::new(self.file, self.offset + s.start(), self.offset + s.end())
    }

    fn token(&self, p: &Pair<'_, Rule>) -> Token {
        Token {
            text: p.as_str().to_string(),
            span: self.span(p),
        }
    }

    fn tokens<'a>(&self, pairs: impl Iterator<Item = Pair<'a, Rule>>) -> Vec<Token> {
        pairs
            .filter(|p| matches!(p.as_rule(), Rule::word | Rule::string | Rule::raw))
            .map(|p| self.token(&p))
            .collect()
    }

    fn head(&self, p: Pair<'_, Rule>) -> Option<Head> {
        let span = self.span(&p);
        let rule = p.as_rule();
        let parts: Vec<Pair<'_, Rule>> = p.into_inner().collect();
        let keyword = parts.first().map(|k| self.span(k)).unwrap_or(span);
        let names: Vec<Token> = parts
            .iter()
            .filter(|q| matches!(q.as_rule(), Rule::word | Rule::string))
            .map(|q| self.token(q))
            .collect();
        let first_expr = parts
            .iter()
            .find(|q| q.as_rule() == Rule::expr)
            .cloned()
            .map(|e| self.expr(e));
        let name0 = names.first().cloned();
        let kind = match rule {
            Rule::subnet_decl => HeadKind::Subnet {
                net: names.first()?.clone(),
                mask: names.get(1)?.clone(),
            },
            Rule::shared_network_decl => HeadKind::SharedNetwork { name: name0? },
            Rule::pool_decl => HeadKind::Pool,
            Rule::group_decl => HeadKind::Group { name: name0 },
            Rule::host_decl => HeadKind::Host { name: name0? },
            Rule::class_decl => HeadKind::Class { name: name0? },
            Rule::subclass_decl => HeadKind::Subclass {
                class: name0?,
                data: first_expr?,
            },
            Rule::failover_peer_decl => HeadKind::FailoverPeer { name: name0? },
            Rule::key_decl => HeadKind::Key { name: name0? },
            Rule::zone_decl => HeadKind::Zone { name: name0? },
            Rule::if_head => HeadKind::If { cond: first_expr? },
            Rule::elsif_head => HeadKind::Elsif { cond: first_expr? },
            Rule::else_head => HeadKind::Else,
            Rule::switch_head => HeadKind::Switch { expr: first_expr? },
            Rule::on_head => HeadKind::On {
                events: parts
                    .iter()
                    .filter(|q| q.as_rule() == Rule::on_event)
                    .map(|q| self.token(q))
                    .collect(),
            },
            _ => return None,
        };
        Some(Head {
            kind,
            keyword,
            span,
        })
    }

    fn statement(&self, p: Pair<'_, Rule>) -> Option<Stmt> {
        let mut it = p.into_inner();
        let body = it.next()?;
        let term = it.next();
        let span = self.span(&body);
        let end = match term {
            Some(t) if t.as_rule() == Rule::semi => End::Semi(self.span(&t)),
            Some(t) => End::Missing(self.span(&t)),
            None => End::Missing(Span::new(self.file, span.end, span.end)),
        };
        let rule = body.as_rule();
        let parts: Vec<Pair<'_, Rule>> = body.into_inner().collect();
        let kind = self.stmt_kind(rule, parts)?;
        Some(Stmt { kind, span, end })
    }

    fn first_token(&self, parts: &[Pair<'_, Rule>]) -> Option<Token> {
        parts
            .iter()
            .find(|q| matches!(q.as_rule(), Rule::word | Rule::string))
            .map(|q| self.token(q))
    }

    fn first_expr(&self, parts: &[Pair<'_, Rule>]) -> Option<Expr> {
        parts
            .iter()
            .find(|q| q.as_rule() == Rule::expr)
            .cloned()
            .map(|e| self.expr(e))
    }

    fn all_exprs(&self, parts: &[Pair<'_, Rule>]) -> Vec<Expr> {
        parts
            .iter()
            .filter(|q| q.as_rule() == Rule::expr)
            .cloned()
            .map(|e| self.expr(e))
            .collect()
    }

    fn stmt_kind(&self, rule: Rule, parts: Vec<Pair<'_, Rule>>) -> Option<StmtKind> {
        let raw_after = |skip: usize| self.tokens(parts.iter().skip(skip).cloned());
        Some(match rule {
            Rule::include_stmt => StmtKind::Include {
                path: self.first_token(&parts)?,
            },
            Rule::option_space_stmt => {
                let toks = raw_after(2);
                let mut it = toks.into_iter();
                StmtKind::OptionSpace {
                    name: it.next()?,
                    rest: it.collect(),
                }
            }
            Rule::option_def => {
                let words: Vec<Token> = parts
                    .iter()
                    .filter(|q| q.as_rule() == Rule::word)
                    .map(|q| self.token(q))
                    .collect();
                let ty = parts.iter().find(|q| q.as_rule() == Rule::option_type)?;
                StmtKind::OptionDef {
                    name: words.first()?.clone(),
                    code: words.get(1)?.clone(),
                    ty: self.option_type(ty.clone()),
                }
            }
            Rule::option_stmt => {
                let verb_pair = parts.first()?;
                let verb = match verb_pair.as_str().to_ascii_lowercase().as_str() {
                    "supersede" => OptionVerb::Supersede,
                    "default" => OptionVerb::Default,
                    "prepend" => OptionVerb::Prepend,
                    "append" => OptionVerb::Append,
                    "send" => OptionVerb::Send,
                    _ => OptionVerb::Option,
                };
                let name = parts
                    .iter()
                    .find(|q| q.as_rule() == Rule::word)
                    .map(|q| self.token(q))?;
                let value = match self.first_expr(&parts) {
                    Some(e) => OptionValueAst::Expr(e),
                    None => OptionValueAst::Tokens(raw_after(2)),
                };
                StmtKind::Option { verb, name, value }
            }
            Rule::range_stmt => {
                let dynamic_bootp = parts.iter().any(|q| q.as_rule() == Rule::k_dynamic_bootp);
                StmtKind::Range {
                    dynamic_bootp,
                    args: raw_after(1),
                }
            }
            Rule::hardware_stmt => StmtKind::Hardware { args: raw_after(1) },
            Rule::fixed_address_stmt => StmtKind::FixedAddress { args: raw_after(1) },
            Rule::allow_stmt => {
                let verb = match parts.first()?.as_str().to_ascii_lowercase().as_str() {
                    "deny" => Permission::Deny,
                    "ignore" => Permission::Ignore,
                    _ => Permission::Allow,
                };
                StmtKind::Permit {
                    verb,
                    args: raw_after(1),
                }
            }
            Rule::match_stmt => StmtKind::Match {
                is_if: parts.iter().any(|q| q.as_rule() == Rule::k_if),
                expr: self.first_expr(&parts)?,
            },
            Rule::spawn_stmt => StmtKind::Spawn {
                expr: self.first_expr(&parts)?,
            },
            Rule::subclass_stmt => StmtKind::Subclass {
                class: self.first_token(&parts)?,
                data: self.first_expr(&parts)?,
            },
            Rule::failover_peer_ref => StmtKind::FailoverRef {
                name: self.first_token(&parts)?,
            },
            Rule::key_ref => StmtKind::KeyRef {
                name: self.first_token(&parts)?,
            },
            Rule::set_stmt => StmtKind::Set {
                name: self.first_token(&parts)?,
                expr: self.first_expr(&parts)?,
            },
            Rule::unset_stmt => StmtKind::Unset {
                name: self.first_token(&parts)?,
            },
            Rule::log_stmt => StmtKind::Log {
                priority: parts
                    .iter()
                    .find(|q| q.as_rule() == Rule::log_priority)
                    .map(|q| self.token(q)),
                expr: self.first_expr(&parts)?,
            },
            Rule::execute_stmt => StmtKind::Execute {
                args: self.all_exprs(&parts),
            },
            Rule::on_stmt => StmtKind::OnEmpty {
                events: parts
                    .iter()
                    .filter(|q| q.as_rule() == Rule::on_event)
                    .map(|q| self.token(q))
                    .collect(),
            },
            Rule::add_stmt => StmtKind::Add {
                class: self.first_token(&parts)?,
            },
            Rule::break_stmt => StmtKind::Break,
            Rule::return_stmt => StmtKind::Return {
                expr: self.first_expr(&parts)?,
            },
            Rule::not_authoritative => StmtKind::NotAuthoritative,
            Rule::generic_body => {
                let name = parts
                    .iter()
                    .find(|q| q.as_rule() == Rule::ident)
                    .map(|q| self.token(q))?;
                if let Some(set) = parts.iter().find(|q| q.as_rule() == Rule::generic_set) {
                    let inner: Vec<Pair<'_, Rule>> = set.clone().into_inner().collect();
                    StmtKind::ImplicitSet {
                        name,
                        expr: self.first_expr(&inner)?,
                    }
                } else if let Some(call) = parts.iter().find(|q| q.as_rule() == Rule::generic_call)
                {
                    let inner: Vec<Pair<'_, Rule>> = call.clone().into_inner().collect();
                    StmtKind::Call {
                        name,
                        args: self.all_exprs(&inner),
                    }
                } else {
                    StmtKind::Param {
                        name,
                        args: raw_after(1),
                    }
                }
            }
            _ => return None,
        })
    }

    fn option_type(&self, p: Pair<'_, Rule>) -> OptionTypeAst {
        let span = self.span(&p);
        let mut array = false;
        let mut record = Vec::new();
        let mut braced = false;
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::k_array => array = true,
                Rule::option_record => {
                    braced = q.as_str().trim_start().starts_with('{');
                    for atom in q.into_inner().filter(|a| a.as_rule() == Rule::option_atom) {
                        record.push(self.atom(atom));
                    }
                }
                _ => {}
            }
        }
        OptionTypeAst {
            array,
            record,
            braced,
            span,
        }
    }

    fn atom(&self, p: Pair<'_, Rule>) -> TypeAtomAst {
        let parts: Vec<Pair<'_, Rule>> = p.into_inner().collect();
        let first = match parts.first() {
            Some(f) => f,
            None => return TypeAtomAst::Text,
        };
        let word = parts
            .iter()
            .find(|q| q.as_rule() == Rule::word)
            .map(|q| self.token(q));
        match first.as_rule() {
            Rule::k_ip_address => TypeAtomAst::IpAddress,
            Rule::k_ip6_address => TypeAtomAst::Ip6Address,
            Rule::k_boolean => TypeAtomAst::Boolean,
            Rule::k_text => TypeAtomAst::Text,
            Rule::k_string => TypeAtomAst::String,
            Rule::k_domain_name => TypeAtomAst::DomainName,
            Rule::k_domain_list => TypeAtomAst::DomainList {
                compressed: parts.len() > 1,
            },
            Rule::k_encapsulate => match word {
                Some(w) => TypeAtomAst::Encapsulate(w),
                None => TypeAtomAst::Text,
            },
            Rule::k_signed | Rule::k_unsigned | Rule::k_integer => match word {
                Some(width) => TypeAtomAst::Integer {
                    signed: first.as_rule() == Rule::k_signed,
                    width,
                },
                None => TypeAtomAst::Text,
            },
            _ => TypeAtomAst::Unknown(self.token(first)),
        }
    }

    /// Builds the tree of a flat `unary (binop unary)*` chain by precedence
    /// climbing; the chain length is bounded by the item, not by recursion depth
    /// beyond the number of precedence levels.
    fn expr(&self, p: Pair<'_, Rule>) -> Expr {
        let mut operands: Vec<Expr> = Vec::new();
        let mut ops: Vec<BinOp> = Vec::new();
        for q in p.into_inner() {
            if q.as_rule() == Rule::binop {
                let op = BinOp::from_text(q.as_str().trim()).unwrap_or(BinOp::Equal);
                while let Some(&top) = ops.last() {
                    if top.precedence() >= op.precedence() {
                        ops.pop();
                        reduce(&mut operands, top);
                    } else {
                        break;
                    }
                }
                ops.push(op);
            } else {
                operands.push(self.unary(q));
            }
        }
        while let Some(top) = ops.pop() {
            reduce(&mut operands, top);
        }
        operands.pop().unwrap_or(Expr::Word(Token {
            text: String::new(),
            span: Span::new(self.file, 0, 0),
        }))
    }

    fn unary(&self, q: Pair<'_, Rule>) -> Expr {
        let span = self.span(&q);
        match q.as_rule() {
            Rule::not_expr => {
                let inner = q.into_inner().find(|x| x.as_rule() != Rule::k_not);
                let inner = inner.map(|x| self.unary(x)).unwrap_or(Expr::Word(Token {
                    text: String::new(),
                    span,
                }));
                Expr::Not {
                    inner: Box::new(inner),
                    span,
                }
            }
            Rule::paren => match q.into_inner().find(|x| x.as_rule() == Rule::expr) {
                Some(e) => self.expr(e),
                None => Expr::Word(Token {
                    text: String::new(),
                    span,
                }),
            },
            Rule::call => {
                let mut it = q.into_inner();
                let name = it.next().map(|n| self.token(&n)).unwrap_or(Token {
                    text: String::new(),
                    span,
                });
                let args = it
                    .filter(|x| x.as_rule() == Rule::expr)
                    .map(|x| self.expr(x))
                    .collect();
                Expr::Call { name, args, span }
            }
            Rule::option_ref | Rule::config_option_ref | Rule::exists_expr => {
                let rule = q.as_rule();
                let name = q
                    .into_inner()
                    .find(|x| x.as_rule() == Rule::word)
                    .map(|x| self.token(&x))
                    .unwrap_or(Token {
                        text: String::new(),
                        span,
                    });
                match rule {
                    Rule::option_ref => Expr::Option { name, span },
                    Rule::config_option_ref => Expr::ConfigOption { name, span },
                    _ => Expr::Exists { name, span },
                }
            }
            Rule::string => Expr::Str(self.token(&q)),
            _ => Expr::Word(self.token(&q)),
        }
    }
}

fn reduce(operands: &mut Vec<Expr>, op: BinOp) {
    let rhs = operands.pop();
    let lhs = operands.pop();
    if let (Some(lhs), Some(rhs)) = (lhs, rhs) {
        let span = lhs.span().to(rhs.span());
        operands.push(Expr::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
            span,
        });
    }
}
