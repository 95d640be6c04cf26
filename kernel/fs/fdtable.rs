//! A process's open files (Linux: `struct files_struct`, fs/file.c).
//!
//! Being built: file descriptors, close-on-exec, the lock that guards them.

/// Open file descriptors of a process (Linux: `files_struct`).
#[allow(dead_code, reason = "the VFS work fills it in this session")]
pub struct FdTable {}
