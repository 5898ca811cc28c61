//! The connection engine: one task that owns the socket, the subscription table and the
//! counters. It connects, reconnects by the close-code policy with back-off, and hands typed
//! items to its consumer through the [`Outbox`]. `session.rs` runs each live connection.

use protocol::safe_text::terminal_safe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::time::{sleep_until, timeout, timeout_at};

use super::authorizer::{Grant, SignIn};
use super::backoff::Backoff;
use super::command::{Command, Snapshot};
use super::config::{ClientConfig, Endpoint};
use super::item::{
    ConnectionState, Item, Link, Reason, StateChange, SubscriptionFailure, SubscriptionStatus,
};
use super::outbox::Outbox;
use super::signin_state::SignInState;
use super::stats::Stats;
use super::subscriptions::{Subscriptions, Unsubscribe};
use super::transport;
use net::http::HttpClient;
use protocol::close::{CloseAction, CloseCode};

/// What ends a connection attempt or a session, and so what the engine does next.
pub(super) enum Next {
    /// Do not reconnect (refused by the server).
    Stop(Reason),
    /// The configuration cannot work.
    Fatal(Reason),
    Backoff(Reason),
    Now(Reason),
    Tls(Reason),
    /// The server could not be reached.
    Unreachable(Reason),
    /// The consumer asked to stop, or went away.
    Shutdown(Reason),
}

impl Next {
    pub(super) fn from_action(action: CloseAction, reason: Reason) -> Next {
        match action {
            CloseAction::Stop => Next::Stop(reason),
            CloseAction::Backoff => Next::Backoff(reason),
            CloseAction::ReconnectNow => Next::Now(reason),
            CloseAction::SwitchToTls => Next::Tls(reason),
        }
    }

    pub(super) fn from_close(code: u16, message: String) -> Next {
        Next::from_action(
            CloseCode::from(code).action(),
            Reason::Closed { code, message },
        )
    }
}

/// Results of work the engine handed to other tasks (HTTP authorization).
pub(super) enum AuthDone {
    Channel {
        socket_id: String,
        channel: String,
        result: Result<Grant, SubscriptionFailure>,
    },
    SignIn {
        socket_id: String,
        result: Result<SignIn, SubscriptionFailure>,
    },
}

pub(crate) struct Engine {
    pub(super) cfg: Arc<ClientConfig>,
    endpoint: Endpoint,
    pub(super) cmds: mpsc::Receiver<Command>,
    pub(super) cmds_open: bool,
    pub(super) out: Outbox,
    pub(super) subs: Subscriptions,
    pub(super) stats: Stats,
    pub(super) backoff: Backoff,
    state: ConnectionState,
    http: Option<HttpClient>,
    pub(super) auth_tx: mpsc::Sender<AuthDone>,
    pub(super) auth_rx: mpsc::Receiver<AuthDone>,
    pub(super) signin: SignInState,
    last_immediate: Option<Instant>,
    /// Channel and event names of recent events, shared by the events that follow.
    pub(super) names: crate::name::Names,
    /// Reads frames' envelopes, remembering the last one's shape.
    pub(super) scanner: protocol::frame::Scanner,
    /// The state now, for [`crate::Client::link`].
    link: watch::Sender<Link>,
}

impl Engine {
    pub(crate) fn new(
        cfg: ClientConfig,
        cmds: mpsc::Receiver<Command>,
        items: super::feed::FeedTx,
        channels: &[String],
        link: watch::Sender<Link>,
    ) -> Engine {
        let (auth_tx, auth_rx) = mpsc::channel(64);
        let mut subs = Subscriptions::default();
        for c in channels {
            subs.add(c);
        }
        Engine {
            endpoint: cfg.endpoint.clone(),
            backoff: Backoff::new(cfg.backoff_base, cfg.backoff_max),
            cfg: Arc::new(cfg),
            cmds,
            cmds_open: true,
            out: Outbox::new(items),
            subs,
            stats: Stats::default(),
            state: ConnectionState::Initialized,
            http: None,
            auth_tx,
            auth_rx,
            signin: SignInState::default(),
            last_immediate: None,
            names: crate::name::Names::default(),
            scanner: protocol::frame::Scanner::new(),
            link,
        }
    }

