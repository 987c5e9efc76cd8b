package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath returns the Chromium to drive: /usr/bin/chromium, or
// chromium on PATH. Without one the test is skipped, or fails in CI
// (CI=true), where .ci/run installs it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "chromium"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	const msg = "chromium must be installed for the browser test (apt-get install -y --no-install-recommends chromium)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg + "; skipped")
	return ""
}

// artifactDir returns where the test's screenshots go: $CSBOT_ARTIFACTS
// when set, else the test's temporary directory.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CSBOT_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// newBrowser starts a headless Chromium for the test, on a fresh profile,
// with nothing that reaches for the network on its own.
func newBrowser(ctx context.Context, t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	return bctx
}

// pageErrors collects the uncaught exceptions and console errors of the
// page while the test runs.
type pageErrors struct {
	mu   sync.Mutex
	errs []string
}

func watchPageErrors(ctx context.Context) *pageErrors {
	pe := &pageErrors{}
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	console := chromedp.Events(ctx, runtime.ConsoleAPICalled)
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			pe.add(fmt.Sprintf("exception: %s", ev.ExceptionDetails.Text))
		}
	}()
	go func() {
		for ev, err := range console {
			if err != nil {
				return
			}
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				pe.add(fmt.Sprintf("console.error: %v", ev.Args))
			}
		}
	}()
	return pe
}

func (pe *pageErrors) add(s string) {
	pe.mu.Lock()
	defer pe.mu.Unlock()
	pe.errs = append(pe.errs, s)
}

func (pe *pageErrors) list() []string {
	pe.mu.Lock()
	defer pe.mu.Unlock()
	return append([]string(nil), pe.errs...)
}

