//! `cargo xtask image [--out PATH]`: the ext2 root image `root=/dev/vda`
//! boots, `target/rootfs.ext2` by default.
//!
//! A staging directory (`PATH.staging`, rebuilt each time) gets Debian's
//! static busybox with its applet links, `/sbin/init` (busybox init), the
//! `/etc` of `user/init/disk/etc/`, the disk tier's scripts (`user/disk/*.sh`
//! in `/disk`, with the test initramfs's `/init` as `/disk/systest.sh`), the
//! compiled system tests in `/tests` and `/scripts` (with the `.expected`
//! outputs), the small tree the corruption tests damage (`/corrupt`), and
//! empty `/proc`, `/sys`, `/tmp`, `/root`, `/data`. Then
//! `mke2fs -t ext2 -d STAGING -b 4096 -O ^dir_index -L root -E root_owner=0:0
//! -F IMG 64M` copies it in (without hashed directories, which Linux's ext2
//! driver and Ferrite's do not keep: through ext4, Linux would index a large
//! directory and the disk tier could not compare it with Ferrite's), and a `debugfs -w` script makes everything owned by root
//! (mke2fs -d copies the staging files' owners, which are the caller's when
//! xtask does not run as root) and adds the static device nodes, which only
//! root could create in the staging directory (and which Linux would get
//! from devtmpfs; Ferrite has none).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use crate::deps::{self, BUSYBOX};
pub use crate::deps::{DEBUGFS, E2FSCK, MKE2FS};
use crate::{run_checked, workspace_root};

/// Where `cargo xtask image` and `run --disk` keep the image.
pub const DEFAULT_IMAGE: &str = "target/rootfs.ext2";

/// Enough for busybox (2 MB), the tests (~3 MB) and the workload's 7 MB of
/// data; the workload's 200 MiB sparse file takes one block.
const SIZE: &str = "64M";

/// Static device nodes in /dev: (name, 'c' or 'b', major, minor, permissions).
/// vda's major is the one Linux's virtio_blk gets first (a dynamic major).
pub const DEV_NODES: [(&str, char, u32, u32, u32); 8] = [
    ("console", 'c', 5, 1, 0o600),
    ("null", 'c', 1, 3, 0o666),
    ("zero", 'c', 1, 5, 0o666),
    ("urandom", 'c', 1, 9, 0o666),
    ("random", 'c', 1, 8, 0o666),
    ("tty", 'c', 5, 0, 0o666),
    ("ttyS0", 'c', 4, 64, 0o600),
    ("vda", 'b', 254, 0, 0o660),
];

/// The home of /etc/passwd's `user` (user/init/disk/etc/), with its uid
/// and gid.
const USER_HOME: (&str, u32, u32) = ("home/user", 1000, 100);

/// `cargo xtask image [--out PATH]`.
pub fn cmd_image(args: &[String]) -> Result<ExitCode, String> {
    let mut out = workspace_root().join(DEFAULT_IMAGE);
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--out" => out = PathBuf::from(rest.next().ok_or("--out needs a path")?),
            other => {
                return Err(format!(
                    "image: unknown argument `{other}`; usage: image [--out PATH]"
                ));
            }
        }
    }
    build_image(&out)?;
    println!("{}", out.display());
    Ok(ExitCode::SUCCESS)
}

/// Builds the root image at `out` (replacing it).
pub fn build_image(out: &Path) -> Result<(), String> {
    deps::ensure(&[MKE2FS, DEBUGFS])?;
    let staging = out.with_extension("staging");
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| format!("{}: {e}", staging.display()))?;
    }
    let paths = stage(&staging)?;
    let tmp = out.with_extension(format!("tmp{}", std::process::id()));
    let made = mke2fs(&staging, &tmp).and_then(|()| debugfs_write(&tmp, &fixup_script(&paths)));
    if let Err(e) = made {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, out).map_err(|e| format!("{}: {e}", out.display()))?;
    eprintln!("xtask: built {} ({} files)", out.display(), paths.len());
    Ok(())
}

fn mke2fs(staging: &Path, img: &Path) -> Result<(), String> {
    eprintln!("xtask: mke2fs -t ext2 -d {}", staging.display());
    // An existing file, so that mke2fs does not announce creating one.
    std::fs::write(img, b"").map_err(|e| format!("{}: {e}", img.display()))?;
    run_checked(
        Command::new(MKE2FS.program)
            .args(["-q", "-t", "ext2", "-b", "4096", "-O", "^dir_index", "-L", "root"])
            .args(["-E", "root_owner=0:0", "-F"])
            .arg("-d")
            .arg(staging)
            .arg(img)
            .arg(SIZE),
    )
}

