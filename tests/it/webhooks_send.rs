//! `serve --webhook URL` and per-app webhooks in the config file: what is reported (every
//! event kind, signed), the config file's per-app targets and filters, refused flags, and the
//! official Node SDK's check. The real binary, a real HTTP receiver on 127.0.0.1
//! (tests/support/webhook_sink.rs), and real WebSocket clients.

use std::time::Duration;

use crate::support::bin;
use crate::support::server::{KEY, SECRET, Server};
use crate::support::webhook_sink::{Sink, config_file, names, pair, serve_to};
use protocol::frame::Event;
use protocol::webhook;
use protocol::{ClientMessage, Data, ServerMessage};
use serde_json::{Value, json};

#[tokio::test]
async fn a_channel_is_occupied_by_its_first_subscriber_and_vacated_by_its_last() {
    let mut sink = Sink::start().await;
    let server = serve_to(&sink, &[]).await;
    let (mut a, a_id) = server.raw().await;
    a.subscribe(&a_id, "news", None).await;
    let mut b = server.subscriber("news").await;
    a.send(&ClientMessage::Unsubscribe {
        channel: "news".into(),
    })
    .await;
    server.wait_subscribers("news", 1).await;
    b.ws.close(None).await.unwrap();
    let events = sink.events_until("channel_vacated", "news").await;
    assert_eq!(
        names(&events),
        [
            pair("channel_occupied", "news"),
            pair("channel_vacated", "news")
        ]
    );
    assert_eq!(
        events[0],
        json!({"name": "channel_occupied", "channel": "news"})
    );
    server.terminate().await;
}

#[tokio::test]
async fn a_webhook_is_signed_with_the_apps_secret_and_names_its_key() {
    let mut sink = Sink::start().await;
    let server = serve_to(&sink, &[]).await;
    let _sub = server.subscriber("signed").await;
    let hook = sink.next().await;
    assert_eq!(hook.path, "/hook");
    assert_eq!(hook.header("x-pusher-key"), Some(KEY));
    assert_eq!(hook.header("content-type"), Some("application/json"));
    let signature = hook.header("x-pusher-signature").expect("a signature");
    assert!(webhook::verify(SECRET, &hook.body, signature), "{hook:?}");
    assert!(!webhook::verify("another-secret", &hook.body, signature));
    let body = hook.json();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let time_ms = body["time_ms"].as_i64().expect("time_ms");
    assert!((now_ms - time_ms).abs() < 60_000, "{body}");
    assert_eq!(
        body["events"],
        json!([{"name": "channel_occupied", "channel": "signed"}])
    );
    assert!(!server.stderr().contains(SECRET));
    server.terminate().await;
}

