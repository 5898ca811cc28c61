//! A log pane of timed lines that follows the newest line until one is selected: the tap's
//! and the probe's. Its lines are the shared ring's ([`Log`], bounded in lines and in
//! bytes), each clipped to a number of characters when pushed; the kit's movement roles
//! move the selection, and the end (or going back) follows again.

use std::time::Instant;

use bounded::Weigh;
use ratatui::Frame;
use ratatui::crossterm::event::{MouseEvent, MouseEventKind};
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::epoch::Epoch;
use super::log::{self, Log};
use crate::kit::theme::clip;
use crate::kit::{Role, Slot, Theme};

/// Lines a page key moves.
const PAGE: isize = 10;
/// Lines a turn of the mouse wheel moves.
const WHEEL: isize = 3;

/// A line of a followed log: when it came, what it is about (for its colour), its text.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedLine<K> {
    pub at: Instant,
    pub kind: K,
    pub text: String,
}

impl<K> Weigh for TimedLine<K> {
    fn weight(&self) -> usize {
        size_of::<TimedLine<K>>() + self.text.len()
    }
}

/// The lines and the selection (`None` follows new lines).
#[derive(Debug)]
pub struct Followed<K> {
    log: Log<TimedLine<K>>,
    selected: Option<u64>,
    max_chars: usize,
}

impl<K: Copy> Followed<K> {
    /// At most `lines` lines weighing `bytes` in all, each at most `max_chars` characters.
    pub fn new(lines: usize, bytes: usize, max_chars: usize) -> Followed<K> {
        Followed {
            log: Log::new(lines, bytes),
            selected: None,
            max_chars,
        }
    }

    /// A line, clipped to the pane's longest; the oldest go (counted) past the bounds.
    pub fn push(&mut self, kind: K, text: &str, at: Instant) {
        let text = clip(text, self.max_chars, "…").into_owned();
        self.log.push(TimedLine { at, kind, text });
    }

    /// The lines, oldest first, with what was dropped.
    pub fn lines(&self) -> &Log<TimedLine<K>> {
        &self.log
    }

    /// No line is selected: the pane shows the newest.
    pub fn is_following(&self) -> bool {
        self.selected.is_none()
    }

    /// What a movement role does to the selection; false for any other role.
    pub fn navigate(&mut self, role: Role) -> bool {
        match role {
            Role::Down => self.step(1),
            Role::Up => self.step(-1),
            Role::PageDown => self.step(PAGE),
            Role::PageUp => self.step(-PAGE),
            Role::Top => self.step(isize::MIN / 2),
            Role::Bottom | Role::Back => self.selected = None,
            Role::Quit | Role::Help | Role::Palette => return false,
        }
        true
    }

    /// The mouse wheel moves the selection.
    pub fn scroll(&mut self, event: &MouseEvent) {
        match event.kind {
            MouseEventKind::ScrollDown => self.step(WHEEL),
            MouseEventKind::ScrollUp => self.step(-WHEEL),
            _ => {}
        }
    }

    /// The selection `by` lines further (negative: older); the newest when following.
    fn step(&mut self, by: isize) {
        let Some(last) = self.log.len().checked_sub(1) else {
            return;
        };
        let from = self
            .selected
            .map_or(last, |seq| self.log.position(seq).min(last));
        let to = from.saturating_add_signed(by).min(last);
        self.selected = Some(self.log[to].seq);
    }

    /// The pane: each line's time of day and text, coloured by `slot` of its kind, the
    /// selected one highlighted. While a line is selected, the title names `follow_key`.
    pub fn draw(
        &self,
        frame: &mut Frame,
        area: Rect,
        t: &Theme,
        (epoch, follow_key): (&Epoch, Option<String>),
        slot: impl Fn(K) -> Option<Slot>,
    ) {
        let extra: Vec<String> = match (&self.selected, follow_key) {
            (Some(_), Some(key)) => vec![format!("{key} follows")],
            _ => Vec::new(),
        };
        let title = log::title(t, self.log.len(), self.log.dropped(), &extra);
        let width = usize::from(area.width.saturating_sub(2));
        let rows = usize::from(area.height.saturating_sub(2));
        let selected = match self.selected {
            None => self.log.len().checked_sub(1),
            Some(seq) => self
                .log
                .len()
                .checked_sub(1)
                .map(|last| self.log.position(seq).min(last)),
        };
        let lines: Vec<Line> = log::window(self.log.len(), selected, rows)
            .map(|i| {
                let l = &self.log[i].line;
                let text = format!("{} {}", epoch.time_of_day(l.at), l.text);
                let text = t.name(&text, width);
                let line = match slot(l.kind) {
                    Some(s) => Line::styled(text, t.style(s)),
                    None => Line::raw(text),
                };
                if self.selected.is_some() && Some(i) == selected {
                    line.style(t.style(Slot::Selected))
                } else {
                    line
                }
            })
            .collect();
        log::draw(frame, area, t, title, lines, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_selection_moves_by_role_and_the_end_follows_again() {
        let mut f: Followed<u8> = Followed::new(3, 1 << 20, 5);
        let now = Instant::now();
        assert!(
            f.navigate(Role::Up) && f.is_following(),
            "nothing to select"
        );
        for n in 0..5u8 {
            f.push(n, &format!("line {n} and more"), now);
        }
        // The oldest two went, and the lines were clipped.
        assert_eq!((f.lines().len(), f.lines().dropped()), (3, 2));
        assert_eq!(f.lines()[0].line.text, "line…");
        assert!(f.navigate(Role::Up));
        assert_eq!(f.selected, Some(3));
        f.navigate(Role::Top);
        assert_eq!(f.selected, Some(2));
        f.navigate(Role::PageDown);
        assert_eq!(f.selected, Some(4));
        f.navigate(Role::Down);
        assert_eq!(f.selected, Some(4), "the newest is the last");
        f.navigate(Role::Back);
        assert!(f.is_following());
        f.navigate(Role::PageUp);
        assert_eq!(f.selected, Some(2));
        f.navigate(Role::Bottom);
        assert!(f.is_following());
        assert!(!f.navigate(Role::Quit) && !f.navigate(Role::Palette));
        // A selected line that was dropped selects the oldest kept.
        f.navigate(Role::Top);
        for n in 5..7u8 {
            f.push(n, "x", now);
        }
        f.navigate(Role::Down);
        assert_eq!(f.selected, Some(5));
    }
}