/// Runs debugfs commands (one a line) on `img`, writable. debugfs reports a
/// failed command on stderr but still exits 0: any such line is an error.
pub fn debugfs_write(img: &Path, script: &str) -> Result<(), String> {
    let script_path = img.with_extension("debugfs");
    std::fs::write(&script_path, script).map_err(|e| format!("{}: {e}", script_path.display()))?;
    let out = Command::new(DEBUGFS.program)
        .arg("-w")
        .arg("-f")
        .arg(&script_path)
        .arg(img)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run debugfs: {e}"))?;
    let _ = std::fs::remove_file(&script_path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| !l.starts_with("debugfs ")).collect();
    if !out.status.success() || !errors.is_empty() {
        return Err(format!("debugfs -w on {} failed:\n{}", img.display(), errors.join("\n")));
    }
    Ok(())
}

/// The debugfs commands that make every staged path owned by root and add
/// the device nodes.
pub fn fixup_script(paths: &[String]) -> String {
    let mut script = String::new();
    for path in paths {
        script += &format!("sif \"{path}\" uid 0\nsif \"{path}\" gid 0\n");
    }
    // debugfs's mknod takes the whole argument as a name in the current
    // directory.
    script += "mkdir /dev\ncd /dev\n";
    for (name, kind, major, minor, perm) in DEV_NODES {
        let type_bits = if kind == 'c' { 0o020000 } else { 0o060000 };
        script += &format!("mknod {name} {kind} {major} {minor}\n");
        script += &format!("sif {name} mode 0{:o}\n", type_bits | perm);
    }
    let (home, uid, gid) = USER_HOME;
    script += &format!("cd /\nsif \"/{home}\" uid {uid}\nsif \"/{home}\" gid {gid}\n");
    // Set-user-ID root, as a distribution installs su and passwd: busybox
    // keeps root only for the applets that need it (su, passwd, login...).
    script + "sif /bin/busybox mode 0104755\n"
}

/// Fills the staging directory; returns the image paths ("/bin/busybox")
/// of everything in it.
fn stage(dir: &Path) -> Result<Vec<String>, String> {
    let root = workspace_root();
    let mut staged = Staging { dir: dir.to_path_buf(), paths: Vec::new() };
    for d in ["bin", "sbin", "usr", "usr/bin", "usr/sbin", "proc", "sys", "root", "data"] {
        staged.dir(d, 0o755)?;
    }
    // The unprivileged login of /etc/passwd (fixup_script gives it to them).
    staged.dir("home", 0o755)?;
    staged.dir(USER_HOME.0, 0o755)?;
    staged.dir("tmp", 0o1777)?;
    deps::ensure(&[BUSYBOX])?;
    staged.copy("bin/busybox", Path::new(BUSYBOX.program), 0o755)?;
    for link in crate::systest::build::busybox_applets()? {
        staged.symlink(&link, "/bin/busybox")?;
    }
    staged.tree("etc", &root.join("user/init/disk/etc"))?;
    // Ferrite's C modules (modules/), for insmod on the disk root.
    match crate::modules::build_modules() {
        Ok(built) => {
            for d in ["lib", "lib/modules", "lib/modules/extra"] {
                staged.dir(d, 0o755)?;
            }
            for (name, ko) in built {
                staged.copy(&format!("lib/modules/extra/{name}.ko"), &ko, 0o644)?;
            }
        }
        Err(e) => eprintln!("xtask: warning: the image gets no modules: {e}"),
    }
    staged.dir("disk", 0o755)?;
    for script in files_ending(&root.join("user/disk"), ".sh")? {
        staged.copy(&format!("disk/{script}"), &root.join("user/disk").join(&script), 0o755)?;
    }
    stage_tests(&mut staged)?;
    staged.dir("corrupt", 0o755)?;
    staged.dir("corrupt/dir", 0o755)?;
    staged.write("corrupt/dir/bad", b"behind a broken entry\n", 0o644)?;
    staged.write(
        "corrupt/file",
        "a block pointer past the disk\n".repeat(200).as_bytes(),
        0o644,
    )?;
    staged.write("corrupt/good", b"intact\n", 0o644)?;
    Ok(staged.paths)
}

