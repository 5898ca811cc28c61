//! The flood source for `bench/run.sh` (P1–P3) and `bench/ingest.sh`.
//!
//! `flood serve N [KEYS] [RATE]`: a minimal Pusher peer on 127.0.0.1 that prints its port,
//! and floods each connection with N pre-encoded `update_event` frames `{name, price}` right
//! after the subscribe: KEYS distinct names (5), at RATE events per second (0: as fast as
//! it can: then the frames are encoded once, at start, and written with `write_all` of
//! whole cycles of them, so that the source is never what a reader waits for).
//! `flood read PORT N`: the baseline reader, which counts raw frames without decoding them.

// A benchmark tool: its report is what it prints, and it ends with its status.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

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
        Some("serve") => {
            let opt = |i: usize, default: usize| {
                args.get(i)
                    .map_or(default, |a| a.parse().expect("a number"))
            };
            serve(args[2].parse().expect("N"), opt(3, 5), opt(4, 0)).await
        }
        Some("read") => read(args[2].parse().expect("PORT"), args[3].parse().expect("N")).await,
        _ => eprintln!("usage: flood serve N [KEYS] [RATE] | flood read PORT N"),
    }
}

async fn serve(n: usize, keys: usize, rate: usize) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("{}", listener.local_addr().unwrap().port());
    let names = ["ACME", "GLOBEX", "INITECH", "UMBRELLA", "HOOLI"];
    let name = |i: usize| match keys {
        0..=5 => names[i % keys.max(1)].to_owned(),
        _ => format!("K{:03}", i % keys),
    };
    let frames: Vec<Message> = (0..keys.max(1) * 200)
        .map(|i| {
            Message::text(format!(
                r#"{{"event":"update_event","channel":"stock_ticker","data":"{{\"name\":\"{}\",\"price\":{}.{:02}}}"}}"#,
                name(i),
                10 + i % 90,
                i % 100
            ))
        })
        .collect();
    // Server frames are not masked: a header and the payload. One cycle of the frames is
    // encoded once, with where each frame starts, and written as often as N needs.
    let mut blob = Vec::new();
    let mut starts = Vec::new();
    for frame in &frames {
        starts.push(blob.len());
        let payload = frame.clone().into_data();
        blob.push(0x81);
        match payload.len() {
            len @ 0..=125 => blob.push(len as u8),
            len @ 126..=65535 => {
                blob.push(126);
                blob.extend_from_slice(&(len as u16).to_be_bytes());
            }
            len => {
                blob.push(127);
                blob.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        blob.extend_from_slice(&payload);
    }
    starts.push(blob.len());
    let encoded = std::sync::Arc::new((blob, starts));
    while let Ok((tcp, _)) = listener.accept().await {
        let frames = frames.clone();
        let encoded = encoded.clone();
        tokio::spawn(async move {
            let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                return;
            };
            let _ = ws.send(Message::text(ESTABLISHED)).await;
            let _ = ws.next().await; // the subscribe
            let _ = ws.send(Message::text(SUBSCRIBED)).await;
            if rate == 0 {
                use tokio::io::AsyncWriteExt;
                // tungstenite has flushed everything: the socket is ours to write.
                let tcp = ws.get_mut();
                let (blob, starts) = &*encoded;
                let cycle = starts.len() - 1;
                for _ in 0..n / cycle {
                    if tcp.write_all(blob).await.is_err() {
                        return;
                    }
                }
                if tcp.write_all(&blob[..starts[n % cycle]]).await.is_err() {
                    return;
                }
                let _ = tcp.write_all(&[0x88, 0x00]).await; // a close, for websocat
                let _ = tcp.flush().await;
                while let Some(Ok(_)) = ws.next().await {}
                return;
            }
            // At RATE, a slice every millisecond; else batches of 256.
            let per_tick = if rate == 0 { 256 } else { rate.div_ceil(1000) };
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(1));
            for i in 0..n {
                if ws.feed(frames[i % frames.len()].clone()).await.is_err() {
                    return;
                }
                if i % per_tick == 0 {
                    if ws.flush().await.is_err() {
                        return;
                    }
                    if rate > 0 {
                        tick.tick().await;
                    }
                }
            }
            let _ = ws.flush().await;
            // The end of the flood: a close, so that readers which do not count (websocat) end.
            let _ = ws.close(None).await;
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
