//! Unix98 pseudo-terminals: `/dev/ptmx` makes a master and slave pair, the
//! slave appears as `/dev/pts/N`.
//!
//! Linux: drivers/tty/pty.c (`ptmx_open`, `pty_write`, `pty_write_room`,
//! `pty_open`, `pty_close`, `pty_unthrottle`, `pty_unix98_ioctl`,
//! `ptm_open_peer`), drivers/tty/tty_io.c (`tty_release` for the pair).
//!
//! A pair is two [`Tty`]s linked to each other (`Tty::link`, Linux's
//! `tty->link`): the master of the "ptm" driver (major 128, never opened
//! by number) and the slave of the "pts" driver (major 136). Each end's
//! driver write is the other end's input: the master's bytes go through
//! the slave's N_TTY (echo, ICRNL, ISIG: `^C` written to the master
//! signals the slave's foreground group), the slave's output, OPOST done,
//! lands in the master's raw input. A write takes only what the other
//! end's input buffer has room for (`n_tty_receive_buf_room`); the rest
//! waits until a read there makes room and `unthrottle` wakes the writer.
//! Termios, window-size and job-control ioctls on the master act on the
//! slave (`Tty::pair_get_tty`).
//!
//! Lifetimes: the master's `driver_data` owns the slave; the slave links
//! back weakly. Closing the master hangs the slave up (its readers see end
//! of file, its writers `EIO`, its session leader gets SIGHUP and SIGCONT)
//! and removes `/dev/pts/N`; the slave's last close makes the master's
//! reads end with `EIO` once drained. The number goes back to devpts when
//! both ends are closed. Packet mode (`TIOCPKT`) prefixes the master's
//! reads with a status byte; the slave's flushes are reported there.
//!
//! # Locking
//! None of its own: a pty write takes the other end's `ldisc` lock (in
//! n_tty.rs), never its own at the same time; the master never echoes
//! (its termios is raw and ioctls reach the slave's), so a write nests at
//! most master -> slave -> master, each step with no lock held.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::format;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};

use linux_raw_sys::general as uapi;
use linux_raw_sys::ioctl as cmds;
use n_tty::Termios;

use super::n_tty::{n_tty_receive_buf_room, n_tty_receive_room, pty_packet_event};
use super::tty_io::{
    TTY_OTHER_CLOSED, TTY_PTY_LOCK, TTYAUX_MAJOR, Tty, TtyDriver, TtyFileOps, TtyOperations,
    tty_open_file, tty_reopen, tty_vhangup,
};
use super::tty_ioctl::IoctlArg;
use super::tty_jobctrl::{CurrentJobControl, tty_isig};
use crate::fs::char_dev::{chrdev_fops, register_chrdev_region};
use crate::fs::devpts::{
    NR_UNIX98_PTY_MAX, PtsFsInfo, UNIX98_PTY_SLAVE_MAJOR, devpts_acquire, devpts_get_priv,
    devpts_kill_index, devpts_mntget, devpts_new_index, devpts_pty_kill, devpts_pty_new,
};
use crate::fs::file_table::{FMode, File, FileOps, PollMask};
use crate::fs::inode::{DevT, Inode};
use crate::fs::namei::lookup_one;
use crate::fs::namespace::Path;
use crate::fs::select::poll_wake;
use crate::kernel::errno::{Errno, KResult};

/// Linux: `UNIX98_PTY_MASTER_MAJOR`.
pub const UNIX98_PTY_MASTER_MAJOR: u32 = 128;
/// `/dev/ptmx` is 5:2 (Linux: `PTMX_MINOR`).
pub const PTMX_MINOR: u32 = 2;

static PTM_DRIVER: spin::Once<Arc<TtyDriver>> = spin::Once::new();
static PTS_DRIVER: spin::Once<Arc<TtyDriver>> = spin::Once::new();

/// What both ends share: the devpts number and whether it is given back.
struct PtyShared {
    fsi: Arc<PtsFsInfo>,
    index: u32,
    master_open: AtomicBool,
    released: AtomicBool,
}

