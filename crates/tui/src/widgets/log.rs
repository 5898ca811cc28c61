//! The log pane, shared by the screens: one ring of lines bounded in count and in bytes (a
//! [`bounded::Bounded`] that drops its oldest lines and counts them), each line numbered so
//! that a selection survives the drops; which lines a pane of some height shows around the
//! selection; and the pane itself, whose title says how many lines it holds and dropped.

use std::ops::Range;

use bounded::{Bounded, Limits, Overflow, Weigh};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::kit::Theme;

/// A line and its number: numbers grow by one per line pushed.
#[derive(Debug, Clone)]
pub struct Logged<L> {
    pub seq: u64,
    pub line: L,
}

impl<L: Weigh> Weigh for Logged<L> {
    fn weight(&self) -> usize {
        size_of::<u64>() + self.line.weight()
    }
}

/// The lines, oldest first.
#[derive(Debug, Clone)]
pub struct Log<L> {
    ring: Bounded<Logged<L>>,
    next_seq: u64,
}

impl<L: Weigh> Log<L> {
    /// At most `lines` lines weighing at most `bytes`.
    pub fn new(lines: usize, bytes: usize) -> Log<L> {
        Log {
            ring: Bounded::new(Limits::new(lines, bytes), Overflow::DropOldest),
            next_seq: 0,
        }
    }

    /// Adds a line, the oldest going while the caps are passed; a line heavier than the
    /// whole byte cap is refused and counted. Its number, either way.
    pub fn push(&mut self, line: L) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        let _ = self.ring.push(Logged { seq, line });
        seq
    }

    pub fn len(&self) -> usize {
        self.ring.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// The bytes the lines weigh.
    pub fn bytes(&self) -> usize {
        self.ring.bytes()
    }

    pub fn limits(&self) -> Limits {
        self.ring.limits()
    }

    /// Lines dropped so far (to make room, or too heavy to keep).
    pub fn dropped(&self) -> u64 {
        self.ring.drops().total()
    }

    /// The number the next line gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Logged<L>> + ExactSizeIterator + Clone {
        self.ring.iter()
    }

    pub fn get(&self, index: usize) -> Option<&Logged<L>> {
        self.ring.get(index)
    }

    pub fn back(&self) -> Option<&Logged<L>> {
        self.ring.back()
    }

    /// The line numbered `seq`, if it is still kept.
    pub fn by_seq(&self, seq: u64) -> Option<&Logged<L>> {
        self.ring.get(self.position(seq)).filter(|l| l.seq == seq)
    }

    /// Where the first line numbered `seq` or more is.
    pub fn position(&self, seq: u64) -> usize {
        self.ring.partition_point(|l| l.seq < seq)
    }

    /// Empties it; the numbers go on, and so do the drop counts.
    pub fn clear(&mut self) {
        self.ring.clear();
    }
}

impl<L> std::ops::Index<usize> for Log<L> {
    type Output = Logged<L>;
    fn index(&self, i: usize) -> &Logged<L> {
        &self.ring[i]
    }
}

/// Index into `positions` (ring positions of the lines shown, oldest first) of the line
/// numbered `selected`: the newest when following (`None`).
pub fn selected_index<L: Weigh>(
    log: &Log<L>,
    positions: &[usize],
    selected: Option<u64>,
) -> Option<usize> {
    let last = positions.len().checked_sub(1)?;
    match selected {
        None => Some(last),
        Some(seq) => Some(positions.partition_point(|&p| log[p].seq < seq).min(last)),
    }
}

/// The selection `by` lines further (negative: older), among `positions`.
pub fn step<L: Weigh>(
    log: &Log<L>,
    positions: &[usize],
    selected: Option<u64>,
    by: isize,
) -> Option<u64> {
    let i = selected_index(log, positions, selected)?;
    let to = i.saturating_add_signed(by).min(positions.len() - 1);
    Some(log[positions[to]].seq)
}

/// Which of `len` lines a pane `rows` high shows: the window ends at the selection (the
/// newest line while following).
pub fn window(len: usize, selected: Option<usize>, rows: usize) -> Range<usize> {
    let end = selected.map_or(0, |i| i + 1).max(rows.min(len)).min(len);
    end.saturating_sub(rows)..end
}

/// The pane's title: ` log · N lines · D dropped ` and what the screen adds.
pub fn title(t: &Theme, len: usize, dropped: u64, extra: &[String]) -> String {
    let dot = t.dot();
    let mut title = format!(" log {dot} {len} lines ");
    if dropped > 0 {
        title.push_str(&format!("{dot} {dropped} dropped "));
    }
    for e in extra {
        title.push_str(&format!("{dot} {e} "));
    }
    title
}

/// The pane: a bordered block, bold when focused, around the lines.
pub fn draw(
    frame: &mut Frame,
    area: Rect,
    t: &Theme,
    title: String,
    lines: Vec<Line<'static>>,
    focused: bool,
) {
    frame.render_widget(Paragraph::new(lines).block(t.pane(title, focused)), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_numbers_lines_drops_the_oldest_and_counts() {
        let mut log: Log<String> = Log::new(3, 1 << 20);
        for n in 0..5 {
            log.push(format!("line {n}"));
        }
        assert_eq!((log.len(), log.dropped()), (3, 2));
        assert_eq!(log.by_seq(3).unwrap().line, "line 3");
        assert!(log.by_seq(1).is_none());
        let positions: Vec<usize> = (0..log.len()).collect();
        assert_eq!(selected_index(&log, &positions, None), Some(2));
        assert_eq!(step(&log, &positions, None, -1), Some(3));
        assert_eq!(step(&log, &positions, Some(3), -9), Some(2));
        assert_eq!(window(10, Some(9), 4), 6..10);
        assert_eq!(window(10, Some(2), 4), 0..4);
        assert_eq!(window(2, Some(1), 4), 0..2);
        assert_eq!(window(0, None, 4), 0..0);
        let mut small: Log<String> = Log::new(100, 100);
        small.push("x".repeat(1000));
        assert_eq!(
            (small.len(), small.dropped()),
            (0, 1),
            "too heavy: refused, counted"
        );
        log.clear();
        assert_eq!(
            (log.len(), log.dropped(), log.push("again".into())),
            (0, 2, 5)
        );
    }
}
