// P1's pusher-js reader: subscribes to stock_ticker on the flood source with pusher-js (the
// Node build, over the `ws` transport), writes one line per update_event to stdout, as the
// other P1 readers do, and stops after N.
// Usage: node bench/pusher-js-reader.mjs PORT N   (pusher-js comes from tests/interop)
import { createRequire } from "node:module";
const require = createRequire(new URL("../tests/interop/package.json", import.meta.url));
const Pusher = require("pusher-js");

const [port, n] = [Number(process.argv[2]), Number(process.argv[3])];
const pusher = new Pusher("k", {
  cluster: "local",
  wsHost: "127.0.0.1",
  wsPort: port,
  forceTLS: false,
  enabledTransports: ["ws"],
  disableStats: true,
});
let count = 0;
pusher.subscribe("stock_ticker").bind("update_event", (data) => {
  // The handler sees parsed data, as the seed's page does.
  if (typeof data.price !== "number") throw new Error("bad data");
  const more = process.stdout.write(JSON.stringify(data) + "\n");
  if (++count === n) {
    pusher.disconnect();
    if (more) process.exit(0);
    else process.stdout.once("drain", () => process.exit(0));
  }
});
setTimeout(() => {
  console.error(`pusher-js: only ${count} of ${n} events in 600 s`);
  process.exit(1);
}, 600_000).unref();
