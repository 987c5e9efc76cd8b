package commands

import (
	"context"
	"errors"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
)

// accountView shows one account: what a pick-list button for a command
// leads to once the person has picked.
type accountView func(ctx context.Context, req bot.Request, a csbot.Account) (bot.Reply, error)

// resolveAccount looks up the account a person typed for the command
// next ("health", "renewals"). With one match it returns the account;
// otherwise it returns the reply to send instead: a pick-list whose
// buttons lead to c.views[next], or "did you mean", or "no account".
func (c *Commands) resolveAccount(ctx context.Context, req bot.Request, query, next string) (csbot.Account, *bot.Reply, error) {
	return csbot.Account{}, nil, errors.New("not built")
}
