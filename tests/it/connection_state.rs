//! The connection's state at 80 columns: a refusal from a real `serve` (a wrong key, 4001)
//! readable in full at 80×24, and every state change, with its reason, in the log pane.

use std::time::{Duration, Instant};

use client::{self, ConnectionState as S, Item, Reason};
use observe::binding::Bindings;
use tui::watch::Options;

use crate::support::dashboard::{render, state, state_change};
use crate::support::server::Server;

#[tokio::test]
async fn a_4001_refusal_is_readable_at_80x24() {
    let server = Server::start(&[]).await;
    let (_client, mut rx) =
        client::connect(server.client_config("wrong-key"), &["stock_ticker".into()]).unwrap();
    let t0 = Instant::now();
    let mut s = state(Options::default(), Bindings::seed(), t0);
    loop {
        let item = crate::support::next_item(&mut rx).await;
        let end = matches!(&item, Item::State(c) if c.current == S::Disconnected);
        s.apply(item, t0);
        if end {
            break;
        }
    }
    let port = server.addr.port().to_string();
    let screen = render(&s, t0 + Duration::from_secs(1), 80, 24)
        .backend()
        .to_string()
        .replace(&port, &"#".repeat(port.len()));
    // The reason in full, at the top, and the change in the log.
    assert!(
        screen.contains("connection refused: pusher:error 4001: App key wrong-key does not exist"),
        "{screen}"
    );
    assert!(
        screen.contains("tickertape connection disconnected: pusher:error 4001"),
        "{screen}"
    );
    assert_eq!(
        s.ended_refused(),
        Some("connection refused: pusher:error 4001: App key wrong-key does not exist")
    );
    insta::assert_snapshot!("refused_4001_80x24", screen);
}

const LONG: &str = "the CA file /etc/tickertape/certificates/internal-root-authority.pem is not a PEM certificate bundle";

#[test]
fn every_state_change_is_logged_with_its_reason() {
    let t0 = Instant::now();
    let mut s = state(Options::default(), Bindings::seed(), t0);
    let closed = Reason::Closed {
        code: 4200,
        message: "Please reconnect".into(),
    };
    for item in [
        state_change(S::Initialized, S::Connecting, None, None),
        state_change(S::Connecting, S::Connected, None, None),
        state_change(
            S::Connected,
            S::Connecting,
            Some(closed),
            Some(Duration::from_secs(3)),
        ),
        state_change(
            S::Connecting,
            S::Unavailable,
            Some(Reason::Io("Connection refused (os error 111)".into())),
            Some(Duration::from_secs(5)),
        ),
        state_change(
            S::Unavailable,
            S::Failed,
            Some(Reason::Config(LONG.into())),
            None,
        ),
    ] {
        s.apply(item, t0);
    }
    let logged: Vec<String> = s
        .model
        .log
        .iter()
        .map(|l| format!("{} {}: {}", l.line.channel, l.line.event, l.line.text))
        .collect();
    assert_eq!(
        logged,
        [
            "tickertape connection: connecting to ws://127.0.0.1:6001/app/app-key?protocol=7",
            "tickertape connection: connected (socket 123.456)",
            "tickertape connection: connecting: closed with 4200 (server asked to reconnect): Please reconnect; retrying in 3.0 s",
            "tickertape connection: unavailable: Connection refused (os error 111); retrying in 5.0 s",
            format!("tickertape connection: failed: {LONG}").as_str(),
        ]
    );
    assert_eq!(
        s.ended_refused(),
        Some(format!("connection failed: {LONG}").as_str())
    );
    // At 80 columns the reason wraps onto the lines below the status bar, whole.
    let screen = render(&s, t0, 80, 24).backend().to_string();
    let top: Vec<&str> = screen
        .lines()
        .skip(1)
        .take_while(|l| !l.contains("┌ ticker"))
        .map(|l| l.trim_matches(|c| c == '"' || c == ' '))
        .collect();
    assert_eq!(
        top.join(" "),
        format!("connection failed: {LONG}"),
        "{screen}"
    );
    // Back up: no longer refused, and a run that ends now exits 0.
    s.apply(state_change(S::Failed, S::Connecting, None, None), t0);
    assert_eq!(s.ended_refused(), None);
}
