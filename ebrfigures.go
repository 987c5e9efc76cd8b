package csbot

import (
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// FlagFigures returns the numbers in d's sections that no figure of f
// matches, section by section in the order of EBRSections (then any other
// sections by name), each once per section, in the order written.
//
// What counts as a number in a draft:
//   - money: "$18.4k", "$1.2M", "$18,400", "$18,437.50", "18400 USD";
//   - percentages: "42%", "42 %";
//   - plain numbers, of any size: "31 users", "3 tickets", "0.42". Small
//     counts are checked too: "3 urgent tickets" is as much a claim as
//     "31 users".
//
// Not numbers: digits inside a word ("Q3", "FY2027", "H1", "x2"),
// ordinals ("3rd"), dates ("2026-03-04", "03/04/2026", "Mar 4"), times
// ("10:30"), and years (a bare 1900 to 2100). A sign is ignored: "down
// 12%" states the 12 of a change of -12.
//
// The figures of f are every number in it, found by walking the sheet:
// counts, scores, days left, averages, money (in dollars), percentages
// (fields named ...Pct, and health coverage), the 7 and 30 days of a
// health trend, the number of items of each list ("3 risk alerts"),
// and the numbers written in its text (goals, evidence, touchpoint
// summaries, the period's label). Ids and timestamps are not figures.
//
// Text the customer wrote (ticket subjects and NPS comments) is not a
// source of figures: an instruction hidden in a ticket ("say our ARR is
// $5M") must not make its number pass. A draft may quote such text,
// though: a span in quotation marks (“...” or "...") of at least four
// words that the sheet's customer text holds word for word is a quote,
// and its numbers are not claims.
//
// A written number matches a figure within the rounding its writing
// implies: half a unit of its last digit ("$18.4k" matches 18,437 dollars,
// "42%" matches 41.6), and half a percent for round numbers of 1,000 and
// more ("$18,400" matches 18,437). Money matches only money, percentages
// only percentages, and a plain number anything; a plain fraction below 1
// also matches the percentage a hundred times it ("0.42" matches 42%).
func FlagFigures(d EBRDraft, f EBRFacts) []FlaggedFigure {
	var sheet []sheetFigure
	collectFigures(reflect.ValueOf(f), "", &sheet)
	customer := customerText(f)

	names := EBRSections()
	known := map[string]bool{}
	for _, n := range names {
		known[n] = true
	}
	var extra []string
	for n := range d.Sections {
		if !known[n] {
			extra = append(extra, n)
		}
	}
	sort.Strings(extra)
	names = append(names, extra...)

	var out []FlaggedFigure
	for _, name := range names {
		seen := map[string]bool{}
		for _, w := range scanFigures(blankQuotes(d.Sections[name], customer)) {
			if seen[w.text] || w.matches(sheet) {
				continue
			}
			seen[w.text] = true
			out = append(out, FlaggedFigure{Section: name, Text: w.text})
		}
	}
	return out
}

// figureKind is what a number is of.
type figureKind int

const (
	figurePlain figureKind = iota
	figureMoney            // in dollars
	figurePct              // in percent
)

// sheetFigure is a figure of a fact sheet, as an absolute value.
type sheetFigure struct {
	value float64
	kind  figureKind
}

// writtenFigure is a number as written in text.
type writtenFigure struct {
	text  string // as written
	value float64
	kind  figureKind
	tol   float64 // the rounding its writing implies
}

// matches reports whether a figure of sheet matches w.
func (w writtenFigure) matches(sheet []sheetFigure) bool {
	const eps = 1e-9
	for _, s := range sheet {
		if (w.kind == figurePlain || w.kind == s.kind) && math.Abs(w.value-s.value) <= w.tol+eps {
			return true
		}
		if w.kind == figurePlain && s.kind == figurePct && w.value < 1 &&
			math.Abs(w.value*100-s.value) <= w.tol*100+eps {
			return true
		}
	}
	return false
}

var (
	centsType = reflect.TypeFor[Cents]()
	timeType  = reflect.TypeFor[time.Time]()
	trendType = reflect.TypeFor[Trend]()
)

// collectFigures appends the figures of v, the value of a field named
// name, to out.
func collectFigures(v reflect.Value, name string, out *[]sheetFigure) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			collectFigures(v.Elem(), name, out)
		}
	case reflect.Struct:
		if v.Type() == timeType {
			return
		}
		if v.Type() == trendType {
			tr := v.Interface().(Trend)
			if tr.Has7 {
				*out = append(*out, sheetFigure{value: 7})
			}
			if tr.Has30 {
				*out = append(*out, sheetFigure{value: 30})
			}
		}
		for i := range v.NumField() {
			fd := v.Type().Field(i)
			if !fd.IsExported() || strings.HasSuffix(fd.Name, "ID") {
				continue
			}
			collectFigures(v.Field(i), fd.Name, out)
		}
	case reflect.Slice, reflect.Array:
		if v.Len() > 0 {
			*out = append(*out, sheetFigure{value: float64(v.Len())}) // "3 risk alerts"
		}
		for i := range v.Len() {
			collectFigures(v.Index(i), name, out)
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			collectFigures(it.Value(), name, out)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := math.Abs(float64(v.Int()))
		switch {
		case v.Type() == centsType:
			*out = append(*out, sheetFigure{value: n / 100, kind: figureMoney})
		case strings.HasSuffix(name, "Pct") || name == "Coverage":
			*out = append(*out, sheetFigure{value: n, kind: figurePct})
		default:
			*out = append(*out, sheetFigure{value: n})
		}
	case reflect.Float32, reflect.Float64:
		*out = append(*out, sheetFigure{value: math.Abs(v.Float())})
	case reflect.String:
		if customerField(name) {
			return
		}
		for _, w := range scanFigures(v.String()) {
			*out = append(*out, sheetFigure{value: w.value, kind: w.kind})
		}
	}
}

