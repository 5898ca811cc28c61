//! The real `tickertape` binary against the scripted peer: `watch --json` output, exit codes,
//! closed pipes, configuration precedence, and secrets kept out of help text.

use std::path::PathBuf;
use std::time::Duration;

use crate::support::Peer;
use crate::support::bin::{self, Proc};
use crate::support::scripted::subscribed;
use tokio::io::{AsyncBufReadExt, BufReader};

/// How long a run may take to end.
const EXIT: Duration = Duration::from_secs(10);

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tickertape-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `--json` passes the publisher's data through: key order, big integers and escapes kept,
/// whitespace dropped, and nothing that can drive a terminal.
#[tokio::test]
async fn watch_json_passes_the_publishers_data_through_as_written() {
    let home = scratch("passthrough");
    let mut peer = Peer::start().await;
    let port = peer.addr.port().to_string();
    let child = Proc::spawn(bin::command_in(&home).args([
        "watch",
        "stock_ticker",
        "--json",
        "--count",
        "3",
        "--key",
        "app-key",
        "--port",
        &port,
    ]));
    let mut conn = subscribed(&mut peer, "stock_ticker").await;
    // As a string (the double encoding), as an object, and spread over lines with a C1 control.
    conn.send(r#"{"event":"update_event","channel":"stock_ticker","data":"{\"zeta\":1,\"alpha\":12345678901234567890123,\"p\":0.10000000000000000001}"}"#).await;
    conn.send(
        r#"{"event":"update_event","channel":"stock_ticker","data":{"z":[1, 2],"a":"\u00e9"}}"#,
    )
    .await;
    conn.send("{\"event\":\"update_event\",\"channel\":\"stock_ticker\",\"data\":\"{\\n  \\\"b\\\": \\\"x\u{9b}y\\\",\\n  \\\"a\\\": 2\\n}\"}").await;
    let (code, stdout, stderr) = child.finish(EXIT).await;
    assert_eq!(code, 0, "{stderr}");
    let data: Vec<&str> = stdout
        .lines()
        .map(|l| {
            let start = l.find(r#""data":"#).expect(l) + 7;
            &l[start..l.len() - 1]
        })
        .collect();
    assert_eq!(
        data,
        [
            r#"{"zeta":1,"alpha":12345678901234567890123,"p":0.10000000000000000001}"#,
            r#"{"z":[1,2],"a":"\u00e9"}"#,
            r#"{"b":"x\u009by","a":2}"#,
        ],
        "{stdout}"
    );
    for line in stdout.lines() {
        serde_json::from_str::<serde_json::Value>(line).expect(line);
    }
}

#[tokio::test]
async fn watch_json_prints_one_object_per_event() {
    let home = scratch("json");
    let mut peer = Peer::start().await;
    let port = peer.addr.port().to_string();
    let child = Proc::spawn(bin::command_in(&home).args([
        "watch",
        "stock_ticker",
        "--json",
        "--count",
        "3",
        "--key",
        "app-key",
        "--port",
        &port,
    ]));
    let mut conn = subscribed(&mut peer, "stock_ticker").await;
    conn.send(r#"{"event":"update_event","channel":"stock_ticker","data":"{\"name\":\"ACME\",\"price\":42}"}"#).await;
    conn.send(r#"{"event":"pusher:cache_miss","channel":"stock_ticker"}"#)
        .await;
    conn.send(r#"{"event":"note","channel":"stock_ticker","data":"\u001b]52;c;aGk=\u0007 \u009b31m \u202e hi"}"#).await;
    conn.send(r#"{"event":"client-typing","channel":"stock_ticker","data":"{}","user_id":"u7"}"#)
        .await;
    let (code, stdout, stderr) = child.finish(EXIT).await;
    assert_eq!(code, 0, "{stderr}");

    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    let first = lines[0].as_object().unwrap();
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        ["time", "channel", "event", "data"]
    );
    assert_eq!(
        lines[0]["data"],
        serde_json::json!({"name": "ACME", "price": 42})
    );
    assert_eq!(lines[0]["event"], "update_event");
    let time = lines[0]["time"].as_str().unwrap();
    assert!(
        time.len() == 24 && time.ends_with('Z') && time.as_bytes()[19] == b'.',
        "{time}"
    );
    // Protocol events are shown but not counted by --count.
    assert_eq!(lines[1]["event"], "pusher:cache_miss");
    assert_eq!(lines[1]["data"], serde_json::Value::Null);
    // Hostile text survives as data, but no raw control or bidi character reaches the output.
    assert_eq!(
        lines[2]["data"],
        "\u{1b}]52;c;aGk=\u{7} \u{9b}31m \u{202e} hi"
    );
    assert!(
        !stdout
            .chars()
            .any(|c| c.is_control() && c != '\n' || c == '\u{202e}'),
        "{stdout:?}"
    );
    assert_eq!(lines[3]["user_id"], "u7");
    assert!(lines[0].get("user_id").is_none());

    assert!(
        stderr.contains("tickertape: connected (socket 10.20)"),
        "{stderr}"
    );
    assert!(stderr.contains("subscribed to stock_ticker"), "{stderr}");
}

#[tokio::test]
async fn a_refused_connection_exits_1_with_one_line() {
    let home = scratch("refused");
    let mut peer = Peer::start().await;
    let port = peer.addr.port().to_string();
    let child = Proc::spawn(
        bin::command_in(&home).args(["watch", "x", "--json", "--key", "nope", "--port", &port]),
    );
    let mut conn = peer.conn().await;
    conn.send(r#"{"event":"pusher:error","data":"{\"code\":4001,\"message\":\"Application does not exist\"}"}"#).await;
    conn.close(4001, "Application does not exist").await;
    let (code, stdout, stderr) = child.finish(EXIT).await;
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    // The refusal, then the doctor command with the same connection flags.
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines[lines.len() - 2..],
        [
            "tickertape: connection refused: pusher:error 4001: Application does not exist",
            &format!(
                "tickertape: to find which hop fails, run: tickertape doctor --key nope --port {port}"
            ),
        ],
        "{stderr}"
    );
}

#[tokio::test]
async fn fail_fast_exits_3_on_an_auth_failure() {
    let home = scratch("failfast");
    let mut peer = Peer::start().await;
    let port = peer.addr.port().to_string();
    let child = Proc::spawn(bin::command_in(&home).args([
        "watch",
        "private-x",
        "--json",
        "--fail-fast",
        "--key",
        "k",
        "--port",
        &port,
    ]));
    let mut conn = peer.conn().await;
    conn.establish("1.1", 120).await;
    let (code, _, stderr) = child.finish(EXIT).await;
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr
            .lines()
            .last()
            .unwrap()
            .contains("subscription to private-x failed"),
        "{stderr}"
    );
}

#[tokio::test]
async fn timeout_ends_the_run_and_json_status_goes_to_stderr() {
    let home = scratch("timeout");
    let mut peer = Peer::start().await;
    let port = peer.addr.port().to_string();
    let child = Proc::spawn(bin::command_in(&home).args([
        "watch",
        "a",
        "--json",
        "--json-status",
        "--timeout",
        "1s",
        "--key",
        "k",
        "--port",
        &port,
    ]));
    let _conn = subscribed(&mut peer, "a").await;
    let (code, stdout, stderr) = child.finish(EXIT).await;
    assert_eq!(code, 0);
    assert!(stdout.is_empty());
    let states: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        states.iter().any(|s| s["type"] == "state"
            && s["current"] == "connected"
            && s["socket_id"] == "10.20")
    );
    assert!(
        states
            .iter()
            .any(|s| s["type"] == "subscription" && s["status"] == "subscribed")
    );
}

#[tokio::test]
async fn a_closed_stdout_ends_quietly() {
    let home = scratch("pipe");
    let mut peer = Peer::start().await;
    let port = peer.addr.port().to_string();
    let mut child = Proc::spawn(
        bin::command_in(&home).args(["watch", "a", "--json", "--key", "k", "--port", &port]),
    );
    let mut conn = subscribed(&mut peer, "a").await;
    let mut stdout = BufReader::new(child.child.stdout.take().unwrap());
    conn.send(r#"{"event":"e","channel":"a","data":"1"}"#).await;
    let mut line = String::new();
    stdout.read_line(&mut line).await.unwrap();
    assert!(line.contains(r#""data":1"#), "{line}");
    // Like `| head -1`: the reader goes away, then more output comes.
    drop(stdout);
    for n in 0..50 {
        if !conn
            .try_send(&format!(r#"{{"event":"e","channel":"a","data":"{n}"}}"#))
            .await
        {
            break;
        }
    }
    let status = child.wait(EXIT).await;
    let stderr = child.stderr();
    assert_eq!(status.code(), Some(0), "{stderr}");
    bin::assert_no_panic(&stderr);
}

#[tokio::test]
async fn precedence_is_cli_then_env_then_profile() {
    let home = scratch("precedence");
    let mut peer = Peer::start().await;
    let port = peer.addr.port();
    let dir = home.join("tickertape");
    std::fs::create_dir_all(&dir).unwrap();
    // The profile names a dead port and a key; env fixes the port; the CLI fixes the key.
    std::fs::write(
        dir.join("config.toml"),
        "default_profile = \"local\"\n[profiles.local]\nkey = \"profile-key\"\nport = 9\nhost = \"127.0.0.1\"\n",
    )
    .unwrap();
    let child = Proc::spawn(
        bin::command_in(&home)
            .args(["watch", "a", "--json", "--timeout", "2", "--key", "cli-key"])
            .env("PUSHER_PORT", port.to_string())
            .env("PUSHER_APP_KEY", "env-key")
            .env("PUSHER_HOST", ""),
    );
    let conn = peer.conn().await;
    assert!(conn.path.starts_with("/app/cli-key?"), "{}", conn.path);
    child.finish(EXIT).await;
    drop(conn);
    while peer.try_conn(Duration::from_millis(200)).await.is_some() {}

    // Without CLI or env, the profile's key is used.
    let child = Proc::spawn(bin::command_in(&home).args([
        "watch",
        "a",
        "--json",
        "--timeout",
        "2",
        "--port",
        &port.to_string(),
    ]));
    let conn = peer.conn().await;
    assert!(conn.path.starts_with("/app/profile-key?"), "{}", conn.path);
    child.finish(EXIT).await;
    drop(conn);

    // An unknown profile is a clear error.
    let child = Proc::spawn(bin::command_in(&home).args(["watch", "a", "--profile", "prod"]));
    let (code, _, stderr) = child.finish(EXIT).await;
    assert_eq!(code, 1);
    assert!(
        stderr.contains("no profile \"prod\"") && stderr.contains("local"),
        "{stderr}"
    );
}

#[tokio::test]
async fn secrets_stay_out_of_help_and_errors() {
    let home = scratch("secrets");
    let child = Proc::spawn(
        bin::command_in(&home)
            .args(["watch", "--help"])
            .env("PUSHER_APP_SECRET", "s3cr3t-value")
            .env("PUSHER_ENCRYPTION_MASTER_KEY_BASE64", "m4st3r")
            .env("TICKERTAPE_AUTH_HEADER", "Authorization: b34rer"),
    );
    let (code, stdout, _) = child.finish(EXIT).await;
    assert_eq!(code, 0);
    assert!(
        stdout.contains("PUSHER_APP_SECRET") && stdout.contains("Examples:"),
        "{stdout}"
    );
    for secret in ["s3cr3t-value", "m4st3r", "b34rer"] {
        assert!(!stdout.contains(secret), "{secret} leaked into --help");
    }
    // A bad master key is reported without echoing it.
    let child = Proc::spawn(bin::command_in(&home).args([
        "watch",
        "a",
        "--key",
        "k",
        "--encryption-master-key",
        "c2hvcnQ=",
    ]));
    let (code, _, stderr) = child.finish(EXIT).await;
    assert_eq!(code, 1);
    assert!(
        stderr.contains("32") && !stderr.contains("c2hvcnQ="),
        "{stderr}"
    );
}

#[tokio::test]
async fn completions_are_generated() {
    let home = scratch("completions");
    for shell in ["bash", "zsh", "fish"] {
        let child = Proc::spawn(bin::command_in(&home).args(["completions", shell]));
        let (code, stdout, _) = child.finish(EXIT).await;
        assert_eq!(code, 0);
        assert!(
            stdout.contains("tickertape") && stdout.contains("watch"),
            "{shell}"
        );
    }
}

#[tokio::test]
async fn ending_a_run_closes_the_socket_cleanly() {
    let home = scratch("clean-close");
    let mut peer = Peer::start().await;
    let port = peer.addr.port().to_string();
    let child = Proc::spawn(bin::command_in(&home).args([
        "watch", "a", "--json", "--count", "1", "--key", "k", "--port", &port,
    ]));
    let mut conn = subscribed(&mut peer, "a").await;
    conn.send(r#"{"event":"e","channel":"a","data":"1"}"#).await;
    // The client says goodbye with a close frame before it exits.
    assert_eq!(conn.close_code().await, Some(1000));
    let (code, _, _) = child.finish(EXIT).await;
    assert_eq!(code, 0);
}

#[tokio::test]
async fn ts_field_adds_latency_to_each_line() {
    let home = scratch("latency");
    let server = crate::support::server::Server::start(&[]).await;
    let port = server.addr.port().to_string();
    let child = Proc::spawn(bin::command_in(&home).args([
        "watch",
        "a",
        "--json",
        "--count",
        "2",
        "--ts-field",
        "meta.ts",
        "--key",
        "app-key",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
    ]));
    let rest = server.rest();
    while rest.channel("a", None).await.unwrap()["occupied"] != true {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let data = serde_json::json!({"meta": {"ts": now_ms - 50}}).to_string();
    rest.trigger(&["a".into()], "e", &data, None, None)
        .await
        .unwrap();
    rest.trigger(&["a".into()], "e", r#"{"no":"timestamp"}"#, None, None)
        .await
        .unwrap();
    let (code, stdout, stderr) = child.finish(EXIT).await;
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let latency = lines[0]["latency_ms"].as_f64().expect("latency_ms");
    assert!((50.0..5000.0).contains(&latency), "{latency}");
    assert!(
        lines[1].get("latency_ms").is_none(),
        "no timestamp, no latency"
    );
}

#[tokio::test]
async fn answers_from_a_hostile_api_server_are_escaped() {
    let home = scratch("hostile-api");
    let hostile = "{\"channels\":{\"a\\u001b]52;c;aGk=\\u0007\\u009b31m\\u202e\":{\"user_count\":1}},\"k\\u009bx\":\"\\u001b[2J\"}";
    let (url, _requests) = crate::support::http_endpoint(vec![
        (200, hostile.into()),
        (200, hostile.into()),
        (200, hostile.into()),
    ])
    .await;
    let port = url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    for args in [
        &["channels", "--json"][..],
        &["channels"][..],
        &["trigger", "c", "e", "{}", "--info", "user_count"][..],
    ] {
        let child = Proc::spawn(bin::command_in(&home).args(args).args([
            "--key",
            "k",
            "--secret",
            "s",
            "--app-id",
            "1",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
        ]));
        let (code, stdout, stderr) = child.finish(EXIT).await;
        assert_eq!(code, 0, "{args:?}: {stderr}");
        assert!(!stdout.is_empty(), "{args:?}");
        assert!(
            !stdout
                .chars()
                .any(|c| (c.is_control() && c != '\n') || c == '\u{202e}'),
            "{args:?} let raw control characters through: {stdout:?}"
        );
    }
}

/// `--timeout` ends a run whose connection never came up: it did not do what it was asked,
/// so status 1 with why, as the dashboard does when it quits so.
#[tokio::test]
async fn a_run_that_never_connected_exits_1_at_its_timeout() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port().to_string();
    drop(free);
    let mut cmd = bin::command();
    cmd.args([
        "watch",
        "c",
        "--json",
        "--key",
        "app-key",
        "--host",
        "127.0.0.1",
    ])
    .args(["--port", &port, "--timeout", "1s"]);
    let (code, stdout, stderr) = Proc::spawn(&mut cmd).finish(Duration::from_secs(10)).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("tickertape: never connected: ") && stderr.contains("refused"),
        "{stderr}"
    );
}
