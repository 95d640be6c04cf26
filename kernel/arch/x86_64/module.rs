//! The machine side of loadable modules: module memory, calls into module
//! code, and the C entry points the SDK links against (the variadic
//! `_printk`, `__kmalloc`, `kfree`, `msleep`).
//!
//! Linux: arch/x86/kernel/module.c (`module_alloc`), kernel/module/strict_rwx.c
//! (`module_enable_ro`, `module_enable_nx`), kernel/printk/printk.c
//! (`_printk`), mm/slab_common.c (`__kmalloc`, `kfree`).
//!
//! Module memory is reserved in `MODULES_VADDR..MODULES_END`, within 2 GiB
//! of the kernel text, before the image is relocated (relocations need the
//! final address); the relocated image is then copied into fresh frames
//! through the direct map and mapped with its final permissions at once:
//! text read-only and executable, read-only data NX, data and `.bss`
//! writable and NX. The module's own address is never writable and
//! executable at the same time; the direct-map alias of its frames stays
//! writable (Linux's `set_memory_ro` also changes the alias; Ferrite's
//! direct map is built from 2 MiB and 1 GiB pages it does not split yet).
//!
//! Module code is trusted kernel code, as in Linux: loading it takes
//! `CAP_SYS_MODULE`, and calling it is where that trust is spent.
//!
//! # Locking
//! `module_alloc` and `module_memfree` take `VMAP_AREAS` and
//! `KERNEL_PGTABLE` (mm/vmalloc.rs); the loader calls them under
//! `MODULE_MUTEX` (kernel/module), a sleeping lock above both.

use alloc::vec::Vec;
use core::arch::global_asm;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU64, Ordering};

use kmod::printf::{VaArgs, format, printk_get_level};

use crate::arch::mm::pgtable_types::PteFlags;
use crate::kernel::errno::KResult;
use crate::mm::addr::{MODULES_END, MODULES_VADDR, PAGE_SIZE, VirtAddr};
use crate::mm::highmem::{memcpy_from_page, memcpy_to_page};
use crate::mm::page_alloc::alloc_pages;
use crate::mm::page_table::kernel_translate;
use crate::mm::vmalloc::{VmArea, VmKind, get_vm_area_range, map_area_with, unmap_area};

/// Permissions of one page of a module image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModulePerm {
    /// Text: read-only, executable.
    Text,
    /// Read-only data, never executed.
    ReadOnly,
    /// Data and `.bss`: writable, never executed.
    Data,
}

/// A module's memory: reserved by [`module_alloc`], filled and mapped by
/// [`ModuleMemory::map`], unmapped and freed when dropped.
#[derive(Debug)]
pub struct ModuleMemory {
    area: VmArea,
}

/// Reserves `size` bytes of module space (Linux: `module_alloc`). Nothing
/// is mapped until [`ModuleMemory::map`].
pub fn module_alloc(size: usize) -> KResult<ModuleMemory> {
    let area = get_vm_area_range(size, VmKind::Module, MODULES_VADDR, MODULES_END)?;
    Ok(ModuleMemory { area })
}

impl ModuleMemory {
    /// The image's address.
    pub fn base(&self) -> u64 {
        self.area.addr.as_u64()
    }

    /// Bytes reserved.
    pub fn size(&self) -> usize {
        self.area.size
    }

    /// Copies `image` into fresh frames and maps page `i` with `perm_of(i)`.
    /// On error the pages mapped so far are freed with the memory.
    pub fn map(&self, image: &[u8], perm_of: impl Fn(usize) -> ModulePerm) -> KResult<()> {
        let flags_of = |i| match perm_of(i) {
            ModulePerm::Text => PteFlags::KERNEL_ROX,
            ModulePerm::ReadOnly => PteFlags::KERNEL_RO,
            ModulePerm::Data => PteFlags::KERNEL,
        };
        map_area_with(&self.area, flags_of, |i| {
            let pfn = alloc_pages(0)?;
            let chunk = image.get(i * PAGE_SIZE..).unwrap_or(&[]);
            let chunk = chunk.get(..PAGE_SIZE).unwrap_or(chunk);
            let mut page = [0u8; 256];
            // Every byte of the page is written: the tail past the image too.
            for off in (0..PAGE_SIZE).step_by(page.len()) {
                let src = chunk.get(off..).unwrap_or(&[]);
                let n = src.len().min(page.len());
                page[..n].copy_from_slice(&src[..n]);
                page[n..].fill(0);
                memcpy_to_page(pfn, off, &page);
            }
            Ok(pfn)
        })
    }
}

