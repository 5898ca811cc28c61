//! The dashboard's trigger form sends for real: through the REST API, or as a client event
//! over the socket, against `tickertape serve`.

use crate::support::server::{KEY, SECRET, Server};
use crate::support::wait_for;
use client::publish::Publisher;
use client::{self, ClientConfig, Endpoint, Item, SubscriptionStatus};
use protocol::Secret;
use protocol::{Data, ServerMessage};
use serde_json::json;
use tui::watch::form::Request;
use tui::watch::perform;

fn publisher(rest: client::publish::RestClient, master_key: Option<[u8; 32]>) -> Publisher {
    Publisher { rest, master_key }
}

fn request(channel: &str, event: &str) -> Request {
    Request {
        channel: channel.into(),
        event: event.into(),
        data: json!({"name": "ACME", "price": 1}),
        conn: 0,
        via: None,
    }
}

#[tokio::test]
async fn the_form_triggers_through_rest_and_over_the_socket() {
    let server = Server::start(&[]).await;
    let (mut watcher, id) = server.raw().await;
    watcher.subscribe(&id, "stock_ticker", None).await;
    watcher.subscribe(&id, "private-chat", None).await;

    // An ordinary event goes through the signed REST API.
    let rest = publisher(server.rest(), None);
    let said = perform(request("stock_ticker", "update_event"), Some(&rest), None).await;
    assert!(
        said.starts_with("triggered update_event on stock_ticker: HTTP 200"),
        "{said}"
    );
    match watcher.recv().await {
        ServerMessage::Event(ev) => {
            assert_eq!(ev.data, Data::Json(json!({"name": "ACME", "price": 1})))
        }
        other => panic!("{other:?}"),
    }

    // A client-* event goes over the dashboard's own connection.
    let mut cfg = ClientConfig::new(
        KEY,
        Endpoint {
            host: "127.0.0.1".into(),
            port: server.addr.port(),
            tls: false,
            tls_port: server.addr.port(),
        },
    );
    cfg.auth.secret = Some(Secret::new(SECRET));
    let (client, mut rx) = client::connect(cfg, &["private-chat".into()]).unwrap();
    wait_for(&mut rx, "subscribed", |i| {
        matches!(
            i,
            Item::Subscription { status, .. } if matches!(**status, SubscriptionStatus::Subscribed)
        )
    })
    .await;
    let said = perform(request("private-chat", "client-hello"), None, Some(&client)).await;
    assert_eq!(said, "sent client event client-hello on private-chat");
    match watcher.recv().await {
        ServerMessage::Event(ev) => assert_eq!(ev.event, "client-hello"),
        other => panic!("{other:?}"),
    }

    // What cannot be sent says why.
    let said = perform(request("stock_ticker", "update_event"), None, Some(&client)).await;
    assert!(said.contains("needs the app id and secret"), "{said}");
    let wrong = publisher(
        client::publish::RestClient::new(
            format!("http://{}", server.addr),
            "1",
            KEY,
            Secret::new("nope"),
        ),
        None,
    );
    let said = perform(request("stock_ticker", "update_event"), Some(&wrong), None).await;
    assert!(said.contains("failed: HTTP 401"), "{said}");
    let said = perform(request("private-chat", "client-x"), Some(&rest), None).await;
    assert_eq!(said, "client events need a live connection");
}

/// On an encrypted channel the form seals the data with the master key, as `trigger` does;
/// without the key it refuses before sending anything (the plaintext never leaves), and a
/// client event there is refused too.
#[tokio::test]
async fn the_form_seals_for_encrypted_channels_and_never_sends_plaintext() {
    let server = Server::start(&[]).await;
    let channel = "private-encrypted-orders";
    let master = [9u8; 32];
    let mut cfg = crate::support::loopback_config(server.addr.port(), KEY);
    cfg.auth.secret = Some(Secret::new(SECRET));
    cfg.auth.master_key = Some(master);
    let (client, mut rx) = client::connect(cfg, &[channel.into()]).unwrap();
    wait_for(&mut rx, "subscribed", |i| {
        matches!(
            i,
            Item::Subscription { status, .. } if matches!(**status, SubscriptionStatus::Subscribed)
        )
    })
    .await;

    // No key: refused, and nothing reaches the subscriber.
    let said = perform(
        request(channel, "update_event"),
        Some(&publisher(server.rest(), None)),
        None,
    )
    .await;
    assert!(said.contains("is end-to-end encrypted"), "{said}");
    assert!(!said.contains("HTTP 200"), "{said}");

    // With the key: sealed, and the subscriber opens it.
    let said = perform(
        request(channel, "update_event"),
        Some(&publisher(server.rest(), Some(master))),
        None,
    )
    .await;
    assert!(said.contains("HTTP 200"), "{said}");
    let item = wait_for(
        &mut rx,
        "the event",
        |i| matches!(i, Item::Event(ev) if ev.event == "update_event"),
    )
    .await;
    let Item::Event(ev) = item else {
        unreachable!()
    };
    assert_eq!(
        ev.decrypt_error(),
        None,
        "the data was not sealed for the channel"
    );
    assert_eq!(ev.data(), &Data::Json(json!({"name": "ACME", "price": 1})));

    let said = perform(request(channel, "client-x"), None, Some(&client)).await;
    assert!(
        said.contains("cannot be sent on an encrypted channel"),
        "{said}"
    );
}

/// With several connections the form sends through the connection it was opened on: each
/// has its own REST API, and the answer says which one it went through.
#[tokio::test]
async fn with_two_connections_the_form_triggers_through_the_one_it_was_opened_on() {
    use tui::watch::{Done, Senders};
    let (eu, us) = (Server::start(&[]).await, Server::start(&[]).await);
    let (mut eu_watcher, eu_id) = eu.raw().await;
    eu_watcher.subscribe(&eu_id, "stock_ticker", None).await;
    let (mut us_watcher, us_id) = us.raw().await;
    us_watcher.subscribe(&us_id, "stock_ticker", None).await;
    let senders = Senders {
        rest: vec![
            Some(publisher(eu.rest(), None)),
            Some(publisher(us.rest(), None)),
        ],
        clients: Vec::new(),
    };
    let to_us = Request {
        conn: 1,
        via: Some("us".into()),
        ..request("stock_ticker", "update_event")
    };
    let answer = tokio::time::timeout(crate::support::WAIT, tui::watch::send(to_us, &senders))
        .await
        .unwrap();
    let Done::Triggered(said) = answer else {
        panic!("{answer:?}")
    };
    assert!(
        said.starts_with("via us: triggered update_event on stock_ticker: HTTP 200"),
        "{said}"
    );
    match us_watcher.recv().await {
        ServerMessage::Event(ev) => assert_eq!(ev.event, "update_event"),
        other => panic!("{other:?}"),
    }
    assert!(
        eu_watcher
            .quiet_for(std::time::Duration::from_millis(300))
            .await,
        "eu got the event meant for us"
    );
}
