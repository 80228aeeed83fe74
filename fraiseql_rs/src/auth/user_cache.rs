//! The user-context cache: SHA-256 of the token -> the value built for it.
//!
//! Bounded LRU; an entry lives at most `ttl_s` and never past the token's `exp`, so a
//! cached answer is never more permissive than verifying again would be.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use lru::LruCache;
use ring::digest;

pub type TokenDigest = [u8; 32];

pub fn token_digest(token: &str) -> TokenDigest {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, token.as_bytes()).as_ref());
    out
}

struct Entry<V> {
    value: V,
    deadline_s: f64,
}

/// Counters for tests and telemetry.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    pub size: usize,
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
    pub expirations: u64,
}

pub struct UserCache<V> {
    entries: Option<Mutex<LruCache<TokenDigest, Entry<V>>>>,
    ttl_s: f64,
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
    expirations: AtomicU64,
}

impl<V> UserCache<V> {
    /// `max_entries == 0` or `ttl_s <= 0` disables the cache.
    pub fn new(max_entries: usize, ttl_s: f64) -> Self {
        let entries = NonZeroUsize::new(max_entries).filter(|_| ttl_s > 0.0).map(|n| Mutex::new(LruCache::new(n)));
        Self {
            entries,
            ttl_s,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
            expirations: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> Option<std::sync::MutexGuard<'_, LruCache<TokenDigest, Entry<V>>>> {
        // A panic while holding the lock cannot leave an entry half-written, so recover.
        self.entries.as_ref().map(|m| m.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    /// Look up `key`; `read` turns the stored value into what the caller returns.
    pub fn get<R>(&self, key: &TokenDigest, now_s: f64, read: impl FnOnce(&V) -> R) -> Option<R> {
        let mut entries = self.lock()?;
        let found = match entries.get(key) {
            Some(entry) if now_s < entry.deadline_s => Some(read(&entry.value)),
            Some(_) => {
                entries.pop(key);
                self.expirations.fetch_add(1, Ordering::Relaxed);
                None
            }
            None => None,
        };
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    pub fn put(&self, key: TokenDigest, value: V, now_s: f64, exp_s: f64) {
        let deadline_s = (now_s + self.ttl_s).min(exp_s);
        if deadline_s <= now_s {
            return;
        }
        if let Some(mut entries) = self.lock() {
            if let Some((evicted, _)) = entries.push(key, Entry { value, deadline_s }) {
                if evicted != key {
                    self.evictions.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    pub fn clear(&self) {
        if let Some(mut entries) = self.lock() {
            entries.clear();
        }
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            size: self.lock().map_or(0, |entries| entries.len()),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            evictions: self.evictions.load(Ordering::Relaxed),
            expirations: self.expirations.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_never_past_exp() {
        let cache = UserCache::new(2, 300.0);
        let (a, b, c) = (token_digest("a"), token_digest("b"), token_digest("c"));
        cache.put(a, 1, 0.0, 10.0);
        cache.put(b, 2, 0.0, 1000.0);
        cache.put(c, 3, 0.0, 1000.0);
        assert_eq!(cache.get(&a, 1.0, |v| *v), None);
        assert_eq!(cache.stats().evictions, 1);
        assert_eq!(cache.get(&b, 299.0, |v| *v), Some(2));
        assert_eq!(cache.get(&b, 300.0, |v| *v), None);
        cache.put(a, 1, 0.0, 10.0);
        assert_eq!(cache.get(&a, 9.9, |v| *v), Some(1));
        assert_eq!(cache.get(&a, 10.0, |v| *v), None);
    }

    #[test]
    fn disabled_cache_stores_nothing() {
        let cache = UserCache::new(0, 300.0);
        cache.put(token_digest("a"), 1, 0.0, 10.0);
        assert_eq!(cache.get(&token_digest("a"), 1.0, |v| *v), None);
    }
}
