//! The Pusher Channels protocol v7, as pure functions and types.
//!
//! Nothing in here performs I/O, spawns tasks or reads the clock: callers pass the time in.
//! The client engine, the embedded server and the publishers are all built on these pieces,
//! so that the rules live in one place (see `../shared/protocol.md` for the reference).

pub mod backplane;
pub mod channel;
pub mod close;
pub mod crypto;
pub mod frame;
pub mod laravel;
pub mod limits;
pub mod rest;
pub mod safe_text;
mod secret;
pub mod signature;
pub mod suggest;
pub mod time_text;
pub mod webhook;

pub use channel::{ChannelInfo, ChannelKind};
pub use close::{Close, CloseAction, CloseCode};
pub use frame::{ClientMessage, Data, DecodeError, Event, ServerMessage};
pub use secret::Secret;
