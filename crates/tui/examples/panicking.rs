//! A screen on the kit that panics when a key is pressed, with the mouse captured: the
//! kit's terminal guard must give the terminal back (raw mode off, the main screen, the
//! mouse released) before the panic's message is printed. The kit's tests run it in tmux.

use std::time::Instant;

use bounded::{Limits, Overflow};
use ratatui::Frame;
use ratatui::widgets::Paragraph;
use tui::kit::{
    Action, ActionInfo, App, Areas, Chrome, Effect, HintLine, Keymap, Part, Role, RunOptions,
    Screen, Theme,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act {
    Quit,
    Boom,
}

impl Action for Act {
    const ALL: &'static [ActionInfo<Act>] = &[
        ActionInfo::new(Act::Quit, "quit", &["q"], "quit"),
        ActionInfo::new(Act::Boom, "boom", &["b"], "panic"),
    ];

    fn role(self) -> Option<Role> {
        (self == Act::Quit).then_some(Role::Quit)
    }
}

struct Boom;

impl Screen for Boom {
    type Input = ();
    type Action = Act;
    type Done = ();

    const MIN_SIZE: (u16, u16) = (20, 5);

    fn apply(&mut self, _: (), _: Instant) -> Option<Effect<()>> {
        None
    }

    fn act(&mut self, _: Act, _: Instant) -> Option<Effect<()>> {
        panic!("boom, as asked");
    }

    fn status(&self, _: &Theme, _: Instant, _: u16) -> Vec<Part> {
        vec![Part::raw(0, "panicking example".into())]
    }

    fn hints(&self) -> HintLine<Act> {
        HintLine::keys(vec![(Act::Boom, "panic"), (Act::Quit, "quit")])
    }

    fn draw(&self, frame: &mut Frame, areas: Areas, _: &Chrome<'_, Act>, _: Instant) {
        frame.render_widget(Paragraph::new("waiting for b"), areas.body);
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let (_tx, rx) = bounded::queue::<()>(Limits::new(1, 1), Overflow::DropNewest);
    let app = App::new(Boom, Keymap::default(), Theme::new(false, false));
    let options = RunOptions {
        fps: 10,
        mouse: true,
        timeout: None,
    };
    tui::kit::run(app, rx, std::future::pending::<()>(), options).await?;
    Ok(())
}