/// A master's `driver_data`: it owns its slave.
struct PtyMaster {
    slave: Arc<Tty>,
    shared: Arc<PtyShared>,
}

fn shared_of(tty: &Tty) -> Option<&Arc<PtyShared>> {
    let data = tty.driver_data.get()?;
    data.downcast_ref::<PtyMaster>().map(|m| &m.shared).or_else(|| data.downcast_ref())
}

/// Gives the number back once neither end is open (Linux: `release_tty`
/// -> `pty_unix98_remove`, run once for the pair). Both closers call it
/// after their own update (SeqCst, so that the later one sees both).
fn pty_release_if_unused(shared: &PtyShared, slave: &Tty) {
    let unused =
        !shared.master_open.load(Ordering::SeqCst) && slave.count.load(Ordering::SeqCst) == 0;
    if unused && !shared.released.swap(true, Ordering::AcqRel) {
        devpts_kill_index(&shared.fsi, shared.index);
    }
}

/// Both ends' driver (Linux: `ptm_unix98_ops`, `pty_unix98_ops`).
struct PtyOps;
static PTY_OPS: PtyOps = PtyOps;

impl TtyOperations for PtyOps {
    /// Linux: `pty_write`: the bytes are the other end's input.
    fn write(&self, tty: &Tty, buf: &[u8]) -> usize {
        // The other end is gone: nobody will read, nothing may block.
        tty.link().map_or(buf.len(), |to| n_tty_receive_buf_room(&to, buf))
    }

    /// Linux: `pty_write_room`: the room at the other end.
    fn write_room(&self, tty: &Tty) -> usize {
        tty.link().map_or(usize::MAX, |to| n_tty_receive_room(&to))
    }

    /// Linux: `pty_set_termios`: a pty is always 8 bits, receiving.
    fn set_termios(&self, tty: &Tty, _old: &Termios) {
        let mut ldisc = tty.ldisc.lock();
        let mut t = *ldisc.termios();
        t.c_cflag = (t.c_cflag & !(uapi::CSIZE | uapi::PARENB)) | uapi::CS8 | uapi::CREAD;
        ldisc.set_termios(t);
    }

    /// Linux: `pty_open`: a slave opens only while its master is open
    /// once and unlocked.
    fn open(&self, tty: &Tty) -> KResult<()> {
        let link = tty.link().ok_or(Errno::EIO)?;
        if tty.test_flag(TTY_OTHER_CLOSED) || link.test_flag(TTY_PTY_LOCK) {
            return Err(Errno::EIO);
        }
        if !tty.driver.pty_master && link.count.load(Ordering::Acquire) != 1 {
            return Err(Errno::EIO);
        }
        link.set_flag(TTY_OTHER_CLOSED, false);
        Ok(())
    }

    /// Linux: `pty_close` and the pair's part of `tty_release`.
    fn close(&self, tty: &Tty, opens_left: usize) {
        if opens_left > 0 {
            return;
        }
        tty.packet.store(false, Ordering::Release);
        tty.read_wait.wake_up_all();
        tty.write_wait.wake_up_all();
        if let Some(link) = tty.link() {
            link.set_flag(TTY_OTHER_CLOSED, true);
            link.read_wait.wake_up_all();
            link.write_wait.wake_up_all();
        }
        poll_wake();
        let data = tty.driver_data.get();
        if let Some(master) = data.and_then(|d| d.downcast_ref::<PtyMaster>()) {
            tty.set_flag(TTY_OTHER_CLOSED, true);
            devpts_pty_kill(&master.shared.fsi, master.shared.index);
            tty_vhangup(&master.slave);
            master.shared.master_open.store(false, Ordering::SeqCst);
            pty_release_if_unused(&master.shared, &master.slave);
        } else if let Some(shared) = shared_of(tty) {
            pty_release_if_unused(shared, tty);
        }
    }

