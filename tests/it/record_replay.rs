//! Record and replay: `watch --record` against the scripted peer, `replay` into `--json`
//! (paced, as fast as possible, from a point, and up to damage), and a dashboard snapshot
//! driven by a recording.

use std::time::{Duration, Instant};

use crate::support::Peer;
use crate::support::bin::{self, FullPipe, Proc};
use crate::support::scripted::subscribed;
use observe::binding::Bindings;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tui::watch::{Options, Source};

/// A one-shot run: (exit code, stdout, stderr).
async fn output(cmd: &mut Command) -> (i32, String, String) {
    Proc::spawn(cmd).finish(Duration::from_secs(20)).await
}

/// `--from` the fixture's third event: it and the three after it, as NDJSON.
fn from_the_third_event(out: &str) {
    let events: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 4, "{out}");
    assert_eq!(events[0]["time"], "2026-11-18T08:00:03.000Z");
}

fn fixture() -> String {
    format!(
        "{}/tests/fixtures/stock_ticker.ndjson",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[tokio::test]
async fn a_recording_replays_as_it_was_received() {
    let server = crate::support::server::Server::start(&[]).await;
    let file = std::env::temp_dir().join(format!("tickertape-rec-{}.ndjson", std::process::id()));
    let port = server.addr.port().to_string();
    let mut watch = bin::command();
    watch.args([
        "watch",
        "a",
        "--json",
        "--count",
        "3",
        "--key",
        "app-key",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
    ]);
    watch.args(["--record", file.to_str().unwrap()]);
    let child = Proc::spawn(&mut watch);
    // Publish once the watcher is subscribed.
    let rest = server.rest();
    let deadline = Instant::now() + Duration::from_secs(10);
    while rest.channel("a", None).await.unwrap()["occupied"] != true {
        assert!(Instant::now() < deadline, "the watcher never subscribed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for n in 0..3 {
        rest.trigger(
            &["a".into()],
            &format!("e{n}"),
            &format!(r#"{{"n":{n}}}"#),
            None,
            None,
        )
        .await
        .unwrap();
    }
    let (_, live, _) = child.finish(Duration::from_secs(10)).await;
    assert_eq!(live.lines().count(), 3, "{live}");
    let recorded = std::fs::read_to_string(&file).unwrap();
    assert!(
        recorded.contains(r#""type":"state""#) && recorded.contains(r#""current":"connected""#),
        "{recorded}"
    );

    let (code, replayed, err) =
        output(bin::command().args(["replay", file.to_str().unwrap(), "--json", "--max"])).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(replayed, live, "replay prints what watch printed");
    let _ = std::fs::remove_file(&file);
}

#[tokio::test]
async fn replay_paces_and_starts_where_asked() {
    // Six seconds of events at ten times the speed: about 0.6 s.
    let started = Instant::now();
    let (code, out, err) =
        output(bin::command().args(["replay", &fixture(), "--json", "--speed", "10"])).await;
    let took = started.elapsed();
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 6);
    assert!(took >= Duration::from_millis(450), "{took:?}");
    let started = Instant::now();
    let (_, out, _) =
        output(bin::command().args(["replay", &fixture(), "--json", "--max", "--from", "3s"]))
            .await;
    assert!(started.elapsed() < took, "--max does not wait");
    from_the_third_event(&out);
}

/// RFC 3339 allows any offset: a recording written elsewhere (here at +02:00) replays, and
/// `--from` takes a time at another offset (the same instant as the fixture's third event).
#[tokio::test]
async fn times_at_any_offset_are_read() {
    let dir = std::env::temp_dir().join(format!("tickertape-offsets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("offsets.ndjson");
    let lines: Vec<String> = std::fs::read_to_string(fixture())
        .unwrap()
        .lines()
        .map(|l| {
            l.replace("2026-11-18T08:", "2026-11-18T10:")
                .replace("Z\"", "+02:00\"")
        })
        .collect();
    assert!(lines[0].contains("+02:00"), "{}", lines[0]);
    std::fs::write(&file, lines.join("\n")).unwrap();
    let file = file.to_string_lossy().into_owned();
    let (code, out, err) = output(bin::command().args([
        "replay",
        &file,
        "--json",
        "--max",
        "--from",
        "2026-11-18T07:00:03-01:00",
    ]))
    .await;
    assert_eq!(code, 0, "{err}");
    from_the_third_event(&out);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_damaged_recording_replays_up_to_the_damage() {
    let text = std::fs::read_to_string(fixture()).unwrap();
    let cut = text.len() - 40; // the last line loses its end, as after a crash
    let file =
        std::env::temp_dir().join(format!("tickertape-damaged-{}.ndjson", std::process::id()));
    std::fs::write(&file, &text[..cut]).unwrap();
    let (code, out, err) =
        output(bin::command().args(["replay", file.to_str().unwrap(), "--json", "--max"])).await;
    assert_eq!(code, 1);
    assert_eq!(
        out.lines().count(),
        5,
        "everything before the damage: {out}"
    );
    assert!(err.contains("is damaged at line 8: not JSON"), "{err}");
    let _ = std::fs::remove_file(&file);
}

/// A stranger's file with one endless line: it is damage at that line, never read whole.
#[tokio::test]
async fn a_line_past_16_mib_is_damage_not_memory() {
    let text = std::fs::read_to_string(fixture()).unwrap();
    let first = text.lines().next().unwrap();
    let file = std::env::temp_dir().join(format!(
        "tickertape-long-line-{}.ndjson",
        std::process::id()
    ));
    let mut content = format!("{first}\n");
    content.push_str(&"x".repeat(17 << 20));
    std::fs::write(&file, content).unwrap();
    let (code, _, err) =
        output(bin::command().args(["replay", file.to_str().unwrap(), "--json", "--max"])).await;
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("is damaged at line 2: a line is longer than 16 MiB"),
        "{err}"
    );
    let _ = std::fs::remove_file(&file);
}

/// A recording whose second event is due in the year 9999.
fn endless_recording() -> std::path::PathBuf {
    let file =
        std::env::temp_dir().join(format!("tickertape-endless-{}.ndjson", std::process::id()));
    std::fs::write(
        &file,
        concat!(
            r#"{"time":"2026-11-18T08:00:00.000Z","channel":"a","event":"now","data":{"n":1}}"#,
            "\n",
            r#"{"time":"9999-12-31T23:59:59.000Z","channel":"a","event":"never","data":{"n":2}}"#,
            "\n",
        ),
    )
    .unwrap();
    file
}

#[tokio::test]
async fn sigterm_ends_a_replay_waiting_for_an_event_due_in_9999() {
    let file = endless_recording();
    for json in [false, true] {
        let mut cmd = bin::command();
        cmd.args(["replay", file.to_str().unwrap()]);
        if json {
            cmd.arg("--json");
        }
        let mut proc = Proc::spawn(&mut cmd);
        let mut stdout = BufReader::new(proc.child.stdout.take().unwrap());
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(5), stdout.read_line(&mut line))
            .await
            .expect("the first event in time")
            .unwrap();
        assert!(line.contains("now"), "{line}");
        // The replay now waits for the next event.
        let status = proc.terminate(Duration::from_millis(1500)).await;
        assert_eq!(status.code(), Some(0), "--json {json}: {}", proc.stderr());
    }
    let _ = std::fs::remove_file(&file);
}

#[tokio::test]
async fn sigterm_ends_a_replay_when_nobody_reads_its_stdout() {
    let pipe = FullPipe::new().await;
    let mut cmd = bin::command();
    cmd.args(["replay", &fixture(), "--json", "--max"])
        .stdout(pipe.stdout());
    let mut proc = Proc::spawn(&mut cmd);
    // The recording's first line is a state, said on stderr; its events follow at once.
    let first = proc
        .stderr_line(Duration::from_secs(5))
        .await
        .expect("stderr ended");
    assert!(first.contains("connected"), "{first}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = proc.terminate(Duration::from_secs(2)).await;
    assert_eq!(status.code(), Some(0), "{}", proc.stderr());
}

#[test]
fn a_recording_drives_a_deterministic_dashboard() {
    let text = std::fs::read_to_string(fixture()).unwrap();
    let (items, damage) = observe::recording::parse(&text);
    assert!(damage.is_none());
    let t0 = Instant::now();
    let mut state = crate::support::dashboard::state(Options::default(), Bindings::seed(), t0);
    state.model.epoch = std::time::SystemTime::UNIX_EPOCH;
    let first = items[0].0;
    for (time, item) in items {
        state.apply(item, t0 + time.duration_since(first).unwrap());
    }
    let terminal = crate::support::dashboard::render(&state, t0 + Duration::from_secs(8), 80, 24);
    insta::assert_snapshot!(terminal.backend());
}

/// A recording of a presence channel: the connection, the member list, a join, an event.
const PRESENCE_RECORDING: &str = concat!(
    r#"{"time":"2026-11-18T08:00:00.000Z","type":"state","previous":"connecting","current":"connected","reason":null,"retry_in_ms":null,"socket_id":"1.2","url":"ws://127.0.0.1:6001/app/k"}"#,
    "\n",
    r#"{"time":"2026-11-18T08:00:00.100Z","type":"members","channel":"presence-a","user_ids":["ann","me"],"count":2,"members":[{"user_id":"ann","user_info":{"name":"Ann"}},{"user_id":"me","user_info":null}],"me":"me"}"#,
    "\n",
    r#"{"time":"2026-11-18T08:00:00.200Z","type":"member_added","channel":"presence-a","user_ids":["bob"],"count":3,"members":[{"user_id":"bob","user_info":{"name":"Bob"}}]}"#,
    "\n",
    r#"{"time":"2026-11-18T08:00:00.300Z","channel":"presence-a","event":"hello","data":{}}"#,
    "\n",
);

#[tokio::test]
async fn replayed_states_and_members_say_they_are_replayed() {
    let file =
        std::env::temp_dir().join(format!("tickertape-presence-{}.ndjson", std::process::id()));
    std::fs::write(&file, PRESENCE_RECORDING).unwrap();
    let path = file.to_str().unwrap();
    let (code, out, err) =
        output(bin::command().args(["replay", path, "--json", "--json-status", "--max"])).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().count(),
        1,
        "events on stdout, as watch printed: {out}"
    );
    assert!(!out.contains("replayed"), "{out}");
    let status: Vec<serde_json::Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = status.iter().map(|v| v["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["state", "members", "member_added"], "{err}");
    assert!(status.iter().all(|v| v["replayed"] == true), "{err}");
    assert_eq!(status[1]["user_ids"], serde_json::json!(["ann", "me"]));
    // Readable lines say it too.
    let (code, _, err) = output(bin::command().args(["replay", path, "--json", "--max"])).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        err.lines()
            .next()
            .unwrap()
            .starts_with("tickertape: replayed: "),
        "{err}"
    );
    let _ = std::fs::remove_file(&file);
}

#[test]
fn a_replayed_dashboard_does_not_look_live() {
    let (items, damage) = observe::recording::parse(PRESENCE_RECORDING);
    assert!(damage.is_none());
    let t0 = Instant::now();
    let draw = |replayed: bool| {
        let source = if replayed {
            Source::Replay
        } else {
            Source::Live
        };
        let mut state = tui::testing::watch(Options::default(), Bindings::seed(), source, t0);
        for (_, item) in items.clone() {
            state.apply(item, t0);
        }
        let terminal = crate::support::dashboard::render(&state, t0, 100, 24);
        let buffer = terminal.backend().buffer().clone();
        let cells: Vec<(String, ratatui::style::Color)> = buffer
            .content()
            .iter()
            .map(|c| (c.symbol().to_owned(), c.fg))
            .collect();
        let text: String = cells.iter().map(|(s, _)| s.as_str()).collect();
        let green = cells
            .iter()
            .any(|(_, fg)| *fg == ratatui::style::Color::Green);
        (
            text,
            green,
            state.model.members_of(0, "presence-a").map(|m| m.len()),
        )
    };
    let (live, live_green, _) = draw(false);
    assert!(!live.contains("REPLAY") && live_green, "{live}");
    let (replayed, green, members) = draw(true);
    assert!(replayed.contains("REPLAY"), "{replayed}");
    assert!(replayed.contains("recorded connected"), "{replayed}");
    assert!(!green, "no live connection's colour: {replayed}");
    assert_eq!(members, Some(3), "the recorded members are listed");
}

/// `--record` to a FIFO that nobody reads hung silently before connecting, whatever
/// `--timeout` said. Now it says what it waits for, gives up at `--timeout` (status 1), ends
/// on SIGTERM (status 0), and records once a reader comes.
#[tokio::test]
async fn a_fifo_nobody_reads_is_waited_for_with_timeout_and_signals() {
    let dir = std::env::temp_dir().join(format!("tickertape-fifo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("rec.fifo");
    let _ = std::fs::remove_file(&fifo);
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo");
    let mut peer = Peer::start().await;
    let port = peer.addr.port().to_string();
    let watch = |extra: &[&str]| {
        let mut cmd = bin::command();
        cmd.args([
            "watch",
            "stock_ticker",
            "--json",
            "--key",
            "app-key",
            "--port",
            &port,
        ])
        .args(["--record", fifo.to_str().unwrap()])
        .args(extra);
        Proc::spawn(&mut cmd)
    };
    // --timeout: it says what it waits for, then why it gives up, within the timeout.
    let started = Instant::now();
    let (code, _, stderr) = watch(&["--timeout", "1s"])
        .finish(Duration::from_secs(10))
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("waiting for a reader of the FIFO"),
        "{stderr}"
    );
    assert!(stderr.contains("within --timeout"), "{stderr}");
    assert!(
        peer.try_conn(Duration::from_millis(100)).await.is_none(),
        "nothing connected"
    );
    // A signal ends the wait.
    let mut p = watch(&[]);
    let line = p
        .stderr_line(Duration::from_secs(5))
        .await
        .unwrap_or_default();
    assert!(line.contains("waiting for a reader"), "{line}");
    let status = p.terminate(Duration::from_secs(5)).await;
    assert!(status.success(), "{}", p.stderr());
    // A reader comes: the run connects, and records.
    let mut p = watch(&[]);
    let _ = p.stderr_line(Duration::from_secs(5)).await;
    let path = fifo.clone();
    let reader = std::thread::spawn(move || std::fs::read_to_string(path).unwrap_or_default());
    let _conn = subscribed(&mut peer, "stock_ticker").await;
    p.terminate(Duration::from_secs(5)).await;
    let recorded = reader.join().unwrap();
    assert!(recorded.contains(r#""current":"connected""#), "{recorded}");
    let _ = std::fs::remove_dir_all(dir);
}
