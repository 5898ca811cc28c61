//! Log filters and searches typed by users, matched against lines carrying wire data; and
//! recording lines, which replay reads from files of any provenance.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tui::dashboard::logview::{Filter, contains_ci};
use tui::dashboard::state::LogLine;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (query, line_text) = text.split_once('\n').unwrap_or((&text, ""));
    let line = LogLine {
        seq: 0,
        time: std::time::SystemTime::UNIX_EPOCH,
        channel: "orders".into(),
        event: "created".into(),
        text: line_text.to_owned(),
        data: serde_json::from_str(line_text).ok(),
        raw: String::new(),
        unbound: false,
        latency_ms: None,
        notice: false,
    };
    let _ = Filter::parse(query).matches(&line);
    let _ = contains_ci(&line, &query.to_lowercase());
    let _ = observe::recording::parse_line(&text);
});
