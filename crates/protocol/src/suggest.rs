//! "Did you mean": the occupied channels a publisher probably meant when its event reached
//! no one, and the bound event names a subscriber probably meant when an event arrived
//! unbound. Pure: the caller passes the names (from `GET /channels`, or the bindings).
//!
//! Two names are close when, after their type prefix (`private-`, `presence-`, …) is set
//! aside and `-`, `_`, `.` and letter case are folded, they are within a small edit distance
//! (optimal string alignment, so a swap of two letters counts once). A different or missing
//! prefix is then the likeliest mistake of all, and is said so.
//!
//! The work is bounded whatever the list holds, because the names come from strangers (a
//! client may occupy 10 000 channels of 200 characters): at most [`MAX_CANDIDATES`] names
//! are looked at, only those within the allowed edits in length are compared, at most
//! [`MAX_COMPARED`] of them, and each comparison stops as soon as the names are more than
//! the allowance apart, in O(length × allowance) rather than O(length²). A caller that asks
//! about many names against one list builds an [`Index`] once.

/// At most this many suggestions are returned.
pub const MAX_SUGGESTIONS: usize = 3;

/// Names longer than this are not compared (the protocol's names are far shorter), so the
/// cost per candidate is bounded.
const MAX_NAME_CHARS: usize = 200;

/// Names looked at per question, at most; the rest of a longer list is not.
pub const MAX_CANDIDATES: usize = 10_000;

/// Names compared (those of a near length), at most, per question.
pub const MAX_COMPARED: usize = 1_000;

/// Type prefixes, longest first so that `private-encrypted-x` is not read as `private-`.
const PREFIXES: [&str; 7] = [
    "private-encrypted-cache-",
    "private-encrypted-",
    "presence-cache-",
    "private-cache-",
    "presence-",
    "private-",
    "cache-",
];

/// The one type prefix of event names: client events.
const EVENT_PREFIXES: [&str; 1] = ["client-"];

/// Why a name was suggested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// The same name with another type prefix, or with one where the target had none.
    Prefix,
    /// The same name but for `-`, `_` and `.`.
    Separators,
    /// The same name but for letter case.
    Case,
    /// A few letters apart.
    Spelling,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub name: String,
    pub why: Why,
}

impl Suggestion {
    /// The hint as a publisher reads it: `did you mean stock_ticker?`, with the reason.
    pub fn hint(&self) -> String {
        let reason = match self.why {
            Why::Prefix => " (the private-/presence- prefix is part of a channel's name)",
            Why::Separators => " (-, _ and . are different characters in a name)",
            Why::Case => " (names are case-sensitive)",
            Why::Spelling => "",
        };
        format!("did you mean {}?{reason}", self.name)
    }

    /// The hint for an event name, short for a log line: `did you mean update_event?`; only
    /// a prefix gets a reason (the difference speaks for itself otherwise).
    pub fn event_hint(&self) -> String {
        let reason = match self.why {
            Why::Prefix => " (client events start with client-)",
            _ => "",
        };
        format!("did you mean {}?{reason}", self.name)
    }
}

/// Splits a name into its type prefix (maybe empty) and the rest.
pub fn split_prefix(name: &str) -> (&str, &str) {
    split(name, &PREFIXES)
}

fn split<'a>(name: &'a str, prefixes: &[&str]) -> (&'a str, &'a str) {
    prefixes
        .iter()
        .find_map(|p| name.strip_prefix(p).map(|rest| (&name[..p.len()], rest)))
        .unwrap_or(("", name))
}

/// The name with `-`, `_` and `.` made one character and ASCII letters lowercased.
fn fold(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '-' | '.' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// How many edits apart two names of `chars` characters may be and still be suggested.
fn allowance(chars: usize) -> usize {
    match chars {
        0..=2 => 0,
        3..=5 => 1,
        6..=10 => 2,
        _ => 3,
    }
}

/// The occupied names closest to `target`, best first, at most [`MAX_SUGGESTIONS`]; never
/// `target` itself. The order does not depend on the order of `occupied`.
pub fn suggest<'a>(target: &str, occupied: impl IntoIterator<Item = &'a str>) -> Vec<Suggestion> {
    closest(target, occupied, &PREFIXES)
}

/// The bound event names closest to the event name `target`, as [`suggest`] finds channels;
/// the type prefix here is `client-`.
pub fn suggest_event<'a>(
    target: &str,
    bound: impl IntoIterator<Item = &'a str>,
) -> Vec<Suggestion> {
    closest(target, bound, &EVENT_PREFIXES)
}

