// Pieces shared by the pages: the notice line, the confirmation dialog,
// status dots and the tenant tabs.
import { h, replace } from "./dom";
import { ApiError } from "./api";

/** errorText turns a failed call into one line for the reader. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return `${err.message} (${err.code})`;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** notice shows a message in the page's notice line; kind "error" is red. */
export function notice(msg: string, kind: "ok" | "error" = "ok"): void {
  const el = document.getElementById("notice");
  if (!el) return;
  el.className = "notice " + kind;
  el.setAttribute("role", kind === "error" ? "alert" : "status");
  replace(el, msg);
}

/** clearNotice empties the notice line. */
export function clearNotice(): void {
  const el = document.getElementById("notice");
  if (el) {
    el.className = "notice";
    replace(el);
  }
}

/**
 * confirmAction asks in a modal dialog and resolves true only when the reader
 * presses the confirm button.
 */
export function confirmAction(title: string, body: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const dlg = h("dialog", { class: "confirm", "aria-labelledby": "confirm-title" });
    const done = (v: boolean) => {
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    dlg.append(
      h("h2", { id: "confirm-title" }, title),
      h("p", { class: "confirm-body" }, body),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "secondary", onclick: () => done(false) }, "Cancel"),
        h("button", { type: "button", class: "danger", "data-confirm": "yes", onclick: () => done(true) }, confirmLabel),
      ),
    );
    dlg.addEventListener("cancel", () => done(false));
    document.body.append(dlg);
    dlg.showModal();
  });
}

/** dot is a status light: green, red or grey. */
export function dot(color: string, label: string): HTMLElement {
  return h("span", { class: "status" }, h("span", { class: "dot " + color, "aria-hidden": "true" }), label);
}

/** colorOf maps a key status to its light. */
export function colorOf(status: string): "green" | "red" | "grey" {
  if (status === "valid") return "green";
  if (status === "invalid") return "red";
  return "grey";
}

/** tenantTabs is the tab bar of one tenant's pages. */
export function tenantTabs(tenant: string, current: string): HTMLElement {
  const tab = (path: string, label: string) =>
    h("a", { href: `#/t/${encodeURIComponent(tenant)}/${path}`, class: path === current ? "tab current" : "tab", "aria-current": path === current ? "page" : undefined }, label);
  return h("nav", { class: "tabs", "aria-label": "Tenant" }, tab("keys", "API keys"), tab("health", "Health"), tab("audit", "Audit log"), tab("usage", "Usage"));
}
