//! Small pure helpers of the evaluator: comparing a value with a rule's literal, values as
//! short text, the p99 of samples, and durations as text.

use std::time::Duration;

use serde_json::Value;

use super::parse::{Literal, Op};

/// Longest subject (ticker key) or value text kept, in characters.
const MAX_TEXT: usize = 80;

/// Whether a value keeps the rule. Numbers compare as numbers (numeric strings too); a value
/// that is not a number breaks a numeric rule.
pub(super) fn holds(value: &Value, op: Op, literal: &Literal) -> bool {
    let ordering = match literal {
        Literal::Number(n) => {
            let v = match value {
                Value::Number(v) => v.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok().filter(|v| v.is_finite()),
                _ => None,
            };
            match v {
                Some(v) => v.partial_cmp(n),
                None => return op == Op::Ne,
            }
        }
        Literal::Bool(b) => Some(if value == &Value::Bool(*b) {
            Equal
        } else {
            Less
        }),
        Literal::Null => Some(if value.is_null() { Equal } else { Less }),
        Literal::Text(t) => Some(if text_of(value) == *t { Equal } else { Less }),
    };
    let Some(o) = ordering else {
        return false;
    };
    use std::cmp::Ordering::*;
    match op {
        Op::Lt => o == Less,
        Op::Le => o != Greater,
        Op::Gt => o == Greater,
        Op::Ge => o != Less,
        Op::Eq => o == Equal,
        Op::Ne => o != Equal,
    }
}

/// A value as short text: strings as they are, the rest as JSON, cut.
pub(super) fn text_of(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() <= MAX_TEXT {
        text
    } else {
        let mut cut: String = text.chars().take(MAX_TEXT - 1).collect();
        cut.push('…');
        cut
    }
}

/// The nearest-rank 99th percentile.
pub fn p99(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut sorted: Vec<f64> = values.collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    Some(sorted[((sorted.len() - 1) as f64 * 0.99).round() as usize])
}

/// `1.2s`, `250ms`.
pub fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}
