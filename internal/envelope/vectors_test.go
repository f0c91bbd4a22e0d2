// SPDX-License-Identifier: Apache-2.0

package envelope_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/envelope"
)

var updateVectors = flag.Bool("update-vectors", false, "regenerate testdata/vectors.json (only when adding a format version: existing vectors must never change)")

const vectorsFile = "testdata/vectors.json"

// vectorFile is the committed test vector corpus. Each vector was sealed once
// by the code of its format version; every later version of the code must
// keep opening it, bound to exactly its AD.
type vectorFile struct {
	Comment string   `json:"comment"`
	KEK     vecKEK   `json:"kek"`
	Vectors []vector `json:"vectors"`
}

type vecKEK struct {
	ID   string `json:"id"`
	Seed string `json:"seed"` // the key is SHA-256(seed); see MustTestKEK
}

type vector struct {
	Name      string `json:"name"`
	AD        vecAD  `json:"ad"`
	Plaintext string `json:"plaintext"`
	// Ciphertext and WrappedDEK are base64 in JSON ([]byte).
	Ciphertext []byte `json:"ciphertext"`
	WrappedDEK []byte `json:"wrapped_dek"`
	KEKID      string `json:"kek_id"`
}

type vecAD struct {
	Owner    string `json:"owner,omitempty"`
	Provider string `json:"provider,omitempty"`
	KeyID    string `json:"key_id,omitempty"`
	Version  int    `json:"version,omitempty"`
	Setting  string `json:"setting,omitempty"`
}

func (a vecAD) ad() envelope.AD {
	if a.Setting != "" {
		return envelope.SettingAD(a.Setting)
	}
	return envelope.AD{Owner: keygate.TenantID(a.Owner), Provider: a.Provider, KeyID: a.KeyID, Version: a.Version}
}

func (v vector) sealed() keygate.Sealed {
	return keygate.Sealed{Ciphertext: v.Ciphertext, WrappedDEK: v.WrappedDEK, KEKID: v.KEKID}
}

func TestVectors(t *testing.T) {
	if *updateVectors {
		writeVectors(t)
	}
	b, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatalf("read vectors (generate them once with -update-vectors): %v", err)
	}
	var vf vectorFile
	if err := json.Unmarshal(b, &vf); err != nil {
		t.Fatalf("decode %s: %v", vectorsFile, err)
	}
	if len(vf.Vectors) == 0 {
		t.Fatalf("%s holds no vectors", vectorsFile)
	}
	for _, v := range vf.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			t.Parallel()
			kr := MustKeyring(t, MustTestKEK(t, vf.KEK.ID, vf.KEK.Seed))
			if diff := cmp.Diff(v.Plaintext, MustOpen(t, kr, v.sealed(), v.AD.ad())); diff != "" {
				t.Errorf("plaintext (-want +got):\n%s", diff)
			}
			other := v.AD
			other.Version++
			if other.Setting != "" {
				other.Setting += "x"
			}
			if _, err := kr.Open(context.Background(), v.sealed(), other.ad()); !errors.Is(err, envelope.ErrDecrypt) {
				t.Errorf("open with another AD: err = %v, want ErrDecrypt", err)
			}
		})
	}
}

// writeVectors seals a fixed set of values under the fixed test KEK and
// writes them to testdata. Run it only to add vectors for a new format
// version, never to "fix" a failing vector.
func writeVectors(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(vectorsFile); err == nil {
		t.Fatalf("%s exists: committed vectors are never regenerated (add new ones by hand-merging, or delete the file only if no release shipped it)", vectorsFile)
	}
	vf := vectorFile{
		Comment: "Committed envelope test vectors (format v1). They must keep decrypting forever: never edit or regenerate; add new vectors for new formats.",
		KEK:     vecKEK{ID: "mk_vectors", Seed: "keygate envelope test vector master key"},
	}
	kr := MustKeyring(t, MustTestKEK(t, vf.KEK.ID, vf.KEK.Seed))
	inputs := []struct {
		name      string
		ad        vecAD
		plaintext string
	}{
		{"tenant-openai-v1", vecAD{Owner: "tn_01hvector", Provider: "openai", KeyID: "pk_01hvector", Version: 1}, "sk-proj-VECTOR0000000000000000000000000000000000"},
		{"tenant-anthropic-v7", vecAD{Owner: "tn_01hvector", Provider: "anthropic", KeyID: "pk_02hvector", Version: 7}, "sk-ant-api03-VECTOR-abcdefghijklmnopqrstuvwxyz"},
		{"platform-google-v2", vecAD{Owner: "platform", Provider: "google", KeyID: "pk_03hvector", Version: 2}, "AIzaVECTOR_0123456789abcdefghijklmnopq"},
		{"unicode-value", vecAD{Owner: "tn_ünïcode", Provider: "mistral", KeyID: "pk_04hvector", Version: 1}, "clé-secrète-🔑"},
		{"empty-value", vecAD{Owner: "tn_01hvector", Provider: "exa", KeyID: "pk_05hvector", Version: 1}, ""},
		{"setting-fingerprint", vecAD{Setting: "fingerprint_secret"}, "0123456789abcdef0123456789abcdef"},
	}
	for _, in := range inputs {
		s := MustSeal(t, kr, in.plaintext, in.ad.ad())
		vf.Vectors = append(vf.Vectors, vector{
			Name: in.name, AD: in.ad, Plaintext: in.plaintext,
			Ciphertext: s.Ciphertext, WrappedDEK: s.WrappedDEK, KEKID: s.KEKID,
		})
	}
	b, err := json.MarshalIndent(vf, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(vectorsFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vectorsFile, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", vectorsFile)
}
