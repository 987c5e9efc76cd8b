package main

import (
	"log/slog"
	"net/url"

	"github.com/csbot/csbot/commands/draft"
)

// newDrafter returns the language model client that drafts EBRs, or nil
// when neither OPENAI_API_KEY nor OPENAI_BASE_URL is set (csbot then drafts
// from its template). It logs which, naming the server's host and never
// the key. observe, if not nil, sees every draft asked of the model.
func newDrafter(cfg config, log *slog.Logger, observe func(draft.Usage, error)) *draft.Client {
	c, ok := draft.New(draft.Config{
		APIKey:              cfg.OpenAIKey,
		BaseURL:             cfg.OpenAIBaseURL,
		Model:               cfg.OpenAIModel,
		Timeout:             cfg.OpenAITimeout,
		MaxCompletionTokens: cfg.OpenAITokens,
		Logger:              log,
		Observe:             observe,
	})
	if !ok {
		log.Info("EBR drafts from the template: set OPENAI_API_KEY or OPENAI_BASE_URL to draft them with a language model")
		return nil
	}
	host := "api.openai.com"
	if u, err := url.Parse(cfg.OpenAIBaseURL); err == nil && u.Host != "" {
		host = u.Host
	}
	log.Info("EBR drafts with a language model", "model", c.Model(), "server", host)
	return c
}
