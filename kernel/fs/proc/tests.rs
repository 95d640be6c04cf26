//! Self-tests of procfs's formats: each file is rendered and parsed back
//! the way `ps`, `free` and `uptime` read it.
#![deny(unsafe_code)]

use alloc::vec::Vec;

use super::array::{proc_pid_status, proc_tgid_stat};
use super::generic::{name_to_int, render};
use super::meminfo::meminfo_proc_show;
use super::uptime::{loadavg_proc_show, uptime_proc_show};
use crate::kassert;
use crate::kernel::errno::Errno;
use crate::kernel::sched::current;

fn text(bytes: &[u8]) -> Result<&str, &'static str> {
    core::str::from_utf8(bytes).map_err(|_| "rendered text is UTF-8")
}

crate::ktest!(proc_pid_stat_has_52_fields, {
    let task = current();
    let stat = render(|m| proc_tgid_stat(&task, m)).map_err(|_| "render stat")?;
    let line = text(&stat)?;
    kassert!(line.ends_with('\n'), "one line");
    let close = line.rfind(')').ok_or("comm in parentheses")?;
    let head: Vec<&str> = line[..close].splitn(2, " (").collect();
    kassert!(head.len() == 2, "pid (comm");
    kassert!(head[0].parse::<i32>().ok() == Some(task.tgid), "field 1 is the tgid");
    let rest: Vec<&str> = line[close + 1..].split_whitespace().collect();
    kassert!(rest.len() == 50, "52 fields in all");
    kassert!(rest[0] == "R", "field 3: the running task's state letter");
    kassert!(rest[1].parse::<i32>().ok() == Some(task.ppid()), "field 4 is the ppid");
    // Field N is rest[N - 3].
    kassert!(rest[16].parse::<i32>().ok() == Some(task.nice()), "field 19 is nice");
    let prio = rest[15].parse::<i32>().map_err(|_| "field 18 is a number")?;
    kassert!(prio == task.nice() + 20 || prio < 0, "field 18: priority, 20 + nice or RT");
    kassert!(rest[17] == "1", "field 20: one thread");
    Ok(())
});

crate::ktest!(proc_pid_status_lines, {
    let task = current();
    let status = render(|m| proc_pid_status(&task, m)).map_err(|_| "render status")?;
    let status = text(&status)?;
    kassert!(status.starts_with("Name:\t"), "Name first");
    kassert!(status.contains("\nState:\tR (running)\n"), "State line");
    kassert!(status.contains("\nUid:\t0\t0\t0\t0\n"), "four uids");
    kassert!(status.contains("\nSigBlk:\t0000000000000000\n"), "16-digit masks");
    for line in status.lines() {
        kassert!(line.split_once(":\t").is_some(), "every line is Name:\\tvalue");
    }
    Ok(())
});

crate::ktest!(proc_meminfo_format, {
    let info = render(meminfo_proc_show).map_err(|_| "render meminfo")?;
    let info = text(&info)?;
    let value = |name: &str| -> Option<u64> {
        let line = info.lines().find(|l| l.starts_with(name))?;
        line[16..].trim_end_matches(" kB").trim().parse().ok()
    };
    let total = value("MemTotal:").ok_or("MemTotal")?;
    let free = value("MemFree:").ok_or("MemFree")?;
    kassert!(total > 0 && free <= total, "free within total");
    kassert!(value("MemAvailable:").is_some() && value("Cached:").is_some(), "fields");
    kassert!(info.lines().nth(1).is_some_and(|l| l.len() == 27), "%-16s%8lu kB");
    Ok(())
});

crate::ktest!(proc_uptime_and_loadavg_format, {
    let up = render(uptime_proc_show).map_err(|_| "render uptime")?;
    let fields: Vec<&str> = text(&up)?.split_whitespace().collect();
    kassert!(fields.len() == 2, "two figures");
    for f in &fields {
        let (secs, centis) = f.split_once('.').ok_or("SEC.CC")?;
        kassert!(secs.parse::<u64>().is_ok() && centis.len() == 2, "SEC.CC");
    }
    let load = render(loadavg_proc_show).map_err(|_| "render loadavg")?;
    let fields: Vec<&str> = text(&load)?.split_whitespace().collect();
    kassert!(fields.len() == 5 && fields[3].contains('/'), "a b c R/T last");
    Ok(())
});

