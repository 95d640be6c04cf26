//! `#!` interpreter lines (Linux: fs/binfmt_script.c `load_script`).
//!
//! Linux looks only at the first `BINPRM_BUF_SIZE` bytes of the file: the
//! interpreter is the first word after `#!`, and everything after the
//! spaces that follow it, up to the end of the line with trailing blanks
//! trimmed, is one optional argument. A line that does not end within the
//! buffer is accepted only if the interpreter's name visibly ends in it.

/// Bytes of a file that exec looks at (Linux: `BINPRM_BUF_SIZE`).
pub const BINPRM_BUF_SIZE: usize = 256;

fn spacetab(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

fn terminator(c: u8) -> bool {
    spacetab(c) || c == 0
}

/// The first byte at `from..=last` that is not a space or tab.
fn next_non_spacetab(buf: &[u8], from: usize, last: usize) -> Option<usize> {
    (from..=last).find(|&i| !spacetab(buf[i]))
}

/// The first byte at `from..=last` that ends a word.
fn next_terminator(buf: &[u8], from: usize, last: usize) -> Option<usize> {
    (from..=last).find(|&i| terminator(buf[i]))
}

/// Cuts `s` at its first NUL, as C's string functions see it.
fn c_str(s: &[u8]) -> &[u8] {
    s.iter().position(|&c| c == 0).map_or(s, |n| &s[..n])
}

/// The interpreter and its optional argument named by a `#!` line at the
/// start of `file`, or `None` if this is not a script Linux would run
/// (Linux: `load_script` returning `-ENOEXEC`). The slices point into
/// `file`.
pub fn parse_shebang(file: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    // Linux reads into a zeroed buffer: bytes past the end read as NUL.
    let mut buf = [0u8; BINPRM_BUF_SIZE];
    let n = file.len().min(BINPRM_BUF_SIZE);
    buf[..n].copy_from_slice(&file[..n]);
    if buf[0] != b'#' || buf[1] != b'!' {
        return None;
    }
    let buf_end = BINPRM_BUF_SIZE - 1;
    let mut i_end = match buf.iter().position(|&c| c == b'\n') {
        Some(nl) => nl,
        None => {
            let first = next_non_spacetab(&buf, 2, buf_end)?;
            // No blank or NUL after the name: it was truncated.
            next_terminator(&buf, first, buf_end)?;
            buf_end
        }
    };
    while i_end > 2 && spacetab(buf[i_end - 1]) {
        i_end -= 1;
    }
    let i_name = next_non_spacetab(&buf, 2, i_end).filter(|&i| i != i_end)?;
    let i_sep = next_terminator(&buf, i_name, i_end);
    let i_arg = i_sep.filter(|&s| buf[s] != 0).and_then(|s| next_non_spacetab(&buf, s, i_end));
    let name_end = i_sep.unwrap_or(i_end);
    // Past the file's end the buffer is NUL, which C would stop at.
    let part = |from: usize, to: usize| c_str(file.get(from.min(n)..to.min(n)).unwrap_or(&[]));
    let arg = i_arg.filter(|&a| a < i_end).map(|a| part(a, i_end));
    Some((part(i_name, name_end), arg))
}

#[cfg(test)]
mod tests {
    use super::parse_shebang;

    #[test]
    fn interpreter_and_argument() {
        assert_eq!(parse_shebang(b"#!/bin/sh\necho"), Some((&b"/bin/sh"[..], None)));
        assert_eq!(
            parse_shebang(b"#! /bin/sh -e \t\nx"),
            Some((&b"/bin/sh"[..], Some(&b"-e"[..])))
        );
        assert_eq!(
            parse_shebang(b"#!/usr/bin/env  python3 -u\n"),
            Some((&b"/usr/bin/env"[..], Some(&b"python3 -u"[..])))
        );
        assert_eq!(parse_shebang(b"#!/bin/sh"), Some((&b"/bin/sh"[..], None)));
        assert_eq!(parse_shebang(b"#!/bin/sh \n"), Some((&b"/bin/sh"[..], None)));
    }

    #[test]
    fn not_scripts() {
        assert_eq!(parse_shebang(b""), None);
        assert_eq!(parse_shebang(b"#"), None);
        assert_eq!(parse_shebang(b"\x7fELF"), None);
        assert_eq!(parse_shebang(b"#!   \n"), None);
        assert_eq!(parse_shebang(b"#!\n"), None);
        // A name that runs past the buffer was truncated.
        let mut long = b"#!/".to_vec();
        long.resize(400, b'a');
        assert_eq!(parse_shebang(&long), None);
    }
}
