//! SysV shared memory: shmget, shmat, shmdt, shmctl (Linux: ipc/shm.c).
//!
//! A segment is an unlinked tmpfs file on an internal tmpfs mount (Linux:
//! `shmem_kernel_file_setup` on `shm_mnt`) that the segment holds open;
//! shmat maps that file `MAP_SHARED`, so fork shares the pages and exit
//! and exec detach by tearing the mapping down like any other. Each
//! mapping holds a reference to the file: the attach count
//! (`shm_nattch`) is the file's reference count less the segment's own.
//! IPC_RMID takes the segment out of the registry at once (its key and ID
//! are gone, as Linux's are once `SHM_DEST`'s last detach comes); the
//! pages live until the last mapping goes. SHM_LOCK and SHM_UNLOCK only
//! set and clear the `SHM_LOCKED` mode bit: nothing is swapped anyway.
//!
//! # Locking
//! `SHM_IDS` (the registry) is taken before a segment's `state`; both are
//! leaf spinlocks, never held across an allocation, mmap or user copy.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

use linux_raw_sys::general as uapi;

use super::util::{
    IPC_64, IPC_RMID, IPC_SET, IPC_STAT, IpcIds, IpcObject, KernIpcPerm, ipc_now, ipcget, ipcperms,
};
use crate::fs::FsCred;
use crate::fs::dcache::Dentry;
use crate::fs::file_table::{FMode, File};
use crate::fs::inode::{DevT, SetAttr};
use crate::fs::namespace::{Path, VfsMount};
use crate::fs::super_block::FileSystemType;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::current;
use crate::kernel::syscall::args::UserPtr;
use crate::mm::mmap::{MapFlags, Prot, do_mmap_pgoff, do_munmap};

/// Linux: `SHM_RDONLY`, `SHM_RND`, `SHM_REMAP`, `SHM_EXEC`, `SHM_LOCK`,
/// `SHM_UNLOCK`, the `SHM_LOCKED` mode bit, `SHMLBA`.
const SHM_RDONLY: i32 = 0o10000;
const SHM_RND: i32 = 0o20000;
const SHM_REMAP: i32 = 0o40000;
const SHM_EXEC: i32 = 0o100000;
const SHM_LOCK: i32 = 11;
const SHM_UNLOCK: i32 = 12;
const SHM_LOCKED: u32 = 0o2000;
const SHMLBA: u64 = 4096;

/// Linux's defaults: `SHMMAX`, `SHMALL`, `SHMMNI`, `SHMMIN`.
pub static SHMMAX: AtomicU64 = AtomicU64::new(u64::MAX - (1 << 24));
pub static SHMALL: AtomicU64 = AtomicU64::new(u64::MAX - (1 << 24));
pub const SHMMNI: u32 = 4096;

/// A segment's changing part (Linux: the fields of `struct shmid_kernel`).
struct ShmState {
    perm: KernIpcPerm,
    atime: i64,
    dtime: i64,
    ctime: i64,
    lpid: i32,
}

/// Linux: `struct shmid_kernel`.
pub struct ShmSegment {
    state: SpinLock<ShmState>,
    file: Arc<File>,
    segsz: u64,
    cpid: i32,
}

impl IpcObject for ShmSegment {
    fn perm(&self) -> KernIpcPerm {
        self.state.lock().perm
    }
    fn set_id(&self, id: i32) {
        self.state.lock().perm.id = id;
    }
}

impl ShmSegment {
    /// Mappings of it (Linux: `shm_nattch`).
    fn nattch(&self) -> u64 {
        u64::try_from(Arc::strong_count(&self.file)).unwrap_or(0).saturating_sub(1)
    }
}

static SHM_IDS: SpinLock<IpcIds<ShmSegment>> = SpinLock::new(IpcIds::new());
/// The internal tmpfs the segments live on (Linux: `shm_mnt`).
static SHM_MNT: spin::Once<Arc<VfsMount>> = spin::Once::new();

fn shm_mnt() -> KResult<Arc<VfsMount>> {
    if let Some(mnt) = SHM_MNT.get() {
        return Ok(mnt.clone());
    }
    let root = crate::fs::tmpfs::TMPFS.mount(b"shm", b"", 0)?;
    let mnt = Arc::new(VfsMount::new_internal(Dentry::make_root(root)?));
    Ok(SHM_MNT.call_once(|| mnt).clone())
}

