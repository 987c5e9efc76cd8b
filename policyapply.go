package csbot

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// PolicySetting is one setting of a Policy: its key and its value.
type PolicySetting struct {
	Key   string // e.g. "tiers.high.weights.usage"
	Value any    // an int, or a []int for lists such as reminder days
}

// Settings returns every setting of p, one per leaf field, in the order the
// fields are declared (tiers.high.bands.green first). The keys are those
// Apply accepts, joined with dots, and a list's value is a copy.
func (p Policy) Settings() []PolicySetting {
	var out []PolicySetting
	walkPolicy(reflect.ValueOf(p), "", func(key string, v reflect.Value) {
		out = append(out, PolicySetting{Key: key, Value: leafValue(v)})
	})
	return out
}

// Map returns p as nested maps keyed the way Apply expects, e.g.
// m["tiers"].(map[string]any)["high"]. Leaves are ints and copies of
// lists ([]int), so Apply(p.Map()) sets every setting to p's value.
func (p Policy) Map() map[string]any {
	return policyMap(reflect.ValueOf(p))
}

// Apply sets the settings named in overrides and leaves every other one as
// it is, so applying a file's keys to DefaultPolicy keeps the defaults of
// all the keys the file leaves out.
//
// Keys are the fields' names in lower_snake_case. A struct takes a nested
// map (a nil value, as from an empty YAML section, sets nothing); a whole
// number takes an int of any size, or a float without a fraction, or a
// json.Number; a list takes a slice, which replaces the whole list.
//
// Apply returns nil or every problem found, joined (errors.Join), each a
// *PolicyError naming the full key: an unknown key ("tiers.high.weights.usgae:
// unknown key; did you mean usage?"), or a value of the wrong type
// ("tiers.low.support.spike_tickets: want a whole number, got \"ten\"").
// On error p is left unchanged. Apply does not check the values: call
// Validate afterwards.
func (p *Policy) Apply(overrides map[string]any) error {
	next := *p
	var a applier
	a.fields(reflect.ValueOf(&next).Elem(), "", reflect.ValueOf(overrides))
	if len(a.errs) > 0 {
		return errors.Join(a.errs...)
	}
	*p = next
	return nil
}

// applier collects the problems Apply finds.
type applier struct{ errs []error }

func (a *applier) fail(key, format string, args ...any) {
	a.errs = append(a.errs, &PolicyError{Key: key, Problem: fmt.Sprintf(format, args...)})
}

// fields sets the fields of struct dst named by the keys of map m.
func (a *applier) fields(dst reflect.Value, at string, m reflect.Value) {
	fs := policyFields(dst.Type())
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.key
	}
	keys := m.MapKeys()
	slices.SortFunc(keys, func(x, y reflect.Value) int {
		return strings.Compare(mapKey(x), mapKey(y))
	})
	for _, k := range keys {
		name := mapKey(k)
		key := joinKey(at, name)
		i := slices.Index(names, name)
		if i < 0 {
			if best, ok := closest(name, names); ok {
				a.fail(key, "unknown key; did you mean %s?", best)
			} else {
				a.fail(key, "unknown key; want one of %s", strings.Join(names, ", "))
			}
			continue
		}
		a.value(dst.Field(fs[i].index), key, m.MapIndex(k).Interface())
	}
}

// value sets dst, a field or list element at key, to src.
func (a *applier) value(dst reflect.Value, key string, src any) {
	switch dst.Kind() {
	case reflect.Struct:
		if src == nil {
			return // an empty section sets nothing
		}
		m := reflect.ValueOf(src)
		if m.Kind() != reflect.Map {
			a.fail(key, "want a map of keys, got %s", describe(src))
			return
		}
		a.fields(dst, key, m)
	case reflect.Slice:
		s := reflect.ValueOf(src)
		if src == nil || (s.Kind() != reflect.Slice && s.Kind() != reflect.Array) {
			a.fail(key, "want %s, got %s", want(dst.Type()), describe(src))
			return
		}
		list := reflect.MakeSlice(dst.Type(), s.Len(), s.Len())
		for i := range s.Len() {
			a.value(list.Index(i), fmt.Sprintf("%s[%d]", key, i), s.Index(i).Interface())
		}
		dst.Set(list)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok, inRange := wholeNumber(src)
		switch {
		case !ok:
			a.fail(key, "want a whole number, got %s", describe(src))
		case !inRange || dst.OverflowInt(n):
			a.fail(key, "want a whole number in range, got %s", describe(src))
		default:
			dst.SetInt(n)
		}
	case reflect.String:
		s, ok := src.(string)
		if !ok {
			a.fail(key, "want text, got %s", describe(src))
			return
		}
		dst.SetString(s)
	case reflect.Bool:
		b, ok := src.(bool)
		if !ok {
			a.fail(key, "want true or false, got %s", describe(src))
			return
		}
		dst.SetBool(b)
	default:
		a.fail(key, "cannot be set: csbot does not support settings of type %s", dst.Type())
	}
}

