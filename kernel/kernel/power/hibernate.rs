//! Where a hibernation image would be, and the check for one: the
//! `/sys/power/resume` and `/sys/power/resume_offset` attributes (Linux:
//! kernel/power/hibernate.c `resume_store`, `resume_show`,
//! `software_resume`, `resume_offset_store`; kernel/power/swap.c
//! `swsusp_check`; init/do_mounts.c `name_to_dev_t`).
//!
//! Writing a device to `resume` (`MAJ:MIN`, a hexadecimal device number
//! or `/dev/NAME`) records it and looks for an image there at once, as
//! Linux does: the page at `resume_offset` of the device is a swap header
//! whose last ten bytes are `SWAPSPACE2` as `mkswap` left them, or
//! `S1SUSPEND` where swsusp wrote an image over it. With no image the
//! write just succeeds (busybox `resume` then exits 1). With one, the
//! signature `mkswap` wrote is put back first (so that a failed resume is
//! not tried again), then Linux would load the image; Ferrite cannot
//! restore one, so it logs "resume failed (-95)" (`EOPNOTSUPP`) and the
//! write succeeds all the same: Linux's `resume_store` returns the count
//! whatever `software_resume` found (an unloadable image logs "resume
//! failed (-22)" there).
//!
//! # Locking
//! `SYSTEM_TRANSITION` (Linux: `system_transition_mutex`, a sleeping lock
//! taken with nothing held) serialises the checks, so two writers never
//! rewrite one header at once. The resume device and offset are atomics.
#![deny(unsafe_code)]

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::block::genhd::{get_disk, get_disk_by_devt};
use crate::fs::buffer::bread;
use crate::fs::inode::DevT;
use crate::fs::proc::generic::SeqBuf;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::mutex::Mutex;
use crate::mm::addr::PAGE_SIZE;
use crate::{pr_debug, pr_info};

/// Linux: `swsusp_resume_device`, 0:0 until a write names one.
static SWSUSP_RESUME_DEVICE: AtomicU32 = AtomicU32::new(0);
/// Linux: `swsusp_resume_block`: the page of the device with the header.
static SWSUSP_RESUME_BLOCK: AtomicU64 = AtomicU64::new(0);
/// Linux: `system_transition_mutex`.
static SYSTEM_TRANSITION: Mutex<()> = Mutex::new(());

/// Linux: `HIBERNATE_SIG`, with its terminating NUL (`memcmp` of 10).
const HIBERNATE_SIG: &[u8; 10] = b"S1SUSPEND\0";
/// Offsets in the header page (Linux: `struct swsusp_header`, which ends
/// the page: `hw_sig`, `crc32`, `image`, `flags`, `orig_sig[10]`, `sig[10]`).
const HW_SIG_AT: usize = PAGE_SIZE - 40;
const FLAGS_AT: usize = PAGE_SIZE - 24;
const ORIG_SIG_AT: usize = PAGE_SIZE - 20;
const SIG_AT: usize = PAGE_SIZE - 10;
/// Linux: `SF_HW_SIG`: the image is bound to the firmware's signature.
const SF_HW_SIG: u32 = 8;
/// Linux: `swsusp_hardware_signature`, the ACPI FACS signature, which
/// Ferrite does not read: 0, as on a machine without one.
const SWSUSP_HARDWARE_SIGNATURE: u32 = 0;

/// Linux: `resume_show`.
pub fn resume_show(m: &mut SeqBuf) -> KResult<()> {
    let dev = DevT(SWSUSP_RESUME_DEVICE.load(Ordering::Relaxed));
    m.printf(format_args!("{}:{}\n", dev.major(), dev.minor()))
}

