// SPDX-License-Identifier: Apache-2.0

// Package keeper opens keygate's master keys: the key-encryption keys that
// wrap the data keys of internal/envelope (docs/security.md, "Master
// keys").
//
// A master key is selected by a URL, the --master-key / KEYGATE_MASTER_KEY
// setting:
//
//   - "" (the default) or file:///abs/path/master.key: a local key file, by
//     default <data-dir>/master.key, created with mode 0600 on first use. It
//     holds a small JSON keyring, so [Set.Rotate] can add a key while the old
//     ones stay readable.
//   - env://VARNAME: the standard base64 encoding of exactly 32 bytes in
//     that environment variable.
//   - base64key://, hashivault://, awskms://, gcpkms://, azurekeyvault://:
//     a key held by go-cloud's secrets drivers (Vault transit, a cloud KMS).
//
// Every master key has a stable id, stored with each record it wraps: random
// for file keys ("mk_" + 8 hex), and derived from the key (env) or from the
// URL without its query (KMS), so every replica configured alike agrees.
//
// The KEK values returned implement envelope.KEK structurally; this package
// does not import envelope.
package keeper

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/keygate/keygate"
)

// KEK is a master key. It has the method set of envelope.KEK, so any value
// returned here can be given to an envelope.Keyring. Safe for concurrent use.
type KEK interface {
	// ID returns the stable id stored with every record this key wraps.
	ID() string
	// Wrap encrypts a data key.
	Wrap(ctx context.Context, dek []byte) ([]byte, error)
	// Unwrap decrypts a data key wrapped by Wrap; it fails on any other
	// input, never returning partial output.
	Unwrap(ctx context.Context, wrapped []byte) ([]byte, error)
}

// Kinds of master key, as reported by Set.Kind.
const (
	KindFile = "file" // the local key file
	KindEnv  = "env"  // an environment variable
	KindKMS  = "kms"  // a go-cloud secrets driver: Vault, a cloud KMS, base64key
)

// Sentinel errors, checkable with errors.Is.
var (
	// ErrDecrypt means a master key refused a wrapped data key: it was
	// modified or wrapped by another key. It is permanent (see refusal).
	ErrDecrypt error = &refusal{"keeper: wrapped data key failed authentication"}
	// ErrFormat means a wrapped data key is malformed or names an unknown
	// format version. It is permanent (see refusal).
	ErrFormat error = &refusal{"keeper: malformed wrapped data key"}
	// ErrInsecureFile means the key file's permissions let group or others
	// access it.
	ErrInsecureFile = errors.New("keeper: master key file is accessible by group or others")
	// ErrBadKey means a configured master key is unusable: bad base64,
	// wrong length, missing variable, malformed key file.
	ErrBadKey = errors.New("keeper: invalid master key")
)

// refusal is an Unwrap error that no retry can cure: the wrapped data key
// itself cannot be opened by this master key. Its Permanent method is how
// envelope.Unreadable tells such a record from a master key that could not
// be reached (a KMS outage), without this package and envelope importing
// each other.
type refusal struct{ msg string }

func (e *refusal) Error() string { return e.msg }

// Permanent reports that the failure is the record's, not the master
// key's availability.
func (e *refusal) Permanent() bool { return true }

// Options are the dependencies and settings of Open.
type Options struct {
	// DataDir holds the default key file, <DataDir>/master.key. Required
	// when the URL is "".
	DataDir string
	// Getenv reads environment variables: env:// keys and the Vault
	// address and token (VAULT_SERVER_URL or VAULT_ADDR, VAULT_SERVER_TOKEN
	// or VAULT_TOKEN). Required for those. The cloud SDKs (AWS, GCP, Azure)
	// read their own credentials from the process environment.
	Getenv func(string) string
	// Now stamps created_at in the key file; nil means time.Now.
	Now keygate.Clock
	// Rand generates file keys, their ids and nonces; nil means crypto/rand.
	Rand io.Reader
	// BeforeCreate, if set, is asked before a missing key file is created:
	// an error refuses, and Open fails with it having written nothing. The
	// server refuses when the database already holds encrypted data, which
	// a new key could never open (the key file was lost, not new).
	BeforeCreate func(path string) error
	// Previous lists the URLs of earlier master keys, opened for
	// unwrapping only, so records they wrapped stay readable until the
	// rewrap job has moved them to the new key.
	Previous []string
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	return o
}

// Set is an opened master key configuration: the primary KEK, which wraps new
// data keys, and the older ones, which only unwrap. Safe for concurrent use.
type Set struct {
	kind    string
	created bool
	path    string // the key file, for KindFile
	opt     Options

	mu       sync.Mutex
	primary  KEK
	others   []KEK // older keys of the primary's source (the file keyring)
	previous []KEK // keys of Options.Previous
	closers  []func() error
}

// Open opens the master key named by rawURL (see the package doc), and the
// Previous ones of opt. For the default key file it creates the file (0600,
// in a 0700 directory) when absent, and reports so with Created.
//
// Errors: an unknown scheme or a malformed URL (the message never repeats
// the URL, which may embed a key); ErrInsecureFile for a key file that group
// or others can access; ErrBadKey for an unusable key; a driver error for a
// KMS that cannot be opened. Credentials are only checked when the KMS is
// first called.
func Open(ctx context.Context, rawURL string, opt Options) (*Set, error) {
	opt = opt.withDefaults()
	s := &Set{opt: opt}
	src, err := s.open(ctx, rawURL, true)
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	s.kind, s.created, s.path = src.kind, src.created, src.path
	s.primary, s.others = src.primary, src.others
	for i, prev := range opt.Previous {
		p, err := s.open(ctx, prev, false)
		if err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("previous master key %d: %w", i+1, err)
		}
		s.previous = append(s.previous, p.primary)
		s.previous = append(s.previous, p.others...)
	}
	return s, nil
}

