//! The one accept loop of every HTTP listener the project opens (`serve`, the `--metrics`
//! endpoints, the webhooks receiver), so that each has the same discipline:
//! - connections are admitted only while the caps allow, in total and per IP address (an
//!   IPv6 address counts by its /64); an excess one gets a one-line 503 and is closed at
//!   once, without a task;
//! - a request's headers must arrive within the header deadline, and a connection with no
//!   request being handled and no bytes moving is closed after the idle deadline;
//! - request bodies are counted against a byte budget from their `Content-Length` before a
//!   byte of them is read (a body of unknown length counts as the largest allowed), a
//!   quarter of it per address (at least one body of the largest size); a request that does
//!   not fit gets 503 at once;
//! - an accept error such as EMFILE pauses the loop (5 ms, doubling to 1 s) instead of
//!   spinning.
//!
//! When every place is taken, a newcomer from an address holding fewer places than another
//! ends that address's oldest connection and takes its place: however many addresses hold
//! the places, the shares converge to equal, and one more address always gets in.
//!
//! A connection that upgrades (a WebSocket) leaves the HTTP phase and gives its slots back.
//! Each request carries the peer's address as a [`PeerAddr`] extension.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Incoming};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};

/// The address a request came from, put in every request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// The key of an address for per-address caps: an IPv4 address (an IPv4-mapped IPv6 one
/// included) as itself, an IPv6 address by its /64, which one client usually holds whole.
pub fn peer_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// A listener's deadlines and caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenLimits {
    /// A request's headers must arrive within this, counted from the moment the server
    /// waits for the request.
    pub header_timeout: Duration,
    /// A connection with no request being handled and no bytes moving either way for this
    /// long is closed.
    pub idle_timeout: Duration,
    /// Connections in their HTTP phase, in total.
    pub max_connections: usize,
    /// Connections in their HTTP phase from one address.
    pub max_per_ip: usize,
    /// Bytes of request bodies being handled at once, counted from `Content-Length` before
    /// they are read; `None` for no budget (the handlers bound bodies themselves).
    pub body_budget: Option<usize>,
    /// What a body of unknown length counts as against `body_budget`.
    pub max_body: usize,
}

/// Boxes a service's body.
fn box_body<B>(body: B) -> AnyBody
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    body.map_err(|e: B::Error| BodyError(e.into()))
        .boxed_unsync()
}

/// What an excess connection reads before it is closed, if its socket takes it at once.
const TOO_MANY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\ncontent-length: 48\r\nretry-after: 1\r\nconnection: close\r\n\r\n\
{\"error\":\"too many connections; retry shortly\"}\n";

/// The first and the longest pause after an accept error such as EMFILE.
const FIRST_BACKOFF: Duration = Duration::from_millis(5);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// A counted resource with a maximum.
#[derive(Debug)]
pub struct Slots {
    max: usize,
    used: AtomicUsize,
}

/// One taken slot; dropping it gives the slot back.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
    n: usize,
}

impl Slots {
    pub fn new(max: usize) -> Arc<Slots> {
        Arc::new(Slots {
            max,
            used: AtomicUsize::new(0),
        })
    }

    /// A slot, or `None` when all `max` are taken.
    pub fn try_take(self: &Arc<Self>) -> Option<Slot> {
        self.try_take_n(1)
    }

