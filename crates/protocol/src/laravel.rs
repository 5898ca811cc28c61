//! Laravel's event names on the wire, and Laravel Echo's rules for the names it listens for.
//! Pure: for the "did you mean" hints of an unbound event.
//!
//! - **Laravel** broadcasts an event under its class name, namespace included
//!   (`App\Events\OrderShipped`), unless the event defines `broadcastAs()`, whose return value
//!   is then the name as sent (`order.shipped`, `OrderShipped`).
//! - **Echo**'s `listen(name)` turns `name` into the name it binds (its `EventFormatter`): a
//!   name that starts with `.` or `\` is taken as sent, without that first character; any
//!   other gets the namespace (`App.Events` by default) and a `.` in front, and then every
//!   `.` becomes `\`. So `listen('OrderShipped')` hears `App\Events\OrderShipped`,
//!   `listen('.OrderShipped')` hears `OrderShipped`, and `listen('.order.shipped')` hears
//!   `order.shipped`.
//!
//! tickertape's bindings match names as they are sent; a hint says which binding (and which
//! Echo `listen`) would have matched an event that arrived unbound.

/// Echo's default namespace, as Echo writes it (dots), and as Laravel sends it.
pub const ECHO_NAMESPACE: &str = "App.Events";
pub const LARAVEL_NAMESPACE: &str = "App\\Events\\";

/// The name Echo's `listen(name)` binds, with Echo's namespace option (`None` is Echo's
/// `namespace: false`, which leaves names alone).
pub fn echo_listens_for(name: &str, namespace: Option<&str>) -> String {
    let Some(namespace) = namespace else {
        return name.to_owned();
    };
    if let Some(rest) = name.strip_prefix(['.', '\\']) {
        return rest.to_owned();
    }
    let full = if namespace.is_empty() {
        name.to_owned()
    } else {
        format!("{namespace}.{name}")
    };
    full.replace('.', "\\")
}

/// What to write in Echo's `listen(…)` (default namespace) to hear `sent`.
pub fn echo_listen_for(sent: &str) -> String {
    match sent.strip_prefix(LARAVEL_NAMESPACE) {
        // A class under App\Events: Echo adds the namespace itself, and `.` stands for `\`.
        Some(class) if !class.is_empty() && !class.contains('.') => class.replace('\\', "."),
        _ => format!(".{sent}"),
    }
}

/// The part of a name that Laravel's and Echo's forms share: a leading `.` or `\` dropped,
/// then the `App\Events\` (or `App.Events.`) namespace, with `.` read as `\`.
fn core(name: &str) -> String {
    let name = name.strip_prefix(['.', '\\']).unwrap_or(name);
    let name = name.replace('.', "\\");
    match name.strip_prefix(LARAVEL_NAMESPACE) {
        Some(rest) => rest.to_owned(),
        None => name,
    }
}

