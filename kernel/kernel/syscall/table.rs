//! The system call table: number, name, handler and argument types, one
//! line per call, in the order of Linux's table.
//!
//! Linux: arch/x86/entry/syscalls/syscall_64.tbl, and the
//! `SYSCALL_DEFINEn` wrappers that decode the registers.
//!
//! Adding a system call is adding a line: the handler lives with its
//! subsystem (`fs::read_write::sys_read`), takes decoded arguments (see
//! `args.rs`; each type's `FromSyscallArg` turns a bad value into the
//! errno Linux gives) and returns `KResult<T>` for any `T: SyscallRet`.
//! Arguments come from RDI, RSI, RDX, R10, R8, R9, in that order. A
//! handler that reads or rewrites the saved user registers (fork, clone,
//! execve, rt_sigreturn) takes the pseudo-argument `regs: &mut PtRegs`
//! first: `59 execve => fs::exec::sys_execve(regs: &mut PtRegs, ...)`.
//!
//! # Locking
//! None: the table is code.

use linux_raw_sys::general as uapi;
use linux_raw_sys::general::{__kernel_old_timeval, __kernel_timespec, timezone};
use linux_raw_sys::system::new_utsname;

use super::args::FromSyscallArg;
use crate::arch::ptrace::PtRegs;
use crate::arch::uaccess::UserAddr;
use crate::drivers::char::random::GrndFlags;
use crate::kernel::errno::KResult;
use crate::kernel::sys::Sysinfo;
use crate::kernel::syscall::args::{AtFd, Fd, UserPtr};
use crate::kernel::time::posix::ClockId;

/// What a handler's success value becomes in RAX.
pub trait SyscallRet {
    fn into_ret(self) -> i64;
}

impl SyscallRet for () {
    fn into_ret(self) -> i64 {
        0
    }
}

impl SyscallRet for usize {
    /// Counts are at most `MAX_RW_COUNT`, far below `i64::MAX`.
    fn into_ret(self) -> i64 {
        i64::try_from(self).unwrap_or(i64::MAX)
    }
}

impl SyscallRet for isize {
    fn into_ret(self) -> i64 {
        self as i64
    }
}

impl SyscallRet for i64 {
    fn into_ret(self) -> i64 {
        self
    }
}

impl SyscallRet for i32 {
    fn into_ret(self) -> i64 {
        i64::from(self)
    }
}

impl SyscallRet for u32 {
    fn into_ret(self) -> i64 {
        i64::from(self)
    }
}

/// The six argument registers, in the syscall ABI's order.
fn syscall_args(regs: &PtRegs) -> [u64; 6] {
    [regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9]
}

/// Decodes an argument, handing a missing one (never: at most six) as 0.
fn arg<T: FromSyscallArg>(raw: &mut impl Iterator<Item = u64>) -> KResult<T> {
    T::from_arg(raw.next().unwrap_or(0))
}

macro_rules! syscall_table {
    ($($nr:literal $name:ident => $($path:ident)::+ ($($args:tt)*);)*) => {
        /// Every implemented call as (number, name), in table order.
        pub const IMPLEMENTED: &[(i64, &str)] = &[$(($nr, stringify!($name))),*];

        /// Runs syscall `nr`; `None` if the table has no such number
        /// (Linux: `x64_sys_call`'s switch).
        #[allow(clippy::redundant_closure_call, reason = "the closure scopes `?` to one call")]
        pub fn dispatch(regs: &mut PtRegs, nr: i64) -> Option<KResult<i64>> {
            let mut raw = syscall_args(regs).into_iter();
            let result = match nr {
                $($nr => (|| -> KResult<i64> {
                    syscall_table!(@call regs raw $($path)::+ ($($args)*))
                })(),)*
                _ => return None,
            };
            Some(result)
        }
    };
    // A handler that needs the saved registers (fork, execve, sigreturn)
    // names them first, as the pseudo-argument `regs: &mut PtRegs`.
    (@call $regs:ident $raw:ident $($path:ident)::+
        (regs: &mut PtRegs $(, $arg:ident: $ty:ty)* $(,)?)) => {{
        $(let $arg: $ty = arg(&mut $raw)?;)*
        crate::$($path)::+(&mut *$regs, $($arg),*).map(SyscallRet::into_ret)
    }};
    (@call $regs:ident $raw:ident $($path:ident)::+ ($($arg:ident: $ty:ty),* $(,)?)) => {{
        $(let $arg: $ty = arg(&mut $raw)?;)*
        crate::$($path)::+($($arg),*).map(SyscallRet::into_ret)
    }};
}

