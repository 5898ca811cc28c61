//! `tickertape doctor` against real processes over 127.0.0.1: the real `serve`, a closed
//! port, a plain port met with TLS, and small HTTP endpoints of strangers (an auth endpoint
//! that answers a login page, 403 or 419; a REST API that answers a 401 as Pusher does).
//! Each run is checked for what it names, and for the wrong secret, which appears in no form.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::bin::{self, Proc};
use crate::support::server::Server;

const EXIT: Duration = Duration::from_secs(30);
const SECRET: &str = "rv-secret-value";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tickertape-doctor-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn reverb_server() -> Server {
    Server::start_with(
        &[
            "--listen",
            "127.0.0.1:0",
            "--app",
            &format!("7:rv-key:{SECRET}"),
        ],
        &[],
    )
    .await
}

/// A Laravel 11 `.env` for Reverb on 127.0.0.1:`port`, as `php artisan install:broadcasting`
/// writes it (but for the host, where `localhost` could be tried as ::1 first).
fn laravel_env(port: u16) -> String {
    format!(
        "APP_NAME=Laravel
BROADCAST_CONNECTION=reverb

REVERB_APP_ID=7
REVERB_APP_KEY=rv-key
REVERB_APP_SECRET={SECRET}
REVERB_HOST=\"127.0.0.1\"
REVERB_PORT={port}
REVERB_SCHEME=http

VITE_APP_NAME=\"${{APP_NAME}}\"
VITE_REVERB_APP_KEY=\"${{REVERB_APP_KEY}}\"
VITE_REVERB_HOST=\"${{REVERB_HOST}}\"
VITE_REVERB_PORT=\"${{REVERB_PORT}}\"
VITE_REVERB_SCHEME=\"${{REVERB_SCHEME}}\"
"
    )
}

fn write_env(name: &str, text: &str) -> String {
    let path = scratch(name).join(".env");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

async fn doctor(args: &[&str], envs: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = bin::command();
    cmd.arg("doctor").args(args).envs(envs.iter().copied());
    Proc::spawn(&mut cmd).finish(EXIT).await
}

/// The hop line of `name`: "✓ tcp …".
fn hop<'a>(stdout: &'a str, name: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| {
            !l.starts_with(' ')
                && l.split_once(' ')
                    .is_some_and(|(_, rest)| rest.trim_start().starts_with(&format!("{name} ")))
        })
        .unwrap_or_else(|| panic!("no {name} hop in:\n{stdout}"))
}

/// The secret appears nowhere, in no form.
fn no_secret(secret: &str, text: &str) {
    let b64 = base64::engine::general_purpose::STANDARD;
    let forms = [
        secret.to_owned(),
        hex::encode(secret),
        hex::encode_upper(secret),
        b64.encode(secret),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
    ];
    for form in forms {
        assert!(!text.contains(&form), "the secret ({form}) leaked:\n{text}");
    }
}

