package slacktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// retryReasonTimeout is the retry_reason of a redelivery after an ack
// timeout.
const retryReasonTimeout = "timeout"

// wsConn is one Socket Mode link. Fields other than wmu and ws writes are
// guarded by Server.mu.
type wsConn struct {
	id     int
	ticket string
	ws     *websocket.Conn
	wmu    sync.Mutex // serialises data frames (gorilla allows one writer)
	info   Connection
	hello  bool          // hello sent and not closed: can carry envelopes
	done   chan struct{} // closed when the link ends
}

func (c *wsConn) write(msg []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return fmt.Errorf("set write deadline: %w", err)
	}
	if err := c.ws.WriteMessage(websocket.TextMessage, msg); err != nil {
		return fmt.Errorf("write to connection %d: %w", c.id, err)
	}
	return nil
}

// envelope is one thing pushed to the bot, across its deliveries. Guarded by
// Server.mu.
type envelope struct {
	firstID string
	typ     string
	channel string // the conversation it came from, if any
	payload json.RawMessage
	accepts bool
	acked   bool
	ack     int                  // 1 + the place in Server.acks of its first effective ack
	sent    map[string]time.Time // delivery envelope_id -> real write time
	attempt map[string]int       // delivery envelope_id -> retry_attempt
	timer   *time.Timer
}

func (s *Server) newEnvelope(typ string, accepts bool) *envelope {
	return &envelope{
		firstID: newEnvelopeID(),
		typ:     typ,
		accepts: accepts,
		sent:    make(map[string]time.Time),
		attempt: make(map[string]int),
	}
}

// openConnectionLocked issues a ticket for a new connection and returns the
// WebSocket URL. s.mu must be held.
func (s *Server) openConnectionLocked() string {
	c := &wsConn{id: len(s.conns) + 1, ticket: randomHex(16)}
	c.info = Connection{ID: c.id, OpenedAt: s.now()}
	s.conns = append(s.conns, c)
	s.tickets[c.ticket] = c
	s.notifyLocked()
	return "ws" + s.base[len("http"):] + "/link/?ticket=" + c.ticket + "&app_id=" + s.cfg.appID
}

// serveLink upgrades a ticketed request to a Socket Mode WebSocket.
func (s *Server) serveLink(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	c := s.tickets[ticket]
	delete(s.tickets, ticket) // single use
	closed := s.closed
	s.mu.Unlock()
	if closed {
		http.Error(w, "server closed", http.StatusServiceUnavailable)
		return
	}
	if c == nil {
		http.Error(w, "invalid or used ticket", http.StatusUnauthorized)
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered the client
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.Close()
		return
	}
	c.ws = ws
	c.done = make(chan struct{})
	live := 1
	for _, o := range s.conns {
		if o.hello {
			live++
		}
	}
	s.wg.Add(2) // read loop (this goroutine) and ping loop
	s.mu.Unlock()

	hello, _ := json.Marshal(map[string]any{
		"type":            "hello",
		"num_connections": live,
		"debug_info": map[string]any{
			"host":                        fmt.Sprintf("applink-fake-%d", c.id),
			"build_number":                1,
			"approximate_connection_time": 18060,
		},
		"connection_info": map[string]any{"app_id": s.cfg.appID},
	})
	if err := c.write(hello); err != nil {
		s.markClosed(c, "write_failed")
		_ = ws.Close()
		s.wg.Done()
		s.wg.Done()
		return
	}
	s.mu.Lock()
	if c.info.ClosedAt.IsZero() {
		c.info.ConnectedAt = s.now()
		c.hello = true
	}
	s.notifyLocked()
	s.mu.Unlock()

	go s.pingLoop(c)
	s.readLoop(c)
}

