//! The server's handling of client frames: two connections on one hub take a stream of frames
//! from strangers (raw text, or subscribes the harness signs so that private and presence
//! paths are reached). Every answer must be a frame our own decoder reads, presence channels
//! stay within their member limit, and once both leave the hub holds no connection and no
//! occupied channel.
#![no_main]
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use protocol::limits::MAX_PRESENCE_MEMBERS;
use protocol::{ClientMessage, ServerMessage, signature};
use server::log::Log;
use server::testing::{ConnHandle, Handler, Hub, QueueLimits, QueueRx, send_queue};
use server::{App, ServerConfig};
use tokio::sync::mpsc;

struct Side {
    handler: Handler,
    frames: QueueRx,
    kick: mpsc::Receiver<protocol::Close>,
}

fn side(hub: &Arc<Hub>, app: &Arc<App>, cfg: &Arc<ServerConfig>) -> Side {
    let (frames_tx, frames) = send_queue(QueueLimits {
        frames: 64,
        bytes: 1 << 20,
    });
    let (kick_tx, kick) = mpsc::channel(1);
    let handle = ConnHandle {
        frames: frames_tx,
        kick: kick_tx,
    };
    let mut handler = Handler::new(hub.clone(), app.clone(), cfg.clone(), Log::default(), handle);
    handler.start();
    Side {
        handler,
        frames,
        kick,
    }
}

fuzz_target!(|data: &[u8]| {
    let app = App::local_default();
    let mut cfg = ServerConfig::new(vec![app.clone()]);
    cfg.hub.max_subscriptions = 8;
    cfg.hub.max_channels = 16;
    let cfg = Arc::new(cfg);
    let app = cfg.apps.first().unwrap().clone();
    let hub = Arc::new(Hub::new([app.id.as_str()], cfg.hub));
    let mut sides = [side(&hub, &app, &cfg), side(&hub, &app, &cfg)];
    let text = String::from_utf8_lossy(data);
    for (i, line) in text.split('\n').enumerate() {
        let s = &mut sides[i % 2];
        // "S channel\tchannel_data" subscribes with a valid signature; anything else is raw.
        if let Some(rest) = line.strip_prefix("S ") {
            let (channel, channel_data) = match rest.split_once('\t') {
                Some((c, d)) => (c, Some(d)),
                None => (rest, None),
            };
            if let Ok(auth) = signature::sign_channel(
                &app.key,
                app.secret.expose(),
                s.handler.socket_id(),
                channel,
                channel_data,
            ) {
                let msg = ClientMessage::Subscribe {
                    channel: channel.to_owned(),
                    auth: Some(auth),
                    channel_data: channel_data.map(str::to_owned),
                };
                s.handler.on_text(&msg.encode());
            }
        } else {
            s.handler.on_text(line);
        }
        for s in &mut sides {
            while let Some(frame) = s.frames.try_recv() {
                if let Err(e) = ServerMessage::decode(&frame) {
                    panic!("the server sent a frame it cannot read: {frame}: {e}");
                }
            }
            while s.kick.try_recv().is_ok() {}
        }
    }
    for (name, _) in hub.channels(&app.id, Some("presence-")) {
        assert!(hub.users(&app.id, &name).len() <= MAX_PRESENCE_MEMBERS);
    }
    for s in &mut sides {
        s.handler.leave("done");
    }
    assert_eq!(hub.connection_count(), 0);
    assert!(hub.channels(&app.id, None).is_empty());
});
