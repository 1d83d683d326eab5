//! One transfer as a state machine without sockets or clocks (reference
//! T-XFER): the server feeds it datagrams and timeouts, it answers with what
//! to send. Reads support RFC 7440 windows; block numbers past 65535 wrap to
//! the `rollover` value; a duplicate ACK never triggers a resend (the
//! Sorcerer's Apprentice bug, RFC 1123 §4.2.3.1); retransmission doubles the
//! timeout and gives up silently at 63 times the base, as tftp-hpa does.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use super::netascii;
use super::wire::{self, ACK, DATA, ERROR};

/// What the server should do after feeding the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send `outbox()` and restart the timer with `timeout_us()`.
    Send,
    /// Nothing to send; keep the current deadline.
    Ignore,
    /// The transfer completed.
    Finished,
    /// The transfer ended early; send `reply` if any. `log` is a warning for syslog.
    Failed {
        reply: Option<(u16, String)>,
        log: Option<String>,
    },
}

/// Where a read transfer's bytes come from.
pub trait Source: Send {
    /// Appends up to `n` bytes to `buf`; fewer only at end of file.
    fn fill(&mut self, buf: &mut Vec<u8>, n: usize) -> io::Result<()>;
}

/// Reads a file by offset (pread), so one open file can be shared.
#[derive(Debug)]
pub struct FileSource {
    file: std::fs::File,
    offset: u64,
}

impl FileSource {
    pub fn new(file: std::fs::File) -> Self {
        FileSource { file, offset: 0 }
    }
}

impl Source for FileSource {
    fn fill(&mut self, buf: &mut Vec<u8>, n: usize) -> io::Result<()> {
        let start = buf.len();
        buf.resize(start + n, 0);
        let mut got = 0;
        while got < n {
            match self.file.read_at(&mut buf[start + got..], self.offset) {
                Ok(0) => break,
                Ok(k) => {
                    got += k;
                    self.offset += k as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    buf.truncate(start);
                    return Err(e);
                }
            }
        }
        buf.truncate(start + got);
        Ok(())
    }
}

/// Serves bytes already in memory (a hot file shared by many clients).
#[derive(Debug)]
pub struct MemSource {
    data: Arc<Vec<u8>>,
    pos: usize,
}

impl MemSource {
    pub fn new(data: Arc<Vec<u8>>) -> Self {
        MemSource { data, pos: 0 }
    }
}

impl Source for MemSource {
    fn fill(&mut self, buf: &mut Vec<u8>, n: usize) -> io::Result<()> {
        let end = (self.pos + n).min(self.data.len());
        buf.extend_from_slice(&self.data[self.pos..end]);
        self.pos = end;
        Ok(())
    }
}

/// Converts another source to netascii on the fly.
pub struct NetasciiSource<S: Source> {
    inner: S,
    enc: netascii::Encoder,
    raw: Vec<u8>,
    raw_pos: usize,
    eof: bool,
}

impl<S: Source> NetasciiSource<S> {
    pub fn new(inner: S) -> Self {
        NetasciiSource {
            inner,
            enc: netascii::Encoder::default(),
            raw: Vec::new(),
            raw_pos: 0,
            eof: false,
        }
    }
}

impl<S: Source> Source for NetasciiSource<S> {
    fn fill(&mut self, buf: &mut Vec<u8>, n: usize) -> io::Result<()> {
        let limit = buf.len() + n;
        while buf.len() < limit {
            if self.raw_pos >= self.raw.len() && !self.eof {
                self.raw.clear();
                self.raw_pos = 0;
                self.inner.fill(&mut self.raw, n.max(512))?;
                if self.raw.is_empty() {
                    self.eof = true;
                }
            }
            let used = self.enc.encode(&self.raw[self.raw_pos..], buf, limit);
            self.raw_pos += used;
            if used == 0 && self.raw_pos >= self.raw.len() && self.eof && !self.enc.has_pending() {
                break;
            }
        }
        Ok(())
    }
}

impl<S: Source> std::fmt::Debug for NetasciiSource<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NetasciiSource")
    }
}

impl<W: Write + Send> std::fmt::Debug for PlainSink<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlainSink")
    }
}

impl<W: Write + Send> std::fmt::Debug for NetasciiSink<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NetasciiSink")
    }
}

/// Retransmission bookkeeping shared by both directions (T-XFER-2).
#[derive(Debug, Clone)]
struct Backoff {
    base_us: u64,
    cur_us: u64,
    waited_us: u64,
}

