//! The model's typed option values as wire bytes, per the option's type
//! (dhcp-options(5)): addresses as 4 bytes, integers at their width, text
//! and data as is, domain lists in RFC 1035 label form.

use crate::dhcp::conf::options::{Atom, OptionType};
use crate::dhcp::conf::values::Value;

/// Encodes `values` for an option of type `ty`; None when a value cannot be
/// written (a host name that was not resolved, an IPv6 value).
pub fn encode(ty: &OptionType, values: &[Value]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let atom = if ty.record.is_empty() {
            &Atom::Data
        } else if ty.array {
            &ty.record[i % ty.record.len()]
        } else {
            &ty.record[i.min(ty.record.len() - 1)]
        };
        encode_one(atom, v, &mut out)?;
    }
    Some(out)
}

fn encode_one(atom: &Atom, v: &Value, out: &mut Vec<u8>) -> Option<()> {
    match (atom, v) {
        (_, Value::Ip(a)) => out.extend_from_slice(&a.octets()),
        (Atom::U8 | Atom::I8, Value::Int(n)) => out.push(*n as u8),
        (Atom::U16 | Atom::I16, Value::Int(n)) => out.extend_from_slice(&(*n as u16).to_be_bytes()),
        (_, Value::Int(n)) => out.extend_from_slice(&(*n as u32).to_be_bytes()),
        (_, Value::Bool(b)) => out.push(u8::from(*b)),
        (_, Value::Text(t)) | (_, Value::DomainName(t)) => out.extend_from_slice(t.as_bytes()),
        (_, Value::Data(d)) => out.extend_from_slice(d),
        (_, Value::DomainList(names)) => {
            for n in names {
                for label in n.trim_end_matches('.').split('.') {
                    if label.is_empty() || label.len() > 63 {
                        continue;
                    }
                    out.push(label.len() as u8);
                    out.extend_from_slice(label.as_bytes());
                }
                out.push(0);
            }
        }
        (_, Value::Host(_)) | (_, Value::Ip6(_)) => return None,
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn addresses_and_integers_take_their_width() {
        let ty = OptionType {
            record: vec![Atom::Ip],
            array: true,
        };
        let v = [
            Value::Ip(Ipv4Addr::new(192, 168, 0, 1)),
            Value::Ip(Ipv4Addr::new(10, 0, 0, 1)),
        ];
        assert_eq!(encode(&ty, &v), Some(vec![192, 168, 0, 1, 10, 0, 0, 1]));
        let ty = OptionType {
            record: vec![Atom::U16],
            array: false,
        };
        assert_eq!(encode(&ty, &[Value::Int(1500)]), Some(vec![5, 220]));
    }

    #[test]
    fn domain_lists_are_label_encoded() {
        let ty = OptionType {
            record: vec![Atom::DomainList { compressed: false }],
            array: false,
        };
        let v = [Value::DomainList(vec!["a.bc".into()])];
        assert_eq!(encode(&ty, &v), Some(vec![1, b'a', 2, b'b', b'c', 0]));
    }
}
