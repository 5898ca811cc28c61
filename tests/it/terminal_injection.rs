//! The terminal-injection corpus: escape sequences (CSI, OSC 52 clipboard writes, title
//! changes, DCS), BEL, NUL, C1 controls, bidi overrides, invalid UTF-8 and 1 MB lines, from
//! a hostile server, in every place text from the wire can reach: each dashboard view, the
//! status bar, `watch --json` and `--json-status`, readable lines, the log file, recordings
//! and their replay. None of it may reach the terminal raw.

use std::process::ExitStatus;
use std::time::{Duration, Instant, SystemTime};

use crate::support::bin::{self, Proc};
use crate::support::scripted::subscribed;
use crate::support::{Conn, Peer};
use client::{
    ConnectionState, Item, MemberChange, Reason, ReceivedEvent, StateChange, SubscriptionFailure,
    SubscriptionStatus,
};
use observe::binding::Binding;
use observe::binding::Bindings;
use protocol::Data;
use protocol::frame::Member;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;
use tokio::io::AsyncReadExt;
use tui::testing::Dash as State;
use tui::watch::{Options, Overlay};

/// Every kind of hostile text, each short enough to show in a cell.
const CORPUS: &[&str] = &[
    "\u{1b}]52;c;ZXZpbA==\u{7}",    // OSC 52: write the clipboard
    "\u{1b}]0;pwned title\u{1b}\\", // OSC 0: the window title, ST-terminated
    "\u{1b}[2J\u{1b}[H",            // CSI: clear the screen, home
    "\u{1b}P+q544e\u{1b}\\",        // DCS: a terminfo query
    "\u{9b}31m\u{9d}0;c1\u{9c}",    // C1 CSI and OSC
    "bell\u{7}nul\u{0}del\u{7f}",
    "\u{202e}gnp.exe\u{202c} \u{2066}iso\u{2069} \u{200f}rlm",
    "cr\roverwrite\u{8}\u{8}bs",
];

/// True for a byte sequence that could drive a terminal: a C0 control other than newline,
/// DEL, a C1 control, a bidi control, or invalid UTF-8.
fn unsafe_for_terminal(bytes: &[u8]) -> Option<String> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => return Some(format!("invalid UTF-8: {e}")),
    };
    text.chars()
        .find(|&c| c != '\n' && protocol::safe_text::is_unsafe(c))
        .map(|c| format!("raw {c:?} in {:?}", &text[..text.len().min(300)]))
}

fn assert_safe(what: &str, bytes: &[u8]) {
    if let Some(problem) = unsafe_for_terminal(bytes) {
        panic!("{what}: {problem}");
    }
}

// ---------------------------------------------------------------- the dashboard's views

fn hostile_event(i: usize, text: &str, second: u64) -> Item {
    let mut ev = ReceivedEvent::decoded(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000 + second),
        Some(format!("presence-x{text}")),
        format!("update_event{text}"),
        Data::Json(json!({"name": format!("K{i}{text}"), "price": i, "note": text})),
        Some(format!("u{text}")),
        format!("{{\"event\":\"update_event{text}\"}}"),
    );
    ev.set_decrypt_error((i == 0).then(|| format!("bad box {text}")));
    Item::from(ev)
}

fn hostile_state(t0: Instant) -> State {
    let mut s = crate::support::dashboard::state(
        Options::default(),
        Bindings::new(vec![
            Binding::parse("*=ticker(key=name,value=price)").unwrap(),
        ]),
        t0,
    );
    let text = CORPUS.concat();
    s.apply(
        Item::State(Box::new(StateChange {
            previous: ConnectionState::Connected,
            current: ConnectionState::Connecting,
            reason: Some(Reason::Closed {
                code: 4200,
                message: text.clone(),
            }),
            retry_in: Some(Duration::from_secs(3)),
            socket_id: Some(format!("1.{text}")),
            url: format!("ws://127.0.0.1/{text}"),
        })),
        t0,
    );
    s.apply(
        Item::Subscription {
            channel: format!("private-{text}"),
            status: Box::new(SubscriptionStatus::Failed(SubscriptionFailure {
                message: text.clone(),
                status: Some(403),
                string_to_sign: Some(text.clone()),
                auth: true,
            })),
        },
        t0,
    );
    s.apply(
        Item::Members {
            channel: format!("presence-x{}", CORPUS[0]),
            change: Box::new(MemberChange::Snapshot {
                members: CORPUS
                    .iter()
                    .map(|t| Member {
                        user_id: format!("id{t}"),
                        user_info: json!({ "name": t }),
                    })
                    .collect(),
                me: Some(format!("id{}", CORPUS[1])),
            }),
            count: CORPUS.len(),
        },
        t0,
    );
    s.apply(Item::Error(text.clone()), t0);
    s.apply(Item::Notice(text), t0);
    for (i, t) in CORPUS.iter().enumerate() {
        s.apply(
            hostile_event(i, t, i as u64),
            t0 + Duration::from_secs(i as u64),
        );
    }
    // A 1 MB line of data.
    let mut big = "A".repeat(1 << 20);
    big.push_str(CORPUS[0]);
    s.apply(hostile_event(99, &big, 20), t0 + Duration::from_secs(20));
    s
}

