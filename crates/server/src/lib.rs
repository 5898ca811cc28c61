//! The embedded Pusher-compatible server: WebSocket `/app/{key}`, the signed REST API, and the
//! seed's page at `/`. It is for one machine: demos, local development and tests.

//!
//! The public surface is what the binary uses: the configuration ([`ServerConfig`],
//! [`App`], [`Limits`], [`HubLimits`], [`webhooks`]' targets, [`log`]'s format and caps),
//! [`start`] and its [`Running`] handle, the [`listen`]er and [`limits`] the webhooks
//! receiver shares, and the [`metrics`] page. The hub, the handlers and the send queue are
//! internal; the `testing` feature opens them to the fuzz targets and benchmarks through
//! [`testing`] (and only then are their `pub` items reachable).

mod apps;
mod gate;
#[cfg_attr(not(feature = "testing"), allow(unreachable_pub))]
mod handlers;
mod handshake;
#[cfg_attr(not(feature = "testing"), allow(unreachable_pub))]
mod hub;
pub mod limits;
pub mod listen;
pub mod log;
pub mod metrics;
#[cfg_attr(not(feature = "testing"), allow(unreachable_pub))]
mod queue;
mod rest;
mod session;
pub mod webhooks;

/// The internals the fuzz targets and the benchmarks drive without a socket.
#[cfg(feature = "testing")]
pub mod testing {
    pub use crate::handlers::Handler;
    pub use crate::hub::{ConnHandle, Hub, NO_ADDRESS};
    pub use crate::queue::{QueueLimits, QueueRx, QueueTx, Refused, send_queue};
}

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{DefaultBodyLimit, Extension, Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tokio::net::TcpListener;

pub use apps::{App, Apps};
use hub::Hub;
pub use hub::{CacheLimits, ChannelPeek, HubLimits, MembersPeek, Snapshot};
pub use limits::Limits;
use limits::{PerPeer, Slot, Slots};
use log::Log;

use crate::metrics::ServeMetrics;
use net::listen::PeerAddr;
use protocol::limits::{DEFAULT_ACTIVITY_TIMEOUT_SECS, DEFAULT_PONG_TIMEOUT_SECS};
use protocol::{Close, CloseCode};

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub apps: Apps,
    /// Sent to clients; the server pings a client that is silent this long.
    pub activity_timeout: Duration,
    /// A ping unanswered this long closes the connection with 4201.
    pub pong_timeout: Duration,
    /// Frames queued per connection before it counts as too slow (closed with 4100).
    pub send_queue: usize,
    /// Bytes queued per connection before it counts as too slow (closed with 4100).
    pub send_queue_bytes: usize,
    /// Largest WebSocket message accepted from a client.
    pub max_message_bytes: usize,
    /// How long a closing connection may take to send its last frames and its Close, and to
    /// read the client's answer, before the socket is dropped.
    pub close_timeout: Duration,
    /// Channels per app and subscriptions per connection.
    pub hub: HubLimits,
    /// Subscribe requests one connection may make per second, after a burst as large as its
    /// subscription limit.
    pub subscribes_per_second: u32,
    /// Timeouts and caps against slow and greedy clients.
    pub limits: Limits,
    pub log: Log,
    /// Counters for `--metrics`, kept whether or not they are served (they are atomics).
    pub metrics: Arc<ServeMetrics>,
    /// Each app's webhook targets (`--webhook`, the config file's `webhooks`).
    pub webhooks: webhooks::WebhookConfig,
}

impl ServerConfig {
    /// Where `serve` listens unless told otherwise.
    pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::V4(std::net::SocketAddrV4::new(
        std::net::Ipv4Addr::LOCALHOST,
        6001,
    ));
    pub const DEFAULT_ACTIVITY_TIMEOUT: Duration =
        Duration::from_secs(DEFAULT_ACTIVITY_TIMEOUT_SECS);
    pub const DEFAULT_PONG_TIMEOUT: Duration = Duration::from_secs(DEFAULT_PONG_TIMEOUT_SECS);
    pub const DEFAULT_SEND_QUEUE: usize = 4096;
    pub const DEFAULT_SEND_QUEUE_BYTES: usize = 2 * 1024 * 1024;
    pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(1);
    pub const DEFAULT_SUBSCRIBES_PER_SECOND: u32 = 100;

