// The console's only way to the server: fetch calls to /api/v1 with the admin
// token as a Bearer header. The token lives in this module's memory only —
// never in localStorage, sessionStorage or a cookie — so reloading the page
// or signing out forgets it, and no ambient credential exists for a
// cross-site request to ride on.

let token = "";

/** ApiError is a failed call: the HTTP status and the API's stable code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** setToken keeps the token in memory for later calls. */
export function setToken(t: string): void {
  token = t;
}

/** clearToken forgets the token (sign-out). */
export function clearToken(): void {
  token = "";
}

/** signedIn reports whether a token is held. */
export function signedIn(): boolean {
  return token !== "";
}

/** call sends one request to /api/v1 and decodes the JSON answer. */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token) headers["Authorization"] = "Bearer " + token;
  let payload: string | undefined;
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const res = await fetch("/api/v1" + path, {
    method,
    headers,
    body: payload,
    credentials: "omit",
    cache: "no-store",
    redirect: "error",
  });
  if (res.status === 204) return undefined as T;
  let data: unknown = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = (data as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, e?.code ?? "http_" + res.status, e?.message ?? `HTTP ${res.status}`);
  }
  return data as T;
}

/** enc escapes one path segment. */
export function enc(s: string): string {
  return encodeURIComponent(s);
}

export interface WhoAmI {
  token_id: string;
  name: string;
  role: string;
  tenant: string;
}

export interface Tenant {
  id: string;
  name: string;
  byok_enabled: boolean;
  created_at: string;
  updated_at: string;
}

export interface Key {
  id: string;
  owner: string;
  provider: string;
  version: number;
  hint: string;
  fingerprint: string;
  status: "unknown" | "valid" | "invalid";
  last_checked_at: string | null;
  last_error: string;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface KeyTestResult {
  status: "valid" | "rejected" | "unverifiable";
  models: string[] | null;
  model_count: number;
  error: string;
}

export interface KeyVersion {
  key_id: string;
  version: number;
  hint: string;
  current: boolean;
  created_at: string;
  superseded_at: string | null;
  destroyed_at: string | null;
}

export interface PolicyRule {
  mode: "tenant_then_platform" | "tenant_only" | "platform_only";
  allow_request_keys: boolean;
  fallback_on_error: boolean;
}

export interface Policy {
  tenant: string;
  default: PolicyRule;
  providers: Record<string, PolicyRule> | null;
  updated_at: string | null;
}

export interface KeyHealth {
  owner: string;
  provider: string;
  status: string;
  color: "green" | "red" | "grey";
  hint: string;
  version: number;
  last_checked_at: string | null;
  last_error: string;
  updated_at: string;
}

export interface AuditEvent {
  seq: number;
  id: string;
  time: string;
  actor: { id: string; name: string };
  tenant: string;
  provider: string;
  action: string;
  key_id: string;
  version: number;
  hint: string;
  fingerprint: string;
  request_id: string;
  detail: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

export interface AuditPage {
  events: AuditEvent[];
  next_before: number;
}

export interface AuditVerification {
  ok: boolean;
  events: number;
  head_seq: number;
  head_hash: string;
  error: string;
}

export interface UsageTotals {
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: string;
}

export interface UsageRow {
  provider?: string;
  model?: string;
  key_source?: string;
  day?: string;
  tenant?: string;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  cost_usd: string;
  billable_cost_usd: string;
  /** how the row was costed: every call at its model's price, some at the provider's fallback price, some at none */
  priced: "priced" | "estimated" | "unpriced";
  estimated_requests: number;
  unpriced_requests: number;
}

export interface UsageReport {
  rows: UsageRow[];
  platform_paid: UsageTotals;
  tenant_paid: UsageTotals;
  mode?: string;
  byok_billing?: string;
  budget?: { daily_usd: string | null; monthly_usd: string | null; hard: boolean; applies_to: string } | null;
  from: string;
  to: string;
}