// source is one opened master key URL.
type source struct {
	kind    string
	created bool
	path    string
	primary KEK
	others  []KEK
}

// open opens one URL. create says whether a missing key file may be created
// (only for the current master key, never for a previous one).
func (s *Set) open(ctx context.Context, rawURL string, create bool) (source, error) {
	scheme, _, ok := strings.Cut(rawURL, "://")
	if rawURL == "" {
		scheme, ok = "file", true
	}
	if !ok {
		return source{}, fmt.Errorf("%w: the master key setting is not a URL (want file:///path, env://VAR or a KMS URL)", ErrBadKey)
	}
	switch scheme {
	case "file":
		path, err := s.filePath(rawURL)
		if err != nil {
			return source{}, err
		}
		return openFile(path, create, s.opt)
	case "env":
		return openEnv(strings.TrimPrefix(rawURL, "env://"), s.opt)
	default:
		return s.openKMS(ctx, rawURL)
	}
}

// filePath returns the key file path of a file URL, or the default for "".
func (s *Set) filePath(rawURL string) (string, error) {
	if rawURL == "" {
		if s.opt.DataDir == "" {
			return "", errors.New("keeper: no master key configured and no data directory for the default key file")
		}
		return defaultFile(s.opt.DataDir), nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("%w: file master key URL does not parse", ErrBadKey)
	}
	if u.Host != "" && u.Host != "localhost" {
		return "", fmt.Errorf("%w: file master key URL names host %q; want file:///absolute/path", ErrBadKey, u.Host)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%w: file master key URL takes no query or fragment", ErrBadKey)
	}
	if !strings.HasPrefix(u.Path, "/") {
		return "", fmt.Errorf("%w: file master key path %q is not absolute; want file:///absolute/path", ErrBadKey, u.Path)
	}
	return u.Path, nil
}

// Kind returns KindFile, KindEnv or KindKMS: the kind of the primary key.
func (s *Set) Kind() string { return s.kind }

// Created reports whether Open created the key file (a first run).
func (s *Set) Created() bool { return s.created }

// Path returns the key file of a KindFile set, "" otherwise.
func (s *Set) Path() string { return s.path }

// Primary returns the KEK that wraps new data keys.
func (s *Set) Primary() KEK {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.primary
}

// Others returns the older KEKs, for unwrapping only: the file's earlier
// keys, then those of Options.Previous.
func (s *Set) Others() []KEK {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]KEK, 0, len(s.others)+len(s.previous))
	out = append(out, s.others...)
	return append(out, s.previous...)
}

// Rotate makes a new master key the primary and returns it; the old ones
// stay in Others. Give the result to envelope.Keyring.SetPrimary, then run
// the rewrap job.
//
// Only the key file rotates this way: a new key is added to the file, which
// is replaced atomically (0600). Rotate must not run concurrently with
// another process rotating the same file. For env and KMS keys it returns a
// *keygate.Error with CodeUnsupported: the operator rotates those by
// configuring a new master key URL and keeping the current one as a previous
// key.
func (s *Set) Rotate(ctx context.Context) (KEK, error) {
	if s.kind != KindFile {
		return nil, keygate.Errorf(keygate.CodeUnsupported,
			"The %s master key cannot be rotated by keygate. Configure a new master key and list the current one as a previous master key, then rewrap.", s.kind)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	primary, others, err := rotateFile(s.path, s.opt)
	if err != nil {
		return nil, err
	}
	s.primary, s.others = primary, others
	return primary, nil
}

// Retire removes the older master key id from the keeper, for good: run it
// only once nothing is wrapped by that key any more (the vault checks).
// For the key file, the key is removed from the file, which is replaced
// atomically (0600), and from the set. Must not run concurrently with
// another process rotating or retiring the same file.
//
// Errors (*keygate.Error): conflict for the primary key; not_found for an
// id the set does not hold; unsupported for a key keygate does not hold
// itself (environment variable, KMS, or a --master-key-previous URL): the
// operator retires it by removing it from --master-key-previous
// (KEYGATE_MASTER_KEY_PREVIOUS) on every replica.
func (s *Set) Retire(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.primary.ID() == id {
		return keygate.Errorf(keygate.CodeConflict, "Master key %s is the primary master key: rotate to a new one, let the rewrap finish, then retire it.", id)
	}
	for _, k := range s.previous {
		if k.ID() == id {
			return keygate.Errorf(keygate.CodeUnsupported,
				"Master key %s comes from --master-key-previous (KEYGATE_MASTER_KEY_PREVIOUS): nothing is wrapped by it any more, so remove it from that setting on every replica and restart them.", id)
		}
	}
	idx := -1
	for i, k := range s.others {
		if k.ID() == id {
			idx = i
		}
	}
	if idx < 0 {
		return keygate.Errorf(keygate.CodeNotFound, "Master key %s is not held by this server.", id)
	}
	if s.kind != KindFile {
		return keygate.Errorf(keygate.CodeUnsupported, "The %s master key %s is not held by keygate: remove it from your configuration.", s.kind, id)
	}
	primary, others, err := retireFile(s.path, id, s.opt)
	if err != nil {
		return err
	}
	s.primary, s.others = primary, others
	return nil
}

// Close releases KMS clients. The set's KEKs must not be used afterwards.
func (s *Set) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, c := range s.closers {
		errs = append(errs, c())
	}
	s.closers = nil
	return errors.Join(errs...)
}
