//! What builds the connection URL is validated before anything connects: a bad cluster, host
//! or app key ends the run at once with a message naming the setting, from a flag, the
//! environment or a profile alike, never a retry loop.

use std::path::PathBuf;
use std::time::Duration;

use crate::support::bin::{self, Proc};
use crate::support::{Peer, WAIT, http_endpoint};
use base64::Engine as _;
use tokio::process::Command;

/// A refused value ends the run long before the first back-off would.
const AT_ONCE: Duration = Duration::from_secs(5);

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tickertape-inputs-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn run(mut cmd: Command) -> (i32, String) {
    let (code, stdout, stderr) = Proc::spawn(&mut cmd).finish(AT_ONCE).await;
    (code, format!("{stdout}{stderr}"))
}

const BAD: [(&str, &str, &str); 5] = [
    ("--cluster", "PUSHER_APP_CLUSTER", "eu/../x"),
    ("--cluster", "PUSHER_APP_CLUSTER", "a.b"),
    ("--host", "PUSHER_HOST", "a b"),
    ("--host", "PUSHER_HOST", "x/y"),
    ("--key", "PUSHER_APP_KEY", "k\"y"),
];

#[tokio::test]
async fn bad_flags_and_environment_values_are_usage_errors() {
    for (flag, env, value) in BAD {
        let mut cmd = bin::command();
        cmd.args(["watch", "c", "--json", flag, value]);
        let (code, out) = run(cmd).await;
        assert_eq!(code, 2, "{flag} {value:?}: {out}");
        assert!(out.contains(flag), "{flag} {value:?}: {out}");

        let mut cmd = bin::command();
        cmd.args(["watch", "c", "--json"]).env(env, value);
        let (code, out) = run(cmd).await;
        assert_eq!(code, 2, "{env}={value:?}: {out}");
        assert!(out.contains(env), "{env}={value:?}: {out}");
    }
}

#[tokio::test]
async fn bad_profile_values_end_the_run_at_once() {
    let home = scratch("profile");
    for (flag, _, value) in BAD {
        let field = flag.trim_start_matches("--");
        let file = home.join(format!("{field}.toml"));
        let key = if field == "key" {
            ""
        } else {
            "key = \"app-key\"\n"
        };
        let text = format!(
            "[profiles.default]\n{key}{field} = {}\n",
            toml_string(value)
        );
        std::fs::write(&file, text).unwrap();
        let mut cmd = bin::command_in(&home);
        cmd.args(["watch", "c", "--json", "--config", file.to_str().unwrap()]);
        let (code, out) = run(cmd).await;
        assert_eq!(code, 1, "{field} = {value:?}: {out}");
        let named = if field == "key" { "app key" } else { field };
        assert!(out.contains(named), "{field} = {value:?}: {out}");
    }
}

#[tokio::test]
async fn a_url_pasted_as_the_host_does_not_show_its_credentials() {
    for host in [
        "https://user:pw1234@example.com",
        "https://example.com/app?token=pw1234",
        "https://user:pw1234@example.com/?token=pw1234",
    ] {
        let mut cmd = bin::command();
        cmd.args(["watch", "c", "--host", host]);
        let (code, out) = run(cmd).await;
        assert_eq!(code, 2, "{out}");
        assert!(!out.contains("pw1234") && out.contains("--host"), "{out}");
    }
}

/// A node's URL with credentials or a token in its query is refused, by `watch` and by
/// `probe`, and neither shows in the error.
#[tokio::test]
async fn a_node_url_is_refused_without_its_credentials_or_token() {
    for node in [
        format!("ws://ann:{PASSWORD}@127.0.0.1:7006"),
        format!("ws://127.0.0.1:7006/?token={PASSWORD}"),
        format!("eu=wss://ann:{PASSWORD}@127.0.0.1:7006/app/k?token={PASSWORD}"),
        format!("ann:{PASSWORD}@127.0.0.1:7006"),
    ] {
        for command in [&["watch", "c", "--json"][..], &["probe", "--json"][..]] {
            let mut cmd = bin::command();
            cmd.args(command).args(["--node", &node]);
            let (code, out) = run(cmd).await;
            assert_ne!(code, 0, "{command:?} {node}: {out}");
            assert!(
                out.contains("--node") && !out.contains(PASSWORD),
                "{command:?} {node}: {out}"
            );
        }
    }
}

fn toml_string(text: &str) -> String {
    serde_json::Value::String(text.into()).to_string()
}

const PASSWORD: &str = "pw5ecret";

#[tokio::test]
async fn credentials_in_an_auth_endpoint_are_sent_as_basic_auth_and_never_shown() {
    let home = scratch("basic");
    let log = home.join("tickertape.log");
    let (url, mut requests) = http_endpoint(vec![(403, r#"{"error":"no"}"#.into())]).await;
    // Credentials, and a token in the query, as some endpoints take one.
    let url = format!(
        "{}?token={PASSWORD}",
        url.replace("http://", &format!("http://ann:{PASSWORD}@"))
    );
    let mut peer = Peer::start().await;
    let port = peer.addr.port().to_string();
    let mut cmd = bin::command_in(&home);
    cmd.args([
        "watch",
        "private-c",
        "--json",
        "--json-status",
        "--key",
        "app-key",
    ])
    .args(["--port", &port, "--auth-endpoint", &url])
    .args(["--log-file", log.to_str().unwrap(), "--log-level", "debug"]);
    let mut proc = Proc::spawn(&mut cmd);
    let mut conn = peer.conn().await;
    conn.establish("1.1", 120).await;
    let request = tokio::time::timeout(WAIT, requests.recv())
        .await
        .expect("no auth request")
        .unwrap();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("ann:{PASSWORD}"));
    assert!(
        request.contains(&format!("authorization: Basic {basic}\r\n")),
        "{request}"
    );
    assert!(
        request.starts_with(&format!("POST /pusher/auth?token={PASSWORD} ")),
        "the token is sent: {request}"
    );
    assert!(!request.contains(&format!("ann:{PASSWORD}")), "{request}");
    // The 403 is reported, with the endpoint's URL but not its credentials.
    loop {
        let line = proc.stderr_line(WAIT).await.expect("stderr ended");
        if line.contains("403") {
            break;
        }
    }
    drop(conn);
    peer.stop();
    proc.terminate(WAIT).await;
    let stderr = proc.stderr();
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(log.contains("connection state"), "the log is empty");
    assert!(stderr.contains("/pusher/auth?token=***"), "{stderr}");
    for (what, text) in [("stderr", &stderr), ("log", &log)] {
        assert!(!text.contains(PASSWORD), "{what}: {text}");
    }
}

#[tokio::test]
async fn a_bad_auth_endpoint_is_refused_without_its_credentials() {
    for url in [
        format!("ftp://ann:{PASSWORD}@127.0.0.1/auth"),
        format!("http://ann:{PASSWORD}@/auth"),
        format!("ann:{PASSWORD}@127.0.0.1/auth"),
        format!("ftp://127.0.0.1/auth?token={PASSWORD}"),
        format!("http://ann:{PASSWORD}@h h/auth?token={PASSWORD}"),
    ] {
        let mut cmd = bin::command();
        cmd.args(["watch", "private-c", "--auth-endpoint", &url]);
        let (code, out) = run(cmd).await;
        assert_eq!(code, 2, "{out}");
        assert!(
            out.contains("--auth-endpoint") && !out.contains(PASSWORD),
            "{out}"
        );
    }
}
