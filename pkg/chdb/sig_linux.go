package chdb

import (
	"syscall"
	"unsafe"
)

// kernelSigaction mirrors struct kernel_sigaction for rt_sigaction(2) on
// linux/amd64 and linux/arm64.
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

const maxSignal = 64

type signalState [maxSignal + 1]kernelSigaction

func getSigaction(sig int, sa *kernelSigaction) bool {
	_, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), 0, uintptr(unsafe.Pointer(sa)), 8, 0, 0)
	return e == 0
}

func setSigaction(sig int, sa *kernelSigaction) {
	syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(sa)), 0, 8, 0, 0)
}

// saveSignals records every signal disposition of the process.
func saveSignals() *signalState {
	var s signalState
	for sig := 1; sig <= maxSignal; sig++ {
		getSigaction(sig, &s[sig])
	}
	return &s
}

// restoreSignals puts back the dispositions the engine replaced while it
// booted. chdb_connect installs crash handlers for SIGILL, SIGTRAP, SIGABRT,
// SIGBUS, SIGFPE, SIGSEGV, SIGTSTP and SIGSYS; over the Go runtime's
// handlers they turn every Go panic from a nil dereference into a hang, so
// they go. Real-time signals the Go runtime never handled (the engine uses
// SIGRTMIN+n internally) keep the engine's handler.
func restoreSignals(before *signalState) {
	for sig := 1; sig <= maxSignal; sig++ {
		var now kernelSigaction
		if !getSigaction(sig, &now) || now == before[sig] {
			continue
		}
		if sig >= 32 && before[sig].handler == 0 {
			continue
		}
		setSigaction(sig, &before[sig])
	}
}
