//! The ChaCha20 block function (RFC 7539) and the random-number generator
//! Linux builds on it.
//!
//! Linux: lib/crypto/chacha.c (`chacha_block_generic`), drivers/char/random.c
//! (`crng_fast_key_erasure`, `crng_make_state`).
//!
//! Key types: [`Crng`], a 256-bit key that is replaced after every request
//! ("fast key erasure"): the first half of the first block becomes the next
//! key, so output already handed out cannot be recomputed from a later
//! compromise of the state. Entropy is folded in with [`Crng::mix`].
//!
//! Not here (the kernel's part): collecting entropy (RDSEED/RDRAND, timing
//! jitter) and the lock around the generator.
//!
//! Locking: none inside; `&mut Crng` is proof the caller's lock is held.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

/// Bytes in one ChaCha20 block (Linux: `CHACHA_BLOCK_SIZE`).
pub const CHACHA_BLOCK_SIZE: usize = 64;
/// Bytes in a key (Linux: `CHACHA_KEY_SIZE`).
pub const CHACHA_KEY_SIZE: usize = 32;

/// "expand 32-byte k", the first row of the state.
const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

fn quarter_round(s: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(16);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(12);
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(8);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(7);
}

fn le_words<const N: usize>(bytes: &[u8]) -> [u32; N] {
    core::array::from_fn(|i| {
        let w = &bytes[4 * i..4 * i + 4];
        u32::from_le_bytes([w[0], w[1], w[2], w[3]])
    })
}

/// One 64-byte block of key stream for `key`, block `counter` and `nonce`
/// (RFC 7539 §2.3: 20 rounds, then the input added back in).
pub fn chacha20_block(
    key: &[u8; CHACHA_KEY_SIZE],
    counter: u32,
    nonce: &[u8; 12],
) -> [u8; CHACHA_BLOCK_SIZE] {
    let k: [u32; 8] = le_words(key);
    let n: [u32; 3] = le_words(nonce);
    let input = [
        SIGMA[0], SIGMA[1], SIGMA[2], SIGMA[3], k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7],
        counter, n[0], n[1], n[2],
    ];
    let mut s = input;
    for _ in 0..10 {
        quarter_round(&mut s, 0, 4, 8, 12);
        quarter_round(&mut s, 1, 5, 9, 13);
        quarter_round(&mut s, 2, 6, 10, 14);
        quarter_round(&mut s, 3, 7, 11, 15);
        quarter_round(&mut s, 0, 5, 10, 15);
        quarter_round(&mut s, 1, 6, 11, 12);
        quarter_round(&mut s, 2, 7, 8, 13);
        quarter_round(&mut s, 3, 4, 9, 14);
    }
    let mut out = [0u8; CHACHA_BLOCK_SIZE];
    for (i, chunk) in out.chunks_exact_mut(4).enumerate() {
        chunk.copy_from_slice(&s[i].wrapping_add(input[i]).to_le_bytes());
    }
    out
}

/// A ChaCha20 random-number generator with fast key erasure (Linux: the
/// `base_crng`/per-CPU `crng` pair, collapsed into one).
#[derive(Clone)]
pub struct Crng {
    key: [u8; CHACHA_KEY_SIZE],
    /// Counts requests; used as the nonce so two requests never share a
    /// key stream even if a key were to repeat.
    generation: u64,
}

impl Crng {
    /// A generator keyed with `seed`, which should hold 256 bits of entropy.
    pub const fn new(seed: [u8; CHACHA_KEY_SIZE]) -> Self {
        Self { key: seed, generation: 0 }
    }