fn closest<'a>(
    target: &str,
    occupied: impl IntoIterator<Item = &'a str>,
    prefixes: &[&str],
) -> Vec<Suggestion> {
    let Some(q) = Question::new(target, prefixes) else {
        return Vec::new();
    };
    let near = occupied
        .into_iter()
        .take(MAX_CANDIDATES)
        .filter(|name| q.near_in_length(split(name, prefixes).1.chars().count()));
    q.answer(near, prefixes)
}

/// One name asked about: its prefix, its folded rest, and the edits allowed.
struct Question<'t> {
    target: &'t str,
    prefix: &'t str,
    base: &'t str,
    folded: Vec<char>,
    limit: usize,
}

impl<'t> Question<'t> {
    fn new(target: &'t str, prefixes: &[&str]) -> Option<Question<'t>> {
        if target.chars().count() > MAX_NAME_CHARS {
            return None;
        }
        let (prefix, base) = split(target, prefixes);
        let folded: Vec<char> = fold(base).chars().collect();
        let limit = allowance(folded.len());
        Some(Question {
            target,
            prefix,
            base,
            folded,
            limit,
        })
    }

    /// The length difference is a lower bound of the distance: the far ones are skipped
    /// without a look at their letters.
    fn near_in_length(&self, chars: usize) -> bool {
        chars.abs_diff(self.folded.len()) <= self.limit
    }

    /// The best of `near` (names already near in length), compared at most
    /// [`MAX_COMPARED`] times.
    fn answer<'a>(
        &self,
        near: impl Iterator<Item = &'a str>,
        prefixes: &[&str],
    ) -> Vec<Suggestion> {
        // (distance, prefix differs, folding was needed, name)
        let mut found: Vec<(usize, bool, bool, &str)> = Vec::new();
        let mut other: Vec<char> = Vec::new();
        for name in near.take(MAX_COMPARED) {
            if name == self.target || name.chars().count() > MAX_NAME_CHARS {
                continue;
            }
            let (p, b) = split(name, prefixes);
            other.clear();
            other.extend(fold(b).chars());
            let Some(distance) = distance_within(&self.folded, &other, self.limit) else {
                continue;
            };
            found.push((distance, p != self.prefix, b != self.base, name));
        }
        found.sort_unstable();
        found.dedup_by(|a, b| a.3 == b.3);
        found
            .into_iter()
            .take(MAX_SUGGESTIONS)
            .map(|(distance, other_prefix, _, name)| {
                let (_, b) = split(name, prefixes);
                let why = if other_prefix {
                    Why::Prefix
                } else if distance > 0 {
                    Why::Spelling
                } else if b.eq_ignore_ascii_case(self.base) {
                    Why::Case
                } else {
                    Why::Separators
                };
                Suggestion {
                    name: name.to_owned(),
                    why,
                }
            })
            .collect()
    }
}

/// Channel names indexed by the length of their folded rest, for a caller that asks about
/// many names against one list (`trigger --batch`): the list is read once (at most
/// [`MAX_CANDIDATES`] names), and each question looks only at the names of a near length.
pub struct Index<'a> {
    /// (folded length, name), sorted by length.
    names: Vec<(usize, &'a str)>,
}

