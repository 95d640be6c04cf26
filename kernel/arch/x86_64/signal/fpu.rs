//! The FPU state in a signal frame: saved below the frame at delivery,
//! loaded back by `rt_sigreturn`.
//!
//! Linux: arch/x86/kernel/fpu/signal.c (`copy_fpstate_to_sigframe`,
//! `save_xstate_epilog`, `fpu__restore_sig`, `check_xstate_in_sigframe`),
//! arch/x86/include/uapi/asm/sigcontext.h (`struct _fpx_sw_bytes`,
//! `FP_XSTATE_MAGIC1/2`).
//!
//! The layout is XSAVE's standard format when CR4.OSXSAVE is on (set by
//! `fpu::fpu__init_system`): the 512-byte FXSAVE image whose last 48 bytes
//! (`sw_reserved`) carry `_fpx_sw_bytes`, the XSAVE header and extended
//! state, then `FP_XSTATE_MAGIC2`; plain FXSAVE otherwise. Context switch is
//! eager (`arch::fpu`), so at delivery and at `rt_sigreturn` the registers
//! hold the current task's user state and are saved or loaded directly.
//! User bytes are copied into an aligned kernel buffer and sanitised
//! (MXCSR reserved bits, XSAVE header) before XRSTOR/FXRSTOR, which would
//! otherwise #GP in the kernel.
//!
//! # Locking
//! None; runs in the current task with no lock held (user copies may fault).

use alloc::vec::Vec;
use core::arch::asm;

use raw_cpuid::CpuId;
use x86_64::registers::control::{Cr4, Cr4Flags};

use super::super::uaccess::{Efault, UserAddr, copy_from_user, copy_to_user};

pub const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
pub const FP_XSTATE_MAGIC2: u32 = 0x4650_5845;
const FXSAVE_SIZE: usize = 512;
/// `_fpx_sw_bytes` sits in the FXSAVE image's last 48 bytes.
const SW_BYTES: usize = 464;
const MXCSR: usize = 24;
const MXCSR_MASK: usize = 28;
const XSAVE_HEADER: usize = 512;
const XSAVE_HEADER_SIZE: usize = 64;
const XFEATURE_MASK_FPSSE: u64 = 0b11;

/// How the FPU state is written: XSAVE with XCR0's features and the size
/// CPUID gives for them, or FXSAVE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FpFormat {
    Fxsave,
    Xsave { xfeatures: u64, size: usize },
}

/// The format this CPU uses now.
pub fn fp_format() -> FpFormat {
    if !Cr4::read().contains(Cr4Flags::OSXSAVE) {
        return FpFormat::Fxsave;
    }
    let size = CpuId::new()
        .get_extended_state_info()
        .map_or(FXSAVE_SIZE, |x| x.xsave_area_size_enabled_features() as usize);
    FpFormat::Xsave { xfeatures: xgetbv0(), size: size.max(FXSAVE_SIZE + XSAVE_HEADER_SIZE) }
}

/// Bytes the FPU state takes in a frame, with MAGIC2 after an XSAVE image
/// (Linux: `xstate_sigframe_size`).
pub fn fpstate_sigframe_size(format: FpFormat) -> usize {
    match format {
        FpFormat::Fxsave => FXSAVE_SIZE,
        FpFormat::Xsave { size, .. } => size + 4,
    }
}

fn xgetbv0() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: only called with CR4.OSXSAVE set, when XGETBV(0) is defined;
    // it reads XCR0 and touches no memory.
    unsafe { asm!("xgetbv", in("ecx") 0, out("eax") lo, out("edx") hi, options(nomem, nostack)) };
    u64::from(hi) << 32 | u64::from(lo)
}

/// A zeroed kernel buffer of `len` bytes starting 64-byte aligned, as
/// XSAVE wants: the `Vec` and the offset of its aligned part.
fn aligned_buf(len: usize) -> (Vec<u8>, usize) {
    let buf = alloc::vec![0u8; len + 64];
    let off = buf.as_ptr().align_offset(64);
    (buf, off)
}

