//! The server's memory allocator: mimalloc for the many small blocks of requests and page
//! rendering, the system allocator for blocks of a mebibyte or more (password hashes take
//! 19 MiB each). Under page load glibc's allocator took a quarter of the server's CPU;
//! mimalloc, though, keeps freed large blocks for reuse, so a login flood left the server
//! at 139 MiB. The system allocator maps such blocks on their own and unmaps them when
//! freed (see `passwords::return_large_blocks_to_the_system`). mimalloc's arenas are
//! committed as used (`MI_DEFAULT_ARENA_EAGER_COMMIT=0`, set in `.cargo/config.toml`):
//! committed eagerly, the memory a burst used is only reset, never decommitted, and the
//! server's RSS stayed at the burst's peak (refresh and login load: 140 MiB at the peak,
//! 101 MiB after).

use std::alloc::{GlobalAlloc, Layout, System};

use mimalloc::MiMalloc;

/// From this size on, blocks come from the system allocator.
const LARGE: usize = 1024 * 1024;

pub struct ServerAllocator;

fn is_large(size: usize) -> bool {
    size >= LARGE
}

// SAFETY: every block is freed, zeroed or resized by the allocator that made it: the one
// its size selects, and `dealloc`/`realloc` receive the size it was made with. A `realloc`
// across the threshold moves the block from one allocator to the other.
unsafe impl GlobalAlloc for ServerAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if is_large(layout.size()) {
            unsafe { System.alloc(layout) }
        } else {
            unsafe { MiMalloc.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if is_large(layout.size()) {
            unsafe { System.alloc_zeroed(layout) }
        } else {
            unsafe { MiMalloc.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if is_large(layout.size()) {
            unsafe { System.dealloc(ptr, layout) }
        } else {
            unsafe { MiMalloc.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        match (is_large(layout.size()), is_large(new_size)) {
            (true, true) => unsafe { System.realloc(ptr, layout, new_size) },
            (false, false) => unsafe { MiMalloc.realloc(ptr, layout, new_size) },
            _ => {
                // SAFETY: the caller guarantees `new_size`, rounded up to the alignment,
                // does not overflow `isize`.
                let new_layout =
                    unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
                let moved = unsafe { self.alloc(new_layout) };
                if !moved.is_null() {
                    unsafe {
                        std::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                }
                moved
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks grow and shrink across the threshold with their contents kept.
    #[test]
    fn blocks_keep_their_contents_across_the_threshold() {
        let allocator = ServerAllocator;
        for (from, to) in [
            (64, 2 * LARGE),
            (2 * LARGE, 64),
            (LARGE - 1, LARGE),
            (16, 4096),
        ] {
            let layout = Layout::from_size_align(from, 16).expect("layout");
            unsafe {
                let block = allocator.alloc(layout);
                assert!(!block.is_null());
                for i in 0..from.min(to) {
                    *block.add(i) = (i % 251) as u8;
                }
                let moved = allocator.realloc(block, layout, to);
                assert!(!moved.is_null());
                assert_eq!(moved as usize % 16, 0, "alignment kept");
                for i in 0..from.min(to) {
                    assert_eq!(*moved.add(i), (i % 251) as u8, "byte {i} of {from} -> {to}");
                }
                allocator.dealloc(moved, Layout::from_size_align(to, 16).expect("layout"));
            }
        }
        unsafe {
            let layout = Layout::from_size_align(2 * LARGE, 64).expect("layout");
            let zeroed = allocator.alloc_zeroed(layout);
            assert!((0..layout.size()).all(|i| *zeroed.add(i) == 0));
            allocator.dealloc(zeroed, layout);
        }
    }
}
