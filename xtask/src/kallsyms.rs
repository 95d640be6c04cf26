//! Writes the kernel's symbol table into the linked image's `.kallsyms`
//! section (Linux: scripts/kallsyms.c, and the second link pass of
//! scripts/link-vmlinux.sh, done here by patching the section in place).
//!
//! The layout is the one kernel/kernel/kallsyms.rs reads: a 24-byte header
//! ("KSYM", count, names offset, reserved, base address), then per symbol
//! (address - base, size, name offset, name length) as little-endian u32s,
//! sorted by address, then the demangled names. Symbols without a size (asm
//! labels) extend to the next symbol.

use std::collections::BTreeMap;
use std::path::Path;

use object::{Object, ObjectSection, ObjectSymbol, SectionKind, SymbolKind};

const HEADER_SIZE: usize = 24;
const ENTRY_SIZE: usize = 16;

struct Sym {
    addr: u64,
    size: u64,
    name: String,
}

/// Fills `.kallsyms` in the ELF at `image`; returns the number of symbols.
pub fn fill_kallsyms(image: &Path) -> Result<usize, String> {
    let mut bytes =
        std::fs::read(image).map_err(|e| format!("kallsyms: {}: {e}", image.display()))?;
    let (offset, room, syms) = {
        let file = object::File::parse(&*bytes).map_err(|e| format!("kallsyms: bad ELF: {e}"))?;
        let section = file
            .section_by_name(".kallsyms")
            .ok_or("kallsyms: the image has no .kallsyms section")?;
        let (offset, room) =
            section.file_range().ok_or("kallsyms: .kallsyms has no file bytes (is it NOBITS?)")?;
        (offset, room, text_symbols(&file))
    };
    let table = encode(&syms)?;
    let room = usize::try_from(room).map_err(|e| e.to_string())?;
    if table.len() > room {
        return Err(format!(
            "kallsyms: the table needs {} bytes but .kallsyms has {room}; \
             raise KALLSYMS_SIZE in kernel/kernel/kallsyms.rs",
            table.len()
        ));
    }
    let start = usize::try_from(offset).map_err(|e| e.to_string())?;
    bytes[start..start + table.len()].copy_from_slice(&table);
    std::fs::write(image, &bytes).map_err(|e| format!("kallsyms: {}: {e}", image.display()))?;
    Ok(syms.len())
}

/// Code symbols, one per address, sorted, each with a size.
fn text_symbols(file: &object::File<'_>) -> Vec<Sym> {
    let mut by_addr: BTreeMap<u64, (u64, String)> = BTreeMap::new();
    for sym in file.symbols() {
        let in_text = sym
            .section_index()
            .and_then(|i| file.section_by_index(i).ok())
            .is_some_and(|s| s.kind() == SectionKind::Text);
        let Ok(name) = sym.name() else { continue };
        if !in_text || name.is_empty() || name.starts_with(".L") || name.starts_with('$') {
            continue;
        }
        if !matches!(sym.kind(), SymbolKind::Text | SymbolKind::Unknown | SymbolKind::Label) {
            continue;
        }
        let name = format!("{:#}", rustc_demangle::demangle(name));
        let entry = by_addr.entry(sym.address()).or_insert((sym.size(), name.clone()));
        // Prefer a sized (Rust) symbol over an asm label at the same address.
        if entry.0 == 0 && sym.size() != 0 {
            *entry = (sym.size(), name);
        }
    }
    let addrs: Vec<u64> = by_addr.keys().copied().collect();
    by_addr
        .into_iter()
        .enumerate()
        .map(|(i, (addr, (size, name)))| {
            let next = addrs.get(i + 1).copied().unwrap_or(addr + 1);
            Sym { addr, size: if size == 0 { next - addr } else { size }, name }
        })
        .collect()
}

fn put_u32(out: &mut Vec<u8>, value: u64, what: &str) -> Result<(), String> {
    let v =
        u32::try_from(value).map_err(|_| format!("kallsyms: {what} {value:#x} exceeds 32 bits"))?;
    out.extend_from_slice(&v.to_le_bytes());
    Ok(())
}

fn encode(syms: &[Sym]) -> Result<Vec<u8>, String> {
    let base = syms.first().map_or(0, |s| s.addr);
    let names_off = HEADER_SIZE + syms.len() * ENTRY_SIZE;
    let mut out = Vec::with_capacity(names_off);
    out.extend_from_slice(b"KSYM");
    put_u32(&mut out, syms.len() as u64, "symbol count")?;
    put_u32(&mut out, names_off as u64, "names offset")?;
    put_u32(&mut out, 0, "reserved")?;
    out.extend_from_slice(&base.to_le_bytes());
    let mut names = Vec::new();
    for sym in syms {
        put_u32(&mut out, sym.addr - base, "address offset")?;
        put_u32(&mut out, sym.size, "symbol size")?;
        put_u32(&mut out, names.len() as u64, "name offset")?;
        put_u32(&mut out, sym.name.len() as u64, "name length")?;
        names.extend_from_slice(sym.name.as_bytes());
    }
    out.extend_from_slice(&names);
    Ok(out)
}
