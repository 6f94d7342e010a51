package main

import (
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/redislog"
)

// routeRedisLog sends go-redis's own log lines (it has one package-wide
// logger) through log at WARN, at most one line per kind per
// log.redis_interval, instead of its default stderr logger.
func routeRedisLog(log *slog.Logger, cfg config.Log) {
	redis.SetLogger(redislog.New(log, slog.LevelWarn, cfg.RedisInterval.Std(), nil))
}
