//! The ticker table's rows: one per key (and connection: the same symbol from two is two
//! rows), each with its last value, changes, a bounded history ring, its update count and
//! its age. The table itself is bounded too: past `max_rows`, the least recently updated key
//! is evicted and counted.
//!
//! Each row also keeps what changed since the key's previous update (the "changed" column):
//! the data's paths that `observe::diff` (inspect's diff) finds added, removed or changed,
//! but the value's own (the CHANGE column has it). To compare, a row keeps its last data
//! when it is small ([`MAX_KEPT_DATA`] bytes or less, weighed as it is walked), at most
//! [`MAX_CHANGED`] paths of at most [`MAX_PATH`] characters each, and the count of the rest.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use serde_json::Value;

use client::Conn;

/// A row's key: the connection it came through, and the key's text.
pub type RowKey = (Conn, String);

/// Values kept per row by default (`--history`).
pub const HISTORY: usize = 300;
/// Rows by default (`--max-rows`).
pub const MAX_ROWS: usize = 1_000;

/// Bytes of a row's data kept to compare the next update with: larger data is not kept,
/// and its changes are not listed (the column says so).
pub const MAX_KEPT_DATA: usize = 4096;
/// Most changed paths kept per row.
pub const MAX_CHANGED: usize = 8;
/// Longest changed path kept, in characters.
pub const MAX_PATH: usize = 48;

/// What changed since the key's previous update.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Changed {
    /// The first update, or data that is not JSON: nothing to compare.
    #[default]
    Nothing,
    /// The paths that changed (not the value's own), and how many more did.
    Paths(Vec<String>, usize),
    /// The data (this one or the previous) is past [`MAX_KEPT_DATA`]: not compared.
    TooLarge,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub key: RowKey,
    /// The last value as text (it may not be a number).
    pub text: String,
    pub value: Option<f64>,
    pub previous: Option<f64>,
    pub first: Option<f64>,
    pub history: VecDeque<f64>,
    pub updates: u64,
    pub updated_at: Instant,
    /// What changed since the previous update.
    pub changed: Changed,
    /// The last data as JSON text, kept to compare the next with (when small): text weighs
    /// what it holds, where a parsed value of the same text may hold many times more. It is
    /// parsed again (at most [`MAX_KEPT_DATA`] bytes) when the next update comes.
    data: Option<Box<str>>,
}

impl Row {
    /// Change since the previous value: (absolute, percent).
    pub fn change(&self) -> Option<(f64, f64)> {
        change(self.previous?, self.value?)
    }

    /// Change since the row was first seen.
    pub fn change_since_first(&self) -> Option<(f64, f64)> {
        change(self.first?, self.value?)
    }

    /// Notes this update's data: what changed since the previous one, leaving out the
    /// value's own path (`value`, a JSON pointer), whose change the row shows already.
    pub fn note_data(&mut self, data: &Value, value: &str, ellipsis: &str) {
        let kept: Option<Box<str>> = weighs_at_most(data, MAX_KEPT_DATA)
            .then(|| serde_json::to_string(data).ok())
            .flatten()
            .filter(|text| text.len() <= MAX_KEPT_DATA)
            .map(String::into_boxed_str);
        let before = self
            .data
            .as_deref()
            .and_then(|text| serde_json::from_str::<Value>(text).ok());
        self.changed = match (before, kept.is_some()) {
            (Some(before), true) => {
                // One more than kept, so that leaving out the value's path still fills it.
                let (paths, more) = observe::diff::changed_paths(&before, data, MAX_CHANGED + 1);
                let mut kept: Vec<String> = paths
                    .into_iter()
                    .filter(|p| !is_pointer(p, value))
                    .collect();
                let over = kept.len().saturating_sub(MAX_CHANGED);
                kept.truncate(MAX_CHANGED);
                let kept = kept.iter().map(|p| cut(p, MAX_PATH, ellipsis)).collect();
                Changed::Paths(kept, more + over)
            }
            (None, true) if self.updates <= 1 => Changed::Nothing,
            _ => Changed::TooLarge,
        };
        self.data = kept;
    }

    /// The last data kept to compare the next with, as JSON text.
    pub fn kept_data(&self) -> Option<&str> {
        self.data.as_deref()
    }
}

