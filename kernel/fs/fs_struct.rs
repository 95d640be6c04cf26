//! A process's root, working directory and umask (Linux: `struct fs_struct`,
//! fs/fs_struct.c).
//!
//! Being built with the VFS.

/// Root, current directory and umask of a process (Linux: `fs_struct`).
#[allow(dead_code, reason = "the VFS work fills it in this session")]
pub struct FsStruct {}
