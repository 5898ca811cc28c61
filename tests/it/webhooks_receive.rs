//! `tickertape webhooks`: a real receiver on loopback, fed by a test client that signs (or
//! mis-signs) Pusher's webhook bodies.

use std::time::{Duration, Instant};

use crate::support::bin::FullPipe;
use crate::support::webhooks::{KEY, Receiver, SECRET, exchange, occupied};
use protocol::webhook::sign;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(10);

fn objects(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect()
}

#[tokio::test]
async fn a_correctly_signed_webhook_is_shown_as_a_line_and_as_json() {
    let body = r#"{"time_ms":1700000000000,"events":[{"name":"channel_occupied","channel":"stock_ticker"},{"name":"member_added","channel":"presence-room","user_id":"u1"}]}"#;
    let rx = Receiver::start(&["--count", "2"]).await;
    assert_eq!(rx.post_signed(KEY, SECRET, body).await.0, 200);
    let (code, stdout, stderr) = rx.proc.finish(WAIT).await;
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].ends_with(" valid   app 1 channel_occupied stock_ticker"),
        "{stdout}"
    );
    assert!(
        lines[1].ends_with(" valid   app 1 member_added presence-room user u1"),
        "{stdout}"
    );

    let rx = Receiver::start(&["--json", "--count", "2"]).await;
    assert_eq!(rx.post_signed(KEY, SECRET, body).await.0, 200);
    let (code, stdout, _) = rx.proc.finish(WAIT).await;
    assert_eq!(code, 0);
    let all = objects(&stdout);
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["time_ms"], 1700000000000u64);
    assert_eq!(all[0]["app"], "1");
    assert_eq!(all[0]["name"], "channel_occupied");
    assert_eq!(all[0]["channel"], "stock_ticker");
    assert_eq!(all[0]["valid"], true);
    assert_eq!(all[0]["reason"], Value::Null);
    assert_eq!(all[1]["user_id"], "u1");
    for field in ["event", "data", "socket_id"] {
        assert!(all[0].get(field).is_some(), "{field} missing");
    }
}

#[tokio::test]
async fn the_key_header_picks_the_app() {
    let rx = Receiver::start(&[
        "--json",
        "--count",
        "1",
        "--app",
        "7:seven-key:seven-secret",
        "--app",
        "8:eight-key:eight-secret",
    ])
    .await;
    let body = occupied("c");
    assert_eq!(
        rx.post_signed("eight-key", "eight-secret", &body).await.0,
        200
    );
    let (_, stdout, _) = rx.proc.finish(WAIT).await;
    let all = objects(&stdout);
    assert_eq!(
        (all[0]["app"].as_str(), all[0]["valid"].as_bool()),
        (Some("8"), Some(true))
    );
}

#[tokio::test]
async fn each_mismatch_says_why_and_shows_the_expected_signature_never_the_secret() {
    let apps = [
        "--app",
        "1:app-key:app-secret",
        "--app",
        "2:other-key:other-secret",
    ];
    let mut args = vec!["--json", "--count", "7"];
    args.extend(apps);
    let rx = Receiver::start(&args).await;
    let body = occupied("stock_ticker");
    let expected = sign(SECRET, body.as_bytes());
    let changed = occupied("stock-ticker");
    let pretty =
        serde_json::to_string_pretty(&serde_json::from_str::<Value>(&body).unwrap()).unwrap();
    let cases: [(Option<&str>, Option<String>, &str, &str); 7] = [
        (
            Some(KEY),
            Some(sign("wrong-secret", body.as_bytes())),
            &body,
            "either the sender signs with another secret",
        ),
        (
            Some(KEY),
            Some(expected.clone()),
            &changed,
            "either the sender signs with another secret",
        ),
        (
            Some(KEY),
            Some(expected.clone()),
            &pretty,
            "rewrote the JSON",
        ),
        (
            Some("nope"),
            Some(expected.clone()),
            &body,
            "\"nope\" is not one of this receiver's apps",
        ),
        (
            None,
            Some(expected.clone()),
            &body,
            "no X-Pusher-Key header",
        ),
        (Some(KEY), None, &body, "no X-Pusher-Signature header"),
        (
            Some(KEY),
            Some(sign("other-secret", body.as_bytes())),
            &body,
            "the signature is app 2's, not app 1's",
        ),
    ];
    for (key, sig, body, _) in &cases {
        let (status, _) = rx.post(*key, sig.as_deref(), body.as_bytes()).await;
        assert_eq!(status, 200, "answered 200 even when invalid");
    }
    let (code, stdout, stderr) = rx.proc.finish(WAIT).await;
    assert_eq!(code, 0);
    let all = objects(&stdout);
    assert_eq!(all.len(), 7, "{stdout}");
    for (object, (key, sig, body, why)) in all.iter().zip(&cases) {
        assert_eq!(object["valid"], false, "{object}");
        let reason = object["reason"].as_str().unwrap();
        assert!(reason.contains(why), "{reason:?} lacks {why:?}");
        assert_eq!(object["signature"].as_str(), sig.as_deref());
        assert_eq!(object["key"].as_str(), *key);
        let wants = match key {
            Some(KEY) => Value::from(sign(SECRET, body.as_bytes())),
            _ => Value::Null,
        };
        assert_eq!(object["expected_signature"], wants, "{object}");
    }
    for secret in ["app-secret", "other-secret"] {
        assert!(!stdout.contains(secret) && !stderr.contains(secret));
    }

    // The same in lines: why, expected, received.
    let mut args = vec!["--count", "1"];
    args.extend(apps);
    let rx = Receiver::start(&args).await;
    rx.post(Some(KEY), Some("abc"), body.as_bytes()).await;
    let (_, stdout, _) = rx.proc.finish(WAIT).await;
    assert!(
        stdout.contains(" INVALID app 1 channel_occupied stock_ticker\n"),
        "{stdout}"
    );
    assert!(stdout.contains("  why: X-Pusher-Signature has 3 hex digits; an HMAC-SHA256 has 64\n"));
    assert!(stdout.contains(&format!("  expected signature {expected}\n")));
    assert!(stdout.contains("  received signature abc\n"));
    assert!(!stdout.contains("app-secret"));
}

