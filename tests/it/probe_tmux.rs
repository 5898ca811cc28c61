//! `tickertape probe` on a terminal, in tmux at 80×24, against `tickertape serve`: the
//! dashboard shows the node's row with its canaries, `q` ends it with 0 and the terminal as it
//! was; with `--for` it ends by itself and prints the verdict after restoring the terminal;
//! `--lines` prints the lines even on a terminal. Needs tmux (`.ci/run` installs it).

use std::path::Path;

use crate::support::bin;
use crate::support::server::{KEY, SECRET, Server};
use crate::support::tmux::{Tmux, clean_env, exit_status, files};

/// `probe` through `server` with `extra` flags, in tmux; the shell writes down its status.
fn probe_in_tmux(server: &Server, extra: &str, home: &Path, stderr: &Path, status: &Path) -> Tmux {
    let command = format!(
        "{} {} probe --key {KEY} --secret {SECRET} --app-id 1 --node {} --interval 200ms {extra} 2> {}; echo $? > {}",
        clean_env(home),
        bin::BIN,
        server.node(),
        stderr.display(),
        status.display()
    );
    Tmux::start(&command, stderr)
}

/// The node's row: its figures after the name, split on blanks.
fn row(screen: &str, node: &str) -> Option<Vec<String>> {
    let line = screen
        .lines()
        .find(|l| l.starts_with(&format!("│{node} ")))?;
    Some(
        line.trim_matches('│')
            .split_whitespace()
            .skip(1)
            .map(str::to_owned)
            .collect(),
    )
}

/// Canaries received on the node, from its row (RECV is the third figure after the state).
fn received(screen: &str, node: &str) -> u64 {
    row(screen, node)
        .and_then(|r| r.get(2).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_shows_the_nodes_canaries_and_q_ends_it_with_0() {
    let server = Server::start(&[]).await;
    let node = server.node();
    let (home, stderr, status) = files("probe-q");
    let tmux = probe_in_tmux(&server, "", &home, &stderr, &status);
    let screen = tmux.wait("three canaries received on the node", |s| {
        received(s, &node) >= 3
    });
    let figures = row(&screen, &node).unwrap();
    assert_eq!(figures[0], "connected", "{screen}");
    assert_eq!(figures[3], "0", "nothing lost:\n{screen}");
    assert!(screen.contains(" no alerts"), "{screen}");
    assert!(screen.contains("q quit · ? help"), "{screen}");
    assert!(
        screen.contains(&format!("canary 1 via {node} on {node}: ")),
        "the log shows the results:\n{screen}"
    );
    tmux.keys(&["?"]);
    tmux.wait("the help", |s| s.contains("keys · Esc closes"));
    tmux.keys(&["Escape"]);
    tmux.wait("the help to close", |s| !s.contains("Esc closes"));
    tmux.keys(&["q"]);
    let code = exit_status(&tmux, &status);
    assert_eq!(code.trim(), "0", "its stderr:\n{}", tmux.stderr());
    assert_eq!(
        tmux.pane("#{alternate_on}"),
        "0",
        "the alternate screen was left on"
    );
    let after = tmux.history();
    assert!(
        !after.contains("┌ nodes"),
        "the screen was left behind:\n{after}"
    );
    assert!(
        after.contains("probe: ") && after.contains(" received, 0 lost"),
        "the summary:\n{after}"
    );
    assert!(
        !after.contains("TICKERTAPE PROBE"),
        "no --for, no verdict:\n{after}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn with_for_it_ends_by_itself_and_prints_the_verdict_after_the_screen() {
    let server = Server::start(&[]).await;
    let node = server.node();
    let (home, stderr, status) = files("probe-for");
    let tmux = probe_in_tmux(&server, "--for 3s", &home, &stderr, &status);
    let screen = tmux.wait("a canary on the screen", |s| received(s, &node) >= 1);
    assert!(screen.contains(" of 0:03, "), "the time left:\n{screen}");
    let code = exit_status(&tmux, &status);
    assert_eq!(code.trim(), "0", "its stderr:\n{}", tmux.stderr());
    assert_eq!(tmux.pane("#{alternate_on}"), "0");
    let after = tmux.history();
    assert!(!after.contains("┌ nodes"), "{after}");
    let verdict = after
        .lines()
        .position(|l| l.starts_with("TICKERTAPE PROBE OK - "))
        .unwrap_or_else(|| panic!("no verdict:\n{after}"));
    let detail = after
        .lines()
        .position(|l| l.starts_with(&format!("node {node}: ")));
    assert!(
        detail.is_some_and(|d| d > verdict),
        "the verdict's line, then its detail:\n{after}"
    );
}

/// Ctrl-C (a key in raw mode, not a signal) before `--for` ends: the verdict judges the time
/// run so far, and the exit status is its code.
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_before_for_ends_prints_the_verdict_so_far() {
    let server = Server::start(&[]).await;
    let node = server.node();
    let (home, stderr, status) = files("probe-ctrl-c");
    let tmux = probe_in_tmux(&server, "--for 60s", &home, &stderr, &status);
    tmux.wait("two canaries on the screen", |s| received(s, &node) >= 2);
    tmux.keys(&["C-c"]);
    let code = exit_status(&tmux, &status);
    assert_eq!(code.trim(), "0", "its stderr:\n{}", tmux.stderr());
    let after = tmux.history();
    let verdict = after
        .lines()
        .find(|l| l.starts_with("TICKERTAPE PROBE OK - "))
        .unwrap_or_else(|| panic!("no verdict:\n{after}"));
    assert!(
        verdict.contains(" canaries on 1 node over ") && !verdict.contains(" over 6"),
        "the time run, not --for's:\n{after}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn lines_prints_the_lines_even_on_a_terminal() {
    let server = Server::start(&[]).await;
    let (home, stderr, status) = files("probe-lines");
    let tmux = probe_in_tmux(&server, "--lines --for 1500ms", &home, &stderr, &status);
    let code = exit_status(&tmux, &status);
    assert_eq!(code.trim(), "0", "its stderr:\n{}", tmux.stderr());
    let after = tmux.history();
    assert!(
        after
            .lines()
            .any(|l| l.starts_with("canary ") && l.contains(": received in ")),
        "{after}"
    );
    assert!(after.contains("TICKERTAPE PROBE OK - "), "{after}");
    assert!(!after.contains("┌ nodes"), "{after}");
}