    pub fn new(apps: Vec<App>) -> ServerConfig {
        ServerConfig {
            metrics: ServeMetrics::new(apps.iter().map(|a| a.id.as_str())),
            apps: Apps::new(apps),
            activity_timeout: ServerConfig::DEFAULT_ACTIVITY_TIMEOUT,
            pong_timeout: ServerConfig::DEFAULT_PONG_TIMEOUT,
            send_queue: ServerConfig::DEFAULT_SEND_QUEUE,
            send_queue_bytes: ServerConfig::DEFAULT_SEND_QUEUE_BYTES,
            max_message_bytes: 64 * 1024,
            close_timeout: ServerConfig::DEFAULT_CLOSE_TIMEOUT,
            hub: HubLimits::default(),
            subscribes_per_second: ServerConfig::DEFAULT_SUBSCRIBES_PER_SECOND,
            limits: Limits::default(),
            log: Log::default(),
            webhooks: webhooks::WebhookConfig::default(),
        }
    }
}

impl ServerConfig {
    /// One line per app for the startup banner: id, key and options (never the secret).
    pub fn apps_summary(&self) -> Vec<String> {
        self.apps
            .iter()
            .map(|a| {
                format!(
                    "id {} key {}{}",
                    a.id,
                    a.key,
                    if a.client_events {
                        ""
                    } else {
                        " (client events off)"
                    }
                )
            })
            .collect()
    }
}

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) cfg: Arc<ServerConfig>,
    pub(crate) hub: Arc<Hub>,
    pub(crate) log: Log,
    /// WebSocket connections open (`limits.max_connections`).
    pub(crate) websockets: Arc<Slots>,
    /// WebSocket connections open per address (`limits.max_connections_per_ip`).
    pub(crate) websockets_per_ip: Arc<PerPeer>,
    /// REST requests being handled (`limits.max_rest_in_flight`).
    pub(crate) rest: Arc<Slots>,
    /// REST requests being handled per address: half of them.
    pub(crate) rest_per_ip: Arc<PerPeer>,
    /// Turns to list an app's channels ([`LISTINGS`] at once).
    pub(crate) listings: Arc<tokio::sync::Semaphore>,
}

/// Channel listings (`GET /apps/{id}/channels`) made at once: each copies, sorts and writes
/// every occupied name (tens of MB for 100 000 long names), so a few at a time bound the
/// memory they take, whatever the number of callers.
pub(crate) const LISTINGS: usize = 2;

/// A server running in the background.
pub struct Running {
    pub addr: SocketAddr,
    hub: Arc<Hub>,
    close_timeout: Duration,
    task: tokio::task::JoinHandle<()>,
    /// Tells the presence announcements that waited.
    ticker: tokio::task::JoinHandle<()>,
    stop: tokio::sync::watch::Sender<bool>,
}

/// Reads an app's occupied channels, for the metrics page (one short lock per app).
#[derive(Clone)]
pub struct ChannelCount(Arc<Hub>);

impl ChannelCount {
    pub fn get(&self, app_id: &str) -> usize {
        self.0.channel_count(app_id)
    }
}

/// Bounded copies of the hub for the console: one short lock per copy.
#[derive(Clone)]
pub struct Peek(Arc<Hub>);

impl Peek {
    /// At most `max_channels` occupied channels, and at most `max_members` members of
    /// `focus` (app id, channel).
    pub fn snapshot(
        &self,
        max_channels: usize,
        focus: Option<(&str, &str)>,
        max_members: usize,
    ) -> Snapshot {
        self.0.peek(max_channels, focus, max_members)
    }
}

impl Running {
    /// What copies the hub for the console.
    pub fn peek(&self) -> Peek {
        Peek(self.hub.clone())
    }

    /// What reads the apps' occupied channels.
    pub fn channel_count(&self) -> ChannelCount {
        ChannelCount(self.hub.clone())
    }

    /// Closes every client with 4200 (so they reconnect elsewhere or later) and stops, once
    /// every session has sent its Close (each within its close deadline).
    pub async fn shutdown(self) {
        // No new connections; those in their HTTP phase finish their request and close.
        self.stop.send_replace(true);
        let n = self.hub.close_all(Close::SHUTDOWN);
        let until = tokio::time::Instant::now() + self.close_timeout + Duration::from_millis(250);
        while self.hub.live_sessions() > 0 && tokio::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.task.abort();
        self.ticker.abort();
        // The vacated channels and departed members of the closed sessions are queued:
        // send them within the webhooks' own shutdown deadline.
        self.hub.webhooks().shutdown().await;
        tracing::info!(closed = n, "server stopped");
    }
}

