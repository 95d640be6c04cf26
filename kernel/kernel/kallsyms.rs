//! The kernel's symbol table: which function an address belongs to.
//!
//! Linux: kernel/kallsyms.c (`kallsyms_lookup`, `sprint_symbol`),
//! scripts/kallsyms.c (the build-time table generator).
//!
//! `cargo xtask build` (xtask/src/kallsyms.rs) writes the table into the
//! `.kallsyms` section of the linked image, as Linux's second link pass
//! does. The section is a fixed-size static whose initial contents are an
//! empty table; an image built with plain `cargo build` therefore has no
//! symbols, and backtraces print bare addresses. Layout, little-endian:
//!
//! ```text
//!  0  magic "KSYM"   4  count u32   8  names_off u32   12  reserved u32
//! 16  base u64       24  count x { addr - base u32, size u32, name_off u32, name_len u32 }
//! names_off: the demangled names, concatenated
//! ```
//!
//! Entries are sorted by address, so lookup is a binary search.
//!
//! # Locking
//! The table is read-only after the build.
#![deny(unsafe_code)]

/// Room reserved for the table; xtask fails the build if it does not fit.
/// It is part of the loaded image, so it costs RAM on every machine: the
/// release table takes about 100 KiB today.
pub const KALLSYMS_SIZE: usize = 256 << 10;
const KALLSYMS_MAGIC: [u8; 4] = *b"KSYM";
const HEADER_SIZE: usize = 24;
const ENTRY_SIZE: usize = 16;

const fn empty_table() -> [u8; KALLSYMS_SIZE] {
    let mut table = [0u8; KALLSYMS_SIZE];
    table[0] = KALLSYMS_MAGIC[0];
    table[1] = KALLSYMS_MAGIC[1];
    table[2] = KALLSYMS_MAGIC[2];
    table[3] = KALLSYMS_MAGIC[3];
    table
}

// Placing a static in a named section is an unsafe attribute; this is the
// table's only definition and nothing but xtask writes it (into the file).
#[allow(unsafe_code)]
#[unsafe(link_section = ".kallsyms")]
#[used]
static KALLSYMS: [u8; KALLSYMS_SIZE] = empty_table();

/// The table's bytes; `black_box` hides the compile-time contents, which
/// xtask replaces after linking.
fn table() -> &'static [u8] {
    core::hint::black_box(&KALLSYMS)
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn read_u64(bytes: &[u8], at: usize) -> Option<u64> {
    let low = read_u32(bytes, at)?;
    let high = read_u32(bytes, at + 4)?;
    Some(u64::from(low) | u64::from(high) << 32)
}

/// One symbol: start address, size, name.
#[derive(Clone, Copy, Debug)]
pub struct Symbol {
    pub addr: u64,
    pub size: u64,
    pub name: &'static str,
}

struct Table {
    bytes: &'static [u8],
    count: usize,
    names_off: usize,
    base: u64,
}

impl Table {
    fn get() -> Option<Self> {
        let bytes = table();
        if bytes.get(..4)? != KALLSYMS_MAGIC {
            return None;
        }
        let count = read_u32(bytes, 4)? as usize;
        let names_off = read_u32(bytes, 8)? as usize;
        let base = read_u64(bytes, 16)?;
        Some(Self { bytes, count, names_off, base })
    }

    fn addr(&self, i: usize) -> Option<u64> {
        let off = read_u32(self.bytes, HEADER_SIZE + i * ENTRY_SIZE)?;
        Some(self.base + u64::from(off))
    }

    fn symbol(&self, i: usize) -> Option<Symbol> {
        let at = HEADER_SIZE + i * ENTRY_SIZE;
        let size = u64::from(read_u32(self.bytes, at + 4)?);
        let name_off = self.names_off + read_u32(self.bytes, at + 8)? as usize;
        let name_len = read_u32(self.bytes, at + 12)? as usize;
        let name = self.bytes.get(name_off..name_off.checked_add(name_len)?)?;
        let name = core::str::from_utf8(name).ok()?;
        Some(Symbol { addr: self.addr(i)?, size, name })
    }
}

/// Number of symbols in the table (0 if xtask did not fill it).
pub fn nr_symbols() -> usize {
    Table::get().map_or(0, |t| t.count)
}

/// The symbol containing `addr`, with `addr`'s offset into it (Linux:
/// `kallsyms_lookup`).
pub fn lookup(addr: u64) -> Option<(&'static str, u64, u64)> {
    let table = Table::get()?;
    // The last symbol starting at or before `addr`.
    let (mut lo, mut hi) = (0, table.count);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if table.addr(mid)? <= addr {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let sym = table.symbol(lo.checked_sub(1)?)?;
    let offset = addr - sym.addr;
    (offset < sym.size).then_some((sym.name, offset, sym.size))
}

/// The address of symbol `name` (Linux: `kallsyms_lookup_name`); a linear
/// scan, for the rare callers (module loader, tests).
pub fn lookup_name(name: &str) -> Option<u64> {
    let table = Table::get()?;
    (0..table.count).filter_map(|i| table.symbol(i)).find(|s| s.name == name).map(|s| s.addr)
}

/// Formats an address as Linux's `%pS`: `name+0xoff/0xsize`, or the bare
/// address when no symbol covers it.
pub struct SymbolName(pub u64);

impl core::fmt::Display for SymbolName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match lookup(self.0) {
            Some((name, off, size)) => write!(f, "{name}+{off:#x}/{size:#x}"),
            None => crate::kernel::module::fmt_module_address(self.0, 0, f)
                .unwrap_or_else(|| write!(f, "{:#x}", self.0)),
        }
    }
}

/// Formats a return address as Linux's `%pB`: looked up one byte back,
/// because a call to a function that never returns can be the last
/// instruction of its caller, leaving the return address past its end.
pub struct BacktraceSymbol(pub u64);

impl core::fmt::Display for BacktraceSymbol {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match lookup(self.0.wrapping_sub(1)) {
            Some((name, off, size)) => write!(f, "{name}+{:#x}/{size:#x}", off + 1),
            None => crate::kernel::module::fmt_module_address(self.0, 1, f)
                .unwrap_or_else(|| write!(f, "{:#x}", self.0)),
        }
    }
}

crate::ktest!(kallsyms_lookup_self, {
    if nr_symbols() == 0 {
        crate::pr_warn!("kallsyms: empty table (image not built by `cargo xtask build`)");
        return Ok(());
    }
    let addr = lookup as *const () as u64;
    let found = lookup(addr + 1);
    crate::kassert!(found.is_some(), "lookup finds its own address");
    let (name, off, size) = found.unwrap_or(("", 0, 0));
    crate::kassert!(name == "ferrite::kernel::kallsyms::lookup", "lookup is named");
    crate::kassert!(off == 1 && size > 1, "offset and size");
    crate::kassert!(lookup_name(name) == Some(addr), "lookup_name inverts lookup");
    crate::kassert!(lookup(0x1000).is_none(), "no symbol in user space");
    Ok(())
});
