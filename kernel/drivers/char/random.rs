//! The kernel's random-number generator and `getrandom(2)`.
//!
//! Linux: drivers/char/random.c (`get_random_bytes`, `getrandom`,
//! `crng_reseed`, `random_init`, `try_to_generate_entropy`),
//! arch/x86/include/asm/archrandom.h (`rdseed_long`, `rdrand_long`).
//!
//! One ChaCha20 generator with fast key erasure (`libs/chacha`'s `Crng`,
//! Linux's `base_crng`), seeded on first use and reseeded every
//! [`CRNG_RESEED_INTERVAL_NS`] from RDSEED (or RDRAND) when the CPU has
//! them, always mixed with TSC jitter: the low bits of the time-stamp
//! counter sampled around work of varying length (Linux's jitter entropy
//! fallback). Requests are served in chunks so the lock is never held
//! across a user copy.
//!
//! # Locking
//! `BASE_CRNG` (Linux: `base_crng.lock`) is an IRQ-safe spinlock held only
//! to draw one chunk; it nests inside nothing and takes nothing.

use chacha::{CHACHA_KEY_SIZE, Crng};
use linux_raw_sys::general::{GRND_INSECURE, GRND_NONBLOCK, GRND_RANDOM};

use crate::arch::cpu::{X86Feature, boot_cpu_has};
use crate::arch::tsc::rdtsc;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::syscall::args::{UserPtr, UserSliceMut};
use crate::kernel::time::{NSEC_PER_SEC, ktime_get_ns};

/// Linux: `CRNG_RESEED_INTERVAL` (60 s once the pool is initialised).
pub const CRNG_RESEED_INTERVAL_NS: u64 = 60 * NSEC_PER_SEC;
/// Bytes drawn under the lock at a time.
const CHUNK: usize = 256;
/// Linux: `MAX_RW_COUNT`, the most one read(2)-like call returns.
const MAX_RW_COUNT: usize = 0x7fff_f000;

struct BaseCrng {
    crng: Crng,
    birth_ns: u64,
}

static BASE_CRNG: SpinLock<Option<BaseCrng>> = SpinLock::new(None);

bitflags::bitflags! {
    /// getrandom(2)'s flags (Linux: `GRND_*`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct GrndFlags: u32 {
        const NONBLOCK = GRND_NONBLOCK;
        const RANDOM = GRND_RANDOM;
        const INSECURE = GRND_INSECURE;
    }
}
crate::syscall_flags!(GrndFlags);

/// One RDSEED (or, failing that, RDRAND) word, if the CPU gives one
/// (Linux: `arch_get_random_seed_longs`, `arch_get_random_longs`).
fn arch_random_long() -> Option<u64> {
    if boot_cpu_has(X86Feature::RDSEED)
        && let Some(v) = rdrand_or_rdseed(true)
    {
        return Some(v);
    }
    if boot_cpu_has(X86Feature::RDRAND) {
        return rdrand_or_rdseed(false);
    }
    None
}

/// Linux retries RDRAND ten times (`RDRAND_RETRY_LOOPS`).
fn rdrand_or_rdseed(seed: bool) -> Option<u64> {
    for _ in 0..10 {
        let value: u64;
        let ok: u8;
        if seed {
            // SAFETY: the caller checked CPUID for RDSEED; it only writes
            // the output register and CF.
            unsafe {
                core::arch::asm!("rdseed {}", "setc {}", out(reg) value, out(reg_byte) ok, options(nomem, nostack))
            };
        } else {
            // SAFETY: the caller checked CPUID for RDRAND; as above.
            unsafe {
                core::arch::asm!("rdrand {}", "setc {}", out(reg) value, out(reg_byte) ok, options(nomem, nostack))
            };
        }
        if ok != 0 {
            return Some(value);
        }
    }
    None
}

