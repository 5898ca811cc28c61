//! Network plumbing shared by the client engine, the server and the publishers: TLS, the HTTP
//! client, URLs, and the Prometheus registry with its endpoint.

pub mod explain;
pub mod fd;
pub mod http;
pub mod http_url;
pub mod listen;
pub mod metrics;
pub mod tcp;
pub mod tls;
