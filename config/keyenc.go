package config

import (
	"encoding/base64"
	"fmt"
)

// keyEncryptionKeySize is the decoded size of oauth.key_encryption_key.
const keyEncryptionKeySize = 32

// KeyEncryptionKey returns oauth.key_encryption_key decoded (nil when
// unset). Validate has checked it.
func (o OAuth) KeyEncryptionKey() []byte {
	if o.KeyEncryptionKeyB64 == "" {
		return nil
	}
	b, _ := base64.StdEncoding.DecodeString(o.KeyEncryptionKeyB64)
	return b
}

// checkKeyEncryptionKey wants empty or standard base64 of 32 bytes.
func checkKeyEncryptionKey(s string) error {
	if s == "" {
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != keyEncryptionKeySize {
		return fmt.Errorf("must be base64 of %d random bytes (openssl rand -base64 32)", keyEncryptionKeySize)
	}
	return nil
}
