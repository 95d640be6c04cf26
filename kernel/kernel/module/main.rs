//! init_module(2), finit_module(2) and delete_module(2) (Linux:
//! kernel/module/main.c `load_module`, `do_init_module`, `delete_module`).
//!
//! A load: check the caller (`CAP_SYS_MODULE`), the ELF and the vermagic
//! (`ENOEXEC`), refuse a second module of the same name (`EEXIST`),
//! reserve module memory, relocate against the kernel's and live modules'
//! exports (`ENOENT` for a symbol nobody exports), set the parameters, map
//! the image W^X, run init; a failing init unloads the module and its
//! error is the call's.
//!
//! # Locking
//! `MODULE_MUTEX` across the whole load or unload (see mod.rs); user
//! memory and the module file are read before it is taken.
#![deny(unsafe_code)]

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use linux_raw_sys::general as uapi;

use super::{MODULE_MUTEX, MODULES, Module, ModuleState, find_module, resolve_symbol, users_of};
use crate::arch::module::{ModulePerm, call_module_exit, call_module_init, module_alloc};
use crate::arch::uaccess::{StrncpyError, strncpy_from_user};
use crate::fs::file_table::FMode;
use crate::fs::inode::FileType;
use crate::kernel::cred::capable;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sys::UTS_RELEASE;
use crate::kernel::syscall::args::{Fd, UserPtr, UserSlice};
use crate::mm::addr::PAGE_SIZE;

/// The version magic a module must carry (Linux: `vermagic` from
/// include/linux/vermagic.h); the SDK's `linux/vermagic.h` builds the same
/// string from the same `UTS_RELEASE`.
/// (`concat!` takes only literals: a check below keeps its release equal
/// to `UTS_RELEASE`.)
pub const VERMAGIC_STRING: &str = "6.1.0-ferrite SMP preempt mod_unload ";

/// Linux: `MODULE_INIT_IGNORE_MODVERSIONS`, `MODULE_INIT_IGNORE_VERMAGIC`,
/// `MODULE_INIT_COMPRESSED_FILE` (include/uapi/linux/module.h).
const MODULE_INIT_IGNORE_MODVERSIONS: u32 = 1;
const MODULE_INIT_IGNORE_VERMAGIC: u32 = 2;
const MODULE_INIT_COMPRESSED_FILE: u32 = 4;

/// The largest module image accepted: far beyond any module, small enough
/// not to exhaust memory on a user's say-so.
const MAX_MODULE_IMAGE: usize = 64 << 20;
/// Linux: `MODULE_NAME_LEN`.
const MODULE_NAME_LEN: usize = kmod::MODULE_NAME_LEN;

/// Linux: `may_init_module`.
fn may_init_module() -> KResult<()> {
    if capable(uapi::CAP_SYS_MODULE) { Ok(()) } else { Err(Errno::EPERM) }
}

/// Copies the argument string (Linux: `strndup_user(uargs, ~0UL >> 1)`).
fn copy_args(uargs: UserPtr<u8>) -> KResult<Vec<u8>> {
    let mut buf = crate::mm::slab_common::kzalloc(PAGE_SIZE)?;
    match strncpy_from_user(&mut buf, uargs.addr()) {
        Ok(len) => {
            buf.truncate(len);
            Ok(buf)
        }
        // Longer arguments than a page: no module has that many.
        Err(StrncpyError::TooLong) => Err(Errno::E2BIG),
        Err(StrncpyError::Fault) => Err(Errno::EFAULT),
    }
}

/// init_module(2): loads the image at `umod`, `len` bytes long.
pub fn sys_init_module(umod: UserPtr<u8>, len: u64, uargs: UserPtr<u8>) -> KResult<()> {
    may_init_module()?;
    let len = usize::try_from(len).map_err(|_| Errno::ENOMEM)?;
    if len < 64 {
        return Err(Errno::ENOEXEC);
    }
    if len > MAX_MODULE_IMAGE {
        return Err(Errno::ENOMEM);
    }
    let image = UserSlice::new(umod, len)?.read_to_vec()?;
    load_module(&image, uargs, 0)
}

