// `GET /healthz` (liveness: the process answers) and `GET /readyz`
// (readiness: the store and the bus answer, and the server is not draining).
import { SessionstreamError } from "../runtime/errors.js";
import type { HydrationStore } from "../store/hydration-store.js";
import { sendJson } from "../dev/inspector-api.js";
import type { Route } from "./app-routes.js";
import { probeStore, withTimeout } from "./backends.js";

/** Options of {@link healthRoutes}. */
export interface HealthOptions {
  readonly store: HydrationStore;
  /** Checks the bus's server now; absent for the in-process bus (always ready). */
  readonly probeBus: (() => Promise<void>) | undefined;
  /** True once shutdown began: `/readyz` answers 503 so load balancers stop routing here. */
  readonly draining: () => boolean;
  /** Longest wait of one probe. */
  readonly timeoutMs: number;
}

/** One dependency's state in the `/readyz` body. */
export interface ProbeResult {
  readonly ok: boolean;
  readonly code?: string;
  readonly error?: string;
}

/**
 * `/healthz` answers 200 `{"status":"ok"}` while the process serves (also
 * while draining: it is alive). `/readyz` answers 200 `{"status":"ready",
 * "store":{"ok":true},"bus":{"ok":true}}`, or 503 with `"status":
 * "unavailable"` and the failing dependency's `code` and `error`, or 503
 * `"status":"shutting_down"`. GET and HEAD, never cached; like every
 * endpoint they pass the Host check (probes by IP address always do).
 */
export function healthRoutes(options: HealthOptions): Route {
  return async function health(req, res, path) {
    if (path !== "/healthz" && path !== "/readyz") return false;
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    res.setHeader("cache-control", "no-store");
    if (path === "/healthz") return sendJson(res, 200, { status: "ok" });
    if (options.draining()) return sendJson(res, 503, { status: "shutting_down" });
    const [store, bus] = await Promise.all([
      probe(() => probeStore(options.store), options.timeoutMs, "store_unavailable"),
      options.probeBus ? probe(options.probeBus, options.timeoutMs, "bus_unavailable") : Promise.resolve<ProbeResult>({ ok: true }),
    ]);
    const ok = store.ok && bus.ok;
    return sendJson(res, ok ? 200 : 503, { status: ok ? "ready" : "unavailable", store, bus });
  };
}

async function probe(check: () => Promise<void>, timeoutMs: number, code: "store_unavailable" | "bus_unavailable"): Promise<ProbeResult> {
  try {
    await withTimeout(check(), timeoutMs, `no answer within ${timeoutMs} ms`);
    return { ok: true };
  } catch (err) {
    // A driver's own error (ECONNREFUSED) is reported under the dependency's code.
    const e = err instanceof SessionstreamError ? err : SessionstreamError.from(err, code);
    return { ok: false, code: e.code, error: e.message };
  }
}