impl Backoff {
    fn new(base_us: u64) -> Self {
        Backoff {
            base_us,
            cur_us: base_us,
            waited_us: 0,
        }
    }
    fn progress(&mut self) {
        self.cur_us = self.base_us;
        self.waited_us = 0;
    }
    /// A timeout passed: true to resend (with a doubled timeout), false to give up.
    fn expired(&mut self) -> bool {
        self.waited_us += self.cur_us;
        if self.waited_us >= self.base_us.saturating_mul(63) {
            return false;
        }
        self.cur_us = self.cur_us.saturating_mul(2);
        true
    }
}

/// The 16-bit number on the wire for absolute block `abs` (1-based), wrapping to `rollover`.
pub fn wire_block(abs: u64, rollover: u16) -> u16 {
    if abs <= 65535 {
        abs as u16
    } else {
        let span = 65536 - u64::from(rollover);
        (u64::from(rollover) + (abs - 65536) % span) as u16
    }
}

/// Settings of one transfer after negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    pub blksize: usize,
    pub windowsize: usize,
    pub rollover: u16,
    pub timeout_us: u64,
}

/// Serves an RRQ.
pub struct Sender {
    source: Box<dyn Source>,
    p: Params,
    oack: Option<Vec<u8>>,
    /// Highest block the client has acknowledged (0 before any).
    acked: u64,
    /// DATA packets for blocks acked+1 ..= acked+len, built once and resent as they are.
    inflight: VecDeque<Vec<u8>>,
    /// Absolute number of the last (short) block, once read.
    last: Option<u64>,
    backoff: Backoff,
    /// Index into `inflight` from which `outbox` sends (0: the whole window).
    send_from: usize,
    sending_oack: bool,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("p", &self.p)
            .field("acked", &self.acked)
            .finish()
    }
}

impl Sender {
    /// A read transfer; `oack` is the encoded OACK when options were accepted.
    pub fn new(source: Box<dyn Source>, p: Params, oack: Option<Vec<u8>>) -> Self {
        Sender {
            source,
            p,
            oack,
            acked: 0,
            inflight: VecDeque::new(),
            last: None,
            backoff: Backoff::new(p.timeout_us),
            send_from: 0,
            sending_oack: false,
        }
    }

    /// The first packets: the OACK, or the first window of DATA.
    pub fn start(&mut self) -> Step {
        if self.oack.is_some() {
            self.sending_oack = true;
            return Step::Send;
        }
        self.fill_window()
    }

    /// Packets to send now.
    pub fn outbox(&self) -> Vec<&[u8]> {
        if self.sending_oack {
            return self.oack.as_deref().into_iter().collect();
        }
        self.inflight
            .iter()
            .skip(self.send_from)
            .map(Vec::as_slice)
            .collect()
    }

    /// The current retransmission timeout in µs.
    pub fn timeout_us(&self) -> u64 {
        self.backoff.cur_us
    }

    /// Blocks the client has acknowledged.
    pub fn blocks_acked(&self) -> u64 {
        self.acked
    }

    fn fill_window(&mut self) -> Step {
        self.sending_oack = false;
        while self.inflight.len() < self.p.windowsize && self.last.is_none() {
            let abs = self.acked + self.inflight.len() as u64 + 1;
            let mut pkt = Vec::with_capacity(4 + self.p.blksize);
            pkt.extend_from_slice(&DATA.to_be_bytes());
            pkt.extend_from_slice(&wire_block(abs, self.p.rollover).to_be_bytes());
            if let Err(e) = self.source.fill(&mut pkt, self.p.blksize) {
                // tftp-hpa answers a read failure with error 0 and strerror (e.g. a directory).
                return Step::Failed {
                    reply: Some((0, crate::sys::fsys::error_text(&e))),
                    log: None,
                };
            }
            if pkt.len() - 4 < self.p.blksize {
                self.last = Some(abs);
            }
            self.inflight.push_back(pkt);
        }
        // Retransmit everything the client has not acknowledged (RFC 7440 §4).
        self.send_from = 0;
        Step::Send
    }

