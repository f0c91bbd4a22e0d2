// The audit log: filters (provider, action, actor, time), paging with
// next_before, a JSONL export of the loaded events, and (platform admins)
// the chain's verification result.
import { call, enc, type AuditEvent, type AuditPage, type AuditVerification, type Tenant } from "../api";
import { PROVIDERS } from "../catalog";
import { fmtTime, h, replace } from "../dom";
import { errorText, tenantTabs } from "../ui";

const ACTIONS = ["tenant.created", "tenant.deleted", "byok.enabled", "byok.disabled", "key.set", "key.rotated", "key.cleared", "key.rolled_back", "key.tested", "key.status_changed", "token.created", "token.revoked", "policy.updated", "budget.updated", "limits.updated", "master_key.rotated"];

/** renderAudit draws the audit log of one tenant, or (tenant "") platform-wide. */
export async function renderAudit(view: HTMLElement, tenant: string): Promise<void> {
  const t = tenant ? await call<Tenant>("GET", `/tenants/${enc(tenant)}`) : null;
  const base = t ? `/tenants/${enc(t.id)}/audit` : "/audit";

  const provider = h("select", { id: "f-provider" }, h("option", { value: "" }, "any provider"), ...PROVIDERS.map((p) => h("option", { value: p.name }, p.display)));
  const action = h("select", { id: "f-action" }, h("option", { value: "" }, "any action"), ...ACTIONS.map((a) => h("option", { value: a }, a)));
  const actor = h("input", { type: "text", id: "f-actor", placeholder: "actor name or id" });
  const since = h("input", { type: "datetime-local", id: "f-since" });
  const until = h("input", { type: "datetime-local", id: "f-until" });
  const tbody = h("tbody", {});
  const more = h("button", { type: "button", class: "secondary", id: "audit-more", hidden: true }, "Older events");
  const exportBtn = h("button", { type: "button", class: "secondary", id: "audit-export" }, "Export JSONL");
  const status = h("p", { class: "muted", id: "audit-status" });
  const verify = h("div", { id: "audit-verify" });
  let loaded: AuditEvent[] = [];
  let before = 0;

  const query = () => {
    const q = new URLSearchParams({ limit: "50" });
    if (provider.value) q.set("provider", provider.value);
    if (action.value) q.set("action", action.value);
    if (since.value) q.set("since", new Date(since.value).toISOString());
    if (until.value) q.set("until", new Date(until.value).toISOString());
    if (before) q.set("before", String(before));
    return q;
  };
  const actorMatches = (e: AuditEvent) => {
    const a = actor.value.trim().toLowerCase();
    return !a || e.actor.name.toLowerCase().includes(a) || e.actor.id.toLowerCase() === a;
  };
  const load = async (reset: boolean) => {
    if (reset) {
      before = 0;
      loaded = [];
      replace(tbody);
    }
    try {
      const page = await call<AuditPage>("GET", `${base}?${query()}`);
      const events = page.events.filter(actorMatches);
      loaded.push(...events);
      tbody.append(...events.map(row));
      before = page.next_before;
      more.hidden = before === 0;
      replace(status, `Events shown: ${loaded.length}${before ? "; older ones on the next page" : ""}.`);
    } catch (err) {
      replace(status, h("span", { class: "error" }, errorText(err)));
    }
  };

  const filters = h(
    "form",
    { class: "card filters", id: "audit-filters" },
    h("label", {}, "Provider", provider),
    h("label", {}, "Action", action),
    h("label", {}, "Actor", actor),
    h("label", {}, "Since", since),
    h("label", {}, "Until", until),
    h("button", { type: "submit" }, "Apply"),
  );
  filters.addEventListener("submit", (e) => {
    e.preventDefault();
    void load(true);
  });
  more.addEventListener("click", () => void load(false));
  exportBtn.addEventListener("click", () => {
    const blob = new Blob(loaded.map((e) => JSON.stringify(e) + "\n"), { type: "application/x-ndjson" });
    const a = h("a", { href: URL.createObjectURL(blob), download: `keygate-audit${t ? "-" + t.name : ""}.jsonl` });
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 0);
  });

  replace(
    view,
    h("h1", {}, t ? `${t.name}: audit log` : "Audit log, all tenants"),
    t ? tenantTabs(t.id, "audit") : null,
    verify,
    filters,
    h(
      "table",
      { id: "audit" },
      h("thead", {}, h("tr", {}, h("th", {}, "#"), h("th", {}, "Time"), h("th", {}, "Actor"), h("th", {}, "Action"), h("th", {}, "Provider"), h("th", {}, "Key"), h("th", {}, "Detail"))),
      tbody,
    ),
    h("div", { class: "actions" }, more, exportBtn),
    status,
  );
  await load(true);
  try {
    const v = await call<AuditVerification>("GET", "/audit/verify");
    replace(
      verify,
      h(
        "p",
        { class: v.ok ? "ok" : "error", "data-ok": String(v.ok) },
        v.ok ? `Audit chain verified: ${v.events} events, head #${v.head_seq} (${v.head_hash.slice(0, 12)}…).` : `Audit chain verification FAILED: ${v.error}`,
      ),
    );
  } catch {
    replace(verify, h("p", { class: "muted" }, "The chain's verification is shown to platform admins."));
  }
}

function row(e: AuditEvent): HTMLElement {
  const detail = e.detail && Object.keys(e.detail).length ? JSON.stringify(e.detail) : "";
  return h(
    "tr",
    { "data-action": e.action },
    h("td", {}, String(e.seq)),
    h("td", {}, fmtTime(e.time)),
    h("td", { title: e.actor.id }, e.actor.name || e.actor.id),
    h("td", { class: "mono" }, e.action),
    h("td", {}, e.provider || "—"),
    h("td", { class: "mono" }, e.hint ? `${e.hint} v${e.version}` : "—"),
    h("td", { class: "mono small" }, detail),
  );
}