/// The compiled system tests and their scripts, as the test initramfs has
/// them, so that they can run from the disk too.
fn stage_tests(staged: &mut Staging) -> Result<(), String> {
    let root = workspace_root();
    staged.dir("tests", 0o755)?;
    staged.dir("scripts", 0o755)?;
    // A test that does not compile (someone's work in progress) must not
    // keep the image, which the disk tier needs, from being built.
    let built = match crate::systest::build::build(None) {
        Ok(built) => built,
        Err(e) => {
            eprintln!("xtask: warning: the image gets no system tests: {e}");
            return Ok(());
        }
    };
    let bin = root.join("target/systest/bin");
    for name in &built.tests {
        let script = crate::systest::build::script_path(&root, name);
        let expected = script.with_extension("expected");
        if bin.join(name).is_file() {
            staged.copy(&format!("tests/{name}"), &bin.join(name), 0o755)?;
        } else if script.is_file() {
            staged.copy(&format!("scripts/{name}.sh"), &script, 0o755)?;
        }
        if script.is_file() && expected.is_file() {
            staged.copy(&format!("scripts/{name}.expected"), &expected, 0o644)?;
        }
    }
    // The initramfs's /init, which the ext2-root tier runs from the disk
    // (user/disk/suite.sh).
    staged.copy("disk/systest.sh", &root.join("user/init/systest.sh"), 0o755)?;
    Ok(())
}

/// The names in `dir` ending in `suffix`, sorted.
fn files_ending(dir: &Path, suffix: &str) -> Result<Vec<String>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .filter(|n| n.ends_with(suffix))
        .collect();
    names.sort();
    Ok(names)
}

/// The staging directory being filled, and what went into it.
struct Staging {
    dir: PathBuf,
    paths: Vec<String>,
}

impl Staging {
    fn host(&mut self, path: &str) -> PathBuf {
        self.paths.push(format!("/{path}"));
        self.dir.join(path)
    }

    fn dir(&mut self, path: &str, perm: u32) -> Result<(), String> {
        let host = self.host(path);
        std::fs::create_dir_all(&host).map_err(|e| format!("{}: {e}", host.display()))?;
        set_perm(&host, perm)
    }

    fn write(&mut self, path: &str, data: &[u8], perm: u32) -> Result<(), String> {
        let host = self.host(path);
        std::fs::write(&host, data).map_err(|e| format!("{}: {e}", host.display()))?;
        set_perm(&host, perm)
    }

    fn copy(&mut self, path: &str, from: &Path, perm: u32) -> Result<(), String> {
        let data = std::fs::read(from).map_err(|e| format!("{}: {e}", from.display()))?;
        self.write(path, &data, perm)
    }

    fn symlink(&mut self, path: &str, target: &str) -> Result<(), String> {
        let host = self.host(path);
        std::os::unix::fs::symlink(target, &host).map_err(|e| format!("{}: {e}", host.display()))
    }

    /// Copies the tree at `from` to `path`, keeping the executable bits.
    fn tree(&mut self, path: &str, from: &Path) -> Result<(), String> {
        use std::os::unix::fs::PermissionsExt;
        self.dir(path, 0o755)?;
        for name in files_ending(from, "")? {
            let source = from.join(&name);
            let meta =
                std::fs::metadata(&source).map_err(|e| format!("{}: {e}", source.display()))?;
            let inner = format!("{path}/{name}");
            if meta.is_dir() {
                self.tree(&inner, &source)?;
            } else {
                let perm = if meta.permissions().mode() & 0o111 != 0 { 0o755 } else { 0o644 };
                self.copy(&inner, &source, perm)?;
            }
        }
        Ok(())
    }
}

fn set_perm(path: &Path, perm: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(perm))
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixup_owns_everything_and_makes_nodes() {
        let script = fixup_script(&["/bin/busybox".to_string(), "/etc".to_string()]);
        assert!(script.starts_with("sif \"/bin/busybox\" uid 0\nsif \"/bin/busybox\" gid 0\n"));
        assert!(script.contains("sif \"/etc\" gid 0\n"));
        assert!(script.contains("cd /dev\nmknod console c 5 1\nsif console mode 020600\n"));
        assert!(script.contains("mknod vda b 254 0\nsif vda mode 060660\ncd /\n"));
        assert!(script.contains("sif \"/home/user\" uid 1000\nsif \"/home/user\" gid 100\n"));
        assert!(script.ends_with("sif /bin/busybox mode 0104755\n"));
        assert_eq!(script.matches("mknod").count(), DEV_NODES.len());
    }
}
