import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { ts } from "ts-morph";
import type { Finding } from "../diagnostic.js";
import { TYPESCRIPT_VERSION } from "./typescript-api.js";

/** Name of the cache file inside the cache folder. */
export const CACHE_FILE_NAME = "schema-vet.json";

// Bump when the file layout changes; older files are then ignored.
const FORMAT = 1;
// Groups kept in the file (one per tsconfig and set of files vetted); the least recently used go first.
const MAX_GROUPS = 32;

interface GroupEntry {
  /** Candidate files (absolute), in pre-filter order. */
  readonly candidates: string[];
  /** Every non-lib file the program loaded (the candidates and all they import), by absolute path: sha1 of its content. */
  readonly files: Record<string, string>;
  /** The TypeScript pass's findings for the group, before config and suppressions. */
  readonly findings: Finding[];
}

interface CacheFile {
  readonly format: number;
  /** Tool identity: a mismatch drops every group. */
  readonly tool: string;
  readonly groups: Record<string, GroupEntry>;
}

/**
 * On-disk results of the TypeScript pass, so a run over unchanged files
 * builds no program. One entry per group (a tsconfig, or the files that share
 * a nearest tsconfig), keyed by the sha1 of: the tool identity (package
 * version, the rule's own code, the TypeScript version), the tsconfig path,
 * the effective compiler options and the list of files vetted. An entry is
 * reused only when the pre-filter picks the same candidates and every file
 * the previous program loaded (candidates, what they import transitively,
 * the `.d.ts` of `sessionstream` and `@bufbuild/protobuf`) has the same
 * content hash. A missing, unreadable or corrupt file is an empty cache; a
 * failed write is ignored (the run's results do not depend on it).
 */
export class VetCache {
  readonly #path: string;
  readonly #tool: string;
  readonly #groups: Map<string, GroupEntry>;
  readonly #hashes = new Map<string, string | undefined>();
  #dirty = false;

  private constructor(path: string, tool: string, groups: Map<string, GroupEntry>) {
    this.#path = path;
    this.#tool = tool;
    this.#groups = groups;
  }

  /** Opens (never creates) `<dir>/schema-vet.json`. */
  static open(dir: string): VetCache {
    const path = join(resolve(dir), CACHE_FILE_NAME);
    const tool = toolIdentity();
    let groups = new Map<string, GroupEntry>();
    try {
      const json = JSON.parse(readFileSync(path, "utf8")) as unknown;
      if (isCacheFile(json) && json.format === FORMAT && json.tool === tool) {
        groups = new Map(Object.entries(json.groups).filter(([, entry]) => isGroupEntry(entry)));
      }
    } catch {
      // Missing or corrupt: start empty, the next save replaces it.
    }
    return new VetCache(path, tool, groups);
  }

  /** The cached findings of group `key`, when its candidates and every file its program loaded are unchanged. */
  lookup(key: string, candidates: readonly string[], texts: ReadonlyMap<string, string>): Finding[] | undefined {
    const entry = this.#groups.get(key);
    if (!entry) return undefined;
    if (entry.candidates.length !== candidates.length || entry.candidates.some((c, i) => c !== resolve(candidates[i] ?? ""))) return undefined;
    for (const [file, hash] of Object.entries(entry.files)) {
      if (this.#hashOf(file, texts) !== hash) return undefined;
    }
    // Mark as recently used.
    this.#groups.delete(key);
    this.#groups.set(key, entry);
    this.#dirty = true;
    return entry.findings.map((f) => ({ ...f }));
  }

  /** Records group `key`'s findings and the files its program loaded. */
  store(key: string, candidates: readonly string[], loadedFiles: readonly string[], findings: readonly Finding[], texts: ReadonlyMap<string, string>): void {
    const files: Record<string, string> = {};
    for (const file of loadedFiles) {
      const hash = this.#hashOf(file, texts);
      // A file that vanished while we ran: do not cache what cannot be checked next time.
      if (hash === undefined) return;
      files[file] = hash;
    }
    this.#groups.delete(key);
    this.#groups.set(key, { candidates: candidates.map((c) => resolve(c)), files, findings: [...findings] });
    this.#dirty = true;
  }

  /** Writes the file (atomically: a temp file renamed over it) when anything changed. */
  save(): void {
    if (!this.#dirty) return;
    const groups = [...this.#groups].slice(-MAX_GROUPS);
    const file: CacheFile = { format: FORMAT, tool: this.#tool, groups: Object.fromEntries(groups) };
    const temp = `${this.#path}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(this.#path), { recursive: true });
      writeFileSync(temp, JSON.stringify(file));
      renameSync(temp, this.#path);
    } catch {
      // Read-only folder, disk full: the cache is an optimisation.
    }
  }

  #hashOf(file: string, texts: ReadonlyMap<string, string>): string | undefined {
    if (this.#hashes.has(file)) return this.#hashes.get(file);
    let hash: string | undefined;
    try {
      hash = sha1(texts.get(file) ?? readFileSync(file));
    } catch {
      hash = undefined;
    }
    this.#hashes.set(file, hash);
    return hash;
  }
}

/** The cache key of one group of files vetted with one set of compiler options. */
export function groupKey(tsconfig: string | undefined, options: ts.CompilerOptions, files: readonly string[]): string {
  return sha1(JSON.stringify({ tsconfig: tsconfig ?? null, options: sortedObject({ ...options, configFile: undefined }), files: files.map((f) => resolve(f)).sort() }));
}

let identity: string | undefined;

// The package version, the TypeScript version and a hash of this folder's own
// code (the rule, the pre-filter, the program set-up), so an edited or
// upgraded checker never reuses an older checker's results.
function toolIdentity(): string {
  if (identity === undefined) {
    const here = import.meta.dirname;
    let version = "unknown";
    try {
      version = (JSON.parse(readFileSync(join(here, "../../../package.json"), "utf8")) as { version?: string }).version ?? version;
    } catch {
      // Not inside the package layout (should not happen): the code hash still identifies the tool.
    }
    const code = createHash("sha1");
    for (const name of readdirSync(here).filter((n) => /\.[cm]?[jt]s$/.test(n) && !n.endsWith(".d.ts")).sort()) {
      code.update(name).update(readFileSync(join(here, name)));
    }
    identity = `sessionstream@${version} typescript@${TYPESCRIPT_VERSION} code:${code.digest("hex")}`;
  }
  return identity;
}

function sha1(data: string | Buffer): string {
  return createHash("sha1").update(data).digest("hex");
}

function sortedObject(value: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function isCacheFile(value: unknown): value is CacheFile {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v["format"] === "number" && typeof v["tool"] === "string" && typeof v["groups"] === "object" && v["groups"] !== null && !Array.isArray(v["groups"]);
}

function isGroupEntry(value: unknown): value is GroupEntry {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    Array.isArray(v["candidates"]) &&
    v["candidates"].every((c) => typeof c === "string") &&
    typeof v["files"] === "object" &&
    v["files"] !== null &&
    Object.values(v["files"] as object).every((h) => typeof h === "string") &&
    Array.isArray(v["findings"]) &&
    v["findings"].every((f) => typeof f === "object" && f !== null && typeof (f as Finding).ruleId === "string" && typeof (f as Finding).file === "string" && typeof (f as Finding).message === "string")
  );
}
