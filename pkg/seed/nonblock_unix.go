//go:build unix

package seed

import "syscall"

// openNonblock opens without blocking on a FIFO that has no writer (swapped in after the check).
const openNonblock = syscall.O_NONBLOCK
