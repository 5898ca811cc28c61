//! `serve --log` and `--log-json`, the self-hosted Debug Console: one delivery line per API
//! publish and client event, publishes to no one marked with "did you mean", 4100 skips
//! counted, and a stderr nobody reads never holding up delivery.

use std::time::Duration;

use crate::support::server::{Server, flood};
use client::publish::BatchEvent;
use protocol::frame::Event;
use protocol::{ClientMessage, Data, ServerMessage};
use serde_json::{Value, json};

fn channels(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

#[tokio::test]
async fn a_publish_logs_its_channel_event_size_and_recipients() {
    let server = Server::start(&["--log"]).await;
    let _a = server.subscriber("stock_ticker").await;
    let _b = server.subscriber("stock_ticker").await;
    server
        .rest()
        .trigger(
            &channels(&["stock_ticker"]),
            "price",
            r#"{"p":1}"#,
            None,
            None,
        )
        .await
        .unwrap();
    let line = server
        .stderr_line_where(|l| l.contains("API MESSAGE"))
        .await;
    assert!(
        line.contains("app=1 channel=stock_ticker event=price bytes=7 recipients=2 subscribers=2"),
        "{line}"
    );
    assert!(
        !line.contains("NO SUBSCRIBERS") && !line.contains("too_slow"),
        "{line}"
    );
    // Connections and subscriptions keep their lines.
    let stderr = server.stderr();
    let count = |kind: &str| stderr.lines().filter(|l| l.contains(kind)).count();
    assert_eq!(count(" CONNECTION "), 2, "{stderr}");
    assert_eq!(count(" SUBSCRIBED "), 2, "{stderr}");
}

#[tokio::test]
async fn a_client_event_logs_whom_it_reached() {
    let server = Server::start(&["--log"]).await;
    let _other = server.subscriber("private-chat").await;
    let (mut sender, id) = server.raw().await;
    sender.subscribe(&id, "private-chat", None).await;
    sender
        .send(&ClientMessage::Event(Event {
            event: "client-typing".into(),
            channel: Some("private-chat".into()),
            data: Data::Json(json!({"who": "me"})),
            user_id: None,
        }))
        .await;
    let line = server
        .stderr_line_where(|l| l.contains("CLIENT EVENT"))
        .await;
    assert!(
        line.contains(&format!(
            "socket_id={id} channel=private-chat event=client-typing bytes=12 recipients=1"
        )),
        "{line}"
    );
}

#[tokio::test]
async fn log_json_writes_one_object_per_line_with_the_delivery_figures() {
    let server = Server::start(&["--log-json"]).await;
    let _a = server.subscriber("a").await;
    let rest = server.rest();
    let event = |channel: &str, name: &str| BatchEvent {
        channel: channel.into(),
        name: name.into(),
        data: "12345".into(),
        socket_id: None,
    };
    rest.batch(&[event("a", "one"), event("b", "two")])
        .await
        .unwrap();
    rest.trigger(&channels(&["a", "c"]), "three", "xy", None, None)
        .await
        .unwrap();
    server
        .stderr_line_where(|l| l.contains(r#""channel":"c""#))
        .await;
    let stderr = server.stderr();
    let objects: Vec<Value> = stderr
        .lines()
        .filter(|l| !l.starts_with("tickertape:"))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect();
    let published: Vec<_> = objects
        .iter()
        .filter(|o| o["kind"] == "api_message")
        .map(|o| {
            let mut o = o.clone();
            assert!(o["time"].as_str().is_some_and(|t| t.ends_with('Z')), "{o}");
            o.as_object_mut().unwrap().remove("time");
            o
        })
        .collect();
    let line = |channel: &str, event: &str, bytes: u64, recipients: u64| {
        json!({
            "kind": "api_message", "app": "1", "channel": channel, "event": event,
            "bytes": bytes, "recipients": recipients, "subscribers": recipients,
            "excluded": null, "too_slow": 0, "no_subscribers": recipients == 0,
            "suggestions": [],
        })
    };
    assert_eq!(
        published,
        [
            line("a", "one", 5, 1),
            line("b", "two", 5, 0),
            line("a", "three", 2, 1),
            line("c", "three", 2, 0),
        ],
        "one line per event and channel: {stderr}"
    );
    let subscribed = objects.iter().find(|o| o["kind"] == "subscribed").unwrap();
    assert_eq!(subscribed["channel"], "a", "{subscribed}");
    assert!(subscribed["socket_id"].as_str().is_some(), "{subscribed}");
}

#[tokio::test]
async fn the_excluded_socket_is_shown_and_not_counted_as_a_recipient() {
    let server = Server::start(&["--log"]).await;
    let (mut a, a_id) = server.raw().await;
    a.subscribe(&a_id, "room", None).await;
    let _b = server.subscriber("room").await;
    server
        .rest()
        .trigger(&channels(&["room"]), "said", "hi", Some(&a_id), None)
        .await
        .unwrap();
    let line = server
        .stderr_line_where(|l| l.contains("API MESSAGE"))
        .await;
    assert!(
        line.contains(&format!("recipients=1 subscribers=2 excluded={a_id}")),
        "{line}"
    );
}

#[tokio::test]
async fn a_publish_to_no_one_is_marked_with_the_occupied_channel_it_was_meant_for() {
    let server = Server::start(&["--log"]).await;
    let _s = server.subscriber("stock_ticker").await;
    server
        .rest()
        .trigger(&channels(&["stock-ticker"]), "price", "1", None, None)
        .await
        .unwrap();
    let line = server
        .stderr_line_where(|l| l.contains("API MESSAGE"))
        .await;
    assert!(
        line.contains("channel=stock-ticker event=price bytes=1 recipients=0 subscribers=0"),
        "{line}"
    );
    assert!(
        line.contains("NO SUBSCRIBERS: did you mean stock_ticker?"),
        "{line}"
    );
}

#[tokio::test]
async fn subscribers_skipped_as_too_slow_are_counted() {
    let server = Server::start(&["--log", "--send-queue-bytes", "200000"]).await;
    // This subscriber never reads: its queue fills, and it is closed with 4100.
    let (mut slow, slow_id) = server.raw().await;
    slow.subscribe(&slow_id, "big", None).await;
    flood(&server.rest(), "big", 100, 10_000).await;
    let line = server
        .stderr_line_where(|l| l.contains("channel=big") && l.contains("too_slow="))
        .await;
    assert!(line.contains("subscribers=1 too_slow=1"), "{line}");
}

#[tokio::test]
async fn a_stderr_nobody_reads_does_not_hold_up_delivery_and_drops_are_counted() {
    let server = Server::start(&["--log", "--log-queue-lines", "100"]).await;
    let mut sub = server.subscriber("ticks").await;
    server
        .stderr_line_where(|l| l.contains(" SUBSCRIBED "))
        .await;
    server.proc.pause_stderr();
    // 2000 lines of about 100 bytes: far more than the pipe and the queue hold.
    tokio::time::timeout(
        Duration::from_secs(10),
        flood(&server.rest(), "ticks", 200, 10),
    )
    .await
    .expect("publishing stalled behind stderr");
    for i in 0..2000 {
        match sub.recv().await {
            ServerMessage::Event(ev) => assert_eq!(ev.event, format!("e{i}")),
            other => panic!("{other:?}"),
        }
    }
    server.proc.resume_stderr();
    server
        .stderr_line_where(|l| l.contains("log lines dropped"))
        .await;
    let mut server = server;
    assert!(
        server
            .proc
            .terminate(Duration::from_secs(10))
            .await
            .success()
    );
    let stderr = server.stderr();
    let logged = stderr.lines().filter(|l| l.contains("API MESSAGE")).count();
    let dropped: usize = stderr
        .lines()
        .filter_map(|l| {
            l.split("… ")
                .nth(1)?
                .split(' ')
                .next()?
                .parse::<usize>()
                .ok()
        })
        .sum();
    assert!(dropped > 0, "nothing was dropped: {stderr}");
    assert_eq!(logged + dropped, 2000, "every line is written or counted");
}

/// What one stranger can make the log and its "did you mean" cost.
mod budgets {
    use std::time::{Duration, Instant};

    use futures_util::{SinkExt, StreamExt};
    use protocol::{ClientMessage, ServerMessage};
    use tokio_tungstenite::tungstenite::Message;

    use crate::support::server::{KEY, Server, raw_from};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn refused_subscribes_are_rate_limited_and_their_log_lines_coalesced() {
        let server = Server::start(&["--log"]).await;
        let before = server.stderr().len();
        let (raw, _) = server.raw().await;
        let (mut sink, mut stream) = raw.ws.split();
        // A private channel with a wrong signature, again and again, as fast as the socket goes;
        // the answers are read, so the socket is not closed as too slow.
        let started = Instant::now();
        let writer = tokio::spawn(async move {
            let mut n = 0u64;
            while started.elapsed() < Duration::from_secs(3) {
                let msg = ClientMessage::Subscribe {
                    channel: format!("private-x{}", n % 50),
                    auth: Some(format!("{KEY}:{}", "0".repeat(64))),
                    channel_data: None,
                };
                n += 1;
                if sink.send(Message::text(msg.encode())).await.is_err() {
                    break;
                }
            }
            n
        });
        let reader = tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
        let sent = writer.await.unwrap();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        reader.abort();
        let stderr = server.stderr();
        let written = stderr.len() - before;
        assert!(
            written < 1_000_000,
            "{sent} refused subscribes wrote {written} bytes of log"
        );
        assert!(
            stderr.contains("more like this"),
            "no coalesced line after {sent} refused subscribes"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn did_you_mean_over_many_long_names_never_slows_other_publishes() {
        let server = Server::start(&["--log"]).await;
        // 10 000 occupied channels of 190 characters, 1000 from each of 10 addresses.
        let name = |n: usize| format!("{n:0>190}");
        let mut attackers = Vec::new();
        for a in 0..10u8 {
            let (mut raw, _) = raw_from([127, 0, 0, 10 + a], server.addr)
                .await
                .expect("a socket");
            for c in 0..1000 {
                let channel = name(usize::from(a) * 1000 + c);
                raw.send(&ClientMessage::Subscribe {
                    channel,
                    auth: None,
                    channel_data: None,
                })
                .await;
            }
            let mut ok = 0;
            while ok < 1000 {
                if let ServerMessage::SubscriptionSucceeded { .. } = raw.recv().await {
                    ok += 1;
                }
            }
            attackers.push(raw);
        }
        // Publishes to missing long names, four at a time, make the log look for similar names.
        let rest = server.rest();
        let mut misses = Vec::new();
        for p in 0..4 {
            let rest = rest.clone();
            misses.push(tokio::spawn(async move {
                for i in 0.. {
                    let channel = format!("{:9>190}", p * 1_000_000 + i);
                    let _ = rest.trigger(&[channel], "e", "{}", None, None).await;
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        // Meanwhile an unrelated publish reaches its subscriber at once.
        let mut honest = server.subscriber("stock_ticker").await;
        let mut worst = Duration::ZERO;
        for i in 0..10 {
            let t0 = Instant::now();
            rest.trigger(
                &["stock_ticker".into()],
                "tick",
                &format!("{i}"),
                None,
                None,
            )
            .await
            .unwrap();
            assert!(matches!(honest.recv().await, ServerMessage::Event(_)));
            worst = worst.max(t0.elapsed());
        }
        for m in misses {
            m.abort();
        }
        assert!(
            worst < Duration::from_millis(500),
            "an unrelated publish took {worst:?} while publishes to missing names were looked up"
        );
    }
}
