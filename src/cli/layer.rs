//! The one layering rule of every plan: the first layer that sets a value wins. The layers,
//! in order: the command line, the environment (clap merges these two, and an empty
//! environment value counts as unset), the config-file profile, then [`super::defaults`].

/// A value that may stay unset: the command line or environment, else the profile.
pub fn first<T>(cli_or_env: Option<T>, profile: Option<T>) -> Option<T> {
    cli_or_env.or(profile)
}

/// A value that is always set: as [`first`], else the default.
pub fn or_default<T>(cli_or_env: Option<T>, profile: Option<T>, default: impl FnOnce() -> T) -> T {
    first(cli_or_env, profile).unwrap_or_else(default)
}

/// A switch: on when the command line or environment turns it on, else as the profile says.
pub fn switch(cli_or_env: bool, profile: Option<bool>) -> bool {
    cli_or_env || profile.unwrap_or(false)
}

/// A repeatable flag: the command line's list when it gives any, else the profile's.
pub fn list<T>(cli_or_env: Vec<T>, profile: Option<Vec<T>>) -> Vec<T> {
    if cli_or_env.is_empty() {
        profile.unwrap_or_default()
    } else {
        cli_or_env
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_layer_that_sets_a_value_wins() {
        assert_eq!(first(Some(1), Some(2)), Some(1));
        assert_eq!(first(None, Some(2)), Some(2));
        assert_eq!(or_default(None, None, || 3), 3);
        assert_eq!(or_default(None, Some(2), || 3), 2);
        assert!(switch(false, Some(true)) && switch(true, Some(false)) && !switch(false, None));
        assert_eq!(list(vec![1], Some(vec![2])), vec![1]);
        assert_eq!(list(Vec::new(), Some(vec![2])), vec![2]);
    }
}
