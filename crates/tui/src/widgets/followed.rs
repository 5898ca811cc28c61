//! A log pane of timed lines that follows the newest line until one is selected: the tap's
//! and the probe's. Its lines are the shared ring's ([`Log`], bounded in lines and in
//! bytes), each clipped to a number of characters when pushed; the kit's movement roles
//! move the selection, and the end (or going back) follows again.

use std::time::Instant;

use bounded::Weigh;
use ratatui::Frame;
use ratatui::crossterm::event::{MouseEvent, MouseEventKind};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

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

impl<K> Followed<K> {
    /// At most `lines` lines weighing `bytes` in all, each at most `max_chars` characters.
    pub fn new(lines: usize, bytes: usize, max_chars: usize) -> Followed<K> {
        Followed {
            log: Log::new(lines, bytes),
            selected: None,
            max_chars,
        }
    }

    /// A line, clipped to the log's longest (`max_chars`). Past the bounds the oldest lines
    /// go; a line heavier than the whole byte budget is refused. Either is counted.
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

    /// What a movement role does to the selection (any other role does nothing).
    pub fn navigate(&mut self, role: Role) {
        match role {
            Role::Down => self.step(1),
            Role::Up => self.step(-1),
            Role::PageDown => self.step(PAGE),
            Role::PageUp => self.step(-PAGE),
            Role::Top => self.step(isize::MIN / 2),
            Role::Bottom | Role::Back => self.selected = None,
            Role::Quit | Role::Help | Role::Palette => {}
        }
    }

    /// The mouse wheel moves the selection.
    pub fn scroll(&mut self, event: &MouseEvent) {
        match event.kind {
            MouseEventKind::ScrollDown => self.step(WHEEL),
            MouseEventKind::ScrollUp => self.step(-WHEEL),
            _ => {}
        }
    }

    /// Where the selection is in the log: the newest line while following, the oldest
    /// kept when the selected one was dropped. `None` when the log is empty.
    fn index(&self) -> Option<usize> {
        let last = self.log.len().checked_sub(1)?;
        Some(
            self.selected
                .map_or(last, |seq| self.log.position(seq).min(last)),
        )
    }

    /// The selection `by` lines further (negative: older); from the newest when following.
    fn step(&mut self, by: isize) {
        let Some(from) = self.index() else {
            return;
        };
        let to = from
            .saturating_add_signed(by)
            .min(self.log.len().saturating_sub(1));
        self.selected = Some(self.log[to].seq);
    }

