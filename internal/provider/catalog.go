// SPDX-License-Identifier: Apache-2.0

package provider

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
)

//go:embed catalog.json
var catalogJSON []byte // read-only: parsed afresh by every Default call

// Catalog is a validated set of providers. It is immutable after
// construction and safe for concurrent use.
type Catalog struct {
	byName map[string]Provider
	names  []string // sorted
	routes []route  // model prefixes, longest first
	// keyPrefixes are the key-format prefixes of every provider and
	// keygate's own token prefixes (LooksLikeKey); minKeyLen is the
	// shortest key any provider accepts (MayEcho).
	keyPrefixes []string
	keyFirst    [256]bool // first bytes of keyPrefixes: most strings skip the loop
	minKeyLen   int
}

type route struct {
	prefix   string
	provider string
}

// Default returns the catalog embedded in the binary. It parses the embedded
// file on every call, so each caller gets its own value; an error means the
// embedded file is broken, which the package tests rule out.
func Default() (*Catalog, error) {
	c, err := Parse(catalogJSON)
	if err != nil {
		return nil, fmt.Errorf("embedded provider catalog: %w", err)
	}
	return c, nil
}

// file is the on-disk shape of catalog.json. Decoding is strict: an unknown
// field is an error.
type file struct {
	Providers []row `json:"providers"`
}

type row struct {
	Name        string            `json:"name"`
	DisplayName string            `json:"display_name"`
	Kind        Kind              `json:"kind"`
	BaseURL     string            `json:"base_url"`
	Auth        authRow           `json:"auth"`
	AltAuth     []authRow         `json:"alt_auth"`
	Headers     map[string]string `json:"headers"`
	KeyFormat   keyFormatRow      `json:"key_format"`
	Probe       probeRow          `json:"probe"`
	CompatPath  string            `json:"openai_compat_path"`
	StreamUsage bool              `json:"stream_usage_option"`
	Prefixes    []string          `json:"model_prefixes"`
	Usage       UsageDialect      `json:"usage_dialect"`
	KeysURL     string            `json:"keys_url"`
}

type authRow struct {
	Header   string `json:"header"`
	Template string `json:"template"`
}

type keyFormatRow struct {
	Prefixes []string `json:"prefixes"`
	MinLen   int      `json:"min_len"`
	MaxLen   int      `json:"max_len"`
	Charset  string   `json:"charset"`
}

