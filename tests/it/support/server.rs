//! Runs the real `tickertape serve` on a free loopback port, for tests.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::MaybeTlsStream as Plain;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use client::publish::RestClient;
use protocol::Secret;
use protocol::{ClientMessage, ServerMessage, signature};

use super::bin::{self, Proc};

pub(crate) const KEY: &str = "app-key";
pub(crate) const SECRET: &str = "app-secret";

pub(crate) struct Server {
    pub addr: SocketAddr,
    pub proc: Proc,
}

impl Server {
    /// `tickertape serve` with app 1:app-key:app-secret and any extra flags.
    pub(crate) async fn start(extra: &[&str]) -> Server {
        let mut args = vec!["--listen", "127.0.0.1:0", "--app", "1:app-key:app-secret"];
        args.extend_from_slice(extra);
        Server::start_with(&args, &[]).await
    }

    /// `tickertape serve ARGS` with extra environment variables.
    pub(crate) async fn start_with(args: &[&str], envs: &[(&str, &str)]) -> Server {
        Server::start_via(&[], args, envs).await
    }

    /// `tickertape serve` with app 1 and `extra` flags, run through `wrapper` (`prlimit …`).
    pub(crate) async fn start_under(wrapper: &[&str], extra: &[&str]) -> Server {
        let mut args = vec!["--listen", "127.0.0.1:0", "--app", "1:app-key:app-secret"];
        args.extend_from_slice(extra);
        Server::start_via(wrapper, &args, &[]).await
    }

