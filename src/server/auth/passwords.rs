//! Password checks with bounded cost. argon2id is slow and holds 19 MiB while it runs by
//! design, so unbounded, a login flood hashes on hundreds of blocking threads at once and
//! the server grows by gigabytes. Here at most `workers` hashes run at a time, at most
//! `queue` more logins wait, and the rest are refused at once; each worker hashes into a
//! reused buffer, and the buffers are freed when hashing goes idle.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use argon2::password_hash::{Output, PasswordHash};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

/// Stored hashes asking for more memory than this are treated as a mismatch, not obeyed:
/// a tampered row must not make the server allocate gigabytes.
const MAX_MEMORY_BLOCKS: usize = 64 * 1024; // 64 MiB

/// glibc serves large blocks with mmap only above a *dynamic* threshold, which rises to
/// the size of the largest block freed so far; after the first 19 MiB hash is freed, later
/// ones come from per-thread arenas that keep the memory. That is how an unbounded login
/// flood left the server at 11 GB. A fixed threshold makes every block of 1 MiB or more a
/// plain mmap/munmap, given back to the system the moment it is freed. Process-wide and
/// idempotent. The server binary's allocator hands every such block to glibc (see
/// `allocator`); other allocators need nothing.
pub(crate) fn return_large_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator tuning; it is thread-safe and takes no pointers.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
    }
}

/// The hashing workers were all busy and the queue full: try again shortly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Busy;

pub(crate) struct PasswordGate {
    workers: Arc<Semaphore>,
    /// Logins admitted (hashing or waiting to).
    admitted: AtomicUsize,
    /// Hashes running now.
    hashing: Arc<AtomicUsize>,
    max_admitted: usize,
    /// One buffer per worker at most, reused while busy.
    buffers: Arc<Mutex<Vec<Vec<Block>>>>,
}

impl PasswordGate {
    pub(crate) fn new(workers: usize, queue: usize) -> Self {
        let workers = workers.max(1);
        Self {
            workers: Arc::new(Semaphore::new(workers)),
            admitted: AtomicUsize::new(0),
            hashing: Arc::new(AtomicUsize::new(0)),
            max_admitted: workers + queue,
            buffers: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Whether `password` matches the PHC string `stored_hash`, computed on a blocking
    /// thread once a worker is free; `Busy` at once when too many logins are waiting.
    pub(crate) async fn verify(&self, stored_hash: String, password: String) -> Result<bool, Busy> {
        let _admission = self.admit()?;
        let permit = Arc::clone(&self.workers)
            .acquire_owned()
            .await
            .map_err(|_| Busy)?;
        let buffers = Arc::clone(&self.buffers);
        let hashing = Arc::clone(&self.hashing);
        let verified = tokio::task::spawn_blocking(move || {
            hashing.fetch_add(1, Ordering::AcqRel);
            let mut memory = take(&buffers).pop().unwrap_or_default();
            let verified = verify_into(&stored_hash, password.as_bytes(), &mut memory);
            let mut pool = take(&buffers);
            // The last worker to finish frees every buffer, so an idle server is small.
            if hashing.fetch_sub(1, Ordering::AcqRel) == 1 {
                pool.clear();
            } else {
                pool.push(memory);
            }
            drop(permit);
            verified
        })
        .await
        .unwrap_or(false);
        Ok(verified)
    }

    fn admit(&self) -> Result<Admission<'_>, Busy> {
        let before = self.admitted.fetch_add(1, Ordering::AcqRel);
        let admission = Admission(&self.admitted);
        if before >= self.max_admitted {
            return Err(Busy);
        }
        Ok(admission)
    }

    #[cfg(test)]
    fn pooled_buffers(&self) -> usize {
        take(&self.buffers).len()
    }
}

/// Gives the admission back however the login ends, cancellation included.
struct Admission<'a>(&'a AtomicUsize);

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn take(buffers: &Mutex<Vec<Vec<Block>>>) -> std::sync::MutexGuard<'_, Vec<Vec<Block>>> {
    buffers.lock().unwrap_or_else(PoisonError::into_inner)
}

/// argon2's own verification, but hashing into `memory` instead of a fresh allocation.
/// Anything malformed is a mismatch. The comparison is constant-time (`Output`'s `==`).
fn verify_into(stored_hash: &str, password: &[u8], memory: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(stored_hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    if params.block_count() > MAX_MEMORY_BLOCKS {
        return false;
    }
    let mut salt_buffer = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buffer) else {
        return false;
    };
    memory.resize(params.block_count(), Block::default());
    let mut computed = vec![0u8; expected.len()];
    let hashed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password,
        salt,
        &mut computed,
        &mut memory[..],
    );
    hashed.is_ok() && Output::new(&computed).is_ok_and(|computed| computed == expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::users::hash_password;

    #[test]
    fn verifies_exactly_like_argon2_itself() {
        let stored = hash_password("demo-password").expect("hash");
        let mut memory = Vec::new();
        assert!(verify_into(&stored, b"demo-password", &mut memory));
        assert!(!verify_into(&stored, b"demo-passwore", &mut memory));
        assert!(!verify_into(&stored, b"", &mut memory));
        assert!(!verify_into("not a hash", b"demo-password", &mut memory));
        assert!(!verify_into(
            "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
            b"x",
            &mut memory
        ));
        assert!(
            memory.len() <= MAX_MEMORY_BLOCKS,
            "absurd costs are refused"
        );
    }

    #[tokio::test]
    async fn beyond_the_workers_and_the_queue_logins_are_refused_at_once() {
        let stored = hash_password("pw-pw-pw-pw").expect("hash");
        let gate = PasswordGate::new(1, 2);
        // Keep the one worker busy, so admitted logins wait.
        let busy_worker = Arc::clone(&gate.workers)
            .acquire_owned()
            .await
            .expect("permit");
        let mut waiting = Vec::new();
        for _ in 0..3 {
            let mut login = Box::pin(gate.verify(stored.clone(), "pw-pw-pw-pw".into()));
            assert!(futures::poll!(&mut login).is_pending(), "admitted, waiting");
            waiting.push(login);
        }
        assert_eq!(
            gate.verify(stored.clone(), "pw-pw-pw-pw".into()).await,
            Err(Busy),
            "one worker + a queue of two: the fourth is refused at once"
        );
        drop(busy_worker);
        for login in waiting {
            assert_eq!(login.await, Ok(true));
        }
        assert_eq!(gate.admitted.load(Ordering::Acquire), 0, "all given back");
        assert_eq!(gate.pooled_buffers(), 0, "idle hashing holds no memory");
        let busy_worker = Arc::clone(&gate.workers)
            .acquire_owned()
            .await
            .expect("permit");
        let mut cancelled = Box::pin(gate.verify(stored.clone(), "x".into()));
        assert!(futures::poll!(&mut cancelled).is_pending());
        assert_eq!(gate.admitted.load(Ordering::Acquire), 1);
        drop(cancelled);
        assert_eq!(
            gate.admitted.load(Ordering::Acquire),
            0,
            "a dropped login is given back"
        );
        drop(busy_worker);
        assert_eq!(gate.verify(stored, "pw-pw-pw-pw".into()).await, Ok(true));
    }
}