impl ModuleMemory {
    /// Reads module memory at `addr` into `buf` (a parameter's variable);
    /// false if any of it lies outside this module or is unmapped.
    pub fn read(&self, addr: u64, buf: &mut [u8]) -> bool {
        let start = self.base();
        let end = start + self.area.size as u64;
        let inside = addr >= start && addr.checked_add(buf.len() as u64).is_some_and(|e| e <= end);
        inside && read_kernel(addr, buf)
    }
}

impl Drop for ModuleMemory {
    /// Unmaps and frees the memory (Linux: `module_memfree`).
    fn drop(&mut self) {
        unmap_area(&self.area);
    }
}

/// Reads kernel memory at `addr` page by page, checking each page is
/// mapped first (Linux: `copy_from_kernel_nofault`).
fn read_kernel(addr: u64, buf: &mut [u8]) -> bool {
    let mut done = 0;
    while done < buf.len() {
        let Some(at) = addr.checked_add(done as u64) else { return false };
        let Some((pa, _)) = kernel_translate(VirtAddr::new(at)) else { return false };
        let off = usize::try_from(at % PAGE_SIZE as u64).unwrap_or(0);
        let n = (PAGE_SIZE - off).min(buf.len() - done);
        memcpy_from_page(pa.pfn(), off, &mut buf[done..done + n]);
        done += n;
    }
    true
}

/// Appends the NUL-terminated string at kernel address `addr` to `out`, at
/// most `max` bytes; an unmapped byte ends it with "(efault)" (Linux's
/// `vsnprintf` check of a `%s` pointer).
pub fn read_kernel_str(addr: u64, max: usize, out: &mut Vec<u8>) {
    let mut chunk = [0u8; 64];
    let mut at = addr;
    while out.len() < max {
        // Stay in one page per read so a string ending before an unmapped
        // page is read in full.
        let in_page = PAGE_SIZE - usize::try_from(at % PAGE_SIZE as u64).unwrap_or(0);
        let n = chunk.len().min(in_page);
        if !read_kernel(at, &mut chunk[..n]) {
            out.extend_from_slice(b"(efault)");
            return;
        }
        let len = chunk[..n].iter().position(|&b| b == 0).unwrap_or(n);
        out.extend_from_slice(&chunk[..len.min(max - out.len())]);
        if len < n {
            return;
        }
        at = at.wrapping_add(n as u64);
    }
}

/// Runs a module's `init` (Linux: `do_one_initcall`).
#[allow(clippy::cast_possible_truncation, reason = "x86_64 addresses are 64 bits")]
pub fn call_module_init(addr: u64) -> i32 {
    // SAFETY:
    // 1. The loader passes the `init` of a module it has just relocated and
    //    mapped executable; the SDK declares it `int (*)(void)`, the C ABI
    //    of `extern "C" fn() -> i32`.
    // 2. A module is trusted kernel code (CAP_SYS_MODULE loaded it).
    let init: extern "C" fn() -> i32 = unsafe { core::mem::transmute(addr as usize) };
    init()
}

/// Runs a module's `exit` (Linux: `mod->exit()` in `delete_module`).
#[allow(clippy::cast_possible_truncation, reason = "x86_64 addresses are 64 bits")]
pub fn call_module_exit(addr: u64) {
    // SAFETY: as in `call_module_init`, for `void (*)(void)`.
    let exit: extern "C" fn() = unsafe { core::mem::transmute(addr as usize) };
    exit()
}