    fn nonce(&self) -> [u8; 12] {
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&self.generation.to_le_bytes());
        nonce
    }

    /// Folds `entropy` into the key: XOR it in, then run the key through
    /// the block function so that every output bit depends on every input
    /// bit (Linux extracts with BLAKE2s; ChaCha20 as a PRF serves here).
    pub fn mix(&mut self, entropy: &[u8]) {
        for (i, b) in entropy.iter().enumerate() {
            self.key[i % CHACHA_KEY_SIZE] ^= b;
        }
        self.generation = self.generation.wrapping_add(1);
        let block = chacha20_block(&self.key, u32::MAX, &self.nonce());
        self.key.copy_from_slice(&block[..CHACHA_KEY_SIZE]);
    }

    /// Fills `out` with random bytes (Linux: `crng_fast_key_erasure` then
    /// `chacha20_block` in a loop, as `get_random_bytes` does).
    pub fn fill(&mut self, out: &mut [u8]) {
        self.generation = self.generation.wrapping_add(1);
        let nonce = self.nonce();
        let first = chacha20_block(&self.key, 0, &nonce);
        let old_key = self.key;
        self.key.copy_from_slice(&first[..CHACHA_KEY_SIZE]);
        let (head, rest) = out.split_at_mut(out.len().min(CHACHA_BLOCK_SIZE - CHACHA_KEY_SIZE));
        head.copy_from_slice(&first[CHACHA_KEY_SIZE..CHACHA_KEY_SIZE + head.len()]);
        // A request longer than 2^32 blocks (256 GiB) wraps the counter;
        // callers cap requests far below that.
        for (i, chunk) in rest.chunks_mut(CHACHA_BLOCK_SIZE).enumerate() {
            let counter = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let block = chacha20_block(&old_key, counter, &nonce);
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 7539 §2.3.2: the block function test vector.
    #[test]
    fn rfc7539_block_vector() {
        let key: [u8; 32] = core::array::from_fn(|i| u8::try_from(i).expect("i < 32"));
        let nonce = [0, 0, 0, 0x09, 0, 0, 0, 0x4a, 0, 0, 0, 0];
        let expected: [u8; 64] = [
            0x10, 0xf1, 0xe7, 0xe4, 0xd1, 0x3b, 0x59, 0x15, 0x50, 0x0f, 0xdd, 0x1f, 0xa3, 0x20,
            0x71, 0xc4, 0xc7, 0xd1, 0xf4, 0xc7, 0x33, 0xc0, 0x68, 0x03, 0x04, 0x22, 0xaa, 0x9a,
            0xc3, 0xd4, 0x6c, 0x4e, 0xd2, 0x82, 0x64, 0x46, 0x07, 0x9f, 0xaa, 0x09, 0x14, 0xc2,
            0xd7, 0x05, 0xd9, 0x8b, 0x02, 0xa2, 0xb5, 0x12, 0x9c, 0xd1, 0xde, 0x16, 0x4e, 0xb9,
            0xcb, 0xd0, 0x83, 0xe8, 0xa2, 0x50, 0x3c, 0x4e,
        ];
        assert_eq!(chacha20_block(&key, 1, &nonce), expected);
    }

    /// RFC 7539 §2.4.2 first block: key stream of counter 1, zero-padded
    /// nonce ending in 0x4a, used by the encryption example.
    #[test]
    fn rfc7539_encryption_keystream() {
        let key: [u8; 32] = core::array::from_fn(|i| u8::try_from(i).expect("i < 32"));
        let nonce = [0, 0, 0, 0, 0, 0, 0, 0x4a, 0, 0, 0, 0];
        let plain = b"Ladies and Gentlemen of the clas";
        let expected = [
            0x6e, 0x2e, 0x35, 0x9a, 0x25, 0x68, 0xf9, 0x80, 0x41, 0xba, 0x07, 0x28, 0xdd, 0x0d,
            0x69, 0x81,
        ];
        let ks = chacha20_block(&key, 1, &nonce);
        let cipher: Vec<u8> = plain.iter().zip(ks).map(|(p, k)| p ^ k).take(16).collect();
        assert_eq!(cipher, expected);
    }

    #[test]
    fn requests_differ_and_key_is_erased() {
        let mut crng = Crng::new([7; 32]);
        let (mut a, mut b) = ([0u8; 48], [0u8; 48]);
        crng.fill(&mut a);
        let key_after_first = crng.key;
        crng.fill(&mut b);
        assert_ne!(a, b);
        assert_ne!(key_after_first, [7; 32]);
        assert_ne!(key_after_first, crng.key);
    }

    #[test]
    fn mixing_changes_the_stream() {
        let (mut x, mut y) = (Crng::new([1; 32]), Crng::new([1; 32]));
        y.mix(b"jitter");
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        x.fill(&mut a);
        y.fill(&mut b);
        assert_ne!(a, b);
    }

    proptest! {
        /// Any length is filled completely, and no 64-byte block repeats
        /// inside one request.
        #[test]
        fn fill_any_length(len in 0usize..1000, seed in any::<[u8; 32]>()) {
            let mut crng = Crng::new(seed);
            let mut out = vec![0u8; len];
            crng.fill(&mut out);
            let blocks: Vec<&[u8]> = out.chunks_exact(64).collect();
            for (i, a) in blocks.iter().enumerate() {
                for b in &blocks[i + 1..] {
                    prop_assert_ne!(a, b);
                }
            }
        }
    }
}
