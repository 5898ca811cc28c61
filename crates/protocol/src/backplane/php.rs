//! Just enough of PHP's `serialize()` format to read an application's id and key out of
//! Reverb's backplane messages, which carry the whole `Laravel\Reverb\Application` object,
//! its secret included.
//!
//! The reader walks the text without building anything: every value it is not asked for
//! (the secret first of all) is skipped by its length and never copied, so the secret
//! cannot be kept, printed or logged by what reads these messages. Input comes from
//! strangers: lengths are checked against what is left, nesting is capped, and every error
//! is a value, never a panic.

/// Deepest nesting of arrays and objects walked.
const MAX_DEPTH: usize = 16;
/// Longest id or key kept, in bytes (the rest of a longer one is not read).
const MAX_KEPT: usize = 200;

/// What is read out of a serialized application: never its secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppIdentity {
    pub id: Option<String>,
    pub key: Option<String>,
}

/// Reads the id and key of a serialized object (`O:…:{…}`) or array. Properties may be
/// public (`id`), protected (`\0*\0id`) or private (`\0Class\0id`).
pub fn app_identity(text: &[u8]) -> Result<AppIdentity, String> {
    let mut r = Reader { text, at: 0 };
    let count = match r.peek() {
        Some(b'O') => {
            r.expect(b'O')?;
            r.expect(b':')?;
            let len = r.number(b':')?;
            r.expect(b'"')?;
            r.take(len)?;
            r.expect(b'"')?;
            r.expect(b':')?;
            r.number(b':')?
        }
        Some(b'a') => {
            r.expect(b'a')?;
            r.expect(b':')?;
            r.number(b':')?
        }
        _ => return Err("not a serialized object".into()),
    };
    r.expect(b'{')?;
    let mut found = AppIdentity::default();
    for _ in 0..count {
        let name = match r.peek() {
            Some(b's') => r.string()?,
            _ => {
                r.skip(1)?;
                continue_value(&mut r)?;
                continue;
            }
        };
        let name = property_name(name);
        let slot = match name {
            b"id" => Some(&mut found.id),
            b"key" => Some(&mut found.key),
            _ => None,
        };
        match slot {
            Some(slot) => *slot = r.scalar_text()?,
            None => r.skip(1)?,
        }
    }
    r.expect(b'}')?;
    Ok(found)
}

/// A key was not a string (an integer index): its value still has to be skipped.
fn continue_value(r: &mut Reader<'_>) -> Result<(), String> {
    r.skip(1)
}

/// `\0*\0id` and `\0Class\0id` are `id`.
fn property_name(name: &[u8]) -> &[u8] {
    match name.first() {
        Some(0) => match name[1..].iter().position(|&b| b == 0) {
            Some(end) => &name[end + 2..],
            None => name,
        },
        _ => name,
    }
}

