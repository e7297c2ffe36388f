//! mimalloc as a Rust global allocator, asked for plain blocks (`mi_malloc`)
//! wherever a plain block is aligned enough, as C programs ask for them.
//!
//! Why not `mimalloc::MiMalloc`: it sends every request to
//! `mi_malloc_aligned`. When the free list of a size is empty, mimalloc 3
//! serves an aligned request whose block size is not a power of two (24,
//! 40, 48 bytes: most JSON nodes, map entries and short strings) by
//! over-allocating from a larger size and marking the page as holding
//! interior pointers, which slows every later free on that page too. Every
//! mimalloc block is at least word-aligned, so a request aligned to a word
//! or less needs nothing more than a plain block.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as ffi;

/// The alignment of every block `mi_malloc` gives: block sizes are whole
/// words, laid from a page start aligned further.
const PLAIN: usize = std::mem::size_of::<usize>();

pub struct Mimalloc;

// SAFETY: each method forwards to the mimalloc function with the same
// contract; a plain block is used only for alignments it always meets.
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe {
            if layout.align() <= PLAIN {
                ffi::mi_malloc(layout.size()).cast()
            } else {
                ffi::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe {
            if layout.align() <= PLAIN {
                ffi::mi_zalloc(layout.size()).cast()
            } else {
                ffi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // mimalloc finds a block's page from its address, aligned or not.
        unsafe { ffi::mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        unsafe {
            if layout.align() <= PLAIN {
                ffi::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                ffi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Many blocks of each size and alignment, so that free lists run dry
    /// and refill: each aligned, writable, and holding what was written.
    #[test]
    fn blocks_are_aligned_and_hold_their_bytes_through_realloc() {
        let a = Mimalloc;
        for align in [1usize, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [1usize, 3, 7, 8, 12, 24, 40, 48, 56, 72, 100, 1000, 5000, 70_000] {
                let layout = Layout::from_size_align(size, align).unwrap();
                let blocks: Vec<*mut u8> = (0..200u8)
                    .map(|i| unsafe {
                        let p = if i % 2 == 0 { a.alloc(layout) } else { a.alloc_zeroed(layout) };
                        assert!(!p.is_null());
                        assert_eq!(p as usize % align, 0, "size {size} align {align}");
                        if i % 2 == 1 {
                            assert!(std::slice::from_raw_parts(p, size).iter().all(|&b| b == 0));
                        }
                        std::ptr::write_bytes(p, i, size);
                        p
                    })
                    .collect();
                for (i, p) in blocks.into_iter().enumerate() {
                    unsafe {
                        let grown = a.realloc(p, layout, size * 3);
                        assert_eq!(grown as usize % align, 0, "realloc of size {size} align {align}");
                        assert!(std::slice::from_raw_parts(grown, size).iter().all(|&b| b == i as u8));
                        a.dealloc(grown, Layout::from_size_align(size * 3, align).unwrap());
                    }
                }
            }
        }
    }
}
