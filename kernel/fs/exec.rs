//! Running a new program in the current process: `execve`, `execveat`,
//! and `kernel_execve` for PID 1.
//!
//! Linux: fs/exec.c (`do_execveat_common`, `bprm_execve`, `exec_binprm`,
//! `do_open_execat`, `copy_strings`, `begin_new_exec`, `kernel_execve`),
//! fs/binfmt_script.c (`load_script`), fs/binfmt_elf.c.
//!
//! Everything that can fail happens before the point of no return: the
//! file is found and checked (a regular file, with exec permission) and
//! opened, and its first page read (Linux's `bprm->buf`); `#!` scripts put their interpreter in front
//! of argv and start over with it (at most `BINPRM_MAX_RECURSION` deep);
//! argv and envp are copied from the old address space; a fresh `Mm` is
//! built and the ELF mapped into it from the file's page cache. Only then does `begin_new_exec`
//! replace the address space, close `O_CLOEXEC` descriptors, reset caught
//! signals, the FPU and the TLS base, rename the task, and `start_thread`
//! points the saved user registers at the new entry and stack. A failure
//! before that leaves the caller as it was, with the errno.
//!
//! # Locking
//! No lock is held across the file read or a user copy; the task's `mm`
//! and `files` locks are taken only to swap an `Arc`.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use binfmt::script::parse_shebang;
use binfmt::stack::MAX_ARG_STRLEN;
use linux_raw_sys::general as uapi;

use crate::arch::ptrace::PtRegs;
use crate::arch::uaccess::{StrncpyError, UserAddr, strncpy_from_user};
use crate::fs::binfmt_elf::load_elf_binary;
use crate::fs::fdtable::FdTable;
use crate::fs::file_table::{FMode, File};
use crate::fs::inode::FileType;
use crate::fs::namei::permission::{MAY_EXEC, inode_permission};
use crate::fs::namei::{LookupFlags, filename_lookup};
use crate::fs::namespace::MntFlags;
use crate::fs::pagecache::DenyWriteAccess;
use crate::fs::read_write::vfs_pread;
use crate::fs::{FsContext, FsCred};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::task::{Cred, PF_FORKNOEXEC, PF_KTHREAD};
use crate::kernel::sched::{Task, current};
use crate::kernel::syscall::args::{UserPtr, getname};
use crate::mm::addr::PAGE_SIZE;
use crate::mm::mm_types::Mm;
use crate::mm::slab_common::kzalloc;

/// How many `#!` interpreters may stand in front of the real program
/// (Linux: `BINPRM_MAX_RECURSION`).
pub const BINPRM_MAX_RECURSION: usize = 4;

/// How much of the file exec reads to recognise it: a page, which holds
/// the `#!` line (Linux reads `BINPRM_BUF_SIZE`, 256 bytes, for that) and
/// in practice the ELF program headers too.
const BINPRM_BUF_SIZE: usize = PAGE_SIZE;

/// The most bytes of strings argv and envp may carry together (Linux's
/// limit is a quarter of the stack rlimit; `bprm_stack_limits` checks it
/// exactly later, this only bounds the copy).
const MAX_ARG_BYTES: usize = 6 << 20;

/// The program being started (Linux: `struct linux_binprm`).
struct LinuxBinprm {
    /// The path as given: AT_EXECFN, the script argument, the new `comm`.
    filename: Vec<u8>,
    argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
    /// The credentials a set-user-ID or set-group-ID program runs with;
    /// `None` keeps the caller's (Linux: `bprm->cred`).
    cred: Option<Cred>,
}

