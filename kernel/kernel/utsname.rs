//! UTS namespaces: the host and domain names uname(2) reports, one pair per
//! namespace (Linux: kernel/utsname.c `copy_utsname`, include/linux/
//! utsname.h `struct uts_namespace`).
//!
//! The fixed fields (sysname, release, version, machine) are the same
//! everywhere and live in `sys.rs`; a namespace holds the two that
//! sethostname(2) and setdomainname(2) change. `CLONE_NEWUTS` copies the
//! caller's pair.
//!
//! # Locking
//! `names` is a leaf lock (Linux: `uts_sem`).
#![deny(unsafe_code)]

use alloc::sync::Arc;

use spin::Once;

use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::nsproxy::{PROC_UTS_INIT_INO, proc_alloc_inum};

/// One NUL-padded name, as `struct new_utsname` holds it.
pub type UtsField = [core::ffi::c_char; 65];

/// Linux: `struct uts_namespace`.
pub struct UtsNamespace {
    /// `nodename` and `domainname`.
    names: SpinLock<[UtsField; 2]>,
    /// /proc/PID/ns/uts's `uts:[N]` (Linux: `ns.inum`).
    pub ns_inum: u32,
}

impl UtsNamespace {
    /// Both names, NUL-padded.
    pub fn names(&self) -> [UtsField; 2] {
        *self.names.lock()
    }

    /// Sets name `which` (0 node, 1 domain).
    pub fn set(&self, which: usize, field: UtsField) -> KResult<()> {
        *self.names.lock().get_mut(which).ok_or(Errno::EINVAL)? = field;
        Ok(())
    }
}

static INIT_UTS_NS: Once<Arc<UtsNamespace>> = Once::new();

/// The initial namespace, named `initial` (Linux: `init_uts_ns`).
pub fn init_uts_ns(initial: [UtsField; 2]) -> Arc<UtsNamespace> {
    INIT_UTS_NS
        .call_once(|| {
            Arc::new(UtsNamespace { names: SpinLock::new(initial), ns_inum: PROC_UTS_INIT_INO })
        })
        .clone()
}

/// A new namespace with `old`'s names (Linux: `clone_uts_ns`).
pub fn copy_utsname(old: &UtsNamespace) -> Arc<UtsNamespace> {
    Arc::new(UtsNamespace { names: SpinLock::new(old.names()), ns_inum: proc_alloc_inum() })
}
