//! Backplane messages from strangers: every server's decoder on any channel, and Reverb's
//! serialized application read for its id and key.
#![no_main]
use libfuzzer_sys::fuzz_target;
use protocol::backplane::{Server, decode, php};

fuzz_target!(|data: &[u8]| {
    let (channel, payload) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (String::from_utf8_lossy(&data[..at]), &data[at + 1..]),
        None => (Default::default(), data),
    };
    for server in [Server::Sockudo, Server::Soketi, Server::Reverb] {
        let _ = decode(server, &channel, payload);
    }
    let _ = php::app_identity(payload);
});
