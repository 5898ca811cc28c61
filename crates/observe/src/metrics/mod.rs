//! The client's Prometheus metrics (`watch --metrics ADDR`), on the registry and endpoint
//! of `net::metrics`.

pub mod watch;
#[cfg(test)]
mod watch_tests;
