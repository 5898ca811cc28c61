//! Where this client's sign-in stands: plain data the engine holds, read and changed by the
//! sign-in steps in `signin.rs`.

/// The sign-in of the current connection.
#[derive(Debug, Default)]
pub(super) struct SignInState {
    /// The socket a `pusher:signin` went out on, until its `pusher:signin_success`.
    pub(super) awaiting: Option<String>,
    /// The user channel the last accepted sign-in opened.
    pub(super) channel: Option<String>,
}
