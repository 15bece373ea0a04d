//go:build !unix

package credential

// lockFile is a no-op where advisory file locks are not available; the
// in-process mutex of CacheCredential still serialises one process.
func lockFile(string) (func(), error) { return func() {}, nil }
