//! Fuzz target: the frame decoder fed in arbitrary chunks, and every frame it yields
//! decoded as each wire message (client, worker, peer hello) and as a worker `Request`.
//! Nothing may panic, and a decoder that accepted a stream must re-encode it exactly.

#![no_main]

use libfuzzer_sys::fuzz_target;
use syft_net::frame::{FrameDecoder, encode};
use syft_net::protocol::{ClientMessage, PeerHello, decode_client, decode_worker};

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, stream)) = data.split_first() else { return };
    let chunk = usize::from(chunk).max(1);
    let mut decoder = FrameDecoder::new(1 << 16);
    let mut frames = Vec::new();
    let mut failed = false;
    for piece in stream.chunks(chunk) {
        if decoder.decode(piece, &mut frames).is_err() {
            failed = true;
            break;
        }
    }
    if !failed {
        // Everything decoded re-encodes to the stream consumed so far.
        let mut again: Vec<u8> = frames.iter().flat_map(|f| encode(f, 1 << 16).unwrap_or_default()).collect();
        let consumed = stream.len() - decoder.buffered();
        again.truncate(consumed);
        assert_eq!(&again[..], &stream[..consumed]);
    }
    for frame in frames {
        let _ = decode_worker("fuzz", frame.clone());
        let _ = PeerHello::decode("fuzz", &frame);
        if let Ok(ClientMessage::Request { body, .. }) = decode_client("fuzz", frame) {
            let _ = syft_worker::message::decode::<syft_worker::Request>(&body);
        }
    }
});
