//! The `Comm` conformance kit over TCP and over TLS, through the real session connector
//! (listeners on 127.0.0.1, one per endpoint), and the connector's own checks: concurrent
//! sessions stay apart, identities are verified, oversized frames and silent peers give
//! typed errors.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::sync::OnceLock;
use std::time::{Duration, Instant};
use syft_net::{DevCa, NetComm, NetConfig, NetError, PeerNetwork, Security, TlsIdentity};
use syft_ring::Tensor;
use syft_share::dev::comm_conformance;
use syft_share::{Comm, CommExt, ShareError};

/// One CA and certificates for `p0` .. `p5`, made once.
fn identities() -> &'static Vec<Security> {
    static IDS: OnceLock<Vec<Security>> = OnceLock::new();
    IDS.get_or_init(|| {
        let ca = DevCa::generate().unwrap();
        (0..6)
            .map(|i| {
                let c = ca.issue(&format!("p{i}")).unwrap();
                let id = TlsIdentity::from_pem(ca.cert_pem().as_bytes(), c.cert_pem.as_bytes(), c.key_pem.as_bytes());
                Security::Tls(id.unwrap())
            })
            .collect()
    })
}

fn config() -> NetConfig {
    let mut c = NetConfig::default();
    c.recv_timeout = Some(Duration::from_secs(20));
    c.connect_timeout = Duration::from_secs(5);
    c
}

fn security(tls: bool, i: usize) -> Security {
    if tls { identities()[i].clone() } else { Security::Insecure }
}

fn listeners(n: usize, tls: bool, config: &NetConfig) -> Vec<PeerNetwork> {
    (0..n)
        .map(|i| PeerNetwork::bind(&format!("p{i}"), "127.0.0.1:0", None, security(tls, i), config.clone()).unwrap())
        .collect()
}

/// Every endpoint opens `session` at once, as workers do when they join.
fn open_all(nets: &[PeerNetwork], session: u64, addrs: &[String]) -> Vec<Result<NetComm, NetError>> {
    std::thread::scope(|s| {
        let handles: Vec<_> =
            nets.iter().enumerate().map(|(i, net)| s.spawn(move || net.open(session, i, addrs))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn network(n: usize, tls: bool) -> Vec<NetComm> {
    let nets = listeners(n, tls, &config());
    let addrs: Vec<String> = nets.iter().map(|p| p.address().to_string()).collect();
    open_all(&nets, 42, &addrs).into_iter().map(Result::unwrap).collect()
}

#[test]
fn tcp_comm_conforms() {
    comm_conformance(|n| network(n, false));
}

#[test]
fn tls_comm_conforms() {
    comm_conformance(|n| network(n, true));
}

#[test]
fn concurrent_sessions_do_not_mix() {
    let nets = listeners(3, true, &config());
    let addrs: Vec<String> = nets.iter().map(|p| p.address().to_string()).collect();
    // Two sessions among the same three workers, opened at the same time.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| open_all(&nets, 1, &addrs));
        let b = s.spawn(|| open_all(&nets, 2, &addrs));
        (a.join().unwrap(), b.join().unwrap())
    });
    let mut a: Vec<NetComm> = a.into_iter().map(Result::unwrap).collect();
    let mut b: Vec<NetComm> = b.into_iter().map(Result::unwrap).collect();
    for (tag, comms) in [(100u64, &mut a), (200, &mut b)] {
        for c in comms.iter_mut() {
            let peers: Vec<usize> = (0..3).filter(|&p| p != c.id()).collect();
            for &p in &peers {
                c.send_tensor(p, &Tensor::from_vec(vec![tag + c.id() as u64])).unwrap();
            }
        }
    }
    for (tag, comms) in [(200u64, &mut b), (100, &mut a)] {
        for c in comms.iter_mut() {
            let me = c.id();
            for p in (0..3).filter(|&p| p != me) {
                assert_eq!(c.recv_tensor::<u64>(p).unwrap().data(), &[tag + p as u64]);
            }
        }
    }
}

#[test]
fn a_member_list_naming_someone_else_is_refused() {
    let mut config = config();
    config.connect_timeout = Duration::from_secs(1);
    let nets = listeners(2, true, &config);
    // p1's listener is listed as p0's: p1 dialling it expects p0's certificate... and p0
    // claims to be endpoint 0 at an address that is really p1's.
    let wrong = vec![format!("p0@{}", nets[1].local_addr()), format!("p1@{}", nets[0].local_addr())];
    let started = Instant::now();
    let results = open_all(&nets, 7, &wrong);
    assert!(results.iter().all(Result::is_err), "{results:?}");
    assert!(started.elapsed() < Duration::from_secs(3), "failures are bounded by the connect timeout");
    // A member list whose own entry names another worker is a configuration error.
    let err = nets[0].open(8, 1, &[nets[0].address().to_string(), nets[1].address().to_string()]).unwrap_err();
    assert!(matches!(err, NetError::Config { .. }), "{err}");
}

#[test]
fn a_certificate_from_another_ca_is_refused() {
    let mut config = config();
    config.connect_timeout = Duration::from_secs(1);
    let ours = listeners(1, true, &config);
    let other_ca = DevCa::generate().unwrap();
    let c = other_ca.issue("p1").unwrap();
    let foreign = Security::Tls(
        TlsIdentity::from_pem(other_ca.cert_pem().as_bytes(), c.cert_pem.as_bytes(), c.key_pem.as_bytes()).unwrap(),
    );
    let theirs = PeerNetwork::bind("p1", "127.0.0.1:0", None, foreign, config).unwrap();
    let addrs = vec![ours[0].address().to_string(), theirs.address().to_string()];
    let results = std::thread::scope(|s| {
        let a = s.spawn(|| ours[0].open(9, 0, &addrs));
        let b = s.spawn(|| theirs.open(9, 1, &addrs));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert!(results.0.is_err() && results.1.is_err(), "{results:?}");
}

#[test]
fn oversized_frames_and_silent_peers_are_typed_errors() {
    let mut config = config();
    config.max_frame = 1 << 16;
    config.recv_timeout = Some(Duration::from_millis(300));
    let nets = listeners(2, true, &config);
    let addrs: Vec<String> = nets.iter().map(|p| p.address().to_string()).collect();
    let mut comms: Vec<NetComm> = open_all(&nets, 3, &addrs).into_iter().map(Result::unwrap).collect();
    // The sender refuses a frame above its limit, and the channel stays usable.
    let err = comms[0].send_bytes(1, vec![0; (1 << 16) + 1]).unwrap_err();
    assert!(matches!(err, ShareError::Transport { .. }), "{err}");
    comms[0].send_bytes(1, vec![7; 1 << 16]).unwrap();
    assert_eq!(comms[1].recv_bytes(0).unwrap().len(), 1 << 16);
    // Nothing sent: a timeout, not a hang.
    let started = Instant::now();
    let err = comms[1].recv_bytes(0).unwrap_err();
    assert!(matches!(err, ShareError::Timeout { party: 1, peer: 0, .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
    // The peer goes away: Disconnected, also for messages still to come.
    drop(comms.remove(0));
    assert!(matches!(comms[0].recv_bytes(0), Err(ShareError::Disconnected { .. })));
}
