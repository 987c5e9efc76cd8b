package csbot

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// CSVReader reads one import file of a kind, row by row, without holding
// the file in memory. It matches header names case-insensitively in any
// order (spaces and hyphens count as underscores), ignores unknown columns
// with a warning, and parses each cell by its column's type.
type CSVReader struct {
	kind     ImportKind
	r        *csv.Reader
	idx      []int // for each kind column, its index in the file, or -1
	width    int   // number of header cells
	warnings []string
	zones    map[string]bool
	limit    *recordLimiter
	lastRow  int // the line of the last record read
}

// MaxRecordBytes caps one CSV record (row). A row over it is almost always
// a quote that is never closed, which would make the rest of the file one
// cell; the file is refused rather than read into memory.
const MaxRecordBytes = 1 << 20

// errRecordTooLarge is recordLimiter's error.
var errRecordTooLarge = errors.New("record too large")

// recordLimiter fails a read once max bytes have been read since the last
// reset (CSVReader resets it after every record).
type recordLimiter struct {
	r      io.Reader
	n, max int
}

func (l *recordLimiter) Read(p []byte) (int, error) {
	if l.n >= l.max {
		return 0, errRecordTooLarge
	}
	if len(p) > l.max-l.n {
		p = p[:l.max-l.n]
	}
	n, err := l.r.Read(p)
	l.n += n
	return n, err
}

// NewCSVReader reads the header of r and checks it against kind. It
// returns an *ImportError when the file is empty, is not text, or lacks
// required columns.
func NewCSVReader(kind ImportKind, r io.Reader) (*CSVReader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(4096)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("read %s file: %w", kind.Name, err)
	}
	head = bytes.TrimPrefix(head, []byte("\ufeff"))
	if len(bytes.TrimSpace(head)) == 0 {
		return nil, &ImportError{Kind: kind.Name, Problem: fmt.Sprintf("the file is empty: a %s file starts with a header row: %s", kind.Name, strings.Join(requiredNames(kind), ","))}
	}
	if looksBinary(head) {
		return nil, &ImportError{Kind: kind.Name, Problem: "this is not a CSV text file (it holds binary data); export the sheet as CSV (UTF-8)"}
	}
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\ufeff")) {
		_, _ = br.Discard(3)
	}
	limit := &recordLimiter{r: br, max: MaxRecordBytes}
	cr := csv.NewReader(limit)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, &ImportError{Kind: kind.Name, Problem: fmt.Sprintf("cannot read the header row: %v", err)}
	}
	limit.n = 0
	c := &CSVReader{kind: kind, r: cr, limit: limit, lastRow: 1, idx: make([]int, len(kind.Columns)), width: len(header), zones: map[string]bool{}}
	for i := range c.idx {
		c.idx[i] = -1
	}
	var unknown []string
	seen := map[string]int{}
	for i, h := range header {
		name := normalizeHeader(h)
		if prev, dup := seen[name]; dup && name != "" {
			return nil, &ImportError{Kind: kind.Name, Problem: fmt.Sprintf("column %q appears twice in the header (cells %d and %d)", name, prev+1, i+1)}
		}
		seen[name] = i
		if j := kind.Column(name); j >= 0 {
			c.idx[j] = i
		} else if name != "" {
			unknown = append(unknown, name)
		}
	}
	var missing []string
	for j, col := range kind.Columns {
		if col.Required && c.idx[j] < 0 {
			missing = append(missing, col.Name)
		}
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("missing required column(s) for %s: %s", kind.Name, strings.Join(missing, ", "))
		if hint := headerHints(unknown, kind); hint != "" {
			msg += " (" + hint + ")"
		}
		return nil, &ImportError{Kind: kind.Name, Problem: msg}
	}
	if len(unknown) > 0 {
		w := "ignored unknown column(s): " + strings.Join(unknown, ", ")
		if hint := headerHints(unknown, kind); hint != "" {
			w += " (" + hint + ")"
		}
		c.warnings = append(c.warnings, w)
	}
	return c, nil
}

// Kind returns the kind being read.
func (c *CSVReader) Kind() ImportKind { return c.kind }

// Present reports, for each column of the kind, whether the file has it.
func (c *CSVReader) Present() []bool {
	p := make([]bool, len(c.idx))
	for j, i := range c.idx {
		p[j] = i >= 0
	}
	return p
}

// Warnings returns what was noticed but not refused (ignored columns).
func (c *CSVReader) Warnings() []string { return c.warnings }

