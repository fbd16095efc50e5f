//go:build !unix

package config

const syscallNonblock = 0