fn router(cfg: ServerConfig) -> (Router, Arc<Hub>) {
    let hooks = webhooks::Webhooks::start(&cfg.webhooks, &cfg.apps, &cfg.metrics, cfg.log.clone());
    let mut hub_limits = cfg.hub;
    // Budgets are kept for at most twice as many addresses and users as there can be
    // sockets, and at least a few thousand.
    hub_limits.max_budgets = cfg.limits.max_connections.saturating_mul(2).max(4096);
    let hub = Arc::new(
        Hub::new(cfg.apps.iter().map(|a| a.id.as_str()), hub_limits)
            .with_webhooks(hooks)
            .with_log(cfg.log.clone()),
    );
    for app in cfg.apps.iter() {
        hub.set_subscription_count(&app.id, app.subscription_count);
    }
    let shared = Shared {
        log: cfg.log.clone(),
        websockets: Slots::new(cfg.limits.max_connections),
        websockets_per_ip: PerPeer::new(cfg.limits.max_connections_per_ip),
        rest: Slots::new(cfg.limits.max_rest_in_flight),
        rest_per_ip: PerPeer::new((cfg.limits.max_rest_in_flight / 2).max(1)),
        listings: Arc::new(tokio::sync::Semaphore::new(LISTINGS)),
        cfg: Arc::new(cfg),
        hub: hub.clone(),
    };
    let api = Router::new()
        .route("/apps/{app_id}/events", post(rest::events))
        .route("/apps/{app_id}/batch_events", post(rest::batch_events))
        .route("/apps/{app_id}/channels", get(rest::channels))
        .route("/apps/{app_id}/channels/{channel}", get(rest::channel))
        .route("/apps/{app_id}/channels/{channel}/users", get(rest::users))
        .route(
            "/apps/{app_id}/users/{user_id}/terminate_connections",
            post(rest::terminate),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            gate::rest,
        ));
    let router = Router::new()
        .route("/", get(page))
        .route("/app/{key}", get(websocket))
        .merge(api)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(json_errors))
        .with_state(shared);
    (router, hub)
}

/// Per-socket buffers: reads grow past this only for big frames; writes are batched up to
/// this before a send.
const READ_BUFFER_BYTES: usize = 4 * 1024;
const WRITE_BUFFER_BYTES: usize = 16 * 1024;

/// The largest request body read; larger ones get 413 before they are read whole.
const MAX_BODY_BYTES: usize = 256 * 1024;

/// Errors that axum answers by itself (a body over the limit, an unknown path, a wrong
/// method) in plain text become `{"error": …}` like every REST error, so clients that parse
/// error bodies as JSON (the Pusher SDKs) can say what went wrong.
async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let error = match status {
        http::StatusCode::PAYLOAD_TOO_LARGE => {
            format!("the request body is over {MAX_BODY_BYTES} bytes")
        }
        http::StatusCode::NOT_FOUND => "no such endpoint".to_owned(),
        http::StatusCode::METHOD_NOT_ALLOWED => "method not allowed on this endpoint".to_owned(),
        other => other.canonical_reason().unwrap_or("error").to_owned(),
    };
    let (mut parts, _) = resp.into_parts();
    parts.headers.remove(http::header::CONTENT_LENGTH);
    parts.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    Response::from_parts(
        parts,
        axum::body::Body::from(serde_json::json!({ "error": error }).to_string()),
    )
}

/// Binds `addr` and serves in the background.
pub async fn start(cfg: ServerConfig, addr: SocketAddr) -> std::io::Result<Running> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let close_timeout = cfg.close_timeout;
    let limits = cfg.limits;
    let log = cfg.log.clone();
    let metrics = cfg.metrics.clone();
    let (router, hub) = router(cfg);
    let ticker = tokio::spawn(tick(hub.clone(), log, metrics));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(listen::serve(
        listener,
        router,
        listen::listen_limits(&limits),
        stopped,
    ));
    Ok(Running {
        addr,
        hub,
        close_timeout,
        task,
        ticker,
        stop,
    })
}

