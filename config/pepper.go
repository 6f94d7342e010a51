package config

import (
	"errors"
	"fmt"
	"strings"
)

// minPepperBytes is the shortest accepted tokens.pepper: 32 bytes, the
// HMAC-SHA256 block's worth of guessing an attacker with the hashes would
// have to do (openssl rand -hex 32 gives 64 characters).
const minPepperBytes = 32

// checkPepper refuses a tokens.pepper that is a placeholder left in from an
// example file (anything containing CHANGE-ME or CHANGEME, any case) or
// shorter than minPepperBytes. Empty is allowed: hashes are then plain
// SHA-256.
func checkPepper(s string) error {
	if s == "" {
		return nil
	}
	u := strings.ToUpper(s)
	if strings.Contains(u, "CHANGE-ME") || strings.Contains(u, "CHANGEME") || strings.Contains(u, "CHANGE_ME") {
		return errors.New("is the example placeholder; set a random value (openssl rand -hex 32)")
	}
	if len(s) < minPepperBytes {
		return fmt.Errorf("is %d bytes; at least %d are required (openssl rand -hex 32)", len(s), minPepperBytes)
	}
	return nil
}
