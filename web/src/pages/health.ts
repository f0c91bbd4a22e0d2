// Health: for one tenant, each stored key's light; platform-wide, the counts
// by colour and every red key (which, since when, why).
import { call, enc, type KeyHealth, type Tenant } from "../api";
import { displayName } from "../catalog";
import { fmtInt, fmtTime, h, replace } from "../dom";
import { dot, tenantTabs } from "../ui";

function healthTable(keys: KeyHealth[], withOwner: boolean): HTMLElement {
  return h(
    "table",
    { class: "health" },
    h(
      "thead",
      {},
      h("tr", {}, withOwner ? h("th", {}, "Owner") : null, h("th", {}, "Provider"), h("th", {}, "Status"), h("th", {}, "Key"), h("th", {}, "Version"), h("th", {}, "Since"), h("th", {}, "Last check"), h("th", {}, "Why")),
    ),
    h(
      "tbody",
      {},
      ...keys.map((k) =>
        h(
          "tr",
          { "data-provider": k.provider, "data-color": k.color },
          withOwner ? h("td", {}, k.owner === "platform" ? "platform" : h("a", { href: `#/t/${enc(k.owner)}/health` }, k.owner)) : null,
          h("td", {}, displayName(k.provider)),
          h("td", {}, dot(k.color, k.status)),
          h("td", { class: "mono" }, k.hint),
          h("td", {}, String(k.version)),
          h("td", {}, fmtTime(k.updated_at)),
          h("td", {}, fmtTime(k.last_checked_at)),
          h("td", { class: k.last_error ? "error" : "" }, k.last_error || "—"),
        ),
      ),
    ),
  );
}

/** renderHealth draws the health of one tenant's keys, or (tenant "") of all keys. */
export async function renderHealth(view: HTMLElement, tenant: string): Promise<void> {
  if (tenant) {
    const [t, rep] = await Promise.all([call<Tenant>("GET", `/tenants/${enc(tenant)}`), call<{ healthy: boolean; keys: KeyHealth[] }>("GET", `/tenants/${enc(tenant)}/health`)]);
    replace(
      view,
      h("h1", {}, `${t.name}: key health`),
      tenantTabs(t.id, "health"),
      h("p", { id: "healthy", class: rep.healthy ? "ok" : "error" }, rep.healthy ? "No stored key is invalid." : "Some keys are invalid: calls with them fail until they are replaced."),
      rep.keys.length ? healthTable(rep.keys, false) : h("p", { class: "empty" }, "No stored keys."),
    );
    return;
  }
  const sum = await call<{ counts: { green: number; red: number; grey: number }; red: KeyHealth[]; total: number }>("GET", "/health");
  replace(
    view,
    h("h1", {}, "Key health, all tenants"),
    h(
      "div",
      { class: "counts", id: "health-counts" },
      h("div", { class: "count" }, dot("green", "valid"), h("strong", {}, fmtInt(sum.counts.green))),
      h("div", { class: "count" }, dot("red", "invalid"), h("strong", {}, fmtInt(sum.counts.red))),
      h("div", { class: "count" }, dot("grey", "not checked"), h("strong", {}, fmtInt(sum.counts.grey))),
      h("div", { class: "count" }, "total", h("strong", {}, fmtInt(sum.total))),
    ),
    h("h2", {}, "Invalid keys"),
    sum.red.length ? healthTable(sum.red, true) : h("p", { class: "empty" }, "None."),
  );
}
