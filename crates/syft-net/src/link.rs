//! One connection as two frame queues: a TCP stream, optionally wrapped in TLS, with a
//! reader thread and a writer thread.
//!
//! Sending ([`FrameTx::send`]) only queues the frame for the writer thread, so it never
//! waits for the peer; the reader thread drains the socket as data arrives and hands
//! complete frames to [`FrameRx`]. With TLS, rustls is driven sans-I/O: the connection
//! state sits behind a mutex that each thread holds only to encrypt or decrypt, never
//! while it waits on the socket, and only the writer thread writes to the socket (the
//! reader asks it to flush when rustls has something to send), so TLS records leave in
//! the order they were made. A peer that stops reading cannot stall the reader, and a
//! reader that stops cannot stall a writer holding the lock (it decodes, and waits for
//! budget, only after releasing it).
//!
//! Every received frame is charged to the connection's byte budgets ([`Budgets`]) as its
//! buffer grows, and carries that charge until it is consumed. When the budget is full
//! of this connection's own unconsumed frames, the reader stops reading the socket until
//! some are consumed (TCP back-pressure); when a frame alone cannot fit, or the budget
//! shared with other connections is exhausted, the stream ends with
//! [`NetError::LimitExceeded`].

use crate::error::{NetError, Result, spawn};
use crate::frame::{Fed, FrameDecoder, HEADER_LEN, header};
use crate::limits::{Budgets, Charge, Hold};
use crate::tls::{Security, cert_names, server_name};
use rustls::pki_types::CertificateDer;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How often an idle reader wakes up to see whether its consumer has gone.
const READ_POLL: Duration = Duration::from_millis(500);
/// How long a reader keeps draining a connection after its consumer has gone, waiting for
/// the peer to close (closing with unread data would reset the connection).
const LINGER: Duration = Duration::from_secs(5);
/// Socket read size.
const READ_BUF: usize = 64 << 10;
/// Frames up to this size are written with one system call (one TLS record).
const COALESCE: usize = 16 << 10;

/// Opens a TCP connection to `addr` (`host:port`) within `timeout`.
pub(crate) fn connect_tcp(addr: &str, timeout: Duration) -> Result<TcpStream> {
    let io = |op, source| NetError::Io { op, addr: addr.to_string(), source };
    let addrs = addr.to_socket_addrs().map_err(|e| io("resolve", e))?;
    let mut last = std::io::Error::new(ErrorKind::NotFound, "the address resolves to nothing");
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => {
                s.set_nodelay(true).map_err(|e| io("configure", e))?;
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(io("connect", last))
}

/// A connected, handshaken stream, before its threads start.
pub(crate) struct Link {
    tcp: TcpStream,
    tls: Option<rustls::Connection>,
    peer: String,
    peer_cert: Option<CertificateDer<'static>>,
}

fn lock<T>(m: &Mutex<T>) -> std::result::Result<MutexGuard<'_, T>, std::io::Error> {
    m.lock().map_err(|_| std::io::Error::other("a thread panicked while holding the TLS state"))
}

fn handshake(tcp: &mut TcpStream, conn: &mut rustls::Connection, peer: &str, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    let io = |e| NetError::Io { op: "TLS handshake with", addr: peer.to_string(), source: e };
    while conn.is_handshaking() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(NetError::Timeout { op: "TLS handshake", peer: peer.to_string(), after: timeout });
        }
        tcp.set_read_timeout(Some(left)).map_err(io)?;
        tcp.set_write_timeout(Some(left)).map_err(io)?;
        match conn.complete_io(tcp) {
            Ok((0, 0)) if conn.is_handshaking() => {
                return Err(NetError::Tls { peer: peer.to_string(), reason: "the handshake stalled".into() });
            }
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(NetError::Timeout { op: "TLS handshake", peer: peer.to_string(), after: timeout });
            }
            Err(e) if e.kind() == ErrorKind::InvalidData => {
                return Err(NetError::Tls { peer: peer.to_string(), reason: e.to_string() });
            }
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                return Err(NetError::Tls {
                    peer: peer.to_string(),
                    reason: "the peer closed the connection during the handshake".into(),
                });
            }
            Err(e) => return Err(io(e)),
        }
    }
    while conn.wants_write() {
        conn.write_tls(tcp).map_err(io)?;
    }
    Ok(())
}

