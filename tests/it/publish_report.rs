//! The publisher's side of debugging: `trigger` and `stocks` against the real `serve`, saying
//! how many subscribers each publish reached, what channel was probably meant when it reached
//! no one, and sealing events for private-encrypted channels.

use std::time::Duration;

use crate::support::bin::Proc;
use crate::support::server::Server;
use protocol::ServerMessage;

const EXIT: Duration = Duration::from_secs(10);
const MASTER: &str = "zyrm8pvV2C9fJcBfhyXzvxbJVN/H7QLmbe0xJi1GhPU=";

/// Runs `tickertape SUBCOMMAND ARGS` against the server: (exit code, stdout, stderr).
async fn run(server: &Server, subcommand: &str, args: &[&str]) -> (i32, String, String) {
    Proc::spawn(&mut server.command(subcommand, args))
        .finish(EXIT)
        .await
}

/// The next event a raw subscriber receives: (event, data).
async fn event(raw: &mut crate::support::server::Raw) -> (String, String) {
    match raw.recv().await {
        ServerMessage::Event(ev) => {
            let data = ev.data.to_value().to_string();
            (ev.event, data)
        }
        other => panic!("expected an event, got {other:?}"),
    }
}

#[tokio::test]
async fn trigger_says_how_many_subscribers_it_reached() {
    let server = Server::start(&[]).await;
    let mut a = server.subscriber("stock_ticker").await;
    let mut b = server.subscriber("stock_ticker").await;
    let mut one = server.subscriber("chat").await;
    let (code, stdout, stderr) = run(
        &server,
        "trigger",
        &["stock_ticker", "update_event", r#"{"price":1}"#],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("delivered to 2 subscribers on stock_ticker"),
        "{stderr}"
    );
    assert!(stdout.is_empty(), "the report is for stderr: {stdout}");
    assert_eq!(event(&mut a).await.0, "update_event");
    assert_eq!(event(&mut b).await.0, "update_event");
    // Several channels: one line each, in the order given.
    let (code, _, stderr) = run(&server, "trigger", &["stock_ticker,chat", "e"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        [
            "tickertape: delivered to 2 subscribers on stock_ticker",
            "tickertape: delivered to 1 subscriber on chat",
        ],
        "{stderr}"
    );
    assert_eq!(event(&mut one).await.0, "e");
}

#[tokio::test]
async fn an_event_that_reached_no_one_names_the_occupied_channel_meant() {
    let server = Server::start(&[]).await;
    let _ticker = server.subscriber("stock_ticker").await;
    let _orders = server.subscriber("private-orders").await;
    let (code, _, stderr) = run(&server, "trigger", &["stock-ticker", "update_event"]).await;
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.first(),
        Some(
            &"tickertape: stock-ticker has no subscribers: the server counted 0 subscribers just after publishing (one that took the event and left at once is not counted)"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean stock_ticker?"), "{stderr}");
    assert!(!stderr.contains("private-orders"), "{stderr}");
    // The prefix is part of the name.
    let (code, _, stderr) = run(&server, "trigger", &["orders", "created"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("orders has no subscribers: the server counted 0 subscribers just after publishing (one that took the event and left at once is not counted)"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean private-orders?"), "{stderr}");
    assert!(stderr.contains("prefix"), "{stderr}");
    // Nothing alike: said so, not guessed.
    let (_, _, stderr) = run(&server, "trigger", &["weather", "e"]).await;
    assert!(
        stderr.contains("no occupied channel has a similar name"),
        "{stderr}"
    );
}

#[tokio::test]
async fn require_subscribers_fails_with_4_and_quiet_says_nothing() {
    let server = Server::start(&[]).await;
    let _sub = server.subscriber("stock_ticker").await;
    let (code, _, stderr) = run(
        &server,
        "trigger",
        &["stock_ticker", "e", "--require-subscribers"],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run(
        &server,
        "trigger",
        &["stock-ticker", "e", "--require-subscribers"],
    )
    .await;
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("did you mean stock_ticker?"), "{stderr}");
    // One channel of several without subscribers is enough.
    let (code, _, _) = run(
        &server,
        "trigger",
        &["stock_ticker,nobody", "e", "--require-subscribers"],
    )
    .await;
    assert_eq!(code, 4);
    for args in [
        &["stock_ticker", "e", "--quiet"][..],
        &["stock-ticker", "e", "-q"],
    ] {
        let (code, stdout, stderr) = run(&server, "trigger", args).await;
        assert_eq!(
            (code, stdout.as_str(), stderr.as_str()),
            (0, "", ""),
            "{args:?}"
        );
    }
    let (code, stdout, stderr) = run(
        &server,
        "trigger",
        &["stock-ticker", "e", "--quiet", "--require-subscribers"],
    )
    .await;
    assert_eq!((code, stdout.as_str(), stderr.as_str()), (4, "", ""));
}

#[tokio::test]
async fn a_batch_reports_per_channel() {
    let server = Server::start(&[]).await;
    let _a = server.subscriber("stock_ticker").await;
    let _b = server.subscriber("stock_ticker").await;
    let dir = std::env::temp_dir().join(format!("tickertape-batch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("events.ndjson");
    std::fs::write(
        &file,
        concat!(
            r#"{"channel":"stock_ticker","name":"e","data":{"i":1}}"#,
            "\n",
            r#"{"channel":"stock-ticker","name":"e","data":{"i":2}}"#,
            "\n",
            r#"{"channel":"stock_ticker","name":"e","data":{"i":3}}"#,
            "\n",
        ),
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let (code, _, stderr) = run(&server, "trigger", &["--batch", path]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("delivered to 2 subscribers on stock_ticker (2 events)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("stock-ticker has no subscribers: the server counted 0 subscribers just after publishing (one that took the event and left at once is not counted)"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean stock_ticker?"), "{stderr}");
    let (code, _, _) = run(
        &server,
        "trigger",
        &["--batch", path, "--require-subscribers", "--quiet"],
    )
    .await;
    assert_eq!(code, 4);
    let _ = std::fs::remove_dir_all(dir);
}

/// A batch file is checked whole before anything is sent: a name the protocol refuses on
/// line 22 of 25 sends nothing and names the line. What only the server can judge (20 KB of
/// data, where its limit is 10 KB) fails its request part-way through the file: the error
/// says which lines went out and which did not, and exactly those arrived.
#[tokio::test]
async fn a_batch_is_checked_whole_and_a_refusal_says_what_was_sent() {
    let server = Server::start(&[]).await;
    let mut sub = server.subscriber("batch").await;
    let dir = std::env::temp_dir().join(format!("tickertape-batch-whole-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("events.ndjson");
    let write = |bad: &serde_json::Value| {
        let lines: Vec<String> = (1..=25)
            .map(|n| match n {
                22 => bad.to_string(),
                n => serde_json::json!({"channel": "batch", "name": "e", "data": {"n": n}})
                    .to_string(),
            })
            .collect();
        std::fs::write(&file, lines.join("\n")).unwrap();
    };
    let path = file.to_str().unwrap();
    write(&serde_json::json!({"channel": "batch", "name": "e".repeat(300), "data": {}}));
    let (code, _, stderr) = run(&server, "trigger", &["--batch", path]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("line 22: the event name is 300 bytes long")
            && stderr.contains("nothing was sent"),
        "{stderr}"
    );
    assert!(
        sub.quiet_for(Duration::from_millis(500)).await,
        "an event was sent"
    );
    write(&serde_json::json!({"channel": "batch", "name": "e", "data": "x".repeat(20_000)}));
    let (code, _, stderr) = run(&server, "trigger", &["--batch", path]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("(the request of lines 21-25)")
            && stderr.contains(
                "the 20 event(s) before it (to line 20) were sent; those from line 21 on were not"
            ),
        "{stderr}"
    );
    for n in 1..=20 {
        let (_, data) = event(&mut sub).await;
        assert_eq!(data, format!(r#"{{"n":{n}}}"#));
    }
    assert!(
        sub.quiet_for(Duration::from_millis(500)).await,
        "more than 20 were sent"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// A server whose answer has no count (soketi's `{"ok":true}`, Pusher without subscription
/// counting): the report says so, and --require-subscribers cannot be met.
#[tokio::test]
async fn an_answer_without_the_count_says_how_to_get_it() {
    for (flags, expected) in [(&[][..], 0), (&["--require-subscribers"][..], 4)] {
        let (url, mut requests) =
            crate::support::http_endpoint(vec![(200, r#"{"ok":true}"#.to_owned())]).await;
        let port = url.split(':').nth(2).unwrap().split('/').next().unwrap();
        let mut cmd = crate::support::bin::command();
        cmd.args(["trigger", "stock_ticker", "e"])
            .args(flags)
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                port,
                "--key",
                "k",
                "--secret",
                "s",
                "--app-id",
                "1",
            ]);
        let (code, _, stderr) = Proc::spawn(&mut cmd).finish(EXIT).await;
        assert_eq!(code, expected, "{stderr}");
        assert!(
            stderr.contains("did not report subscription_count"),
            "{stderr}"
        );
        assert!(stderr.contains("subscription counting"), "{stderr}");
        let request = requests.recv().await.unwrap();
        assert!(
            request.contains(r#""info":"subscription_count""#),
            "{request}"
        );
    }
}

/// Names from a hostile server's channel list reach the hints escaped.
#[tokio::test]
async fn suggested_names_cannot_drive_the_terminal() {
    let (url, _requests) = crate::support::http_endpoint(vec![
        (
            200,
            r#"{"channels":{"abc_def":{"subscription_count":0}}}"#.to_owned(),
        ),
        (
            200,
            r#"{"channels":{"abc-de\u009b\u001b[2J":{},"abc_de\u202e":{}}}"#.to_owned(),
        ),
    ])
    .await;
    let port = url.split(':').nth(2).unwrap().split('/').next().unwrap();
    let mut cmd = crate::support::bin::command();
    cmd.args(["trigger", "abc_def", "e"]).args([
        "--host",
        "127.0.0.1",
        "--port",
        port,
        "--key",
        "k",
        "--secret",
        "s",
        "--app-id",
        "1",
    ]);
    let (code, _, stderr) = Proc::spawn(&mut cmd).finish(EXIT).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("did you mean abc_de"), "{stderr}");
    assert!(
        !stderr
            .chars()
            .any(|c| (c.is_control() && c != '\n') || c == '\u{202e}'),
        "{stderr:?}"
    );
}

#[tokio::test]
async fn an_encrypted_channel_gets_sealed_events_and_never_plaintext() {
    let server = Server::start(&[]).await;
    let channel = "private-encrypted-orders";
    let mut watch = Proc::spawn(&mut server.command(
        "watch",
        &[
            channel,
            "--json",
            "--count",
            "1",
            "--encryption-master-key",
            MASTER,
        ],
    ));
    server.wait_subscribers(channel, 1).await;
    let mut raw = server.subscriber(channel).await;
    // Without the key: refused, and nothing is sent.
    let (code, _, stderr) = run(&server, "trigger", &[channel, "created", r#"{"id":6}"#]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("--encryption-master-key"), "{stderr}");
    assert!(stderr.contains("plaintext"), "{stderr}");
    // Nor together with other channels, key or not.
    let (code, _, stderr) = run(
        &server,
        "trigger",
        &[
            &format!("{channel},stock_ticker"),
            "created",
            "--encryption-master-key",
            MASTER,
        ],
    )
    .await;
    assert_eq!(code, 1, "{stderr}");
    // With it: sealed on the wire, opened by the watcher.
    let (code, _, stderr) = run(
        &server,
        "trigger",
        &[
            channel,
            "created",
            r#"{"id":7}"#,
            "--encryption-master-key",
            MASTER,
        ],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("delivered to 2 subscribers on private-encrypted-orders"),
        "{stderr}"
    );
    assert!(!stderr.contains(MASTER), "{stderr}");
    let (name, sealed) = event(&mut raw).await;
    assert_eq!(name, "created");
    assert!(
        sealed.contains("nonce") && sealed.contains("ciphertext") && !sealed.contains("\"id\""),
        "{sealed}"
    );
    watch.wait(EXIT).await;
    let mut stdout = String::new();
    tokio::io::AsyncReadExt::read_to_string(watch.child.stdout.as_mut().unwrap(), &mut stdout)
        .await
        .unwrap();
    let line: serde_json::Value = serde_json::from_str(stdout.trim()).expect(&stdout);
    assert_eq!(line["data"], serde_json::json!({"id": 7}), "{stdout}");
    assert!(line.get("error").is_none(), "{stdout}");
}

#[tokio::test]
async fn stocks_reports_each_tick_and_warns_once_when_nobody_listens() {
    let server = Server::start(&[]).await;
    let _sub = server.subscriber("stock_ticker").await;
    let (code, _, stderr) = run(
        &server,
        "stocks",
        &[
            "--interval",
            "20ms",
            "--count",
            "3",
            "--channel",
            "stock_ticker",
        ],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stderr
            .matches("delivered to 1 subscriber on stock_ticker")
            .count(),
        3,
        "{stderr}"
    );
    assert!(!stderr.contains("no subscribers"), "{stderr}");
    let (code, _, stderr) = run(
        &server,
        "stocks",
        &[
            "--interval",
            "20ms",
            "--count",
            "4",
            "--channel",
            "stock-ticker",
        ],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stderr
            .matches("delivered to 0 subscribers on stock-ticker")
            .count(),
        4,
        "{stderr}"
    );
    assert_eq!(
        stderr
            .matches("stock-ticker has no subscribers: the ticks reach no one")
            .count(),
        1,
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("did you mean stock_ticker?").count(),
        1,
        "{stderr}"
    );
    let (code, _, stderr) = run(
        &server,
        "stocks",
        &["--interval", "20ms", "--count", "2", "--channel", "x", "-q"],
    )
    .await;
    assert_eq!((code, stderr.as_str()), (0, ""));
    // An encrypted channel without the key is refused before the first tick.
    let (code, _, stderr) = run(
        &server,
        "stocks",
        &["--count", "1", "--channel", "private-encrypted-ticks"],
    )
    .await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("--encryption-master-key"), "{stderr}");
}

/// `trigger` sent data that is not JSON as a plain string and exited 0 without a word, while
/// the dashboard's trigger form refused it. Now it is refused too (a usage error that says how
/// to send a string), and sent as it is only with `--text`.
#[tokio::test]
async fn data_that_is_not_json_is_refused_unless_text_says_so() {
    let server = Server::start(&[]).await;
    let mut sub = server.subscriber("orders").await;
    let (code, stdout, stderr) = run(&server, "trigger", &["orders", "e", "{price: 1}"]).await;
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    assert!(
        stderr.contains("the data is not JSON") && stderr.contains("--text"),
        "{stderr}"
    );
    assert!(
        sub.quiet_for(Duration::from_millis(300)).await,
        "nothing was sent"
    );
    let (code, _, stderr) = run(&server, "trigger", &["orders", "e", "{price: 1}", "--text"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(event(&mut sub).await.1, r#""{price: 1}""#);
    let (code, _, stderr) = run(&server, "trigger", &["orders", "e", r#""a string""#]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(event(&mut sub).await.1, r#""a string""#);
}

/// CPU seconds a running process has used so far (user and system), from /proc/PID/stat
/// (fields 14 and 15, in the kernel's USER_HZ of 100 a second).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// `trigger --batch` spent 12.6 s of CPU against a server listing 5000 long names, working out
/// "did you mean" for the channels nobody listened to. The listing is now asked once and
/// indexed once: the whole run stays within a generous bound of CPU time (measured on the
/// process, not the wall clock).
#[tokio::test(flavor = "multi_thread")]
async fn trigger_batch_against_thousands_of_long_names_stays_cheap() {
    use protocol::ClientMessage;
    let server = Server::start(&[]).await;
    // 5 sockets × 1000 channels of 190 characters, each name apart from the rest.
    let name = |n: usize| {
        format!(
            "{n:05}-{}",
            "abcdefghij".repeat(18).chars().rev().collect::<String>()
        )
    };
    let mut sockets = Vec::new();
    for s in 0..5 {
        let (mut raw, _) = server.raw().await;
        for n in s * 1000..(s + 1) * 1000 {
            raw.send(&ClientMessage::Subscribe {
                channel: name(n),
                auth: None,
                channel_data: None,
            })
            .await;
        }
        for _ in 0..1000 {
            assert!(matches!(
                raw.recv().await,
                ServerMessage::SubscriptionSucceeded { .. }
            ));
        }
        sockets.push(raw);
    }
    // 40 events to 40 channels of the same length that nobody is on.
    let dir = std::env::temp_dir().join(format!("tickertape-batch-cpu-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("events.ndjson");
    let lines: Vec<String> = (0..40)
        .map(|n| {
            let channel = format!("{:05}-{}", 90_000 + n, "klmnopqrst".repeat(18));
            serde_json::json!({ "channel": channel, "name": "e", "data": {} }).to_string()
        })
        .collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let mut proc =
        Proc::spawn(&mut server.command("trigger", &["--batch", file.to_str().unwrap()]));
    let pid = proc.pid();
    let mut cpu = 0.0;
    while proc.child.try_wait().ok().flatten().is_none() {
        cpu = cpu_seconds(pid).unwrap_or(cpu);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (code, _, stderr) = proc.finish(EXIT).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("has no subscribers"), "{stderr}");
    #[allow(clippy::print_stderr)]
    {
        eprintln!("trigger --batch: {cpu:.2} s of CPU");
    }
    assert!(cpu < 2.0, "trigger --batch used {cpu:.2} s of CPU");
    drop(sockets);
    let _ = std::fs::remove_dir_all(dir);
}
