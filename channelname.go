package csbot

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// DefaultChannelPattern names account channels unless the configuration
// (CSBOT_CHANNEL_PATTERN) says otherwise.
const DefaultChannelPattern = "acct-{name}"

// MaxChannelName is Slack's limit on the length of a channel name.
const MaxChannelName = 80

// The placeholders of a channel pattern.
const (
	placeholderName       = "{name}"
	placeholderExternalID = "{external_id}"
	placeholderDomain     = "{domain}"
)

// bracedWord finds the placeholders of a pattern.
var bracedWord = regexp.MustCompile(`\{[^{}]*\}`)

// MinChannelPatternText is how many letters or digits of its own a
// channel pattern must hold besides its placeholders (see
// CheckChannelPattern).
const MinChannelPatternText = 2

// CheckChannelPattern returns an error when pattern cannot name account
// channels: it must hold {name} or {external_id}, or every account would
// get the same name; no placeholder other than those and {domain}; and
// at least MinChannelPatternText letters or digits of its own outside the
// placeholders ("acct-{name}", not "{name}" or "{name}-"), so that an
// account's channel is never named like a channel of another purpose: an
// account named "General" or "Sales" would otherwise get #general or
// #sales, and csbot would take that channel for the account's.
func CheckChannelPattern(pattern string) error {
	for _, p := range bracedWord.FindAllString(pattern, -1) {
		if p != placeholderName && p != placeholderExternalID && p != placeholderDomain {
			return fmt.Errorf("channel pattern %q: unknown placeholder %s (use {name}, {external_id} or {domain})", pattern, p)
		}
	}
	if !strings.Contains(pattern, placeholderName) && !strings.Contains(pattern, placeholderExternalID) {
		return fmt.Errorf("channel pattern %q names no account: put {name} or {external_id} in it, e.g. %q", pattern, DefaultChannelPattern)
	}
	// The text of its own, as it ends up in the channel names.
	own := SlugChannelName(bracedWord.ReplaceAllString(pattern, " "))
	n := 0
	for _, r := range own {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			n++
		}
	}
	if n < MinChannelPatternText {
		return fmt.Errorf("channel pattern %q needs at least %d letters or digits of its own besides the placeholders, e.g. %q: "+
			"otherwise an account named like an existing channel (\"General\" gives #general) would take that channel", pattern, MinChannelPatternText, DefaultChannelPattern)
	}
	return nil
}

// ChannelName is the Slack channel name of account a under pattern (see
// CheckChannelPattern): its placeholders replaced by the account's name,
// CRM id and domain, and the whole made a name Slack accepts
// (SlugChannelName). A name that leaves nothing once slugged ("株式会社")
// is replaced by the CRM id, or else the internal id, so that every
// account gets a name of its own.
func ChannelName(pattern string, a Account) string {
	name := SlugChannelName(a.Name)
	ext := SlugChannelName(a.ExternalID)
	id := strconv.FormatInt(a.ID, 10)
	if ext == "" {
		ext = id
	}
	if name == "" {
		name = ext
	}
	r := strings.NewReplacer(placeholderName, name, placeholderExternalID, ext, placeholderDomain, SlugChannelName(a.Domain))
	return SlugChannelName(r.Replace(pattern))
}

// SlugChannelName turns s into a channel name Slack accepts: lowercase;
// accents dropped ("Café" gives "cafe"); only a-z, 0-9, "-" and "_", with
// every run of other characters one "-"; no "-" or "_" at either end; at
// most MaxChannelName characters. It returns "" when nothing is left.
func SlugChannelName(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		var out string
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '-':
			out = string(r)
		case r > unicode.MaxASCII:
			out = foldLatin(r)
		}
		if out == "" {
			dash = true
			continue
		}
		if dash && b.Len() > 0 {
			b.WriteByte('-')
		}
		dash = false
		b.WriteString(out)
	}
	slug := b.String()
	// Runs of separators typed in the name itself ("a - b") become one.
	for strings.Contains(slug, "--") {
		slug = strings.ReplaceAll(slug, "--", "-")
	}
	slug = strings.Trim(slug, "-_")
	if len(slug) > MaxChannelName {
		slug = strings.TrimRight(slug[:MaxChannelName], "-_")
	}
	return slug
}

// foldLatin spells a lowercase accented Latin letter in ASCII: "é" is
// "e", "ß" is "ss"; "" for anything else.
func foldLatin(r rune) string {
	switch r {
	case 'à', 'á', 'â', 'ã', 'ä', 'å', 'ā', 'ă', 'ą':
		return "a"
	case 'æ':
		return "ae"
	case 'ç', 'ć', 'č', 'ĉ', 'ċ':
		return "c"
	case 'ď', 'đ', 'ð':
		return "d"
	case 'è', 'é', 'ê', 'ë', 'ē', 'ĕ', 'ė', 'ę', 'ě':
		return "e"
	case 'ĝ', 'ğ', 'ġ', 'ģ':
		return "g"
	case 'ĥ', 'ħ':
		return "h"
	case 'ì', 'í', 'î', 'ï', 'ĩ', 'ī', 'ĭ', 'į', 'ı':
		return "i"
	case 'ĵ':
		return "j"
	case 'ķ':
		return "k"
	case 'ĺ', 'ļ', 'ľ', 'ŀ', 'ł':
		return "l"
	case 'ñ', 'ń', 'ņ', 'ň':
		return "n"
	case 'ò', 'ó', 'ô', 'õ', 'ö', 'ø', 'ō', 'ŏ', 'ő':
		return "o"
	case 'œ':
		return "oe"
	case 'ŕ', 'ŗ', 'ř':
		return "r"
	case 'ś', 'ŝ', 'ş', 'š', 'ș':
		return "s"
	case 'ß':
		return "ss"
	case 'ţ', 'ť', 'ŧ', 'ț':
		return "t"
	case 'þ':
		return "th"
	case 'ù', 'ú', 'û', 'ü', 'ũ', 'ū', 'ŭ', 'ů', 'ű', 'ų':
		return "u"
	case 'ŵ':
		return "w"
	case 'ý', 'ÿ', 'ŷ':
		return "y"
	case 'ź', 'ż', 'ž':
		return "z"
	}
	return ""
}
