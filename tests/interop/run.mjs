// Interop: pusher-js (subscriber) and the official pusher Node SDK (publisher, queries)
// against `tickertape serve` on 127.0.0.1. Prints "N passed, M failed"; exits 1 on failure.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import path from "node:path";
import PusherClient from "pusher-js";
import PusherServer from "pusher";

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = process.env.TICKERTAPE_BIN || path.join(here, "../../target/debug/tickertape");
const APP = { appId: "1", key: "app-key", secret: "app-secret" };

function startServer() {
  const child = spawn(bin, ["serve", "--listen", "127.0.0.1:0", "--app", `${APP.appId}:${APP.key}:${APP.secret}`], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stderr });
    child.stderrText = "";
    lines.on("line", (line) => { child.stderrText += line + "\n"; });
    const timer = setTimeout(() => reject(new Error("tickertape serve did not start")), 10000);
    lines.on("line", (line) => {
      const m = line.match(/ws:\/\/127\.0\.0\.1:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.on("exit", (code) => reject(new Error(`tickertape serve exited with ${code}`)));
  });
}

const { child, port } = await startServer();
const server = new PusherServer({ ...APP, host: "127.0.0.1", port: String(port), useTLS: false });

function client(user) {
  return new PusherClient(APP.key, {
    cluster: "local",
    wsHost: "127.0.0.1",
    wsPort: port,
    forceTLS: false,
    enabledTransports: ["ws"],
    disableStats: true,
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, callback) => {
        const presence = channelName.startsWith("presence-") ? { user_id: user, user_info: { name: user } } : undefined;
        callback(null, server.authorizeChannel(socketId, channelName, presence));
      },
    },
  });
}

const within = (ms, what, promise) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms))]);

const subscribed = (pusher, name) =>
  within(5000, `subscribe ${name}`, new Promise((resolve, reject) => {
    const channel = pusher.subscribe(name);
    channel.bind("pusher:subscription_succeeded", (members) => resolve({ channel, members }));
    channel.bind("pusher:subscription_error", (e) => reject(new Error(`subscription error: ${JSON.stringify(e)}`)));
  }));

const next = (channel, event, ms = 5000) =>
  within(ms, `event ${event}`, new Promise((resolve) => channel.bind(event, (data, meta) => resolve({ data, meta }))));

const quiet = (channel, event, ms = 500) =>
  new Promise((resolve) => {
    let got = false;
    channel.bind(event, () => (got = true));
    setTimeout(() => resolve(!got), ms);
  });

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

const results = [];
async function check(name, fn) {
  try {
    await fn();
    results.push([name, null]);
    console.log(`ok   ${name}`);
  } catch (e) {
    results.push([name, e]);
    console.log(`FAIL ${name}: ${e.message}`);
  }
}

const ann = client("ann");
const bob = client("bob");

await check("public channel: SDK trigger reaches pusher-js", async () => {
  const { channel } = await subscribed(ann, "interop-public");
  const got = next(channel, "greet");
  await server.trigger("interop-public", "greet", { msg: "hi" });
  const { data } = await got;
  assert(data.msg === "hi", JSON.stringify(data));
});

await check("private channel with a local authorizer", async () => {
  const { channel } = await subscribed(ann, "private-interop");
  const got = next(channel, "secret");
  await server.trigger("private-interop", "secret", { n: 42 });
  assert((await got).data.n === 42, "wrong data");
});

await check("trigger to several channels", async () => {
  const a = (await subscribed(bob, "interop-a")).channel;
  const b = (await subscribed(bob, "interop-b")).channel;
  const both = Promise.all([next(a, "multi"), next(b, "multi")]);
  await server.trigger(["interop-a", "interop-b"], "multi", { x: 1 });
  const [ra, rb] = await both;
  assert(ra.data.x === 1 && rb.data.x === 1, "not delivered to both");
});

await check("batch events", async () => {
  const channel = ann.channel("interop-public");
  const got = [];
  const done = within(5000, "batch", new Promise((resolve) => {
    channel.bind("batched", (d) => { got.push(d.i); if (got.length === 3) resolve(); });
  }));
  await server.triggerBatch([0, 1, 2].map((i) => ({ channel: "interop-public", name: "batched", data: { i } })));
  await done;
  assert(JSON.stringify(got) === "[0,1,2]", JSON.stringify(got));
});

await check("socket_id exclusion", async () => {
  const mine = (await subscribed(bob, "interop-public")).channel;
  const annChannel = ann.channel("interop-public");
  const annGets = next(annChannel, "excluded");
  const bobQuiet = quiet(mine, "excluded");
  await server.trigger("interop-public", "excluded", {}, { socket_id: bob.connection.socket_id });
  await annGets;
  assert(await bobQuiet, "the excluded socket got the event");
});

await check("presence members and member events", async () => {
  const { channel: annP, members } = await subscribed(ann, "presence-interop");
  assert(members.count === 1 && members.me.id === "ann", `count ${members.count}`);
  const added = next(annP, "pusher:member_added");
  const { channel: bobP, members: bobMembers } = await subscribed(bob, "presence-interop");
  const { data: member } = await added;
  assert(member.id === "bob" && member.info.name === "bob", JSON.stringify(member));
  assert(bobMembers.count === 2, `bob sees ${bobMembers.count}`);
  const removed = next(annP, "pusher:member_removed");
  bob.unsubscribe("presence-interop");
  assert((await removed).data.id === "bob", "member_removed");
  await subscribed(bob, "presence-interop");
  void bobP;
});

