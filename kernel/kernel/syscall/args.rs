//! Syscall argument types: the raw `u64` registers decoded into values a
//! handler can trust, so that handlers never see a raw pointer or an
//! unchecked number.
//!
//! Linux: include/linux/syscalls.h (`SYSCALL_DEFINEn`, whose casts do the
//! decoding there), include/linux/uaccess.h, fs/file.c (`fdget`'s checks),
//! fs/namei.c (`getname`).
//!
//! Key types: [`FromSyscallArg`] (the decoder every argument type
//! implements), [`Fd`], [`AtFd`], [`UserPtr`], [`UserSlice`],
//! [`UserSliceMut`]; [`syscall_flags!`](crate::syscall_flags) makes a
//! `bitflags` type an argument that refuses unknown bits with `EINVAL`.
//!
//! C `int`/`unsigned int` arguments take the low 32 bits of the register,
//! as Linux does: the x86_64 ABI leaves the upper half of a 32-bit
//! argument undefined, so checking it would refuse real programs.
//!
//! # Locking
//! None; copying through a `UserPtr` may fault and sleep (later), so no
//! spinlock may be held across it.

use alloc::vec::Vec;
use core::marker::PhantomData;

use crate::arch::uaccess::{
    self, Pod, StrncpyError, UserAddr, access_ok, copy_from_user, copy_to_user,
};
use crate::kernel::errno::{Errno, KResult};
use crate::mm::slab_common::{kmemdup, kzalloc};

/// Decodes one syscall argument register.
pub trait FromSyscallArg: Sized {
    fn from_arg(raw: u64) -> KResult<Self>;
}

impl FromSyscallArg for u64 {
    fn from_arg(raw: u64) -> KResult<Self> {
        Ok(raw)
    }
}

impl FromSyscallArg for usize {
    fn from_arg(raw: u64) -> KResult<Self> {
        usize::try_from(raw).map_err(|_| Errno::EINVAL)
    }
}

impl FromSyscallArg for i64 {
    fn from_arg(raw: u64) -> KResult<Self> {
        Ok(i64::from_ne_bytes(raw.to_ne_bytes()))
    }
}

impl FromSyscallArg for u32 {
    #[expect(clippy::cast_possible_truncation, reason = "a C unsigned int is the low half")]
    fn from_arg(raw: u64) -> KResult<Self> {
        Ok(raw as u32)
    }
}

impl FromSyscallArg for i32 {
    #[expect(clippy::cast_possible_truncation, reason = "a C int is the low half")]
    fn from_arg(raw: u64) -> KResult<Self> {
        Ok(raw as u32 as i32)
    }
}

/// A file descriptor number that is not negative (Linux: the `unsigned
/// int fd` of `read`; the fd table decides whether it is open).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fd(u32);

impl Fd {
    pub const fn new(fd: u32) -> Self {
        Self(fd)
    }

    pub const fn as_u32(self) -> u32 {
        self.0
    }

    pub const fn as_usize(self) -> usize {
        self.0 as usize
    }
}

impl FromSyscallArg for Fd {
    /// Negative (as a C `int`) is `EBADF`, as `fdget` finds no such file.
    fn from_arg(raw: u64) -> KResult<Self> {
        let fd = i32::from_arg(raw)?;
        u32::try_from(fd).map(Fd).map_err(|_| Errno::EBADF)
    }
}

/// The directory argument of the `*at` calls: `AT_FDCWD` or a descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AtFd {
    Cwd,
    Fd(Fd),
}

impl FromSyscallArg for AtFd {
    fn from_arg(raw: u64) -> KResult<Self> {
        match i32::from_arg(raw)? {
            linux_raw_sys::general::AT_FDCWD => Ok(AtFd::Cwd),
            fd => u32::try_from(fd).map(|fd| AtFd::Fd(Fd(fd))).map_err(|_| Errno::EBADF),
        }
    }
}

impl FromSyscallArg for UserAddr {
    /// Any value: whether it may be touched is decided at the copy.
    fn from_arg(raw: u64) -> KResult<Self> {
        Ok(UserAddr::new(raw))
    }
}

