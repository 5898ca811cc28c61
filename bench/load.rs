//! The server load tool for `bench/run.sh`: many subscribers in one process, so that the
//! load tool is not the bottleneck, against any Pusher server (tickertape serve, sockudo).
//!
//! `load fanout HOST:PORT APP_ID KEY SECRET SUBSCRIBERS EVENTS PUBLISHERS`
//!   opens SUBSCRIBERS WebSockets on channel `bench`, then publishes EVENTS events with
//!   `batch_events` (10 per request) from PUBLISHERS concurrent HTTP connections. A window
//!   keeps at most 50 000 deliveries (20 to 1000 events) in flight, so the figure is the rate the server
//!   sustains, not how deep its queues are. Each event carries its send time; subscribers
//!   count every event and time a sample. Prints one JSON line.
//! `load idle HOST:PORT KEY N`
//!   opens N WebSockets, each subscribed to its own channel, prints `ready`, and holds them
//!   until stdin closes.

// A benchmark tool: its report is what it prints, and it ends with its status.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

#[path = "pusher_socket.rs"]
mod pusher_socket;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use client::publish::{BatchEvent, RestClient};
use futures_util::StreamExt;
use protocol::Secret;
use tokio::io::AsyncBufReadExt;
use tokio_tungstenite::tungstenite::Message;

use pusher_socket::{stamp, subscriber};

/// Deliveries in flight (events published but not yet counted, times subscribers) before
/// the publishers wait: between 20 and 1000 events, so the load tool measures what a
/// server sustains rather than how much it will queue.
const WINDOW: u64 = 50_000;
/// Subscribers whose every event is timed (the others only count).
const TIMED: usize = 50;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_else(|| usage());
    let num = |i: usize| arg(i).parse::<u64>().unwrap_or_else(|_| usage());
    match arg(0).as_str() {
        "fanout" => {
            fanout(
                &arg(1),
                &arg(2),
                &arg(3),
                &arg(4),
                num(5) as usize,
                num(6),
                num(7) as usize,
            )
            .await
        }
        "idle" => idle(&arg(1), &arg(2), num(3) as usize).await,
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: load fanout HOST:PORT APP_ID KEY SECRET SUBSCRIBERS EVENTS PUBLISHERS\n       load idle HOST:PORT KEY N"
    );
    std::process::exit(2)
}

struct Outcome {
    received: u64,
    latencies_us: Vec<u32>,
    closed: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn fanout(
    addr: &str,
    app_id: &str,
    key: &str,
    secret: &str,
    subscribers: usize,
    events: u64,
    publishers: usize,
) {
    let origin = Instant::now();
    let delivered = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for i in 0..subscribers {
        let mut ws = match subscriber(addr, key, "bench").await {
            Ok(ws) => ws,
            Err(e) => {
                eprintln!("subscriber {i}: {e}");
                std::process::exit(1);
            }
        };
        let delivered = delivered.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Outcome {
                received: 0,
                latencies_us: Vec::new(),
                closed: None,
            };
            while out.received < events {
                match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
                    Ok(Some(Ok(Message::Text(t)))) => {
                        if let Some(sent) = stamp(&t) {
                            out.received += 1;
                            delivered.fetch_add(1, Ordering::Relaxed);
                            if i < TIMED {
                                let now = origin.elapsed().as_nanos() as u64;
                                out.latencies_us
                                    .push((now.saturating_sub(sent) / 1000) as u32);
                            }
                        }
                    }
                    Ok(Some(Ok(Message::Close(c)))) => {
                        out.closed = Some(c.map_or("close".into(), |c| c.code.to_string()));
                        break;
                    }
                    Ok(Some(Ok(_))) => {}
                    Ok(Some(Err(e))) => {
                        out.closed = Some(e.to_string());
                        break;
                    }
                    Ok(None) => {
                        out.closed = Some("end of stream".into());
                        break;
                    }
                    Err(_) => break, // silent: nothing for 10 s
                }
            }
            out
        }));
    }

    let rest = RestClient::new(
        format!("http://{addr}"),
        app_id,
        key,
        Secret::new(secret.to_owned()),
    );
    let next = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let window = (WINDOW / subscribers as u64).clamp(20, 1000);
    let start = Instant::now();
    let mut pubs = Vec::new();
    for _ in 0..publishers {
        let (rest, next, failed, delivered) = (
            rest.clone(),
            next.clone(),
            failed.clone(),
            delivered.clone(),
        );
        pubs.push(tokio::spawn(async move {
            loop {
                let first = next.fetch_add(10, Ordering::Relaxed);
                if first >= events {
                    break;
                }
                // Closed loop: wait while too much is in flight.
                while first * subscribers as u64
                    > delivered.load(Ordering::Relaxed) + window * subscribers as u64
                {
                    tokio::time::sleep(Duration::from_micros(200)).await;
                }
                let batch: Vec<BatchEvent> = (first..(first + 10).min(events))
                    .map(|seq| BatchEvent {
                        channel: "bench".into(),
                        name: "update_event".into(),
                        data: format!(
                            r#"{{"name":"S{}","price":{seq},"t":{}}}"#,
                            seq % 500,
                            origin.elapsed().as_nanos()
                        ),
                        socket_id: None,
                    })
                    .collect();
                if let Err(e) = rest.batch(&batch).await {
                    eprintln!("publish: {e}");
                    failed.fetch_add(batch.len() as u64, Ordering::Relaxed);
                }
            }
        }));
    }
    for p in pubs {
        let _ = p.await;
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.expect("subscriber task"));
    }
    let seconds = start.elapsed().as_secs_f64();
    report(
        subscribers,
        events,
        failed.load(Ordering::Relaxed),
        seconds,
        outcomes,
    );
}

fn report(subscribers: usize, events: u64, failed: u64, seconds: f64, outcomes: Vec<Outcome>) {
    let received: u64 = outcomes.iter().map(|o| o.received).sum();
    let disconnected = outcomes.iter().filter(|o| o.closed.is_some()).count();
    // Silent loss: a subscriber short of events that was never told it was disconnected.
    let silent: u64 = outcomes
        .iter()
        .filter(|o| o.closed.is_none())
        .map(|o| events.saturating_sub(o.received))
        .sum();
    let mut lat: Vec<u32> = outcomes.into_iter().flat_map(|o| o.latencies_us).collect();
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |&us| us as f64 / 1000.0)
    };
    println!(
        "{}",
        serde_json::json!({
            "subscribers": subscribers,
            "events": events,
            "publish_failed": failed,
            "deliveries": received,
            "expected": events * subscribers as u64,
            "seconds": seconds,
            "deliveries_per_s": received as f64 / seconds,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "disconnected": disconnected,
            "silent_loss": silent,
        })
    );
}

async fn idle(addr: &str, key: &str, n: usize) {
    let mut held = Vec::with_capacity(n);
    for i in 0..n {
        match subscriber(addr, key, &format!("idle-{i}")).await {
            Ok(ws) => held.push(ws),
            Err(e) => {
                eprintln!("connection {i}: {e}");
                std::process::exit(1);
            }
        }
    }
    println!("ready {}", held.len());
    // Hold until stdin closes; answer nothing (the activity timeout is far longer).
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(_)) = lines.next_line().await {}
    drop(held);
}
