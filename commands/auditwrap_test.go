package commands

import (
	"context"
	"testing"

	"github.com/csbot/csbot/bot"
)

// plainRegistrar takes no shortcuts.
type plainRegistrar struct{}

func (plainRegistrar) HandleCommand(string, bot.CommandFunc) {}
func (plainRegistrar) HandleAction(string, bot.ActionFunc)   {}
func (plainRegistrar) HandleView(string, bot.ViewHandler)    {}
func (plainRegistrar) HandleEvent(string, bot.EventFunc)     {}

// shortcutRegistrar takes shortcuts.
type shortcutRegistrar struct{ plainRegistrar }

func (shortcutRegistrar) HandleShortcut(string, bot.ShortcutFunc) {}

func TestAuditedTakesShortcutsOnlyWhenItsRegistrarDoes(t *testing.T) {
	t.Parallel()
	c := New(Config{})
	if _, ok := c.audited(plainRegistrar{}).(ShortcutRegistrar); ok {
		t.Error("audited(a Registrar without shortcuts) takes shortcuts")
	}
	if _, ok := c.audited(shortcutRegistrar{}).(ShortcutRegistrar); !ok {
		t.Error("audited(a ShortcutRegistrar) takes no shortcuts")
	}
}

func TestNoteAccountFirstWins(t *testing.T) {
	t.Parallel()
	noteAccount(context.Background(), 7) // outside a request: nothing happens
	ctx, n := withAuditNote(context.Background())
	noteAccount(ctx, 0)
	noteAccount(ctx, 3)
	noteAccount(ctx, 4)
	if got := n.accountNoted(); got != 3 {
		t.Errorf("account noted = %d, want the first, 3", got)
	}
}
