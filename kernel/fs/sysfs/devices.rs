//! Character devices, PCI functions and `/sys/kernel` in sysfs (Linux:
//! drivers/base/core.c `dev_show`, `dev_uevent`; drivers/pci/pci-sysfs.c;
//! mm/huge_memory.c `enabled_show`).
//!
//! The character devices are Linux's well-known ones (`mem` and `tty`
//! classes) whose numbers a driver registered ([`char_devices`]; devtmpfs
//! makes its nodes from the same list). A PCI function's directory has
//! `vendor`, `device`, `subsystem_vendor`, `subsystem_device`, `class`,
//! `revision`, `irq`, `resource`, `modalias`, `uevent` and the binary
//! `config`, read from the device when read, the first 64 bytes only
//! for a reader who is not root, as Linux does. Every function sits
//! directly under `pci0000:00` (bridges are not modelled).
//!
//! # Locking
//! The device lists are copied once; `config` reads take the PCI config
//! lock per dword.
#![deny(unsafe_code)]

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use pci::regs::{PCI_INTERRUPT_LINE, PCI_SUBSYSTEM_ID, PCI_SUBSYSTEM_VENDOR_ID};
use pci::{Bar, BarKind};

use super::kernfs::KernfsBuilder;
use crate::drivers::pci::{PciDev, access::pci_conf1_read32, pci_devices};
use crate::fs::char_dev::chrdev_fops;
use crate::fs::inode::DevT;
use crate::fs::proc::generic::SeqBuf;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::current;

/// A character device as sysfs and devtmpfs show it (Linux: a `struct
/// device` of a class, with its `devnode` mode).
#[derive(Clone, Copy)]
pub struct CharDevice {
    pub class: &'static str,
    pub name: &'static str,
    pub devt: DevT,
    /// The node's permissions in devtmpfs (Linux: `mem_devnode`,
    /// `tty_devnode`; 0600 without a devnode hook).
    pub mode: u32,
}

const fn chr(
    class: &'static str,
    name: &'static str,
    major: u32,
    minor: u32,
    mode: u32,
) -> CharDevice {
    CharDevice { class, name, devt: DevT::new(major, minor), mode }
}

/// Linux's numbers and devtmpfs modes (drivers/char/mem.c `devlist`,
/// drivers/tty/tty_io.c, drivers/tty/serial/8250).
const KNOWN_CHAR_DEVICES: [CharDevice; 13] = [
    chr("mem", "mem", 1, 1, 0o600),
    chr("mem", "null", 1, 3, 0o666),
    chr("mem", "zero", 1, 5, 0o666),
    chr("mem", "full", 1, 7, 0o666),
    chr("mem", "random", 1, 8, 0o666),
    chr("mem", "urandom", 1, 9, 0o666),
    chr("mem", "kmsg", 1, 11, 0o644),
    chr("rtc", "rtc0", crate::drivers::rtc::dev::RTC_MAJOR, 0, 0o600),
    chr("misc", "loop-control", 10, 237, 0o600),
    chr("tty", "tty", 5, 0, 0o666),
    chr("tty", "console", 5, 1, 0o600),
    chr("tty", "ptmx", 5, 2, 0o666),
    chr("tty", "ttyS0", 4, 64, 0o600),
];

/// The well-known character devices a driver has registered.
pub fn char_devices() -> Vec<CharDevice> {
    let known = KNOWN_CHAR_DEVICES.iter().copied().filter(|d| chrdev_fops(d.devt).is_ok());
    known.chain(crate::drivers::tty::vt::vt::vt_char_devices()).collect()
}

/// `/sys/devices/virtual/CLASS/NAME` with `dev` and `uevent`, and the
/// links of `/sys/class` and `/sys/dev/char` to it.
pub fn add_char_devices(b: &mut KernfsBuilder) -> KResult<()> {
    for d in char_devices() {
        let dir = format!("devices/virtual/{}/{}", d.class, d.name);
        let (major, minor) = (d.devt.major(), d.devt.minor());
        b.attr(&dir, "dev", move |m| m.printf(format_args!("{major}:{minor}\n")))?;
        add_char_uevent(b, &dir, d)?;
        b.link(&dir, "subsystem", &format!("../../../../class/{}", d.class))?;
        b.link(&format!("class/{}", d.class), d.name, &format!("../../{dir}"))?;
        b.link("dev/char", &format!("{major}:{minor}"), &format!("../../{dir}"))?;
        if d.class == "rtc" {
            crate::drivers::rtc::dev::rtc_sysfs_attrs(b, &dir)?;
        }
    }
    // Linux: `show_cons_active` (drivers/tty/tty_io.c): the tty behind
    // /dev/console, which `cttyhack` opens.
    b.attr("devices/virtual/tty/console", "active", |m| {
        let mut name = String::new();
        if let Some(tty) = crate::drivers::tty::tty_io::console_tty() {
            let _ = tty.name(&mut name);
        }
        m.printf(format_args!("{name}\n"))
    })?;
    crate::drivers::tty::vt::vt::vt_sysfs_attrs(b)
}

