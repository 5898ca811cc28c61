//! The log's lines as the server writes them, through a real writer thread.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::*;

#[derive(Clone, Default)]
struct Out(Arc<Mutex<Vec<u8>>>);

impl Write for Out {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Runs `f` with a log in `format`, and returns its lines without their time.
fn lines(format: LogFormat, f: impl FnOnce(&Log)) -> Vec<String> {
    let out = Out::default();
    let log = Log::to_writer(format, LogLimits::default(), Box::new(out.clone())).unwrap();
    f(&log);
    assert!(log.finish(Duration::from_secs(10)));
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    text.lines()
        .map(|l| match format {
            LogFormat::Text => l.split_once(' ').unwrap().1.to_owned(),
            LogFormat::Json => l.to_owned(),
        })
        .collect()
}

/// A hub for app 1 where socket 1.1 is on `channels`.
/// An app's occupied channels, as the hub gives them.
struct Names(Vec<String>);

impl Occupied for Names {
    fn occupied_names(
        &self,
        _app: &str,
        scan: usize,
        keep: usize,
        filter: &dyn Fn(&str) -> bool,
    ) -> Vec<String> {
        let scanned = self.0.iter().take(scan);
        scanned.filter(|n| filter(n)).take(keep).cloned().collect()
    }
}

fn hub(channels: &[&str]) -> Arc<Names> {
    Arc::new(Names(channels.iter().map(|c| c.to_string()).collect()))
}

fn publish<'a>(channel: &'a str, excluded: Option<&'a str>, d: [usize; 3]) -> Publish<'a> {
    Publish {
        app: "1",
        channel,
        event: "price",
        bytes: 42,
        excluded,
        delivery: Delivery {
            subscribers: d[0],
            recipients: d[1],
            too_slow: d[2],
        },
    }
}

#[test]
fn text_delivery_lines_give_the_figures_and_mark_what_reached_no_one() {
    let occupied = hub(&["stock_ticker", "private-orders"]);
    let got = lines(LogFormat::Text, |log| {
        log.api_message(&occupied, &publish("stock_ticker", None, [2, 2, 0]));
        log.api_message(&occupied, &publish("stock_ticker", Some("9.9"), [3, 1, 1]));
        log.api_message(&occupied, &publish("stock-ticker", None, [0, 0, 0]));
        log.api_message(&occupied, &publish("orders", None, [0, 0, 0]));
        log.api_message(&occupied, &publish("weather", None, [0, 0, 0]));
        log.api_message(&hub(&[]), &publish("rain", None, [0, 0, 0]));
        log.api_message(&occupied, &publish("stock_ticker", Some("9.9"), [1, 0, 0]));
        log.api_message(&occupied, &publish("stock_ticker", None, [2, 0, 2]));
        log.client_event("1.1", &publish("private-orders", Some("1.1"), [2, 1, 0]));
        log.line(
            "TERMINATE",
            format_args!("user {}: 2 connection(s)", "u\u{1b}[2J"),
        );
    });
    let api = "API MESSAGE        app=1";
    assert_eq!(
        got,
        [
            format!("{api} channel=stock_ticker event=price bytes=42 recipients=2 subscribers=2"),
            format!(
                "{api} channel=stock_ticker event=price bytes=42 recipients=1 subscribers=3 \
                 excluded=9.9 too_slow=1"
            ),
            format!(
                "{api} channel=stock-ticker event=price bytes=42 recipients=0 subscribers=0  \
                 NO SUBSCRIBERS: did you mean stock_ticker? (-, _ and . are different \
                 characters in a name)"
            ),
            format!(
                "{api} channel=orders event=price bytes=42 recipients=0 subscribers=0  \
                 NO SUBSCRIBERS: did you mean private-orders? (the private-/presence- prefix \
                 is part of a channel's name)"
            ),
            format!(
                "{api} channel=weather event=price bytes=42 recipients=0 subscribers=0  \
                 NO SUBSCRIBERS: no occupied channel has a similar name"
            ),
            format!(
                "{api} channel=rain event=price bytes=42 recipients=0 subscribers=0  \
                 NO SUBSCRIBERS: no channel of this app is occupied"
            ),
            format!(
                "{api} channel=stock_ticker event=price bytes=42 recipients=0 subscribers=1 \
                 excluded=9.9  NO RECIPIENTS: the excluded socket was the only subscriber"
            ),
            format!(
                "{api} channel=stock_ticker event=price bytes=42 recipients=0 subscribers=2 \
                 too_slow=2  NO RECIPIENTS: 2 too slow (4100)"
            ),
            "CLIENT EVENT       app=1 socket_id=1.1 channel=private-orders event=price \
             bytes=42 recipients=1"
                .to_owned(),
            "TERMINATE          user u\\e[2J: 2 connection(s)".to_owned(),
        ]
    );
}

#[test]
fn json_lines_carry_the_same_figures_as_fields() {
    let occupied = hub(&["stock_ticker"]);
    let got = lines(LogFormat::Json, |log| {
        log.api_message(&occupied, &publish("stock-ticker", None, [0, 0, 0]));
        log.api_message(&occupied, &publish("stock_ticker", Some("9.9"), [3, 1, 1]));
        log.line(
            "REFUSED",
            format_args!("4001 App key nope not in this server"),
        );
    });
    let objects: Vec<Value> = got
        .iter()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            v.as_object_mut().unwrap().remove("time").unwrap();
            v
        })
        .collect();
    assert_eq!(
        objects,
        [
            json!({"kind": "api_message", "app": "1", "channel": "stock-ticker",
                   "event": "price", "bytes": 42, "recipients": 0, "subscribers": 0,
                   "excluded": null, "too_slow": 0, "no_subscribers": true,
                   "suggestions": ["stock_ticker"]}),
            json!({"kind": "api_message", "app": "1", "channel": "stock_ticker",
                   "event": "price", "bytes": 42, "recipients": 1, "subscribers": 3,
                   "excluded": "9.9", "too_slow": 1, "no_subscribers": false,
                   "suggestions": []}),
            json!({"kind": "refused", "text": "4001 App key nope not in this server"}),
        ]
    );
}

#[test]
fn an_off_log_writes_nothing_and_finishes_at_once() {
    let log = Log::off();
    assert!(!log.enabled());
    log.api_message(&hub(&[]), &publish("x", None, [0, 0, 0]));
    log.line("X", format_args!("y"));
    assert!(log.finish(Duration::ZERO));
}

#[test]
fn the_dropped_count_is_a_line_of_the_logs_format() {
    let at = SystemTime::UNIX_EPOCH;
    assert_eq!(
        dropped_line(LogFormat::Text, at, 12),
        "00:00:00.000 LOG DROPPED        dropped=12  … 12 log lines dropped: stderr was not \
         read fast enough\n"
    );
    let v: Value = serde_json::from_str(&dropped_line(LogFormat::Json, at, 12)).unwrap();
    assert_eq!(v["kind"], "log_dropped");
    assert_eq!(v["dropped"], 12);
}
