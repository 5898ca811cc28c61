//! A path into an event's JSON data, as the command line writes it: a JSON pointer
//! (`/quote/price`) or a dotted path (`quote.price`). Pure; the dashboard's bindings, the
//! latency field and the expectations all read values through it.

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
        let pointer = if text.starts_with('/') {
            text.to_owned()
        } else {
            text.split('.')
                .map(|part| format!("/{}", part.replace('~', "~0").replace('/', "~1")))
                .collect()
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
