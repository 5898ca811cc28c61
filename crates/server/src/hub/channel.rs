//! One channel's state inside the hub: its subscribers, its presence members, and a cache
//! channel's last event; and fan-out of one encoded frame to every subscriber's queue.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use axum::extract::ws::Utf8Bytes;
use serde_json::Value;

use super::{Conn, Counters, Delivery};
use crate::queue::Refused;
use protocol::Close;
use protocol::frame::Member;

#[derive(Default)]
pub(super) struct Channel {
    /// Subscribed sockets, with their presence user id.
    pub subs: HashMap<String, Option<String>>,
    /// Subscribed sockets per address (at most one entry per socket).
    pub ips: HashMap<std::net::IpAddr, u32>,
    /// Presence: the announcements' budget and what waits for it.
    pub announcer: Option<super::announce::Announcer>,
    /// Presence: user id → (info, number of this channel's sockets signed as that user).
    pub users: HashMap<String, (Value, usize)>,
    /// The subscription count its subscribers were last told.
    pub told: super::counts::Told,
}

impl Channel {
    /// Whether the hub may forget this channel.
    pub(super) fn is_empty(&self) -> bool {
        self.subs.is_empty()
    }

    /// Adds a socket's member entry; `Some(member)` when the user is new to the channel and
    /// must be announced. An existing member's info is never overwritten.
    pub(super) fn add_member(&mut self, member: &Member) -> Option<Member> {
        match self.users.get_mut(&member.user_id) {
            Some(entry) => {
                entry.1 += 1;
                None
            }
            None => {
                self.users
                    .insert(member.user_id.clone(), (member.user_info.clone(), 1));
                Some(member.clone())
            }
        }
    }

    /// Drops one socket of a user; the user id and its info when it was the user's last
    /// socket here.
    pub(super) fn remove_member(&mut self, user_id: String) -> Option<(String, Value)> {
        let entry = self.users.get_mut(&user_id)?;
        entry.1 = entry.1.saturating_sub(1);
        if entry.1 > 0 {
            return None;
        }
        let (info, _) = self.users.remove(&user_id)?;
        Some((user_id, info))
    }

    pub(super) fn members(&self) -> Vec<Member> {
        self.users
            .iter()
            .map(|(id, (info, _))| Member {
                user_id: id.clone(),
                user_info: info.clone(),
            })
            .collect()
    }

    /// Queues `frame` for every subscriber but `exclude`. A full queue closes that
    /// subscriber with 4100 (counted); fan-out never waits. Returns what it reached.
    pub(super) fn fan_out(
        &self,
        conns: &HashMap<String, Conn>,
        counters: &Counters,
        frame: &Utf8Bytes,
        exclude: Option<&str>,
    ) -> Delivery {
        let mut delivery = Delivery {
            subscribers: self.subs.len(),
            ..Delivery::default()
        };
        for socket_id in self.subs.keys().filter(|id| Some(id.as_str()) != exclude) {
            let Some(conn) = conns.get(socket_id) else {
                continue;
            };
            match conn.handle.frames.offer(frame.clone()) {
                Ok(()) => delivery.recipients += 1,
                Err(Refused::Full) => {
                    delivery.too_slow += 1;
                    counters.slow_disconnects.fetch_add(1, Ordering::Relaxed);
                    conn.handle.close(Close::TOO_SLOW);
                }
                Err(Refused::Closed) => {}
            }
        }
        delivery
    }
}