/// finit_module(2): loads the module file open at `fd`.
pub fn sys_finit_module(fd: Fd, uargs: UserPtr<u8>, flags: u32) -> KResult<()> {
    may_init_module()?;
    let known =
        MODULE_INIT_IGNORE_MODVERSIONS | MODULE_INIT_IGNORE_VERMAGIC | MODULE_INIT_COMPRESSED_FILE;
    if flags & !known != 0 {
        return Err(Errno::EINVAL);
    }
    let file = crate::fs::fdget(fd)?;
    if file.f_mode.contains(FMode::PATH) || !file.f_mode.contains(FMode::READ) {
        return Err(Errno::EBADF);
    }
    let image = kernel_read_file(&file)?;
    // Linux without CONFIG_MODULE_DECOMPRESS: `module_decompress` fails.
    if flags & MODULE_INIT_COMPRESSED_FILE != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    load_module(&image, uargs, flags)
}

/// Reads a whole regular file (Linux: `kernel_read_file`).
fn kernel_read_file(file: &crate::fs::file_table::File) -> KResult<Vec<u8>> {
    if file.f_inode.file_type() != FileType::Regular {
        return Err(Errno::EINVAL);
    }
    let size = usize::try_from(file.f_inode.size()).map_err(|_| Errno::EFBIG)?;
    if size == 0 {
        return Err(Errno::EINVAL);
    }
    if size > MAX_MODULE_IMAGE {
        return Err(Errno::EFBIG);
    }
    let mut buf = crate::mm::slab_common::kzalloc(size)?;
    let mut pos = 0u64;
    let mut done = 0;
    while done < size {
        let n = file.f_op.read(file, &mut buf[done..], &mut pos)?;
        if n == 0 {
            break;
        }
        done += n;
    }
    buf.truncate(done);
    Ok(buf)
}

/// Maps a loader error to Linux's errno, logging what Linux logs.
fn load_error(name: &str, e: kmod::Error) -> Errno {
    match e {
        kmod::Error::UnknownSymbol(sym) => {
            crate::pr_warn!("{name}: Unknown symbol {sym} (err -2)");
            Errno::ENOENT
        }
        kmod::Error::BadParam => Errno::EINVAL,
        kmod::Error::CommonSymbol => {
            crate::pr_warn!("{name}: please compile with -fno-common");
            Errno::ENOEXEC
        }
        other => {
            crate::pr_warn!("{name}: cannot load: {other:?}");
            Errno::ENOEXEC
        }
    }
}

/// Linux: `check_modinfo`'s vermagic test. `MODULE_INIT_IGNORE_VERMAGIC`
/// forces the load, as Debian's Linux (`CONFIG_MODULE_FORCE_LOAD=y`) does
/// (`modprobe --force`); Ferrite keeps no taint flags yet, so it only warns.
fn check_vermagic(name: &str, info: &kmod::ModInfo<'_>, flags: u32) -> KResult<()> {
    if flags & MODULE_INIT_IGNORE_VERMAGIC != 0 {
        crate::pr_warn!("{name}: bad vermagic: kernel tainted.");
        return Ok(());
    }
    let Some(magic) = info.get(b"vermagic") else {
        crate::pr_err!("{name}: no version magic, not loading");
        return Err(Errno::ENOEXEC);
    };
    if magic != VERMAGIC_STRING.as_bytes() {
        let magic = String::from_utf8_lossy(magic);
        crate::pr_err!("{name}: version magic '{magic}' should be '{VERMAGIC_STRING}'");
        return Err(Errno::ENOEXEC);
    }
    Ok(())
}

/// Numbers loads, so that each module's sysfs entries get inode numbers
/// of their own.
static LOAD_SEQ: AtomicU64 = AtomicU64::new(1);

