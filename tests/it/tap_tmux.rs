//! `tickertape tap` on a terminal, in tmux at 80×24, against a redis-server of its own: the
//! screen shows a broadcast published with redis-cli, and `q` ends it with 0 and the
//! terminal as it was. Needs tmux and redis-server (`.ci/run` installs both).

use serde_json::json;

use crate::support::bin;
use crate::support::tmux::{Tmux, assert_cooked, clean_env, exit_status, files, recorded};
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