/// A user pointer to a `T` (Linux: `T __user *`). NULL is a valid value
/// (many syscalls take an optional pointer); reading or writing it is not.
pub struct UserPtr<T> {
    addr: UserAddr,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for UserPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for UserPtr<T> {}

impl<T> core::fmt::Debug for UserPtr<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "UserPtr({:#x})", self.addr.as_u64())
    }
}

impl<T> FromSyscallArg for UserPtr<T> {
    fn from_arg(raw: u64) -> KResult<Self> {
        Ok(Self::new(UserAddr::new(raw)))
    }
}

impl<T> UserPtr<T> {
    pub const fn new(addr: UserAddr) -> Self {
        Self { addr, _type: PhantomData }
    }

    pub const fn addr(self) -> UserAddr {
        self.addr
    }

    pub const fn is_null(self) -> bool {
        self.addr.is_null()
    }

    /// The pointer `count` elements further on (C's `p + count`).
    pub fn add(self, count: usize) -> KResult<Self> {
        let bytes = count.checked_mul(size_of::<T>()).ok_or(Errno::EFAULT)?;
        Ok(Self::new(self.addr.checked_add(bytes).ok_or(Errno::EFAULT)?))
    }
}

impl<T: Pod> UserPtr<T> {
    /// Linux: `get_user` / `copy_from_user` of one struct.
    pub fn read(self) -> KResult<T> {
        uaccess::get_user(self.addr).map_err(|_| Errno::EFAULT)
    }

    /// Linux: `put_user` / `copy_to_user` of one struct.
    pub fn write(self, value: &T) -> KResult<()> {
        uaccess::put_user(self.addr, value).map_err(|_| Errno::EFAULT)
    }
}

/// `len` bytes at `addr`, consumed front to back: the part both kinds of
/// user slice share (Linux: the `iov_iter` fields `count` and
/// `iov_offset`).
#[derive(Debug)]
struct UserCursor {
    addr: UserAddr,
    len: usize,
    done: usize,
}

impl UserCursor {
    /// `EFAULT` unless the whole range lies in the user half.
    fn new(ptr: UserPtr<u8>, len: usize) -> KResult<Self> {
        if !access_ok(ptr.addr(), len) {
            return Err(Errno::EFAULT);
        }
        Ok(Self { addr: ptr.addr(), len, done: 0 })
    }

    fn remaining(&self) -> usize {
        self.len - self.done
    }

    /// Runs `copy(at, n)` on the next `n = want.min(remaining)` bytes and
    /// moves past them; returns `n`.
    fn advance<E>(
        &mut self,
        want: usize,
        copy: impl FnOnce(UserAddr, usize) -> Result<(), E>,
    ) -> KResult<usize> {
        let n = want.min(self.remaining());
        let at = self.addr.checked_add(self.done).ok_or(Errno::EFAULT)?;
        copy(at, n).map_err(|_| Errno::EFAULT)?;
        self.done += n;
        Ok(n)
    }
}

/// A user buffer to read from, `len` bytes at `ptr`, consumed front to
/// back (Linux: a one-segment `iov_iter` of `ITER_SOURCE`).
#[derive(Debug)]
pub struct UserSlice(UserCursor);

impl UserSlice {
    /// `EFAULT` unless the whole range lies in the user half.
    pub fn new(ptr: UserPtr<u8>, len: usize) -> KResult<Self> {
        UserCursor::new(ptr, len).map(Self)
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.0.remaining()
    }

    /// Reads the next `dst.len()` bytes (or fewer at the end); returns how
    /// many it read.
    pub fn read(&mut self, dst: &mut [u8]) -> KResult<usize> {
        self.0.advance(dst.len(), |at, n| copy_from_user(&mut dst[..n], at))
    }

