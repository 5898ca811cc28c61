//! The WebSocket of one connection, read in bursts: tungstenite's protocol state machine
//! over two byte buffers, and the socket (TCP, or TLS over it) read and written around it.
//!
//! tokio-tungstenite polls its stream once per message, and each poll registers the task's
//! waker with the socket (atomic exchanges): 7% of the client's CPU time on a flood of small
//! events. Here the socket is read in whole chunks (as much as is there, with room for
//! [`CHUNK`] bytes), and every message a chunk holds is taken from the buffer without a poll
//! ([`Wire::try_next`]). The protocol (framing, masking, limits, UTF-8, answering pings and
//! close frames) stays tungstenite's own.

use std::io::{self, Read, Write};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::tungstenite::handshake::HandshakeError;
use tokio_tungstenite::tungstenite::handshake::client::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{ClientHandshake, Error, Message, WebSocket};

/// Room made for each read from the socket.
pub(crate) const CHUNK: usize = 64 * 1024;

/// What tungstenite takes from the read buffer at a time. It zero-fills that much before
/// each take, also when the buffer is empty, at the end of every burst: at its default, 128
/// KiB, that fill was nine tenths of the instructions of an event on a quiet stream (179,000
/// an event at 100 a second, 14,000 with 2 KiB; `bench/paced-instructions.sh`), and a flood
/// is read with fewer instructions too (2,591 an event with 8 KiB, 2,485 with 2 KiB).
pub(crate) const READ_STEP: usize = 2 * 1024;

/// What tungstenite reads from and writes to: the bytes read from the socket that it has not
/// taken yet, and the bytes it wrote that are not sent yet.
#[derive(Default)]
pub(crate) struct Pipes {
    inbound: BytesMut,
    /// Advanced as the socket takes it: a send cut short leaves only what is still to go.
    outbound: BytesMut,
    /// The socket said end of file: once `inbound` is empty, reads return 0.
    eof: bool,
}

impl Read for Pipes {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.inbound.is_empty() {
            return match self.eof {
                true => Ok(0),
                false => Err(io::ErrorKind::WouldBlock.into()),
            };
        }
        let n = buf.len().min(self.inbound.len());
        buf[..n].copy_from_slice(&self.inbound[..n]);
        self.inbound.advance(n);
        Ok(n)
    }
}

impl Write for Pipes {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Bounded: each message written is sent (and this emptied) before the next, and the
        // answers tungstenite writes as it reads (a pong per ping) are sent after each frame
        // until connection_established, then after each read burst (at most BURST + 1 frames).
        self.outbound.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One WebSocket connection, after its handshake.
pub(crate) struct Wire {
    io: MaybeTlsStream<TcpStream>,
    ws: WebSocket<Pipes>,
    /// A close or an error was returned: the stream has ended.
    ended: bool,
}

impl Wire {
    /// The WebSocket handshake over `io` (already connected, TLS done), with tungstenite's
    /// client handshake fed from the socket until it has the whole answer.
    pub(crate) async fn handshake(
        mut io: MaybeTlsStream<TcpStream>,
        request: Request,
        config: WebSocketConfig,
    ) -> Result<(Wire, Response), Error> {
        let mut attempt = ClientHandshake::start(Pipes::default(), request, Some(config))?;
        loop {
            let mut mid = match attempt.handshake() {
                Ok((ws, response)) => {
                    let mut wire = Wire {
                        io,
                        ws,
                        ended: false,
                    };
                    wire.send_written().await?;
                    return Ok((wire, response));
                }
                Err(HandshakeError::Failure(e)) => return Err(e),
                Err(HandshakeError::Interrupted(mid)) => mid,
            };
            let pipes = mid.get_mut().get_mut();
            send(&mut io, &mut pipes.outbound).await?;
            if fill(&mut io, pipes).await? == 0 {
                // The server closed before its whole answer: tungstenite says so.
                pipes.eof = true;
            }
            attempt = mid;
        }
    }

    /// The next message: from what was read already, else once more bytes arrive. `None`
    /// when the stream has ended with a close (tokio-tungstenite's `Stream` contract). Cancel
    /// safe: only the socket read waits, and a read cancelled takes no bytes.
    pub(crate) async fn next(&mut self) -> Option<Result<Message, Error>> {
        loop {
            if let Some(next) = self.try_next() {
                return next;
            }
            let pipes = self.ws.get_mut();
            match fill(&mut self.io, pipes).await {
                Ok(0) => pipes.eof = true,
                Ok(_) => {}
                Err(e) => {
                    self.ended = true;
                    return Some(Err(Error::Io(e)));
                }
            }
        }
    }

