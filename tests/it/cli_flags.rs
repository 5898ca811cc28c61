//! Extreme flag values are usage errors with a clear message, never a panic or a publisher
//! that dies silently.

use std::time::Duration;

use crate::support::bin::{Proc, command};

#[tokio::test]
async fn extreme_durations_and_speeds_are_refused_up_front() {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/stock_ticker.ndjson"
    );
    let cases: [(&[&str], &str); 7] = [
        (
            &[
                "watch",
                "a",
                "--key",
                "k",
                "--timeout",
                "18446744073709551615s",
            ],
            "--timeout",
        ),
        (
            &["replay", "--json", "--speed", "1e-30", fixture],
            "--speed",
        ),
        (&["replay", "--json", "--speed", "NaN", fixture], "--speed"),
        (
            &["replay", "--json", "--from", "300000000000y", fixture],
            "--from",
        ),
        (&["stocks", "--interval", "0"], "--interval"),
        (&["demo", "--interval", "0"], "--interval"),
        (
            &[
                "watch",
                "--all",
                "--discover-interval",
                "0",
                "--key",
                "k",
                "--secret",
                "s",
                "--app-id",
                "1",
            ],
            "--discover-interval",
        ),
    ];
    for (args, flag) in cases {
        let mut cmd = command();
        cmd.args(args);
        let (code, stdout, stderr) = Proc::spawn(&mut cmd).finish(Duration::from_secs(10)).await;
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert!(stderr.contains(flag), "{args:?} must name {flag}: {stderr}");
    }
}