    /// Reads everything left into a new vector (`ENOMEM` if it cannot be
    /// had: the length came from user space).
    pub fn read_to_vec(&mut self) -> KResult<Vec<u8>> {
        let mut buf = kzalloc(self.remaining())?;
        self.read(&mut buf)?;
        Ok(buf)
    }
}

/// A user buffer to write into, `len` bytes at `ptr`, filled front to
/// back (Linux: a one-segment `iov_iter` of `ITER_DEST`).
#[derive(Debug)]
pub struct UserSliceMut(UserCursor);

impl UserSliceMut {
    /// `EFAULT` unless the whole range lies in the user half.
    pub fn new(ptr: UserPtr<u8>, len: usize) -> KResult<Self> {
        UserCursor::new(ptr, len).map(Self)
    }

    /// Room left.
    pub fn remaining(&self) -> usize {
        self.0.remaining()
    }

    /// Bytes written so far: what a `read(2)` returns.
    pub fn written(&self) -> usize {
        self.0.done
    }

    /// Appends as much of `bytes` as fits; returns how many it wrote.
    pub fn write(&mut self, bytes: &[u8]) -> KResult<usize> {
        self.0.advance(bytes.len(), |at, n| copy_to_user(at, &bytes[..n]))
    }

    /// Appends up to `n` zero bytes (`/dev/zero`, holes); returns how many.
    pub fn zero(&mut self, n: usize) -> KResult<usize> {
        self.0.advance(n, uaccess::clear_user)
    }
}

/// Copies a path from user space, without its NUL (Linux: `getname`):
/// `EFAULT` for a bad pointer, `ENAMETOOLONG` past `PATH_MAX`, `ENOENT`
/// for the empty string.
///
/// Most paths are short: they are copied into the stack and then into a
/// vector of their own length, rather than into a zeroed `PATH_MAX` one.
pub fn getname(ptr: UserPtr<u8>) -> KResult<Vec<u8>> {
    let errno = |e| match e {
        StrncpyError::Fault => Errno::EFAULT,
        StrncpyError::TooLong => Errno::ENAMETOOLONG,
    };
    let mut short = [0u8; GETNAME_INLINE];
    let name = match uaccess::strncpy_from_user(&mut short, ptr.addr()) {
        Ok(len) => kmemdup(&short[..len])?,
        Err(StrncpyError::TooLong) => {
            let mut buf = kzalloc(uaccess::PATH_MAX)?;
            let len = uaccess::strncpy_from_user(&mut buf, ptr.addr()).map_err(errno)?;
            buf.truncate(len);
            buf
        }
        Err(e) => return Err(errno(e)),
    };
    if name.is_empty() {
        return Err(Errno::ENOENT);
    }
    Ok(name)
}

/// Paths up to this long (NUL included) go through the stack in `getname`
/// (Linux keeps names up to `EMBEDDED_NAME_MAX` inside `struct filename`).
const GETNAME_INLINE: usize = 256;

/// Makes a `bitflags` type (with `u32` bits, a C `unsigned int`) a syscall
/// argument that rejects unknown bits with `EINVAL`, as Linux's newer
/// calls do (`getrandom`, `openat2`, `clone3`…). Calls that ignore unknown
/// bits for history's sake (`open`) decode with `from_bits_truncate`
/// instead of using this.
#[macro_export]
macro_rules! syscall_flags {
    ($flags:ty) => {
        impl $crate::kernel::syscall::args::FromSyscallArg for $flags {
            fn from_arg(raw: u64) -> $crate::kernel::errno::KResult<Self> {
                let bits = <u32 as $crate::kernel::syscall::args::FromSyscallArg>::from_arg(raw)?;
                <$flags>::from_bits(bits).ok_or($crate::kernel::errno::Errno::EINVAL)
            }
        }
    };
}

bitflags::bitflags! {
    /// A flag set for the decoder's self-test.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    struct TestFlags: u32 {
        const A = 1;
        const B = 4;
    }
}
crate::syscall_flags!(TestFlags);

