// Interop: the official pusher Node SDK checks the webhooks `tickertape serve` sends.
// Listens on 127.0.0.1 (prints "listening PORT"), then for each request prints one JSON line:
// {"valid": <pusher.webhook(req).isValid()>, "wrong_secret": <isValid() under another
// secret>, "events": [...]}, and answers 200. The test that starts it ends it.
import http from "node:http";
import Pusher from "pusher";

const APP = { appId: "1", key: "app-key", secret: "app-secret" };
const pusher = new Pusher({ ...APP, host: "127.0.0.1", port: "1", useTLS: false });
const impostor = new Pusher({ ...APP, secret: "another-secret", host: "127.0.0.1", port: "1", useTLS: false });

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const rawBody = Buffer.concat(chunks).toString("utf8");
    const hook = pusher.webhook({ headers: req.headers, rawBody });
    const valid = hook.isValid();
    const wrong = impostor.webhook({ headers: req.headers, rawBody }).isValid();
    const events = valid ? hook.getEvents() : [];
    const time = valid ? hook.getTime().getTime() : 0;
    console.log(JSON.stringify({ valid, wrong_secret: wrong, time_ms: time, events }));
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
  });
});

server.listen(0, "127.0.0.1", () => {
  console.log(`listening ${server.address().port}`);
});
