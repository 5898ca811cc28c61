//! A `.env` file read as phpdotenv (v5, which Laravel uses) reads it: comments, `export`,
//! single quotes (literal), double quotes (the escapes `\" \\ \$ \n \r \t \f \v`),
//! `${VAR}` filled in from the environment first and then from the lines above, and empty
//! values. An unquoted value ends at whitespace, and `#` starts a comment anywhere in it;
//! anything but a comment after the whitespace is an error, as in phpdotenv.
//!
//! Pure: the environment comes in as a function. The whole file is checked before any of
//! it is used, and an error names its line, never its text: a `.env` holds secrets.

use std::path::Path;

/// Largest `.env` file read.
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// Most variables in one file.
pub const MAX_VARIABLES: usize = 4096;
/// Largest value once its `${VAR}`s are filled in (they may nest, and double at each line).
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// How long opening and reading the file may take: a FIFO with no writer (or a pipe whose
/// writer never closes it) would otherwise block the command forever.
pub const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// One variable of the file: its name, its value, and the line it starts on.
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub value: String,
    pub line: usize,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values may be secrets.
        write!(f, "{}=… (line {})", self.name, self.line)
    }
}

/// Why a file cannot be read, with its line; the line's text is never part of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvFileError {
    #[error("line {line}: {why}")]
    Line { line: usize, why: &'static str },
    #[error("{0}")]
    File(String),
}

/// Reads and parses `path` (at most [`MAX_FILE_BYTES`], within [`READ_TIMEOUT`]).
pub fn read(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Vec<Entry>, EnvFileError> {
    read_within(path, env, READ_TIMEOUT)
}

/// [`read`] with its deadline. The file is opened and read on a thread of its own: `open`
/// of a FIFO blocks until a writer comes and cannot be interrupted, so past the deadline
/// that thread is left behind (blocked, holding nothing) and the error is returned.
pub fn read_within(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    timeout: std::time::Duration,
) -> Result<Vec<Entry>, EnvFileError> {
    let shown = protocol::safe_text::terminal_safe(&path.display().to_string()).into_owned();
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let owned = path.to_owned();
    let reader = std::thread::Builder::new()
        .name("env-file".into())
        .spawn(move || {
            let _ = tx.send(read_bytes(&owned));
        })
        .map_err(|e| EnvFileError::File(format!("cannot read {shown}: {}", e.kind())))?;
    let bytes = match rx.recv_timeout(timeout) {
        Ok(read) => {
            let _ = reader.join();
            read.map_err(|(what, kind)| {
                EnvFileError::File(format!("cannot {what} {shown}: {kind}"))
            })?
        }
        Err(_) => {
            return Err(EnvFileError::File(format!(
                "cannot read {shown}: nothing to read within {} s (a FIFO or pipe with no writer?)",
                timeout.as_secs_f64()
            )));
        }
    };
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(EnvFileError::File(format!(
            "{shown} is larger than {} KiB: not a .env file",
            MAX_FILE_BYTES / 1024
        )));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        EnvFileError::Line {
            line,
            why: "the line is not UTF-8",
        }
    })?;
    parse(&text, env)
}

/// The file's first [`MAX_FILE_BYTES`] + 1 bytes, or what failed (open or read) and why.
fn read_bytes(path: &Path) -> Result<Vec<u8>, (&'static str, std::io::ErrorKind)> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| ("open", e.kind()))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ("read", e.kind()))?;
    Ok(bytes)
}

