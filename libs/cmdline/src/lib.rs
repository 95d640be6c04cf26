//! The kernel command line: splitting it into parameters, reading the ones the
//! kernel knows, and handing the rest to init.
//!
//! Linux: `lib/cmdline.c` (`next_arg`, `memparse`, `get_option`),
//! `kernel/params.c` (`parse_args`, `parameq`), `init/main.c`
//! (`unknown_bootoption`, `set_init_arg`, `init_setup`), and the `__setup` /
//! `early_param` handlers of the parameters listed in [`KNOWN_PARAMS`].
//!
//! Key types: [`CmdLine`] wraps the line and has one accessor per parameter the
//! kernel uses; [`Param`] is one `key` or `key=value` word; [`Params`] iterates
//! over them with Linux's quoting rules.
//!
//! Everything borrows from the original `&str`: nothing is copied or allocated,
//! and nothing here panics, whatever the input. Linux parses the line in place
//! (writing NULs into it); here the same results are sub-slices of the input.
//!
//! Locking: none; a [`CmdLine`] is an immutable view.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod init_args;
mod kernel_params;
mod num;
mod parse;

pub use init_args::{KNOWN_PARAMS, MAX_INIT_ARGS, MAX_INIT_ENVS, is_known};
pub use kernel_params::{
    CONSOLE_LOGLEVEL_DEBUG, CONSOLE_LOGLEVEL_DEFAULT, CONSOLE_LOGLEVEL_QUIET, Console, Ktest,
    Mitigations, Pti, TransparentHugepage,
};
pub use num::{memparse, simple_strtoull};
pub use parse::{Param, Params, next_arg, parameq};

/// A kernel command line, as the boot loader passed it (Linux:
/// `boot_command_line`, `saved_command_line`).
///
/// Parameters before a bare `--` are the kernel's; the words after it go to
/// init's argv (see [`CmdLine::init_argv`]). Accessors such as
/// [`CmdLine::get`] look only at the kernel's part. When a parameter is given
/// more than once, the last occurrence wins, as each Linux `__setup` handler
/// runs once per occurrence and overwrites its variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CmdLine<'a> {
    line: &'a str,
}

impl<'a> CmdLine<'a> {
    /// Wraps `line` without parsing it; parsing happens on each query.
    ///
    /// The kernel should convert the boot loader's bytes to `&str` first
    /// (Linux treats the line as bytes; a line that is not UTF-8 is not
    /// expected from QEMU or any common boot loader).
    pub const fn new(line: &'a str) -> Self {
        Self { line }
    }

    /// The whole line, unchanged (what `/proc/cmdline` shows).
    pub const fn as_str(&self) -> &'a str {
        self.line
    }

    /// The kernel's parameters, in order, up to (not including) a bare `--`.
    pub fn params(&self) -> Params<'a> {
        Params::new(self.line)
    }

    /// What follows the first bare `--`, with leading whitespace removed, or
    /// `None` if there is no `--`.
    pub fn after_dashes(&self) -> Option<&'a str> {
        let mut params = self.params();
        params.by_ref().for_each(drop);
        params.after_dashes()
    }

    /// The value of the last `key=value` parameter named `key`.
    ///
    /// Names compare as Linux's `parameq` does: `-` and `_` are the same.
    /// A bare `key` word has no value and is not returned.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.get_all(key).last()
    }

    /// The values of all `key=value` parameters named `key`, in order.
    pub fn get_all<'k>(&self, key: &'k str) -> impl Iterator<Item = &'a str> + use<'a, 'k> {
        self.params().filter(move |p| parameq(p.key, key)).filter_map(|p| p.value)
    }

    /// Whether a parameter named `name` is present, bare or with a value.
    ///
    /// This is how Linux's `early_param` flags (`quiet`, `debug`, `nosmp`)
    /// behave: `quiet=1` counts as `quiet`.
    pub fn has(&self, name: &str) -> bool {
        self.params().any(|p| parameq(p.key, name))
    }

    /// Whether the bare word `name` (without `=`) is present.
    ///
    /// This is how Linux's `__setup` flags (`ro`, `rw`) behave: `ro=1` is not
    /// `ro`.
    pub fn has_bare(&self, name: &str) -> bool {
        self.params().any(|p| p.value.is_none() && parameq(p.key, name))
    }
}

impl<'a> IntoIterator for &CmdLine<'a> {
    type Item = Param<'a>;
    type IntoIter = Params<'a>;

    fn into_iter(self) -> Params<'a> {
        self.params()
    }
}

impl<'a> IntoIterator for CmdLine<'a> {
    type Item = Param<'a>;
    type IntoIter = Params<'a>;

    fn into_iter(self) -> Params<'a> {
        self.params()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_returns_last_value_and_ignores_bare_words() {
        let c = CmdLine::new("root=/dev/vda root=/dev/vda1 root console");
        assert_eq!(c.get("root"), Some("/dev/vda1"));
        assert_eq!(c.get("console"), None);
        assert_eq!(c.get("nothing"), None);
        assert_eq!(c.get_all("root").collect::<Vec<_>>(), ["/dev/vda", "/dev/vda1"]);
    }

    #[test]
    fn dashes_and_underscores_are_equal_in_names() {
        let c = CmdLine::new("transparent-hugepage=never foo_bar");
        assert_eq!(c.get("transparent_hugepage"), Some("never"));
        assert!(c.has("foo-bar"));
        assert!(c.has_bare("foo_bar"));
    }

    #[test]
    fn has_and_has_bare() {
        let c = CmdLine::new("quiet=1 ro=1");
        assert!(c.has("quiet"));
        assert!(!c.has_bare("quiet"));
        assert!(c.has("ro"));
        assert!(!c.has_bare("ro"));
    }

    #[test]
    fn accessors_stop_at_dashes() {
        let c = CmdLine::new("quiet -- root=/dev/vda loglevel=3");
        assert!(c.has("quiet"));
        assert_eq!(c.get("root"), None);
        assert_eq!(c.after_dashes(), Some("root=/dev/vda loglevel=3"));
        assert_eq!(CmdLine::new("quiet").after_dashes(), None);
        assert_eq!(CmdLine::new("quiet --").after_dashes(), Some(""));
    }

    #[test]
    fn iterates_by_reference_and_value() {
        let c = CmdLine::new(" a b=c ");
        let keys: Vec<_> = (&c).into_iter().map(|p| p.key).collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(c.into_iter().count(), 2);
        assert_eq!(c.as_str(), " a b=c ");
    }
}
