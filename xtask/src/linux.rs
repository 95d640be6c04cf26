//! Debian's Linux kernel, the reference Ferrite is compared with.
//!
//! The kernel is fetched without installing it on the host (installing would
//! run update-initramfs and grub): `apt-cache depends linux-image-amd64` names
//! the current `linux-image-6.1.0-NN-amd64`, `apt-get download` fetches its
//! .deb into `target/linux/`, and only its `boot/` directory is unpacked.
//!
//! Two images come out of it: the bzImage (`boot/vmlinuz-*`) as Debian ships
//! it, for system tests that boot the real thing, and the uncompressed
//! `vmlinux` inside it, which QEMU boots through its Xen PVH note without the
//! ~3 s XZ decompression under TCG (FACTS.md). The vmlinux is extracted as
//! Linux's `scripts/extract-vmlinux` does: find the XZ magic in the bzImage
//! and decompress from there.
//!
//! Modules (`linux_modules`) come out of the same .deb on demand, only the
//! ones asked for.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use object::read::elf::{FileHeader, ProgramHeader};

use crate::deps::{self, Tool};
use crate::{run_checked, workspace_root};

/// The metapackage that depends on the current kernel image package.
const METAPACKAGE: &str = "linux-image-amd64";

const XZ: Tool = Tool { program: "xz", package: "xz-utils" };
const DPKG_DEB: Tool = Tool { program: "dpkg-deb", package: "dpkg" };
const TAR: Tool = Tool { program: "tar", package: "tar" };

/// The start of an XZ stream.
const XZ_MAGIC: [u8; 6] = [0xfd, b'7', b'z', b'X', b'Z', 0x00];

/// `XEN_ELFNOTE_PHYS32_ENTRY`: the PVH entry point QEMU boots an ELF through.
const XEN_ELFNOTE_PHYS32_ENTRY: u32 = 18;

/// Debian's bzImage (`boot/vmlinuz-*`), downloaded and unpacked on first use.
pub fn linux_bzimage() -> Result<PathBuf, String> {
    let dir = unpacked_package()?;
    find_vmlinuz(&dir)?.ok_or_else(|| format!("no boot/vmlinuz-* in {}", dir.display()))
}

/// The uncompressed `vmlinux` inside Debian's bzImage, an ELF with the PVH
/// note; extracted once and cached beside the bzImage.
pub fn linux_vmlinux() -> Result<PathBuf, String> {
    let bzimage = linux_bzimage()?;
    let dir = bzimage.parent().and_then(Path::parent).ok_or("bzImage has no package directory")?;
    let vmlinux = dir.join("vmlinux");
    if vmlinux.is_file() {
        return Ok(vmlinux);
    }
    deps::ensure(&[XZ])?;
    eprintln!("xtask: extracting vmlinux from {}", bzimage.display());
    let image = std::fs::read(&bzimage).map_err(|e| format!("{}: {e}", bzimage.display()))?;
    let tmp = dir.join(format!("vmlinux.tmp{}", std::process::id()));
    let found = extract_vmlinux(&image, &tmp);
    if found.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    found?;
    rename(&tmp, &vmlinux)?;
    Ok(vmlinux)
}

