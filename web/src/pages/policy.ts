// The tenant's key-selection policy, edited on its API keys page: a default
// rule and optional per-provider rules, each a mode (tenant_then_platform |
// tenant_only | platform_only), whether per-request keys are allowed and
// whether a rejected tenant key falls back to the platform key. Saving PUTs
// the whole policy (GET/PUT /api/v1/tenants/{tenant}/policy), then the page
// reloads so that every row's "Calls use" follows the new policy.
import { call, enc, type Policy, type PolicyRule } from "../api";
import { PROVIDERS } from "../catalog";
import { fmtTime, h } from "../dom";
import { errorText, notice } from "../ui";

/** DEFAULT_RULE is the rule of a tenant that never set a policy. */
export const DEFAULT_RULE: PolicyRule = { mode: "tenant_then_platform", allow_request_keys: false, fallback_on_error: false };

const MODES: { mode: PolicyRule["mode"]; label: string }[] = [
  { mode: "tenant_then_platform", label: "tenant key, else platform key" },
  { mode: "tenant_only", label: "tenant key only" },
  { mode: "platform_only", label: "platform key only" },
];

const INHERIT = "default";

interface RuleControls {
  row: HTMLTableRowElement;
  mode: HTMLSelectElement;
  requestKeys: HTMLInputElement;
  fallback: HTMLInputElement;
}

function ruleControls(key: string, label: string, rule: PolicyRule | undefined, inherit: boolean): RuleControls {
  const mode = h(
    "select",
    { "data-role": "mode", "aria-label": `${label}: mode` },
    inherit ? h("option", { value: INHERIT }, "as the default") : null,
    ...MODES.map((m) => h("option", { value: m.mode }, `${m.mode} (${m.label})`)),
  );
  mode.value = rule ? rule.mode : INHERIT;
  const requestKeys = h("input", { type: "checkbox", "data-role": "allow-request-keys", "aria-label": `${label}: per-request keys allowed` });
  const fallback = h("input", { type: "checkbox", "data-role": "fallback-on-error", "aria-label": `${label}: fall back on error` });
  requestKeys.checked = rule?.allow_request_keys ?? false;
  fallback.checked = rule?.fallback_on_error ?? false;
  const row = h(
    "tr",
    { "data-provider": key },
    h("th", { scope: "row" }, label),
    h("td", {}, mode),
    h("td", {}, h("label", { class: "check" }, requestKeys, "allowed")),
    h("td", {}, h("label", { class: "check" }, fallback, "fall back")),
  );
  const sync = () => {
    const off = mode.value === INHERIT;
    requestKeys.disabled = off;
    fallback.disabled = off;
    if (off) {
      requestKeys.checked = false;
      fallback.checked = false;
    }
  };
  mode.addEventListener("change", sync);
  sync();
  return { row, mode, requestKeys, fallback };
}

function ruleOf(c: RuleControls): PolicyRule {
  return { mode: c.mode.value as PolicyRule["mode"], allow_request_keys: c.requestKeys.checked, fallback_on_error: c.fallback.checked };
}

/** policyPanel draws the policy form; after a save it calls rerender. */
export function policyPanel(tenant: string, policy: Policy, rerender: () => void): HTMLElement {
  const def = ruleControls("", "Default (every provider)", policy.default, false);
  const providers = PROVIDERS.map((p) => ({ name: p.name, c: ruleControls(p.name, p.display, policy.providers?.[p.name], true) }));
  const save = h("button", { type: "submit", id: "policy-save" }, "Save policy");
  const form = h(
    "form",
    { class: "card policy", id: "policy" },
    h("h2", {}, "Key selection policy"),
    h(
      "p",
      { class: "lead" },
      "Which key calls use: the tenant's own key, the platform key, or a key sent with the request (X-Provider-Key). " +
        "Fall back on error lets a call whose tenant key the provider rejects retry with the platform key. " +
        "A provider without a rule of its own follows the default.",
    ),
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, h("th", {}, "Applies to"), h("th", {}, "Mode"), h("th", {}, "Per-request keys"), h("th", {}, "Fallback on error"))),
      h("tbody", {}, def.row, ...providers.map((p) => p.c.row)),
    ),
    h("div", { class: "actions" }, save, h("span", { class: "muted", id: "policy-updated" }, policy.updated_at ? `Last changed ${fmtTime(policy.updated_at)}.` : "Never changed: the defaults apply.")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    // Rules of providers the console does not list are kept as they are:
    // the PUT replaces the whole policy.
    const rules: Record<string, PolicyRule> = {};
    for (const [name, rule] of Object.entries(policy.providers ?? {})) {
      if (!PROVIDERS.some((p) => p.name === name)) rules[name] = rule;
    }
    for (const p of providers) if (p.c.mode.value !== INHERIT) rules[p.name] = ruleOf(p.c);
    save.disabled = true;
    try {
      await call<Policy>("PUT", `/tenants/${enc(tenant)}/policy`, { default: ruleOf(def), providers: rules });
      notice("Policy saved: the next call follows it.");
      rerender();
    } catch (err) {
      notice("Could not save the policy: " + errorText(err), "error");
    } finally {
      save.disabled = false;
    }
  });
  return form;
}
