//! The tap's screen, drawn: pure, from a [`Tap`] and the time. Top to bottom, between the
//! kit's status bar and key hints: the nodes, then broadcasts by channel and event beside
//! the latest requests (or, after tab, presence replication by channel), then the log. Text from the wire goes through the theme's `name`
//! (cut, then `terminal_safe`).

use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::{Row, Table};

use super::Action;
use super::screen::{LineKind, Middle, Tap};
use crate::kit::{Chrome, Slot, Theme};
use observe::backplane::model::HEARTBEAT_STALE;

/// Fewest log lines kept on screen (with its border).
const MIN_LOG: u16 = 4;
/// Most node rows before the rest are counted in the title.
const MAX_NODE_ROWS: u16 = 4;
/// Rows of the broadcasts and requests panes (with their borders and headers).
const MIDDLE: u16 = 8;

pub(super) fn draw(
    frame: &mut Frame,
    screen: &Tap,
    area: Rect,
    chrome: &Chrome<'_, Action>,
    now: Instant,
) {
    let nodes_h = (screen.model.cluster.nodes.len() as u16).clamp(1, MAX_NODE_ROWS) + 3;
    let middle_h = MIDDLE.min(area.height.saturating_sub(nodes_h + MIN_LOG));
    let [nodes_area, middle, log_area] = Layout::vertical([
        Constraint::Length(nodes_h),
        Constraint::Length(middle_h),
        Constraint::Min(0),
    ])
    .areas(area);
    nodes(frame, screen, chrome.theme, nodes_area, now);
    match screen.middle {
        Middle::Traffic => {
            let [rates_area, requests_area] =
                Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                    .areas(middle);
            rates(frame, screen, chrome.theme, rates_area, now);
            requests(frame, screen, chrome.theme, requests_area);
        }
        Middle::Presence => presence(frame, screen, chrome.theme, middle, now),
    }
    log_pane(frame, screen, chrome, log_area);
}

fn age(d: Duration) -> String {
    match d.as_secs() {
        0..=99 => format!("{}s", d.as_secs()),
        s => format!("{}m", s / 60),
    }
}

