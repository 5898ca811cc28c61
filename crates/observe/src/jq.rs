//! jq expressions over events, with jaq (jq in pure Rust): `watch --where`, the dashboard's
//! `f` filter, and anything else that asks "does this event pass?". The input is the event
//! as `watch --json` writes it (`time`, `channel`, `event`, `data`, …); an event passes when
//! the expression's first output is truthy (not `false`, not `null`). No output, or an
//! error, does not pass; an error is the caller's to count.
//!
//! An expression runs once per event, and it comes from a user (a flag, a view in a config
//! file, the filter being typed), so its cost is bounded before it ever runs, by what it may
//! say:
//! - at most [`MAX_EXPR`] bytes;
//! - no definitions (`def`: no recursion), no `reduce`/`foreach`, no variables (`as $x`,
//!   `$__loc__`, `label`), no assignments; calls only to the builtins of [`ALLOWED`], none of
//!   which loops on its own (no `range`, `repeat`, `while`, `recurse(f)`, `input`, `env`,
//!   `fromjson`, …);
//! - `*` only with a number written in the expression (`"x" * 1e9` would be a gigabyte);
//! - never two generators combined pairwise (`.[] == .[]`, `{a: .[], b: .[]}`): that is
//!   quadratic in the event's size;
//! - a static estimate of the work, as a multiple of the event's size ([`cost`]), of at most
//!   [`MAX_COST`]: `..` counts as the deepest JSON there is (128 levels), each `,` adds,
//!   each `|` multiplies.
//!
//! So the work and the memory of one evaluation are at most about [`MAX_COST`] times the
//! event's size (itself capped by `--max-message`), and the evaluation's depth is the
//! expression's and the data's (JSON nests at most 128 deep here, as serde_json reads it).

use jaq_core::load::lex::StrPart;
use jaq_core::load::parse::{BinaryOp, Term};
use jaq_core::load::{Arena, File, Lexer, Loader, Parser};
use jaq_core::path::Part;
use jaq_core::{Compiler, Ctx, Native, ValT, Vars, data, ops, unwrap_valr};
use jaq_json::Val;

mod fast;

/// Longest expression taken, in bytes.
pub const MAX_EXPR: usize = 256;

/// Most work an expression may do, as a multiple of the event's size (see [`cost`]).
pub const MAX_COST: u64 = 256;

/// How deep `..` may go: serde_json refuses JSON nested deeper than 128.
const DEPTH: u64 = 128;

/// Longest error text kept (it may quote the event's values).
const MAX_ERROR: usize = 200;

/// The builtins an expression may call, and the multiple of the input's size each may cost
/// (`paths` lists every path: as deep as `..`).
pub const ALLOWED: &[(&str, u64)] = &[
    ("true", 1),
    ("false", 1),
    ("null", 1),
    ("not", 1),
    ("select", 1),
    ("empty", 1),
    ("error", 1),
    ("length", 1),
    ("utf8bytelength", 1),
    ("type", 1),
    ("keys", 2),
    ("keys_unsorted", 1),
    ("has", 1),
    ("in", 1),
    ("contains", 1),
    ("inside", 1),
    ("startswith", 1),
    ("endswith", 1),
    ("ltrimstr", 1),
    ("rtrimstr", 1),
    ("ascii_downcase", 1),
    ("ascii_upcase", 1),
    ("test", 1),
    ("tostring", 2),
    ("tojson", 2),
    ("tonumber", 1),
    ("map", 1),
    ("map_values", 1),
    ("any", 1),
    ("all", 1),
    ("add", 1),
    ("min", 1),
    ("max", 1),
    ("first", 1),
    ("last", 1),
    ("limit", 1),
    ("values", 1),
    ("nulls", 1),
    ("booleans", 1),
    ("numbers", 1),
    ("strings", 1),
    ("arrays", 1),
    ("objects", 1),
    ("iterables", 1),
    ("scalars", 1),
    ("isempty", 1),
    ("to_entries", 2),
    ("from_entries", 2),
    ("with_entries", 2),
    ("floor", 1),
    ("ceil", 1),
    ("round", 1),
    ("fabs", 1),
    ("abs", 1),
    ("sqrt", 1),
    ("isnan", 1),
    ("split", 1),
    ("join", 2),
    ("getpath", 1),
    ("paths", DEPTH),
    ("leaf_paths", DEPTH),
    ("del", 1),
    ("sort", 1),
    ("sort_by", 1),
    ("unique", 1),
    ("unique_by", 1),
    ("group_by", 1),
    ("min_by", 1),
    ("max_by", 1),
    ("reverse", 1),
    ("flatten", 1),
    ("index", 1),
    ("rindex", 1),
    ("indices", 1),
    ("ascii", 1),
    ("explode", 2),
    ("implode", 1),
];