    /// `n` units at once (bytes of a budget), or `None` when they do not fit.
    pub fn try_take_n(self: &Arc<Self>, n: usize) -> Option<Slot> {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n).filter(|total| *total <= self.max)
            })
            .ok()
            .map(|_| Slot {
                slots: self.clone(),
                n,
            })
    }

    pub fn in_use(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// A slot past `max`: the one a connection told to close is about to give back.
    pub fn take_over(self: &Arc<Self>) -> Slot {
        self.used.fetch_add(1, Ordering::AcqRel);
        Slot {
            slots: self.clone(),
            n: 1,
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.used.fetch_sub(self.n, Ordering::AcqRel);
    }
}

/// Slots counted per address ([`peer_key`]), each address with the same maximum. Addresses
/// with no slot taken hold no memory, so the map holds at most as many entries as slots
/// are taken.
#[derive(Debug)]
pub struct PerPeer {
    max: usize,
    used: Mutex<HashMap<IpAddr, usize>>,
}

/// One taken per-address slot (or `n` units of a per-address budget).
#[derive(Debug)]
pub struct PeerSlot {
    peers: Arc<PerPeer>,
    key: IpAddr,
    n: usize,
}

impl PerPeer {
    pub fn new(max: usize) -> Arc<PerPeer> {
        Arc::new(PerPeer {
            max,
            used: Mutex::new(HashMap::new()),
        })
    }

    pub fn try_take(self: &Arc<Self>, ip: IpAddr) -> Option<PeerSlot> {
        self.try_take_n(ip, 1)
    }

    /// `n` units of the address's share at once (bytes of a budget), or `None` when they do
    /// not fit.
    pub fn try_take_n(self: &Arc<Self>, ip: IpAddr, n: usize) -> Option<PeerSlot> {
        let key = peer_key(ip);
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        let held = used.get(&key).copied().unwrap_or(0);
        let total = held.checked_add(n).filter(|total| *total <= self.max)?;
        if n > 0 {
            used.insert(key, total);
        }
        Some(PeerSlot {
            peers: self.clone(),
            key,
            n,
        })
    }

    pub fn in_use(&self, ip: IpAddr) -> usize {
        let used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        used.get(&peer_key(ip)).copied().unwrap_or(0)
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// The address holding the most slots, and how many (none when none is held).
    pub fn busiest(&self) -> Option<(IpAddr, usize)> {
        let used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        used.iter()
            .max_by_key(|(_, n)| **n)
            .map(|(ip, n)| (*ip, *n))
    }

    /// Addresses holding at least one slot.
    pub fn peers(&self) -> usize {
        self.used.lock().map_or(0, |m| m.len())
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut used = self.peers.used.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = used.get_mut(&self.key) {
            *n = n.saturating_sub(self.n);
            if *n == 0 {
                used.remove(&self.key);
            }
        }
    }
}

/// A connection's place among those in their HTTP phase; dropped when it closes or upgrades.
struct Admitted {
    _total: Slot,
    _peer: PeerSlot,
    /// Its entry among the open ones, removed on drop.
    open: Arc<Open>,
    key: IpAddr,
    id: u64,
    /// Told when a newcomer from a less represented address needs its place.
    evicted: Arc<Notify>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.open.remove(self.key, self.id);
    }
}

/// One address's connections in their HTTP phase, oldest first: an id and what ends it.
type Queue = VecDeque<(u64, Arc<Notify>)>;

/// The connections in their HTTP phase, per address, each with the means to end it. At most
/// as many entries as places in the gate.
#[derive(Default)]
struct Open {
    next: AtomicU64,
    by_peer: Mutex<HashMap<IpAddr, Queue>>,
}

impl Open {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Queue>> {
        self.by_peer.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn add(&self, key: IpAddr) -> (u64, Arc<Notify>) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let evicted = Arc::new(Notify::new());
        self.lock()
            .entry(key)
            .or_default()
            .push_back((id, evicted.clone()));
        (id, evicted)
    }

    fn remove(&self, key: IpAddr, id: u64) {
        let mut by_peer = self.lock();
        if let Some(list) = by_peer.get_mut(&key) {
            list.retain(|(i, _)| *i != id);
            if list.is_empty() {
                by_peer.remove(&key);
            }
        }
    }

    /// With every place taken, a newcomer from an address holding `mine` of them ends the
    /// oldest connection of the address holding the most, when that one holds more than
    /// `mine + 1`: places converge to equal shares, so that however many addresses hold them,
    /// one more always gets in. True when one was told to close.
    fn evict_for(&self, mine: usize) -> bool {
        let mut by_peer = self.lock();
        let Some(list) = by_peer
            .values_mut()
            .max_by_key(|list| list.len())
            .filter(|list| list.len() > mine + 1)
        else {
            return false;
        };
        match list.pop_front() {
            Some((_, evicted)) => {
                evicted.notify_one();
                true
            }
            None => false,
        }
    }
}

struct Gate {
    total: Arc<Slots>,
    peers: Arc<PerPeer>,
    open: Arc<Open>,
}

impl Gate {
    fn admit(&self, ip: IpAddr) -> Option<Admitted> {
        let key = peer_key(ip);
        let peer = self.peers.try_take(ip)?;
        let total = match self.total.try_take() {
            Some(total) => total,
            None if self.open.evict_for(self.peers.in_use(ip).saturating_sub(1)) => {
                self.total.take_over()
            }
            None => return None,
        };
        let (id, evicted) = self.open.add(key);
        Some(Admitted {
            _total: total,
            _peer: peer,
            open: self.open.clone(),
            key,
            id,
            evicted,
        })
    }
}

/// Resolves once `stop` says true; never, if its sender is gone without saying so.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The error type of a service's body or of the service itself.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A response body of any listener, boxed.
pub type AnyBody = http_body_util::combinators::UnsyncBoxBody<Bytes, BodyError>;

/// What one request's answer is, once wrapped: the service's body, or the budget's 503. A
/// service's own error becomes a 500.
pub type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<Response<AnyBody>, std::convert::Infallible>> + Send>>;

/// A response body's error, whatever the service's body was. (A concrete type: hyper's
/// bounds on a boxed trait object are not met inside a spawned task.)
#[derive(Debug)]
pub struct BodyError(BoxError);

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for BodyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

/// A listener's service: each request in, its answer out (boxed, so that every listener
/// shares one accept loop whatever its handlers are). Make one with [`handler`].
pub type Handler = Arc<dyn Fn(Request<Incoming>) -> ResponseFuture + Send + Sync>;

/// A [`Handler`] from a hyper service (`TowerToHyperService::new(router)` for axum).
pub fn handler<S, B>(service: S) -> Handler
where
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    Arc::new(move |req| {
        let response = service.call(req);
        Box::pin(async move {
            match response.await {
                Ok(r) => Ok(r.map(box_body)),
                Err(e) => {
                    let e: BoxError = e.into();
                    tracing::debug!(error = %e, "the handler failed");
                    let mut resp = Response::new(box_body(Full::new(Bytes::new())));
                    *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                    Ok(resp)
                }
            }
        })
    })
}

