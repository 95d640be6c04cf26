//! Numbers in command-line values, read as Linux reads them.
//!
//! Linux: `lib/vsprintf.c` (`simple_strtoull`), `lib/kstrtox.c`
//! (`_parse_integer_fixup_radix`, `_parse_integer_limit`), `lib/cmdline.c`
//! (`memparse`, `get_option`).
//!
//! A number is a prefix of the text: parsing stops at the first character that
//! is not a digit, and the caller gets the rest. `0x` or `0X` means hex and a
//! leading `0` octal when the base is 0 (auto).

/// The digits of `s` in `base`: (value, digits read, overflowed).
///
/// The value wraps on overflow, as Linux's does.
fn parse_integer(s: &str, base: u32) -> (u64, usize, bool) {
    let mut value = 0u64;
    let mut overflow = false;
    let mut digits = 0;
    for c in s.bytes() {
        let digit = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'a'..=b'f' => u32::from(c - b'a') + 10,
            b'A'..=b'F' => u32::from(c - b'A') + 10,
            _ => break,
        };
        if digit >= base {
            break;
        }
        let (mul, o1) = value.overflowing_mul(u64::from(base));
        let (sum, o2) = mul.overflowing_add(u64::from(digit));
        overflow |= o1 || o2;
        value = sum;
        digits += 1;
    }
    (value, digits, overflow)
}

/// Picks the base from the prefix when `base` is 0 and skips a `0x`
/// (Linux: `_parse_integer_fixup_radix`). Returns (rest, base).
fn fixup_radix(s: &str, base: u32) -> (&str, u32) {
    let b = s.as_bytes();
    let is_x = |i: usize| b.get(i).is_some_and(|c| c.eq_ignore_ascii_case(&b'x'));
    let base =
        match base {
            0 if b.first() == Some(&b'0') => {
                if is_x(1) && b.get(2).is_some_and(u8::is_ascii_hexdigit) { 16 } else { 8 }
            }
            0 => 10,
            base => base,
        };
    if base == 16 && b.first() == Some(&b'0') && is_x(1) { (&s[2..], 16) } else { (s, base) }
}

/// Reads an unsigned number at the start of `s` (Linux: `simple_strtoull`).
///
/// `base` is 2 to 16, or 0 to choose from the prefix (`0x` hex, `0` octal,
/// otherwise decimal). Returns the value (0 if there are no digits; wrapped
/// modulo 2^64 on overflow, as in Linux) and the text after the number.
pub fn simple_strtoull(s: &str, base: u32) -> (u64, &str) {
    let (digits_start, base) = fixup_radix(s, base);
    let (value, digits, _) = parse_integer(digits_start, base);
    (value, &digits_start[digits..])
}

/// Reads a size with an optional binary suffix `K`, `M`, `G`, `T`, `P` or `E`
/// (either case), as in `mem=512M` (Linux 6.1: `memparse`).
///
/// The number is read as by [`simple_strtoull`] with base 0. Returns the value
/// and the text after the number and suffix. As in Linux 6.1, bits shifted out
/// by the suffix are lost.
pub fn memparse(s: &str) -> (u64, &str) {
    let (value, rest) = simple_strtoull(s, 0);
    let shift = match rest.bytes().next().map(|c| c.to_ascii_uppercase()) {
        Some(b'K') => 10,
        Some(b'M') => 20,
        Some(b'G') => 30,
        Some(b'T') => 40,
        Some(b'P') => 50,
        Some(b'E') => 60,
        _ => return (value, rest),
    };
    (value << shift, &rest[1..])
}

/// Reads the unsigned number at the start of an option value, as Linux's
/// `get_option` does (base 0, text after the number ignored).
///
/// `None` if there is no number, if it is negative (Linux would store it in
/// an `int`), or if it does not fit `T`.
pub(crate) fn get_uint<T: TryFrom<u64>>(s: &str) -> Option<T> {
    let (digits_start, base) = fixup_radix(s, 0);
    let (value, digits, overflow) = parse_integer(digits_start, base);
    if digits == 0 || overflow {
        return None;
    }
    T::try_from(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtoull_bases() {
        assert_eq!(simple_strtoull("1234 x", 10), (1234, " x"));
        assert_eq!(simple_strtoull("0x1fG", 0), (0x1f, "G"));
        assert_eq!(simple_strtoull("0X1F", 0), (0x1f, ""));
        assert_eq!(simple_strtoull("0755", 0), (0o755, ""));
        assert_eq!(simple_strtoull("089", 0), (0, "89"));
        assert_eq!(simple_strtoull("0", 0), (0, ""));
        assert_eq!(simple_strtoull("ff", 16), (0xff, ""));
        assert_eq!(simple_strtoull("0xff", 16), (0xff, ""));
        assert_eq!(simple_strtoull("101012", 2), (0b10101, "2"));
        assert_eq!(simple_strtoull("", 0), (0, ""));
        assert_eq!(simple_strtoull("abc", 10), (0, "abc"));
    }

    #[test]
    fn strtoull_0x_without_hex_digit() {
        // Base 0: `0x` with no hex digit after it is octal 0 followed by `x`.
        assert_eq!(simple_strtoull("0xg", 0), (0, "xg"));
        // Base 16: Linux skips the `0x` anyway.
        assert_eq!(simple_strtoull("0xg", 16), (0, "g"));
    }

    #[test]
    fn strtoull_wraps_like_linux() {
        assert_eq!(simple_strtoull("18446744073709551615", 10).0, u64::MAX);
        assert_eq!(simple_strtoull("18446744073709551616", 10).0, 0);
    }

    #[test]
    fn memparse_suffixes() {
        assert_eq!(memparse("512M"), (512 << 20, ""));
        assert_eq!(memparse("4k@0x1000"), (4096, "@0x1000"));
        assert_eq!(memparse("2G"), (2 << 30, ""));
        assert_eq!(memparse("1t"), (1 << 40, ""));
        assert_eq!(memparse("1P"), (1 << 50, ""));
        assert_eq!(memparse("1e"), (1 << 60, ""));
        assert_eq!(memparse("0x10M"), (16 << 20, ""));
        assert_eq!(memparse("100"), (100, ""));
        assert_eq!(memparse("100x"), (100, "x"));
        // Linux 6.1 consumes a suffix even without digits.
        assert_eq!(memparse("K"), (0, ""));
        // Overflowing bits are dropped, as in Linux 6.1.
        assert_eq!(memparse("16E").0, 0);
    }

    #[test]
    fn get_uint_like_get_option() {
        assert_eq!(get_uint::<u8>("7"), Some(7));
        assert_eq!(get_uint::<u8>("7abc"), Some(7));
        assert_eq!(get_uint::<u32>("0x10"), Some(16));
        assert_eq!(get_uint::<u32>("010"), Some(8));
        assert_eq!(get_uint::<u8>("256"), None);
        assert_eq!(get_uint::<u8>("-1"), None);
        assert_eq!(get_uint::<u8>(""), None);
        assert_eq!(get_uint::<u8>("x"), None);
        assert_eq!(get_uint::<u64>("99999999999999999999"), None);
        // "0" is a number even though the octal prefix ate it.
        assert_eq!(get_uint::<u8>("0"), Some(0));
    }
}
