//! `cargo xtask systest --terminal [--linux] [--ferrite]`: the terminal
//! tier. A newcomer's session on the serial console, typed through a real
//! pseudo-terminal on the host and checked on the screen it produces.
//!
//! Each kernel boots the root image as `cargo xtask run` boots it
//! (`root=/dev/vda rw` on a fresh copy of xtask/src/image.rs's image;
//! Linux through the disk tier's module shim, disk.rs, which `switch_root`s
//! to the same `/sbin/init`), with QEMU's serial port on a host pty
//! (`-chardev pty`, [`Machine::serial_pty`]). QEMU holds the master and
//! names the slave on its stdout; this tier opens the slave in raw mode and
//! plays the user: it waits for busybox getty's `login:` (from the image's
//! /etc/inittab), logs in as root, and goes through job control, the line
//! discipline's control characters, vi with arrow keys, stty, su, logout
//! and poweroff (the [`STEPS`]).
//!
//! Results, per kernel K: `K::terminal/STEP` for each step, with the tail
//! of the screen in a failure's reason; `K::terminal/login_prompt` also
//! prints the time from QEMU's start to `login:` and to the shell prompt.
//! A failed step is followed by a resynchronisation (^C, a marker echoed);
//! if that fails too, the remaining steps fail as "terminal lost".
//! Each screen is kept in `target/disk/run-PID/terminal-K.log`. The
//! expect-style driver of the pty is terminal/term.rs.

mod term;

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use term::Term;

use super::disk::{copy, linux_shim, out_dir};
use super::{Kernel, Outcome};
use crate::deps;
use crate::image::build_image;
use crate::qemu::Machine;

/// `cargo xtask run`'s command line for the disk root.
const CMDLINE: &str = "console=ttyS0 root=/dev/vda rw";

/// Boot to `login:`: Linux's module shim takes most of it under TCG.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(90);

/// One command's output.
const STEP_TIMEOUT: Duration = Duration::from_secs(15);

/// What the shell prints for the prompt (/etc/profile's PS1 `\u@\h:\w\$ `,
/// /etc/hostname's `ferrite`).
const ROOT_PROMPT: &str = "root@ferrite:";

/// A foreground job that announces itself once it runs: `ready` is printed
/// after the shell gave the job the terminal, so a control character sent
/// after it reaches the job, never the shell.
const JOB: &str = "sh -c 'echo ready; exec sleep 100'";

type Step = fn(&mut Term) -> Result<(), String>;

/// Where Linux's `stty` outputs are kept for Ferrite's half (in
/// `target/disk/`, beside the runs' directories).
const STTY_LINUX: &str = "terminal-linux-stty.txt";

/// The session, in order.
const STEPS: [(&str, Step); 20] = [
    ("login", login),
    ("ctrl_c", ctrl_c),
    ("ctrl_z_stopped", ctrl_z),
    ("jobs", jobs),
    ("bg", bg),
    ("fg_ctrl_c", fg_ctrl_c),
    ("cat_ctrl_d", cat_ctrl_d),
    ("line_editing", line_editing),
    ("background_read_sigttin", background_read),
    ("tostop_sigttou", tostop),
    ("vi_arrows", vi_arrows),
    ("stty_size", stty_size),
    ("stty_a_as_linux", stty_modes),
    ("su_user", su_user),
    ("ctrl_backslash_quit", ctrl_backslash),
    ("ctrl_c_at_prompt", ctrl_c_at_prompt),
    ("ctrl_s_ctrl_q", ctrl_s_ctrl_q),
    ("orphaned_pgrp_sighup", orphaned_pgrp),
    ("ctrl_d_logout", ctrl_d_logout),
    ("login_user_password", login_user),
];

