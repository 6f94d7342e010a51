package store

// Forget drops the cached replies that read any of keys, as the store's
// own writes do (for tests that need the cache to hold some keys of a
// resource and not others).
func (rc *ReadCache) Forget(keys ...string) { rc.forget(keys...) }
