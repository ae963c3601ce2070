//! Resource limits of a worker server: partial frames from many connections stay within
//! the configured byte budgets (the offenders are closed with an error naming the limit);
//! 300 idle TCP connections do not keep a legitimate TLS client out; an idle client is
//! disconnected; a client that pipelines requests faster than the worker serves them is
//! not read beyond its budget (TCP back-pressure) and is served in full afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

mod common;
use common::tls;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use syft_net::protocol::{self, WorkerMessage};
use syft_net::{DevCa, NetClient, NetConfig, Security, Server, ServerConfig};
use syft_ring::Tensor;
use syft_worker::mpc::{Channels, MpcRequest, Role};
use syft_worker::{Hub, Request, Sendable};

const MIB: usize = 1 << 20;

/// A worker still serves a well-behaved client.
fn still_serves(client: &NetClient, server: &Server) {
    let hub = Hub::new();
    let bob = client.connect(&hub, server.id(), &server.local_addr().to_string()).unwrap();
    let x = Tensor::from_vec(vec![1.0f32, 2.0]).send(&bob).unwrap();
    assert_eq!(x.add(&x).unwrap().get().unwrap().data(), &[2.0, 4.0]);
}

/// A raw connection to an insecure worker that speaks frames by hand.
struct Raw(TcpStream);