struct Reader<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn expect(&mut self, b: u8) -> Result<(), String> {
        match self.peek() {
            Some(c) if c == b => {
                self.at += 1;
                Ok(())
            }
            Some(c) => Err(format!(
                "expected {:?} at byte {}, found {:?}",
                b as char, self.at, c as char
            )),
            None => Err(format!("expected {:?} at the end", b as char)),
        }
    }

    /// Digits (an optional sign) up to `end`, which is consumed.
    fn number(&mut self, end: u8) -> Result<usize, String> {
        let start = self.at;
        while let Some(c) = self.peek() {
            if c == end {
                break;
            }
            if !(c.is_ascii_digit() || c == b'-' || c == b'+') || self.at - start > 19 {
                return Err(format!("bad number at byte {start}"));
            }
            self.at += 1;
        }
        let digits = std::str::from_utf8(&self.text[start..self.at]).unwrap_or("");
        let n = digits
            .parse::<i64>()
            .map_err(|_| format!("bad number at byte {start}"))?;
        self.expect(end)?;
        usize::try_from(n).map_err(|_| format!("negative length at byte {start}"))
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(len)
            .filter(|&e| e <= self.text.len())
            .ok_or_else(|| format!("a length of {len} runs past the end"))?;
        let s = &self.text[self.at..end];
        self.at = end;
        Ok(s)
    }

    /// `s:LEN:"…";`, borrowed.
    fn string(&mut self) -> Result<&'a [u8], String> {
        self.expect(b's')?;
        self.expect(b':')?;
        let len = self.number(b':')?;
        self.expect(b'"')?;
        let s = self.take(len)?;
        self.expect(b'"')?;
        self.expect(b';')?;
        Ok(s)
    }

    /// A string or an integer, as text (cut to [`MAX_KEPT`] bytes); another kind is skipped.
    fn scalar_text(&mut self) -> Result<Option<String>, String> {
        match self.peek() {
            Some(b's') => {
                let s = self.string()?;
                let s = &s[..s.len().min(MAX_KEPT)];
                Ok(Some(String::from_utf8_lossy(s).into_owned()))
            }
            Some(b'i') => {
                let start = self.at + 2;
                self.skip(1)?;
                let end = self.at.saturating_sub(1).max(start);
                Ok(Some(
                    String::from_utf8_lossy(&self.text[start.min(end)..end]).into_owned(),
                ))
            }
            _ => {
                self.skip(1)?;
                Ok(None)
            }
        }
    }

    /// Skips one value of any kind, without copying it.
    fn skip(&mut self, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err("nested too deeply".into());
        }
        let kind = self.peek().ok_or("a value expected at the end")?;
        match kind {
            b'N' => {
                self.at += 1;
                self.expect(b';')
            }
            b'b' | b'i' | b'd' | b'r' | b'R' => {
                self.at += 1;
                self.expect(b':')?;
                let rest = &self.text[self.at..];
                let end = rest
                    .iter()
                    .take(64)
                    .position(|&b| b == b';')
                    .ok_or("an unterminated scalar")?;
                self.at += end + 1;
                Ok(())
            }
            b's' => self.string().map(|_| ()),
            b'E' => {
                self.at += 1;
                self.expect(b':')?;
                let len = self.number(b':')?;
                self.expect(b'"')?;
                self.take(len)?;
                self.expect(b'"')?;
                self.expect(b';')
            }
            b'a' | b'O' => {
                self.at += 1;
                self.expect(b':')?;
                let mut count = self.number(b':')?;
                if kind == b'O' {
                    self.expect(b'"')?;
                    self.take(count)?;
                    self.expect(b'"')?;
                    self.expect(b':')?;
                    count = self.number(b':')?;
                }
                self.expect(b'{')?;
                for _ in 0..count {
                    self.skip(depth + 1)?;
                    self.skip(depth + 1)?;
                }
                self.expect(b'}')
            }
            b'C' => {
                self.at += 1;
                self.expect(b':')?;
                let len = self.number(b':')?;
                self.expect(b'"')?;
                self.take(len)?;
                self.expect(b'"')?;
                self.expect(b':')?;
                let len = self.number(b':')?;
                self.expect(b'{')?;
                self.take(len)?;
                self.expect(b'}')
            }
            c => Err(format!(
                "unknown value kind {:?} at byte {}",
                c as char, self.at
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `serialize(new Laravel\Reverb\Application('123', 'reverb-key', 's3cret', …))`
    /// gives (protected properties: `\0*\0name`).
    pub(crate) const APP: &str = "O:26:\"Laravel\\Reverb\\Application\":8:{s:5:\"\0*\0id\";s:3:\"123\";s:6:\"\0*\0key\";s:10:\"reverb-key\";s:9:\"\0*\0secret\";s:6:\"s3cret\";s:15:\"\0*\0pingInterval\";i:60;s:18:\"\0*\0activityTimeout\";i:30;s:17:\"\0*\0allowedOrigins\";a:1:{i:0;s:1:\"*\";}s:17:\"\0*\0maxMessageSize\";i:10000;s:10:\"\0*\0options\";a:0:{}}";

    #[test]
    fn reads_id_and_key_only() {
        let got = app_identity(APP.as_bytes()).unwrap();
        assert_eq!(got.id.as_deref(), Some("123"));
        assert_eq!(got.key.as_deref(), Some("reverb-key"));
        assert!(!format!("{got:?}").contains("s3cret"));
    }

    #[test]
    fn integer_ids_and_public_properties() {
        let text = "a:2:{s:2:\"id\";i:42;s:3:\"key\";s:1:\"k\";}";
        let got = app_identity(text.as_bytes()).unwrap();
        assert_eq!(got.id.as_deref(), Some("42"));
        assert_eq!(got.key.as_deref(), Some("k"));
    }

    #[test]
    fn broken_text_is_an_error_never_a_panic() {
        for cut in 0..APP.len() {
            let _ = app_identity(&APP.as_bytes()[..cut]);
        }
        for bad in [
            "O:99999999999999999999:\"x\":1:{}",
            "a:3:{",
            "O:1:\"x\":1:{s:5:\"\0*\0id\";s:-1:\"\";}",
            "a:1:{i:0;a:1:{i:0;a:1:{i:0;a:1:{i:0;a:1:{i:0;a:1:{i:0;a:1:{i:0;a:1:{i:0;a:1:{i:0;a:1:{i:0;a:1:{i:0;a:1:{i:0;a:1:{i:0;a:1:{i:0;a:1:{i:0;a:1:{i:0;a:1:{i:0;a:1:{i:0;N;}}}}}}}}}}}}}}}}}}}",
        ] {
            assert!(app_identity(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = app_identity(&bytes);
        }
    }
}