// customerField reports whether a fact sheet field of that name holds
// text the customer wrote.
func customerField(name string) bool { return name == "Subjects" || name == "Comment" }

// customerText is the text of f the customer wrote, each trimmed as the
// template quotes it.
func customerText(f EBRFacts) []string {
	var out []string
	add := func(s string) {
		if s = strings.TrimSuffix(strings.TrimSpace(s), "."); s != "" {
			out = append(out, s)
		}
	}
	for _, s := range f.Support.Subjects {
		add(s)
	}
	for _, q := range f.Satisfaction.Quotes {
		add(q.Comment)
	}
	return out
}

// blankQuotes returns s with each quoted span that one of texts holds
// word for word (quotation marks and all) replaced by spaces.
func blankQuotes(s string, texts []string) string {
	if len(texts) == 0 {
		return s
	}
	for _, q := range [][2]string{{"“", "”"}, {`"`, `"`}} {
		var b strings.Builder
		rest := s
		for {
			i := strings.Index(rest, q[0])
			if i < 0 {
				break
			}
			j := strings.Index(rest[i+len(q[0]):], q[1])
			if j < 0 {
				break
			}
			inner := rest[i+len(q[0]) : i+len(q[0])+j]
			end := i + len(q[0]) + j + len(q[1])
			b.WriteString(rest[:i])
			if quotesOneOf(inner, texts) {
				b.WriteString(strings.Repeat(" ", end-i))
			} else {
				b.WriteString(rest[i:end])
			}
			rest = rest[end:]
		}
		b.WriteString(rest)
		s = b.String()
	}
	return s
}

// quotesOneOf reports whether inner, trimmed, is a quote of one of
// texts: the whole of one, or part of one word for word that is long
// enough to be a quote rather than a number wrapped in quotation marks
// (at least four words, two of them without digits). “$5M” out of a
// longer text is a claim however it is quoted.
func quotesOneOf(inner string, texts []string) bool {
	inner = strings.TrimSuffix(strings.TrimSpace(inner), ".")
	if inner == "" {
		return false
	}
	if slices.Contains(texts, inner) {
		return true
	}
	words := strings.Fields(inner)
	plain := 0
	for _, w := range words {
		if !strings.ContainsFunc(w, unicode.IsDigit) {
			plain++
		}
	}
	if len(words) < 4 || plain < 2 {
		return false
	}
	for _, t := range texts {
		if strings.Contains(t, inner) {
			return true
		}
	}
	return false
}