/// A class device's variables (Linux: `dev_uevent`): DEVMODE only for
/// a device whose class sets a mode (0600 is the default).
fn char_uevent_env(d: &CharDevice) -> Vec<String> {
    let (major, minor) = (d.devt.major(), d.devt.minor());
    let mut env = alloc::vec![
        format!("MAJOR={major}"),
        format!("MINOR={minor}"),
        format!("DEVNAME={}", d.name),
    ];
    if d.mode != 0o600 {
        env.push(format!("DEVMODE={:04o}", d.mode));
    }
    env
}

/// `uevent`: reading shows the variables, writing an action sends that
/// event (Linux: `uevent_show`, `uevent_store`).
fn add_char_uevent(b: &mut KernfsBuilder, dir: &str, d: CharDevice) -> KResult<()> {
    let devpath = format!("/{dir}");
    let show = move |m: &mut SeqBuf| {
        char_uevent_env(&d).iter().try_for_each(|v| m.printf(format_args!("{v}\n")))
    };
    let store = move |buf: &[u8]| {
        let env = char_uevent_env(&d);
        crate::net::netlink::uevent::kobject_synth_uevent(buf, &devpath, d.class, &env)
    };
    b.attr_rw(dir, "uevent", show, store)
}

/// Linux: `IORESOURCE_IO`, `_MEM`, `_PREFETCH`, `_MEM_64`, `_SIZEALIGN`.
const IORESOURCE_IO: u64 = 0x100;
const IORESOURCE_MEM: u64 = 0x200;
const IORESOURCE_PREFETCH: u64 = 0x2000;
const IORESOURCE_SIZEALIGN: u64 = 0x40000;
const IORESOURCE_MEM_64: u64 = 0x10_0000;
/// Linux: `PCI_BRIDGE_RESOURCES` with `CONFIG_PCI_IOV`: six BARs, the ROM
/// and six SR-IOV BARs, the lines `resource` has for a non-bridge.
const PCI_RESOURCE_LINES: usize = 13;

/// A BAR's `res->flags` (Linux: `decode_bar` keeps the BAR's low bits,
/// `__pci_read_base` adds `IORESOURCE_SIZEALIGN`).
fn bar_flags(bar: &Bar) -> u64 {
    let low = match bar.kind {
        BarKind::Io => 0x1 | IORESOURCE_IO,
        BarKind::Mem32 => IORESOURCE_MEM,
        BarKind::Mem64 => 0x4 | IORESOURCE_MEM | IORESOURCE_MEM_64,
    };
    let pref = if bar.prefetchable { 0x8 | IORESOURCE_PREFETCH } else { 0 };
    low | pref | IORESOURCE_SIZEALIGN
}

/// Linux: `resource_show`: start, end and flags of each resource.
fn resource_show(dev: &PciDev, m: &mut SeqBuf) -> KResult<()> {
    for i in 0..PCI_RESOURCE_LINES {
        let (start, end, flags) = match dev.bars.get(i).and_then(Option::as_ref) {
            Some(bar) if bar.addr != 0 => (bar.addr, bar.end(), bar_flags(bar)),
            _ => (0, 0, 0),
        };
        m.printf(format_args!("{start:#018x} {end:#018x} {flags:#018x}\n"))?;
    }
    Ok(())
}

/// The size of the configuration space the legacy ports reach.
const PCI_CFG_SPACE_SIZE: u64 = 256;

/// Linux: `pci_read_config`: a reader without `CAP_SYS_ADMIN` sees the
/// standard header only.
fn config_read(bus: u8, devfn: u8, pos: u64, buf: &mut [u8]) -> KResult<usize> {
    let limit = if current().cred().euid == 0 { PCI_CFG_SPACE_SIZE } else { 64 };
    let mut done = 0;
    let mut at = pos;
    while at < limit && done < buf.len() {
        let reg = usize::try_from(at & !3).map_err(|_| Errno::EINVAL)?;
        let dword = pci_conf1_read32(bus, devfn, reg).to_le_bytes();
        let skip = usize::try_from(at & 3).unwrap_or(0);
        let n = (4 - skip).min(buf.len() - done).min(usize::try_from(limit - at).unwrap_or(4));
        buf[done..done + n].copy_from_slice(&dword[skip..skip + n]);
        done += n;
        at += n as u64;
    }
    Ok(done)
}

