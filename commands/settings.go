package commands

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/slack-go/slack"
)

// settingsCallback is the callback_id of the alert settings modal that
// /health settings opens. Its inputs are one static select per signal
// kind, each block_id and action_id the kind, each value a csbot.Route.
// Its private_metadata is settingsFromHome when the App Home opened it.
const settingsCallback = "notify_settings"

// settingsIntro opens the alert settings modal.
const settingsIntro = "Where should each kind of alert reach you? Defaults come from your team's policy."

// msgNoSettings answers someone csbot does not know: they have no alert
// settings, as no alert is routed by their choices.
const msgNoSettings = "Alert settings are for members of the customer success team that csbot knows, and csbot doesn't know you yet. Ask an admin to add you to csbot's users."

// registerSettings routes the alert settings modal.
func (c *Commands) registerSettings(r Registrar) {
	r.HandleView(settingsCallback, bot.ViewHandler{Validate: c.validateSettings, Submit: c.submitSettings})
}

// routeLabel names a route in the modal's choices.
func routeLabel(r csbot.Route) string {
	switch r {
	case csbot.RouteChannel:
		return "Account channel"
	case csbot.RouteDM:
		return "Direct message"
	case csbot.RouteDigest:
		return "Weekly digest only"
	case csbot.RouteOff:
		return "Off"
	}
	return string(r)
}

// routeWords names a route within a sentence: "direct message".
func routeWords(r csbot.Route) string { return strings.ToLower(routeLabel(r)) }

// settings answers /health settings: the alert settings modal of the
// caller, or a refusal for someone csbot does not know.
func (c *Commands) settings(ctx context.Context, req bot.Request) (bot.Reply, error) {
	if !req.Actor.CanChange() {
		return usage(msgNoSettings), nil
	}
	prefs, err := c.cfg.Store.NotifyPrefs(ctx, req.Actor.SlackID)
	if errors.Is(err, csbot.ErrNotFound) {
		return usage(msgNoSettings), nil
	} else if err != nil {
		return bot.Reply{}, fmt.Errorf("alert settings of %s: %w", req.Actor.SlackID, err)
	}
	m := settingsModal(prefs, c.cfg.Policy)
	return bot.Reply{OpenView: &m}, nil
}

// settingsModal is the alert settings form of someone with prefs under
// policy p: each kind preset to the route its alerts take now.
func settingsModal(prefs csbot.NotifyPrefs, p csbot.Policy) slack.ModalViewRequest {
	kinds := csbot.SignalKinds()
	blocks := []slack.Block{bot.FitSection(settingsIntro), slack.NewContextBlock("settings_defaults",
		slack.NewTextBlockObject(slack.MarkdownType, settingsDefaultsLine(prefs, p), false, false))}
	for _, k := range kinds {
		route := prefs.Route(k, p)
		def := p.Notifications.DefaultRoute(k)
		var options []*slack.OptionBlockObject
		var initial *slack.OptionBlockObject
		for _, r := range csbot.Routes() {
			o := slack.NewOptionBlockObject(string(r), plainText(routeLabel(r)), nil)
			options = append(options, o)
			if r == route {
				initial = o
			}
		}
		sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plainText("Choose where"), string(k), options...)
		sel.InitialOption = initial
		blocks = append(blocks, slack.NewInputBlock(string(k), plainText(k.Title()),
			plainText("Team default: "+routeWords(def)+"."), sel))
	}
	return slack.ModalViewRequest{
		Type:       slack.VTModal,
		Title:      plainText("Alert settings"),
		Submit:     plainText("Save"),
		Close:      plainText("Cancel"),
		CallbackID: settingsCallback,
		Blocks:     slack.Blocks{BlockSet: blocks},
	}
}

// settingsDefaultsLine says which kinds are on the team's default and
// which the person chose otherwise.
func settingsDefaultsLine(prefs csbot.NotifyPrefs, p csbot.Policy) string {
	var own []string
	for _, k := range csbot.SignalKinds() {
		if prefs.Route(k, p) != p.Notifications.DefaultRoute(k) {
			own = append(own, k.Title())
		}
	}
	const follow = " A kind left on the default follows your team's policy if it changes."
	switch len(own) {
	case 0:
		return "Every kind is on your team's default." + follow
	case len(csbot.SignalKinds()):
		return "You chose your own route for every kind; none is on your team's default." + follow
	}
	return fmt.Sprintf("On your team's default: all but %s, which you chose yourself.%s", andJoin(own), follow)
}

