//! Builds the kernel image.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use crate::{run_checked, workspace_root};

pub const TARGET: &str = "x86_64-unknown-none";

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Release,
    Debug,
}

impl Profile {
    pub fn from_args(args: &[String]) -> Self {
        if args.iter().any(|a| a == "--debug") { Profile::Debug } else { Profile::Release }
    }

    fn dir(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::Debug => "debug",
        }
    }
}

/// Builds the kernel and returns the absolute path of its ELF image.
pub fn build_kernel(profile: Profile) -> Result<PathBuf, String> {
    let root = workspace_root();
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.current_dir(&root).args(["build", "--package", "ferrite", "--target", TARGET]);
    if profile == Profile::Release {
        cargo.arg("--release");
    }
    run_checked(&mut cargo)?;
    let image = root.join("target").join(TARGET).join(profile.dir()).join("ferrite");
    crate::kallsyms::fill_kallsyms(&image)?;
    Ok(image)
}

/// `cargo xtask build`: the image's absolute path is the last line printed.
pub fn cmd_build(args: &[String]) -> Result<ExitCode, String> {
    let image = build_kernel(Profile::from_args(args))?;
    println!("{}", image.display());
    Ok(ExitCode::SUCCESS)
}
