//! The stable-toolchain companion of the cargo-fuzz targets in `fuzz/`: random and
//! mutated byte streams through the frame decoder and every wire-message decoder. None
//! may panic; well-formed frames split at any points come back whole.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use proptest::prelude::*;
use syft_net::frame::{FrameDecoder, encode};
use syft_net::protocol::{self, ClientMessage, PeerHello, decode_client, decode_worker};

fn decode_all(stream: &[u8], chunk: usize, max: u32) -> (Vec<Vec<u8>>, bool) {
    let mut d = FrameDecoder::new(max);
    let mut frames = Vec::new();
    for piece in stream.chunks(chunk.max(1)) {
        if d.decode(piece, &mut frames).is_err() {
            return (frames, false);
        }
    }
    (frames, true)
}

fn decode_everything(frame: Vec<u8>) {
    let _ = decode_worker("test", frame.clone());
    let _ = PeerHello::decode("test", &frame);
    if let Ok(ClientMessage::Request { body, .. }) = decode_client("test", frame) {
        let _ = syft_worker::message::decode::<syft_worker::Request>(&body);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn frames_round_trip_through_any_chunking(
        bodies in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..8),
        chunk in 1usize..64,
    ) {
        let stream: Vec<u8> = bodies.iter().flat_map(|b| encode(b, 1024).unwrap()).collect();
        let (frames, ok) = decode_all(&stream, chunk, 1024);
        prop_assert!(ok);
        prop_assert_eq!(frames, bodies);
    }

    #[test]
    fn random_bytes_never_panic(stream in prop::collection::vec(any::<u8>(), 0..600), chunk in 1usize..40) {
        let (frames, _) = decode_all(&stream, chunk, 256);
        for f in frames {
            decode_everything(f);
        }
        decode_everything(stream.clone());
        let _ = syft_worker::message::decode::<syft_worker::Request>(&stream);
    }

    #[test]
    fn mutated_messages_never_panic(flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..6), which in 0usize..5) {
        let mut req = protocol::request_head(3);
        req.extend(syft_worker::message::encode(&syft_worker::Request::Move { id: 9, to: "alice".into() }).unwrap());
        let peer = PeerHello { version: protocol::VERSION, session: 1, from: 0, to: 1, members: 3, worker: "bob".into() };
        let originals = [
            protocol::hello("me").unwrap(),
            protocol::directory(&[("bob".into(), "127.0.0.1:1".into())]).unwrap(),
            req,
            protocol::welcome("bob", Some("bob@127.0.0.1:2".into())).unwrap(),
            peer.encode().unwrap(),
        ];
        let mut msg = originals[which].clone();
        for (at, byte) in flips {
            let len = msg.len();
            msg[at % len] ^= byte;
        }
        decode_everything(msg);
    }
}