impl Link {
    /// The client side: dials worker `id` (TLS verifies that the peer's certificate names it).
    pub(crate) fn client(mut tcp: TcpStream, security: &Security, id: &str, timeout: Duration) -> Result<Self> {
        let peer = tcp.peer_addr().map_or_else(|_| id.to_string(), |a| format!("{id}@{a}"));
        match security {
            Security::Insecure => Ok(Self { tcp, tls: None, peer, peer_cert: None }),
            Security::Tls(identity) => {
                let conn = rustls::ClientConnection::new(identity.client_config(), server_name(id)?)
                    .map_err(|e| NetError::Tls { peer: peer.clone(), reason: e.to_string() })?;
                let mut conn = rustls::Connection::from(conn);
                handshake(&mut tcp, &mut conn, &peer, timeout)?;
                Ok(Self { tcp, tls: Some(conn), peer, peer_cert: None })
            }
        }
    }

    /// The server side of an accepted connection (TLS requires a client certificate
    /// signed by the CA).
    pub(crate) fn server(mut tcp: TcpStream, security: &Security, timeout: Duration) -> Result<Self> {
        let peer = tcp.peer_addr().map_or_else(|_| "an unknown peer".to_string(), |a| a.to_string());
        tcp.set_nodelay(true).map_err(|e| NetError::Io { op: "configure", addr: peer.clone(), source: e })?;
        match security {
            Security::Insecure => Ok(Self { tcp, tls: None, peer, peer_cert: None }),
            Security::Tls(identity) => {
                let conn = rustls::ServerConnection::new(identity.server_config())
                    .map_err(|e| NetError::Tls { peer: peer.clone(), reason: e.to_string() })?;
                let mut conn = rustls::Connection::from(conn);
                handshake(&mut tcp, &mut conn, &peer, timeout)?;
                let peer_cert = conn.peer_certificates().and_then(|c| c.first()).cloned();
                Ok(Self { tcp, tls: Some(conn), peer, peer_cert })
            }
        }
    }

    /// A description of the peer for logs and errors.
    pub(crate) fn peer(&self) -> &str {
        &self.peer
    }

    /// The certificate the peer presented (on an accepted TLS connection).
    pub(crate) fn peer_certificate(&self) -> Option<CertificateDer<'static>> {
        self.peer_cert.clone()
    }

    /// What the peer proved about itself (its certificate, on an accepted TLS connection).
    pub(crate) fn identity(&self) -> PeerIdentity {
        PeerIdentity { tls: self.tls.is_some(), cert: self.peer_cert.clone(), peer: self.peer.clone() }
    }

    /// Starts the reader and writer threads; received frames are charged to `budgets`.
    pub(crate) fn start(
        self,
        max_frame: u32,
        write_timeout: Duration,
        budgets: &Budgets,
    ) -> Result<(FrameTx, FrameRx)> {
        let io = |e| NetError::Io { op: "configure", addr: self.peer.clone(), source: e };
        let reader_tcp = self.tcp.try_clone().map_err(io)?;
        reader_tcp.set_read_timeout(Some(READ_POLL)).map_err(io)?;
        self.tcp.set_write_timeout(Some(write_timeout)).map_err(io)?;
        let tls = self.tls.map(|c| Arc::new(Mutex::new(c)));
        let (out_tx, out_rx) = mpsc::channel::<Outgoing>();
        let (in_tx, in_rx) = mpsc::channel::<Result<(Vec<u8>, Charge)>>();
        let gone = Arc::new(AtomicBool::new(false));
        let writer = Writer { tcp: self.tcp, tls: tls.clone(), max_frame, peer: self.peer.clone() };
        spawn(format!("net-write {}", self.peer), move || writer.run(&out_rx))?;
        let reader = Reader {
            tcp: reader_tcp,
            tls,
            frames: in_tx,
            flush: out_tx.clone(),
            gone: gone.clone(),
            decoder: FrameDecoder::with_budgets(max_frame, budgets),
            budgets: budgets.clone(),
            peer: self.peer.clone(),
        };
        spawn(format!("net-read {}", self.peer), move || reader.run())?;
        Ok((FrameTx { tx: out_tx, peer: self.peer.clone(), max_frame }, FrameRx { rx: in_rx, peer: self.peer, gone }))
    }
}

