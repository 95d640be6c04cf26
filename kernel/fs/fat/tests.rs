//! Self-tests of the vfat glue (run with `ktest=fat`), on RAM disks
//! holding a FAT16 volume laid out here as `mkfs.vfat -F 16 -s 1 -r 512`
//! would (2.5 MiB, 5047 clusters of 512 bytes): mount refusals, the
//! directory operations, sizes, statfs, persistence across a remount and
//! the clusters an unlinked file gives back. Each test gets its own disk
//! name, since the buffer cache is per disk name and kept.
//!
//! # Locking
//! A RAM disk's bytes are under its own leaf spinlock.
#![deny(unsafe_code)]

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use linux_raw_sys::general as uapi;

use super::{FatOptions, VFAT_FS_TYPE, fat_fill_super};
use crate::block::{BlockDevice, SECTOR_SIZE, check_io};
use crate::fs::FsCred;
use crate::fs::inode::{Inode, RenameFlags, SetAttr};
use crate::fs::sync::{deactivate_super, sync_filesystem};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;

const SECTORS: usize = 5120;

/// A disk in memory.
struct RamDisk {
    name: &'static str,
    data: SpinLock<Vec<u8>>,
}

/// A FAT16 boot sector and empty FATs, changed by `patch` first.
fn fat16_image(patch: impl FnOnce(&mut [u8])) -> Vec<u8> {
    let mut d = vec![0u8; SECTORS * SECTOR_SIZE];
    d[..3].copy_from_slice(&[0xEB, 0x3C, 0x90]);
    d[3..11].copy_from_slice(b"mkfs.fat");
    d[11..13].copy_from_slice(&512u16.to_le_bytes());
    d[13] = 1; // sectors per cluster
    d[14..16].copy_from_slice(&1u16.to_le_bytes()); // reserved
    d[16] = 2; // FATs
    d[17..19].copy_from_slice(&512u16.to_le_bytes()); // root entries
    d[19..21].copy_from_slice(&5120u16.to_le_bytes());
    d[21] = 0xF8;
    d[22..24].copy_from_slice(&20u16.to_le_bytes()); // sectors per FAT
    d[38] = 0x29;
    d[39..43].copy_from_slice(&0x1234_5678u32.to_le_bytes());
    d[43..54].copy_from_slice(b"NO NAME    ");
    d[54..62].copy_from_slice(b"FAT16   ");
    d[510..512].copy_from_slice(&[0x55, 0xAA]);
    for fat in [1, 21] {
        d[fat * 512..fat * 512 + 4].copy_from_slice(&[0xF8, 0xFF, 0xFF, 0xFF]);
    }
    patch(&mut d);
    d
}

impl RamDisk {
    fn disk(name: &'static str, data: Vec<u8>) -> Arc<dyn BlockDevice> {
        Arc::new(RamDisk { name, data: SpinLock::new(data) })
    }
}

impl BlockDevice for RamDisk {
    fn disk_name(&self) -> &str {
        self.name
    }
    fn capacity(&self) -> u64 {
        SECTORS as u64
    }
    fn read_blocks(&self, lba: u64, buf: &mut [u8]) -> KResult<()> {
        check_io(lba, buf.len(), self.capacity())?;
        let at = usize::try_from(lba).map_err(|_| Errno::EIO)? * SECTOR_SIZE;
        buf.copy_from_slice(&self.data.lock()[at..at + buf.len()]);
        Ok(())
    }
    fn write_blocks(&self, lba: u64, buf: &[u8]) -> KResult<()> {
        check_io(lba, buf.len(), self.capacity())?;
        let at = usize::try_from(lba).map_err(|_| Errno::EIO)? * SECTOR_SIZE;
        self.data.lock()[at..at + buf.len()].copy_from_slice(buf);
        Ok(())
    }
}

const OPTS: FatOptions =
    FatOptions { fs_uid: 0, fs_gid: 0, fs_fmask: 0o022, fs_dmask: 0o022, read_only: false };

fn mount(disk: &Arc<dyn BlockDevice>) -> KResult<Arc<Inode>> {
    fat_fill_super(&VFAT_FS_TYPE, disk.clone(), String::from(disk.disk_name()), OPTS)
}