    async fn start_via(wrapper: &[&str], args: &[&str], envs: &[(&str, &str)]) -> Server {
        let mut cmd = bin::command_via(
            &std::env::temp_dir().join("tickertape-test-no-config"),
            wrapper,
        );
        cmd.arg("serve")
            .args(args)
            .envs(envs.iter().copied())
            .stdout(Stdio::null());
        let mut proc = Proc::spawn(&mut cmd);
        let first = proc
            .stderr_line(Duration::from_secs(10))
            .await
            .expect("serve printed nothing");
        let addr = first
            .split("ws://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {first:?}"));
        Server { addr, proc }
    }

    /// Everything the server printed on stderr so far.
    pub(crate) fn stderr(&self) -> String {
        self.proc.stderr()
    }

    /// Waits (at most 5 s) for a line of stderr that `matches`, and returns it.
    pub(crate) async fn stderr_line_where(&self, matches: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(line) = self.stderr().lines().find(|l| matches(l)) {
                return line.to_owned();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no such line on stderr; it was:\n{}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub(crate) fn rest(&self) -> RestClient {
        RestClient::new(
            format!("http://{}", self.addr),
            "1",
            KEY,
            Secret::new(SECRET),
        )
    }

    /// This server as `probe --node` and `watch --node` name it: `ws://127.0.0.1:PORT`.
    pub(crate) fn node(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// `tickertape probe` through `nodes` (`--node` each), with this app's key, id and
    /// `secret`, and any extra flags.
    pub(crate) fn probe(
        nodes: &[&Server],
        secret: &str,
        extra: &[&str],
    ) -> tokio::process::Command {
        let mut cmd = bin::command();
        cmd.arg("probe")
            .args(["--key", KEY, "--app-id", "1", "--secret", secret]);
        for n in nodes {
            cmd.args(["--node", &n.node()]);
        }
        cmd.args(extra);
        cmd
    }

    /// This server's `[profiles.NAME]` table for a config file, with its app's credentials.
    pub(crate) fn profile(&self, name: &str) -> String {
        format!(
            "[profiles.{name}]\nhost = \"127.0.0.1\"\nport = {}\nkey = \"{KEY}\"\nsecret = \"{SECRET}\"\napp_id = \"1\"\n",
            self.addr.port()
        )
    }

    /// Publishes one event on `channel` through the REST API.
    pub(crate) async fn publish(&self, channel: &str, event: &str, data: &str) {
        self.rest()
            .trigger(&[channel.to_owned()], event, data, None, None)
            .await
            .expect("publish");
    }

    pub(crate) fn url(&self, query: &str) -> String {
        format!("ws://{}/app/{KEY}?{query}", self.addr)
    }

    /// A raw WebSocket client, past the handshake: (socket, socket_id).
    pub(crate) async fn raw(&self) -> (Raw, String) {
        self.raw_for(KEY).await
    }

    /// A raw WebSocket client of the app whose key is `key`, past the handshake.
    pub(crate) async fn raw_for(&self, key: &str) -> (Raw, String) {
        let url = format!(
            "ws://{}/app/{key}?protocol=7&client=test&version=1",
            self.addr
        );
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let mut raw = Raw { ws };
        match raw.recv().await {
            ServerMessage::ConnectionEstablished { socket_id, .. } => (raw, socket_id),
            other => panic!("{other:?}"),
        }
    }

    /// A raw socket subscribed to `channel` (private and presence ones signed).
    pub(crate) async fn subscriber(&self, channel: &str) -> Raw {
        let (mut raw, id) = self.raw().await;
        let data = channel
            .starts_with("presence-")
            .then(|| format!(r#"{{"user_id":"{id}"}}"#));
        match raw.subscribe(&id, channel, data.as_deref()).await {
            ServerMessage::SubscriptionSucceeded { .. } => raw,
            other => panic!("subscribing to {channel}: {other:?}"),
        }
    }

    /// A client configuration for this server, with `key` (a wrong one, to be refused).
    pub(crate) fn client_config(&self, key: &str) -> client::ClientConfig {
        super::loopback_config(self.addr.port(), key)
    }

    /// `tickertape SUBCOMMAND ARGS` aimed at this server, with its app's key, secret and id.
    pub(crate) fn command(&self, subcommand: &str, args: &[&str]) -> tokio::process::Command {
        let port = self.addr.port().to_string();
        let mut cmd = bin::command();
        cmd.arg(subcommand).args(args).args([
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--key",
            KEY,
            "--secret",
            SECRET,
            "--app-id",
            "1",
        ]);
        cmd
    }

    /// Waits (at most 5 s) until `channel` has `n` subscriptions, as the REST API counts them.
    pub(crate) async fn wait_subscribers(&self, channel: &str, n: u64) {
        let rest = self.rest();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let info = rest
                .channel(channel, Some("subscription_count"))
                .await
                .unwrap();
            if info["subscription_count"].as_u64() == Some(n) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{channel} never had {n} subscriptions: {info}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends SIGTERM and waits for the process to end (and checks it did not panic).
    pub(crate) async fn terminate(mut self) -> std::process::ExitStatus {
        self.proc.terminate(Duration::from_secs(10)).await
    }
}

/// Publishes `batches` batches of 10 events of `size` bytes each on `channel` (events `e0`,
/// `e1`, … in order), for tests of slow and vanishing subscribers.
pub(crate) async fn flood(rest: &RestClient, channel: &str, batches: usize, size: usize) {
    let data = "x".repeat(size);
    for b in 0..batches {
        let batch: Vec<_> = (0..10)
            .map(|i| client::publish::BatchEvent {
                channel: channel.into(),
                name: format!("e{}", b * 10 + i),
                data: data.clone(),
                socket_id: None,
            })
            .collect();
        rest.batch(&batch).await.unwrap();
    }
}

/// A raw WebSocket client that speaks frames.
pub(crate) struct Raw {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Raw {
    pub(crate) async fn send(&mut self, msg: &ClientMessage) {
        self.ws.send(Message::text(msg.encode())).await.unwrap();
    }

    pub(crate) async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text.to_owned())).await.unwrap();
    }

    /// The next text frame, decoded, past `pusher_internal:subscription_count` (which
    /// `serve` sends as counts change; [`Raw::recv_any`] sees it). Panics after 5 s.
    pub(crate) async fn recv(&mut self) -> ServerMessage {
        loop {
            match self.recv_any().await {
                ServerMessage::SubscriptionCount { .. } => {}
                other => return other,
            }
        }
    }

    /// The next text frame, decoded, whatever it is. Panics after 5 s.
    pub(crate) async fn recv_any(&mut self) -> ServerMessage {
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
    /// Subscription counts aside, as [`Raw::recv`].
    pub(crate) async fn quiet_for(&mut self, d: Duration) -> bool {
        let until = tokio::time::Instant::now() + d;
        loop {
            match tokio::time::timeout_at(until, self.ws.next()).await {
                Ok(Some(Ok(Message::Text(t)))) => {
                    if !matches!(
                        ServerMessage::decode(&t),
                        Ok(ServerMessage::SubscriptionCount { .. })
                    ) {
                        return false;
                    }
                }
                Ok(Some(Ok(_))) => {}
                _ => return true,
            }
        }
    }

    /// Reads until the close frame: its code.
    pub(crate) async fn close_code(&mut self) -> Option<u16> {
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

    pub(crate) async fn subscribe(
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

/// Publishes `event` on `channel` every `every` until the handle is aborted (or dropped with
/// the runtime): a steady publisher for expectation tests.
pub(crate) fn publish_every(
    rest: RestClient,
    channel: &str,
    event: &str,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    let (channel, event) = (vec![channel.to_owned()], event.to_owned());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        for n in 0u64.. {
            tick.tick().await;
            let data = format!(r#"{{"name":"ACME","price":{}}}"#, 40 + n % 5);
            let _ = rest.trigger(&channel, &event, &data, None, None).await;
        }
    })
}

/// A WebSocket of app 1 from `ip`, past the handshake; `None` when the server refused it
/// (or did not answer within 5 s).
pub(crate) async fn raw_from(ip: [u8; 4], server: SocketAddr) -> Option<(Raw, String)> {
    raw_with(ip, server, None).await
}

/// [`raw_from`], with the socket's receive buffer set to `recv_buffer` bytes: a reader that
/// falls behind then leaves the frames in the server's queue rather than in the kernel's.
pub(crate) async fn raw_with(
    ip: [u8; 4],
    server: SocketAddr,
    recv_buffer: Option<u32>,
) -> Option<(Raw, String)> {
    let connect = async {
        let socket = TcpSocket::new_v4().ok()?;
        if let Some(size) = recv_buffer {
            socket.set_recv_buffer_size(size).ok()?;
        }
        socket.bind(SocketAddr::from((ip, 0))).ok()?;
        let tcp = socket.connect(server).await.ok()?;
        let url = format!("ws://{server}/app/{KEY}?protocol=7&client=test&version=1");
        let (ws, _) = tokio_tungstenite::client_async(url, Plain::Plain(tcp))
            .await
            .ok()?;
        let mut raw = Raw { ws };
        match raw.ws.next().await {
            Some(Ok(Message::Text(t))) => match ServerMessage::decode(&t).ok()? {
                ServerMessage::ConnectionEstablished { socket_id, .. } => Some((raw, socket_id)),
                _ => None,
            },
            _ => None,
        }
    };
    tokio::time::timeout(Duration::from_secs(5), connect)
        .await
        .ok()
        .flatten()
}

/// Requests whose bodies trickle in, from `ips`, `per_ip` each, held open: unsigned, or
/// signed with the app's secret (a publisher with the credentials). Each declares a body of
/// 200 000 bytes and sends one.
pub(crate) async fn trickling_requests(
    server: SocketAddr,
    ips: &[[u8; 4]],
    per_ip: usize,
    signed: bool,
) -> Vec<TcpStream> {
    use tokio::io::AsyncWriteExt;
    let body = vec![b'{'; 200_000];
    let query = if signed {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let params =
            protocol::rest::sign_request(KEY, SECRET, "POST", "/apps/1/events", &[], &body, now)
                .unwrap();
        protocol::rest::encode_query(&params)
    } else {
        format!("auth_key={KEY}")
    };
    let head = format!(
        "POST /apps/1/events?{query} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{{",
        body.len()
    );
    let mut held = Vec::new();
    for ip in ips {
        for _ in 0..per_ip {
            let socket = TcpSocket::new_v4().unwrap();
            socket.bind(SocketAddr::from((*ip, 0))).unwrap();
            if let Ok(mut tcp) = socket.connect(server).await
                && tcp.write_all(head.as_bytes()).await.is_ok()
            {
                held.push(tcp);
            }
        }
    }
    held
}
