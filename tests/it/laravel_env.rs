//! Laravel's settings as Laravel writes them: `REVERB_*` as well as `PUSHER_*`, chosen by
//! `BROADCAST_CONNECTION`, from the environment or a `.env` file (`--env-file`), against the
//! real `serve`. Precedence: flags, then the environment, then the file, then the profile.

use std::path::PathBuf;
use std::time::Duration;

use crate::support::bin::{self, Proc};
use crate::support::server::Server;
use tokio::process::Command;

const EXIT: Duration = Duration::from_secs(20);

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("tickertape-laravel-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn reverb_server() -> Server {
    Server::start_with(
        &[
            "--listen",
            "127.0.0.1:0",
            "--app",
            "7:rv-key:rv-secret-value",
        ],
        &[],
    )
    .await
}

fn reverb_env(port: u16) -> Vec<(&'static str, String)> {
    vec![
        ("REVERB_APP_ID", "7".into()),
        ("REVERB_APP_KEY", "rv-key".into()),
        ("REVERB_APP_SECRET", "rv-secret-value".into()),
        ("REVERB_HOST", "127.0.0.1".into()),
        ("REVERB_PORT", port.to_string()),
        ("REVERB_SCHEME", "http".into()),
    ]
}

/// Triggers `event` on `channel` with `setup` until `trigger` says it reached a subscriber
/// (the watcher is subscribed), 10 s at most.
async fn trigger_until_delivered(setup: impl Fn(&mut Command), channel: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let mut cmd = bin::command();
        cmd.args(["trigger", channel, "hello", r#"{"n":1}"#]);
        setup(&mut cmd);
        let (code, _, stderr) = Proc::spawn(&mut cmd).finish(EXIT).await;
        assert_eq!(code, 0, "{stderr}");
        if stderr.contains("delivered to 1 subscriber") {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never delivered: {stderr}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn with_only_reverb_variables_watch_receives_what_trigger_sends() {
    let server = reverb_server().await;
    let env = reverb_env(server.addr.port());
    let mut cmd = bin::command();
    cmd.args([
        "watch",
        "private-orders",
        "--json",
        "--count",
        "1",
        "--timeout",
        "15s",
    ])
    .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    let watch = Proc::spawn(&mut cmd);
    trigger_until_delivered(
        |c| {
            c.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        },
        "private-orders",
    )
    .await;
    let (code, stdout, stderr) = watch.finish(EXIT).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(r#""event":"hello""#), "{stdout}");
}

const LARAVEL_ENV: &str = "APP_NAME=Laravel
APP_KEY=base64:aGVsbG8=

# Laravel 10's leftovers: ignored, since BROADCAST_CONNECTION says reverb
PUSHER_APP_ID=
PUSHER_APP_KEY=
PUSHER_HOST=
PUSHER_PORT=443
PUSHER_SCHEME=https
PUSHER_APP_CLUSTER=mt1

export BROADCAST_CONNECTION=reverb

REVERB_APP_ID=7
REVERB_APP_KEY=\"rv-key\"
REVERB_APP_SECRET='rv-secret-value'
REVERB_HOST=\"localhost\"
REVERB_PORT={PORT}
REVERB_SCHEME=http # local

VITE_REVERB_APP_KEY=\"${REVERB_APP_KEY}\"
VITE_REVERB_HOST=\"${REVERB_HOST}\"
VITE_REVERB_PORT=\"${REVERB_PORT}\"
VITE_REVERB_SCHEME=\"${REVERB_SCHEME}\"
";

#[tokio::test]
async fn an_env_file_is_read_as_laravel_writes_it_and_flags_and_the_environment_win() {
    let server = reverb_server().await;
    let port = server.addr.port();
    let dir = scratch("file");
    let env_file = dir.join(".env");
    // localhost would be tried as ::1 first; the server listens on 127.0.0.1 only.
    let text = LARAVEL_ENV
        .replace("{PORT}", &port.to_string())
        .replace("\"localhost\"", "127.0.0.1");
    std::fs::write(&env_file, &text).unwrap();
    let file = env_file.to_str().unwrap().to_owned();
    let mut cmd = bin::command();
    cmd.args([
        "watch",
        "private-orders",
        "--json",
        "--count",
        "1",
        "--timeout",
        "15s",
    ])
    .args(["--env-file", &file]);
    let watch = Proc::spawn(&mut cmd);
    trigger_until_delivered(
        |c| {
            c.args(["--env-file", &file]);
        },
        "private-orders",
    )
    .await;
    let (code, stdout, stderr) = watch.finish(EXIT).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(r#""event":"hello""#), "{stdout}");

    // The file names a dead port: the environment's wins over it, and a flag over both.
    let dead = text.replace(&format!("REVERB_PORT={port}"), "REVERB_PORT=9");
    std::fs::write(&env_file, dead).unwrap();
    let mut cmd = bin::command();
    cmd.args(["channels", "--env-file", &file])
        .env("REVERB_PORT", port.to_string());
    let (code, _, stderr) = Proc::spawn(&mut cmd).finish(EXIT).await;
    assert_eq!(code, 0, "the environment's port: {stderr}");
    let mut cmd = bin::command();
    cmd.args(["channels", "--env-file", &file, "--port", &port.to_string()])
        .env("REVERB_PORT", "10");
    let (code, _, stderr) = Proc::spawn(&mut cmd).finish(EXIT).await;
    assert_eq!(code, 0, "the flag's port: {stderr}");
    let mut cmd = bin::command();
    cmd.args(["channels", "--env-file", &file]);
    let (code, _, stderr) = Proc::spawn(&mut cmd).finish(EXIT).await;
    assert_eq!(code, 1, "the file's dead port: {stderr}");

    // The environment's BROADCAST_CONNECTION wins over the file's: PUSHER_* is then read,
    // and its key (empty) is unset, so the app key comes from nowhere but the defaults.
    let mut cmd = bin::command();
    cmd.args(["channels", "--env-file", &file])
        .env("BROADCAST_CONNECTION", "pusher")
        .env("PUSHER_APP_KEY", "pusher-key")
        .env("PUSHER_HOST", "127.0.0.1")
        .env("PUSHER_PORT", port.to_string())
        .env("PUSHER_SCHEME", "http");
    let (code, _, stderr) = Proc::spawn(&mut cmd).finish(EXIT).await;
    // Signed with PUSHER_* (no secret, no app id): refused before any request.
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("PUSHER_APP_SECRET"), "{stderr}");
}

#[tokio::test]
async fn a_bad_env_file_line_is_named_by_its_number_never_its_value() {
    let dir = scratch("bad");
    let env_file = dir.join(".env");
    std::fs::write(
        &env_file,
        "REVERB_APP_KEY=k\n# fine\nREVERB_APP_SECRET=s3cr3t value-xyz\nREVERB_HOST=h\n",
    )
    .unwrap();
    for command in ["watch", "trigger", "channels", "stocks", "check", "probe"] {
        let mut cmd = bin::command();
        cmd.arg(command);
        match command {
            "watch" => cmd.args(["c", "--json"]),
            "trigger" => cmd.args(["c", "e"]),
            _ => &mut cmd,
        };
        cmd.args(["--env-file", env_file.to_str().unwrap()]);
        let (code, stdout, stderr) = Proc::spawn(&mut cmd).finish(EXIT).await;
        let all = format!("{stdout}{stderr}");
        assert_ne!(code, 0, "{command}: {all}");
        assert!(all.contains("line 3"), "{command}: {all}");
        assert!(
            !all.contains("s3cr3t") && !all.contains("xyz"),
            "{command}: {all}"
        );
    }

    // A value that cannot be a port names its variable and where it was set.
    std::fs::write(
        &env_file,
        "REVERB_APP_KEY=k\nREVERB_HOST=h\nREVERB_PORT=eighty\n",
    )
    .unwrap();
    let mut cmd = bin::command();
    cmd.args([
        "watch",
        "c",
        "--json",
        "--env-file",
        env_file.to_str().unwrap(),
    ]);
    let (code, _, stderr) = Proc::spawn(&mut cmd).finish(EXIT).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("REVERB_PORT") && stderr.contains("line 3"),
        "{stderr}"
    );
    // The same from the environment is a usage error, as for a flag.
    let mut cmd = bin::command();
    cmd.args(["watch", "c", "--json"])
        .env("REVERB_APP_KEY", "k")
        .env("REVERB_HOST", "h")
        .env("REVERB_PORT", "eighty");
    let (code, _, stderr) = Proc::spawn(&mut cmd).finish(EXIT).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("REVERB_PORT (environment)"), "{stderr}");
}

#[tokio::test]
async fn an_env_file_that_is_a_fifo_with_no_writer_is_refused_in_time() {
    let fifo = scratch("fifo").join("fifo.env");
    let _ = std::fs::remove_file(&fifo);
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    for command in ["watch", "doctor"] {
        let mut cmd = bin::command();
        cmd.arg(command);
        if command == "watch" {
            cmd.args(["c", "--json"]);
        }
        cmd.args(["--env-file", fifo.to_str().unwrap()]);
        let started = std::time::Instant::now();
        let (code, stdout, stderr) = Proc::spawn(&mut cmd).finish(EXIT).await;
        let all = format!("{stdout}{stderr}");
        assert_eq!(code, 1, "{command}: {all}");
        assert!(
            started.elapsed() < Duration::from_secs(12),
            "{command}: {all}"
        );
        assert!(all.contains("nothing to read within"), "{command}: {all}");
    }
}

#[tokio::test]
async fn help_says_the_precedence_and_the_variables() {
    let mut cmd = bin::command();
    cmd.args(["watch", "--help"]);
    let (code, stdout, _) = Proc::spawn(&mut cmd).finish(EXIT).await;
    assert_eq!(code, 0);
    let flat = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(
            "Precedence: flags, then the environment, then this file, then the profile, then defaults"
        ),
        "{stdout}"
    );
    assert!(
        flat.contains("REVERB_APP_KEY") && flat.contains("PUSHER_APP_SECRET"),
        "{stdout}"
    );
}