type probeRow struct {
	Method        string `json:"method"`
	Path          string `json:"path"`
	Body          string `json:"body"`
	SuccessStatus int    `json:"success_status"`
	SuccessField  string `json:"success_field"`
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]*$`) // immutable

// Parse decodes and validates a catalog in the catalog.json format. Unknown
// fields, duplicate names, a model prefix claimed by two providers and any
// incomplete or invalid row are errors naming the row and the field.
func Parse(data []byte) (*Catalog, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("decode catalog: %w", err)
	}
	if len(f.Providers) == 0 {
		return nil, errors.New("catalog has no providers")
	}
	ps := make([]Provider, 0, len(f.Providers))
	for i, r := range f.Providers {
		p, err := r.provider()
		if err != nil {
			return nil, fmt.Errorf("provider %d (%q): %w", i, r.Name, err)
		}
		ps = append(ps, p)
	}
	return build(ps)
}

// build indexes validated providers.
func build(ps []Provider) (*Catalog, error) {
	c := &Catalog{byName: make(map[string]Provider, len(ps))}
	owner := map[string]string{}
	for _, p := range ps {
		if _, dup := c.byName[p.Name]; dup {
			return nil, fmt.Errorf("provider %q listed twice", p.Name)
		}
		c.byName[p.Name] = p
		c.names = append(c.names, p.Name)
		c.keyPrefixes = append(c.keyPrefixes, p.KeyFormat.Prefixes...)
		if l := p.KeyFormat.MinLen; c.minKeyLen == 0 || l < c.minKeyLen {
			c.minKeyLen = l
		}
		for _, pre := range p.ModelPrefixes {
			if o, taken := owner[pre]; taken {
				return nil, fmt.Errorf("model prefix %q claimed by both %q and %q", pre, o, p.Name)
			}
			owner[pre] = p.Name
			c.routes = append(c.routes, route{prefix: pre, provider: p.Name})
		}
	}
	sort.Strings(c.names)
	c.keyPrefixes = append(c.keyPrefixes, tokenPrefixes()...)
	for _, pre := range c.keyPrefixes {
		if pre != "" {
			c.keyFirst[pre[0]] = true
		}
	}
	// Longest prefix first, so "gpt-image-" would beat "gpt-" if they
	// belonged to different providers; ties broken by name for determinism.
	sort.Slice(c.routes, func(i, j int) bool {
		a, b := c.routes[i], c.routes[j]
		if len(a.prefix) != len(b.prefix) {
			return len(a.prefix) > len(b.prefix)
		}
		return a.prefix < b.prefix
	})
	return c, nil
}

func (r row) provider() (Provider, error) {
	switch {
	case !nameRE.MatchString(r.Name):
		return Provider{}, fmt.Errorf("name %q: want lowercase letters, digits and '-'", r.Name)
	case r.DisplayName == "":
		return Provider{}, errors.New("display_name is empty")
	}
	switch r.Kind {
	case KindLLM, KindSearch, KindVoice:
	default:
		return Provider{}, fmt.Errorf("kind %q: want llm, search or voice", r.Kind)
	}
	base, err := CheckBaseURL(r.BaseURL)
	if err != nil {
		return Provider{}, fmt.Errorf("base_url: %w", err)
	}
	auth, err := r.Auth.scheme()
	if err != nil {
		return Provider{}, fmt.Errorf("auth: %w", err)
	}
	var alt []AuthScheme
	for i, a := range r.AltAuth {
		s, err := a.scheme()
		if err != nil {
			return Provider{}, fmt.Errorf("alt_auth[%d]: %w", i, err)
		}
		if s == auth || slices.Contains(alt, s) {
			return Provider{}, fmt.Errorf("alt_auth[%d]: repeats another scheme", i)
		}
		alt = append(alt, s)
	}
	for k, v := range r.Headers {
		if !validHeaderName(k) || v == "" {
			return Provider{}, fmt.Errorf("headers: %q: want a header name and a value", k)
		}
		for _, a := range append([]AuthScheme{auth}, alt...) {
			if strings.EqualFold(k, a.Header) {
				return Provider{}, fmt.Errorf("headers: %q is an auth header", k)
			}
		}
	}
	kf, err := r.KeyFormat.compile()
	if err != nil {
		return Provider{}, fmt.Errorf("key_format: %w", err)
	}
	switch r.Probe.Method {
	case http.MethodGet, http.MethodPost:
	default:
		return Provider{}, fmt.Errorf("probe.method %q: want GET or POST", r.Probe.Method)
	}
	if !strings.HasPrefix(r.Probe.Path, "/") {
		return Provider{}, fmt.Errorf("probe.path %q: want a path starting with /", r.Probe.Path)
	}
	if r.Probe.Body != "" && !json.Valid([]byte(r.Probe.Body)) {
		return Provider{}, errors.New("probe.body is not JSON")
	}
	if r.Probe.SuccessStatus < 200 || r.Probe.SuccessStatus > 299 {
		return Provider{}, fmt.Errorf("probe.success_status %d: want 2xx", r.Probe.SuccessStatus)
	}
	if r.CompatPath != "" && (!strings.HasPrefix(r.CompatPath, "/") || strings.HasSuffix(r.CompatPath, "/")) {
		return Provider{}, fmt.Errorf("openai_compat_path %q: want a path starting with / and not ending with /", r.CompatPath)
	}
	for _, pre := range r.Prefixes {
		if pre == "" || strings.ContainsAny(pre, "/ ") {
			return Provider{}, fmt.Errorf("model_prefixes: %q is empty or contains '/' or a space", pre)
		}
	}
	switch r.Usage {
	case UsageOpenAI, UsageAnthropic, UsageGemini, UsageNone:
	default:
		return Provider{}, fmt.Errorf("usage_dialect %q: want openai, anthropic, gemini or none", r.Usage)
	}
	if r.KeysURL != "" {
		if u, err := url.Parse(r.KeysURL); err != nil || u.Scheme != "https" {
			return Provider{}, fmt.Errorf("keys_url %q: want an https URL", r.KeysURL)
		}
	}
	p := Provider{
		Name:             r.Name,
		DisplayName:      r.DisplayName,
		Kind:             r.Kind,
		BaseURL:          base,
		Auth:             auth,
		AltAuth:          alt,
		KeyFormat:        kf,
		Probe:            Probe(r.Probe),
		OpenAICompatPath: r.CompatPath,
		StreamUsage:      r.StreamUsage,
		ModelPrefixes:    slices.Clone(r.Prefixes),
		Usage:            r.Usage,
		KeysURL:          r.KeysURL,
	}
	if len(r.Headers) > 0 {
		p.Headers = make(map[string]string, len(r.Headers))
		for k, v := range r.Headers {
			p.Headers[http.CanonicalHeaderKey(k)] = v
		}
	}
	return p, nil
}

func (a authRow) scheme() (AuthScheme, error) {
	if !validHeaderName(a.Header) {
		return AuthScheme{}, fmt.Errorf("header %q is not a header name", a.Header)
	}
	if strings.Count(a.Template, KeyPlaceholder) != 1 {
		return AuthScheme{}, fmt.Errorf("template %q: want exactly one %s", a.Template, KeyPlaceholder)
	}
	return AuthScheme{Header: http.CanonicalHeaderKey(a.Header), Template: a.Template}, nil
}

func (r keyFormatRow) compile() (KeyFormat, error) {
	if r.MinLen < 8 || r.MaxLen < r.MinLen {
		return KeyFormat{}, fmt.Errorf("min_len %d, max_len %d: want 8 <= min_len <= max_len", r.MinLen, r.MaxLen)
	}
	if !strings.HasPrefix(r.Charset, "[") || !strings.HasSuffix(r.Charset, "]") {
		return KeyFormat{}, fmt.Errorf("charset %q: want a character class like [A-Za-z0-9_-]", r.Charset)
	}
	re, err := regexp.Compile(`^` + r.Charset + `$`)
	if err != nil {
		return KeyFormat{}, fmt.Errorf("charset %q: %w", r.Charset, err)
	}
	kf := KeyFormat{Prefixes: slices.Clone(r.Prefixes), MinLen: r.MinLen, MaxLen: r.MaxLen, Charset: r.Charset}
	for c := 0; c < 128; c++ {
		// Control characters and whitespace are never part of a key,
		// whatever the class says.
		if c <= ' ' || c == 0x7f {
			continue
		}
		kf.allowed[c] = re.MatchString(string(rune(c)))
	}
	for _, pre := range kf.Prefixes {
		if pre == "" || len(pre) >= r.MinLen {
			return KeyFormat{}, fmt.Errorf("prefix %q: want non-empty and shorter than min_len", pre)
		}
		for i := 0; i < len(pre); i++ {
			if pre[i] >= 128 || !kf.allowed[pre[i]] {
				return KeyFormat{}, fmt.Errorf("prefix %q has characters outside charset %s", pre, r.Charset)
			}
		}
	}
	return kf, nil
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// CheckBaseURL validates a provider base URL and returns it without a
// trailing slash. It must be an absolute http or https URL with a host, and
// no user info, query or fragment (a key never travels in a URL).
func CheckBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL", raw)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("%q: want an http or https URL", raw)
	case u.Host == "":
		return "", fmt.Errorf("%q has no host", raw)
	case u.User != nil:
		return "", fmt.Errorf("%s: credentials in a base URL are not allowed", u.Redacted())
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", fmt.Errorf("%q: a base URL has no query or fragment", raw)
	}
	return strings.TrimRight(raw, "/"), nil
}

// Lookup returns a copy of the named provider and whether it is in the
// catalog. Names are matched exactly (they are lowercase).
func (c *Catalog) Lookup(name string) (Provider, bool) {
	p, ok := c.byName[name]
	if !ok {
		return Provider{}, false
	}
	return p.clone(), true
}

// Names returns the provider names, sorted. The slice is the caller's.
func (c *Catalog) Names() []string { return slices.Clone(c.names) }

// Providers returns copies of every provider, sorted by name.
func (c *Catalog) Providers() []Provider {
	out := make([]Provider, 0, len(c.names))
	for _, n := range c.names {
		out = append(out, c.byName[n].clone())
	}
	return out
}

// WithBaseURLs returns a new catalog in which each provider named in
// overrides has that base URL (the operator's KEYGATE_<PROVIDER>_BASE_URL);
// c is unchanged. An unknown provider name or an invalid URL (see
// CheckBaseURL) is an error naming it; nil or empty overrides return an
// equal copy.
func (c *Catalog) WithBaseURLs(overrides map[string]string) (*Catalog, error) {
	ps := c.Providers()
	for name := range overrides {
		if _, ok := c.byName[name]; !ok {
			return nil, fmt.Errorf("base URL override for %q: unknown provider (known: %s)", name, strings.Join(c.names, ", "))
		}
	}
	for i, p := range ps {
		raw, ok := overrides[p.Name]
		if !ok {
			continue
		}
		base, err := CheckBaseURL(raw)
		if err != nil {
			return nil, fmt.Errorf("base URL override for %s: %w", p.Name, err)
		}
		ps[i].BaseURL = base
	}
	return build(ps)
}

// AuthHeaders returns the canonical names of every header any provider in
// the catalog uses or accepts for credentials (Auth and AltAuth), sorted, so
// a proxy can strip them all.
func (c *Catalog) AuthHeaders() []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range c.byName {
		for _, a := range append([]AuthScheme{p.Auth}, p.AltAuth...) {
			if h := a.Header; !seen[h] {
				seen[h] = true
				out = append(out, h)
			}
		}
	}
	sort.Strings(out)
	return out
}
