//! Network plumbing shared by the client engine and the publishers: TLS and HTTP.

pub mod http;
pub mod http_url;
pub mod tls;
