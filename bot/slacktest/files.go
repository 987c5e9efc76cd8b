package slacktest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxUploadSize bounds what the upload URL reads; a larger upload is
// answered 413.
const maxUploadSize = 64 << 20

// File is a file shared through files.uploadV2: reserved with
// files.getUploadURLExternal, its bytes posted to the upload URL, then
// shared with files.completeUploadExternal. Its slices are shared with the
// server's record and must not be modified.
type File struct {
	// ID is the file id ("F...").
	ID string
	// Filename, SnippetType and AltText are as given to
	// files.getUploadURLExternal; Title as given to
	// files.completeUploadExternal, or Filename when none was (as Slack
	// shows it).
	Filename    string
	Title       string
	SnippetType string
	AltText     string
	// Length is the byte length declared to files.getUploadURLExternal;
	// Content is what was posted to the upload URL.
	Length  int
	Content []byte
	// Channel is the conversation the file was shared in: channel_id, or
	// the first of channels; "" for a file completed without either
	// (private to the bot). Channels lists every one.
	Channel  string
	Channels []string
	// ThreadTS and InitialComment are as given to
	// files.completeUploadExternal.
	ThreadTS       string
	InitialComment string
	// UploadedAt is when the bytes arrived, SharedAt when the upload was
	// completed, by the server's clock.
	UploadedAt time.Time
	SharedAt   time.Time
}

// pendingUpload is a file reserved by files.getUploadURLExternal and not yet
// completed. Guarded by Server.mu.
type pendingUpload struct {
	file     File
	secret   string // the last element of its upload URL's path
	uploaded bool
}

// Files returns every file shared with files.completeUploadExternal, in
// order.
func (s Snapshot) Files() []File { return s.files }

// Files returns every file shared with files.completeUploadExternal, in
// order.
func (s *Server) Files() []File { return s.Snapshot().Files() }

// filesGetUploadURLExternalLocked reserves a file id and hands out the URL
// its bytes go to, on the server's own loopback address.
func (s *Server) filesGetUploadURLExternalLocked(r *apiRequest) answer {
	name := r.str("filename")
	if name == "" {
		return fail("invalid_arguments", "missing required field: filename")
	}
	if !r.has("length") {
		return fail("invalid_arguments", "missing required field: length")
	}
	length, err := strconv.Atoi(r.str("length"))
	if err != nil || length < 1 {
		return fail("invalid_arguments", "length must be a positive integer [json-pointer:/length]")
	}
	if s.uploads == nil {
		s.uploads = make(map[string]*pendingUpload)
	}
	up := &pendingUpload{
		file: File{
			ID:          fmt.Sprintf("F%010d", s.nextSeqLocked()),
			Filename:    name,
			SnippetType: r.str("snippet_type"),
			AltText:     r.str("alt_txt"),
			Length:      length,
		},
		secret: randomHex(16),
	}
	s.uploads[up.file.ID] = up
	return success(map[string]any{
		"upload_url": s.base + "/upload/v1/" + up.file.ID + "/" + up.secret,
		"file_id":    up.file.ID,
	})
}

// serveUpload takes the bytes of a file reserved by
// files.getUploadURLExternal: the body of a POST, raw or as the "file" part
// of a multipart form, as files.slack.com does. It answers 200 with
// "OK - <length>"; an unknown or already completed upload URL gets 404.
func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	id, secret := path.Split(strings.TrimPrefix(r.URL.Path, "/upload/v1/"))
	id = strings.TrimSuffix(id, "/")
	s.mu.Lock()
	up := s.uploads[id]
	known := up != nil && up.secret == secret && secret != ""
	s.mu.Unlock()
	if !known {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	content, err := readUpload(w, r)
	if err != nil {
		status := http.StatusBadRequest
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			status = http.StatusRequestEntityTooLarge
		}
		http.Error(w, err.Error(), status)
		return
	}
	s.mu.Lock()
	if s.uploads[id] != up { // completed meanwhile
		s.mu.Unlock()
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	up.file.Content = content
	up.file.UploadedAt = s.now()
	up.uploaded = true
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = fmt.Fprintf(w, "OK - %d", len(content))
}

