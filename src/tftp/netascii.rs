//! netascii (RFC 1350 §5, RFC 764): what a reader gets is the file with every
//! LF sent as CR LF and every bare CR as CR NUL; a writer's data is turned
//! back (reference T-XFER-5). Both directions are streaming, so a CR and its
//! partner may fall into different blocks.

use std::io::{self, Write};

/// Converts local text to netascii, byte by byte; keeps the second byte of a
/// pair that did not fit into the caller's block.
#[derive(Debug, Default)]
pub struct Encoder {
    pending: Option<u8>,
}

impl Encoder {
    /// Appends the encoding of `input[..]` to `out` until `out` holds `limit`
    /// bytes; returns how many input bytes were consumed.
    pub fn encode(&mut self, input: &[u8], out: &mut Vec<u8>, limit: usize) -> usize {
        let mut used = 0;
        while out.len() < limit {
            if let Some(p) = self.pending.take() {
                out.push(p);
                continue;
            }
            let Some(&b) = input.get(used) else { break };
            used += 1;
            match b {
                b'\n' => {
                    out.push(b'\r');
                    self.pending = Some(b'\n');
                }
                b'\r' => {
                    out.push(b'\r');
                    self.pending = Some(0);
                }
                _ => out.push(b),
            }
        }
        used
    }

    /// True if half of a pair still waits to be sent.
    pub fn has_pending(&self) -> bool {
        self.pending.is_some()
    }
}

/// Writes netascii data as local text: CR LF becomes LF, CR NUL becomes CR.
#[derive(Debug)]
pub struct Decoder<W: Write> {
    inner: W,
    cr: bool,
}

impl<W: Write> Decoder<W> {
    pub fn new(inner: W) -> Self {
        Decoder { inner, cr: false }
    }

    /// Ends the stream: a trailing lone CR is kept as is.
    pub fn finish(mut self) -> io::Result<W> {
        if self.cr {
            self.inner.write_all(b"\r")?;
        }
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for Decoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut out = Vec::with_capacity(buf.len() + 1);
        for &b in buf {
            if self.cr {
                self.cr = false;
                match b {
                    b'\n' => out.push(b'\n'),
                    0 => out.push(b'\r'),
                    b'\r' => {
                        out.push(b'\r');
                        self.cr = true;
                    }
                    other => {
                        out.push(b'\r');
                        out.push(other);
                    }
                }
            } else if b == b'\r' {
                self.cr = true;
            } else {
                out.push(b);
            }
        }
        self.inner.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode_all(input: &[u8], block: usize) -> Vec<u8> {
        let mut e = Encoder::default();
        let mut all = Vec::new();
        let mut rest = input;
        loop {
            let mut blk = Vec::new();
            let used = e.encode(rest, &mut blk, block);
            rest = &rest[used..];
            all.extend_from_slice(&blk);
            if blk.len() < block {
                break;
            }
        }
        all
    }

    #[test]
    fn lf_and_cr_are_expanded_across_blocks() {
        // Same bytes tftpd-hpa sent for "x\ny\r\nz".
        assert_eq!(encode_all(b"x\ny\r\nz", 3), b"x\r\ny\r\x00\r\nz");
        assert_eq!(encode_all(b"\n", 1), b"\r\n");
    }

    proptest! {
        #[test]
        fn decode_inverts_encode(data in proptest::collection::vec(any::<u8>(), 0..300), block in 1usize..20) {
            let enc = encode_all(&data, block);
            let mut d = Decoder::new(Vec::new());
            for chunk in enc.chunks(block) {
                d.write_all(chunk).unwrap();
            }
            prop_assert_eq!(d.finish().unwrap(), data);
        }
    }
}
