//go:build amd64 || arm64

package sundial

import "unsafe"

// prefetch asks the processor to bring the cache line at p in, without
// waiting for it; p may be any address, even one no longer mapped.
//
//go:noescape
func prefetch(p unsafe.Pointer)
