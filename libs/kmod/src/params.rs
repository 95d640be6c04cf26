//! Module parameters: `name=value` words from init_module's argument string
//! written into the module's variables before init runs (Linux:
//! kernel/params.c `parse_args`, `param_set_int`, `param_set_charp`,
//! `param_set_bool`; kernel/module/main.c `find_module_sections`' __param).
//!
//! The SDK's `struct kernel_param` (modules/include/linux/moduleparam.h) is
//! Ferrite's: `{ const char *name; void *arg; u32 type; u16 perm; u16 pad }`,
//! 24 bytes, absolute addresses after relocation. A `charp` is pointed at a
//! copy of its value the loader keeps at the end of the module's data (Linux
//! kstrdup's it), so it lives exactly as long as the module.

use alloc::string::String;
use alloc::vec::Vec;

use crate::elf::{u16_at, u32_at, u64_at};
use crate::{Error, Result};

const KERNEL_PARAM_SIZE: usize = 24;

/// A parameter's C type (the SDK's `MODULE_PARAM_TYPE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    Int,
    Charp,
    Bool,
}

/// One `module_param`: its name, type, sysfs permissions and the address of
/// the variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub kind: ParamType,
    pub perm: u16,
    pub addr: u64,
}

/// The `struct kernel_param`s of a relocated `__param` section.
pub(crate) fn read_params(
    table: &[u8],
    read_str: &dyn Fn(u64) -> Result<String>,
) -> Result<Vec<Param>> {
    if !table.len().is_multiple_of(KERNEL_PARAM_SIZE) {
        return Err(Error::Malformed("__param size"));
    }
    let mut out = Vec::new();
    for raw in table.chunks_exact(KERNEL_PARAM_SIZE) {
        let kind = match u32_at(raw, 16) {
            Some(0) => ParamType::Int,
            Some(1) => ParamType::Charp,
            Some(2) => ParamType::Bool,
            _ => return Err(Error::Malformed("parameter type")),
        };
        let name = read_str(u64_at(raw, 0).unwrap_or(0))?;
        out.try_reserve(1).map_err(|_| Error::Malformed("too many parameters"))?;
        out.push(Param {
            name,
            kind,
            perm: u16_at(raw, 20).unwrap_or(0),
            addr: u64_at(raw, 8).unwrap_or(0),
        });
    }
    Ok(out)
}

/// Splits `args` into `(name, value)` words, honouring double quotes around
/// a value or a whole word; a bare name has no value (Linux: `next_arg`).
pub fn split_args(args: &[u8]) -> Vec<(&[u8], Option<&[u8]>)> {
    let mut words = Vec::new();
    let mut i = 0;
    while i < args.len() {
        while args.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let start = i;
        let mut quoted = false;
        while let Some(&c) = args.get(i) {
            if c == b'"' {
                quoted = !quoted;
            } else if c.is_ascii_whitespace() && !quoted {
                break;
            }
            i += 1;
        }
        let word = &args[start..i];
        if word.is_empty() {
            continue;
        }
        let strip = |s: &'_ [u8]| -> usize { usize::from(s.first() == Some(&b'"')) };
        let word = &word[strip(word)..];
        match word.iter().position(|&b| b == b'=') {
            Some(eq) => {
                let mut value = &word[eq + 1..];
                value = &value[strip(value)..];
                if value.last() == Some(&b'"') {
                    value = &value[..value.len() - 1];
                }
                words.push((&word[..eq], Some(value)));
            }
            None => words.push((word.strip_suffix(b"\"").unwrap_or(word), None)),
        }
    }
    words
}

/// Linux: `kstrtoint(s, 0, ...)`: decimal, `0x` hex or `0` octal, a sign.
pub fn parse_int(s: &[u8]) -> Option<i32> {
    let text = core::str::from_utf8(s).ok()?;
    let text = text.strip_suffix('\n').unwrap_or(text);
    let (neg, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) =
        if let Some(h) = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
            (16, h)
        } else if digits.len() > 1 && digits.starts_with('0') {
            (8, &digits[1..])
        } else {
            (10, digits)
        };
    if digits.starts_with(['+', '-']) {
        return None;
    }
    let v = i64::from_str_radix(digits, radix).ok()?;
    i32::try_from(if neg { -v } else { v }).ok()
}

/// Linux: `kstrtobool` as `param_set_bool` uses it; a bare name is true.
pub fn parse_bool(s: Option<&[u8]>) -> Option<bool> {
    match s {
        None => Some(true),
        Some(v) => match v.first() {
            Some(b'y' | b'Y' | b'1') => Some(true),
            Some(b'n' | b'N' | b'0') => Some(false),
            Some(b'o' | b'O') => match v.get(1) {
                Some(b'n' | b'N') => Some(true),
                Some(b'f' | b'F') => Some(false),
                _ => None,
            },
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_quotes() {
        let w = split_args(b" who=you  times=0x10 fail \"msg=a b\" x=\"c d\" ");
        assert_eq!(
            w,
            vec![
                (&b"who"[..], Some(&b"you"[..])),
                (&b"times"[..], Some(&b"0x10"[..])),
                (&b"fail"[..], None),
                (&b"msg"[..], Some(&b"a b"[..])),
                (&b"x"[..], Some(&b"c d"[..])),
            ]
        );
    }

    #[test]
    fn ints_and_bools() {
        assert_eq!(parse_int(b"42"), Some(42));
        assert_eq!(parse_int(b"-0x10"), Some(-16));
        assert_eq!(parse_int(b"010"), Some(8));
        assert_eq!(parse_int(b"0"), Some(0));
        assert_eq!(parse_int(b"99999999999"), None);
        assert_eq!(parse_int(b"1a"), None);
        assert_eq!(parse_int(b""), None);
        assert_eq!(parse_int(b"--5"), None);
        assert_eq!(parse_bool(None), Some(true));
        assert_eq!(parse_bool(Some(b"N")), Some(false));
        assert_eq!(parse_bool(Some(b"on")), Some(true));
        assert_eq!(parse_bool(Some(b"maybe")), None);
    }
}