/// The builtins that yield several outputs on their own.
const GENERATORS: &[&str] = &["paths", "leaf_paths"];

type D = data::JustLut<Val>;

/// Which engine answered an expression on one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The simple forms' one pass over the event (`jq/fast.rs`).
    Fast,
    /// jaq itself.
    Jaq,
}

/// A checked, compiled expression (cheap to clone: the program is shared).
#[derive(Clone)]
pub struct Jq {
    text: String,
    filter: std::sync::Arc<jaq_core::compile::Filter<Native<D>>>,
    /// The simple forms (`.path OP literal`, `and`, `or`, `not`), answered without reading
    /// the whole line into jaq's values.
    fast: Option<std::sync::Arc<fast::Fast>>,
}

impl std::fmt::Debug for Jq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Jq({:?})", self.text)
    }
}

impl PartialEq for Jq {
    fn eq(&self, other: &Jq) -> bool {
        self.text == other.text
    }
}

/// Why an expression was refused, and where (a character column, from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JqError {
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for JqError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for JqError {}

/// Whether the dashboard's filter text is a jq expression: it starts with `.` or
/// `select(`. Everything else is the simple syntax (`channel:X event:X field=value text`).
pub fn looks_like_jq(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with('.') || t.starts_with("select(")
}

/// The character column (from 1) of `part`, a slice of `whole`, or the end.
fn column(whole: &str, part: &str) -> usize {
    let start = whole.as_ptr() as usize;
    let at = (part.as_ptr() as usize)
        .checked_sub(start)
        .filter(|&at| at <= whole.len() && whole.is_char_boundary(at))
        .unwrap_or(whole.len());
    whole[..at].chars().count() + 1
}

