//! The services xinetd serves itself (INTERNAL): echo, discard, chargen,
//! daytime and time, for stream and dgram. The replies are pure functions;
//! the supervisor decides whether a forked child or the loop serves them
//! (stream echo, discard and chargen fork; the rest never do).

use std::io::{Read, Write};

/// Which internal service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Internal {
    Echo,
    Discard,
    Chargen,
    Daytime,
    Time,
}

impl Internal {
    pub fn from_name(name: &str) -> Option<Internal> {
        Some(match name {
            "echo" => Internal::Echo,
            "discard" => Internal::Discard,
            "chargen" => Internal::Chargen,
            "daytime" => Internal::Daytime,
            "time" => Internal::Time,
            _ => return None,
        })
    }

    /// Stream echo, discard and chargen run in a forked child; the others answer from the loop.
    pub fn forks_for_stream(self) -> bool {
        matches!(self, Internal::Echo | Internal::Discard | Internal::Chargen)
    }
}

/// RFC 868: seconds since 1900-01-01, 32 bits, network order.
pub fn time_reply(unix_secs: u64) -> [u8; 4] {
    let t = unix_secs.wrapping_add(2_208_988_800) as u32;
    t.to_be_bytes()
}

/// RFC 867 in xinetd's form: `29 NOV 2026 05:22:09 UTC` and CRLF.
pub fn daytime_reply(t: &crate::sys::clock::Local, zone: &str) -> Vec<u8> {
    const MONTHS: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    let m = MONTHS
        .get((t.month as usize).wrapping_sub(1))
        .unwrap_or(&"JAN");
    format!(
        "{:02} {} {} {:02}:{:02}:{:02} {}\r\n",
        t.day, m, t.year, t.hour, t.minute, t.second, zone
    )
    .into_bytes()
}

/// RFC 864: the 95 printable characters, lines of 72 rotating by one.
pub fn chargen_line(n: usize) -> Vec<u8> {
    let mut l: Vec<u8> = (0..72).map(|i| b' ' + ((n + i) % 95) as u8).collect();
    l.extend_from_slice(b"\r\n");
    l
}

/// A chargen datagram: one line (RFC 864 allows up to 512 bytes).
pub fn chargen_datagram(n: usize) -> Vec<u8> {
    chargen_line(n)
}

/// Serves a stream connection until the peer closes (echo, discard, chargen).
pub fn serve_stream(which: Internal, conn: &mut (impl Read + Write)) {
    let mut buf = [0u8; 8192];
    match which {
        Internal::Echo => loop {
            match conn.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if conn.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            }
        },
        Internal::Discard => {
            while let Ok(n) = conn.read(&mut buf) {
                if n == 0 {
                    return;
                }
            }
        }
        Internal::Chargen => {
            let mut n = 0;
            while conn.write_all(&chargen_line(n)).is_ok() {
                n += 1;
            }
        }
        Internal::Daytime | Internal::Time => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_is_seconds_since_1900() {
        assert_eq!(time_reply(0), 2_208_988_800u32.to_be_bytes());
    }

    #[test]
    fn daytime_matches_xinetd() {
        let t = crate::sys::clock::Local {
            year: 2026,
            month: 11,
            day: 29,
            hour: 5,
            minute: 22,
            second: 9,
        };
        assert_eq!(
            daytime_reply(&t, "UTC"),
            b"29 NOV 2026 05:22:09 UTC\r\n".to_vec()
        );
    }

    #[test]
    fn chargen_lines_rotate() {
        let a = chargen_line(0);
        let b = chargen_line(1);
        assert_eq!(a.len(), 74);
        assert_eq!(a[1], b[0]);
        assert_eq!(&a[72..], b"\r\n");
    }

    #[test]
    fn echo_serves_until_eof() {
        struct Pipe(std::io::Cursor<Vec<u8>>, Vec<u8>);
        impl Read for Pipe {
            fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
                self.0.read(b)
            }
        }
        impl Write for Pipe {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.1.write(b)
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut p = Pipe(std::io::Cursor::new(b"hello".to_vec()), Vec::new());
        serve_stream(Internal::Echo, &mut p);
        assert_eq!(p.1, b"hello");
    }
}
