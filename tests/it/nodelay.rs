//! Every TCP socket the binary accepts or connects carries interactive traffic with Nagle's
//! algorithm off (`TCP_NODELAY`): with it on, a small frame written while an earlier one is
//! unacknowledged waits for the peer's delayed ACK, up to 40 ms. Not a timing test: the
//! option is read back from the real sockets of the running processes. A process's
//! established TCP sockets are found in /proc (its descriptors, and the kernel's table in
//! /proc/PID/net/tcp for their addresses), each is copied into this process with
//! pidfd_getfd(2) (allowed: the process is this test's child), and asked for the option.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::bin::{self, Proc};
use crate::support::metrics;
use crate::support::server::{KEY, SECRET, Server};
use crate::support::webhook_sink::{Sink, serve_to};
use crate::support::webhooks::Receiver;

/// One established TCP socket of a process.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Socket {
    local: SocketAddr,
    remote: SocketAddr,
    nodelay: bool,
}

/// `0100007F:1F90` (the kernel's hex: the address as a host-order word, then the port).
fn parse_v4(text: &str) -> Option<SocketAddr> {
    let (ip, port) = text.split_once(':')?;
    let ip = u32::from_str_radix(ip, 16).ok()?;
    let port = u16::from_str_radix(port, 16).ok()?;
    Some(SocketAddr::V4(SocketAddrV4::new(
        Ipv4Addr::from(ip.to_le_bytes()),
        port,
    )))
}

/// Every established IPv4 TCP socket of process `pid`, with its `TCP_NODELAY` read back.
fn sockets(pid: u32) -> Vec<Socket> {
    use rustix::process::{Pid, PidfdFlags, PidfdGetfdFlags, pidfd_getfd, pidfd_open};
    // inode -> descriptor, for the process's sockets.
    let mut fds = HashMap::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new(); // gone
    };
    for entry in dir.flatten() {
        let Ok(target) = std::fs::read_link(entry.path()) else {
            continue;
        };
        let target = target.to_string_lossy();
        if let Some(inode) = target
            .strip_prefix("socket:[")
            .and_then(|t| t.strip_suffix(']'))
            && let (Ok(inode), Ok(fd)) = (
                inode.parse::<u64>(),
                entry.file_name().to_string_lossy().parse::<i32>(),
            )
        {
            fds.insert(inode, fd);
        }
    }
    let table = std::fs::read_to_string(format!("/proc/{pid}/net/tcp")).unwrap_or_default();
    let pid = Pid::from_raw(pid as i32).expect("a pid");
    let pidfd = pidfd_open(pid, PidfdFlags::empty()).expect("pidfd_open");
    let mut out = Vec::new();
    for line in table.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
        if f.len() < 10 || f[3] != "01" {
            continue; // not ESTABLISHED
        }
        let (Some(local), Some(remote), Ok(inode)) =
            (parse_v4(f[1]), parse_v4(f[2]), f[9].parse::<u64>())
        else {
            continue;
        };
        let Some(&fd) = fds.get(&inode) else {
            continue; // another process's
        };
        let copy = match pidfd_getfd(&pidfd, fd, PidfdGetfdFlags::empty()) {
            Ok(copy) => copy,
            Err(rustix::io::Errno::BADF) => continue, // closed meanwhile
            Err(e) => panic!(
                "pidfd_getfd on a child's socket failed ({e}): this check needs Linux 5.6 and \
                 ptrace access to the test's own children"
            ),
        };
        let tcp = std::net::TcpStream::from(copy);
        out.push(Socket {
            local,
            remote,
            nodelay: tcp.nodelay().expect("getsockopt TCP_NODELAY"),
        });
    }
    out
}

/// A socket the test waits for: what it is, and how to know it.
type Wanted<'a> = (&'a str, &'a dyn Fn(&Socket) -> bool);