crate::ktest!(syscall_arg_decoders, {
    crate::kassert!(TestFlags::from_arg(5) == Ok(TestFlags::A | TestFlags::B), "known bits");
    crate::kassert!(TestFlags::from_arg(2) == Err(Errno::EINVAL), "unknown bit is EINVAL");
    crate::kassert!(TestFlags::from_arg(1 << 40 | 1) == Ok(TestFlags::A), "upper half ignored");
    crate::kassert!(Fd::from_arg(3).map(Fd::as_usize) == Ok(3), "fd 3");
    crate::kassert!(Fd::from_arg(7).map(Fd::as_u32) == Ok(Fd::new(7).as_u32()), "fd 7");
    crate::kassert!(Fd::from_arg(u64::MAX) == Err(Errno::EBADF), "fd -1 is EBADF");
    crate::kassert!(Fd::from_arg(0x8000_0000) == Err(Errno::EBADF), "INT_MIN is EBADF");
    crate::kassert!(Fd::from_arg(0xffff_ffff_0000_0004) == Ok(Fd::new(4)), "an int's upper half");
    let cwd = linux_raw_sys::general::AT_FDCWD as u32 as u64;
    crate::kassert!(AtFd::from_arg(cwd) == Ok(AtFd::Cwd), "AT_FDCWD");
    crate::kassert!(AtFd::from_arg(u64::MAX - 1) == Err(Errno::EBADF), "-2 is EBADF");
    crate::kassert!(i32::from_arg(u64::MAX) == Ok(-1), "int -1");
    let ptr = UserPtr::<u64>::from_arg(0x1000).map_err(|_| "decode")?;
    crate::kassert!(ptr.add(2).map(|p| p.addr().as_u64()) == Ok(0x1010), "pointer arithmetic");
    crate::kassert!(ptr.add(usize::MAX).is_err(), "overflow is EFAULT");
    Ok(())
});

crate::ktest!(user_slices_check_bounds, {
    let kernel = UserPtr::<u8>::new(UserAddr::new(0xffff_8880_0000_0000));
    crate::kassert!(UserSlice::new(kernel, 1).is_err(), "kernel address is EFAULT");
    let near_top = UserPtr::<u8>::new(UserAddr::new(uaccess::TASK_SIZE_MAX - 8));
    crate::kassert!(UserSliceMut::new(near_top, 8).is_ok(), "up to TASK_SIZE_MAX");
    crate::kassert!(UserSliceMut::new(near_top, 9).is_err(), "one past is EFAULT");
    let huge = UserPtr::<u8>::new(UserAddr::new(0x1000));
    crate::kassert!(UserSlice::new(huge, usize::MAX).is_err(), "overflow is EFAULT");
    let unmapped = UserPtr::<u8>::new(UserAddr::new(0x1000));
    let mut dst = UserSliceMut::new(unmapped, 16).map_err(|_| "in range")?;
    crate::kassert!(dst.write(b"hello") == Err(Errno::EFAULT), "unmapped is EFAULT, no oops");
    crate::kassert!(getname(unmapped) == Err(Errno::EFAULT), "getname of unmapped");
    crate::kassert!(UserPtr::<u64>::new(UserAddr::new(8)).read() == Err(Errno::EFAULT), "get_user");
    Ok(())
});

crate::ktest!(user_slices_on_a_mapped_page, {
    use crate::arch::uaccess::with_scratch_user_page;
    let outcome = with_scratch_user_page(|page| -> KResult<bool> {
        let ptr = UserPtr::<u8>::new(page);
        let mut dst = UserSliceMut::new(ptr, 8)?;
        let wrote = dst.write(b"abcdefghij")?;
        let zeroed = dst.zero(4)?;
        let mut src = UserSlice::new(ptr, 8)?;
        let mut buf = [0u8; 3];
        let first = src.read(&mut buf)?;
        let rest = src.read_to_vec()?;
        Ok(wrote == 8 && zeroed == 0 && first == 3 && &buf == b"abc" && rest == b"defgh")
    });
    crate::kassert!(outcome == Ok(Ok(true)), "write, zero and read through user slices");
    Ok(())
});