    /// Feeds one datagram from the client.
    pub fn on_packet(&mut self, pkt: &[u8]) -> Step {
        match wire::opcode(pkt) {
            Some(ACK) if pkt.len() >= 4 => {
                let w = u16::from_be_bytes([pkt[2], pkt[3]]);
                if self.sending_oack {
                    if w == 0 {
                        self.backoff.progress();
                        return self.fill_window();
                    }
                    // tftp-hpa resends the OACK on an ACK of any other block.
                    return Step::Send;
                }
                let found = (1..=self.inflight.len() as u64)
                    .map(|i| self.acked + i)
                    .find(|&abs| wire_block(abs, self.p.rollover) == w);
                let Some(abs) = found else {
                    // A duplicate or stale ACK: no resend (Sorcerer's Apprentice).
                    return Step::Ignore;
                };
                let n = (abs - self.acked) as usize;
                self.inflight.drain(..n);
                self.acked = abs;
                self.backoff.progress();
                if self.last == Some(abs) {
                    return Step::Finished;
                }
                // Anything still in flight after a partial ACK was lost: it goes again.
                self.fill_window()
            }
            Some(ERROR) => Step::Failed {
                reply: None,
                log: self
                    .sending_oack
                    .then(|| "tftp: client does not accept options".to_string()),
            },
            _ => Step::Ignore,
        }
    }

    /// The timer ran out.
    pub fn on_timeout(&mut self) -> Step {
        if !self.backoff.expired() {
            return Step::Failed {
                reply: None,
                log: None,
            };
        }
        self.send_from = 0;
        Step::Send
    }
}

/// Serves a WRQ (lock-step, T-XFER-4).
pub struct Receiver {
    sink: Option<Box<dyn FinishWrite>>,
    p: Params,
    oack: Option<Vec<u8>>,
    /// Next block expected (absolute).
    expected: u64,
    last_reply: Vec<u8>,
    done: bool,
    backoff: Backoff,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("p", &self.p)
            .field("expected", &self.expected)
            .finish()
    }
}

/// A sink that must be told when the last block arrived (netascii keeps a CR).
pub trait FinishWrite: Send {
    fn write_block(&mut self, data: &[u8]) -> io::Result<()>;
    fn finish(self: Box<Self>) -> io::Result<()>;
}

/// Octet writes.
pub struct PlainSink<W: Write + Send>(pub W);

impl<W: Write + Send> FinishWrite for PlainSink<W> {
    fn write_block(&mut self, data: &[u8]) -> io::Result<()> {
        self.0.write_all(data)
    }
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.0.flush()
    }
}

/// netascii writes.
pub struct NetasciiSink<W: Write + Send>(pub netascii::Decoder<W>);

impl<W: Write + Send> FinishWrite for NetasciiSink<W> {
    fn write_block(&mut self, data: &[u8]) -> io::Result<()> {
        self.0.write_all(data)
    }
    fn finish(self: Box<Self>) -> io::Result<()> {
        self.0.finish().map(|_| ())
    }
}

fn ack_packet(block: u16) -> Vec<u8> {
    let mut v = Vec::with_capacity(4);
    v.extend_from_slice(&ACK.to_be_bytes());
    v.extend_from_slice(&block.to_be_bytes());
    v
}

/// Maps a write failure to tftp-hpa's reply: ENOSPC is error 3, others error 0 with strerror.
fn write_error(e: &io::Error) -> (u16, String) {
    if e.raw_os_error() == Some(ENOSPC) {
        (3, "Disk full or allocation exceeded".to_string())
    } else {
        (0, crate::sys::fsys::error_text(e))
    }
}

/// ENOSPC on Linux (errno(3)); spelled out because only `sys` uses libc.
const ENOSPC: i32 = 28;

impl Receiver {
    pub fn new(sink: Box<dyn FinishWrite>, p: Params, oack: Option<Vec<u8>>) -> Self {
        Receiver {
            sink: Some(sink),
            p,
            oack,
            expected: 1,
            last_reply: Vec::new(),
            done: false,
            backoff: Backoff::new(p.timeout_us),
        }
    }

    /// The first packet: the OACK, or ACK 0.
    pub fn start(&mut self) -> Step {
        self.last_reply = self.oack.clone().unwrap_or_else(|| ack_packet(0));
        Step::Send
    }

    pub fn outbox(&self) -> Vec<&[u8]> {
        vec![self.last_reply.as_slice()]
    }

    pub fn timeout_us(&self) -> u64 {
        self.backoff.cur_us
    }

