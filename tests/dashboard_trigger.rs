//! The dashboard's trigger form sends for real: through the REST API, or as a client event
//! over the socket, against `tickertape serve`.

mod support;

use serde_json::json;
use support::server::{KEY, SECRET, Server};
use support::wait_for;
use tickertape::client::{self, ClientConfig, Endpoint, Item, Secret, SubscriptionStatus};
use tickertape::dashboard::effects::perform;
use tickertape::dashboard::form::Request;
use tickertape::protocol::{Data, ServerMessage};

fn request(channel: &str, event: &str) -> Request {
    Request {
        channel: channel.into(),
        event: event.into(),
        data: json!({"name": "ACME", "price": 1}),
    }
}

#[tokio::test]
async fn the_form_triggers_through_rest_and_over_the_socket() {
    let server = Server::start(&[]).await;
    let (mut watcher, id) = server.raw().await;
    watcher.subscribe(&id, "stock_ticker", None).await;
    watcher.subscribe(&id, "private-chat", None).await;

    // An ordinary event goes through the signed REST API.
    let rest = server.rest();
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
            Item::Subscription {
                status: SubscriptionStatus::Subscribed,
                ..
            }
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
    let wrong = tickertape::publish::RestClient::new(
        format!("http://{}", server.addr),
        "1",
        KEY,
        Secret::new("nope"),
    );
    let said = perform(request("stock_ticker", "update_event"), Some(&wrong), None).await;
    assert!(said.contains("failed: HTTP 401"), "{said}");
    let said = perform(request("private-chat", "client-x"), Some(&rest), None).await;
    assert_eq!(said, "client events need a live connection");
}