syscall_table! {
    0   read            => fs::read_write::sys_read(fd: Fd, buf: UserPtr<u8>, count: usize);
    1   write           => fs::read_write::sys_write(fd: Fd, buf: UserPtr<u8>, count: usize);
    2   open            => fs::open::sys_open(filename: UserPtr<u8>, flags: u32, mode: u32);
    3   close           => fs::open::sys_close(fd: Fd);
    4   stat            => fs::stat::sys_newstat(filename: UserPtr<u8>, statbuf: UserPtr<uapi::stat>);
    5   fstat           => fs::stat::sys_newfstat(fd: Fd, statbuf: UserPtr<uapi::stat>);
    6   lstat           => fs::stat::sys_newlstat(filename: UserPtr<u8>, statbuf: UserPtr<uapi::stat>);
    7   poll            => fs::select::sys_poll(ufds: UserAddr, nfds: u32, timeout_msecs: i32);
    8   lseek           => fs::read_write::sys_lseek(fd: Fd, offset: i64, whence: u32);
    9   mmap            => mm::mmap::sys_mmap(addr: u64, len: u64, prot: u32, flags: u32, fd: i32, off: u64);
    10  mprotect        => mm::mprotect::sys_mprotect(start: u64, len: u64, prot: u64);
    11  munmap          => mm::mmap::sys_munmap(addr: u64, len: u64);
    12  brk             => mm::mmap::sys_brk(brk: u64);
    13  rt_sigaction    => kernel::signal::sys::sys_rt_sigaction(sig: i32, act: UserPtr<[u64; 4]>, oact: UserPtr<[u64; 4]>, sigsetsize: usize);
    14  rt_sigprocmask  => kernel::signal::sys::sys_rt_sigprocmask(how: i32, set: UserPtr<u64>, oset: UserPtr<u64>, sigsetsize: usize);
    15  rt_sigreturn    => kernel::signal::sys::sys_rt_sigreturn(regs: &mut PtRegs);
    16  ioctl           => fs::ioctl::sys_ioctl(fd: Fd, cmd: u32, arg: u64);
    17  pread64         => fs::read_write::sys_pread64(fd: Fd, buf: UserPtr<u8>, count: usize, pos: i64);
    18  pwrite64        => fs::read_write::sys_pwrite64(fd: Fd, buf: UserPtr<u8>, count: usize, pos: i64);
    19  readv           => fs::read_write::sys_readv(fd: Fd, vec: UserAddr, vlen: u64);
    20  writev          => fs::read_write::sys_writev(fd: Fd, vec: UserAddr, vlen: u64);
    21  access          => fs::open::sys_access(filename: UserPtr<u8>, mode: u32);
    22  pipe            => fs::pipe::sys_pipe(fildes: UserPtr<[i32; 2]>);
    23  select          => fs::select::sys_select(n: i32, inp: UserAddr, outp: UserAddr, exp: UserAddr, tvp: UserPtr<__kernel_old_timeval>);
    24  sched_yield     => kernel::sched::syscalls::sys_sched_yield();
    25  mremap          => mm::mremap::sys_mremap(addr: u64, old_len: u64, new_len: u64, flags: u32, new_addr: u64);
    26  msync           => mm::msync::sys_msync(start: u64, len: u64, flags: i32);
    27  mincore         => mm::mincore::sys_mincore(start: u64, len: u64, vec: UserAddr);
    28  madvise         => mm::madvise::sys_madvise(start: u64, len: u64, behavior: i32);
    29  shmget          => ipc::shm::sys_shmget(key: i32, size: u64, shmflg: i32);
    30  shmat           => ipc::shm::sys_shmat(shmid: i32, shmaddr: u64, shmflg: i32);
    31  shmctl          => ipc::shm::sys_shmctl(shmid: i32, cmd: i32, buf: UserPtr<[u64; 14]>);
    32  dup             => fs::fcntl::sys_dup(fildes: Fd);
    33  dup2            => fs::fcntl::sys_dup2(oldfd: i32, newfd: i32);
    34  pause           => kernel::signal::sys::sys_pause();
    35  nanosleep       => kernel::time::posix::sys_nanosleep(rqtp: UserPtr<__kernel_timespec>, rmtp: UserPtr<__kernel_timespec>);
    36  getitimer       => kernel::time::itimer::sys_getitimer(which: i32, value: UserPtr<[i64; 4]>);
    37  alarm           => kernel::time::itimer::sys_alarm(seconds: u32);
    38  setitimer       => kernel::time::itimer::sys_setitimer(which: i32, value: UserPtr<[i64; 4]>, ovalue: UserPtr<[i64; 4]>);
    39  getpid          => kernel::sys::sys_getpid();
    40  sendfile        => fs::splice::sys_sendfile64(out_fd: Fd, in_fd: Fd, offset: UserPtr<i64>, count: usize);
    41  socket          => net::socket::sys_socket(family: i32, type_: i32, protocol: i32);
    42  connect         => net::socket::sys_connect(fd: Fd, uservaddr: UserAddr, addrlen: i32);
    43  accept          => net::socket::sys_accept(fd: Fd, upeer_sockaddr: UserAddr, upeer_addrlen: UserPtr<i32>);
    44  sendto          => net::msg::sys_sendto(fd: Fd, buff: UserAddr, len: usize, flags: u32, addr: UserAddr, addr_len: i32);
    45  recvfrom        => net::msg::sys_recvfrom(fd: Fd, ubuf: UserAddr, size: usize, flags: u32, addr: UserAddr, addr_len: UserPtr<i32>);
    46  sendmsg         => net::msg::sys_sendmsg(fd: Fd, msg: UserAddr, flags: u32);
    47  recvmsg         => net::msg::sys_recvmsg(fd: Fd, msg: UserAddr, flags: u32);
    48  shutdown        => net::socket::sys_shutdown(fd: Fd, how: i32);
    49  bind            => net::socket::sys_bind(fd: Fd, umyaddr: UserAddr, addrlen: i32);
    50  listen          => net::socket::sys_listen(fd: Fd, backlog: i32);
    51  getsockname     => net::socket::sys_getsockname(fd: Fd, usockaddr: UserAddr, usockaddr_len: UserPtr<i32>);
    52  getpeername     => net::socket::sys_getpeername(fd: Fd, usockaddr: UserAddr, usockaddr_len: UserPtr<i32>);
    53  socketpair      => net::socket::sys_socketpair(family: i32, type_: i32, protocol: i32, usockvec: UserPtr<[i32; 2]>);
    54  setsockopt      => net::sock::sys_setsockopt(fd: Fd, level: i32, optname: i32, optval: UserAddr, optlen: i32);
    55  getsockopt      => net::sock::sys_getsockopt(fd: Fd, level: i32, optname: i32, optval: UserAddr, optlen: UserPtr<i32>);
    56  clone           => kernel::fork::sys_clone(regs: &mut PtRegs, flags: u64, newsp: u64, parent_tid: u64, child_tid: u64, tls: u64);
    57  fork            => kernel::fork::sys_fork(regs: &mut PtRegs);
    58  vfork           => kernel::fork::sys_vfork(regs: &mut PtRegs);
    59  execve          => fs::exec::sys_execve(regs: &mut PtRegs, filename: UserPtr<u8>, argv: UserPtr<u64>, envp: UserPtr<u64>);
    60  exit            => kernel::exit::sys_exit(code: i32);
    61  wait4           => kernel::wait::sys_wait4(pid: i32, status: UserPtr<i32>, options: u32, ru: UserPtr<[u64; 18]>);
    62  kill            => kernel::signal::sys::sys_kill(pid: i32, sig: i32);
    63  uname           => kernel::sys::sys_newuname(name: UserPtr<new_utsname>);
    64  semget          => ipc::sem::sys_semget(key: i32, nsems: i32, semflg: i32);
    65  semop           => ipc::sem::sys_semop(semid: i32, tsops: UserPtr<u8>, nsops: u32);
    66  semctl          => ipc::sem::sys_semctl(semid: i32, semnum: i32, cmd: i32, arg: u64);
    67  shmdt           => ipc::shm::sys_shmdt(shmaddr: u64);
    68  msgget          => ipc::msg::sys_msgget(key: i32, msgflg: i32);
    69  msgsnd          => ipc::msg::sys_msgsnd(msqid: i32, msgp: UserPtr<i64>, msgsz: usize, msgflg: i32);
    70  msgrcv          => ipc::msg::sys_msgrcv(msqid: i32, msgp: UserPtr<i64>, msgsz: i64, msgtyp: i64, msgflg: i32);
    71  msgctl          => ipc::msg::sys_msgctl(msqid: i32, cmd: i32, buf: u64);
    72  fcntl           => fs::fcntl::sys_fcntl(fd: Fd, cmd: u32, arg: u64);
    73  flock           => fs::locks::sys_flock(fd: Fd, cmd: u32);
    74  fsync           => fs::sync::sys_fsync(fd: Fd);
    75  fdatasync       => fs::sync::sys_fdatasync(fd: Fd);
    76  truncate        => fs::open::sys_truncate(path: UserPtr<u8>, length: i64);
    77  ftruncate       => fs::open::sys_ftruncate(fd: Fd, length: i64);
    79  getcwd          => fs::d_path::sys_getcwd(buf: UserPtr<u8>, size: usize);
    80  chdir           => fs::open::sys_chdir(filename: UserPtr<u8>);
    81  fchdir          => fs::open::sys_fchdir(fd: Fd);
    82  rename          => fs::namei::rename::sys_rename(oldname: UserPtr<u8>, newname: UserPtr<u8>);
    83  mkdir           => fs::namei::create::sys_mkdir(pathname: UserPtr<u8>, mode: u32);
    84  rmdir           => fs::namei::remove::sys_rmdir(pathname: UserPtr<u8>);
    85  creat           => fs::open::sys_creat(pathname: UserPtr<u8>, mode: u32);
    86  link            => fs::namei::create::sys_link(oldname: UserPtr<u8>, newname: UserPtr<u8>);
    87  unlink          => fs::namei::remove::sys_unlink(pathname: UserPtr<u8>);
    88  symlink         => fs::namei::create::sys_symlink(oldname: UserPtr<u8>, newname: UserPtr<u8>);
    89  readlink        => fs::stat::sys_readlink(path: UserPtr<u8>, buf: UserPtr<u8>, bufsiz: i32);
    90  chmod           => fs::open::sys_chmod(filename: UserPtr<u8>, mode: u32);
    91  fchmod          => fs::open::sys_fchmod(fd: Fd, mode: u32);
    92  chown           => fs::chown::sys_chown(filename: UserPtr<u8>, user: u32, group: u32);
    93  fchown          => fs::chown::sys_fchown(fd: Fd, user: u32, group: u32);
    94  lchown          => fs::chown::sys_lchown(filename: UserPtr<u8>, user: u32, group: u32);
    95  umask           => fs::open::sys_umask(mask: u32);
    96  gettimeofday    => kernel::time::posix::sys_gettimeofday(tv: UserPtr<__kernel_old_timeval>, tz: UserPtr<timezone>);
    97  getrlimit       => kernel::resource::sys_getrlimit(resource: u32, rlim: UserPtr<[u64; 2]>);
    98  getrusage       => kernel::rusage::sys_getrusage(who: i32, ru: UserPtr<[i64; 18]>);
    99  sysinfo         => kernel::sys::sys_sysinfo(info: UserPtr<Sysinfo>);
    100 times           => kernel::rusage::sys_times(tbuf: UserPtr<[i64; 4]>);
    102 getuid          => kernel::cred::sys_getuid();
    103 syslog          => kernel::printk::syslog::sys_syslog(action: i32, buf: UserPtr<u8>, len: i32);
    104 getgid          => kernel::cred::sys_getgid();
    105 setuid          => kernel::cred::sys_setuid(uid: u32);
    106 setgid          => kernel::cred::sys_setgid(gid: u32);
    107 geteuid         => kernel::cred::sys_geteuid();
    108 getegid         => kernel::cred::sys_getegid();
    109 setpgid         => kernel::sys::sys_setpgid(pid: i32, pgid: i32);
    110 getppid         => kernel::sys::sys_getppid();
    111 getpgrp         => kernel::sys::sys_getpgrp();
    112 setsid          => kernel::sys::sys_setsid();
    113 setreuid        => kernel::cred::sys_setreuid(ruid: u32, euid: u32);
    114 setregid        => kernel::cred::sys_setregid(rgid: u32, egid: u32);
    115 getgroups       => kernel::cred::sys_getgroups(size: i32, list: UserPtr<u32>);
    116 setgroups       => kernel::cred::sys_setgroups(size: i32, list: UserPtr<u32>);
    117 setresuid       => kernel::cred::sys_setresuid(ruid: u32, euid: u32, suid: u32);
    118 getresuid       => kernel::cred::sys_getresuid(ruid: UserPtr<u32>, euid: UserPtr<u32>, suid: UserPtr<u32>);
    119 setresgid       => kernel::cred::sys_setresgid(rgid: u32, egid: u32, sgid: u32);
    120 getresgid       => kernel::cred::sys_getresgid(rgid: UserPtr<u32>, egid: UserPtr<u32>, sgid: UserPtr<u32>);
    121 getpgid         => kernel::sys::sys_getpgid(pid: i32);
    122 setfsuid        => kernel::cred::sys_setfsuid(uid: u32);
    123 setfsgid        => kernel::cred::sys_setfsgid(gid: u32);
    124 getsid          => kernel::sys::sys_getsid(pid: i32);
    125 capget          => kernel::capability::sys_capget(header: UserPtr<[u32; 2]>, data: UserPtr<[u32; 6]>);
    127 rt_sigpending   => kernel::signal::sys::sys_rt_sigpending(set: UserPtr<u64>, sigsetsize: usize);
    128 rt_sigtimedwait => kernel::signal::sigwait::sys_rt_sigtimedwait(uthese: UserPtr<u64>, uinfo: UserPtr<[u8; 128]>, uts: UserPtr<__kernel_timespec>, sigsetsize: usize);
    129 rt_sigqueueinfo => kernel::signal::sys::sys_rt_sigqueueinfo(pid: i32, sig: i32, uinfo: UserPtr<[u8; 128]>);
    130 rt_sigsuspend   => kernel::signal::sys::sys_rt_sigsuspend(mask: UserPtr<u64>, sigsetsize: usize);
    131 sigaltstack     => kernel::signal::sys::sys_sigaltstack(regs: &mut PtRegs, uss: UserPtr<[u64; 3]>, uoss: UserPtr<[u64; 3]>);
    132 utime           => fs::utimes::sys_utime(filename: UserPtr<u8>, times: UserPtr<[i64; 2]>);
    133 mknod           => fs::namei::create::sys_mknod(filename: UserPtr<u8>, mode: u32, dev: u32);
    135 personality     => kernel::sys::sys_personality(personality: u32);
    137 statfs          => fs::statfs::sys_statfs(pathname: UserPtr<u8>, buf: UserPtr<uapi::statfs>);
    138 fstatfs         => fs::statfs::sys_fstatfs(fd: Fd, buf: UserPtr<uapi::statfs>);
    140 getpriority     => kernel::sched::syscalls::sys_getpriority(which: i32, who: i32);
    141 setpriority     => kernel::sched::syscalls::sys_setpriority(which: i32, who: i32, niceval: i32);
    142 sched_setparam  => kernel::sched::syscalls::sys_sched_setparam(pid: i32, param: UserPtr<i32>);
    143 sched_getparam  => kernel::sched::syscalls::sys_sched_getparam(pid: i32, param: UserPtr<i32>);
    144 sched_setscheduler => kernel::sched::syscalls::sys_sched_setscheduler(pid: i32, policy: i32, param: UserPtr<i32>);
    145 sched_getscheduler => kernel::sched::syscalls::sys_sched_getscheduler(pid: i32);
    146 sched_get_priority_max => kernel::sched::syscalls::sys_sched_get_priority_max(policy: u32);
    147 sched_get_priority_min => kernel::sched::syscalls::sys_sched_get_priority_min(policy: u32);
    148 sched_rr_get_interval => kernel::sched::syscalls::sys_sched_rr_get_interval(pid: i32, interval: UserPtr<__kernel_timespec>);
    155 pivot_root      => fs::namespace::sys_pivot_root(new_root: UserPtr<u8>, put_old: UserPtr<u8>);
    157 prctl           => kernel::sys::sys_prctl(option: u32, arg2: UserAddr, arg3: u64, arg4: u64, arg5: u64);
    158 arch_prctl      => arch::process::sys_arch_prctl(option: u32, arg2: u64);
    159 adjtimex        => kernel::time::timekeeping::sys_adjtimex(txc: UserPtr<[i64; 26]>);
    160 setrlimit       => kernel::resource::sys_setrlimit(resource: u32, rlim: UserPtr<[u64; 2]>);
    161 chroot          => fs::open::sys_chroot(filename: UserPtr<u8>);
    162 sync            => fs::sync::sys_sync();
    164 settimeofday    => kernel::time::timekeeping::sys_settimeofday(tv: UserPtr<__kernel_old_timeval>, tz: UserPtr<timezone>);
    165 mount           => fs::namespace::sys_mount(dev_name: UserPtr<u8>, dir_name: UserPtr<u8>, fstype: UserPtr<u8>, flags: u64, data: UserPtr<u8>);
    166 umount2         => fs::namespace::sys_umount(name: UserPtr<u8>, flags: u32);
    169 reboot          => kernel::sys::sys_reboot(magic1: u32, magic2: u32, cmd: u32, arg: UserAddr);
    170 sethostname     => kernel::sys::sys_sethostname(name: UserPtr<u8>, len: i32);
    171 setdomainname   => kernel::sys::sys_setdomainname(name: UserPtr<u8>, len: i32);
    175 init_module     => kernel::module::sys_init_module(umod: UserPtr<u8>, len: u64, uargs: UserPtr<u8>);
    176 delete_module   => kernel::module::sys_delete_module(name_user: UserPtr<u8>, flags: u32);
    186 gettid          => kernel::sys::sys_gettid();
    187 readahead       => fs::fallocate::sys_readahead(fd: Fd, offset: i64, count: usize);
    188 setxattr        => fs::xattr::sys_setxattr(path: UserPtr<u8>, name: UserPtr<u8>, value: UserPtr<u8>, size: usize, flags: i32);
    189 lsetxattr       => fs::xattr::sys_lsetxattr(path: UserPtr<u8>, name: UserPtr<u8>, value: UserPtr<u8>, size: usize, flags: i32);
    190 fsetxattr       => fs::xattr::sys_fsetxattr(fd: Fd, name: UserPtr<u8>, value: UserPtr<u8>, size: usize, flags: i32);
    191 getxattr        => fs::xattr::sys_getxattr(path: UserPtr<u8>, name: UserPtr<u8>, value: UserPtr<u8>, size: usize);
    192 lgetxattr       => fs::xattr::sys_lgetxattr(path: UserPtr<u8>, name: UserPtr<u8>, value: UserPtr<u8>, size: usize);
    193 fgetxattr       => fs::xattr::sys_fgetxattr(fd: Fd, name: UserPtr<u8>, value: UserPtr<u8>, size: usize);
    194 listxattr       => fs::xattr::sys_listxattr(path: UserPtr<u8>, list: UserPtr<u8>, size: usize);
    195 llistxattr      => fs::xattr::sys_llistxattr(path: UserPtr<u8>, list: UserPtr<u8>, size: usize);
    196 flistxattr      => fs::xattr::sys_flistxattr(fd: Fd, list: UserPtr<u8>, size: usize);
    197 removexattr     => fs::xattr::sys_removexattr(path: UserPtr<u8>, name: UserPtr<u8>);
    198 lremovexattr    => fs::xattr::sys_lremovexattr(path: UserPtr<u8>, name: UserPtr<u8>);
    199 fremovexattr    => fs::xattr::sys_fremovexattr(fd: Fd, name: UserPtr<u8>);
    200 tkill           => kernel::signal::sys::sys_tkill(tid: i32, sig: i32);
    201 time            => kernel::time::posix::sys_time(tloc: UserPtr<i64>);
    202 futex           => kernel::futex::sys_futex(uaddr: u64, op: i32, val: u32, utime: u64, uaddr2: u64, val3: u32);
    203 sched_setaffinity => kernel::sched::syscalls::sys_sched_setaffinity(pid: i32, len: usize, mask: UserPtr<u64>);
    204 sched_getaffinity => kernel::sched::syscalls::sys_sched_getaffinity(pid: i32, len: usize, mask: UserPtr<u64>);
    213 epoll_create    => fs::eventpoll::sys_epoll_create(size: i32);
    217 getdents64      => fs::readdir::sys_getdents64(fd: Fd, dirent: UserPtr<u8>, count: u32);
    218 set_tid_address => kernel::sys::sys_set_tid_address(tidptr: u64);
    219 restart_syscall => kernel::restart_block::sys_restart_syscall();
    220 semtimedop      => ipc::sem::sys_semtimedop(semid: i32, tsops: UserPtr<u8>, nsops: u32, timeout: UserPtr<__kernel_timespec>);
    221 fadvise64       => fs::fallocate::sys_fadvise64(fd: Fd, offset: i64, len: i64, advice: i32);
    222 timer_create    => kernel::time::posix_timers::sys_timer_create(which: ClockId, sevp: UserPtr<[u64; 8]>, timer_id: UserPtr<i32>);
    223 timer_settime   => kernel::time::posix_timers::sys_timer_settime(timer_id: i32, flags: i32, new_value: UserPtr<[i64; 4]>, old_value: UserPtr<[i64; 4]>);
    224 timer_gettime   => kernel::time::posix_timers::sys_timer_gettime(timer_id: i32, setting: UserPtr<[i64; 4]>);
    225 timer_getoverrun => kernel::time::posix_timers::sys_timer_getoverrun(timer_id: i32);
    226 timer_delete    => kernel::time::posix_timers::sys_timer_delete(timer_id: i32);
    227 clock_settime   => kernel::time::timekeeping::sys_clock_settime(which: ClockId, tp: UserPtr<__kernel_timespec>);
    228 clock_gettime   => kernel::time::posix::sys_clock_gettime(which: ClockId, tp: UserPtr<__kernel_timespec>);
    229 clock_getres    => kernel::time::posix::sys_clock_getres(which: ClockId, tp: UserPtr<__kernel_timespec>);
    230 clock_nanosleep => kernel::time::posix::sys_clock_nanosleep(which: ClockId, flags: u32, rqtp: UserPtr<__kernel_timespec>, rmtp: UserPtr<__kernel_timespec>);
    231 exit_group      => kernel::exit::sys_exit_group(code: i32);
    232 epoll_wait      => fs::eventpoll::sys_epoll_wait(epfd: i32, events: UserAddr, maxevents: i32, timeout: i32);
    233 epoll_ctl       => fs::eventpoll::sys_epoll_ctl(epfd: i32, op: i32, fd: i32, event: UserAddr);
    234 tgkill          => kernel::signal::sys::sys_tgkill(tgid: i32, tid: i32, sig: i32);
    235 utimes          => fs::utimes::sys_utimes(filename: UserPtr<u8>, utimes: UserPtr<[i64; 4]>);
    247 waitid          => kernel::wait::sys_waitid(which: u32, upid: i32, infop: UserPtr<[i32; 12]>, options: u32, ru: UserPtr<[u64; 18]>);
    251 ioprio_set      => block::ioprio::sys_ioprio_set(which: i32, who: i32, ioprio: i32);
    252 ioprio_get      => block::ioprio::sys_ioprio_get(which: i32, who: i32);
    257 openat          => fs::open::sys_openat(dfd: AtFd, filename: UserPtr<u8>, flags: u32, mode: u32);
    258 mkdirat         => fs::namei::create::sys_mkdirat(dfd: AtFd, pathname: UserPtr<u8>, mode: u32);
    259 mknodat         => fs::namei::create::sys_mknodat(dfd: AtFd, filename: UserPtr<u8>, mode: u32, dev: u32);
    260 fchownat        => fs::chown::sys_fchownat(dfd: AtFd, filename: UserPtr<u8>, user: u32, group: u32, flag: u32);
    261 futimesat       => fs::utimes::sys_futimesat(dfd: i32, filename: UserPtr<u8>, utimes: UserPtr<[i64; 4]>);
    262 newfstatat      => fs::stat::sys_newfstatat(dfd: AtFd, filename: UserPtr<u8>, statbuf: UserPtr<uapi::stat>, flag: u32);
    263 unlinkat        => fs::namei::remove::sys_unlinkat(dfd: AtFd, pathname: UserPtr<u8>, flag: u32);
    264 renameat        => fs::namei::rename::sys_renameat(olddfd: AtFd, oldname: UserPtr<u8>, newdfd: AtFd, newname: UserPtr<u8>);
    265 linkat          => fs::namei::create::sys_linkat(olddfd: AtFd, oldname: UserPtr<u8>, newdfd: AtFd, newname: UserPtr<u8>, flags: u32);
    266 symlinkat       => fs::namei::create::sys_symlinkat(oldname: UserPtr<u8>, newdfd: AtFd, newname: UserPtr<u8>);
    267 readlinkat      => fs::stat::sys_readlinkat(dfd: AtFd, path: UserPtr<u8>, buf: UserPtr<u8>, bufsiz: i32);
    268 fchmodat        => fs::open::sys_fchmodat(dfd: AtFd, filename: UserPtr<u8>, mode: u32);
    269 faccessat       => fs::open::sys_faccessat(dfd: AtFd, filename: UserPtr<u8>, mode: u32);
    270 pselect6        => fs::select::sys_pselect6(n: i32, inp: UserAddr, outp: UserAddr, exp: UserAddr, tsp: UserPtr<__kernel_timespec>, sig: UserPtr<[u64; 2]>);
    271 ppoll           => fs::select::sys_ppoll(ufds: UserAddr, nfds: u32, tsp: UserPtr<__kernel_timespec>, sigmask: UserPtr<u64>, sigsetsize: usize);
    272 unshare         => kernel::nsproxy::sys_unshare(unshare_flags: u32);
    273 set_robust_list => kernel::futex::sys_set_robust_list(head: u64, len: usize);
    274 get_robust_list => kernel::futex::sys_get_robust_list(pid: i32, head_ptr: u64, len_ptr: u64);
    275 splice          => fs::splice::sys_splice(fd_in: Fd, off_in: UserPtr<i64>, fd_out: Fd, off_out: UserPtr<i64>, len: usize, flags: u32);
    277 sync_file_range => fs::sync::sys_sync_file_range(fd: Fd, offset: i64, nbytes: i64, flags: u32);
    280 utimensat       => fs::utimes::sys_utimensat(dfd: i32, filename: UserPtr<u8>, utimes: UserPtr<[i64; 4]>, flags: u32);
    281 epoll_pwait     => fs::eventpoll::sys_epoll_pwait(epfd: i32, events: UserAddr, maxevents: i32, timeout: i32, sigmask: UserPtr<u64>, sigsetsize: usize);
    283 timerfd_create  => fs::timerfd::sys_timerfd_create(clockid: i32, flags: u32);
    284 eventfd         => fs::eventfd::sys_eventfd(count: u32);
    285 fallocate       => fs::fallocate::sys_fallocate(fd: Fd, mode: i32, offset: i64, len: i64);
    286 timerfd_settime => fs::timerfd::sys_timerfd_settime(ufd: i32, flags: u32, utmr: UserPtr<[i64; 4]>, otmr: UserPtr<[i64; 4]>);
    287 timerfd_gettime => fs::timerfd::sys_timerfd_gettime(ufd: i32, otmr: UserPtr<[i64; 4]>);
    288 accept4         => net::socket::sys_accept4(fd: Fd, upeer_sockaddr: UserAddr, upeer_addrlen: UserPtr<i32>, flags: u32);
    290 eventfd2        => fs::eventfd::sys_eventfd2(count: u32, flags: u32);
    291 epoll_create1   => fs::eventpoll::sys_epoll_create1(flags: i32);
    292 dup3            => fs::fcntl::sys_dup3(oldfd: i32, newfd: i32, flags: u32);
    293 pipe2           => fs::pipe::sys_pipe2(fildes: UserPtr<[i32; 2]>, flags: u32);
    295 preadv          => fs::read_write::sys_preadv(fd: Fd, vec: UserAddr, vlen: u64, pos_l: u64, pos_h: u64);
    296 pwritev         => fs::read_write::sys_pwritev(fd: Fd, vec: UserAddr, vlen: u64, pos_l: u64, pos_h: u64);
    297 rt_tgsigqueueinfo => kernel::signal::sys::sys_rt_tgsigqueueinfo(tgid: i32, tid: i32, sig: i32, uinfo: UserPtr<[u8; 128]>);
    302 prlimit64       => kernel::resource::sys_prlimit64(pid: i32, resource: u32, new_rlim: UserPtr<[u64; 2]>, old_rlim: UserPtr<[u64; 2]>);
    305 clock_adjtime   => kernel::time::timekeeping::sys_clock_adjtime(which: ClockId, txc: UserPtr<[i64; 26]>);
    306 syncfs          => fs::sync::sys_syncfs(fd: Fd);
    308 setns           => kernel::nsproxy::sys_setns(fd: i32, nstype: i32);
    309 getcpu          => kernel::sys::sys_getcpu(cpup: UserPtr<u32>, nodep: UserPtr<u32>, unused: u64);
    313 finit_module    => kernel::module::sys_finit_module(fd: Fd, uargs: UserPtr<u8>, flags: u32);
    316 renameat2       => fs::namei::rename::sys_renameat2(olddfd: AtFd, oldname: UserPtr<u8>, newdfd: AtFd, newname: UserPtr<u8>, flags: u32);
    318 getrandom       => drivers::char::random::sys_getrandom(buf: UserPtr<u8>, count: usize, flags: GrndFlags);
    322 execveat        => fs::exec::sys_execveat(regs: &mut PtRegs, dfd: i32, filename: UserPtr<u8>, argv: UserPtr<u64>, envp: UserPtr<u64>, flags: u32);
    326 copy_file_range => fs::splice::sys_copy_file_range(fd_in: Fd, off_in: UserPtr<i64>, fd_out: Fd, off_out: UserPtr<i64>, len: usize, flags: u32);
    327 preadv2         => fs::read_write::sys_preadv2(fd: Fd, vec: UserAddr, vlen: u64, pos_l: u64, pos_h: u64, flags: u32);
    328 pwritev2        => fs::read_write::sys_pwritev2(fd: Fd, vec: UserAddr, vlen: u64, pos_l: u64, pos_h: u64, flags: u32);
    332 statx           => fs::stat::sys_statx(dfd: AtFd, filename: UserPtr<u8>, flags: u32, mask: u32, buffer: UserPtr<uapi::statx>);
    334 rseq            => kernel::rseq::sys_rseq(rseq: u64, rseq_len: u32, flags: i32, sig: u32);
    424 pidfd_send_signal => kernel::pidfd::sys_pidfd_send_signal(pidfd: i32, sig: i32, info: UserPtr<[u8; 128]>, flags: u32);
    434 pidfd_open      => kernel::pidfd::sys_pidfd_open(pid: i32, flags: u32);
    435 clone3          => kernel::fork::sys_clone3(regs: &mut PtRegs, uargs: UserAddr, size: usize);
    438 pidfd_getfd     => kernel::pidfd::sys_pidfd_getfd(pidfd: i32, fd: i32, flags: u32);
    439 faccessat2      => fs::open::sys_faccessat2(dfd: AtFd, filename: UserPtr<u8>, mode: u32, flags: u32);
    441 epoll_pwait2    => fs::eventpoll::sys_epoll_pwait2(epfd: i32, events: UserAddr, maxevents: i32, timeout: UserPtr<__kernel_timespec>, sigmask: UserPtr<u64>, sigsetsize: usize);
}

crate::ktest!(syscall_table_matches_linux_names, {
    for &(nr, name) in IMPLEMENTED {
        crate::kassert!(super::names::syscall_name(nr) == Some(name), "table name is Linux's");
    }
    Ok(())
});
