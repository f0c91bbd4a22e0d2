// SPDX-License-Identifier: Apache-2.0

package api

import "github.com/keygate/keygate/internal/auth"

// routes is the whole surface of /api/v1 with the right each endpoint needs.
// Tests walk this table, so an endpoint cannot be added without a right.
func (a *API) routes() []route {
	return []route{
		{"GET", "/api/v1/whoami", "", scopeNone, a.handleWhoAmI},

		{"POST", "/api/v1/tenants", auth.RightTenantCreate, scopePlatform, a.handleTenantCreate},
		{"GET", "/api/v1/tenants", "", scopeNone, a.handleTenantList},
		{"GET", "/api/v1/tenants/{tenant}", auth.RightTenantRead, scopeTenant, a.handleTenantGet},
		// The owner may change key_admins; byok_enabled also needs
		// RightTenantUpdate, checked in the handler.
		{"PATCH", "/api/v1/tenants/{tenant}", auth.RightTenantSettings, scopeTenant, a.handleTenantUpdate},
		{"DELETE", "/api/v1/tenants/{tenant}", auth.RightTenantDelete, scopeTenant, a.handleTenantDelete},

		{"GET", "/api/v1/tenants/{tenant}/keys", auth.RightKeyRead, scopeTenant, a.handleKeyList},
		{"GET", "/api/v1/tenants/{tenant}/keys/{provider}", auth.RightKeyRead, scopeTenant, a.handleKeyGet},
		{"PUT", "/api/v1/tenants/{tenant}/keys/{provider}", auth.RightKeyWrite, scopeTenant, a.handleKeyPut},
		{"DELETE", "/api/v1/tenants/{tenant}/keys/{provider}", auth.RightKeyWrite, scopeTenant, a.handleKeyDelete},

		{"POST", "/api/v1/tenants/{tenant}/keys:test", auth.RightKeyWrite, scopeTenant, a.handleKeysTest},
		// POST .../keys/{provider}:rollback (ServeMux wildcards span whole
		// segments, so the handler reads the ":rollback" suffix).
		{"POST", "/api/v1/tenants/{tenant}/keys/{provider}", auth.RightKeyWrite, scopeTenant, a.handleKeyRollback},
		{"GET", "/api/v1/tenants/{tenant}/keys/{provider}/versions", auth.RightKeyRead, scopeTenant, a.handleKeyVersions},
		{"GET", "/api/v1/tenants/{tenant}/health", auth.RightKeyRead, scopeTenant, a.handleHealth},

		{"GET", "/api/v1/platform/keys", auth.RightPlatformKeys, scopePlatform, a.handleKeyList},
		{"POST", "/api/v1/platform/keys:test", auth.RightPlatformKeys, scopePlatform, a.handleKeysTest},
		{"POST", "/api/v1/platform/keys/{provider}", auth.RightPlatformKeys, scopePlatform, a.handleKeyRollback},
		{"GET", "/api/v1/platform/keys/{provider}/versions", auth.RightPlatformKeys, scopePlatform, a.handleKeyVersions},
		{"GET", "/api/v1/platform/health", auth.RightPlatformKeys, scopePlatform, a.handleHealth},
		{"GET", "/api/v1/health", auth.RightPlatformKeys, scopePlatform, a.handleHealthAll},
		{"GET", "/api/v1/platform/keys/{provider}", auth.RightPlatformKeys, scopePlatform, a.handleKeyGet},
		{"PUT", "/api/v1/platform/keys/{provider}", auth.RightPlatformKeys, scopePlatform, a.handleKeyPut},
		{"DELETE", "/api/v1/platform/keys/{provider}", auth.RightPlatformKeys, scopePlatform, a.handleKeyDelete},

		{"POST", "/api/v1/tenants/{tenant}/tokens", auth.RightTokenManage, scopeTenant, a.handleGatewayTokenCreate},
		{"GET", "/api/v1/tenants/{tenant}/tokens", auth.RightTokenManage, scopeTenant, a.handleGatewayTokenList},
		{"DELETE", "/api/v1/tenants/{tenant}/tokens/{id}", auth.RightTokenManage, scopeTenant, a.handleGatewayTokenRevoke},
		{"PUT", "/api/v1/tenants/{tenant}/tokens/{id}/scope", auth.RightTokenScope, scopeTenant, a.handleGatewayTokenScope},

		{"GET", "/api/v1/tenants/{tenant}/policy", auth.RightKeyRead, scopeTenant, a.handlePolicyGet},
		{"PUT", "/api/v1/tenants/{tenant}/policy", auth.RightPolicyWrite, scopeTenant, a.handlePolicyPut},

		{"GET", "/api/v1/tenants/{tenant}/budget", auth.RightTenantRead, scopeTenant, a.handleBudgetGet},
		{"PUT", "/api/v1/tenants/{tenant}/budget", auth.RightTenantUpdate, scopeTenant, a.handleBudgetPut},
		{"GET", "/api/v1/tenants/{tenant}/limits", auth.RightTenantRead, scopeTenant, a.handleLimitsGet},
		{"PUT", "/api/v1/tenants/{tenant}/limits", auth.RightTenantUpdate, scopeTenant, a.handleLimitsPut},
		{"GET", "/api/v1/tenants/{tenant}/usage", auth.RightTenantRead, scopeTenant, a.handleUsage},
		{"GET", "/api/v1/usage", auth.RightPlatformAudit, scopePlatform, a.handleUsage},

		{"GET", "/api/v1/tenants/{tenant}/audit", auth.RightAuditRead, scopeTenant, a.handleAuditList},
		{"GET", "/api/v1/audit", auth.RightPlatformAudit, scopePlatform, a.handleAuditList},
		{"GET", "/api/v1/audit/verify", auth.RightPlatformAudit, scopePlatform, a.handleAuditVerify},
		{"POST", "/api/v1/audit/verify", auth.RightPlatformAudit, scopePlatform, a.handleAuditVerifyCheckpoint},
		{"GET", "/api/v1/audit/checkpoint", auth.RightPlatformAudit, scopePlatform, a.handleAuditCheckpoint},

		{"GET", "/api/v1/master-key", auth.RightMasterKey, scopePlatform, a.handleMasterKeyGet},
		{"POST", "/api/v1/master-key/rotate", auth.RightMasterKey, scopePlatform, a.handleMasterKeyRotate},
		{"POST", "/api/v1/master-key/retire", auth.RightMasterKey, scopePlatform, a.handleMasterKeyRetire},

		// Every admin may read the prices its calls are costed at; only a
		// platform admin imports them.
		{"GET", "/api/v1/prices", "", scopeNone, a.handlePricesGet},
		{"POST", "/api/v1/prices", auth.RightPlatformPrices, scopePlatform, a.handlePricesImport},

		{"POST", "/api/v1/admin-tokens", "", scopeNone, a.handleAdminTokenCreate},
		{"GET", "/api/v1/admin-tokens", "", scopeNone, a.handleAdminTokenList},
		{"DELETE", "/api/v1/admin-tokens/{id}", "", scopeNone, a.handleAdminTokenRevoke},
	}
}