#[tokio::test]
async fn a_healthy_server_passes_every_hop() {
    let server = reverb_server().await;
    let env = write_env("healthy", &laravel_env(server.addr.port()));
    let (code, stdout, stderr) = doctor(&["--env-file", &env], &[]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    for name in [
        "dns",
        "tcp",
        "upgrade",
        "connect",
        "rest",
        "auth",
        "round trip",
    ] {
        assert!(hop(&stdout, name).starts_with('✓'), "{name}:\n{stdout}");
    }
    // The browser's host is 127.0.0.1: said, but no failure.
    assert!(hop(&stdout, "settings").starts_with('!'), "{stdout}");
    assert!(hop(&stdout, "tls").starts_with('-'), "{stdout}");
    assert!(stdout.contains("REVERB_PORT (.env line 8)"), "{stdout}");
    assert!(stdout.contains("subscription_count: 1"), "{stdout}");
    no_secret(SECRET, &format!("{stdout}{stderr}"));

    // One object per hop for CI, and ASCII marks.
    let (code, stdout, _) = doctor(&["--env-file", &env, "--json"], &[]).await;
    assert_eq!(code, 0);
    let hops: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<&str> = hops.iter().map(|h| h["hop"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "settings",
            "dns",
            "tcp",
            "tls",
            "upgrade",
            "connect",
            "rest",
            "auth",
            "round trip",
            "webhooks"
        ]
    );
    // Without --webhooks-listen the webhooks hop is skipped, not failed.
    assert_eq!(hops[9]["status"], "skip", "{stdout}");
    assert!(hops.iter().all(|h| h["status"] != "fail"), "{stdout}");
    let (_, stdout, _) = doctor(&["--env-file", &env, "--ascii", "--no-publish"], &[]).await;
    assert!(hop(&stdout, "rest").starts_with("OK"), "{stdout}");
    assert!(
        stdout.contains("SKIP round trip  not run: --no-publish"),
        "{stdout}"
    );
    assert!(!stdout.contains('✓') && !stdout.contains('✗'), "{stdout}");
}

#[tokio::test]
async fn a_wrong_secret_is_named_and_never_shown() {
    let server = reverb_server().await;
    let env = write_env("wrong-secret", &laravel_env(server.addr.port()));
    let wrong = "wr0ng-s3cret-4a7f";
    let (code, stdout, stderr) =
        doctor(&["--env-file", &env], &[("REVERB_APP_SECRET", wrong)]).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    let rest = hop(&stdout, "rest");
    assert!(
        rest.starts_with('✗') && rest.contains("signature"),
        "{stdout}"
    );
    assert!(
        stdout.contains("the app secret is wrong")
            && stdout.contains("REVERB_APP_SECRET (environment)"),
        "{stdout}"
    );
    no_secret(wrong, &format!("{stdout}{stderr}"));

    // trigger says the same, without the HMAC's inputs or the secret.
    let mut cmd = bin::command();
    cmd.args(["trigger", "c", "e", "--env-file", &env])
        .env("REVERB_APP_SECRET", wrong);
    let (code, stdout, stderr) = Proc::spawn(&mut cmd).finish(EXIT).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("HTTP 401") && stderr.contains("the app secret is wrong"),
        "{stderr}"
    );
    no_secret(wrong, &format!("{stdout}{stderr}"));
}

/// A REST API that answers every request 401 with Pusher's own words, which quote the
/// string it expected to be signed.
async fn pusher_like_401() -> SocketAddr {
    let body = r#"{"error":"Invalid signature: Expected HMAC SHA256 hex digest of POST\n/apps/7/events\nauth_key=rv-key&auth_timestamp=1&auth_version=1.0&body_md5=abc, but got 0f0f"}"#;
    answer_forever(format!(
        "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ))
    .await
}

/// A stranger's HTTP server on 127.0.0.1 that answers every request with `response`.
async fn answer_forever(response: String) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let response = response.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let mut seen = Vec::new();
                // The request's head, and its body by Content-Length (a few KB at most).
                loop {
                    let Ok(n) = tcp.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&seen).to_ascii_lowercase();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text[..end]
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if seen.len() >= end + 4 + len || seen.len() > 64 * 1024 {
                            break;
                        }
                    }
                }
                let _ = tcp.write_all(response.as_bytes()).await;
                let _ = tcp.shutdown().await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn trigger_never_repeats_the_hmac_inputs_of_a_401() {
    let api = pusher_like_401().await;
    let wrong = "wr0ng-s3cret-99b1";
    let mut cmd = bin::command();
    cmd.args(["trigger", "c", "e", "--host", "127.0.0.1", "--port"])
        .arg(api.port().to_string())
        .args(["--key", "rv-key", "--app-id", "7", "--secret", wrong]);
    let (code, stdout, stderr) = Proc::spawn(&mut cmd).finish(EXIT).await;
    assert_eq!(code, 1, "{stderr}");
    let all = format!("{stdout}{stderr}");
    assert!(all.contains("HTTP 401: Invalid signature ("), "{all}");
    assert!(all.contains("the app secret is wrong"), "{all}");
    for dump in [
        "HMAC",
        "auth_key=rv-key",
        "body_md5=abc",
        "/apps/7/events\\n",
    ] {
        assert!(!all.contains(dump), "{dump} in {all}");
    }
    no_secret(wrong, &all);
}