/// Accepts until `stop` turns true; connections still in their HTTP phase then finish the
/// request they are on and close. `handler` answers every request (with upgrades).
pub async fn serve(
    listener: TcpListener,
    handler: Handler,
    limits: ListenLimits,
    mut stop: watch::Receiver<bool>,
) {
    let gate = Gate {
        total: Slots::new(limits.max_connections.max(1)),
        peers: PerPeer::new(limits.max_per_ip.max(1)),
        open: Arc::new(Open::default()),
    };
    let bodies = limits.body_budget.map(|b| {
        Arc::new(Bodies {
            total: Slots::new(b.max(1)),
            // A quarter of the bytes per address (as a quarter of the connections), and
            // always room for one body as large as allowed: a few bodies declared huge and
            // trickled from one address leave room for the others.
            per_peer: PerPeer::new((b / 4).max(limits.max_body).max(1)),
        })
    });
    let mut backoff = FIRST_BACKOFF;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stopped(&mut stop) => return,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => {
                backoff = FIRST_BACKOFF;
                accepted
            }
            Err(e) => {
                if !is_connection_error(&e) {
                    // Out of descriptors or memory: retrying at once would spin.
                    tracing::warn!(error = %e, pause = ?backoff, "accept failed");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                continue;
            }
        };
        match gate.admit(peer.ip()) {
            Some(admitted) => {
                let conn = Connection {
                    peer,
                    limits,
                    bodies: bodies.clone(),
                    admitted,
                };
                tokio::spawn(conn.run(tcp, handler.clone(), stop.clone()));
            }
            None => turn_away(&tcp, peer),
        }
    }
}

