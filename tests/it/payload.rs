//! Payload tools against the real binary: `--where`'s jq filter on a live stream.

use std::path::PathBuf;
use std::time::Duration;

use crate::support::Peer;
use crate::support::bin::{self, Proc};
use crate::support::scripted::subscribed;

/// How long a run may take to end.
const EXIT: Duration = Duration::from_secs(10);

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("tickertape-payload-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn update(symbol: &str, price: &str) -> String {
    format!(
        r#"{{"event":"update_event","channel":"stock_ticker","data":"{{\"symbol\":\"{symbol}\",\"price\":{price}}}"}}"#
    )
}

/// `--where` prints only the events its expression passes; an event it fails on is skipped,
/// counted and said on stderr, and the run goes on.
#[tokio::test]
async fn where_prints_only_the_events_it_passes() {
    let home = scratch("where");
    let mut peer = Peer::start().await;
    let port = peer.addr.port().to_string();
    let child = Proc::spawn(bin::command_in(&home).args([
        "watch",
        "stock_ticker",
        "--json",
        "--where",
        ".data.price - 50 > 0 and .channel == \"stock_ticker\"",
        "--count",
        "2",
        "--key",
        "app-key",
        "--port",
        &port,
    ]));
    let mut conn = subscribed(&mut peer, "stock_ticker").await;
    conn.send(&update("LOW", "12.5")).await;
    conn.send(&update("HOOLI", "51")).await;
    // A string minus a number fails: skipped and counted.
    conn.send(&update("ODD", "\\\"x\\\"")).await;
    conn.send(&update("MID", "50")).await;
    conn.send(&update("PIED", "99.5")).await;
    let (code, stdout, stderr) = child.finish(EXIT).await;
    assert_eq!(code, 0, "{stderr}");
    let symbols: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["data"]["symbol"].clone())
        .collect();
    assert_eq!(symbols, ["HOOLI", "PIED"], "{stdout}");
    assert!(
        stderr.contains("--where: skipping an event:") && stderr.contains("cannot"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--where: 1 event skipped on an error; the first:"),
        "{stderr}"
    );
}

/// A parse error is a usage error (status 2) that says the column; what may loop is refused
/// before anything connects.
#[tokio::test]
async fn where_refuses_a_bad_expression_with_its_column() {
    let home = scratch("where-bad");
    for (expr, says) in [
        (".data.price >", "column 14: expected term"),
        ("[range(1e9)] | length", "range is not available"),
        ("def f: f; f", "definitions"),
    ] {
        let child = Proc::spawn(bin::command_in(&home).args([
            "watch",
            "stock_ticker",
            "--json",
            "--where",
            expr,
            "--key",
            "k",
            "--port",
            "9",
        ]));
        let (code, _, stderr) = child.finish(EXIT).await;
        assert_eq!(code, 2, "{expr}: {stderr}");
        assert!(stderr.contains(says), "{expr}: {stderr}");
    }
}

/// `readonly = true` in the profile used: the real dashboard says READ-ONLY, and `t` opens
/// no trigger form.
#[test]
fn a_read_only_profile_in_tmux() {
    let home = scratch("readonly-tmux");
    std::fs::create_dir_all(home.join("tickertape")).unwrap();
    std::fs::write(
        home.join("tickertape").join("config.toml"),
        "[profiles.prod]\nkey = \"app-key\"\nhost = \"127.0.0.1\"\nport = 9\nreadonly = true\n",
    )
    .unwrap();
    let tmux = dashboard(&home, "", "watch c --profile prod");
    let first = tmux.wait("READ-ONLY in the status bar", |s| {
        s.starts_with("READ-ONLY") && s.contains("ticker")
    });
    assert!(
        first.lines().next().unwrap().starts_with("READ-ONLY"),
        "{first}"
    );
    tmux.keys(&["t"]);
    let after = tmux.wait("the refusal", |s| s.contains("triggering is off"));
    assert!(!after.contains(" trigger "), "a form opened:\n{after}");
    tmux.keys(&["q"]);
    bin::assert_no_panic(&tmux.stderr());
}

