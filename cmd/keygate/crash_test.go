// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
	"github.com/keygate/keygate/internal/fakeprovider"
)

// process is a keygate serve running as a separate process, so it can be
// killed with SIGKILL.
type process struct {
	cmd *exec.Cmd
	URL string
}

// MustBuild builds the keygate binary once per test.
func MustBuild(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "keygate")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func MustStart(tb testing.TB, bin, dataDir string, env []string) *process {
	tb.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &process{cmd: cmd}
	tb.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "listening" {
				found <- rec.Addr
			}
		}
	}()
	select {
	case addr := <-found:
		p.URL = "http://" + addr
	case <-time.After(30 * time.Second):
		tb.Fatal("keygate did not start")
	}
	return p
}

// TestKillDuringRotation kills keygate with SIGKILL while provider keys are
// being rotated and the master key re-wrapped, restarts it, and checks that
// nothing is lost or half-written: the audit chain verifies, versions have
// no gaps, every key opens (the gateway uses the last version the API
// acknowledged, or a later one), and the re-wrap completes.
func TestKillDuringRotation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a keygate process")
	}
	bin := MustBuild(t)
	fake := fakeprovider.Start(t)
	const token = "kga_crashTest_9bvLzFi5UqdiFGjL6hbwjcv3zaoXHMxHxQ7Y"
	env := append([]string{"KEYGATE_ADMIN_TOKEN=" + token}, fake.Env()...)
	dir := t.TempDir()
	ctx := context.Background()
	p := MustStart(t, bin, dir, env)
	c, _ := client.New(p.URL, keygate.NewSecret(token))
	for i := 0; i < 3; i++ {
		if _, err := c.CreateTenant(ctx, client.CreateTenantParams{Name: fmt.Sprintf("t%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	acked := map[string]int{} // tenant → last acknowledged version
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			tn := fmt.Sprintf("t%d", i)
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				ch, err := c.PutKey(ctx, tn, "openai", keygate.NewSecret(fmt.Sprintf("sk-crash%d%024d", i, n)))
				if err != nil {
					return // the process died
				}
				mu.Lock()
				acked[tn] = ch.Key.Version
				mu.Unlock()
			}
		}(i)
	}
	waitFor(t, "every tenant's key rotated a few times", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for i := 0; i < 3; i++ {
			if acked[fmt.Sprintf("t%d", i)] < 5 {
				return false
			}
		}
		return true
	})
	if _, err := c.RotateMasterKey(ctx); err != nil {
		t.Fatal(err)
	}
	// The re-wrap runs in the background from here: kill at once, while it
	// and the writers are at work.
	if st, err := c.MasterKeyStatus(ctx); err == nil {
		t.Logf("killing with %d key versions still to re-wrap", st.PendingRewrap)
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
	close(stop)
	wg.Wait()

	p = MustStart(t, bin, dir, env)
	c, _ = client.New(p.URL, keygate.NewSecret(token))
	v, err := c.VerifyAudit(ctx)
	if err != nil || !v.OK {
		t.Fatalf("audit chain after SIGKILL: %+v %v", v, err)
	}
	waitFor(t, "re-wrap completes after restart", func() bool {
		st, err := c.MasterKeyStatus(ctx)
		return err == nil && st.PendingRewrap == 0
	})
	for i := 0; i < 3; i++ {
		tn := fmt.Sprintf("t%d", i)
		vs, err := c.ListKeyVersions(ctx, tn, "openai")
		if err != nil {
			t.Fatalf("%s versions: %v", tn, err)
		}
		for j, ver := range vs {
			if ver.Version != len(vs)-j {
				t.Fatalf("%s: versions have a gap: %+v", tn, vs)
			}
		}
		mu.Lock()
		want := acked[tn]
		mu.Unlock()
		if len(vs) < want {
			t.Fatalf("%s: version %d was acknowledged but only %d survived", tn, want, len(vs))
		}
		tok, err := c.CreateGatewayToken(ctx, tn, "app")
		if err != nil {
			t.Fatal(err)
		}
		s := &testServer{URL: p.URL}
		if st, _, b := gatewayCall(t, s, tok.Token.Reveal(), `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`); st != 200 {
			t.Fatalf("%s: the key does not open after the crash: %d %s", tn, st, b)
		}
		last, _ := fake.LastRequest()
		if !strings.HasPrefix(last.Key.Reveal(), fmt.Sprintf("sk-crash%d", i)) {
			t.Fatalf("%s: the provider saw another tenant's key", tn)
		}
		t.Logf("%s: %d versions, %d acknowledged before the kill", tn, len(vs), want)
	}
}
