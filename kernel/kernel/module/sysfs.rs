//! `/sys/module/NAME/`: a loaded module's state, size, users and parameters
//! (Linux: kernel/module/sysfs.c `mod_sysfs_setup`, kernel/params.c
//! `module_param_sysfs_setup`).
//!
//! `/sys/module` is listed when read ([`KernfsKind::DynDir`]), so a module
//! shows once loaded and goes once unloaded; its entries keep inode numbers
//! derived from its load sequence number. Each has `initstate` (`live`,
//! `coming`, `going`), `refcnt`, `coresize`, `taint`, `holders/` (a link
//! per module using it) and `parameters/NAME` for each `module_param` with
//! a nonzero permission, read from the module's variable. Parameters are
//! read-only here: Linux lets root write those declared 0644.
//!
//! [`KernfsKind::DynDir`]: crate::fs::sysfs::kernfs::KernfsKind::DynDir
//!
//! # Locking
//! The module list's leaf lock while listing; attributes hold a weak
//! reference and read the module's memory page by page.
#![deny(unsafe_code)]

use alloc::format;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

use super::{Module, ModuleState, modules, users_of};
use crate::fs::proc::generic::SeqBuf;
use crate::fs::sysfs::kernfs::{KernfsBuilder, KernfsNode};
use crate::kernel::errno::{Errno, KResult};

/// Where the listed entries' inode numbers start, past the fixed tree's
/// and the network devices' (net/core/net_sysfs.rs).
const MODULE_INO: u64 = 1 << 36;

/// Adds `/sys/module` (Linux: `module_kset`).
pub fn module_sysfs_add(b: &mut KernfsBuilder) -> KResult<()> {
    b.dyn_dir("", "module", module_list)
}

/// An attribute of a module that may be unloaded while it is open.
fn module_attr(
    module: &Arc<Module>,
    show: fn(&Module, &mut SeqBuf) -> KResult<()>,
) -> impl Fn(&mut SeqBuf) -> KResult<()> + Send + Sync + 'static {
    let weak: Weak<Module> = Arc::downgrade(module);
    move |m| show(&*weak.upgrade().ok_or(Errno::ENODEV)?, m)
}

fn initstate_show(module: &Module, m: &mut SeqBuf) -> KResult<()> {
    m.puts(match module.state() {
        ModuleState::Live => b"live\n",
        ModuleState::Coming => b"coming\n",
        ModuleState::Going => b"going\n",
    })
}

fn coresize_show(module: &Module, m: &mut SeqBuf) -> KResult<()> {
    m.printf(format_args!("{}\n", module.size()))
}

/// `/sys/module`: a directory per loaded module.
fn module_list() -> KResult<Vec<Arc<KernfsNode>>> {
    let mut out = Vec::new();
    for module in modules() {
        let name = module.name.as_str();
        let mut b = KernfsBuilder::with_ino_base(MODULE_INO + (module.seq << 8));
        b.attr(name, "initstate", module_attr(&module, initstate_show))?;
        let users = users_of(&module);
        let refcnt = users.len();
        b.attr(name, "refcnt", move |m| m.printf(format_args!("{refcnt}\n")))?;
        b.attr(name, "coresize", module_attr(&module, coresize_show))?;
        b.attr(name, "taint", |m| m.puts(b"\n"))?;
        b.mkdir(&format!("{name}/holders"))?;
        for user in &users {
            b.link(&format!("{name}/holders"), &user.name, &format!("../../{}", user.name))?;
        }
        for (i, p) in module.params.iter().enumerate().filter(|(_, p)| p.perm != 0) {
            let weak = Arc::downgrade(&module);
            let show = move |m: &mut SeqBuf| {
                let module = weak.upgrade().ok_or(Errno::ENODEV)?;
                let param = module.params.get(i).ok_or(Errno::ENODEV)?;
                param_show(&module, param, m)
            };
            b.attr(&format!("{name}/parameters"), &p.name, show)?;
        }
        out.extend(b.finish().children()?);
    }
    Ok(out)
}

/// A parameter's value as Linux prints it: an int in decimal, a bool as
/// `Y`/`N`, a charp as its string (Linux: `param_get_int`, `param_get_bool`,
/// `param_get_charp`).
fn param_show(module: &Module, p: &kmod::Param, m: &mut SeqBuf) -> KResult<()> {
    match p.kind {
        kmod::ParamType::Int => {
            let mut v = [0u8; 4];
            module.mem.read(p.addr, &mut v).then_some(()).ok_or(Errno::EFAULT)?;
            m.printf(format_args!("{}\n", i32::from_le_bytes(v)))
        }
        kmod::ParamType::Bool => {
            let mut v = [0u8; 1];
            module.mem.read(p.addr, &mut v).then_some(()).ok_or(Errno::EFAULT)?;
            m.puts(if v[0] != 0 { b"Y\n" } else { b"N\n" })
        }
        kmod::ParamType::Charp => {
            let mut ptr = [0u8; 8];
            module.mem.read(p.addr, &mut ptr).then_some(()).ok_or(Errno::EFAULT)?;
            let mut s = Vec::new();
            match u64::from_le_bytes(ptr) {
                0 => s.extend_from_slice(b"(null)"),
                addr => crate::arch::module::read_kernel_str(addr, 1024, &mut s),
            }
            m.puts(&s)?;
            m.puts(b"\n")
        }
    }
}