/// The palette in the real dashboard: `:` opens it over the screen, what is typed narrows
/// it, Enter runs the command.
#[test]
fn the_palette_in_tmux() {
    let home = scratch("palette-tmux");
    let tmux = dashboard(
        &home,
        "",
        "watch c --key app-key --host 127.0.0.1 --port 9 --bind 'x=ticker(key=a,value=b)'",
    );
    tmux.wait("the dashboard", |s| s.contains("sort key"));
    tmux.keys(&[":"]);
    tmux.wait("the palette", |s| {
        s.contains("palette") && s.contains("focus_next")
    });
    tmux.keys(&["sort val"]);
    let narrowed = tmux.wait("the palette narrowed", |s| s.contains(":sort val"));
    assert!(!narrowed.contains("focus_next"), "{narrowed}");
    tmux.keys(&["Enter"]);
    let sorted = tmux.wait("the sort applied, the palette closed", |s| {
        s.contains("· sort value") && !s.contains("Tab completes")
    });
    assert!(sorted.contains("ticker"), "{sorted}");
    tmux.keys(&["q"]);
    bin::assert_no_panic(&tmux.stderr());
}

/// `y` copies the selected event over OSC 52: in tmux with `set-clipboard on`, tmux's
/// buffer holds the event's JSON; `Y` a trigger command without the secret.
#[tokio::test(flavor = "multi_thread")]
async fn copy_reaches_tmux_s_buffer() {
    use crate::support::server::Server;
    let server = Server::start(&[]).await;
    let port = server.addr.port().to_string();
    let home = scratch("copy-tmux");
    let tmux = dashboard(
        &home,
        "",
        &format!("watch stock_ticker --key app-key --host 127.0.0.1 --port {port}"),
    );
    // tmux takes an application's OSC 52 into a paste buffer with set-clipboard on.
    tmux.run(&["set-option", "-g", "set-clipboard", "on"]);
    tmux.wait("subscribed", |s| s.contains("1 sub"));
    server
        .publish(
            "stock_ticker",
            "update_event",
            r#"{"name":"HOOLI","price":51}"#,
        )
        .await;
    tmux.wait("the event", |s| s.contains("HOOLI"));
    tmux.keys(&["Tab", "y"]);
    tmux.wait("the confirmation", |s| s.contains("copied event"));
    let buffer = tmux.run(&["show-buffer"]);
    let copied: serde_json::Value = serde_json::from_str(buffer.trim()).expect(&buffer);
    assert_eq!(copied["channel"], "stock_ticker", "{buffer}");
    assert_eq!(copied["data"]["name"], "HOOLI", "{buffer}");
    tmux.keys(&["Y"]);
    tmux.wait("the command's confirmation", |s| {
        s.contains("copied trigger command")
    });
    let buffer = tmux.run(&["show-buffer"]);
    assert_eq!(
        buffer.trim(),
        r#"tickertape trigger 'stock_ticker' 'update_event' '{"name":"HOOLI","price":51}'"#
    );
    assert!(!buffer.contains("secret"), "{buffer}");
    // In inspect, `y` copies the value under the cursor and `p` its jq path.
    tmux.keys(&["Enter", "Down", "Down", "y"]);
    tmux.wait("the value's confirmation", |s| {
        s.contains("copied value .data.price")
    });
    assert_eq!(tmux.run(&["show-buffer"]).trim(), "51");
    tmux.keys(&["p"]);
    tmux.wait("the path's confirmation", |s| {
        s.contains("copied path .data.price")
    });
    assert_eq!(tmux.run(&["show-buffer"]).trim(), ".data.price");
    tmux.keys(&["Escape", "q"]);
    bin::assert_no_panic(&tmux.stderr());
}

