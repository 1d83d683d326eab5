//! The BOOTP/DHCP packet codec (RFC 951, RFC 2131, RFC 2132, RFC 3396): bytes
//! to [`Packet`] and back, with no sockets, no clock and no configuration.
//!
//! - `packet`: the fixed BOOTP header, the magic cookie, option overload into
//!   `file`/`sname`, the 300-byte minimum, and the client's maximum message size.
//! - `options`: options kept in order as (code, bytes), long options split and
//!   concatenated (RFC 3396), typed accessors, relay agent sub-options, and the
//!   reply order that follows the client's parameter request list.
//! - `table`: the standard option codes with their dhcp-options(5) names and
//!   types, for the configuration model.
//!
//! What a reply should contain is the server's business; this module only
//! writes what it is given.

pub mod options;
pub mod packet;
pub mod table;

pub use options::{order_reply_options, AgentSubOption, DhcpOption, MessageType, Options};
pub use packet::{
    decode, encode, encode_limited, encode_reply_options, DecodeError, DecodeErrorKind, Encoded,
    Packet, BOOTREPLY, BOOTREQUEST, BROADCAST_FLAG, MIN_BOOTP_LEN,
};
pub use table::{OptionDef, OptionType};

/// Fuzz entry point: decodes arbitrary bytes and, when they decode, encodes
/// the result and decodes it again. Must never panic; returns whether the
/// input was a packet.
pub fn fuzz_decode(data: &[u8]) -> bool {
    match decode(data) {
        Ok(p) => {
            let mut out = Vec::new();
            encode(&p, &mut out);
            decode(&out).is_ok()
        }
        Err(_) => false,
    }
}
