//! TLS to a self-hosted server with a private CA: without `--ca-file` the refused
//! certificate is one clear, fatal message naming `--ca-file` (no retry loop); with it the
//! watcher connects; a CA file that is missing or not certificates is a usage error.

use std::path::PathBuf;
use std::time::Duration;

use crate::support::Peer;
use crate::support::bin::{self, Proc};
use crate::support::scripted::subscribed;
use crate::support::tls::{Pki, TlsFront};

const EXIT: Duration = Duration::from_secs(10);

fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("tickertape-tls-{}-{name}", std::process::id()))
}

fn watch_wss(port: u16, extra: &[&str]) -> Proc {
    let port = port.to_string();
    let mut cmd = bin::command();
    cmd.args([
        "watch",
        "c",
        "--json",
        "--key",
        "app-key",
        "--host",
        "127.0.0.1",
    ])
    .args(["--port", &port, "--scheme", "wss"])
    .args(extra);
    Proc::spawn(&mut cmd)
}

#[tokio::test]
async fn an_untrusted_certificate_is_fatal_and_names_ca_file() {
    let pki = Pki::generate(&scratch("untrusted"));
    let peer = Peer::start().await;
    let front = TlsFront::start(&pki, peer.addr).await;
    let (code, stdout, stderr) = watch_wss(front.addr.port(), &[]).finish(EXIT).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("--ca-file"), "{stderr}");
    assert!(stderr.contains("certificate"), "{stderr}");
    assert_eq!(front.attempts(), 1, "retried: {stderr}");
}

#[tokio::test]
async fn a_private_ca_from_ca_file_is_trusted() {
    let pki = Pki::generate(&scratch("trusted"));
    let mut peer = Peer::start().await;
    let front = TlsFront::start(&pki, peer.addr).await;
    let ca = pki.ca.to_str().unwrap();
    let proc = watch_wss(front.addr.port(), &["--ca-file", ca, "--count", "1"]);
    let mut conn = subscribed(&mut peer, "c").await;
    conn.send(r#"{"event":"e","channel":"c","data":"{\"n\":1}"}"#)
        .await;
    let (code, stdout, stderr) = proc.finish(EXIT).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(r#""event":"e""#), "{stdout}");
}

#[tokio::test]
async fn a_ca_file_that_is_missing_or_not_certificates_is_a_usage_error() {
    let dir = scratch("bad-ca");
    std::fs::create_dir_all(&dir).unwrap();
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, "hello\n").unwrap();
    let missing = dir.join("missing.pem");
    for path in [garbage, missing] {
        let path = path.to_str().unwrap();
        let (code, _, stderr) = watch_wss(6001, &["--ca-file", path]).finish(EXIT).await;
        assert_eq!(code, 2, "{path}: {stderr}");
        assert!(stderr.contains("--ca-file"), "{path}: {stderr}");

        let mut cmd = bin::command();
        cmd.args(["watch", "c", "--json"])
            .env("TICKERTAPE_CA_FILE", path);
        let (code, _, stderr) = Proc::spawn(&mut cmd).finish(EXIT).await;
        assert_eq!(code, 2, "{path}: {stderr}");
        assert!(stderr.contains("--ca-file"), "{path}: {stderr}");
    }
}
