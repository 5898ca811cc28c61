//! Every screen on a real terminal (tmux at 80×24) ends the same way, whatever ends it:
//! SIGTERM and SIGHUP to `watch`, `replay`, `webhooks` and `probe` restore the terminal
//! (cooked mode, the main screen) and exit 0, as `q` does; `[keys]` rebinds probe's keys as
//! it rebinds watch's; Ctrl-C quits whatever `[keys]` says. A dashboard whose connection
//! never came up restores the terminal too, and exits 1, as `--help` says. Needs tmux.

use std::path::{Path, PathBuf};

use crate::support::bin;
use crate::support::server::{KEY, SECRET, Server};
use crate::support::tmux::{Tmux, assert_cooked, clean_env, exit_status, files, recorded};

/// A screen in tmux: `args` to the binary, with the test's home (and its config file).
struct Run {
    tmux: Tmux,
    home: PathBuf,
    stty: PathBuf,
    status: PathBuf,
}

fn start(name: &str, args: &str, config: Option<&str>) -> Run {
    let (home, stderr, status) = files(name);
    let stty = home.join("stty");
    let _ = std::fs::remove_file(&stty);
    let dir = home.join("tickertape");
    let _ = std::fs::remove_file(dir.join("config.toml"));
    if let Some(text) = config {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.toml"), text).unwrap();
    }
    let command = format!("{} {} {args}", clean_env(&home), bin::BIN);
    let tmux = Tmux::start(&recorded(&command, &stderr, &stty, &status), &stderr);
    Run {
        tmux,
        home,
        stty,
        status,
    }
}

impl Run {
    /// It ended with 0, the terminal as it was: cooked, the main screen, nothing left.
    fn ended_cleanly(&self, what: &str, left: &str) {
        self.ended_with("0", what, left);
    }

    /// It ended with `code`, the terminal as it was.
    fn ended_with(&self, want: &str, what: &str, left: &str) {
        let code = exit_status(&self.tmux, &self.status);
        assert_eq!(
            code.trim(),
            want,
            "{what}: the exit status; its stderr:\n{}",
            self.tmux.stderr()
        );
        assert_cooked(&self.stty);
        assert_eq!(
            self.tmux.pane("#{alternate_on}"),
            "0",
            "{what}: the alternate screen was left on"
        );
        let after = self.tmux.screen();
        assert!(
            !after.contains(left),
            "{what}: the screen was left behind:\n{after}"
        );
    }
}

