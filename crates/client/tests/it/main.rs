//! The engine against a scripted peer on 127.0.0.1: no server and no terminal is linked.

mod auth;
mod engine;