/// Whether the jq path `path` (`.a.b`, `.a[0]`, `."a b"`) names the JSON pointer `pointer`.
fn is_pointer(path: &str, pointer: &str) -> bool {
    observe::field_path::FieldPath::parse(path).is_ok_and(|p| p.pointer() == pointer)
}

/// `text` cut to `max` characters, ending in `ellipsis` when it was cut.
fn cut(text: &str, max: usize, ellipsis: &str) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}{ellipsis}", &text[..at]),
        None => text.to_owned(),
    }
}

/// Whether `v` written as JSON takes about `max` bytes or less; it stops walking as soon as
/// it knows it does not.
fn weighs_at_most(v: &Value, max: usize) -> bool {
    fn walk(v: &Value, left: &mut usize) -> bool {
        let own = match v {
            Value::String(s) => s.len() + 2,
            Value::Number(_) => 8,
            _ => 4,
        };
        let Some(rest) = left.checked_sub(own) else {
            return false;
        };
        *left = rest;
        match v {
            Value::Array(a) => a.iter().all(|x| walk(x, left)),
            Value::Object(m) => m.iter().all(|(k, x)| {
                match left.checked_sub(k.len() + 3) {
                    Some(rest) => *left = rest,
                    None => return false,
                }
                walk(x, left)
            }),
            _ => true,
        }
    }
    let mut left = max;
    walk(v, &mut left)
}

fn change(from: f64, to: f64) -> Option<(f64, f64)> {
    let pct = if from == 0.0 {
        0.0
    } else {
        (to - from) / from.abs() * 100.0
    };
    Some((to - from, pct))
}

/// How the table is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Key,
    Value,
    Change,
    Recency,
}

impl Sort {
    /// `key`, `value`, `change` or `recency`.
    pub fn parse(text: &str) -> Option<Sort> {
        [Sort::Key, Sort::Value, Sort::Change, Sort::Recency]
            .into_iter()
            .find(|s| s.label() == text)
    }

    pub fn next(self) -> Sort {
        match self {
            Sort::Key => Sort::Value,
            Sort::Value => Sort::Change,
            Sort::Change => Sort::Recency,
            Sort::Recency => Sort::Key,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Sort::Key => "key",
            Sort::Value => "value",
            Sort::Change => "change",
            Sort::Recency => "recency",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Ticker {
    rows: HashMap<RowKey, Row>,
    pub history_len: usize,
    pub max_rows: usize,
    pub evicted: u64,
    /// Events whose key or value field was missing.
    pub missing: u64,
    /// What marks a cut key or value.
    ellipsis: &'static str,
}

/// Longest key or value text kept for a row, so hostile payloads stay small.
const MAX_TEXT: usize = 256;

/// The text of a key or value, cut to [`MAX_TEXT`] characters: a long string is not copied
/// whole.
fn short(v: &Value, ellipsis: &str) -> String {
    let text = match v {
        Value::String(s) => std::borrow::Cow::Borrowed(s.as_str()),
        other => std::borrow::Cow::Owned(other.to_string()),
    };
    match text.char_indices().nth(MAX_TEXT) {
        Some((at, _)) => format!("{}{ellipsis}", &text[..at]),
        None => text.into_owned(),
    }
}

fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|f: &f64| f.is_finite())
}

impl Ticker {
    pub fn new(history_len: usize, max_rows: usize) -> Ticker {
        Ticker {
            rows: HashMap::new(),
            history_len: history_len.max(1),
            max_rows: max_rows.max(1),
            evicted: 0,
            missing: 0,
            ellipsis: "…",
        }
    }

    /// Marks cut keys and values with this (`...` for `--ascii`).
    pub fn with_ellipsis(self, ellipsis: &'static str) -> Ticker {
        Ticker { ellipsis, ..self }
    }