// parseSettings reads the alert settings modal's values: the route chosen
// per kind. A kind the form does not carry is left out (a modal opened
// before csbot knew it); a value that is not a route is a problem, by
// block_id.
func parseSettings(values map[string]map[string]slack.BlockAction) (map[csbot.SignalKind]csbot.Route, map[string]string) {
	chosen := map[csbot.SignalKind]csbot.Route{}
	problems := map[string]string{}
	for _, k := range csbot.SignalKinds() {
		a, ok := values[string(k)][string(k)]
		if !ok {
			continue
		}
		r := csbot.Route(a.SelectedOption.Value)
		if !r.Valid() {
			problems[string(k)] = "Choose account channel, direct message, weekly digest only or off."
			continue
		}
		chosen[k] = r
	}
	if len(problems) == 0 {
		problems = nil
	}
	return chosen, problems
}

// applySettings returns prefs with the routes chosen: a route equal to
// the policy's default is dropped, so that the kind follows the policy;
// kinds not chosen keep their route.
func applySettings(prefs csbot.NotifyPrefs, chosen map[csbot.SignalKind]csbot.Route, p csbot.Policy) csbot.NotifyPrefs {
	out := csbot.NotifyPrefs{Alerts: map[csbot.SignalKind]csbot.Route{}}
	for k, r := range prefs.Alerts {
		if r.Valid() && r != p.Notifications.DefaultRoute(k) {
			out.Alerts[k] = r
		}
	}
	for k, r := range chosen {
		if r == p.Notifications.DefaultRoute(k) {
			delete(out.Alerts, k)
		} else {
			out.Alerts[k] = r
		}
	}
	return out
}

// settingsChanges lists, in the order of the kinds, the routes that differ
// between before and after: "Usage dropped: direct message (was account
// channel)".
func settingsChanges(before, after csbot.NotifyPrefs, p csbot.Policy) []string {
	var out []string
	for _, k := range csbot.SignalKinds() {
		was, now := before.Route(k, p), after.Route(k, p)
		if was != now {
			out = append(out, fmt.Sprintf("%s: %s (was %s)", k.Title(), routeWords(now), routeWords(was)))
		}
	}
	return out
}

// validateSettings checks the alert settings modal before it closes: the
// values, and that csbot still knows the person.
func (c *Commands) validateSettings(_ context.Context, req bot.ViewRequest) (map[string]string, error) {
	_, problems := parseSettings(viewValues(req.View))
	if !req.Actor.CanChange() {
		if problems == nil {
			problems = map[string]string{}
		}
		problems[string(csbot.SignalKinds()[0])] = msgNoSettings
	}
	return problems, nil
}

// submitSettings stores the alert settings and confirms what changed.
func (c *Commands) submitSettings(ctx context.Context, req bot.ViewRequest) (bot.Reply, error) {
	if !req.Actor.CanChange() {
		return usage(msgNoSettings), nil
	}
	chosen, problems := parseSettings(viewValues(req.View))
	if problems != nil {
		return usage("Sorry, your alert settings couldn't be saved: the form was incomplete. Please try again with `/health settings`."), nil
	}
	id := req.Actor.SlackID
	before, err := c.cfg.Store.NotifyPrefs(ctx, id)
	if errors.Is(err, csbot.ErrNotFound) {
		return usage(msgNoSettings), nil
	} else if err != nil {
		return bot.Reply{}, fmt.Errorf("alert settings of %s: %w", id, err)
	}
	after := applySettings(before, chosen, c.cfg.Policy)
	if !maps.Equal(before.Alerts, after.Alerts) {
		err := c.cfg.Store.SetNotifyPrefs(ctx, id, after)
		if errors.Is(err, csbot.ErrNotFound) {
			return usage(msgNoSettings), nil
		} else if err != nil {
			return bot.Reply{}, fmt.Errorf("save alert settings of %s: %w", id, err)
		}
	}
	changes := settingsChanges(before, after, c.cfg.Policy)
	// A modal opened from the App Home publishes it again (see
	// republishHome), so that it shows the new routes.
	if len(changes) == 0 {
		return c.republishHome(ctx, req, bot.Reply{Text: "Nothing changed: your alerts reach you as before."}), nil
	}
	return c.republishHome(ctx, req, bot.Reply{Text: "Saved your alert settings:\n• " + strings.Join(changes, "\n• ")}), nil
}
