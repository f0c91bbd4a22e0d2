// SPDX-License-Identifier: Apache-2.0

package main

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// The files that install keygate, checked here against what keygate is:
// the systemd unit, the container recipe, the compose demo and the release
// and header scripts. The example configuration is loaded by
// internal/config's TestExampleConfig.

func readRepoFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// unitDirectives returns the directives of a systemd unit: name → values.
func unitDirectives(unit string) map[string][]string {
	out := map[string][]string{}
	for line := range strings.Lines(unit) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "[") {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		out[k] = append(out[k], v)
	}
	return out
}

// TestSystemdUnit checks the hardening of deploy/systemd/keygate.service,
// that it runs keygate serve on the example configuration's paths, and,
// where systemd-analyze is installed, that systemd accepts it.
func TestSystemdUnit(t *testing.T) {
	unit := readRepoFile(t, "deploy/systemd/keygate.service")
	d := unitDirectives(unit)
	want := map[string]string{
		"DynamicUser": "yes", "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
		"PrivateTmp": "yes", "PrivateDevices": "yes", "StateDirectory": "keygate", "CapabilityBoundingSet": "",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "RestrictNamespaces": "yes", "RestrictSUIDSGID": "yes",
		"LockPersonality": "yes", "MemoryDenyWriteExecute": "yes", "SystemCallArchitectures": "native",
		"ProtectKernelTunables": "yes", "ProtectKernelModules": "yes", "ProtectControlGroups": "yes", "UMask": "0077",
		"ExecStart": "/usr/local/bin/keygate serve --config /etc/keygate/keygate.toml",
	}
	for k, v := range want {
		if !slices.Contains(d[k], v) {
			t.Errorf("%s=%q, want %q", k, d[k], v)
		}
	}
	if !slices.Contains(d["SystemCallFilter"], "@system-service") {
		t.Errorf("SystemCallFilter=%q, want @system-service", d["SystemCallFilter"])
	}
	// The example configuration's data directory is the state directory.
	if ex := readRepoFile(t, "keygate.example.toml"); !strings.Contains(ex, "\ndata_dir = \"/var/lib/keygate\"\n") {
		t.Error("keygate.example.toml's data_dir is not the unit's /var/lib/keygate")
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (Debian package systemd): the unit is not verified by systemd")
	}
	// verify wants ExecStart's program to exist.
	path := filepath.Join(t.TempDir(), "keygate.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(unit, "/usr/local/bin/keygate", "/bin/true")), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", path).CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// dockerfileStages returns the stages of a Dockerfile, each from its FROM
// line, with continuation lines joined.
func dockerfileStages(text string) [][]string {
	var stages [][]string
	var cont string
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cont += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		line, cont = cont+line, ""
		if strings.HasPrefix(line, "FROM ") {
			stages = append(stages, nil)
		}
		if len(stages) > 0 {
			stages[len(stages)-1] = append(stages[len(stages)-1], line)
		}
	}
	return stages
}

