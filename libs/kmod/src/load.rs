//! The loading pipeline: lay out, copy, resolve symbols, relocate, find the
//! module structure and the exported symbols (Linux: kernel/module/main.c
//! `layout_and_allocate`, `simplify_symbols`, `apply_relocations`,
//! `find_module_sections`, `resolve_symbol`).
//!
//! Ferrite's `struct module`, the `.gnu.linkonce.this_module` section the
//! SDK's `linux/module.h` defines (Ferrite's layout, not Linux's):
//!
//! ```text
//!  0  u64 magic    MODULE_MAGIC, "FeMod\0\0\x01" little-endian
//!  8  char name[56] (MODULE_NAME_LEN), NUL-terminated
//! 64  int (*init)(void)     NULL if the module has no module_init
//! 72  void (*exit)(void)    NULL if it has no module_exit
//! ```
//!
//! An exported symbol (`__ksymtab`, `__ksymtab_gpl`) is
//! `struct kernel_symbol { unsigned long value; const char *name; }`, both
//! absolute addresses after relocation (Linux 6.1 uses 32-bit relative
//! offsets; absolute ones are simpler and the size does not matter here).

use alloc::string::String;
use alloc::vec::Vec;

use crate::elf::{
    Elf, SHN_ABS, SHN_COMMON, SHN_LORESERVE, SHN_UNDEF, SHT_NOBITS, SHT_REL, SHT_RELA, STB_WEAK,
    STT_FUNC, STT_OBJECT, u64_at,
};
use crate::layout::{Layout, layout_sections};
use crate::modinfo::ModInfo;
use crate::params::{Param, ParamType, parse_bool, parse_int, read_params, split_args};
use crate::reloc::relocate;
use crate::{Error, Result};

/// Size of Ferrite's `struct module`.
pub const THIS_MODULE_SIZE: usize = 80;
/// `struct module`'s `magic`: "FeMod", two NULs and a layout version.
pub const MODULE_MAGIC: u64 = u64::from_le_bytes(*b"FeMod\0\0\x01");
/// Linux: `MODULE_NAME_LEN`.
pub const MODULE_NAME_LEN: usize = 56;
const KERNEL_SYMBOL_SIZE: usize = 16;

/// A symbol a module exports to the kernel and to later modules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportedSymbol {
    pub name: String,
    pub addr: u64,
}

/// A function or object the module defines, for `/proc/kallsyms` and
/// backtraces (Linux: `struct mod_kallsyms`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleSymbol {
    pub name: String,
    pub addr: u64,
    pub size: u64,
    pub is_func: bool,
}

/// A relocated image and what the kernel needs to run it.
#[derive(Debug)]
pub struct LoadedImage {
    /// The bytes to place at `base`, `layout.size` long, `.bss` zeroed.
    pub image: Vec<u8>,
    pub layout: Layout,
    /// `struct module`'s name field.
    pub name: String,
    /// Absolute addresses of `init` and `exit`, if the module has them.
    pub init: Option<u64>,
    pub exit: Option<u64>,
    pub exports: Vec<ExportedSymbol>,
    pub symbols: Vec<ModuleSymbol>,
    /// The module's parameters, set from the argument string.
    pub params: Vec<Param>,
    /// Argument words naming no parameter (Linux warns and goes on).
    pub unknown_params: Vec<String>,
}

/// The `.modinfo` section of `elf` (Linux: `setup_load_info`).
pub fn modinfo<'a>(elf: &Elf<'a>) -> Result<ModInfo<'a>> {
    let i = elf.find_section(b".modinfo").ok_or(Error::NoModInfo)?;
    Ok(ModInfo::new(elf.data(i)?))
}

/// An offset into the image or file as an index.
fn idx(v: u64) -> Result<usize> {
    usize::try_from(v).map_err(|_| Error::Malformed("offset"))
}

