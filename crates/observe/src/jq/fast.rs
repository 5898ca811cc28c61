//! The common simple forms of a filter, answered without reading the whole line into jaq's
//! values: `.path OP literal` (or `literal OP .path`, or a bare `.path`), combined with
//! `and`, `or`, `not` (`X | not`), parentheses and `select(X)`.
//!
//! One pass over the line's bytes reads only the values the expression's paths reach, as
//! jaq's own values; every other value is skipped without being built. The comparisons are
//! then jaq's own (`Val`'s order and equality), so the semantics are jaq's by construction:
//! a missing key or an index into `null` is `null`; `null` and `false` are falsy. Anything
//! the fast path cannot answer exactly (a key into a number, a string or an array, which is
//! an error in jq; a line that is not JSON) is handed back, and the caller runs jaq.

use jaq_core::load::lex::StrPart;
use jaq_core::load::parse::{BinaryOp, Term};
use jaq_core::path::{Opt, Part};
use jaq_core::{ValT, ops};
use jaq_json::Val;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

/// A checked expression of the simple forms.
#[derive(Debug)]
pub(super) struct Fast {
    expr: Expr,
    /// The paths read, as a tree of keys.
    root: Node,
    slots: usize,
}

#[derive(Debug)]
enum Expr {
    /// A path's value is truthy.
    Truthy(usize),
    /// The value at slot `.0` compared with a literal: `path OP lit`, or `lit OP path` when
    /// `.3` (the literal is on the left).
    Cmp(usize, ops::Cmp, Val, bool),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

/// A key path's tree: the keys read under a value, and the slot of the value itself.
#[derive(Debug, Default)]
struct Node {
    children: Vec<(String, Node)>,
    slot: Option<usize>,
}

/// What a slot holds after the pass: the value, or `None` where jq would fail (a key into
/// something that is neither an object nor null).
type Slots = Vec<Option<Val>>;

impl Fast {
    /// The fast form of `term`, if it has one.
    pub(super) fn new(term: &Term<&str>) -> Option<Fast> {
        let mut root = Node::default();
        let mut slots = 0;
        // `select(X)` yields its input (an object: truthy) when X is truthy, else nothing;
        // only at the top, since nothing (`select(false) | not`) is not `false`.
        let term = match term {
            Term::Call("select", args) if args.len() == 1 => &args[0],
            t => t,
        };
        let expr = expr(term, &mut root, &mut slots)?;
        Some(Fast { expr, root, slots })
    }

    /// Whether the event written as `line` passes; `None` when only jaq can say.
    pub(super) fn passes(&self, line: &[u8]) -> Option<bool> {
        let mut de = serde_json::Deserializer::from_slice(line);
        let pass = self.read(&mut de)?;
        de.end().ok()?;
        pass
    }

    /// Whether the event as a value passes; `None` when only jaq can say.
    pub(super) fn passes_value(&self, value: &serde_json::Value) -> Option<bool> {
        self.read(value)?
    }