    /// The pane: each line's time of day and text, coloured by `slot` of its kind, the
    /// selected one highlighted over its colour (as the dashboard's log). While a line is
    /// selected, the title names `follow_key`.
    pub fn draw(
        &self,
        frame: &mut Frame,
        area: Rect,
        t: &Theme,
        epoch: &Epoch,
        follow_key: Option<String>,
        slot: impl Fn(&K) -> Option<Slot>,
    ) {
        let extra: Vec<String> = match (&self.selected, follow_key) {
            (Some(_), Some(key)) => vec![format!("{key} follows")],
            _ => Vec::new(),
        };
        let title = log::title(t, self.log.len(), self.log.dropped(), &extra);
        let width = usize::from(area.width.saturating_sub(2));
        let rows = usize::from(area.height.saturating_sub(2));
        let selected = self.index();
        let lines: Vec<Line> = log::window(self.log.len(), selected, rows)
            .map(|i| {
                let l = &self.log[i].line;
                let text = format!("{} {}", epoch.time_of_day(l.at), l.text);
                let text = t.name(&text, width);
                let line = match slot(&l.kind) {
                    Some(s) => Line::from(Span::styled(text, t.style(s))),
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
        f.navigate(Role::Up);
        assert!(f.is_following(), "nothing to select");
        for n in 0..5u8 {
            f.push(n, &format!("line {n} and more"), now);
        }
        // The oldest two went, and the lines were clipped.
        assert_eq!((f.lines().len(), f.lines().dropped()), (3, 2));
        assert_eq!(f.lines()[0].line.text, "line…");
        f.navigate(Role::Up);
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
        f.navigate(Role::Quit);
        f.navigate(Role::Palette);
        assert!(f.is_following(), "not movements");
        // A selected line that was dropped selects the oldest kept.
        f.navigate(Role::Top);
        for n in 5..7u8 {
            f.push(n, "x", now);
        }
        f.navigate(Role::Down);
        assert_eq!(f.selected, Some(5));
    }

    fn drawn(f: &Followed<u8>, epoch: &Epoch, key: Option<&str>) -> ratatui::buffer::Buffer {
        use ratatui::backend::TestBackend;
        let t = Theme::new(true, false);
        let mut term = ratatui::Terminal::new(TestBackend::new(40, 5)).unwrap();
        term.draw(|fr| {
            f.draw(fr, fr.area(), &t, epoch, key.map(str::to_owned), |k| {
                (*k == 1).then_some(Slot::Warning)
            })
        })
        .unwrap();
        term.backend().buffer().clone()
    }

    fn row(b: &ratatui::buffer::Buffer, y: u16) -> String {
        (0..b.area.width).map(|x| b[(x, y)].symbol()).collect()
    }

    #[test]
    fn the_pane_shows_times_highlights_the_selection_and_names_the_follow_key() {
        use ratatui::style::{Color, Modifier};
        use std::time::{Duration, SystemTime};
        let t0 = Instant::now();
        let epoch = Epoch::new(t0, SystemTime::UNIX_EPOCH + Duration::from_secs(36_000));
        let mut f: Followed<u8> = Followed::new(100, 1 << 20, 6);
        // Empty: no panic, nothing selected.
        let b = drawn(&f, &epoch, Some("G"));
        assert!(row(&b, 0).contains("0 lines") && !row(&b, 0).contains("follows"));
        for n in 0..5u8 {
            f.push(
                n % 2,
                &format!("é{n}ééééééé"),
                t0 + Duration::from_secs(n.into()),
            );
        }
        assert_eq!(
            f.lines()[0].line.text,
            "é0ééé…",
            "six characters with the ellipsis, multibyte"
        );
        let b = drawn(&f, &epoch, Some("G"));
        // Following: the newest three of five, no highlight, no follow key.
        assert!(row(&b, 1).contains("10:00:02 é2"), "{}", row(&b, 1));
        assert!(row(&b, 3).contains("10:00:04 é4"), "{}", row(&b, 3));
        assert!(!row(&b, 0).contains("follows"));
        assert!(!(1..4).any(|y| b[(1, y)].modifier.contains(Modifier::REVERSED)));
        assert_eq!(
            b[(1, 2)].fg,
            Color::Yellow,
            "a kind's slot colours its line"
        );
        f.navigate(Role::Up);
        let b = drawn(&f, &epoch, Some("G"));
        assert!(row(&b, 0).contains("G follows"), "{}", row(&b, 0));
        // The window ends at the selection: é3 (a Warning line) at the bottom row.
        assert!(row(&b, 3).contains("é3"), "{}", row(&b, 3));
        assert!(b[(1, 3)].modifier.contains(Modifier::REVERSED));
        assert_eq!(b[(1, 3)].fg, Color::Yellow, "its kind's colour, reversed");
        assert!(!b[(1, 2)].modifier.contains(Modifier::REVERSED));
        let b = drawn(&f, &epoch, None);
        assert!(!row(&b, 0).contains("follows"), "no key, no words");
        // Before the epoch.
        let mut g: Followed<u8> = Followed::new(100, 1 << 20, 80);
        if let Some(before) = t0.checked_sub(Duration::from_secs(61)) {
            g.push(0, "early", before);
            assert!(row(&drawn(&g, &epoch, None), 1).contains("09:58:59 early"));
        }
    }

    #[test]
    fn the_wheel_moves_three_lines() {
        use ratatui::crossterm::event::KeyModifiers;
        let wheel = |kind| MouseEvent {
            kind,
            column: 0,
            row: 0,
            modifiers: KeyModifiers::NONE,
        };
        let mut f: Followed<u8> = Followed::new(100, 1 << 20, 80);
        f.scroll(&wheel(MouseEventKind::ScrollUp));
        assert!(f.is_following(), "an empty log selects nothing");
        for n in 0..10u8 {
            f.push(n, "x", Instant::now());
        }
        f.scroll(&wheel(MouseEventKind::ScrollUp));
        assert_eq!(f.selected, Some(6));
        f.scroll(&wheel(MouseEventKind::Moved));
        assert_eq!(f.selected, Some(6));
        f.scroll(&wheel(MouseEventKind::ScrollDown));
        f.scroll(&wheel(MouseEventKind::ScrollDown));
        assert_eq!(f.selected, Some(9), "stops at the newest, still selected");
    }
}
