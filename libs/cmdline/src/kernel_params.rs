//! Typed accessors for the parameters the kernel acts on.
//!
//! Linux: the handlers behind each name: `console_setup`
//! (kernel/printk/printk.c), `loglevel`, `quiet_kernel`, `debug_kernel`,
//! `init_setup`, `rdinit_setup` (init/main.c), `root_dev_setup`,
//! `fs_names_setup`, `readonly`, `readwrite` (init/do_mounts.c), `maxcpus`,
//! `nosmp` (kernel/smp.c), `mitigations_parse_cmdline` (kernel/cpu.c),
//! `pti_check_boottime_disable` (arch/x86/mm/pti.c),
//! `setup_transparent_hugepage` (mm/huge_memory.c).
//!
//! Each accessor answers what Linux would have set after running the handler
//! once per occurrence, in order: the last valid occurrence wins, and an
//! invalid value leaves the previous setting, as Linux's handlers do. Defaults
//! that depend on the kernel's configuration are left to the caller (`None`).

use core::fmt;

use crate::CmdLine;
use crate::num::{get_uint, simple_strtoull};
use crate::parse::parameq;

/// Console log level when the line says nothing (Linux:
/// `CONFIG_CONSOLE_LOGLEVEL_DEFAULT`, 7).
pub const CONSOLE_LOGLEVEL_DEFAULT: u8 = 7;
/// Console log level set by `quiet` (Linux: `CONFIG_CONSOLE_LOGLEVEL_QUIET`, 4).
pub const CONSOLE_LOGLEVEL_QUIET: u8 = 4;
/// Console log level set by `debug` (Linux: `CONSOLE_LOGLEVEL_DEBUG`, 10).
pub const CONSOLE_LOGLEVEL_DEBUG: u8 = 10;

/// One `console=` device (Linux: what `console_setup` passes to
/// `__add_preferred_console`).
///
/// `console=ttyS0,115200n8` is `{ name: "ttyS", index: 0, options:
/// Some("115200n8") }`. `Display` writes the device name, `ttyS0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Console<'a> {
    /// The driver name: the text before the first digit or `,` (`ttyS`,
    /// `tty`, `hvc`); `ttyS` when the value starts with a digit
    /// (`console=0`); `ttynull` for `console=` and `console=null`.
    pub name: &'a str,
    /// The device number after the name; 0 when absent, saturated at
    /// `u32::MAX`.
    pub index: u32,
    /// The text after the first `,`: speed, parity, bits, flow (`115200n8`).
    pub options: Option<&'a str>,
}

impl<'a> Console<'a> {
    /// Decodes a `console=` value (Linux: `console_setup`).
    pub fn parse(value: &'a str) -> Self {
        if value.is_empty() || value == "null" {
            return Self { name: "ttynull", index: 0, options: None };
        }
        let (device, options) = match value.split_once(',') {
            Some((device, options)) => (device, Some(options)),
            None => (value, None),
        };
        let name_len = device.find(|c: char| c.is_ascii_digit()).unwrap_or(device.len());
        let name = if name_len == 0 { "ttyS" } else { &device[..name_len] };
        let (index, _) = simple_strtoull(&device[name_len..], 10);
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        Self { name, index, options }
    }
}

impl fmt::Display for Console<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.name, self.index)
    }
}

/// The `mitigations=` setting for CPU vulnerabilities (Linux:
/// `enum cpu_mitigations`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mitigations {
    /// `off`: no mitigations (Linux also turns PTI off then).
    Off,
    /// `auto`: mitigate what the CPU needs (Linux's default).
    Auto,
    /// `auto,nosmt`: as `auto`, and disable SMT if a vulnerability needs it.
    AutoNoSmt,
}

/// The page-table isolation setting (Linux: `enum pti_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pti {
    /// `pti=on`: always isolate.
    On,
    /// `pti=off` or `nopti`.
    Off,
    /// `pti=auto`: isolate if the CPU is vulnerable to Meltdown.
    Auto,
}

/// The `transparent_hugepage=` policy (Linux: `transparent_hugepage_flags`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransparentHugepage {
    /// `always`: huge pages for every suitable anonymous mapping.
    Always,
    /// `madvise`: only where `madvise(MADV_HUGEPAGE)` asked for them.
    Madvise,
    /// `never`: no transparent huge pages.
    Never,
}