/// The certificate an accepted connection's peer presented, to check against a worker id.
#[derive(Clone, Debug)]
pub(crate) struct PeerIdentity {
    tls: bool,
    cert: Option<CertificateDer<'static>>,
    peer: String,
}

impl PeerIdentity {
    /// Checks that the peer is worker `id` (its certificate names `id`). Without TLS there
    /// is nothing to check.
    pub(crate) fn check(&self, id: &str) -> Result<()> {
        match (self.tls, &self.cert) {
            (false, _) => Ok(()),
            (true, Some(cert)) => cert_names(cert, id, &self.peer),
            (true, None) => Err(NetError::Identity {
                peer: self.peer.clone(),
                expected: id.to_string(),
                reason: "it presented no certificate".into(),
            }),
        }
    }
}

enum Outgoing {
    /// One frame: its length, then `head`, then `body`; `hold` is dropped once it is
    /// written (or the connection is gone).
    Frame { head: Vec<u8>, body: Vec<u8>, hold: Option<Hold> },
    /// Write whatever TLS records rustls has queued (alerts, key updates).
    Flush,
    /// Send close_notify and the FIN, then stop.
    Close,
}

/// The sending half: queues frames for the writer thread. Dropping it closes the
/// connection for writing once everything queued has been written.
pub(crate) struct FrameTx {
    tx: Sender<Outgoing>,
    peer: String,
    max_frame: u32,
}

impl std::fmt::Debug for FrameTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameTx").field("peer", &self.peer).finish_non_exhaustive()
    }
}

impl FrameTx {
    /// Queues one frame made of `head` then `body` (never waits for the peer).
    pub(crate) fn send(&self, head: Vec<u8>, body: Vec<u8>) -> Result<()> {
        self.send_holding(head, body, None)
    }

    /// Like [`FrameTx::send`], keeping `hold` alive until the frame is written.
    pub(crate) fn send_holding(&self, head: Vec<u8>, body: Vec<u8>, hold: Option<Hold>) -> Result<()> {
        header(head.len() + body.len(), self.max_frame)?;
        self.tx
            .send(Outgoing::Frame { head, body, hold })
            .map_err(|_| NetError::Disconnected { peer: self.peer.clone() })
    }

    /// The peer.
    pub(crate) fn peer(&self) -> &str {
        &self.peer
    }
}

impl Drop for FrameTx {
    fn drop(&mut self) {
        let _ = self.tx.send(Outgoing::Close);
    }
}

/// The receiving half: complete frames in order, then the reason the stream ended.
pub(crate) struct FrameRx {
    rx: Receiver<Result<(Vec<u8>, Charge)>>,
    peer: String,
    gone: Arc<AtomicBool>,
}

impl std::fmt::Debug for FrameRx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameRx").field("peer", &self.peer).finish_non_exhaustive()
    }
}

impl FrameRx {
    /// The next frame, waiting at most `timeout` (`None`: forever). A closed connection
    /// is [`NetError::Disconnected`]; a broken one its error, once, then `Disconnected`.
    pub(crate) fn recv(&self, timeout: Option<Duration>) -> Result<Vec<u8>> {
        self.recv_charged(timeout).map(|(frame, _)| frame)
    }

    /// Like [`FrameRx::recv`], after polling the queue for up to `spin`
    /// ([`syft_share::memory::poll_channel`]): a frame the reader thread hands over within
    /// that time is taken without the receiving thread going to sleep.
    pub(crate) fn recv_polling(&self, spin: Duration, timeout: Option<Duration>) -> Result<Vec<u8>> {
        match syft_share::memory::poll_channel(&self.rx, spin) {
            Some(Ok(frame)) => frame.map(|(frame, _)| frame),
            Some(Err(mpsc::TryRecvError::Disconnected)) => Err(NetError::Disconnected { peer: self.peer.clone() }),
            Some(Err(mpsc::TryRecvError::Empty)) | None => self.recv(timeout),
        }
    }