    /// Applies one update from connection `conn`; a missing field is counted, never an
    /// error.
    /// Returns the row, for [`Row::note_data`].
    pub fn update(
        &mut self,
        conn: Conn,
        key: Option<&Value>,
        value: Option<&Value>,
        now: Instant,
    ) -> Option<&mut Row> {
        let (Some(key), Some(value)) = (key, value) else {
            self.missing += 1;
            return None;
        };
        let key = (conn, short(key, self.ellipsis));
        if !self.rows.contains_key(&key)
            && self.rows.len() >= self.max_rows
            && let Some(oldest) = self
                .rows
                .values()
                .min_by_key(|r| r.updated_at)
                .map(|r| r.key.clone())
        {
            self.rows.remove(&oldest);
            self.evicted += 1;
        }
        let number = as_number(value);
        let history_len = self.history_len;
        let row = self.rows.entry(key.clone()).or_insert_with(|| Row {
            key,
            text: String::new(),
            value: None,
            previous: None,
            first: number,
            history: VecDeque::with_capacity(history_len.min(64)),
            updates: 0,
            updated_at: now,
            changed: Changed::Nothing,
            data: None,
        });
        row.previous = row.value;
        row.value = number;
        row.text = short(value, self.ellipsis);
        if let Some(n) = number {
            if row.history.len() == history_len {
                row.history.pop_front();
            }
            row.history.push_back(n);
        }
        row.updates += 1;
        row.updated_at = now;
        Some(row)
    }

    /// What marks a cut key, value or path.
    pub fn ellipsis(&self) -> &'static str {
        self.ellipsis
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn get(&self, key: &RowKey) -> Option<&Row> {
        self.rows.get(key)
    }

    /// About how many bytes the rows hold: each row's texts (the kept data's too) and its
    /// history at its cap.
    pub fn bytes(&self) -> usize {
        self.rows
            .values()
            .map(|r| {
                size_of::<Row>()
                    + 2 * r.key.1.len()
                    + r.text.len()
                    + r.history.capacity() * size_of::<f64>()
                    + r.data.as_ref().map_or(0, |d| d.len())
                    + match &r.changed {
                        Changed::Paths(p, _) => p.iter().map(String::len).sum(),
                        _ => 0,
                    }
            })
            .sum()
    }

    pub fn clear(&mut self) {
        self.rows.clear();
    }

    /// The rows in display order.
    pub fn sorted(&self, sort: Sort) -> Vec<&Row> {
        let mut rows: Vec<&Row> = self.rows.values().collect();
        let num = |v: Option<f64>| v.unwrap_or(f64::NEG_INFINITY);
        match sort {
            Sort::Key => rows.sort_by(|a, b| a.key.cmp(&b.key)),
            Sort::Value => rows.sort_by(|a, b| {
                num(b.value)
                    .total_cmp(&num(a.value))
                    .then(a.key.cmp(&b.key))
            }),
            Sort::Change => rows.sort_by(|a, b| {
                let pct = |r: &Row| num(r.change().map(|c| c.1));
                pct(b).total_cmp(&pct(a)).then(a.key.cmp(&b.key))
            }),
            Sort::Recency => {
                rows.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.key.cmp(&b.key)))
            }
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    #[test]
    fn rows_track_changes_history_and_counts() {
        let t0 = Instant::now();
        let mut t = Ticker::new(3, 10);
        for (i, p) in [10.0, 11.0, 9.9, 12.0].iter().enumerate() {
            t.update(
                0,
                Some(&json!("ACME")),
                Some(&json!(p)),
                t0 + Duration::from_secs(i as u64),
            );
        }
        let r = t.get(&(0, "ACME".into())).unwrap();
        assert_eq!(r.updates, 4);
        assert_eq!(r.history, [11.0, 9.9, 12.0]);
        let (abs, pct) = r.change().unwrap();
        assert!((abs - 2.1).abs() < 1e-9 && (pct - 21.2121).abs() < 1e-3);
        assert_eq!(r.change_since_first().unwrap().0, 2.0);
        // Text values show; missing fields are counted.
        t.update(0, Some(&json!("NOTE")), Some(&json!("halted")), t0);
        let note = (0, "NOTE".to_owned());
        assert_eq!(t.get(&note).unwrap().text, "halted");
        assert_eq!(t.get(&note).unwrap().value, None);
        t.update(0, None, Some(&json!(1)), t0);
        t.update(0, Some(&json!("X")), None, t0);
        assert_eq!(t.missing, 2);
    }

