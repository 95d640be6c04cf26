//! Builds the system-test initramfs: the C tests in `user/tests/` compiled
//! static with musl-gcc, the scripts in `user/scripts/` and the README's
//! tour (systest/tour.rs), Debian's static
//! busybox with its applet links, and `user/init/systest.sh` as `/init`.
//! The compiler step and the busybox root serve the benchmark's initramfs
//! too (bench/initramfs.rs).
//!
//! Everything lands in `target/systest/`. A test binary is rebuilt only when
//! the hash of its source, `test.h` and the compiler flags changes (kept
//! beside it in `NAME.hash`); the archive itself is rewritten on each run,
//! which takes milliseconds.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use object::read::elf::{FileHeader, ProgramHeader};

use crate::deps::{self, BUSYBOX, MUSL_GCC};
use crate::initramfs::Archive;
use crate::workspace_root;

/// `musl-gcc` flags for every test (plus `-DTEST_NAME="\"NAME\""`).
const CFLAGS: [&str; 5] = ["-static", "-O2", "-Wall", "-Werror", "-s"];

/// What was packed: the archive and the tests in it, in the order /init runs
/// them (programs, then scripts).
pub struct Built {
    pub archive: PathBuf,
    pub tests: Vec<String>,
    /// Scripts whose whole output is compared with `NAME.expected`.
    pub compared: Vec<String>,
}

/// Builds the tests whose names contain `filter` (all without one) and
/// packs them.
pub fn build(filter: Option<&str>) -> Result<Built, String> {
    deps::ensure(&[MUSL_GCC])?;
    let root = workspace_root();
    let out = root.join("target/systest");
    let bin = out.join("bin");
    std::fs::create_dir_all(&bin).map_err(|e| format!("{}: {e}", bin.display()))?;
    let wanted = |name: &str| filter.is_none_or(|f| name.contains(f));
    let programs: Vec<String> =
        sources(&root.join("user/tests"), ".c")?.into_iter().filter(|n| wanted(n)).collect();
    let scripts: Vec<String> =
        sources(&root.join("user/scripts"), ".sh")?.into_iter().filter(|n| wanted(n)).collect();
    let tour = wanted("readme_tour");
    if programs.is_empty() && scripts.is_empty() && !tour {
        return Err(format!("no system test matches `{}`", filter.unwrap_or("")));
    }
    compile_all(&root.join("user/tests"), "test.h", &bin, &programs)?;

    let mut cpio = Archive::new();
    busybox_root(&mut cpio)?;
    cpio.dir("tests", 0o755).dir("scripts", 0o755);
    cpio.file_from("init", 0o755, &root.join("user/init/systest.sh"))?;
    super::scratch::pack_linux_modules(&mut cpio)?;
    crate::modules::pack_systest(&mut cpio)?;
    for name in &programs {
        cpio.file_from(&format!("tests/{name}"), 0o755, &bin.join(name))?;
    }
    let mut compared = Vec::new();
    for name in &scripts {
        let dir = root.join("user/scripts");
        cpio.file_from(&format!("scripts/{name}.sh"), 0o755, &dir.join(format!("{name}.sh")))?;
        let expected = dir.join(format!("{name}.expected"));
        if expected.is_file() {
            cpio.file_from(&format!("scripts/{name}.expected"), 0o644, &expected)?;
            compared.push(name.clone());
        }
    }
    if tour {
        let path = script_path(&root, "readme_tour");
        let script = super::tour::readme_tour(&root)?;
        std::fs::create_dir_all(out.join("gen")).map_err(|e| format!("{}: {e}", out.display()))?;
        std::fs::write(&path, script).map_err(|e| format!("{}: {e}", path.display()))?;
        cpio.file_from("scripts/readme_tour.sh", 0o755, &path)?;
    }
    // A filtered run packs its own archive, so that runs with different
    // filters at the same time do not boot each other's tests.
    let archive = out.join(match filter {
        None => "systest.cpio".to_string(),
        Some(f) => {
            let safe: String =
                f.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
            format!("systest-{safe}.cpio")
        }
    });
    cpio.write(&archive)?;
    let tour = tour.then(|| "readme_tour".to_string());
    let tests = programs.into_iter().chain(scripts).chain(tour).collect();
    Ok(Built { archive, tests, compared })
}

/// The script of test `name`: in `user/scripts/`, or for a generated one
/// (the README's tour) in `target/systest/gen/`.
pub(crate) fn script_path(root: &Path, name: &str) -> PathBuf {
    let script = root.join(format!("user/scripts/{name}.sh"));
    if script.is_file() { script } else { root.join(format!("target/systest/gen/{name}.sh")) }
}

/// The skeleton of a busybox root, shared with the benchmark's initramfs
/// (bench/initramfs.rs): the usual directories, `/tmp`, the device nodes,
/// Debian's static busybox and its applet links. `/init` is the caller's.
pub(crate) fn busybox_root(cpio: &mut Archive) -> Result<(), String> {
    deps::ensure(&[BUSYBOX])?;
    check_static(Path::new(BUSYBOX.program))?;
    for dir in ["bin", "sbin", "usr", "usr/bin", "usr/sbin", "proc", "sys", "root"] {
        cpio.dir(dir, 0o755);
    }
    cpio.dir("tmp", 0o1777).dev_nodes();
    cpio.file_from("bin/busybox", 0o755, Path::new(BUSYBOX.program))?;
    for link in busybox_applets()? {
        cpio.symlink(&link, "/bin/busybox");
    }
    Ok(())
}