/// Linux: `resume_store`: `EINVAL` for a name that gives no device
/// number; otherwise records it, checks for an image, and succeeds.
pub fn resume_store(buf: &[u8]) -> KResult<()> {
    let name = buf.strip_suffix(b"\n").unwrap_or(buf);
    let dev = name_to_dev_t(name).ok_or(Errno::EINVAL)?;
    SWSUSP_RESUME_DEVICE.store(dev.0, Ordering::Relaxed);
    pr_debug!("PM: hibernation: Configured hibernation resume from disk to {}", dev.0);
    software_resume();
    Ok(())
}

/// Linux: `resume_offset_show`.
pub fn resume_offset_show(m: &mut SeqBuf) -> KResult<()> {
    m.printf(format_args!("{}\n", SWSUSP_RESUME_BLOCK.load(Ordering::Relaxed)))
}

/// Linux: `resume_offset_store` (`kstrtoull(buf, 0, ...)`).
pub fn resume_offset_store(buf: &[u8]) -> KResult<()> {
    let offset = kstrtoull(buf)?;
    SWSUSP_RESUME_BLOCK.store(offset, Ordering::Relaxed);
    Ok(())
}

/// An unsigned number, base 16 after `0x`, 8 after `0`, else 10, with
/// at most a newline after it (Linux: `kstrtoull` with base 0): `EINVAL`
/// for anything else, `ERANGE` past 64 bits.
fn kstrtoull(text: &[u8]) -> KResult<u64> {
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    let (digits, radix) = match text {
        [b'0', b'x' | b'X', rest @ ..] => (rest, 16),
        [b'0', rest @ ..] if !rest.is_empty() => (rest, 8),
        _ => (text, 10),
    };
    if digits.is_empty() || !digits.iter().all(|&c| char::from(c).is_digit(radix)) {
        return Err(Errno::EINVAL);
    }
    parse_radix(digits, radix).ok_or(Errno::ERANGE)
}

/// All of `digits` as a number in `radix`; `None` if empty, not all
/// digits, or too big for 64 bits.
fn parse_radix(digits: &[u8], radix: u32) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &c| {
        let d = char::from(c).to_digit(radix)?;
        n.checked_mul(u64::from(radix))?.checked_add(u64::from(d))
    })
}

/// `MAJ:MIN` with both in range (Linux: the `MKDEV` round trip check).
fn parse_maj_min(maj: &[u8], min: &[u8]) -> Option<DevT> {
    let maj = u32::try_from(parse_radix(maj, 10)?).ok().filter(|&m| m < 1 << 12)?;
    let min = u32::try_from(parse_radix(min, 10)?).ok().filter(|&m| m < 1 << 20)?;
    Some(DevT::new(maj, min))
}

/// The device number `name` gives (Linux 6.1: `name_to_dev_t`):
/// `MAJ:MIN` or `MAJ:MIN:OFFSET`, a hexadecimal `new_encode_dev` number,
/// or `/dev/NAME` of a known disk or partition (and Linux's `/dev/nfs`,
/// `/dev/cifs`, `/dev/ram`). `None` for anything else and for 0:0.
/// `PARTUUID=` and `PARTLABEL=` are not supported.
pub fn name_to_dev_t(name: &[u8]) -> Option<DevT> {
    let dev = match name.strip_prefix(b"/dev/") {
        None => {
            let fields: alloc::vec::Vec<&[u8]> = name.split(|&c| c == b':').collect();
            match fields.as_slice() {
                [maj, min] | [maj, min, _] => parse_maj_min(maj, min)?,
                [number] => {
                    let hex = number.strip_prefix(b"0x").unwrap_or(number);
                    DevT::decode(u64::from(u32::try_from(parse_radix(hex, 16)?).ok()?))
                }
                _ => return None,
            }
        }
        Some(b"nfs") => DevT::new(0, 255),
        Some(b"cifs") => DevT::new(0, 254),
        Some(b"ram") => DevT::new(1, 0),
        Some(disk) => get_disk(core::str::from_utf8(disk).ok()?)?.devt(),
    };
    (dev != DevT(0)).then_some(dev)
}

