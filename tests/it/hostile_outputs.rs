//! Nothing raw from strangers reaches any output. A hostile server (`support::hostile`) puts
//! the corpus of escape sequences, C1 controls, bidi, format and tag characters into every
//! name and text it controls (channels, events, data, user ids and infos, errors, close
//! reasons, REST error bodies, channel listings), and a hostile client and sender put it
//! into what `serve` logs and what the webhooks receiver shows. Every output the project
//! writes is read back and searched for a raw control, bidi or format character: stdout
//! (NDJSON and lines), stderr, the dashboard's bytes in tmux, `--record` and `replay`,
//! `--metrics` pages of `watch`, `probe` and `serve`, `serve --log` and `--log-json`,
//! `--log-file`, and the webhooks receiver's lines and NDJSON. Each output is also checked to
//! show the hostile text escaped, so that a check never passes on an output that simply
//! never saw it. The URL with credentials and a token that the server's answers quote never
//! shows.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use futures_util::SinkExt;
use serde_json::json;
use tokio::io::AsyncReadExt;
use tokio_tungstenite::tungstenite::Message;

use crate::support::bin::{self, Proc};
use crate::support::hostile::{CORPUS, Hostile, PASSWORD, TOKEN, hostile_text, markers};
use crate::support::metrics;
use crate::support::tmux::{Tmux, clean_env, files};
use crate::support::webhooks::{self, Receiver};
use protocol::ClientMessage;
use protocol::signature;

/// How long any one run may take to end.
const END: Duration = Duration::from_secs(30);

/// A character no output may carry raw, written out here rather than taken from the code
/// under test: C0 controls (the newline aside), DEL, C1 controls, the line and paragraph
/// separators, and Unicode's format class Cf (bidi controls, zero widths, the soft hyphen,
/// interlinear annotations, tags…) but the two joiners, and the invisible Hangul fillers.
fn forbidden(c: char) -> bool {
    let cf: &[(u32, u32)] = &[
        (0xad, 0xad),
        (0x600, 0x605),
        (0x61c, 0x61c),
        (0x6dd, 0x6dd),
        (0x70f, 0x70f),
        (0x890, 0x891),
        (0x8e2, 0x8e2),
        (0x180e, 0x180e),
        (0x200b, 0x200b),
        (0x200e, 0x200f),
        (0x202a, 0x202e),
        (0x2060, 0x2064),
        (0x2066, 0x206f),
        (0xfeff, 0xfeff),
        (0xfff9, 0xfffb),
        (0x110bd, 0x110bd),
        (0x110cd, 0x110cd),
        (0x13430, 0x1343f),
        (0x1bca0, 0x1bca3),
        (0x1d173, 0x1d17a),
        // Invisible without being Cf: the Hangul fillers, the combining grapheme joiner.
        (0x115f, 0x1160),
        (0x3164, 0x3164),
        (0xffa0, 0xffa0),
        (0x34f, 0x34f),
        (0xe0000, 0xe007f),
    ];
    let n = c as u32;
    (c != '\n' && (n < 0x20 || (0x7f..=0x9f).contains(&n)))
        || c == '\u{2028}'
        || c == '\u{2029}'
        || cf.iter().any(|&(from, to)| (from..=to).contains(&n))
}

/// What is wrong with `bytes` for a terminal: invalid UTF-8, or a raw control, bidi or
/// format character (a newline ends lines, and is the one allowed).
fn problem(bytes: &[u8]) -> Option<String> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => return Some(format!("invalid UTF-8: {e}")),
    };
    text.char_indices()
        .find(|&(_, c)| forbidden(c))
        .map(|(at, c)| {
            let from = text[..at]
                .char_indices()
                .rev()
                .nth(80)
                .map_or(0, |(i, _)| i);
            format!("raw {c:?} after {:?}", &text[from..at])
        })
}

