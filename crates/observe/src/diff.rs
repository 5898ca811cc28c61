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
fn flatten(v: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    walk(v, String::new(), 0, &mut out);
    out
}

fn walk<'a>(v: &'a Value, path: String, depth: usize, out: &mut Vec<(String, &'a Value)>) {
    if out.len() >= MAX_LEAVES {
        return;
    }
    let room = depth < MAX_DEPTH;
    match v {
        Value::Object(m) if room && !m.is_empty() => {
            for (k, child) in m {
                walk(child, key_path(&path, k), depth + 1, out);
            }
        }
        Value::Array(a) if room && !a.is_empty() => {
            for (i, child) in a.iter().enumerate() {
                walk(child, format!("{path}[{i}]"), depth + 1, out);
            }
        }
        _ => {
            let path = if path.is_empty() {
                ".".to_owned()
            } else {
                path
            };
            out.push((path, v));
        }
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
            "the empty array is one leaf, added"
        );
    }
}