/// `watch` of `server` (or, without one, of a port nothing listens on, where the screen
/// draws while it retries), once its screen is up and connected (or refused once).
fn watch(name: &str, server: Option<&Server>, config: Option<&str>) -> Run {
    let port = server.map_or(9, |s| s.addr.port());
    let run = start(
        name,
        &format!("watch c --key {KEY} --host 127.0.0.1 --port {port}"),
        config,
    );
    // Nothing bound: the log has the screen.
    run.tmux.wait("the watch screen", |s| {
        s.contains("┌ log")
            && (s.contains("q quit") || s.contains("x quit"))
            && match server {
                Some(_) => s.contains("connected │"),
                None => s.contains("unavailable"),
            }
    });
    run
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_ends_watch_with_the_terminal_restored_and_0() {
    let server = Server::start(&[]).await;
    let run = watch("term-watch", Some(&server), None);
    run.tmux.signal("TERM");
    run.ended_cleanly("watch", "┌ log");
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_ends_watch_with_the_terminal_restored_and_0() {
    let server = Server::start(&[]).await;
    let run = watch("hup-watch", Some(&server), None);
    run.tmux.signal("HUP");
    run.ended_cleanly("watch", "┌ log");
}

/// Nothing listens: quitting the dashboard (`q`, or Ctrl-C) restores the terminal and exits
/// 1, saying why, as `--help` says for a connection that never succeeded; SIGTERM too.
#[test]
fn a_dashboard_never_connected_exits_1_whatever_ends_it() {
    for (name, end) in [
        ("never-q", "q"),
        ("never-ctrl-c", "C-c"),
        ("never-term", "TERM"),
    ] {
        let run = watch(name, None, None);
        match end {
            "TERM" => run.tmux.signal("TERM"),
            key => run.tmux.keys(&[key]),
        }
        run.ended_with("1", name, "┌ log");
        let stderr = run.tmux.stderr();
        assert!(
            stderr.contains("tickertape: never connected: ") && stderr.contains("refused"),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn sigterm_ends_replay_with_the_terminal_restored_and_0() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stock_ticker.ndjson");
    let run = start(
        "term-replay",
        &format!("replay {} --max", fixture.display()),
        None,
    );
    run.tmux.wait("the replay", |s| {
        s.lines().next().is_some_and(|l| l.starts_with("REPLAY")) && s.contains("┌ log")
    });
    run.tmux.signal("TERM");
    run.ended_cleanly("replay", "┌ log");
}

#[test]
fn sigterm_ends_webhooks_with_the_terminal_restored_and_0() {
    let run = start(
        "term-hooks",
        &format!("webhooks --listen 127.0.0.1:0 --key {KEY} --secret {SECRET}"),
        None,
    );
    run.tmux
        .wait("the webhooks screen", |s| s.contains("webhooks on http://"));
    run.tmux.signal("TERM");
    run.ended_cleanly("webhooks", "┌ log");
}

fn probe(name: &str, server: &Server, config: Option<&str>) -> Run {
    let args = format!(
        "probe --key {KEY} --secret {SECRET} --app-id 1 --node {} --interval 200ms",
        server.node()
    );
    let run = start(name, &args, config);
    let node = server.node();
    run.tmux.wait("the probe's screen with a canary", |s| {
        s.contains(&format!("canary 1 via {node}"))
    });
    run
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_ends_probe_with_the_terminal_restored_and_0() {
    let server = Server::start(&[]).await;
    let run = probe("term-probe", &server, None);
    run.tmux.signal("TERM");
    run.ended_cleanly("probe", "┌ nodes");
}

/// `quit = "x"` in the config file: `x` quits probe, as it quits watch, and `q` no longer
/// does; the hints and the help say so.
#[tokio::test(flavor = "multi_thread")]
async fn probe_honours_the_keys_table() {
    let server = Server::start(&[]).await;
    let config = "[keys]\nquit = \"x\"\nhelp = \"h\"\n";
    let run = probe("keys-probe", &server, Some(config));
    let screen = run
        .tmux
        .wait("the hints", |s| s.contains("x quit · h help"));
    assert!(!screen.contains("q quit"), "{screen}");
    run.tmux.keys(&["q", "h"]);
    let help = run
        .tmux
        .wait("the help", |s| s.contains("keys · Esc closes"));
    assert!(
        help.contains("x  Ctrl-C"),
        "the help lists the rebound key:\n{help}"
    );
    // The probe's own top line (the help box covers most of the panes' titles).
    assert!(help.contains("elapsed"), "q did not quit:\n{help}");
    run.tmux.keys(&["Escape"]);
    run.tmux
        .wait("the help to close", |s| !s.contains("keys · Esc closes"));
    run.tmux.keys(&["x"]);
    run.ended_cleanly("probe", "┌ nodes");
    // The tmux server first (its socket is in the home): removing the home under it
    // would leave the server running.
    let home = run.home.clone();
    drop(run);
    let _ = std::fs::remove_dir_all(home);
}

/// With quit rebound away from Ctrl-C, Ctrl-C still quits.
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_quits_watch_whatever_the_keys_table_says() {
    let server = Server::start(&[]).await;
    let run = watch(
        "ctrl-c-watch",
        Some(&server),
        Some("[keys]\nquit = \"x\"\n"),
    );
    run.tmux.wait("the rebound hint", |s| s.contains("x quit"));
    run.tmux.keys(&["C-c"]);
    run.ended_cleanly("watch", "┌ log");
    // The tmux server first (its socket is in the home): removing the home under it
    // would leave the server running.
    let home = run.home.clone();
    drop(run);
    let _ = std::fs::remove_dir_all(home);
}

/// The dashboard turns the terminal's bracketed paste on: a pasted line that ends in a
/// newline goes into the palette as text and runs nothing (here `quit`, which would end the
/// screen); on the way out bracketed paste is turned off again, before the alternate screen
/// is left.
#[tokio::test(flavor = "multi_thread")]
async fn a_paste_runs_nothing_and_bracketed_paste_is_turned_off_on_the_way_out() {
    let server = Server::start(&[]).await;
    let run = watch("paste-watch", Some(&server), None);
    let written = run.home.join("written");
    let _ = std::fs::remove_file(&written);
    run.tmux.record_output(&written);
    run.tmux.keys(&[":"]);
    run.tmux.wait("the palette", |s| s.contains("palette"));
    run.tmux.paste("quit\n");
    run.tmux.wait("the pasted line", |s| s.contains("quit "));
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        run.tmux.screen().contains("palette"),
        "the paste ran the line:\n{}",
        run.tmux.screen()
    );
    run.tmux.keys(&["Escape"]);
    run.tmux.signal("TERM");
    run.ended_cleanly("watch", "┌ log");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let bytes = String::from_utf8_lossy(&std::fs::read(&written).unwrap_or_default()).into_owned();
    let off = bytes.find("\u{1b}[?2004l");
    let leave = bytes.find("\u{1b}[?1049l");
    assert!(
        off.is_some() && off < leave,
        "bracketed paste off, then the alternate screen left: {bytes:?}"
    );
}