/// The hostile text, escaped, as lines show it (`\e]`, `\u{202e}`) or as JSON does
/// (`\u001b`, `\u202e`).
fn shows_escaped(text: &str) -> bool {
    [
        "\\e]",
        "\\e[",
        "\\u{202e}",
        "\\u{e0068}",
        "\\u001b",
        "\\u202e",
        "\\udb40",
    ]
    .iter()
    .any(|e| text.contains(e))
}

/// One output checked: no raw unsafe character, no secret, and (when `reached`) the hostile
/// text shown escaped.
fn check(what: &str, bytes: &[u8], reached: bool) {
    if let Some(p) = problem(bytes) {
        panic!("{what}: {p}");
    }
    let text = String::from_utf8_lossy(bytes);
    for secret in [PASSWORD, TOKEN] {
        assert!(!text.contains(secret), "{what} shows {secret}:\n{text}");
    }
    if reached {
        assert!(
            shows_escaped(&text),
            "{what} never showed the hostile text:\n{text}"
        );
    }
}

/// A run to its end: (status, stdout, stderr), both raw.
async fn finish(mut proc: Proc, within: Duration) -> (ExitStatus, Vec<u8>, Vec<u8>) {
    let mut stdout = Vec::new();
    let mut out = proc.child.stdout.take().expect("stdout piped");
    tokio::time::timeout(within, out.read_to_end(&mut stdout))
        .await
        .expect("the output did not end in time")
        .expect("read stdout");
    let status = proc.wait(within).await;
    (status, stdout, proc.stderr_bytes())
}