/// Runs `f` with the VFS view of `tsk` (its root, cwd, descriptors and
/// file credentials).
fn with_fs_context<R>(tsk: &Task, f: impl FnOnce(FsContext<'_>) -> KResult<R>) -> KResult<R> {
    let fs = tsk.fs.lock().clone().ok_or(Errno::ENOENT)?;
    let files = match tsk.files.lock().clone() {
        Some(files) => files,
        None => Arc::new(FdTable::new()),
    };
    let cred = tsk.cred();
    f(FsContext { fs: &fs, files: &files, cred: FsCred { fsuid: cred.fsuid, fsgid: cred.fsgid } })
}

/// An open program, kept unwritable, and its first bytes (Linux:
/// `bprm->file`, `bprm->buf`).
struct ExecFile {
    file: DenyWriteAccess,
    buf: Vec<u8>,
}

/// Finds and opens the program and reads its first page (Linux:
/// `do_open_execat`, then `prepare_binprm`).
fn open_exec(ctx: FsContext<'_>, dfd: i32, name: &[u8], at_flags: u32) -> KResult<ExecFile> {
    if at_flags & !(uapi::AT_SYMLINK_NOFOLLOW | uapi::AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let mut how = LookupFlags::from_at_flags(at_flags, uapi::AT_EMPTY_PATH)?;
    if at_flags & uapi::AT_SYMLINK_NOFOLLOW == 0 {
        how |= LookupFlags::FOLLOW;
    }
    let path = filename_lookup(ctx, dfd, name, how)?;
    let inode = path.dentry.positive()?;
    match inode.file_type() {
        FileType::Regular => {}
        FileType::Symlink => return Err(Errno::ELOOP),
        _ => return Err(Errno::EACCES),
    }
    inode_permission(&inode, MAY_EXEC, ctx.cred)?;
    if crate::fs::namespace::path_noexec(&path) {
        return Err(Errno::EACCES);
    }
    let size = usize::try_from(inode.size()).unwrap_or(usize::MAX).min(BINPRM_BUF_SIZE);
    let file = File::open(path, inode.clone(), inode.i_fop, FMode::READ, uapi::O_RDONLY)?;
    let file = DenyWriteAccess::new(&file)?;
    let mut buf = kzalloc(size)?;
    let mut done = 0;
    while done < size {
        let n =
            vfs_pread(file.file(), &mut buf[done..], i64::try_from(done).map_err(|_| Errno::EIO)?)?;
        if n == 0 {
            break;
        }
        done += n;
    }
    buf.truncate(done);
    Ok(ExecFile { file, buf })
}

/// Copies one NUL-terminated string from user space (Linux: the inner
/// loop of `copy_strings`): `E2BIG` past `MAX_ARG_STRLEN`.
fn copy_string(addr: UserAddr) -> KResult<Vec<u8>> {
    let mut len = 256;
    loop {
        let mut buf = kzalloc(len)?;
        match strncpy_from_user(&mut buf, addr) {
            Ok(n) => {
                buf.truncate(n);
                return Ok(buf);
            }
            Err(StrncpyError::Fault) => return Err(Errno::EFAULT),
            Err(StrncpyError::TooLong) if len >= MAX_ARG_STRLEN => return Err(Errno::E2BIG),
            Err(StrncpyError::TooLong) => len = (len * 8).min(MAX_ARG_STRLEN),
        }
    }
}

/// Copies a NULL-terminated array of strings (argv or envp); a NULL array
/// is empty (Linux: `count` + `copy_strings`).
fn copy_strings(array: UserPtr<u64>, total: &mut usize) -> KResult<Vec<Vec<u8>>> {
    let mut strings = Vec::new();
    if array.is_null() {
        return Ok(strings);
    }
    for i in 0.. {
        let ptr = array.add(i)?.read()?;
        if ptr == 0 {
            break;
        }
        let s = copy_string(UserAddr::new(ptr))?;
        *total = total.saturating_add(s.len() + 1 + 8);
        if *total > MAX_ARG_BYTES {
            return Err(Errno::E2BIG);
        }
        strings.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        strings.push(s);
    }
    Ok(strings)
}

/// Puts a `#!` script's interpreter in front of argv: `interp [arg]
/// filename argv[1..]` (Linux: `load_script`); returns the interpreter.
fn load_script(bprm: &mut LinuxBinprm, image: &[u8]) -> KResult<Option<Vec<u8>>> {
    let Some((interp, arg)) = parse_shebang(image) else { return Ok(None) };
    let mut argv = Vec::new();
    argv.try_reserve(bprm.argv.len() + 2).map_err(|_| Errno::ENOMEM)?;
    argv.push(interp.to_vec());
    if let Some(arg) = arg {
        argv.push(arg.to_vec());
    }
    argv.push(bprm.filename.clone());
    argv.extend(bprm.argv.drain(..).skip(1));
    bprm.argv = argv;
    Ok(Some(interp.to_vec()))
}

/// Finds the binary through any `#!` lines and loads it into a new `Mm`
/// (Linux: `exec_binprm` → `search_binary_handler`).
fn exec_binprm(
    bprm: &mut LinuxBinprm,
    dfd: i32,
    at_flags: u32,
) -> KResult<(Arc<Mm>, crate::fs::binfmt_elf::ElfLoadInfo)> {
    let tsk = current();
    let mut exe =
        with_fs_context(&tsk, |ctx| open_exec(ctx, dfd, &bprm.filename.clone(), at_flags))?;
    for depth in 0.. {
        let Some(interp) = load_script(bprm, &exe.buf)? else { break };
        if depth >= BINPRM_MAX_RECURSION {
            return Err(Errno::ELOOP);
        }
        exe = with_fs_context(&tsk, |ctx| open_exec(ctx, uapi::AT_FDCWD, &interp, 0))?;
    }
    if !exe.buf.starts_with(b"\x7fELF") {
        return Err(Errno::ENOEXEC);
    }
    bprm.cred = bprm_fill_uid(&tsk.cred(), exe.file.file());
    let mm = Mm::new()?;
    let argv: Vec<&[u8]> = bprm.argv.iter().map(Vec::as_slice).collect();
    let envp: Vec<&[u8]> = bprm.envp.iter().map(Vec::as_slice).collect();
    let info = load_elf_binary(exe.file.file(), &exe.buf, &mm, &argv, &envp, &bprm.filename)?;
    mm.mmap_write().exe_file = Some(exe.file);
    Ok((mm, info))
}

/// The credentials the program runs with: a set-user-ID (or set-group-ID
/// and group-executable) `file` gives its owner as the effective ID, unless
/// its mount is `nosuid`; the saved and file-system IDs follow the
/// effective ones. `None` if nothing changes (Linux: `bprm_fill_uid`, then
/// `cap_bprm_creds_from_file`; the interpreter's bits count, a script's not).
fn bprm_fill_uid(old: &Cred, file: &File) -> Option<Cred> {
    let mut new = *old;
    let attr = file.f_inode.attr();
    if !file.f_path.mnt.flags().contains(MntFlags::NOSUID) {
        if attr.mode & uapi::S_ISUID != 0 {
            new.euid = attr.uid;
        }
        if attr.mode & (uapi::S_ISGID | uapi::S_IXGRP) == uapi::S_ISGID | uapi::S_IXGRP {
            new.egid = attr.gid;
        }
    }
    (new.suid, new.fsuid, new.sgid, new.fsgid) = (new.euid, new.euid, new.egid, new.egid);
    (new != *old).then_some(new)
}

/// The point of no return: the task becomes the new program (Linux:
/// `begin_new_exec` + `setup_new_exec` + `start_thread`).
fn begin_new_exec(
    tsk: &Task,
    bprm: &LinuxBinprm,
    mm: Arc<Mm>,
    regs: &mut PtRegs,
    ip: u64,
    sp: u64,
) {
    let old_mm = {
        let mut slot = tsk.mm.lock();
        mm.activate();
        slot.replace(mm)
    };
    drop(old_mm);
    crate::kernel::fork::mm_release(tsk);
    tsk.rseq.execve();
    if let Some(files) = tsk.files.lock().clone() {
        files.close_on_exec();
    }
    crate::kernel::signal::flush_signal_handlers(tsk);
    crate::kernel::time::posix_timers::exit_itimers(tsk);
    tsk.set_comm(exec_comm(&bprm.filename));
    tsk.clear_flags(PF_KTHREAD | PF_FORKNOEXEC);
    if let Some(cred) = bprm.cred {
        tsk.set_cred(cred);
    }
    // A program running with IDs other than its user's cannot be dumped or
    // traced by that user (Linux: `set_dumpable(mm, suid_dumpable)`, 0 by
    // default, else `SUID_DUMP_USER`, in `begin_new_exec`).
    let cred = tsk.cred();
    let dumpable = u32::from(cred.euid == cred.uid && cred.egid == cred.gid);
    tsk.thread_group().dumpable.store(dumpable, core::sync::atomic::Ordering::Relaxed);
    let flags = crate::arch::irqflags::local_irq_save();
    tsk.thread.fpu.reset_current();
    crate::arch::irqflags::local_irq_restore(flags);
    crate::arch::process::start_thread(regs, ip, sp);
}

/// The name a program runs under: its file name's last component (Linux:
/// `__set_task_comm(me, kbasename(bprm->filename))`).
fn exec_comm(filename: &[u8]) -> &[u8] {
    filename.rsplit(|&c| c == b'/').next().unwrap_or(filename)
}

/// Gives the task a private descriptor table before exec closes
/// `O_CLOEXEC` ones (Linux: `unshare_files`).
fn unshare_files(tsk: &Task) -> KResult<()> {
    let files = tsk.files.lock().clone();
    if let Some(files) = files
        && Arc::strong_count(&files) > 2
    {
        let copy = Arc::new(files.dup_fd()?);
        *tsk.files.lock() = Some(copy);
    }
    Ok(())
}

/// Runs `bprm` in the current task, rewriting `regs` to enter it.
fn bprm_execve(mut bprm: LinuxBinprm, dfd: i32, at_flags: u32, regs: &mut PtRegs) -> KResult<()> {
    let tsk = current();
    // Linux renames the task in `begin_new_exec`; Ferrite renames it
    // before the image is mapped, and back if the exec fails, so that
    // `ps` never sees the old name on a task already loading the new one.
    let old_comm = tsk.comm();
    let old_pid = tsk.pid;
    tsk.set_comm(exec_comm(&bprm.filename));
    let (mm, info) = exec_binprm(&mut bprm, dfd, at_flags).inspect_err(|_| {
        tsk.set_comm(&old_comm);
    })?;
    crate::kernel::exit::de_thread(&tsk).inspect_err(|_| tsk.set_comm(&old_comm))?;
    unshare_files(&tsk)?;
    begin_new_exec(&tsk, &bprm, mm, regs, info.entry, info.stack_pointer);
    // Linux: `exec_binprm`; after `de_thread` the caller is the leader.
    crate::kernel::trace::events::sched::trace_sched_process_exec(
        &bprm.filename,
        tsk.tgid,
        old_pid,
    );
    Ok(())
}

/// execve(2) and execveat(2) (Linux: `do_execveat_common`).
pub fn do_execveat_common(
    regs: &mut PtRegs,
    dfd: i32,
    filename: UserPtr<u8>,
    argv: UserPtr<u64>,
    envp: UserPtr<u64>,
    at_flags: u32,
) -> KResult<()> {
    let name = match getname(filename) {
        Err(Errno::ENOENT) if at_flags & uapi::AT_EMPTY_PATH != 0 => Vec::new(),
        other => other?,
    };
    let mut total = 0;
    let argv = copy_strings(argv, &mut total)?;
    let envp = copy_strings(envp, &mut total)?;
    let bprm = LinuxBinprm { filename: name, argv, envp, cred: None };
    bprm_execve(bprm, dfd, at_flags, regs)
}

/// execve(2).
pub fn sys_execve(
    regs: &mut PtRegs,
    filename: UserPtr<u8>,
    argv: UserPtr<u64>,
    envp: UserPtr<u64>,
) -> KResult<()> {
    do_execveat_common(regs, uapi::AT_FDCWD, filename, argv, envp, 0)
}

/// execveat(2).
pub fn sys_execveat(
    regs: &mut PtRegs,
    dfd: i32,
    filename: UserPtr<u8>,
    argv: UserPtr<u64>,
    envp: UserPtr<u64>,
    flags: u32,
) -> KResult<()> {
    do_execveat_common(regs, dfd, filename, argv, envp, flags)
}

/// Runs a user program from a kernel thread, which then returns to user
/// mode when its thread function returns (Linux: `kernel_execve`, used by
/// `run_init_process`).
pub fn kernel_execve(filename: &[u8], argv: &[&[u8]], envp: &[&[u8]]) -> KResult<()> {
    let copy = |list: &[&[u8]]| -> KResult<Vec<Vec<u8>>> {
        let mut v = Vec::new();
        v.try_reserve(list.len()).map_err(|_| Errno::ENOMEM)?;
        v.extend(list.iter().map(|s| s.to_vec()));
        Ok(v)
    };
    let bprm = LinuxBinprm {
        filename: filename.to_vec(),
        argv: copy(argv)?,
        envp: copy(envp)?,
        cred: None,
    };
    let mut regs = PtRegs::default();
    bprm_execve(bprm, uapi::AT_FDCWD, 0, &mut regs)?;
    crate::arch::process::set_current_pt_regs(&regs);
    Ok(())
}
