//! Random, truncated and bit-flipped objects give errors, never panics;
//! the relocation arithmetic agrees with a 128-bit model.

#![allow(clippy::cast_possible_truncation, reason = "test offsets are small")]

mod common;

use kmod::{Elf, Error, load, modinfo, relocate};
use proptest::prelude::*;

fn try_load(bytes: &[u8]) -> Result<(), Error> {
    let elf = Elf::parse(bytes)?;
    let _ = modinfo(&elf);
    load(&elf, 0xffff_ffff_a000_0000, b"", &mut |n| {
        (n == b"printk").then_some(0xffff_ffff_8100_0000)
    })
    .map(|_| ())
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = common::sample_module(b"name=sample\0");
    assert!(try_load(&bytes).is_ok());
    for len in 0..bytes.len() {
        assert!(try_load(&bytes[..len]).is_err(), "truncated to {len} loaded");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn flipped_bytes_never_panic(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut bytes = common::sample_module(b"name=sample\0");
        for (at, v) in flips {
            let n = bytes.len();
            bytes[at % n] ^= v;
        }
        let _ = try_load(&bytes);
    }

    #[test]
    fn random_bytes_never_panic(mut bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        if bytes.len() >= 64 {
            bytes[..7].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1]);
            bytes[16..20].copy_from_slice(&[1, 0, 62, 0]);
        }
        let _ = try_load(&bytes);
    }

    #[test]
    fn pc32_matches_model(s in any::<u64>(), a in any::<i32>(), p_off in 0u64..4096) {
        let base = 0xffff_ffff_a000_0000u64;
        let mut image = [0u8; 4100];
        let exact = i128::from(s) + i128::from(a) - i128::from(base + p_off);
        let r = relocate(&mut image, base, p_off, 2, s, i64::from(a));
        if let Ok(v) = i32::try_from(exact) {
            prop_assert!(r.is_ok());
            let at = p_off as usize;
            prop_assert_eq!(i32::from_le_bytes(image[at..at + 4].try_into().expect("4")), v);
        } else {
            let overflowed = matches!(r, Err(Error::RelocOverflow { .. }));
            prop_assert!(overflowed);
        }
    }

    #[test]
    fn abs32s_and_abs32_match_model(s in any::<u64>(), a in any::<i64>()) {
        let sa = s.wrapping_add_signed(a);
        let mut image = [0u8; 4];
        let r = relocate(&mut image, 0, 0, 11, s, a);
        prop_assert_eq!(r.is_ok(), i32::try_from(sa as i64).is_ok());
        if r.is_ok() {
            prop_assert_eq!(i64::from(i32::from_le_bytes(image)) as u64, sa);
        }
        let mut image = [0u8; 4];
        let r = relocate(&mut image, 0, 0, 10, s, a);
        prop_assert_eq!(r.is_ok(), u32::try_from(sa).is_ok());
        if r.is_ok() {
            prop_assert_eq!(u64::from(u32::from_le_bytes(image)), sa);
        }
    }

    #[test]
    fn abs64_and_pc64_wrap_as_c(s in any::<u64>(), a in any::<i64>(), p in 0u64..8) {
        let mut image = [0u8; 16];
        relocate(&mut image, 100, p, 1, s, a).expect("64-bit fields hold any value");
        prop_assert_eq!(u64::from_le_bytes(image[p as usize..p as usize + 8].try_into().expect("8")), s.wrapping_add_signed(a));
        let mut image = [0u8; 16];
        relocate(&mut image, 100, p, 24, s, a).expect("64-bit fields hold any value");
        prop_assert_eq!(u64::from_le_bytes(image[p as usize..p as usize + 8].try_into().expect("8")), s.wrapping_add_signed(a).wrapping_sub(100 + p));
    }
}