fn assert_screen_safe(what: &str, state: &State, now: Instant) {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
        terminal.draw(|f| state.app.draw(f, now)).unwrap();
        let mut screen = String::new();
        for cell in terminal.backend().buffer().content() {
            screen.push_str(cell.symbol());
        }
        assert_safe(&format!("{what} at {w}x{h}"), screen.as_bytes());
    }
}

fn press(s: &mut State, code: KeyCode) {
    s.key(&KeyEvent::new(code, KeyModifiers::NONE));
}

#[test]
fn every_dashboard_view_escapes_the_corpus() {
    let t0 = Instant::now();
    let mut s = hostile_state(t0);
    let now = t0 + Duration::from_secs(30);
    assert_screen_safe("ticker, log, members and status bar", &s, now);
    press(&mut s, KeyCode::Enter);
    assert!(matches!(s.ui.overlay, Some(Overlay::Chart(_))));
    assert_screen_safe("chart", &s, now);
    press(&mut s, KeyCode::Esc);
    press(&mut s, KeyCode::Tab);
    for line in 0..12 {
        press(&mut s, KeyCode::Enter);
        assert!(
            matches!(s.ui.overlay, Some(Overlay::Inspect { .. })),
            "inspect of line {line}"
        );
        assert_screen_safe(&format!("inspect of line {line}"), &s, now);
        press(&mut s, KeyCode::Esc);
        press(&mut s, KeyCode::Char('k'));
    }
    // Searching for hostile text shows the matches, escaped.
    press(&mut s, KeyCode::Char('/'));
    for c in "update".chars() {
        press(&mut s, KeyCode::Char(c));
    }
    press(&mut s, KeyCode::Enter);
    assert_screen_safe("search", &s, now);
    press(&mut s, KeyCode::Char('?'));
    assert_screen_safe("help", &s, now);
}

// ---------------------------------------------------------------- the real binary

/// How long a run may take to end.
const EXIT: Duration = Duration::from_secs(15);

/// A run to its end: (exit status, stdout, stderr), both as raw bytes so that invalid UTF-8
/// in them is reported by `assert_safe`, not lost in a conversion.
async fn finish(mut proc: Proc, within: Duration) -> (ExitStatus, Vec<u8>, Vec<u8>) {
    let mut stdout = Vec::new();
    let mut out = proc.child.stdout.take().expect("stdout piped");
    tokio::time::timeout(within, out.read_to_end(&mut stdout))
        .await
        .expect("tickertape did not finish its output in time")
        .expect("read stdout");
    let status = proc.wait(within).await;
    (status, stdout, proc.stderr_bytes())
}

