//! One live connection: the handshake, then frames, heartbeats, commands and auth results,
//! until something ends it. Every wait is inside one `select!`, so the socket is always read
//! and server pings are always answered, however slow the consumer is.

use std::time::{Duration, Instant, SystemTime};

use tokio::time::{sleep_until, timeout, timeout_at};
use tokio_tungstenite::tungstenite::error::CapacityError;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};

use super::engine::{Engine, Next};
use super::heard;
use super::item::{ConnectionState, Item, Reason};
use super::transport::{self, Socket};
use protocol::close::handshake_error_action;
use protocol::signature::validate_socket_id;
use protocol::{ClientMessage, ServerMessage};

/// Most frames handled in a row without looking at timers and commands. They are read
/// together: the clock is read once for all of them (their receive time), and their events
/// are handed to the consumer together.
pub(crate) const BURST: usize = 128;

/// A connection that lasts this long resets the back-off when it ends.
pub(crate) const STABLE: Duration = Duration::from_secs(30);

/// A write that takes longer than this means the connection is gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) struct Live {
    pub(super) ws: Socket,
    pub(super) socket_id: String,
    activity: Duration,
    last_seen: Instant,
    pub(super) ping_sent: Option<Instant>,
    /// When the frames being handled were read: the start of their read burst.
    pub(super) read_at: SystemTime,
}

pub(super) type Step = Result<(), Next>;

impl Live {
    /// A read burst starts: its frames were received now.
    fn stamp(&mut self) {
        self.last_seen = Instant::now();
        self.read_at = SystemTime::now();
    }

    pub(super) async fn send(&mut self, msg: ClientMessage) -> Step {
        sent(timeout(SEND_TIMEOUT, self.ws.send(Message::text(msg.encode()))).await)
    }

    /// Sends the answers tungstenite queued while reading (pongs to WebSocket pings).
    async fn send_answers(&mut self) -> Step {
        if !self.ws.has_unsent() {
            return Ok(());
        }
        sent(timeout(SEND_TIMEOUT, self.ws.send_written()).await)
    }

    /// When the heartbeat timer fires: the pong deadline while a ping is unanswered,
    /// else the end of the activity period.
    fn deadline(&self, pong_timeout: Duration) -> Instant {
        match self.ping_sent {
            Some(sent) if self.last_seen <= sent => sent + pong_timeout,
            _ => self.last_seen + self.activity,
        }
    }
}

/// A send's outcome: an error or a timeout ends the connection.
fn sent(outcome: Result<Result<(), tungstenite::Error>, tokio::time::error::Elapsed>) -> Step {
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Next::Backoff(Reason::Io(transport::describe(e)))),
        Err(_) => Err(Next::Backoff(Reason::Io("send timed out".into()))),
    }
}

fn close_next(frame: Option<CloseFrame>) -> Next {
    match frame {
        Some(f) => Next::from_close(f.code.into(), heard::text(f.reason.to_string())),
        None => Next::from_close(1005, String::new()),
    }
}

impl Engine {
    /// `deadline` ends the handshake: until then the server must have sent
    /// pusher:connection_established.
    pub(super) async fn session(&mut self, ws: Socket, deadline: tokio::time::Instant) -> Next {
        let mut live = match self.handshake(ws, deadline).await {
            Ok(live) => live,
            Err(next) => return next,
        };
        self.stats.connections += 1;
        let established = Instant::now();
        self.set_state(
            ConnectionState::Connected,
            None,
            None,
            Some(live.socket_id.clone()),
        );
        let next = match self.start_session(&mut live).await {
            Ok(()) => self.serve(&mut live).await,
            Err(next) => next,
        };
        if matches!(next, Next::Shutdown(_)) {
            transport::close(&mut live.ws, 1000, "").await;
        }
        // Only a connection that lasted resets the back-off: one that the server ends soon
        // after accepting it (a grant it refuses, a node that drops everyone) is a failed
        // attempt like any other, and the delays keep growing.
        if established.elapsed() >= STABLE {
            self.backoff.reset();
        }
        next
    }

    async fn handshake(
        &mut self,
        mut ws: Socket,
        deadline: tokio::time::Instant,
    ) -> Result<Live, Next> {
        let limit = self.cfg.connect_timeout;
        loop {
            let frame = timeout_at(deadline, ws.next()).await.map_err(|_| {
                Next::Backoff(Reason::Handshake(format!(
                    "no pusher:connection_established within {} s",
                    limit.as_secs_f32()
                )))
            })?;
            let text = match frame {
                None => {
                    return Err(Next::Backoff(Reason::Io(
                        "closed during the handshake".into(),
                    )));
                }
                Some(Err(e)) => return Err(Next::Backoff(Reason::Io(transport::describe(e)))),
                Some(Ok(Message::Close(f))) => {
                    transport::answer_close(&mut ws).await;
                    return Err(close_next(f));
                }
                Some(Ok(Message::Text(t))) => t,
                Some(Ok(_)) => {
                    // A ping's pong goes now: nothing else is sent before the answer, and
                    // pongs left queued would pile up for as long as a server pings.
                    if ws.has_unsent() {
                        sent(timeout_at(deadline, ws.send_written()).await)?;
                    }
                    continue;
                }
            };
            self.stats.record_frame(text.len());
            return match ServerMessage::decode(&text).map(heard::message) {
                Ok(ServerMessage::ConnectionEstablished {
                    socket_id,
                    activity_timeout,
                }) => {
                    validate_socket_id(&socket_id)
                        .map_err(|e| Next::Backoff(Reason::Handshake(e.to_string())))?;
                    let server = activity_timeout.map(|s| Duration::from_secs(s.max(1)));
                    let activity = server.map_or(self.cfg.activity_timeout, |s| {
                        s.min(self.cfg.activity_timeout)
                    });
                    Ok(Live {
                        ws,
                        socket_id,
                        activity,
                        last_seen: Instant::now(),
                        ping_sent: None,
                        read_at: SystemTime::now(),
                    })
                }
                Ok(ServerMessage::Error(e)) => Err(Next::from_action(
                    handshake_error_action(e.code),
                    Reason::PusherError {
                        code: e.code,
                        message: e.message,
                    },
                )),
                Ok(_) => Err(Next::Backoff(Reason::Handshake(heard::text(format!(
                    "expected pusher:connection_established first, got {}",
                    protocol::frame::decode_envelope(&text)
                        .map_or_else(|_| "?".into(), |e| e.event)
                ))))),
                Err(e) => Err(Next::Backoff(Reason::Handshake(heard::text(e.to_string())))),
            };
        }
    }

