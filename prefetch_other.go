//go:build !amd64 && !arm64

package sundial

import "unsafe"

// prefetch does nothing where no assembly asks for the cache line.
func prefetch(p unsafe.Pointer) {}
