// The dev watcher sees every save however it is written: in place, or through
// a temp file and a rename (gen, vim, JetBrains safe write, Sublime atomic
// save), repeatedly, in folders that exist at start and folders made later.
import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { watchProject, type ChangeBatch } from "../../src/dev/watcher.js";
import { until } from "../helpers/until.js";

const root = mkdtempSync(join(tmpdir(), "ss-watch-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let stop: (() => void) | undefined;
afterEach(() => stop?.());

function project(name: string) {
  const cwd = join(root, name);
  mkdirSync(join(cwd, "src/gen/chat/v1"), { recursive: true });
  mkdirSync(join(cwd, "proto/chat/v1"), { recursive: true });
  writeFileSync(join(cwd, "src/app.ts"), "export const v = 0;\n");
  writeFileSync(join(cwd, "src/gen/chat/v1/chat_sessionstream.ts"), "// @generated\n");
  writeFileSync(join(cwd, "proto/chat/v1/chat.proto"), 'syntax = "proto3";\n');
  const batches: ChangeBatch[] = [];
  stop = watchProject({ cwd, protoRoots: ["proto"], sourceRoots: ["src"], debounceMs: 30, onChange: (b) => batches.push(b) });
  return { cwd, batches };
}

/** Saves like gen and many editors: write a temp file beside the target, then rename it over. */
function atomicSave(file: string, text: string, temp = `${file}.tmp-${process.pid}`) {
  writeFileSync(temp, text);
  renameSync(temp, file);
}

/** Waits for the next batch and returns it (batches are consumed). */
async function nextBatch(batches: ChangeBatch[], what: string): Promise<ChangeBatch> {
  return until(() => batches.shift(), what, 5000);
}

describe("watchProject", () => {
  test("every atomic save of the same file is reported, not only the first", async () => {
    const { cwd, batches } = project("atomic");
    const app = join(cwd, "src/app.ts");
    for (let i = 1; i <= 4; i++) {
      atomicSave(app, `export const v = ${i};\n`);
      expect(await nextBatch(batches, `save ${i} of src/app.ts`)).toEqual({ protos: [], sources: ["src/app.ts"] });
    }
    // An in-place write after atomic saves is still seen.
    writeFileSync(app, "export const v = 5;\n");
    expect(await nextBatch(batches, "an in-place write after renames")).toEqual({ protos: [], sources: ["src/app.ts"] });
  });

  test("files gen rewrote (nested) and files it did not, saved by rename in turn, each time", async () => {
    const { cwd, batches } = project("mixed");
    const generated = join(cwd, "src/gen/chat/v1/chat_sessionstream.ts");
    const app = join(cwd, "src/app.ts");
    for (let i = 1; i <= 3; i++) {
      atomicSave(generated, `// @generated ${i}\n`);
      expect(await nextBatch(batches, `gen's write ${i}`)).toEqual({ protos: [], sources: ["src/gen/chat/v1/chat_sessionstream.ts"] });
      atomicSave(app, `export const v = ${i};\n`);
      expect(await nextBatch(batches, `user save ${i}`)).toEqual({ protos: [], sources: ["src/app.ts"] });
    }
  });

  test("editor save patterns: JetBrains safe write, vim backup rename, temp file elsewhere in the tree", async () => {
    const { cwd, batches } = project("editors");
    const app = join(cwd, "src/app.ts");
    for (let i = 0; i < 2; i++) {
      // JetBrains: write app.ts___jb_tmp___, move app.ts to app.ts___jb_old___, move the tmp over, delete the old.
      writeFileSync(`${app}___jb_tmp___`, `export const jb = ${i};\n`);
      renameSync(app, `${app}___jb_old___`);
      renameSync(`${app}___jb_tmp___`, app);
      unlinkSync(`${app}___jb_old___`);
      expect(await nextBatch(batches, `JetBrains save ${i}`)).toEqual({ protos: [], sources: ["src/app.ts"] });
      // vim (backupcopy=no): rename the file to app.ts~, write a new app.ts, delete the backup.
      renameSync(app, `${app}~`);
      writeFileSync(app, `export const vim = ${i};\n`);
      unlinkSync(`${app}~`);
      expect(await nextBatch(batches, `vim save ${i}`)).toEqual({ protos: [], sources: ["src/app.ts"] });
      // A temp file in another watched folder, renamed into place.
      atomicSave(app, `export const moved = ${i};\n`, join(cwd, "src/gen", `.app-${i}.tmp`));
      expect(await nextBatch(batches, `moved-in save ${i}`)).toEqual({ protos: [], sources: ["src/app.ts"] });
    }
  });

  test("protos saved by rename trigger gen every time; folders created later are watched", async () => {
    const { cwd, batches } = project("protos");
    const proto = join(cwd, "proto/chat/v1/chat.proto");
    for (let i = 1; i <= 3; i++) {
      atomicSave(proto, `syntax = "proto3";\n// ${i}\n`);
      expect(await nextBatch(batches, `proto save ${i}`)).toEqual({ protos: ["proto/chat/v1/chat.proto"], sources: [] });
    }
    mkdirSync(join(cwd, "src/handlers/deep"), { recursive: true });
    writeFileSync(join(cwd, "src/handlers/deep/a.ts"), "export {};\n");
    expect((await nextBatch(batches, "a file in a new folder")).sources).toContain("src/handlers/deep/a.ts");
    for (let i = 1; i <= 2; i++) {
      atomicSave(join(cwd, "src/handlers/deep/a.ts"), `export const a = ${i};\n`);
      expect(await nextBatch(batches, `save ${i} in the new folder`)).toEqual({ protos: [], sources: ["src/handlers/deep/a.ts"] });
    }
    // Not a source or proto: no batch. node_modules is never watched.
    writeFileSync(join(cwd, "src/notes.md"), "x");
    mkdirSync(join(cwd, "src/node_modules"), { recursive: true });
    writeFileSync(join(cwd, "src/node_modules/x.js"), "x");
    await new Promise((r) => setTimeout(r, 200));
    expect(batches).toEqual([]);
  });
});

describe("watchProject, roots that appear later", () => {
  test("a proto root created after the start (nested) is watched once it exists", async () => {
    const cwd = join(root, "late-root");
    mkdirSync(join(cwd, "src"), { recursive: true });
    const batches: ChangeBatch[] = [];
    stop = watchProject({ cwd, protoRoots: ["schema/proto"], sourceRoots: ["src"], debounceMs: 30, onChange: (b) => batches.push(b) });
    mkdirSync(join(cwd, "schema"));
    await new Promise((r) => setTimeout(r, 100));
    mkdirSync(join(cwd, "schema/proto/chat"), { recursive: true });
    writeFileSync(join(cwd, "schema/proto/chat/chat.proto"), 'syntax = "proto3";\n');
    expect((await nextBatch(batches, "the first proto in a new root")).protos).toEqual(["schema/proto/chat/chat.proto"]);
    for (let i = 1; i <= 2; i++) {
      atomicSave(join(cwd, "schema/proto/chat/chat.proto"), `syntax = "proto3";\n// ${i}\n`);
      expect(await nextBatch(batches, `save ${i} in the new root`)).toEqual({ protos: ["schema/proto/chat/chat.proto"], sources: [] });
    }
  });
});
