// The tenant's API keys (BYOK) page: one row per catalog provider, grouped by
// kind, with the stored key's hint, health, version and dates, the source
// calls use now, and the Test / Save / Rotate / Roll back / Remove actions.
//
// The key typed into a row lives only in its password input until the
// request that uses it ends; the input is cleared then, whatever the outcome,
// and nothing the page draws ever contains it (the API answers with hints).
import { ApiError, call, enc, type Key, type KeyTestResult, type Policy, type PolicyRule, type Tenant } from "../api";
import { KINDS, PROVIDERS, type ProviderInfo } from "../catalog";
import { fmtTime, h, replace } from "../dom";
import { colorOf, confirmAction, dot, errorText, notice, tenantTabs } from "../ui";

interface State {
  tenant: Tenant;
  keys: Map<string, Key>;
  policy: Policy | null;
  platformKeys: Set<string> | null; // null: not visible to this token
}

const DEFAULT_RULE: PolicyRule = { mode: "tenant_then_platform", allow_request_keys: false, fallback_on_error: false };

function ruleFor(st: State, provider: string): PolicyRule {
  return st.policy?.providers?.[provider] ?? st.policy?.default ?? DEFAULT_RULE;
}

/**
 * sourceNow says which key a call to provider would use, following the
 * resolution order of DESIGN.md §2: the tenant's key (BYOK granted, mode not
 * platform_only), else the platform key (mode not tenant_only), else none.
 */
function sourceNow(st: State, provider: string, hasTenantKey: boolean): { source: string; why: string } {
  const rule = ruleFor(st, provider);
  if (hasTenantKey && st.tenant.byok_enabled && rule.mode !== "platform_only") {
    return { source: "tenant", why: "the tenant's own key" };
  }
  if (rule.mode === "tenant_only") {
    return { source: "none", why: "policy tenant_only: calls fail with provider_key_missing" };
  }
  if (st.platformKeys === null) return { source: "platform", why: "the platform key, if one is set" };
  if (st.platformKeys.has(provider)) return { source: "platform", why: "the platform key" };
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
  const groups = KINDS.map(({ kind, title }) =>
    h(
      "section",
      { class: "group", "data-kind": kind },
      h("h2", {}, title),
      ...PROVIDERS.filter((p) => p.kind === kind).map((p) => keyRow(st, p, rerender)),
    ),
  );
  replace(
    view,
    h("h1", {}, `${st.tenant.name}: API keys`),
    tenantTabs(st.tenant.id, "keys"),
    st.tenant.byok_enabled
      ? h("p", { class: "lead" }, "Keys are encrypted as soon as they are saved; only the last four characters are ever shown.")
      : h("p", { class: "warning", id: "byok-off" }, "BYOK is not granted to this tenant: stored keys are kept but not used. A platform admin grants it on the Tenants page."),
    ...groups,
  );
}

