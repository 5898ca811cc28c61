//! Turning engine items into text: NDJSON for pipes, readable lines for people. Everything
//! from the wire is made safe for a terminal first.

pub mod alerts;
pub mod json_text;
pub mod lines;
pub mod ndjson;
pub mod safe_lines;
pub mod summary;
pub mod webhook_items;
pub mod webhooks;
pub mod writer;