/// An unlinked tmpfs file of `size` bytes, open read-write (Linux:
/// `shmem_kernel_file_setup`).
fn shmem_file_setup(size: u64) -> KResult<Arc<File>> {
    let mnt = shm_mnt()?;
    let sb = mnt.mnt_sb.clone();
    let inode = crate::fs::tmpfs::new_inode(
        sb,
        uapi::S_IFREG | 0o600,
        FsCred::ROOT,
        DevT::default(),
        None,
    )?;
    let attr = SetAttr { size: Some(size), ..SetAttr::default() };
    inode.i_op.setattr(&inode, &attr)?;
    let path = Path::new(mnt, Dentry::make_root(inode.clone())?);
    let fops = &crate::fs::tmpfs::file::TMPFS_FILE_OPS;
    File::open(path, inode, fops, FMode::READ | FMode::WRITE, uapi::O_RDWR)
}

/// Linux: `newseg`.
fn newseg(
    ids: &mut IpcIds<ShmSegment>,
    key: i32,
    shmflg: i32,
    size: u64,
) -> KResult<Arc<ShmSegment>> {
    if size < 1 || size > SHMMAX.load(Ordering::Relaxed) {
        return Err(Errno::EINVAL);
    }
    let file = shmem_file_setup(size)?;
    let perm = KernIpcPerm::new(key, shmflg.cast_unsigned());
    let now = ipc_now();
    let cpid = current().tgid;
    ids.add(
        |seq| {
            let state = ShmState {
                perm: KernIpcPerm { seq, ..perm },
                atime: 0,
                dtime: 0,
                ctime: now,
                lpid: 0,
            };
            Arc::new(ShmSegment { state: SpinLock::new(state), file, segsz: size, cpid })
        },
        SHMMNI,
    )
}

/// shmget(2).
pub fn sys_shmget(key: i32, size: u64, shmflg: i32) -> KResult<i32> {
    let mut ids = SHM_IDS.lock();
    let seg = ipcget(
        &mut ids,
        key,
        shmflg,
        |ids| newseg(ids, key, shmflg, size),
        |seg| if size > seg.segsz { Err(Errno::EINVAL) } else { Ok(()) },
    )?;
    let id = seg.perm().id;
    Ok(id)
}

fn find(shmid: i32) -> KResult<Arc<ShmSegment>> {
    SHM_IDS.lock().find(shmid)
}

/// shmat(2) (Linux: `do_shmat`).
pub fn sys_shmat(shmid: i32, shmaddr: u64, shmflg: i32) -> KResult<i64> {
    let mut addr = shmaddr;
    if addr != 0 && !addr.is_multiple_of(SHMLBA) {
        if shmflg & SHM_RND == 0 {
            return Err(Errno::EINVAL);
        }
        addr &= !(SHMLBA - 1);
    }
    let seg = find(shmid)?;
    let (mut prot, mut acc) = (Prot::READ, 0o400);
    if shmflg & SHM_RDONLY == 0 {
        prot |= Prot::WRITE;
        acc |= 0o200;
    }
    if shmflg & SHM_EXEC != 0 {
        prot |= Prot::EXEC;
        acc |= 0o100;
    }
    ipcperms(&seg.perm(), acc)?;
    let mut flags = MapFlags::SHARED;
    if addr != 0 {
        flags |= if shmflg & SHM_REMAP != 0 { MapFlags::FIXED } else { MapFlags::FIXED_NOREPLACE };
    } else if shmflg & SHM_REMAP != 0 {
        return Err(Errno::EINVAL);
    }
    let mm = current().mm.lock().clone().ok_or(Errno::EINVAL)?;
    let start = do_mmap_pgoff(&mm, Some(&seg.file), addr, seg.segsz, prot, flags, 0)
        .map_err(|e| if e == Errno::EEXIST { Errno::EINVAL } else { e })?;
    let mut st = seg.state.lock();
    st.atime = ipc_now();
    st.lpid = current().tgid;
    drop(st);
    i64::try_from(start).map_err(|_| Errno::ENOMEM)
}

/// Whether `file` is a segment's (on the shm mount).
fn is_shm_file(file: &File) -> bool {
    SHM_MNT.get().is_some_and(|m| Arc::ptr_eq(&file.f_inode.sb, &m.mnt_sb))
}