/// Looks for an image on the resume device (Linux: `software_resume`,
/// from a write to `resume`). Errors are logged, never returned.
fn software_resume() {
    let _transition = SYSTEM_TRANSITION.lock();
    let dev = DevT(SWSUSP_RESUME_DEVICE.load(Ordering::Relaxed));
    pr_debug!("PM: hibernation: Looking for hibernation image on {}:{}.", dev.major(), dev.minor());
    match swsusp_check(dev) {
        Ok(()) => {
            pr_info!("PM: hibernation: resume from hibernation");
            pr_info!("PM: hibernation: restoring an image is not supported");
            pr_info!("PM: hibernation: resume failed ({})", -(Errno::EOPNOTSUPP as i32));
        }
        Err(e) => {
            pr_debug!("PM: Image not found (code {})", -(e as i32));
        }
    }
}

/// Reads the header page and, if it holds an image's signature, puts the
/// swap signature back on the disk (Linux: `swsusp_check`). `EINVAL`
/// without an image or for one made on other hardware, `ENXIO` (Linux:
/// `blkdev_get_by_dev`'s) without the device, `EIO` past its end.
fn swsusp_check(dev: DevT) -> KResult<()> {
    let disk = get_disk_by_devt(dev).ok_or(Errno::ENXIO)?;
    let block = SWSUSP_RESUME_BLOCK.load(Ordering::Relaxed);
    let bh = bread(&disk, block, PAGE_SIZE)?;
    let header = bh.data();
    if header.get(SIG_AT..) != Some(&HIBERNATE_SIG[..]) {
        return Err(Errno::EINVAL);
    }
    bh.with_data_mut(|page| page.copy_within(ORIG_SIG_AT..SIG_AT, SIG_AT))?;
    bh.sync_dirty_buffer()?;
    let word = |at: usize| {
        header.get(at..at + 4).and_then(|b| b.try_into().ok()).map_or(0, u32::from_le_bytes)
    };
    if word(FLAGS_AT) & SF_HW_SIG != 0 && word(HW_SIG_AT) != SWSUSP_HARDWARE_SIGNATURE {
        pr_info!(
            "PM: hibernation: Suspend image hardware signature mismatch ({:08x} now {:08x}); aborting resume.",
            word(HW_SIG_AT),
            SWSUSP_HARDWARE_SIGNATURE
        );
        return Err(Errno::EINVAL);
    }
    Ok(())
}

crate::ktest!(power_name_to_dev_t_like_linux, {
    crate::kassert!(name_to_dev_t(b"254:1") == Some(DevT::new(254, 1)), "MAJ:MIN");
    crate::kassert!(name_to_dev_t(b"8:3:100") == Some(DevT::new(8, 3)), "MAJ:MIN:OFFSET");
    crate::kassert!(name_to_dev_t(b"fe01") == Some(DevT::new(254, 1)), "hex number");
    crate::kassert!(name_to_dev_t(b"0:0").is_none(), "0:0");
    crate::kassert!(name_to_dev_t(b"0").is_none(), "0");
    crate::kassert!(name_to_dev_t(b"").is_none(), "empty");
    crate::kassert!(name_to_dev_t(b"vda").is_none(), "a bare name is a bad number");
    crate::kassert!(name_to_dev_t(b"4096:0").is_none(), "major too big");
    crate::kassert!(name_to_dev_t(b"1:2x").is_none(), "junk after the minor");
    crate::kassert!(name_to_dev_t(b"/dev/nosuchdisk").is_none(), "unknown disk");
    crate::kassert!(kstrtoull(b"0x10") == Ok(16) && kstrtoull(b"010\n") == Ok(8), "bases");
    crate::kassert!(kstrtoull(b"0") == Ok(0) && kstrtoull(b"12a") == Err(Errno::EINVAL), "junk");
    crate::kassert!(kstrtoull(b"99999999999999999999") == Err(Errno::ERANGE), "overflow");
    Ok(())
});