// `int _printk(const char *fmt, ...)`: the SysV ABI passes the first five
// variadic integer arguments in rsi, rdx, rcx, r8, r9 and the rest on the
// stack above the return address. The stub lays the five out in order on
// its stack and hands both places to `vprintk_module`; `%f` (xmm) is not
// supported, as in Linux's kernel printk.
global_asm!(
    r#"
    .pushsection .text
    .balign 16
    .globl _printk
_printk:
    push rbp
    mov rbp, rsp
    push r9
    push r8
    push rcx
    push rdx
    push rsi
    lea rsi, [rsp]
    lea rdx, [rbp + 16]
    sub rsp, 8
    call {vprintk}
    leave
    ret
    .popsection
"#,
    vprintk = sym vprintk_module,
);

unsafe extern "C" {
    fn _printk();
}

/// The address modules link `_printk` to.
pub fn printk_addr() -> u64 {
    _printk as *const () as usize as u64
}

/// Arguments of a `_printk` call: five saved registers, then the caller's
/// stack.
struct RegsAndStack {
    regs: *const u64,
    stack: *const u64,
    next: usize,
}

/// More arguments than any format a module prints; reading past the
/// caller's frame is bounded by this.
const MAX_PRINTK_ARGS: usize = 32;

impl VaArgs for RegsAndStack {
    fn next_arg(&mut self) -> u64 {
        let n = self.next;
        self.next += 1;
        if n < 5 {
            // SAFETY: `regs` points at the five registers `_printk` pushed.
            unsafe { self.regs.wrapping_add(n).read() }
        } else if n < MAX_PRINTK_ARGS {
            // SAFETY: the caller's stack above `_printk`'s return address
            // is mapped kernel stack for far more than 27 words (the
            // syscall frame lies above it); a format asking for more
            // arguments than were passed reads the caller's frame, as in C.
            unsafe { self.stack.wrapping_add(n - 5).read() }
        } else {
            0
        }
    }

    fn read_str(&mut self, addr: u64, max: usize, out: &mut Vec<u8>) {
        read_kernel_str(addr, max, out);
    }

    fn hash_ptr(&mut self, addr: u64) -> u64 {
        hash_ptr(addr)
    }
}

static PTR_KEY: AtomicU64 = AtomicU64::new(0);

/// `%p`'s hash: addresses are not shown, but equal pointers print equal
/// (Linux: `ptr_to_hashval`, siphash with a boot-time key).
fn hash_ptr(addr: u64) -> u64 {
    let mut key = PTR_KEY.load(Ordering::Relaxed);
    if key == 0 {
        let mut bytes = [0u8; 8];
        crate::drivers::char::random::get_random_bytes(&mut bytes);
        key = u64::from_le_bytes(bytes) | 1;
        PTR_KEY.store(key, Ordering::Relaxed);
    }
    let x = (addr ^ key).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (x ^ (x >> 29)).wrapping_mul(key | 1) & 0xffff_ffff
}

/// What `_printk` calls: formats, logs at the format's level (the default
/// message level 4 without one), returns the length.
extern "C" fn vprintk_module(fmt: *const u8, regs: *const u64, stack: *const u64) -> i32 {
    let mut raw = Vec::new();
    read_kernel_str(fmt as u64, 1024, &mut raw);
    let (level, fmt) = printk_get_level(&raw);
    let level = match level {
        Some(l @ b'0'..=b'7') => l - b'0',
        _ => 4,
    };
    let mut args = RegsAndStack { regs, stack, next: 0 };
    let mut out = Vec::new();
    format(fmt, &mut args, &mut out);
    crate::kernel::printk::vprintk_emit(0, level, &out);
    i32::try_from(out.len()).unwrap_or(i32::MAX)
}