fn table<'a>(
    t: &Theme,
    title: String,
    alert: bool,
    header: &'a [&'a str],
    widths: &[u16],
    rows: Vec<Vec<String>>,
) -> Table<'a> {
    let rows: Vec<Row> = rows
        .into_iter()
        .map(|cells| {
            Row::new(
                cells
                    .iter()
                    .zip(widths)
                    .map(|(c, w)| t.name(c, usize::from(*w)))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let block = t.pane(title, false);
    let block = if alert {
        block.border_style(t.style(Slot::Alert))
    } else {
        block
    };
    Table::new(rows, widths.iter().map(|w| Constraint::Length(*w)))
        .header(Row::new(header.to_vec()).style(t.style(Slot::Heading)))
        .column_spacing(1)
        .block(block)
}

fn nodes(frame: &mut Frame, screen: &Tap, t: &Theme, area: Rect, now: Instant) {
    let c = &screen.model.cluster;
    let dot = t.dot();
    let heartbeats = c.heartbeat_nodes(now);
    let numsub = c.numsub.map_or_else(|| "?".to_owned(), |n| n.to_string());
    let differ = c.counts_differ() == Some(true);
    let mut title = if screen.cluster_count {
        format!(" nodes {dot} cluster counts {numsub} (NUMSUB) {dot} {heartbeats} by heartbeat ")
    } else {
        format!(" nodes {dot} {heartbeats} by heartbeat {dot} no cluster count to read ")
    };
    if differ {
        title.push_str("DIFFER ");
    }
    let shown = usize::from(area.height.saturating_sub(3));
    if c.nodes.len() > shown {
        title.push_str(&format!("{dot} {} not shown ", c.nodes.len() - shown));
    }
    let rows: Vec<Vec<String>> = c
        .nodes
        .iter()
        .take(shown)
        .map(|(id, n)| {
            let since = n.last_heartbeat.map(|h| now.saturating_duration_since(h));
            let state = match (n.dead, since) {
                (true, _) => "dead",
                (false, Some(d)) if d < HEARTBEAT_STALE => "alive",
                (false, Some(_)) => "stale",
                (false, None) => "no beat",
            };
            vec![
                id.clone(),
                state.into(),
                n.heartbeats.to_string(),
                since.map_or_else(|| "-".into(), age),
                n.broadcasts.to_string(),
                n.requests.to_string(),
                n.responses.to_string(),
            ]
        })
        .collect();
    let inner = area.width.saturating_sub(2);
    let fixed: u16 = 7 + 7 + 5 + 7 + 7 + 7 + 6;
    let widths = [inner.saturating_sub(fixed).max(8), 7, 7, 5, 7, 7, 7];
    let header = ["NODE", "STATE", "BEATS", "LAST", "BCAST", "REQS", "ANSWERS"];
    let header: &[&str] = &header;
    let widget = table(t, title, differ, header, &widths, rows);
    frame.render_widget(widget, area);
}

/// A rate per second, short: `-` before a whole second has passed.
fn per_second(rate: Option<f64>) -> String {
    match rate {
        None => "-".into(),
        Some(r) if r >= 100.0 => format!("{r:.0}"),
        Some(r) => format!("{r:.1}"),
    }
}

fn rates(frame: &mut Frame, screen: &Tap, t: &Theme, area: Rect, now: Instant) {
    let c = &screen.model.cluster;
    let sec = c.second(now);
    let mut all: Vec<_> = c
        .rates
        .iter()
        .map(|(k, r)| (k, r.count, r.window.per_second(sec)))
        .collect();
    // The busiest now first, then the most in all.
    all.sort_by(|a, b| {
        b.2.unwrap_or(0.0)
            .total_cmp(&a.2.unwrap_or(0.0))
            .then(b.1.cmp(&a.1))
            .then(a.0.cmp(b.0))
    });
    let shown = usize::from(area.height.saturating_sub(3));
    let rows: Vec<Vec<String>> = all
        .iter()
        .take(shown)
        .map(|((channel, event), count, rate)| {
            vec![
                channel.clone(),
                event.clone(),
                per_second(*rate),
                count.to_string(),
            ]
        })
        .collect();
    let inner = area.width.saturating_sub(2);
    let name = inner.saturating_sub(14) / 2;
    let widths = [name, inner.saturating_sub(14 + name), 5, 6];
    let dot = t.dot();
    let mut title = format!(
        " broadcasts {dot} {}/s {dot} {} ",
        per_second(c.broadcast_rate(now)),
        c.counts.broadcasts
    );
    if all.len() > shown {
        title.push_str(&format!("{dot} {} more ", all.len() - shown));
    }
    let header: &[&str] = &["CHANNEL", "EVENT", "/S", "COUNT"];
    frame.render_widget(table(t, title, false, header, &widths, rows), area);
}

fn requests(frame: &mut Frame, screen: &Tap, t: &Theme, area: Rect) {
    let c = &screen.model.cluster;
    let shown = usize::from(area.height.saturating_sub(3));
    let mut rows: Vec<Vec<String>> = c
        .pending
        .iter()
        .map(|(_, p)| {
            vec![
                p.request_type.clone(),
                format!(
                    "{}/{}",
                    p.answers,
                    p.expected.map_or("?".into(), |e| e.to_string())
                ),
                "…".into(),
                "waiting".into(),
            ]
        })
        .take(shown)
        .collect();
    for f in c.finished.iter().rev() {
        if rows.len() >= shown {
            break;
        }
        let short_of = f.expected.is_some_and(|e| f.answers < e);
        let flag = match (f.complete, f.timed_out, short_of) {
            (Some(false), ..) => "incomplete",
            (_, true, true) => "timed out",
            (_, _, true) => "short",
            _ => "ok",
        };
        rows.push(vec![
            f.request_type.clone(),
            format!(
                "{}/{}",
                f.answers,
                f.expected.map_or("?".into(), |e| e.to_string())
            ),
            f.round_trip
                .map_or("-".into(), |d| format!("{:.1}", d.as_secs_f64() * 1000.0)),
            flag.into(),
        ]);
    }
    let inner = area.width.saturating_sub(2);
    let widths = [inner.saturating_sub(5 + 7 + 10 + 3).max(6), 5, 7, 10];
    let dot = t.dot();
    let unmatched = match c.counts.unmatched {
        0 => String::new(),
        n => format!("{dot} {n} unmatched "),
    };
    let title = format!(" requests {dot} {} {unmatched}", c.counts.requests);
    let header: &[&str] = &["TYPE", "ANS", "RT MS", "STATE"];
    frame.render_widget(table(t, title, false, header, &widths, rows), area);
}

fn presence(frame: &mut Frame, screen: &Tap, t: &Theme, area: Rect, now: Instant) {
    let c = &screen.model.cluster;
    let all = c.presence(now);
    let shown = usize::from(area.height.saturating_sub(3));
    let dot = t.dot();
    let ghosts: u64 = all.iter().map(|p| p.ghosts).sum();
    let users: u64 = all.iter().map(|p| p.users).sum();
    let mut title = format!(
        " presence {dot} {} channels {dot} {users} members ",
        all.len()
    );
    if ghosts > 0 {
        title.push_str(&format!("{dot} {ghosts} GHOSTS "));
    }
    if all.len() > shown {
        title.push_str(&format!("{dot} {} more ", all.len() - shown));
    }
    let untracked = c.members.drops().total();
    if untracked > 0 {
        title.push_str(&format!("{dot} {untracked} not tracked "));
    }
    let rows: Vec<Vec<String>> = all
        .iter()
        .take(shown)
        .map(|p| {
            let by_node = p
                .by_node
                .iter()
                .map(|v| {
                    let node = if v.node.is_empty() {
                        "?".to_owned()
                    } else {
                        super::screen::short(&v.node)
                    };
                    format!("{node}{} {}", if v.gone { "(gone)" } else { "" }, v.members)
                })
                .collect::<Vec<_>>()
                .join(", ");
            let ghosts = match p.ghosts {
                0 => "-".to_owned(),
                n => {
                    let mut g = format!("{n}: {}", p.ghost_users.join(" "));
                    if n > p.ghost_users.len() as u64 {
                        g.push_str(" …");
                    }
                    g
                }
            };
            vec![p.channel.clone(), p.users.to_string(), by_node, ghosts]
        })
        .collect();
    let inner = area.width.saturating_sub(2);
    let rest = inner.saturating_sub(6 + 3);
    let channel_w = (rest * 3 / 10).max(8);
    let ghosts_w = (rest / 4).max(6);
    let widths = [
        channel_w,
        6,
        rest.saturating_sub(channel_w + ghosts_w).max(8),
        ghosts_w,
    ];
    let header: &[&str] = &["CHANNEL", "USERS", "BY NODE (JOINED THROUGH)", "GHOSTS"];
    let widget = table(t, title, ghosts > 0, header, &widths, rows);
    frame.render_widget(widget, area);
}

fn log_pane(frame: &mut Frame, screen: &Tap, chrome: &Chrome<'_, Action>, area: Rect) {
    let t = chrome.theme;
    let follow = chrome.keymap.first(Action::Bottom, t.ascii);
    screen
        .log
        .draw(frame, area, t, &screen.epoch, follow, |kind| match kind {
            LineKind::Broadcast => None,
            LineKind::Request | LineKind::Response | LineKind::State => Some(Slot::Dim),
            LineKind::Notice => Some(Slot::Connected),
            LineKind::Warning => Some(Slot::Warning),
        });
}
