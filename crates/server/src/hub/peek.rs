//! A bounded copy of what the hub holds, for the console: the connections, the occupied
//! channels (at most a given number, each with its subscriber and member counts) and one
//! channel's members. One short lock per copy; the console asks for one a second, never
//! per frame.

use std::sync::atomic::Ordering;

use super::Hub;

/// Longest name copied (channel names are at most 200 bytes; server-to-user ones may be
/// longer).
const MAX_NAME: usize = 256;

/// The hub at one instant, bounded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Connections open now.
    pub connections: usize,
    /// Connections opened and closed since the start.
    pub opened: u64,
    pub closed: u64,
    /// Occupied channels copied (at most the number asked for).
    pub channels: Vec<ChannelPeek>,
    /// Occupied channels in all.
    pub channels_total: usize,
    /// The members of the channel asked about (at most the number asked for).
    pub members: Option<MembersPeek>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelPeek {
    pub app: String,
    pub name: String,
    pub subscribers: usize,
    /// Presence channels: their distinct members.
    pub members: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembersPeek {
    pub app: String,
    pub channel: String,
    /// User ids, sorted.
    pub user_ids: Vec<String>,
    pub total: usize,
}

fn cut(name: &str) -> String {
    let mut end = name.len().min(MAX_NAME);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_owned()
}

impl Hub {
    /// At most `max_channels` occupied channels and `max_members` members of `focus`
    /// (app, channel).
    pub fn peek(
        &self,
        max_channels: usize,
        focus: Option<(&str, &str)>,
        max_members: usize,
    ) -> Snapshot {
        let apps = self.apps.lock().unwrap_or_else(|e| e.into_inner());
        let mut snap = Snapshot {
            opened: self.counters.connections.load(Ordering::Relaxed),
            closed: self.counters.disconnections.load(Ordering::Relaxed),
            ..Snapshot::default()
        };
        for (app, s) in apps.iter() {
            snap.connections += s.conns.len();
            snap.channels_total += s.channels.len();
            let room = max_channels.saturating_sub(snap.channels.len());
            snap.channels
                .extend(s.channels.iter().take(room).map(|(name, ch)| {
                    ChannelPeek {
                        app: app.clone(),
                        name: cut(name),
                        subscribers: ch.subs.len(),
                        members: protocol::channel::classify(name)
                            .is_presence()
                            .then_some(ch.users.len()),
                    }
                }));
            if let Some((focus_app, channel)) = focus
                && focus_app == app
                && let Some(ch) = s.channels.get(channel)
            {
                let mut user_ids: Vec<String> =
                    ch.users.keys().take(max_members).map(|u| cut(u)).collect();
                user_ids.sort_unstable();
                snap.members = Some(MembersPeek {
                    app: app.clone(),
                    channel: channel.to_owned(),
                    user_ids,
                    total: ch.users.len(),
                });
            }
        }
        snap
    }
}