impl<'a> Index<'a> {
    pub fn new(occupied: impl IntoIterator<Item = &'a str>) -> Index<'a> {
        let mut names: Vec<(usize, &'a str)> = occupied
            .into_iter()
            .take(MAX_CANDIDATES)
            .map(|name| (split_prefix(name).1.chars().count(), name))
            .collect();
        names.sort_unstable();
        Index { names }
    }

    /// What [`suggest`] says for `target` over the indexed names.
    pub fn suggest(&self, target: &str) -> Vec<Suggestion> {
        let Some(q) = Question::new(target, &PREFIXES) else {
            return Vec::new();
        };
        let from = q.folded.len().saturating_sub(q.limit);
        let start = self.names.partition_point(|(len, _)| *len < from);
        let near = self.names[start..]
            .iter()
            .take_while(|(len, _)| q.near_in_length(*len))
            .map(|(_, name)| *name);
        q.answer(near, &PREFIXES)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// The optimal-string-alignment distance between `a` and `b` if it is at most `k`, else
/// `None`; only the band of cells within `k` of the diagonal is computed, and it stops as
/// soon as a whole row is past `k`.
fn distance_within(a: &[char], b: &[char], k: usize) -> Option<usize> {
    const FAR: usize = usize::MAX / 4;
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > k {
        return None;
    }
    let mut before = vec![FAR; m + 1];
    let mut prev = vec![FAR; m + 1];
    let mut cur = vec![FAR; m + 1];
    for (j, cell) in prev.iter_mut().enumerate().take(k.min(m) + 1) {
        *cell = j;
    }
    for i in 1..=n {
        let lo = i.saturating_sub(k).max(1);
        let hi = (i + k).min(m);
        cur[lo - 1] = if lo == 1 { i } else { FAR };
        if hi < m {
            cur[hi + 1] = FAR;
        }
        let mut row_min = cur[lo - 1];
        for j in lo..=hi {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j - 1] + cost).min(prev[j] + 1).min(cur[j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            cur[j] = d;
            row_min = row_min.min(d);
        }
        if row_min > k {
            return None;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    (prev[m] <= k).then_some(prev[m])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn names(target: &str, occupied: &[&str]) -> Vec<(String, Why)> {
        suggest(target, occupied.iter().copied())
            .into_iter()
            .map(|s| (s.name, s.why))
            .collect()
    }

    #[test]
    fn the_seeds_mistakes() {
        assert_eq!(
            names("stock-ticker", &["stock_ticker", "chat"]),
            [("stock_ticker".to_owned(), Why::Separators)]
        );
        assert_eq!(
            names("stock.ticker", &["stock_ticker"]),
            [("stock_ticker".to_owned(), Why::Separators)]
        );
        assert_eq!(
            names("stock_tikcer", &["stock_ticker"]),
            [("stock_ticker".to_owned(), Why::Spelling)]
        );
        assert_eq!(
            names("Stock_Ticker", &["stock_ticker"]),
            [("stock_ticker".to_owned(), Why::Case)]
        );
    }

    #[test]
    fn a_missing_or_wrong_prefix() {
        assert_eq!(
            names("orders", &["private-orders", "news"]),
            [("private-orders".to_owned(), Why::Prefix)]
        );
        assert_eq!(
            names("private-orders", &["orders"]),
            [("orders".to_owned(), Why::Prefix)]
        );
        assert_eq!(
            names("presence-lobby", &["private-lobby"]),
            [("private-lobby".to_owned(), Why::Prefix)]
        );
        assert_eq!(
            names("private-lobby", &["presence-lobby"]),
            [("presence-lobby".to_owned(), Why::Prefix)]
        );
        assert_eq!(
            names("private-orders", &["private-encrypted-orders"]),
            [("private-encrypted-orders".to_owned(), Why::Prefix)]
        );
    }

    #[test]
    fn the_closest_come_first_and_far_ones_never() {
        let got = names(
            "stock-ticker",
            &[
                "stock_tickers",
                "weather",
                "stock_ticker",
                "private-stock-ticker",
            ],
        );
        assert_eq!(
            got,
            [
                ("stock_ticker".to_owned(), Why::Separators),
                ("private-stock-ticker".to_owned(), Why::Prefix),
                ("stock_tickers".to_owned(), Why::Spelling),
            ]
        );
        assert!(names("stock_ticker", &["weather", "chat-1"]).is_empty());
        // Two-letter names are too short to guess at.
        assert!(names("ab", &["ac", "xb"]).is_empty());
        assert!(names("stock_ticker", &["stock_ticker"]).is_empty());
        assert_eq!(suggest("x", std::iter::empty()), Vec::<Suggestion>::new());
    }

    #[test]
    fn hints_name_the_channel() {
        let s = |name: &str, why| Suggestion {
            name: name.into(),
            why,
        };
        assert_eq!(
            s("stock_ticker", Why::Spelling).hint(),
            "did you mean stock_ticker?"
        );
        assert!(
            s("private-orders", Why::Prefix)
                .hint()
                .starts_with("did you mean private-orders? (")
        );
    }

    #[test]
    fn event_names() {
        let bound = ["update_event", "client-typing", "OrderShipped"];
        let got = |t: &str| {
            suggest_event(t, bound)
                .into_iter()
                .map(|s| s.event_hint())
                .collect::<Vec<_>>()
        };
        assert_eq!(got("update-event"), ["did you mean update_event?"]);
        assert_eq!(got("updat_event"), ["did you mean update_event?"]);
        assert_eq!(
            got("typing"),
            ["did you mean client-typing? (client events start with client-)"]
        );
        assert_eq!(got("orderShipped"), ["did you mean OrderShipped?"]);
        // Channel prefixes mean nothing in an event's name.
        assert!(got("private-update_event").is_empty());
        assert!(got("weather").is_empty());
        assert!(got("update_event").is_empty());
    }

    fn channel_name() -> impl Strategy<Value = String> {
        "[a-z]{3,8}([-_.][a-z]{2,6}){0,2}"
    }

    #[test]
    fn the_work_is_bounded_whatever_the_list_holds() {
        // 20 000 names of 190 characters, all of the target's length: only the first
        // MAX_CANDIDATES are looked at, MAX_COMPARED compared, each in a narrow band.
        let names: Vec<String> = (0..20_000).map(|n| format!("{n:0>190}")).collect();
        let target = format!("{:9>190}", 1);
        let got = suggest(&target, names.iter().map(String::as_str));
        assert!(got.is_empty());
        let index = Index::new(names.iter().map(String::as_str));
        assert_eq!(index.len(), MAX_CANDIDATES);
        let near = format!("x{}", &names[500][1..]);
        assert_eq!(
            index.suggest(&near).first().map(|s| s.name.as_str()),
            Some(names[500].as_str())
        );
    }

    proptest! {
        #[test]
        fn the_banded_distance_is_the_full_one_within_its_bound(
            a in "[abc]{0,12}",
            b in "[abc]{0,12}",
            k in 0usize..5,
        ) {
            let (x, y): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
            let full = strsim::osa_distance(&a, &b);
            let banded = distance_within(&x, &y, k);
            prop_assert_eq!(banded, (full <= k).then_some(full));
        }

        #[test]
        fn an_index_answers_as_a_list_does(
            target in channel_name(),
            occupied in proptest::collection::vec(channel_name(), 0..12),
        ) {
            let index = Index::new(occupied.iter().map(String::as_str));
            prop_assert_eq!(
                index.suggest(&target),
                suggest(&target, occupied.iter().map(String::as_str))
            );
        }

        #[test]
        fn never_the_target_never_more_than_three_only_from_the_list(
            target in ".{0,40}",
            occupied in proptest::collection::vec(".{0,40}", 0..20),
        ) {
            let got = suggest(&target, occupied.iter().map(String::as_str));
            prop_assert!(got.len() <= MAX_SUGGESTIONS);
            for s in &got {
                prop_assert!(s.name != target);
                prop_assert!(occupied.contains(&s.name));
            }
        }

        #[test]
        fn the_order_of_the_list_does_not_matter(
            target in channel_name(),
            mut occupied in proptest::collection::vec(channel_name(), 0..12),
        ) {
            let first = suggest(&target, occupied.iter().map(String::as_str));
            occupied.reverse();
            prop_assert_eq!(first, suggest(&target, occupied.iter().map(String::as_str)));
        }

        #[test]
        fn a_separator_swap_is_found(target in "[a-z]{2,8}[-_.][a-z]{2,8}", to in "[-_.]") {
            let sep = target.find(['-', '_', '.']).unwrap();
            let mut other = target.clone();
            other.replace_range(sep..sep + 1, &to);
            prop_assume!(other != target);
            let got = suggest(&target, [other.as_str(), "zzzzzzzzzzzzzzzzzzzzzz"]);
            prop_assert_eq!(got, vec![Suggestion { name: other, why: Why::Separators }]);
        }

        #[test]
        fn a_missing_prefix_is_found(
            base in channel_name(),
            prefix in prop_oneof![Just("private-"), Just("presence-")],
        ) {
            prop_assume!(split_prefix(&base).0.is_empty());
            let occupied = format!("{prefix}{base}");
            let got = suggest(&base, [occupied.as_str()]);
            prop_assert_eq!(got, vec![Suggestion { name: occupied.clone(), why: Why::Prefix }]);
            let back = suggest(&occupied, [base.as_str()]);
            prop_assert_eq!(back, vec![Suggestion { name: base, why: Why::Prefix }]);
        }

        #[test]
        fn one_typo_in_a_long_name_is_found(
            target in "[a-z]{6,20}",
            at in any::<proptest::sample::Index>(),
            with in "[a-z]",
        ) {
            let i = at.index(target.len());
            let mut other = target.clone();
            other.replace_range(i..i + 1, &with);
            prop_assume!(other != target);
            let got = suggest(&target, [other.as_str()]);
            prop_assert_eq!(got, vec![Suggestion { name: other, why: Why::Spelling }]);
        }
    }
}
