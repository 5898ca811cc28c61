//! Log filters and searches typed by users, matched against lines carrying wire data; and
//! recording lines, which replay reads from files of any provenance.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tui::watch::{Filter, LogLine, contains_ci};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (query, line_text) = text.split_once('\n').unwrap_or((&text, ""));
    let event = client::ReceivedEvent::decoded(
        std::time::SystemTime::UNIX_EPOCH,
        Some("orders".into()),
        "created".into(),
        protocol::Data::from_text(line_text.to_owned()),
        None,
        String::new(),
    );
    let line = LogLine::event(Some(0), event, false, None, "…");
    let _ = Filter::parse(query).matches(&line, Some("eu"));
    let _ = contains_ci(&line, None, &query.to_lowercase());
    let _ = observe::recording::parse_line(&text);
});
