//! Kernel self-tests, registered next to the code they test and run at boot
//! when the command line says `ktest` (or `ktest=FILTER` for the tests whose
//! name contains FILTER).
//!
//! Linux: lib/kunit/ (much simplified).
//!
//! ```ignore
//! ktest!(buddy_alloc_free, {
//!     let page = alloc_pages(0)?;   // a test returns KTestResult
//!     ...
//!     Ok(())
//! });
//! ```
//!
//! Each test prints one line, `ktest: NAME ... ok` or `ktest: NAME ... FAILED:
//! why`; then the kernel exits QEMU through `isa-debug-exit` with 0x10 if all
//! passed and 0x11 otherwise (QEMU's exit status 33 or 35).
#![deny(unsafe_code)]

use crate::pr_info;

/// What a self-test returns: `Err` carries the reason it failed.
pub type KTestResult = Result<(), &'static str>;

/// One registered self-test.
#[repr(C)]
pub struct KTest {
    pub name: &'static str,
    pub module: &'static str,
    pub run: fn() -> KTestResult,
}

/// Registers a kernel self-test.
#[macro_export]
macro_rules! ktest {
    ($name:ident, $body:block) => {
        const _: () = {
            fn $name() -> $crate::kernel::ktest::KTestResult $body
            // The one place outside arch/ that may say `unsafe`: placing the
            // static in `.ktest` is how tests register without a central list.
            #[allow(unsafe_code)]
            #[unsafe(link_section = ".ktest")]
            #[used]
            static TEST: $crate::kernel::ktest::KTest = $crate::kernel::ktest::KTest {
                name: stringify!($name),
                module: module_path!(),
                run: $name,
            };
        };
    };
}

/// Fails the enclosing test with `msg` unless `cond` holds.
#[macro_export]
macro_rules! kassert {
    ($cond:expr, $msg:literal) => {
        if !$cond {
            return Err(concat!($msg, " (", stringify!($cond), ")"));
        }
    };
}

/// Runs every test whose name contains `filter`; returns (passed, failed).
pub fn run_all(filter: &str) -> (usize, usize) {
    let (mut passed, mut failed) = (0, 0);
    let tests = crate::arch::sections::ktests();
    pr_info!("ktest: running {} self-tests", tests.len());
    for test in tests.iter().filter(|t| t.name.contains(filter)) {
        let module = test.module.trim_start_matches("ferrite::");
        match (test.run)() {
            Ok(()) => {
                passed += 1;
                pr_info!("ktest: {module}::{} ... ok", test.name);
            }
            Err(why) => {
                failed += 1;
                pr_info!("ktest: {module}::{} ... FAILED: {why}", test.name);
            }
        }
    }
    pr_info!("ktest: {passed} passed, {failed} failed");
    (passed, failed)
}

crate::ktest!(ktest_runs, { Ok(()) });
