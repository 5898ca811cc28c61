//! The status bar: connection, channels, rates and counters on one line. Its parts carry a
//! priority, and the least important go first when the terminal is narrow.

use std::time::Instant;

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::state::State;
use super::theme::Slot;
use client::{ConnectionState, SubscriptionStatus};

/// The status bar's parts, most important first; parts that do not fit are dropped.
pub(super) fn status_bar(state: &State, now: Instant, width: u16) -> Line<'static> {
    let s = &state.status;
    let t = &state.theme;
    let mut parts: Vec<(u8, Span<'static>)> = Vec::new();
    if let Some(source) = &state.options.receiving {
        // Not a connection: what is received, and where.
        parts.push((0, Span::styled(source.clone(), t.style(Slot::Connected))));
    } else if state.options.replayed {
        // A recording: its states are history, in no connection's colour, with no countdown.
        parts.push((0, Span::styled("REPLAY", t.style(Slot::Paused))));
        if state.connections.is_multi() {
            // Each connection's recorded state, without a countdown: it is history.
            let shown = state.connections.parts(t, state.options.ascii, now, true);
            parts.extend(shown.into_iter().map(|p| (0, p)));
        } else {
            parts.push((0, Span::raw(format!("recorded {}", s.state))));
        }
    } else if state.connections.is_multi() {
        // Each connection's own state; compact (label and mark) when the full ones would take
        // more than half the line.
        let full = state.connections.parts(t, state.options.ascii, now, false);
        let wide: usize = full.iter().map(|p| p.width() + 3).sum();
        let shown = if wide * 2 > width as usize {
            state.connections.parts(t, state.options.ascii, now, true)
        } else {
            full
        };
        parts.extend(shown.into_iter().map(|p| (0, p)));
    } else {
        let conn_style = t.style(match s.state {
            ConnectionState::Connected => Slot::Connected,
            ConnectionState::Connecting | ConnectionState::Initialized => Slot::Connecting,
            _ => Slot::Disconnected,
        });
        let mut conn = s.state.to_string();
        if let Some(at) = s.retry_at.filter(|at| *at > now) {
            conn.push_str(&format!(
                " (retry in {:.0}s)",
                (at - now).as_secs_f32().ceil()
            ));
        }
        parts.push((0, Span::styled(conn, conn_style)));
    }
    if let Some(f) = &state.paused {
        parts.push((
            0,
            Span::styled(format!("paused +{}", f.since), t.style(Slot::Paused)),
        ));
    }
    let (mut sub, mut pend, mut fail) = (0, 0, 0);
    for st in s.channels.values() {
        match st {
            SubscriptionStatus::Subscribed => sub += 1,
            SubscriptionStatus::Failed(_) => fail += 1,
            _ => pend += 1,
        }
    }
    let mut channels = format!("{sub} sub");
    if pend > 0 {
        channels.push_str(&format!(" {pend} pend"));
    }
    if fail > 0 {
        channels.push_str(&format!(" {fail} FAILED"));
    }
    if state.options.receiving.is_none() {
        let style = if fail > 0 {
            t.style(Slot::Error)
        } else {
            Style::new()
        };
        parts.push((1, Span::styled(channels, style)));
    }
    parts.push((1, Span::raw(format!("{:.1}/s", s.rate(now)))));
    parts.push((2, Span::raw(format!("{} msgs", s.total))));
    if s.unbound > 0 {
        parts.push((
            2,
            Span::styled(format!("{} unbound", s.unbound), t.style(Slot::Warning)),
        ));
    }
    if s.dropped > 0 {
        parts.push((
            2,
            Span::styled(format!("{} dropped", s.dropped), t.style(Slot::Fall)),
        ));
    }
    if let Some((_, lat)) = state.latency_summary() {
        parts.push((
            2,
            Span::raw(format!(
                "lat p50 {:.0} p99 {:.0} max {:.0}ms",
                lat.p50, lat.p99, lat.max
            )),
        ));
    }
    if let Some(rtt) = s.rtt {
        parts.push((
            3,
            Span::raw(format!("rtt {:.0}ms", rtt.as_secs_f64() * 1e3)),
        ));
    }
    // With several connections these are the last one's to speak: left to the log.
    let single = !state.connections.is_multi();
    if let Some(id) = s.socket_id.as_ref().filter(|_| single) {
        parts.push((4, Span::raw(format!("socket {}", t.name(id, 32)))));
    }
    let host = s.url.split('?').next().unwrap_or("").to_owned();
    if !host.is_empty() && single {
        parts.push((5, Span::raw(host)));
    }
    if let Some(r) = s.reason.as_ref().filter(|_| single) {
        parts.push((1, Span::raw(t.name(r, 60))));
    }
    // Drop the least important parts until the line fits.
    let fits = |parts: &[(u8, Span)]| {
        parts.iter().map(|(_, p)| p.width() + 3).sum::<usize>() <= width as usize
    };
    while !fits(&parts) && parts.len() > 1 {
        let worst = parts
            .iter()
            .enumerate()
            .max_by_key(|(i, (prio, _))| (*prio, *i))
            .map(|(i, _)| i)
            .unwrap_or(0);
        parts.remove(worst);
    }
    let mut spans = Vec::new();
    for (i, (_, p)) in parts.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(t.bar()));
        }
        spans.push(p);
    }
    Line::from(spans)
}
