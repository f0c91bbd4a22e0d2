// SPDX-License-Identifier: Apache-2.0

package api

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// unencodableBody is the body WriteJSON sends when its value cannot be
// encoded.
const unencodableBody = `{"error":{"code":"internal","message":"Internal error."}}` + "\n"

// WriteJSON answers with status and v as JSON, the way every keygate API
// does (this one and the BYOK guide's): encoded in full before the status
// is sent, so an encoding failure becomes a clean 500 with the internal
// error envelope, never half a body; HTML characters left as they are; and
// never cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(unencodableBody)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
