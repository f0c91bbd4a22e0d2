// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

// NewBaseline returns the baseline every number of keygate is compared
// with: a bare httputil.ReverseProxy that forwards everything to upstream
// and only swaps the caller's Authorization header for key. Its transport
// has the same connection pool sizes as keygate's, so the comparison
// measures the gateway's work, not a pool setting. Streams are flushed per
// write (the ReverseProxy default for text/event-stream).
func NewBaseline(upstream *url.URL, key string) http.Handler {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(upstream)
			pr.Out.Host = ""
			pr.Out.Header.Set("Authorization", "Bearer "+key)
			if n := pr.In.ContentLength; n > 0 {
				// The transport reads the body once more after n bytes
				// to check it ends; by then the answer may have begun,
				// and the server closes the inbound body when it does,
				// which makes that read fail and cuts the upstream
				// connection mid-stream (golang/go#40747). A body that
				// ends at n avoids the extra read.
				pr.Out.Body = limitedBody{io.LimitReader(pr.In.Body, n), pr.In.Body}
			}
		},
		// Like keygate, which logs these at debug level: a client that
		// goes away is not worth a line.
		ErrorLog: log.New(io.Discard, "", 0),
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
		},
	}
}

// limitedBody is a request body cut at its announced length.
type limitedBody struct {
	io.Reader
	io.Closer
}
