//! A small HTTP/1.1 client (hyper + rustls on ring) for auth endpoints and the REST API.
//! Every request has a deadline and every response body a size limit.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;

use super::http_url::redact;

/// Largest response body read; the rest is an error.
pub const MAX_RESPONSE_BYTES: usize = 1 << 20;

#[derive(Clone)]
pub struct HttpClient {
    inner: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

/// A response: status and body.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// The `Content-Type` header, when it is text (200 characters at most).
    pub content_type: Option<String>,
    pub body: Bytes,
}

impl Response {
    /// The body as text, shortened for messages, every URL in it redacted: an answer may
    /// echo the request's URL (its signature, a token) or quote one with credentials.
    pub fn body_snippet(&self, max: usize) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let text = super::http_url::redact_in(text.trim());
        match text.char_indices().nth(max) {
            Some((at, _)) => format!("{}…", &text[..at]),
            None => text.into_owned(),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum HttpError {
    #[error("invalid URL {url:?}: {reason}")]
    Url { url: String, reason: String },
    #[error("request to {url} failed: {reason}")]
    Request { url: String, reason: String },
    #[error("request to {url} timed out after {secs} s")]
    Timeout { url: String, secs: u64 },
    #[error("response from {url} is larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge { url: String },
}

impl Default for HttpClient {
    fn default() -> Self {
        HttpClient::new(Duration::from_secs(10))
    }
}

impl HttpClient {
    pub fn new(timeout: Duration) -> HttpClient {
        HttpClient::with_roots(timeout, &super::tls::ExtraRoots::default())
    }

    /// A client that also trusts `roots` (`--ca-file`).
    pub fn with_roots(timeout: Duration, roots: &super::tls::ExtraRoots) -> HttpClient {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(super::tls::build_with(roots))
            .https_or_http()
            .enable_http1()
            .wrap_connector(super::tcp::http_connector());
        HttpClient {
            inner: Client::builder(TokioExecutor::new()).build(connector),
            timeout,
        }
    }

    /// Sends a request and reads the whole response, within the deadline and size limit.
    pub async fn send(
        &self,
        method: http::Method,
        raw_url: &str,
        headers: &[(String, String)],
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<Response, HttpError> {
        // Every message names the URL without credentials.
        let shown = redact(raw_url);
        let url = shown.as_str();
        let url_err = |reason: String| HttpError::Url {
            url: url.to_owned(),
            reason,
        };
        let uri: http::Uri = raw_url
            .parse()
            .map_err(|_| url_err("it cannot be parsed".into()))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) {
            return Err(url_err("the scheme must be http or https".into()));
        }
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err(url_err(
                "credentials in a URL are not sent from here; parse it as an AuthUrl".into(),
            ));
        }
        let host = uri.host().unwrap_or_default().to_owned();
        let port = uri
            .port_u16()
            .unwrap_or(if uri.scheme_str() == Some("https") {
                443
            } else {
                80
            });
        let addr = format!("{host}:{port}");
        let mut req = http::Request::builder().method(method).uri(uri).header(
            http::header::USER_AGENT,
            concat!("tickertape/", env!("CARGO_PKG_VERSION")),
        );
        if let Some(ct) = content_type {
            req = req.header(http::header::CONTENT_TYPE, ct);
        }
        for (name, value) in headers {
            req = req.header(name.as_str(), value.as_str());
        }
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| url_err(format!("bad request: {e}")))?;
        let fut = async {
            let resp = self
                .inner
                .request(req)
                .await
                .map_err(|e| HttpError::Request {
                    url: url.to_owned(),
                    reason: super::tls::certificate_problem(&e)
                        .or_else(|| {
                            super::explain::transport_error(&e, &host, &addr).map(|x| x.to_string())
                        })
                        .unwrap_or_else(|| error_chain(&e)),
                })?;
            let status = resp.status().as_u16();
            let content_type = resp
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(200).collect());
            let body = Limited::new(resp.into_body(), MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|_| HttpError::TooLarge {
                    url: url.to_owned(),
                })?
                .to_bytes();
            Ok(Response {
                status,
                content_type,
                body,
            })
        };
        tokio::time::timeout(self.timeout, fut)
            .await
            .map_err(|_| HttpError::Timeout {
                url: url.to_owned(),
                secs: self.timeout.as_secs(),
            })?
    }
}

/// An error and its sources on one line ("client error (Connect): Connection refused").
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}
