package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/redisconn"
	"github.com/scimgate/scimgate/webhook"
)

// startWebhooks starts delivering change events to webhooks.urls, when
// any are configured, until ctx ends or the returned stop is called; stop
// waits for the delivery in flight. Without URLs it starts nothing.
func startWebhooks(ctx context.Context, conn *redisconn.Conn, cfg config.Config, log *slog.Logger) (stop func(), err error) {
	urls := cfg.Webhooks.URLList()
	if len(urls) == 0 {
		return func() {}, nil
	}
	var subs []webhook.Subscriber
	for _, u := range urls {
		s, err := webhook.NewSubscriber(u)
		if err != nil {
			return nil, usageError{&config.KeyError{Key: "webhooks.urls", Err: err}}
		}
		subs = append(subs, s)
	}
	w, err := webhook.New(conn.Client, webhook.Options{
		Prefix:         cfg.Redis.Prefix,
		Subscribers:    subs,
		Secret:         []byte(cfg.Webhooks.Secret),
		MaxAttempts:    cfg.Webhooks.MaxAttempts,
		BackoffInitial: cfg.Webhooks.BackoffInitial.Std(),
		BackoffMax:     cfg.Webhooks.BackoffMax.Std(),
		Timeout:        cfg.Webhooks.Timeout.Std(),
		Log:            log.With("component", "webhook"),
	})
	if err != nil {
		return nil, usageError{&config.KeyError{Key: "webhooks.urls", Err: err}}
	}
	wctx, cancel := context.WithCancel(ctx)
	if err := w.Start(wctx); err != nil {
		cancel()
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	names := make([]string, len(subs))
	for i, s := range subs {
		names[i] = s.Name
	}
	log.Info("webhook delivery enabled", "subscribers", names)
	return func() { cancel(); w.Wait() }, nil
}