impl Jq {
    /// Checks and compiles `text`.
    pub fn parse(text: &str) -> Result<Jq, JqError> {
        let code = text.trim();
        if code.is_empty() {
            return Err(JqError {
                column: 1,
                message: "the expression is empty".into(),
            });
        }
        if code.len() > MAX_EXPR {
            return Err(JqError {
                column: code[..MAX_EXPR.min(code.len())].chars().count(),
                message: format!("an expression is at most {MAX_EXPR} bytes"),
            });
        }
        let tokens = Lexer::new(code).lex().map_err(|errors| {
            let (expect, at) = errors
                .into_iter()
                .next()
                .unwrap_or_else(|| (jaq_core::load::lex::Expect::Delim(""), &code[code.len()..]));
            JqError {
                column: column(code, at),
                message: format!("expected {}", expect.as_str()),
            }
        })?;
        let term = Parser::new(&tokens).parse(|p| p.term()).map_err(|errors| {
            match errors.into_iter().next() {
                Some((expect, found)) => {
                    let at = jaq_core::load::lex::Token::opt_as_str(found, code);
                    let found = match at {
                        "" => "the end".to_owned(),
                        s => format!("{:?}", s.chars().take(20).collect::<String>()),
                    };
                    JqError {
                        column: column(code, at),
                        message: format!("expected {}, found {found}", expect.as_str()),
                    }
                }
                None => JqError {
                    column: 1,
                    message: "cannot parse the expression".into(),
                },
            }
        })?;
        let shape = check(code, &term)?;
        let fast = fast::Fast::new(&term).map(std::sync::Arc::new);
        if shape.cost > MAX_COST {
            return Err(JqError {
                column: 1,
                message: format!(
                    "the expression may cost {}× the event's size per event (at most {MAX_COST}×): \
                     fewer `..`, `,` or `|` stages",
                    shape.cost.min(u64::from(u32::MAX))
                ),
            });
        }
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs::<D>()
            .chain(jaq_std::funs::<D>())
            .chain(jaq_json::funs::<D>());
        let arena = Arena::default();
        let modules = Loader::new(defs)
            .load(&arena, File { code, path: () })
            .map_err(|_| JqError {
                column: 1,
                message: "cannot parse the expression".into(),
            })?;
        let filter = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errors| {
                let first = errors
                    .into_iter()
                    .flat_map(|(_, e)| e)
                    .next()
                    .map(|(name, _)| name);
                match first {
                    Some(name) => JqError {
                        column: column(code, name),
                        message: format!("{name} is not defined with these arguments"),
                    },
                    None => JqError {
                        column: 1,
                        message: "cannot compile the expression".into(),
                    },
                }
            })?;
        Ok(Jq {
            text: code.to_owned(),
            filter: std::sync::Arc::new(filter),
            fast,
        })
    }

    /// The expression as given (trimmed).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the event written as `line` (a JSON object, as `watch --json` writes it)
    /// passes. An error (the line is not JSON, or the expression fails on it: a string
    /// compared with `>`, `error`) comes back as its text, cut short; the text may quote the
    /// event, so it is for the terminal-safe formatter.
    pub fn passes(&self, line: &[u8]) -> Result<bool, String> {
        self.answer(line).0
    }

    /// [`Jq::passes`], and which engine answered: the fast path when the expression has a
    /// fast form and it could answer, else jaq.
    pub fn answer(&self, line: &[u8]) -> (Result<bool, String>, Engine) {
        if let Some(pass) = self.fast.as_ref().and_then(|f| f.passes(line)) {
            return (Ok(pass), Engine::Fast);
        }
        (self.passes_jaq(line), Engine::Jaq)
    }

    /// Whether the expression has a fast form (see `jq/fast.rs`).
    pub fn is_fast(&self) -> bool {
        self.fast.is_some()
    }

    /// [`Jq::passes`], always through jaq: what the fast path is checked against.
    pub fn passes_jaq(&self, line: &[u8]) -> Result<bool, String> {
        let input: Val = serde_json::from_slice(line).map_err(|e| cut(&e.to_string()))?;
        self.passes_val(input)
    }

    /// [`Jq::passes`] on a value.
    pub fn passes_value(&self, value: &serde_json::Value) -> Result<bool, String> {
        self.answer_value(value).0
    }

    /// [`Jq::answer`] on a value: the fast path reads only the values its paths reach.
    pub fn answer_value(&self, value: &serde_json::Value) -> (Result<bool, String>, Engine) {
        use serde::Deserialize;
        if let Some(pass) = self.fast.as_ref().and_then(|f| f.passes_value(value)) {
            return (Ok(pass), Engine::Fast);
        }
        let input = Val::deserialize(value).map_err(|e| cut(&e.to_string()));
        (input.and_then(|i| self.passes_val(i)), Engine::Jaq)
    }

    fn passes_val(&self, input: Val) -> Result<bool, String> {
        let ctx = Ctx::<D>::new(&self.filter.lut, Vars::new([]));
        let mut out = self.filter.id.run((ctx, input)).map(unwrap_valr);
        match out.next() {
            None => Ok(false),
            Some(Ok(v)) => Ok(v.as_bool()),
            Some(Err(e)) => Err(cut(&e.to_string())),
        }
    }
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(MAX_ERROR) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// What the check learns of a term: its cost (the work and the size of all its outputs
/// together, as a multiple of its input's size) and whether it may yield several outputs.
#[derive(Debug, Clone, Copy)]
struct Shape {
    cost: u64,
    many: bool,
}

impl Shape {
    const ONE: Shape = Shape {
        cost: 1,
        many: false,
    };
    /// A constant: no bigger than the expression.
    const CONST: Shape = Shape {
        cost: 0,
        many: false,
    };
}

/// An expression's estimated cost, for tests and the docs.
pub fn cost(text: &str) -> Option<u64> {
    let tokens = Lexer::new(text).lex().ok()?;
    let term = Parser::new(&tokens).parse(|p| p.term()).ok()?;
    check(text, &term).ok().map(|s| s.cost)
}

