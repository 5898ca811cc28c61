//! Inspect's value cursor: the event's data pretty-printed as `serde_json` prints it, each
//! line with the value it opens and that value's jq path in the event as `watch --json`
//! writes it (`.data.price`, `.data.items[0]`, `.data."a b"`, as `--where` and `f` read
//! it). Closing brackets open nothing. `y` copies the value under the cursor as JSON, `p`
//! its path.

use serde_json::Value;

use observe::diff::key_path;

/// One line of the pretty-printed data, and what it opens.
pub(super) struct ValueLine<'a> {
    pub text: String,
    /// The value this line opens and its path; none for a closing bracket.
    pub value: Option<(String, &'a Value)>,
}

/// `data` pretty-printed, line by line, with the values the lines open.
pub(super) fn lines(data: &Value) -> Vec<ValueLine<'_>> {
    let mut out = Vec::new();
    emit(data, ".data".to_owned(), 0, String::new(), false, &mut out);
    out
}

/// The lines that open a value: the cursor's stops.
pub(super) fn stops<'a, 'b>(lines: &'b [ValueLine<'a>]) -> Vec<(usize, &'b (String, &'a Value))> {
    lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| l.value.as_ref().map(|v| (i, v)))
        .collect()
}

fn emit<'a>(
    v: &'a Value,
    path: String,
    depth: usize,
    prefix: String,
    comma: bool,
    out: &mut Vec<ValueLine<'a>>,
) {
    let indent = "  ".repeat(depth);
    let comma = if comma { "," } else { "" };
    let (open, close) = match v {
        Value::Object(m) if !m.is_empty() => ("{", "}"),
        Value::Array(a) if !a.is_empty() => ("[", "]"),
        _ => {
            out.push(ValueLine {
                text: format!("{indent}{prefix}{v}{comma}"),
                value: Some((path, v)),
            });
            return;
        }
    };
    out.push(ValueLine {
        text: format!("{indent}{prefix}{open}"),
        value: Some((path.clone(), v)),
    });
    match v {
        Value::Object(m) => {
            for (i, (k, child)) in m.iter().enumerate() {
                let key = Value::String(k.clone());
                let at = key_path(&path, k);
                emit(
                    child,
                    at,
                    depth + 1,
                    format!("{key}: "),
                    i + 1 < m.len(),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                let at = format!("{path}[{i}]");
                emit(child, at, depth + 1, String::new(), i + 1 < a.len(), out);
            }
        }
        _ => {}
    }
    out.push(ValueLine {
        text: format!("{indent}{close}{comma}"),
        value: None,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_lines_are_serde_json_s_and_each_value_has_its_path() {
        let data =
            json!({"name": "ACME", "q": {"bid": [1, {"x": null}], "e": {}}, "a b": [], "é": 1.5});
        let shown = lines(&data);
        let text: Vec<&str> = shown.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            text.join("\n"),
            serde_json::to_string_pretty(&data).unwrap()
        );
        let paths: Vec<&str> = stops(&shown).iter().map(|(_, (p, _))| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                ".data",
                ".data.name",
                ".data.q",
                ".data.q.bid",
                ".data.q.bid[0]",
                ".data.q.bid[1]",
                ".data.q.bid[1].x",
                ".data.q.e",
                ".data.\"a b\"",
                ".data.\"é\"",
            ]
        );
        assert_eq!(lines(&json!(3)).len(), 1);
    }
}