fn lookup(dir: &Inode, name: &[u8]) -> Result<Arc<Inode>, &'static str> {
    dir.i_op.lookup(dir, name).map_err(|_| "lookup failed")?.ok_or("name not found")
}

fn free_clusters(root: &Inode) -> u64 {
    root.sb.s_op.statfs(&root.sb).map_or(0, |st| st.f_bfree)
}

crate::ktest!(fat_refuses_bad_boot_sectors, {
    let zero = RamDisk::disk("fatkt0", vec![0u8; SECTORS * SECTOR_SIZE]);
    crate::kassert!(mount(&zero).err() == Some(Errno::EINVAL), "no FAT: EINVAL");
    let no_fats = RamDisk::disk("fatkt1", fat16_image(|d| d[16] = 0));
    crate::kassert!(mount(&no_fats).err() == Some(Errno::EINVAL), "no FAT copies: EINVAL");
    let odd = RamDisk::disk("fatkt2", fat16_image(|d| d[11..13].copy_from_slice(&[0, 3])));
    crate::kassert!(mount(&odd).err() == Some(Errno::EINVAL), "768-byte sectors: EINVAL");
    Ok(())
});

crate::ktest!(fat_namespace_and_remount, {
    let disk = RamDisk::disk("fatkt3", fat16_image(|_| {}));
    let root = mount(&disk).map_err(|_| "mount")?;
    let sb = root.sb.clone();
    crate::kassert!(sb.s_magic == 0x4d44 && sb.s_blocksize == 512, "super block");
    crate::kassert!(root.ino == 1 && root.attr().nlink == 2, "root inode");
    let free0 = free_clusters(&root);
    crate::kassert!(free0 == 5047, "all clusters free");
    let cred = FsCred::ROOT;
    let d = root.i_op.mkdir(&root, b"Dir", uapi::S_IFDIR | 0o755, cred).map_err(|_| "mkdir")?;
    crate::kassert!(root.attr().nlink == 3, "mkdir counted the subdirectory");
    crate::kassert!(d.attr().mode == uapi::S_IFDIR | 0o755, "directory mode from dmask");
    let f = d.i_op.create(&d, b"File.Txt", uapi::S_IFREG | 0o644, cred).map_err(|_| "create")?;
    crate::kassert!(Arc::ptr_eq(&lookup(&d, b"fILE.tXT")?, &f), "lookup ignores case");
    let grow = SetAttr { size: Some(3000), ..SetAttr::default() };
    f.i_op.setattr(&f, &grow).map_err(|_| "grow")?;
    crate::kassert!(f.size() == 3000 && f.attr().blocks == 6, "six clusters");
    crate::kassert!(free_clusters(&root) == free0 - 7, "a directory cluster and six");
    let exists = d.i_op.create(&d, b"FILE.TXT", uapi::S_IFREG | 0o644, cred);
    crate::kassert!(exists.err() == Some(Errno::EEXIST), "a name in another case exists");
    d.i_op.rename(&d, b"file.txt", &root, b"moved", RenameFlags::empty()).map_err(|_| "mv")?;
    crate::kassert!(lookup(&d, b"File.Txt").is_err(), "renamed away");
    crate::kassert!(Arc::ptr_eq(&lookup(&root, b"MOVED")?, &f), "same inode after rename");
    let busy = root.i_op.rmdir(&root, b"dir");
    crate::kassert!(busy.is_ok(), "an emptied directory goes");
    crate::kassert!(root.attr().nlink == 2, "rmdir counted");
    drop((d, f));
    deactivate_super(&sb);
    drop((root, sb));

    let root = mount(&disk).map_err(|_| "remount")?;
    let f = lookup(&root, b"moved")?;
    crate::kassert!(f.size() == 3000, "size persisted");
    crate::kassert!(lookup(&root, b"Dir").is_err(), "removed directory stays removed");
    root.i_op.unlink(&root, b"Moved").map_err(|_| "unlink")?;
    crate::kassert!(f.attr().nlink == 0, "unlinked");
    crate::kassert!(free_clusters(&root) == free0 - 6, "held while the inode is in use");
    drop(f);
    sync_filesystem(&root.sb).map_err(|_| "sync")?;
    crate::kassert!(free_clusters(&root) == free0, "given back once let go");
    let sb = root.sb.clone();
    drop(root);
    deactivate_super(&sb);
    Ok(())
});
