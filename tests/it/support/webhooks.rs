//! Runs the real `tickertape webhooks` on a free loopback port, and posts webhooks to it
//! over plain HTTP/1.1: signed, unsigned, oversized, or with a body that trickles.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use protocol::webhook::{KEY_HEADER, SIGNATURE_HEADER, sign};

use super::bin::{self, Proc};

pub(crate) const KEY: &str = "app-key";
pub(crate) const SECRET: &str = "app-secret";

/// A running receiver.
pub(crate) struct Receiver {
    pub addr: SocketAddr,
    pub proc: Proc,
}

impl Receiver {
    /// `tickertape webhooks --listen 127.0.0.1:0 ARGS`, stdout piped.
    pub(crate) async fn start(args: &[&str]) -> Receiver {
        Receiver::start_with(args, Stdio::piped()).await
    }

    /// The same, with stdout going to `stdout` (e.g. a pipe nobody reads).
    pub(crate) async fn start_with(args: &[&str], stdout: Stdio) -> Receiver {
        let mut cmd = bin::command();
        cmd.stdout(stdout);
        Receiver::start_cmd(cmd, args).await
    }

    /// `cmd` (from [`bin::command`] or [`bin::command_in`], with its environment) running
    /// `webhooks --listen 127.0.0.1:0 ARGS`.
    pub(crate) async fn start_cmd(mut cmd: tokio::process::Command, args: &[&str]) -> Receiver {
        cmd.arg("webhooks")
            .args(["--listen", "127.0.0.1:0"])
            .args(args);
        let mut proc = Proc::spawn(&mut cmd);
        let addr = proc.stderr_addr("receiving webhooks on http://", "/").await;
        Receiver { addr, proc }
    }

    /// POSTs `body` signed with `secret` under `key`.
    pub(crate) async fn post_signed(&self, key: &str, secret: &str, body: &str) -> (u16, String) {
        let sig = sign(secret, body.as_bytes());
        self.post(Some(key), Some(&sig), body.as_bytes()).await
    }

    /// POSTs `body` with the headers given (each left out when `None`).
    pub(crate) async fn post(
        &self,
        key: Option<&str>,
        sig: Option<&str>,
        body: &[u8],
    ) -> (u16, String) {
        post(self.addr, key, sig, body).await
    }
}

/// POSTs `body` to a receiver at `addr` with the headers given (each left out when `None`).
pub(crate) async fn post(
    addr: SocketAddr,
    key: Option<&str>,
    sig: Option<&str>,
    body: &[u8],
) -> (u16, String) {
    {
        let mut head = format!(
            "POST /webhooks HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\n",
            body.len()
        );
        if let Some(key) = key {
            head.push_str(&format!("{KEY_HEADER}: {key}\r\n"));
        }
        if let Some(sig) = sig {
            head.push_str(&format!("{SIGNATURE_HEADER}: {sig}\r\n"));
        }
        head.push_str("\r\n");
        let mut raw = head.into_bytes();
        raw.extend_from_slice(body);
        exchange(addr, &raw, &[]).await
    }
}

/// Sends `first`, then `rest` slowly (never, when empty), and reads the answer until the
/// connection closes: (status, whole answer). Panics after 10 s.
pub(crate) async fn exchange(addr: SocketAddr, first: &[u8], rest: &[u8]) -> (u16, String) {
    let talk = async {
        let mut tcp = TcpStream::connect(addr).await.expect("connect to webhooks");
        tcp.write_all(first).await.expect("send the request");
        let (mut read, mut write) = tcp.into_split();
        let rest = rest.to_vec();
        let trickle = tokio::spawn(async move {
            for byte in rest {
                tokio::time::sleep(Duration::from_millis(200)).await;
                if write.write_all(&[byte]).await.is_err() {
                    break;
                }
            }
            // Holds the connection open, as a slow sender would.
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(write);
        });
        let mut answer = Vec::new();
        let _ = read.read_to_end(&mut answer).await;
        trickle.abort();
        String::from_utf8_lossy(&answer).into_owned()
    };
    let text = tokio::time::timeout(Duration::from_secs(10), talk)
        .await
        .expect("no answer from webhooks in time");
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"));
    (status, text)
}

/// A webhook body of one `channel_occupied` event on `channel`.
pub(crate) fn occupied(channel: &str) -> String {
    format!(
        r#"{{"time_ms":1700000000000,"events":[{{"name":"channel_occupied","channel":"{channel}"}}]}}"#
    )
}

/// A fresh config home for this process holding `tickertape/config.toml` = `toml`.
pub(crate) fn home_with_config(name: &str, toml: &str) -> std::path::PathBuf {
    let home =
        std::env::temp_dir().join(format!("tickertape-webhooks-{}-{name}", std::process::id()));
    let dir = home.join("tickertape");
    std::fs::create_dir_all(&dir).expect("a config home");
    std::fs::write(dir.join("config.toml"), toml).expect("write config.toml");
    home
}
