//! `serve` on a terminal opens the Debug Console (tmux at 80×24): the occupied channels with
//! their counts, the API messages with their recipients, a publish to a misspelt channel
//! marked with its "did you mean"; filtering, pausing, a channel's members and recent
//! events, a test event triggered from it (refused with --readonly); and the terminal
//! restored on SIGTERM and `q`. Real subscribers and a real REST publisher on 127.0.0.1.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::support::bin;
use crate::support::server::{KEY, Raw, SECRET};
use crate::support::tmux::{Tmux, assert_cooked, clean_env, exit_status, files, recorded};
use client::publish::RestClient;
use futures_util::StreamExt;
use protocol::{Secret, ServerMessage};
use tokio_tungstenite::tungstenite::Message;

struct Console {
    tmux: Tmux,
    addr: SocketAddr,
    stty: PathBuf,
    status: PathBuf,
}

/// `serve` in tmux with `args`; its address, read from the console's status bar.
fn console(name: &str, args: &str) -> Console {
    let (home, stderr, status) = files(name);
    let stty = home.join("stty");
    let _ = std::fs::remove_file(&stty);
    let command = format!(
        "{} {} serve --listen 127.0.0.1:0 --app 1:{KEY}:{SECRET} {args}",
        clean_env(&home),
        bin::BIN
    );
    let tmux = Tmux::start(&recorded(&command, &stderr, &stty, &status), &stderr);
    let screen = tmux.wait("the console", |s| {
        s.starts_with("ws://127.0.0.1:") && s.contains("┌ channels")
    });
    let addr = screen
        .strip_prefix("ws://")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in\n{screen}"));
    Console {
        tmux,
        addr,
        stty,
        status,
    }
}

impl Console {
    fn rest(&self) -> RestClient {
        RestClient::new(
            format!("http://{}", self.addr),
            "1",
            KEY,
            Secret::new(SECRET),
        )
    }

