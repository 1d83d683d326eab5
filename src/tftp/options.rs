//! RFC 2347 option negotiation with tftp-hpa 5.2's verdicts (reference
//! T-OPT-1..4, checked against tftpd-hpa on the wire): `blksize` (RFC 2348),
//! `blksize2`, `tsize` and `timeout` (RFC 2349), `utimeout`, `rollover`, and
//! RFC 7440 `windowsize`, which tftp-hpa lacks and we grant on reads only.
//! Pure: the file size comes in as an argument.

use super::wire::{Direction, Mode, Request};

/// Largest block size tftp-hpa grants (65535 minus IP and UDP headers and the TFTP header).
pub const MAX_BLKSIZE: u64 = 65464;
/// The default initial retransmission timeout, in µs (tftp-hpa `-T`).
pub const DEFAULT_TIMEOUT_US: u64 = 1_000_000;
/// Largest window we grant: 64 blocks of 1468 bytes is about 94 KB in flight per client.
pub const MAX_WINDOWSIZE: u64 = 64;

/// Most bytes one window may hold: a window is sent in one burst, and more
/// than a socket send buffer (about 208 KiB by default) would be dropped
/// locally before it ever left.
pub const MAX_WINDOW_BYTES: u64 = 128 * 1024;

/// The options the server knows, for `-r` (tftp-hpa's set plus `windowsize`).
pub const KNOWN: &[&str] = &[
    "blksize",
    "blksize2",
    "tsize",
    "timeout",
    "utimeout",
    "rollover",
    "windowsize",
];

/// Server-side limits from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// `-B`: the largest blksize granted (512..=65464).
    pub max_blksize: u64,
    /// `-r`: options never accepted (lower-case names).
    pub refused: Vec<String>,
    /// Largest windowsize granted; 1 turns RFC 7440 off.
    pub max_windowsize: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_blksize: MAX_BLKSIZE,
            refused: Vec::new(),
            max_windowsize: MAX_WINDOWSIZE,
        }
    }
}

/// What the transfer will use, and the OACK that says so (empty: no OACK).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    pub blksize: usize,
    /// Initial retransmission timeout in µs, if an option set it.
    pub timeout_us: Option<u64>,
    /// Block number that follows 65535 (`rollover`; 0 by default).
    pub rollover: u16,
    pub windowsize: usize,
    pub oack: Vec<(Vec<u8>, Vec<u8>)>,
}

/// The request named a known option with a value the server will not take:
/// error 8 with this text (tftp-hpa's wording).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal(pub &'static str);

/// Parses a number the way C's `strtoul(s, &end, 10)` with a full-string check does:
/// leading blanks, an optional sign (a minus wraps), decimal digits only; overflow
/// and trailing text make the value unusable (tftp-hpa 5.2 then ignores the option).
pub fn parse_ul(v: &[u8]) -> Option<u64> {
    let s = v
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&v[v.len()..], |i| &v[i..]);
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut n: u64 = 0;
    for d in digits {
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if neg { n.wrapping_neg() } else { n })
}

const UNSUPPORTED: Refusal = Refusal("Unsupported option(s) requested");

