//! `tickertape tap` on a terminal, in tmux at 80×24, against a redis-server of its own: the
//! screen shows a broadcast published with redis-cli, and `q` ends it with 0 and the
//! terminal as it was. Needs tmux and redis-server (`.ci/run` installs both).

use serde_json::json;

use crate::support::tmux::{Tmux, assert_cooked, clean_env, exit_status, files, recorded};
use crate::support::{bin, metrics};
use crate::tap::Redis;

#[tokio::test(flavor = "multi_thread")]
async fn the_screen_shows_the_backplane_and_q_restores_the_terminal() {
    let Some(redis) = Redis::start("tmux").await else {
        return;
    };
    let (home, stderr, status) = files("tap-q");
    let stty = home.join("stty");
    let command = format!(
        "{} {} tap {} --server soketi",
        clean_env(&home),
        bin::BIN,
        redis.url()
    );
    let tmux = Tmux::start(&recorded(&command, &stderr, &stty, &status), &stderr);
    tmux.wait("the tap to be up", |s| s.contains("│ up │"));
    let broadcast = json!({
        "uuid": "node-9b2c", "appId": "app-id", "channel": "orders",
        "data": json!({"event": "created", "channel": "orders", "data": "{}"}).to_string(),
    });
    redis
        .cli(&["PUBLISH", "redis-adapter", &broadcast.to_string()])
        .await;
    let screen = tmux.wait("the broadcast", |s| s.contains("broadcast orders created"));
    assert!(screen.contains("┌ nodes"), "{screen}");
    assert!(screen.contains("node-9b2"), "the origin node:\n{screen}");
    tmux.keys(&["q"]);
    let code = exit_status(&tmux, &status);
    assert_eq!(code.trim(), "0", "its stderr:\n{}", tmux.stderr());
    assert_eq!(
        tmux.pane("#{alternate_on}"),
        "0",
        "the alternate screen was left on"
    );
    assert_cooked(&stty);
}

/// The screen on a NATS backplane with `--metrics` beside it: the endpoint serves the
/// screen's counts (the broadcasts it shows, their rate, no NUMSUB where there is none)
/// while the screen runs, and `q` still restores the terminal.
#[tokio::test(flavor = "multi_thread")]
async fn the_screen_serves_metrics_beside_it() {
    let Some(nats) = crate::tap_nats::Nats::start(None).await else {
        return;
    };
    let port = crate::support::multi::free_port();
    let (home, stderr, status) = files("tap-metrics");
    let stty = home.join("stty");
    let command = format!(
        "{} {} tap {} --metrics 127.0.0.1:{port}",
        clean_env(&home),
        bin::BIN,
        nats.url()
    );
    let tmux = Tmux::start(&recorded(&command, &stderr, &stty, &status), &stderr);
    tmux.wait("the tap to be up", |s| s.contains("│ up │"));
    let message = json!({"event": "created", "channel": "orders", "data": "{}"}).to_string();
    let broadcast = json!({"node_id": "node-9b2c", "app_id": "app1", "channel": "orders",
        "message": message})
    .to_string();
    let burst: Vec<(&str, String)> = (0..20)
        .map(|_| ("sockudo_adapter:.broadcast", broadcast.clone()))
        .collect();
    nats.publish(&burst).await;
    let screen = tmux.wait("the broadcasts", |s| s.contains("broadcasts · "));
    assert!(screen.contains("no cluster count to read"), "{screen}");
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let page = metrics::scrape_until(addr, "the screen's counts", |page| {
        page.value("tickertape_tap_messages_total{kind=\"broadcast\"}") == Some(20.0)
            && page.value("tickertape_tap_up") == Some(1.0)
            && page
                .value("tickertape_tap_broadcasts_per_second")
                .is_some_and(|r| r > 0.0)
    })
    .await;
    assert!(
        page.value("tickertape_tap_nodes_numsub").is_none(),
        "no count to read on NATS: {}",
        page.0
    );
    page.promtool_check();
    tmux.keys(&["q"]);
    let code = exit_status(&tmux, &status);
    assert_eq!(code.trim(), "0", "its stderr:\n{}", tmux.stderr());
    assert_eq!(tmux.pane("#{alternate_on}"), "0");
    assert_cooked(&stty);
}
