//! A small seedable generator (xorshift64*) for jitter, States.MathRandom and
//! States.UUID, so that a run can be replayed exactly from its seed.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug)]
pub struct Rng(AtomicU64);

impl Rng {
    pub const fn new(seed: u64) -> Rng {
        Rng(AtomicU64::new(if seed == 0 { 1 } else { seed }))
    }

    /// Starts the sequence again from `seed`.
    pub fn reseed(&self, seed: u64) {
        self.0.store(seed.max(1), Ordering::Relaxed);
    }

    pub fn next_u64(&self) -> u64 {
        let mut x = self.0.load(Ordering::Relaxed);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0.store(x, Ordering::Relaxed);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn uuid_v4(&self) -> String {
        let (a, b) = (self.next_u64(), self.next_u64());
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&a.to_be_bytes());
        bytes[8..].copy_from_slice(&b.to_be_bytes());
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(36);
        for (i, b) in bytes.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                out.push('-');
            }
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        out
    }
}