/// `cargo xtask systest --terminal …` (the caller saw `--terminal`).
pub fn cmd_terminal(args: &[String]) -> Result<ExitCode, String> {
    let mut kernels = Vec::new();
    for arg in args {
        match arg.as_str() {
            "--terminal" => {}
            "--linux" => kernels.push(Kernel::Linux),
            "--ferrite" => kernels.push(Kernel::Ferrite),
            other => {
                return Err(format!(
                    "systest --terminal: unknown argument `{other}`; usage: systest --terminal [--linux] [--ferrite]"
                ));
            }
        }
    }
    if kernels.is_empty() {
        kernels = vec![Kernel::Linux, Kernel::Ferrite];
    }
    Ok(super::report(&run(&kernels)?))
}

/// The tier in `cargo xtask test`: both kernels.
pub fn tier() -> Result<Vec<Outcome>, String> {
    println!("== terminal tier (a login session through a host pty)");
    run(&[Kernel::Linux, Kernel::Ferrite])
}

fn run(kernels: &[Kernel]) -> Result<Vec<Outcome>, String> {
    deps::ensure(&[deps::QEMU])?;
    let dir = out_dir()?;
    let base = dir.join("terminal-base.ext2");
    build_image(&base)?;
    let mut outcomes = Vec::new();
    for &kernel in kernels {
        let k = kernel.prefix();
        // Built first: the time below is the session's alone.
        let image = kernel.image()?;
        let started = Instant::now();
        let img = dir.join(format!("terminal-{k}.ext2"));
        copy(&base, &img)?;
        let mut results = session(kernel, &image, &img, &dir)?;
        let failed = results.iter().filter(|o| !o.ok).count();
        eprintln!(
            "xtask: {k} terminal: {} passed, {failed} failed in {:.1} s",
            results.len() - failed,
            started.elapsed().as_secs_f64()
        );
        outcomes.append(&mut results);
    }
    Ok(outcomes)
}

/// One boot of `kernel` (built at `image`) on `img`: every step, then the
/// power-off.
fn session(kernel: Kernel, image: &Path, img: &Path, dir: &Path) -> Result<Vec<Outcome>, String> {
    let k = kernel.prefix();
    let mut machine = Machine::new(image, CMDLINE);
    machine.disk = Some(img.to_path_buf());
    machine.serial_pty = true;
    if kernel == Kernel::Linux {
        machine.initrd = Some(linux_shim()?);
    }
    eprintln!("xtask: booting {k} on {} (terminal)", img.display());
    let mut term = Term::start(&machine, kernel)?;
    let mut results = Vec::new();
    let mut record = |step: &str, r: Result<(), String>| {
        let name = format!("{k}::terminal/{step}");
        let (ok, why) = match r {
            Ok(()) => (true, String::new()),
            Err(why) => (false, why),
        };
        results.push(Outcome { name, ok, why });
    };
    let prompt = term.expect_within("login:", LOGIN_TIMEOUT).map(|at| {
        eprintln!("xtask: {k}: login: after {:.2} s", at.as_secs_f64());
    });
    let booted = prompt.is_ok();
    record("login_prompt", prompt);
    let mut lost = if booted { None } else { Some("no login prompt") };
    for (name, step) in STEPS {
        if let Some(why) = lost {
            record(name, Err(format!("terminal lost: {why}")));
            continue;
        }
        let began = Instant::now();
        let r = step(&mut term).map_err(|why| format!("{why}; screen:\n{}", term.tail()));
        eprintln!("xtask: {k}: {name} took {:.1} s", began.elapsed().as_secs_f64());
        let failed = r.is_err();
        record(name, r);
        if failed && term.resync().is_err() {
            lost = Some("no shell after a failed step");
        }
    }
    let began = Instant::now();
    let off = if lost.is_some() { Err("terminal lost".to_string()) } else { poweroff(&mut term) };
    eprintln!("xtask: {k}: poweroff took {:.1} s", began.elapsed().as_secs_f64());
    record("poweroff", off);
    let _ = std::fs::write(dir.join(format!("terminal-{k}.log")), &term.screen);
    Ok(results)
}

