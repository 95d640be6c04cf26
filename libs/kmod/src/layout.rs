//! Where each allocated section goes in module memory.
//!
//! Linux: kernel/module/main.c `layout_sections` and `layout_and_allocate`
//! (`mod_mem_type`: text, read-only data, read-write data, each in its own
//! page-aligned run so that it can get its own page protections).
//!
//! Ferrite keeps `.init.*` sections with the rest (Linux frees them after
//! init; a later increment can). `.modinfo` and `__versions` are read from
//! the file and never placed, as Linux clears their `SHF_ALLOC`.

use alloc::vec::Vec;

use crate::elf::{Elf, SHF_EXECINSTR, SHF_WRITE};
use crate::{Error, Result};

/// Module images are mapped in pages of this size.
pub const PAGE_SIZE: u64 = 4096;

/// A permission class (Linux: `enum mod_mem_type` core kinds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Read-only and executable (`MOD_TEXT`).
    Text,
    /// Read-only, not executable (`MOD_RODATA`).
    ReadOnly,
    /// Writable, not executable (`MOD_DATA`), `.bss` included.
    Data,
}

/// The placement of every section: `offsets[i]` is section `i`'s offset
/// from the image base, or `None` if it is not loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub offsets: Vec<Option<u64>>,
    /// Start of each class: `[text, rodata, data]`, page-aligned, and the
    /// page-aligned total size after them.
    pub class_start: [u64; 3],
    /// Where the `extra` bytes asked of [`layout_sections`] start, in the
    /// data class.
    pub extra_off: u64,
    pub size: u64,
}

impl Layout {
    /// The class holding image offset `off`.
    pub fn class_of(&self, off: u64) -> Class {
        if off >= self.class_start[2] {
            Class::Data
        } else if off >= self.class_start[1] {
            Class::ReadOnly
        } else {
            Class::Text
        }
    }
}

/// Sections the loader reads but never places (Linux: `rewrite_section_headers`
/// and `setup_load_info` clear their `SHF_ALLOC`).
fn is_info_only(name: &[u8]) -> bool {
    name == b".modinfo" || name == b"__versions"
}

fn class(flags: u64) -> Class {
    if flags & SHF_EXECINSTR != 0 {
        Class::Text
    } else if flags & SHF_WRITE != 0 {
        Class::Data
    } else {
        Class::ReadOnly
    }
}

fn page_up(v: u64) -> Result<u64> {
    v.checked_next_multiple_of(PAGE_SIZE).ok_or(Error::Malformed("image too large"))
}

/// Lays out `elf`'s allocated sections class by class, each aligned as its
/// header asks, each class starting on a page, and `extra` writable bytes
/// after the data (Linux: `layout_sections`).
pub fn layout_sections(elf: &Elf<'_>, extra: u64) -> Result<Layout> {
    let n = elf.sections().len();
    let mut offsets = Vec::new();
    offsets.try_reserve_exact(n).map_err(|_| Error::Malformed("too many sections"))?;
    offsets.resize(n, None);
    let mut cursor = 0u64;
    let mut class_start = [0u64; 3];
    for (ci, want) in [Class::Text, Class::ReadOnly, Class::Data].into_iter().enumerate() {
        cursor = page_up(cursor)?;
        class_start[ci] = cursor;
        for (i, s) in elf.sections().iter().enumerate() {
            if !s.is_alloc() || class(s.flags) != want || is_info_only(elf.section_name(i)?) {
                continue;
            }
            let align = s.align.max(1);
            let at = cursor.checked_next_multiple_of(align).ok_or(Error::Malformed("alignment"))?;
            offsets[i] = Some(at);
            cursor = at.checked_add(s.size).ok_or(Error::Malformed("section size"))?;
        }
    }
    let extra_off = cursor;
    let size = page_up(cursor.checked_add(extra).ok_or(Error::Malformed("arguments"))?)?;
    // Module memory is small; refuse what could not be mapped anyway.
    if size > 64 << 20 {
        return Err(Error::Malformed("image larger than 64 MiB"));
    }
    Ok(Layout { offsets, class_start, extra_off, size })
}