/// Parses a `.env` file's text. `env` looks a variable up in the environment, which wins over
/// the file's own lines when `${VAR}` is filled in (phpdotenv's immutable repository).
pub fn parse(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Vec<Entry>, EnvFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut entries: Vec<Entry> = Vec::new();
    let mut chars = Chars {
        rest: text,
        line: 1,
    };
    loop {
        chars.skip_blank();
        if chars.rest.is_empty() {
            break;
        }
        let line = chars.line;
        let err = |why| EnvFileError::Line { line, why };
        if chars.rest.starts_with('#') {
            chars.skip_line();
            continue;
        }
        let raw_line = chars.rest.split('\n').next().unwrap_or("");
        let Some(eq) = raw_line.find('=') else {
            // phpdotenv reads a bare name as a variable without a value; anything else is an error.
            let name = strip_export(raw_line.trim());
            if is_name(name) {
                chars.skip_line();
                continue;
            }
            return Err(err("no `=`: expected NAME=VALUE"));
        };
        let name = strip_export(raw_line[..eq].trim());
        let name = unquote_name(name);
        if !is_name(name) {
            return Err(err("not a variable name (letters, digits, `_` and `.`)"));
        }
        let name = name.to_owned();
        chars.advance(eq + 1);
        let value = chars.value().map_err(|why| EnvFileError::Line {
            line: if why.1 { line } else { chars.line },
            why: why.0,
        })?;
        let value = fill(&value, &|n| {
            env(n).or_else(|| {
                entries
                    .iter()
                    .rev()
                    .find(|e| e.name == n)
                    .map(|e| e.value.clone())
            })
        })
        .map_err(err)?;
        if entries.len() >= MAX_VARIABLES {
            return Err(err("more variables than a .env file holds (4096)"));
        }
        entries.push(Entry { name, value, line });
    }
    Ok(entries)
}

fn strip_export(name: &str) -> &str {
    match name.strip_prefix("export") {
        Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start(),
        _ => name,
    }
}

fn unquote_name(name: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = name.strip_prefix(q).and_then(|n| n.strip_suffix(q)) {
            return inner;
        }
    }
    name
}

fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// A value's characters, each marked when a `$` there may start `${VAR}`.
type Marked = Vec<(char, bool)>;

struct Chars<'a> {
    rest: &'a str,
    line: usize,
}

impl Chars<'_> {
    fn advance(&mut self, bytes: usize) {
        self.line += self.rest[..bytes].matches('\n').count();
        self.rest = &self.rest[bytes..];
    }

    fn skip_blank(&mut self) {
        let n = self.rest.len() - self.rest.trim_start().len();
        self.advance(n);
    }

    fn skip_line(&mut self) {
        let n = self.rest.find('\n').map_or(self.rest.len(), |i| i + 1);
        self.advance(n);
    }

    fn next(&mut self) -> Option<char> {
        let c = self.rest.chars().next()?;
        self.advance(c.len_utf8());
        Some(c)
    }

    /// The value after `=`, up to the end of its line (or of its quotes, which may span
    /// lines). The error's flag says whether it is the entry's first line.
    fn value(&mut self) -> Result<Marked, (&'static str, bool)> {
        #[derive(PartialEq)]
        enum S {
            Initial,
            Unquoted,
            Single,
            Double,
            Escape,
            Space,
            Comment,
        }
        let mut s = S::Initial;
        let mut out: Marked = Vec::new();
        // Spaces and tabs between `=` and the value are not part of it.
        let lead = self.rest.len() - self.rest.trim_start_matches([' ', '\t']).len();
        self.advance(lead);
        while let Some(c) = self.rest.chars().next() {
            if c == '\n' && !matches!(s, S::Single | S::Double | S::Escape) {
                self.advance(1);
                break;
            }
            self.next();
            s = match s {
                S::Initial => match c {
                    '\'' => S::Single,
                    '"' => S::Double,
                    '#' => S::Comment,
                    c if c.is_whitespace() => S::Space,
                    c => {
                        out.push((c, c == '$'));
                        S::Unquoted
                    }
                },
                S::Unquoted => match c {
                    '#' => S::Comment,
                    c if c.is_whitespace() => S::Space,
                    c => {
                        out.push((c, c == '$'));
                        S::Unquoted
                    }
                },
                S::Single => match c {
                    '\'' => S::Space,
                    c => {
                        out.push((c, false));
                        S::Single
                    }
                },
                S::Double => match c {
                    '"' => S::Space,
                    '\\' => S::Escape,
                    c => {
                        out.push((c, c == '$'));
                        S::Double
                    }
                },
                S::Escape => {
                    let c = match c {
                        '"' | '\\' | '$' => c,
                        'n' => '\n',
                        'r' => '\r',
                        't' => '\t',
                        'f' => '\u{c}',
                        'v' => '\u{b}',
                        _ => {
                            return Err((
                                "an escape phpdotenv does not know (use \\\\ for a backslash)",
                                false,
                            ));
                        }
                    };
                    out.push((c, false));
                    S::Double
                }
                S::Space => match c {
                    '#' => S::Comment,
                    c if c.is_whitespace() => S::Space,
                    _ => {
                        return Err((
                            "whitespace inside an unquoted value, or text after the closing quote (quote the whole value)",
                            false,
                        ));
                    }
                },
                S::Comment => S::Comment,
            };
        }
        match s {
            S::Single | S::Double | S::Escape => Err(("a quote that is never closed", true)),
            _ => Ok(out),
        }
    }
}