/// `target/linux/`, where the .deb and what comes out of it are kept.
fn cache_dir() -> Result<PathBuf, String> {
    let dir = workspace_root().join("target").join("linux");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// The directory holding the kernel package's unpacked `boot/`.
fn unpacked_package() -> Result<PathBuf, String> {
    let package = kernel_package()?;
    let cache = cache_dir()?;
    let dir = cache.join(&package);
    if find_vmlinuz(&dir)?.is_some() {
        return Ok(dir);
    }
    let deb = match cached_deb(&cache, &package)? {
        Some(deb) => deb,
        None => download(&cache, &package)?,
    };
    unpack_boot(&deb, &dir)?;
    Ok(dir)
}

/// The versioned package `linux-image-amd64` depends on, running
/// `apt-get update` first if apt knows none.
fn kernel_package() -> Result<String, String> {
    if let Some(package) = resolve_metapackage()? {
        return Ok(package);
    }
    deps::apt_update();
    resolve_metapackage()?.ok_or_else(|| {
        format!("apt knows no {METAPACKAGE}; run `apt-get update` (as root) and try again")
    })
}

/// Parses `apt-cache depends linux-image-amd64`: "  Depends: linux-image-6.1.0-NN-amd64".
fn resolve_metapackage() -> Result<Option<String>, String> {
    let output = Command::new("apt-cache")
        .args(["depends", METAPACKAGE])
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run apt-cache (Debian's kernel is fetched with apt): {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let package = text
        .lines()
        .filter_map(|line| line.trim().trim_start_matches('|').strip_prefix("Depends:"))
        .map(str::trim)
        .find(|name| name.starts_with("linux-image-") && *name != METAPACKAGE);
    Ok(package.map(str::to_string))
}

/// A .deb of `package` already in the cache, if any.
fn cached_deb(cache: &Path, package: &str) -> Result<Option<PathBuf>, String> {
    let entries = std::fs::read_dir(cache).map_err(|e| format!("{}: {e}", cache.display()))?;
    let prefix = format!("{package}_");
    Ok(entries.filter_map(Result::ok).map(|e| e.path()).find(|path| {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        name.starts_with(&prefix) && name.ends_with(".deb")
    }))
}

/// `apt-get download package` into a scratch directory, then moved into the
/// cache, so that an interrupted download leaves nothing behind. A failure is
/// retried once after `apt-get update` (the lists may name a version the
/// mirror no longer has).
fn download(cache: &Path, package: &str) -> Result<PathBuf, String> {
    let scratch = cache.join(format!("download.tmp{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    eprintln!("xtask: downloading {package} (about 70 MB) into {}", cache.display());
    let mut fetched = apt_get_download(&scratch, package);
    if fetched.is_err() {
        deps::apt_update();
        fetched = apt_get_download(&scratch, package);
    }
    let deb = fetched.and_then(|()| {
        cached_deb(&scratch, package)?.ok_or(format!("apt-get download left no {package}_*.deb"))
    });
    let moved = deb.and_then(|deb| {
        let target = cache.join(deb.file_name().ok_or("download has no file name")?);
        rename(&deb, &target).map(|()| target)
    });
    let _ = std::fs::remove_dir_all(&scratch);
    moved
}

fn apt_get_download(dir: &Path, package: &str) -> Result<(), String> {
    // As root, apt would hand the download to its `_apt` user, who may not
    // be able to write into the workspace; this process downloads itself.
    let apt = ["-o", "APT::Sandbox::User=root", "download", "-qq", package];
    run_checked(Command::new("apt-get").args(apt).current_dir(dir))
}

/// Unpacks only `./boot` of the .deb (not the 400 MB of modules):
/// `dpkg-deb --fsys-tarfile deb | tar -x ./boot`.
fn unpack_boot(deb: &Path, dir: &Path) -> Result<(), String> {
    deps::ensure(&[DPKG_DEB, TAR])?;
    let tmp = dir.with_extension(format!("tmp{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let unpacked = deb_tar(deb, &["-x", "./boot"], &tmp).and_then(|_| {
        let _ = std::fs::remove_dir_all(dir);
        rename(&tmp, dir)
    });
    if unpacked.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    unpacked
}

/// `dir/boot/vmlinuz-*`, if the package is unpacked there.
fn find_vmlinuz(dir: &Path) -> Result<Option<PathBuf>, String> {
    let Ok(entries) = std::fs::read_dir(dir.join("boot")) else {
        return Ok(None);
    };
    Ok(entries.filter_map(Result::ok).map(|e| e.path()).find(|path| {
        path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("vmlinuz-"))
    }))
}

/// Decompresses, from each XZ magic in the bzImage in turn, until the result
/// is an ELF with the PVH note (the first one normally is).
fn extract_vmlinux(image: &[u8], out: &Path) -> Result<(), String> {
    let starts = image.windows(XZ_MAGIC.len()).enumerate().filter(|(_, w)| *w == XZ_MAGIC);
    for (offset, _) in starts.take(8) {
        unxz(&image[offset..], out)?;
        let data = std::fs::read(out).map_err(|e| format!("{}: {e}", out.display()))?;
        if has_pvh_note(&data) {
            return Ok(());
        }
    }
    Err("found no XZ-compressed ELF with a Xen PVH note in the bzImage".into())
}

/// `xz -dc --single-stream < input > out`; the bytes after the stream are
/// the rest of the bzImage and are ignored.
fn unxz(input: &[u8], out: &Path) -> Result<(), String> {
    let file = File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut xz = Command::new(XZ.program)
        .args(["-dc", "--single-stream"])
        .stdin(Stdio::piped())
        .stdout(file)
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run xz: {e}"))?;
    if let Some(mut stdin) = xz.stdin.take() {
        // xz stops reading at the end of the stream: a broken pipe is expected.
        let _ = stdin.write_all(input);
    }
    xz.wait().map_err(|e| format!("xz: {e}"))?;
    Ok(())
}

/// Is `data` a 64-bit ELF with a `XEN_ELFNOTE_PHYS32_ENTRY` note?
fn has_pvh_note(data: &[u8]) -> bool {
    let Ok(header) = object::elf::FileHeader64::<object::Endianness>::parse(data) else {
        return false;
    };
    let Ok(endian) = header.endian() else {
        return false;
    };
    let Ok(segments) = header.program_headers(endian, data) else {
        return false;
    };
    segments.iter().any(|segment| segment_has_pvh_note(segment, endian, data))
}

fn segment_has_pvh_note(
    segment: &object::elf::ProgramHeader64<object::Endianness>,
    endian: object::Endianness,
    data: &[u8],
) -> bool {
    let Ok(Some(mut notes)) = segment.notes(endian, data) else {
        return false;
    };
    while let Ok(Some(note)) = notes.next() {
        if note.name() == b"Xen" && note.n_type(endian) == XEN_ELFNOTE_PHYS32_ENTRY {
            return true;
        }
    }
    false
}

fn rename(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::rename(from, to)
        .map_err(|e| format!("cannot move {} to {}: {e}", from.display(), to.display()))
}

/// Decompressed modules of Debian's kernel, by module name (`"virtio_blk"`
/// → the bytes of `virtio_blk.ko`), in the order asked: Debian builds
/// virtio_pci, virtio_blk and ext4 as modules, so a Linux boot that needs a
/// disk `insmod`s them from its initramfs (the caller gives the dependency
/// order, `modinfo -F depends`). The files are taken out of the cached
/// .deb once (`.ko` or `.ko.xz`, decompressed with `xz -d`) and kept in
/// `target/linux/PACKAGE-modules/NAME.ko`.
pub fn linux_modules(names: &[&str]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let package = kernel_package()?;
    let cache = cache_dir()?;
    let dir = cache.join(format!("{package}-modules"));
    let ko = |name: &str| dir.join(format!("{name}.ko"));
    let missing: Vec<&str> = names.iter().copied().filter(|n| !ko(n).is_file()).collect();
    if !missing.is_empty() {
        extract_modules(&cache, &package, &dir, &missing)?;
    }
    names
        .iter()
        .map(|&name| {
            let path = ko(name);
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok((name.to_string(), bytes))
        })
        .collect()
}

/// Finds `names` in the .deb's file list, unpacks them into a scratch
/// directory and moves each, decompressed, to `dir/NAME.ko`.
fn extract_modules(cache: &Path, package: &str, dir: &Path, names: &[&str]) -> Result<(), String> {
    deps::ensure(&[DPKG_DEB, TAR, XZ])?;
    let deb = match cached_deb(cache, package)? {
        Some(deb) => deb,
        None => download(cache, package)?,
    };
    eprintln!("xtask: extracting {} module(s) from {}", names.len(), deb.display());
    let listing = deb_tar(&deb, &["-t"], Path::new("."))?;
    let mut members = Vec::new();
    for name in names {
        let wanted = |line: &&str| {
            line.starts_with("./lib/modules/")
                && [".ko", ".ko.xz"].iter().any(|ext| line.ends_with(&format!("/{name}{ext}")))
        };
        let member = listing.lines().find(wanted);
        members.push(member.ok_or(format!("no module {name} in {}", deb.display()))?.to_string());
    }
    let tmp = cache.join(format!("modules.tmp{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut args = vec!["-x"];
    args.extend(members.iter().map(String::as_str));
    let moved = deb_tar(&deb, &args, &tmp).and_then(|_| {
        for (name, member) in names.iter().zip(&members) {
            let mut path = tmp.join(member);
            if member.ends_with(".xz") {
                run_checked(Command::new(XZ.program).arg("-d").arg("-f").arg(&path))?;
                path.set_extension("");
            }
            rename(&path, &dir.join(format!("{name}.ko")))?;
        }
        Ok(())
    });
    let _ = std::fs::remove_dir_all(&tmp);
    moved
}

/// `dpkg-deb --fsys-tarfile deb | tar ARGS -f -` in `dir`; tar's output, an
/// error if either command fails.
fn deb_tar(deb: &Path, args: &[&str], dir: &Path) -> Result<String, String> {
    let mut dpkg = Command::new(DPKG_DEB.program)
        .arg("--fsys-tarfile")
        .arg(deb)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run dpkg-deb: {e}"))?;
    let tarfile = dpkg.stdout.take().ok_or("dpkg-deb has no stdout")?;
    let tar = Command::new(TAR.program)
        .args(args)
        .args(["-f", "-"])
        .current_dir(dir)
        .stdin(tarfile)
        .output()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    let dpkg = dpkg.wait().map_err(|e| format!("dpkg-deb: {e}"))?;
    if !tar.status.success() {
        return Err(format!("tar {args:?} failed: {}", String::from_utf8_lossy(&tar.stderr)));
    }
    if !dpkg.success() {
        return Err(format!("dpkg-deb --fsys-tarfile failed ({dpkg})"));
    }
    Ok(String::from_utf8_lossy(&tar.stdout).into_owned())
}