    /// Linux: `pty_unix98_ioctl`, the master's only.
    fn ioctl(&self, tty: &Tty, cmd: u32, arg: &dyn IoctlArg) -> Option<KResult<i64>> {
        if !tty.driver.pty_master {
            return None;
        }
        Some(match cmd {
            cmds::TIOCSPTLCK => read_i32(arg).map(|v| {
                tty.set_flag(TTY_PTY_LOCK, v != 0);
                0
            }),
            cmds::TIOCGPTLCK => write_i32(arg, i32::from(tty.test_flag(TTY_PTY_LOCK))),
            cmds::TIOCGPTN => {
                let index = shared_of(tty).map_or(0, |s| s.index);
                arg.write_bytes(&index.to_ne_bytes()).map(|()| 0)
            }
            cmds::TIOCSIG => pty_signal(tty, arg.value()),
            cmds::TIOCPKT => read_i32(arg).map(|on| {
                // Linux: `pty_set_pktmode`: old events are forgotten.
                if on != 0 && !tty.packet.load(Ordering::Acquire) {
                    tty.link().inspect(|slave| slave.pktstatus.store(0, Ordering::Release));
                }
                tty.packet.store(on != 0, Ordering::Release);
                0
            }),
            cmds::TIOCGPKT => write_i32(arg, i32::from(tty.packet.load(Ordering::Acquire))),
            _ => return None,
        })
    }

    /// Linux: `pty_flush_buffer`: a packet-mode master hears of it.
    fn flush_buffer(&self, tty: &Tty) {
        pty_packet_event(tty, uapi::TIOCPKT_FLUSHWRITE);
    }

    /// Linux: `pty_unthrottle`: a read made room, so the other end's
    /// writers may go on.
    fn unthrottle(&self, tty: &Tty) {
        if let Some(link) = tty.link() {
            link.write_wait.wake_up_all();
            poll_wake();
        }
    }
}

fn read_i32(arg: &dyn IoctlArg) -> KResult<i32> {
    let mut bytes = [0; 4];
    arg.read_bytes(&mut bytes)?;
    Ok(i32::from_ne_bytes(bytes))
}

fn write_i32(arg: &dyn IoctlArg, value: i32) -> KResult<i64> {
    arg.write_bytes(&value.to_ne_bytes()).map(|()| 0)
}

/// `TIOCSIG`: the master sends SIGINT, SIGQUIT or SIGTSTP to the slave's
/// foreground group (Linux: `pty_signal`).
fn pty_signal(tty: &Tty, sig: u64) -> KResult<i64> {
    let sig = u32::try_from(sig).map_err(|_| Errno::EINVAL)?;
    if ![uapi::SIGINT, uapi::SIGQUIT, uapi::SIGTSTP].contains(&sig) {
        return Err(Errno::EINVAL);
    }
    if let Some(slave) = tty.link() {
        tty_isig(&slave, sig);
    }
    Ok(0)
}

/// A new pair numbered `index` in `fsi` (Linux: `tty_init_dev` ->
/// `pty_common_install`).
fn pty_alloc_pair(fsi: Arc<PtsFsInfo>, index: u32) -> KResult<(Arc<Tty>, Arc<Tty>)> {
    let (ptm, pts) =
        (PTM_DRIVER.get().ok_or(Errno::ENODEV)?, PTS_DRIVER.get().ok_or(Errno::ENODEV)?);
    let slot = usize::try_from(index).map_err(|_| Errno::ENOSPC)?;
    let master = Arc::new(Tty::new(ptm.clone(), slot));
    let slave = Arc::new(Tty::new(pts.clone(), slot));
    master.link.call_once(|| Arc::downgrade(&slave));
    slave.link.call_once(|| Arc::downgrade(&master));
    let shared = Arc::new(PtyShared {
        fsi,
        index,
        master_open: AtomicBool::new(true),
        released: AtomicBool::new(false),
    });
    slave.driver_data.call_once(|| Box::new(shared.clone()));
    master.driver_data.call_once(|| Box::new(PtyMaster { slave: slave.clone(), shared }));
    Ok((master, slave))
}