/// What a hostile server sends: the corpus in event names, channels, data (as strings,
/// inside objects, and 1 MB long), user ids and errors; a binary frame with invalid UTF-8;
/// and a close reason full of escapes.
async fn hostile_server(conn: &mut Conn) {
    let esc = |t: &str| serde_json::to_string(t).unwrap();
    for t in CORPUS {
        let data = esc(&json!({ "name": t, "price": 1 }).to_string());
        conn.send(&format!(
            r#"{{"event":{},"channel":"stock_ticker","data":{data},"user_id":{}}}"#,
            esc(&format!("update_event{t}")),
            esc(t)
        ))
        .await;
        conn.send(&format!(
            r#"{{"event":"update_event","channel":{},"data":{}}}"#,
            esc(&format!("stock_ticker{t}")),
            esc(t)
        ))
        .await;
    }
    let big = format!("{}{}", "B".repeat(1_000_000), CORPUS[0]);
    conn.send(&format!(
        r#"{{"event":"big","channel":"stock_ticker","data":{}}}"#,
        esc(&big)
    ))
    .await;
    conn.send(&format!(
        r#"{{"event":"pusher:error","data":{{"code":null,"message":{}}}}}"#,
        esc(&CORPUS.concat())
    ))
    .await;
    let mut binary = b"{\"event\":\"bin\xff\xfe\x1b[2J\",\"data\":\"\x9b\"}".to_vec();
    binary.extend_from_slice(&[0xc3, 0x28]);
    conn.send_binary(binary).await;
    conn.send(&format!(
        r#"{{"event":"pusher:subscription_error","channel":"stock_ticker","data":{{"type":"AuthError","error":{},"status":403}}}}"#,
        esc(&CORPUS.concat())
    ))
    .await;
    conn.send(r#"{"event":"last","channel":"stock_ticker","data":"{}"}"#)
        .await;
    conn.close(4200, "bye\u{1b}]0;title\u{7}\u{9b}2J").await;
}

#[tokio::test]
async fn json_lines_log_file_recording_and_replay_escape_the_corpus() {
    let home = std::env::temp_dir().join(format!("tickertape-inject-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let (log, rec) = (home.join("log.txt"), home.join("rec.ndjson"));
    let mut outputs = Vec::new();
    for mode in ["--json", "lines"] {
        let mut peer = Peer::start().await;
        let port = peer.addr.port().to_string();
        let mut args = vec!["watch", "stock_ticker", "--key", "k", "--port", &port];
        args.extend(["--timeout", "3s", "--log-file", log.to_str().unwrap()]);
        args.extend(["--log-level", "debug"]);
        if mode == "--json" {
            args.extend(["--json", "--json-status", "--record", rec.to_str().unwrap()]);
        }
        let child = Proc::spawn(bin::command_in(&home).args(&args));
        let mut conn = subscribed(&mut peer, "stock_ticker").await;
        hostile_server(&mut conn).await;
        drop(conn);
        drop(peer.try_conn(Duration::from_millis(300)).await); // the reconnect, refused
        let (_, stdout, stderr) = finish(child, EXIT).await;
        assert!(stdout.len() > 1_000_000, "{mode}: the 1 MB event is shown");
        assert!(
            String::from_utf8_lossy(&stdout).contains("last"),
            "{mode}: later events still arrive"
        );
        assert_safe(&format!("{mode} stdout"), &stdout);
        assert_safe(&format!("{mode} stderr"), &stderr);
        outputs.push(stdout);
    }
    let logged = std::fs::read(&log).unwrap();
    assert!(
        String::from_utf8_lossy(&logged).contains("subscription failed"),
        "the log file has the hostile subscription error"
    );
    assert_safe("the log file", &logged);
    assert_safe("the recording", &std::fs::read(&rec).unwrap());
    // --json keeps the text, escaped: jq gets the original back.
    let first: serde_json::Value = String::from_utf8_lossy(&outputs[0])
        .lines()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap();
    assert_eq!(first["data"]["name"], CORPUS[0]);

    for extra in [&["--json"][..], &[][..]] {
        let mut args = vec!["replay", rec.to_str().unwrap(), "--max"];
        args.extend_from_slice(extra);
        let (status, stdout, stderr) =
            finish(Proc::spawn(bin::command_in(&home).args(&args)), EXIT).await;
        assert!(
            status.success(),
            "{status:?}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr)
        );
        assert_safe(&format!("replay {extra:?} stdout"), &stdout);
        assert_safe(&format!("replay {extra:?} stderr"), &stderr);
    }
    // A damaged recording with invalid UTF-8 and escapes: the error names the line, escaped.
    let damaged = home.join("damaged.ndjson");
    let mut bytes = std::fs::read(&rec).unwrap();
    bytes.extend_from_slice(b"{\"time\":\"\x1b]52;c;eA==\x07\xff\xfe\"}\n");
    std::fs::write(&damaged, bytes).unwrap();
    let mut replay = bin::command_in(&home);
    replay.args(["replay", damaged.to_str().unwrap(), "--max", "--json"]);
    let (status, stdout, stderr) = finish(Proc::spawn(&mut replay), EXIT).await;
    assert_eq!(
        status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&stderr)
    );
    assert_safe("damaged replay stdout", &stdout);
    assert_safe("damaged replay stderr", &stderr);
}