    pub fn on_packet(&mut self, pkt: &[u8]) -> Step {
        match wire::opcode(pkt) {
            Some(DATA) if pkt.len() >= 4 => {
                let w = u16::from_be_bytes([pkt[2], pkt[3]]);
                let data = &pkt[4..];
                if !self.done && w == wire_block(self.expected, self.p.rollover) {
                    if let Some(s) = self.sink.as_mut() {
                        if let Err(e) = s.write_block(data) {
                            return Step::Failed {
                                reply: Some(write_error(&e)),
                                log: Some(format!(
                                    "tftpd: write: {}",
                                    crate::sys::fsys::error_text(&e)
                                )),
                            };
                        }
                    }
                    self.last_reply = ack_packet(w);
                    self.expected += 1;
                    self.backoff.progress();
                    if data.len() < self.p.blksize {
                        self.done = true;
                        if let Some(s) = self.sink.take() {
                            if let Err(e) = s.finish() {
                                return Step::Failed {
                                    reply: Some(write_error(&e)),
                                    log: None,
                                };
                            }
                        }
                    }
                    Step::Send
                } else if self.expected > 1 && w == wire_block(self.expected - 1, self.p.rollover) {
                    // Our ACK was lost: acknowledge the repeated block again.
                    Step::Send
                } else {
                    Step::Ignore
                }
            }
            Some(ERROR) => Step::Failed {
                reply: None,
                log: None,
            },
            _ => Step::Ignore,
        }
    }

    /// After the final ACK the server waits one timeout for a repeated last block.
    pub fn on_timeout(&mut self) -> Step {
        if self.done {
            return Step::Finished;
        }
        if !self.backoff.expired() {
            return Step::Failed {
                reply: None,
                log: None,
            };
        }
        Step::Send
    }

