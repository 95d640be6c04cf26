//! Boot checks: boot the kernel as a user would, with a given command line,
//! and check what its console shows and how QEMU ends.
//!
//! Each check names the behaviour it guards. The crash checks boot with
//! `lkdtm=NAME` (Linux: drivers/misc/lkdtm/), which makes the kernel crash on
//! purpose, and check that the oops says what Linux's would and that QEMU
//! ends with the failure code instead of hanging or rebooting.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use crate::qemu::{Boot, EXIT_FAILURE, Machine};
use crate::test::tail;

/// How a check's boot must end.
pub enum End {
    /// Still running once `Kernel initialisation done` is shown; then killed.
    Running,
    /// QEMU exits with this status by itself.
    Exit(i32),
}

/// What a check boots with as `-initrd`.
pub enum Initrd {
    None,
    /// A newc archive with two entries and no /init: the kernel unpacks it
    /// and, finding nothing to run, starts its monitor.
    Tiny,
    /// Debian's busybox with `user/init/shell.sh` as /init, as
    /// `cargo xtask run --busybox` boots.
    Busybox,
}

pub struct Check {
    pub name: &'static str,
    pub cmdline: &'static str,
    /// Typed on the serial console once `ready` has been shown.
    pub input: &'static str,
    /// The console line after which `input` is typed.
    pub ready: &'static str,
    /// The initramfs (`-initrd`) to boot with.
    pub initrd: Initrd,
    /// QEMU's `-cpu` model: `max` as every other boot, or `qemu64`, the
    /// model a bare `qemu-system-x86_64 -kernel` gives (no SMAP, no SMEP).
    pub cpu: &'static str,
    pub end: End,
    pub must_show: &'static [&'static str],
    pub must_not_show: &'static [&'static str],
}

const INIT_DONE: &str = "Kernel initialisation done";