/// The `ktest` switch: run the in-kernel self-tests at boot (Ferrite's own,
/// no Linux counterpart).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ktest<'a> {
    /// `ktest=FILTER`: run only the tests whose name contains `FILTER`;
    /// `None` (bare `ktest` or an empty filter) runs them all.
    pub filter: Option<&'a str>,
}

impl Ktest<'_> {
    /// Whether the test called `name` should run.
    pub fn selects(&self, name: &str) -> bool {
        self.filter.is_none_or(|filter| name.contains(filter))
    }
}

impl<'a> CmdLine<'a> {
    /// The last `console=` (Linux makes it `/dev/console`).
    pub fn console(&self) -> Option<Console<'a>> {
        self.consoles().last()
    }

    /// Every `console=`, in order: Linux prints to all of them.
    pub fn consoles(&self) -> impl Iterator<Item = Console<'a>> + use<'a> {
        self.get_all("console").map(Console::parse)
    }

    /// The last `loglevel=N` that is a number from 0 to 255 (`None` when
    /// absent or invalid). Messages of a level below N print; 8 and above
    /// print everything, `KERN_DEBUG` included. Linux also accepts negative
    /// numbers (printing nothing, as 0 does); those are ignored here.
    pub fn loglevel(&self) -> Option<u8> {
        self.get_all("loglevel").filter_map(get_uint).last()
    }

    /// Whether `quiet` is given (console log level 4).
    pub fn quiet(&self) -> bool {
        self.has("quiet")
    }

    /// Whether `debug` is given (console log level 10).
    pub fn debug(&self) -> bool {
        self.has("debug")
    }

    /// The console log level the line asks for (Linux: `console_loglevel`
    /// after the early parameters): `quiet`, `debug` and `loglevel=N` each set
    /// it, in order; [`CONSOLE_LOGLEVEL_DEFAULT`] if none does.
    pub fn console_loglevel(&self) -> u8 {
        self.params()
            .filter_map(|p| {
                if parameq(p.key, "quiet") {
                    Some(CONSOLE_LOGLEVEL_QUIET)
                } else if parameq(p.key, "debug") {
                    Some(CONSOLE_LOGLEVEL_DEBUG)
                } else if parameq(p.key, "loglevel") {
                    p.value.and_then(get_uint)
                } else {
                    None
                }
            })
            .last()
            .unwrap_or(CONSOLE_LOGLEVEL_DEFAULT)
    }

    /// `init=`: the program to run as PID 1 instead of `/sbin/init`.
    pub fn init(&self) -> Option<&'a str> {
        self.get("init")
    }

    /// `rdinit=`: the program in the initramfs to run instead of `/init`.
    pub fn rdinit(&self) -> Option<&'a str> {
        self.get("rdinit")
    }

    /// `root=`: the root device (`/dev/vda1`).
    pub fn root(&self) -> Option<&'a str> {
        self.get("root")
    }

    /// `rootfstype=`: a comma-separated list of file system types to try for
    /// the root, in order (`ext2`, or `ext4,ext2`).
    pub fn rootfstype(&self) -> Option<&'a str> {
        self.get("rootfstype")
    }

    /// Whether the bare word `ro` is given.
    pub fn ro(&self) -> bool {
        self.has_bare("ro")
    }

    /// Whether the bare word `rw` is given.
    pub fn rw(&self) -> bool {
        self.has_bare("rw")
    }

    /// Whether the root is mounted read-only (Linux: `MS_RDONLY` in
    /// `root_mountflags`): the last of `ro` and `rw` decides; read-only when
    /// neither is given, as in Linux.
    pub fn root_readonly(&self) -> bool {
        self.params()
            .filter(|p| p.value.is_none())
            .filter_map(|p| match p.key {
                "ro" => Some(true),
                "rw" => Some(false),
                _ => None,
            })
            .last()
            .unwrap_or(true)
    }

    /// The last `maxcpus=N` that is a number fitting `u32`. `maxcpus=0`
    /// disables SMP as `nosmp` does.
    pub fn maxcpus(&self) -> Option<u32> {
        self.get_all("maxcpus").filter_map(get_uint).last()
    }

    /// Whether SMP is disabled: `nosmp`, or `maxcpus=0`.
    pub fn nosmp(&self) -> bool {
        self.has("nosmp") || self.maxcpus() == Some(0)
    }

    /// The `ktest` switch: `Some` when `ktest` or `ktest=FILTER` is given
    /// (the last occurrence decides the filter).
    pub fn ktest(&self) -> Option<Ktest<'a>> {
        self.params()
            .filter(|p| parameq(p.key, "ktest"))
            .last()
            .map(|p| Ktest { filter: p.value.filter(|f| !f.is_empty()) })
    }

    /// The last valid `mitigations=` (`off`, `auto`, `auto,nosmt`); `None`
    /// means Linux's default, `auto`.
    pub fn mitigations(&self) -> Option<Mitigations> {
        self.get_all("mitigations")
            .filter_map(|v| match v {
                "off" => Some(Mitigations::Off),
                "auto" => Some(Mitigations::Auto),
                "auto,nosmt" => Some(Mitigations::AutoNoSmt),
                _ => None,
            })
            .last()
    }

    /// The page-table isolation the line asks for: the last `pti=` if it is
    /// `on`, `off` or `auto`, else `Off` if `nopti` is given, else `None`
    /// (Linux's default: auto, or off with `mitigations=off`).
    pub fn pti(&self) -> Option<Pti> {
        // Linux 6.1 reads only the last `pti=`; an invalid one falls through.
        let last = self.get("pti").and_then(|v| match v {
            "on" => Some(Pti::On),
            "off" => Some(Pti::Off),
            "auto" => Some(Pti::Auto),
            _ => None,
        });
        last.or_else(|| self.has("nopti").then_some(Pti::Off))
    }

    /// The last valid `transparent_hugepage=` (`always`, `madvise`, `never`);
    /// `None` means the kernel's configured default.
    pub fn transparent_hugepage(&self) -> Option<TransparentHugepage> {
        self.get_all("transparent_hugepage")
            .filter_map(|v| match v {
                "always" => Some(TransparentHugepage::Always),
                "madvise" => Some(TransparentHugepage::Madvise),
                "never" => Some(TransparentHugepage::Never),
                _ => None,
            })
            .last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(line: &str) -> CmdLine<'_> {
        CmdLine::new(line)
    }

    #[test]
    fn console_decoding() {
        let con = |v| Console::parse(v);
        assert_eq!(
            con("ttyS0,115200n8"),
            Console { name: "ttyS", index: 0, options: Some("115200n8") }
        );
        assert_eq!(con("tty1"), Console { name: "tty", index: 1, options: None });
        assert_eq!(con("ttyAMA12"), Console { name: "ttyAMA", index: 12, options: None });
        assert_eq!(con("1,9600"), Console { name: "ttyS", index: 1, options: Some("9600") });
        assert_eq!(con("hvc"), Console { name: "hvc", index: 0, options: None });
        assert_eq!(con("ttyS,9600"), Console { name: "ttyS", index: 0, options: Some("9600") });
        assert_eq!(con("null"), Console { name: "ttynull", index: 0, options: None });
        assert_eq!(con(""), Console { name: "ttynull", index: 0, options: None });
        assert_eq!(con("ttyS99999999999").index, u32::MAX);
        assert_eq!(con("ttyS1x").index, 1);
        assert_eq!(con("ttyS0,115200").to_string(), "ttyS0");
    }

    #[test]
    fn last_console_is_the_console() {
        let line = c("console=tty0 console=ttyS0,115200");
        assert_eq!(line.console().map(|c| c.name), Some("ttyS"));
        assert_eq!(line.consoles().count(), 2);
        assert_eq!(c("quiet").console(), None);
    }

    #[test]
    fn loglevels() {
        assert_eq!(c("loglevel=3").loglevel(), Some(3));
        assert_eq!(c("loglevel=8").loglevel(), Some(8));
        assert_eq!(c("loglevel=3 loglevel=x").loglevel(), Some(3));
        assert_eq!(c("loglevel=-1").loglevel(), None);
        assert_eq!(c("loglevel=300").loglevel(), None);
        assert_eq!(c("loglevel").loglevel(), None);
        assert_eq!(c("").console_loglevel(), CONSOLE_LOGLEVEL_DEFAULT);
        assert_eq!(c("quiet").console_loglevel(), 4);
        assert_eq!(c("debug").console_loglevel(), 10);
        assert_eq!(c("quiet loglevel=6").console_loglevel(), 6);
        assert_eq!(c("loglevel=6 quiet").console_loglevel(), 4);
        assert_eq!(c("loglevel=2 loglevel=bad").console_loglevel(), 2);
        assert!(c("quiet").quiet() && !c("quiet").debug());
        assert!(c("debug").debug());
    }

    #[test]
    fn init_and_root() {
        let line = c("root=/dev/vda1 rootfstype=ext2 init=/bin/sh rdinit=/sbin/init");
        assert_eq!(line.root(), Some("/dev/vda1"));
        assert_eq!(line.rootfstype(), Some("ext2"));
        assert_eq!(line.init(), Some("/bin/sh"));
        assert_eq!(line.rdinit(), Some("/sbin/init"));
        assert_eq!(c("").init(), None);
    }

    #[test]
    fn read_only_root() {
        assert!(c("").root_readonly());
        assert!(c("ro").root_readonly());
        assert!(!c("rw").root_readonly());
        assert!(c("rw ro").root_readonly());
        assert!(!c("ro rw").root_readonly());
        assert!(c("rw=1").root_readonly());
        assert!(c("ro").ro() && !c("ro").rw());
        assert!(c("rw").rw());
        assert!(!c("ro=1").ro());
    }

    #[test]
    fn cpus() {
        assert_eq!(c("maxcpus=4").maxcpus(), Some(4));
        assert_eq!(c("maxcpus=0x10").maxcpus(), Some(16));
        assert_eq!(c("maxcpus=").maxcpus(), None);
        assert!(!c("maxcpus=4").nosmp());
        assert!(c("maxcpus=0").nosmp());
        assert!(c("nosmp").nosmp());
        assert!(!c("").nosmp());
    }

    #[test]
    fn ktest_switch() {
        assert_eq!(c("").ktest(), None);
        assert_eq!(c("ktest").ktest(), Some(Ktest { filter: None }));
        assert_eq!(c("ktest=").ktest(), Some(Ktest { filter: None }));
        let k = c("ktest ktest=mm::buddy").ktest().expect("ktest is given");
        assert_eq!(k.filter, Some("mm::buddy"));
        assert!(k.selects("mm::buddy::split"));
        assert!(!k.selects("fs::ext2"));
        assert!(Ktest { filter: None }.selects("anything"));
    }

    #[test]
    fn mitigations_values() {
        assert_eq!(c("").mitigations(), None);
        assert_eq!(c("mitigations=off").mitigations(), Some(Mitigations::Off));
        assert_eq!(c("mitigations=auto").mitigations(), Some(Mitigations::Auto));
        assert_eq!(c("mitigations=auto,nosmt").mitigations(), Some(Mitigations::AutoNoSmt));
        assert_eq!(c("mitigations=off mitigations=bogus").mitigations(), Some(Mitigations::Off));
    }

    #[test]
    fn pti_values() {
        assert_eq!(c("").pti(), None);
        assert_eq!(c("pti=on").pti(), Some(Pti::On));
        assert_eq!(c("pti=auto").pti(), Some(Pti::Auto));
        assert_eq!(c("pti=off").pti(), Some(Pti::Off));
        assert_eq!(c("nopti").pti(), Some(Pti::Off));
        // A valid pti= wins over nopti; an invalid last pti= falls through.
        assert_eq!(c("nopti pti=on").pti(), Some(Pti::On));
        assert_eq!(c("pti=on pti=bad").pti(), None);
        assert_eq!(c("pti=on pti=bad nopti").pti(), Some(Pti::Off));
    }

    #[test]
    fn thp_values() {
        use TransparentHugepage::*;
        assert_eq!(c("").transparent_hugepage(), None);
        assert_eq!(c("transparent_hugepage=always").transparent_hugepage(), Some(Always));
        assert_eq!(c("transparent_hugepage=madvise").transparent_hugepage(), Some(Madvise));
        assert_eq!(
            c("transparent_hugepage=never transparent_hugepage=huh").transparent_hugepage(),
            Some(Never)
        );
    }

    #[test]
    fn typical_qemu_line() {
        let line = c("console=ttyS0 root=/dev/vda rw rootfstype=ext2 quiet \
                      mitigations=off -- -v");
        assert_eq!(line.console().map(|c| c.to_string()).as_deref(), Some("ttyS0"));
        assert_eq!(line.root(), Some("/dev/vda"));
        assert!(!line.root_readonly());
        assert_eq!(line.console_loglevel(), CONSOLE_LOGLEVEL_QUIET);
        assert_eq!(line.mitigations(), Some(Mitigations::Off));
        let argv: Vec<_> = line.init_argv(crate::KNOWN_PARAMS).map(|p| p.key).collect();
        assert_eq!(argv, ["-v"]);
    }
}
