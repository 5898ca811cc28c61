//! `tickertape tap nats://…` against a real `nats-server` on 127.0.0.1: sockudo's NATS
//! adapter's messages (broadcast, request, response, on `{prefix}.broadcast`, `.requests`,
//! `.responses`), published by this test over the NATS text protocol on a raw socket, are
//! decoded; URL credentials are used and never printed. Skipped, saying so, only when
//! nats-server is not installed (CI installs it).

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::support::bin::{Proc, command};
use crate::support::multi::free_port;

const WAIT: Duration = Duration::from_secs(20);

/// A nats-server of this test's own, on a free loopback port; killed when dropped.
pub(crate) struct Nats {
    port: u16,
    auth: Option<(String, String)>,
    _child: Child,
}

impl Nats {
    #[allow(clippy::print_stderr)]
    pub(crate) async fn start(auth: Option<(&str, &str)>) -> Option<Nats> {
        if std::process::Command::new("nats-server")
            .arg("--version")
            .output()
            .is_err()
        {
            eprintln!("SKIPPED: nats-server is not installed (apt-get install nats-server)");
            return None;
        }
        let port = free_port();
        let mut cmd = Command::new("nats-server");
        cmd.args(["-a", "127.0.0.1", "-p", &port.to_string()]);
        if let Some((user, pass)) = auth {
            cmd.args(["--user", user, "--pass", pass]);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start nats-server");
        let nats = Nats {
            port,
            auth: auth.map(|(u, p)| (u.to_owned(), p.to_owned())),
            _child: child,
        };
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Some(nats);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("nats-server did not listen on port {port}");
    }

    pub(crate) fn url(&self) -> String {
        match &self.auth {
            Some((u, p)) => format!("nats://{u}:{p}@127.0.0.1:{}", self.port),
            None => format!("nats://127.0.0.1:{}", self.port),
        }
    }

    /// Publishes each `(subject, payload)` as a NATS client would (`CONNECT`, `PUB`), and
    /// returns once the server has them all (its `PONG` to the `PING` after them).
    pub(crate) async fn publish(&self, messages: &[(&str, String)]) {
        let stream = TcpStream::connect(("127.0.0.1", self.port))
            .await
            .expect("connect to nats-server");
        let (read, mut write) = stream.into_split();
        let mut read = BufReader::new(read);
        let mut line = String::new();
        read.read_line(&mut line).await.expect("its INFO");
        assert!(line.starts_with("INFO "), "{line}");
        let connect = match &self.auth {
            Some((u, p)) => json!({"verbose": false, "user": u, "pass": p}),
            None => json!({"verbose": false}),
        };
        let mut out = format!("CONNECT {connect}\r\n").into_bytes();
        for (subject, payload) in messages {
            out.extend_from_slice(format!("PUB {subject} {}\r\n", payload.len()).as_bytes());
            out.extend_from_slice(payload.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"PING\r\n");
        write.write_all(&out).await.expect("publish");
        loop {
            line.clear();
            let n = tokio::time::timeout(WAIT, read.read_line(&mut line))
                .await
                .expect("nats-server answers")
                .expect("read");
            assert!(n > 0, "nats-server closed the publisher");
            assert!(!line.starts_with("-ERR"), "{line}");
            if line.starts_with("PONG") {
                return;
            }
        }
    }
}

/// A tap started and subscribed (its stderr says so).
async fn tap(args: &[&str]) -> Proc {
    let mut p = Proc::spawn(command().arg("tap").args(args));
    let up = loop {
        match p.stderr_line(WAIT).await {
            Some(l) if l.contains("subscribed to") => break true,
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
async fn sockudo_nats_subjects_are_decoded_without_the_credentials() {
    let Some(nats) = Nats::start(Some(("tap-user", "hunter2-nats"))).await else {
        return;
    };
    let url = nats.url();
    let p = tap(&[&url, "--json", "--count", "3"]).await;
    assert!(
        p.stderr().contains("nats://***@127.0.0.1"),
        "{}",
        p.stderr()
    );
    let pusher =
        json!({"event": "OrderShipped", "channel": "private-orders", "data": "{\"id\":7}"});
    let sent_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after the epoch")
        .as_millis() as f64;
    let broadcast = json!({
        "node_id": "node-a", "app_id": "app1", "channel": "private-orders",
        "message": pusher.to_string(), "except_socket_id": "123.456", "timestamp_ms": sent_ms,
    });
    let request = json!({
        "request_id": "req-1", "node_id": "node-a", "app_id": "app1",
        "request_type": "ChannelSocketsCount", "channel": "private-orders",
    });
    let response = json!({
        "request_id": "req-1", "node_id": "node-b", "app_id": "app1", "sockets_count": 3,
        "expected_responses": 2, "responses_received": 1, "complete": false,
    });
    nats.publish(&[
        // Another app's subject: not sockudo's, never read.
        ("elsewhere.broadcast", broadcast.to_string()),
        ("sockudo_adapter:.broadcast", broadcast.to_string()),
        ("sockudo_adapter:.requests", request.to_string()),
        ("sockudo_adapter:.responses", response.to_string()),
    ])
    .await;
    let (code, stdout, stderr) = p.finish(WAIT).await;
    assert_eq!(code, 0, "{stderr}");
    for text in [&stdout, &stderr] {
        assert!(
            !text.contains("hunter2"),
            "a credential was printed: {text}"
        );
    }
    let got: Vec<Value> = lines(&stdout)
        .into_iter()
        .filter(|v| v["type"] != "notice")
        .collect();
    assert_eq!(got.len(), 3, "{stdout}");
    let b = &got[0];
    assert_eq!(b["type"], "broadcast", "{b}");
    assert_eq!(b["backplane_channel"], "sockudo_adapter:.broadcast");
    assert_eq!(
        (&b["app_id"], &b["channel"], &b["event"], &b["node"]),
        (
            &json!("app1"),
            &json!("private-orders"),
            &json!("OrderShipped"),
            &json!("node-a")
        )
    );
    assert_eq!(b["except_socket_id"], "123.456");
    assert!(b["latency_ms"].is_number(), "{b}");
    let r = &got[1];
    assert_eq!(
        (&r["type"], &r["request_type"], &r["request_id"]),
        (
            &json!("request"),
            &json!("ChannelSocketsCount"),
            &json!("req-1")
        )
    );
    let a = &got[2];
    assert_eq!(
        (&a["type"], &a["complete"]),
        (&json!("response"), &json!(false))
    );
    assert_eq!(a["expected_responses"], 2);
    assert!(
        a["round_trip_ms"].is_number(),
        "matched to its request: {a}"
    );
}

#[tokio::test]
async fn a_custom_prefix_and_usage_errors() {
    let Some(nats) = Nats::start(None).await else {
        return;
    };
    let url = nats.url();
    let p = tap(&[&url, "--prefix", "chat.prod", "--json", "--count", "1"]).await;
    let heartbeat = json!({
        "request_id": "hb-1", "node_id": "node-c", "app_id": "cluster",
        "request_type": "Heartbeat",
    });
    nats.publish(&[
        ("sockudo_adapter:.requests", heartbeat.to_string()),
        ("chat.prod.node.node-d", heartbeat.to_string()),
    ])
    .await;
    let (code, stdout, stderr) = p.finish(WAIT).await;
    assert_eq!(code, 0, "{stderr}");
    let got = lines(&stdout);
    assert_eq!(got.len(), 1, "{stdout}");
    assert_eq!(got[0]["backplane_channel"], "chat.prod.node.node-d");
    assert_eq!(got[0]["request_type"], "Heartbeat");

    // Only sockudo has a NATS adapter; a prefix with a wildcard is no subject.
    for args in [
        vec!["tap", "nats://u:hunter2@127.0.0.1:1", "--server", "soketi"],
        vec!["tap", "nats://u:hunter2@127.0.0.1:1", "--prefix", "a.*"],
        vec!["tap", "tls://u:hunter2@127.0.0.1:1"],
    ] {
        let (code, _, stderr) = Proc::spawn(command().args(&args)).finish(WAIT).await;
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(!stderr.contains("hunter2"), "{stderr}");
    }
}

#[tokio::test]
async fn an_unreachable_nats_exits_1_and_a_wrong_password_is_said() {
    let port = free_port();
    let url = format!("nats://admin:hunter2-pw@127.0.0.1:{port}");
    let (code, stdout, stderr) =
        Proc::spawn(command().args(["tap", &url, "--json", "--timeout", "1500ms"]))
            .finish(WAIT)
            .await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("never reached"), "{stderr}");
    assert!(stderr.contains("nats://***@127.0.0.1"), "{stderr}");
    assert!(!stderr.contains("hunter2") && !stdout.contains("hunter2"));

    let Some(nats) = Nats::start(Some(("tap-user", "right-pw"))).await else {
        return;
    };
    let wrong = format!("nats://tap-user:hunter2-wrong@127.0.0.1:{}", nats.port);
    let (code, _, stderr) =
        Proc::spawn(command().args(["tap", &wrong, "--json", "--timeout", "2s"]))
            .finish(WAIT)
            .await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("down:"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
}