#[tokio::test]
async fn a_body_that_is_not_a_webhook_is_reported() {
    let rx = Receiver::start(&["--json", "--count", "2"]).await;
    for body in ["{\"hello\":1}", "\u{1b}]0;pwned\u{7} not json"] {
        assert_eq!(rx.post_signed(KEY, SECRET, body).await.0, 200);
    }
    let (code, stdout, _) = rx.proc.finish(WAIT).await;
    assert_eq!(code, 0);
    assert!(!stdout.contains('\u{1b}'));
    let all = objects(&stdout);
    assert_eq!(all[0]["valid"], true);
    assert_eq!(all[0]["name"], Value::Null);
    assert!(
        all[0]["error"]
            .as_str()
            .unwrap()
            .contains("not a webhook's")
    );
    assert!(all[1]["error"].as_str().unwrap().contains("not JSON"));
}

#[tokio::test]
async fn reject_invalid_answers_401_to_a_bad_signature() {
    let rx = Receiver::start(&["--reject-invalid", "--count", "2"]).await;
    let body = occupied("c");
    assert_eq!(rx.post_signed(KEY, "wrong", &body).await.0, 401);
    assert_eq!(rx.post_signed(KEY, SECRET, &body).await.0, 200);
    let (code, stdout, _) = rx.proc.finish(WAIT).await;
    assert_eq!(code, 0);
    assert_eq!(stdout.matches("channel_occupied c").count(), 2);
}

#[tokio::test]
async fn an_oversized_body_is_refused_and_reported() {
    let rx = Receiver::start(&["--max-body", "1KiB", "--count", "1"]).await;
    let big = occupied(&"x".repeat(2000));
    let (status, _) = rx.post_signed(KEY, SECRET, &big).await;
    assert_eq!(status, 413);
    // Still receiving.
    assert_eq!(rx.post_signed(KEY, SECRET, &occupied("small")).await.0, 200);
    let (code, stdout, stderr) = rx.proc.finish(WAIT).await;
    assert_eq!(code, 0);
    assert!(
        stdout.contains("channel_occupied small") && !stdout.contains("xxx"),
        "{stdout}"
    );
    assert!(
        stderr.contains("refused a webhook to /webhooks (413): the body is over 1024 bytes"),
        "{stderr}"
    );
}

