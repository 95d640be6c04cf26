//! A C `printf` for `_printk`: the conversions modules use (`%s %d %i %u
//! %x %X %p %c %%` with `l`, `ll`, `z`, `h`, `hh` lengths, `-`/`0` flags and
//! a width), and the `KERN_<LEVEL>` prefix (Linux: lib/vsprintf.c
//! `vsnprintf`, include/linux/kern_levels.h `printk_get_level`).
//!
//! The arguments come from a [`VaArgs`], which the kernel implements over
//! the registers and stack of a variadic call; `%s` asks it to read the
//! string, so this module never touches memory itself.
// A C integer conversion truncates the argument to the type the length
// modifiers name: the casts below are that truncation, on purpose.
#![allow(clippy::cast_possible_truncation)]

use alloc::vec::Vec;

/// Where a format's arguments come from (Linux: `va_list`).
pub trait VaArgs {
    /// The next integer or pointer argument (`va_arg(ap, u64)`).
    fn next_arg(&mut self) -> u64;
    /// Appends the NUL-terminated string at `addr` to `out` (at most
    /// `max` bytes); `NULL` prints "(null)" before this is asked.
    fn read_str(&mut self, addr: u64, max: usize, out: &mut Vec<u8>);
    /// What `%p` prints for `addr`: Linux prints a hash, not the address.
    fn hash_ptr(&mut self, addr: u64) -> u64;
}

/// Splits `KERN_<LEVEL>` ("\x01" and a digit or `c`) off a format.
pub fn printk_get_level(fmt: &[u8]) -> (Option<u8>, &[u8]) {
    match fmt {
        [1, level @ (b'0'..=b'7' | b'c' | b'd'), rest @ ..] => (Some(*level), rest),
        _ => (None, fmt),
    }
}

/// Longest string `%s` copies, a guard against an unterminated pointer.
const MAX_STR: usize = 1024;

#[derive(Default)]
struct Spec {
    left: bool,
    zero: bool,
    width: usize,
    long: u8,
    half: u8,
}

fn pad(out: &mut Vec<u8>, body: &[u8], spec: &Spec, negative: bool) {
    let len = body.len() + usize::from(negative);
    let fill = spec.width.saturating_sub(len);
    if spec.left {
        if negative {
            out.push(b'-');
        }
        out.extend_from_slice(body);
        out.extend(core::iter::repeat_n(b' ', fill));
    } else if spec.zero {
        if negative {
            out.push(b'-');
        }
        out.extend(core::iter::repeat_n(b'0', fill));
        out.extend_from_slice(body);
    } else {
        out.extend(core::iter::repeat_n(b' ', fill));
        if negative {
            out.push(b'-');
        }
        out.extend_from_slice(body);
    }
}

fn digits(mut v: u64, radix: u64, upper: bool) -> Vec<u8> {
    let set: &[u8; 16] = if upper { b"0123456789ABCDEF" } else { b"0123456789abcdef" };
    let mut buf = Vec::new();
    loop {
        buf.push(set[(v % radix) as usize]);
        v /= radix;
        if v == 0 {
            break;
        }
    }
    buf.reverse();
    buf
}

/// Truncates a raw argument to the C type the length modifiers name.
fn unsigned_of(raw: u64, spec: &Spec) -> u64 {
    match (spec.long, spec.half) {
        (0, 1) => u64::from(raw as u16),
        (0, 2) => u64::from(raw as u8),
        (0, _) => u64::from(raw as u32),
        _ => raw,
    }
}

fn signed_of(raw: u64, spec: &Spec) -> i64 {
    match (spec.long, spec.half) {
        (0, 1) => i64::from(raw as i16),
        (0, 2) => i64::from(raw as i8),
        (0, _) => i64::from(raw as i32),
        _ => raw as i64,
    }
}

