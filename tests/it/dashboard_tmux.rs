//! The real dashboard in tmux at 80×24, against `tickertape serve` and `tickertape stocks`:
//! rows appear and move, pause freezes the view and counts, the filter applies, and `q`
//! leaves the terminal as it was. Needs tmux (`.ci/run` installs it).

use std::process::Stdio;
use std::time::Duration;

use crate::support::bin::{self, Proc};
use crate::support::server::Server;
use crate::support::tmux::{Tmux, clean_env, exit_status, files};

/// The ticker's rows (lines of the top pane that start with a company name) up to their AGE
/// column: ages go on counting while the view is paused, since an age is how long ago a
/// shown value came.
fn rows(screen: &str) -> Vec<String> {
    let age = screen
        .lines()
        .find(|l| l.contains("KEY") && l.contains("AGE"))
        .and_then(|header| header.split("AGE").next())
        .map(|before| before.chars().count())
        .unwrap_or(usize::MAX);
    screen
        .lines()
        .skip(3)
        .take_while(|l| !l.starts_with('└'))
        .filter(|l| l.starts_with('│') && l.chars().nth(1).is_some_and(|c| c.is_ascii_uppercase()))
        .map(|l| l.chars().take(age).collect())
        .collect()
}

fn status(screen: &str) -> &str {
    screen.lines().next().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_in_tmux() {
    let server = Server::start(&[]).await;
    let port = server.addr.port().to_string();
    let mut stocks = bin::command();
    stocks
        .args([
            "stocks",
            "--interval",
            "100ms",
            "--key",
            "app-key",
            "--secret",
            "app-secret",
            "--app-id",
            "1",
        ])
        .args(["--host", "127.0.0.1", "--port", &port])
        .stdout(Stdio::null());
    let mut stocks = Proc::spawn(&mut stocks);
    // The binary's stderr goes to a file, checked for a panic at the end.
    let (home, stderr_file, status_file) = files("watch");
    let command = format!(
        "{} {} watch stock_ticker --key app-key --host 127.0.0.1 --port {port} --bind 'update_event=ticker(key=name,value=price)' 2> {}",
        clean_env(&home),
        bin::BIN,
        stderr_file.display()
    );
    // tmux 3.3 does not always record a dead pane's exit status: the shell writes it down.
    let tmux = Tmux::start(
        &format!("{command}; echo $? > {}", status_file.display()),
        &stderr_file,
    );

    // Rows appear, and they move.
    let first = tmux.wait("three ticker rows", |s| rows(s).len() >= 3);
    assert!(status(&first).starts_with("connected"), "{first}");
    let later = tmux.wait("the ticker to move", |s| {
        rows(s) != rows(&first) && rows(s).len() >= 3
    });
    assert!(
        later.contains('▲') || later.contains('▼') || rows(&later).len() > rows(&first).len(),
        "{later}"
    );

    // Pause: the view freezes while +N counts what arrives.
    tmux.keys(&["Space"]);
    let paused = tmux.wait("paused", |s| status(s).contains("paused +"));
    let more = tmux.wait("+N to grow", |s| {
        status(s).contains("paused +") && status(s) != status(&paused)
    });
    assert_eq!(rows(&more), rows(&paused), "the ticker did not freeze");
    tmux.keys(&["Space"]);
    tmux.wait("resumed", |s| !status(s).contains("paused"));

    // Filter the log.
    tmux.keys(&["f", "name=ACME", "Enter"]);
    let filtered = tmux.wait("the filter", |s| s.contains("filter: name=ACME"));
    let log_lines: Vec<&str> = filtered
        .lines()
        .skip_while(|l| !l.contains("filter: name=ACME"))
        .skip(1)
        .take_while(|l| l.starts_with('│'))
        .filter(|l| l.len() > 4 && l.contains("stock_ticker"))
        .collect();
    assert!(log_lines.iter().all(|l| l.contains("ACME")), "{filtered}");

    // q quits, and the terminal is left as it was (the alternate screen is gone).
    tmux.keys(&["q"]);
    let status = exit_status(&tmux, &status_file);
    assert_eq!(
        status.trim(),
        "0",
        "the dashboard's exit status; its stderr:\n{}",
        tmux.stderr()
    );
    assert_eq!(
        tmux.pane("#{alternate_on}"),
        "0",
        "the alternate screen was left on"
    );
    let after = tmux.screen();
    assert!(
        !after.contains("┌ ticker"),
        "the dashboard was left on the screen:\n{after}"
    );
    bin::assert_no_panic(&tmux.stderr());
    let _ = stocks.child.start_kill();
    stocks.wait(Duration::from_secs(10)).await;
}

#[test]
fn keys_from_the_config_file_drive_the_dashboard() {
    let home = std::env::temp_dir().join(format!("tickertape-tmux-keys-{}", std::process::id()));
    std::fs::create_dir_all(home.join("tickertape")).unwrap();
    std::fs::write(
        home.join("tickertape").join("config.toml"),
        "[keys]\nhelp = \"h\"\nquit = \"x\"\n",
    )
    .unwrap();
    let stderr_file = home.join("stderr");
    let _ = std::fs::remove_file(&stderr_file);
    // Nothing listens on port 9: the dashboard draws while it retries.
    let command = format!(
        "{} {} watch c --key app-key --host 127.0.0.1 --port 9 2> {}",
        clean_env(&home),
        bin::BIN,
        stderr_file.display()
    );
    let tmux = Tmux::start(&command, &stderr_file);
    // Waited for whole: a screen captured mid-draw may lack the hint line yet.
    let first = tmux.wait("the dashboard with the configured key hints", |s| {
        s.contains("ticker") && s.contains("x quit")
    });
    assert!(first.contains("h help"), "{first}");
    tmux.keys(&["q", "h"]);
    // Waited for whole, to its bottom edge: tmux may show a frame it has read in part.
    let help = tmux.wait("the help", |s| {
        s.contains("this help") && s.contains("more below")
    });
    assert_eq!(
        tmux.pane("#{pane_dead}"),
        "0",
        "q no longer quits, yet it ended the dashboard:\n{help}"
    );
    assert!(
        help.contains("x  Ctrl-C"),
        "the help names the quit key:\n{help}"
    );
    // Esc on its own: Esc then x at once reads as Alt-x.
    tmux.keys(&["Escape"]);
    tmux.wait("the help to close", |s| !s.contains("this help"));
    tmux.keys(&["x"]);
    tmux.wait("x to quit", |s| {
        tmux.pane("#{pane_dead}") == "1" || !s.contains("ticker")
    });
}

/// A refused connection (a wrong key: `pusher:error 4001`) ends the dashboard as it ends
/// `--json`: the reason is on the screen at 80×24, and after `q` on stderr, with status 1.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_connection_exits_1_like_json() {
    let server = Server::start(&[]).await;
    let port = server.addr.port().to_string();
    let (home, stderr_file, status_file) = files("4001");
    let json = Proc::spawn(bin::command_in(&home).args([
        "watch",
        "c",
        "--json",
        "--key",
        "wrong-key",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
    ]));
    let (json_code, _, json_stderr) = json.finish(Duration::from_secs(10)).await;
    assert_eq!(json_code, 1, "{json_stderr}");

    let command = format!(
        "{} {} watch c --key wrong-key --host 127.0.0.1 --port {port} 2> {}; echo $? > {}",
        clean_env(&home),
        bin::BIN,
        stderr_file.display(),
        status_file.display()
    );
    let tmux = Tmux::start(&command, &stderr_file);
    let reason = "pusher:error 4001: App key wrong-key does not exist";
    tmux.wait("the refusal in full", |s| {
        s.contains(&format!("connection refused: {reason}"))
    });
    tmux.keys(&["q"]);
    let status = exit_status(&tmux, &status_file);
    assert_eq!(
        status.trim(),
        json_code.to_string(),
        "the dashboard's exit status against --json's; its stderr:\n{}",
        tmux.stderr()
    );
    assert!(
        tmux.stderr()
            .contains(&format!("tickertape: connection refused: {reason}")),
        "{}",
        tmux.stderr()
    );
}

