//! Scraping `--metrics`: where the endpoint is, its page, one series' value, and
//! `promtool check metrics` (Debian's `prometheus` package).

use std::io::Write;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::bin::Proc;

/// Reads stderr lines until `tickertape: metrics on http://ADDR/metrics`; its address.
pub(crate) async fn addr(proc: &mut Proc) -> SocketAddr {
    proc.stderr_addr("metrics on http://", "/metrics").await
}

/// One HTTP/1.1 request with `Connection: close`: (status, head, body).
pub(crate) async fn request(addr: SocketAddr, method: &str, path: &str) -> (u16, String, String) {
    let exchange = async {
        let mut tcp = TcpStream::connect(addr).await.expect("connect to metrics");
        let req = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
        tcp.write_all(req.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        tcp.read_to_end(&mut raw).await.unwrap();
        String::from_utf8(raw).expect("the answer is UTF-8")
    };
    let text = tokio::time::timeout(Duration::from_secs(5), exchange)
        .await
        .expect("no answer from the metrics endpoint in time");
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    (status, head.to_owned(), body.to_owned())
}

/// `GET /metrics`: the page (status 200 and the text format's content type checked).
pub(crate) async fn scrape(addr: SocketAddr) -> Page {
    let (status, head, body) = request(addr, "GET", "/metrics").await;
    assert_eq!(status, 200, "{head}\n\n{body}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    Page(body)
}

/// A scraped page.
pub(crate) struct Page(pub String);

impl Page {
    /// The value of one series, written as in the page: `name{a="b"}` or `name`.
    pub(crate) fn value(&self, series: &str) -> Option<f64> {
        self.0
            .lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .map(|v| v.trim().parse().expect("a number"))
    }

    /// Panics unless the series is there; its value.
    pub(crate) fn get(&self, series: &str) -> f64 {
        self.value(series)
            .unwrap_or_else(|| panic!("no {series} in\n{}", self.0))
    }

    /// The metric families, from their `# TYPE` lines: (name, type).
    pub(crate) fn families(&self) -> Vec<(String, String)> {
        self.0
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split_once(' '))
            .map(|(n, t)| (n.to_owned(), t.to_owned()))
            .collect()
    }

    /// The samples of one family (its lines, labels and value).
    pub(crate) fn samples(&self, name: &str) -> Vec<&str> {
        self.0
            .lines()
            .filter(|l| {
                l.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
            })
            .collect()
    }

    /// Fails unless `promtool check metrics` accepts the page (lint warnings included).
    pub(crate) fn promtool_check(&self) {
        let child = Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) => panic!(
                "promtool is needed to check the metrics page ({e}): \
                 apt-get install -y prometheus (its service need not run)"
            ),
        };
        child
            .stdin
            .take()
            .unwrap()
            .write_all(self.0.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
            "promtool check metrics refused the page:\n{}{}\n--- page:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.0
        );
    }
}

/// Scrapes until `done` holds (the binary counts asynchronously); panics after 5 s.
pub(crate) async fn scrape_until(
    addr: SocketAddr,
    what: &str,
    done: impl Fn(&Page) -> bool,
) -> Page {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let page = scrape(addr).await;
        if done(&page) {
            return page;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} never showed in\n{}",
            page.0
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
