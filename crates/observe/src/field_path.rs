//! A path into an event's JSON data, as the command line writes it: a JSON pointer
//! (`/quote/price`), a dotted path (`quote.price`) or a jq path (`.quote.price`,
//! `.items[0].v`, `."odd key"`, `.["x"]`). Pure; the dashboard's bindings, the latency field
//! and the expectations all read values through it.

use serde_json::Value;

/// A path into an event's JSON data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath(String);

impl FieldPath {
    pub fn parse(text: &str) -> Result<FieldPath, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("a field path is empty".into());
        }
        let escape = |part: &str| format!("/{}", part.replace('~', "~0").replace('/', "~1"));
        let pointer = if text.starts_with('/') {
            text.to_owned()
        } else if text.starts_with('.') {
            jq_path(text)?.iter().map(|p| escape(p)).collect()
        } else {
            text.split('.').map(escape).collect()
        };
        Ok(FieldPath(pointer))
    }

    pub fn get<'a>(&self, data: &'a Value) -> Option<&'a Value> {
        data.pointer(&self.0)
    }

    /// The JSON pointer this path stands for.
    pub fn pointer(&self) -> &str {
        &self.0
    }

    /// The path as the user would write it.
    pub fn display(&self) -> String {
        self.0.trim_start_matches('/').replace('/', ".")
    }
}

/// The parts of a jq path: `.a.b`, `.a[0]`, `."a b"`, `.["a"]`, `.[0]`; `.` alone is the
/// whole data. Nothing else of jq (a path, not an expression).
fn jq_path(text: &str) -> Result<Vec<String>, String> {
    let bad = |at: usize, what: &str| {
        Err(format!(
            "{text:?} is not a jq path ({what} at column {}); write .a.b, .a[0] or .\"a b\"",
            text[..at].chars().count() + 1
        ))
    };
    let mut parts = Vec::new();
    let mut rest = text;
    let at = |rest: &str| text.len() - rest.len();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('[') {
            let Some(end) = r.find(']') else {
                return bad(at(rest), "an unclosed [");
            };
            let inner = r[..end].trim();
            if inner.starts_with('"') {
                match serde_json::from_str::<String>(inner) {
                    Ok(key) => parts.push(key),
                    Err(_) => return bad(at(rest), "a bad string"),
                }
            } else if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) {
                parts.push(inner.to_owned());
            } else {
                return bad(at(rest), "an index that is not a number or a string");
            }
            rest = &r[end + 1..];
            continue;
        }
        let Some(r) = rest.strip_prefix('.') else {
            return bad(at(rest), "something other than . or [");
        };
        if r.is_empty() && parts.is_empty() {
            break;
        }
        if r.starts_with('[') {
            rest = r;
            continue;
        }
        if let Some(quoted) = r.strip_prefix('"') {
            // The closing quote: the first unescaped one.
            let mut escaped = false;
            let end = quoted.char_indices().find_map(|(i, c)| {
                let hit = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                hit.then_some(i + 2)
            });
            let Some(end) = end else {
                return bad(at(r), "an unclosed string");
            };
            match serde_json::from_str::<String>(&r[..end]) {
                Ok(key) => parts.push(key),
                Err(_) => return bad(at(r), "a bad string"),
            }
            rest = &r[end..];
            continue;
        }
        let len = r
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(r.len());
        if len == 0 {
            return bad(at(r), "a missing name");
        }
        parts.push(r[..len].to_owned());
        rest = &r[len..];
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn jq_paths_read_the_same_values() {
        let data = json!({"quote": {"price": 7, "a b": [1, {"v": 2}]}, "x/y": 3});
        for (path, want) in [
            ("quote.price", json!(7)),
            ("/quote/price", json!(7)),
            (".quote.price", json!(7)),
            (".quote[\"a b\"][1].v", json!(2)),
            (".quote.\"a b\"[0]", json!(1)),
            (".[\"x/y\"]", json!(3)),
            (".", data.clone()),
        ] {
            let p = FieldPath::parse(path).unwrap();
            assert_eq!(p.get(&data), Some(&want), "{path}");
        }
        for bad in [".a[", ".a[x]", ".a b", "..", ".a.\"b", ".a | .b"] {
            let e = FieldPath::parse(bad).unwrap_err();
            assert!(e.contains("not a jq path"), "{bad}: {e}");
        }
    }
}