/// `tickertape webhooks` on a terminal is the dashboard: each webhook event a log line on its
/// channel, their counts by channel in the top pane, an invalid signature a line of its own
/// with the signature expected, and `q` ends it with status 0.
#[tokio::test(flavor = "multi_thread")]
async fn received_webhooks_are_shown_in_the_dashboard() {
    use crate::support::webhooks::{KEY, SECRET, post};
    use protocol::webhook::sign;

    let (home, stderr_file, status_file) = files("hooks");
    let command = format!(
        "{} {} webhooks --listen 127.0.0.1:0 --key {KEY} --secret {SECRET} 2> {}; echo $? > {}",
        clean_env(&home),
        bin::BIN,
        stderr_file.display(),
        status_file.display()
    );
    let tmux = Tmux::start(&command, &stderr_file);
    let screen = tmux.wait("the webhooks dashboard", |s| {
        s.contains("webhooks on http://")
    });
    let addr: std::net::SocketAddr = status(&screen)
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in the status bar:\n{screen}"));

    let body = r#"{"time_ms":1700000000000,"events":[{"name":"channel_occupied","channel":"stock_ticker"},{"name":"member_added","channel":"presence-room","user_id":"u1"}]}"#;
    let sig = sign(SECRET, body.as_bytes());
    assert_eq!(
        post(addr, Some(KEY), Some(&sig), body.as_bytes()).await.0,
        200
    );
    let shown = tmux.wait("both events in the log", |s| {
        s.contains("stock_ticker channel_occupied") && s.contains("presence-room member_added")
    });
    assert!(shown.contains(r#"{"user_id":"u1","valid":true"#), "{shown}");
    assert!(shown.contains("2 msgs"), "{shown}");

    let bad = r#"{"time_ms":1,"events":[{"name":"channel_vacated","channel":"stock_ticker"}]}"#;
    assert_eq!(
        post(addr, Some(KEY), Some("00"), bad.as_bytes()).await.0,
        200
    );
    tmux.wait("the invalid one, then its event", |s| {
        s.contains("INVALID webhook signature (app app-key)")
            && s.contains("stock_ticker channel_vacated")
    });
    // Enter inspects the last line: its data says it is not valid.
    tmux.keys(&["Enter"]);
    tmux.wait("the inspected event", |s| s.contains("\"valid\": false"));
    tmux.keys(&["Escape"]);
    // The top pane counts them by channel, names in full.
    let counts = tmux.wait("the counts", |s| s.contains(" channel_vacated 1"));
    assert!(counts.contains(" channel_occupied 1"), "{counts}");

    tmux.keys(&["q"]);
    let status = exit_status(&tmux, &status_file);
    assert_eq!(status.trim(), "0", "its stderr:\n{}", tmux.stderr());
    assert_eq!(tmux.pane("#{alternate_on}"), "0");
}

/// `--lines` keeps the lines on a terminal.
#[tokio::test(flavor = "multi_thread")]
async fn webhooks_with_lines_print_lines_on_a_terminal() {
    use crate::support::webhooks::{KEY, SECRET, occupied, post};
    use protocol::webhook::sign;

    let (home, stderr_file, _) = files("lines");
    let command = format!(
        "{} {} webhooks --lines --listen 127.0.0.1:0 --key {KEY} --secret {SECRET} 2>&1 | tee {}",
        clean_env(&home),
        bin::BIN,
        stderr_file.display()
    );
    let tmux = Tmux::start(&command, &stderr_file);
    let screen = tmux.wait("the address", |s| {
        s.contains("receiving webhooks on http://")
    });
    let addr: std::net::SocketAddr = screen
        .split("receiving webhooks on http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address:\n{screen}"));
    let body = occupied("stock_ticker");
    let sig = sign(SECRET, body.as_bytes());
    assert_eq!(
        post(addr, Some(KEY), Some(&sig), body.as_bytes()).await.0,
        200
    );
    let shown = tmux.wait("the line", |s| {
        s.contains("valid   app app-key channel_occupied stock_ticker")
    });
    assert!(!shown.contains("┌ events"), "{shown}");
}