function keyRow(st: State, p: ProviderInfo, rerender: () => void): HTMLElement {
  const key = st.keys.get(p.name);
  const now = sourceNow(st, p.name, !!key);
  const id = `key-${p.name}`;
  const input = h("input", { type: "password", id, name: id, autocomplete: "off", spellcheck: "false", placeholder: key ? "new key to rotate" : "paste a key" });
  const testFirst = h("input", { type: "checkbox", checked: true, "data-role": "test-first" });
  const result = h("div", { class: "result", "data-role": "result", "aria-live": "polite" });
  const buttons: HTMLButtonElement[] = [];
  const busy = (b: boolean) => buttons.forEach((x) => (x.disabled = b));

  // withKey runs f with the typed key and clears the input afterwards,
  // whatever happens.
  const withKey = async (f: (k: string) => Promise<void>) => {
    const k = input.value;
    input.value = "";
    if (!k) {
      replace(result, h("span", { class: "error" }, "Enter a key first."));
      return;
    }
    busy(true);
    try {
      await f(k);
    } finally {
      busy(false);
    }
  };

  const btn = (label: string, action: string, f: () => Promise<void>, cls = "") => {
    const b = h("button", { type: "button", class: cls, "data-action": action }, label);
    b.addEventListener("click", () => void f());
    buttons.push(b);
    return b;
  };

  const test = btn("Test", "test", () =>
    withKey(async (k) => {
      replace(result, "Testing…");
      try {
        const r = await call<{ results: Record<string, KeyTestResult> }>("POST", `/tenants/${enc(st.tenant.id)}/keys:test`, { keys: { [p.name]: k } });
        const res = r.results[p.name];
        replace(result, testResult(res));
      } catch (err) {
        replace(result, h("span", { class: "error" }, errorText(err)));
      }
    }),
  );

  const save = btn(key ? "Rotate" : "Save", key ? "rotate" : "save", () =>
    withKey(async (k) => {
      replace(result, testFirst.checked ? "Testing, then saving…" : "Saving…");
      try {
        const q = testFirst.checked ? "?test=true" : "";
        const saved = await call<Key>("PUT", `/tenants/${enc(st.tenant.id)}/keys/${enc(p.name)}${q}`, { key: k });
        notice(`${p.display}: ${key ? "rotated to" : "saved"} version ${saved.version} (${saved.hint}).`);
        rerender();
      } catch (err) {
        const msg = err instanceof ApiError && err.code === "key_rejected" ? "Not saved: " + err.message : errorText(err);
        replace(result, h("span", { class: "error" }, msg));
      }
    }),
  );

  const actions: HTMLElement[] = [test, save, h("label", { class: "check" }, testFirst, "test first")];
  if (key) {
    if (key.version > 1) {
      actions.push(
        btn("Roll back", "rollback", async () => {
          const ok = await confirmAction(`Roll back ${p.display}?`, `The previous version of the key comes back as current; version ${key.version} (${key.hint}) is set aside.`, "Roll back");
          if (!ok) return;
          try {
            const k = await call<Key>("POST", `/tenants/${enc(st.tenant.id)}/keys/${enc(p.name)}:rollback`);
            notice(`${p.display}: rolled back to ${k.hint} (version ${k.version}).`);
            rerender();
          } catch (err) {
            replace(result, h("span", { class: "error" }, errorText(err)));
          }
        }, "secondary"),
      );
    }
    actions.push(
      btn("Remove", "remove", async () => {
        const next = sourceNow(st, p.name, false);
        const ok = await confirmAction(
          `Remove the ${p.display} key?`,
          `The key ${key.hint} is deleted. Calls to ${p.display} will then use ${next.why}.`,
          "Remove key",
        );
        if (!ok) return;
        try {
          await call<void>("DELETE", `/tenants/${enc(st.tenant.id)}/keys/${enc(p.name)}`);
          notice(`${p.display}: key removed. Calls now use ${next.why}.`);
          rerender();
        } catch (err) {
          replace(result, h("span", { class: "error" }, errorText(err)));
        }
      }, "danger"),
    );
  }

  const color = key ? colorOf(key.status) : "grey";
  const statusLabel = key ? { valid: "valid", invalid: "invalid", unknown: "not checked" }[key.status] : "no key";
  return h(
    "div",
    { class: "keyrow", "data-provider": p.name },
    h(
      "div",
      { class: "keyinfo" },
      h("h3", {}, p.display),
      h(
        "dl",
        {},
        h("dt", {}, "Key"),
        h("dd", { class: "mono", "data-role": "hint" }, key ? key.hint : "—"),
        h("dt", {}, "Status"),
        h("dd", { "data-role": "status", "data-color": color }, dot(color, statusLabel)),
        key?.last_checked_at ? h("dt", {}, "Last check") : null,
        key?.last_checked_at ? h("dd", {}, fmtTime(key.last_checked_at)) : null,
        key?.last_error ? h("dt", {}, "Last error") : null,
        key?.last_error ? h("dd", { class: "error" }, key.last_error) : null,
        h("dt", {}, "Version"),
        h("dd", { "data-role": "version" }, key ? String(key.version) : "—"),
        key ? h("dt", {}, "Updated") : null,
        key ? h("dd", {}, `${fmtTime(key.updated_at)} (first set ${fmtTime(key.created_at)})`) : null,
        h("dt", {}, "Calls use"),
        h("dd", { "data-role": "source" }, h("span", { class: "badge src-" + now.source }, now.source), " ", now.why, ` · policy ${ruleFor(st, p.name).mode}`),
      ),
    ),
    h("div", { class: "keyform" }, h("label", { for: id }, key ? "Replace with a new key" : "API key"), input, h("div", { class: "actions" }, ...actions), result),
  );
}

function testResult(r: KeyTestResult | undefined): HTMLElement {
  if (!r) return h("span", { class: "error" }, "No result.");
  if (r.status === "valid") {
    const names = (r.models ?? []).slice(0, 5);
    const more = r.model_count > names.length ? ", …" : "";
    return h("span", { class: "ok", "data-test-status": "valid" }, dot("green", `Valid (${r.model_count} models available)`), names.length ? ` ${names.join(", ")}${more}` : "");
  }
  const label = r.status === "rejected" ? "Rejected" : "Could not verify";
  return h("span", { class: "error", "data-test-status": r.status }, dot(r.status === "rejected" ? "red" : "grey", `${label}: ${r.error}`));
}