/// Linux: `load_module` and `do_init_module`.
fn load_module(bytes: &[u8], uargs: UserPtr<u8>, flags: u32) -> KResult<()> {
    let elf = kmod::Elf::parse(bytes).map_err(|_| Errno::ENOEXEC)?;
    let name = kmod::module_name(&elf).map_err(|_| Errno::ENOEXEC)?;
    if name.is_empty() || name.len() >= MODULE_NAME_LEN {
        return Err(Errno::ENOEXEC);
    }
    let info = kmod::modinfo(&elf).map_err(|_| Errno::ENOEXEC)?;
    check_vermagic(&name, &info, flags)?;
    let args = copy_args(uargs)?;
    let _guard = MODULE_MUTEX.lock();
    if find_module(name.as_bytes()).is_some() {
        return Err(Errno::EEXIST);
    }
    let size = kmod::image_size(&elf, &args).map_err(|e| load_error(&name, e))?;
    let mem = module_alloc(usize::try_from(size).map_err(|_| Errno::ENOMEM)?)?;
    let mut uses = Vec::new();
    let loaded = kmod::load(&elf, mem.base(), &args, &mut |sym| resolve_symbol(sym, &mut uses));
    // On any error below, dropping `mem` unmaps and frees it.
    let loaded = loaded.map_err(|e| load_error(&name, e))?;
    verify_exported_symbols(&name, &loaded.exports)?;
    for p in &loaded.unknown_params {
        crate::pr_warn!("{name}: unknown parameter '{p}' ignored");
    }
    let layout = &loaded.layout;
    let perm_of = |page: usize| match layout.class_of((page * PAGE_SIZE) as u64) {
        kmod::Class::Text => ModulePerm::Text,
        kmod::Class::ReadOnly => ModulePerm::ReadOnly,
        kmod::Class::Data => ModulePerm::Data,
    };
    mem.map(&loaded.image, perm_of)?;
    let module = Arc::new(Module {
        name,
        seq: LOAD_SEQ.fetch_add(1, Ordering::Relaxed),
        params: loaded.params,
        mem,
        exit: loaded.exit,
        has_init: loaded.init.is_some(),
        state: AtomicU8::new(ModuleState::Coming as u8),
        exports: loaded.exports,
        symbols: loaded.symbols.into_iter().filter(|s| s.is_func).collect(),
        uses,
    });
    {
        let mut list = MODULES.lock();
        list.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        list.insert(0, module.clone());
    }
    do_init_module(&module, loaded.init)
}

/// Refuses a module exporting a name the kernel or a loaded module already
/// exports (Linux: `verify_exported_symbols`).
fn verify_exported_symbols(name: &str, exports: &[kmod::ExportedSymbol]) -> KResult<()> {
    for sym in exports {
        if let Some(owner) = super::symbol_owner(sym.name.as_bytes()) {
            crate::pr_err!("{name}: exports duplicate symbol {} (owned by {owner})", sym.name);
            return Err(Errno::ENOEXEC);
        }
    }
    Ok(())
}

/// Runs init; on failure takes the module back out and frees it (Linux:
/// `do_init_module`, "fail_free_freeinit").
fn do_init_module(module: &Arc<Module>, init: Option<u64>) -> KResult<()> {
    let ret = init.map_or(0, call_module_init);
    if ret < 0 {
        unlink_and_free(module);
        let errno = Errno::from_raw(ret.unsigned_abs()).unwrap_or(Errno::EINVAL);
        return Err(errno);
    }
    if ret > 0 {
        crate::pr_warn!(
            "do_init_module: '{}'->init suspiciously returned {ret}, it should follow 0/-E convention",
            module.name
        );
    }
    module.set_state(ModuleState::Live);
    Ok(())
}

/// Takes `module` off the list (Linux: `free_module`). Its memory is
/// freed with the last reference (`ModuleMemory`'s drop): a /proc reader's
/// snapshot may hold one a moment longer.
fn unlink_and_free(module: &Arc<Module>) {
    let taken = {
        let mut list = MODULES.lock();
        list.iter().position(|m| Arc::ptr_eq(m, module)).map(|i| list.remove(i))
    };
    drop(taken);
}

