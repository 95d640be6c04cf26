//! What an ext2 image holds under a directory, read on the host with
//! debugfs, as text that two images can be compared by: one line per path,
//! `PATH TYPE mode=… uid=… gid=… links=… size=… blocks=… [mtime=…] DATA`.
//!
//! Inode numbers and the times a run sets (atime, ctime, and any mtime
//! after 2020, i.e. the run's clock) are left out: they differ between two
//! correct kernels. An older mtime was set on purpose (`touch -d`) and is
//! kept. DATA is a directory's entry count, a symlink's target, or a
//! regular file's contents (quoted up to 64 bytes, else a length and hash).

use std::path::Path;
use std::process::{Command, Stdio};

use crate::image::DEBUGFS;

/// 2020-01-01 00:00:00 UTC: mtimes before this were set explicitly.
const RECENT: u64 = 1_577_836_800;

/// The longest contents written out as text rather than hashed.
const QUOTED_MAX: usize = 64;

/// One `ls -p` entry: `/ino/mode/uid/gid/name/size/`.
#[derive(Debug, PartialEq, Eq)]
pub struct LsEntry {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub name: String,
    pub size: u64,
}

/// Parses debugfs `ls -p` output, leaving out `.` and `..`.
pub fn parse_ls_p(text: &str) -> Vec<LsEntry> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.strip_prefix('/')?.strip_suffix('/')?.split('/').collect();
            let [ino, mode, uid, gid, name, size] = fields[..] else { return None };
            // Inode 0 is an unused slot (a block's first entry once deleted).
            if name == "." || name == ".." || ino == "0" {
                return None;
            }
            Some(LsEntry {
                mode: u32::from_str_radix(mode, 8).ok()?,
                uid: uid.parse().ok()?,
                gid: gid.parse().ok()?,
                name: name.to_string(),
                size: size.parse().unwrap_or(0),
            })
        })
        .collect()
}

/// What `stat` says beyond `ls -p`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct StatInfo {
    /// `ls -p` leaves a directory's size out.
    pub size: u64,
    pub links: u64,
    pub blocks: u64,
    pub mtime: u64,
    pub fast_link: Option<String>,
}

/// Parses one debugfs `stat` output.
pub fn parse_stat(text: &str) -> StatInfo {
    let mut info = StatInfo::default();
    for line in text.lines() {
        let line = line.trim();
        if let Some((_, size)) = line.split_once("Size: ").filter(|_| line.starts_with("User:")) {
            info.size = size.trim().parse().unwrap_or(0);
        } else if let Some(rest) = line.strip_prefix("Links:") {
            let mut words = rest.split_whitespace();
            info.links = words.next().and_then(|n| n.parse().ok()).unwrap_or(0);
            if words.next() == Some("Blockcount:") {
                info.blocks = words.next().and_then(|n| n.parse().ok()).unwrap_or(0);
            }
        } else if let Some(rest) = line.strip_prefix("mtime: 0x") {
            let hex = rest.split(|c: char| !c.is_ascii_hexdigit()).next().unwrap_or("");
            info.mtime = u64::from_str_radix(hex, 16).unwrap_or(0);
        } else if let Some(rest) = line.strip_prefix("Fast link dest: ") {
            info.fast_link = Some(rest.trim_matches('"').to_string());
        }
    }
    info
}

