//! Runs the real `tickertape serve` on a free loopback port, for tests.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use tickertape::client::Secret;
use tickertape::protocol::{ClientMessage, ServerMessage, signature};
use tickertape::publish::RestClient;

pub const KEY: &str = "app-key";
pub const SECRET: &str = "app-secret";

pub struct Server {
    pub addr: SocketAddr,
    pub child: Child,
}

impl Server {
    /// `tickertape serve` with app 1:app-key:app-secret and any extra flags.
    pub async fn start(extra: &[&str]) -> Server {
        let mut args = vec!["--listen", "127.0.0.1:0", "--app", "1:app-key:app-secret"];
        args.extend_from_slice(extra);
        Server::start_with(&args, &[]).await
    }

    /// `tickertape serve ARGS` with extra environment variables.
    pub async fn start_with(args: &[&str], envs: &[(&str, &str)]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tickertape"))
            .arg("serve")
            .args(args)
            .envs(envs.iter().copied())
            .env_remove("PUSHER_APP_ID")
            .env_remove("PUSHER_APP_KEY")
            .env_remove("PUSHER_APP_SECRET")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start tickertape serve");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("serve did not start")
            .unwrap()
            .expect("serve printed nothing");
        let addr = first
            .split("ws://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {first:?}"));
        // Keep draining stderr so the server never blocks on it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Server { addr, child }
    }

    pub fn rest(&self) -> RestClient {
        RestClient::new(
            format!("http://{}", self.addr),
            "1",
            KEY,
            Secret::new(SECRET),
        )
    }

    pub fn url(&self, query: &str) -> String {
        format!("ws://{}/app/{KEY}?{query}", self.addr)
    }

    /// A raw WebSocket client, past the handshake: (socket, socket_id).
    pub async fn raw(&self) -> (Raw, String) {
        let (ws, _) =
            tokio_tungstenite::connect_async(self.url("protocol=7&client=test&version=1"))
                .await
                .unwrap();
        let mut raw = Raw { ws };
        match raw.recv().await {
            ServerMessage::ConnectionEstablished { socket_id, .. } => (raw, socket_id),
            other => panic!("{other:?}"),
        }
    }

    /// Sends SIGTERM and waits for the process to end.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().expect("running").to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .unwrap();
        tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .unwrap()
            .unwrap()
    }
}

/// A raw WebSocket client that speaks frames.
pub struct Raw {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Raw {
    pub async fn send(&mut self, msg: &ClientMessage) {
        self.ws.send(Message::text(msg.encode())).await.unwrap();
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text.to_owned())).await.unwrap();
    }

    /// The next text frame, decoded. Panics after 5 s.
    pub async fn recv(&mut self) -> ServerMessage {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(5), self.ws.next())
                .await
                .expect("nothing from the server in time")
                .expect("closed")
                .expect("socket error");
            if let Message::Text(t) = frame {
                return ServerMessage::decode(&t).unwrap();
            }
        }
    }

    /// Whether anything arrives within `d` (for "never echoed" checks).
    pub async fn quiet_for(&mut self, d: Duration) -> bool {
        !matches!(
            tokio::time::timeout(d, self.ws.next()).await,
            Ok(Some(Ok(Message::Text(_))))
        )
    }

    /// Reads until the close frame: its code.
    pub async fn close_code(&mut self) -> Option<u16> {
        let read = async {
            while let Some(msg) = self.ws.next().await {
                match msg {
                    Ok(Message::Close(f)) => return f.map(|f| u16::from(f.code)),
                    Ok(_) => {}
                    Err(_) => return None,
                }
            }
            None
        };
        tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .ok()
            .flatten()
    }

    pub async fn subscribe(
        &mut self,
        socket_id: &str,
        channel: &str,
        channel_data: Option<&str>,
    ) -> ServerMessage {
        let auth =
            (channel.starts_with("private-") || channel.starts_with("presence-")).then(|| {
                signature::sign_channel(KEY, SECRET, socket_id, channel, channel_data).unwrap()
            });
        self.send(&ClientMessage::Subscribe {
            channel: channel.into(),
            auth,
            channel_data: channel_data.map(str::to_owned),
        })
        .await;
        self.recv().await
    }
}