/// Formats `fmt` with `args` into `out` (Linux: `vsnprintf`). Unknown
/// conversions are copied as they are, as Linux does with `%` + junk.
pub fn format(fmt: &[u8], args: &mut dyn VaArgs, out: &mut Vec<u8>) {
    let mut i = 0;
    while let Some(&c) = fmt.get(i) {
        i += 1;
        if c != b'%' {
            out.push(c);
            continue;
        }
        let start = i - 1;
        let mut spec = Spec::default();
        while let Some(&f) = fmt.get(i) {
            match f {
                b'-' => spec.left = true,
                b'0' => spec.zero = true,
                _ => break,
            }
            i += 1;
        }
        while let Some(d @ b'0'..=b'9') = fmt.get(i) {
            spec.width =
                spec.width.saturating_mul(10).saturating_add(usize::from(d - b'0')).min(256);
            i += 1;
        }
        while let Some(&m) = fmt.get(i) {
            match m {
                b'l' | b'z' | b'j' | b't' => spec.long = spec.long.saturating_add(1),
                b'h' => spec.half = spec.half.saturating_add(1),
                _ => break,
            }
            i += 1;
        }
        let Some(&conv) = fmt.get(i) else {
            out.extend_from_slice(&fmt[start..]);
            break;
        };
        i += 1;
        match conv {
            b'%' => out.push(b'%'),
            b'd' | b'i' => {
                let v = signed_of(args.next_arg(), &spec);
                pad(out, &digits(v.unsigned_abs(), 10, false), &spec, v < 0);
            }
            b'u' => pad(out, &digits(unsigned_of(args.next_arg(), &spec), 10, false), &spec, false),
            b'x' | b'X' => {
                let body = digits(unsigned_of(args.next_arg(), &spec), 16, conv == b'X');
                pad(out, &body, &spec, false);
            }
            b'c' => pad(out, &[args.next_arg() as u8], &spec, false),
            b's' => {
                let addr = args.next_arg();
                let mut s = Vec::new();
                if addr == 0 {
                    s.extend_from_slice(b"(null)");
                } else {
                    args.read_str(addr, MAX_STR, &mut s);
                }
                spec.zero = false;
                pad(out, &s, &spec, false);
            }
            b'p' => {
                let addr = args.next_arg();
                // `%px` prints the address itself, `%p` a hash (Linux).
                let shown = if fmt.get(i) == Some(&b'x') {
                    i += 1;
                    addr
                } else {
                    args.hash_ptr(addr)
                };
                let body = digits(shown, 16, false);
                let spec = Spec { zero: true, width: spec.width.max(16), ..spec };
                pad(out, &body, &spec, false);
            }
            _ => out.extend_from_slice(&fmt[start..i]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Args(Vec<u64>, usize);

    impl VaArgs for Args {
        fn next_arg(&mut self) -> u64 {
            self.1 += 1;
            self.0.get(self.1 - 1).copied().unwrap_or(0)
        }
        fn read_str(&mut self, addr: u64, max: usize, out: &mut Vec<u8>) {
            let s: &[u8] = if addr == 1 { b"world" } else { b"?" };
            out.extend_from_slice(&s[..s.len().min(max)]);
        }
        fn hash_ptr(&mut self, addr: u64) -> u64 {
            addr ^ 0xffff
        }
    }

    fn fmt(f: &str, args: &[u64]) -> String {
        let mut out = Vec::new();
        format(f.as_bytes(), &mut Args(args.to_vec(), 0), &mut out);
        String::from_utf8(out).expect("ascii")
    }

    #[test]
    fn conversions_match_c() {
        assert_eq!(fmt("hello %s!", &[1]), "hello world!");
        assert_eq!(fmt("%d %i %u", &[(-5i64) as u64, 7, u64::MAX]), "-5 7 4294967295");
        assert_eq!(fmt("%ld %lu", &[(-5i64) as u64, u64::MAX]), "-5 18446744073709551615");
        assert_eq!(fmt("%x %X %lx", &[255, 255, 1 << 40]), "ff FF 10000000000");
        assert_eq!(fmt("%c%c %%", &[b'o' as u64, b'k' as u64]), "ok %");
        assert_eq!(
            fmt("[%5d|%-5d|%05d|%-3s]", &[42, 42, (-42i64) as u64, 0]),
            "[   42|42   |-0042|(null)]"
        );
        assert_eq!(fmt("%px %p", &[0x1234, 0xff]), "0000000000001234 000000000000ff00");
        assert_eq!(fmt("%hhd %hu", &[0x1ff, 0x1_0001]), "-1 1");
        assert_eq!(fmt("%q %", &[]), "%q %");
    }

    #[test]
    fn level_prefix() {
        assert_eq!(printk_get_level(b"\x016hi"), (Some(b'6'), &b"hi"[..]));
        assert_eq!(printk_get_level(b"hi"), (None, &b"hi"[..]));
        assert_eq!(printk_get_level(b"\x01"), (None, &b"\x01"[..]));
    }
}