/// Saves this CPU's FPU registers into `area` (Linux: `os_xsave`/`fxsave`).
#[expect(clippy::cast_possible_truncation, reason = "EDX:EAX take the two halves")]
fn save_regs(area: &mut [u8], format: FpFormat) {
    let ptr = area.as_mut_ptr();
    match format {
        FpFormat::Xsave { xfeatures, size } => {
            assert!(area.len() >= size && ptr.addr().is_multiple_of(64), "xsave area");
            // SAFETY: `area` is 64-aligned, exclusive, and at least the size
            // CPUID gives for the features in XCR0 (asserted).
            unsafe {
                asm!("xsave64 [{}]", in(reg) ptr, in("eax") xfeatures as u32,
                     in("edx") (xfeatures >> 32) as u32, options(nostack, preserves_flags))
            };
        }
        FpFormat::Fxsave => {
            assert!(area.len() >= FXSAVE_SIZE && ptr.addr().is_multiple_of(16), "fxsave area");
            // SAFETY: 512 exclusive bytes, 16-aligned (asserted).
            unsafe { asm!("fxsave64 [{}]", in(reg) ptr, options(nostack, preserves_flags)) };
        }
    }
}

/// Saves the current user FPU state to the frame at `buf` (64-aligned);
/// returns whether it is in XSAVE form (for `UC_FP_XSTATE`) (Linux:
/// `copy_fpstate_to_sigframe`, `save_xstate_epilog`).
pub fn copy_fpstate_to_sigframe(buf: UserAddr, format: FpFormat) -> Result<bool, Efault> {
    let len = fpstate_sigframe_size(format);
    let (mut v, off) = aligned_buf(len);
    let area = &mut v[off..off + len];
    fpstate_image(area, format);
    copy_to_user(buf, area)?;
    Ok(matches!(format, FpFormat::Xsave { .. }))
}

/// The registers as the frame holds them: the save, plus the software
/// bytes and MAGIC2 that tell user space (and `rt_sigreturn`) an XSAVE
/// image follows (Linux: `save_xstate_epilog`). `area` is 64-aligned.
fn fpstate_image(area: &mut [u8], format: FpFormat) {
    save_regs(area, format);
    if let FpFormat::Xsave { xfeatures, size } = format {
        let sw = &mut area[SW_BYTES..SW_BYTES + 24];
        sw[0..4].copy_from_slice(&FP_XSTATE_MAGIC1.to_ne_bytes());
        sw[4..8].copy_from_slice(&u32::try_from(size + 4).unwrap_or(0).to_ne_bytes());
        sw[8..16].copy_from_slice(&xfeatures.to_ne_bytes());
        sw[16..20].copy_from_slice(&u32::try_from(size).unwrap_or(0).to_ne_bytes());
        area[size..size + 4].copy_from_slice(&FP_XSTATE_MAGIC2.to_ne_bytes());
    }
}

/// MXCSR bits this CPU accepts (FXSAVE's MXCSR_MASK, 0 meaning 0xffbf).
fn mxcsr_feature_mask() -> u32 {
    let (mut v, off) = aligned_buf(FXSAVE_SIZE);
    save_regs(&mut v[off..off + FXSAVE_SIZE], FpFormat::Fxsave);
    let mask = u32::from_ne_bytes([v[off + 28], v[off + 29], v[off + 30], v[off + 31]]);
    if mask == 0 { 0xffbf } else { mask }
}

/// Loads the FPU state of the frame at `buf` into the registers, or the
/// initial state if `buf` is 0; a frame without valid XSAVE magic gives
/// only its FXSAVE part (Linux: `fpu__restore_sig`).
pub fn restore_fpstate_from_sigframe(buf: UserAddr, format: FpFormat) -> Result<(), Efault> {
    let len = fpstate_sigframe_size(format).max(FXSAVE_SIZE + XSAVE_HEADER_SIZE);
    let (mut v, off) = aligned_buf(len);
    let area = &mut v[off..off + len];
    if buf.is_null() {
        area[0..2].copy_from_slice(&0x037fu16.to_ne_bytes());
        area[MXCSR..MXCSR + 4].copy_from_slice(&0x1f80u32.to_ne_bytes());
    } else {
        copy_from_user(&mut area[..FXSAVE_SIZE], buf)?;
    }
    let mxcsr = u32::from_ne_bytes([area[24], area[25], area[26], area[27]]);
    let sane = mxcsr & mxcsr_feature_mask();
    area[MXCSR..MXCSR + 4].copy_from_slice(&sane.to_ne_bytes());
    area[MXCSR_MASK..MXCSR_MASK + 4].fill(0);
    match format {
        FpFormat::Fxsave => fxrstor(area),
        FpFormat::Xsave { xfeatures, size } => {
            let wanted = if buf.is_null() { 0 } else { xstate_in_sigframe(area, buf, size)? };
            // Only features both XCR0 and the frame claim; the rest of the
            // header must be zero (standard format) or XRSTOR faults.
            let header = &mut area[XSAVE_HEADER..XSAVE_HEADER + XSAVE_HEADER_SIZE];
            let bv = u64::from_ne_bytes(header[0..8].try_into().unwrap_or([0; 8]));
            let bv = if wanted == 0 { XFEATURE_MASK_FPSSE } else { bv & wanted & xfeatures };
            header.fill(0);
            header[0..8].copy_from_slice(&bv.to_ne_bytes());
            xrstor(area, xfeatures, size);
        }
    }
    Ok(())
}