// TestPlaygroundInTheBrowser uses the playground as a person would, in
// headless Chromium, against csbot itself on a demo book: pick a CSM, open
// their account's channel, type /health for the account, see the card,
// open "Override health" from it, submit the form without a band or score
// and see csbot's error on the field, fill it in, submit, see the form
// close and csbot's confirmation in the DM. It saves screenshots.
func TestPlaygroundInTheBrowser(t *testing.T) {
	chromiumPath(t) // skip early, before the database
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	p := startPlayground(ctx, t)
	started := time.Since(began)
	dir := artifactDir(t)

	b := newBrowser(ctx, t)
	errs := watchPageErrors(b)
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(b, chromedp.CaptureScreenshot())
		if err != nil {
			t.Errorf("screenshot %s: %v", name, err)
			return
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Errorf("screenshot %s: %v", name, err)
			return
		}
		t.Logf("screenshot: %s", path)
	}
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(b, actions...); err != nil {
			shot("playground-failed.png")
			t.Fatalf("%s: %v\npage errors: %v", what, err, errs.list())
		}
	}
	// navigate is step for clicks that only move between channels, which
	// may be tried again: the sidebar is redrawn when a message arrives,
	// and a link found just before that is gone when clicked.
	navigate := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		for attempt := 1; ; attempt++ {
			err := chromedp.Do(b, actions...)
			if err == nil {
				return
			}
			if attempt == 5 || !strings.Contains(err.Error(), "Could not find node") {
				shot("playground-failed.png")
				t.Fatalf("%s: %v\npage errors: %v", what, err, errs.list())
			}
			t.Logf("%s: the page changed under the click (%v); again", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(b, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}

	// Open the page and pick the CSM.
	step("open the page", chromedp.Navigate(p.url), chromedp.WaitVisible(chromedp.CSS("#command")))
	loaded := time.Since(began) - started
	// The schedules' first run delivers the book's first notifications;
	// once it is done, nothing moves on the page but what the test does.
	step("wait for the schedules' first run",
		chromedp.WaitVisible(chromedp.Search(`//span[contains(@class,"clock-status")][starts-with(normalize-space(.),"Ran the schedules at")]`)))
	step("pick the CSM",
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.querySelector('#person'); s.value = %q;
			s.dispatchEvent(new Event('change', { bubbles: true })); })()`, p.csm.SlackID)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`body[data-as=%q]`, p.csm.SlackID))))
	if got := text(".who .me"); !strings.HasPrefix(got, "csm") {
		t.Errorf("the person's role reads %q", got)
	}
	navigate("open the account's channel",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#channels a[href*=%q]`, "in="+url.QueryEscape(p.account.SlackChannelID)))),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`body[data-in=%q]`, p.account.SlackChannelID))))

	// /health for the account: the card.
	step("type /health",
		chromedp.WaitVisible(chromedp.CSS(`body[data-live="true"]`)),
		chromedp.SendKeys(chromedp.CSS("#command"), "/health "+p.account.Name),
		chromedp.Click(chromedp.CSS(`#composer button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.msg.ephemeral .block.header`)))
	if got := text(".msg.ephemeral .block.header"); !strings.Contains(got, p.account.Name) {
		t.Errorf("the card's header reads %q, want the account %q", got, p.account.Name)
	}
	if got := text(".msg.ephemeral .only-you"); got != "Only visible to you" {
		t.Errorf("the card is marked %q", got)
	}
	if got := text(".cmd code"); got != "/health "+p.account.Name {
		t.Errorf("the command shown is %q", got)
	}
	shot("playground-health-card.png")
	// Again: the live update carries the new items alone, which the page
	// adds to those it holds (the first card stays the same element).
	step("mark the first card",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#feed .msg.ephemeral').dataset.marked = 'yes'`))
	step("type /health again",
		chromedp.SendKeys(chromedp.CSS("#command"), "/health "+p.account.Name),
		chromedp.Click(chromedp.CSS(`#composer button[type=submit]`)),
		chromedp.WaitVisible(chromedp.Search(`(//div[contains(@class,"ephemeral")]//h2[contains(@class,"header")])[2]`)))
	cards, err := chromedp.Run(b, chromedp.Evaluate[int](`document.querySelectorAll('#feed > .item .msg.ephemeral .block.header').length`))
	if err != nil {
		t.Fatal(err)
	}
	if cards != 2 {
		t.Errorf("the page shows %d health cards after two /health, want 2", cards)
	}
	if marked, err := chromedp.Run(b, chromedp.Evaluate[int](`document.querySelectorAll('#feed .msg.ephemeral[data-marked=yes]').length`)); err != nil || marked != 1 {
		t.Errorf("the first card was rendered again (%d marked, %v), want it kept as the second came", marked, err)
	}

	// "Override health" opens the form; csbot refuses it without a band
	// or score, on the field.
	step("open the override form",
		chromedp.Click(chromedp.Search(`//div[contains(@class,"ephemeral")]//button[normalize-space(.)="Override health"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#modal form.modal [data-block-id="note"] textarea`)))
	if got := text("#modal-title"); got != "Override health" {
		t.Errorf("the form's title is %q", got)
	}
	step("submit without band or score",
		chromedp.SendKeys(chromedp.CSS(`#modal [data-block-id="note"] textarea`), "Exec sponsor confirmed the renewal on our call"),
		chromedp.Click(chromedp.CSS(`#modal button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#modal [data-block-id="band"].has-error .error`)))
	if got := text(`#modal [data-block-id="band"] .error`); !strings.Contains(got, "band") {
		t.Errorf("the error on the band reads %q", got)
	}
	shot("playground-override-error.png")
	step("fill in band and score and submit",
		chromedp.SetValue(chromedp.CSS(`#modal [data-block-id="band"] select`), "red"),
		chromedp.SendKeys(chromedp.CSS(`#modal [data-block-id="score"] input`), "35"),
		chromedp.Click(chromedp.CSS(`#modal button[type=submit]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#modal form.modal`)))

	// csbot confirms in the DM.
	navigate("open the DM with csbot",
		chromedp.Click(chromedp.CSS(`#channels a.chan:first-of-type`)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-in^="D"]`)),
		chromedp.WaitVisible(chromedp.Search(`//div[contains(@class,"msg")]//div[contains(@class,"md")][contains(., "Saved your view of")]`)))
	confirmation, err := chromedp.Run(b, chromedp.Text(chromedp.Search(`//div[contains(@class,"md")][contains(., "Saved your view of")]`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(confirmation, p.account.Name) || !strings.Contains(confirmation, "35") {
		t.Errorf("the confirmation reads %q, want the account and the score", confirmation)
	}
	shot("playground-dm.png")

	if e := errs.list(); len(e) > 0 {
		t.Errorf("the page had errors: %v", e)
	}
	t.Logf("csbot up in %v, page loaded in %v, whole run %v", started.Round(time.Millisecond),
		loaded.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}
