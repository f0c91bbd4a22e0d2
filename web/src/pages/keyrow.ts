// One provider's key row, shared by the tenant's API keys page and the
// platform keys page: the stored key's hint, health, version and dates, the
// source calls use now, and the Test / Save / Rotate / Roll back / Remove
// actions against one key scope (/tenants/{tenant} or /platform).
//
// The key typed into a row lives only in its password input until the
// request that uses it ends; the input is cleared then, whatever the outcome,
// and nothing the row draws ever contains it (the API answers with hints).
import { ApiError, call, enc, type Key, type KeyTestResult } from "../api";
import { type ProviderInfo } from "../catalog";
import { fmtTime, h, replace } from "../dom";
import { colorOf, confirmAction, dot, errorText, notice } from "../ui";

/** Source is which key calls to a provider use, and why, in words. */
export interface Source {
  source: "tenant" | "platform" | "none";
  why: string;
}

/** KeyScope is whose keys a row manages and how it explains their use. */
export interface KeyScope {
  /** base is the API path of the owner: "/tenants/{id}" or "/platform". */
  base: string;
  /** callsUse is the "Calls use" cell: which key calls use with or without this key. */
  callsUse(provider: string, hasKey: boolean): { now: Source; note: string };
  /** afterRemove says, for the confirmation, what calls use once the key is removed. */
  afterRemove(provider: string): string;
}

/** keyRow draws one provider's row; rerender reloads the page after a change. */
export function keyRow(scope: KeyScope, key: Key | undefined, p: ProviderInfo, rerender: () => void): HTMLElement {
  const { now, note } = scope.callsUse(p.name, !!key);
  const id = `key-${p.name}`;
  const input = h("input", { type: "password", id, name: id, autocomplete: "off", spellcheck: "false", placeholder: key ? "new key to rotate" : "paste a key" });
  const testFirst = h("input", { type: "checkbox", checked: true, "data-role": "test-first" });
  const result = h("div", { class: "result", "data-role": "result", "aria-live": "polite" });
  const buttons: HTMLButtonElement[] = [];
  const busy = (b: boolean) => buttons.forEach((x) => (x.disabled = b));
  const keyPath = `${scope.base}/keys/${enc(p.name)}`;

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
        const r = await call<{ results: Record<string, KeyTestResult> }>("POST", `${scope.base}/keys:test`, { keys: { [p.name]: k } });
        replace(result, testResult(r.results[p.name]));
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
        const saved = await call<Key>("PUT", keyPath + q, { key: k });
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
        btn(
          "Roll back",
          "rollback",
          async () => {
            const ok = await confirmAction(`Roll back ${p.display}?`, `The previous version of the key comes back as current; version ${key.version} (${key.hint}) is set aside.`, "Roll back");
            if (!ok) return;
            try {
              const k = await call<Key>("POST", `${keyPath}:rollback`);
              notice(`${p.display}: rolled back to ${k.hint} (version ${k.version}).`);
              rerender();
            } catch (err) {
              replace(result, h("span", { class: "error" }, errorText(err)));
            }
          },
          "secondary",
        ),
      );
    }
    actions.push(
      btn(
        "Remove",
        "remove",
        async () => {
          const next = scope.afterRemove(p.name);
          const ok = await confirmAction(`Remove the ${p.display} key?`, `The key ${key.hint} is deleted. Calls to ${p.display} will then use ${next}.`, "Remove key");
          if (!ok) return;
          try {
            await call<void>("DELETE", keyPath);
            notice(`${p.display}: key removed. Calls now use ${next}.`);
            rerender();
          } catch (err) {
            replace(result, h("span", { class: "error" }, errorText(err)));
          }
        },
        "danger",
      ),
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
        h("dd", { "data-role": "source", "data-source": now.source }, h("span", { class: "badge src-" + now.source }, now.source), " ", now.why, note),
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