/// `void *__kmalloc(size_t size, gfp_t flags)` (Linux: mm/slab_common.c).
extern "C" fn kmalloc_export(size: usize, flags: u32) -> *mut u8 {
    /// Linux: `__GFP_ZERO`.
    const GFP_ZERO: u32 = 0x100;
    let Ok(ptr) = crate::mm::slab_common::kmalloc(size, 8) else {
        return core::ptr::null_mut();
    };
    if flags & GFP_ZERO != 0 {
        // SAFETY: kmalloc returned at least `size` bytes, ours alone.
        unsafe { core::ptr::write_bytes(ptr.as_ptr(), 0, size) };
    }
    ptr.as_ptr()
}

/// `void kfree(const void *ptr)`; `NULL` is a no-op, as in Linux.
extern "C" fn kfree_export(ptr: *const u8) {
    if let Some(ptr) = NonNull::new(ptr.cast_mut()) {
        // SAFETY: the SDK's contract, Linux's: `ptr` came from `__kmalloc`
        // and the module does not use it after this call.
        unsafe { crate::mm::slab_common::kfree(ptr) };
    }
}

/// `void msleep(unsigned int msecs)` (Linux: kernel/time/timer.c).
extern "C" fn msleep_export(msecs: u32) {
    crate::kernel::time::timer::msleep(u64::from(msecs));
}

/// The kernel's exports to modules, by name (Linux: `EXPORT_SYMBOL` in the
/// kernel image, `__ksymtab`).
pub fn kernel_exports() -> [(&'static str, u64); 4] {
    [
        ("_printk", printk_addr()),
        ("__kmalloc", kmalloc_export as *const () as usize as u64),
        ("kfree", kfree_export as *const () as usize as u64),
        ("msleep", msleep_export as *const () as usize as u64),
    ]
}

crate::ktest!(module_memory_is_w_xor_x_and_near_the_kernel, {
    use crate::mm::page_table::kernel_translate;
    let mem = module_alloc(3 * PAGE_SIZE).map_err(|_| "module_alloc")?;
    let base = mem.base();
    crate::kassert!((MODULES_VADDR..=MODULES_END).contains(&base), "in module space");
    // A PC32 relocation from the module reaches the kernel's text and back.
    let text = printk_addr();
    crate::kassert!(base.abs_diff(text) < (1 << 31), "within 2 GiB of the kernel text");
    let mut image = alloc::vec![0u8; 3 * PAGE_SIZE];
    image[PAGE_SIZE] = 0xa5;
    let perms = [ModulePerm::Text, ModulePerm::ReadOnly, ModulePerm::Data];
    mem.map(&image, |i| perms.get(i).copied().unwrap_or(ModulePerm::Data)).map_err(|_| "map")?;
    let flags =
        |i: u64| kernel_translate(VirtAddr::new(base + i * PAGE_SIZE as u64)).map(|(_, f)| f);
    let text = flags(0).ok_or("text mapped")?;
    let ro = flags(1).ok_or("rodata mapped")?;
    let data = flags(2).ok_or("data mapped")?;
    crate::kassert!(!text.contains(PteFlags::RW) && !text.contains(PteFlags::NX), "text R-X");
    crate::kassert!(!ro.contains(PteFlags::RW) && ro.contains(PteFlags::NX), "rodata R--");
    crate::kassert!(data.contains(PteFlags::RW) && data.contains(PteFlags::NX), "data RW-");
    let mut byte = [0u8; 1];
    crate::kassert!(read_kernel(base + PAGE_SIZE as u64, &mut byte) && byte[0] == 0xa5, "copied");
    drop(mem);
    crate::kassert!(kernel_translate(VirtAddr::new(base)).is_none(), "unmapped when dropped");
    Ok(())
});

crate::ktest!(printk_reads_kernel_strings_safely, {
    let mut out = Vec::new();
    read_kernel_str(b"abc\0def".as_ptr() as u64, 16, &mut out);
    crate::kassert!(out == b"abc", "stops at NUL");
    out.clear();
    read_kernel_str(8, 16, &mut out);
    crate::kassert!(out == b"(efault)", "unmapped address");
    Ok(())
});