/// A body declared bigger than `--max-body` is refused at once: it is neither waited for
/// nor invited with `100 Continue`.
#[tokio::test]
async fn a_body_declared_too_big_is_refused_before_it_is_sent() {
    let mut rx = Receiver::start(&["--max-body", "1KiB"]).await;
    let head = format!(
        "POST / HTTP/1.1\r\nhost: {}\r\ncontent-length: 5000000\r\nexpect: 100-continue\r\n\
         X-Pusher-Key: {KEY}\r\n\r\n",
        rx.addr
    );
    let started = Instant::now();
    let (status, answer) = exchange(rx.addr, head.as_bytes(), &[]).await;
    assert_eq!(status, 413, "{answer}");
    assert!(!answer.contains("100 Continue"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    rx.proc.terminate(WAIT).await;
}

/// The key and signature headers are checked whole but shown cut: a request cannot make a
/// line of any length.
#[tokio::test]
async fn long_key_and_signature_headers_are_shown_cut() {
    let rx = Receiver::start(&["--count", "1"]).await;
    let (key, sig) = ("k".repeat(20_000), "f".repeat(20_000));
    let body = occupied("c");
    assert_eq!(
        rx.post(Some(&key), Some(&sig), body.as_bytes()).await.0,
        200
    );
    let (code, stdout, stderr) = rx.proc.finish(WAIT).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("INVALID"), "{stdout}");
    assert!(stdout.contains("k…"), "{stdout}");
    let longest = stdout.lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 400, "a line of {longest} bytes:\n{stdout}");
}

#[tokio::test]
async fn a_slow_body_times_out() {
    let mut rx = Receiver::start(&["--body-timeout", "300ms"]).await;
    let head = format!(
        "POST / HTTP/1.1\r\nhost: {}\r\ncontent-length: 100\r\nX-Pusher-Key: {KEY}\r\n\r\n{{",
        rx.addr
    );
    let started = Instant::now();
    let (status, _) = exchange(rx.addr, head.as_bytes(), &[b' '; 50]).await;
    assert_eq!(status, 408);
    assert!(started.elapsed() < Duration::from_secs(5));
    rx.proc.terminate(WAIT).await;
    assert!(
        rx.proc
            .stderr()
            .contains("(408): the body did not arrive within 300ms"),
        "{}",
        rx.proc.stderr()
    );
}

#[tokio::test]
async fn answers_at_once_even_when_nobody_reads_stdout() {
    let pipe = FullPipe::new().await;
    let mut rx = Receiver::start_with(&["--max-queue", "4KiB"], pipe.stdout()).await;
    let started = Instant::now();
    for i in 0..60 {
        let (status, _) = rx
            .post_signed(KEY, SECRET, &occupied(&format!("c{i}")))
            .await;
        assert_eq!(status, 200);
    }
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    // The drops are counted where they can be seen, then the process still ends.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !rx.proc.stderr().contains("webhook events not shown") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        rx.proc.stderr().contains("webhook events not shown"),
        "{}",
        rx.proc.stderr()
    );
    rx.proc.terminate(WAIT).await;
}

#[tokio::test]
async fn timeout_ends_a_quiet_receiver() {
    let rx = Receiver::start(&["--timeout", "300ms"]).await;
    let (code, stdout, _) = rx.proc.finish(WAIT).await;
    assert_eq!((code, stdout.as_str()), (0, ""));
}

#[tokio::test]
async fn credentials_come_from_the_environment_else_the_profile() {
    let home = crate::support::webhooks::home_with_config(
        "profile",
        "[profiles.default]\nkey = \"p-key\"\nsecret = \"p-secret\"\napp_id = \"5\"\n",
    );
    let body = occupied("c");

    let cmd = crate::support::bin::command_in(&home);
    let rx = Receiver::start_cmd(cmd, &["--json", "--count", "1"]).await;
    rx.post_signed("p-key", "p-secret", &body).await;
    let (_, stdout, stderr) = rx.proc.finish(WAIT).await;
    let v = &objects(&stdout)[0];
    assert_eq!(
        (v["app"].as_str(), v["valid"].as_bool()),
        (Some("5"), Some(true))
    );
    assert!(!stderr.contains("p-secret"));

    let mut cmd = crate::support::bin::command_in(&home);
    cmd.env("PUSHER_APP_KEY", "e-key")
        .env("PUSHER_APP_SECRET", "e-secret")
        .env("PUSHER_APP_ID", "9");
    let rx = Receiver::start_cmd(cmd, &["--json", "--count", "1"]).await;
    rx.post_signed("e-key", "e-secret", &body).await;
    let (_, stdout, _) = rx.proc.finish(WAIT).await;
    let v = &objects(&stdout)[0];
    assert_eq!(
        (v["app"].as_str(), v["valid"].as_bool()),
        (Some("9"), Some(true))
    );

    // A key without its secret is refused before listening.
    let mut cmd = crate::support::bin::command();
    cmd.args(["webhooks", "--key", "k"]);
    let (code, _, stderr) = crate::support::bin::Proc::spawn(&mut cmd)
        .finish(WAIT)
        .await;
    assert_eq!(code, 1);
    assert!(stderr.contains("needs its secret"), "{stderr}");
}