/// delete_module(2) (Linux: `delete_module`). `O_TRUNC` (`rmmod -f`)
/// unloads a module that has an init but no exit, as Debian's Linux
/// (`CONFIG_MODULE_FORCE_UNLOAD=y`) does; a module other modules use stays.
/// `O_NONBLOCK` is how every unload behaves (Linux no longer waits).
pub fn sys_delete_module(name_user: UserPtr<u8>, flags: u32) -> KResult<()> {
    if !capable(uapi::CAP_SYS_MODULE) {
        return Err(Errno::EPERM);
    }
    let mut name = [0u8; MODULE_NAME_LEN];
    let len = match strncpy_from_user(&mut name[..MODULE_NAME_LEN - 1], name_user.addr()) {
        Ok(len) => len,
        Err(StrncpyError::TooLong) => MODULE_NAME_LEN - 1,
        Err(StrncpyError::Fault) => return Err(Errno::EFAULT),
    };
    let _guard = MODULE_MUTEX.lock();
    let module = find_module(&name[..len]).ok_or(Errno::ENOENT)?;
    if !users_of(&module).is_empty() {
        return Err(Errno::EAGAIN); // EWOULDBLOCK;
    }
    if module.state() != ModuleState::Live {
        return Err(Errno::EBUSY);
    }
    if module.has_init && module.exit.is_none() {
        if flags & uapi::O_TRUNC == 0 {
            return Err(Errno::EBUSY);
        }
        crate::pr_warn!("{}: forced unload: kernel tainted.", module.name);
    }
    module.set_state(ModuleState::Going);
    if let Some(exit) = module.exit {
        call_module_exit(exit);
    }
    unlink_and_free(&module);
    Ok(())
}

// Keep the two definitions of the release in step.
const _: () = assert!(matches_prefix(VERMAGIC_STRING.as_bytes(), UTS_RELEASE.as_bytes()));

const fn matches_prefix(s: &[u8], prefix: &[u8]) -> bool {
    if s.len() <= prefix.len() || s[prefix.len()] != b' ' {
        return false;
    }
    let mut i = 0;
    while i < prefix.len() {
        if s[i] != prefix[i] {
            return false;
        }
        i += 1;
    }
    true
}

crate::ktest!(duplicate_exports_are_refused, {
    let export = |name: &str| kmod::ExportedSymbol { name: name.into(), addr: 0x1000 };
    let mem = module_alloc(PAGE_SIZE).map_err(|_| "alloc")?;
    let module = Arc::new(Module {
        name: "ktest_exporter".into(),
        seq: 0,
        params: Vec::new(),
        mem,
        exit: None,
        has_init: false,
        state: AtomicU8::new(ModuleState::Live as u8),
        exports: alloc::vec![export("ktest_sym")],
        symbols: Vec::new(),
        uses: Vec::new(),
    });
    MODULES.lock().push(module.clone());
    let dup_module = verify_exported_symbols("b", &[export("ktest_sym")]);
    let dup_kernel = verify_exported_symbols("b", &[export("_printk")]);
    let fresh = verify_exported_symbols("b", &[export("ktest_other")]);
    let mut uses = Vec::new();
    let resolved = super::resolve_symbol(b"ktest_sym", &mut uses);
    MODULES.lock().retain(|m| !Arc::ptr_eq(m, &module));
    crate::kassert!(dup_module == Err(Errno::ENOEXEC), "a module's export");
    crate::kassert!(dup_kernel == Err(Errno::ENOEXEC), "the kernel's export");
    crate::kassert!(fresh.is_ok(), "a new name");
    crate::kassert!(resolved == Some(0x1000), "resolved from the module");
    crate::kassert!(uses.len() == 1 && Arc::ptr_eq(&uses[0], &module), "dependency recorded");
    Ok(())
});
