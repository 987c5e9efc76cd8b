package slacktest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"time"
)

// Call is one recorded Web API request. Its maps and slices are shared with
// the server's record and must not be modified.
type Call struct {
	// Method is the Web API method, e.g. "chat.postMessage".
	Method string
	// At is when the request arrived, by the server's clock.
	At time.Time
	// Token is the token the request carried (bearer header or form field).
	Token string
	// Params holds the form or query parameters, token included.
	Params url.Values
	// JSON is the request body when it was sent as JSON.
	JSON json.RawMessage
	// Status is the HTTP status of the answer.
	Status int
	// Response is the body of the answer.
	Response json.RawMessage
	// Error is the Slack error code of an {"ok":false} answer, or "" on success
	// or for an answer that was not JSON (5xx).
	Error string
	// Fault is the injected fault that shaped the answer, if any.
	Fault *Fault
}

// Param returns a request parameter: the form value, or for a JSON body the
// top-level field (a string as is, anything else as its JSON text).
func (c Call) Param(name string) string {
	if v, ok := c.Params[name]; ok && len(v) > 0 {
		return v[0]
	}
	if len(c.JSON) == 0 {
		return ""
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(c.JSON, &obj) != nil {
		return ""
	}
	raw, ok := obj[name]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// OK reports whether Slack answered the call with {"ok":true}.
func (c Call) OK() bool { return c.Status == 200 && c.Error == "" }

// Delivery is one envelope written to a Socket Mode connection.
type Delivery struct {
	// EnvelopeID is this delivery's envelope_id.
	EnvelopeID string
	// FirstID is the envelope_id of the envelope's first delivery; it equals
	// EnvelopeID for a first delivery.
	FirstID string
	// Type is slash_commands, interactive or events_api.
	Type string
	// RetryAttempt and RetryReason are as sent (0 and "" the first time).
	RetryAttempt int
	RetryReason  string
	// Connection is the Connection.ID the envelope went out on.
	Connection int
	// SentAt is when it was written, by the server's clock.
	SentAt time.Time
	// Payload is the envelope's payload.
	Payload json.RawMessage
}

// Ack is one acknowledgement received from the client.
type Ack struct {
	// EnvelopeID is the envelope_id the client acknowledged.
	EnvelopeID string
	// FirstID is the envelope_id of that envelope's first delivery, or ""
	// when the id is unknown.
	FirstID string
	// RetryAttempt is the retry_attempt of the delivery acknowledged.
	RetryAttempt int
	// Payload is the ack's payload, nil when it carried none.
	Payload json.RawMessage
	// Size is the length of the ack message in bytes.
	Size int
	// Connection is the Connection.ID the ack came in on.
	Connection int
	// At is when it arrived, by the server's clock.
	At time.Time
	// Latency is the real time from writing the delivery to reading its ack.
	Latency time.Duration
	// Duplicate is set when the envelope had already been acknowledged.
	Duplicate bool
	// Unknown is set when no envelope has this id.
	Unknown bool
	// Dropped is set when the ack was 20 KB or larger: Slack ignores those,
	// so the envelope stays unacknowledged.
	Dropped bool
}

// DecodePayload unmarshals the ack's payload into v.
func (a Ack) DecodePayload(v any) error {
	if len(a.Payload) == 0 {
		return fmt.Errorf("ack %s carries no payload", a.EnvelopeID)
	}
	if err := json.Unmarshal(a.Payload, v); err != nil {
		return fmt.Errorf("decode ack %s payload: %w", a.EnvelopeID, err)
	}
	return nil
}

// Connection is one Socket Mode link, from the apps.connections.open call
// that issued its ticket to its close.
type Connection struct {
	// ID numbers connections from 1 in the order their tickets were issued.
	ID int
	// OpenedAt is the time of the apps.connections.open call.
	OpenedAt time.Time
	// ConnectedAt is when the WebSocket was upgraded and hello sent; zero
	// until the client dials.
	ConnectedAt time.Time
	// ClosedAt is when the link ended; zero while it is up.
	ClosedAt time.Time
	// CloseReason says how it ended: the disconnect reason sent
	// ("refresh_requested", "link_disabled"...), "dropped", "client_closed",
	// "write_failed" or "server_closed".
	CloseReason string
}

// Live reports whether the connection is up.
func (c Connection) Live() bool { return !c.ConnectedAt.IsZero() && c.ClosedAt.IsZero() }

// Metadata is Slack message metadata.
type Metadata struct {
	EventType    string         `json:"event_type"`
	EventPayload map[string]any `json:"event_payload"`
}

// Message is a message visible in a channel.
type Message struct {
	Channel  string
	TS       string
	ThreadTS string
	// User and BotID identify the poster (the bot, for everything the fake
	// records from the Web API).
	User  string
	BotID string
	Text  string
	// Blocks and Attachments are the JSON arrays as posted, nil when absent.
	Blocks      json.RawMessage
	Attachments json.RawMessage
	Metadata    *Metadata
	// Via is how it got there: "chat.postMessage" or "response_url".
	Via      string
	PostedAt time.Time
	// Edits counts chat.update and replace_original changes.
	Edits     int
	UpdatedAt time.Time
}

// Ephemeral is a message only one user saw.
type Ephemeral struct {
	Channel  string
	User     string
	TS       string
	ThreadTS string
	Text     string
	Blocks   json.RawMessage
	// Via is "chat.postEphemeral" or "response_url".
	Via string
	At  time.Time
	// Replaces is the ts of the ephemeral message this one replaced in
	// place (a response_url post with replace_original answering an
	// interaction with that message), "" for a new one. See EphemeralsSeen.
	Replaces string
}

// ResponsePost is one POST to a response_url.
type ResponsePost struct {
	URL string
	// EnvelopeID is the first envelope_id of the envelope that carried the URL.
	EnvelopeID string
	// Use counts posts to this URL, from 1.
	Use  int
	At   time.Time
	Body json.RawMessage
	// Text, Blocks, ResponseType, ReplaceOriginal and DeleteOriginal are
	// read from Body.
	Text            string
	Blocks          json.RawMessage
	ResponseType    string
	ReplaceOriginal bool
	DeleteOriginal  bool
	// Status and Error describe the answer.
	Status int
	Error  string
}

// View is a modal or App Home view the bot opened, pushed, updated or
// published.
type View struct {
	ID              string
	Type            string // "modal" or "home"
	UserID          string
	CallbackID      string
	ExternalID      string
	PrivateMetadata string
	Hash            string
	Title           string
	RootViewID      string
	PreviousViewID  string
	Blocks          json.RawMessage
	// JSON is the view object as the server returns it.
	JSON      json.RawMessage
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Snapshot is a consistent copy of the server's records at one moment.
type Snapshot struct {
	calls      []Call
	deliveries []Delivery
	acks       []Ack
	conns      []Connection
	responses  []ResponsePost
	ephemerals []Ephemeral
	messages   map[string][]Message
	views      []View
	files      []File
	srv        *Server // for the index of acks
}

// Calls returns the recorded Web API calls to method, or all calls when
// method is "".
func (s Snapshot) Calls(method string) []Call {
	if method == "" {
		return s.calls
	}
	var out []Call
	for _, c := range s.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Deliveries returns every envelope delivery, in order.
func (s Snapshot) Deliveries() []Delivery { return s.deliveries }

// Acks returns every ack received, in order.
func (s Snapshot) Acks() []Ack { return s.acks }

// AckFor returns the first effective ack (not dropped) of the envelope
// whose first delivery had envelope_id firstID, through any of its
// deliveries.
func (s Snapshot) AckFor(firstID string) (Ack, bool) {
	if s.srv != nil {
		// The server's index, as of now; an ack past the snapshot's came
		// after it.
		if i, ok := s.srv.ackIndex(firstID); ok && i < len(s.acks) {
			return s.acks[i], true
		}
		return Ack{}, false
	}
	for _, a := range s.acks {
		if a.FirstID == firstID && !a.Dropped {
			return a, true
		}
	}
	return Ack{}, false
}

// Connections returns every Socket Mode connection, by ID.
func (s Snapshot) Connections() []Connection { return s.conns }

// ResponsePosts returns every post to a response_url, in order.
func (s Snapshot) ResponsePosts() []ResponsePost { return s.responses }

// Ephemerals returns every ephemeral message, in order.
func (s Snapshot) Ephemerals() []Ephemeral { return s.ephemerals }

// Messages returns the messages visible in channel, oldest first, after
// updates and deletes, thread replies included.
func (s Snapshot) Messages(channel string) []Message { return s.messages[channel] }

// Views returns the current version of every view, in creation order.
func (s Snapshot) Views() []View { return s.views }
