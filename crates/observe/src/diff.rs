//! What changed between two JSON values: the leaf paths added, removed and changed, in the
//! later value's order (then the removed ones). Pure; the dashboard's inspect view shows it
//! against the previous event of the same channel and event (or ticker key).
//!
//! Bounded: at most `max` changes are listed (the rest counted), values are cut to
//! [`MAX_VALUE`] characters, and paths stop at [`MAX_DEPTH`] levels (deeper is compared as
//! one value).

use std::collections::HashMap;

use serde_json::Value;

/// Longest value text shown in a change.
pub const MAX_VALUE: usize = 80;

/// Deepest path walked; below it a value is one leaf.
pub const MAX_DEPTH: usize = 16;

/// Most leaves flattened from one value; past it the rest is one leaf at their parent.
const MAX_LEAVES: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Added,
    Removed,
    Changed,
}

impl Kind {
    /// `+`, `-` or `~`: the mark that says it without colour.
    pub fn mark(self) -> char {
        match self {
            Kind::Added => '+',
            Kind::Removed => '-',
            Kind::Changed => '~',
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: Kind,
    /// A jq path: `.price`, `.items[0].qty`, `."a b"`.
    pub path: String,
    /// The earlier value, compact JSON, cut (none when added).
    pub before: Option<String>,
    /// The later value (none when removed).
    pub after: Option<String>,
}

/// The changes, at most `max`, and how many more there were.
pub fn diff(before: &Value, after: &Value, max: usize) -> (Vec<Change>, usize) {
    let old = flatten(before);
    let new = flatten(after);
    let old_map: HashMap<&str, &Value> = old.iter().map(|(p, v)| (p.as_str(), *v)).collect();
    let new_map: HashMap<&str, &Value> = new.iter().map(|(p, v)| (p.as_str(), *v)).collect();
    let mut out = Vec::new();
    let mut more = 0usize;
    let mut push = |c: Change| {
        if out.len() < max {
            out.push(c);
        } else {
            more += 1;
        }
    };
    for (path, v) in &new {
        match old_map.get(path.as_str()) {
            None => push(Change {
                kind: Kind::Added,
                path: path.clone(),
                before: None,
                after: Some(text(v)),
            }),
            Some(was) if *was != *v => push(Change {
                kind: Kind::Changed,
                path: path.clone(),
                before: Some(text(was)),
                after: Some(text(v)),
            }),
            Some(_) => {}
        }
    }
    for (path, v) in &old {
        if !new_map.contains_key(path.as_str()) {
            push(Change {
                kind: Kind::Removed,
                path: path.clone(),
                before: Some(text(v)),
                after: None,
            });
        }
    }
    (out, more)
}

/// The paths that changed, for a short list (`price, volume`).
pub fn changed_paths(before: &Value, after: &Value, max: usize) -> (Vec<String>, usize) {
    let (changes, more) = diff(before, after, max);
    (changes.into_iter().map(|c| c.path).collect(), more)
}

fn text(v: &Value) -> String {
    let t = v.to_string();
    match t.char_indices().nth(MAX_VALUE) {
        Some((at, _)) => format!("{}…", &t[..at]),
        None => t,
    }
}

/// `parent` and one key as a jq path: `.a.b`, or `.a."b c"` when the key needs quotes. A
/// quoted key is a JSON string whose unsafe characters (controls, bidi marks) are JSON
/// escapes (`."\u202ex"`), as the `--json` line writes them: the path is terminal-safe and
/// jq reads it back as the key.
pub fn key_path(parent: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !key.starts_with(|c: char| c.is_ascii_digit());
    if plain {
        format!("{parent}.{key}")
    } else {
        let quoted = Value::String(key.to_owned()).to_string();
        format!(
            "{parent}.{}",
            crate::output::json_text::compact_safe(&quoted)
        )
    }
}

/// Every leaf with its path, in the value's order. An empty object or array is a leaf.
/// Past [`MAX_LEAVES`], the object or array being walked is one leaf, whole (and so is
/// each one around it): what was not walked is still compared, never taken as unchanged.
fn flatten(v: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    walk(v, String::new(), 0, &mut out);
    out
}

/// Pushes `v`'s leaves; false when the leaves ran out inside it (`v` was then pushed whole
/// after the ones walked).
fn walk<'a>(v: &'a Value, path: String, depth: usize, out: &mut Vec<(String, &'a Value)>) -> bool {
    let room = depth < MAX_DEPTH;
    let complete = match v {
        Value::Object(m) if room && !m.is_empty() => m.iter().all(|(k, child)| {
            out.len() < MAX_LEAVES && walk(child, key_path(&path, k), depth + 1, out)
        }),
        Value::Array(a) if room && !a.is_empty() => a.iter().enumerate().all(|(i, child)| {
            out.len() < MAX_LEAVES && walk(child, format!("{path}[{i}]"), depth + 1, out)
        }),
        _ => {
            out.push((leaf_path(path), v));
            return true;
        }
    };
    if !complete {
        out.push((leaf_path(path), v));
    }
    complete
}

fn leaf_path(path: String) -> String {
    if path.is_empty() {
        ".".to_owned()
    } else {
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn added_removed_changed() {
        let a = json!({"name": "ACME", "price": 41.8, "old": true, "q": {"bid": [1, 2]}});
        let b =
            json!({"name": "ACME", "price": 43.1, "new": "x", "q": {"bid": [1, 3, 4]}, "a b": 1});
        let (changes, more) = diff(&a, &b, 10);
        assert_eq!(more, 0);
        let shown: Vec<String> = changes
            .iter()
            .map(|c| {
                format!(
                    "{} {} {} {}",
                    c.kind.mark(),
                    c.path,
                    c.before.as_deref().unwrap_or(""),
                    c.after.as_deref().unwrap_or("")
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                "~ .price 41.8 43.1",
                "+ .new  \"x\"",
                "~ .q.bid[1] 2 3",
                "+ .q.bid[2]  4",
                "+ .\"a b\"  1",
                "- .old true ",
            ]
        );
        let (few, more) = diff(&a, &b, 2);
        assert_eq!((few.len(), more), (2, 4));
        assert_eq!(diff(&json!(1), &json!(1), 5).0, []);
        assert_eq!(diff(&json!(1), &json!(2), 5).0[0].path, ".");
    }

    #[test]
    fn a_key_with_unsafe_characters_is_a_json_escape_in_its_path() {
        // serde_json leaves DEL, C1 controls and bidi marks raw: the path escapes them as
        // the --json line does, so it is terminal-safe and jq reads it back.
        assert_eq!(
            key_path(".data", "\u{202e}x\u{7f}\u{9b}"),
            r#".data."\u202ex\u007f\u009b""#
        );
        assert_eq!(key_path("", "\u{1b}[31m"), r#"."\u001b[31m""#);
        assert_eq!(key_path("", "a\"b"), r#"."a\"b""#);
    }

    #[test]
    fn deep_and_wide_values_stay_bounded() {
        let mut deep = json!(1);
        for _ in 0..200 {
            deep = json!([deep]);
        }
        let (c, _) = diff(&deep, &json!(2), 5);
        assert_eq!(c.len(), 2);
        let wide = Value::Array((0..10_000).map(Value::from).collect());
        let (c, more) = diff(&wide, &json!([]), 3);
        assert_eq!(c.len(), 3);
        assert_eq!(
            more,
            MAX_LEAVES - 3 + 1,
            "the leaves walked, removed; the array whole, changed to the empty one"
        );
    }

    #[test]
    fn a_change_past_the_leaves_walked_is_still_a_change() {
        let mut before = serde_json::Map::new();
        for i in 0..MAX_LEAVES + 100 {
            before.insert(format!("k{i:05}"), json!({"v": i}));
        }
        let mut after = before.clone();
        after.insert(format!("k{:05}", MAX_LEAVES + 50), json!({"v": "changed"}));
        let (before, after) = (Value::Object(before), Value::Object(after));
        let (changes, more) = diff(&before, &after, 10);
        assert_eq!(more, 0);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(
            (changes[0].kind, changes[0].path.as_str()),
            (Kind::Changed, ".")
        );
        assert_eq!(
            diff(&before, &before, 10).0,
            [],
            "the same value: no change"
        );
        // Deeper: the parents of the cut are compared whole too.
        let (b, a) = (json!({"x": {"y": before}}), json!({"x": {"y": after}}));
        let paths: Vec<String> = diff(&b, &a, 10).0.into_iter().map(|c| c.path).collect();
        assert_eq!(paths, [".x.y", ".x", "."]);
    }
}