/// Every 100 ms, the presence announcements that waited for their channel's budget; every
/// second, what was held back, in the log and the metrics.
async fn tick(hub: Arc<Hub>, log: Log, metrics: Arc<ServeMetrics>) {
    let mut every = tokio::time::interval(Duration::from_millis(100));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut watchers_refused = 0;
    for n in 0u64.. {
        every.tick().await;
        if n % 10 == 0 {
            let refused = hub.watchers_refused();
            if refused > watchers_refused {
                log.event(
                    "WATCHERS REFUSED",
                    &[("since_start", log::Field::Num(refused))],
                );
                watchers_refused = refused;
            }
        }
        for held in hub.tick(n % 10 == 0) {
            metrics.presence_held(&held.app, held.deferred, held.coalesced);
            log.event(
                "PRESENCE HELD",
                &[
                    ("app", held.app.as_str().into()),
                    ("channel", held.channel.as_str().into()),
                    ("deferred", log::Field::Num(held.deferred)),
                    ("coalesced", log::Field::Num(held.coalesced)),
                ],
            );
        }
    }
}

#[derive(Deserialize)]
struct ConnectQuery {
    protocol: Option<String>,
}

async fn websocket(
    State(s): State<Shared>,
    Path(key): Path<String>,
    Query(q): Query<ConnectQuery>,
    peer: Option<Extension<PeerAddr>>,
    ws: WebSocketUpgrade,
) -> Response {
    let ip = peer.map_or(hub::NO_ADDRESS, |Extension(PeerAddr(addr))| addr.ip());
    // tungstenite's defaults preallocate a 128 KiB read buffer per socket: 10 000 idle
    // clients would hold 1.3 GB. Buffers start small and grow only for big frames.
    let ws = ws
        .max_message_size(s.cfg.max_message_bytes)
        .max_frame_size(s.cfg.max_message_bytes)
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES);
    match handshake::check(&s.cfg, &key, q.protocol.as_deref()) {
        Ok(app) => match (admit_websocket(&s, ip), s.websockets_per_ip.try_take(ip)) {
            // Held for the life of the connection.
            (Some(slot), Some(peer_slot)) => ws.on_upgrade(move |socket| async move {
                session::run(socket, s.hub, app, s.cfg, s.log, ip).await;
                drop((slot, peer_slot));
            }),
            (Some(_), None) => refuse(
                &s,
                ws,
                handshake::Refusal::new(
                    CloseCode::OverConnectionQuota,
                    "Too many connections from your address",
                ),
            ),
            (None, _) => refuse(
                &s,
                ws,
                handshake::Refusal::new(
                    CloseCode::OverConnectionQuota,
                    "Application is over connection quota",
                ),
            ),
        },
        Err(refusal) => refuse(&s, ws, refusal),
    }
}

/// A place among the WebSockets for a newcomer from `ip`. When every place is taken and
/// another address holds more than `ip` would with this one, one of that address's
/// connections is closed (4100, to come back after its back-off) and its place goes to the
/// newcomer: however many addresses fill the server, one more always gets in.
fn admit_websocket(s: &Shared, ip: std::net::IpAddr) -> Option<Slot> {
    if let Some(slot) = s.websockets.try_take() {
        return Some(slot);
    }
    let mine = s.websockets_per_ip.in_use(ip) + 1;
    let (busiest, held) = s.websockets_per_ip.busiest()?;
    (held > mine && s.hub.close_one_from(busiest, Close::MADE_ROOM)).then(|| {
        s.log.line(
            "MADE ROOM",
            format_args!("closed a connection of the address holding {held} for another"),
        );
        s.websockets.take_over()
    })
}

/// Closes a refused socket the protocol's way, and logs why.
fn refuse(s: &Shared, ws: WebSocketUpgrade, refusal: handshake::Refusal) -> Response {
    s.log.line(
        "REFUSED",
        format_args!("{} {}", refusal.code, refusal.message),
    );
    let deadline = s.cfg.close_timeout;
    ws.on_upgrade(move |socket| handshake::refuse(socket, refusal, deadline))
}

/// The seed's "Stock Market" page, with the first app's key filled in.
async fn page(State(s): State<Shared>) -> impl IntoResponse {
    let key = s.cfg.apps.first().map_or("", |a| a.key.as_str());
    let key: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
        .collect();
    Html(include_str!("../../../assets/index.html").replace("__TICKERTAPE_KEY__", &key))
}
