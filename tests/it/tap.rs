//! `tickertape tap` against a real `redis-server` on 127.0.0.1: soketi's and Reverb's message
//! shapes published with `redis-cli` are decoded; the tap is never counted by `PUBSUB
//! NUMSUB`; Reverb's serialized secret and URL credentials are never printed; Reverb needs
//! --allow-counted. Skipped, saying so, only when redis-server is not installed (CI installs
//! it).

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::support::bin::{Proc, command};
use crate::support::multi::free_port;

const WAIT: Duration = Duration::from_secs(20);

/// A redis-server of this test's own, on a free loopback port; killed when dropped.
pub(crate) struct Redis {
    port: u16,
    _child: Child,
    _dir: std::path::PathBuf,
}

impl Redis {
    #[allow(clippy::print_stderr)]
    pub(crate) async fn start(name: &str) -> Option<Redis> {
        if std::process::Command::new("redis-server")
            .arg("--version")
            .output()
            .is_err()
        {
            eprintln!("SKIPPED: redis-server is not installed (apt-get install redis-server)");
            return None;
        }
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("tickertape-redis-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory for redis");
        let child = Command::new("redis-server")
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start redis-server");
        let redis = Redis {
            port,
            _child: child,
            _dir: dir,
        };
        for _ in 0..100 {
            if redis.cli(&["PING"]).await.trim() == "PONG" {
                return Some(redis);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server did not answer on port {port}");
    }

    pub(crate) async fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .output()
            .await
            .expect("run redis-cli");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

/// A tap started and subscribed (its stderr says so).
async fn tap(args: &[&str]) -> Proc {
    let mut p = Proc::spawn(command().arg("tap").args(args));
    let up = loop {
        match p.stderr_line(WAIT).await {
            Some(l) if l.contains("pattern-subscribed") => break true,
            Some(_) => continue,
            None => break false,
        }
    };
    assert!(up, "the tap never subscribed: {}", p.stderr());
    p
}

fn lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[tokio::test]
async fn soketi_shapes_are_decoded_and_the_tap_is_never_counted() {
    let Some(redis) = Redis::start("soketi").await else {
        return;
    };
    let url = redis.url();
    let p = tap(&[&url, "--server", "soketi", "--json", "--count", "3"]).await;
    // soketi counts its nodes with NUMSUB of its request channel: the tap is not one.
    assert_eq!(
        redis
            .cli(&["PUBSUB", "NUMSUB", "redis-adapter#comms#req"])
            .await
            .lines()
            .nth(1),
        Some("0")
    );
    let broadcast = json!({
        "uuid": "node-9b2c", "appId": "app-id", "channel": "orders",
        "data": json!({"event": "created", "channel": "orders", "data": "{\"id\":7}"}).to_string(),
        "exceptingId": "1.2",
    });
    let request =
        json!({"type": 6, "requestId": "q1", "appId": "app-id", "opts": {"channel": "orders"}});
    let response = json!({"requestId": "q1", "totalCount": 3});
    for (channel, m) in [
        ("redis-adapter", broadcast),
        ("redis-adapter#comms#req", request),
        ("redis-adapter#comms#res", response),
    ] {
        redis.cli(&["PUBLISH", channel, &m.to_string()]).await;
    }
    let (code, stdout, _) = p.finish(WAIT).await;
    assert_eq!(code, 0);
    let got = lines(&stdout);
    let b = got
        .iter()
        .find(|v| v["type"] == "broadcast")
        .expect("the broadcast");
    assert_eq!(
        (&b["channel"], &b["event"], &b["node"]),
        (&json!("orders"), &json!("created"), &json!("node-9b2c"))
    );
    assert_eq!(
        (&b["app_id"], &b["except_socket_id"]),
        (&json!("app-id"), &json!("1.2"))
    );
    let r = got
        .iter()
        .find(|v| v["type"] == "request")
        .expect("the request");
    assert_eq!(r["request_type"], "CHANNEL_SOCKETS_COUNT");
    let a = got
        .iter()
        .find(|v| v["type"] == "response")
        .expect("the response");
    assert_eq!(a["request_id"], "q1");
    assert!(
        a["round_trip_ms"].is_number(),
        "matched to its request: {a}"
    );
}

/// `serialize()` of a Reverb application, secret included.
const REVERB_APP: &str = "O:26:\"Laravel\\Reverb\\Application\":4:{s:5:\"\0*\0id\";s:6:\"my-app\";s:6:\"\0*\0key\";s:10:\"reverb-key\";s:9:\"\0*\0secret\";s:21:\"REVERB-SECRET-d41d8cd\";s:15:\"\0*\0pingInterval\";i:60;}";

#[tokio::test]
async fn reverb_shapes_are_decoded_without_their_secret() {
    let Some(redis) = Redis::start("reverb").await else {
        return;
    };
    let url = redis.url();
    // Counted by Reverb: refused unless asked for, with why.
    let (code, _, stderr) = Proc::spawn(command().args(["tap", &url, "--server", "reverb"]))
        .finish(WAIT)
        .await;
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--allow-counted") && stderr.contains("10 s"),
        "{stderr}"
    );

    let p = tap(&[
        &url,
        "--server",
        "reverb",
        "--allow-counted",
        "--json",
        "--count",
        "2",
    ])
    .await;
    let message = json!({
        "type": "message", "application": REVERB_APP, "socket_id": "1.2",
        "payload": {"event": "OrderShipped", "channel": "private-orders", "data": "{\"id\":1}"},
    });
    let metrics = json!({"type": "metrics", "key": "k1", "application": REVERB_APP, "payload": {"type": "channels", "options": {}}});
    for m in [message, metrics] {
        redis.cli(&["PUBLISH", "reverb", &m.to_string()]).await;
    }
    let (code, stdout, stderr) = p.finish(WAIT).await;
    assert_eq!(code, 0, "{stderr}");
    for text in [&stdout, &stderr] {
        assert!(
            !text.contains("REVERB-SECRET"),
            "the secret was printed: {text}"
        );
        assert!(
            !text.contains("Laravel"),
            "the serialized application was printed: {text}"
        );
    }
    let got = lines(&stdout);
    let b = &got[0];
    assert_eq!(b["type"], "broadcast");
    assert_eq!(
        (&b["app_id"], &b["app_key"]),
        (&json!("my-app"), &json!("reverb-key"))
    );
    assert_eq!(
        (&b["channel"], &b["event"]),
        (&json!("private-orders"), &json!("OrderShipped"))
    );
    assert_eq!(b["except_socket_id"], "1.2");
    assert_eq!(got[1]["request_type"], "metrics:channels");
}

#[tokio::test]
async fn an_unreachable_redis_exits_1_without_its_credentials() {
    let port = free_port();
    let url = format!("redis://admin:hunter2-pw@127.0.0.1:{port}");
    let (code, stdout, stderr) =
        Proc::spawn(command().args(["tap", &url, "--json", "--timeout", "1500ms"]))
            .finish(WAIT)
            .await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("never reached"), "{stderr}");
    assert!(stderr.contains("redis://***@127.0.0.1"), "{stderr}");
    assert!(
        !stderr.contains("hunter2") && !stdout.contains("hunter2"),
        "{stderr}"
    );
    // Not a Redis URL: a usage error that does not quote the password either.
    let (code, _, stderr) =
        Proc::spawn(command().args(["tap", "rediss://u:hunter2-pw@127.0.0.1:1"]))
            .finish(WAIT)
            .await;
    assert_eq!(code, 2);
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[tokio::test]
async fn metrics_count_what_the_tap_reads() {
    let Some(redis) = Redis::start("metrics").await else {
        return;
    };
    let url = redis.url();
    let mut p = Proc::spawn(command().args([
        "tap",
        &url,
        "--server",
        "soketi",
        "--json",
        "--numsub-every",
        "100ms",
        "--metrics",
        "127.0.0.1:0",
    ]));
    let addr = crate::support::metrics::addr(&mut p).await;
    while let Some(l) = p.stderr_line(WAIT).await {
        if l.contains("pattern-subscribed") {
            break;
        }
    }
    let request = json!({"type": 1, "requestId": "q9", "appId": "a"});
    redis
        .cli(&["PUBLISH", "redis-adapter#comms#req", &request.to_string()])
        .await;
    redis.cli(&["PUBLISH", "redis-adapter", "not json"]).await;
    let page = crate::support::metrics::scrape_until(addr, "the messages", |page| {
        page.value("tickertape_tap_messages_total{kind=\"request\"}") == Some(1.0)
            && page.value("tickertape_tap_messages_total{kind=\"unknown\"}") == Some(1.0)
            && page.value("tickertape_tap_up") == Some(1.0)
            && page.value("tickertape_tap_nodes_numsub").is_some()
    })
    .await;
    assert_eq!(
        page.get("tickertape_tap_nodes_numsub"),
        0.0,
        "never counted"
    );
    page.promtool_check();
    p.terminate(WAIT).await;
}
