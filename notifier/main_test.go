package notifier_test

import (
	"os"
	"testing"

	"github.com/csbot/csbot/store/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
