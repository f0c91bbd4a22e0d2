// The console's entry: the sign-in form, the top navigation and a hash router
// (#/tenants, #/platform/keys, #/t/{tenant}/keys, ...) that renders one page at a time.
import "./style.css";
import { call, clearToken, setToken, signedIn, type WhoAmI } from "./api";
import { h, replace } from "./dom";
import { clearNotice, errorText, notice } from "./ui";
import { renderTenants } from "./pages/tenants";
import { renderKeys } from "./pages/keys";
import { renderHealth } from "./pages/health";
import { renderAudit } from "./pages/audit";
import { renderUsage } from "./pages/usage";
import { renderPlatformKeys } from "./pages/platformkeys";

const app = document.getElementById("app")!;
const nav = document.getElementById("nav")!;
const who = document.getElementById("who")!;

let me: WhoAmI | null = null;

function signOut(): void {
  clearToken();
  me = null;
  location.hash = "#/";
  notice("Signed out. The token is forgotten.");
  void route();
}

function renderSignIn(): void {
  replace(nav);
  replace(who);
  const input = h("input", { type: "password", id: "token", name: "token", autocomplete: "off", spellcheck: "false", required: true, placeholder: "kga_..." });
  const form = h(
    "form",
    { class: "card signin", id: "signin" },
    h("h1", {}, "Sign in"),
    h("p", {}, "Paste an admin token. The console keeps it in this tab's memory only: reloading the page or signing out forgets it."),
    h("label", { for: "token" }, "Admin token"),
    input,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Sign in")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const t = input.value.trim();
    input.value = "";
    if (!t) return;
    setToken(t);
    try {
      me = await call<WhoAmI>("GET", "/whoami");
      clearNotice();
      if (me.role !== "platform_admin" && me.tenant) location.hash = `#/t/${encodeURIComponent(me.tenant)}/keys`;
      await route();
    } catch (err) {
      clearToken();
      me = null;
      notice("Sign-in failed: " + errorText(err), "error");
    }
  });
  replace(app, form);
  input.focus();
}

function renderChrome(): void {
  if (!me) return;
  const links: HTMLElement[] = [];
  if (me.role === "platform_admin") {
    links.push(h("a", { href: "#/tenants" }, "Tenants"), h("a", { href: "#/platform/keys" }, "Platform keys"), h("a", { href: "#/health" }, "Health"), h("a", { href: "#/audit" }, "Audit log"), h("a", { href: "#/usage" }, "Usage"));
  } else if (me.tenant) {
    links.push(h("a", { href: `#/t/${encodeURIComponent(me.tenant)}/keys` }, "My tenant"));
  }
  replace(nav, ...links);
  replace(who, h("span", {}, `${me.name} · ${me.role}`), h("button", { type: "button", class: "secondary", id: "signout", onclick: signOut }, "Sign out"));
}

async function route(): Promise<void> {
  if (!signedIn() || !me) {
    renderSignIn();
    return;
  }
  renderChrome();
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  const view = h("div", { class: "page" });
  replace(app, view);
  try {
    if (parts[0] === "t" && parts[1]) {
      const tenant = parts[1];
      switch (parts[2] ?? "keys") {
        case "health":
          return await renderHealth(view, tenant);
        case "audit":
          return await renderAudit(view, tenant);
        case "usage":
          return await renderUsage(view, tenant);
        default:
          return await renderKeys(view, tenant);
      }
    }
    switch (parts[0]) {
      case "platform":
        return await renderPlatformKeys(view);
      case "health":
        return await renderHealth(view, "");
      case "audit":
        return await renderAudit(view, "");
      case "usage":
        return await renderUsage(view, "");
      default:
        if (me.role !== "platform_admin" && me.tenant) return await renderKeys(view, me.tenant);
        return await renderTenants(view);
    }
  } catch (err) {
    replace(view, h("p", { class: "error" }, "Could not load this page: " + errorText(err)));
  }
}

window.addEventListener("hashchange", () => {
  clearNotice();
  void route();
});
void route();
