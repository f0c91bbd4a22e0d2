package usage

import (
	"bytes"
	"encoding/json"
)

// IncludeUsage prepares the body of an OpenAI-style chat completions or
// completions request for metering. OpenAI streams report usage only when
// the request sets stream_options.include_usage, so when body asks for a
// stream ("stream": true) without it, IncludeUsage returns a copy with
// stream_options.include_usage set to true (other stream_options kept) and
// added true; the proxy then strips the extra usage chunk from what the
// client receives with NewEventFilter(body, StripUsageChunk), since the
// client did not ask for it. In every other case (not a stream, usage
// already requested, or a body that is not a JSON object, which the
// provider will reject on its own) it returns body unchanged and false.
//
// When stream_options is absent the field is inserted after the opening
// brace and the rest of the body is kept byte for byte; otherwise the body
// is re-encoded (its keys then sorted).
func IncludeUsage(body []byte) (out []byte, added bool) {
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil || req == nil {
		return body, false
	}
	var stream bool
	if err := json.Unmarshal(req["stream"], &stream); err != nil || !stream {
		return body, false
	}
	raw, present := req["stream_options"]
	if !present {
		i := bytes.IndexByte(body, '{') + 1
		sep := ","
		if len(req) == 0 {
			sep = ""
		}
		out = make([]byte, 0, len(body)+48)
		out = append(out, body[:i]...)
		out = append(out, `"stream_options":{"include_usage":true}`+sep...)
		return append(out, body[i:]...), true
	}
	var opts map[string]json.RawMessage
	if err := json.Unmarshal(raw, &opts); err != nil {
		return body, false // not an object: the provider will say so
	}
	var include bool
	if err := json.Unmarshal(opts["include_usage"], &include); err == nil && include {
		return body, false
	}
	if opts == nil { // "stream_options": null
		opts = map[string]json.RawMessage{}
	}
	opts["include_usage"] = json.RawMessage("true")
	var err error
	if req["stream_options"], err = json.Marshal(opts); err != nil {
		return body, false
	}
	if out, err = json.Marshal(req); err != nil {
		return body, false
	}
	return out, true
}
