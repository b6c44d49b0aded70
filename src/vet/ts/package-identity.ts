import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** The npm package name whose `SchemaRegistry` the TypeScript rules trust. */
export const SESSIONSTREAM_PACKAGE = "sessionstream";

/**
 * Answers "which npm package does this file belong to?" by the nearest
 * `package.json` above it, caching per folder. A class counts as this
 * package's `SchemaRegistry` only when its declaration file belongs to the
 * `sessionstream` package: `node_modules/sessionstream/dist/...d.ts` in a user
 * project, or this repository's `src/runtime/registry.ts`.
 */
export class PackageResolver {
  readonly #byDir = new Map<string, string | undefined>();

  /** The `name` of the package that owns `file`, or `undefined`. */
  packageOf(file: string): string | undefined {
    return this.#nameForDir(dirname(file));
  }

  /** Whether `file` is part of the `sessionstream` package. */
  isSessionstream(file: string): boolean {
    return this.packageOf(file) === SESSIONSTREAM_PACKAGE;
  }

  #nameForDir(dir: string): string | undefined {
    if (this.#byDir.has(dir)) return this.#byDir.get(dir);
    let name: string | undefined;
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        const json = JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown };
        // A package.json without a name (e.g. `{"type":"module"}` in dist/) does not end the search.
        name = typeof json.name === "string" ? json.name : this.#parent(dir);
      } catch {
        name = this.#parent(dir);
      }
    } else {
      name = this.#parent(dir);
    }
    this.#byDir.set(dir, name);
    return name;
  }

  #parent(dir: string): string | undefined {
    const parent = dirname(dir);
    return parent === dir ? undefined : this.#nameForDir(parent);
  }
}
