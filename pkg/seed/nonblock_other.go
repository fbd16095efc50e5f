//go:build !unix

package seed

const openNonblock = 0