// pingLoop pings the client now and every ping interval: slack-go counts a
// link as dead when Slack's pings stop.
func (s *Server) pingLoop(c *wsConn) {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.pingInterval)
	defer t.Stop()
	for {
		_ = c.ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(5*time.Second))
		select {
		case <-c.done:
			return
		case <-s.done:
			return
		case <-t.C:
		}
	}
}

// readLoop records the acks a client sends until the link ends.
func (s *Server) readLoop(c *wsConn) {
	defer s.wg.Done()
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			s.markClosed(c, "client_closed")
			_ = c.ws.Close()
			return
		}
		s.recordAck(c, data)
	}
}

func (s *Server) recordAck(c *wsConn, data []byte) {
	var m struct {
		EnvelopeID string          `json:"envelope_id"`
		Payload    json.RawMessage `json:"payload"`
	}
	_ = json.Unmarshal(data, &m) // garbage is recorded as an unknown ack
	if string(m.Payload) == "null" {
		m.Payload = nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := Ack{
		EnvelopeID: m.EnvelopeID,
		Payload:    m.Payload,
		Size:       len(data),
		Connection: c.id,
		At:         s.now(),
		Dropped:    len(data) >= maxAckSize,
	}
	if e := s.envelopes[m.EnvelopeID]; e != nil {
		a.FirstID = e.firstID
		a.RetryAttempt = e.attempt[m.EnvelopeID]
		a.Latency = sinceMono(e.sent[m.EnvelopeID])
		switch {
		case e.acked:
			a.Duplicate = true
		case !a.Dropped:
			e.acked = true
			e.ack = len(s.acks) + 1
			s.stopTimerLocked(e)
			s.applyViewAckLocked(e, a.Payload)
		}
		s.touchChannelLocked(e.channel)
	} else {
		a.Unknown = true
	}
	s.acks = append(s.acks, a)
	s.notifyLocked()
}

// markClosed records the end of a link once; later calls keep the first
// reason.
func (s *Server) markClosed(c *wsConn, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.markClosedLocked(c, reason)
}

func (s *Server) markClosedLocked(c *wsConn, reason string) {
	if !c.info.ClosedAt.IsZero() {
		return
	}
	c.info.ClosedAt = s.now()
	c.info.CloseReason = reason
	c.hello = false
	if c.done != nil {
		close(c.done)
	}
	s.notifyLocked()
}

// liveConnsLocked returns the links that can carry envelopes.
func (s *Server) liveConnsLocked() []*wsConn {
	var live []*wsConn
	for _, c := range s.conns {
		if c.hello {
			live = append(live, c)
		}
	}
	return live
}

// Disconnect sends {"type":"disconnect","reason":reason} on every live
// link, as Slack does before it refreshes ("refresh_requested"), when Socket
// Mode is turned off ("link_disabled") or with "too_many_websockets", then
// closes the link. With reason "warning" the link stays open, as Slack's
// does (slack-go reconnects anyway). It returns an error when no link is up.
func (s *Server) Disconnect(reason string) error {
	s.mu.Lock()
	live := s.liveConnsLocked()
	if reason != "warning" {
		for _, c := range live {
			s.markClosedLocked(c, reason)
		}
	}
	s.mu.Unlock()
	if len(live) == 0 {
		return errors.New("slacktest: disconnect: no live connection")
	}
	var errs []error
	for _, c := range live {
		msg, _ := json.Marshal(map[string]any{
			"type":       "disconnect",
			"reason":     reason,
			"debug_info": map[string]any{"host": fmt.Sprintf("applink-fake-%d", c.id)},
		})
		if err := c.write(msg); err != nil {
			errs = append(errs, err)
		}
		if reason == "warning" {
			continue
		}
		_ = c.ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, reason), time.Now().Add(time.Second))
		_ = c.ws.Close()
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("slacktest: disconnect: %w", err)
	}
	return nil
}

