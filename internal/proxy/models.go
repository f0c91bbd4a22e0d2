// SPDX-License-Identifier: Apache-2.0

package proxy

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/provider"
	"github.com/keygate/keygate/internal/scrub"
)

type modelEntry struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// handleModels answers GET /v1/models with the models the caller's tenant
// can use now: for each language-model provider with an OpenAI-compatible
// API for which a credential resolves, the provider's own list (ids of
// providers other than openai are given as provider/model, which is how
// they are called through /v1). A scoped token sees only the providers and
// models its scope allows, and no other provider's key is read for it.
func (p *Proxy) handleModels(w http.ResponseWriter, r *http.Request) {
	c := p.begin(w, r, "models", dialectOpenAI)
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	var (
		mu  sync.Mutex
		out []modelEntry
		wg  sync.WaitGroup
	)
	for _, prov := range p.d.Catalog.Providers() {
		if prov.Kind != provider.KindLLM || prov.OpenAICompatPath == "" {
			continue
		}
		if s := c.caller.Scope; s != nil && !s.AllowsProvider(prov.Name) {
			continue
		}
		d, err := p.d.Resolver.Resolve(ctx, c.caller, prov.Name, keygate.Secret{})
		if err != nil {
			continue
		}
		wg.Add(1)
		go func(prov provider.Provider, key keygate.Secret) {
			defer wg.Done()
			models := p.listModels(ctx, prov, key)
			if s := c.caller.Scope; s != nil {
				models = slices.DeleteFunc(models, func(m modelEntry) bool { return !s.AllowsModel(prov.Name, m.ID) })
			}
			mu.Lock()
			out = append(out, models...)
			mu.Unlock()
		}(prov, d.Credential.Key)
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	list := struct {
		Object string       `json:"object"`
		Data   []modelEntry `json:"data"`
	}{"list", out}
	if list.Data == nil {
		list.Data = []modelEntry{}
	}
	b, _ := json.Marshal(list)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(headerKeySource, "mixed")
	_, _ = w.Write(b)
}

// listModels asks one provider for its models with key; failures yield none.
func (p *Proxy) listModels(ctx context.Context, prov provider.Provider, key keygate.Secret) []modelEntry {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, prov.BaseURL+prov.OpenAICompatPath+"/models", nil)
	if err != nil {
		return nil
	}
	prov.ApplyHeaders(req.Header)
	prov.SetAuth(req.Header, key)
	resp, err := p.transports[prov.Name].RoundTrip(req)
	if err != nil {
		p.d.Logger.DebugContext(ctx, "list models", "provider", prov.Name, "err", err)
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	var list struct {
		Data []modelEntry `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(&list); err != nil {
		return nil
	}
	// The list is built from the provider's own strings: one that echoes
	// the key it received would hand it to the caller.
	s, found := scrub.New(key), 0
	for i := range list.Data {
		e := &list.Data[i]
		for _, f := range []*string{&e.ID, &e.Object, &e.OwnedBy} {
			var n int
			*f, n = s.String(*f)
			found += n
		}
		if prov.Name != "openai" {
			list.Data[i].ID = prov.Name + "/" + list.Data[i].ID
		}
		if list.Data[i].Object == "" {
			list.Data[i].Object = "model"
		}
		if list.Data[i].OwnedBy == "" {
			list.Data[i].OwnedBy = prov.Name
		}
	}
	if found > 0 {
		if p.d.Observer != nil {
			p.d.Observer.ObserveScrubs(prov.Name, scrubBody, found)
		}
		p.d.Logger.WarnContext(ctx, "the provider's model list carried the key; keygate replaced it", "provider", prov.Name)
	}
	return list.Data
}