/// `tickertape ARGS` in `home`, run to its end; both outputs checked, and shown to hold the
/// hostile text if `reached` says where (`"out"`, `"err"`, `"both"`, `"either"`; `"none"`
/// for `check`, whose verdict quotes no name from the wire when the stream is healthy).
async fn run(home: &Path, what: &str, args: &[String], reached: &str) -> (Vec<u8>, Vec<u8>) {
    let mut cmd = bin::command_in(home);
    cmd.args(args);
    let (_, stdout, stderr) = finish(Proc::spawn(&mut cmd), END).await;
    let (out, err) = match reached {
        "out" => (true, false),
        "err" => (false, true),
        "both" => (true, true),
        _ => (false, false),
    };
    check(&format!("{what}: stdout"), &stdout, out);
    check(&format!("{what}: stderr"), &stderr, err);
    if reached == "either" {
        let all = [stdout.as_slice(), stderr.as_slice()].concat();
        check(&format!("{what}: its outputs"), &all, true);
    }
    (stdout, stderr)
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

/// Scrapes `addr`'s page once the hostile names are in it (5 s at most); checks it, and
/// has `promtool` lint it.
async fn metrics_page(what: &str, addr: SocketAddr) {
    // The hostile names have arrived once a marker is on the page, escaped or not.
    let page = metrics::scrape_until(addr, what, |p| markers().any(|m| p.0.contains(&m))).await;
    check(what, page.0.as_bytes(), true);
    page.promtool_check();
}

/// Against the hostile server: `watch` (NDJSON with states, a recording and a log file;
/// lines with an auth endpoint and metrics; `--all`), `replay`, `probe` (lines with metrics,
/// NDJSON), `check` (its three formats), `trigger` and `channels`.
async fn clients_of_a_hostile_server(home: &Path) {
    let server = Hostile::start().await;
    let port = server.port();
    let at = |args: &[&str]| {
        let mut all = strings(args);
        all.extend(strings(&["--host", "127.0.0.1", "--port", &port]));
        all
    };
    let signed = [
        "--key",
        "app-key",
        "--secret",
        "app-secret",
        "--app-id",
        "1",
    ];
    let (rec, log1, log2) = (
        home.join("rec.ndjson"),
        home.join("log1.txt"),
        home.join("log2.txt"),
    );
    let auth = format!("http://ann:{PASSWORD}@127.0.0.1:{port}/pusher/auth?token={TOKEN}");

    // watch --json, with states, a recording and a log file.
    let mut json = at(&["watch", "stock_ticker", "presence-lobby", "private-refused"]);
    json.extend(strings(&signed));
    json.extend(strings(&["--json", "--json-status", "--timeout", "4s"]));
    json.extend(strings(&["--record", rec.to_str().unwrap()]));
    json.extend(strings(&[
        "--log-file",
        log1.to_str().unwrap(),
        "--log-level",
        "debug",
    ]));
    // watch as lines, through an auth endpoint, with metrics and a log file.
    let mut lines = at(&["watch", "stock_ticker", "private-auth", "presence-lobby"]);
    lines.extend(strings(&["--key", "app-key", "--auth-endpoint", &auth]));
    lines.extend(strings(&["--timeout", "4s", "--metrics", "127.0.0.1:0"]));
    lines.extend(strings(&[
        "--log-file",
        log2.to_str().unwrap(),
        "--log-level",
        "debug",
    ]));
    let lines_run = async {
        let mut cmd = bin::command_in(home);
        cmd.args(&lines);
        let mut proc = Proc::spawn(&mut cmd);
        let addr = metrics::addr(&mut proc).await;
        metrics_page("watch --metrics", addr).await;
        let (_, stdout, stderr) = finish(proc, END).await;
        check("watch lines: stdout", &stdout, true);
        check("watch lines: stderr", &stderr, true);
        assert!(
            String::from_utf8_lossy(&stderr).contains("/pusher/auth?token=***"),
            "the auth endpoint's failure names it, redacted: {}",
            String::from_utf8_lossy(&stderr)
        );
    };
    // watch --all: the channels' names come from the server's listing.
    let mut all = at(&["watch", "--all", "--json", "--json-status"]);
    all.extend(strings(&signed));
    all.extend(strings(&["--discover-interval", "1s", "--timeout", "3s"]));
    // probe, as lines with metrics, and as NDJSON: every publish fails with hostile text.
    let mut probe_lines = at(&[
        "probe",
        "--lines",
        "--for",
        "3s",
        "--metrics",
        "127.0.0.1:0",
    ]);
    probe_lines.extend(strings(&signed));
    let probe_run = async {
        let mut cmd = bin::command_in(home);
        cmd.args(&probe_lines);
        let mut proc = Proc::spawn(&mut cmd);
        let addr = metrics::addr(&mut proc).await;
        // The probe's label is the node's, from the flags: the page is checked whole.
        let page = metrics::scrape(addr).await;
        check("probe --metrics", page.0.as_bytes(), false);
        page.promtool_check();
        let (_, stdout, stderr) = finish(proc, END).await;
        let all = [stdout.as_slice(), stderr.as_slice()].concat();
        check("probe --lines: stdout", &stdout, false);
        check("probe --lines: stderr", &stderr, false);
        check("probe --lines: its outputs", &all, true);
    };
    let mut probe_json = at(&["probe", "--json", "--for", "3s"]);
    probe_json.extend(strings(&signed));
    let mut check_nagios = at(&[
        "check",
        "--expect",
        "stock_ticker/update_event<5s",
        "--for",
        "2s",
    ]);
    check_nagios.extend(strings(&signed));
    let mut check_json = check_nagios.clone();
    check_json.extend(strings(&["--format", "json"]));
    let mut check_prometheus = check_nagios.clone();
    check_prometheus.extend(strings(&["--format", "prometheus"]));
    let mut trigger = at(&["trigger", "stock_ticker", "update_event", "{}"]);
    trigger.extend(strings(&signed));
    let mut channels = at(&["channels"]);
    channels.extend(strings(&signed));
    let mut channels_json = channels.clone();
    channels_json.push("--json".into());
    let mut users = at(&["channels", "presence-lobby", "--users"]);
    users.extend(strings(&signed));
    let mut info = at(&["channels", "stock_ticker"]);
    info.extend(strings(&signed));

    tokio::join!(
        run(home, "watch --json", &json, "both"),
        lines_run,
        run(home, "watch --all", &all, "both"),
        probe_run,
        run(home, "probe --json", &probe_json, "out"),
        run(home, "check", &check_nagios, "none"),
        run(home, "check --format json", &check_json, "none"),
        run(home, "check --format prometheus", &check_prometheus, "none"),
        run(home, "trigger", &trigger, "err"),
        run(home, "channels", &channels, "out"),
        run(home, "channels --json", &channels_json, "out"),
        run(home, "channels --users", &users, "out"),
        run(home, "channels NAME", &info, "err"),
    );

    for (what, file) in [
        ("--log-file of --json", &log1),
        ("--log-file of lines", &log2),
    ] {
        check(what, &std::fs::read(file).unwrap(), true);
    }
    check("--record", &std::fs::read(&rec).unwrap(), true);
    let rec = rec.to_str().unwrap();
    let (replay, replay_json) = (
        strings(&["replay", rec, "--max"]),
        strings(&["replay", rec, "--max", "--json", "--json-status"]),
    );
    tokio::join!(
        run(home, "replay", &replay, "both"),
        run(home, "replay --json --json-status", &replay_json, "both"),
    );
}

/// A screen in tmux: `tickertape ARGS` on an 80×24 terminal, every byte it writes recorded
/// before tmux reads it. Once `started` shows on it, `feed` sends it what it is to show; once
/// the hostile text shows escaped, `keys` go in one by one, then `q`. What it wrote.
async fn screen(
    name: &str,
    args: &str,
    started: &str,
    feed: impl Future<Output = ()>,
    keys: &[&str],
) -> String {
    let (home, stderr_file, status_file) = files(name);
    let raw = home.join("raw");
    let _ = std::fs::remove_file(&raw);
    let command = format!(
        "sleep 0.5; {} {} {args} 2> {}; echo $? > {}",
        clean_env(&home),
        bin::BIN,
        stderr_file.display(),
        status_file.display()
    );
    let tmux = Tmux::start(&command, &stderr_file);
    tmux.record_output(&raw);
    tmux.wait(started, |s| s.contains(started));
    feed.await;
    tmux.wait("the hostile text, escaped", |s| s.contains("\\e"));
    for key in keys {
        tmux.keys(&[key]);
        std::thread::sleep(Duration::from_millis(300));
    }
    tmux.keys(&["q"]);
    crate::support::tmux::exit_status(&tmux, &status_file);
    std::thread::sleep(Duration::from_millis(300));
    let bytes = std::fs::read(&raw).expect("the pane's output was recorded");
    String::from_utf8(bytes)
        .unwrap_or_else(|e| panic!("{name}: the screen wrote bytes that are not UTF-8: {e}"))
}

/// What a screen wrote holds its own CSI sequences, but never an OSC, a DCS, a C1 control,
/// a BEL, a bidi or format character, nor any of the corpus's sequences; and it showed the
/// hostile text.
fn check_screen(name: &str, text: &str) {
    for (at, c) in text.char_indices() {
        let after = &text[at + c.len_utf8()..];
        let bad = match c {
            // The screen's own sequences are CSI; an OSC, DCS, APC or PM is never its own.
            '\u{1b}' => !after.starts_with('['),
            // Line ends and the cursor's own moves.
            '\n' | '\r' => false,
            c => forbidden(c),
        };
        assert!(
            !bad,
            "{name}: raw {c:?} reached the terminal, before {:?}",
            after.chars().take(40).collect::<String>()
        );
    }
    // The corpus's CSI sequences look like the screen's own: each is followed by its marker.
    for t in CORPUS {
        assert!(!text.contains(t), "{name}: {t:?} reached the terminal raw");
    }
    // A marker, or the first sequence escaped when a line is cut before the first marker.
    assert!(
        markers().any(|m| text.contains(&m)) || text.contains("\\e]52;c"),
        "{name}: the hostile text was shown"
    );
}

/// The dashboards in tmux: `watch` and `probe` against the hostile server, and the webhooks
/// receiver's, fed by a hostile sender.
async fn screens_of_strangers() {
    let server = Hostile::start().await;
    let at = format!("--host 127.0.0.1 --port {}", server.port());
    let watch = screen(
        "hostile-watch",
        &format!("watch stock_ticker presence-lobby private-refused --key app-key --secret app-secret {at}"),
        "update_event",
        async {},
        // Inspect a line, the members and the help.
        &["Enter", "Escape", "Tab", "Tab", "?", "Escape"],
    )
    .await;
    check_screen("watch's dashboard", &watch);
    let probe = screen(
        "hostile-probe",
        &format!("probe --key app-key --secret app-secret --app-id 1 {at}"),
        "probe",
        async {},
        &["?", "Escape"],
    )
    .await;
    check_screen("probe's dashboard", &probe);
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let to: SocketAddr = ([127, 0, 0, 1], port).into();
    let body = hostile_webhook();
    let hooks = screen(
        "hostile-webhooks",
        &format!("webhooks --listen {to} --app 1:app-key:app-secret"),
        "webhooks on",
        async {
            webhooks::post(
                to,
                Some(webhooks::KEY),
                Some(&protocol::webhook::sign(webhooks::SECRET, body.as_bytes())),
                body.as_bytes(),
            )
            .await;
            webhooks::post(to, Some(webhooks::KEY), Some("00"), body.as_bytes()).await;
        },
        &["Enter", "Escape"],
    )
    .await;
    check_screen("the webhooks receiver's dashboard", &hooks);
}

/// A webhook body whose every name is hostile.
fn hostile_webhook() -> String {
    json!({
        "time_ms": 1,
        "events": CORPUS.iter().map(|t| json!({
            "name": format!("member_added{t}"), "channel": format!("presence-{t}"),
            "user_id": t, "event": t, "data": t, "socket_id": t,
        })).collect::<Vec<_>>(),
    })
    .to_string()
}

/// A presence subscription's `channel_data`, its auth signed for `socket_id`.
fn presence_data(socket_id: &str, channel: &str, user: &str) -> ClientMessage {
    let data = json!({ "user_id": user, "user_info": { "name": hostile_text() } }).to_string();
    let auth =
        signature::sign_channel("app-key", "app-secret", socket_id, channel, Some(&data)).unwrap();
    ClientMessage::Subscribe {
        channel: channel.into(),
        auth: Some(auth),
        channel_data: Some(data),
    }
}

/// What a hostile client does to a `serve` at `addr`: subscribes to hostile names, joins a
/// presence channel with a hostile user id and info, sends client events named with the
/// corpus, signs in as a hostile user, and leaves.
async fn hostile_client(addr: SocketAddr) {
    let url = format!("ws://{addr}/app/app-key?protocol=7&client=hostile&version=1");
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connect");
    let established = loop {
        use futures_util::StreamExt;
        let m = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("no connection_established")
            .expect("closed")
            .expect("socket error");
        if let Message::Text(t) = m {
            break t.to_string();
        }
    };
    let v: serde_json::Value = serde_json::from_str(&established).unwrap();
    let data: serde_json::Value = serde_json::from_str(v["data"].as_str().unwrap()).unwrap();
    let socket_id = data["socket_id"].as_str().unwrap().to_owned();
    let send = |m: String| Message::text(m);
    for t in CORPUS {
        let sub = ClientMessage::Subscribe {
            channel: format!("h{t}"),
            auth: None,
            channel_data: None,
        };
        ws.send(send(sub.encode())).await.unwrap();
    }
    for (i, t) in CORPUS.iter().enumerate() {
        let channel = format!("presence-room{i}");
        let msg = presence_data(&socket_id, &channel, &format!("u{t}"));
        ws.send(send(msg.encode())).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for t in CORPUS {
        let event =
            json!({ "event": format!("client-{t}"), "channel": "presence-room0", "data": {} });
        ws.send(send(event.to_string())).await.unwrap();
    }
    let user = json!({ "id": hostile_text(), "name": hostile_text() }).to_string();
    let auth = signature::sign_user("app-key", "app-secret", &socket_id, &user).unwrap();
    let signin = json!({ "event": "pusher:signin", "data": { "user_data": user, "auth": auth } });
    ws.send(send(signin.to_string())).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = ws.close(None).await;
}

/// `serve --log` and `--log-json` with `--metrics`, their app's id hostile, a hostile client
/// on each, and their webhooks going to two receivers (lines and NDJSON), to which a
/// hostile sender also posts.
async fn serve_and_the_webhooks_receiver(home: &Path) {
    let receivers = [
        Receiver::start(&["--lines", "--app", "1:app-key:app-secret"]).await,
        Receiver::start(&["--json", "--app", "1:app-key:app-secret"]).await,
    ];
    let hooks: Vec<String> = receivers
        .iter()
        .flat_map(|r| {
            [
                "--webhook".to_owned(),
                format!("http://{}/hook?token={TOKEN}", r.addr),
            ]
        })
        .collect();
    let app = format!("{}:app-key:app-secret", CORPUS[0]);
    let mut servers = Vec::new();
    for log in ["--log", "--log-json"] {
        let mut args = strings(&["--listen", "127.0.0.1:0", "--app", &app, log]);
        args.extend(strings(&["--metrics", "127.0.0.1:0"]));
        args.extend(hooks.iter().cloned());
        let mut cmd = bin::command_in(home);
        cmd.arg("serve")
            .args(&args)
            .stdout(std::process::Stdio::null());
        let mut proc = Proc::spawn(&mut cmd);
        let addr = loop {
            let line = proc.stderr_line(END).await.expect("serve printed nothing");
            if let Some(rest) = line.split("serving on ws://").nth(1) {
                break rest.split_whitespace().next().unwrap().parse().unwrap();
            }
        };
        let metrics = metrics::addr(&mut proc).await;
        servers.push((log, proc, addr, metrics));
    }
    for (_, _, addr, _) in &servers {
        hostile_client(*addr).await;
    }
    // A hostile sender: a signed body of hostile names, the same with a wrong signature,
    // and header values that are not ASCII.
    let body = hostile_webhook();
    for r in &receivers {
        r.post_signed(webhooks::KEY, webhooks::SECRET, &body).await;
        r.post(Some(webhooks::KEY), Some("00"), body.as_bytes())
            .await;
        r.post(Some("k\u{9b}\u{202e}"), Some("\u{9b}31m"), body.as_bytes())
            .await;
        r.post(Some(webhooks::KEY), None, b"\x1b]0;not json\x07")
            .await;
    }
    // What serve counted, with its app's id as a label.
    for (log, _, _, addr) in &servers {
        metrics_page(&format!("serve {log} --metrics"), *addr).await;
    }
    tokio::time::sleep(Duration::from_secs(4)).await; // vacated and removed webhooks wait 3 s
    for (log, mut proc, _, _) in servers {
        proc.terminate(END).await;
        check(&format!("serve {log}: stderr"), &proc.stderr_bytes(), true);
    }
    for (what, mut r) in ["webhooks --lines", "webhooks --json"]
        .into_iter()
        .zip(receivers)
    {
        let stdout = r.proc.child.stdout.take();
        r.proc.terminate(END).await;
        let mut out = Vec::new();
        stdout.unwrap().read_to_end(&mut out).await.unwrap();
        check(&format!("{what}: stdout"), &out, true);
        check(&format!("{what}: stderr"), &r.proc.stderr_bytes(), false);
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.contains("member_added") && text.contains("client_event"),
            "{what}: serve's webhooks arrived: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_output_escapes_what_strangers_send() {
    let home: PathBuf =
        std::env::temp_dir().join(format!("tickertape-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    clients_of_a_hostile_server(&home).await;
    serve_and_the_webhooks_receiver(&home).await;
    screens_of_strangers().await;
}
