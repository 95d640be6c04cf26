//! Splitting the command line into `key[=value]` words.
//!
//! Linux: `lib/cmdline.c` (`next_arg`), `kernel/params.c` (`parse_args`,
//! `parameq`), `lib/string.c` (`skip_spaces`).
//!
//! Linux's quoting rules, reproduced exactly:
//! - words are separated by whitespace outside double quotes;
//! - a `"` toggles quoting anywhere in a word, but only these quotes are
//!   removed: one opening the word (`"key=a b"`), one opening the value
//!   (`key="a b"`), and the one ending the word if it closes either of them;
//!   quotes elsewhere stay (`a"b c"d` is the word `a"b c"d`);
//! - there is no escape for `"`;
//! - the key ends at the first `=` not at the very start of the word (Linux
//!   takes an `=` at index 0 as "no `=` yet");
//! - a bare `--` (no `=`) ends the kernel's parameters.
//!
//! Whitespace is Linux's `isspace()` on ASCII: space, `\t`, `\n`, `\v`, `\f`,
//! `\r`. Linux's ctype table also counts the Latin-1 byte 0xA0; a `&str` cannot
//! hold that byte alone, so it is not a separator here.

use core::fmt;

/// One command-line word: `key`, or `key=value` with the quotes removed.
///
/// `Display` writes it back as Linux's `repair_env_string` does: `key` or
/// `key=value` (without the quotes), which is exactly the string init gets in
/// its argv or envp.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Param<'a> {
    /// The name: everything before the first `=` (Linux: `param`).
    pub key: &'a str,
    /// The text after the first `=`, or `None` for a bare word (Linux: `val`).
    pub value: Option<&'a str>,
}

impl fmt::Display for Param<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value {
            Some(value) => write!(f, "{}={}", self.key, value),
            None => f.write_str(self.key),
        }
    }
}

/// Linux's `isspace()` restricted to ASCII.
const fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Removes leading whitespace (Linux: `skip_spaces`).
fn skip_spaces(s: &str) -> &str {
    s.trim_start_matches(|c: char| c.is_ascii() && is_space(c as u8))
}

/// Compares parameter names, treating `-` and `_` as equal (Linux: `parameq`).
pub fn parameq(a: &str, b: &str) -> bool {
    let dash_to_underscore = |c: u8| if c == b'-' { b'_' } else { c };
    a.len() == b.len()
        && a.bytes().zip(b.bytes()).all(|(x, y)| dash_to_underscore(x) == dash_to_underscore(y))
}

/// Parses the first word of `args` (Linux: `next_arg`).
///
/// Leading whitespace is skipped first. Returns the word and the rest of the
/// line with its leading whitespace removed, or `None` when only whitespace is
/// left. Unlike [`Params`], this does not treat `--` specially.
///
/// All indices below point at ASCII bytes (quotes, `=`, whitespace), so every
/// slice falls on a character boundary.
pub fn next_arg(args: &str) -> Option<(Param<'_>, &str)> {
    let s = skip_spaces(args);
    let b = s.as_bytes();
    let first = *b.first()?;
    let quoted = first == b'"';
    let start = usize::from(quoted);

    let mut in_quote = quoted;
    let mut equals = None;
    let mut end = start;
    while let Some(&c) = b.get(end) {
        if is_space(c) && !in_quote {
            break;
        }
        if equals.is_none() && c == b'=' && end != start {
            equals = Some(end);
        }
        if c == b'"' {
            in_quote = !in_quote;
        }
        end += 1;
    }

    // `b[end - 1]` is the word's last byte; `end > start` whenever it is read.
    let ends_with_quote = end > start && b[end - 1] == b'"';
    let param = match equals {
        None => {
            let key_end = if quoted && ends_with_quote { end - 1 } else { end };
            Param { key: &s[start..key_end], value: None }
        }
        Some(eq) => {
            let mut value_start = eq + 1;
            let mut value_end = end;
            if b.get(value_start) == Some(&b'"') && value_start < end {
                // Linux: "Don't include quotes in value."
                value_start += 1;
                if ends_with_quote {
                    value_end = end - 1;
                }
            } else if quoted && ends_with_quote {
                // The whole word was quoted: `"key=a b"`.
                value_end = end - 1;
            }
            // `key="` leaves an empty value (the opening quote is also last).
            let value_end = value_end.max(value_start);
            Param { key: &s[start..eq], value: Some(&s[value_start..value_end]) }
        }
    };

    // Skip the separator (one ASCII whitespace byte) if there is one.
    let rest = s.get(end + 1..).unwrap_or("");
    Some((param, skip_spaces(rest)))
}

/// Iterator over the kernel's parameters: the words up to a bare `--`
/// (Linux: the loop of `parse_args`).
#[derive(Clone, Debug)]
pub struct Params<'a> {
    rest: &'a str,
    after_dashes: Option<&'a str>,
}