    /// Like [`FrameRx::recv`], with the frame's charge: its bytes stay counted against
    /// the connection's budgets until the charge is dropped.
    pub(crate) fn recv_charged(&self, timeout: Option<Duration>) -> Result<(Vec<u8>, Charge)> {
        let got = match timeout {
            None => self.rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(t) => self.rx.recv_timeout(t),
        };
        match got {
            Ok(frame) => frame,
            Err(RecvTimeoutError::Timeout) => {
                Err(NetError::Timeout { op: "receive", peer: self.peer.clone(), after: timeout.unwrap_or_default() })
            }
            Err(RecvTimeoutError::Disconnected) => Err(NetError::Disconnected { peer: self.peer.clone() }),
        }
    }

    /// The peer.
    pub(crate) fn peer(&self) -> &str {
        &self.peer
    }
}

impl Drop for FrameRx {
    fn drop(&mut self) {
        self.gone.store(true, Ordering::SeqCst);
    }
}

struct Writer {
    tcp: TcpStream,
    tls: Option<Arc<Mutex<rustls::Connection>>>,
    max_frame: u32,
    peer: String,
}

impl Writer {
    fn run(mut self, rx: &Receiver<Outgoing>) {
        for msg in rx {
            let done = match msg {
                Outgoing::Frame { head, body, hold } => {
                    let done = self.frame(&head, &body);
                    drop(hold);
                    done
                }
                Outgoing::Flush => self.flush_tls(),
                Outgoing::Close => break,
            };
            if let Err(e) = done {
                tracing::debug!(peer = %self.peer, error = %e, "write failed; closing the connection");
                // Wake the reader too: the connection is unusable.
                let _ = self.tcp.shutdown(Shutdown::Both);
                return;
            }
        }
        if let Some(tls) = &self.tls {
            if let Ok(mut c) = lock(tls) {
                c.send_close_notify();
            }
            let _ = self.flush_tls();
        }
        let _ = self.tcp.shutdown(Shutdown::Write);
    }

    fn frame(&mut self, head: &[u8], body: &[u8]) -> std::io::Result<()> {
        let hdr = header(head.len() + body.len(), self.max_frame).map_err(std::io::Error::other)?;
        let small = head.len() + body.len() <= COALESCE;
        let mut first = Vec::with_capacity(HEADER_LEN + head.len() + if small { body.len() } else { 0 });
        first.extend_from_slice(&hdr);
        first.extend_from_slice(head);
        if small {
            first.extend_from_slice(body);
        }
        self.write(&first)?;
        if !small {
            self.write(body)?;
        }
        Ok(())
    }

    fn write(&mut self, mut data: &[u8]) -> std::io::Result<()> {
        let Some(tls) = &self.tls else {
            return self.tcp.write_all(data);
        };
        let mut records = Vec::new();
        while !data.is_empty() {
            records.clear();
            let n = {
                let mut c = lock(tls)?;
                let n = c.writer().write(data)?;
                while c.wants_write() {
                    c.write_tls(&mut records)?;
                }
                n
            };
            if n == 0 && records.is_empty() {
                return Err(std::io::Error::new(ErrorKind::WriteZero, "the TLS connection takes no more data"));
            }
            self.tcp.write_all(&records)?;
            data = &data[n..];
        }
        Ok(())
    }

    fn flush_tls(&mut self) -> std::io::Result<()> {
        let Some(tls) = &self.tls else { return Ok(()) };
        let mut records = Vec::new();
        {
            let mut c = lock(tls)?;
            while c.wants_write() {
                c.write_tls(&mut records)?;
            }
        }
        self.tcp.write_all(&records)
    }
}

struct Reader {
    tcp: TcpStream,
    tls: Option<Arc<Mutex<rustls::Connection>>>,
    frames: Sender<Result<(Vec<u8>, Charge)>>,
    flush: Sender<Outgoing>,
    gone: Arc<AtomicBool>,
    decoder: FrameDecoder,
    budgets: Budgets,
    peer: String,
}

