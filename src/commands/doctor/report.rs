//! A hop's result, and how it is written: a line per hop (✓ ✗ ! -, or OK FAIL WARN SKIP
//! with `--ascii`), what it saw below it, and for a failure what happened, the cause and the
//! fix; or one JSON object per hop with `--json`. Every piece goes through the terminal-safe
//! formatter.

use std::io::Write;

use client::explain::Explanation;
use protocol::safe_text::terminal_safe;

/// How a hop went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    /// Checked, and healthy.
    Pass,
    /// Checked, and broken.
    Fail,
    /// Checked, and working, but something will bite (a browser-facing `localhost`).
    Warn,
    /// Not checked: not asked for, or an earlier hop it needs failed.
    Skip,
}

/// One hop: its name, how it went, what it saw, and, when it failed, why.
#[derive(Debug, Clone)]
pub(crate) struct Hop {
    pub name: &'static str,
    pub status: Status,
    /// What it saw, a line each (the first is the summary).
    pub saw: Vec<String>,
    pub explanation: Option<Explanation>,
    /// How long it took, in milliseconds.
    pub ms: Option<f64>,
}

impl Hop {
    pub(crate) fn new(name: &'static str, status: Status, summary: impl Into<String>) -> Hop {
        Hop {
            name,
            status,
            saw: vec![summary.into()],
            explanation: None,
            ms: None,
        }
    }

    pub(crate) fn pass(name: &'static str, summary: impl Into<String>) -> Hop {
        Hop::new(name, Status::Pass, summary)
    }

    pub(crate) fn skip(name: &'static str, why: impl Into<String>) -> Hop {
        Hop::new(name, Status::Skip, why)
    }

    pub(crate) fn fail(name: &'static str, x: Explanation) -> Hop {
        Hop {
            explanation: Some(x.clone()),
            ..Hop::new(name, Status::Fail, x.what)
        }
    }

    pub(crate) fn line(mut self, text: impl Into<String>) -> Hop {
        self.saw.push(text.into());
        self
    }

    pub(crate) fn took(mut self, d: std::time::Duration) -> Hop {
        self.ms = Some((d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0);
        self
    }

    pub(crate) fn failed(&self) -> bool {
        self.status == Status::Fail
    }
}

/// The forms of the app secret that must never be written: as it is, in hex, in base64 and
/// URL-encoded. A server (or an auth endpoint) may echo it back, and a `.env` line may build
/// another setting from it (`REVERB_HOST=${REVERB_APP_SECRET}`).
#[derive(Clone, Default)]
pub(crate) struct Redact {
    forms: Vec<String>,
}

impl std::fmt::Debug for Redact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redact({} forms)", self.forms.len())
    }
}

/// Shorter forms are not searched for: they would blank out ordinary words.
const REDACT_MIN: usize = 4;

impl Redact {
    pub(crate) fn new(secret: Option<&str>) -> Redact {
        let Some(secret) = secret.filter(|s| s.len() >= REDACT_MIN) else {
            return Redact::default();
        };
        let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
        // Base64 without its padding also finds the padded form; then its URL-safe alphabet.
        let b64 = protocol::crypto::to_base64(secret.as_bytes());
        let b64 = b64.trim_end_matches('=');
        let url_safe: String = b64
            .chars()
            .map(|c| match c {
                '+' => '-',
                '/' => '_',
                c => c,
            })
            .collect();
        let mut forms = vec![
            secret.to_ascii_lowercase(),
            hex,
            b64.to_ascii_lowercase(),
            url_safe.to_ascii_lowercase(),
            form_urlencoded::byte_serialize(secret.as_bytes())
                .collect::<String>()
                .to_ascii_lowercase(),
        ];
        // Longest first, so a form inside another is not left half-hidden.
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        forms.dedup();
        Redact { forms }
    }

    /// `text` with every form of the secret (in any ASCII case) replaced by `***`.
    pub(crate) fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for form in &self.forms {
            // ASCII lower-casing keeps byte offsets, so a hit's range is the original's.
            while let Some(at) = out.to_ascii_lowercase().find(form.as_str()) {
                out.replace_range(at..at + form.len(), "***");
            }
        }
        out
    }

    /// The hop with every text it writes redacted.
    pub(crate) fn hop(&self, hop: &Hop) -> Hop {
        let mut hop = hop.clone();
        if self.forms.is_empty() {
            return hop;
        }
        for line in &mut hop.saw {
            *line = self.text(line);
        }
        if let Some(x) = &mut hop.explanation {
            x.what = self.text(&x.what);
            x.cause = self.text(&x.cause);
            x.fix = self.text(&x.fix);
        }
        hop
    }
}

