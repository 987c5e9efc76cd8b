package csbot

import "errors"

// ErrNotFound is returned when a requested record does not exist.
var ErrNotFound = errors.New("not found")

// ErrNotYet is returned when something exists but is not done yet: a
// message still on its way to Slack.
var ErrNotYet = errors.New("not yet")
