// The platform keys page (platform admins): the keys keygate uses for every
// tenant without a key of its own, one row per catalog provider (see
// keyrow.ts), against /api/v1/platform/keys.
import { call, type Key } from "../api";
import { KINDS, PROVIDERS } from "../catalog";
import { h, replace } from "../dom";
import { errorText, notice } from "../ui";
import { keyRow, type KeyScope } from "./keyrow";

/** renderPlatformKeys draws the platform keys page into view. */
export async function renderPlatformKeys(view: HTMLElement): Promise<void> {
  const list = await call<{ keys: Key[] }>("GET", "/platform/keys");
  const keys = new Map(list.keys.map((k) => [k.provider, k]));
  const rerender = () => renderPlatformKeys(view).catch((err) => notice("Could not reload the keys: " + errorText(err), "error"));
  const scope: KeyScope = {
    base: "/platform",
    callsUse: (_provider, hasKey) =>
      hasKey
        ? { now: { source: "platform", why: "this key" }, note: ", for every tenant without a key of its own whose policy is not tenant_only" }
        : { now: { source: "none", why: "no platform key" }, note: ": calls of tenants without a key of their own fail with provider_key_missing" },
    afterRemove: () => "each tenant's own key where there is one; calls of tenants without one fail with provider_key_missing",
  };
  const groups = KINDS.map(({ kind, title }) =>
    h(
      "section",
      { class: "group", "data-kind": kind },
      h("h2", {}, title),
      ...PROVIDERS.filter((p) => p.kind === kind).map((p) => keyRow(scope, keys.get(p.name), p, rerender)),
    ),
  );
  replace(
    view,
    h("h1", {}, "Platform keys"),
    h("p", { class: "lead" }, "The platform's own provider keys, paid by the platform: calls use them when the tenant has no key of its own, or its policy says platform_only. Only the last four characters are ever shown."),
    ...groups,
  );
}
