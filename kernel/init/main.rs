//! `start_kernel`: brings the subsystems up in order, then starts init.
//!
//! Linux: init/main.c.

use crate::arch::boot::BootParams;
use crate::arch::irqflags::{local_irq_enable, safe_halt};
use crate::arch::qemu::{QemuExitCode, qemu_exit};
use crate::drivers::tty::serial::uart_8250::COM1;
use crate::kernel::{ktest, time};
use crate::{arch, drivers, mm, pr_info, pr_notice};

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
    COM1.init(115_200);
    pr_notice!("{BANNER}");
    pr_info!("Command line: {}", params.cmdline());
    print_memory_map(params);

    arch::traps::trap_init();
    mm::mem_init(params);
    drivers::acpi::acpi_init(params.rsdp);
    local_irq_enable();
    pr_info!("Kernel initialisation done");

    if params.cmdline().split_whitespace().any(|w| w == "ktest") {
        let (_, failed) = ktest::run_all("");
        qemu_exit(if failed == 0 { QemuExitCode::Success } else { QemuExitCode::Failure });
    }
    loop {
        safe_halt();
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
