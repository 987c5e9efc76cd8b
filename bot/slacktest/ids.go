package slacktest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// randomHex returns n random bytes as lowercase hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// newEnvelopeID returns a UUID-shaped envelope id, as Slack's are.
func newEnvelopeID() string {
	h := randomHex(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// formatTS formats microseconds since the epoch as a Slack message ts
// ("1700000000.000100").
func formatTS(micros int64) string {
	return fmt.Sprintf("%d.%06d", micros/1e6, micros%1e6)
}

// nextTSLocked returns a message ts that is unique and greater than every
// earlier one, based on the server's clock. s.mu must be held.
func (s *Server) nextTSLocked() string {
	m := s.now().UnixMicro()
	if m <= s.lastTS {
		m = s.lastTS + 1
	}
	s.lastTS = m
	return formatTS(m)
}

// nextSeqLocked returns the next value of a server-wide counter used to
// build ids. s.mu must be held.
func (s *Server) nextSeqLocked() int {
	s.seq++
	return s.seq
}

// unixNow returns the server clock as Unix seconds.
func (s *Server) unixNow() int64 { return s.now().Unix() }

// sinceMono returns the real time elapsed since t (monotonic), used for
// latencies whatever clock the server was given.
func sinceMono(t time.Time) time.Duration { return time.Since(t) }