/// Watches `proc`'s sockets (20 s at most) until every one of `wanted` has been seen, then
/// asserts that every established socket seen meanwhile had Nagle off. Sockets are gathered
/// across looks: a short-lived one (a POST that times out under load) counts when it was
/// seen once, so the check does not depend on two sockets being open at the same moment.
async fn assert_all_nodelay(proc: &Proc, wanted: &[Wanted<'_>]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut found: Vec<Socket> = Vec::new();
    loop {
        for socket in sockets(proc.pid()) {
            if !found.contains(&socket) {
                found.push(socket);
            }
        }
        let missing: Vec<&str> = wanted
            .iter()
            .filter(|(_, is)| !found.iter().any(is))
            .map(|(name, _)| *name)
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no socket for {missing:?} among {found:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let nagle: Vec<&Socket> = found.iter().filter(|s| !s.nodelay).collect();
    assert!(
        nagle.is_empty(),
        "sockets with Nagle's algorithm on: {nagle:?} (of {found:?})"
    );
}

fn local_port(port: u16) -> impl Fn(&Socket) -> bool {
    move |s| s.local.port() == port
}

fn remote_port(port: u16) -> impl Fn(&Socket) -> bool {
    move |s| s.remote.port() == port
}

#[tokio::test]
async fn serve_accepts_and_connects_every_socket_with_nagle_off() {
    // The webhook target never answers: the server's connection to it stays open.
    let sink = Sink::never().await;
    let mut server = serve_to(&sink, &["--metrics", "127.0.0.1:0"]).await;
    let metrics_addr = metrics::addr(&mut server.proc).await;
    // A WebSocket (whose first subscription sends a webhook), a keep-alive REST connection
    // and a metrics connection mid-request.
    let _ws = server.subscriber("nagle").await;
    let rest = server.rest();
    rest.channels(None, None).await.expect("a REST call");
    let mut scrape = TcpStream::connect(metrics_addr).await.unwrap();
    scrape
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut head = [0; 12];
    scrape.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    let port = server.addr.port();
    assert_all_nodelay(
        &server.proc,
        &[
            ("the WebSocket and the REST connection", &local_port(port)),
            ("the metrics connection", &local_port(metrics_addr.port())),
            ("the webhook sender", &remote_port(sink.addr.port())),
        ],
    )
    .await;
    let on_port = sockets(server.proc.pid())
        .iter()
        .filter(|s| s.local.port() == port)
        .count();
    assert!(
        on_port >= 2,
        "the WebSocket and the REST connection: {on_port}"
    );
    drop(scrape);
    server.terminate().await;
}

#[tokio::test]
async fn the_webhooks_receiver_accepts_with_nagle_off() {
    let receiver = Receiver::start(&[]).await;
    // A request whose headers are still coming: the connection stays open.
    let mut tcp = TcpStream::connect(receiver.addr).await.unwrap();
    tcp.write_all(b"POST / HTTP/1.1\r\n").await.unwrap();
    assert_all_nodelay(
        &receiver.proc,
        &[("the webhook poster", &local_port(receiver.addr.port()))],
    )
    .await;
}

#[tokio::test]
async fn watch_and_its_auth_endpoint_posts_have_nagle_off() {
    let server = Server::start(&[]).await;
    // The auth endpoint never answers: the POST's connection stays open.
    let auth = Sink::never().await;
    let port = server.addr.port().to_string();
    let url = auth.url();
    let mut cmd = bin::command();
    cmd.args([
        "watch",
        "private-nagle",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
    ])
    .args(["--key", KEY, "--auth-endpoint", &url]);
    let watch = Proc::spawn(&mut cmd);
    assert_all_nodelay(
        &watch,
        &[
            ("the WebSocket", &remote_port(server.addr.port())),
            ("the auth endpoint POST", &remote_port(auth.addr.port())),
        ],
    )
    .await;
    drop(watch);
    server.terminate().await;
}

#[tokio::test]
async fn trigger_publishes_with_nagle_off() {
    // A REST API that reads the request and never answers.
    let api = Sink::never().await;
    let port = api.addr.port().to_string();
    let mut cmd = bin::command();
    cmd.args([
        "trigger",
        "news",
        "update",
        "{}",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
    ])
    .args(["--key", KEY, "--secret", SECRET, "--app-id", "1"]);
    let trigger = Proc::spawn(&mut cmd);
    assert_all_nodelay(
        &trigger,
        &[("the REST request", &remote_port(api.addr.port()))],
    )
    .await;
}
