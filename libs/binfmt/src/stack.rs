//! The initial user stack of a new program: strings, argv and envp
//! pointers, and the auxiliary vector, byte for byte as Linux lays it out.
//!
//! Linux: fs/exec.c (`bprm_stack_limits`, `copy_strings`,
//! `copy_string_kernel`), fs/binfmt_elf.c (`create_elf_tables`),
//! arch/x86/kernel/process.c (`arch_align_stack`).
//!
//! From the top of the stack down (no randomisation):
//!
//! ```text
//! top - 8        8 zero bytes
//!                the file name (AT_EXECFN), envp strings, argv strings
//!                (argv[0] lowest); then down to 16-byte alignment
//!                "x86_64\0" (AT_PLATFORM), 16 random bytes (AT_RANDOM)
//!                padding
//! sp + …         auxv pairs ending with AT_NULL
//!                envp pointers, 0
//!                argv pointers, 0
//! sp             argc                     (sp is 16-byte aligned)
//! ```

use alloc::vec;
use alloc::vec::Vec;
use linux_raw_sys::auxvec as at;

/// Longest single string, NUL included (Linux: `MAX_ARG_STRLEN`).
pub const MAX_ARG_STRLEN: usize = 32 * 4096;
/// The least room argv and envp always get (Linux: `ARG_MAX`).
pub const ARG_MAX: u64 = 32 * crate::PAGE_SIZE;
/// Linux: `_STK_LIM`, the default stack rlimit.
pub const STK_LIM: u64 = 8 << 20;

/// argv and envp do not fit (the kernel answers `E2BIG`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooBig;

/// The auxiliary vector's values that come from the kernel and the ELF
/// file; the stack addresses (`AT_RANDOM`, `AT_EXECFN`, `AT_PLATFORM`)
/// are filled in by [`create_elf_tables`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AuxvValues {
    /// `AT_SYSINFO_EHDR`: the vDSO, once there is one.
    pub sysinfo_ehdr: Option<u64>,
    pub hwcap: u64,
    pub hwcap2: u64,
    pub clktck: u64,
    pub phdr: u64,
    pub phent: u64,
    pub phnum: u64,
    pub base: u64,
    pub entry: u64,
    pub uid: u64,
    pub euid: u64,
    pub gid: u64,
    pub egid: u64,
    pub secure: u64,
}

/// The built stack: `bytes` is the content of `[sp, top)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackImage {
    pub sp: u64,
    pub bytes: Vec<u8>,
    /// Linux: `mm->arg_start`, `arg_end`, `env_start`, `env_end`.
    pub arg_start: u64,
    pub arg_end: u64,
    pub env_start: u64,
    pub env_end: u64,
    /// The auxiliary vector as placed (Linux: `mm->saved_auxv`).
    pub auxv: Vec<(u64, u64)>,
}

/// Checks the argument sizes against Linux's limits: each string with its
/// NUL at most `MAX_ARG_STRLEN`, and all of them plus their pointers at
/// most a quarter of the stack rlimit (Linux: `bprm_stack_limits`,
/// `valid_arg_len`).
pub fn check_arg_limits(
    argv: &[&[u8]],
    envp: &[&[u8]],
    execfn: &[u8],
    rlim_stack: u64,
) -> Result<(), TooBig> {
    let limit = (STK_LIM / 4 * 3).min(rlim_stack / 4).max(ARG_MAX);
    let nptrs = argv.len().max(1).checked_add(envp.len()).ok_or(TooBig)?;
    let ptr_size = u64::try_from(nptrs).map_err(|_| TooBig)?.checked_mul(8).ok_or(TooBig)?;
    let mut room = limit.checked_sub(ptr_size).filter(|&r| r > 0).ok_or(TooBig)?;
    for s in argv.iter().chain(envp).chain(core::iter::once(&execfn)) {
        let len = s.len() + 1;
        if len > MAX_ARG_STRLEN {
            return Err(TooBig);
        }
        room = room.checked_sub(len as u64).ok_or(TooBig)?;
    }
    Ok(())
}

