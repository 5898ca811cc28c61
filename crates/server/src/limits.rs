//! The server's limits against slow and greedy clients, and the counters that enforce the
//! caps: a [`Slots`] hands out RAII [`Slot`]s up to its maximum, a [`PerPeer`] does the same
//! for each IP address. Both are lock-free or hold a lock only to bump a count.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Every knob, with the defaults of `tickertape serve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A request's headers (a WebSocket's whole upgrade request) must arrive within this,
    /// counted from the moment the server waits for the request.
    pub header_timeout: Duration,
    /// A REST request's body must arrive within this, counted from the end of its headers;
    /// else 408.
    pub body_timeout: Duration,
    /// A connection with no request being handled and no bytes moving either way for this
    /// long is closed.
    pub idle_timeout: Duration,
    /// Connections still in their HTTP phase (not upgraded to WebSocket), in total.
    pub max_http_connections: usize,
    /// Connections still in their HTTP phase from one IP address.
    pub max_http_per_ip: usize,
    /// WebSocket connections in total; past it a client gets 4004.
    pub max_connections: usize,
    /// REST requests being handled at once; past it 503.
    pub max_rest_in_flight: usize,
}

impl Limits {
    pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
    pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(5);
    pub const DEFAULT_MAX_HTTP_CONNECTIONS: usize = 1024;
    pub const DEFAULT_MAX_HTTP_PER_IP: usize = 128;
    pub const DEFAULT_MAX_CONNECTIONS: usize = 65_536;
    pub const DEFAULT_MAX_REST_IN_FLIGHT: usize = 256;
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_timeout: Limits::DEFAULT_HEADER_TIMEOUT,
            body_timeout: Limits::DEFAULT_BODY_TIMEOUT,
            idle_timeout: Limits::DEFAULT_IDLE_TIMEOUT,
            max_http_connections: Limits::DEFAULT_MAX_HTTP_CONNECTIONS,
            max_http_per_ip: Limits::DEFAULT_MAX_HTTP_PER_IP,
            max_connections: Limits::DEFAULT_MAX_CONNECTIONS,
            max_rest_in_flight: Limits::DEFAULT_MAX_REST_IN_FLIGHT,
        }
    }
}

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
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot {
                slots: self.clone(),
            })
    }

    pub fn in_use(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    pub fn max(&self) -> usize {
        self.max
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.used.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Slots counted per IP address, each address with the same maximum. Addresses with no slot
/// taken hold no memory.
#[derive(Debug)]
pub struct PerPeer {
    max: usize,
    used: Mutex<HashMap<IpAddr, usize>>,
}

/// One taken per-address slot.
#[derive(Debug)]
pub struct PeerSlot {
    peers: Arc<PerPeer>,
    ip: IpAddr,
}

impl PerPeer {
    pub fn new(max: usize) -> Arc<PerPeer> {
        Arc::new(PerPeer {
            max,
            used: Mutex::new(HashMap::new()),
        })
    }

    pub fn try_take(self: &Arc<Self>, ip: IpAddr) -> Option<PeerSlot> {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        let n = used.get(&ip).copied().unwrap_or(0);
        if n >= self.max {
            return None;
        }
        used.insert(ip, n + 1);
        Some(PeerSlot {
            peers: self.clone(),
            ip,
        })
    }

    pub fn in_use(&self, ip: IpAddr) -> usize {
        let used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        used.get(&ip).copied().unwrap_or(0)
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut used = self.peers.used.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = used.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                used.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_given_back_on_drop() {
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
    }

    #[test]
    fn each_address_has_its_own_cap() {
        let peers = PerPeer::new(1);
        let one: IpAddr = [127, 0, 0, 1].into();
        let two: IpAddr = [127, 0, 0, 2].into();
        let a = peers.try_take(one);
        assert!(a.is_some());
        assert!(peers.try_take(one).is_none());
        assert!(peers.try_take(two).is_some());
        drop(a);
        assert_eq!(peers.in_use(one), 0);
        assert!(peers.used.lock().map(|m| m.is_empty()).unwrap_or(false));
        assert!(peers.try_take(one).is_some());
    }
}
