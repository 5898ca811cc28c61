//! `probe`'s dashboard: its screen state and its drawing.

pub mod screen;
pub mod view;