pub const CHECKS: &[Check] = &[
    Check {
        name: "boot::banner_memory_map_cmdline",
        cmdline: "console=ttyS0 foo=bar baz lkdtm.x=1 -- a b",
        input: "",
        ready: INIT_DONE,
        cpu: "max",
        initrd: Initrd::Tiny,
        end: End::Running,
        must_show: &[
            "Ferrite version",
            "Command line: console=ttyS0 foo=bar baz lkdtm.x=1 -- a b",
            // Linux's wording; module parameters (with a dot) and the words
            // after `--` are not listed.
            "Unknown kernel command line parameters \"baz foo=bar\", will be passed to user space.",
            "RAMDISK: [mem 0x",
            "Trying to unpack rootfs image as initramfs...",
            "initramfs: unpacked 2 entries",
            "Memory: ",
            "smpboot: CPU0: ",
            "clockevents: APIC timer at 250 Hz",
            "BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable",
            INIT_DONE,
        ],
        must_not_show: &["panic", "BUG", "Initramfs unpacking failed"],
    },
    Check {
        name: "boot::monitor_timer_ticks_and_acpi_poweroff",
        cmdline: "console=ttyS0",
        input: "uptime\rinterrupts\rpoweroff\r",
        ready: INIT_DONE,
        cpu: "max",
        initrd: Initrd::None,
        end: End::Exit(0),
        must_show: &["ferrite# uptime", "jiffies ", "LOC", "reboot: Power down"],
        must_not_show: &["panic", "BUG"],
    },
    Check {
        name: "boot::busybox_shell_with_job_control",
        cmdline: "console=ttyS0",
        input: "echo $((6 * 7)); tty\rsleep 30 &\rkill %1; wait %1; echo status $?\rpoweroff -f\r",
        // ash's banner: typed earlier, the keys would answer its cursor
        // position query instead of reaching the prompt.
        ready: "Enter 'help' for a list of built-in commands.",
        cpu: "max",
        initrd: Initrd::Busybox,
        end: End::Exit(0),
        must_show: &[
            "Run /init as init process",
            "\n42",
            "/dev/ttyS0",
            "status 143",
            "reboot: Power down",
        ],
        // An initramfs mounts devtmpfs itself: the kernel does only after
        // a root= mount (Linux: CONFIG_DEVTMPFS_MOUNT).
        must_not_show: &["panic", "BUG", "job control turned off", "devtmpfs: mounted"],
    },
    Check {
        name: "boot::busybox_on_qemu_default_cpu",
        cmdline: "console=ttyS0",
        input: "echo $((6 * 7)) > /tmp/x; cat /tmp/x\rpoweroff -f\r",
        ready: "Enter 'help' for a list of built-in commands.",
        // stac/clac fault on a CPU without SMAP: user copies must test for it.
        cpu: "qemu64",
        initrd: Initrd::Busybox,
        end: End::Exit(0),
        must_show: &["SMAP off", "\n42", "reboot: Power down"],
        must_not_show: &["panic", "BUG", "invalid opcode"],
    },
    Check {
        name: "boot::quiet_hides_info_messages",
        cmdline: "console=ttyS0 quiet ktest",
        input: "",
        ready: INIT_DONE,
        cpu: "max",
        initrd: Initrd::None,
        end: End::Exit(crate::qemu::EXIT_SUCCESS),
        must_show: &[],
        must_not_show: &["Command line:", "BIOS-e820", "BUG"],
    },
    Check {
        name: "lkdtm::null_pointer_oops",
        cmdline: "console=ttyS0 lkdtm=EXCEPTION",
        input: "",
        ready: INIT_DONE,
        cpu: "max",
        initrd: Initrd::None,
        end: End::Exit(EXIT_FAILURE),
        must_show: &[
            "lkdtm: Performing direct entry EXCEPTION",
            "BUG: kernel NULL pointer dereference, address: 0000000000000000",
            "#PF: supervisor write access in kernel mode",
            "#PF: error_code(0x0002) - not-present page",
            "Oops: 0002 [#1] SMP",
            "Call Trace:",
            "lkdtm_",
            "Kernel panic - not syncing: Fatal exception",
        ],
        must_not_show: &[],
    },
    Check {
        name: "lkdtm::write_to_rodata_faults",
        cmdline: "console=ttyS0 lkdtm=WRITE_RO",
        input: "",
        ready: INIT_DONE,
        cpu: "max",
        initrd: Initrd::None,
        end: End::Exit(EXIT_FAILURE),
        must_show: &[
            "lkdtm: Performing direct entry WRITE_RO",
            "BUG: unable to handle page fault for address: ffffffff81",
            "#PF: error_code(0x0003) - permissions violation",
            "Oops: 0003 [#1] SMP",
        ],
        must_not_show: &[],
    },
    Check {
        name: "lkdtm::exec_data_hits_nx",
        cmdline: "console=ttyS0 lkdtm=EXEC_DATA",
        input: "",
        ready: INIT_DONE,
        cpu: "max",
        initrd: Initrd::None,
        end: End::Exit(EXIT_FAILURE),
        must_show: &[
            "lkdtm: Performing direct entry EXEC_DATA",
            "kernel tried to execute NX-protected page",
            "#PF: supervisor instruction fetch in kernel mode",
            "#PF: error_code(0x0011) - permissions violation",
        ],
        must_not_show: &[],
    },
    Check {
        name: "lkdtm::stack_overflow_hits_guard_page",
        cmdline: "console=ttyS0 lkdtm=EXHAUST_STACK",
        input: "",
        ready: INIT_DONE,
        cpu: "max",
        initrd: Initrd::None,
        end: End::Exit(EXIT_FAILURE),
        must_show: &[
            "lkdtm: Performing direct entry EXHAUST_STACK",
            "BUG: stack guard page was hit at",
            "kernel stack overflow (double-fault): 0000 [#1] SMP",
        ],
        must_not_show: &[],
    },
    Check {
        name: "lkdtm::divide_error_oops",
        cmdline: "console=ttyS0 lkdtm=DIVIDE_ERROR",
        input: "",
        ready: INIT_DONE,
        cpu: "max",
        initrd: Initrd::None,
        end: End::Exit(EXIT_FAILURE),
        must_show: &[
            "lkdtm: Performing direct entry DIVIDE_ERROR",
            "divide error: 0000 [#1] SMP",
            "RIP: 0010:",
        ],
        must_not_show: &[],
    },
    Check {
        name: "lkdtm::invalid_opcode_oops",
        cmdline: "console=ttyS0 lkdtm=INVALID_OPCODE",
        input: "",
        ready: INIT_DONE,
        cpu: "max",
        initrd: Initrd::None,
        end: End::Exit(EXIT_FAILURE),
        must_show: &[
            "lkdtm: Performing direct entry INVALID_OPCODE",
            "invalid opcode: 0000 [#1] SMP",
        ],
        must_not_show: &[],
    },
    Check {
        name: "lkdtm::rust_panic_backtrace",
        cmdline: "console=ttyS0 lkdtm=BUG",
        input: "",
        ready: INIT_DONE,
        cpu: "max",
        initrd: Initrd::None,
        end: End::Exit(EXIT_FAILURE),
        must_show: &[
            "lkdtm: Performing direct entry BUG",
            "Kernel panic - not syncing: lkdtm BUG",
            "Call Trace:",
            "x86_64_start_kernel+",
        ],
        must_not_show: &[],
    },
];

