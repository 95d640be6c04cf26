//! Error numbers, with Linux's values, and the kernel's result type.
//!
//! Linux: include/uapi/asm-generic/errno-base.h, errno.h. The values come
//! from `linux-raw-sys`, generated from those headers.
#![deny(unsafe_code)]

/// Linux's errno values, plus the kernel-internal restart codes that
/// `arch_do_signal_or_restart` turns into a restart or `EINTR` before a
/// syscall returns (Linux: include/linux/errno.h); user space never sees them.
mod e {
    pub use linux_raw_sys::errno::*;
    pub const ERESTARTSYS: u32 = 512;
    pub const ERESTARTNOINTR: u32 = 513;
    pub const ERESTARTNOHAND: u32 = 514;
    pub const ERESTART_RESTARTBLOCK: u32 = 516;
}

macro_rules! errnos {
    ($($name:ident: $text:literal,)*) => {
        /// A Linux error number. A syscall returns `-(errno as isize)`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u32)]
        #[allow(clippy::upper_case_acronyms)]
        #[allow(non_camel_case_types, reason = "Linux's ERESTART_RESTARTBLOCK")]
        #[allow(dead_code, reason = "Linux's errno set; the syscalls of the next issue return them")]
        pub enum Errno {
            $($name = e::$name,)*
        }

        impl Errno {
            /// The message `strerror` gives for it in glibc.
            pub const fn description(self) -> &'static str {
                match self {
                    $(Errno::$name => $text,)*
                }
            }

            /// The errno of a raw value, if it is one.
            pub const fn from_raw(value: u32) -> Option<Self> {
                match value {
                    $(e::$name => Some(Errno::$name),)*
                    _ => None,
                }
            }
        }
    };
}

errnos! {
    EPERM: "Operation not permitted",
    ENOENT: "No such file or directory",
    ESRCH: "No such process",
    EINTR: "Interrupted system call",
    EIO: "Input/output error",
    ENXIO: "No such device or address",
    E2BIG: "Argument list too long",
    ENOEXEC: "Exec format error",
    EBADF: "Bad file descriptor",
    ECHILD: "No child processes",
    EAGAIN: "Resource temporarily unavailable",
    ENOMEM: "Cannot allocate memory",
    EACCES: "Permission denied",
    EFAULT: "Bad address",
    EBUSY: "Device or resource busy",
    EEXIST: "File exists",
    EXDEV: "Invalid cross-device link",
    ENODEV: "No such device",
    ENOTDIR: "Not a directory",
    EISDIR: "Is a directory",
    EINVAL: "Invalid argument",
    ENFILE: "Too many open files in system",
    EMFILE: "Too many open files",
    ENOTTY: "Inappropriate ioctl for device",
    ETXTBSY: "Text file busy",
    EFBIG: "File too large",
    ENOSPC: "No space left on device",
    ESPIPE: "Illegal seek",
    EROFS: "Read-only file system",
    EMLINK: "Too many links",
    EPIPE: "Broken pipe",
    EDOM: "Numerical argument out of domain",
    ERANGE: "Numerical result out of range",
    EDEADLK: "Resource deadlock avoided",
    ENAMETOOLONG: "File name too long",
    ENOLCK: "No locks available",
    ENOMSG: "No message of desired type",
    EIDRM: "Identifier removed",
    ENODATA: "No data available",
    ENOSYS: "Function not implemented",
    ENOTEMPTY: "Directory not empty",
    ELOOP: "Too many levels of symbolic links",
    EOVERFLOW: "Value too large for defined data type",
    EUCLEAN: "Structure needs cleaning",
    EOPNOTSUPP: "Operation not supported",
    ENOTSOCK: "Socket operation on non-socket",
    EDESTADDRREQ: "Destination address required",
    EMSGSIZE: "Message too long",
    EPROTOTYPE: "Protocol wrong type for socket",
    ENOPROTOOPT: "Protocol not available",
    EPROTONOSUPPORT: "Protocol not supported",
    ESOCKTNOSUPPORT: "Socket type not supported",
    EAFNOSUPPORT: "Address family not supported by protocol",
    EADDRINUSE: "Address already in use",
    EADDRNOTAVAIL: "Cannot assign requested address",
    ENETDOWN: "Network is down",
    ENETUNREACH: "Network is unreachable",
    ECONNABORTED: "Software caused connection abort",
    ECONNRESET: "Connection reset by peer",
    ENOBUFS: "No buffer space available",
    EISCONN: "Transport endpoint is already connected",
    ENOTCONN: "Transport endpoint is not connected",
    ETIMEDOUT: "Connection timed out",
    ECONNREFUSED: "Connection refused",
    EHOSTUNREACH: "No route to host",
    EHOSTDOWN: "Host is down",
    ENONET: "Machine is not on the network",
    EPROTO: "Protocol error",
    EALREADY: "Operation already in progress",
    EINPROGRESS: "Operation now in progress",
    ERESTARTSYS: "Interrupted system call (restart if SA_RESTART)",
    ERESTARTNOINTR: "Interrupted system call (always restart)",
    ERESTARTNOHAND: "Interrupted system call (restart unless a handler ran)",
    ERESTART_RESTARTBLOCK: "Interrupted system call (restart through restart_syscall)",
}

/// The kernel's result type.
pub type KResult<T> = Result<T, Errno>;