// TestContainerImage checks the Dockerfile (a build stage, then a final
// stage from scratch that runs keygate as a non-root user with /data as a
// volume and keygate healthcheck as its health check), the offline variant
// scripts/image builds (that final stage alone, nothing to pull), and the
// compose demo (two replicas on PostgreSQL and Redis with the fake
// providers, set through real settings).
func TestContainerImage(t *testing.T) {
	stages := dockerfileStages(readRepoFile(t, "Dockerfile"))
	if len(stages) != 2 || !strings.HasSuffix(stages[0][0], " AS build") {
		t.Fatalf("want a build stage and a final stage, got %d stages", len(stages))
	}
	final := stages[1]
	for _, want := range []string{
		"FROM scratch",
		"COPY --from=build --chown=65532:65532 /rootfs/ /",
		"USER 65532:65532",
		"VOLUME /data",
		`ENTRYPOINT ["/keygate"]`,
		`CMD ["serve"]`,
	} {
		if !slices.Contains(final, want) {
			t.Errorf("the final stage has no %q:\n%s", want, strings.Join(final, "\n"))
		}
	}
	var health, env string
	for _, l := range final {
		if strings.HasPrefix(l, "RUN ") {
			t.Errorf("the final stage runs %q: the image has no shell", l)
		}
		if strings.HasPrefix(l, "HEALTHCHECK ") {
			health = l
		}
		if strings.HasPrefix(l, "ENV ") {
			env = l
		}
	}
	if !strings.HasSuffix(health, `CMD ["/keygate", "healthcheck"]`) {
		t.Errorf("HEALTHCHECK %q, want keygate healthcheck", health)
	}
	if !strings.Contains(env, "KEYGATE_DATA_DIR=/data") || !strings.Contains(env, "KEYGATE_LISTEN_ADDR=0.0.0.0:8080") {
		t.Errorf("ENV %q: want the data directory /data and a listen address reachable from outside", env)
	}
	// The healthcheck finds the server the image configures.
	if u, err := readyzURL(func(k string) string {
		return map[string]string{"KEYGATE_LISTEN_ADDR": "0.0.0.0:8080", "KEYGATE_DATA_DIR": "/data"}[k]
	}); err != nil || u != "http://127.0.0.1:8080/readyz" {
		t.Errorf("the image's healthcheck probes %q (%v)", u, err)
	}

	out, err := exec.Command("bash", "../../scripts/image", "--dockerfile").Output()
	if err != nil {
		t.Fatalf("scripts/image --dockerfile: %v", err)
	}
	offline := dockerfileStages(string(out))
	if len(offline) != 1 || offline[0][0] != "FROM scratch" || !slices.Contains(offline[0], "COPY --chown=65532:65532 rootfs/ /") {
		t.Errorf("scripts/image's Dockerfile is not the final stage on a local rootfs:\n%s", out)
	}
	if !slices.Equal(offline[0][2:], final[2:]) {
		t.Errorf("scripts/image's Dockerfile differs from the final stage:\n%s", out)
	}

	compose := readRepoFile(t, "compose.yaml")
	for _, svc := range []string{"keygate-1:", "keygate-2:", "postgres:", "redis:", "fake-provider:"} {
		if !strings.Contains(compose, "\n  "+svc+"\n") {
			t.Errorf("compose.yaml has no service %s", svc)
		}
	}
	settings := readRepoFile(t, "internal/config/config.go")
	for _, m := range regexp.MustCompile(`(?m)^\s+(KEYGATE_[A-Z_]+):`).FindAllStringSubmatch(compose, -1) {
		name := m[1]
		known := strings.Contains(settings, `"`+name+`"`) || name == "KEYGATE_ADMIN_TOKEN" ||
			strings.HasSuffix(name, "_BASE_URL") || strings.Contains(compose, "env://"+name)
		if !known {
			t.Errorf("compose.yaml sets %s, which is no setting of keygate serve", name)
		}
	}
}

// TestStaticBuild checks that keygate builds without cgo (every package it
// needs has a pure Go form: the release is one static binary), on every
// platform of the release, and that the nokms build tag leaves out every
// cloud KMS and Vault client.
func TestStaticBuild(t *testing.T) {
	list := func(tags string, env ...string) []string {
		cmd := exec.Command("go", "list", "-deps", "-tags", tags, "-f", "{{.ImportPath}} {{if .Error}}ERROR {{.Error}}{{end}}", ".")
		cmd.Env = append(append(os.Environ(), "CGO_ENABLED=0"), env...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -tags %q: %v", tags, err)
		}
		return strings.Split(strings.TrimSpace(string(out)), "\n")
	}
	cloud := regexp.MustCompile(`aws-sdk-go|azure-sdk-for-go|cloud\.google\.com/go/kms|hashicorp/vault|gocloud\.dev/secrets/(awskms|gcpkms|azurekeyvault|hashivault)`)
	for _, tags := range []string{"", "nokms"} {
		found := false
		for _, p := range list(tags) {
			if strings.Contains(p, " ERROR ") {
				t.Errorf("CGO_ENABLED=0, tags %q: %s", tags, p)
			}
			if cloud.MatchString(p) {
				found = true
				if tags == "nokms" {
					t.Errorf("the nokms build imports %s", p)
				}
			}
		}
		if tags == "" && !found {
			t.Error("the default build has no cloud KMS driver")
		}
	}
	// Every platform scripts/release builds for.
	for _, p := range []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64"} {
		goos, goarch, _ := strings.Cut(p, "/")
		for _, pkg := range list("", "GOOS="+goos, "GOARCH="+goarch) {
			if strings.Contains(pkg, " ERROR ") {
				t.Errorf("CGO_ENABLED=0 %s: %s", p, pkg)
			}
		}
	}
}