// DropConnection cuts every live link without a word, like a network
// failure. It returns an error when no link is up.
func (s *Server) DropConnection() error {
	s.mu.Lock()
	live := s.liveConnsLocked()
	for _, c := range live {
		s.markClosedLocked(c, "dropped")
	}
	s.mu.Unlock()
	if len(live) == 0 {
		return errors.New("slacktest: drop connection: no live connection")
	}
	for _, c := range live {
		_ = c.ws.Close()
	}
	return nil
}

// waitLive returns the newest link that can carry envelopes, waiting for
// one if none is up.
func (s *Server) waitLive(ctx context.Context) (*wsConn, error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, ErrClosed
		}
		live := s.liveConnsLocked()
		ch := s.changed
		s.mu.Unlock()
		if len(live) > 0 {
			return live[len(live)-1], nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("slacktest: wait for a socket: %w", ctx.Err())
		case <-s.done:
			return nil, ErrClosed
		case <-ch:
		}
	}
}

// deliver writes delivery attempt of e under envelope_id id, waiting for a
// live link and moving to the next one if a write fails, then arms the ack
// timer.
func (s *Server) deliver(ctx context.Context, e *envelope, id string, attempt int) error {
	reason := ""
	if attempt > 0 {
		reason = retryReasonTimeout
	}
	msg, err := json.Marshal(struct {
		EnvelopeID             string          `json:"envelope_id"`
		Payload                json.RawMessage `json:"payload"`
		Type                   string          `json:"type"`
		AcceptsResponsePayload bool            `json:"accepts_response_payload"`
		RetryAttempt           int             `json:"retry_attempt"`
		RetryReason            string          `json:"retry_reason"`
	}{id, e.payload, e.typ, e.accepts, attempt, reason})
	if err != nil {
		return fmt.Errorf("slacktest: encode envelope: %w", err)
	}
	for {
		c, err := s.waitLive(ctx)
		if err != nil {
			return err
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return ErrClosed
		}
		if attempt > 0 && e.acked {
			s.mu.Unlock()
			return nil
		}
		s.envelopes[id] = e
		e.sent[id] = time.Now()
		e.attempt[id] = attempt
		s.deliveries = append(s.deliveries, Delivery{
			EnvelopeID:   id,
			FirstID:      e.firstID,
			Type:         e.typ,
			RetryAttempt: attempt,
			RetryReason:  reason,
			Connection:   c.id,
			SentAt:       s.now(),
			Payload:      e.payload,
		})
		s.mu.Unlock()
		if err := c.write(msg); err != nil {
			s.markClosed(c, "write_failed")
			_ = c.ws.Close()
			continue
		}
		break
	}
	s.mu.Lock()
	s.armTimerLocked(e, attempt)
	s.touchChannelLocked(e.channel)
	s.notifyLocked()
	s.mu.Unlock()
	return nil
}

// armTimerLocked schedules the redelivery of e unless it is acked or out of
// retries. Each armed timer holds one count of s.wg, released by the timer
// function or by a successful Stop.
func (s *Server) armTimerLocked(e *envelope, attempt int) {
	if s.closed || e.acked || attempt >= s.cfg.maxRetries {
		return
	}
	s.wg.Add(1)
	var t *time.Timer
	t = time.AfterFunc(s.cfg.ackTimeout, func() {
		defer s.wg.Done()
		s.mu.Lock()
		if e.timer == t {
			e.timer = nil
		}
		skip := e.acked || s.closed
		s.mu.Unlock()
		if skip {
			return
		}
		s.redeliver(e, attempt+1)
	})
	e.timer = t
}

func (s *Server) stopTimerLocked(e *envelope) {
	if e.timer != nil && e.timer.Stop() {
		s.wg.Done()
	}
	e.timer = nil
}

// redeliver sends e again under a new envelope_id, as Slack does when an
// envelope is not acknowledged in time.
func (s *Server) redeliver(e *envelope, attempt int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	_ = s.deliver(ctx, e, newEnvelopeID(), attempt) // fails only when the server closes
}