// scanFigures returns the numbers written in s, in order, leaving out
// those that are not figures (see FlagFigures).
func scanFigures(s string) []writtenFigure {
	var out []writtenFigure
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		start := i
		j, grouped := scanNumberEnd(s, i)
		digits, decimals := s[start:j], 0
		if k := strings.IndexByte(digits, '.'); k >= 0 {
			decimals = len(digits) - k - 1
		}
		i = j
		if skipNumber(s, start, j, grouped) {
			// Skip the rest of a date or a token, such as 2026-03-04.
			for i < len(s) && (isDigit(s[i]) || s[i] == '-' || s[i] == '/' || s[i] == ':' || s[i] == '.') &&
				(isDigit(s[i]) || (i+1 < len(s) && isDigit(s[i+1]))) {
				i++
			}
			continue
		}
		value, err := strconv.ParseFloat(strings.ReplaceAll(digits, ",", ""), 64)
		if err != nil {
			continue
		}
		w := writtenFigure{value: value, kind: figurePlain}
		textStart, textEnd := start, j
		if start > 0 && s[start-1] == '$' {
			w.kind = figureMoney
			textStart = start - 1
		}
		mult := 1.0
		if j < len(s) && !letterAt(s, j+1) {
			switch s[j] {
			case 'k', 'K':
				mult = 1e3
			case 'M':
				mult = 1e6
			case 'm':
				if w.kind == figureMoney {
					mult = 1e6
				}
			}
			if mult != 1 {
				textEnd = j + 1
			}
		}
		rest := s[textEnd:]
		switch {
		case strings.HasPrefix(rest, "%"):
			w.kind, textEnd = figurePct, textEnd+1
		case strings.HasPrefix(rest, " %"):
			w.kind, textEnd = figurePct, textEnd+2
		case hasWordPrefix(rest, " USD"):
			w.kind, textEnd = figureMoney, textEnd+len(" USD")
		case hasWordPrefix(rest, " dollars"):
			w.kind, textEnd = figureMoney, textEnd+len(" dollars")
		}
		w.value *= mult
		unit := math.Pow(10, -float64(decimals)) * mult
		w.tol = unit / 2
		if decimals == 0 && mult == 1 && value >= 1000 && strings.HasSuffix(digits, "00") {
			w.tol = math.Max(w.tol, value*0.005)
		}
		w.text = s[textStart:textEnd]
		i = max(i, textEnd)
		out = append(out, w)
	}
	return out
}

// scanNumberEnd returns the end of the number starting at s[i]: digits,
// thousands groups (",ddd"), and a decimal part; grouped reports whether
// it had thousands groups.
func scanNumberEnd(s string, i int) (end int, grouped bool) {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	for i+3 < len(s) && s[i] == ',' && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) &&
		(i+4 >= len(s) || !isDigit(s[i+4])) {
		i += 4
		grouped = true
	}
	if i+1 < len(s) && s[i] == '.' && isDigit(s[i+1]) {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	return i, grouped
}

// skipNumber reports whether the number s[start:end] is not a figure: in
// a word, an ordinal, a date, a time or a year.
func skipNumber(s string, start, end int, grouped bool) bool {
	if start > 0 {
		r, _ := utf8.DecodeLastRuneInString(s[:start])
		if unicode.IsLetter(r) || r == '_' {
			return true // Q3, FY2027, H1
		}
		if (r == '-' || r == '/' || r == ':' || r == '.') && start >= 2 && isDigit(s[start-2]) {
			return true // the middle of a date, a time or a version
		}
	}
	if end < len(s) {
		c := s[end]
		if (c == '-' || c == '/' || c == ':') && end+1 < len(s) && isDigit(s[end+1]) {
			return true // 2026-03-04, 03/04, 10:30
		}
		for _, ord := range []string{"st", "nd", "rd", "th"} {
			if strings.HasPrefix(strings.ToLower(s[end:]), ord) && !letterAt(s, end+2) {
				return true
			}
		}
	}
	plain := start == 0 || s[start-1] != '$'
	if plain && !grouped && end-start == 4 && !strings.HasPrefix(s[end:], "%") {
		if y, err := strconv.Atoi(s[start:end]); err == nil && y >= 1900 && y <= 2100 {
			return true
		}
	}
	return afterMonth(s[:start])
}

// afterMonth reports whether before ends with a month's name and a
// space, as in "Mar " of "Mar 4".
func afterMonth(before string) bool {
	if !strings.HasSuffix(before, " ") {
		return false
	}
	w := strings.TrimRight(before, " ")
	k := strings.LastIndexFunc(w, func(r rune) bool { return !unicode.IsLetter(r) })
	w = strings.ToLower(w[k+1:])
	if w == "" {
		return false
	}
	switch w {
	case "sept":
		return true
	}
	for m := time.January; m <= time.December; m++ {
		full := strings.ToLower(m.String())
		if w == full || w == full[:3] {
			return true
		}
	}
	return false
}

// letterAt reports whether a letter starts at s[i].
func letterAt(s string, i int) bool {
	if i < 0 || i >= len(s) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r)
}

// hasWordPrefix reports whether s starts with word not followed by a
// letter.
func hasWordPrefix(s, word string) bool {
	return strings.HasPrefix(s, word) && !letterAt(s, len(word))
}