/// Opens a new master (Linux: `ptmx_open`): a number from the devpts
/// instance, the pair, the slave's node; the slave starts locked.
fn ptmx_open(file: &File) -> KResult<()> {
    let fsi = devpts_acquire(file)?;
    let index = devpts_new_index(&fsi)?;
    let (master, slave) = match pty_alloc_pair(fsi.clone(), index) {
        Ok(pair) => pair,
        Err(e) => {
            devpts_kill_index(&fsi, index);
            return Err(e);
        }
    };
    master.set_flag(TTY_PTY_LOCK, true);
    // From here the close hook gives the number back.
    if let Err(e) =
        devpts_pty_new(&fsi, index, Arc::downgrade(&slave)).and_then(|()| tty_reopen(&master))
    {
        master.set_flag(TTY_OTHER_CLOSED, true);
        devpts_pty_kill(&fsi, index);
        devpts_kill_index(&fsi, index);
        return Err(e);
    }
    file.set_private(Box::new(master));
    Ok(())
}

/// `TIOCGPTPEER`: opens the master's slave with `flags` and returns the
/// new descriptor, without a path lookup by name (Linux: `ptm_open_peer`).
pub fn ptm_open_peer(master_file: &File, tty: &Arc<Tty>, flags: u64) -> KResult<i64> {
    if !tty.driver.pty_master {
        return Err(Errno::EIO);
    }
    let flags = u32::try_from(flags).map_err(|_| Errno::EINVAL)?;
    let shared = shared_of(tty).ok_or(Errno::EIO)?;
    let root = devpts_mntget(master_file, &shared.fsi)?;
    let dentry = lookup_one(&root.dentry, format!("{}", shared.index).as_bytes())?;
    let inode = dentry.positive()?;
    let fops = chrdev_fops(inode.attr().rdev)?;
    let mode = match flags & uapi::O_ACCMODE {
        uapi::O_RDONLY => FMode::READ,
        uapi::O_WRONLY => FMode::WRITE,
        _ => FMode::READ | FMode::WRITE,
    };
    let file =
        File::open(Path::new(root.mnt, dentry), inode, fops, mode, flags | uapi::O_LARGEFILE)?;
    let files = crate::fs::current_files()?;
    files.alloc_fd(0, file, flags & uapi::O_CLOEXEC != 0).map(i64::from)
}

/// `/dev/ptmx` (Linux: `ptmx_fops`, the tty operations with `ptmx_open`).
struct PtmxFileOps;
static PTMX_FOPS: PtmxFileOps = PtmxFileOps;

/// `/dev/pts/N`: the slave found through its devpts node (Linux:
/// `tty_fops` with `pts_unix98_lookup`); major 128 opens nothing (Linux:
/// `ptm_unix98_lookup`).
struct PtsFileOps;
static PTS_FOPS: PtsFileOps = PtsFileOps;

/// The tty file operations, for all but `open`.
macro_rules! tty_file_ops_but_open {
    () => {
        fn release(&self, file: &File) {
            TtyFileOps.release(file)
        }
        fn read(&self, file: &File, buf: &mut [u8], pos: &mut u64) -> KResult<usize> {
            TtyFileOps.read(file, buf, pos)
        }
        fn write(&self, file: &File, buf: &[u8], pos: &mut u64) -> KResult<usize> {
            TtyFileOps.write(file, buf, pos)
        }
        fn ioctl(&self, file: &File, cmd: u32, arg: u64) -> KResult<i64> {
            TtyFileOps.ioctl(file, cmd, arg)
        }
        fn poll(&self, file: &File) -> PollMask {
            TtyFileOps.poll(file)
        }
        fn seekable(&self) -> bool {
            false
        }
    };
}

impl FileOps for PtmxFileOps {
    fn open(&self, _inode: &Arc<Inode>, file: &File) -> KResult<()> {
        ptmx_open(file)
    }
    tty_file_ops_but_open!();
}

