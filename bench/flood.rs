//! Ingest flood for `bench/ingest.sh` (the full harness is issue 6).
//!
//! `flood serve N`: a minimal Pusher peer on 127.0.0.1 that prints its port, and floods each
//! connection with N pre-encoded `update_event` frames right after the subscribe.
//! `flood read PORT N`: the baseline reader, which counts raw frames without decoding them.

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

const ESTABLISHED: &str = r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"1.1\",\"activity_timeout\":120}"}"#;
const SUBSCRIBED: &str =
    r#"{"event":"pusher_internal:subscription_succeeded","channel":"stock_ticker","data":"{}"}"#;
const SUBSCRIBE: &str = r#"{"event":"pusher:subscribe","data":{"channel":"stock_ticker"}}"#;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("serve") => serve(args[2].parse().expect("N")).await,
        Some("read") => read(args[2].parse().expect("PORT"), args[3].parse().expect("N")).await,
        _ => eprintln!("usage: flood serve N | flood read PORT N"),
    }
}

async fn serve(n: usize) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("{}", listener.local_addr().unwrap().port());
    let names = ["ACME", "GLOBEX", "INITECH", "UMBRELLA", "HOOLI"];
    let frames: Vec<Message> = (0..1000)
        .map(|i| {
            Message::text(format!(
                r#"{{"event":"update_event","channel":"stock_ticker","data":"{{\"name\":\"{}\",\"price\":{}.{:02}}}"}}"#,
                names[i % 5],
                10 + i % 90,
                i % 100
            ))
        })
        .collect();
    while let Ok((tcp, _)) = listener.accept().await {
        let frames = frames.clone();
        tokio::spawn(async move {
            let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                return;
            };
            let _ = ws.send(Message::text(ESTABLISHED)).await;
            let _ = ws.next().await; // the subscribe
            let _ = ws.send(Message::text(SUBSCRIBED)).await;
            for i in 0..n {
                if ws.feed(frames[i % frames.len()].clone()).await.is_err() {
                    return;
                }
                if i % 256 == 0 && ws.flush().await.is_err() {
                    return;
                }
            }
            let _ = ws.flush().await;
            while let Some(Ok(_)) = ws.next().await {}
        });
    }
}

async fn read(port: u16, n: usize) {
    let url = format!("ws://127.0.0.1:{port}/app/k");
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let _ = ws.next().await;
    ws.send(Message::text(SUBSCRIBE)).await.unwrap();
    let mut frames = 0;
    while let Some(Ok(m)) = ws.next().await {
        if m.is_text() {
            frames += 1;
            // subscription_succeeded, then the N events.
            if frames == n + 1 {
                break;
            }
        }
    }
}
