//! `start_kernel`: brings the subsystems up in order, then starts init.
//!
//! Linux: init/main.c.

use core::fmt::Write;

use cmdline::{CmdLine, KNOWN_PARAMS};

use crate::arch::boot::BootParams;
use crate::arch::irqflags::local_irq_enable;
use crate::arch::qemu::{QemuExitCode, qemu_exit};
use crate::drivers::tty::serial::uart_8250::COM1;
use crate::kernel::fork::{CloneFlags, kernel_thread};
use crate::kernel::printk::LineBuf;
use crate::kernel::sched::completion::Completion;
use crate::kernel::{ktest, kthread, pid, printk, time};
use crate::{arch, drivers, kernel, mm, pr_info, pr_notice};

/// The banner's first line (Linux: `linux_banner`).
const BANNER: &str = concat!(
    "Ferrite version ",
    env!("CARGO_PKG_VERSION"),
    " (a Linux-compatible kernel in Rust) #1 SMP PREEMPT"
);

/// The architecture-neutral start of the kernel, on the boot CPU with
/// interrupts off (Linux: `start_kernel`).
pub fn start_kernel(params: &'static BootParams) -> ! {
    time::init_boot_clock();
    let cmdline = CmdLine::new(params.cmdline());
    // Linux parses `quiet` and `loglevel=` before its console prints anything.
    printk::set_console_loglevel(cmdline.console_loglevel());
    COM1.init(115_200);
    pr_notice!("{BANNER}");
    pr_info!("Command line: {}", params.cmdline());
    print_memory_map(params);
    if let Some(initrd) = params.initrd {
        pr_info!("RAMDISK: [mem {:#010x}-{:#010x}]", initrd.start, initrd.end.saturating_sub(1));
    }

    print_unknown_bootoptions(&cmdline);

    arch::traps::trap_init();
    let initrd = mm::mem_init(params);
    drivers::acpi::acpi_init(params.rsdp);
    arch::cpu::early_cpu_init();
    arch::i8259::init_8259a();
    arch::tsc::tsc_init();
    arch::apic::apic_intr_mode_init();
    arch::apic::x86_late_time_init();
    drivers::tty::serial::uart_8250::serial8250_init();
    drivers::tty::vt::vt::vty_init();
    arch::syscall::syscall_init();
    arch::fpu::fpu__init_system();
    kernel::sched::sched_init();
    crate::fs::vfs_caches_init();
    if let Err(e) = crate::fs::proc::proc_root_init(params.cmdline()) {
        crate::pr_err!("proc: cannot register: {}", e.description());
    }
    super::initramfs::populate_rootfs(initrd);
    if let Some(initrd) = initrd {
        mm::free_initrd_mem(initrd);
    }
    drivers::pci::pci_subsys_init();
    drivers::block::loop_dev::loop_init();
    drivers::block::brd::brd_init(cmdline.get("brd.rd_nr"), cmdline.get("brd.rd_size"));
    crate::net::net_dev_init();
    local_irq_enable();
    pr_info!("Kernel initialisation done");
    drivers::misc::lkdtm::run(params.cmdline());

    rest_init(params.cmdline(), cmdline.ktest().map(|selection| selection.filter.unwrap_or("")))
}

/// Lets `kthreadd` (PID 2) run before `kernel_init` (PID 1) goes on.
static KTHREADD_DONE: Completion = Completion::new();

/// Starts init (PID 1) and `kthreadd` (PID 2); the boot flow becomes the
/// idle task, PID 0 (Linux: `rest_init`).
fn rest_init(cmdline: &'static str, ktest: Option<&'static str>) -> ! {
    let init = kernel_thread(move || kernel_init(cmdline, ktest), "init", CloneFlags::FS)
        .expect("cannot start init");
    pid::init_pid_ns().set_child_reaper(&init);
    drop(init);
    kernel_thread(kthread::kthreadd, "kthreadd", CloneFlags::FS | CloneFlags::FILES)
        .expect("cannot start kthreadd");
    KTHREADD_DONE.complete_all();
    kernel::sched::idle::cpu_startup_entry()
}

/// PID 1 (Linux: `kernel_init`): runs the self-tests if asked, else
/// execs the user-space init; returning 0 after a successful exec enters
/// it (see `ret_from_fork`). With no init to run, the kernel monitor.
fn kernel_init(cmdline: &'static str, ktest: Option<&'static str>) -> i32 {
    KTHREADD_DONE.wait_for_completion();
    if let Some(filter) = ktest {
        let (_, failed) = ktest::run_all(filter);
        qemu_exit(if failed == 0 { QemuExitCode::Success } else { QemuExitCode::Failure });
    }
    // After the self-tests, whose timer checks want no other timers.
    if crate::fs::fs_writeback::wb_start().is_err() {
        crate::pr_warn!("writeback: cannot start the flusher thread");
    }
    if super::run_init::run_init(&CmdLine::new(cmdline)) {
        return 0;
    }
    super::monitor::run()
}

/// Says which unknown words before `--` init will get, argv first, then
/// envp (Linux: `print_unknown_bootoptions`).
fn print_unknown_bootoptions(cmdline: &CmdLine<'_>) {
    let line = cmdline.as_str();
    let before_dashes = CmdLine::new(match cmdline.after_dashes() {
        Some(rest) => &line[..line.len() - rest.len()],
        None => line,
    });
    let mut unknown = LineBuf::<{ arch::boot::COMMAND_LINE_SIZE }>::new();
    let argv = before_dashes.init_argv(KNOWN_PARAMS);
    for (i, word) in argv.chain(before_dashes.init_envp(KNOWN_PARAMS)).enumerate() {
        let _ = write!(unknown, "{}{word}", if i == 0 { "" } else { " " });
    }
    if !unknown.as_bytes().is_empty() {
        let text = core::str::from_utf8(unknown.as_bytes()).unwrap_or("");
        pr_notice!(
            "Unknown kernel command line parameters \"{text}\", will be passed to user space."
        );
    }
}

/// Prints the firmware memory map as Linux's `e820__print_table` does.
fn print_memory_map(params: &BootParams) {
    pr_info!("BIOS-provided physical RAM map:");
    for e in params.e820.entries() {
        pr_info!(
            "BIOS-e820: [mem {:#018x}-{:#018x}] {}",
            e.range.start,
            e.range.end.saturating_sub(1),
            e.kind.name()
        );
    }
}

/// Called by the panic handler once the message is out: a self-test run
/// must end QEMU with a failure rather than hang.
pub fn on_panic() {
    qemu_exit(QemuExitCode::Failure);
}
