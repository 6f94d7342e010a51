//go:build !race

package main

// raceEnabled: the race detector slows every request about tenfold, so
// load tests send fewer requests under it.
const raceEnabled = false