impl<'a> Params<'a> {
    /// Iterates over the words of `line`.
    pub const fn new(line: &'a str) -> Self {
        Self { rest: line, after_dashes: None }
    }

    /// Once the iterator has stopped at a bare `--`: the text after it, as
    /// Linux's `parse_args` returns it. `None` before that, or when the line
    /// ended without `--`.
    pub const fn after_dashes(&self) -> Option<&'a str> {
        self.after_dashes
    }
}

impl<'a> Iterator for Params<'a> {
    type Item = Param<'a>;

    fn next(&mut self) -> Option<Param<'a>> {
        let (param, rest) = next_arg(self.rest)?;
        if param.value.is_none() && param.key == "--" {
            self.rest = "";
            self.after_dashes = Some(rest);
            return None;
        }
        self.rest = rest;
        Some(param)
    }
}

impl core::iter::FusedIterator for Params<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(word: &str) -> (&str, Option<&str>) {
        let (p, rest) = next_arg(word).expect("test input has a word");
        assert_eq!(rest, "", "{word:?} is a single word");
        (p.key, p.value)
    }

    fn words(line: &str) -> Vec<(&str, Option<&str>)> {
        Params::new(line).map(|p| (p.key, p.value)).collect()
    }

    #[test]
    fn splits_on_any_ascii_whitespace() {
        assert_eq!(
            words(" a\tb=c\n\x0bd\x0c\re  "),
            [("a", None), ("b", Some("c")), ("d", None), ("e", None)]
        );
        assert_eq!(words(""), []);
        assert_eq!(words(" \t\n "), []);
    }

    #[test]
    fn value_is_everything_after_the_first_equals() {
        assert_eq!(one("a=b=c"), ("a", Some("b=c")));
        assert_eq!(one("a="), ("a", Some("")));
        assert_eq!(one("console=ttyS0,115200n8"), ("console", Some("ttyS0,115200n8")));
    }

    #[test]
    fn equals_at_start_of_word_is_not_a_separator() {
        assert_eq!(one("=x"), ("=x", None));
        assert_eq!(one("=a=b"), ("=a", Some("b")));
        assert_eq!(one("\"=x\""), ("=x", None));
    }

    #[test]
    fn quoted_value() {
        assert_eq!(words("key=\"a b\" c"), [("key", Some("a b")), ("c", None)]);
        assert_eq!(one("key=\"\""), ("key", Some("")));
        assert_eq!(one("key=\""), ("key", Some("")));
    }

    #[test]
    fn quoted_word() {
        assert_eq!(words("\"key=va lue\" x"), [("key", Some("va lue")), ("x", None)]);
        assert_eq!(one("\"a b\""), ("a b", None));
        assert_eq!(one("\"\""), ("", None));
        assert_eq!(one("\"a=\""), ("a", Some("")));
    }

    #[test]
    fn inner_quotes_stay() {
        assert_eq!(one("a\"b c\"d"), ("a\"b c\"d", None));
        assert_eq!(one("k=a\"b c\""), ("k", Some("a\"b c\"")));
        // `"k="a b""`: the second quote closes the first, so the space splits.
        assert_eq!(words("\"k=\"a b\"\""), [("k", Some("a")), ("b\"\"", None)]);
    }

    #[test]
    fn unterminated_quote_runs_to_end_of_line() {
        assert_eq!(words("a=\"b c d"), [("a", Some("b c d"))]);
        assert_eq!(words("\"a b"), [("a b", None)]);
        assert_eq!(words("\""), [("", None)]);
    }

    #[test]
    fn non_ascii_text_is_kept() {
        assert_eq!(words("clé=värde ünï"), [("clé", Some("värde")), ("ünï", None)]);
    }

    #[test]
    fn dashes_end_the_kernel_params() {
        let mut p = Params::new("a -- b -- c");
        assert_eq!(p.after_dashes(), None);
        assert_eq!(p.next().map(|p| p.key), Some("a"));
        assert_eq!(p.next(), None);
        assert_eq!(p.after_dashes(), Some("b -- c"));
        assert_eq!(p.next(), None);
        // A quoted `--` is still `--` after the quotes go, as in Linux;
        // `--=x` has a value and is an ordinary word.
        assert_eq!(words("\"--\" b"), []);
        assert_eq!(words("--=x ---"), [("--", Some("x")), ("---", None)]);
    }

    #[test]
    fn display_repairs_the_word() {
        let (p, _) = next_arg("key=\"a b\"").expect("a word");
        assert_eq!(p.to_string(), "key=a b");
        let (p, _) = next_arg("\"bare word\"").expect("a word");
        assert_eq!(p.to_string(), "bare word");
    }

    #[test]
    fn parameq_treats_dash_as_underscore() {
        assert!(parameq("a-b_c", "a_b-c"));
        assert!(!parameq("a-b", "a-bc"));
        assert!(!parameq("ab", "a_"));
    }
}