impl FileOps for PtsFileOps {
    fn open(&self, inode: &Arc<Inode>, file: &File) -> KResult<()> {
        if inode.attr().rdev.major() != UNIX98_PTY_SLAVE_MAJOR {
            return Err(Errno::EIO);
        }
        // Not a devpts node, or its pair is gone: Linux's "master must be
        // open before slave".
        let tty = devpts_get_priv(inode).ok_or(Errno::EIO)?;
        tty_reopen(&tty)?;
        tty_open_file(tty, file, &CurrentJobControl::new(), false);
        Ok(())
    }
    tty_file_ops_but_open!();
}

/// Registers the two drivers and their device numbers: 5:2 `/dev/ptmx`,
/// majors 128 and 136 (Linux: `unix98_pty_init`).
pub fn unix98_pty_init() -> KResult<()> {
    let raw = Termios {
        c_iflag: 0,
        c_oflag: 0,
        c_cflag: uapi::B38400 | uapi::CS8 | uapi::CREAD,
        c_lflag: 0,
        ..Termios::default()
    };
    let mut ptm = TtyDriver::new("ptm", UNIX98_PTY_MASTER_MAJOR, 0, 0, &PTY_OPS);
    ptm.pty_master = true;
    ptm.init_termios = raw;
    let mut pts = TtyDriver::new("pts", UNIX98_PTY_SLAVE_MAJOR, 0, 0, &PTY_OPS);
    pts.init_termios.c_cflag = uapi::B38400 | uapi::CS8 | uapi::CREAD;
    PTM_DRIVER.call_once(|| Arc::new(ptm));
    PTS_DRIVER.call_once(|| Arc::new(pts));
    register_chrdev_region(DevT::new(TTYAUX_MAJOR, PTMX_MINOR), 1, "/dev/ptmx", &PTMX_FOPS)?;
    register_chrdev_region(
        DevT::new(UNIX98_PTY_MASTER_MAJOR, 0),
        NR_UNIX98_PTY_MAX,
        "ptm",
        &PTS_FOPS,
    )?;
    register_chrdev_region(
        DevT::new(UNIX98_PTY_SLAVE_MAJOR, 0),
        NR_UNIX98_PTY_MAX,
        "pts",
        &PTS_FOPS,
    )
}

crate::ktest!(pty_write_takes_only_the_room_the_other_end_has, {
    use super::n_tty::n_tty_read;
    let mnt =
        crate::fs::namespace::vfs_kern_mount(b"devpts", b"devpts", b"").map_err(|_| "mount")?;
    let root = mnt.mnt_root.positive().map_err(|_| "root")?;
    let fsi = root.private::<Arc<PtsFsInfo>>().map_err(|_| "instance")?.clone();
    let index = devpts_new_index(&fsi).map_err(|_| "index")?;
    let (master, slave) = pty_alloc_pair(fsi.clone(), index).map_err(|_| "pair")?;
    let mut raw = slave.termios();
    raw.c_lflag &= !(uapi::ICANON | uapi::ECHO | uapi::ISIG);
    raw.c_iflag = 0;
    slave.set_termios(raw);
    let took = PTY_OPS.write(&master, &[b'x'; 5000]);
    crate::kassert!(took == n_tty::N_TTY_BUF_SIZE - 1, "the slave takes what fits, less one");
    crate::kassert!(PTY_OPS.write_room(&master) == 0, "then the master has no room");
    let mut buf = [0; 100];
    let n = n_tty_read(&slave, &mut buf, true).map_err(|_| "read")?;
    crate::kassert!(n == 100 && PTY_OPS.write_room(&master) == 100, "a read makes room");
    crate::kassert!(PTY_OPS.write(&slave, b"ab\n") == 3, "the master takes the slave's output");
    let n = n_tty_read(&master, &mut buf, true).map_err(|_| "master read")?;
    crate::kassert!(buf.get(..n) == Some(b"ab\n".as_slice()), "raw on the master's side");
    crate::kassert!(
        master.pair_get_tty().driver.major == UNIX98_PTY_SLAVE_MAJOR,
        "ioctls reach the slave"
    );
    devpts_kill_index(&fsi, index);
    Ok(())
});