/// Both halves of tickertape: what `serve --webhook` sends, `tickertape webhooks` accepts as
/// validly signed, event for event.
#[tokio::test]
async fn what_serve_sends_the_receiver_finds_valid() {
    let rx = Receiver::start(&["--json", "--count", "2"]).await;
    let url = format!("http://{}/", rx.addr);
    let server = crate::support::server::Server::start(&["--webhook", &url]).await;
    let sub = server.subscriber("orders").await;
    drop(sub);
    let (code, stdout, stderr) = rx.proc.finish(WAIT).await;
    assert_eq!(code, 0, "{stderr}");
    let all = objects(&stdout);
    let got: Vec<(&str, &str, bool)> = all
        .iter()
        .map(|o| {
            (
                o["name"].as_str().unwrap_or("?"),
                o["channel"].as_str().unwrap_or("?"),
                o["valid"] == true,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("channel_occupied", "orders", true),
            ("channel_vacated", "orders", true)
        ],
        "{stdout}"
    );
    server.terminate().await;
}

#[tokio::test]
async fn one_key_with_two_secrets_is_refused_before_listening() {
    let mut cmd = crate::support::bin::command();
    cmd.args(["webhooks", "--listen", "127.0.0.1:0"]).args([
        "--app",
        "1:k:SECRETX",
        "--app",
        "2:k:SECRETY",
    ]);
    let (code, stdout, stderr) = crate::support::bin::Proc::spawn(&mut cmd)
        .finish(WAIT)
        .await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("both have key k"), "{stderr}");
    assert!(!stderr.contains("SECRET"), "{stderr}");
}

/// SIGTERM as soon as the address is printed ends the receiver cleanly (status 0), not by
/// the signal's default action: the handler is in place before the address is said.
#[tokio::test]
async fn sigterm_right_after_the_address_ends_it_cleanly() {
    for _ in 0..5 {
        let mut rx = Receiver::start(&[]).await;
        let status = rx.proc.terminate(WAIT).await;
        assert_eq!(status.code(), Some(0), "{status:?}: {}", rx.proc.stderr());
    }
}

/// Every listener has the same discipline.
mod budgets {
    use std::net::SocketAddr;
    use std::time::Duration;

    use tokio::io::AsyncWriteExt;
    use tokio::net::{TcpSocket, TcpStream};