// Next reads the next row into values (one per kind column; nil for an
// empty or absent optional cell) and returns its row number. Bad cells are
// returned as row errors, and the row should then be dropped; reading can
// go on. Next returns io.EOF after the last row, and other errors only when
// the file itself cannot be read.
func (c *CSVReader) Next(values []any) (row int, bad []RowError, err error) {
	rec, err := c.r.Read()
	c.limit.n = 0
	if errors.Is(err, errRecordTooLarge) {
		return 0, nil, &ImportError{Kind: c.kind.Name, Problem: fmt.Sprintf(
			"the row after line %d runs past %d MiB: look for a quote (\") that is never closed; nothing was imported",
			c.lastRow, MaxRecordBytes>>20)}
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return pe.StartLine, []RowError{{Row: pe.StartLine, Reason: "malformed CSV: " + pe.Err.Error()}}, nil
		}
		if errors.Is(err, io.EOF) {
			return 0, nil, io.EOF
		}
		return 0, nil, fmt.Errorf("read %s file: %w", c.kind.Name, err)
	}
	row, _ = c.r.FieldPos(0)
	c.lastRow = row
	if len(rec) != c.width {
		return row, []RowError{{Row: row, Reason: fmt.Sprintf("has %d cells but the header has %d", len(rec), c.width)}}, nil
	}
	for j, col := range c.kind.Columns {
		values[j] = nil
		i := c.idx[j]
		if i < 0 {
			continue
		}
		v, err := c.parseCell(col, rec[i])
		if err != nil {
			bad = append(bad, RowError{Row: row, Column: col.Name, Reason: err.Error()})
			continue
		}
		values[j] = v
	}
	return row, bad, nil
}

// parseCell parses one cell; an empty optional cell is nil.
func (c *CSVReader) parseCell(col Column, s string) (any, error) {
	s, err := CleanText(s) // every cell: valid UTF-8, no NUL, bounded
	if err != nil {
		return nil, err
	}
	if s == "" {
		if col.Required {
			return nil, errors.New("required, but empty")
		}
		return nil, nil
	}
	switch col.Type {
	case ColText:
		return s, nil
	case ColID:
		if len(s) > 200 {
			return nil, errors.New("id longer than 200 characters")
		}
		return s, nil
	case ColMoney:
		v, err := ParseMoney(s)
		return int64(v), err
	case ColDate:
		return ParseDate(s)
	case ColTimestamp:
		return ParseTimestamp(s)
	case ColCount:
		return ParseCount(s, 1<<31-1)
	case ColNPS:
		n, err := ParseCount(s, 1<<31-1)
		if err != nil || n > 10 {
			return nil, errors.New("not an NPS score (a whole number 0..10)")
		}
		return n, nil
	case ColBool:
		return ParseBool(s)
	case ColEnum:
		return ParseEnum(s, col.Enum)
	case ColPerson:
		return ParsePerson(s)
	case ColSlackUser:
		if !IsSlackUserID(s) {
			return nil, errors.New("not a Slack user id (e.g. U012AB3CD)")
		}
		return s, nil
	case ColChannel:
		if !IsSlackChannelID(s) {
			return nil, errors.New("not a Slack channel id (e.g. C012AB3CD; find it in the channel's details)")
		}
		return s, nil
	case ColEmail:
		return ParseEmail(s)
	case ColTimezone:
		tz, err := ParseTimezone(s)
		if err != nil {
			return nil, err
		}
		known, checked := c.zones[tz]
		if !checked {
			_, lerr := time.LoadLocation(tz)
			known = lerr == nil
			c.zones[tz] = known
		}
		if !known {
			return nil, errors.New("unknown time zone (use an IANA name, e.g. Europe/Berlin)")
		}
		return tz, nil
	}
	return nil, fmt.Errorf("column type %d not handled", col.Type)
}

func normalizeHeader(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	h = strings.NewReplacer(" ", "_", "-", "_").Replace(h)
	return h
}

func requiredNames(k ImportKind) []string {
	var names []string
	for _, c := range k.Columns {
		if c.Required {
			names = append(names, c.Name)
		}
	}
	return names
}

// headerHints suggests known column names for unknown ones that look like
// typos.
func headerHints(unknown []string, kind ImportKind) string {
	names := make([]string, len(kind.Columns))
	for i, c := range kind.Columns {
		names[i] = c.Name
	}
	var hints []string
	for _, u := range unknown {
		if best, ok := closest(u, names); ok {
			hints = append(hints, fmt.Sprintf("%q looks like %q", u, best))
		}
	}
	return strings.Join(hints, "; ")
}

// looksBinary reports whether the start of a file is not text: it holds
// NUL bytes or is not UTF-8.
func looksBinary(head []byte) bool {
	if bytes.IndexByte(head, 0) >= 0 {
		return true
	}
	// A peek may cut a multi-byte rune at its end; allow that.
	for len(head) > 0 {
		r, size := utf8.DecodeRune(head)
		if r == utf8.RuneError && size <= 1 {
			return len(head) >= utf8.UTFMax
		}
		head = head[size:]
	}
	return false
}