#[tokio::test]
async fn presence_members_are_added_by_their_first_socket_and_removed_with_their_last() {
    let mut sink = Sink::start().await;
    let server = serve_to(&sink, &[]).await;
    let room = "presence-room";
    let mut sockets = Vec::new();
    for user in ["ann", "ann", "bob"] {
        let (mut raw, id) = server.raw().await;
        let data = format!(r#"{{"user_id":"{user}"}}"#);
        let joined = raw.subscribe(&id, room, Some(&data)).await;
        assert!(matches!(
            joined,
            ServerMessage::SubscriptionSucceeded { .. }
        ));
        sockets.push(raw);
    }
    // One of ann's two sockets leaves: she is still a member.
    sockets.remove(0).ws.close(None).await.unwrap();
    server.wait_subscribers(room, 2).await;
    let early: Vec<Value> = sink
        .collect_for(Duration::from_millis(300))
        .await
        .iter()
        .flat_map(|h| h.events())
        .collect();
    assert!(
        !early.iter().any(|e| e["name"] == "member_removed"),
        "{early:?}"
    );
    for mut s in sockets {
        s.ws.close(None).await.unwrap();
    }
    let mut events = early;
    events.extend(sink.events_until("channel_vacated", room).await);
    let members: Vec<(String, String)> = events
        .iter()
        .filter(|e| e["name"].as_str().is_some_and(|n| n.starts_with("member_")))
        .map(|e| {
            assert_eq!(e["channel"], room);
            (
                e["name"].as_str().unwrap().to_owned(),
                e["user_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut sorted = members.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            pair("member_added", "ann"),
            pair("member_added", "bob"),
            pair("member_removed", "ann"),
            pair("member_removed", "bob"),
        ],
        "{members:?}"
    );
    assert_eq!(names(&events)[0], pair("channel_occupied", room));
    server.terminate().await;
}

#[tokio::test]
async fn a_client_event_is_reported_with_its_sender() {
    let mut sink = Sink::start().await;
    let server = serve_to(&sink, &["--webhook-events", "client_event"]).await;
    let (mut a, a_id) = server.raw().await;
    let (mut b, b_id) = server.raw().await;
    for (raw, id, user) in [(&mut a, &a_id, "ann"), (&mut b, &b_id, "bob")] {
        let data = format!(r#"{{"user_id":"{user}"}}"#);
        raw.subscribe(id, "presence-chat", Some(&data)).await;
    }
    a.subscribe(&a_id, "private-notes", None).await;
    for channel in ["presence-chat", "private-notes"] {
        a.send(&ClientMessage::Event(Event {
            event: "client-typing".into(),
            channel: Some(channel.into()),
            data: Data::Json(json!({"typing": true})),
            user_id: None,
        }))
        .await;
    }
    let events = sink.events_until("client_event", "private-notes").await;
    assert_eq!(
        events,
        [
            json!({"name": "client_event", "channel": "presence-chat", "user_id": "ann",
                   "event": "client-typing", "data": r#"{"typing":true}"#, "socket_id": a_id}),
            json!({"name": "client_event", "channel": "private-notes",
                   "event": "client-typing", "data": r#"{"typing":true}"#, "socket_id": a_id}),
        ]
    );
    server.terminate().await;
}

#[tokio::test]
async fn a_cache_channel_with_nothing_cached_is_a_cache_miss() {
    let mut sink = Sink::start().await;
    let server = serve_to(&sink, &[]).await;
    let (mut a, a_id) = server.raw().await;
    a.subscribe(&a_id, "cache-prices", None).await;
    assert!(matches!(a.recv().await, ServerMessage::CacheMiss { .. }));
    server
        .rest()
        .trigger(&["cache-prices".to_owned()], "price", "1", None, None)
        .await
        .unwrap();
    let _ = a.recv().await;
    // A second subscriber gets the cached event: no miss.
    let mut b = server.subscriber("cache-prices").await;
    let _ = b.recv().await;
    a.ws.close(None).await.unwrap();
    b.ws.close(None).await.unwrap();
    let events = sink.events_until("channel_vacated", "cache-prices").await;
    assert_eq!(
        names(&events),
        [
            pair("channel_occupied", "cache-prices"),
            pair("cache_miss", "cache-prices"),
            pair("channel_vacated", "cache-prices"),
        ]
    );
    server.terminate().await;
}

#[tokio::test]
async fn config_file_apps_have_their_own_webhooks_and_event_filters() {
    let mut members = Sink::start().await;
    let dead = Sink::never().await;
    let mut other = Sink::start().await;
    let file = config_file(
        "apps",
        &format!(
            r#"
[[server.apps]]
id = "1"
key = "{KEY}"
secret = "{SECRET}"
webhooks = [
  {{ url = "{}", events = ["member_added", "member_removed"] }},
  {{ url = "{}" }},
]

[[server.apps]]
id = "2"
key = "key-2"
secret = "secret-2"
webhooks = [{{ url = "{}" }}]
"#,
            members.url(),
            dead.url(),
            other.url()
        ),
    );
    let server = Server::start_with(
        &[
            "--listen",
            "127.0.0.1:0",
            "--config",
            file.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    let (mut a, a_id) = server.raw().await;
    a.subscribe(&a_id, "public-news", None).await;
    a.subscribe(&a_id, "presence-room", Some(r#"{"user_id":"ann"}"#))
        .await;
    // App 2's receiver hears of its channel at once, though app 1 has a dead one.
    let (mut b, b_id) = server.raw_for("key-2").await;
    b.subscribe(&b_id, "two", None).await;
    let hook = other.next().await;
    assert_eq!(hook.header("x-pusher-key"), Some("key-2"));
    assert!(webhook::verify(
        "secret-2",
        &hook.body,
        hook.header("x-pusher-signature").unwrap()
    ));
    assert_eq!(names(&hook.events()), [pair("channel_occupied", "two")]);
    a.ws.close(None).await.unwrap();
    let events = members
        .events_until("member_removed", "presence-room")
        .await;
    assert_eq!(
        events,
        [
            json!({"name": "member_added", "channel": "presence-room", "user_id": "ann"}),
            json!({"name": "member_removed", "channel": "presence-room", "user_id": "ann"}),
        ]
    );
    server.terminate().await;
}

async fn refused(args: &[&str], config: Option<&str>) -> (i32, String) {
    let mut cmd = bin::command();
    cmd.arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(args);
    if let Some(text) = config {
        let path = config_file(&format!("bad-{}", text.len()), text);
        cmd.arg("--config").arg(path);
    }
    let (code, _, err) = bin::Proc::spawn(&mut cmd)
        .finish(Duration::from_secs(10))
        .await;
    (code, err)
}

#[tokio::test]
async fn bad_webhook_urls_and_event_names_are_refused_before_serving() {
    for (args, wanted) in [
        (
            &["--webhook", "ftp://example.com/hook"][..],
            "http or https",
        ),
        (&["--webhook", "http://ann:s3cr3t@127.0.0.1:0/hook"], "port"),
        (&["--webhook", "http:///hook"], "not a valid URL"),
        (
            &[
                "--webhook",
                "http://127.0.0.1:9/",
                "--webhook-events",
                "channel_ocupied",
            ],
            "did you mean channel_occupied?",
        ),
        (&["--webhook-events", "member_added"], "--webhook"),
    ] {
        let (code, err) = refused(args, None).await;
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(wanted), "{args:?}: {err}");
        assert!(
            !err.contains("s3cr3t") && !err.contains("serving on"),
            "{err}"
        );
    }
    let app = "[[server.apps]]\nid = \"1\"\nkey = \"k\"\nsecret = \"s\"\n";
    for (hooks, wanted) in [
        (
            "webhooks = [{ url = \"http://127.0.0.1:9/\", events = [\"member-added\"] }]",
            "line 5",
        ),
        (
            "webhooks = [{ url = \"http://127.0.0.1:9/\", events = [\"member-added\"] }]",
            "did you mean member_added?",
        ),
        (
            "webhooks = [{ url = \"gopher://u:s3cr3t@h/\" }]",
            "http or https",
        ),
        (
            "webhooks = [{ url = \"http://h/\", events = [] }]",
            "sends nothing",
        ),
        (
            "webhooks = [{ url = \"http://h/\", event = [] }]",
            "unknown field",
        ),
    ] {
        let text = format!("{app}{hooks}\n");
        let (code, err) = refused(&[], Some(&text)).await;
        assert_eq!(code, 1, "{hooks}: {err}");
        assert!(err.contains(wanted), "{hooks}: {err}");
        assert!(
            !err.contains("s3cr3t") && !err.contains("serving on"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn the_official_node_sdk_accepts_the_webhooks() {
    let Some(mut node) = crate::support::node::Script::start("webhooks.mjs") else {
        return;
    };
    let first = node.line().await;
    let port = first
        .strip_prefix("listening ")
        .unwrap_or_else(|| panic!("{first}"));
    let url = format!("http://127.0.0.1:{port}/hook");
    let server = Server::start(&["--webhook", &url]).await;
    let (mut a, a_id) = server.raw().await;
    a.subscribe(&a_id, "presence-lobby", Some(r#"{"user_id":"ann"}"#))
        .await;
    a.send(&ClientMessage::Event(Event {
        event: "client-wave".into(),
        channel: Some("presence-lobby".into()),
        data: Data::Text("hi".into()),
        user_id: None,
    }))
    .await;
    a.ws.close(None).await.unwrap();
    let mut events: Vec<Value> = Vec::new();
    while !events.iter().any(|e| e["name"] == "channel_vacated") {
        let line = node.line().await;
        let checked: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("{line}"));
        assert_eq!(checked["valid"], true, "the SDK refused {line}");
        assert_eq!(checked["wrong_secret"], false, "{line}");
        events.extend(checked["events"].as_array().unwrap().iter().cloned());
    }
    let kinds: Vec<&str> = events.iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "channel_occupied",
            "member_added",
            "client_event",
            "member_removed",
            "channel_vacated"
        ]
    );
    assert_eq!(events[2]["data"], "hi");
    assert_eq!(events[2]["user_id"], "ann");
    node.stop().await;
    server.terminate().await;
}

/// Secrets in a webhook URL.
mod budgets {
    use crate::support::server::Server;
    use crate::support::webhook_sink::{Answer, Sink};

    #[tokio::test]
    async fn webhook_urls_never_show_their_query_values_in_the_log() {
        let mut sink = Sink::scripted(vec![Answer::Status(500)]).await;
        let url = format!("{}?token=TOKSECRET&x=1", sink.url());
        let server =
            Server::start(&["--log", "--webhook", &url, "--webhook-retry-for", "5s"]).await;
        let _sub = server.subscriber("watched").await;
        let _ = sink.events_until("channel_occupied", "watched").await;
        let sent = server
            .stderr_line_where(|l| l.contains("WEBHOOK SENT"))
            .await;
        let stderr = server.stderr();
        assert!(stderr.contains("WEBHOOK RETRY"), "{stderr}");
        assert!(!stderr.contains("TOKSECRET"), "{stderr}");
        assert!(sent.contains("token="), "{sent}");
    }
}
