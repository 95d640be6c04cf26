//! Property tests: the parser never panics, and simple words round-trip.

use cmdline::{CmdLine, KNOWN_PARAMS, Params, memparse, next_arg, simple_strtoull};
use proptest::prelude::*;

/// Exercises every entry point on `line`.
fn use_everything(line: &str) {
    let c = CmdLine::new(line);
    for p in c.params() {
        let _ = p.to_string();
    }
    let _ = c.after_dashes();
    let _ = (c.console(), c.consoles().count(), c.loglevel(), c.console_loglevel());
    let _ = (c.quiet(), c.debug(), c.init(), c.rdinit(), c.root(), c.rootfstype());
    let _ = (c.ro(), c.rw(), c.root_readonly(), c.maxcpus(), c.nosmp(), c.ktest());
    let _ = (c.mitigations(), c.pti(), c.transparent_hugepage());
    c.init_argv(KNOWN_PARAMS).for_each(|p| drop(p.to_string()));
    c.init_envp(KNOWN_PARAMS).for_each(|p| drop(p.to_string()));
    let _ = memparse(line);
    for base in 0..=16 {
        let _ = simple_strtoull(line, base);
    }
}

proptest! {
    #[test]
    fn never_panics_on_any_text(line in any::<String>()) {
        use_everything(&line);
    }

    #[test]
    fn never_panics_on_cmdline_like_text(line in "[a-z0-9=\", \t._-]{0,64}") {
        use_everything(&line);
    }

    #[test]
    fn words_are_substrings_and_parsing_terminates(line in "[a-c=\" \t-]{0,40}") {
        let mut rest = line.as_str();
        let mut steps = 0;
        while let Some((p, next)) = next_arg(rest) {
            prop_assert!(line.contains(p.key));
            if let Some(v) = p.value {
                prop_assert!(line.contains(v));
            }
            prop_assert!(next.len() < rest.len(), "next_arg always makes progress");
            rest = next;
            steps += 1;
        }
        prop_assert!(steps <= line.len());
    }

    #[test]
    fn simple_words_round_trip(
        words in prop::collection::vec("[a-zA-Z0-9_./,=:-]{1,12}", 0..12),
        seps in prop::collection::vec("[ \t\n]{1,3}", 12),
        lead in "[ \t]{0,2}",
        trail in "[ \t]{0,2}",
    ) {
        let words: Vec<String> = words.into_iter().filter(|w| w != "--").collect();
        let mut line = lead;
        for (i, w) in words.iter().enumerate() {
            if i > 0 {
                line.push_str(&seps[i]);
            }
            line.push_str(w);
        }
        line.push_str(&trail);
        let parsed: Vec<String> = Params::new(&line).map(|p| p.to_string()).collect();
        prop_assert_eq!(parsed, words);
    }

    #[test]
    fn quoted_values_round_trip(key in "[a-z_]{1,8}", value in "[a-z =,]{0,12}") {
        let line = format!("x {key}=\"{value}\" y");
        let params: Vec<_> = Params::new(&line).collect();
        prop_assert_eq!(params.len(), 3);
        prop_assert_eq!(params[1].key, key.as_str());
        prop_assert_eq!(params[1].value, Some(value.as_str()));
    }

    #[test]
    fn init_gets_unknown_words_only(
        words in prop::collection::vec("[a-z]{1,6}(=[a-z]{0,4})?", 0..10),
    ) {
        let line = words.join(" ");
        let c = CmdLine::new(&line);
        for p in c.init_argv(KNOWN_PARAMS).chain(c.init_envp(KNOWN_PARAMS)) {
            prop_assert!(!cmdline::is_known(&p, KNOWN_PARAMS));
        }
        for p in c.init_envp(KNOWN_PARAMS) {
            prop_assert!(p.value.is_some());
        }
    }
}
