package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/slack-go/slack"
)

// codeBlockText is the most text one code-block message of a file
// carries: under the 4,000 characters Slack shows before "see more".
const codeBlockText = 3800

// upload gives the user the file: shared in their DM with the app by
// files.uploadV2, or, when Slack refuses that (no files:write scope, files
// disabled in the workspace), sent there as code-block messages.
func (r *Runtime) upload(ctx context.Context, log *slog.Logger, user string, f FileUpload) error {
	dm, _, _, err := r.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}, ReturnIM: true})
	if err != nil {
		return fmt.Errorf("open DM: %w", err)
	}
	_, err = r.api.UploadFileContext(ctx, slack.UploadFileParameters{
		Filename:       f.Filename,
		Title:          f.Title,
		Content:        f.Content,
		FileSize:       len(f.Content),
		Channel:        dm.ID,
		InitialComment: f.Comment,
		SnippetType:    snippetType(f.Filename),
	})
	if err == nil {
		return nil
	}
	log.Warn("files.uploadV2 refused; sending the file as code blocks", "err", withoutURLs(err))
	for i, part := range codeBlocks(f.Content, codeBlockText) {
		text := "```" + part + "```"
		if i == 0 && f.Comment != "" {
			text = f.Comment + "\n" + text
		}
		if _, err := r.sender.Send(ctx, Message{Channel: dm.ID, Text: text, Priority: PriorityInteractive}); err != nil {
			return fmt.Errorf("send file as code block %d: %w", i+1, err)
		}
	}
	return nil
}

// snippetType is Slack's snippet type for a file name's extension.
func snippetType(name string) string {
	if strings.HasSuffix(name, ".md") {
		return "markdown"
	}
	return "text"
}

// codeBlocks cuts text into parts of at most limit bytes, at line ends
// where it can, with the backticks that would end a code block early
// broken up.
func codeBlocks(text string, limit int) []string {
	// One pass leaves "```" in a longer run of backticks ("````" becomes
	// "`\u200b```"), so break runs up until none is left.
	for strings.Contains(text, "```") {
		text = strings.ReplaceAll(text, "```", "`\u200b``")
	}
	var parts []string
	for len(text) > limit {
		cut := strings.LastIndexByte(text[:limit], '\n')
		if cut <= 0 {
			cut = limit
			for cut > 0 && !utf8RuneStart(text[cut]) {
				cut--
			}
		}
		parts = append(parts, text[:cut])
		text = strings.TrimPrefix(text[cut:], "\n")
	}
	if text != "" || len(parts) == 0 {
		parts = append(parts, text)
	}
	return parts
}

// utf8RuneStart reports whether b starts a UTF-8 sequence.
func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