    /// Resubscribes every channel and signs in, on each new connection.
    async fn start_session(&mut self, live: &mut Live) -> Step {
        self.reset_signin();
        for channel in self.subs.reset_all() {
            self.start_subscription(live, channel).await?;
        }
        self.start_signin(live);
        Ok(())
    }

    async fn serve(&mut self, live: &mut Live) -> Next {
        let tx = self.out.sender();
        loop {
            // The last burst's events, together.
            self.out.hand_over();
            if self.out.should_wait() {
                // The consumer is behind: stop reading for a moment and let TCP hold the data.
                match timeout(self.cfg.consumer_grace, tx.half_empty()).await {
                    Ok(true) => self.out.room_again(),
                    Ok(false) => return Next::Shutdown(Reason::Requested),
                    Err(_) => self.out.set_congested(),
                }
                // Hand over what waited, and look again.
                continue;
            }
            let deadline = live.deadline(self.cfg.pong_timeout);
            let pending = self.out.pending_weight();
            // A drop report held back (at most one a second) goes when its second is over.
            let report = self.out.report_due();
            let step = tokio::select! {
                _ = sleep_until(report.unwrap_or(deadline).into()), if report.is_some() => {
                    self.out.flush();
                    Ok(())
                }
                frame = live.ws.next() => {
                    live.stamp();
                    self.on_frame(live, frame).await
                }
                _ = sleep_until(deadline.into()) => self.on_timer(live).await,
                cmd = self.cmds.recv(), if self.cmds_open => match cmd {
                    Some(cmd) => self.on_command(live, cmd).await,
                    None => {
                        self.cmds_open = false;
                        Ok(())
                    }
                },
                Some(done) = self.auth_rx.recv() => self.on_auth(live, done).await,
                room = tx.room_for(pending), if self.out.has_pending() => match room {
                    true => {
                        self.out.flush();
                        Ok(())
                    }
                    false => Err(Next::Shutdown(Reason::Requested)),
                },
            };
            if let Err(next) = step {
                return next;
            }
            // A burst: frames already read take no further turn of the select (and no new
            // timer) each, up to a bound that keeps commands and pings answered.
            for _ in 0..BURST {
                if self.out.should_pause() {
                    break;
                }
                let Some(frame) = live.ws.try_next() else {
                    break;
                };
                // An application event, the flood's frame, is handed on with no future made.
                let step = match frame {
                    Some(Ok(Message::Text(text))) => match self.on_text(live, text) {
                        None => Ok(()),
                        Some((env, text)) => self.on_protocol(live, env, text).await,
                    },
                    other => self.on_frame(live, other).await,
                };
                if let Err(next) = step {
                    return next;
                }
            }
            if let Err(next) = live.send_answers().await {
                return next;
            }
            if self.out.is_closed() {
                return Next::Shutdown(Reason::Requested);
            }
        }
    }

    async fn on_timer(&mut self, live: &mut Live) -> Step {
        if live.ping_sent.is_some_and(|sent| live.last_seen <= sent) {
            // pusher-js reconnects at once when the pong does not come.
            return Err(Next::Now(Reason::PongTimeout(self.cfg.pong_timeout)));
        }
        live.ping_sent = Some(Instant::now());
        live.send(ClientMessage::Ping).await
    }

    async fn on_frame(
        &mut self,
        live: &mut Live,
        frame: Option<Result<Message, tungstenite::Error>>,
    ) -> Step {
        let msg = match frame {
            None => {
                return Err(Next::from_close(
                    1006,
                    "connection lost without a close frame".into(),
                ));
            }
            Some(Err(tungstenite::Error::Capacity(CapacityError::MessageTooLong {
                size,
                max_size,
            }))) => {
                // The frame's header gave its length: its payload was never read.
                self.stats.oversized += 1;
                let text = format!(
                    "the server sent a message of {size} bytes, over the {max_size}-byte limit \
                     (--max-message); reconnecting ({} so far)",
                    self.stats.oversized
                );
                self.out.push(Item::Error(text.clone()));
                return Err(Next::Backoff(Reason::Io(text)));
            }
            Some(Err(e)) => return Err(Next::Backoff(Reason::Io(transport::describe(e)))),
            Some(Ok(msg)) => msg,
        };
        match msg {
            Message::Text(text) => match self.on_text(live, text) {
                None => Ok(()),
                Some((env, text)) => self.on_protocol(live, env, text).await,
            },
            Message::Close(f) => {
                transport::answer_close(&mut live.ws).await;
                Err(close_next(f))
            }
            Message::Binary(b) => {
                self.stats.malformed += 1;
                self.out.push(Item::Error(format!(
                    "ignored a binary frame of {} bytes: the protocol uses text frames",
                    b.len()
                )));
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
