//go:build !linux

package chdb

type signalState struct{}

func saveSignals() *signalState          { return nil }
func restoreSignals(before *signalState) {}
