// Wires `schema-vet --store` into a run: opens the store read-only, checks
// its rows against the compiled protos and, on request, dry-runs a rebuild.
import { resolve } from "node:path";
import { SessionstreamError } from "../../runtime/errors.js";
import type { Finding } from "../diagnostic.js";
import { annotatedMessages } from "../proto/annotations.js";
import type { vetProtos } from "../proto/vet-protos.js";
import type { StoreVetOptions } from "../run-vet.js";
import { checkStore, type StoreReport } from "./check-store.js";
import { rebuildDryRun } from "./rebuild-dry-run.js";
import { openStoreReader, type StoreReader } from "./store-reader.js";

/** Runs the store checks; an unreadable store is one fatal `store-error`. */
export async function storePass(
  cwd: string,
  options: StoreVetOptions,
  roots: readonly string[],
  protos: Awaited<ReturnType<typeof vetProtos>>,
  onProgress?: (line: string) => void,
): Promise<{ findings: Finding[]; report?: StoreReport }> {
  if (roots.length === 0) {
    return { findings: [{ ruleId: "store-error", file: cwd, message: `--store needs the app's protos to check against: no proto/ folder or protoRoots in ${cwd}` }] };
  }
  // Protos that do not compile are already fatal findings.
  if (!protos.compiled || !protos.diskPath) return { findings: [] };
  let reader: StoreReader;
  try {
    reader = await openStoreReader(options.url, cwd);
  } catch (err) {
    return { findings: [{ ruleId: "store-error", file: cwd, message: err instanceof SessionstreamError ? err.message : String(err) }] };
  }
  try {
    const messages = protos.compiled.files.flatMap((f) => annotatedMessages(f, protos.diskPath!(f.proto.name)));
    const checked = await checkStore(reader, {
      messages,
      registry: protos.compiled.registry,
      ...(options.all ? { all: true } : {}),
      ...(options.sample !== undefined ? { sample: options.sample } : {}),
      ...(onProgress ? { onProgress } : {}),
    });
    if (!options.rebuildDryRun) return checked;
    let dry;
    try {
      dry = await rebuildDryRun(reader, {
        appPath: resolve(cwd, options.app ?? "src/app.ts"),
        cwd,
        ...(options.sessions ? { sessions: options.sessions } : {}),
        ...(onProgress ? { onProgress } : {}),
      });
    } catch (err) {
      const message = `--rebuild-dry-run: ${(err as Error).message}`;
      return { findings: [...checked.findings, { ruleId: "rebuild-failed", file: reader.location, message }], report: checked.report };
    }
    return {
      findings: [...checked.findings, ...dry.findings],
      report: { ...checked.report, rebuild: { sessions: dry.sessions, changedSessions: dry.changedSessions, changedEntities: dry.changedEntities } },
    };
  } catch (err) {
    const e = SessionstreamError.from(err);
    return { findings: [{ ruleId: "store-error", file: reader.location, message: `reading the store failed: ${e.message}` }] };
  } finally {
    await reader.close();
  }
}