impl Reader {
    fn run(mut self) {
        let mut buf = vec![0u8; READ_BUF];
        let mut scratch = vec![0u8; READ_BUF];
        let mut plain = Vec::new();
        let mut gone_since: Option<Instant> = None;
        // With TLS, the handshake may already have read application data.
        let mut first = self.tls.is_some();
        loop {
            let (n, eof) = if first {
                first = false;
                (0, false)
            } else {
                match self.tcp.read(&mut buf) {
                    Ok(0) => (0, true),
                    Ok(n) => (n, false),
                    Err(e)
                        if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) =>
                    {
                        if self.gone.load(Ordering::SeqCst)
                            && gone_since.get_or_insert_with(Instant::now).elapsed() > LINGER
                        {
                            return;
                        }
                        continue;
                    }
                    Err(e) => {
                        let _ =
                            self.frames.send(Err(NetError::Io { op: "read from", addr: self.peer.clone(), source: e }));
                        return;
                    }
                }
            };
            let (data, closed) = match &self.tls {
                None => (&buf[..n], eof),
                Some(tls) => {
                    plain.clear();
                    match tls_input(tls, &buf[..n], eof, &mut scratch, &mut plain, &self.flush, &self.peer) {
                        Ok(closed) => (&plain[..], closed),
                        Err(e) => {
                            let _ = self.frames.send(Err(e));
                            return;
                        }
                    }
                }
            };
            if let Err(e) = Self::deliver(&mut self.decoder, &self.budgets, &self.frames, &self.gone, data) {
                let _ = self.frames.send(Err(e));
                return;
            }
            if closed {
                let end = if self.decoder.at_boundary() {
                    NetError::Disconnected { peer: self.peer.clone() }
                } else {
                    NetError::Truncated { peer: self.peer.clone(), buffered: self.decoder.buffered() }
                };
                let _ = self.frames.send(Err(end));
                return;
            }
        }
    }

    /// Decodes `data` and hands over its frames; while the connection's budget is full of
    /// its own unconsumed frames, waits for the consumer (the socket is not read meanwhile).
    fn deliver(
        decoder: &mut FrameDecoder,
        budgets: &Budgets,
        out: &Sender<Result<(Vec<u8>, Charge)>>,
        gone: &AtomicBool,
        mut data: &[u8],
    ) -> Result<()> {
        let mut frames = Vec::new();
        loop {
            let seen = budgets.conn().used();
            let fed = decoder.feed(data, &mut frames);
            for f in frames.drain(..) {
                // The consumer may have gone; keep draining until the peer closes (a frame
                // sent to nobody is dropped at once, with its charge).
                let _ = out.send(Ok(f));
            }
            match fed? {
                Fed::All => return Ok(()),
                Fed::Blocked(n) => {
                    if gone.load(Ordering::SeqCst) {
                        // Nobody will consume what is held: stop reading.
                        return Err(NetError::Disconnected { peer: String::new() });
                    }
                    data = &data[n..];
                    budgets.conn().wait_release(seen, READ_POLL);
                }
            }
        }
    }
}

/// Feeds raw bytes (or the end of the stream) to rustls and appends the plaintext to
/// `plain` (at most about as much as `input`: the lock is released before it is
/// decoded). Returns whether the peer has closed the stream.
fn tls_input(
    tls: &Mutex<rustls::Connection>,
    mut input: &[u8],
    eof: bool,
    scratch: &mut [u8],
    plain: &mut Vec<u8>,
    flush: &Sender<Outgoing>,
    peer: &str,
) -> Result<bool> {
    let io = |e| NetError::Io { op: "read from", addr: peer.to_string(), source: e };
    let mut c = lock(tls).map_err(io)?;
    let mut closed = eof;
    loop {
        if !input.is_empty() {
            c.read_tls(&mut input).map_err(io)?;
        } else if eof {
            let mut nothing: &[u8] = &[];
            c.read_tls(&mut nothing).map_err(io)?;
        }
        let state = match c.process_new_packets() {
            Ok(state) => state,
            Err(e) => {
                if c.wants_write() {
                    let _ = flush.send(Outgoing::Flush);
                }
                return Err(NetError::Tls { peer: peer.to_string(), reason: e.to_string() });
            }
        };
        loop {
            match c.reader().read(scratch) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => plain.extend_from_slice(&scratch[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                    closed = true;
                    break;
                }
                Err(e) => return Err(io(e)),
            }
        }
        if state.peer_has_closed() {
            closed = true;
        }
        if input.is_empty() {
            break;
        }
    }
    if c.wants_write() {
        let _ = flush.send(Outgoing::Flush);
    }
    Ok(closed)
}
