//! Fuzz target: arbitrary bytes as a worker request, decoded and then handled by a fresh
//! worker (`WorkerCore::handle_bytes`, what a server does with every request frame). A
//! worker must answer every input with a response, never panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use syft_worker::{Hub, WorkerCore};

fuzz_target!(|data: &[u8]| {
    let _ = syft_worker::message::decode::<syft_worker::Response>(data);
    let mut core = WorkerCore::new("bob", Hub::new());
    let answer = core.handle_bytes(data);
    if let Ok(bytes) = answer {
        assert!(syft_worker::message::decode::<syft_worker::Response>(&bytes).is_ok());
    }
});
