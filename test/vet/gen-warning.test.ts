// `sessionstream gen` warns (and still succeeds) when the working tree's
// protos have changes that `schema-vet --against HEAD` would flag.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { formatGenResult } from "../../src/cli/commands/gen.js";
import { runGen } from "../../src/codegen/gen.js";

const base = resolve("fixtures/vet/evolve");
const dir = mkdtempSync(join(tmpdir(), "ss-gen-warn-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, stdio: "pipe" }).toString();

describe("gen warns about breaking proto edits against HEAD", () => {
  it("says nothing for committed protos, warns for a renumbered event field, honours config, exit code stays 0", async () => {
    git("init", "-q");
    git("config", "user.email", "t@example.com");
    git("config", "user.name", "t");
    cpSync(join(base, "renumber/baseline"), join(dir, "proto"), { recursive: true });
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "gen-warn", private: true, type: "module" }));
    git("add", ".");
    git("commit", "-q", "-m", "baseline");

    const clean = await runGen({ projectDir: dir });
    expect(clean.exitCode).toBe(0);
    expect(clean.notes.filter((n) => n.includes("schema-vet"))).toEqual([]);

    cpSync(join(base, "renumber/change"), join(dir, "proto"), { recursive: true });
    const warned = await runGen({ projectDir: dir });
    expect(warned.exitCode).toBe(0);
    const err = formatGenResult(warned, false).err;
    expect(err).toContain(
      'warning: proto/app/v1/app.proto:17:1: error persisted-wire-breaking: Previously present field "2" with name "chunk" on message "TokensDeltaEvent" was deleted without reserving the number "2". Event "ChatTokensDelta" is stored as protobuf binary: rows written before this change no longer decode as written [buf FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED, against git ref HEAD (' +
        git("rev-parse", "HEAD").trim().slice(0, 12) +
        ")]",
    );
    expect(err.at(-1)).toContain("`sessionstream schema-vet --against HEAD` reports them");
    // --check (CI) stays about generated files only.
    expect((await runGen({ projectDir: dir, check: true })).notes.filter((n) => n.includes("persisted-wire-breaking"))).toEqual([]);

    // A rule turned off in sessionstream.config.json is not mentioned.
    writeFileSync(join(dir, "sessionstream.config.json"), JSON.stringify({ schemaVet: { rules: { "persisted-wire-breaking": "off" } } }));
    const off = await runGen({ projectDir: dir });
    expect(off.notes.filter((n) => n.includes("persisted-wire-breaking"))).toEqual([]);
    expect(readFileSync(join(dir, "proto/app/v1/app.proto"), "utf8")).toContain("string chunk = 3;");
  }, 240_000);
});
