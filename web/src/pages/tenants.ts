// Tenants (platform admins): list, create, open, and grant or withdraw BYOK.
import { call, enc, type Tenant } from "../api";
import { fmtTime, h, replace } from "../dom";
import { confirmAction, errorText, notice } from "../ui";

/** renderTenants draws the tenant list into view. */
export async function renderTenants(view: HTMLElement): Promise<void> {
  const list = await call<{ tenants: Tenant[] }>("GET", "/tenants");

  const name = h("input", { type: "text", id: "tenant-name", name: "name", required: true, autocomplete: "off", placeholder: "acme" });
  const byok = h("input", { type: "checkbox", id: "tenant-byok", name: "byok" });
  const form = h(
    "form",
    { class: "card inline", id: "create-tenant" },
    h("label", { for: "tenant-name" }, "New tenant"),
    name,
    h("label", { class: "check" }, byok, "grant BYOK"),
    h("button", { type: "submit" }, "Create"),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const t = await call<Tenant>("POST", "/tenants", { name: name.value.trim(), byok_enabled: byok.checked });
      notice(`Created tenant ${t.name} (${t.id}).`);
      await renderTenants(view);
    } catch (err) {
      notice("Could not create the tenant: " + errorText(err), "error");
    }
  });

  const rows = list.tenants.map((t) => {
    const toggle = h(
      "button",
      { type: "button", class: t.byok_enabled ? "secondary" : "", "data-action": t.byok_enabled ? "withdraw-byok" : "grant-byok" },
      t.byok_enabled ? "Withdraw BYOK" : "Grant BYOK",
    );
    toggle.addEventListener("click", async () => {
      const grant = !t.byok_enabled;
      const ok = await confirmAction(
        grant ? `Grant BYOK to ${t.name}?` : `Withdraw BYOK from ${t.name}?`,
        grant
          ? `${t.name}'s admins will be able to store their own provider keys, and calls will use them as the tenant's policy says.`
          : `${t.name}'s stored keys stay encrypted but are no longer used: calls fall back to the platform keys, or fail where the policy is tenant_only.`,
        grant ? "Grant BYOK" : "Withdraw BYOK",
      );
      if (!ok) return;
      try {
        await call<Tenant>("PATCH", `/tenants/${enc(t.id)}`, { byok_enabled: grant });
        notice(grant ? `BYOK granted to ${t.name}.` : `BYOK withdrawn from ${t.name}.`);
        await renderTenants(view);
      } catch (err) {
        notice("Could not change BYOK: " + errorText(err), "error");
      }
    });
    return h(
      "tr",
      { "data-tenant": t.name },
      h("td", {}, h("a", { href: `#/t/${enc(t.id)}/keys` }, t.name)),
      h("td", { class: "mono" }, t.id),
      h("td", {}, h("span", { class: t.byok_enabled ? "badge on" : "badge" }, t.byok_enabled ? "BYOK" : "platform keys")),
      h("td", {}, fmtTime(t.created_at)),
      h("td", { class: "actions" }, h("a", { class: "button secondary", href: `#/t/${enc(t.id)}/keys` }, "Open"), toggle),
    );
  });

  replace(
    view,
    h("h1", {}, "Tenants"),
    form,
    list.tenants.length === 0
      ? h("p", { class: "empty" }, "No tenants yet.")
      : h(
          "table",
          { id: "tenants" },
          h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Id"), h("th", {}, "Keys"), h("th", {}, "Created"), h("th", {}, ""))),
          h("tbody", {}, ...rows),
        ),
  );
}