/// Errors of one connection that died in the backlog, not of the listener.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

fn turn_away(tcp: &TcpStream, peer: SocketAddr) {
    tracing::debug!(%peer, "too many connections in their HTTP phase; closed");
    // Best effort and never waits: a full socket buffer just means a plain close.
    let _ = tcp.try_write(TOO_MANY);
}

struct Connection {
    peer: SocketAddr,
    limits: ListenLimits,
    bodies: Option<Arc<Bodies>>,
    admitted: Admitted,
}

/// The bytes of request bodies being handled: in total, and per address.
struct Bodies {
    total: Arc<Slots>,
    per_peer: Arc<PerPeer>,
}

impl Bodies {
    /// Room for `n` bytes from `ip`, in its share and in the total.
    fn take(&self, ip: IpAddr, n: usize) -> Option<(PeerSlot, Slot)> {
        let mine = self.per_peer.try_take_n(ip, n)?;
        Some((mine, self.total.try_take_n(n)?))
    }
}

/// The answer to a request whose body does not fit the budget.
fn over_budget() -> Response<AnyBody> {
    let body = Full::new(Bytes::from_static(
        b"{\"error\":\"too many request bodies being read; retry shortly\"}\n",
    ));
    let mut resp = Response::new(body.map_err(|never| match never {}).boxed_unsync());
    *resp.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    headers.insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    // The body may still come: this connection cannot be reused.
    headers.insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    resp
}

/// What a request's body counts as against the budget: its declared length, or the
/// largest allowed when it has none.
fn declared_length(req: &Request<Incoming>, max_body: usize) -> usize {
    if req.body().is_end_stream() {
        return 0;
    }
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(max_body, |n| {
            usize::try_from(n)
                .unwrap_or(usize::MAX)
                .min(max_body.saturating_add(1))
        })
}

impl Connection {
    async fn run(self, tcp: TcpStream, inner: Handler, stop: watch::Receiver<bool>) {
        let mut stop = stop;
        let Connection {
            peer,
            limits,
            bodies,
            admitted,
        } = self;
        super::tcp::accepted(&tcp);
        let activity = Activity::new();
        let io = TokioIo::new(Tracked::new(tcp, activity.clone()));
        let handled = activity.clone();
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            let busy = handled.request();
            req.extensions_mut().insert(PeerAddr(peer));
            let reserved = bodies
                .as_ref()
                .map(|budget| budget.take(peer.ip(), declared_length(&req, limits.max_body)));
            let response = match &reserved {
                Some(None) => None,
                _ => Some(inner(req)),
            };
            let answer: ResponseFuture = Box::pin(async move {
                let answer = match response {
                    None => Ok(over_budget()),
                    Some(response) => response.await,
                };
                drop(reserved);
                drop(busy);
                answer
            });
            answer
        });
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout);
        let mut conn = pin!(builder.serve_connection(io, service).with_upgrades());
        let mut stopping = false;
        let evicted = admitted.evicted.clone();
        loop {
            let idle_at = activity.idle_deadline(limits.idle_timeout).map_or_else(
                || tokio::time::Instant::now() + limits.idle_timeout,
                tokio::time::Instant::from_std,
            );
            tokio::select! {
                served = conn.as_mut() => {
                    if let Err(e) = served {
                        tracing::debug!(%peer, error = %e, "HTTP connection ended");
                    }
                    break;
                }
                () = tokio::time::sleep_until(idle_at) => {
                    let expired = activity
                        .idle_deadline(limits.idle_timeout)
                        .is_some_and(|at| at <= Instant::now());
                    if expired {
                        // Dropping the connection closes it, also when a response is stuck
                        // behind a client that does not read.
                        tracing::debug!(%peer, "idle HTTP connection closed");
                        break;
                    }
                }
                () = stopped(&mut stop), if !stopping => {
                    stopping = true;
                    conn.as_mut().graceful_shutdown();
                }
                () = evicted.notified() => {
                    // Its address holds more places than any newcomer's: one goes to them.
                    tracing::debug!(%peer, "HTTP connection closed for a newcomer");
                    break;
                }
            }
        }
        drop(admitted);
    }
}

