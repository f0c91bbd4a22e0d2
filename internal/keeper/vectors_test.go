// SPDX-License-Identifier: Apache-2.0

package keeper_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/internal/keeper"
)

var updateVectors = flag.Bool("update-vectors", false, "generate testdata/vectors.json once (committed vectors are never regenerated)")

const vectorsFile = "testdata/vectors.json"

// keeperVectors pins the on-disk key file format, the env key id derivation
// and the local wrapped-key format: data keys wrapped once must unwrap
// forever.
type keeperVectors struct {
	Comment string          `json:"comment"`
	KeyFile json.RawMessage `json:"key_file"` // the content of a master.key
	EnvKey  string          `json:"env_key"`  // standard base64, as in the variable
	EnvID   string          `json:"env_id"`
	Wrapped []wrappedVector `json:"wrapped"`
}

type wrappedVector struct {
	KEKID   string `json:"kek_id"`
	DEK     []byte `json:"dek"`
	Wrapped []byte `json:"wrapped"`
}

func TestVectors(t *testing.T) {
	if *updateVectors {
		writeKeeperVectors(t)
	}
	b, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatalf("read vectors (generate them once with -update-vectors): %v", err)
	}
	var v keeperVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	// Git does not keep the 0600 mode; the copy gets it.
	path := filepath.Join(t.TempDir(), "master.key")
	if err := os.WriteFile(path, v.KeyFile, 0o600); err != nil {
		t.Fatal(err)
	}
	file := MustOpen(t, "file://"+path, keeper.Options{})
	env := MustOpen(t, "env://K", keeper.Options{Getenv: envOf(map[string]string{"K": v.EnvKey})})
	if env.Primary().ID() != v.EnvID {
		t.Errorf("env key id %s, want %s", env.Primary().ID(), v.EnvID)
	}
	keks := append([]keeper.KEK{file.Primary(), env.Primary()}, file.Others()...)
	if len(v.Wrapped) == 0 {
		t.Fatal("no wrapped vectors")
	}
	for _, w := range v.Wrapped {
		t.Run(w.KEKID, func(t *testing.T) {
			kek := find(t, keks, w.KEKID)
			if diff := cmp.Diff(w.DEK, MustUnwrap(t, kek, w.Wrapped)); diff != "" {
				t.Errorf("unwrap (-want +got):\n%s", diff)
			}
		})
	}
}

func writeKeeperVectors(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(vectorsFile); err == nil {
		t.Fatalf("%s exists: committed vectors are never regenerated", vectorsFile)
	}
	dir := t.TempDir()
	// Deterministic bytes: these keys protect nothing but the vectors.
	rnd := bytes.NewReader(bytes.Repeat([]byte("keygate keeper test vectors....."), 8))
	file := MustOpen(t, "", keeper.Options{DataDir: dir, Rand: rnd})
	if _, err := file.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	envKey := base64.StdEncoding.EncodeToString([]byte("keygate env master key vector..."))
	env := MustOpen(t, "env://K", keeper.Options{Getenv: envOf(map[string]string{"K": envKey})})
	keyFile, err := os.ReadFile(file.Path())
	if err != nil {
		t.Fatal(err)
	}
	v := keeperVectors{
		Comment: "Committed keeper test vectors (key file v1, local wrap format v1, env id derivation). Never edit or regenerate.",
		KeyFile: keyFile, EnvKey: envKey, EnvID: env.Primary().ID(),
	}
	for _, k := range append([]keeper.KEK{file.Primary(), env.Primary()}, file.Others()...) {
		dek := bytes.Repeat([]byte{byte(len(v.Wrapped) + 1)}, 32)
		v.Wrapped = append(v.Wrapped, wrappedVector{KEKID: k.ID(), DEK: dek, Wrapped: MustWrap(t, k, dek)})
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vectorsFile, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