/// Builds the initial stack below `top` (Linux: `copy_strings` then
/// `create_elf_tables`). Call [`check_arg_limits`] first; this only
/// fails if the arguments do not fit below `top` at all.
pub fn create_elf_tables(
    top: u64,
    argv: &[&[u8]],
    envp: &[&[u8]],
    execfn: &[u8],
    platform: &[u8],
    random: &[u8; 16],
    aux: &AuxvValues,
) -> Result<StackImage, TooBig> {
    let mut w = Writer::new(top);
    w.push_bytes(&[0; 8])?;
    let execfn_addr = w.push_cstr(execfn)?;
    let env_addrs = w.push_strings(envp)?;
    let arg_addrs = w.push_strings(argv)?;
    let arg_start = arg_addrs.first().copied().unwrap_or(w.p);
    let env_start = env_addrs.first().copied().unwrap_or(execfn_addr);
    w.align_down(16)?;
    let platform_addr = w.push_cstr(platform)?;
    let random_addr = w.push_bytes(random)?;
    let auxv = auxv_entries(aux, random_addr, execfn_addr, platform_addr);
    let items = (argv.len() + 1) + (envp.len() + 1) + 1;
    let words = items + 2 * auxv.len();
    let sp = w.p.checked_sub(8 * words as u64).ok_or(TooBig)? & !15;
    let mut table = Vec::with_capacity(words);
    table.push(argv.len() as u64);
    table.extend(arg_addrs.iter().chain(&[0]).chain(&env_addrs).chain(&[0]));
    auxv.iter().for_each(|&(k, v)| table.extend([k, v]));
    let bytes = w.finish(sp, &table)?;
    Ok(StackImage {
        sp,
        bytes,
        arg_start,
        arg_end: env_start,
        env_start,
        env_end: execfn_addr,
        auxv,
    })
}

/// The auxiliary vector in `create_elf_tables`' order, `AT_NULL` last.
fn auxv_entries(a: &AuxvValues, random: u64, execfn: u64, platform: u64) -> Vec<(u64, u64)> {
    let mut v = Vec::with_capacity(24);
    if let Some(vdso) = a.sysinfo_ehdr {
        v.push((at::AT_SYSINFO_EHDR, vdso));
    }
    v.extend([
        (at::AT_HWCAP, a.hwcap),
        (at::AT_PAGESZ, crate::PAGE_SIZE),
        (at::AT_CLKTCK, a.clktck),
        (at::AT_PHDR, a.phdr),
        (at::AT_PHENT, a.phent),
        (at::AT_PHNUM, a.phnum),
        (at::AT_BASE, a.base),
        (at::AT_FLAGS, 0),
        (at::AT_ENTRY, a.entry),
        (at::AT_UID, a.uid),
        (at::AT_EUID, a.euid),
        (at::AT_GID, a.gid),
        (at::AT_EGID, a.egid),
        (at::AT_SECURE, a.secure),
        (at::AT_RANDOM, random),
        (at::AT_HWCAP2, a.hwcap2),
        (at::AT_EXECFN, execfn),
        (at::AT_PLATFORM, platform),
        (at::AT_NULL, 0),
    ]);
    v.into_iter().map(|(k, v)| (u64::from(k), v)).collect()
}

/// Fills the stack from the top down, as `copy_strings` does.
struct Writer {
    top: u64,
    p: u64,
    /// Pieces placed so far, (address, bytes), highest first.
    pieces: Vec<(u64, Vec<u8>)>,
}

impl Writer {
    fn new(top: u64) -> Self {
        Self { top, p: top, pieces: Vec::new() }
    }

    fn push_bytes(&mut self, b: &[u8]) -> Result<u64, TooBig> {
        self.p = self.p.checked_sub(b.len() as u64).ok_or(TooBig)?;
        self.pieces.push((self.p, b.to_vec()));
        Ok(self.p)
    }

    fn push_cstr(&mut self, s: &[u8]) -> Result<u64, TooBig> {
        let mut v = Vec::with_capacity(s.len() + 1);
        v.extend_from_slice(s);
        v.push(0);
        self.push_bytes(&v)
    }

    /// Places the strings last first, so that the first is lowest; returns
    /// their addresses in the original order.
    fn push_strings(&mut self, strings: &[&[u8]]) -> Result<Vec<u64>, TooBig> {
        let mut addrs = vec![0; strings.len()];
        for (i, s) in strings.iter().enumerate().rev() {
            addrs[i] = self.push_cstr(s)?;
        }
        Ok(addrs)
    }

    fn align_down(&mut self, align: u64) -> Result<(), TooBig> {
        self.p &= !(align - 1);
        Ok(())
    }

    /// The bytes of `[sp, top)`: the pointer table at `sp`, then the pieces.
    fn finish(self, sp: u64, table: &[u64]) -> Result<Vec<u8>, TooBig> {
        let len = usize::try_from(self.top - sp).map_err(|_| TooBig)?;
        let mut bytes = vec![0u8; len];
        for (i, word) in table.iter().enumerate() {
            bytes[i * 8..i * 8 + 8].copy_from_slice(&word.to_le_bytes());
        }
        for (addr, piece) in &self.pieces {
            let off = usize::try_from(addr - sp).map_err(|_| TooBig)?;
            bytes[off..off + piece.len()].copy_from_slice(piece);
        }
        Ok(bytes)
    }
}