    /// Reads the slots from one value and evaluates; the outer `None` when it could not be
    /// read.
    fn read<'de, D: Deserializer<'de>>(&self, d: D) -> Option<Option<bool>> {
        let mut slots: Slots = vec![Some(Val::Null); self.slots];
        Seed {
            node: &self.root,
            slots: &mut slots,
        }
        .deserialize(d)
        .ok()?;
        Some(eval(&self.expr, &slots))
    }
}

fn eval(e: &Expr, slots: &Slots) -> Option<bool> {
    Some(match e {
        Expr::Truthy(s) => slots.get(*s)?.as_ref()?.as_bool(),
        Expr::Cmp(s, op, lit, lit_left) => {
            let v = slots.get(*s)?.as_ref()?;
            if *lit_left {
                op.run(lit, v)
            } else {
                op.run(v, lit)
            }
        }
        Expr::And(l, r) => eval(l, slots)? && eval(r, slots)?,
        Expr::Or(l, r) => eval(l, slots)? || eval(r, slots)?,
        Expr::Not(x) => !eval(x, slots)?,
    })
}

fn expr(term: &Term<&str>, root: &mut Node, slots: &mut usize) -> Option<Expr> {
    match term {
        Term::BinOp(l, op, r) => match op {
            BinaryOp::And => Some(Expr::And(
                Box::new(expr(l, root, slots)?),
                Box::new(expr(r, root, slots)?),
            )),
            BinaryOp::Or => Some(Expr::Or(
                Box::new(expr(l, root, slots)?),
                Box::new(expr(r, root, slots)?),
            )),
            BinaryOp::Pipe(None) if matches!(&**r, Term::Call("not", args) if args.is_empty()) => {
                Some(Expr::Not(Box::new(expr(l, root, slots)?)))
            }
            BinaryOp::Cmp(op) => {
                if let (Some(path), Some(lit)) = (path(l), literal(r)) {
                    Some(Expr::Cmp(slot(root, slots, &path), *op, lit, false))
                } else if let (Some(lit), Some(path)) = (literal(l), path(r)) {
                    Some(Expr::Cmp(slot(root, slots, &path), *op, lit, true))
                } else {
                    None
                }
            }
            _ => None,
        },
        _ => Some(Expr::Truthy(slot(root, slots, &path(term)?))),
    }
}

/// The slot of `path`, made on first use.
fn slot(root: &mut Node, slots: &mut usize, path: &[String]) -> usize {
    let mut node = root;
    for key in path {
        let at = match node.children.iter().position(|(k, _)| k == key) {
            Some(at) => at,
            None => {
                node.children.push((key.clone(), Node::default()));
                node.children.len() - 1
            }
        };
        node = &mut node.children[at].1;
    }
    *node.slot.get_or_insert_with(|| {
        *slots += 1;
        *slots - 1
    })
}

/// `.a.b."c d"` as its keys (`.` is none); `None` for anything else (`?`, `.[0]`, `.[]`).
fn path(term: &Term<&str>) -> Option<Vec<String>> {
    match term {
        Term::Id => Some(Vec::new()),
        Term::Path(base, path) => {
            let mut keys = self::path(base)?;
            for (part, opt) in &path.0 {
                match (part, opt) {
                    (Part::Index(key), Opt::Essential) => keys.push(string(key)?),
                    _ => return None,
                }
            }
            Some(keys)
        }
        _ => None,
    }
}

/// A string written without interpolation.
fn string(term: &Term<&str>) -> Option<String> {
    let Term::Str(None, parts) = term else {
        return None;
    };
    let mut s = String::new();
    for p in parts {
        match p {
            StrPart::Str(t) => s.push_str(t),
            StrPart::Char(c) => s.push(*c),
            StrPart::Term(_) => return None,
        }
    }
    Some(s)
}

/// A literal as jaq reads it: a number (negated or not), a string, `null`, `true`, `false`.
fn literal(term: &Term<&str>) -> Option<Val> {
    match term {
        Term::Num(n) => Val::from_num(n).ok(),
        Term::Neg(t) => match &**t {
            Term::Num(n) => (-Val::from_num(n).ok()?).ok(),
            _ => None,
        },
        Term::Str(..) => Some(Val::from(string(term)?)),
        Term::Call("null", a) if a.is_empty() => Some(Val::Null),
        Term::Call("true", a) if a.is_empty() => Some(Val::from(true)),
        Term::Call("false", a) if a.is_empty() => Some(Val::from(false)),
        _ => None,
    }
}

/// Reads one value for `node`: whole, as jaq's value, where a slot wants it; else only the
/// keys under it that the paths reach.
struct Seed<'a> {
    node: &'a Node,
    slots: &'a mut Slots,
}

impl Seed<'_> {
    /// Every slot under `node`, the node's own too, set to `v`.
    fn fill(node: &Node, slots: &mut Slots, v: Option<Val>) {
        if let Some(s) = node.slot {
            slots[s] = v.clone();
        }
        for (_, child) in &node.children {
            Seed::fill(child, slots, v.clone());
        }
    }

    /// The slots under `node` from its value, read whole: jq's `.key` on it.
    fn resolve(node: &Node, slots: &mut Slots, v: &Val) {
        for (key, child) in &node.children {
            let sub = match v {
                Val::Null => Some(Val::Null),
                Val::Obj(map) => Some(
                    map.get(&Val::from(key.clone()))
                        .cloned()
                        .unwrap_or(Val::Null),
                ),
                _ => None,
            };
            match sub {
                Some(sub) => {
                    if let Some(s) = child.slot {
                        slots[s] = Some(sub.clone());
                    }
                    Seed::resolve(child, slots, &sub);
                }
                None => Seed::fill(child, slots, None),
            }
        }
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        use serde::Deserialize;
        if let Some(s) = self.node.slot {
            let v = Val::deserialize(d)?;
            Seed::resolve(self.node, self.slots, &v);
            self.slots[s] = Some(v);
            return Ok(());
        }
        if self.node.children.is_empty() {
            IgnoredAny::deserialize(d)?;
            return Ok(());
        }
        d.deserialize_any(self)
    }
}

/// An object key, borrowed when it has no escapes.
struct Key<'de>(std::borrow::Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match self.node.children.iter().find(|(k, _)| *k == key.0) {
                Some((_, child)) => {
                    // A repeated key: the last one counts, as jaq reads objects.
                    Seed::fill(child, self.slots, Some(Val::Null));
                    map.next_value_seed(Seed {
                        node: child,
                        slots: self.slots,
                    })?;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        // `null.key` is null: the slots stay null.
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        self.not_indexable()
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        self.not_indexable()
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        self.not_indexable()
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        self.not_indexable()
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        self.not_indexable()
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.not_indexable()
    }
}

impl Seed<'_> {
    /// A key into this value is an error in jq.
    fn not_indexable<E>(self) -> Result<(), E> {
        for (_, child) in &self.node.children {
            Seed::fill(child, self.slots, None);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
