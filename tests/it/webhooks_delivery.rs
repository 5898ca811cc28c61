//! How `serve` delivers webhooks: batches, retries, a receiver that fails, is dead or is
//! slow, a full queue, and shutdown. The real binary and a real HTTP receiver on 127.0.0.1.

use std::time::{Duration, Instant};

use crate::support::metrics;
use crate::support::webhook_sink::{Answer, Sink, names, pair, serve_to, subscribe};
use protocol::{Data, ServerMessage};
use serde_json::json;

#[tokio::test]
async fn events_are_batched_up_to_a_hundred_a_request() {
    let mut sink = Sink::start().await;
    let server = serve_to(&sink, &[]).await;
    let (mut a, _) = server.raw().await;
    for n in 0..150 {
        a.send(&subscribe(&format!("c{n}"))).await;
    }
    let mut sizes = Vec::new();
    let mut total = 0;
    while total < 150 {
        let n = sink.next().await.events().len();
        sizes.push(n);
        total += n;
    }
    assert_eq!(total, 150);
    assert!(sizes.iter().all(|&n| n <= 100), "{sizes:?}");
    assert!(
        sizes.len() <= 4,
        "150 events in {} requests: {sizes:?}",
        sizes.len()
    );
    server.terminate().await;
}

#[tokio::test]
async fn a_failed_request_is_retried_with_the_same_body_until_it_succeeds() {
    let mut sink = Sink::scripted(vec![Answer::Status(500), Answer::Status(503)]).await;
    let mut server = serve_to(&sink, &["--log", "--metrics", "127.0.0.1:0"]).await;
    let addr = metrics::addr(&mut server.proc).await;
    let _sub = server.subscriber("retried").await;
    let tries = [sink.next().await, sink.next().await, sink.next().await];
    for t in &tries[1..] {
        assert_eq!(t.body, tries[0].body);
        assert_eq!(
            t.header("x-pusher-signature"),
            tries[0].header("x-pusher-signature")
        );
    }
    let page = metrics::scrape_until(addr, "the webhook sent", |p| {
        p.value(r#"tickertape_serve_webhooks_sent_total{app_id="1"}"#) == Some(1.0)
    })
    .await;
    assert_eq!(
        page.get(r#"tickertape_serve_webhook_retries_total{app_id="1"}"#),
        2.0
    );
    assert_eq!(
        page.get(r#"tickertape_serve_webhooks_failed_total{app_id="1"}"#),
        0.0
    );
    assert_eq!(
        page.get(r#"tickertape_serve_webhook_events_sent_total{app_id="1"}"#),
        1.0
    );
    page.promtool_check();
    let log = server.stderr();
    assert_eq!(log.matches("WEBHOOK RETRY").count(), 2, "{log}");
    assert!(log.contains("answered 500"), "{log}");
    assert!(
        log.contains("WEBHOOK SENT") && log.contains("1 event (channel_occupied) 200"),
        "{log}"
    );
    server.terminate().await;
}

#[tokio::test]
async fn a_batch_is_dropped_and_counted_once_its_retry_time_runs_out() {
    let sink = Sink::scripted(Vec::new()).await;
    sink.always(Answer::Status(500));
    let mut server = serve_to(
        &sink,
        &[
            "--log",
            "--metrics",
            "127.0.0.1:0",
            "--webhook-retry-for",
            "1s",
        ],
    )
    .await;
    let addr = metrics::addr(&mut server.proc).await;
    let _sub = server.subscriber("doomed").await;
    let page = metrics::scrape_until(addr, "the webhook given up", |p| {
        p.value(r#"tickertape_serve_webhooks_failed_total{app_id="1"}"#) == Some(1.0)
    })
    .await;
    assert_eq!(
        page.get(r#"tickertape_serve_webhook_events_dropped_total{app_id="1",reason="failed"}"#),
        1.0
    );
    assert_eq!(
        page.get(r#"tickertape_serve_webhooks_sent_total{app_id="1"}"#),
        0.0
    );
    let log = server.stderr();
    assert!(
        log.contains("WEBHOOK FAILED") && log.contains("dropped after 2 attempts"),
        "{log}"
    );
    server.terminate().await;
}

#[tokio::test]
async fn a_receiver_that_never_answers_does_not_delay_websocket_delivery() {
    let sink = Sink::never().await;
    let server = serve_to(&sink, &["--webhook-queue", "50"]).await;
    let mut sub = server.subscriber("ticks").await;
    let (mut busy, _) = server.raw().await;
    let rest = server.rest();
    let started = Instant::now();
    for n in 0..20 {
        // Webhook events keep coming (and queueing, then dropping) while events flow.
        for m in 0..10 {
            busy.send(&subscribe(&format!("busy-{n}-{m}"))).await;
        }
        rest.trigger(&["ticks".to_owned()], "tick", &n.to_string(), None, None)
            .await
            .unwrap();
        match sub.recv().await {
            ServerMessage::Event(ev) => assert_eq!(ev.data, Data::Json(json!(n))),
            other => panic!("{other:?}"),
        }
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "20 events took {took:?}");
    server.terminate().await;
}

#[tokio::test]
async fn a_full_queue_drops_events_counts_them_and_says_so_once_a_second() {
    let sink = Sink::never().await;
    // One kind only: the queue's whole room is its share.
    let mut server = serve_to(
        &sink,
        &[
            "--log",
            "--metrics",
            "127.0.0.1:0",
            "--webhook-queue",
            "5",
            "--webhook-events",
            "channel_occupied",
        ],
    )
    .await;
    let addr = metrics::addr(&mut server.proc).await;
    let (mut a, _) = server.raw().await;
    // Four bursts over 0.45 s: drops keep coming, and are said at most once a second.
    for burst in 0..4 {
        for n in 0..10 {
            a.send(&subscribe(&format!("c{burst}-{n}"))).await;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    server.wait_subscribers("c3-9", 1).await;
    let page = metrics::scrape(addr).await;
    let dropped = page
        .get(r#"tickertape_serve_webhook_events_dropped_total{app_id="1",reason="queue_full"}"#);
    // At most one batch in flight and five waiting: the rest is dropped.
    assert!((30.0..=35.0).contains(&dropped), "{dropped} dropped");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let log = server.stderr();
    let lines = log.matches("WEBHOOK DROPPED").count();
    assert!((1..=2).contains(&lines), "{log}");
    assert!(log.contains("the queue is full"), "{log}");
    server.terminate().await;
}

#[tokio::test]
async fn shutdown_sends_the_vacated_channels_and_counts_what_it_cannot_send() {
    let mut sink = Sink::start().await;
    let server = serve_to(&sink, &[]).await;
    let _sub = server.subscriber("closing").await;
    let occupied = sink.next().await;
    assert_eq!(
        names(&occupied.events()),
        [pair("channel_occupied", "closing")]
    );
    server.terminate().await;
    let events = sink.events_until("channel_vacated", "closing").await;
    assert_eq!(names(&events), [pair("channel_vacated", "closing")]);

    // A receiver that never answers holds the exit up for the flush deadline only.
    let dead = Sink::never().await;
    let server = serve_to(&dead, &["--log"]).await;
    let _sub = server.subscriber("stuck").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut proc = server.proc;
    let started = Instant::now();
    let status = proc.terminate(Duration::from_secs(10)).await;
    assert!(status.success(), "{status:?}");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
    let log = proc.stderr();
    assert!(
        log.contains("WEBHOOK LOST") && log.contains("2 events not sent"),
        "{log}"
    );
}

/// Fairness of the webhook queue.
mod budgets {
    use std::time::{Duration, Instant};

    use futures_util::{SinkExt, StreamExt};
    use protocol::{ClientMessage, signature};
    use tokio_tungstenite::tungstenite::Message;

    use crate::support::server::{KEY, SECRET, raw_from};
    use crate::support::webhook_sink::{self, Answer, Sink};

    fn presence_subscribe(socket_id: &str, channel: &str, data: &str) -> ClientMessage {
        ClientMessage::Subscribe {
            channel: channel.into(),
            auth: Some(
                signature::sign_channel(KEY, SECRET, socket_id, channel, Some(data)).unwrap(),
            ),
            channel_data: Some(data.into()),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn public_channel_churn_never_crowds_out_member_webhooks() {
        let mut sink = Sink::start().await;
        // A slow receiver: the queue fills if churn can fill it.
        sink.always(Answer::After(Duration::from_millis(100)));
        let server = webhook_sink::serve_to(&sink, &["--webhook-queue", "500"]).await;
        let until = Instant::now() + Duration::from_secs(3);
        let mut churn = Vec::new();
        for c in 0..4u8 {
            let (raw, _) = raw_from([127, 0, 0, 2], server.addr)
                .await
                .expect("a socket");
            churn.push(tokio::spawn(async move {
                let (mut sink, mut stream) = raw.ws.split();
                let drain =
                    tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
                let mut n = 0u64;
                while Instant::now() < until {
                    let channel = format!("churn-{c}-{}", n % 100);
                    n += 1;
                    let sub = webhook_sink::subscribe(&channel);
                    let unsub = ClientMessage::Unsubscribe { channel };
                    for m in [&sub, &unsub] {
                        if sink.send(Message::text(m.encode())).await.is_err() {
                            drain.abort();
                            return;
                        }
                    }
                }
                drain.abort();
            }));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut members = Vec::new();
        for i in 0..20 {
            let (mut raw, id) = server.raw().await;
            let data = format!(r#"{{"user_id":"member{i}"}}"#);
            raw.send(&presence_subscribe(&id, "presence-lobby", &data))
                .await;
            members.push(raw);
        }
        for c in churn {
            let _ = c.await;
        }
        let mut added = std::collections::BTreeSet::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while added.len() < 20 && Instant::now() < deadline {
            let Some(hook) = sink.try_next(Duration::from_secs(5)).await else {
                break;
            };
            for e in hook.events() {
                if e["name"] == "member_added" {
                    added.insert(e["user_id"].as_str().unwrap_or("").to_owned());
                }
            }
        }
        assert_eq!(
            added.len(),
            20,
            "member_added webhooks delivered: {added:?}"
        );
    }
}
