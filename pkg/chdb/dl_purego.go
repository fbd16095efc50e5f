//go:build (linux || darwin) && !nochdb

package chdb

import "github.com/ebitengine/purego"

// unsupported is empty where libchdb can be loaded.
const unsupported = ""

func dlopen(path string) (uintptr, error) {
	return purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_LOCAL)
}

func dlsym(h uintptr, name string) (uintptr, error) { return purego.Dlsym(h, name) }

// register makes *fptr (a Go func value) call the C function at sym.
func register(fptr any, sym uintptr) { purego.RegisterFunc(fptr, sym) }