#[tokio::test]
async fn a_browser_port_that_differs_is_named_with_both_variables() {
    let server = reverb_server().await;
    let port = server.addr.port();
    let text = laravel_env(port).replace(
        "VITE_REVERB_PORT=\"${REVERB_PORT}\"",
        "VITE_REVERB_PORT=6001",
    );
    let env = write_env("vite", &text);
    let (code, stdout, stderr) = doctor(&["--env-file", &env], &[]).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(hop(&stdout, "settings").starts_with('✗'), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "VITE_REVERB_PORT=6001 (.env line 14) differs from REVERB_PORT={port} (.env line 8)"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("VITE_REVERB_PORT=\"${REVERB_PORT}\""),
        "{stdout}"
    );
    // The server side still works, and is still checked.
    assert!(hop(&stdout, "round trip").starts_with('✓'), "{stdout}");
}

#[tokio::test]
async fn a_closed_port_is_refused_and_reverb_is_named() {
    // A port nothing listens on: bound, then closed.
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = write_env(
        "closed",
        &format!("{}REVERB_SERVER_PORT=8080\n", laravel_env(port)),
    );
    let (code, stdout, stderr) = doctor(&["--env-file", &env], &[]).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    let tcp = hop(&stdout, "tcp");
    assert!(
        tcp.starts_with('✗') && tcp.contains(&format!("connection refused on 127.0.0.1:{port}")),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "is `php artisan reverb:start` running? Reverb listens on REVERB_SERVER_PORT=8080"
        ),
        "{stdout}"
    );
    assert!(hop(&stdout, "upgrade").contains("not run"), "{stdout}");

    // watch says the same, not "os error 111", and suggests doctor with the same flags.
    let mut cmd = bin::command();
    cmd.args([
        "watch",
        "c",
        "--json",
        "--timeout",
        "2s",
        "--env-file",
        &env,
    ]);
    let (code, _, stderr) = Proc::spawn(&mut cmd).finish(EXIT).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "connection refused on 127.0.0.1:{port}: is a server running? (`tickertape serve` starts one)"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("os error"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "to find which hop fails, run: tickertape doctor --env-file {env}"
        )),
        "{stderr}"
    );
    // channels too.
    let mut cmd = bin::command();
    cmd.args(["channels", "--env-file", &env]);
    let (code, _, stderr) = Proc::spawn(&mut cmd).finish(EXIT).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!("connection refused on 127.0.0.1:{port}"))
            && stderr.contains("tickertape doctor --env-file"),
        "{stderr}"
    );
    no_secret(SECRET, &stderr);
}

#[tokio::test]
async fn wss_against_a_plain_port_names_tls() {
    let server = reverb_server().await;
    let text = laravel_env(server.addr.port()).replace("REVERB_SCHEME=http", "REVERB_SCHEME=https");
    let env = write_env("tls", &text);
    let (code, stdout, stderr) = doctor(&["--env-file", &env], &[]).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    let tls = hop(&stdout, "tls");
    assert!(
        tls.starts_with('✗') && tls.contains("speaks plain HTTP, not TLS"),
        "{stdout}"
    );
    assert!(stdout.contains("REVERB_SCHEME=http"), "{stdout}");

    // watch names it too, instead of "corrupt message InvalidContentType".
    let mut cmd = bin::command();
    cmd.args([
        "watch",
        "c",
        "--json",
        "--timeout",
        "2s",
        "--env-file",
        &env,
    ]);
    let (code, _, stderr) = Proc::spawn(&mut cmd).finish(EXIT).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("speaks plain HTTP, not TLS"), "{stderr}");
    assert!(!stderr.contains("InvalidContentType"), "{stderr}");
}

