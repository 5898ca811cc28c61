//! Bindings typed by users (and files they were sent): the rule and file parsers, and
//! looking fields up in arbitrary JSON.
#![no_main]
use libfuzzer_sys::fuzz_target;
use observe::binding::{Binding, View, parse_file};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(b) = Binding::parse(&text)
        && let View::Ticker { key, value } = &b.view
    {
        let doc = serde_json::json!({"a": {"b": [1, 2]}, "name": "x", "price": 1});
        let _ = (key.get(&doc), value.get(&doc), key.display());
    }
    let _ = parse_file(&text);
});
