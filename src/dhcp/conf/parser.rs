//! The pest glue for `grammar/dhcpd.pest`: parses one item at a byte offset
//! and turns pest's failure into a position and the words it expected.
//! Building the AST from the pairs is `ast.rs`'s job.

use pest::Parser;

#[derive(Debug, pest_derive::Parser)]
#[grammar = "../grammar/dhcpd.pest"]
pub struct DhcpdParser;

/// Why an item did not parse: the furthest byte pest reached (relative to the
/// whole text) and the rules it would have taken there.
#[derive(Debug, Clone)]
pub struct ItemError {
    pub at: usize,
    pub expected: Vec<Rule>,
}

/// Deepest expression nesting the parser is allowed to meet; deeper input is
/// refused before pest sees it (pest would recurse once a level).
pub const MAX_NESTING: usize = 200;

/// Words that open a rule of their own (the grammar's `reserved`).
const RESERVED: &[&str] = &[
    "subnet",
    "shared-network",
    "pool",
    "group",
    "host",
    "class",
    "subclass",
    "failover",
    "key",
    "zone",
    "if",
    "elsif",
    "else",
    "switch",
    "on",
    "option",
    "supersede",
    "default",
    "prepend",
    "append",
    "send",
    "range",
    "hardware",
    "fixed-address",
    "allow",
    "deny",
    "ignore",
    "match",
    "spawn",
    "set",
    "unset",
    "log",
    "execute",
    "include",
    "case",
    "break",
    "add",
    "return",
];

/// The narrowest entry rule for an item, chosen by its first word.
pub fn entry_for(rest: &str) -> Rule {
    let b = rest.as_bytes();
    let len = b
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_'))
        .count();
    let Some(word) = rest.get(..len) else {
        return Rule::item;
    };
    if word.is_empty() || !b[0].is_ascii_alphabetic() && b[0] != b'_' {
        return Rule::item;
    }
    // A word glued to `.` or `:` is not a keyword (`option.x`, `default:`).
    if matches!(b.get(len), Some(b'.' | b':')) {
        return Rule::item;
    }
    let lower = word.to_ascii_lowercase();
    match lower.as_str() {
        "host" => Rule::item_host,
        "subnet" => Rule::item_subnet,
        "shared-network" | "pool" | "class" | "zone" | "if" | "switch" => Rule::item_head,
        "option" => Rule::item_option,
        "hardware" => Rule::item_hardware,
        "fixed-address" => Rule::item_fixed_address,
        "range" => Rule::item_range,
        "not" => Rule::item,
        w if RESERVED.contains(&w) => Rule::item,
        _ => Rule::item_generic,
    }
}

/// Parses the item that starts at `offset` of `text`.
pub fn parse_item(text: &str, offset: usize) -> Result<pest::iterators::Pair<'_, Rule>, ItemError> {
    let rest = text.get(offset..).unwrap_or("");
    match DhcpdParser::parse(entry_for(rest), rest) {
        Ok(mut pairs) => match pairs.next() {
            Some(p) => Ok(p),
            None => Err(ItemError {
                at: offset,
                expected: Vec::new(),
            }),
        },
        Err(e) => {
            let at = match e.location {
                pest::error::InputLocation::Pos(p) => p,
                pest::error::InputLocation::Span((s, _)) => s,
            };
            let expected = match e.variant {
                pest::error::ErrorVariant::ParsingError { positives, .. } => positives,
                _ => Vec::new(),
            };
            Err(ItemError {
                at: offset + at,
                expected,
            })
        }
    }
}

/// True when an expression starts at the beginning of `rest`.
pub fn starts_expr(rest: &str) -> bool {
    DhcpdParser::parse(Rule::expr, rest).is_ok()
}

/// Parses a whole text as a token stream; used to test that the grammar
/// never panics on arbitrary input.
pub fn parse_tokens(text: &str) -> bool {
    DhcpdParser::parse(Rule::tokens, text).is_ok()
}

/// Words for what the grammar expected, for messages (never a raw rule name).
pub fn describe(rule: Rule) -> &'static str {
    match rule {
        Rule::semi | Rule::missing_semi => "';'",
        Rule::close => "'}'",
        Rule::open => "'{'",
        Rule::lparen => "'('",
        Rule::rparen => "')'",
        Rule::word => "a name or number",
        Rule::string => "a quoted string",
        Rule::expr | Rule::binop | Rule::paren | Rule::call | Rule::not_expr => "an expression",
        Rule::option_type | Rule::option_record | Rule::option_atom => "an option type",
        Rule::k_netmask => "'netmask'",
        Rule::k_peer => "'peer'",
        Rule::k_with => "'with'",
        Rule::k_of => "'of'",
        Rule::k_if => "'if'",
        Rule::k_code => "'code'",
        Rule::on_event => "'commit', 'expiry' or 'release'",
        Rule::log_priority => "a log priority",
        _ => "a statement",
    }
}
