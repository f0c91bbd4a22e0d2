// SPDX-License-Identifier: Apache-2.0

// Package client is a Go client for keygate's management API (/api/v1). The
// CLI (`keygate <noun> <verb>`) and the end-to-end tests use it.
//
// Every method takes a context, sends one request and returns typed values
// whose JSON tags mirror the API objects, so they can be printed as the API
// would. A call that fails on the way or at the server returns a *Error
// carrying the HTTP status; when the server answered with an error, its code
// and message are a *keygate.Error in that error's chain (keygate.ErrorCode
// and errors.As find it). Arguments refused before anything is sent (an empty
// tenant or provider) return an invalid_request *keygate.Error alone.
//
// Provider keys and admin tokens travel as keygate.Secret and are revealed
// only into a request body; they never appear in a URL, a header other than
// Authorization, or an error.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/keygate/keygate"
)

// Size limits. Request bodies of the management API are small JSON documents
// (the largest is a provider key); responses are lists bounded by the server's
// page sizes. The caps turn a misbehaving peer into an error instead of
// unbounded memory use.
const (
	// MaxRequestBody is the largest request body the client sends.
	MaxRequestBody = 1 << 20
	// MaxPriceListBody is the largest price list ImportPrices sends (a
	// community price list is a few MiB; the server takes up to 32 MiB).
	MaxPriceListBody = 32 << 20
	// MaxResponseBody is the largest response body the client reads.
	MaxResponseBody = 32 << 20
)

// DefaultTimeout bounds a request when New is not given an HTTP client.
const DefaultTimeout = 60 * time.Second

// Client calls the management API of one keygate server with one admin
// token. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	token     keygate.Secret
	hc        *http.Client
	userAgent string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client send its requests through hc (for a custom
// transport, TLS settings or a test server's client). A nil hc is ignored.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// New returns a client of the keygate server at baseURL (for example
// "http://127.0.0.1:8080", optionally with a path prefix) that authenticates
// with token; a zero token sends no Authorization header. It returns an error
// if baseURL is not an absolute http or https URL without query or fragment.
// Without WithHTTPClient, requests use a new http.Client with DefaultTimeout.
func New(baseURL string, token keygate.Secret, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil {
		return nil, fmt.Errorf("parse server address: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("server address %q: want an http:// or https:// URL with a host", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("server address %q: must not have a query or fragment", u.Redacted())
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	c := &Client{
		base:      u,
		token:     token,
		hc:        &http.Client{Timeout: DefaultTimeout},
		userAgent: "keygate-client",
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// BaseURL returns the server address the client talks to, without userinfo
// passwords.
func (c *Client) BaseURL() string { return c.base.Redacted() }

// call is one API request.
type call struct {
	method string
	// path is below /api/v1, with every variable segment already escaped.
	path  string
	query url.Values
	// body is the JSON request body, nil for none.
	body []byte
	// maxBody overrides MaxRequestBody when set.
	maxBody int
	// out receives the decoded JSON answer; nil ignores the body.
	out any
}

// do sends cl and decodes a 2xx answer into cl.out. It returns the HTTP
// status, and a *Error for any failure.
func (c *Client) do(ctx context.Context, cl call) (int, error) {
	apiPath := "/api/v1" + cl.path
	fail := func(status int, err error) (int, error) {
		return status, &Error{Method: cl.method, Path: apiPath, Status: status, Err: err}
	}
	limit := MaxRequestBody
	if cl.maxBody > 0 {
		limit = cl.maxBody
	}
	if len(cl.body) > limit {
		return fail(0, keygate.Errorf(keygate.CodeBodyTooLarge, "The request body is larger than %d bytes.", limit))
	}
	// The variable path segments are escaped by the callers (pathEscape),
	// so the URL is put together as text rather than through url.URL.Path,
	// which would escape their '%' again.
	target := c.base.String() + apiPath
	if len(cl.query) > 0 {
		target += "?" + cl.query.Encode()
	}
	var body io.Reader
	if cl.body != nil {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, target, body)
	if err != nil {
		return fail(0, fmt.Errorf("build request: %w", err))
	}
	req.Header.Set("Accept", "application/json")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if cl.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if !c.token.IsZero() {
		req.Header.Set("Authorization", "Bearer "+c.token.Reveal())
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// *url.Error repeats the URL; keep the cause, the path is in *Error.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fail(0, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody+1))
	if err != nil {
		return fail(resp.StatusCode, fmt.Errorf("read response: %w", err))
	}
	if len(data) > MaxResponseBody {
		return fail(resp.StatusCode, fmt.Errorf("response body is larger than %d bytes", MaxResponseBody))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fail(resp.StatusCode, decodeError(resp, data))
	}
	if cl.out == nil || resp.StatusCode == http.StatusNoContent {
		return resp.StatusCode, nil
	}
	if err := decodeJSON(resp.Header.Get("Content-Type"), data, cl.out); err != nil {
		return fail(resp.StatusCode, fmt.Errorf("decode response: %w", err))
	}
	return resp.StatusCode, nil
}

// decodeJSON decodes exactly one JSON document from data into out. Unknown
// fields are accepted, so a newer server that adds fields keeps working with
// an older client; a wrong content type, a wrong shape or trailing data is an
// error.
func decodeJSON(contentType string, data []byte, out any) error {
	if mt, _, err := mime.ParseMediaType(contentType); err != nil || mt != "application/json" {
		return fmt.Errorf("content type %q is not application/json", contentType)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(out); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON document")
	}
	return nil
}

// decodeError turns an error answer into a *keygate.Error: the server's
// envelope when there is one, else a code derived from the status (a proxy in
// front of keygate may answer with HTML).
func decodeError(resp *http.Response, data []byte) *keygate.Error {
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := decodeJSON(resp.Header.Get("Content-Type"), data, &env); err == nil && env.Error.Code != "" {
		return &keygate.Error{Code: env.Error.Code, Message: env.Error.Message}
	}
	return keygate.Errorf(codeForStatus(resp.StatusCode), "Unexpected answer from the server: %s.", resp.Status)
}

// codeForStatus maps an HTTP status to the error code a keygate server would
// have sent with it.
func codeForStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return keygate.CodeInvalidRequest
	case http.StatusUnauthorized:
		return keygate.CodeUnauthorized
	case http.StatusForbidden:
		return keygate.CodeForbidden
	case http.StatusNotFound:
		return keygate.CodeNotFound
	case http.StatusConflict:
		return keygate.CodeConflict
	case http.StatusRequestEntityTooLarge:
		return keygate.CodeBodyTooLarge
	case http.StatusRequestTimeout:
		return keygate.CodeRequestTimeout
	case http.StatusTooManyRequests:
		return keygate.CodeRateLimited
	case http.StatusNotImplemented:
		return keygate.CodeUnsupported
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return keygate.CodeUnavailable
	}
	return keygate.CodeInternal
}

// jsonBody marshals a request body.
func jsonBody(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	return b, nil
}

// pathEscape escapes one path segment. An empty segment is refused by the
// callers first, so a request never silently targets the parent collection.
func pathEscape(s string) string { return url.PathEscape(s) }

// required returns an invalid_request error naming what is missing, or nil.
func required(what, v string) error {
	if strings.TrimSpace(v) == "" {
		return keygate.Errorf(keygate.CodeInvalidRequest, "A %s is required.", what)
	}
	return nil
}
