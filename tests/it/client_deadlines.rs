//! Every wait of `tickertape watch` has a deadline: the handshake as a whole (pings do not
//! stretch it), the close handshake both ways, and leaving with a stdout nobody reads.

use std::time::{Duration, Instant};

use crate::support::Peer;
use crate::support::bin::{self, FullPipe, Proc};
use crate::support::scripted::subscribed;
use tokio::process::Command;

const EVENT: &str = r#"{"event":"e","channel":"a","data":"{\"n\":1}"}"#;

/// `tickertape watch a --json` against the scripted peer.
fn watch(peer: &Peer, extra: &[&str]) -> Command {
    let mut cmd = bin::command();
    cmd.args(["watch", "a", "--json", "--key", "app-key", "--port"])
        .arg(peer.addr.port().to_string())
        .args(extra);
    cmd
}

#[tokio::test]
async fn pings_do_not_stretch_the_handshake_past_its_deadline() {
    let mut peer = Peer::start().await;
    let mut proc = Proc::spawn(&mut watch(
        &peer,
        &["--json-status", "--connect-timeout", "1s"],
    ));
    let mut conn = peer.conn().await;
    let started = Instant::now();
    let mut lines = proc.take_stderr_lines();
    // The server pings five times a second but never sends pusher:connection_established.
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let give_up = tokio::time::sleep(Duration::from_secs(3));
    tokio::pin!(give_up);
    let line = loop {
        tokio::select! {
            _ = tick.tick() => {
                conn.ping().await;
            }
            line = lines.recv() => {
                let line = line.expect("stderr ended");
                if line.contains("connection_established") {
                    break line;
                }
            }
            _ = &mut give_up => panic!("no handshake timeout within 3 s while the server pinged"),
        }
    };
    let state: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(state["type"], "state", "{state}");
    assert_eq!(state["current"], "connecting", "{state}");
    assert!(
        state["reason"]
            .as_str()
            .is_some_and(|r| r.contains("no pusher:connection_established within 1 s")),
        "{state}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn the_servers_close_frame_is_answered_when_connected_and_while_connecting() {
    let mut peer = Peer::start().await;
    let _proc = Proc::spawn(&mut watch(&peer, &[]));
    let mut conn = subscribed(&mut peer, "a").await;
    conn.send_close(4200, "restarting").await;
    assert_eq!(
        conn.close_code().await,
        Some(4200),
        "a connected client echoes the close"
    );
    // 4200 asks for a reconnect; this time the close comes before connection_established.
    let mut conn = peer.conn().await;
    conn.send_close(4200, "").await;
    assert_eq!(
        conn.close_code().await,
        Some(4200),
        "a connecting client echoes the close"
    );
}

#[tokio::test]
async fn leaving_waits_only_briefly_for_a_server_that_never_answers_the_close() {
    let mut peer = Peer::start().await;
    let mut proc = Proc::spawn(&mut watch(&peer, &["--count", "1"]));
    let mut conn = subscribed(&mut peer, "a").await;
    let sent = Instant::now();
    conn.send(EVENT).await;
    // `conn` is not read until the process has ended: its close frame gets no answer.
    let status = proc.wait(Duration::from_secs(10)).await;
    let took = sent.elapsed();
    assert_eq!(status.code(), Some(0), "{}", proc.stderr());
    assert!(
        took < Duration::from_millis(1500),
        "the run ended {took:?} after its last event"
    );
    assert_eq!(conn.close_code().await, Some(1000), "it did say goodbye");
}

#[tokio::test]
async fn sigterm_ends_watch_at_once_when_nobody_reads_its_stdout() {
    let pipe = FullPipe::new().await;
    let mut peer = Peer::start().await;
    let mut proc = Proc::spawn(watch(&peer, &[]).stdout(pipe.stdout()));
    let mut conn = subscribed(&mut peer, "a").await;
    conn.send(EVENT).await;
    // Its notice on stderr comes after the event's line was due on stdout.
    conn.send_binary(vec![1, 2, 3]).await;
    loop {
        let line = proc
            .stderr_line(Duration::from_secs(5))
            .await
            .expect("stderr ended");
        if line.contains("binary frame") {
            break;
        }
    }
    let started = Instant::now();
    let status = proc.terminate(Duration::from_secs(2)).await;
    assert_eq!(status.code(), Some(0), "{}", proc.stderr());
    assert!(started.elapsed() < Duration::from_secs(2));
}