fn add_pci_device(b: &mut KernfsBuilder, dev: &Arc<PciDev>) -> KResult<()> {
    let name = format!("{}", dev.name());
    let dir = format!("devices/pci0000:00/{name}");
    let (vendor, device, class) = (dev.vendor, dev.device, dev.class);
    let sub_vendor = dev.cfg.read16(PCI_SUBSYSTEM_VENDOR_ID);
    let sub_device = dev.cfg.read16(PCI_SUBSYSTEM_ID);
    let revision = dev.cfg.read8(0x08);
    let irq = dev.cfg.read8(PCI_INTERRUPT_LINE);
    b.attr(&dir, "vendor", move |m| m.printf(format_args!("{vendor:#06x}\n")))?;
    b.attr(&dir, "device", move |m| m.printf(format_args!("{device:#06x}\n")))?;
    b.attr(&dir, "subsystem_vendor", move |m| m.printf(format_args!("{sub_vendor:#06x}\n")))?;
    b.attr(&dir, "subsystem_device", move |m| m.printf(format_args!("{sub_device:#06x}\n")))?;
    b.attr(&dir, "class", move |m| m.printf(format_args!("{class:#08x}\n")))?;
    b.attr(&dir, "revision", move |m| m.printf(format_args!("{revision:#04x}\n")))?;
    b.attr(&dir, "irq", move |m| m.printf(format_args!("{irq}\n")))?;
    let d = dev.clone();
    b.attr(&dir, "resource", move |m| resource_show(&d, m))?;
    let modalias = format!(
        "pci:v{vendor:08X}d{device:08X}sv{sub_vendor:08X}sd{sub_device:08X}bc{:02X}sc{:02X}i{:02X}",
        class >> 16,
        (class >> 8) & 0xff,
        class & 0xff
    );
    let uevent = format!(
        "PCI_CLASS={class:X}\nPCI_ID={vendor:04X}:{device:04X}\n\
         PCI_SUBSYS_ID={sub_vendor:04X}:{sub_device:04X}\nPCI_SLOT_NAME={name}\nMODALIAS={modalias}\n"
    );
    b.attr(&dir, "modalias", move |m| m.printf(format_args!("{modalias}\n")))?;
    b.attr(&dir, "uevent", move |m| m.puts(uevent.as_bytes()))?;
    let (bus, devfn) = (dev.bus, dev.devfn);
    b.bin(&dir, "config", PCI_CFG_SPACE_SIZE, move |pos, buf| config_read(bus, devfn, pos, buf))?;
    b.link(&dir, "subsystem", "../../../bus/pci")?;
    b.link("bus/pci/devices", &name, &format!("../../../{dir}"))
}

/// `/sys/devices/pci0000:00/*` and `/sys/bus/pci/devices` (Linux:
/// `pci_create_sysfs_dev_files`, `bus_add_device`).
pub fn add_pci_devices(b: &mut KernfsBuilder) -> KResult<()> {
    b.mkdir("bus/pci/devices")?;
    b.mkdir("bus/pci/drivers")?;
    for dev in pci_devices() {
        add_pci_device(b, &dev)?;
    }
    Ok(())
}

/// `/sys/kernel/uevent_seqnum`, the count of device events sent, and
/// `/sys/kernel/mm/transparent_hugepage/enabled` (Linux: `enabled_show`).
/// Ferrite has no transparent huge pages yet, so it reads "never" and is
/// read-only; `transparent_hugepage=` on the command line changes nothing.
pub fn add_kernel(b: &mut KernfsBuilder) -> KResult<()> {
    // Linux: `uevent_seqnum_show` (kernel/ksysfs.c).
    b.attr("kernel", "uevent_seqnum", |m| {
        m.printf(format_args!("{}\n", crate::net::netlink::uevent::uevent_seqnum()))
    })?;
    b.attr("kernel/mm/transparent_hugepage", "enabled", |m| m.puts(b"always madvise [never]\n"))
}

crate::ktest!(sysfs_pci_bar_flags_as_linux, {
    let bar = |kind, prefetchable| Bar { kind, prefetchable, addr: 0xfe00_0000, size: 0x4000 };
    crate::kassert!(bar_flags(&bar(BarKind::Mem64, true)) == 0x14_220c, "64-bit prefetchable");
    crate::kassert!(bar_flags(&bar(BarKind::Mem32, false)) == 0x4_0200, "32-bit memory");
    crate::kassert!(bar_flags(&bar(BarKind::Io, false)) == 0x4_0101, "I/O ports");
    Ok(())
});