crate::ktest!(proc_names_are_plain_decimal, {
    kassert!(name_to_int(b"42") == Some(42), "42");
    kassert!(name_to_int(b"0") == Some(0), "0");
    kassert!(name_to_int(b"042").is_none(), "no leading zero");
    kassert!(name_to_int(b"4a").is_none() && name_to_int(b"").is_none(), "digits only");
    kassert!(name_to_int(b"99999999999").is_none(), "overflow");
    Ok(())
});

crate::ktest!(proc_sysctl_int_minmax, {
    use super::proc_sysctl::{CtlTable, proc_sys_show, proc_sys_write};
    use core::sync::atomic::{AtomicU32, Ordering};
    static VALUE: AtomicU32 = AtomicU32::new(20);
    static TABLE: CtlTable = CtlTable::int("test/ratio", &VALUE, 0, 100);
    kassert!(current().cred().euid == 0, "ktests run as root");
    kassert!(proc_sys_write(&TABLE, b"42\n", 0) == Ok(3), "in range");
    kassert!(VALUE.load(Ordering::Relaxed) == 42, "stored");
    for bad in [&b"101\n"[..], b"-1", b"ten", b"4 2", b""] {
        kassert!(proc_sys_write(&TABLE, bad, 0) == Err(Errno::EINVAL), "EINVAL");
    }
    kassert!(proc_sys_write(&TABLE, b"7", 3) == Ok(1), "a later write is ignored");
    let text = render(|m| proc_sys_show(&TABLE, m)).map_err(|_| "render")?;
    kassert!(text == b"42\n", "read back");
    Ok(())
});

crate::ktest!(proc_sysctl_tree, {
    use super::generic::ProcKind;
    use super::proc_sysctl::{sysctl_entries, sysctl_lookup};
    kassert!(matches!(sysctl_lookup("", b"kernel"), Some(ProcKind::SysDir("kernel"))), "dir");
    kassert!(matches!(sysctl_lookup("kernel", b"hostname"), Some(ProcKind::SysFile(_))), "file");
    kassert!(
        matches!(sysctl_lookup("kernel", b"random"), Some(ProcKind::SysDir("kernel/random"))),
        "nested dir"
    );
    kassert!(sysctl_lookup("kernel", b"host").is_none(), "no partial names");
    kassert!(sysctl_lookup("", b"kernel/hostname").is_none(), "one component");
    let names: Vec<&str> =
        sysctl_entries("kernel").map_err(|_| "entries")?.iter().map(|e| e.name).collect();
    kassert!(names.windows(2).all(|w| w[0] < w[1]), "sorted, no duplicates");
    kassert!(names.contains(&"random") && names.contains(&"ostype"), "children");
    Ok(())
});

crate::ktest!(proc_buddyinfo_and_slabinfo_format, {
    let info = render(super::vmstat::buddyinfo_show).map_err(|_| "render buddyinfo")?;
    let line = text(&info)?;
    kassert!(line.starts_with("Node 0, zone   Normal ") && line.ends_with(" \n"), "head");
    let counts: Vec<&str> = line["Node 0, zone   Normal".len()..].split_whitespace().collect();
    kassert!(counts.len() == 11 && counts.iter().all(|c| c.parse::<u64>().is_ok()), "11 orders");
    let slab = render(super::slabinfo::slabinfo_show).map_err(|_| "render slabinfo")?;
    let slab = text(&slab)?;
    kassert!(slab.starts_with("slabinfo - version: 2.1\n# name "), "header");
    let row = slab.lines().find(|l| l.starts_with("kmalloc-64 ")).ok_or("kmalloc-64 row")?;
    let fields: Vec<&str> = row.split_whitespace().collect();
    kassert!(fields.len() == 16 && fields[3] == "64" && fields[4] == "64", "objsize, objperslab");
    kassert!(fields[6] == ":" && fields[7] == "tunables" && fields[12] == "slabdata", "columns");
    Ok(())
});
