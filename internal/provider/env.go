package provider

import "strings"

// EnvBaseURL returns the environment variable that overrides the base URL of
// the named provider: KEYGATE_<NAME>_BASE_URL, upper-cased, '-' as '_'.
func EnvBaseURL(name string) string {
	return "KEYGATE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_BASE_URL"
}

// BaseURLOverridesFromEnv reads KEYGATE_<PROVIDER>_BASE_URL for each name
// through getenv and returns the non-empty ones keyed by provider name, ready
// for Catalog.WithBaseURLs (which validates them). It returns an empty,
// non-nil map when none is set.
func BaseURLOverridesFromEnv(getenv func(string) string, names []string) map[string]string {
	out := make(map[string]string)
	for _, n := range names {
		if v := strings.TrimSpace(getenv(EnvBaseURL(n))); v != "" {
			out[n] = v
		}
	}
	return out
}
