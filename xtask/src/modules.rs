//! Builds the C modules in `modules/` against the SDK in `modules/include/`
//! with the host's gcc and ld, as Linux's kbuild does for an out-of-tree
//! module (scripts/Makefile.build, scripts/Makefile.modfinal).
//!
//! Each `modules/NAME/*.c` is compiled for the kernel's code model
//! (`-mcmodel=kernel`: the module is placed within 2 GiB of the kernel
//! image and calls it with 32-bit PC-relative relocations), then linked
//! with the SDK's `this_module.c` (what modpost generates for Linux: the
//! `struct module` and the vermagic) into `target/modules/NAME.ko` by
//! `ld -r`. The vermagic's release is the kernel's `UTS_RELEASE`, read
//! from `kernel/kernel/sys.rs` so the two cannot drift apart.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::initramfs::Archive;
use crate::{run_checked, workspace_root};

/// The flags of Linux's x86_64 kernel build that decide the code a module
/// gets: no red zone (interrupts use the kernel stack), no SSE (the kernel
/// does not save the FPU for itself), no PIC, no stack protector (no
/// canary symbol), no common symbols (the loader refuses them).
const CFLAGS: [&str; 18] = [
    "-O2",
    "-Wall",
    "-Werror",
    "-std=gnu11",
    "-nostdinc",
    "-ffreestanding",
    "-fno-builtin",
    "-mcmodel=kernel",
    "-fno-pic",
    "-fno-pie",
    "-mno-red-zone",
    "-mgeneral-regs-only",
    "-fno-stack-protector",
    "-fno-common",
    "-fno-asynchronous-unwind-tables",
    "-fcf-protection=none",
    "-D__KERNEL__",
    "-DMODULE",
];

/// The modules `modules/` holds: one directory each, named as the module.
fn module_names(root: &Path) -> Result<Vec<String>, String> {
    let dir = root.join("modules");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() && name != "include" && name != "sdk" {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Ferrite's release string, `UTS_RELEASE` in kernel/kernel/sys.rs.
fn uts_release(root: &Path) -> Result<String, String> {
    let path = root.join("kernel/kernel/sys.rs");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .find_map(|l| {
            l.trim().strip_prefix("pub const UTS_RELEASE: &str = \"")?.strip_suffix("\";")
        })
        .map(str::to_string)
        .ok_or_else(|| format!("no UTS_RELEASE in {}", path.display()))
}

fn compile(root: &Path, name: &str, source: &Path, object: &Path) -> Result<(), String> {
    let release = uts_release(root)?;
    let include = root.join("modules/include");
    run_checked(
        Command::new("gcc")
            .args(CFLAGS)
            .arg("-isystem")
            .arg(&include)
            .arg(format!("-DKBUILD_MODNAME=\"{name}\""))
            .arg(format!("-DUTS_RELEASE=\"{release}\""))
            .arg("-c")
            .arg(source)
            .arg("-o")
            .arg(object),
    )
}

/// Builds every module; returns `(name, path of NAME.ko)`.
pub fn build_modules() -> Result<Vec<(String, PathBuf)>, String> {
    let root = workspace_root();
    let out = root.join("target/modules");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut built = Vec::new();
    for name in module_names(&root)? {
        let dir = root.join("modules").join(&name);
        let obj_dir = out.join(format!("{name}.objs"));
        std::fs::create_dir_all(&obj_dir).map_err(|e| format!("{}: {e}", obj_dir.display()))?;
        let mut objects = Vec::new();
        let mut sources: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "c"))
            .collect();
        sources.sort();
        sources.push(root.join("modules/sdk/this_module.c"));
        for source in &sources {
            let stem = source.file_stem().map(|s| s.to_string_lossy().into_owned());
            let object = obj_dir.join(format!("{}.o", stem.unwrap_or_default()));
            compile(&root, &name, source, &object)?;
            objects.push(object);
        }
        let ko = out.join(format!("{name}.ko"));
        run_checked(
            Command::new("ld").args(["-r", "-m", "elf_x86_64", "-o"]).arg(&ko).args(&objects),
        )?;
        built.push((name, ko));
    }
    Ok(built)
}

/// Packs Ferrite's modules as `/lib/modules/DIR/NAME.ko`.
pub fn pack(cpio: &mut Archive, dir: &str) -> Result<(), String> {
    let modules = build_modules()?;
    cpio.dir("lib", 0o755).dir("lib/modules", 0o755).dir(&format!("lib/modules/{dir}"), 0o755);
    for (name, ko) in modules {
        cpio.file_from(&format!("lib/modules/{dir}/{name}.ko"), 0o644, &ko)?;
    }
    Ok(())
}

/// `cargo xtask modules`: builds the modules, prints their paths.
pub fn cmd_modules(_args: &[String]) -> Result<std::process::ExitCode, String> {
    for (_, ko) in build_modules()? {
        println!("{}", ko.display());
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// The system tests' modules: Ferrite's in `/lib/modules/ferrite/` and
/// Linux's crc7 in `/lib/modules/linux/`, so that `user/tests/module.c`
/// finds the module of whichever kernel it runs on (the other kernel's is
/// refused, which the test checks too). Without Debian's kernel package,
/// a warning: the test then fails on Linux.
pub fn pack_systest(cpio: &mut Archive) -> Result<(), String> {
    pack(cpio, "ferrite")?;
    match crate::linux::linux_modules(&["crc7"]) {
        Ok(modules) => {
            cpio.dir("lib/modules/linux", 0o755);
            for (name, bytes) in modules {
                cpio.file(&format!("lib/modules/linux/{name}.ko"), 0o644, bytes);
            }
        }
        Err(e) => eprintln!("xtask: warning: no Linux crc7.ko for the module test: {e}"),
    }
    Ok(())
}

/// The bytes of Ferrite's module `name`, built now.
pub fn module_bytes(name: &str) -> Result<Vec<u8>, String> {
    let (_, ko) = build_modules()?
        .into_iter()
        .find(|(n, _)| n == name)
        .ok_or_else(|| format!("no module {name} in modules/"))?;
    std::fs::read(&ko).map_err(|e| format!("{}: {e}", ko.display()))
}
