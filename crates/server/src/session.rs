//! One WebSocket connection, from `connection_established` to the last byte. The session is
//! the socket's single owner: it reads the client's frames, spawns the writer for the sending
//! half and awaits it exactly once, and every way a connection ends goes through
//! [`Session::finish`]: leave the hub at once, then close the socket within a deadline.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, timeout_at};
use tokio_tungstenite::tungstenite;

use super::ServerConfig;
use super::apps::App;
use super::handlers::Handler;
use super::handshake::close_reason;
use super::hub::{ConnHandle, Hub};
use super::log::Log;
use super::queue::{QueueLimits, QueueRx, send_queue};
use crate::metrics::AppMetrics;
use protocol::{Close, ServerMessage};

/// How a connection ends, and so what its socket is told.
#[derive(Debug)]
enum End {
    /// The client sent a Close: echo it.
    ClientClosed,
    /// The server closes: send what is queued, then this Close.
    Server(Close),
    /// The socket is gone (reset, EOF, or the writer failed): nothing more can be sent.
    Lost(&'static str),
}

/// What the writer does once the session ends.
enum Ending {
    /// Answer the client's Close (tungstenite queued the echo; flush it).
    Reply,
    /// Send the queued frames (unless the client is too slow to take them), then Close.
    Close { close: Close, drain: bool },
}

pub(crate) async fn run(
    socket: WebSocket,
    hub: Arc<Hub>,
    app: Arc<App>,
    cfg: Arc<ServerConfig>,
    log: Log,
    ip: std::net::IpAddr,
) {
    let _live = hub.live_session();
    let (sink, stream) = socket.split();
    let (frames_tx, frames_rx) = send_queue(QueueLimits {
        frames: cfg.send_queue,
        bytes: cfg.send_queue_bytes,
    });
    let (kick_tx, kick_rx) = mpsc::channel::<Close>(1);
    let (ending_tx, ending_rx) = oneshot::channel();
    let (gone_tx, gone_rx) = oneshot::channel::<()>();
    let metrics = cfg.metrics.app(&app.id);
    let writer = tokio::spawn(write(sink, frames_rx, ending_rx, gone_tx, metrics.clone()));
    let handle = ConnHandle {
        frames: frames_tx,
        kick: kick_tx,
    };
    let handler = Handler::new_from(hub, app, cfg, log, handle, ip);
    let mut session = Session {
        handler,
        stream,
        kick: kick_rx,
        writer_gone: gone_rx,
        metrics,
    };
    session.handler.start();
    session.metrics.connected();
    let end = session.read().await;
    session.finish(end, writer, ending_tx).await;
}

struct Session {
    handler: Handler,
    stream: SplitStream<WebSocket>,
    kick: mpsc::Receiver<Close>,
    /// Fires when the writer stops early (the client reset mid-write).
    writer_gone: oneshot::Receiver<()>,
    metrics: AppMetrics,
}

impl Session {
    /// Reads the client's frames until something ends the connection.
    async fn read(&mut self) -> End {
        let cfg = self.handler.cfg().clone();
        let mut last_seen = Instant::now();
        let mut ping_sent: Option<Instant> = None;
        // Room kept in the send queue for the answers to one client message. A client's own
        // burst (resubscribing 1000 channels) waits for it to read, rather than overflowing
        // its queue and being closed as too slow; fan-out never waits (4100 when full).
        let headroom = (cfg.send_queue / 4).clamp(1, 16);
        loop {
            let deadline = match ping_sent {
                Some(sent) => sent + cfg.pong_timeout,
                None => last_seen + cfg.activity_timeout,
            };
            let frames = self.handler.frames();
            let room = frames.has_room(headroom);
            tokio::select! {
                biased;
                Some(close) = self.kick.recv() => return End::Server(close),
                _ = &mut self.writer_gone => return End::Lost("the write failed"),
                _ = frames.room(headroom), if !room => {}
                msg = self.stream.next(), if room => {
                    last_seen = Instant::now();
                    ping_sent = None;
                    match msg {
                        Some(Ok(Message::Text(text))) => {
                            self.metrics.received(text.len());
                            self.handler.on_text(&text);
                        }
                        Some(Ok(Message::Close(_))) => return End::ClientClosed,
                        Some(Ok(_)) => {}
                        None => return End::Lost("the client went away"),
                        Some(Err(e)) => return read_error(e),
                    }
                }
                _ = sleep_until(deadline.into()) => {
                    if ping_sent.is_some() {
                        return End::Server(Close::PONG_TIMEOUT);
                    }
                    ping_sent = Some(Instant::now());
                    self.handler.send(&ServerMessage::Ping);
                }
            }
        }
    }