// TestReleaseScript runs scripts/release for this machine's platform and
// checks the archive (binary, license, example configuration, unit), the
// module list, the checksums, and that the binary says its version.
func TestReleaseScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a release binary; not with -short")
	}
	out := t.TempDir()
	cmd := exec.Command("bash", "../../scripts/release", "v0.0.0-test")
	cmd.Env = append(os.Environ(), "OUT="+out, "PLATFORMS=linux/"+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/release: %v\n%s", err, b)
	}
	name := "keygate_v0.0.0-test_linux_" + runtime.GOARCH

	sums, err := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for line := range strings.Lines(string(sums)) {
		sum, file, _ := strings.Cut(strings.TrimSpace(line), "  ")
		b, err := os.ReadFile(filepath.Join(out, file))
		if err != nil {
			t.Fatal(err)
		}
		if h := sha256.Sum256(b); hex.EncodeToString(h[:]) != sum {
			t.Errorf("SHA256SUMS: %s does not match", file)
		}
		listed = append(listed, file)
	}
	if want := []string{name + ".tar.gz", name + ".modules.txt"}; !slices.Equal(listed, want) {
		t.Errorf("SHA256SUMS lists %q, want %q", listed, want)
	}
	mods, err := os.ReadFile(filepath.Join(out, name+".modules.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\tpath\tgithub.com/keygate/keygate/cmd/keygate", "\tdep\tmodernc.org/sqlite\t", "CGO_ENABLED=0", "-trimpath=true"} {
		if !strings.Contains(string(mods), want) {
			t.Errorf("the module list has no %q", want)
		}
	}

	f, err := os.Open(filepath.Join(out, name+".tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	bin := filepath.Join(t.TempDir(), "keygate")
	var files []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, h.Name)
		if h.Name == name+"/keygate" {
			w, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(w, tr); err != nil {
				t.Fatal(err)
			}
			w.Close()
		}
	}
	for _, want := range []string{"keygate", "LICENSE", "README.md", "CHANGELOG.md", "keygate.example.toml", "keygate.service"} {
		if !slices.Contains(files, name+"/"+want) {
			t.Errorf("the archive has no %s: %q", want, files)
		}
	}
	if runtime.GOOS != "linux" {
		return
	}
	v, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("keygate version: %v", err)
	}
	if !regexp.MustCompile(`^keygate v0\.0\.0-test \(commit [0-9a-f]{12}(-dirty)?, built \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, go`).Match(v) {
		t.Errorf("keygate version: %q", v)
	}
}

// TestSPDXScript runs scripts/spdx in a repository of its own: it adds the
// header to the Go files without one, once, in a form gofmt keeps.
func TestSPDXScript(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"scripts", "a"} {
		if err := os.MkdirAll(filepath.Join(dir, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script, err := os.ReadFile("../../scripts/spdx")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"scripts/spdx": string(script),
		"a/doc.go":     "// Package a is a.\npackage a\n",
		"a/tag.go":     "//go:build linux\n\npackage a\n",
		"a/has.go":     "// SPDX-License-Identifier: Apache-2.0\n\npackage a\n",
	}
	for p, text := range files {
		if err := os.WriteFile(filepath.Join(dir, p), []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = dir
		b, err := cmd.CombinedOutput()
		if err != nil && args[0] != "bash" {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, b)
		}
		return string(b)
	}
	run("git", "init", "-q")
	run("git", "add", ".")
	if out := run("bash", "scripts/spdx", "--check"); !strings.Contains(out, "a/doc.go") || strings.Contains(out, "a/has.go") {
		t.Errorf("--check: %s", out)
	}
	run("bash", "scripts/spdx")
	run("bash", "scripts/spdx") // a second run changes nothing
	for p, want := range map[string]string{
		"a/doc.go": "// SPDX-License-Identifier: Apache-2.0\n\n// Package a is a.\npackage a\n",
		"a/tag.go": "// SPDX-License-Identifier: Apache-2.0\n\n//go:build linux\n\npackage a\n",
		"a/has.go": files["a/has.go"],
	} {
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want {
			t.Errorf("%s after scripts/spdx:\n%s\nwant:\n%s", p, b, want)
		}
	}
	if out := run("bash", "scripts/spdx", "--check"); out != "" {
		t.Errorf("--check after the run: %s", out)
	}
	if out := run("gofmt", "-l", "a"); out != "" {
		t.Errorf("gofmt would change %s", out)
	}
}
