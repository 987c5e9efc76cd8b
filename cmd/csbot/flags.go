package main

import (
	"errors"
	"flag"
	"time"

	"github.com/csbot/csbot"
)

// parseFlags parses a subcommand's flags, which take no positional
// arguments. help is true when -h asked for the usage, printed already.
func parseFlags(fs *flag.FlagSet, args []string) (help bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, nil
		}
		return false, usagef("%s: %v", fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return false, usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return false, nil
}

// atFlag reads an --at flag: an RFC 3339 time or a date; now (UTC) when
// empty.
func atFlag(fs *flag.FlagSet, value string) (time.Time, error) {
	if value == "" {
		return time.Now().UTC(), nil
	}
	t, err := csbot.ParseTimestamp(value)
	if err != nil {
		return time.Time{}, usagef("%s: --at %q: %v", fs.Name(), value, err)
	}
	return t, nil
}
