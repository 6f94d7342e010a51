package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/directory"
	"github.com/scimgate/scimgate/redisconn"
	"github.com/scimgate/scimgate/webhook"
)

// startWebhooks starts delivering every directory's change events (or
// webhooks.directories') to webhooks.urls, when any are configured, until
// ctx ends or the returned stop is called; stop waits for the deliveries
// in flight. Without URLs it starts nothing.
func startWebhooks(ctx context.Context, conn *redisconn.Conn, dirs *directory.Registry, cfg config.Config, log *slog.Logger) (stop func(), err error) {
	urls := cfg.Webhooks.URLList()
	if len(urls) == 0 {
		return func() {}, nil
	}
	only := cfg.Webhooks.DirectoryList()
	for _, ref := range only {
		// Unknown names may be created later: a warning, not an error.
		if _, err := dirs.Resolve(ctx, ref); errors.Is(err, directory.ErrNotFound) {
			log.Warn("webhooks.directories names no directory (yet)", "directory", ref)
		} else if err != nil {
			return nil, fmt.Errorf("webhooks: %w", err)
		}
	}
	var subs []webhook.Subscriber
	for _, u := range urls {
		s, err := webhook.NewSubscriber(u)
		if err != nil {
			return nil, usageError{&config.KeyError{Key: "webhooks.urls", Err: err}}
		}
		s.Directories = only
		subs = append(subs, s)
	}
	sup, err := webhook.NewSupervisor(conn.Client, webhook.Options{
		Prefix:         cfg.Redis.Prefix,
		Subscribers:    subs,
		Secret:         []byte(cfg.Webhooks.Secret),
		MaxAttempts:    cfg.Webhooks.MaxAttempts,
		BackoffInitial: cfg.Webhooks.BackoffInitial.Std(),
		BackoffMax:     cfg.Webhooks.BackoffMax.Std(),
		Timeout:        cfg.Webhooks.Timeout.Std(),
		Log:            log.With("component", "webhook"),
	}, dirs.List)
	if err != nil {
		return nil, usageError{&config.KeyError{Key: "webhooks.urls", Err: err}}
	}
	wctx, cancel := context.WithCancel(ctx)
	if err := sup.Start(wctx); err != nil {
		cancel()
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	names := make([]string, len(subs))
	for i, s := range subs {
		names[i] = s.Name
	}
	log.Info("webhook delivery enabled", "subscribers", names, "directories", len(sup.Directories()),
		"max_directories", webhook.DefaultMaxDirectories)
	return func() { cancel(); sup.Wait() }, nil
}