await check("client events: delivered to others with user_id, never echoed", async () => {
  const annP = ann.channel("presence-interop");
  const bobP = bob.channel("presence-interop");
  const got = next(bobP, "client-typing");
  const echo = quiet(annP, "client-typing");
  annP.trigger("client-typing", { typing: true });
  const { data, meta } = await got;
  assert(data.typing === true && meta && meta.user_id === "ann", JSON.stringify(meta));
  assert(await echo, "echoed to the sender");
});

await check("channel queries", async () => {
  const list = await (await server.get({ path: "/channels", params: { filter_by_prefix: "presence-", info: "user_count" } })).json();
  assert(list.channels["presence-interop"].user_count === 2, JSON.stringify(list));
  const one = await (await server.get({ path: "/channels/presence-interop", params: { info: "user_count,subscription_count" } })).json();
  assert(one.occupied === true && one.user_count === 2 && one.subscription_count === 2, JSON.stringify(one));
  const users = await (await server.get({ path: "/channels/presence-interop/users" })).json();
  assert(users.users.map((u) => u.id).sort().join() === "ann,bob", JSON.stringify(users));
  const all = await (await server.get({ path: "/channels" })).json();
  assert("interop-public" in all.channels && "private-interop" in all.channels, JSON.stringify(all));
});

await check("sendToUser reaches a signed-in pusher-js client", async () => {
  const carol = new PusherClient(APP.key, {
    cluster: "local",
    wsHost: "127.0.0.1",
    wsPort: port,
    forceTLS: false,
    enabledTransports: ["ws"],
    disableStats: true,
    userAuthentication: {
      customHandler: ({ socketId }, callback) => callback(null, server.authenticateUser(socketId, { id: "carol" })),
    },
  });
  try {
    carol.signin();
    await within(5000, "#server-to-user-carol subscribed", new Promise((resolve) => {
      const poll = setInterval(() => {
        if (carol.user.serverToUserChannel && carol.user.serverToUserChannel.subscribed) {
          clearInterval(poll);
          resolve();
        }
      }, 20);
    }));
    const got = within(5000, "event note", new Promise((resolve) => carol.user.bind("note", resolve)));
    await server.sendToUser("carol", "note", { hi: "carol" });
    const data = await got;
    assert(data.hi === "carol", JSON.stringify(data));
  } finally {
    carol.disconnect();
  }
});

await check("subscription_count reaches pusher-js when a second subscriber joins", async () => {
  const first = client("sc1");
  const second = client("sc2");
  try {
    const { channel } = await subscribed(first, "interop-counted");
    const counted = within(5000, "pusher:subscription_count 2", new Promise((resolve) =>
      channel.bind("pusher:subscription_count", (data) => data.subscription_count === 2 && resolve(data))));
    await subscribed(second, "interop-counted");
    await counted;
    assert(channel.subscriptionCount === 2, `subscriptionCount ${channel.subscriptionCount}`);
  } finally {
    first.disconnect();
    second.disconnect();
  }
});

await check("watchlist: a signed-in pusher-js client hears its watched user online and offline", async () => {
  const signedIn = (id, watchlist) => new PusherClient(APP.key, {
    cluster: "local",
    wsHost: "127.0.0.1",
    wsPort: port,
    forceTLS: false,
    enabledTransports: ["ws"],
    disableStats: true,
    userAuthentication: {
      customHandler: ({ socketId }, callback) => callback(null, server.authenticateUser(socketId, { id, watchlist })),
    },
  });
  const dave = signedIn("dave", ["erin"]);
  let erin;
  try {
    const online = within(5000, "watchlist online", new Promise((resolve) => dave.user.watchlist.bind("online", resolve)));
    const offline = within(8000, "watchlist offline", new Promise((resolve) => dave.user.watchlist.bind("offline", resolve)));
    dave.signin();
    await within(5000, "dave signed in", new Promise((resolve) => {
      const poll = setInterval(() => {
        if (dave.user.serverToUserChannel && dave.user.serverToUserChannel.subscribed) {
          clearInterval(poll);
          resolve();
        }
      }, 20);
    }));
    erin = signedIn("erin", []);
    erin.signin();
    const on = await online;
    assert(on.name === "online" && on.user_ids.join() === "erin", JSON.stringify(on));
    erin.disconnect();
    const off = await offline;
    assert(off.name === "offline" && off.user_ids.join() === "erin", JSON.stringify(off));
  } finally {
    dave.disconnect();
    if (erin) erin.disconnect();
  }
});

await check("a bad signature is rejected", async () => {
  const bad = new PusherServer({ ...APP, secret: "wrong-secret", host: "127.0.0.1", port: String(port), useTLS: false });
  try {
    await bad.trigger("interop-public", "nope", {});
  } catch (e) {
    assert(e.status === 401, `status ${e.status}`);
    assert(String(e.body).includes("invalid signature"), String(e.body));
    return;
  }
  throw new Error("the trigger was accepted");
});

ann.disconnect();
bob.disconnect();
const exited = new Promise((resolve) => child.once("close", resolve));
child.kill("SIGTERM");
await within(10000, "serve exits after SIGTERM", exited).catch((e) => results.push(["serve exits after SIGTERM", e]));
// A panic anywhere in the server, a spawned task's included, fails the run.
const panicked = child.stderrText.includes("panicked");
console.log(`${panicked ? "FAIL" : "ok  "} serve's stderr shows no panic`);
results.push(["serve's stderr shows no panic", panicked ? new Error(child.stderrText) : null]);
const failed = results.filter(([, e]) => e).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
