//! Frames from strangers: both directions' decoders, and decrypting what they carry.
#![no_main]
use libfuzzer_sys::fuzz_target;
use protocol::{ClientMessage, ServerMessage, crypto};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(msg) = ServerMessage::decode(&text) {
        // What decodes must encode and decode again.
        let _ = ServerMessage::decode(&msg.encode()).expect("re-encoded frames decode");
    }
    let _ = ClientMessage::decode(&text);
    let _ = crypto::decrypt(&[7; 32], &text);
});
