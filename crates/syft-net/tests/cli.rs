//! The `syft-worker` binary: `gen-certs` writes a CA apart and one directory per identity
//! (only that identity's key, its certificate and the CA certificate) that a worker and a
//! client then use; a worker refuses to start with a certificate for another id or
//! without certificates unless `--insecure`; it prints one ready line and exits when its
//! standard input closes (as `LocalCluster` starts it).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use syft_net::{NetClient, NetConfig, Security, TlsIdentity};
use syft_worker::{Hub, Sendable};

const BIN: &str = env!("CARGO_BIN_EXE_syft-worker");

#[test]
fn gen_certs_then_serve_then_connect() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["gen-certs", "--out"])
        .arg(dir.path())
        .args(["--workers", "bob", "--clients", "me"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for f in ["ca/ca.pem", "ca/ca.key", "me/cert.pem", "me/key.pem", "me/ca.pem", "bob/cert.pem", "bob/key.pem"] {
        assert!(dir.path().join(f).exists(), "{f} missing");
    }
    // An identity's directory holds only what it needs: never the CA key.
    let listing = |d: &str| {
        let mut v: Vec<String> = std::fs::read_dir(dir.path().join(d))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    };
    assert_eq!(listing("bob"), ["ca.pem", "cert.pem", "key.pem"]);
    assert_eq!(listing("me"), ["ca.pem", "cert.pem", "key.pem"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |f: &str| std::fs::metadata(dir.path().join(f)).unwrap().permissions().mode() & 0o077;
        assert_eq!(mode("bob/key.pem"), 0, "private keys are private");
        assert_eq!(mode("ca/ca.key"), 0, "the CA key is private");
        // A key file that already exists with a loose mode is tightened when rewritten.
        std::fs::set_permissions(dir.path().join("me/key.pem"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = Command::new(BIN).args(["gen-certs", "--out"]).arg(dir.path()).args(["--clients", "me"]).output();
        assert!(out.unwrap().status.success());
        assert_eq!(mode("me/key.pem"), 0, "an existing key file is tightened");
    }
    // Running it again adds a worker to the same CA.
    let again = Command::new(BIN).args(["gen-certs", "--out"]).arg(dir.path()).args(["--workers", "alice"]).output();
    assert!(again.unwrap().status.success());

    let p = |f: &str| dir.path().join(f);
    let mut child = Command::new(BIN)
        .args(["--id", "alice", "--listen", "127.0.0.1:0", "--exit-on-stdin-eof", "--clients", "me", "--ca"])
        .arg(p("alice/ca.pem"))
        .arg("--cert")
        .arg(p("alice/cert.pem"))
        .arg("--key")
        .arg(p("alice/key.pem"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("ready id=alice listen=127.0.0.1:"), "{line}");
    assert!(line.contains(" peer=alice@127.0.0.1:"), "{line}");
    let listen = line.split_whitespace().find_map(|w| w.strip_prefix("listen=")).unwrap();

    let me = TlsIdentity::from_files(&p("me/ca.pem"), &p("me/cert.pem"), &p("me/key.pem")).unwrap();
    let client = NetClient::new("me", Security::Tls(me), NetConfig::default());
    let hub = Hub::new();
    let alice = client.connect(&hub, "alice", listen).unwrap();
    assert!(alice.peer_address().unwrap().starts_with("alice@127.0.0.1:"));
    let x = syft_ring::Tensor::from_vec(vec![3.0f32]).send(&alice).unwrap();
    assert_eq!(x.get().unwrap().data(), &[3.0]);

    // Closing its standard input stops it.
    drop(child.stdin.take());
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(5), "the worker did not exit");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn bad_command_lines_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    syft_net::gen_certs(dir.path(), &["bob".to_string(), "alice".to_string()], &[]).unwrap();
    let p = |f: &str| dir.path().join(f);
    // bob's certificate for a worker called alice.
    let out = Command::new(BIN)
        .args(["--id", "alice", "--listen", "127.0.0.1:0", "--clients", "me", "--ca"])
        .arg(p("ca/ca.pem"))
        .arg("--cert")
        .arg(p("bob/cert.pem"))
        .arg("--key")
        .arg(p("bob/key.pem"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not name alice"), "{out:?}");
    // No certificates and no --insecure.
    let out = Command::new(BIN).args(["--id", "bob", "--listen", "127.0.0.1:0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--ca"), "{out:?}");
    // Certificates and --insecure at once.
    let out = Command::new(BIN)
        .args(["--id", "bob", "--listen", "127.0.0.1:0", "--insecure", "--ca"])
        .arg(p("ca.pem"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // A worker id that cannot be a certificate name.
    let out = Command::new(BIN).args(["gen-certs", "--out"]).arg(dir.path()).args(["--workers", "bad name"]).output();
    assert_eq!(out.unwrap().status.code(), Some(1));
    // A missing file.
    let out = Command::new(BIN)
        .args(["--id", "bob", "--listen", "127.0.0.1:0", "--clients", "me", "--ca", "/nonexistent/ca.pem", "--cert"])
        .arg(p("bob/cert.pem"))
        .arg("--key")
        .arg(p("bob/key.pem"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/ca.pem"), "{out:?}");
    // --help works.
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("gen-certs"));
}