/// Negotiates `req`'s options. `file_size` is the size of the file an RRQ reads.
pub fn negotiate(req: &Request, file_size: u64, limits: &Limits) -> Result<Negotiated, Refusal> {
    let mut n = Negotiated {
        blksize: 512,
        timeout_us: None,
        rollover: 0,
        windowsize: 1,
        oack: Vec::new(),
    };
    for (name, value) in &req.options {
        let lname = String::from_utf8_lossy(name).to_ascii_lowercase();
        if !KNOWN.contains(&lname.as_str()) || limits.refused.contains(&lname) {
            continue;
        }
        let Some(v) = parse_ul(value) else { continue };
        let granted: u64 = match lname.as_str() {
            "blksize" => {
                if v < 8 {
                    return Err(UNSUPPORTED);
                }
                let b = v.min(limits.max_blksize);
                n.blksize = b as usize;
                b
            }
            "blksize2" => {
                if v < 8 {
                    return Err(UNSUPPORTED);
                }
                // tftp-hpa 5.2 caps first and rounds down to a power of two only below the cap.
                let b = if v > limits.max_blksize {
                    limits.max_blksize
                } else {
                    1u64 << (63 - v.leading_zeros())
                };
                n.blksize = b as usize;
                b
            }
            "tsize" => {
                if req.mode == Mode::Netascii && req.direction == Direction::Read {
                    return Err(UNSUPPORTED);
                }
                // An RRQ asking with 0 learns the size; any other value is echoed (observed).
                if req.direction == Direction::Read && v == 0 {
                    file_size
                } else {
                    v
                }
            }
            "timeout" => {
                if !(1..=255).contains(&v) {
                    return Err(UNSUPPORTED);
                }
                n.timeout_us = Some(v * 1_000_000);
                v
            }
            "utimeout" => {
                if !(10_000..=255_000_000).contains(&v) {
                    return Err(UNSUPPORTED);
                }
                n.timeout_us = Some(v);
                v
            }
            "rollover" => {
                if v > 65535 {
                    return Err(UNSUPPORTED);
                }
                n.rollover = v as u16;
                v
            }
            "windowsize" => {
                // RFC 7440 §2: 1..65535. A write stays lock-step, and a bad value is
                // ignored rather than refused, as a server without the option would.
                if req.direction == Direction::Write || !(1..=65535).contains(&v) {
                    continue;
                }
                let w = v.min(limits.max_windowsize).max(1);
                n.windowsize = w as usize;
                w
            }
            _ => continue,
        };
        n.oack
            .push((name.clone(), granted.to_string().into_bytes()));
    }
    // The window is granted in blocks but bounded in bytes, whatever order the options came in.
    let cap = (MAX_WINDOW_BYTES / n.blksize as u64).max(1) as usize;
    if n.windowsize > cap {
        n.windowsize = cap;
        for (k, v) in n.oack.iter_mut() {
            if k.eq_ignore_ascii_case(b"windowsize") {
                *v = cap.to_string().into_bytes();
            }
        }
    }
    let oack_len: usize = 2 + n
        .oack
        .iter()
        .map(|(k, v)| k.len() + v.len() + 2)
        .sum::<usize>();
    if oack_len > 516 {
        return Err(Refusal("Insufficient space for options"));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rrq(mode: Mode, opts: &[(&str, &str)]) -> Request {
        Request {
            direction: Direction::Read,
            filename: b"f".to_vec(),
            mode,
            options: opts
                .iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
                .collect(),
        }
    }

    fn oack(r: &Request) -> Result<Vec<(String, String)>, &'static str> {
        negotiate(r, 6, &Limits::default())
            .map(|n| {
                n.oack
                    .iter()
                    .map(|(k, v)| {
                        (
                            String::from_utf8_lossy(k).into(),
                            String::from_utf8_lossy(v).into(),
                        )
                    })
                    .collect()
            })
            .map_err(|e| e.0)
    }

    fn kv(a: &[(&str, &str)]) -> Vec<(String, String)> {
        a.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn strtoul_semantics() {
        assert_eq!(parse_ul(b"010"), Some(10));
        assert_eq!(parse_ul(b" +9"), Some(9));
        assert_eq!(parse_ul(b"-1"), Some(u64::MAX));
        assert_eq!(parse_ul(b"0x10"), None);
        assert_eq!(parse_ul(b""), None);
        assert_eq!(parse_ul(b"8x"), None);
        assert_eq!(parse_ul(b"99999999999999999999"), None);
    }

    /// Each verdict below was observed from tftpd-hpa 5.2 (T-OPT-1..3).
    #[test]
    fn t_opt_verdicts_match_tftpd_hpa() {
        use Mode::*;
        assert_eq!(
            oack(&rrq(Octet, &[("tsize", "0")])),
            Ok(kv(&[("tsize", "6")]))
        );
        assert_eq!(
            oack(&rrq(Octet, &[("tsize", "5")])),
            Ok(kv(&[("tsize", "5")]))
        );
        assert_eq!(
            oack(&rrq(Netascii, &[("tsize", "0")])),
            Err("Unsupported option(s) requested")
        );
        assert_eq!(
            oack(&rrq(Octet, &[("blksize", "7")])),
            Err("Unsupported option(s) requested")
        );
        assert_eq!(
            oack(&rrq(Octet, &[("blksize", "70000")])),
            Ok(kv(&[("blksize", "65464")]))
        );
        assert_eq!(
            oack(&rrq(Octet, &[("blksize", "-1")])),
            Ok(kv(&[("blksize", "65464")]))
        );
        assert_eq!(oack(&rrq(Octet, &[("blksize", "abc")])), Ok(vec![]));
        assert_eq!(
            oack(&rrq(Octet, &[("blksize2", "1000")])),
            Ok(kv(&[("blksize2", "512")]))
        );
        assert_eq!(
            oack(&rrq(Octet, &[("blksize2", "70000")])),
            Ok(kv(&[("blksize2", "65464")]))
        );
        assert_eq!(
            oack(&rrq(Octet, &[("timeout", "0")])),
            Err("Unsupported option(s) requested")
        );
        assert_eq!(
            oack(&rrq(Octet, &[("timeout", "255")])),
            Ok(kv(&[("timeout", "255")]))
        );
        assert_eq!(
            oack(&rrq(Octet, &[("utimeout", "5000")])),
            Err("Unsupported option(s) requested")
        );
        assert_eq!(
            oack(&rrq(Octet, &[("rollover", "65536")])),
            Err("Unsupported option(s) requested")
        );
        assert_eq!(
            oack(&rrq(Octet, &[("rollover", "3")])),
            Ok(kv(&[("rollover", "3")]))
        );
        assert_eq!(oack(&rrq(Octet, &[("foo", "1")])), Ok(vec![]));
        assert_eq!(
            oack(&rrq(Octet, &[("blksize", "600"), ("BLKSIZE", "700")])),
            Ok(kv(&[("blksize", "600"), ("BLKSIZE", "700")]))
        );
    }

    #[test]
    fn later_size_option_wins_and_refused_options_are_ignored() {
        let r = rrq(Mode::Octet, &[("blksize", "1000"), ("blksize2", "600")]);
        assert_eq!(negotiate(&r, 0, &Limits::default()).unwrap().blksize, 512);
        let lim = Limits {
            refused: vec!["blksize".into()],
            ..Limits::default()
        };
        let r = rrq(Mode::Octet, &[("blksize", "1000")]);
        assert!(negotiate(&r, 0, &lim).unwrap().oack.is_empty());
    }

    #[test]
    fn windowsize_is_granted_on_reads_up_to_the_cap() {
        let r = rrq(Mode::Octet, &[("windowsize", "1000")]);
        let n = negotiate(&r, 0, &Limits::default()).unwrap();
        assert_eq!(n.windowsize, 64);
        assert_eq!(n.oack, vec![(b"windowsize".to_vec(), b"64".to_vec())]);
        // 64 blocks of 65464 bytes would not fit a send buffer: 128 KiB at most.
        let r = rrq(Mode::Octet, &[("windowsize", "64"), ("blksize", "65464")]);
        let n = negotiate(&r, 0, &Limits::default()).unwrap();
        assert_eq!(n.windowsize, 2);
        assert_eq!(n.oack[0], (b"windowsize".to_vec(), b"2".to_vec()));
        let mut w = rrq(Mode::Octet, &[("windowsize", "8")]);
        w.direction = Direction::Write;
        assert!(negotiate(&w, 0, &Limits::default())
            .unwrap()
            .oack
            .is_empty());
    }
}
