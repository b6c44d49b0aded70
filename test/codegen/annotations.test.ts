// Invalid annotations fail with file:line:col and the fix; plugin options
// are checked; inline protos compiled with the bundled buf.
import { create } from "@bufbuild/protobuf";
import { CodeGeneratorRequestSchema } from "@bufbuild/protobuf/wkt";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AnnotationError, readAnnotations } from "../../src/codegen/annotations.js";
import { compileProtos } from "../../src/codegen/compile-protos.js";
import { parseSessionstreamOptions, protocGenSessionstream } from "../../src/codegen/plugin.js";

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

/** Compiles inline proto files (path -> text) in one root. */
async function compile(files: Record<string, string>) {
  const root = mkdtempSync(join(tmpdir(), "ss-annotations-"));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return compileProtos({ roots: [root] });
}

const HEADER = 'syntax = "proto3";\npackage app.v1;\nimport "sessionstream/v1/options.proto";\n';

async function problems(files: Record<string, string>): Promise<string[]> {
  const c = await compile(files);
  try {
    readAnnotations(c.files);
  } catch (err) {
    expect(err).toBeInstanceOf(AnnotationError);
    return (err as Error).message.split("\n");
  }
  return [];
}

describe("annotation checks", () => {
  it("reads names with their defaults", async () => {
    const c = await compile({
      "app/v1/a.proto": HEADER + 'message Go { option (sessionstream.v1.command) = {}; }\nmessage Thing { option (sessionstream.v1.timeline_entity) = {}; string id = 1; }\n',
    });
    const [m] = readAnnotations(c.files);
    expect(m!.commands.map((x) => x.name)).toEqual(["Go"]);
    expect(m!.entities.map((x) => [x.kind, x.idField, x.idLocalName])).toEqual([["Thing", "id", "id"]]);
  });

  it("rejects duplicate names across files, pointing at the second with the first's position", async () => {
    expect(
      await problems({
        "app/v1/a.proto": HEADER + 'message A {\n  option (sessionstream.v1.command) = { name: "Go" };\n}\n',
        "app/v1/b.proto": HEADER + 'message B {\n  option (sessionstream.v1.command) = { name: "Go" };\n}\n',
      }),
    ).toEqual([
      'app/v1/b.proto:5:10: duplicate command name "Go" (first defined at app/v1/a.proto:5:10); give one of them a different name',
    ]);
  });

  it("rejects an id_field that does not exist or is not a string", async () => {
    expect(
      await problems({
        "app/v1/a.proto":
          HEADER +
          'message E {\n  option (sessionstream.v1.timeline_entity) = { id_field: "key" };\n  string name = 1;\n}\n' +
          'message F {\n  option (sessionstream.v1.timeline_entity) = { id_field: "n" };\n  int64 n = 1;\n}\n',
      }),
    ).toEqual([
      'app/v1/a.proto:5:10: timeline entity "E": id_field "key" is not a field of E; set id_field to one of its string fields (name)',
      'app/v1/a.proto:9:10: timeline entity "F": id_field "n" is not a string field; add a string field "n" to F',
    ]);
  });

  it("rejects an event declaring a UI event or entity kind nobody defines", async () => {
    expect(
      await problems({
        "app/v1/a.proto": HEADER + 'message Ev {\n  option (sessionstream.v1.event) = { ui_events: "Nope" timeline_entities: "Gone" };\n}\n',
      }),
    ).toEqual([
      'app/v1/a.proto:5:10: event "Ev" declares UI event "Nope" but no message defines it; add option (sessionstream.v1.ui_event) = { names: "Nope" } to the message that carries it, or remove it from ui_events',
      'app/v1/a.proto:5:10: event "Ev" declares timeline entity "Gone" but no message defines it; add option (sessionstream.v1.timeline_entity) = { kind: "Gone" } to the entity message, or remove it from timeline_entities',
    ]);
  });

  it("rejects an annotated Struct (untyped JSON payload)", async () => {
    expect(
      await problems({
        "google/protobuf/struct.proto":
          'syntax = "proto3";\npackage google.protobuf;\nimport "sessionstream/v1/options.proto";\nmessage Struct {\n  option (sessionstream.v1.event) = {};\n}\n',
      }),
    ).toEqual([
      "google/protobuf/struct.proto:5:10: google.protobuf.Struct carries untyped JSON and cannot be a payload; annotate a concrete message with typed fields instead",
    ]);
  });

  it("the plugin fails the request with the same text, and emits nothing for unannotated files", async () => {
    const c = await compile({
      "app/v1/a.proto": HEADER + 'message Ev {\n  option (sessionstream.v1.event) = { ui_events: "Nope" };\n}\n',
      "app/v1/plain.proto": 'syntax = "proto3";\npackage app.v1;\nmessage Plain { string x = 1; }\n',
    });
    const request = (names: string[]) =>
      create(CodeGeneratorRequestSchema, { fileToGenerate: names, parameter: "target=ts", protoFile: c.fileDescriptorSet.file });
    expect(() => protocGenSessionstream.run(request(["app/v1/a.proto"]))).toThrow(/app\/v1\/a\.proto:5:10: event "Ev" declares UI event "Nope"/);
    expect(protocGenSessionstream.run(request(["app/v1/plain.proto"])).file).toEqual([]);
  });
});

describe("plugin options", () => {
  it("accepts runtime_import and stubs", () => {
    expect(parseSessionstreamOptions([{ key: "runtime_import", value: "@me/rt" }, { key: "stubs", value: "stubs/" }])).toEqual({
      runtimeImport: "@me/rt",
      stubs: "stubs",
    });
    expect(parseSessionstreamOptions([])).toEqual({ runtimeImport: "sessionstream", stubs: undefined });
  });

  it("rejects unknown keys and stubs outside the output dir, with exact text", () => {
    expect(() => parseSessionstreamOptions([{ key: "stub_dir", value: "x" }])).toThrow(
      'unknown option "stub_dir" (protoc-gen-sessionstream accepts runtime_import, stubs and the standard protoplugin options)',
    );
    expect(() => parseSessionstreamOptions([{ key: "stubs", value: "../src" }])).toThrow(
      "option stubs=../src: expected a relative folder inside the output dir, e.g. stubs=stubs",
    );
  });

  it("stubs=<dir> also emits the stubs, importing the generated file relatively", async () => {
    const c = await compile({ "app/v1/a.proto": HEADER + "message Go { option (sessionstream.v1.command) = {}; }\n" });
    const res = protocGenSessionstream.run(
      create(CodeGeneratorRequestSchema, {
        fileToGenerate: ["app/v1/a.proto"],
        parameter: "target=ts,import_extension=js,stubs=stubs",
        protoFile: c.fileDescriptorSet.file,
      }),
    );
    expect(res.file.map((f) => f.name)).toEqual(["app/v1/a_sessionstream.ts", "app_sessionstream.ts", "stubs/handlers/go.ts", "stubs/app.ts"]);
    expect(res.file[2]!.content).toContain('import type { ACommandHandler } from "../../app/v1/a_sessionstream.js";');
    expect(res.file[3]!.content).toContain('import { createAppRegistry } from "../app_sessionstream.js";');
  });
});