/// Fills in each `${NAME}` whose `$` may start one; an unknown name stays as it is written,
/// as in phpdotenv.
fn fill(value: &Marked, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, &'static str> {
    let mut out = String::new();
    let mut i = 0;
    while i < value.len() {
        let (c, may) = value[i];
        if may && value.get(i + 1).map(|v| v.0) == Some('{') {
            let name: String = value[i + 2..]
                .iter()
                .map(|v| v.0)
                .take_while(|&c| c != '}')
                .collect();
            let closed = value.get(i + 2 + name.chars().count()).map(|v| v.0) == Some('}');
            if closed && is_name(&name) {
                match lookup(&name) {
                    Some(v) => out.push_str(&v),
                    None => {
                        out.push_str("${");
                        out.push_str(&name);
                        out.push('}');
                    }
                }
                i += 3 + name.chars().count();
                if out.len() > MAX_VALUE_BYTES {
                    return Err("the value is larger than 64 KiB once its ${VAR}s are filled in");
                }
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    if out.len() > MAX_VALUE_BYTES {
        return Err("the value is larger than 64 KiB");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn vars(text: &str) -> Vec<(String, String)> {
        parse(text, &no_env)
            .unwrap()
            .into_iter()
            .map(|e| (e.name, e.value))
            .collect()
    }

    fn one(text: &str) -> String {
        let v = vars(text);
        assert_eq!(v.len(), 1, "{text:?}");
        v[0].1.clone()
    }

    fn error_line(text: &str) -> usize {
        match parse(text, &no_env) {
            Err(EnvFileError::Line { line, .. }) => line,
            other => panic!("{text:?}: {other:?}"),
        }
    }

    #[test]
    fn laravel_env_example() {
        let text = "APP_NAME=Laravel\n\
            # Reverb\n\
            BROADCAST_CONNECTION=reverb\n\
            \n\
            REVERB_APP_ID=123\n\
            REVERB_APP_KEY=app-key\n\
            REVERB_APP_SECRET=\"s3cr#t\"\n\
            REVERB_HOST=\"localhost\"\n\
            REVERB_PORT=8080\n\
            REVERB_SCHEME=http\n\
            \n\
            VITE_APP_NAME=\"${APP_NAME}\"\n\
            VITE_REVERB_APP_KEY=\"${REVERB_APP_KEY}\"\n\
            VITE_REVERB_HOST=\"${REVERB_HOST}\"\n\
            VITE_REVERB_PORT=\"${REVERB_PORT}\"\n\
            VITE_REVERB_SCHEME=\"${REVERB_SCHEME}\"\n";
        let v = vars(text);
        let get = |n: &str| v.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("REVERB_APP_SECRET"), Some("s3cr#t"));
        assert_eq!(get("VITE_REVERB_APP_KEY"), Some("app-key"));
        assert_eq!(get("VITE_REVERB_PORT"), Some("8080"));
        assert_eq!(get("VITE_APP_NAME"), Some("Laravel"));
        assert_eq!(v.len(), 13);
    }

    #[test]
    fn quotes_escapes_comments_export_and_empty_values() {
        assert_eq!(one("A=plain # comment"), "plain");
        assert_eq!(one("A=plain#comment"), "plain");
        assert_eq!(error_line("A='it''s'"), 1);
        assert_eq!(one("A='lit ${B} \\n'"), "lit ${B} \\n");
        assert_eq!(one(r#"A="a\"b\\c\$d\n""#), "a\"b\\c$d\n");
        assert_eq!(one(r#"A="x" # after"#), "x");
        assert_eq!(one("export A=1"), "1");
        assert_eq!(one("  export   A = 1  "), "1");
        assert_eq!(one("A="), "");
        assert_eq!(one("A=\"\""), "");
        assert_eq!(one("A=''"), "");
        assert_eq!(one("A= # only a comment"), "");
        assert_eq!(one("A=\"two\nlines\""), "two\nlines");
        assert_eq!(one("A=$notavar"), "$notavar");
        assert_eq!(one("A=${UNKNOWN}"), "${UNKNOWN}");
        assert_eq!(one("exportA=1"), "1");
        assert_eq!(vars("exportA=1")[0].0, "exportA");
        assert_eq!(one("A=a=b"), "a=b");
        assert_eq!(one("A=x\r\n"), "x");
        assert!(vars("\n# only\n\n   \nBARE\n").is_empty());
    }

    #[test]
    fn variables_come_from_the_environment_first_then_the_lines_above() {
        let env = |n: &str| (n == "HOST").then(|| "from-env".to_owned());
        let e = parse(
            "HOST=from-file\nA=${HOST}\nB=\"${C}\"\nC=c\nD=${C}/${C}",
            &env,
        )
        .unwrap();
        let get = |n: &str| e.iter().find(|x| x.name == n).unwrap().value.clone();
        assert_eq!(get("A"), "from-env");
        assert_eq!(get("B"), "${C}");
        assert_eq!(get("D"), "c/c");
        assert_eq!(e.iter().find(|x| x.name == "C").unwrap().line, 4);
    }

    #[test]
    fn errors_name_the_line_and_never_the_text() {
        assert_eq!(error_line("A=1\nB=two words\n"), 2);
        assert_eq!(error_line("A=1\n\nB=\"x\" y\n"), 3);
        assert_eq!(error_line("A=1\nB=\"never closed\nC=2\n"), 2);
        assert_eq!(error_line("A=\"bad \\q escape\""), 1);
        assert_eq!(error_line("A=1\nnot a line\n"), 2);
        assert_eq!(error_line("A=1\nB-C=1\n"), 2);
        assert_eq!(error_line("A=1\n=x\n"), 2);
        let e = parse("A=ok\nSECRET=hunter2 hunter3", &no_env).unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("line 2:"), "{text}");
        assert!(!text.contains("hunter"), "{text}");
        assert!(!format!("{e:?}").contains("hunter"));
        let entries = parse("SECRET=hunter2", &no_env).unwrap();
        assert!(!format!("{entries:?}").contains("hunter"));
    }

    #[test]
    fn values_that_double_at_each_line_are_cut_off() {
        let mut text = "A0=xxxxxxxxxxxxxxxx\n".to_owned();
        for i in 1..40 {
            text.push_str(&format!("A{i}=${{A{}}}${{A{}}}\n", i - 1, i - 1));
        }
        let e = parse(&text, &no_env).unwrap_err();
        assert!(e.to_string().contains("64 KiB"), "{e}");
    }

    #[test]
    fn a_fifo_with_no_writer_is_refused_within_the_deadline() {
        let dir = std::env::temp_dir().join(format!("tickertape-envfifo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo.env");
        let _ = std::fs::remove_file(&fifo);
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let started = std::time::Instant::now();
        let read = read_within(&fifo, &no_env, std::time::Duration::from_millis(300));
        assert!(started.elapsed() < std::time::Duration::from_secs(3));
        match read {
            Err(EnvFileError::File(why)) => assert!(why.contains("within"), "{why}"),
            other => panic!("{other:?}"),
        }
        let _ = std::fs::remove_file(&fifo);
    }

    #[test]
    fn files_too_large_or_not_utf8_are_refused() {
        let dir = std::env::temp_dir().join(format!("tickertape-envfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let big = dir.join("big.env");
        std::fs::write(&big, vec![b'#'; (MAX_FILE_BYTES + 1) as usize]).unwrap();
        assert!(matches!(read(&big, &no_env), Err(EnvFileError::File(_))));
        let latin = dir.join("latin.env");
        std::fs::write(&latin, b"A=1\nB=caf\xe9\n").unwrap();
        assert_eq!(
            read(&latin, &no_env),
            Err(EnvFileError::Line {
                line: 2,
                why: "the line is not UTF-8"
            })
        );
        assert!(matches!(
            read(&dir.join("missing.env"), &no_env),
            Err(EnvFileError::File(_))
        ));
    }
}
