//! Loadable kernel modules as pure logic: an ELF relocatable object (`.ko`)
//! in, a relocated image ready to copy into module memory out.
//!
//! Linux: kernel/module/main.c (`load_module`, `layout_sections`,
//! `simplify_symbols`, `apply_relocations`, `find_module_sections`),
//! arch/x86/kernel/module.c (`apply_relocate_add`), kernel/printk (the
//! `vsnprintf` the `_printk` export needs).
//!
//! Key types: [`Elf`] checks and indexes the object; [`Layout`] places the
//! allocated sections in three page-aligned classes (text, read-only data,
//! writable data) so that the kernel can map them W^X; [`load`] runs the
//! whole pipeline and returns a [`LoadedImage`]; [`relocate`] is the
//! relocation arithmetic with Linux's overflow checks; [`ModInfo`] reads
//! `.modinfo`; [`Param`]s are set from init_module's arguments; [`printf`]
//! formats a C format string.
//!
//! Nothing here panics, whatever the input: every offset is checked, every
//! sum is `checked_`, and a bad object is an [`Error`] (property- and
//! fuzz-tested in `tests/`).
//!
//! Locking: none; pure functions over byte slices.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod elf;
mod layout;
mod load;
mod modinfo;
mod params;
pub mod printf;
mod reloc;

pub use elf::{Elf, Rela, Section, Symbol};
pub use layout::{Class, Layout};
pub use load::{
    ExportedSymbol, LoadedImage, MODULE_MAGIC, MODULE_NAME_LEN, ModuleSymbol, THIS_MODULE_SIZE,
    image_size, load, modinfo, module_name,
};
pub use modinfo::ModInfo;
pub use params::{Param, ParamType, parse_bool, parse_int, split_args};
pub use reloc::{RelocType, relocate};

/// Why an object cannot be loaded. The kernel turns [`Error::UnknownSymbol`]
/// into `ENOENT` and everything else into `ENOEXEC`, as Linux does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// Not a little-endian x86_64 ELF64 relocatable object.
    NotElf,
    /// A header, table or section lies outside the file or is malformed.
    Malformed(&'static str),
    /// A relocation type this loader does not know.
    UnsupportedReloc(u32),
    /// A relocated value does not fit the field (Linux: "overflow in
    /// relocation type %d val %Lx").
    RelocOverflow { kind: u32, value: u64 },
    /// The field a relocation writes is not zero (Linux: "Invalid
    /// relocation target, existing value is nonzero").
    RelocTargetNotZero,
    /// An undefined, non-weak symbol nobody exports (Linux: "Unknown
    /// symbol %s (err -2)").
    UnknownSymbol(alloc::string::String),
    /// A `SHN_COMMON` symbol (Linux: "Please compile with -fno-common").
    CommonSymbol,
    /// No `.gnu.linkonce.this_module` of the right size.
    NoThisModule,
    /// No `.modinfo` section, or no module name in it.
    NoModInfo,
    /// A parameter's value does not parse, or a parameter points outside
    /// the module's data (Linux: `EINVAL`, "invalid for parameter").
    BadParam,
}

/// Shorthand for this crate's results.
pub type Result<T> = core::result::Result<T, Error>;
