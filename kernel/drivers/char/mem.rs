//! The memory devices: /dev/null, /dev/zero, /dev/full, /dev/random and
//! /dev/urandom (Linux: drivers/char/mem.c `memory_fops`, `devlist`), and
//! read access to the boot loader's initrd in physical memory. /dev/mem
//! is devmem.rs.
//!
//! Each device is its own [`FileOps`], registered for its minor of major 1
//! (`chr_dev_init`), as Linux's `devlist` is. /dev/random and /dev/urandom
//! read from the kernel's ChaCha20 generator (drivers/char/random.rs);
//! writing to them is accepted and ignored (Linux mixes the bytes in
//! without crediting entropy).
//!
//! # Locking
//! None: the devices keep no state. The random devices take `BASE_CRNG`
//! per chunk inside `get_random_bytes`.

use crate::drivers::char::random::get_random_bytes;
use crate::fs::char_dev::register_chrdev_region;
use crate::fs::file_table::{File, FileOps, Whence};
use crate::fs::inode::DevT;
use crate::kernel::errno::{Errno, KResult};
use crate::mm::addr::{PAGE_SIZE, PhysAddr, phys_to_virt};
use crate::mm::page_table::KERNEL_PGTABLE;

/// Linux: `MEM_MAJOR`.
pub const MEM_MAJOR: u32 = 1;

/// The lseek of null, zero and full: always back to 0 (Linux: `null_lseek`).
fn null_lseek(_pos: u64) -> KResult<u64> {
    Ok(0)
}

/// /dev/null: reads end at once, writes vanish.
pub struct NullDev;
impl FileOps for NullDev {
    fn read(&self, _f: &File, _buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        Ok(0)
    }
    fn write(&self, _f: &File, buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        Ok(buf.len())
    }
    fn llseek(&self, _f: &File, pos: u64, _off: i64, _w: Whence) -> KResult<u64> {
        null_lseek(pos)
    }
}

/// /dev/zero: reads give zeros, writes vanish.
pub struct ZeroDev;
impl FileOps for ZeroDev {
    fn read(&self, _f: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        buf.fill(0);
        Ok(buf.len())
    }
    fn write(&self, _f: &File, buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        Ok(buf.len())
    }
    fn llseek(&self, _f: &File, pos: u64, _off: i64, _w: Whence) -> KResult<u64> {
        null_lseek(pos)
    }
}

/// /dev/full: reads give zeros, writes fail with `ENOSPC`.
pub struct FullDev;
impl FileOps for FullDev {
    fn read(&self, _f: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        buf.fill(0);
        Ok(buf.len())
    }
    fn write(&self, _f: &File, _buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        Err(Errno::ENOSPC)
    }
    fn llseek(&self, _f: &File, pos: u64, _off: i64, _w: Whence) -> KResult<u64> {
        null_lseek(pos)
    }
}

/// /dev/random and /dev/urandom (Linux: `random_fops`, `urandom_fops`;
/// since 5.6 both read from the same generator once it is seeded).
pub struct RandomDev;
impl FileOps for RandomDev {
    fn read(&self, _f: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        get_random_bytes(buf);
        Ok(buf.len())
    }
    fn write(&self, _f: &File, buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        Ok(buf.len())
    }
    /// Linux: `noop_llseek`, the position stays.
    fn llseek(&self, _f: &File, pos: u64, _off: i64, _w: Whence) -> KResult<u64> {
        Ok(pos)
    }
}

static NULL: NullDev = NullDev;
static ZERO: ZeroDev = ZeroDev;
static FULL: FullDev = FullDev;
static RANDOM: RandomDev = RandomDev;

/// Registers the memory devices (Linux: `chr_dev_init`).
pub fn chr_dev_init() -> KResult<()> {
    let devices: [(u32, &'static str, &'static dyn FileOps); 6] = [
        (1, "mem", &super::devmem::DEV_MEM),
        (3, "null", &NULL),
        (5, "zero", &ZERO),
        (7, "full", &FULL),
        (8, "random", &RANDOM),
        (9, "urandom", &RANDOM),
    ];
    for (minor, name, fops) in devices {
        register_chrdev_region(DevT::new(MEM_MAJOR, minor), 1, name, fops)?;
    }
    super::kmsg::devkmsg_init()
}

/// The bytes of `[start, end)` of physical RAM, for the initrd the boot
/// loader left there (Linux: `initrd_start`, `__va(phys_initrd_start)`).
/// `None` if the range is empty, wraps or is not all in the direct map.
pub fn initrd_bytes(start: u64, end: u64) -> Option<&'static [u8]> {
    let len = usize::try_from(end.checked_sub(start)?).ok().filter(|&l| l > 0)?;
    {
        let pgtable = KERNEL_PGTABLE.lock();
        let pgtable = pgtable.as_ref()?;
        let first = start & !(PAGE_SIZE as u64 - 1);
        let all_mapped = (first..end).step_by(PAGE_SIZE).all(|pa| {
            let va = phys_to_virt(PhysAddr::new(pa));
            pgtable.translate(va).is_some_and(|(mapped, _)| mapped.as_u64() == pa)
        });
        if !all_mapped {
            return None;
        }
    }
    let va = phys_to_virt(PhysAddr::new(start));
    // SAFETY:
    // 1. Every page of `[start, end)` is mapped at `phys_to_virt` (checked
    //    above against the kernel page table), and the direct map is never
    //    torn down, so `va` is valid for `len` bytes of reads for good.
    // 2. memblock reserved the initrd at boot (`memblock_setup`), so the
    //    page allocator never hands these pages out and nobody writes them:
    //    no `&mut` to these bytes exists. `mm::free_initrd_mem` gives them
    //    back only after `populate_rootfs`, the one caller, has returned
    //    and dropped the slice; `start_kernel` orders the two.
    // 3. `u8` has no alignment or validity requirements.
    Some(unsafe { core::slice::from_raw_parts(va.as_ptr::<u8>(), len) })
}