impl Raw {
    fn hello(server: &Server) -> Self {
        let s = TcpStream::connect(server.local_addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut raw = Self(s);
        raw.frame(&protocol::hello("raw").unwrap());
        assert!(matches!(raw.read(), Some(WorkerMessage::Welcome(_))));
        raw
    }

    fn frame(&mut self, body: &[u8]) {
        self.0.write_all(&syft_net::frame::encode(body, u32::MAX).unwrap()).unwrap();
    }

    fn request(&mut self, tag: u64, request: &Request) {
        let mut frame = protocol::request_head(tag);
        frame.extend(syft_worker::message::encode(request).unwrap());
        self.frame(&frame);
    }

    /// The next message, or `None` once the worker has closed the connection (or the
    /// read timed out).
    fn read(&mut self) -> Option<WorkerMessage> {
        let mut len = [0u8; 4];
        self.0.read_exact(&mut len).ok()?;
        let mut body = vec![0u8; u32::from_le_bytes(len) as usize];
        self.0.read_exact(&mut body).ok()?;
        Some(protocol::decode_worker("test", body).unwrap())
    }

    /// Reads until the worker closes the connection; returns the error it reported.
    fn expect_closed(&mut self) -> Option<String> {
        let mut error = None;
        while let Some(m) = self.read() {
            if let WorkerMessage::Error(e) = m {
                error = Some(e);
            }
        }
        error
    }
}

#[test]
fn partial_frames_from_many_connections_stay_within_the_total_budget() {
    const LIMIT: usize = 8 * MIB;
    let mut config = ServerConfig::new("bob", "127.0.0.1:0", Security::Insecure);
    config.net.max_buffered_total = LIMIT;
    config.net.handshake_timeout = Duration::from_secs(5);
    let server = Server::start(config).unwrap();

    // Sixteen connections each announce a 256 MiB frame (within max_frame) and send 2 MiB
    // of it: 32 MiB, four times the budget, if nothing stopped them.
    let mut attackers: Vec<Raw> = (0..16).map(|_| Raw::hello(&server)).collect();
    let part = vec![protocol::REQUEST; 2 * MIB];
    // The gauge, sampled while the frames arrive.
    let sampled_max = Arc::new(AtomicUsize::new(0));
    for raw in &mut attackers {
        let _ = raw.0.write_all(&(256u32 << 20).to_le_bytes());
        let _ = raw.0.write_all(&part);
        sampled_max.fetch_max(server.buffered_bytes(), Ordering::SeqCst);
    }
    let started = Instant::now();
    let mut closed = Vec::new();
    for raw in &mut attackers {
        raw.0.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
        sampled_max.fetch_max(server.buffered_bytes(), Ordering::SeqCst);
        if let Some(e) = raw.expect_closed() {
            closed.push(e);
        }
    }
    assert!(started.elapsed() < Duration::from_secs(30));
    let peak = server.buffered_bytes_peak();
    let sampled = sampled_max.load(Ordering::SeqCst);
    eprintln!("{} of 16 connections closed; peak {peak} bytes, sampled up to {sampled}", closed.len());
    assert!(peak <= LIMIT, "the server held {peak} bytes, above its limit of {LIMIT}");
    assert!(sampled <= LIMIT, "the server held {sampled} bytes, above its limit of {LIMIT}");
    assert!(peak > LIMIT / 2, "the partial frames were not charged ({peak} bytes)");
    // At 1 MiB or more each, at most 8 fit: the others were refused, with the limit named.
    assert!(closed.len() >= 8, "only {} connections were closed: {closed:?}", closed.len());
    for e in &closed {
        assert!(e.contains("max_buffered_total"), "{e}");
    }

    // A legitimate client is served (with what budget the survivors left).
    still_serves(&NetClient::new("me", Security::Insecure, NetConfig::default()), &server);
    // Closing the survivors gives their bytes back.
    drop(attackers);
    let started = Instant::now();
    while server.buffered_bytes() > 0 {
        assert!(started.elapsed() < Duration::from_secs(10), "{} bytes never given back", server.buffered_bytes());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_frame_above_the_per_connection_budget_closes_only_its_connection() {
    let mut config = ServerConfig::new("bob", "127.0.0.1:0", Security::Insecure);
    config.net.max_buffered_per_connection = MIB;
    let server = Server::start(config).unwrap();
    let client = NetClient::new("me", Security::Insecure, NetConfig::default());
    let hub = Hub::new();
    let bob = client.connect(&hub, "bob", &server.local_addr().to_string()).unwrap();
    let kept = Tensor::from_vec(vec![7.0f32]).send(&bob).unwrap();

    let mut raw = Raw::hello(&server);
    let _ = raw.0.write_all(&(2u32 << 20).to_le_bytes());
    let _ = raw.0.write_all(&vec![protocol::REQUEST; 3 * MIB / 2]);
    let e = raw.expect_closed().expect("an error frame");
    assert!(e.contains("max_buffered_per_connection"), "{e}");
    assert!(server.buffered_bytes_peak() <= 16 * MIB);

    // The other connection is unaffected.
    assert_eq!(kept.get().unwrap().data(), &[7.0]);
}

#[test]
fn idle_tcp_connections_do_not_keep_a_tls_client_out() {
    const HANDSHAKE: Duration = Duration::from_secs(2);
    let ca = DevCa::generate().unwrap();
    let mut config = ServerConfig::new("bob", "127.0.0.1:0", tls(&ca, "bob"));
    config.net.handshake_timeout = HANDSHAKE;
    let max_handshaking = config.net.max_handshaking;
    let server = Server::start(config).unwrap();

    // 300 TCP connections that never send a TLS hello, held open.
    let idle: Vec<TcpStream> = (0..300).map(|_| TcpStream::connect(server.local_addr()).unwrap()).collect();
    assert!(server.handshaking() <= max_handshaking);

    let mut client_config = NetConfig::default();
    client_config.connect_timeout = Duration::from_secs(5);
    let client = NetClient::new("me", tls(&ca, "me"), client_config);
    let started = Instant::now();
    still_serves(&client, &server);
    let took = started.elapsed();
    eprintln!("served in {took:?} beside 300 idle connections");
    assert!(took < HANDSHAKE + Duration::from_secs(3), "served only after {took:?}");
    assert!(server.handshaking() <= max_handshaking);
    assert!(server.connections() <= 2, "unauthenticated connections were counted: {}", server.connections());
    drop(idle);
}

#[test]
fn an_idle_client_is_disconnected_and_an_active_one_is_not() {
    const IDLE: Duration = Duration::from_secs(1);
    let mut config = ServerConfig::new("bob", "127.0.0.1:0", Security::Insecure);
    config.net.idle_timeout = Some(IDLE);
    let server = Server::start(config).unwrap();

    // Active: a request every 300 ms for 2.4 s.
    let mut active = Raw::hello(&server);
    for tag in 0..8 {
        active.request(tag, &Request::List);
        assert!(matches!(active.read(), Some(WorkerMessage::Response { .. })), "closed while active");
        std::thread::sleep(Duration::from_millis(300));
    }

    // Idle: closed after the idle timeout, not before, with an error saying why.
    let mut idle = Raw::hello(&server);
    let started = Instant::now();
    let e = idle.expect_closed().expect("an error frame");
    let after = started.elapsed();
    assert!(after >= IDLE - Duration::from_millis(100), "closed after {after:?}");
    assert!(after < Duration::from_secs(8), "closed only after {after:?}");
    assert!(e.contains("idle"), "{e}");

    // A NetClient whose connection was closed reconnects.
    let client = NetClient::new("me", Security::Insecure, NetConfig::default());
    let hub = Hub::new();
    let bob = client.connect(&hub, "bob", &server.local_addr().to_string()).unwrap();
    let x = Tensor::from_vec(vec![3.0f32]).send(&bob).unwrap();
    std::thread::sleep(IDLE * 3);
    assert_eq!(x.get().unwrap().data(), &[3.0], "no reconnection after the idle close");
}

#[test]
fn pipelined_requests_are_not_read_beyond_the_budget_and_are_all_served() {
    const PER_CONNECTION: usize = 2 * MIB;
    const REQUESTS: usize = 256;
    const BODY: usize = 256 << 10;
    let mut config = ServerConfig::new("bob", "127.0.0.1:0", Security::Insecure);
    config.net.max_buffered_per_connection = PER_CONNECTION;
    config.net.max_pending_requests = 4;
    // Joining a session whose first member never dials in blocks the worker thread for
    // the connect timeout: the requests behind it cannot be served meanwhile.
    config.net.connect_timeout = Duration::from_secs(4);
    let server = Server::start(config).unwrap();

    let mut raw = Raw::hello(&server);
    let join = Request::Mpc(MpcRequest::Join {
        session: 7,
        role: Role::Dealer,
        parties: 2,
        channels: Channels::Network {
            peers: vec!["alice@127.0.0.1:1".into(), "carol@127.0.0.1:1".into(), server.peer_address().to_string()],
        },
    });
    raw.request(0, &join);
    let joined_at = Instant::now();

    // 64 MiB of requests (each an undecodable 256 KiB body), written without reading.
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let mut stream = raw.0.try_clone().unwrap();
        let written = written.clone();
        std::thread::spawn(move || {
            for tag in 1..=REQUESTS as u64 {
                let mut frame = protocol::request_head(tag);
                frame.resize(frame.len() + BODY, 0xff);
                let frame = syft_net::frame::encode(&frame, u32::MAX).unwrap();
                stream.write_all(&frame).unwrap();
                written.fetch_add(frame.len(), Ordering::SeqCst);
            }
        })
    };
    let total = REQUESTS * (syft_net::frame::HEADER_LEN + protocol::request_head(0).len() + BODY);
    let mut max_gauge = 0;
    while joined_at.elapsed() < Duration::from_millis(2500) {
        max_gauge = max_gauge.max(server.buffered_bytes());
        std::thread::sleep(Duration::from_millis(20));
    }
    let stalled_at = written.load(Ordering::SeqCst);
    eprintln!("written {stalled_at} of {total} bytes while the worker was busy; gauge up to {max_gauge}");
    assert!(stalled_at < total / 2, "the server kept reading: {stalled_at} of {total} bytes taken");
    assert!(server.buffered_bytes_peak() <= PER_CONNECTION, "{}", server.buffered_bytes_peak());
    assert!(max_gauge > 0, "nothing was charged");

    // Once the worker is free again every request is answered, in full.
    let mut answered = std::collections::BTreeSet::new();
    while answered.len() <= REQUESTS {
        match raw.read() {
            Some(WorkerMessage::Response { tag, .. }) => {
                assert!(answered.insert(tag), "tag {tag} answered twice");
            }
            other => panic!("after {} answers: {other:?}", answered.len()),
        }
    }
    writer.join().unwrap();
    assert_eq!(written.load(Ordering::SeqCst), total);
    assert!(server.buffered_bytes_peak() <= PER_CONNECTION);
}