/// The listing of everything below `dir` in `img`, sorted by path.
pub fn listing(img: &Path, dir: &str) -> Result<String, String> {
    let mut entries: Vec<(String, LsEntry)> = Vec::new();
    let mut dirs = vec![dir.to_string()];
    while let Some(d) = dirs.pop() {
        for entry in parse_ls_p(&debugfs(img, &format!("ls -p \"{d}\""))?) {
            let path = format!("{d}/{}", entry.name);
            if entry.mode & 0o170000 == 0o040000 {
                dirs.push(path.clone());
            }
            entries.push((path, entry));
        }
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let stats = stat_all(img, entries.iter().map(|(p, _)| p.as_str()))?;
    let mut out = String::new();
    for ((path, entry), stat) in entries.iter().zip(stats) {
        let data = data_of(img, path, entry, &stat, &entries)?;
        out += &line(path, entry, &stat, &data);
        out.push('\n');
    }
    Ok(out)
}

/// One listing line.
fn line(path: &str, e: &LsEntry, s: &StatInfo, data: &str) -> String {
    let kind = match e.mode & 0o170000 {
        0o040000 => "dir",
        0o100000 => "file",
        0o120000 => "symlink",
        0o020000 => "chardev",
        0o060000 => "blockdev",
        0o010000 => "fifo",
        0o140000 => "socket",
        _ => "unknown",
    };
    let mtime = if s.mtime < RECENT { format!(" mtime={}", s.mtime) } else { String::new() };
    format!(
        "{path} {kind} mode={:04o} uid={} gid={} links={} size={} blocks={}{mtime} {data}",
        e.mode & 0o7777,
        e.uid,
        e.gid,
        s.links,
        s.size,
        s.blocks
    )
}

/// A directory's entry count, a symlink's target, a file's contents.
fn data_of(
    img: &Path,
    path: &str,
    e: &LsEntry,
    s: &StatInfo,
    all: &[(String, LsEntry)],
) -> Result<String, String> {
    Ok(match e.mode & 0o170000 {
        0o040000 => {
            let prefix = format!("{path}/");
            let n = all
                .iter()
                .filter(|(p, _)| p.strip_prefix(&prefix).is_some_and(|r| !r.contains('/')))
                .count();
            format!("entries={n}")
        }
        0o120000 => match &s.fast_link {
            Some(target) => format!("-> {target:?}"),
            None => format!("-> {:?}", String::from_utf8_lossy(&cat(img, path)?)),
        },
        0o100000 if e.size > 0 => describe(&cat(img, path)?),
        _ => String::new(),
    })
}

/// Contents as a listing shows them.
pub fn describe(data: &[u8]) -> String {
    if data.len() <= QUOTED_MAX {
        return format!("data={:?}", String::from_utf8_lossy(data));
    }
    format!("data=({} bytes, fnv1a {:016x})", data.len(), fnv1a(data))
}

/// FNV-1a, 64 bits: stable across toolchains, unlike std's hasher, since
/// the expected listing is kept in the tree.
fn fnv1a(data: &[u8]) -> u64 {
    data.iter()
        .fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// `stat` of each path in one debugfs run, split at its command echoes.
fn stat_all<'a>(img: &Path, paths: impl Iterator<Item = &'a str>) -> Result<Vec<StatInfo>, String> {
    let script: String = paths.map(|p| format!("stat \"{p}\"\n")).collect();
    let n = script.lines().count();
    let out = debugfs_script(img, &script)?;
    let stats: Vec<StatInfo> = out.split("debugfs: stat ").skip(1).map(parse_stat).collect();
    if stats.len() != n {
        return Err(format!("debugfs stat printed {} of {n} inodes", stats.len()));
    }
    Ok(stats)
}

fn debugfs_cmd(img: &Path) -> Command {
    let mut cmd = Command::new(DEBUGFS.program);
    cmd.env("DEBUGFS_PAGER", "__none__").env("PAGER", "__none__").stderr(Stdio::piped());
    cmd.arg(img);
    cmd
}

/// One read-only debugfs request's output.
fn debugfs(img: &Path, request: &str) -> Result<String, String> {
    let out = debugfs_raw(img, request)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn debugfs_raw(img: &Path, request: &str) -> Result<Vec<u8>, String> {
    let out = debugfs_cmd(img)
        .args(["-R", request])
        .output()
        .map_err(|e| format!("cannot run debugfs: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if let Some(error) = stderr.lines().find(|l| !l.starts_with("debugfs ")) {
        return Err(format!("debugfs {request}: {error}"));
    }
    Ok(out.stdout)
}

fn cat(img: &Path, path: &str) -> Result<Vec<u8>, String> {
    debugfs_raw(img, &format!("cat \"{path}\""))
}

fn debugfs_script(img: &Path, script: &str) -> Result<String, String> {
    use std::io::Write;
    let mut child = debugfs_cmd(img)
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run debugfs: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("debugfs has no stdin")?;
    let script = script.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(script.as_bytes()));
    let out = child.wait_with_output().map_err(|e| format!("debugfs: {e}"))?;
    let _ = writer.join();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if let Some(error) = stderr.lines().find(|l| !l.starts_with("debugfs ")) {
        return Err(format!("debugfs: {error}"));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Compares two listings line by line: `Err` lists the differences (at
/// most 20), each as `-expected` / `+actual`.
pub fn compare(expected: &str, actual: &str) -> Result<(), String> {
    let key = |l: &&str| l.split(' ').next().unwrap_or("").to_string();
    let exp: Vec<&str> = expected.lines().collect();
    let act: Vec<&str> = actual.lines().collect();
    let mut diffs = Vec::new();
    for e in &exp {
        match act.iter().find(|a| key(a) == key(e)) {
            None => diffs.push(format!("-{e}\n+(missing)")),
            Some(a) if a != e => diffs.push(format!("-{e}\n+{a}")),
            Some(_) => {}
        }
    }
    for a in &act {
        if !exp.iter().any(|e| key(e) == key(a)) {
            diffs.push(format!("-(absent)\n+{a}"));
        }
    }
    if diffs.is_empty() {
        return Ok(());
    }
    let n = diffs.len();
    diffs.truncate(20);
    Err(format!("{n} path(s) differ:\n{}", diffs.join("\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ls_p() {
        let text = "/12/040755/0/0/.//\n/2/040755/0/0/..//\n/13/120777/0/0/s/77/\n\
                    /15/100644/1000/100/a b/3/\n/0/000000/0/0//0/\n\n";
        let entries = parse_ls_p(text);
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[1],
            LsEntry { mode: 0o100644, uid: 1000, gid: 100, name: "a b".into(), size: 3 }
        );
    }

    #[test]
    fn parses_stat() {
        let text = "Inode: 14   Type: symlink    Mode:  0777   Flags: 0x0\n\
                    User:     0   Group:     0   Project:     0   Size: 77\n\
                    Links: 2   Blockcount: 16\n \
                    mtime: 0x3a7b8372:00000000 -- Sat Feb  3 04:05:06 2001\n\
                    Fast link dest: \"short\"\n";
        let s = parse_stat(text);
        assert_eq!(
            s,
            StatInfo {
                size: 77,
                links: 2,
                blocks: 16,
                mtime: 981173106,
                fast_link: Some("short".into())
            }
        );
    }

    #[test]
    fn lines_mask_recent_times_only() {
        let e = LsEntry { mode: 0o100751, uid: 0, gid: 0, name: "x".into(), size: 5 };
        let mut s =
            StatInfo { size: 5, links: 1, blocks: 8, mtime: 1_800_000_000, fast_link: None };
        assert_eq!(
            line("/d/x", &e, &s, "data=\"a\""),
            "/d/x file mode=0751 uid=0 gid=0 links=1 size=5 blocks=8 data=\"a\""
        );
        s.mtime = 981171058;
        assert!(line("/d/x", &e, &s, "").contains(" mtime=981171058 "));
    }

    #[test]
    fn describes_small_and_large_contents() {
        assert_eq!(describe(b"hi\n"), "data=\"hi\\n\"");
        let big = describe(&[7u8; 100]);
        assert!(big.starts_with("data=(100 bytes, fnv1a "), "{big}");
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c, "the published FNV-1a test vector");
        assert_ne!(big, describe(&[8u8; 100]));
    }

    #[test]
    fn compare_reports_each_difference() {
        let a = "/d/a file mode=0644 size=1\n/d/b dir entries=0\n/d/c file size=0\n";
        let b = "/d/a file mode=0600 size=1\n/d/b dir entries=0\n/d/e file size=0\n";
        assert_eq!(compare(a, a), Ok(()));
        let why = compare(a, b).expect_err("they differ");
        assert!(why.starts_with("3 path(s) differ"), "{why}");
        assert!(why.contains("-/d/a file mode=0644 size=1\n+/d/a file mode=0600 size=1"));
        assert!(why.contains("-/d/c file size=0\n+(missing)"));
        assert!(why.contains("-(absent)\n+/d/e file size=0"));
    }
}