    /// `n` requests to `to` from `ip` (the last byte of 127.0.0.x), each declaring a body of
    /// `length` bytes and sending one: held open, as long as the caller keeps them.
    async fn unfinished(ip: u8, to: SocketAddr, n: usize, length: usize) -> Vec<TcpStream> {
        let head = format!("POST /hook HTTP/1.1\r\nhost: x\r\ncontent-length: {length}\r\n\r\n{{");
        let mut held = Vec::new();
        for _ in 0..n {
            let socket = TcpSocket::new_v4().unwrap();
            socket.bind(SocketAddr::from(([127, 0, 0, ip], 0))).unwrap();
            if let Ok(Ok(mut tcp)) =
                tokio::time::timeout(Duration::from_secs(1), socket.connect(to)).await
            {
                let _ = tcp.write_all(head.as_bytes()).await;
                held.push(tcp);
            }
        }
        held
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_sender_cannot_take_every_slot_of_the_webhooks_receiver() {
        use crate::support::webhooks::{
            KEY as HOOK_KEY, Receiver, SECRET as HOOK_SECRET, occupied,
        };
        let receiver =
            Receiver::start(&["--key", HOOK_KEY, "--secret", HOOK_SECRET, "--lines"]).await;
        // 300 requests from 127.0.0.2 whose bodies never finish.
        let _held = unfinished(2, receiver.addr, 300, 1000).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (status, answer) = receiver
            .post_signed(HOOK_KEY, HOOK_SECRET, &occupied("honest"))
            .await;
        assert_eq!(status, 200, "{answer}");
    }

    /// Descriptors are a resource: under a limit of 128 (soft and hard), the receiver's cap
    /// is sized from it (128 less the reserve of 64: 64 connections, 16 per address, and
    /// says so), and 320 connections from five addresses never take the descriptors the
    /// process keeps for itself. Sized from the flag's 256 alone, they took all 128.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_receivers_caps_are_sized_from_its_descriptors() {
        use crate::support::bin;
        use crate::support::webhooks::{
            KEY as HOOK_KEY, Receiver, SECRET as HOOK_SECRET, occupied,
        };
        let cmd = bin::command_via(
            &std::env::temp_dir().join("tickertape-test-no-config"),
            &["prlimit", "--nofile=128:128", "--"],
        );
        let args = ["--key", HOOK_KEY, "--secret", HOOK_SECRET, "--lines"];
        let receiver = Receiver::start_cmd(cmd, &args).await;
        let said = receiver.proc.stderr();
        assert!(
            said.contains("128 file descriptors: up to 64 connections (16 per address)"),
            "{said}"
        );
        let mut held = Vec::new();
        for ip in 2..7 {
            held.extend(unfinished(ip, receiver.addr, 64, 1000).await);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let pid = receiver.proc.pid();
        let open = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .count();
        assert!(
            open <= 128 - 32,
            "{open} of 128 descriptors open with {} connections attempted",
            held.len()
        );
        drop(held);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (status, answer) = receiver
            .post_signed(HOOK_KEY, HOOK_SECRET, &occupied("honest"))
            .await;
        assert_eq!(status, 200, "{answer}");
    }

    /// One sender cannot take the bodies' whole budget either: eight bodies of 1 MiB declared
    /// and trickled from one address (all of the default 8 MiB half) hold at most its quarter,
    /// and a webhook from 127.0.0.1 is answered. Before, it got 503.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_sender_cannot_take_the_bodies_budget() {
        use crate::support::webhooks::{
            KEY as HOOK_KEY, Receiver, SECRET as HOOK_SECRET, occupied,
        };
        let receiver =
            Receiver::start(&["--key", HOOK_KEY, "--secret", HOOK_SECRET, "--lines"]).await;
        let held = unfinished(66, receiver.addr, 8, 1 << 20).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (status, answer) = receiver
            .post_signed(HOOK_KEY, HOOK_SECRET, &occupied("honest"))
            .await;
        assert_eq!(status, 200, "{answer}");
        drop(held);
    }

