// SPDX-License-Identifier: Apache-2.0

package api

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// openapiDoc is the OpenAPI 3.1 document of this API. It is written by hand
// next to the handlers (the JSON types are the real shapes);
// openapi_test.go checks it against routes() and the OpenAPI 3.1 structure,
// and validates its examples against its schemas.
//
//go:embed openapi.json
var openapiDoc string

// handleOpenAPI serves the OpenAPI document at GET /api/v1/openapi.json
// without authentication: it describes the API, not anyone's data. The ETag
// lets clients and proxies revalidate cheaply; the document changes only
// with the binary.
func (a *API) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	sum := sha256.Sum256([]byte(openapiDoc))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	http.ServeContent(w, r, "openapi.json", time.Time{}, strings.NewReader(openapiDoc))
}