#[tokio::test]
async fn the_auth_endpoints_page_403_and_419_are_named() {
    let server = reverb_server().await;
    let env = write_env("auth", &laravel_env(server.addr.port()));
    let page = "<!DOCTYPE html><html><head><title>Login</title></head><body>Log in</body></html>";
    let cases = [
        (
            format!("HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=UTF-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}", page.len()),
            "with an HTML page",
            "a login page",
        ),
        (
            "HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}".to_owned(),
            "answered HTTP 403",
            "routes/channels.php",
        ),
        (
            format!("HTTP/1.1 419 unknown status\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}", page.len()),
            "answered HTTP 419",
            "CSRF",
        ),
    ];
    for (response, what, cause) in cases {
        let endpoint = answer_forever(response).await;
        let url = format!("http://{endpoint}/broadcasting/auth");
        let (code, stdout, stderr) = doctor(
            &[
                "--env-file",
                &env,
                "--auth-endpoint",
                &url,
                "--auth-header",
                "Cookie: laravel_session=s3ss10n-c00kie",
            ],
            &[],
        )
        .await;
        assert_eq!(code, 1, "{stdout}{stderr}");
        let auth = hop(&stdout, "auth");
        assert!(
            auth.starts_with('✗') && auth.contains(what),
            "{what}:\n{stdout}"
        );
        assert!(stdout.contains(cause), "{cause}:\n{stdout}");
        assert!(!stdout.contains("s3ss10n"), "{stdout}");
        assert!(hop(&stdout, "round trip").contains("not run"), "{stdout}");
    }
}

#[tokio::test]
async fn a_bad_channel_is_a_usage_error_and_a_bad_env_line_a_failed_hop() {
    let (code, _, stderr) = doctor(&["--channel", "public-one"], &[]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("private channel"), "{stderr}");
    let env = write_env(
        "bad-line",
        "REVERB_APP_KEY=k\nREVERB_APP_SECRET=two words-zq\n",
    );
    let (code, stdout, stderr) = doctor(&["--env-file", &env], &[]).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(hop(&stdout, "settings").contains("line 2"), "{stdout}");
    assert!(!stdout.contains("words-zq"), "{stdout}");
    assert!(hop(&stdout, "tcp").contains("not run"), "{stdout}");
}

#[tokio::test]
async fn an_upgrade_answered_with_404_a_page_or_400_is_named() {
    let page = "<!DOCTYPE html><html><body>Not Found</body></html>";
    let cases = [
        (
            format!(
                "HTTP/1.1 404 Not Found\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
                page.len()
            ),
            "with HTTP 404 and an HTML page",
            "/app/ path",
        ),
        (
            "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_owned(),
            "with HTTP 400",
            "proxy_set_header Upgrade $http_upgrade",
        ),
    ];
    for (response, what, named) in cases {
        let addr = answer_forever(response).await;
        let port = addr.port().to_string();
        let flags = ["--host", "127.0.0.1", "--port", &port, "--key", "rv-key"];
        let (code, stdout, stderr) = doctor(&flags, &[]).await;
        assert_eq!(code, 1, "{stdout}{stderr}");
        let upgrade = hop(&stdout, "upgrade");
        assert!(
            upgrade.starts_with('✗')
                && upgrade.contains(&format!("the WebSocket upgrade of /app/rv-key {what}")),
            "{stdout}"
        );
        assert!(stdout.contains(named), "{named}:\n{stdout}");
        // watch says the same.
        let mut cmd = bin::command();
        cmd.args(["watch", "c", "--json", "--timeout", "2s"])
            .args(flags);
        let (code, _, stderr) = Proc::spawn(&mut cmd).finish(EXIT).await;
        assert_eq!(code, 1, "{stderr}");
        assert!(stderr.contains(what), "{stderr}");
    }
}

