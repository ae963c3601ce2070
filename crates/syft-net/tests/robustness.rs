//! Bad clients and failing peers: a client without a valid certificate is refused; a
//! malformed, oversized, unknown or truncated message gets an error or a closed
//! connection while the worker keeps serving everyone else; killing a party process in
//! the middle of a protocol gives the client an error within the timeout, and the other
//! workers keep serving with nothing leaked.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

mod common;
use common::tls;

use rustls::pki_types::pem::PemObject;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};
use syft_fixed::FixedEncoder;
use syft_net::protocol::{self, WorkerMessage};
use syft_net::{DevCa, NetClient, NetConfig, NetError, Security, Server, ServerConfig};
use syft_ring::Tensor;
use syft_worker::{Hub, MpcSession, Sendable, SharedTensor, Worker};

/// A worker still serves a well-behaved client.
fn still_serves(client: &NetClient, server: &Server) {
    let hub = Hub::new();
    let bob = client.connect(&hub, server.id(), &server.local_addr().to_string()).unwrap();
    let x = Tensor::from_vec(vec![1.0f32, 2.0]).send(&bob).unwrap();
    assert_eq!(x.add(&x).unwrap().get().unwrap().data(), &[2.0, 4.0]);
}

#[test]
fn clients_without_a_valid_certificate_are_refused() {
    let ca = DevCa::generate().unwrap();
    let server = Server::start(ServerConfig::new("bob", "127.0.0.1:0", tls(&ca, "bob"))).unwrap();
    let addr = server.local_addr().to_string();
    let mut config = NetConfig::default();
    config.connect_timeout = Duration::from_secs(3);
    let hub = Hub::new();
    let refused = |client: NetClient, id: &str| {
        let started = Instant::now();
        let err = client.connect(&hub, id, &addr).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(3), "refusal took {:?}", started.elapsed());
        err
    };

    // A certificate from another CA.
    let other = DevCa::generate().unwrap();
    let err = refused(NetClient::new("me", tls(&other, "me"), config.clone()), "bob");
    assert!(matches!(err, NetError::Tls { .. } | NetError::Disconnected { .. } | NetError::Io { .. }), "{err}");
    // Plain TCP to a TLS worker.
    let err = refused(NetClient::new("me", Security::Insecure, config.clone()), "bob");
    assert!(!matches!(err, NetError::Timeout { .. }), "{err}");
    // A valid certificate, but the worker at that address is not the one asked for.
    let err = refused(NetClient::new("me", tls(&ca, "me"), config.clone()), "alice");
    assert!(matches!(err, NetError::Tls { .. }), "{err}");

    // No client certificate at all (a TLS client that offers none).
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_slice_iter(ca.cert_pem().as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let bare = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let conn = rustls::ClientConnection::new(Arc::new(bare), "bob".try_into().unwrap()).unwrap();
    let tcp = TcpStream::connect(&addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut stream = rustls::StreamOwned::new(conn, tcp);
    let mut hello = syft_net::frame::encode(&protocol::hello("anonymous").unwrap(), 1 << 20).unwrap();
    let sent = stream.write_all(&hello);
    let mut buf = [0u8; 64];
    let got = sent.and_then(|()| stream.read(&mut buf));
    assert!(matches!(got, Err(_) | Ok(0)), "a client without a certificate got {got:?}");
    hello.clear();

    still_serves(&NetClient::new("me", tls(&ca, "me"), config), &server);
}

/// A raw connection to an insecure worker that speaks frames by hand.
struct Raw(TcpStream);

impl Raw {
    fn connect(server: &Server) -> Self {
        let s = TcpStream::connect(server.local_addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        Self(s)
    }

    fn hello(server: &Server) -> Self {
        let mut raw = Self::connect(server);
        raw.frame(&protocol::hello("raw").unwrap());
        assert!(matches!(raw.read(), Some(WorkerMessage::Welcome(_))));
        raw
    }

    fn frame(&mut self, body: &[u8]) {
        self.0.write_all(&syft_net::frame::encode(body, u32::MAX).unwrap()).unwrap();
    }

    /// The next message, or `None` once the worker has closed the connection.
    fn read(&mut self) -> Option<WorkerMessage> {
        let mut len = [0u8; 4];
        self.0.read_exact(&mut len).ok()?;
        let mut body = vec![0u8; u32::from_le_bytes(len) as usize];
        self.0.read_exact(&mut body).ok()?;
        Some(protocol::decode_worker("test", body).unwrap())
    }

    /// Reads until the worker closes the connection; returns the error it reported.
    fn expect_closed(mut self) -> Option<String> {
        let mut error = None;
        let started = Instant::now();
        while let Some(m) = self.read() {
            if let WorkerMessage::Error(e) = m {
                error = Some(e);
            }
            assert!(started.elapsed() < Duration::from_secs(5), "the worker kept the connection open");
        }
        error
    }
}

#[test]
fn protocol_violations_close_one_connection_and_the_worker_serves_on() {
    let mut config = ServerConfig::new("bob", "127.0.0.1:0", Security::Insecure);
    config.net.max_frame = 1 << 20;
    config.net.connect_timeout = Duration::from_secs(2);
    let server = Server::start(config).unwrap();
    let client = NetClient::new("me", Security::Insecure, NetConfig::default());
    // A well-behaved client stays connected through all of it.
    let hub = Hub::new();
    let bob = client.connect(&hub, "bob", &server.local_addr().to_string()).unwrap();
    let kept = Tensor::from_vec(vec![7.0f32]).send(&bob).unwrap();

    // Malformed frame: an undecodable hello.
    let mut raw = Raw::connect(&server);
    raw.frame(&[protocol::HELLO, 0xff, 0xff, 0xff, 0xff]);
    assert!(raw.expect_closed().unwrap().contains("hello"));
    // Something other than a hello first.
    let mut raw = Raw::connect(&server);
    raw.frame(&protocol::request_head(1));
    assert!(raw.expect_closed().unwrap().contains("hello"));
    // Oversized frame: announced above the limit; refused before the body is sent.
    let mut raw = Raw::hello(&server);
    raw.0.write_all(&(2u32 << 20).to_le_bytes()).unwrap();
    assert!(raw.expect_closed().unwrap().contains("exceeds"));
    // Unknown message kind.
    let mut raw = Raw::hello(&server);
    raw.frame(&[0x7f, 1, 2, 3]);
    assert!(raw.expect_closed().unwrap().contains("unknown message kind"));
    // Empty frame, and a request frame too short for its tag.
    let mut raw = Raw::hello(&server);
    raw.frame(&[]);
    assert!(raw.expect_closed().is_some());
    let mut raw = Raw::hello(&server);
    raw.frame(&[protocol::REQUEST, 1, 2]);
    assert!(raw.expect_closed().unwrap().contains("tag"));
    // Truncated connection: half a frame, then the client goes away.
    let mut raw = Raw::hello(&server);
    raw.0.write_all(&100u32.to_le_bytes()).unwrap();
    raw.0.write_all(&[protocol::REQUEST; 10]).unwrap();
    raw.0.shutdown(std::net::Shutdown::Write).unwrap();
    assert!(raw.expect_closed().unwrap().contains("middle of a frame"));
    // Garbage instead of frames.
    let mut raw = Raw::connect(&server);
    raw.0.write_all(b"GET / HTTP/1.1\r\nHost: bob\r\n\r\n").unwrap();
    raw.expect_closed();
    // A request that does not decode is an error *response*; the connection stays.
    let mut raw = Raw::hello(&server);
    let mut req = protocol::request_head(5);
    req.extend_from_slice(&[0xff; 7]);
    raw.frame(&req);
    match raw.read() {
        Some(WorkerMessage::Response { tag: 5, result: Ok(bytes) }) => {
            let resp: syft_worker::Response = syft_worker::message::decode(&bytes).unwrap();
            assert!(matches!(resp, syft_worker::Response::Err(_)), "{resp:?}");
        }
        other => panic!("expected an error response, got {other:?}"),
    }
    let mut list = protocol::request_head(6);
    list.extend(syft_worker::message::encode(&syft_worker::Request::List).unwrap());
    raw.frame(&list);
    assert!(matches!(raw.read(), Some(WorkerMessage::Response { tag: 6, result: Ok(_) })));
    // A directory that names nonsense addresses is accepted and harmless.
    raw.frame(&protocol::directory(&[("ghost".into(), "256.0.0.1:1".into())]).unwrap());
    raw.frame(&list);
    assert!(matches!(raw.read(), Some(WorkerMessage::Response { tag: 6, result: Ok(_) })));

    assert_eq!(kept.get().unwrap().data(), &[7.0]);
    still_serves(&client, &server);
}

#[test]
fn garbage_on_a_tls_port_is_refused_and_the_worker_serves_on() {
    let ca = DevCa::generate().unwrap();
    let mut config = ServerConfig::new("bob", "127.0.0.1:0", tls(&ca, "bob"));
    config.net.connect_timeout = Duration::from_secs(2);
    let server = Server::start(config).unwrap();
    for garbage in [&b"\x16\x03\x01\x00\x05hello"[..], &[0u8; 300][..], &[0xffu8; 5][..]] {
        let mut s = TcpStream::connect(server.local_addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(garbage).unwrap();
        let mut buf = Vec::new();
        let started = Instant::now();
        let _ = s.read_to_end(&mut buf);
        assert!(started.elapsed() < Duration::from_secs(4));
    }
    // A peer that connects and says nothing is dropped after the handshake timeout.
    let silent = TcpStream::connect(server.local_addr()).unwrap();
    still_serves(&NetClient::new("me", tls(&ca, "me"), NetConfig::default()), &server);
    drop(silent);
}

#[test]
fn killing_a_party_mid_protocol_aborts_with_an_error_and_leaks_nothing() {
    let hub = Hub::new();
    let mut cluster = common::cluster(&["bob", "alice", "crypto_provider"], &hub);
    let (bob, alice, crypto) = {
        let w = cluster.workers();
        (w[0].clone(), w[1].clone(), w[2].clone())
    };
    let session = MpcSession::new(&[&bob, &alice], &crypto).unwrap();
    let enc = FixedEncoder::default();
    let data: Vec<f64> = (0..20_000).map(|i| f64::from(i % 200) - 100.0).collect();
    let x = SharedTensor::share(&enc.encode(&Tensor::new(&[100, 200], data).unwrap()).unwrap(), Some(enc), &session)
        .unwrap();
    let held = bob.object_count().unwrap();

    // Protocols back to back (SecureNN ReLU: several rounds among all three members), and
    // alice's process is killed while they run.
    let (done, err, failed_at, killed_at) = std::thread::scope(|s| {
        let run = s.spawn(|| {
            let started = Instant::now();
            let mut done = 0;
            loop {
                match x.relu() {
                    Ok(r) => drop(r),
                    Err(e) => return (done, e, Instant::now()),
                }
                done += 1;
                assert!(started.elapsed() < Duration::from_secs(30), "the protocols never failed");
            }
        });
        std::thread::sleep(Duration::from_millis(300));
        let killed_at = Instant::now();
        cluster.kill("alice").unwrap();
        let (done, err, failed_at) = run.join().unwrap();
        (done, err, failed_at, killed_at)
    });
    let took = failed_at.saturating_duration_since(killed_at);
    eprintln!("{done} ReLUs, then alice was killed; the client got {err:?} after {took:?}");
    assert!(done > 0, "no protocol ran before the kill");
    assert!(took < Duration::from_secs(10), "the error took {took:?}");

    // The survivors keep serving and hold exactly what they held before.
    assert_eq!(bob.object_count().unwrap(), held, "bob kept a partial result");
    assert_eq!(crypto.object_count().unwrap(), 0);
    // Requests to the dead worker fail at once, and so does the next protocol.
    let started = Instant::now();
    assert!(alice.object_count().is_err());
    assert!(x.relu().is_err());
    assert!(started.elapsed() < Duration::from_secs(15));
    let y = Tensor::from_vec(vec![1.0f32]).send(&bob).unwrap();
    assert_eq!(y.get().unwrap().data(), &[1.0]);
    drop((x, session));
    assert_eq!(bob.object_count().unwrap(), 0, "bob's share is deleted with the shared tensor");
}
