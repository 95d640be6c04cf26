//! x86_64 relocation arithmetic (Linux: arch/x86/kernel/module.c
//! `__write_relocate_add`).
//!
//! S is the symbol's address, A the addend, P the address of the field.
//! Each kind writes S + A or S + A - P into a field of 4 or 8 bytes; a value
//! that the field cannot hold is an overflow (Linux checks 32 and 32S;
//! Ferrite checks the PC-relative kinds too, since a module placed more
//! than 2 GiB from a symbol would otherwise jump to garbage). As Linux, the
//! field must be zero before it is written: a relocation applied twice is
//! refused rather than summed.

use crate::{Error, Result};

/// The relocation kinds a module built with `-mcmodel=kernel` uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelocType {
    /// `R_X86_64_NONE`
    None,
    /// `R_X86_64_64`: S + A, 8 bytes.
    Abs64,
    /// `R_X86_64_PC32`: S + A - P, signed 4 bytes.
    Pc32,
    /// `R_X86_64_PLT32`: as PC32 (no PLT in the kernel).
    Plt32,
    /// `R_X86_64_32`: S + A, zero-extended 4 bytes.
    Abs32,
    /// `R_X86_64_32S`: S + A, sign-extended 4 bytes.
    Abs32S,
    /// `R_X86_64_PC64`: S + A - P, 8 bytes.
    Pc64,
}

impl RelocType {
    /// Decodes an ELF `r_type`.
    pub fn from_raw(kind: u32) -> Result<Self> {
        Ok(match kind {
            0 => Self::None,
            1 => Self::Abs64,
            2 => Self::Pc32,
            4 => Self::Plt32,
            10 => Self::Abs32,
            11 => Self::Abs32S,
            24 => Self::Pc64,
            other => return Err(Error::UnsupportedReloc(other)),
        })
    }

    fn raw(self) -> u32 {
        match self {
            Self::None => 0,
            Self::Abs64 => 1,
            Self::Pc32 => 2,
            Self::Plt32 => 4,
            Self::Abs32 => 10,
            Self::Abs32S => 11,
            Self::Pc64 => 24,
        }
    }
}

/// The bytes relocation `kind` writes for symbol value `s`, addend `a` at
/// address `p`, or the overflow it would cause.
pub fn reloc_value(kind: RelocType, s: u64, a: i64, p: u64) -> Result<([u8; 8], usize)> {
    let sa = s.wrapping_add_signed(a);
    let overflow = |value: u64| Error::RelocOverflow { kind: kind.raw(), value };
    Ok(match kind {
        RelocType::None => ([0; 8], 0),
        RelocType::Abs64 => (sa.to_le_bytes(), 8),
        RelocType::Pc64 => (sa.wrapping_sub(p).to_le_bytes(), 8),
        RelocType::Abs32 => {
            let v = u32::try_from(sa).map_err(|_| overflow(sa))?;
            (u64::from(v).to_le_bytes(), 4)
        }
        RelocType::Abs32S => {
            let v = i32::try_from(sa as i64).map_err(|_| overflow(sa))?;
            (i64::from(v).to_le_bytes(), 4)
        }
        RelocType::Pc32 | RelocType::Plt32 => {
            // The exact difference, in i128 so that no wrap hides an overflow.
            let d = i128::from(s) + i128::from(a) - i128::from(p);
            let v = i32::try_from(d).map_err(|_| overflow(sa.wrapping_sub(p)))?;
            (i64::from(v).to_le_bytes(), 4)
        }
    })
}

/// Applies one relocation to `image`, loaded at `base`: the field at image
/// offset `offset` gets the value of `kind` for symbol value `s`, addend
/// `a` (Linux: one step of `apply_relocate_add`).
pub fn relocate(image: &mut [u8], base: u64, offset: u64, kind: u32, s: u64, a: i64) -> Result<()> {
    let kind = RelocType::from_raw(kind)?;
    let p = base.checked_add(offset).ok_or(Error::Malformed("relocation offset"))?;
    let (bytes, len) = reloc_value(kind, s, a, p)?;
    if len == 0 {
        return Ok(());
    }
    let at = usize::try_from(offset).map_err(|_| Error::Malformed("relocation offset"))?;
    let end = at.checked_add(len).ok_or(Error::Malformed("relocation offset"))?;
    let field = image.get_mut(at..end).ok_or(Error::Malformed("relocation past section"))?;
    if field.iter().any(|&b| b != 0) {
        return Err(Error::RelocTargetNotZero);
    }
    field.copy_from_slice(&bytes[..len]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pc32_is_relative_to_the_field() {
        let mut image = [0u8; 16];
        relocate(&mut image, 0x1000, 4, 2, 0x1100, -4).expect("in range");
        assert_eq!(
            i32::from_le_bytes([image[4], image[5], image[6], image[7]]),
            0x1100 - 4 - 0x1004
        );
    }

    #[test]
    fn nonzero_target_is_refused() {
        let mut image = [1u8; 8];
        assert_eq!(relocate(&mut image, 0, 0, 1, 5, 0), Err(Error::RelocTargetNotZero));
    }

    #[test]
    fn unknown_kind_and_short_field() {
        let mut image = [0u8; 6];
        assert_eq!(relocate(&mut image, 0, 0, 42, 0, 0), Err(Error::UnsupportedReloc(42)));
        assert!(matches!(relocate(&mut image, 0, 0, 1, 0, 0), Err(Error::Malformed(_))));
        assert!(matches!(relocate(&mut image, 0, u64::MAX, 1, 0, 0), Err(Error::Malformed(_))));
    }

    #[test]
    fn abs32_forms() {
        assert!(reloc_value(RelocType::Abs32, 0xffff_ffff, 0, 0).is_ok());
        assert!(reloc_value(RelocType::Abs32, 0x1_0000_0000, 0, 0).is_err());
        // The kernel image's addresses are what 32S can hold.
        assert!(reloc_value(RelocType::Abs32S, 0xffff_ffff_8100_0000, 0, 0).is_ok());
        assert!(reloc_value(RelocType::Abs32S, 0xffff_c900_0000_0000, 0, 0).is_err());
        assert!(reloc_value(RelocType::Abs32S, 0x8000_0000, 0, 0).is_err());
    }
}
