// Package metrics exposes scimgate's Prometheus metrics.
//
// Everything lives on one *prometheus.Registry owned by a Metrics value and
// passed through the wiring; nothing is registered globally. The series:
//
//	scimgate_http_requests_total{route,method,status,client}   counter
//	scimgate_http_request_duration_seconds{route,method}       histogram
//	scimgate_ratelimit_rejections_total{route,limiter}         counter
//	scimgate_auth_outcomes_total{mode,outcome,reason}          counter
//	scimgate_redis_command_duration_seconds{command}           histogram
//	scimgate_redis_command_errors_total{command}               counter
//	scimgate_scim_compat_rules_applied_total{rule}             counter
//	scimgate_credentials_expiring_soon{kind}                   gauge
//	scimgate_credentials_expiry_scrape_errors_total            counter
//
// plus the Go runtime and process collectors.
//
// Label cardinality is bounded on purpose: route is the gin route pattern
// (never the raw path), client is a registered client id (an administrator
// decides how many exist) or empty, reason is a small enum (see Reason),
// command is a Redis command name chosen by scimgate's own code, and rule
// is a compatibility rule name.
package metrics