/// `serve` for Reverb's app, with its webhooks signed with `secret` and sent to `port`
/// (none without a port).
async fn hooked_server(secret: &str, port: Option<u16>) -> Server {
    let app = format!("7:rv-key:{secret}");
    let url = port.map(|p| format!("http://127.0.0.1:{p}/hooks"));
    let mut args = vec!["--listen", "127.0.0.1:0", "--app", &app];
    if let Some(url) = &url {
        args.extend(["--webhook", url.as_str()]);
    }
    Server::start_with(&args, &[]).await
}

#[tokio::test]
async fn webhooks_that_arrive_and_verify_pass() {
    let port = crate::support::multi::free_port();
    let server = hooked_server(SECRET, Some(port)).await;
    let env = write_env("hooks-ok", &laravel_env(server.addr.port()));
    let listen = format!("127.0.0.1:{port}");
    let (code, stdout, stderr) = doctor(
        &["--env-file", &env, "--webhooks-listen", &listen, "--json"],
        &[],
    )
    .await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    let last: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["hop"], "webhooks", "{stdout}");
    assert_eq!(last["status"], "pass", "{stdout}");
    let saw = last["saw"].to_string();
    assert!(
        saw.contains("channel_occupied of private-tickertape-doctor-")
            && saw.contains("signature verified"),
        "{stdout}"
    );
    no_secret(SECRET, &format!("{stdout}{stderr}"));
}

#[tokio::test]
async fn webhooks_signed_with_another_secret_name_the_signature_and_never_show_it() {
    let port = crate::support::multi::free_port();
    let theirs = "th31r-s3cret-9c1d";
    let server = hooked_server(theirs, Some(port)).await;
    let env = write_env("hooks-bad", &laravel_env(server.addr.port()));
    let listen = format!("127.0.0.1:{port}");
    let (code, stdout, stderr) =
        doctor(&["--env-file", &env, "--webhooks-listen", &listen], &[]).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    // The REST API refuses the secret; the webhooks, provoked on a public channel, agree.
    assert!(hop(&stdout, "rest").starts_with('✗'), "{stdout}");
    let hooks = hop(&stdout, "webhooks");
    assert!(
        hooks.starts_with('✗') && hooks.contains("signature does not verify"),
        "{stdout}"
    );
    assert!(
        stdout.contains("REVERB_APP_SECRET") && stdout.contains("the secret is never shown"),
        "{stdout}"
    );
    no_secret(SECRET, &format!("{stdout}{stderr}"));
    no_secret(theirs, &format!("{stdout}{stderr}"));
}

#[tokio::test]
async fn no_webhook_within_the_deadline_is_named() {
    let server = hooked_server(SECRET, None).await;
    let env = write_env("hooks-none", &laravel_env(server.addr.port()));
    let (code, stdout, stderr) = doctor(
        &[
            "--env-file",
            &env,
            "--webhooks-listen",
            "127.0.0.1:0",
            "--hop-timeout",
            "1s",
        ],
        &[],
    )
    .await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(hop(&stdout, "round trip").starts_with('✓'), "{stdout}");
    let hooks = hop(&stdout, "webhooks");
    assert!(
        hooks.starts_with('✗')
            && hooks.contains("no webhook arrived")
            && hooks.contains("within 1 s"),
        "{stdout}"
    );
    assert!(
        stdout.contains("tickertape serve --webhook http://127.0.0.1:"),
        "{stdout}"
    );
    no_secret(SECRET, &format!("{stdout}{stderr}"));
}

