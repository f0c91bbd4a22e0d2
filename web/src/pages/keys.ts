// The tenant's API keys (BYOK) page: one row per catalog provider, grouped by
// kind (see keyrow.ts), each saying which key calls use now under the
// tenant's policy; below them, the policy controls (see policy.ts).
import { call, enc, type Key, type Policy, type PolicyRule, type Tenant } from "../api";
import { KINDS, PROVIDERS } from "../catalog";
import { h, replace } from "../dom";
import { errorText, notice, tenantTabs } from "../ui";
import { keyRow, type KeyScope, type Source } from "./keyrow";
import { DEFAULT_RULE, policyPanel } from "./policy";

interface State {
  tenant: Tenant;
  keys: Map<string, Key>;
  policy: Policy | null; // null: not readable by this token
  platformKeys: Set<string> | null; // null: not visible to this token
}

function ruleFor(st: State, provider: string): PolicyRule {
  return st.policy?.providers?.[provider] ?? st.policy?.default ?? DEFAULT_RULE;
}

/**
 * sourceNow says which key a call to provider would use, following the
 * resolution order of DESIGN.md §2: the tenant's key (BYOK granted, mode not
 * platform_only), else the platform key (mode not tenant_only), else none.
 */
function sourceNow(st: State, provider: string, hasTenantKey: boolean): Source {
  const rule = ruleFor(st, provider);
  if (hasTenantKey && st.tenant.byok_enabled && rule.mode !== "platform_only") {
    return { source: "tenant", why: "the tenant's own key" };
  }
  if (rule.mode === "tenant_only") {
    return { source: "none", why: "no tenant key and the platform key is not allowed: calls fail with provider_key_missing" };
  }
  const unused = hasTenantKey ? ` (the tenant's key is kept but not used${st.tenant.byok_enabled ? "" : ": BYOK is not granted"})` : "";
  if (st.platformKeys === null) return { source: "platform", why: "the platform key, if one is set" + unused };
  if (st.platformKeys.has(provider)) return { source: "platform", why: "the platform key" + unused };
  return { source: "none", why: "no platform key: calls fail with provider_key_missing" };
}

async function load(tenant: string): Promise<State> {
  const [t, keys] = await Promise.all([call<Tenant>("GET", `/tenants/${enc(tenant)}`), call<{ keys: Key[] }>("GET", `/tenants/${enc(tenant)}/keys`)]);
  const policy = await call<Policy>("GET", `/tenants/${enc(tenant)}/policy`).catch(() => null);
  const platformKeys = await call<{ keys: Key[] }>("GET", "/platform/keys")
    .then((r) => new Set(r.keys.map((k) => k.provider)))
    .catch(() => null);
  return { tenant: t, keys: new Map(keys.keys.map((k) => [k.provider, k])), policy, platformKeys };
}

/** renderKeys draws the tenant's API keys page into view. */
export async function renderKeys(view: HTMLElement, tenant: string): Promise<void> {
  const st = await load(tenant);
  const rerender = () => renderKeys(view, tenant).catch((err) => notice("Could not reload the keys: " + errorText(err), "error"));
  const scope: KeyScope = {
    base: `/tenants/${enc(st.tenant.id)}`,
    callsUse: (provider, hasKey) => {
      const own = st.policy?.providers?.[provider];
      return { now: sourceNow(st, provider, hasKey), note: ` · policy ${ruleFor(st, provider).mode}${own ? " (provider rule)" : ""}` };
    },
    afterRemove: (provider) => sourceNow(st, provider, false).why,
  };
  const groups = KINDS.map(({ kind, title }) =>
    h(
      "section",
      { class: "group", "data-kind": kind },
      h("h2", {}, title),
      ...PROVIDERS.filter((p) => p.kind === kind).map((p) => keyRow(scope, st.keys.get(p.name), p, rerender)),
    ),
  );
  replace(
    view,
    h("h1", {}, `${st.tenant.name}: API keys`),
    tenantTabs(st.tenant.id, "keys"),
    st.tenant.byok_enabled
      ? h("p", { class: "lead" }, "Keys are encrypted as soon as they are saved; only the last four characters are ever shown. The key selection policy, which decides what calls use, is below the keys.")
      : h("p", { class: "warning", id: "byok-off" }, "BYOK is not granted to this tenant: stored keys are kept but not used. A platform admin grants it on the Tenants page."),
    ...groups,
    st.policy ? policyPanel(st.tenant.id, st.policy, rerender) : null,
  );
}
