//! Which command-line words init receives in its argv and envp.
//!
//! Linux: `init/main.c` (`unknown_bootoption`, `set_init_arg`, `init_setup`,
//! `rdinit_setup`, `obsolete_checksetup`, `repair_env_string`).
//!
//! Linux's rules, for the words before `--`:
//! 1. a word the kernel knows is consumed (a `__setup`, `early_param` or
//!    built-in `module_param`);
//! 2. an unknown word whose name contains a `.` is an unused module parameter
//!    (`foo.bar=1`) and is dropped; `modprobe` finds it in `/proc/cmdline`;
//! 3. an unknown `key=value` goes to init's environment; a later word with the
//!    same key replaces the earlier one in place;
//! 4. an unknown bare word goes to init's argv, after `argv[0]`;
//! 5. `init=` and `rdinit=` throw away the argv words collected before them
//!    (a workaround for LILO prepending `auto`).
//!
//! Every word after the first bare `--` goes to argv, `key=value` words
//! included, until a second bare `--`; Linux drops whatever follows that one.
//!
//! What the kernel adds (not done here): argv\[0\] is the init path; Linux
//! starts envp with `HOME=/` and `TERM=linux`, and a command-line word with the
//! same key (`TERM=vt100`) replaces the default in place, as in rule 3. Linux
//! panics ("Too many boot env vars") when more than [`MAX_INIT_ARGS`] argv or
//! [`MAX_INIT_ENVS`] envp entries accumulate, defaults included.

use crate::CmdLine;
use crate::parse::{Param, Params, parameq};

/// Most arguments Linux passes to init (Linux: `MAX_INIT_ARGS`,
/// `CONFIG_INIT_ENV_ARG_LIMIT` = 32).
pub const MAX_INIT_ARGS: usize = 32;

/// Most environment strings Linux passes to init, `HOME=/` and `TERM=linux`
/// included (Linux: `MAX_INIT_ENVS`, `CONFIG_INIT_ENV_ARG_LIMIT` = 32).
pub const MAX_INIT_ENVS: usize = 32;

/// The parameters Ferrite's kernel consumes, spelled as Linux registers them.
///
/// An entry `name=` (a `__setup("name=")`) consumes `name=value` words; an
/// entry `name` consumes the bare word `name`. Linux's `early_param` names
/// consume both forms, so they appear twice. `-` and `_` are equal in names.
///
/// `pti` and `nopti` became early parameters in Linux 6.5; Linux 6.1 read them
/// from the raw line and still passed them on to init. They are consumed here,
/// as current Linux does.
pub const KNOWN_PARAMS: &[&str] = &[
    // __setup in init/main.c, init/do_mounts.c, kernel/printk/printk.c,
    // mm/huge_memory.c.
    "console=",
    "init=",
    "rdinit=",
    "root=",
    "rootfstype=",
    "rootflags=",
    "rootdelay=",
    "rootwait",
    "ro",
    "rw",
    "transparent_hugepage=",
    // early_param: both forms.
    "quiet",
    "quiet=",
    "debug",
    "debug=",
    "loglevel",
    "loglevel=",
    "maxcpus",
    "maxcpus=",
    "nosmp",
    "nosmp=",
    "mitigations",
    "mitigations=",
    "pti",
    "pti=",
    "nopti",
    "nopti=",
    // Ferrite's own: runs the in-kernel self-tests; crashes on purpose
    // (Linux's LKDTM takes `lkdtm.cpoint_name=`, a module parameter).
    "ktest",
    "ktest=",
    "lkdtm=",
];

/// Whether `param` is consumed by an entry of `known` (see [`KNOWN_PARAMS`]
/// for the spelling of entries).
pub fn is_known(param: &Param<'_>, known: &[&str]) -> bool {
    known.iter().any(|entry| match entry.strip_suffix('=') {
        Some(name) => param.value.is_some() && parameq(param.key, name),
        None => param.value.is_none() && parameq(param.key, entry),
    })
}

/// Where an unknown word before `--` goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dest {
    Argv,
    Envp,
}

/// Linux: `unknown_bootoption`, after `parse_one` found no kernel parameter.
fn destination(param: &Param<'_>, known: &[&str]) -> Option<Dest> {
    if is_known(param, known) || param.key.contains('.') {
        None
    } else if param.value.is_some() {
        Some(Dest::Envp)
    } else {
        Some(Dest::Argv)
    }
}

/// Whether `param` is a consumed `init=` or `rdinit=`, which clears argv.
fn resets_argv(param: &Param<'_>, known: &[&str]) -> bool {
    param.value.is_some()
        && (parameq(param.key, "init") || parameq(param.key, "rdinit"))
        && is_known(param, known)
}