#[tokio::test]
async fn webhooks_of_another_app_are_named_by_their_key() {
    let server = hooked_server(SECRET, None).await;
    let env = write_env("hooks-key", &laravel_env(server.addr.port()));
    let port = crate::support::multi::free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut cmd = bin::command();
    cmd.args([
        "doctor",
        "--env-file",
        &env,
        "--webhooks-listen",
        &listen,
        "--hop-timeout",
        "2s",
    ]);
    let proc = Proc::spawn(&mut cmd);
    // Another app's webhook, as soon as the doctor listens.
    let addr: SocketAddr = listen.parse().unwrap();
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(tokio::time::Instant::now() < until, "doctor never listened");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let body = crate::support::webhooks::occupied("stock_ticker");
    let sig = protocol::webhook::sign("their-secret", body.as_bytes());
    let (status, _) =
        crate::support::webhooks::post(addr, Some("their-key"), Some(&sig), body.as_bytes()).await;
    assert_eq!(status, 200);
    let (code, stdout, stderr) = proc.finish(EXIT).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    let hooks = hop(&stdout, "webhooks");
    assert!(
        hooks.starts_with('✗') && hooks.contains("with key their-key, not this app's key rv-key"),
        "{stdout}"
    );
    no_secret(SECRET, &format!("{stdout}{stderr}"));
}

#[tokio::test]
async fn the_secret_built_into_other_settings_is_never_shown() {
    // A closed port on 127.0.0.1: the run stops at tcp, after the settings are shown.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!(
        "BROADCAST_CONNECTION=reverb\nREVERB_APP_KEY=rv-key\nREVERB_APP_SECRET={SECRET}\n\
         REVERB_HOST=127.0.0.1\nREVERB_SCHEME=http\n"
    );
    // A setting built from the secret, shown in the settings hop.
    let env = write_env(
        "secret-app-id",
        &format!("{base}REVERB_PORT={port}\nREVERB_APP_ID=${{REVERB_APP_SECRET}}\n"),
    );
    for json in [false, true] {
        let mut args = vec!["--env-file", env.as_str(), "--hop-timeout", "2s"];
        if json {
            args.push("--json");
        }
        let (code, stdout, stderr) = doctor(&args, &[]).await;
        assert_eq!(code, 1, "{stdout}{stderr}");
        assert!(stdout.contains("REVERB_APP_ID"), "{stdout}");
        no_secret(SECRET, &format!("{stdout}{stderr}"));
        no_secret(&SECRET.to_ascii_uppercase(), &format!("{stdout}{stderr}"));
    }
    // A value that cannot be a port, built from the secret: named by its variable and line.
    let env = write_env(
        "secret-port",
        &format!("{base}REVERB_PORT=${{REVERB_APP_SECRET}}\n"),
    );
    let (code, stdout, stderr) = doctor(&["--env-file", &env], &[]).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        hop(&stdout, "settings").contains("REVERB_PORT") && stdout.contains("line 6"),
        "{stdout}"
    );
    no_secret(SECRET, &format!("{stdout}{stderr}"));
}

/// A WebSocket server on 127.0.0.1 that sends `text` to each connection, then stays silent.
async fn websocket_saying(text: &'static str) -> SocketAddr {
    use futures_util::SinkExt;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                let _ = ws
                    .send(tokio_tungstenite::tungstenite::Message::text(text))
                    .await;
                tokio::time::sleep(Duration::from_secs(30)).await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn a_malformed_connection_established_is_named_as_such() {
    let addr = websocket_saying(
        r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"1.1\u001b]0;x\u0007\",\"activity_timeout\":1e400}"}"#,
    )
    .await;
    let port = addr.port().to_string();
    let (code, stdout, stderr) = doctor(
        &[
            "--key",
            "rv-key",
            "--secret",
            SECRET,
            "--app-id",
            "7",
            "--port",
            &port,
            "--hop-timeout",
            "2s",
        ],
        &[],
    )
    .await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    let connect = hop(&stdout, "connect");
    assert!(
        connect.contains("no valid pusher:connection_established") && connect.contains("1 message"),
        "{stdout}"
    );
    assert!(
        hop(&stdout, "rest").contains("no Pusher connection"),
        "{stdout}"
    );
    assert!(!stdout.contains('\u{1b}'), "{stdout}");
    no_secret(SECRET, &format!("{stdout}{stderr}"));
}