fn refuse(code: &str, at: &str, message: impl Into<String>) -> JqError {
    JqError {
        column: column(code, at),
        message: message.into(),
    }
}

/// Several terms evaluated on the same input, each output of one with each of the others'
/// (an operator's two sides, an object's values, a call's arguments): at most one may
/// yield several outputs.
fn pairwise(code: &str, at: &str, shapes: &[Shape]) -> Result<(), JqError> {
    if shapes.iter().filter(|s| s.many).count() > 1 {
        return Err(refuse(
            code,
            at,
            "two generators (`.[]`, `..`, `,`) combined pairwise cost the square of the event's \
             size; pipe one into the other instead",
        ));
    }
    Ok(())
}

fn sum(shapes: &[Shape]) -> u64 {
    shapes.iter().fold(0u64, |a, s| a.saturating_add(s.cost))
}

fn product(shapes: &[Shape]) -> u64 {
    shapes
        .iter()
        .fold(1u64, |a, s| a.saturating_mul(s.cost.max(1)))
}

/// Walks a term: refuses what may loop, recurse or blow up, and estimates the rest.
fn check(code: &str, term: &Term<&str>) -> Result<Shape, JqError> {
    Ok(match term {
        Term::Id => Shape::ONE,
        Term::Recurse => Shape {
            cost: DEPTH,
            many: true,
        },
        Term::Num(_) => Shape::CONST,
        Term::Str(format, parts) => {
            if let Some(f) = format {
                return Err(refuse(
                    code,
                    f,
                    "string formats (`@…`) are not available here",
                ));
            }
            let mut shapes = Vec::new();
            for p in parts {
                if let StrPart::Term(t) = p {
                    shapes.push(check(code, t)?);
                }
            }
            pairwise(code, code, &shapes)?;
            if shapes.is_empty() {
                return Ok(Shape::CONST);
            }
            Shape {
                cost: sum(&shapes).saturating_add(1),
                many: shapes.iter().any(|s| s.many),
            }
        }
        Term::Arr(None) => Shape::CONST,
        Term::Arr(Some(t)) => Shape {
            cost: check(code, t)?.cost.saturating_add(1),
            many: false,
        },
        Term::Obj(entries) => {
            let mut shapes = Vec::new();
            for (k, v) in entries {
                shapes.push(check(code, k)?);
                if let Some(v) = v {
                    shapes.push(check(code, v)?);
                }
            }
            pairwise(code, code, &shapes)?;
            Shape {
                cost: sum(&shapes).saturating_add(1),
                many: shapes.iter().any(|s| s.many),
            }
        }
        Term::Neg(t) => check(code, t)?,
        Term::BinOp(l, op, r) => {
            let (a, b) = (check(code, l)?, check(code, r)?);
            match op {
                BinaryOp::Pipe(Some(_)) => {
                    return Err(refuse(
                        code,
                        code,
                        "variables (`as $x`) are not available here",
                    ));
                }
                BinaryOp::Pipe(None) => Shape {
                    cost: product(&[a, b]),
                    many: a.many || b.many,
                },
                BinaryOp::Comma => Shape {
                    cost: sum(&[a, b]),
                    many: true,
                },
                BinaryOp::Alt => Shape {
                    cost: sum(&[a, b]),
                    many: a.many || b.many,
                },
                BinaryOp::Or | BinaryOp::And | BinaryOp::Cmp(_) => {
                    pairwise(code, code, &[a, b])?;
                    Shape {
                        cost: sum(&[a, b]),
                        many: a.many || b.many,
                    }
                }
                BinaryOp::Math(ops::Math::Mul) => {
                    pairwise(code, code, &[a, b])?;
                    let literal = |t: &Term<&str>| match t {
                        Term::Num(n) => n.parse::<f64>().ok(),
                        Term::Neg(t) => match &**t {
                            Term::Num(n) => n.parse::<f64>().ok(),
                            _ => None,
                        },
                        _ => None,
                    };
                    let k = match (literal(l), literal(r)) {
                        (Some(k), _) | (_, Some(k)) => k.abs(),
                        _ => {
                            return Err(refuse(
                                code,
                                code,
                                "`*` needs a number written in the expression on one side \
                                 (a string times a number from the event could be any size)",
                            ));
                        }
                    };
                    // A string repeated k times is k times as big.
                    let k = if k.is_finite() {
                        k.ceil().max(1.0)
                    } else {
                        f64::MAX
                    };
                    let k = if k >= 1e18 { u64::MAX } else { k as u64 };
                    Shape {
                        cost: sum(&[a, b]).max(1).saturating_mul(k),
                        many: a.many || b.many,
                    }
                }
                BinaryOp::Math(_) => {
                    pairwise(code, code, &[a, b])?;
                    Shape {
                        cost: sum(&[a, b]),
                        many: a.many || b.many,
                    }
                }
                BinaryOp::Assign
                | BinaryOp::Update
                | BinaryOp::UpdateMath(_)
                | BinaryOp::UpdateAlt => {
                    return Err(refuse(code, code, "assignments are not available here"));
                }
            }
        }
        Term::Label(name, _) | Term::Break(name) => {
            return Err(refuse(code, name, "labels are not available here"));
        }
        Term::Fold(name, ..) => {
            return Err(refuse(
                code,
                name,
                "reduce and foreach are not available here",
            ));
        }
        Term::TryCatch(t, c) => {
            let mut shapes = vec![check(code, t)?];
            if let Some(c) = c {
                shapes.push(check(code, c)?);
            }
            Shape {
                cost: sum(&shapes),
                many: shapes.iter().any(|s| s.many),
            }
        }
        Term::IfThenElse(branches, otherwise) => {
            let mut shapes = Vec::new();
            for (cond, then) in branches {
                let (c, t) = (check(code, cond)?, check(code, then)?);
                // Each output of the condition runs the branch.
                pairwise(code, code, &[c, t])?;
                shapes.extend([c, t]);
            }
            if let Some(e) = otherwise {
                shapes.push(check(code, e)?);
            }
            Shape {
                cost: sum(&shapes),
                many: shapes.iter().any(|s| s.many),
            }
        }
        Term::Def(defs, _) => {
            let at = defs.first().map_or(code, |d| d.name);
            return Err(refuse(
                code,
                at,
                "definitions (`def`) are not available here",
            ));
        }
        Term::Var(name) => {
            return Err(refuse(code, name, "variables are not available here"));
        }
        Term::Call(name, args) => {
            let Some((_, base)) = ALLOWED.iter().find(|(n, _)| n == name) else {
                let mut allowed: Vec<&str> = ALLOWED.iter().map(|(n, _)| *n).collect();
                allowed.sort_unstable();
                return Err(refuse(
                    code,
                    name,
                    format!(
                        "{name} is not available here (what may loop or read outside the event \
                         is left out); available: {}",
                        allowed.join(" ")
                    ),
                ));
            };
            let shapes = args
                .iter()
                .map(|a| check(code, a))
                .collect::<Result<Vec<Shape>, JqError>>()?;
            pairwise(code, name, &shapes)?;
            let many = GENERATORS.contains(name) || shapes.iter().any(|s| s.many);
            // The arguments run on the input or on what the call makes of it (`map(f)`,
            // `any(gen; cond)`): at most their product over the input's size.
            let args = if shapes.is_empty() {
                0
            } else {
                product(&shapes)
            };
            Shape {
                cost: base.saturating_add(args),
                many,
            }
        }
        Term::Path(base, path) => {
            let b = check(code, base)?;
            let mut shape = b;
            for (part, _) in &path.0 {
                let terms: Vec<&Term<&str>> = match part {
                    Part::Index(i) => vec![i],
                    Part::Range(from, to) => {
                        if from.is_none() && to.is_none() {
                            // `.[]`: the children, together no bigger than the value.
                            shape.many = true;
                        }
                        from.iter().chain(to.iter()).collect()
                    }
                };
                for t in terms {
                    let s = check(code, t)?;
                    pairwise(code, code, &[shape, s])?;
                    shape.cost = shape.cost.saturating_add(s.cost);
                    shape.many |= s.many;
                }
            }
            shape
        }
    })
}

#[cfg(test)]
mod tests;
