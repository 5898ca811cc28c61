//! REST requests from strangers: the query parser and the signature verifier.
#![no_main]
use libfuzzer_sys::fuzz_target;
use protocol::rest::{decode_query, verify_request};

fuzz_target!(|data: &[u8]| {
    // method \n path \n query \n body
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\n');
    let (method, path, query, body) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let params = decode_query(query);
    let _ = verify_request(
        "key",
        "secret",
        method,
        path,
        &params,
        body.as_bytes(),
        1_795_000_000,
    );
});
