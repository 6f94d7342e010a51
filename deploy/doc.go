// Package deploy holds no code: it is the home of scimgate's deployment
// files (../Dockerfile, ../docker-compose.yml, kubernetes/), and its test
// checks them statically against the config package, since no container
// engine runs in CI.
package deploy