/// The stems of the files in `dir` ending in `ext`, sorted.
fn sources(dir: &Path, ext: &str) -> Result<Vec<String>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(ext)).map(String::from))
        .collect();
    names.sort();
    Ok(names)
}

/// Compiles `src/NAME.c` to `bin/NAME` for each of `programs` whose hash
/// (with `src/header`, the header they share) changed, all at once. Also
/// used for the benchmarks (bench/initramfs.rs).
pub(crate) fn compile_all(
    src: &Path,
    header: &str,
    bin: &Path,
    programs: &[String],
) -> Result<(), String> {
    // Every header beside the sources counts (test.h first), so that a
    // change to one a program includes rebuilds it.
    let mut header = std::fs::read(src.join(header)).map_err(|e| format!("{header}: {e}"))?;
    let mut others: Vec<PathBuf> = std::fs::read_dir(src)
        .map_err(|e| format!("{}: {e}", src.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "h"))
        .collect();
    others.sort();
    for h in others {
        header.extend(std::fs::read(&h).map_err(|e| format!("{}: {e}", h.display()))?);
    }
    let mut running: Vec<(String, String, Child)> = Vec::new();
    for name in programs {
        let source = src.join(format!("{name}.c"));
        let text = std::fs::read(&source).map_err(|e| format!("{}: {e}", source.display()))?;
        let hash = content_hash(&[&header, &text, CFLAGS.join(" ").as_bytes()]);
        let stamp = std::fs::read_to_string(bin.join(format!("{name}.hash"))).unwrap_or_default();
        if stamp == hash && bin.join(name).is_file() {
            continue;
        }
        let child = Command::new(MUSL_GCC.program)
            .args(CFLAGS)
            .arg(format!("-DTEST_NAME=\"{name}\""))
            .arg("-o")
            .arg(bin.join(name))
            .arg(&source)
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run musl-gcc: {e}"))?;
        running.push((name.clone(), hash, child));
    }
    if !running.is_empty() {
        eprintln!(
            "xtask: compiling {} program(s) from {} with musl-gcc",
            running.len(),
            src.display()
        );
    }
    let mut errors = String::new();
    for (name, hash, child) in running {
        let out = child.wait_with_output().map_err(|e| format!("musl-gcc: {e}"))?;
        if out.status.success() {
            let stamp = bin.join(format!("{name}.hash"));
            std::fs::write(&stamp, hash).map_err(|e| format!("{}: {e}", stamp.display()))?;
        } else {
            let source = src.join(format!("{name}.c"));
            errors += &format!("{}:\n{}", source.display(), String::from_utf8_lossy(&out.stderr));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(format!("programs do not compile:\n{errors}")) }
}

/// A hex digest of `parts` (std's SipHash: stable enough for a build cache).
fn content_hash(parts: &[&[u8]]) -> String {
    let mut hasher = std::hash::DefaultHasher::new();
    for part in parts {
        part.hash(&mut hasher);
    }
    format!("{:016x}", hasher.finish())
}

/// The applet paths (`bin/ls`, `usr/bin/wc`…) from `busybox --list-full`,
/// to be symlinks to `/bin/busybox`: made here rather than by
/// `busybox --install` at boot, which would need symlink(2) early.
pub(crate) fn busybox_applets() -> Result<Vec<String>, String> {
    let out = Command::new(BUSYBOX.program)
        .arg("--list-full")
        .output()
        .map_err(|e| format!("cannot run busybox: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let dirs = ["bin/", "sbin/", "usr/bin/", "usr/sbin/"];
    Ok(text
        .lines()
        .map(|l| l.trim().trim_start_matches('/'))
        .filter(|l| *l != "bin/busybox")
        .filter(|l| {
            let applet =
                |d: &&str| l.strip_prefix(d).is_some_and(|a| !a.is_empty() && !a.contains('/'));
            dirs.iter().any(applet)
        })
        .map(String::from)
        .collect())
}

/// Refuses a dynamically linked busybox (Debian's `busybox` package also
/// installs /bin/busybox): the initramfs has no libc.
fn check_static(program: &Path) -> Result<(), String> {
    let data = std::fs::read(program).map_err(|e| format!("{}: {e}", program.display()))?;
    let header = object::elf::FileHeader64::<object::Endianness>::parse(&*data)
        .map_err(|_| format!("{} is not a 64-bit ELF", program.display()))?;
    let endian = header.endian().map_err(|_| "bad ELF endianness")?;
    let segments = header.program_headers(endian, &*data).map_err(|_| "bad ELF program headers")?;
    if segments.iter().any(|s| s.p_type(endian) == object::elf::PT_INTERP) {
        return Err(format!(
            "{} is dynamically linked; install busybox-static (apt-get install busybox-static)",
            program.display()
        ));
    }
    Ok(())
}
