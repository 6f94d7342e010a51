//go:build race

package main

// raceDetector reports a -race build: tests that move hundreds of
// megabytes through the HTTP stack scale down under it (its range checks
// cost about 0.1 s per 900 KB request).
const raceDetector = true
