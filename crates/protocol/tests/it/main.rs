//! The protocol crate's tests: frames, rules, signatures and crypto, against the reference's vectors.

mod crypto;
mod frames;
mod rules;
mod signatures;