// readUpload reads the file in an upload request: the "file" part of a
// multipart form (or its first file part), else the whole body.
func readUpload(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUploadSize)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, fmt.Errorf("read upload: %w", err)
		}
		return b, nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, fmt.Errorf("read multipart upload: %w", err)
	}
	var found []byte
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read multipart upload: %w", err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return nil, fmt.Errorf("read multipart upload part %q: %w", p.FormName(), err)
		}
		if found == nil && (p.FormName() == "file" || p.FileName() != "") {
			found = b
		}
	}
	if found == nil {
		return nil, errors.New("multipart upload without a file part")
	}
	return found, nil
}

// filesCompleteUploadExternalLocked shares uploaded files in a
// conversation. Every file must have been reserved and its bytes posted
// (file_not_found otherwise: an unknown id, one never uploaded, or one
// already completed); channel_id must name a conversation the server knows
// (channel_not_found), and channels may also hold user ids (their DMs). The
// bot must be able to post there (not_in_channel, is_archived).
func (s *Server) filesCompleteUploadExternalLocked(r *apiRequest) answer {
	raw, ok := r.raw("files")
	if !ok {
		return fail("invalid_arguments", "missing required field: files")
	}
	var items []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal(raw, &items); err != nil || len(items) == 0 {
		return fail("invalid_arguments", "files must be a non-empty array of objects with an id [json-pointer:/files]")
	}
	seen := make(map[string]bool, len(items))
	for _, it := range items {
		up := s.uploads[it.ID]
		switch {
		case up == nil || seen[it.ID]:
			return fail("file_not_found")
		case !up.uploaded:
			return fail("file_not_found", "file "+it.ID+" was never posted to its upload_url")
		}
		seen[it.ID] = true
	}

	var channels []string
	if id := r.str("channel_id"); id != "" {
		cs, found := s.channels[id]
		if !found {
			return fail("channel_not_found")
		}
		if code := writableLocked(cs); code != "" {
			return fail(code)
		}
		channels = append(channels, cs.ID)
	}
	for id := range strings.SplitSeq(r.str("channels"), ",") {
		if id = strings.TrimSpace(id); id == "" {
			continue
		}
		cs, code := s.resolveChannelLocked(id)
		if code != "" {
			return fail(code)
		}
		if code := writableLocked(cs); code != "" {
			return fail(code)
		}
		if !slices.Contains(channels, cs.ID) {
			channels = append(channels, cs.ID)
		}
	}

	now := s.now()
	out := make([]map[string]any, 0, len(items))
	for _, it := range items {
		up := s.uploads[it.ID]
		delete(s.uploads, it.ID)
		f := up.file
		f.Title = it.Title
		if f.Title == "" {
			f.Title = f.Filename
		}
		f.Channels = channels
		if len(channels) > 0 {
			f.Channel = channels[0]
		}
		f.ThreadTS = r.str("thread_ts")
		f.InitialComment = r.str("initial_comment")
		f.SharedAt = now
		s.files = append(s.files, f)
		out = append(out, s.fileJSON(f))
	}
	return success(map[string]any{"files": out})
}

// fileJSON renders a shared file as files.completeUploadExternal returns
// it.
func (s *Server) fileJSON(f File) map[string]any {
	filetype := f.SnippetType
	if filetype == "" {
		filetype = strings.TrimPrefix(path.Ext(f.Filename), ".")
	}
	mimetype := mime.TypeByExtension(path.Ext(f.Filename))
	if mimetype == "" {
		mimetype = "text/plain"
	}
	channels := f.Channels
	if channels == nil {
		channels = []string{}
	}
	return map[string]any{
		"id":          f.ID,
		"created":     f.SharedAt.Unix(),
		"timestamp":   f.SharedAt.Unix(),
		"name":        f.Filename,
		"title":       f.Title,
		"mimetype":    mimetype,
		"filetype":    filetype,
		"user":        s.cfg.botUserID,
		"user_team":   s.cfg.teamID,
		"size":        len(f.Content),
		"is_external": false,
		"is_public":   false,
		"channels":    channels,
		"alt_txt":     f.AltText,
	}
}
