//! Loadable kernel modules: the list of loaded modules, their states and
//! dependencies, symbol lookup across the kernel and modules, module
//! functions in backtraces, /proc/modules (procfs.rs) and /sys/module
//! (sysfs.rs).
//!
//! Linux: kernel/module/main.c (`struct module`, `find_module`,
//! `find_symbol`, `ref_module`, `m_show`), kernel/module/procfs.c.
//!
//! The ELF work (layout, relocation, parameters) is pure logic in
//! `libs/kmod`; the memory and the calls into module code are in
//! arch/x86_64/module.rs; the system calls are in `main.rs`. The C SDK a
//! module is written against is `modules/include/linux/` (Ferrite's own
//! `struct module`, documented in libs/kmod/src/load.rs).
//!
//! # Locking
//! `MODULE_MUTEX` (a sleeping lock; Linux: `module_mutex`) is held across a
//! whole load, including the module's init, and a whole unload, including
//! its exit, so loads and unloads are serialised and a module's
//! dependencies cannot go away under it. `MODULES` (a spinlock, a leaf)
//! guards the list itself, so that /proc/modules and symbol lookups from
//! other paths read it without sleeping.
#![deny(unsafe_code)]

mod main;
mod procfs;
mod sysfs;

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicU8, Ordering};

pub use main::{sys_delete_module, sys_finit_module, sys_init_module};
pub use procfs::modules_proc_show;
pub use sysfs::module_sysfs_add;

use crate::arch::module::ModuleMemory;
use crate::kernel::locking::SpinLock;
use crate::kernel::locking::mutex::Mutex;

/// Linux: `enum module_state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ModuleState {
    /// Fully loaded and initialised (`MODULE_STATE_LIVE`).
    Live = 0,
    /// Running its init (`MODULE_STATE_COMING`).
    Coming = 1,
    /// Running its exit, on the way out (`MODULE_STATE_GOING`).
    Going = 2,
}

/// A loaded module (Linux: `struct module`, the kernel's side of it).
pub struct Module {
    pub name: String,
    /// Its load's sequence number, for stable sysfs inode numbers.
    pub seq: u64,
    pub mem: ModuleMemory,
    /// The `exit` to run on unload.
    pub exit: Option<u64>,
    /// Whether it had an `init`: with one and no `exit` it cannot be
    /// unloaded (Linux: "[permanent]").
    pub has_init: bool,
    state: AtomicU8,
    /// Symbols it exports, for later modules.
    pub exports: Vec<kmod::ExportedSymbol>,
    /// Its functions, for backtraces.
    pub symbols: Vec<kmod::ModuleSymbol>,
    /// Its `module_param`s, shown in /sys/module/NAME/parameters.
    pub params: Vec<kmod::Param>,
    /// Modules whose symbols it uses (Linux: `target_list`).
    pub uses: Vec<Arc<Module>>,
}

impl Module {
    pub fn state(&self) -> ModuleState {
        match self.state.load(Ordering::Acquire) {
            0 => ModuleState::Live,
            1 => ModuleState::Coming,
            _ => ModuleState::Going,
        }
    }

    fn set_state(&self, state: ModuleState) {
        self.state.store(state as u8, Ordering::Release);
    }

    /// Bytes of module memory (Linux: the sum of its layouts).
    pub fn size(&self) -> usize {
        self.mem.size()
    }
}

/// Serialises loads and unloads (Linux: `module_mutex`).
static MODULE_MUTEX: Mutex<()> = Mutex::new(());

/// Loaded modules, newest first, as Linux's `modules` list reads.
static MODULES: SpinLock<Vec<Arc<Module>>> = SpinLock::new(Vec::new());

/// The module called `name` (Linux: `find_module`).
pub fn find_module(name: &[u8]) -> Option<Arc<Module>> {
    MODULES.lock().iter().find(|m| m.name.as_bytes() == name).cloned()
}

/// A snapshot of the loaded modules, newest first.
pub fn modules() -> Vec<Arc<Module>> {
    MODULES.lock().clone()
}