/// Boots `image` for `check`; returns whether it held and, if not, why.
pub fn run(check: &Check, image: &Path) -> Result<(bool, String), String> {
    let mut machine = Machine::new(image, check.cmdline);
    machine.stdin_piped = !check.input.is_empty();
    machine.cpu = check.cpu;
    match check.initrd {
        Initrd::None => {}
        Initrd::Tiny => {
            let path = image.with_file_name("boot-check-initrd.bin");
            let mut archive = crate::initramfs::Archive::new();
            archive.dir("etc", 0o755).file("etc/motd", 0o644, b"Welcome to Ferrite\n".to_vec());
            archive.write(&path)?;
            machine.initrd = Some(path);
        }
        Initrd::Busybox => machine.initrd = Some(crate::qemu::busybox_initramfs()?),
    }
    let mut boot = Boot::start(&machine)?;
    let timeout = Duration::from_secs(60);
    let status = match check.end {
        End::Running => {
            if boot.wait_for(|l| l.contains(INIT_DONE), timeout).is_none() {
                return Ok((
                    false,
                    format!("no `{INIT_DONE}`; last lines:\n{}", tail(&boot.console)),
                ));
            }
            if !check.input.is_empty() {
                type_lines(&mut boot, check.input)?;
            }
            boot.wait_for(|_| false, Duration::from_millis(500));
            boot.kill();
            None
        }
        End::Exit(_) => {
            if !check.input.is_empty() {
                boot.wait_for(|l| l.contains(check.ready), timeout);
                boot.wait_for(|_| false, Duration::from_millis(300));
                type_lines(&mut boot, check.input)?;
            }
            boot.wait_exit(timeout).map(|(code, _)| code)
        }
    };
    Ok(verdict(check, &boot.console, status))
}

fn verdict(check: &Check, console: &[String], status: Option<i32>) -> (bool, String) {
    if let End::Exit(code) = check.end
        && status != Some(code)
    {
        return (
            false,
            format!("QEMU ended with {status:?}, not {code}; last lines:\n{}", tail(console)),
        );
    }
    let text = console.join("\n");
    if let Some(missing) = check.must_show.iter().find(|s| !text.contains(*s)) {
        return (false, format!("console lacks `{missing}`; last lines:\n{}", tail(console)));
    }
    if let Some(shown) = check.must_not_show.iter().find(|s| text.contains(*s)) {
        return (false, format!("console shows `{shown}`"));
    }
    (true, String::new())
}

/// Types `input` a line at a time, as a person would: a shell that is
/// still busy with one command reads the next only when it prompts again,
/// and a job started in the background needs a moment to become one.
fn type_lines(boot: &mut Boot, input: &str) -> Result<(), String> {
    for line in input.split_inclusive('\r') {
        boot.type_input(line)?;
        boot.wait_for(|_| false, Duration::from_millis(400));
    }
    Ok(())
}

impl Boot {
    /// Types `text` on the serial console.
    pub fn type_input(&mut self, text: &str) -> Result<(), String> {
        let stdin = self.stdin().ok_or("QEMU's console input is not a pipe")?;
        stdin.write_all(text.as_bytes()).and_then(|()| stdin.flush()).map_err(|e| e.to_string())
    }
}
