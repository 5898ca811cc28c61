//! `serve --metrics` and `watch --metrics`: the real binaries scraped over 127.0.0.1. The
//! counters move with the traffic, the names are exactly the documented ones, a firehose of
//! event names stays within the label cap, and `promtool check metrics` accepts both pages.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::bin::{self, Proc};
use crate::support::metrics::{self, Page};
use crate::support::server::Server;
use protocol::ServerMessage;
use tokio::io::{AsyncBufReadExt, BufReader};

const EXIT: Duration = Duration::from_secs(10);

/// Scrapes until `done` holds (the binary counts asynchronously); panics after 5 s.
async fn scrape_until(
    addr: std::net::SocketAddr,
    what: &str,
    done: impl Fn(&Page) -> bool,
) -> Page {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let page = metrics::scrape(addr).await;
        if done(&page) {
            return page;
        }
        assert!(
            Instant::now() < deadline,
            "{what} never showed in\n{}",
            page.0
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn names(page: &Page) -> Vec<String> {
    let mut names: Vec<String> = page.families().into_iter().map(|(n, _)| n).collect();
    names.sort();
    names
}

#[tokio::test]
async fn serve_metrics_count_connections_messages_rest_calls_and_channels() {
    let mut server = Server::start(&["--metrics", "127.0.0.1:0"]).await;
    let addr = metrics::addr(&mut server.proc).await;
    let before = metrics::scrape(addr).await;
    assert_eq!(before.get(r#"tickertape_serve_connected{app_id="1"}"#), 0.0);
    assert_eq!(before.get(r#"tickertape_serve_channels{app_id="1"}"#), 0.0);

    let (mut sub, socket_id) = server.raw().await;
    sub.subscribe(&socket_id, "prices", None).await;
    server
        .rest()
        .trigger(&["prices".into()], "tick", "{\"p\":1}", None, None)
        .await
        .unwrap();
    match sub.recv().await {
        ServerMessage::Event(ev) => assert_eq!(ev.event, "tick"),
        other => panic!("{other:?}"),
    }
    let page = scrape_until(addr, "the event sent", |p| {
        p.value(r#"tickertape_serve_ws_messages_sent_total{app_id="1"}"#) >= Some(3.0)
    })
    .await;
    for (series, want) in [
        (r#"tickertape_serve_connected{app_id="1"}"#, 1.0),
        (r#"tickertape_serve_new_connections_total{app_id="1"}"#, 1.0),
        (r#"tickertape_serve_disconnections_total{app_id="1"}"#, 0.0),
        (r#"tickertape_serve_channels{app_id="1"}"#, 1.0),
        // The subscribe.
        (
            r#"tickertape_serve_ws_messages_received_total{app_id="1"}"#,
            1.0,
        ),
        // connection_established, subscription_succeeded, the subscription count, the
        // event.
        (
            r#"tickertape_serve_ws_messages_sent_total{app_id="1"}"#,
            4.0,
        ),
        (
            r#"tickertape_serve_http_calls_total{endpoint="/apps/{app_id}/events",code="200"}"#,
            1.0,
        ),
        (r#"tickertape_serve_too_slow_closes_total{app_id="1"}"#, 0.0),
        (r#"tickertape_build_info{version="0.1.0"}"#, 1.0),
    ] {
        assert_eq!(page.get(series), want, "{series} in\n{}", page.0);
    }
    for bytes in [
        r#"tickertape_serve_ws_received_bytes_total{app_id="1"}"#,
        r#"tickertape_serve_ws_sent_bytes_total{app_id="1"}"#,
        "tickertape_serve_http_received_bytes_total",
    ] {
        assert!(page.get(bytes) > 10.0, "{bytes} in\n{}", page.0);
    }
    // The trigger's answer: {}.
    assert_eq!(page.get("tickertape_serve_http_sent_bytes_total"), 2.0);
    assert_eq!(
        names(&page),
        [
            "tickertape_build_info",
            "tickertape_serve_channels",
            "tickertape_serve_connected",
            "tickertape_serve_disconnections_total",
            "tickertape_serve_http_calls_total",
            "tickertape_serve_http_received_bytes_total",
            "tickertape_serve_http_sent_bytes_total",
            "tickertape_serve_new_connections_total",
            "tickertape_serve_presence_announcements_coalesced_total",
            "tickertape_serve_presence_announcements_deferred_total",
            "tickertape_serve_too_slow_closes_total",
            "tickertape_serve_webhook_events_coalesced_total",
            "tickertape_serve_webhook_events_dropped_total",
            "tickertape_serve_webhook_events_sent_total",
            "tickertape_serve_webhook_retries_total",
            "tickertape_serve_webhooks_failed_total",
            "tickertape_serve_webhooks_sent_total",
            "tickertape_serve_ws_messages_received_total",
            "tickertape_serve_ws_messages_sent_total",
            "tickertape_serve_ws_received_bytes_total",
            "tickertape_serve_ws_sent_bytes_total",
        ]
    );
    assert!(!page.0.contains("socket_id") && !page.0.contains(&socket_id));
    page.promtool_check();

    drop(sub);
    let page = scrape_until(addr, "the disconnection", |p| {
        p.value(r#"tickertape_serve_disconnections_total{app_id="1"}"#) == Some(1.0)
    })
    .await;
    assert_eq!(page.get(r#"tickertape_serve_connected{app_id="1"}"#), 0.0);
    assert_eq!(page.get(r#"tickertape_serve_channels{app_id="1"}"#), 0.0);
    server.terminate().await;
}

#[tokio::test]
async fn a_slow_subscriber_closed_with_4100_is_counted() {
    let mut server = Server::start(&[
        "--metrics",
        "127.0.0.1:0",
        "--send-queue",
        "4",
        "--send-queue-bytes",
        "1024",
    ])
    .await;
    let addr = metrics::addr(&mut server.proc).await;
    let (mut sub, socket_id) = server.raw().await;
    sub.subscribe(&socket_id, "firehose", None).await;
    // The subscriber reads nothing while 200 events of 1 KB are sent its way.
    crate::support::server::flood(&server.rest(), "firehose", 20, 1000).await;
    scrape_until(addr, "the 4100 close", |p| {
        p.value(r#"tickertape_serve_too_slow_closes_total{app_id="1"}"#) == Some(1.0)
    })
    .await
    .promtool_check();
    server.terminate().await;
}

#[tokio::test]
async fn the_metrics_endpoint_serves_only_get_metrics() {
    let mut server = Server::start(&["--metrics", "127.0.0.1:0"]).await;
    let addr = metrics::addr(&mut server.proc).await;
    let (status, head, _) = metrics::request(addr, "POST", "/metrics").await;
    assert_eq!(status, 405, "{head}");
    assert!(head.to_ascii_lowercase().contains("allow: get"), "{head}");
    assert_eq!(metrics::request(addr, "DELETE", "/metrics").await.0, 405);
    assert_eq!(metrics::request(addr, "GET", "/").await.0, 404);
    assert_eq!(metrics::request(addr, "GET", "/metrics/x").await.0, 404);
    server.terminate().await;
}

#[tokio::test]
async fn a_metrics_address_in_use_is_a_clear_error_at_start() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let serve =
        Proc::spawn(bin::command().args(["serve", "--listen", "127.0.0.1:0", "--metrics", &addr]));
    let (code, _, stderr) = serve.finish(EXIT).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!("cannot serve metrics on {addr}")),
        "{stderr}"
    );
    let watch = Proc::spawn(bin::command().args([
        "watch",
        "c",
        "--json",
        "--key",
        "k",
        "--port",
        "1",
        "--metrics",
        &addr,
    ]));
    let (code, _, stderr) = watch.finish(EXIT).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!("cannot serve metrics on {addr}")),
        "{stderr}"
    );
}

/// `watch --json --metrics` on `channels` against our serve, with its stdout's lines.
fn watch(server: &Server, channels: &[&str], extra: &[&str]) -> Proc {
    let port = server.addr.port().to_string();
    Proc::spawn(
        bin::command()
            .arg("watch")
            .args(channels)
            .args(["--json", "--metrics", "127.0.0.1:0", "--key", "app-key"])
            .args(["--secret", "app-secret", "--app-id", "1", "--port", &port])
            .args(extra)
            .stdout(Stdio::piped()),
    )
}

async fn read_lines(child: &mut Proc, n: usize) {
    let mut lines = BufReader::new(child.child.stdout.take().unwrap()).lines();
    tokio::time::timeout(Duration::from_secs(10), async {
        for _ in 0..n {
            lines.next_line().await.unwrap().expect("stdout closed");
        }
    })
    .await
    .expect("the events did not arrive in time");
    // Keep reading so the output never blocks.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
}

#[tokio::test]
async fn watch_metrics_follow_the_connection_its_events_and_presence() {
    // Two subscriptions a connection: the third channel is refused by the server.
    let server = Server::start(&["--max-subscriptions", "2"]).await;
    let mut child = watch(
        &server,
        &["prices", "presence-room", "third"],
        &[
            "--user-id",
            "ann",
            "--ts-field",
            "ts",
            "--activity-timeout",
            "1s",
        ],
    );
    let addr = metrics::addr(&mut child).await;
    let rest = server.rest();
    scrape_until(addr, "the presence channel", |p| {
        p.value(r#"tickertape_watch_presence_members{channel="presence-room"}"#) == Some(1.0)
    })
    .await;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    for _ in 0..3 {
        rest.trigger(
            &["prices".into()],
            "tick",
            &format!("{{\"ts\":{now_ms}}}"),
            None,
            None,
        )
        .await
        .unwrap();
    }
    read_lines(&mut child, 3).await;
    // The client pings after 1 s of silence; our serve answers.
    let page = scrape_until(addr, "the ping's round trip", |p| {
        p.value("tickertape_watch_ping_rtt_seconds")
            .is_some_and(|v| v > 0.0)
    })
    .await;
    for (series, want) in [
        ("tickertape_watch_connected", 1.0),
        (
            r#"tickertape_watch_connection_state{state="connected"}"#,
            1.0,
        ),
        (
            r#"tickertape_watch_connection_state{state="connecting"}"#,
            0.0,
        ),
        (
            r#"tickertape_watch_events_total{channel="prices",event="tick"}"#,
            3.0,
        ),
        ("tickertape_watch_event_latency_seconds_count", 3.0),
        (
            r#"tickertape_watch_subscription_failures_total{cause="server"}"#,
            1.0,
        ),
        (
            r#"tickertape_watch_subscription_failures_total{cause="auth"}"#,
            0.0,
        ),
        ("tickertape_watch_dropped_events_total", 0.0),
        (
            r#"tickertape_watch_presence_members{channel="presence-room"}"#,
            1.0,
        ),
    ] {
        assert_eq!(page.get(series), want, "{series} in\n{}", page.0);
    }
    let last = page.get("tickertape_watch_last_event_timestamp_seconds");
    assert!((last * 1000.0 - now_ms as f64).abs() < 60_000.0, "{last}");
    assert_eq!(
        names(&page),
        [
            "tickertape_build_info",
            "tickertape_watch_connected",
            "tickertape_watch_connection_state",
            "tickertape_watch_dropped_events_total",
            "tickertape_watch_event_latency_seconds",
            "tickertape_watch_events_total",
            "tickertape_watch_last_event_timestamp_seconds",
            "tickertape_watch_ping_rtt_seconds",
            "tickertape_watch_presence_members",
            "tickertape_watch_subscription_failures_total",
        ]
    );
    assert!(
        !page.0.contains("user_id") && !page.0.contains("\"ann\""),
        "{}",
        page.0
    );
    page.promtool_check();

    // Another member joins.
    let (mut bob, bob_id) = server.raw().await;
    bob.subscribe(&bob_id, "presence-room", Some(r#"{"user_id":"bob"}"#))
        .await;
    scrape_until(addr, "the second member", |p| {
        p.value(r#"tickertape_watch_presence_members{channel="presence-room"}"#) == Some(2.0)
    })
    .await;
    child.terminate(EXIT).await;
}

#[tokio::test]
async fn watch_counts_reconnects_by_close_code() {
    let mut peer = crate::support::Peer::start().await;
    let port = peer.addr.port().to_string();
    let mut child = Proc::spawn(
        bin::command()
            .args([
                "watch",
                "c",
                "--json",
                "--key",
                "app-key",
                "--port",
                &port,
                "--metrics",
                "0",
            ])
            .stdout(Stdio::null()),
    );
    let addr = metrics::addr(&mut child).await;
    assert!(
        addr.ip().is_loopback(),
        "a bare port binds loopback: {addr}"
    );
    let mut conn = crate::support::scripted::subscribed(&mut peer, "c").await;
    // 4200: reconnect at once.
    conn.close(4200, "restarting").await;
    let _again = crate::support::scripted::subscribed(&mut peer, "c").await;
    let page = scrape_until(addr, "the reconnect", |p| {
        p.value("tickertape_watch_connected") == Some(1.0)
            && p.value(r#"tickertape_watch_reconnects_total{code="4200"}"#) == Some(1.0)
    })
    .await;
    assert!(names(&page).contains(&"tickertape_watch_reconnects_total".to_owned()));
    page.promtool_check();
    child.terminate(EXIT).await;
}

#[tokio::test]
async fn a_firehose_of_event_names_keeps_the_events_labels_within_the_cap() {
    let server = Server::start(&[]).await;
    let mut child = watch(&server, &["firehose"], &[]);
    let addr = metrics::addr(&mut child).await;
    scrape_until(addr, "the connection", |p| {
        p.value("tickertape_watch_connected") == Some(1.0)
    })
    .await;
    // Wait until subscribed: a first event that arrives.
    let rest = server.rest();
    let mut lines = BufReader::new(child.child.stdout.take().unwrap()).lines();
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            rest.trigger(&["firehose".into()], "first", "{}", None, None)
                .await
                .unwrap();
            if let Ok(Ok(Some(_))) =
                tokio::time::timeout(Duration::from_millis(200), lines.next_line()).await
            {
                break;
            }
        }
    })
    .await
    .expect("the subscription never took");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    // 500 events, each with a name of its own (e0 … e499).
    crate::support::server::flood(&rest, "firehose", 50, 10).await;
    let page = scrape_until(addr, "all 500 events", |p| {
        let total: f64 = p
            .samples("tickertape_watch_events_total")
            .iter()
            .filter(|l| !l.contains("event=\"first\""))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        total == 500.0
    })
    .await;
    let series = page.samples("tickertape_watch_events_total");
    assert!(series.len() <= 101, "{} series:\n{}", series.len(), page.0);
    // "first" and e0 … e98 have their own series; the other 401 names fold into one.
    assert_eq!(
        page.get(r#"tickertape_watch_events_total{channel="other",event="other"}"#),
        401.0
    );
    assert_eq!(
        page.get(r#"tickertape_watch_events_total{channel="firehose",event="e98"}"#),
        1.0
    );
    page.promtool_check();
    child.terminate(EXIT).await;
}

/// Every listener has the same discipline.
mod budgets {
    use std::net::SocketAddr;
    use std::time::Duration;

    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpSocket;

    use crate::support::server::Server;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn idle_connections_from_one_address_never_lock_out_the_metrics_scraper() {
        let mut server = Server::start(&["--metrics", "127.0.0.1:0"]).await;
        let addr = crate::support::metrics::addr(&mut server.proc).await;
        let _idle = half_sent(&[2], addr, 40).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let page = crate::support::metrics::scrape(addr).await;
        assert!(page.0.contains("tickertape_serve_connected"));
    }

    /// Nor from several: four addresses with their four places each hold all 16 of the
    /// endpoint's, and a newcomer from 127.0.0.1 takes the oldest place of one of them. Before,
    /// every scrape got 503 for as long as they stayed.
    #[tokio::test]
    async fn idle_connections_from_several_addresses_never_lock_out_the_metrics_scraper() {
        let mut server = Server::start(&["--metrics", "127.0.0.1:0"]).await;
        let addr = crate::support::metrics::addr(&mut server.proc).await;
        let _idle = half_sent(&[2, 3, 4, 5], addr, 4).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let page = crate::support::metrics::scrape(addr).await;
        assert!(page.0.contains("tickertape_serve_connected"));
    }

    /// `n` connections from each of 127.0.0.`ips`, each with half a request sent.
    async fn half_sent(ips: &[u8], addr: SocketAddr, n: usize) -> Vec<tokio::net::TcpStream> {
        let mut idle = Vec::new();
        for ip in ips {
            for _ in 0..n {
                let socket = TcpSocket::new_v4().unwrap();
                socket
                    .bind(SocketAddr::from(([127, 0, 0, *ip], 0)))
                    .unwrap();
                if let Ok(mut tcp) = socket.connect(addr).await {
                    let _ = tcp.write_all(b"GET /metrics HTTP/1.1\r\n").await;
                    idle.push(tcp);
                }
            }
        }
        idle
    }
}