/// When one HTTP connection last did something: a byte read or written, or a request
/// handled. The connection is closed once it has been idle too long.
#[derive(Debug)]
struct Activity {
    start: Instant,
    /// Milliseconds from `start` to the last byte moved or request finished.
    last_ms: AtomicU64,
    /// Requests being handled (a handler that has not returned its response yet).
    in_flight: AtomicUsize,
}

/// A request being handled; dropping it marks the end of the request.
#[derive(Debug)]
struct Busy {
    activity: Arc<Activity>,
}

impl Activity {
    fn new() -> Arc<Activity> {
        Arc::new(Activity {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        })
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn request(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        Busy {
            activity: self.clone(),
        }
    }

    /// When the connection will have been idle for `idle` if nothing happens meanwhile, or
    /// `None` while a request is being handled (its own deadlines apply then).
    fn idle_deadline(&self, idle: Duration) -> Option<Instant> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        Some(self.start + last + idle)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.activity.touch();
        self.activity.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A socket that reports every byte it moves to an [`Activity`].
#[derive(Debug)]
struct Tracked<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T> Tracked<T> {
    fn new(inner: T, activity: Arc<Activity>) -> Tracked<T> {
        Tracked { inner, activity }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Tracked<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.touch();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Tracked<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_given_back_on_drop_and_a_budget_counts_units() {
        let slots = Slots::new(2);
        let a = slots.try_take();
        let b = slots.try_take();
        assert!(a.is_some() && b.is_some());
        assert!(slots.try_take().is_none());
        drop(a);
        assert_eq!(slots.in_use(), 1);
        assert!(slots.try_take().is_some());
        drop(b);
        assert_eq!(slots.in_use(), 0);
        let budget = Slots::new(100);
        let big = budget.try_take_n(80);
        assert!(big.is_some() && budget.try_take_n(30).is_none());
        assert!(budget.try_take_n(usize::MAX).is_none());
        drop(big);
        assert!(budget.try_take_n(100).is_some());
    }

    #[test]
    fn each_address_has_its_own_cap_and_an_ipv6_client_its_64() {
        let peers = PerPeer::new(1);
        let one: IpAddr = [127, 0, 0, 1].into();
        let two: IpAddr = [127, 0, 0, 2].into();
        let a = peers.try_take(one);
        assert!(a.is_some());
        assert!(peers.try_take(one).is_none());
        assert!(peers.try_take(two).is_some());
        drop(a);
        assert_eq!(peers.in_use(one), 0);
        assert_eq!(peers.peers(), 0);
        assert!(peers.try_take(one).is_some());
        let v6a: IpAddr = "2001:db8::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8::ffff:2".parse().unwrap();
        let _held = peers.try_take(v6a);
        assert!(peers.try_take(v6b).is_none(), "the same /64");
        let mapped: IpAddr = "::ffff:127.0.0.3".parse().unwrap();
        assert_eq!(peer_key(mapped), IpAddr::from([127, 0, 0, 3]));
    }

    #[test]
    fn a_request_in_flight_is_never_idle() {
        let activity = Activity::new();
        let idle = Duration::from_secs(5);
        let first = activity.idle_deadline(idle);
        assert!(first.is_some());
        let busy = activity.request();
        assert_eq!(activity.idle_deadline(idle), None);
        drop(busy);
        assert!(activity.idle_deadline(idle) >= first);
    }
}