    pub fn is_done(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(blksize: usize, windowsize: usize) -> Params {
        Params {
            blksize,
            windowsize,
            rollover: 0,
            timeout_us: 1_000_000,
        }
    }

    fn ack(b: u16) -> Vec<u8> {
        ack_packet(b)
    }

    fn blocks(out: &[&[u8]]) -> Vec<u16> {
        out.iter()
            .map(|p| u16::from_be_bytes([p[2], p[3]]))
            .collect()
    }

    fn mem(data: &[u8]) -> Box<dyn Source> {
        Box::new(MemSource::new(Arc::new(data.to_vec())))
    }

    /// Runs a lock-step client to the end, returning the file it assembled.
    fn drive(mut s: Sender) -> Vec<u8> {
        let mut got = Vec::new();
        let mut step = s.start();
        loop {
            assert_eq!(step, Step::Send);
            let out: Vec<Vec<u8>> = s.outbox().iter().map(|p| p.to_vec()).collect();
            let mut last = 0;
            for p in &out {
                got.extend_from_slice(&p[4..]);
                last = u16::from_be_bytes([p[2], p[3]]);
            }
            step = s.on_packet(&ack(last));
            if step == Step::Finished {
                return got;
            }
        }
    }

    #[test]
    fn sends_blocks_and_an_empty_last_block() {
        let data = vec![7u8; 1024];
        let got = drive(Sender::new(mem(&data), params(512, 1), None));
        assert_eq!(got, data);
    }

    #[test]
    fn duplicate_ack_is_never_answered() {
        let mut s = Sender::new(mem(&[1u8; 2000]), params(512, 1), None);
        assert_eq!(s.start(), Step::Send);
        assert_eq!(s.on_packet(&ack(1)), Step::Send);
        assert_eq!(blocks(&s.outbox()), vec![2]);
        assert_eq!(s.on_packet(&ack(1)), Step::Ignore);
        assert_eq!(s.on_packet(&ack(0)), Step::Ignore);
    }

    #[test]
    fn oack_waits_for_ack_zero_and_error_means_no_options() {
        let mut s = Sender::new(
            mem(b"abc"),
            params(512, 1),
            Some(b"\x00\x06tsize\x003\x00".to_vec()),
        );
        assert_eq!(s.start(), Step::Send);
        assert_eq!(s.outbox()[0][1], 6);
        assert_eq!(s.on_packet(&ack(0)), Step::Send);
        assert_eq!(blocks(&s.outbox()), vec![1]);
        let mut s = Sender::new(
            mem(b"abc"),
            params(512, 1),
            Some(b"\x00\x06tsize\x003\x00".to_vec()),
        );
        s.start();
        let e = wire::error_packet(8, "no");
        assert_eq!(
            s.on_packet(&e),
            Step::Failed {
                reply: None,
                log: Some("tftp: client does not accept options".into())
            }
        );
    }

    #[test]
    fn window_slides_and_resends_after_a_partial_ack() {
        let mut s = Sender::new(mem(&[3u8; 8 * 10]), params(8, 4), None);
        s.start();
        assert_eq!(blocks(&s.outbox()), vec![1, 2, 3, 4]);
        assert_eq!(s.on_packet(&ack(4)), Step::Send);
        assert_eq!(blocks(&s.outbox()), vec![5, 6, 7, 8]);
        // Client lost 7: it acknowledges 6; we send 7 and 8 again and two new ones.
        assert_eq!(s.on_packet(&ack(6)), Step::Send);
        assert_eq!(blocks(&s.outbox()), vec![7, 8, 9, 10]);
        assert_eq!(s.on_packet(&ack(10)), Step::Send);
        assert_eq!(blocks(&s.outbox()), vec![11]);
        assert_eq!(s.on_packet(&ack(11)), Step::Finished);
    }

    #[test]
    fn retransmits_at_1_3_7_15_31_and_gives_up_at_63_base() {
        let mut s = Sender::new(mem(b"x"), params(512, 1), None);
        s.start();
        let mut t = 0;
        let mut sends = Vec::new();
        loop {
            t += s.timeout_us() / 1_000_000;
            match s.on_timeout() {
                Step::Send => sends.push(t),
                Step::Failed { reply: None, .. } => break,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(sends, vec![1, 3, 7, 15, 31]);
        assert_eq!(t, 63);
    }

    #[test]
    fn block_numbers_wrap_to_rollover() {
        assert_eq!(wire_block(65535, 0), 65535);
        assert_eq!(wire_block(65536, 0), 0);
        assert_eq!(wire_block(65537, 0), 1);
        assert_eq!(wire_block(65536, 1), 1);
        assert_eq!(wire_block(65536 + 65535, 1), 1);
        // A file of 70000 blocks of 8 bytes passes the wrap and arrives whole.
        let data: Vec<u8> = (0..70_000u32 * 8).map(|i| (i % 251) as u8).collect();
        let got = drive(Sender::new(mem(&data), params(8, 1), None));
        assert_eq!(got.len(), data.len());
        assert!(got == data);
    }

    #[test]
    fn netascii_source_expands_line_ends() {
        let mut s = NetasciiSource::new(MemSource::new(Arc::new(b"x\ny\r\nz".to_vec())));
        let mut b = Vec::new();
        s.fill(&mut b, 100).unwrap();
        assert_eq!(b, b"x\r\ny\r\x00\r\nz");
    }

    #[test]
    fn directory_read_fails_with_strerror() {
        let d = tempfile::tempdir().unwrap();
        let f = std::fs::File::open(d.path()).unwrap();
        let mut s = Sender::new(Box::new(FileSource::new(f)), params(512, 1), None);
        assert_eq!(
            s.start(),
            Step::Failed {
                reply: Some((0, "Is a directory".into())),
                log: None
            }
        );
    }

    #[derive(Clone, Default)]
    struct Shared(Arc<std::sync::Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn data(b: u16, d: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 3];
        v.extend_from_slice(&b.to_be_bytes());
        v.extend_from_slice(d);
        v
    }

    #[test]
    fn receiver_acks_each_block_and_reacks_a_repeat() {
        let out = Shared::default();
        let mut r = Receiver::new(Box::new(PlainSink(out.clone())), params(4, 1), None);
        assert_eq!(r.start(), Step::Send);
        assert_eq!(r.outbox()[0], ack(0).as_slice());
        assert_eq!(r.on_packet(&data(1, b"abcd")), Step::Send);
        assert_eq!(r.outbox()[0], ack(1).as_slice());
        assert_eq!(r.on_packet(&data(1, b"abcd")), Step::Send);
        assert_eq!(r.outbox()[0], ack(1).as_slice());
        assert_eq!(r.on_packet(&data(3, b"zz")), Step::Ignore);
        assert_eq!(r.on_packet(&data(2, b"ef")), Step::Send);
        assert!(r.is_done());
        assert_eq!(r.on_packet(&data(2, b"ef")), Step::Send);
        assert_eq!(r.on_timeout(), Step::Finished);
        assert_eq!(*out.0.lock().unwrap(), b"abcdef");
    }

    #[test]
    fn receiver_decodes_netascii() {
        let out = Shared::default();
        let sink = NetasciiSink(netascii::Decoder::new(out.clone()));
        let mut r = Receiver::new(Box::new(sink), params(4, 1), None);
        r.start();
        r.on_packet(&data(1, b"a\r\nb"));
        r.on_packet(&data(2, b"\r\x00"));
        assert_eq!(*out.0.lock().unwrap(), b"a\nb\r");
    }
}