/// The diff in the real dashboard: two events of one channel and event, inspect the later,
/// `d` shows what changed.
#[tokio::test(flavor = "multi_thread")]
async fn the_diff_in_tmux() {
    use crate::support::server::Server;
    let server = Server::start(&[]).await;
    let port = server.addr.port().to_string();
    let home = scratch("diff-tmux");
    let tmux = dashboard(
        &home,
        "",
        &format!("watch orders --key app-key --host 127.0.0.1 --port {port} --ascii"),
    );
    tmux.wait("subscribed", |s| s.contains("1 sub"));
    server
        .publish("orders", "status", r#"{"id":7,"state":"paid"}"#)
        .await;
    server
        .publish(
            "orders",
            "status",
            r#"{"id":7,"state":"shipped","carrier":"UPS"}"#,
        )
        .await;
    tmux.wait("both events", |s| s.contains("shipped"));
    // Nothing bound: the log has the focus.
    tmux.keys(&["Enter", "d"]);
    let shown = tmux.wait("the diff", |s| s.contains("~ .state"));
    assert!(shown.contains(r#"~ .state "paid" -> "shipped""#), "{shown}");
    assert!(shown.contains(r#"+ .carrier "UPS""#), "{shown}");
    tmux.keys(&["Escape", "q"]);
    bin::assert_no_panic(&tmux.stderr());
}

/// `watch --view NAME` starts from a saved view; `:view save NAME` writes the current one
/// back, keeping the rest of the file; a bad view stops the run before it starts.
#[tokio::test(flavor = "multi_thread")]
async fn views_load_save_and_are_checked() {
    let home = scratch("views-tmux");
    let dir = home.join("tickertape");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        "# my views\n[views.dear]\nchannels = [\"stock_ticker\"]\nbindings = [\"x=count\"]\nfilter = \".data.price > 100\"\nsort = \"change\"\n",
    )
    .unwrap();
    let tmux = dashboard(
        &home,
        "",
        "watch --view dear --key app-key --host 127.0.0.1 --port 9",
    );
    let first = tmux.wait("the view", |s| s.contains("sort change"));
    assert!(first.contains("filter: .data.price > 100"), "{first}");
    tmux.keys(&[":", "view save mine", "Enter"]);
    tmux.wait("saved", |s| s.contains("saved view mine"));
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.starts_with("# my views\n[views.dear]"), "{text}");
    assert!(
        text.contains("[views.mine]\nchannels = []\nbindings = [\"x=count\"]\nfilter = \".data.price > 100\"\nsort = \"change\"\n"),
        "{text}"
    );
    tmux.keys(&["q"]);
    bin::assert_no_panic(&tmux.stderr());
    // A bad view: the whole file is refused, naming it.
    std::fs::write(&config, "[views.bad]\nsort = \"sideways\"\n").unwrap();
    let out = bin::command_in(&home)
        .args([
            "watch",
            "c",
            "--json",
            "--key",
            "k",
            "--port",
            "9",
            "--timeout",
            "1",
        ])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("[views.bad]: sort is key, value, change or recency"),
        "{stderr}"
    );
}

/// `:view NAME` while watching brings the view's expectations: its rule raises an alert in
/// the strip, another view without it recovers it, and `:view save` writes the rules in
/// force (the command line's too).
#[tokio::test(flavor = "multi_thread")]
async fn a_view_switched_to_brings_its_expectations() {
    use crate::support::server::Server;
    let server = Server::start(&[]).await;
    let port = server.addr.port().to_string();
    let home = scratch("views-expect-tmux");
    let dir = home.join("tickertape");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        "[views.strict]\nchannels = [\"stock_ticker\"]\nexpect = [\"stock_ticker/update_event<2s\"]\nsort = \"value\"\n\n[views.calm]\nchannels = [\"stock_ticker\"]\n",
    )
    .unwrap();
    let tmux = dashboard(
        &home,
        "",
        &format!(
            "watch stock_ticker --expect 'stock_ticker<1h' --key app-key --host 127.0.0.1 --port {port}"
        ),
    );
    tmux.wait("subscribed", |s| s.contains("1 sub"));
    tmux.keys(&[":", "view strict", "Enter"]);
    tmux.wait("the view's rules", |s| {
        s.contains("view strict: 2 expectations")
    });
    let alert = tmux.wait("the view's alert", |s| s.contains("ALERT"));
    assert!(alert.contains("stock_ticker/update_event<2s"), "{alert}");
    tmux.keys(&[":", "view save mine", "Enter"]);
    tmux.wait("saved", |s| s.contains("saved view mine"));
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.contains("expect = [\"stock_ticker<1h\", \"stock_ticker/update_event<2s\"]"),
        "{text}"
    );
    tmux.keys(&[":", "view calm", "Enter"]);
    let calm = tmux.wait("the recovery", |s| s.contains("RECOVERED"));
    assert!(calm.contains("view calm: 1 expectation"), "{calm}");
    tmux.keys(&["q"]);
    bin::assert_no_panic(&tmux.stderr());
}

