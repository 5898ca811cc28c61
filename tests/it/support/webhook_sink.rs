//! A webhook receiver on 127.0.0.1: records every request (path, headers, body) and answers
//! each with the next scripted answer (a status, or never), then 200.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// How the sink answers one request.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Answer {
    Status(u16),
    /// Reads the request and never answers.
    Never,
    /// Answers 200 after this long (a slow receiver).
    After(Duration),
}

/// One request the sink received.
#[derive(Clone, Debug)]
pub(crate) struct Hook {
    pub path: String,
    /// Lowercase names.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Hook {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the webhook's body is JSON")
    }

    /// The body's events.
    pub(crate) fn events(&self) -> Vec<Value> {
        self.json()["events"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

pub(crate) struct Sink {
    pub addr: SocketAddr,
    hooks: mpsc::UnboundedReceiver<Hook>,
    answers: Arc<Mutex<VecDeque<Answer>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Sink {
    /// A sink answering 200 to everything.
    pub(crate) async fn start() -> Sink {
        Sink::scripted(Vec::new()).await
    }

    /// A sink answering these first (in order), then 200.
    pub(crate) async fn scripted(answers: Vec<Answer>) -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        let answers = Arc::new(Mutex::new(VecDeque::from(answers)));
        let (tx, hooks) = mpsc::unbounded_channel();
        let script = answers.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (tx, script) = (tx.clone(), script.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let (tx, script) = (tx.clone(), script.clone());
                        async move {
                            let (parts, body) = req.into_parts();
                            let body = body.collect().await.map(|b| b.to_bytes());
                            let body = body.unwrap_or_default().to_vec();
                            let headers = parts
                                .headers
                                .iter()
                                .map(|(n, v)| {
                                    (
                                        n.as_str().to_owned(),
                                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                                    )
                                })
                                .collect();
                            let _ = tx.send(Hook {
                                path: parts.uri.path().to_owned(),
                                headers,
                                body,
                            });
                            let answer = script.lock().unwrap().pop_front();
                            let status = match answer.unwrap_or(Answer::Status(200)) {
                                Answer::Status(s) => s,
                                Answer::Never => std::future::pending().await,
                                Answer::After(d) => {
                                    tokio::time::sleep(d).await;
                                    200
                                }
                            };
                            hyper::Response::builder()
                                .status(status)
                                .body(Full::new(Bytes::from_static(b"ok")))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tcp), service)
                        .await;
                });
            }
        });
        Sink {
            addr,
            hooks,
            answers,
            task,
        }
    }

    /// A sink that never answers.
    pub(crate) async fn never() -> Sink {
        let sink = Sink::scripted(Vec::new()).await;
        sink.always(Answer::Never);
        sink
    }

    /// Answers every next request this way.
    pub(crate) fn always(&self, answer: Answer) {
        let mut a = self.answers.lock().unwrap();
        a.clear();
        a.extend(std::iter::repeat_n(answer, 100_000));
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// The next request, within `within`.
    pub(crate) async fn try_next(&mut self, within: Duration) -> Option<Hook> {
        tokio::time::timeout(within, self.hooks.recv())
            .await
            .ok()
            .flatten()
    }

    /// The next request; panics after 5 s.
    pub(crate) async fn next(&mut self) -> Hook {
        self.try_next(Duration::from_secs(5))
            .await
            .expect("no webhook in time")
    }

    /// Events (of every request) until one named `name` on `channel`; all of them, in order.
    pub(crate) async fn events_until(&mut self, name: &str, channel: &str) -> Vec<Value> {
        let mut all = Vec::new();
        loop {
            let hook = self
                .try_next(Duration::from_secs(5))
                .await
                .unwrap_or_else(|| {
                    panic!("no {name} on {channel} in time; events so far: {all:?}")
                });
            for e in hook.events() {
                let done = e["name"] == name && e["channel"] == channel;
                all.push(e);
                if done {
                    return all;
                }
            }
        }
    }

    /// Every request within `d`.
    pub(crate) async fn collect_for(&mut self, d: Duration) -> Vec<Hook> {
        let mut out = Vec::new();
        let until = tokio::time::Instant::now() + d;
        while let Ok(Some(h)) = tokio::time::timeout_at(until, self.hooks.recv()).await {
            out.push(h);
        }
        out
    }
}

/// Writes a config file for one test (in a directory of its own); its path.
pub(crate) fn config_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("tickertape-webhooks-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// (name, channel) of each event, for comparisons.
pub(crate) fn names(events: &[Value]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap_or("?").to_owned(),
                e["channel"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect()
}

pub(crate) fn pair(name: &str, channel: &str) -> (String, String) {
    (name.to_owned(), channel.to_owned())
}

/// A public channel's subscribe frame (sent without waiting for its answer).
pub(crate) fn subscribe(channel: &str) -> protocol::ClientMessage {
    protocol::ClientMessage::Subscribe {
        channel: channel.into(),
        auth: None,
        channel_data: None,
    }
}

/// `serve` (app 1:app-key:app-secret) sending every app's webhooks to `sink`, with `extra` flags.
pub(crate) async fn serve_to(sink: &Sink, extra: &[&str]) -> super::server::Server {
    let url = sink.url();
    let mut args = vec!["--webhook", url.as_str()];
    args.extend_from_slice(extra);
    super::server::Server::start(&args).await
}