/// If the FXSAVE part at `buf` (already in `area`) announces a full XSAVE
/// image, copies the rest in and returns its features; 0 means legacy only
/// (Linux: `check_xstate_in_sigframe`).
fn xstate_in_sigframe(area: &mut [u8], buf: UserAddr, size: usize) -> Result<u64, Efault> {
    let word = |a: &[u8], at: usize| u32::from_ne_bytes([a[at], a[at + 1], a[at + 2], a[at + 3]]);
    let magic1 = word(area, SW_BYTES);
    let extended = word(area, SW_BYTES + 4) as usize;
    let xstate_size = word(area, SW_BYTES + 16) as usize;
    let features =
        u64::from_ne_bytes(area[SW_BYTES + 8..SW_BYTES + 16].try_into().unwrap_or([0; 8]));
    if magic1 != FP_XSTATE_MAGIC1 || xstate_size != size || extended != size + 4 {
        return Ok(0);
    }
    let rest = buf.checked_add(FXSAVE_SIZE).ok_or(Efault)?;
    copy_from_user(&mut area[FXSAVE_SIZE..size + 4], rest)?;
    if word(area, size) != FP_XSTATE_MAGIC2 {
        return Ok(0);
    }
    Ok(features)
}

fn fxrstor(area: &[u8]) {
    let ptr = area.as_ptr();
    assert!(area.len() >= FXSAVE_SIZE && ptr.addr().is_multiple_of(16), "fxrstor area");
    // SAFETY: 512 bytes, 16-aligned (asserted), with MXCSR's reserved bits
    // cleared by the caller, so FXRSTOR cannot fault; it only loads the
    // user FPU registers, which the kernel (soft-float) never uses.
    unsafe { asm!("fxrstor64 [{}]", in(reg) ptr, options(nostack, preserves_flags)) };
}

#[expect(clippy::cast_possible_truncation, reason = "EDX:EAX take the two halves")]
fn xrstor(area: &[u8], xfeatures: u64, size: usize) {
    let ptr = area.as_ptr();
    assert!(area.len() >= size && ptr.addr().is_multiple_of(64), "xrstor area");
    // SAFETY: 64-aligned and `size` long (asserted); the caller sanitised
    // MXCSR and wrote a standard-format header whose XSTATE_BV is within
    // XCR0 and whose other bytes are zero, so XRSTOR cannot fault.
    unsafe {
        asm!("xrstor64 [{}]", in(reg) ptr, in("eax") xfeatures as u32,
             in("edx") (xfeatures >> 32) as u32, options(nostack, preserves_flags))
    };
}

crate::ktest!(fpstate_sigframe_magic, {
    let format = fp_format();
    let len = fpstate_sigframe_size(format);
    let (mut v, off) = aligned_buf(len);
    let area = &mut v[off..off + len];
    let flags = super::super::irqflags::local_irq_save();
    fpstate_image(area, format);
    super::super::irqflags::local_irq_restore(flags);
    let word = |at: usize| u32::from_ne_bytes([area[at], area[at + 1], area[at + 2], area[at + 3]]);
    crate::kassert!(word(MXCSR) & 0xffff_0000 == 0, "MXCSR saved");
    if let FpFormat::Xsave { xfeatures, size } = format {
        crate::kassert!(word(SW_BYTES) == FP_XSTATE_MAGIC1, "magic1");
        crate::kassert!(word(SW_BYTES + 4) as usize == size + 4, "extended_size");
        crate::kassert!(u64::from(word(SW_BYTES + 8)) == xfeatures & 0xffff_ffff, "xfeatures");
        crate::kassert!(word(SW_BYTES + 16) as usize == size, "xstate_size");
        crate::kassert!(word(size) == FP_XSTATE_MAGIC2, "magic2 after the image");
        crate::kassert!(xfeatures & XFEATURE_MASK_FPSSE == XFEATURE_MASK_FPSSE, "x87|SSE");
    }
    Ok(())
});