    #[test]
    fn a_row_lists_what_changed_but_its_value_bounded() {
        let t0 = Instant::now();
        let mut t = Ticker::new(3, 10);
        let mut step = |data: Value| {
            let row = t
                .update(0, data.get("name"), data.get("price"), t0)
                .unwrap();
            row.note_data(&data, "/price", "…");
            row.changed.clone()
        };
        assert_eq!(
            step(json!({"name": "A", "price": 1, "vol": 5})),
            Changed::Nothing
        );
        assert_eq!(
            step(json!({"name": "A", "price": 2, "vol": 6, "bid": 1})),
            Changed::Paths(vec![".vol".into(), ".bid".into()], 0)
        );
        assert_eq!(
            step(json!({"name": "A", "price": 3, "vol": 6, "bid": 1})),
            Changed::Paths(vec![], 0),
            "only the value: the CHANGE column says it"
        );
        // Many paths: MAX_CHANGED kept, the rest counted; long ones cut.
        let mut wide = serde_json::Map::new();
        wide.insert("name".into(), json!("A"));
        wide.insert("price".into(), json!(3));
        for i in 0..20 {
            wide.insert(format!("{}{i:02}", "k".repeat(60)), json!(i));
        }
        let Changed::Paths(paths, more) = step(Value::Object(wide)) else {
            panic!("paths")
        };
        assert_eq!((paths.len(), more), (MAX_CHANGED, 22 - MAX_CHANGED));
        assert!(
            paths
                .iter()
                .all(|p| p.chars().count() <= MAX_PATH + 1 && p.ends_with('…'))
        );
        // Large data is neither kept nor compared.
        let big = json!({"name": "A", "price": 4, "blob": "x".repeat(MAX_KEPT_DATA)});
        assert_eq!(step(big), Changed::TooLarge);
        assert_eq!(step(json!({"name": "A", "price": 5})), Changed::TooLarge);
        assert_eq!(
            step(json!({"name": "A", "price": 5, "v": 1})),
            Changed::Paths(vec![".v".into()], 0)
        );
        assert!(weighs_at_most(&json!({"a": [1, 2]}), 64) && !weighs_at_most(&json!("xxxx"), 3));
    }

    /// What a row keeps of its data is the data's text, and that is what it weighs: data
    /// whose parsed value would hold far more than its text (many small objects) weighs
    /// its text, because the text is what is held.
    #[test]
    fn kept_data_weighs_what_is_held() {
        let t0 = Instant::now();
        let mut t = Ticker::new(3, 10);
        let note = |t: &mut Ticker, data: &Value| {
            let row = t.update(0, data.get("name"), Some(&json!(1)), t0).unwrap();
            row.note_data(data, "/price", "…");
        };
        let plain = json!({"name": "A"});
        note(&mut t, &plain);
        let without = t.bytes() - r#"{"name":"A"}"#.len();
        let empties = vec![json!({}); 990];
        let data = json!({"name": "A", "x": empties});
        note(&mut t, &data);
        let row = t.get(&(0, "A".into())).unwrap();
        let text = serde_json::to_string(&data).unwrap();
        assert_eq!(row.kept_data(), Some(text.as_str()), "the text is held");
        let paths: usize = match &row.changed {
            Changed::Paths(p, _) => p.iter().map(String::len).sum(),
            _ => 0,
        };
        assert_eq!(
            t.bytes() - without - paths,
            text.len(),
            "and weighed exactly"
        );
        // The next update compares with it.
        let mut fewer = data;
        fewer["x"].as_array_mut().unwrap().pop();
        note(&mut t, &fewer);
        let row = t.get(&(0, "A".into())).unwrap();
        assert_eq!(row.changed, Changed::Paths(vec![".x[989]".into()], 0));
    }

    #[test]
    fn the_oldest_key_is_evicted_past_max_rows() {
        let t0 = Instant::now();
        let mut t = Ticker::new(10, 2);
        t.update(0, Some(&json!("a")), Some(&json!(1)), t0);
        t.update(
            0,
            Some(&json!("b")),
            Some(&json!(1)),
            t0 + Duration::from_secs(1),
        );
        t.update(
            0,
            Some(&json!("a")),
            Some(&json!(2)),
            t0 + Duration::from_secs(2),
        );
        t.update(
            0,
            Some(&json!("c")),
            Some(&json!(1)),
            t0 + Duration::from_secs(3),
        );
        assert_eq!(t.len(), 2);
        assert!(
            t.get(&(0, "b".into())).is_none(),
            "b was the least recently updated"
        );
        assert_eq!(t.evicted, 1);
        let order: Vec<&str> = t
            .sorted(Sort::Recency)
            .iter()
            .map(|r| r.key.1.as_str())
            .collect();
        assert_eq!(order, ["c", "a"]);
    }
}