/// When `bound` is a Laravel or Echo form of the name `sent` (that arrived unbound), why it
/// did not match and what to bind instead: e.g. `Laravel broadcasts App\Events\OrderShipped
/// unless the event defines broadcastAs(); bind App\Events\OrderShipped to match this name
/// (in Echo: listen('OrderShipped'))`.
pub fn hint(sent: &str, bound: &str) -> Option<String> {
    if sent == bound || sent.is_empty() || bound.is_empty() {
        return None;
    }
    let laravel_like = |n: &str| {
        n.starts_with(['.', '\\'])
            || n.starts_with(LARAVEL_NAMESPACE)
            || n.starts_with("App.Events.")
    };
    if !(laravel_like(sent) || laravel_like(bound)) || core(sent) != core(bound) {
        return None;
    }
    let listen = echo_listen_for(sent);
    let why = if sent.starts_with(LARAVEL_NAMESPACE) {
        // The class name went out: the event has no broadcastAs().
        format!("Laravel broadcasts the class name {sent} unless the event defines broadcastAs()")
    } else if echo_listens_for(bound, Some(ECHO_NAMESPACE)) == sent {
        // `.OrderShipped` bound: Echo's form for the name as sent.
        format!("{bound} is Echo's listen() form of {sent}; names are matched as sent")
    } else {
        format!("{sent} has no App\\Events\\ namespace: the event defines broadcastAs()")
    };
    Some(format!(
        "{why}; bind {sent} to match this name (in Echo: listen('{listen}'))"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: Option<&str> = Some(ECHO_NAMESPACE);

    #[test]
    fn echo_adds_the_namespace_unless_the_name_starts_with_a_dot() {
        assert_eq!(
            echo_listens_for("OrderShipped", NS),
            r"App\Events\OrderShipped"
        );
        assert_eq!(echo_listens_for(".OrderShipped", NS), "OrderShipped");
        assert_eq!(
            echo_listens_for(r"\App\Events\OrderShipped", NS),
            r"App\Events\OrderShipped"
        );
        // Dots are namespace separators, but not after a leading dot.
        assert_eq!(
            echo_listens_for("Orders.Shipped", NS),
            r"App\Events\Orders\Shipped"
        );
        assert_eq!(echo_listens_for(".order.shipped", NS), "order.shipped");
        // The class name in full, without the dot, gets the namespace twice.
        assert_eq!(
            echo_listens_for(r"App\Events\OrderShipped", NS),
            r"App\Events\App\Events\OrderShipped"
        );
        assert_eq!(
            echo_listens_for("Shipped", Some("Shop.Events")),
            r"Shop\Events\Shipped"
        );
        assert_eq!(echo_listens_for("order.shipped", None), "order.shipped");
    }

    #[test]
    fn the_listen_form_hears_the_name() {
        for sent in [
            r"App\Events\OrderShipped",
            r"App\Events\Orders\Shipped",
            "OrderShipped",
            "order.shipped",
            r"Other\Ns\Thing",
        ] {
            assert_eq!(echo_listens_for(&echo_listen_for(sent), NS), sent, "{sent}");
        }
        assert_eq!(echo_listen_for(r"App\Events\OrderShipped"), "OrderShipped");
        assert_eq!(echo_listen_for("OrderShipped"), ".OrderShipped");
    }

    #[test]
    fn the_class_name_arrived() {
        let sent = r"App\Events\OrderShipped";
        for bound in ["OrderShipped", ".OrderShipped", "App.Events.OrderShipped"] {
            let h = hint(sent, bound).unwrap();
            assert_eq!(
                h,
                r"Laravel broadcasts the class name App\Events\OrderShipped unless the event defines broadcastAs(); bind App\Events\OrderShipped to match this name (in Echo: listen('OrderShipped'))",
                "{bound}"
            );
        }
    }

    #[test]
    fn a_broadcast_as_name_arrived() {
        let h = hint("OrderShipped", r"App\Events\OrderShipped").unwrap();
        assert_eq!(
            h,
            r"OrderShipped has no App\Events\ namespace: the event defines broadcastAs(); bind OrderShipped to match this name (in Echo: listen('.OrderShipped'))"
        );
        let h = hint("OrderShipped", ".OrderShipped").unwrap();
        assert!(
            h.starts_with(".OrderShipped is Echo's listen() form of OrderShipped"),
            "{h}"
        );
        assert!(
            h.ends_with("bind OrderShipped to match this name (in Echo: listen('.OrderShipped'))")
        );
        assert!(hint("order.shipped", ".order.shipped").is_some());
    }

    #[test]
    fn only_laravel_forms_of_the_same_name() {
        assert_eq!(hint("OrderShipped", "OrderShipped"), None);
        assert_eq!(hint("OrderShipped", ".OrderCreated"), None);
        assert_eq!(hint(r"App\Events\OrderShipped", "OrderCreated"), None);
        // No Laravel form on either side: the spelling hints' business.
        assert_eq!(hint("order.shipped", "order_shipped"), None);
        assert_eq!(hint("", "."), None);
    }
}
