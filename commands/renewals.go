package commands

import (
	"context"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
)

// renewals answers /renewals.
func (c *Commands) renewals(ctx context.Context, req bot.CommandRequest) (bot.Reply, error) {
	return bot.Reply{Text: "/renewals is being built", Public: true}, nil
}

func (c *Commands) registerRenewals(r Registrar) {}

// renewalHistoryOf shows one account's renewals.
func (c *Commands) renewalHistoryOf(ctx context.Context, req bot.Request, a csbot.Account) (bot.Reply, error) {
	return bot.Reply{}, nil
}
