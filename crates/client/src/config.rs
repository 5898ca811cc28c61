//! How the engine connects and authorizes: resolved, validated settings.

use std::fmt;

use protocol::Secret;
use std::time::Duration;

pub use super::endpoint::Endpoint;
pub(crate) use net::http_url::AuthUrl;
use net::tls::ExtraRoots;
use protocol::crypto::KEY_LEN;
use protocol::limits::{DEFAULT_ACTIVITY_TIMEOUT_SECS, DEFAULT_PONG_TIMEOUT_SECS};

/// The user this client signs in as, and presents on presence channels.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: String,
    pub info: Option<serde_json::Value>,
    /// Send `pusher:signin` after connecting (when the user was given explicitly).
    pub sign_in: bool,
}

/// How subscriptions to private, presence and encrypted channels are authorized.
#[derive(Clone, Default)]
pub struct AuthConfig {
    /// The app secret, to sign locally.
    pub secret: Option<Secret>,
    /// An auth endpoint that answers pusher-js's form POST.
    pub endpoint: Option<AuthUrl>,
    /// An endpoint for user sign-in (pusher-js's `/pusher/user-auth`).
    pub user_endpoint: Option<AuthUrl>,
    /// Extra headers sent to the endpoints, as (name, value).
    pub headers: Vec<(String, String)>,
    /// The master key of encrypted channels.
    pub master_key: Option<[u8; KEY_LEN]>,
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field("secret", &self.secret)
            .field("endpoint", &self.endpoint)
            .field("user_endpoint", &self.user_endpoint)
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("master_key", &self.master_key.map(|_| "***"))
            .finish()
    }
}

/// Everything the engine needs.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub key: String,
    pub endpoint: Endpoint,
    pub auth: AuthConfig,
    pub user: User,
    /// Ping after this much silence, unless the server asks for less.
    pub activity_timeout: Duration,
    /// Reconnect when a ping gets no answer within this.
    pub pong_timeout: Duration,
    /// Give a connection attempt (TCP, TLS, WebSocket and handshake) this long.
    pub connect_timeout: Duration,
    /// First back-off delay, and its cap.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Capacity of the channel to the consumer, in items and in bytes ([`Item::cost`]).
    ///
    /// [`Item::cost`]: super::Item::cost
    pub queue_capacity: usize,
    pub queue_bytes: usize,
    /// How long the engine pauses reading when the consumer's channel is full, before it
    /// starts dropping events (see `outbox.rs`).
    pub consumer_grace: Duration,
    /// Largest message accepted from the server; a bigger one ends the connection with a
    /// clear, counted error before its payload is read.
    pub max_frame_bytes: usize,
    /// Certificates trusted besides the bundled and the system roots (`--ca-file`).
    pub tls_roots: ExtraRoots,
}

/// The largest message accepted by default: a hundred times Pusher's 10 KB limit.
pub const DEFAULT_MAX_MESSAGE: usize = 1 << 20;

impl ClientConfig {
    /// Defaults from pusher-js, for a key and an endpoint.
    pub fn new(key: impl Into<String>, endpoint: Endpoint) -> ClientConfig {
        ClientConfig {
            key: key.into(),
            endpoint,
            auth: AuthConfig::default(),
            user: User {
                id: format!("tickertape-{:08x}", rand::random::<u32>()),
                info: None,
                sign_in: false,
            },
            activity_timeout: Duration::from_secs(DEFAULT_ACTIVITY_TIMEOUT_SECS),
            pong_timeout: Duration::from_secs(DEFAULT_PONG_TIMEOUT_SECS),
            connect_timeout: Duration::from_secs(10),
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            queue_capacity: super::feed::DEFAULT_ITEMS,
            queue_bytes: super::feed::DEFAULT_BYTES,
            consumer_grace: Duration::from_millis(250),
            max_frame_bytes: DEFAULT_MAX_MESSAGE,
            tls_roots: ExtraRoots::default(),
        }
    }
}