/// `--theme colorblind` in the real dashboard: its colours reach the terminal (256-colour
/// blue for a connected state, not green); a bad [theme] stops the run before it starts.
#[tokio::test(flavor = "multi_thread")]
async fn a_theme_in_tmux_and_a_bad_one_refused() {
    use crate::support::server::Server;
    let server = Server::start(&[]).await;
    let port = server.addr.port().to_string();
    let home = scratch("theme-tmux");
    // Colour on (clean_env turns it off).
    let tmux = dashboard(
        &home,
        "NO_COLOR=",
        &format!("watch c --key app-key --host 127.0.0.1 --port {port} --theme colorblind"),
    );
    tmux.wait("connected", |s| s.starts_with("connected"));
    let escaped = tmux.run(&["capture-pane", "-e", "-p"]);
    let first = escaped.lines().next().unwrap_or("");
    assert!(
        first.contains("38;5;32m"),
        "connected in Okabe-Ito blue: {first:?}"
    );
    tmux.keys(&["q"]);
    bin::assert_no_panic(&tmux.stderr());
    let dir = home.join("tickertape");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        "[theme]\nname = \"light\"\nrize = \"blue\"\n",
    )
    .unwrap();
    let out = bin::command_in(&home)
        .args([
            "watch",
            "c",
            "--json",
            "--key",
            "k",
            "--port",
            "9",
            "--timeout",
            "1",
        ])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("unknown theme slot \"rize\""), "{stderr}");
}

/// `watch CHANNEL` with nothing bound: the log has the screen, under one line on how to
/// bind, with a rule for the events that came.
#[tokio::test(flavor = "multi_thread")]
async fn nothing_bound_gives_the_screen_to_the_log() {
    use crate::support::server::Server;
    let server = Server::start(&[]).await;
    let port = server.addr.port().to_string();
    let home = scratch("empty-ticker-tmux");
    let tmux = dashboard(
        &home,
        "",
        &format!("watch quotes --key app-key --host 127.0.0.1 --port {port}"),
    );
    tmux.wait("subscribed", |s| s.contains("1 sub"));
    server
        .publish("quotes", "tick", r#"{"sym":"HOOLI","px":51}"#)
        .await;
    let screen = tmux.wait("the hint", |s| s.contains("try --bind"));
    assert!(
        screen.contains("no ticker: nothing is bound - try --bind 'tick=ticker(key=sym,value=px)'")
            || screen.contains(
                "no ticker: nothing is bound · try --bind 'tick=ticker(key=sym,value=px)'"
            ),
        "{screen}"
    );
    assert!(
        !screen.contains("0 keys"),
        "an empty ticker pane:\n{screen}"
    );
    // The log starts on the second line of the body: the whole screen is its.
    assert!(
        screen.lines().nth(2).unwrap_or("").starts_with("┌ log"),
        "{screen}"
    );
    tmux.keys(&["q"]);
    bin::assert_no_panic(&tmux.stderr());
}

/// The dashboard in tmux: `tickertape ARGS` with the test's clean environment in `home`
/// (and `env`, e.g. `NO_COLOR=`, after it), its stderr kept in `home/stderr`.
fn dashboard(home: &std::path::Path, env: &str, args: &str) -> crate::support::tmux::Tmux {
    let stderr_file = home.join("stderr");
    let _ = std::fs::remove_file(&stderr_file);
    let command = format!(
        "{} {env} {} {args} 2> {}",
        crate::support::tmux::clean_env(home),
        bin::BIN,
        stderr_file.display()
    );
    crate::support::tmux::Tmux::start(&command, &stderr_file)
}
