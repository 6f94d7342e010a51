package config

// RateLimit configures the SCIM request limits (package ratelimit).
type RateLimit struct {
	Rate         int    `yaml:"rate" doc:"SCIM requests per second per client, shared by all replicas (0: unlimited); a client's own override wins"`
	Burst        int    `yaml:"burst" doc:"largest burst of SCIM requests per client (raised to rate when lower)"`
	OnRedisError string `yaml:"on_redis_error" doc:"when Redis is unreachable: allow (admit and log) or deny (503 with Retry-After)"`
	// MaxAuthFailures and AuthFailureWindow bound failed SCIM
	// authentications per source address, before any client is known.
	MaxAuthFailures   int      `yaml:"max_auth_failures" doc:"failed SCIM authentications allowed per source address per auth_failure_window (then 429 before authenticating)"`
	AuthFailureWindow Duration `yaml:"auth_failure_window" doc:"window of max_auth_failures (a GCRA budget: a burst of max_auth_failures, then one per window/max)"`
	IPv6Prefix        int      `yaml:"ipv6_prefix" doc:"IPv6 sources are grouped by this prefix length for failure budgets and AUTH_FAILED aggregates (IPv4: per address)"`

	// DirectoryRate and DirectoryBurst limit all the clients of one
	// directory together, for directories without a limit of their own.
	DirectoryRate  int `yaml:"directory_rate" doc:"SCIM requests per second per directory, all its clients together, in addition to each client's limit (0: unlimited); a directory's own limit wins"`
	DirectoryBurst int `yaml:"directory_burst" doc:"largest burst of SCIM requests per directory (raised to directory_rate when lower)"`
}

// Audit configures the audit stream's retention.
type Audit struct {
	MaxLen          int64    `yaml:"max_len" doc:"approximate number of audit events kept (older ones are trimmed on append)"`
	MaxAge          Duration `yaml:"max_age" doc:"age after which audit events are trimmed (0: keep until max_len)"`
	AuthFailureKeys int      `yaml:"auth_failure_keys" doc:"distinct AUTH_FAILED aggregates (source network, reason, client, route) per minute; failures beyond fold into one \"other\" aggregate"`
}