/// shmdt(2): unmaps the segment attached at `shmaddr` (Linux: `ksys_shmdt`).
pub fn sys_shmdt(shmaddr: u64) -> KResult<()> {
    if !shmaddr.is_multiple_of(crate::mm::addr::PAGE_SIZE as u64) {
        return Err(Errno::EINVAL);
    }
    let mm = current().mm.lock().clone().ok_or(Errno::EINVAL)?;
    let (len, inode) = {
        let layout = mm.mmap_read();
        let vma =
            layout.vmas.lookup(shmaddr).filter(|v| v.start == shmaddr).ok_or(Errno::EINVAL)?;
        let file = vma.data.file.as_ref().filter(|f| is_shm_file(f)).ok_or(Errno::EINVAL)?;
        (vma.len(), file.f_inode.clone())
    };
    do_munmap(&mm, shmaddr, len)?;
    let segs = SHM_IDS.lock().all();
    if let Some(seg) = segs.iter().find(|s| Arc::ptr_eq(&s.file.f_inode, &inode)) {
        let mut st = seg.state.lock();
        st.dtime = ipc_now();
        st.lpid = current().tgid;
    }
    Ok(())
}

/// `struct shmid64_ds` (x86_64: 112 bytes) as fourteen words.
fn shmid64_ds(seg: &ShmSegment) -> [u64; 14] {
    let st = seg.state.lock();
    let p = st.perm.to_ipc64();
    let pids = u64::from(seg.cpid.cast_unsigned()) | (u64::from(st.lpid.cast_unsigned()) << 32);
    [
        p[0],
        p[1],
        p[2],
        p[3],
        p[4],
        p[5],
        seg.segsz,
        st.atime.cast_unsigned(),
        st.dtime.cast_unsigned(),
        st.ctime.cast_unsigned(),
        pids,
        seg.nattch(),
        0,
        0,
    ]
}

/// shmctl(2): IPC_STAT, IPC_SET, IPC_RMID, SHM_LOCK, SHM_UNLOCK.
pub fn sys_shmctl(shmid: i32, cmd: i32, buf: UserPtr<[u64; 14]>) -> KResult<i32> {
    let seg = find(shmid)?;
    match cmd & !IPC_64 {
        IPC_STAT => {
            ipcperms(&seg.perm(), 0o400)?;
            buf.write(&shmid64_ds(&seg))?;
        }
        IPC_SET => {
            let ds = buf.read()?;
            let mut st = seg.state.lock();
            if !st.perm.may_change() {
                return Err(Errno::EPERM);
            }
            st.perm.update(&ds[..6]);
            st.ctime = ipc_now();
        }
        IPC_RMID => {
            if !seg.perm().may_change() {
                return Err(Errno::EPERM);
            }
            SHM_IDS.lock().remove(shmid);
        }
        SHM_LOCK | SHM_UNLOCK => {
            let mut st = seg.state.lock();
            if !st.perm.may_change() {
                return Err(Errno::EPERM);
            }
            if cmd & !IPC_64 == SHM_LOCK {
                st.perm.mode |= SHM_LOCKED;
            } else {
                st.perm.mode &= !SHM_LOCKED;
            }
        }
        _ => return Err(Errno::EINVAL),
    }
    Ok(0)
}

/// /proc/sysvipc/shm (Linux: `sysvipc_shm_proc_show`).
pub fn sysvipc_shm_show(m: &mut crate::fs::proc::generic::SeqBuf) -> KResult<()> {
    m.puts(
        b"       key      shmid perms                  size  cpid  lpid nattch   uid   gid  \
cuid  cgid      atime      dtime      ctime                   rss                  swap\n",
    )?;
    let segs = SHM_IDS.lock().all();
    for seg in segs {
        let st = seg.state.lock();
        let p = st.perm;
        let rss = seg.file.f_inode.attr().blocks * 512;
        m.printf(format_args!(
            "{:10} {:10}  {:4o} {:21} {:5} {:5}  {:5} {:5} {:5} {:5} {:5} {:10} {:10} {:10} {:21} {:21}\n",
            p.key,
            p.id,
            p.mode,
            seg.segsz,
            seg.cpid,
            st.lpid,
            seg.nattch(),
            p.uid,
            p.gid,
            p.cuid,
            p.cgid,
            st.atime,
            st.dtime,
            st.ctime,
            rss,
            0
        ))?;
    }
    Ok(())
}