    /// A message already read, without waiting: `None` when the next one needs more bytes
    /// from the socket.
    pub(crate) fn try_next(&mut self) -> Option<Option<Result<Message, Error>>> {
        if self.ended {
            return Some(None);
        }
        match self.ws.read() {
            Ok(message) => Some(Some(Ok(message))),
            Err(Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => None,
            Err(e) => {
                self.ended = true;
                match e {
                    Error::ConnectionClosed | Error::AlreadyClosed => Some(None),
                    e => Some(Some(Err(e))),
                }
            }
        }
    }

    /// Sends a message and everything queued before it (answers to pings and closes).
    pub(crate) async fn send(&mut self, message: Message) -> Result<(), Error> {
        self.ws.write(message)?;
        self.send_written().await
    }

    /// Whether tungstenite has something to send that is not sent yet: the answer to a ping
    /// or to a close frame it read. Writes it out of tungstenite's queue, not to the socket.
    pub(crate) fn has_unsent(&mut self) -> bool {
        // An error here is the connection's: the next read or send says it.
        let _ = self.ws.flush();
        !self.ws.get_ref().outbound.is_empty()
    }

    /// Sends what tungstenite wrote (and queued answers it had not written yet).
    pub(crate) async fn send_written(&mut self) -> Result<(), Error> {
        match self.ws.flush() {
            Ok(()) | Err(Error::ConnectionClosed) => {}
            Err(e) => return Err(e),
        }
        send(&mut self.io, &mut self.ws.get_mut().outbound).await?;
        Ok(())
    }
}

/// Reads one chunk from the socket into `pipes`: the bytes read, 0 at end of file.
async fn fill(io: &mut MaybeTlsStream<TcpStream>, pipes: &mut Pipes) -> io::Result<usize> {
    pipes.inbound.reserve(CHUNK);
    io.read_buf(&mut pipes.inbound).await
}

/// Writes `outbound` whole to the socket, taking each byte out as it is written. Cancel safe:
/// a send cut short (by its timeout) leaves the bytes not written, and the next send writes
/// those, not the frame again from its start.
async fn send(io: &mut MaybeTlsStream<TcpStream>, outbound: &mut BytesMut) -> io::Result<()> {
    if outbound.is_empty() {
        return Ok(());
    }
    io.write_all_buf(outbound).await?;
    io.flush().await
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Duration;

    use tokio::net::TcpListener;
    use tokio::task::JoinHandle;
    use tokio::time::timeout;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

    use super::*;

    const WAIT: Duration = Duration::from_secs(5);

    /// A server frame (unmasked, payload under 126 bytes).
    fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0x80 | opcode, payload.len() as u8];
        out.extend_from_slice(payload);
        out
    }