impl<'a> CmdLine<'a> {
    /// The arguments init receives after its `argv[0]`, in order; `known`
    /// lists the parameters the kernel consumes (normally [`KNOWN_PARAMS`]).
    ///
    /// Each item's `Display` is the argument string (`key=value` for words
    /// after `--`, quotes removed).
    pub fn init_argv<'k>(
        &self,
        known: &'k [&'k str],
    ) -> impl Iterator<Item = Param<'a>> + Clone + use<'a, 'k> {
        let first_kept = self
            .params()
            .enumerate()
            .filter(|(_, p)| resets_argv(p, known))
            .last()
            .map_or(0, |(i, _)| i + 1);
        let before_dashes = self
            .params()
            .skip(first_kept)
            .filter(move |p| destination(p, known) == Some(Dest::Argv));
        // A second `--` ends the list: `Params` stops there too.
        let after_dashes = Params::new(self.after_dashes().unwrap_or(""));
        before_dashes.chain(after_dashes)
    }

    /// The environment strings init receives from the command line, in order;
    /// `known` lists the parameters the kernel consumes.
    ///
    /// A key given twice appears once, at its first position, with its last
    /// value. Each item's `Display` is the `key=value` string.
    pub fn init_envp<'k>(
        &self,
        known: &'k [&'k str],
    ) -> impl Iterator<Item = Param<'a>> + Clone + use<'a, 'k> {
        let env = self.params().filter(move |p| destination(p, known) == Some(Dest::Envp));
        let all = env.clone();
        env.enumerate().filter_map(move |(i, p)| {
            // Linux compares `key=` exactly here (strncmp), not with parameq.
            let seen_before = all.clone().take(i).any(|q| q.key == p.key);
            if seen_before { None } else { all.clone().filter(|q| q.key == p.key).last() }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<String> {
        CmdLine::new(line).init_argv(KNOWN_PARAMS).map(|p| p.to_string()).collect()
    }

    fn envp(line: &str) -> Vec<String> {
        CmdLine::new(line).init_envp(KNOWN_PARAMS).map(|p| p.to_string()).collect()
    }

    #[test]
    fn known_params_are_consumed() {
        let line = "console=ttyS0 root=/dev/vda1 rootfstype=ext2 ro rw quiet debug \
                    loglevel=7 maxcpus=2 nosmp mitigations=off pti=on nopti \
                    transparent_hugepage=never ktest ktest=mm init=/bin/sh rdinit=/init";
        assert_eq!(argv(line), Vec::<String>::new());
        assert_eq!(envp(line), Vec::<String>::new());
    }

    #[test]
    fn unknown_words_go_to_init() {
        let line = "console=ttyS0 single FOO=bar emergency BOOT_IMAGE=/vmlinuz";
        assert_eq!(argv(line), ["single", "emergency"]);
        assert_eq!(envp(line), ["FOO=bar", "BOOT_IMAGE=/vmlinuz"]);
    }

    #[test]
    fn module_params_are_dropped() {
        let line = "foo.bar=1 printk.time foo=a.b x.y";
        assert_eq!(argv(line), Vec::<String>::new());
        assert_eq!(envp(line), ["foo=a.b"]);
    }

    #[test]
    fn setup_names_need_their_form() {
        // `__setup("init=")` does not match a bare `init`; `__setup("ro")`
        // does not match `ro=1`; early params match both forms.
        let line = "init console ro=1 quiet=yes nosmp=1";
        assert_eq!(argv(line), ["init", "console"]);
        assert_eq!(envp(line), ["ro=1"]);
    }

    #[test]
    fn names_match_with_dashes() {
        assert_eq!(envp("transparent-hugepage=never"), Vec::<String>::new());
    }

    #[test]
    fn env_keeps_first_position_and_last_value() {
        assert_eq!(envp("A=1 B=2 A=3 C=4 B=5"), ["A=3", "B=5", "C=4"]);
        // Exact comparison: `A-B` and `A_B` are different variables.
        assert_eq!(envp("A-B=1 A_B=2"), ["A-B=1", "A_B=2"]);
    }

    #[test]
    fn quoted_values_are_unquoted_for_init() {
        assert_eq!(envp("MSG=\"hello world\""), ["MSG=hello world"]);
        assert_eq!(argv("\"two words\""), ["two words"]);
    }

    #[test]
    fn init_and_rdinit_drop_earlier_argv_words() {
        assert_eq!(argv("auto single init=/bin/sh emergency"), ["emergency"]);
        assert_eq!(argv("a rdinit=/init b init=/sbin/init c"), ["c"]);
        // The environment is not affected.
        assert_eq!(envp("X=1 init=/bin/sh"), ["X=1"]);
        // Without a value `init` is an ordinary word and resets nothing.
        assert_eq!(argv("a init b"), ["a", "init", "b"]);
    }

    #[test]
    fn reset_only_when_the_kernel_consumes_init() {
        let c = CmdLine::new("a init=/bin/sh b");
        let argv: Vec<_> = c.init_argv(&[]).map(|p| p.to_string()).collect();
        assert_eq!(argv, ["a", "b"]);
        let envp: Vec<_> = c.init_envp(&[]).map(|p| p.to_string()).collect();
        assert_eq!(envp, ["init=/bin/sh"]);
    }

    #[test]
    fn everything_after_dashes_goes_to_argv() {
        let line = "quiet x -- -s root=/dev/vda \"a b\" foo.bar=1 ktest";
        assert_eq!(argv(line), ["x", "-s", "root=/dev/vda", "a b", "foo.bar=1", "ktest"]);
        assert_eq!(envp(line), Vec::<String>::new());
        // Words after `--` are not reset by a later init=.
        assert_eq!(argv("a -- b init=/x"), ["a", "b", "init=/x"]);
        assert_eq!(argv("init=/bin/sh -- b"), ["b"]);
    }

    #[test]
    fn a_second_dashes_ends_init_args() {
        assert_eq!(argv("a -- b -- c"), ["a", "b"]);
        assert_eq!(argv("-- -- c"), Vec::<String>::new());
    }

    #[test]
    fn empty_word_is_passed_on() {
        // `""` is an empty bare word: Linux hands init an empty argument.
        assert_eq!(argv("\"\""), [""]);
    }
}