    /// The bodies have half of `--max-queue`, the output the other half: a body that
    /// takes the bodies' half leaves no room for another, whatever the output's half holds.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bodies_being_read_are_held_to_half_the_queues_bytes_from_their_declared_length() {
        use crate::support::webhooks::{KEY as HOOK_KEY, Receiver, SECRET as HOOK_SECRET};
        let receiver = Receiver::start(&[
            "--key",
            HOOK_KEY,
            "--secret",
            HOOK_SECRET,
            "--lines",
            "--max-queue",
            "1MiB",
        ])
        .await;
        // A body of 512 KiB declared and not sent: it holds the bodies' whole half.
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::from(([127, 0, 0, 2], 0))).unwrap();
        let mut first = socket.connect(receiver.addr).await.unwrap();
        first
            .write_all(b"POST /hook HTTP/1.1\r\nhost: x\r\ncontent-length: 524288\r\n\r\n{")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        // Another declared body from another address is refused before it is read.
        let (status, answer) = crate::support::webhooks::exchange(
            receiver.addr,
            b"POST /hook HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\nconnection: close\r\n\r\n",
            &[],
        )
        .await;
        assert_eq!(status, 503, "{answer}");
        drop(first);
    }

    /// One sender from `ip`: signed bodies, one per connection, until `until`; the answers'
    /// statuses counted by kind (200, 503 when the bodies' half is full, other).
    async fn flood_from(
        ip: [u8; 4],
        to: SocketAddr,
        body: std::sync::Arc<Vec<u8>>,
        until: tokio::time::Instant,
    ) -> [u64; 3] {
        use crate::support::webhooks::SECRET as HOOK_SECRET;
        use tokio::io::AsyncReadExt;
        let signature = protocol::webhook::sign(HOOK_SECRET, &body);
        let head = format!(
            "POST /hook HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\nx-pusher-key: app-key\r\n\
             x-pusher-signature: {signature}\r\n\r\n",
            body.len()
        );
        let mut statuses = [0; 3];
        while tokio::time::Instant::now() < until {
            let socket = TcpSocket::new_v4().unwrap();
            socket.bind(SocketAddr::from((ip, 0))).unwrap();
            let Ok(mut tcp) = socket.connect(to).await else {
                continue;
            };
            let _ = tcp.write_all(head.as_bytes()).await;
            // In pieces, as a sender on a real network does: bodies being read pile up.
            for piece in body.chunks(64 * 1024) {
                if tcp.write_all(piece).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let mut answer = Vec::new();
            let _ =
                tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut answer)).await;
            let status = String::from_utf8_lossy(&answer)
                .split_whitespace()
                .nth(1)
                .map(str::to_owned);
            match status.as_deref() {
                Some("200") => statuses[0] += 1,
                Some("503") => statuses[1] += 1,
                _ => statuses[2] += 1,
            }
        }
        statuses
    }

    /// The receiver's memory holds what `--max-queue` says in total: 32 senders from four
    /// addresses post 1 MiB bodies, each in 64 KiB pieces, (one of 8 000 small events, whose output is larger than
    /// the body, or one event with 1 MiB of data) as fast as they can for 6 s, while nobody
    /// reads stdout. The peak resident set stays within the process's own size at rest,
    /// `--max-queue`, and a fixed allowance for what turning the bodies into output takes
    /// (two at a time) and the allocator keeps.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_flood_from_several_senders_stays_within_max_queue() {
        use crate::support::bin::FullPipe;
        use crate::support::webhooks::Receiver;
        const MIB: u64 = 1 << 20;
        const MAX_QUEUE: u64 = 32 * MIB;
        let pipe = FullPipe::new().await;
        let receiver =
            Receiver::start_with(&["--json", "--max-queue", "32MiB"], pipe.stdout()).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let at_rest = receiver.proc.peak_rss();
        let small: Vec<serde_json::Value> = (0..8000)
            .map(|i| serde_json::json!({"name": "member_added", "channel": format!("presence-r{i}"), "user_id": format!("u{i}")}))
            .collect();
        let many = serde_json::json!({ "time_ms": 1, "events": small }).to_string();
        let one = serde_json::json!({ "time_ms": 1, "events": [{
            "name": "client_event", "channel": "private-c", "event": "client-x",
            "data": "x".repeat(1_000_000),
        }]})
        .to_string();
        assert!(many.len() < (1 << 20) && one.len() < (1 << 20));
        let bodies = [
            std::sync::Arc::new(many.into_bytes()),
            std::sync::Arc::new(one.into_bytes()),
        ];
        let until = tokio::time::Instant::now() + Duration::from_secs(6);
        let senders: Vec<_> = (0..32u8)
            .map(|i| {
                let ip = [127, 0, 0, 1 + i % 4];
                tokio::spawn(flood_from(
                    ip,
                    receiver.addr,
                    bodies[usize::from(i % 2)].clone(),
                    until,
                ))
            })
            .collect();
        let mut statuses = [0u64; 3];
        for s in senders {
            let got = s.await.unwrap();
            for (total, n) in statuses.iter_mut().zip(got) {
                *total += n;
            }
        }
        let peak = receiver.proc.peak_rss();
        report(at_rest, peak, statuses);
        assert!(statuses[0] > 16, "the flood was received: {statuses:?}");
        // Within --max-queue, plus 24 MiB for the bodies being turned into output (two at
        // a time, each a few times its size as parsed values and lines) and what the
        // allocator keeps. Measured on 2 cores: 64-66 MiB at a rest of 19; before the
        // halves, when bodies and output had --max-queue each, 82-94 MiB.
        assert!(
            peak <= at_rest + MAX_QUEUE + 24 * MIB,
            "peak RSS {} MiB (at rest {} MiB) for --max-queue 32MiB",
            peak / MIB,
            at_rest / MIB
        );
    }

    #[allow(clippy::print_stderr)]
    fn report(at_rest: u64, peak: u64, statuses: [u64; 3]) {
        eprintln!(
            "webhooks receiver: at rest {} MiB, peak {} MiB, answers 200/503/other {statuses:?}",
            at_rest >> 20,
            peak >> 20
        );
    }

    /// `--max-body` is at most the bodies' half of `--max-queue`; left out, it is 1 MiB or
    /// that half.
    #[tokio::test]
    async fn a_max_body_over_half_the_queue_is_a_usage_error() {
        use crate::support::bin::{Proc, command};
        let mut cmd = command();
        cmd.args(["webhooks", "--listen", "127.0.0.1:0"]).args([
            "--max-queue",
            "1MiB",
            "--max-body",
            "600KiB",
        ]);
        let (code, _, stderr) = Proc::spawn(&mut cmd).finish(Duration::from_secs(10)).await;
        assert_eq!(code, 2, "{stderr}");
        assert!(
            stderr.contains("--max-body") && stderr.contains("half of --max-queue"),
            "{stderr}"
        );
    }
}