    /// A WebSocket server on 127.0.0.1 that accepts one connection and writes its 101 answer
    /// and `script` in one write, then returns all that the client sends until it closes.
    async fn server(script: Vec<u8>) -> (SocketAddr, JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            while !request.ends_with(b"\r\n\r\n") {
                let mut byte = [0u8; 1];
                tcp.read_exact(&mut byte).await.unwrap();
                request.push(byte[0]);
            }
            let request = String::from_utf8(request).unwrap();
            let key = request
                .lines()
                .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
                .or_else(|| {
                    request
                        .lines()
                        .find_map(|l| l.strip_prefix("sec-websocket-key: "))
                })
                .unwrap();
            let mut answer = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {}\r\n\r\n",
                derive_accept_key(key.as_bytes())
            )
            .into_bytes();
            answer.extend(script);
            tcp.write_all(&answer).await.unwrap();
            let mut heard = Vec::new();
            let _ = timeout(WAIT, tcp.read_to_end(&mut heard)).await;
            heard
        });
        (addr, task)
    }

    async fn connect(addr: SocketAddr) -> Wire {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let request = format!("ws://{addr}/app/k").into_client_request().unwrap();
        let (wire, response) = timeout(
            WAIT,
            Wire::handshake(
                MaybeTlsStream::Plain(tcp),
                request,
                WebSocketConfig::default(),
            ),
        )
        .await
        .expect("the handshake ends")
        .expect("the handshake succeeds");
        assert_eq!(response.status(), 101);
        wire
    }

    fn text(next: Option<Option<Result<Message, Error>>>) -> String {
        match next {
            Some(Some(Ok(Message::Text(t)))) => t.to_string(),
            other => panic!("expected a text message, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn frames_that_came_with_the_handshake_answer_are_read() {
        let (addr, _server) = server(frame(1, b"first")).await;
        let mut wire = connect(addr).await;
        let first = timeout(WAIT, wire.next()).await.expect("the frame is read");
        assert_eq!(text(Some(first)), "first");
    }

    #[tokio::test]
    async fn the_frames_of_one_read_are_taken_without_waiting() {
        let script: Vec<u8> = (0..100)
            .flat_map(|i| frame(1, i.to_string().as_bytes()))
            .collect();
        let (addr, _server) = server(script).await;
        let mut wire = connect(addr).await;
        let mut got = vec![text(Some(timeout(WAIT, wire.next()).await.unwrap()))];
        // The server wrote them in one segment: once one is read, the rest need no wait.
        while let Some(next) = wire.try_next() {
            got.push(text(Some(next)));
        }
        let want: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        assert_eq!(got, want);
        assert!(wire.try_next().is_none(), "nothing more was sent");
    }

    #[tokio::test]
    async fn a_ping_is_answered_with_a_pong_of_its_payload() {
        let (addr, server) = server(frame(9, b"hb")).await;
        let mut wire = connect(addr).await;
        match timeout(WAIT, wire.next()).await.unwrap() {
            Some(Ok(Message::Ping(p))) => assert_eq!(&p[..], b"hb"),
            other => panic!("expected the ping, got {other:?}"),
        }
        assert!(wire.has_unsent(), "the pong waits to be sent");
        wire.send_written().await.unwrap();
        assert!(!wire.has_unsent());
        drop(wire);
        let heard = server.await.unwrap();
        // A masked pong: FIN + opcode 10, mask bit + length 2, the mask, the payload.
        assert_eq!(&heard[..2], &[0x8A, 0x82], "{heard:?}");
        let mask = &heard[2..6];
        let payload: Vec<u8> = heard[6..8]
            .iter()
            .zip(mask.iter().cycle())
            .map(|(b, m)| b ^ m)
            .collect();
        assert_eq!(payload, b"hb");
    }

    /// A send cut short by its timeout (the peer not reading) leaves only the bytes not yet
    /// written: sending again later writes each byte of the frame once.
    #[tokio::test]
    async fn a_send_cancelled_half_way_does_not_repeat_what_was_written() {
        const PAYLOAD: usize = 16 << 20;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (go, wait) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut tcp = tokio::io::BufReader::new(tcp);
            let mut request = Vec::new();
            while !request.ends_with(b"\r\n\r\n") {
                request.push(tcp.read_u8().await.unwrap());
            }
            let request = String::from_utf8(request).unwrap();
            let key = request
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(": ")?;
                    name.eq_ignore_ascii_case("sec-websocket-key")
                        .then_some(value)
                })
                .unwrap();
            let answer = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {}\r\n\r\n",
                derive_accept_key(key.as_bytes())
            );
            tcp.get_mut().write_all(answer.as_bytes()).await.unwrap();
            // Not a byte read until the client's send has timed out.
            let _ = wait.await;
            let mut heard = Vec::new();
            let _ = timeout(WAIT, tcp.read_to_end(&mut heard)).await;
            heard.len()
        });
        let mut wire = connect(addr).await;
        let cut = timeout(
            Duration::from_millis(200),
            wire.send(Message::binary(vec![7u8; PAYLOAD])),
        )
        .await;
        assert!(cut.is_err(), "the send was meant to be cut short");
        go.send(()).unwrap();
        timeout(WAIT, wire.send_written())
            .await
            .expect("the rest is sent")
            .unwrap();
        drop(wire);
        // FIN + binary, mask bit + 127, a 64-bit length, the mask, the payload.
        assert_eq!(server.await.unwrap(), 2 + 8 + 4 + PAYLOAD);
    }

    #[tokio::test]
    async fn a_socket_closed_without_a_close_frame_ends_the_stream_with_an_error() {
        let (addr, server) = server(Vec::new()).await;
        let mut wire = connect(addr).await;
        server.abort();
        match timeout(WAIT, wire.next()).await.unwrap() {
            Some(Err(_)) => {}
            other => panic!("expected an error, got {other:?}"),
        }
        assert!(
            timeout(WAIT, wire.next()).await.unwrap().is_none(),
            "it stays ended"
        );
    }
}
