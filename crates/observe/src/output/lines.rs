//! Readable one-line descriptions of engine items, for stderr and for plain `watch` output.
//! Every piece of wire text goes through [`terminal_safe`].

use client::{ConnectionState, Item, MemberChange, ReceivedEvent, SubscriptionStatus};
use protocol::Data;
use protocol::safe_text::terminal_safe;

pub use protocol::time_text::clock;

/// A compact rendering of event data.
pub fn compact_data(data: &Data) -> String {
    match data {
        Data::Absent => String::new(),
        Data::Json(v) => v.to_string(),
        Data::Text(t) => t.clone(),
    }
}

/// `10:00:00.123 stock_ticker update_event {"name":"ACME","price":42}`.
pub fn event_line(ev: &ReceivedEvent) -> String {
    let mut line = format!(
        "{} {} {} {}",
        clock(ev.received_at),
        ev.channel.as_deref().unwrap_or("-"),
        ev.event,
        compact_data(ev.data())
    );
    if let Some(user) = ev.user_id() {
        line.push_str(&format!(" (user {user})"));
    }
    if let Some(e) = ev.decrypt_error() {
        line.push_str(&format!(" [not decrypted: {e}]"));
    }
    terminal_safe(&line).into_owned()
}

/// A status line for anything but an event.
pub fn status_line(item: &Item) -> Option<String> {
    let text = match item {
        Item::Event(_) => return None,
        Item::State(c) => {
            let mut s = match c.current {
                ConnectionState::Connecting if c.reason.is_none() => {
                    format!("connecting to {}", c.url)
                }
                ConnectionState::Connected => {
                    format!(
                        "connected (socket {})",
                        c.socket_id.as_deref().unwrap_or("?")
                    )
                }
                state => state.to_string(),
            };
            if let Some(r) = &c.reason {
                s.push_str(&format!(": {r}"));
            }
            if let Some(d) = c.retry_in {
                s.push_str(&format!("; retrying in {:.1} s", d.as_secs_f32()));
            }
            s
        }
        Item::Subscription { channel, status } => match &**status {
            SubscriptionStatus::Pending => format!("subscribing to {channel}"),
            SubscriptionStatus::Subscribed => format!("subscribed to {channel}"),
            SubscriptionStatus::Unsubscribed => format!("unsubscribed from {channel}"),
            SubscriptionStatus::Failed(f) => {
                let mut s = format!("subscription to {channel} failed: {}", f.message);
                if let Some(sts) = &f.string_to_sign {
                    s.push_str(&format!(" (string to sign: {sts:?})"));
                }
                s
            }
        },
        Item::Members {
            channel,
            change,
            count,
        } => match &**change {
            MemberChange::Snapshot { me, .. } => format!(
                "{channel}: {count} member(s){}",
                me.as_ref()
                    .map(|m| format!(", you are {m}"))
                    .unwrap_or_default()
            ),
            MemberChange::Added(m) => format!("{channel}: {} joined ({count} members)", m.user_id),
            MemberChange::Removed(id) => format!("{channel}: {id} left ({count} members)"),
        },
        Item::SubscriptionCount { channel, count } => format!("{channel}: {count} subscriber(s)"),
        Item::SignedIn { user_data } => format!("signed in as {user_data}"),
        Item::Error(e) => format!("error: {e}"),
        Item::Notice(text) => text.clone(),
        Item::Pong { rtt } => format!("pong in {:.1} ms", rtt.as_secs_f64() * 1e3),
        Item::Dropped { count, total } => {
            format!("output fell behind: dropped {count} event(s) ({total} in all)")
        }
    };
    Some(terminal_safe(&text).into_owned())
}
