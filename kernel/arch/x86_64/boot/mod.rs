//! Boot: the PVH entry, the boot parameters it yields, and the jump into
//! the architecture-neutral `start_kernel`.
//!
//! Linux: arch/x86/kernel/head64.c (`x86_64_start_kernel`),
//! arch/x86/include/uapi/asm/bootparam.h (`struct boot_params`),
//! arch/x86/kernel/e820.c.

mod head;
mod pvh;

use crate::mm::addr::PhysAddr;

/// Linux: `COMMAND_LINE_SIZE` on x86.
pub const COMMAND_LINE_SIZE: usize = 2048;
/// Linux: `E820_MAX_ENTRIES_ZEROPAGE`.
pub const E820_MAX_ENTRIES: usize = 128;

/// A half-open range of physical memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhysRange {
    pub start: u64,
    pub end: u64,
}

impl PhysRange {
    pub const fn new(start: u64, size: u64) -> Self {
        Self { start, end: start.saturating_add(size) }
    }
}

/// The kind of a memory map entry (Linux: `enum e820_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum E820Type {
    Ram,
    Reserved,
    Acpi,
    Nvs,
    Unusable,
    Pmem,
    Other(u32),
}

impl E820Type {
    pub const fn from_raw(raw: u32) -> Self {
        match raw {
            1 => Self::Ram,
            2 => Self::Reserved,
            3 => Self::Acpi,
            4 => Self::Nvs,
            5 => Self::Unusable,
            7 => Self::Pmem,
            other => Self::Other(other),
        }
    }

    /// The name Linux prints in its boot memory map.
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Ram => "usable",
            Self::Reserved => "reserved",
            Self::Acpi => "ACPI data",
            Self::Nvs => "ACPI NVS",
            Self::Unusable => "unusable",
            Self::Pmem => "persistent (type 7)",
            Self::Other(_) => "type ?",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct E820Entry {
    pub range: PhysRange,
    pub kind: E820Type,
}

/// The firmware's memory map (Linux: `struct e820_table`).
pub struct E820Table {
    entries: [E820Entry; E820_MAX_ENTRIES],
    len: usize,
}

impl E820Table {
    const fn empty() -> Self {
        const NONE: E820Entry =
            E820Entry { range: PhysRange { start: 0, end: 0 }, kind: E820Type::Reserved };
        Self { entries: [NONE; E820_MAX_ENTRIES], len: 0 }
    }

    fn push(&mut self, entry: E820Entry) {
        if let Some(slot) = self.entries.get_mut(self.len) {
            *slot = entry;
            self.len += 1;
        }
    }

    pub fn entries(&self) -> &[E820Entry] {
        &self.entries[..self.len]
    }

    /// Usable RAM ranges.
    pub fn ram(&self) -> impl Iterator<Item = PhysRange> + '_ {
        self.entries().iter().filter(|e| e.kind == E820Type::Ram).map(|e| e.range)
    }
}

/// What the boot loader told us (Linux: `struct boot_params`).
pub struct BootParams {
    cmdline: [u8; COMMAND_LINE_SIZE],
    cmdline_len: usize,
    pub e820: E820Table,
    pub initrd: Option<PhysRange>,
    pub rsdp: Option<PhysAddr>,
}

impl BootParams {
    const fn empty() -> Self {
        Self {
            cmdline: [0; COMMAND_LINE_SIZE],
            cmdline_len: 0,
            e820: E820Table::empty(),
            initrd: None,
            rsdp: None,
        }
    }

    /// Copies a NUL-terminated command line byte by byte, truncated at
    /// `COMMAND_LINE_SIZE - 1` as Linux does.
    fn set_cmdline(&mut self, mut byte_at: impl FnMut(usize) -> Option<u8>) {
        let mut len = 0;
        while len < COMMAND_LINE_SIZE - 1 {
            match byte_at(len) {
                Some(0) | None => break,
                Some(b) => self.cmdline[len] = b,
            }
            len += 1;
        }
        self.cmdline_len = len;
    }

    /// The command line; bytes that are not UTF-8 end it early.
    pub fn cmdline(&self) -> &str {
        let bytes = &self.cmdline[..self.cmdline_len];
        match core::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => core::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
        }
    }
}

/// The first Rust code, on the boot stack and the early page tables.
#[unsafe(no_mangle)]
extern "C" fn x86_64_start_kernel(start_info: u64) -> ! {
    static BOOT_PARAMS: spin::Once<BootParams> = spin::Once::new();
    let params = BOOT_PARAMS.call_once(|| pvh::parse(start_info));
    crate::init::start_kernel(params)
}