// The steps. Each leaves the root shell at a fresh prompt.

fn login(t: &mut Term) -> Result<(), String> {
    t.send("root\r");
    let at = t.expect_prompt()?;
    eprintln!("xtask: shell prompt after {:.2} s", at.as_secs_f64());
    t.run("echo home=$HOME tty=$(tty)", "home=/root tty=/dev/ttyS0")
}

fn ctrl_c(t: &mut Term) -> Result<(), String> {
    start_job(t)?;
    t.send("\x03");
    t.expect("^C")?;
    t.expect_prompt()?;
    t.run("echo status=$?", "status=130")
}

fn ctrl_z(t: &mut Term) -> Result<(), String> {
    start_job(t)?;
    t.send("\x1a");
    t.expect("^Z")?;
    t.expect("[1]+  Stopped")?;
    t.expect_prompt().map(drop)
}

fn jobs(t: &mut Term) -> Result<(), String> {
    t.run("jobs", "[1]+  Stopped")
}

fn bg(t: &mut Term) -> Result<(), String> {
    t.run("bg", "[1] sh -c")?;
    t.run("jobs", "[1]+  Running")
}

fn fg_ctrl_c(t: &mut Term) -> Result<(), String> {
    t.send("fg\r");
    t.expect("exec sleep 100")?;
    // fg prints the job before handing it the terminal.
    std::thread::sleep(Duration::from_secs(1));
    t.send("\x03");
    t.expect_prompt()?;
    t.run("echo status=$?", "status=130")?;
    t.run("jobs; echo jobs-done", "jobs-done")
}

fn cat_ctrl_d(t: &mut Term) -> Result<(), String> {
    t.send("cat\r");
    t.expect("cat\r\n")?;
    // Typed ahead, the line would reach the shell's raw mode (no echo).
    std::thread::sleep(Duration::from_secs(1));
    t.send("hello tty\r");
    // Echoed by the line discipline, then written back by cat.
    t.expect("hello tty\r\nhello tty\r\n")?;
    t.send("\x04");
    t.expect_prompt()?;
    t.run("echo status=$?", "status=0")
}

/// The canonical-mode editing characters, through `cat`: what it writes
/// back is the edited line (the echo has the erasures as backspaces).
fn line_editing(t: &mut Term) -> Result<(), String> {
    // getty leaves IEXTEN off, which ^W, ^V and ^R need.
    t.send("stty iexten; cat; stty -iexten\r");
    t.expect("-iexten\r\n")?;
    std::thread::sleep(Duration::from_secs(1));
    // VWERASE, VKILL, VLNEXT (a literal ^C), VREPRINT, VERASE.
    for (keys, line) in [
        ("one two\x17three\r", "one three\r\n"),
        ("junk\x15ok\r", "ok\r\n"),
        ("a\x16\x03b\r", "a\x03b\r\n"),
        ("xy\x12z\r", "xy^R\r\nxyz\r\nxyz\r\n"),
        ("abcd\x7f\x7fe\r", "abe\r\n"),
    ] {
        t.send(keys);
        t.expect(line)?;
    }
    t.send("\x04");
    t.expect_prompt().map(drop)
}

fn background_read(t: &mut Term) -> Result<(), String> {
    t.send("cat &\r");
    t.expect_prompt()?;
    // `jobs` lists the stop even if the shell reported it already.
    t.run("sleep 1; jobs", "Stopped (tty input)")?;
    kill_job(t)
}

fn tostop(t: &mut Term) -> Result<(), String> {
    t.run("stty tostop; (sleep 1; echo written) & sleep 2; jobs", "Stopped (tty output)")?;
    kill_job(t)?;
    t.run("stty -tostop; (sleep 1; echo written-late) & wait", "written-late")
}