/// The modules that use `module`'s symbols (Linux: `source_list`).
pub fn users_of(module: &Arc<Module>) -> Vec<Arc<Module>> {
    MODULES
        .lock()
        .iter()
        .filter(|m| m.uses.iter().any(|u| Arc::ptr_eq(u, module)))
        .cloned()
        .collect()
}

/// Who exports `name`: "kernel" or a loaded module's name.
fn symbol_owner(name: &[u8]) -> Option<String> {
    let kernel = crate::arch::module::kernel_exports();
    if kernel.iter().any(|(n, _)| n.as_bytes() == name) {
        return Some("kernel".into());
    }
    let list = MODULES.lock();
    list.iter()
        .find(|m| m.exports.iter().any(|s| s.name.as_bytes() == name))
        .map(|m| m.name.clone())
}

/// Resolves `name` for a module being loaded: the kernel's exports first,
/// then those of live modules; a module's provider is recorded in `uses`
/// (Linux: `resolve_symbol` → `find_symbol`, `ref_module`).
fn resolve_symbol(name: &[u8], uses: &mut Vec<Arc<Module>>) -> Option<u64> {
    let kernel = crate::arch::module::kernel_exports();
    if let Some((_, addr)) = kernel.iter().find(|(n, _)| n.as_bytes() == name) {
        return Some(*addr);
    }
    let list = MODULES.lock();
    for m in list.iter().filter(|m| m.state() == ModuleState::Live) {
        if let Some(sym) = m.exports.iter().find(|s| s.name.as_bytes() == name) {
            if !uses.iter().any(|u| Arc::ptr_eq(u, m)) && uses.try_reserve(1).is_ok() {
                uses.push(m.clone());
            }
            return Some(sym.addr);
        }
    }
    None
}

/// Writes the module function holding `addr` (looked up `back` bytes
/// before it, 1 for a return address) as Linux's `%pS` does for module
/// text: `name+0xoff/0xsize [module]`; `None` if no module holds it
/// (Linux: `module_address_lookup`). Backtraces call this from an oops:
/// it only tries the list's lock and allocates nothing.
pub fn fmt_module_address(addr: u64, back: u64, f: &mut fmt::Formatter<'_>) -> Option<fmt::Result> {
    let list = MODULES.try_lock()?;
    let at = addr.wrapping_sub(back);
    list.iter().find_map(|m| {
        let sym = m.symbols.iter().find(|s| s.is_func && s.addr <= at && at - s.addr < s.size)?;
        let off = at - sym.addr + back;
        Some(write!(f, "{}+{off:#x}/{:#x} [{}]", sym.name, sym.size, m.name))
    })
}

crate::ktest!(backtraces_name_module_functions, {
    use crate::kernel::kallsyms::{BacktraceSymbol, SymbolName};
    let mem = crate::arch::module::module_alloc(crate::mm::addr::PAGE_SIZE).map_err(|_| "alloc")?;
    let base = mem.base();
    let sym =
        kmod::ModuleSymbol { name: "fake_fn".into(), addr: base + 0x10, size: 0x20, is_func: true };
    let module = Arc::new(Module {
        name: "ktest_fake".into(),
        seq: 0,
        params: Vec::new(),
        mem,
        exit: None,
        has_init: false,
        state: AtomicU8::new(ModuleState::Live as u8),
        exports: Vec::new(),
        symbols: alloc::vec![sym],
        uses: Vec::new(),
    });
    MODULES.lock().push(module.clone());
    let named = alloc::format!("{}", SymbolName(base + 0x18));
    let returned = alloc::format!("{}", BacktraceSymbol(base + 0x30));
    let outside = alloc::format!("{}", SymbolName(base + 0x30));
    MODULES.lock().retain(|m| !Arc::ptr_eq(m, &module));
    crate::kassert!(named == "fake_fn+0x8/0x20 [ktest_fake]", "module function named");
    crate::kassert!(returned == "fake_fn+0x20/0x20 [ktest_fake]", "return address one back");
    crate::kassert!(outside == alloc::format!("{:#x}", base + 0x30), "past the end: bare address");
    Ok(())
});