// wholeNumber returns v as an int64. ok is false if v is not a number
// without a fraction; inRange is false if it does not fit an int64.
func wholeNumber(v any) (n int64, ok, inRange bool) {
	if jn, isJSON := v.(json.Number); isJSON {
		if n, err := jn.Int64(); err == nil {
			return n, true, true
		}
		f, err := jn.Float64()
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, false, false
		}
		v = f
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), true, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		return int64(u), true, u <= math.MaxInt64
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		if math.IsNaN(f) || (!math.IsInf(f, 0) && f != math.Trunc(f)) {
			return 0, false, false
		}
		// -2^63 is exact in float64; 2^63 is the first float above MaxInt64.
		if f < math.MinInt64 || f >= math.MaxInt64 {
			return 0, true, false
		}
		return int64(f), true, true
	}
	return 0, false, false
}

// want describes what a setting of type t takes, for error messages.
func want(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct:
		return "a map of keys"
	case reflect.Slice:
		switch t.Elem().Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return "a list of whole numbers"
		}
		return "a list"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "true or false"
	}
	return t.String()
}

// describe shows a decoded value in an error message.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "nothing"
	case string:
		if utf8.RuneCountInString(x) > 40 {
			x = string([]rune(x)[:40]) + "..."
		}
		return strconv.Quote(x)
	case json.Number:
		return string(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Map:
		return "a map"
	case reflect.Slice, reflect.Array:
		return "a list"
	}
	return fmt.Sprint(v)
}

// mapKey returns a map key as a setting name.
func mapKey(k reflect.Value) string {
	if k.Kind() == reflect.Interface {
		if k.IsNil() {
			return "null"
		}
		k = k.Elem()
	}
	if k.Kind() == reflect.String {
		return k.String()
	}
	return fmt.Sprint(k.Interface())
}

// policyField is one exported field of a policy struct and its key.
type policyField struct {
	key   string
	index int
}

// policyFields returns the exported fields of struct type t with their
// keys, in declaration order.
func policyFields(t reflect.Type) []policyField {
	var fs []policyField
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() {
			fs = append(fs, policyField{key: snake(f.Name), index: i})
		}
	}
	return fs
}

// walkPolicy calls fn with the key and value of every leaf under v, a
// policy struct, in declaration order.
func walkPolicy(v reflect.Value, at string, fn func(key string, v reflect.Value)) {
	if v.Kind() != reflect.Struct {
		fn(at, v)
		return
	}
	for _, f := range policyFields(v.Type()) {
		walkPolicy(v.Field(f.index), joinKey(at, f.key), fn)
	}
}

func policyMap(v reflect.Value) map[string]any {
	fs := policyFields(v.Type())
	m := make(map[string]any, len(fs))
	for _, f := range fs {
		if fv := v.Field(f.index); fv.Kind() == reflect.Struct {
			m[f.key] = policyMap(fv)
		} else {
			m[f.key] = leafValue(fv)
		}
	}
	return m
}

// leafValue returns a leaf's value, copying lists so that the caller
// cannot change the policy through them.
func leafValue(v reflect.Value) any {
	if v.Kind() == reflect.Slice {
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		return c.Interface()
	}
	return v.Interface()
}

func joinKey(at, name string) string {
	if at == "" {
		return name
	}
	return at + "." + name
}

// snake returns a Go field name in lower_snake_case: OverrideExpiryDays is
// override_expiry_days and an initialism stays whole (HTTPAddr is
// http_addr).
func snake(name string) string {
	rs := []rune(name)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 {
				prev := rs[i-1]
				nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
				if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
					b.WriteByte('_')
				}
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