/// 32 bytes of seed: CPU randomness where there is some, XORed with the
/// low bits of the TSC read around a busy loop whose length depends on
/// the previous reading (Linux: `try_to_generate_entropy`, simplified).
fn gather_seed() -> [u8; CHACHA_KEY_SIZE] {
    let mut seed = [0u8; CHACHA_KEY_SIZE];
    for (i, word) in seed.chunks_exact_mut(8).enumerate() {
        let mut jitter = rdtsc();
        for _ in 0..16 {
            let spins = (jitter & 0xff) + 1;
            for _ in 0..spins {
                core::hint::spin_loop();
            }
            jitter = jitter.rotate_left(7) ^ rdtsc();
        }
        let arch = arch_random_long().unwrap_or(0);
        let mixed = (jitter ^ arch).wrapping_add(i as u64);
        word.copy_from_slice(&mixed.to_le_bytes());
    }
    seed
}

/// Fills `out` from the generator, seeding or reseeding it when due
/// (Linux: `get_random_bytes`). Any length: the lock is taken per chunk.
pub fn get_random_bytes(out: &mut [u8]) {
    for chunk in out.chunks_mut(CHUNK) {
        get_random_chunk(chunk);
    }
}

fn get_random_chunk(out: &mut [u8]) {
    let now = ktime_get_ns();
    // Gather outside the lock: it spins a while.
    let needs_seed = BASE_CRNG
        .lock()
        .as_ref()
        .is_none_or(|b| now.saturating_sub(b.birth_ns) > CRNG_RESEED_INTERVAL_NS);
    let fresh = needs_seed.then(gather_seed);
    let mut base = BASE_CRNG.lock();
    let state = match (base.as_mut(), fresh) {
        (Some(b), Some(seed)) => {
            b.crng.mix(&seed);
            b.birth_ns = now;
            b
        }
        (Some(b), None) => b,
        (None, seed) => base
            .insert(BaseCrng { crng: Crng::new(seed.unwrap_or_else(gather_seed)), birth_ns: now }),
    };
    state.crng.fill(out);
}

/// getrandom(2). The generator is seeded from the start, so `GRND_RANDOM`
/// and `GRND_NONBLOCK` never block or fail (Linux since 5.6 / 5.18);
/// `GRND_INSECURE` with `GRND_RANDOM` is `EINVAL`, as there.
pub fn sys_getrandom(buf: UserPtr<u8>, count: usize, flags: GrndFlags) -> KResult<usize> {
    if flags.contains(GrndFlags::INSECURE | GrndFlags::RANDOM) {
        return Err(Errno::EINVAL);
    }
    let mut dst = UserSliceMut::new(buf, count.min(MAX_RW_COUNT))?;
    let mut chunk = [0u8; CHUNK];
    while dst.remaining() > 0 {
        let n = dst.remaining().min(CHUNK);
        get_random_bytes(&mut chunk[..n]);
        if let Err(e) = dst.write(&chunk[..n]) {
            // Linux returns what was copied before a fault, if anything.
            return if dst.written() > 0 { Ok(dst.written()) } else { Err(e) };
        }
        // Integration: stop early with what was written on a pending
        // signal, and `cond_resched()`, every page (Linux: `get_random_bytes_user`).
    }
    chunk.fill(0);
    Ok(dst.written())
}

crate::ktest!(getrandom_differs_between_calls, {
    let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
    get_random_bytes(&mut a);
    get_random_bytes(&mut b);
    crate::kassert!(a != b, "two draws differ");
    crate::kassert!(a != [0; 64], "not all zero");
    crate::kassert!(
        <GrndFlags as crate::kernel::syscall::args::FromSyscallArg>::from_arg(8)
            == Err(Errno::EINVAL),
        "unknown flag"
    );
    let both = GrndFlags::INSECURE | GrndFlags::RANDOM;
    let null = UserPtr::new(crate::arch::uaccess::UserAddr::new(0));
    crate::kassert!(sys_getrandom(null, 0, both) == Err(Errno::EINVAL), "INSECURE|RANDOM");
    crate::kassert!(sys_getrandom(null, 0, GrndFlags::empty()) == Ok(0), "empty request");
    crate::kassert!(sys_getrandom(null, 16, GrndFlags::empty()) == Err(Errno::EFAULT), "NULL");
    Ok(())
});
