// A Pusher-protocol node that misbehaves, as a real process on 127.0.0.1, for the monitors'
// tests. Node's own modules only (no npm install): a minimal WebSocket server and REST API.
//
//   node rogue.mjs drop [MS]   accepts, subscribes, and drops every connection after MS (1000)
//   node rogue.mjs mute        accepts connections, never answers a subscription, and its
//                              REST API never answers (a cluster whose adapter is gone)
//   node rogue.mjs deaf        accepts and confirms subscriptions, its REST API says 200, and
//                              nothing published is ever delivered
//   node rogue.mjs flood [BYTES]  confirms subscriptions, then sends update_event with BYTES
//                              (102400) of data on each channel, as fast as the socket takes
//                              them, for as long as the connection lasts
//
// It prints `listening PORT` once ready, and runs until it is killed.
import { createServer } from "node:http";
import { createHash } from "node:crypto";

const mode = process.argv[2];
const dropAfter = Number(process.argv[3] ?? 1000);
const floodBytes = Number(process.argv[3] ?? 102400);
if (!["drop", "mute", "deaf", "flood"].includes(mode)) {
  console.error("usage: rogue.mjs drop [MS] | mute | deaf | flood [BYTES]");
  process.exit(2);
}

// One text frame from the server (unmasked).
function frame(text) {
  const payload = Buffer.from(text);
  const n = payload.length;
  let head;
  if (n < 126) head = Buffer.from([0x81, n]);
  else if (n < 65536) head = Buffer.from([0x81, 126, n >> 8, n & 255]);
  else {
    head = Buffer.alloc(10);
    head[0] = 0x81;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([head, payload]);
}

function send(socket, event, data, channel) {
  const message = { event, data: JSON.stringify(data) };
  if (channel) message.channel = channel;
  socket.write(frame(JSON.stringify(message)));
}

// Client frames: masked, at most 64 KiB here; calls onText for each text frame, onClose for
// a close frame.
function reader(socket, onText, onClose) {
  let buf = Buffer.alloc(0);
  socket.on("data", (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    if (buf.length > 1 << 20) return socket.destroy();
    for (;;) {
      if (buf.length < 2) return;
      const op = buf[0] & 15;
      let len = buf[1] & 127;
      let at = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        return socket.destroy();
      }
      const masked = (buf[1] & 128) !== 0;
      const need = at + (masked ? 4 : 0) + len;
      if (buf.length < need) return;
      const mask = masked ? buf.subarray(at, at + 4) : null;
      const body = Buffer.from(buf.subarray(need - len, need));
      if (mask) for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
      buf = buf.subarray(need);
      if (op === 1) onText(body.toString());
      else if (op === 8) return onClose();
    }
  });
}

// update_event after update_event on `channel`, each with `floodBytes` of data, written
// whenever the socket has room, until it closes.
function flood(socket, channel) {
  const data = { name: "FLOOD", price: 1, pad: "x".repeat(floodBytes) };
  const bytes = frame(JSON.stringify({ event: "update_event", channel, data: JSON.stringify(data) }));
  const more = () => {
    while (!socket.destroyed) {
      if (!socket.write(bytes)) return socket.once("drain", more);
    }
  };
  more();
}

let sockets = 0;
const server = createServer((req, res) => {
  if (req.method === "POST" && /^\/apps\/[^/]+\/events/.test(req.url)) {
    req.resume();
    if (mode === "mute") return; // never answered
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
    return;
  }
  res.writeHead(404);
  res.end();
});

server.on("upgrade", (req, socket) => {
  const key = req.headers["sec-websocket-key"];
  if (!key || !/^\/app\//.test(req.url)) return socket.destroy();
  const accept = createHash("sha1")
    .update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
    .digest("base64");
  socket.setNoDelay(true);
  socket.write(
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
  );
  sockets += 1;
  send(socket, "pusher:connection_established", {
    socket_id: `${sockets}.${sockets}`,
    activity_timeout: 120,
  });
  socket.on("error", () => {});
  if (mode === "drop") setTimeout(() => socket.destroy(), dropAfter);
  reader(
    socket,
    (text) => {
      let m;
      try {
        m = JSON.parse(text);
      } catch {
        return;
      }
      if (m.event === "pusher:ping") return send(socket, "pusher:pong", {});
      if (m.event !== "pusher:subscribe" || mode === "mute") return;
      const channel = m.data?.channel;
      let data = {};
      if (typeof channel === "string" && channel.startsWith("presence-")) {
        let user = "someone";
        try {
          user = JSON.parse(m.data.channel_data).user_id;
        } catch {}
        data = { presence: { ids: [user], hash: { [user]: null }, count: 1 } };
      }
      send(socket, "pusher_internal:subscription_succeeded", data, channel);
      if (mode === "flood") flood(socket, channel);
    },
    () => socket.end(Buffer.from([0x88, 0])),
  );
});

server.listen(0, "127.0.0.1", () => {
  console.log(`listening ${server.address().port}`);
});
