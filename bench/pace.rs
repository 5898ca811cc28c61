//! The fixed-rate latency tool for `bench/run.sh` (P7), against any Pusher server
//! (tickertape serve, sockudo).
//!
//! `pace HOST:PORT APP_ID KEY SECRET SUBSCRIBERS RATE SECONDS`
//!   opens SUBSCRIBERS WebSockets on channel `pace` (plain sockets, no Pusher client
//!   library), then publishes RATE events a second for SECONDS, one REST `events` request
//!   each, over one keep-alive HTTP connection. The schedule is open-loop: event `i` is due
//!   at `start + i / RATE` whatever happened to the ones before it, and its latency is
//!   counted from that due time to its arrival at each subscriber, so a server that holds a
//!   publisher back is charged for every event that waited (no coordinated omission). The
//!   publisher runs on its own thread and sleeps with the operating system's timer (tokio's
//!   rounds up to the next millisecond), so an event leaves within microseconds of its time;
//!   how late it left is reported too (`send_lag_*`). Prints one JSON line: p50, p99 and
//!   max of every delivery's latency, the deliveries against those expected, and the lag.

// A benchmark tool: its report is what it prints, and it ends with its status.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

#[path = "pusher_socket.rs"]
mod pusher_socket;

use std::time::{Duration, Instant};

use client::publish::RestClient;
use futures_util::StreamExt;
use protocol::Secret;
use tokio_tungstenite::tungstenite::Message;

use pusher_socket::{stamp, subscriber};

/// Events sent (and awaited) before the schedule starts: they open the HTTP connection and
/// warm both ends; no subscriber times them.
const WARM_UP: u64 = 20;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_else(|| usage());
    let num = |i: usize| arg(i).parse::<f64>().unwrap_or_else(|_| usage());
    let run = Run {
        addr: arg(0),
        app_id: arg(1),
        key: arg(2),
        secret: arg(3),
        subscribers: num(4) as usize,
        rate: num(5),
        seconds: num(6),
    };
    if run.subscribers == 0 || run.rate <= 0.0 || run.seconds <= 0.0 {
        usage();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(pace(run));
}

fn usage() -> ! {
    eprintln!("usage: pace HOST:PORT APP_ID KEY SECRET SUBSCRIBERS RATE SECONDS");
    std::process::exit(2)
}

struct Run {
    addr: String,
    app_id: String,
    key: String,
    secret: String,
    subscribers: usize,
    rate: f64,
    seconds: f64,
}

struct Heard {
    /// Latency of every timed event, in microseconds.
    latencies_us: Vec<u32>,
    closed: Option<String>,
}

async fn pace(run: Run) {
    let origin = Instant::now();
    let events = (run.rate * run.seconds).round().max(1.0) as u64;
    let mut subs = Vec::with_capacity(run.subscribers);
    for i in 0..run.subscribers {
        match subscriber(&run.addr, &run.key, "pace").await {
            Ok(ws) => subs.push(ws),
            Err(e) => {
                eprintln!("subscriber {i}: {e}");
                std::process::exit(1);
            }
        }
    }
    let tasks: Vec<_> = subs
        .into_iter()
        .map(|mut ws| {
            tokio::spawn(async move {
                let mut heard = Heard {
                    latencies_us: Vec::with_capacity(events as usize),
                    closed: None,
                };
                while (heard.latencies_us.len() as u64) < events {
                    match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
                        Ok(Some(Ok(Message::Text(t)))) => {
                            if let Some(due) = stamp(&t) {
                                let now = origin.elapsed().as_nanos() as u64;
                                let us = now.saturating_sub(due) / 1000;
                                heard
                                    .latencies_us
                                    .push(u32::try_from(us).unwrap_or(u32::MAX));
                            }
                        }
                        Ok(Some(Ok(Message::Close(c)))) => {
                            heard.closed = Some(c.map_or("close".into(), |c| c.code.to_string()));
                            break;
                        }
                        Ok(Some(Ok(_))) => {}
                        Ok(Some(Err(e))) => {
                            heard.closed = Some(e.to_string());
                            break;
                        }
                        Ok(None) => {
                            heard.closed = Some("end of stream".into());
                            break;
                        }
                        Err(_) => break, // nothing for 5 s: the rest is missing
                    }
                }
                heard
            })
        })
        .collect();

    let rest = RestClient::new(
        format!("http://{}", run.addr),
        &run.app_id,
        &run.key,
        Secret::new(run.secret.clone()),
    );
    let rate = run.rate;
    let publisher = std::thread::spawn(move || publish(rest, origin, rate, events));
    let (lags_us, failed) = publisher.join().expect("the publisher thread");
    let mut heard = Vec::with_capacity(tasks.len());
    for t in tasks {
        heard.push(t.await.expect("a subscriber task"));
    }
    report(&run, events, failed, lags_us, heard);
}

/// Publishes `events` events on the open-loop schedule, on this thread with its own
/// single-threaded runtime: it sleeps with `std::thread::sleep` (nanosecond timer) between
/// requests, when it has nothing else to do. Returns each event's send lag (µs) and the
/// number of requests that failed.
fn publish(rest: RestClient, origin: Instant, rate: f64, events: u64) -> (Vec<u32>, u64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let channels = ["pace".to_owned()];
    let mut failed = 0;
    for i in 0..WARM_UP {
        let data = format!(r#"{{"warm_up":{i}}}"#);
        if rt
            .block_on(rest.trigger(&channels, "warm_up", &data, None, None))
            .is_err()
        {
            failed += 1;
        }
    }
    let period = Duration::from_secs_f64(1.0 / rate);
    let start = Instant::now() + Duration::from_millis(50);
    let mut lags = Vec::with_capacity(events as usize);
    for i in 0..events {
        let due = start + period.mul_f64(i as f64);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        let lag = due.elapsed();
        lags.push(u32::try_from(lag.as_micros()).unwrap_or(u32::MAX));
        let data = format!(
            r#"{{"name":"S{}","price":{i},"t":{}}}"#,
            i % 500,
            (due - origin).as_nanos()
        );
        if let Err(e) = rt.block_on(rest.trigger(&channels, "update_event", &data, None, None)) {
            if failed < 3 {
                eprintln!("publish: {e}");
            }
            failed += 1;
        }
    }
    (lags, failed)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1)))
        .map_or(0.0, |&us| f64::from(us) / 1000.0)
}

fn report(run: &Run, events: u64, failed: u64, mut lags: Vec<u32>, heard: Vec<Heard>) {
    let disconnected = heard.iter().filter(|h| h.closed.is_some()).count();
    let mut lat: Vec<u32> = heard.into_iter().flat_map(|h| h.latencies_us).collect();
    lat.sort_unstable();
    lags.sort_unstable();
    println!(
        "{}",
        serde_json::json!({
            "subscribers": run.subscribers,
            "rate": run.rate,
            "events": events,
            "publish_failed": failed,
            "deliveries": lat.len(),
            "expected": events * run.subscribers as u64,
            "disconnected": disconnected,
            "p50_ms": percentile(&lat, 0.50),
            "p99_ms": percentile(&lat, 0.99),
            "max_ms": lat.last().map_or(0.0, |&us| f64::from(us) / 1000.0),
            "send_lag_p99_ms": percentile(&lags, 0.99),
            "send_lag_max_ms": lags.last().map_or(0.0, |&us| f64::from(us) / 1000.0),
        })
    );
}