/// The module's name before loading: `.modinfo`'s `name`, else the
/// `struct module`'s (Linux: `setup_load_info`).
pub fn module_name(elf: &Elf<'_>) -> Result<String> {
    if let Some(name) = modinfo(elf).ok().and_then(|m| m.get(b"name")) {
        return Ok(lossy(name));
    }
    let i = elf.find_section(b".gnu.linkonce.this_module").ok_or(Error::NoThisModule)?;
    let raw = elf.data(i)?.get(8..8 + MODULE_NAME_LEN).ok_or(Error::NoThisModule)?;
    let len = raw.iter().position(|&b| b == 0).ok_or(Error::NoThisModule)?;
    Ok(lossy(&raw[..len]))
}

/// The bytes of module memory `elf` needs with `args` as its argument
/// string: what to reserve before [`load`] (Linux: `layout_and_allocate`).
pub fn image_size(elf: &Elf<'_>, args: &[u8]) -> Result<u64> {
    let extra = u64::try_from(args.len()).map_err(|_| Error::BadParam)?.saturating_add(1);
    Ok(layout_sections(elf, extra)?.size)
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Loads `elf` for placement at `base`: every undefined symbol is looked up
/// with `resolve` (kernel exports, then other modules'), and the parameters
/// are set from `args` ("name=value ...", init_module's `uargs`).
pub fn load(
    elf: &Elf<'_>,
    base: u64,
    args: &[u8],
    resolve: &mut dyn FnMut(&[u8]) -> Option<u64>,
) -> Result<LoadedImage> {
    if elf.sections().iter().any(|s| s.kind == SHT_REL) {
        return Err(Error::Malformed("REL relocations unsupported"));
    }
    let extra = u64::try_from(args.len()).map_err(|_| Error::BadParam)?.saturating_add(1);
    let layout = layout_sections(elf, extra)?;
    let mut image = Vec::new();
    let size = usize::try_from(layout.size).map_err(|_| Error::Malformed("image size"))?;
    image.try_reserve_exact(size).map_err(|_| Error::Malformed("image too large"))?;
    image.resize(size, 0);
    for (i, off) in layout.offsets.iter().enumerate() {
        let (Some(off), Some(s)) = (off, elf.sections().get(i)) else { continue };
        if s.kind != SHT_NOBITS {
            let data = elf.data(i)?;
            let at = idx(*off)?;
            image
                .get_mut(at..at.saturating_add(data.len()))
                .ok_or(Error::Malformed("section outside image"))?
                .copy_from_slice(data);
        }
    }
    let symtab = elf.symtab()?;
    let values = simplify_symbols(elf, symtab, &layout, base, resolve)?;
    apply_relocations(elf, symtab, &layout, base, &values, &mut image)?;
    let (name, init, exit) = this_module(elf, &layout, &image)?;
    let exports = exported_symbols(elf, &layout, base, &image)?;
    let symbols = module_symbols(elf, symtab, &values)?;
    let params = match elf.find_section(b"__param") {
        Some(i) => {
            let table = image_bytes(&image, &layout, elf, i)?;
            read_params(table, &|addr| image_str(&image, base, addr))?
        }
        None => Vec::new(),
    };
    let unknown_params = set_params(&mut image, &layout, base, &params, args)?;
    Ok(LoadedImage { image, layout, name, init, exit, exports, symbols, params, unknown_params })
}

/// Writes each `name=value` of `args` into its parameter's variable;
/// returns the names that match no parameter (Linux: `parse_args` with
/// `unknown_module_param_cb`).
fn set_params(
    image: &mut [u8],
    layout: &Layout,
    base: u64,
    params: &[Param],
    args: &[u8],
) -> Result<Vec<String>> {
    let mut unknown = Vec::new();
    // Copies of charp values, NUL-terminated, in the extra bytes.
    let mut strings_at = layout.extra_off;
    for (name, value) in split_args(args) {
        let Some(p) = params.iter().find(|p| p.name.as_bytes() == name) else {
            unknown.push(lossy(name));
            continue;
        };
        let at = p.addr.checked_sub(base).ok_or(Error::BadParam)?;
        let bytes: Vec<u8> = match p.kind {
            ParamType::Int => parse_int(value.ok_or(Error::BadParam)?)
                .ok_or(Error::BadParam)?
                .to_le_bytes()
                .to_vec(),
            ParamType::Bool => alloc::vec![u8::from(parse_bool(value).ok_or(Error::BadParam)?)],
            ParamType::Charp => {
                let v = value.ok_or(Error::BadParam)?;
                let start = idx(strings_at)?;
                let dst = image.get_mut(start..start + v.len() + 1).ok_or(Error::BadParam)?;
                dst[..v.len()].copy_from_slice(v);
                dst[v.len()] = 0;
                let addr = base.wrapping_add(strings_at);
                strings_at += v.len() as u64 + 1;
                addr.to_le_bytes().to_vec()
            }
        };
        if at < layout.class_start[2] {
            return Err(Error::BadParam);
        }
        let start = idx(at)?;
        let field =
            image.get_mut(start..start.saturating_add(bytes.len())).ok_or(Error::BadParam)?;
        field.copy_from_slice(&bytes);
    }
    Ok(unknown)
}

/// Each symbol's final value, `None` for one in a section that is not
/// loaded (Linux: `simplify_symbols`).
fn simplify_symbols(
    elf: &Elf<'_>,
    symtab: usize,
    layout: &Layout,
    base: u64,
    resolve: &mut dyn FnMut(&[u8]) -> Option<u64>,
) -> Result<Vec<Option<u64>>> {
    let count = elf.symbol_count(symtab)?;
    let mut values = Vec::new();
    values.try_reserve_exact(count).map_err(|_| Error::Malformed("too many symbols"))?;
    for n in 0..count {
        let sym = elf.symbol(symtab, n)?;
        let value = match sym.shndx {
            SHN_UNDEF if n == 0 => Some(0),
            SHN_UNDEF => {
                let name = elf.symbol_name(symtab, &sym)?;
                match resolve(name) {
                    Some(addr) => Some(addr),
                    // An unresolved weak symbol is zero (Linux: "Ok if weak").
                    None if sym.bind() == STB_WEAK => Some(0),
                    None => return Err(Error::UnknownSymbol(lossy(name))),
                }
            }
            SHN_ABS => Some(sym.value),
            SHN_COMMON => return Err(Error::CommonSymbol),
            x if x >= SHN_LORESERVE => return Err(Error::Malformed("symbol section index")),
            x => match layout.offsets.get(usize::from(x)) {
                Some(Some(off)) => Some(base.wrapping_add(*off).wrapping_add(sym.value)),
                Some(None) => None,
                None => return Err(Error::Malformed("symbol section index")),
            },
        };
        values.push(value);
    }
    Ok(values)
}

/// Applies every RELA section whose target is loaded (Linux:
/// `apply_relocations`; relocations of debug sections are skipped).
fn apply_relocations(
    elf: &Elf<'_>,
    symtab: usize,
    layout: &Layout,
    base: u64,
    values: &[Option<u64>],
    image: &mut [u8],
) -> Result<()> {
    for (index, s) in elf.sections().iter().enumerate().filter(|(_, s)| s.kind == SHT_RELA) {
        let target = s.info as usize;
        let Some(Some(off)) = layout.offsets.get(target) else { continue };
        if s.link as usize != symtab {
            return Err(Error::Malformed("relocations against another symbol table"));
        }
        let tsec = elf.sections().get(target).ok_or(Error::Malformed("relocation target"))?;
        if tsec.kind == SHT_NOBITS {
            return Err(Error::Malformed("relocations of a NOBITS section"));
        }
        let start = idx(*off)?;
        let end = start.saturating_add(idx(tsec.size)?);
        let field = image.get_mut(start..end).ok_or(Error::Malformed("relocation target"))?;
        for r in elf.relas(index)? {
            let sym = values
                .get(r.sym as usize)
                .ok_or(Error::Malformed("relocation symbol index"))?
                .ok_or(Error::Malformed("relocation against an unloaded section"))?;
            relocate(field, base.wrapping_add(*off), r.offset, r.kind, sym, r.addend)?;
        }
    }
    Ok(())
}

fn image_bytes<'a>(image: &'a [u8], layout: &Layout, elf: &Elf<'_>, i: usize) -> Result<&'a [u8]> {
    let off =
        layout.offsets.get(i).copied().flatten().ok_or(Error::Malformed("section not loaded"))?;
    let size = elf.sections().get(i).map_or(0, |s| s.size);
    let end = off.checked_add(size).ok_or(Error::Malformed("section size"))?;
    image.get(idx(off)?..idx(end)?).ok_or(Error::Malformed("section outside image"))
}

/// Reads the relocated `struct module` (Linux: `setup_load_info`'s
/// "module struct size mismatch" check).
fn this_module(
    elf: &Elf<'_>,
    layout: &Layout,
    image: &[u8],
) -> Result<(String, Option<u64>, Option<u64>)> {
    let i = elf.find_section(b".gnu.linkonce.this_module").ok_or(Error::NoThisModule)?;
    let bytes = image_bytes(image, layout, elf, i).map_err(|_| Error::NoThisModule)?;
    if bytes.len() != THIS_MODULE_SIZE || u64_at(bytes, 0) != Some(MODULE_MAGIC) {
        return Err(Error::NoThisModule);
    }
    let raw = &bytes[8..8 + MODULE_NAME_LEN];
    let len = raw.iter().position(|&b| b == 0).ok_or(Error::NoThisModule)?;
    let nonzero = |v: Option<u64>| v.filter(|&a| a != 0);
    Ok((lossy(&raw[..len]), nonzero(u64_at(bytes, 64)), nonzero(u64_at(bytes, 72))))
}

/// Reads a NUL-terminated string at absolute address `addr` in the image.
fn image_str(image: &[u8], base: u64, addr: u64) -> Result<String> {
    let at = idx(addr.checked_sub(base).ok_or(Error::Malformed("export name"))?)?;
    let rest = image.get(at..).ok_or(Error::Malformed("export name"))?;
    let len = rest.iter().position(|&b| b == 0).ok_or(Error::Malformed("export name"))?;
    Ok(lossy(&rest[..len]))
}

/// The module's `EXPORT_SYMBOL`s (Linux: `find_module_sections`' ksymtab).
fn exported_symbols(
    elf: &Elf<'_>,
    layout: &Layout,
    base: u64,
    image: &[u8],
) -> Result<Vec<ExportedSymbol>> {
    let mut out = Vec::new();
    for name in [&b"__ksymtab"[..], b"__ksymtab_gpl"] {
        let Some(i) = elf.find_section(name) else { continue };
        let table = image_bytes(image, layout, elf, i)?;
        if !table.len().is_multiple_of(KERNEL_SYMBOL_SIZE) {
            return Err(Error::Malformed("__ksymtab size"));
        }
        for entry in table.chunks_exact(KERNEL_SYMBOL_SIZE) {
            let addr = u64_at(entry, 0).unwrap_or(0);
            let name = image_str(image, base, u64_at(entry, 8).unwrap_or(0))?;
            out.try_reserve(1).map_err(|_| Error::Malformed("too many exports"))?;
            out.push(ExportedSymbol { name, addr });
        }
    }
    Ok(out)
}

/// Functions and objects the module defines (Linux: `add_kallsyms`).
fn module_symbols(
    elf: &Elf<'_>,
    symtab: usize,
    values: &[Option<u64>],
) -> Result<Vec<ModuleSymbol>> {
    let mut out = Vec::new();
    for (n, value) in values.iter().enumerate() {
        let sym = elf.symbol(symtab, n)?;
        let (Some(addr), true) = (value, matches!(sym.kind(), STT_FUNC | STT_OBJECT)) else {
            continue;
        };
        if sym.shndx == SHN_UNDEF || sym.shndx >= SHN_LORESERVE {
            continue;
        }
        let name = lossy(elf.symbol_name(symtab, &sym)?);
        out.try_reserve(1).map_err(|_| Error::Malformed("too many symbols"))?;
        out.push(ModuleSymbol {
            name,
            addr: *addr,
            size: sym.size,
            is_func: sym.kind() == STT_FUNC,
        });
    }
    Ok(out)
}
