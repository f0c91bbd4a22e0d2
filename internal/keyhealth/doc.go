// SPDX-License-Identifier: Apache-2.0

// Package keyhealth is where keygate decides whether a provider key works:
//
//   - a Checker asks the provider once, with that key and nothing else (the
//     API's key test, and every check below);
//   - a Monitor re-tests every stored key in the background, so a key that
//     stopped working turns red even when no traffic uses it;
//   - a Live turns the answers of live calls into reports: a tenant's own
//     key follows them, a shared (platform) key turns invalid only when
//     repeated rejections are confirmed by a check, since a tenant can make
//     a valid key answer 401 by what it sends;
//   - an Order keeps those reports (a 401, then a success) in the order
//     the provider's answers were observed, though they are written in the
//     background.
//
// The status itself is recorded by the key vault (keyvault.ReportStatus),
// which audits every real change once.
package keyhealth
