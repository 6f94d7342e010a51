package config

import "time"

// Console configures the browser admin console served at /admin.
type Console struct {
	// SessionTTL is how long a console sign-in lasts (absolute, not sliding).
	SessionTTL Duration `yaml:"session_ttl" doc:"lifetime of an admin console session from sign-in (5m..168h)"`
}

func defaultConsole() Console { return Console{SessionTTL: Duration(8 * time.Hour)} }

// validate checks the console settings.
func (c Console) validate() error {
	if err := checkRange(time.Duration(c.SessionTTL), 5*time.Minute, 7*24*time.Hour); err != nil {
		return &KeyError{Key: "console.session_ttl", Err: err}
	}
	return nil
}
