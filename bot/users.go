package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/csbot/csbot"
)

// UserFinder is the part of the store that tells who is who.
// *store.Store satisfies it.
type UserFinder interface {
	// UserBySlackID returns the team member, or csbot.ErrNotFound.
	UserBySlackID(ctx context.Context, slackID string) (csbot.User, error)
}

// Actor is the person behind a request: a member of the workspace (guests
// and external users never get this far), matched by Slack id to the users
// table. A member the table does not know may read (look accounts up) but
// not change anything.
type Actor struct {
	SlackID string
	// Known is whether the users table has them; User is their row.
	Known bool
	User  csbot.User
	// Role is User.Role, or "" for an unknown member.
	Role csbot.UserRole
	// Name is their name in the users table, else their Slack name.
	Name string
	// TZ is their IANA timezone: the users table's, else Slack's, else "".
	TZ string
}

// CanChange reports whether the actor may change anything (overrides,
// reassignments, outcomes). It is the coarse gate; whether they may change
// a given account is the handler's to decide, e.g. with csbot.CanOverride.
func (a Actor) CanChange() bool { return a.Known }

// Is reports whether the actor is known and has one of the roles.
func (a Actor) Is(roles ...csbot.UserRole) bool {
	return a.Known && slices.Contains(roles, a.Role)
}

// ResolveActor returns the actor with Slack id slackID, as users knows
// them; users may be nil (everyone unknown). It fails only when users
// fails for another reason than csbot.ErrNotFound. csbot try uses it
// outside Slack.
func ResolveActor(ctx context.Context, users UserFinder, slackID string) (Actor, error) {
	a := Actor{SlackID: slackID}
	if users == nil {
		return a, nil
	}
	u, err := users.UserBySlackID(ctx, slackID)
	switch {
	case errors.Is(err, csbot.ErrNotFound):
		return a, nil
	case err != nil:
		return a, fmt.Errorf("who is %s: %w", slackID, err)
	}
	a.Known, a.User, a.Role, a.Name, a.TZ = true, u, u.Role, u.Name, u.Timezone
	return a, nil
}

// resolveActor is ResolveActor with what Slack said of the user filling
// the gaps.
func (r *Runtime) resolveActor(ctx context.Context, u UserInfo) (Actor, error) {
	a, err := ResolveActor(ctx, r.users, u.ID)
	if err != nil {
		return a, err
	}
	if a.Name == "" {
		a.Name = u.Name
	}
	if a.TZ == "" {
		a.TZ = u.TZ
	}
	return a, nil
}