fn vi_arrows(t: &mut Term) -> Result<(), String> {
    t.send("rm -f /tmp/f; vi /tmp/f\r");
    // The empty lines' tildes: vi is up (it flushes input typed earlier).
    t.expect("~\x1b[")?;
    t.pause();
    // Insert two lines, leave insert mode (alone: vi waits to tell a bare
    // ESC from an arrow key's ESC [ A).
    t.send("i");
    t.pause();
    t.send("alpha\rgamma");
    t.pause();
    t.send("\x1b");
    t.pause();
    // Up to "alpha", open "beta" below it, down to "gamma", then to its
    // second character with right, right, left, and delete it.
    for keys in ["\x1b[A", "obeta", "\x1b", "\x1b[B", "0", "\x1b[C", "\x1b[C", "\x1b[D", "x"] {
        t.send(keys);
        t.pause();
    }
    t.send(":wq\r");
    t.expect_prompt()?;
    t.run("cat /tmp/f; echo end-of-f", "alpha\r\nbeta\r\ngmma\r\nend-of-f")
}

fn stty_size(t: &mut Term) -> Result<(), String> {
    t.run("stty rows 30 cols 100; stty size", "30 100")?;
    t.run("stty rows 24 cols 80; stty size", "24 80")
}

/// `stty -a` at the login's settings, after `stty raw -echo` and after
/// `stty sane`, compared with what Linux printed in the same tier (kept in
/// [`STTY_LINUX`]); Linux's run only records it.
fn stty_modes(t: &mut Term) -> Result<(), String> {
    t.run("s=$(stty -g); echo saved", "saved")?;
    let mut printed = String::new();
    for (i, command) in
        ["stty -a", "stty raw -echo; stty -a; stty $s", "stty sane; stty -a; stty $s"]
            .into_iter()
            .enumerate()
    {
        let marker = format!("end-{i}");
        let output = t.capture(&format!("{command}; echo {marker}"), &marker)?;
        printed += &format!("$ {command}\n{output}");
    }
    let path = out_dir()?.with_file_name(STTY_LINUX);
    if t.kernel == Kernel::Linux {
        return std::fs::write(&path, printed).map_err(|e| format!("{}: {e}", path.display()));
    }
    let linux = std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: {e} (Linux's half records it)", path.display()))?;
    if printed == linux {
        return Ok(());
    }
    Err(format!(
        "stty differs from Linux's (-Linux, +{}):\n{}",
        t.kernel.prefix(),
        diff(&linux, &printed)
    ))
}

fn su_user(t: &mut Term) -> Result<(), String> {
    t.send("su user\r");
    t.expect("user@ferrite:")?;
    t.send("id\r");
    t.expect("uid=1000(user) gid=100(users)")?;
    // user's password, checked against /etc/shadow's SHA-512 crypt hash.
    t.send("su user -c 'echo again $(id -u)'\r");
    t.expect("Password:")?;
    // su prints the prompt before it turns the echo off.
    std::thread::sleep(Duration::from_secs(1));
    t.send("user\r");
    t.expect("again 1000")?;
    t.send("exit\r");
    t.expect_prompt().map(drop)
}

/// ^\\ to `cat`, once it has written a line back: a `sh -c` job would not
/// do, the shell ignores SIGQUIT until it execs.
fn ctrl_backslash(t: &mut Term) -> Result<(), String> {
    t.send("cat\r");
    t.expect("cat\r\n")?;
    std::thread::sleep(Duration::from_secs(1));
    t.send("alive\r");
    t.expect("alive\r\nalive\r\n")?;
    t.send("\x1c");
    t.expect("Quit\r\n")?;
    t.expect_prompt()?;
    t.run("echo status=$?", "status=131")
}

fn ctrl_c_at_prompt(t: &mut Term) -> Result<(), String> {
    t.send("echo never");
    t.pause();
    t.send("\x03");
    t.expect_prompt()?;
    t.run("echo after", "after")?;
    match t.screen_text().contains("\nnever") {
        true => Err("the interrupted line ran".into()),
        false => Ok(()),
    }
}

/// VSTOP (^S, IXON) holds the output, the shell's echo included, until
/// VSTART (^Q).
fn ctrl_s_ctrl_q(t: &mut Term) -> Result<(), String> {
    t.send("\x13");
    t.read_for(Duration::from_millis(400));
    let before = t.screen.len();
    t.send("echo held-$((40+2))\r");
    t.read_for(Duration::from_secs(2));
    if t.screen.len() != before {
        return Err("output went on after ^S".into());
    }
    t.send("\x11");
    t.expect("held-42\r\n")?;
    t.expect_prompt().map(drop)
}

/// A stopped process whose group loses its last parent in the session (the
/// `sh -c` that started it exits) gets SIGHUP and SIGCONT, and dies of the
/// SIGHUP.
fn orphaned_pgrp(t: &mut Term) -> Result<(), String> {
    // The last sleep lets the stop take effect before sh exits.
    t.run("sh -c 'sleep 100 & echo $! >/tmp/p; kill -STOP $!; sleep 1'", "")?;
    t.run("sleep 1; kill -0 $(cat /tmp/p) || echo hung-up", "hung-up")
}

fn ctrl_d_logout(t: &mut Term) -> Result<(), String> {
    t.send("\x04");
    // getty respawns for the next login.
    t.expect("login:")?;
    t.send("root\r");
    t.expect_prompt().map(drop)
}

/// The unprivileged login: its password, its home, the tty given to it
/// (login's fchown and fchmod), then back to root for the power-off.
fn login_user(t: &mut Term) -> Result<(), String> {
    t.send("\x04");
    t.expect("login:")?;
    t.send("user\r");
    t.expect("Password:")?;
    std::thread::sleep(Duration::from_secs(1));
    t.send("user\r");
    t.expect("user@ferrite:~$ ")?;
    t.send("echo $HOME $(id -un) $(stat -c %U:%G:%a $(tty))\r");
    t.expect("/home/user user user:users:600\r\n")?;
    // At the prompt: a ^D typed ahead would reach the line discipline in
    // canonical mode, where it ends a line the shell then reads as empty.
    t.expect("user@ferrite:~$ ")?;
    t.pause();
    t.send("\x04");
    t.expect("login:")?;
    t.send("root\r");
    t.expect_prompt().map(drop)
}

fn poweroff(t: &mut Term) -> Result<(), String> {
    t.send("poweroff\r");
    match t.wait_exit(Duration::from_secs(60)) {
        Some(0) => Ok(()),
        other => {
            Err(format!("QEMU did not exit 0 after poweroff: {other:?}; screen:\n{}", t.tail()))
        }
    }
}

/// Starts [`JOB`] in the foreground and waits until it has the terminal.
fn start_job(t: &mut Term) -> Result<(), String> {
    t.send(&format!("{JOB}\r"));
    t.expect("ready\r\n").map(drop)
}

/// Kills job 1 (stopped or not) and reaps it.
fn kill_job(t: &mut Term) -> Result<(), String> {
    t.run("kill -9 %1; wait; echo killed", "killed")
}

/// The lines that differ, as `-expected` / `+actual` pairs.
fn diff(expected: &str, actual: &str) -> String {
    let (exp, act): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let mut out = String::new();
    for i in 0..exp.len().max(act.len()) {
        let (e, a) = (exp.get(i).copied(), act.get(i).copied());
        if e != a {
            out += &format!("-{}\n+{}\n", e.unwrap_or("(none)"), a.unwrap_or("(none)"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn diff_pairs_the_differing_lines() {
        assert_eq!(super::diff("a\nb\nc\n", "a\nB\nc\n"), "-b\n+B\n");
        assert_eq!(super::diff("a\n", "a\nextra\n"), "-(none)\n+extra\n");
        assert_eq!(super::diff("same\n", "same\n"), "");
    }
}
