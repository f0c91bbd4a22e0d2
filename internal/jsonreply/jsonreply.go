// Package jsonreply writes JSON answers the way every keygate API does:
// encoded in full before the status is sent (so an encoding failure becomes
// a clean 500, never half a body), HTML characters left as they are, and
// never cached.
package jsonreply

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// internalError is the body sent when v cannot be encoded.
const internalError = `{"error":{"code":"internal","message":"Internal error."}}` + "\n"

// Write answers with status and v as JSON. If v cannot be encoded it
// answers 500 with the internal error envelope instead.
func Write(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(internalError)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
