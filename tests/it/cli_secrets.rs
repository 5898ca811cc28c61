//! The real binary never echoes a secret in an error: not from `--app`, not from a malformed
//! config file, not from `--auth-header`, not from `PUSHER_APP_SECRET`. Each error still says
//! which flag, line or part is wrong.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::bin::{self, Proc};
use tokio::process::Command;

const SECRET: &str = "SuperSecret9f3c";

/// The binary (clean environment, config home at `home`) with `args`.
fn tickertape(home: &Path, args: &[&str]) -> Command {
    let mut cmd = bin::command_in(home);
    cmd.args(args);
    cmd
}

/// Runs to the end (every case here fails before it connects anywhere): (code, stdout+stderr).
async fn run(mut cmd: Command) -> (i32, String) {
    let (code, stdout, stderr) = Proc::spawn(&mut cmd).finish(Duration::from_secs(10)).await;
    (code, format!("{stdout}{stderr}"))
}

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("tickertape-secrets-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn no_secret(what: &str, code: i32, text: &str) {
    assert_ne!(code, 0, "{what}: should fail: {text}");
    assert!(
        !text.contains(SECRET),
        "{what}: the secret is shown: {text}"
    );
}

#[tokio::test]
async fn a_bad_app_flag_says_what_is_wrong_without_the_value() {
    let home = scratch("app");
    for (spec, wrong) in [
        (format!("1::{SECRET}"), "KEY is empty"),
        (format!("1:{SECRET}"), "only one ':'"),
        (SECRET.to_owned(), "no ':'"),
        (format!(":key:{SECRET}"), "ID is empty"),
    ] {
        let (code, text) = run(tickertape(&home, &["serve", "--app", &spec])).await;
        no_secret(&spec, code, &text);
        assert!(
            text.contains("--app") && text.contains(wrong),
            "{spec}: {text}"
        );
    }
}

#[tokio::test]
async fn a_malformed_config_file_names_the_line_but_never_quotes_it() {
    let home = scratch("config");
    let app = "[[server.apps]]\nid = \"1\"\nkey = \"k\"\n";
    let cases = [
        // An unterminated string: toml's own error shows the line.
        (format!("{app}secret = \"{SECRET}\n"), "line 4"),
        // A secret in a field of another type: serde's error repeats the value.
        (
            format!("[profiles.default]\nkey = \"k\"\nport = \"{SECRET}\"\n"),
            "line 3",
        ),
        (
            format!("{app}secret = \"s\"\nclient_events = \"{SECRET}\"\n"),
            "line 5",
        ),
        (format!("{app}secret = \"{SECRET}\" trailing\n"), "line 4"),
    ];
    for (n, (text, line)) in cases.iter().enumerate() {
        let file = home.join(format!("bad{n}.toml"));
        std::fs::write(&file, text).unwrap();
        let file = file.to_str().unwrap();
        for args in [
            vec!["serve", "--config", file],
            vec!["trigger", "--config", file, "c", "e", "{}"],
            vec!["channels", "--config", file],
            vec!["stocks", "--config", file],
            vec!["watch", "--config", file, "c"],
        ] {
            let (code, out) = run(tickertape(&home, &args)).await;
            no_secret(&format!("{args:?} with {text:?}"), code, &out);
            assert!(
                out.contains("invalid config file") && out.contains(line),
                "{args:?}: {out}"
            );
        }
    }
}

#[tokio::test]
async fn an_auth_header_without_its_colon_is_not_echoed() {
    let home = scratch("header");
    let header = format!("Authorization Bearer {SECRET}: x");
    let (code, text) = run(tickertape(&home, &["watch", "--auth-header", &header, "c"])).await;
    no_secret("watch", code, &text);
    assert!(text.contains("--auth-header"), "{text}");
}

#[tokio::test]
async fn the_secret_from_the_environment_is_never_shown() {
    let home = scratch("env");
    for command in ["serve", "trigger", "channels", "stocks", "watch"] {
        let mut cmd = tickertape(&home, &[command, "--help"]);
        cmd.env("PUSHER_APP_SECRET", SECRET);
        let (_, text) = run(cmd).await;
        assert!(!text.contains(SECRET), "{command} --help: {text}");
        // An error in the same run does not show it either.
        let mut cmd = tickertape(
            &home,
            &[command, "--config", "/nonexistent/tickertape.toml"],
        );
        cmd.env("PUSHER_APP_SECRET", SECRET);
        let (code, text) = run(cmd).await;
        no_secret(command, code, &text);
    }
}