/// How hops are written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    pub json: bool,
    pub ascii: bool,
    pub color: bool,
}

const NAME_WIDTH: usize = 11;

impl Style {
    fn mark(self, status: Status) -> (&'static str, &'static str) {
        let (unicode, ascii, color) = match status {
            Status::Pass => ("✓", "OK  ", "\x1b[32m"),
            Status::Fail => ("✗", "FAIL", "\x1b[31m"),
            Status::Warn => ("!", "WARN", "\x1b[33m"),
            Status::Skip => ("-", "SKIP", "\x1b[2m"),
        };
        (if self.ascii { ascii } else { unicode }, color)
    }

    /// Writes one hop.
    pub(crate) fn write(self, out: &mut Vec<u8>, hop: &Hop) {
        if self.json {
            let x = hop.explanation.as_ref();
            let value = serde_json::json!({
                "hop": hop.name,
                "status": hop.status,
                "ms": hop.ms,
                "saw": hop.saw,
                "what": x.map(|x| &x.what),
                "cause": x.map(|x| &x.cause),
                "fix": x.map(|x| &x.fix),
            });
            let _ = observe::output::ndjson::write_line(out, &value);
            return;
        }
        let (mark, color) = self.mark(hop.status);
        let (on, off) = if self.color {
            (color, "\x1b[0m")
        } else {
            ("", "")
        };
        let indent = " ".repeat(mark.chars().count() + 1 + NAME_WIDTH + 1);
        let took = hop
            .ms
            .filter(|_| hop.status != Status::Skip)
            .map(|ms| format!(" ({ms} ms)"))
            .unwrap_or_default();
        let mut lines = hop.saw.iter();
        let first = lines.next().map(String::as_str).unwrap_or_default();
        let _ = writeln!(
            out,
            "{on}{mark}{off} {:<NAME_WIDTH$} {}{took}",
            hop.name,
            terminal_safe(first)
        );
        for line in lines {
            let _ = writeln!(out, "{indent}{}", terminal_safe(line));
        }
        if let Some(x) = &hop.explanation {
            if !hop.saw.iter().any(|s| s == &x.what) {
                let _ = writeln!(out, "{indent}{}", terminal_safe(&x.what));
            }
            let _ = writeln!(out, "{indent}cause: {}", terminal_safe(&x.cause));
            let _ = writeln!(out, "{indent}fix:   {}", terminal_safe(&x.fix));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_is_redacted_in_every_form_and_case() {
        let secret = "S3cr3t/Value+x";
        let r = Redact::new(Some(secret));
        let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
        let b64 = protocol::crypto::to_base64(secret.as_bytes());
        let url: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        for leak in [
            secret.to_owned(),
            secret.to_ascii_lowercase(),
            hex.to_ascii_uppercase(),
            b64,
            url,
        ] {
            let hop = Hop::pass("connect", format!("bad {leak} here")).line(format!("ws-{leak}.x"));
            let shown = r.hop(&hop);
            for line in &shown.saw {
                assert!(!line.contains(&leak), "{line}");
                assert!(line.contains("***"), "{line}");
            }
        }
        assert_eq!(Redact::new(Some("abc")).text("abc"), "abc");
        assert_eq!(Redact::new(None).text("anything"), "anything");
    }

    fn text(style: Style, hop: &Hop) -> String {
        let mut out = Vec::new();
        style.write(&mut out, hop);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn hops_read_as_marks_names_and_explanations() {
        let style = Style {
            json: false,
            ascii: false,
            color: false,
        };
        let hop = Hop::fail("tcp", client::explain::refused("127.0.0.1:8080"))
            .line("from REVERB_PORT \u{1b}[2J");
        let t = text(style, &hop);
        assert!(
            t.starts_with("✗ tcp         connection refused on 127.0.0.1:8080\n"),
            "{t}"
        );
        assert!(t.contains("fix:   is a server running?"), "{t}");
        assert!(!t.contains('\u{1b}'), "{t}");
        let ascii = text(
            Style {
                ascii: true,
                ..style
            },
            &Hop::pass("dns", "ok"),
        );
        assert!(ascii.starts_with("OK   dns"), "{ascii}");
        let json = text(
            Style {
                json: true,
                ..style
            },
            &hop,
        );
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["status"], "fail");
        assert_eq!(v["hop"], "tcp");
        assert!(v["fix"].as_str().unwrap().contains("tickertape serve"));
    }
}