    pub(crate) async fn run(mut self) {
        loop {
            if self.state != ConnectionState::Connecting {
                self.set_state(ConnectionState::Connecting, None, None, None);
            }
            let cfg = self.cfg.clone();
            // One deadline for the whole handshake: TCP, TLS, the upgrade and
            // pusher:connection_established. Frames in between (pings) do not extend it.
            let deadline = tokio::time::Instant::now() + cfg.connect_timeout;
            let attempt = timeout_at(deadline, transport::connect(&self.endpoint, &cfg)).await;
            let next = match attempt {
                Err(_) => Next::Unreachable(Reason::Io(
                    crate::explain::timed_out(
                        &format!("{}:{}", self.endpoint.host, self.endpoint.port),
                        cfg.connect_timeout.as_secs_f32(),
                    )
                    .to_string(),
                )),
                Ok(Err(e)) if e.fatal => Next::Fatal(Reason::Config(e.message)),
                Ok(Err(e)) => Next::Unreachable(Reason::Io(e.message)),
                Ok(Ok(socket)) => self.session(socket, deadline).await,
            };
            let (state, reason, delay) = match next {
                Next::Shutdown(r) | Next::Stop(r) => {
                    return self.finish(ConnectionState::Disconnected, r).await;
                }
                Next::Fatal(r) => return self.finish(ConnectionState::Failed, r).await,
                Next::Tls(r) => {
                    self.endpoint = self.endpoint.with_tls();
                    (ConnectionState::Connecting, r, Duration::ZERO)
                }
                Next::Now(r) => {
                    // pusher-js retries at once; a server that keeps asking gets back-off.
                    let recent = self
                        .last_immediate
                        .is_some_and(|t| t.elapsed() < Duration::from_secs(1));
                    self.last_immediate = Some(Instant::now());
                    let delay = if recent {
                        self.backoff.next_delay()
                    } else {
                        Duration::ZERO
                    };
                    (ConnectionState::Connecting, r, delay)
                }
                Next::Backoff(r) => (ConnectionState::Connecting, r, self.backoff.next_delay()),
                Next::Unreachable(r) => {
                    (ConnectionState::Unavailable, r, self.backoff.next_delay())
                }
            };
            self.set_state(state, Some(reason), Some(delay), None);
            if !self.wait(delay).await {
                return self
                    .finish(ConnectionState::Disconnected, Reason::Requested)
                    .await;
            }
        }
    }

    pub(super) fn set_state(
        &mut self,
        current: ConnectionState,
        reason: Option<Reason>,
        retry_in: Option<Duration>,
        socket_id: Option<String>,
    ) {
        // First on the path nothing can hold up: whoever judges the connection (`--expect
        // connected`) sees the change even while the feed waits behind a flood.
        self.link.send_replace(Link {
            state: current,
            since: Instant::now(),
        });
        let change = StateChange {
            previous: self.state,
            current,
            reason,
            retry_in,
            socket_id,
            url: self.endpoint.url(&self.cfg.key),
        };
        let reason = change
            .reason
            .as_ref()
            .map(|r| terminal_safe(&r.to_string()).into_owned());
        tracing::info!(state = %current, reason = ?reason, retry_in = ?retry_in, "connection state");
        self.state = current;
        self.out.push(Item::State(Box::new(change)));
    }

    /// Emits the final state, then gives the consumer a moment to take what is waiting.
    async fn finish(mut self, state: ConnectionState, reason: Reason) {
        self.set_state(state, Some(reason), None, None);
        let tx = self.out.sender();
        let _ = timeout(Duration::from_secs(2), async {
            while self.out.has_any_pending() {
                if !tx.room_for(self.out.pending_weight()).await {
                    return;
                }
                self.out.flush_all();
            }
        })
        .await;
    }

    /// Waits out a back-off while still taking commands. Returns false to stop.
    async fn wait(&mut self, delay: Duration) -> bool {
        let until = tokio::time::Instant::now() + delay;
        let tx = self.out.sender();
        loop {
            if self.out.is_closed() {
                return false;
            }
            let pending = self.out.pending_weight();
            let report = self.out.report_due();
            tokio::select! {
                _ = sleep_until(until) => return true,
                _ = sleep_until(report.unwrap_or(until.into_std()).into()), if report.is_some() => {
                    self.out.flush();
                }
                cmd = self.cmds.recv(), if self.cmds_open => match cmd {
                    None => self.cmds_open = false,
                    Some(Command::Disconnect) => return false,
                    Some(cmd) => self.on_command_offline(cmd),
                },
                room = tx.room_for(pending), if self.out.has_pending() => match room {
                    true => self.out.flush(),
                    false => return false,
                },
            }
        }
    }

    fn on_command_offline(&mut self, cmd: Command) {
        match cmd {
            Command::Subscribe(channel) => {
                self.subs.add(&channel);
            }
            Command::Unsubscribe(channel) => {
                if self.subs.remove(&channel) != Unsubscribe::Unknown {
                    self.push_status(&channel, SubscriptionStatus::Unsubscribed);
                }
            }
            Command::ClientEvent { reply, .. } => {
                let _ = reply.send(Err(format!("not connected ({})", self.state)));
            }
            Command::Snapshot(reply) => {
                let _ = reply.send(self.snapshot());
            }
            Command::Disconnect => {}
        }
    }

    pub(super) fn snapshot(&self) -> Snapshot {
        Snapshot {
            stats: self.stats.clone(),
            channels: self.subs.counts(),
            dropped: self.out.dropped_total(),
        }
    }

    pub(super) fn push_status(&mut self, channel: &str, status: SubscriptionStatus) {
        self.out.push(Item::Subscription {
            channel: channel.to_owned(),
            status: Box::new(status),
        });
    }

    pub(super) fn http(&mut self) -> HttpClient {
        let roots = &self.cfg.tls_roots;
        self.http
            .get_or_insert_with(|| HttpClient::with_roots(Duration::from_secs(10), roots))
            .clone()
    }
}
