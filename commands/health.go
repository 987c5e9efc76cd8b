package commands

import (
	"context"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
)

// health answers /health.
func (c *Commands) health(ctx context.Context, req bot.CommandRequest) (bot.Reply, error) {
	return bot.Reply{Text: "/health is being built", Public: true}, nil
}

func (c *Commands) registerHealth(r Registrar) {}

// healthOf shows the health of one account.
func (c *Commands) healthOf(ctx context.Context, req bot.Request, a csbot.Account) (bot.Reply, error) {
	return bot.Reply{}, nil
}