    async fn subscriber(&self, channel: &str, member: Option<&str>) -> Raw {
        let url = format!(
            "ws://{}/app/{KEY}?protocol=7&client=test&version=1",
            self.addr
        );
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let mut raw = Raw { ws };
        let Some(Ok(Message::Text(t))) = raw.ws.next().await else {
            panic!("no welcome")
        };
        let Ok(ServerMessage::ConnectionEstablished { socket_id, .. }) = ServerMessage::decode(&t)
        else {
            panic!("{t}")
        };
        let data = member.map(|m| format!(r#"{{"user_id":"{m}"}}"#));
        let answer = raw.subscribe(&socket_id, channel, data.as_deref()).await;
        assert!(
            matches!(answer, ServerMessage::SubscriptionSucceeded { .. }),
            "{answer:?}"
        );
        raw
    }

    /// It ended with 0, the terminal as it was: cooked, the main screen, the console gone.
    fn ended_cleanly(&self, what: &str) {
        let code = exit_status(&self.tmux, &self.status);
        assert_eq!(code.trim(), "0", "{what}: {}", self.tmux.stderr());
        assert_cooked(&self.stty);
        assert_eq!(self.tmux.pane("#{alternate_on}"), "0", "{what}");
        let after = self.tmux.screen();
        assert!(
            !after.contains("┌ channels"),
            "{what}: left behind:\n{after}"
        );
    }
}

/// The line of the screen that holds `text`.
fn line_with<'a>(screen: &'a str, text: &str) -> &'a str {
    screen.lines().find(|l| l.contains(text)).unwrap_or("")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_shows_channels_api_messages_and_a_misspelt_publish_then_sigterm_restores() {
    let c = console("console-main", "");
    let _a = c.subscriber("news", None).await;
    let _b = c.subscriber("news", None).await;
    let _p = c.subscriber("presence-room", Some("ann")).await;
    let rest = c.rest();
    rest.trigger(&["news".into()], "headline", "{}", None, None)
        .await
        .unwrap();
    rest.trigger(&["nwes".into()], "headline", "{}", None, None)
        .await
        .unwrap();
    let screen = c.tmux.wait("the channels and the API messages", |s| {
        s.contains("did you mean news") && line_with(s, "│news ").contains(" 2 ")
    });
    assert!(screen.contains("3 connections"), "{screen}");
    assert!(screen.contains("CHANNEL OCCUPIED news"), "{screen}");
    let room = line_with(&screen, "│presence-room");
    assert!(room.contains(" 1 "), "one subscriber, one member: {room}");
    let sent = line_with(&screen, "API MESSAGE news headline");
    assert!(sent.contains("recipients=2"), "{screen}");
    let missed = line_with(&screen, "API MESSAGE nwes headline");
    assert!(
        missed.contains("NO SUBSCRIBERS: did you mean news?"),
        "{screen}"
    );
    c.tmux.signal("TERM");
    c.ended_cleanly("SIGTERM");
    assert!(c.tmux.stderr().contains("stopped"), "{}", c.tmux.stderr());
}

#[tokio::test(flavor = "multi_thread")]
async fn filter_pause_a_channels_detail_and_a_test_event_then_q_restores() {
    let c = console("console-keys", "");
    let _p = c.subscriber("presence-room", Some("ann")).await;
    let _n = c.subscriber("news", None).await;
    c.tmux.wait("two channels", |s| s.contains("2 occupied"));
    // The filter keeps API messages only.
    c.tmux
        .keys(&["f", "t", "y", "p", "e", ":", "a", "p", "i", "Enter"]);
    c.tmux.wait("the filter", |s| s.contains("filter type:api"));
    c.rest()
        .trigger(&["news".into()], "first", "{}", None, None)
        .await
        .unwrap();
    let screen = c
        .tmux
        .wait("an API message", |s| s.contains("API MESSAGE news first"));
    assert!(!screen.contains("SUBSCRIBED"), "filtered out:\n{screen}");
    // Paused, new entries wait.
    c.tmux.keys(&["Space"]);
    c.tmux.wait("paused", |s| s.contains("PAUSED"));
    c.rest()
        .trigger(&["news".into()], "second", "{}", None, None)
        .await
        .unwrap();
    let screen = c
        .tmux
        .wait("one new while paused", |s| s.contains("paused, 1 new"));
    assert!(!screen.contains("second"), "{screen}");
    c.tmux.keys(&["Space"]);
    c.tmux
        .wait("resumed", |s| s.contains("API MESSAGE news second"));
    // The channel table: presence-room sorted first by members, opened: its member and
    // its recent events.
    c.tmux.keys(&["Escape", "Tab", "s"]);
    c.tmux
        .wait("sorted by members", |s| s.contains("by members"));
    c.tmux.keys(&["g", "Enter"]);
    let detail = c.tmux.wait("the channel's detail", |s| {
        s.contains("┌ channel ") && s.contains("members: ann")
    });
    assert!(detail.contains("SUBSCRIBED"), "recent events:\n{detail}");
    c.tmux.keys(&["Escape"]);
    // A test event on the selected channel (news, the first by name).
    c.tmux.keys(&["s", "g", "t"]);
    c.tmux
        .wait("the trigger prompt", |s| s.contains("trigger on news"));
    c.tmux.keys(&["p", "i", "n", "g", "Enter"]);
    c.tmux.wait("the test event", |s| {
        s.contains("sent ping to news") && s.contains("API MESSAGE news ping")
    });
    c.tmux.keys(&["q"]);
    c.ended_cleanly("q");
}

#[tokio::test(flavor = "multi_thread")]
async fn readonly_refuses_test_events() {
    let c = console("console-ro", "--readonly");
    let _n = c.subscriber("news", None).await;
    c.tmux.wait("the channel", |s| s.contains("1 occupied"));
    c.tmux.keys(&["Tab", "t"]);
    let screen = c
        .tmux
        .wait("the refusal", |s| s.contains("read-only (serve"));
    assert!(!screen.contains("trigger on news"), "{screen}");
    c.tmux.keys(&["q"]);
    c.ended_cleanly("q");
}
