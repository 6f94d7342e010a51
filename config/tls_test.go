package config

import (
	"errors"
	"testing"
	"time"
)

func TestTLSValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		tls TLS
		key string // "" = valid
	}{
		"off":           {TLS{ReloadInterval: Duration(5 * time.Second)}, ""},
		"both":          {TLS{CertFile: "c", KeyFile: "k", ReloadInterval: Duration(5 * time.Second)}, ""},
		"cert only":     {TLS{CertFile: "c", ReloadInterval: Duration(5 * time.Second)}, "tls.key_file"},
		"key only":      {TLS{KeyFile: "k", ReloadInterval: Duration(5 * time.Second)}, "tls.cert_file"},
		"interval zero": {TLS{CertFile: "c", KeyFile: "k"}, "tls.reload_interval"},
		"interval 2h":   {TLS{ReloadInterval: Duration(2 * time.Hour)}, "tls.reload_interval"},
	} {
		c := Default()
		c.TLS = tc.tls
		err := c.Validate()
		var ke *KeyError
		switch {
		case tc.key == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case tc.key != "" && (!errors.As(err, &ke) || ke.Key != tc.key):
			t.Errorf("%s: err %v, want one naming %s", name, err, tc.key)
		}
	}
	c := Default()
	c.TLS.CertFile, c.TLS.KeyFile, c.Listen = "c", "k", "0.0.0.0:8443"
	if got := c.Issuer(); got != "https://0.0.0.0:8443" {
		t.Errorf("issuer with TLS and no public_url: %s", got)
	}
}