    /// The one close path: leave the hub at once (no more fan-out, presence members gone),
    /// then let the writer finish within the close deadline, reading the client's answer to
    /// a server close. The writer is awaited here and nowhere else.
    async fn finish(
        mut self,
        end: End,
        mut writer: JoinHandle<()>,
        ending: oneshot::Sender<Ending>,
    ) {
        let deadline = tokio::time::Instant::now() + self.handler.cfg().close_timeout;
        let why = match &end {
            End::ClientClosed => "closed by the client".to_owned(),
            End::Server(close) => format!("closed by the server: {} {}", close.code, close.reason),
            End::Lost(why) => (*why).to_owned(),
        };
        self.handler.leave(&why);
        self.metrics
            .disconnected(matches!(&end, End::Server(close) if *close == Close::TOO_SLOW));
        let server_close = match end {
            End::ClientClosed => {
                let _ = ending.send(Ending::Reply);
                false
            }
            End::Server(close) => {
                let drain = close != Close::TOO_SLOW;
                let _ = ending.send(Ending::Close { close, drain });
                true
            }
            End::Lost(_) => {
                drop(ending);
                false
            }
        };
        let done = timeout_at(deadline, async {
            let _ = (&mut writer).await;
            if server_close {
                // The client's Close completes the handshake; whatever else it sends now is
                // read and dropped.
                while let Some(Ok(msg)) = self.stream.next().await {
                    if matches!(msg, Message::Close(_)) {
                        break;
                    }
                }
            }
        })
        .await;
        if done.is_err() {
            writer.abort();
        }
    }
}

/// Why reading failed, as a close the client can still be told where possible.
fn read_error(e: axum::Error) -> End {
    match e.into_inner().downcast::<tungstenite::Error>() {
        Ok(e) => match *e {
            tungstenite::Error::Capacity(_) => End::Server(Close::TOO_BIG),
            tungstenite::Error::Utf8(_) => End::Server(Close::NOT_UTF8),
            tungstenite::Error::Protocol(_) => End::Server(Close::PROTOCOL),
            _ => End::Lost("the connection was lost"),
        },
        Err(_) => End::Lost("the connection was lost"),
    }
}

/// Most frames written before one flush: what queued up while the last write was under way
/// goes out in one system call, and the queue is never drained for long without a flush.
const BATCH_FRAMES: usize = 64;

/// Writes a batch taken from the queue, then flushes once.
async fn send_batch(
    sink: &mut SplitSink<WebSocket, Message>,
    batch: &mut Vec<Utf8Bytes>,
    metrics: &AppMetrics,
) -> Result<(), axum::Error> {
    for f in batch.drain(..) {
        metrics.sent(f.len());
        sink.feed(Message::Text(f)).await?;
    }
    sink.flush().await
}

/// The writer: drains the send queue into the socket until the session says how to end.
/// Dropping `gone` tells the session that the socket stopped taking frames.
async fn write(
    mut sink: SplitSink<WebSocket, Message>,
    mut frames: QueueRx,
    mut ending: oneshot::Receiver<Ending>,
    gone: oneshot::Sender<()>,
    metrics: AppMetrics,
) {
    let mut batch = Vec::with_capacity(BATCH_FRAMES);
    let how = loop {
        tokio::select! {
            biased;
            how = &mut ending => break how,
            n = frames.recv_batch(&mut batch, BATCH_FRAMES) => {
                if n == 0 {
                    break ending.await;
                }
                if send_batch(&mut sink, &mut batch, &metrics).await.is_err() {
                    drop(gone);
                    return;
                }
            }
        }
    };
    match how {
        Ok(Ending::Reply) => {
            let _ = sink.close().await;
        }
        Ok(Ending::Close { close, drain }) => {
            if drain {
                for f in frames.drain() {
                    metrics.sent(f.len());
                    if sink.feed(Message::Text(f)).await.is_err() {
                        return;
                    }
                }
            }
            let frame = CloseFrame {
                code: close.code.as_u16(),
                reason: close_reason(close.reason).into(),
            };
            let _ = sink.send(Message::Close(Some(frame))).await;
        }
        // The session is gone without a word: the socket just drops.
        Err(_) => {}
    }
    drop(gone);
}
