// The app `init` writes passes the consistency oracle with the page's own
// reducer (public/reduce.js, exported by src/app.ts), and a reducer that
// mishandles one UI event is caught. The app is generated into a temp folder
// whose node_modules link this checkout (built: "sessionstream" resolves to dist/).
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, expect, test } from "vitest";
import { runGen } from "../../src/codegen/gen.js";
import { initProject } from "../../src/scaffold/init-project.js";
import { createTestHub, type TestAppFactory, type UIReducer } from "../../src/testing/index.js";
import type { AppSchema } from "../../src/index.js";

const repo = join(import.meta.dirname, "..", "..");
const root = mkdtempSync(join(tmpdir(), "ss-template-oracle-"));
const app = join(root, "chat");
let createApp: TestAppFactory<AppSchema>;
let reduce: UIReducer;

beforeAll(async () => {
  initProject({ dir: app, sessionstream: repo });
  mkdirSync(join(app, "node_modules"));
  for (const dep of readdirSync(join(repo, "node_modules"))) {
    if (dep !== "sessionstream") symlinkSync(join(repo, "node_modules", dep), join(app, "node_modules", dep));
  }
  symlinkSync(repo, join(app, "node_modules", "sessionstream"));
  await runGen({ projectDir: app });
  const model = (await import(pathToFileURL(join(app, "src/fake-model.ts")).href)) as { setTokenDelay(ms: number): void };
  model.setTokenDelay(1);
  ({ createApp, reduce } = (await import(pathToFileURL(join(app, "src/app.ts")).href)) as { createApp: TestAppFactory<AppSchema>; reduce: UIReducer });
}, 120_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

async function twoTurns() {
  const t = await createTestHub(createApp);
  await t.submit("s1", "ChatStartInference" as never, { prompt: "What is an ordinal?" } as never);
  await t.waitForEvent("s1", "ChatInferenceFinished");
  await t.submit("s1", "ChatStartInference" as never, { prompt: "And a snapshot?" } as never);
  // The answer's run starts the assistant's message once the command has returned: wait for the second one.
  const started = async () => (await t.events("s1")).filter((e) => e.name === "ChatInferenceStarted");
  for (let i = 0; i < 500 && (await started()).length < 2; i++) await new Promise((r) => setTimeout(r, 5));
  const answer = (await started())[1]!.payload as unknown as { messageId: string };
  await t.submit("s1", "ChatStopInference" as never, { messageId: answer.messageId } as never);
  await t.settle();
  return { t, stopped: answer.messageId };
}

test("the template app passes: live fold equals the snapshot at every ordinal, across full and delta resumes", async () => {
  const { t } = await twoTurns();
  const report = await t.expectLiveMatchesSnapshot("s1", { reduce });
  expect(report.events).toBeGreaterThan(10);
  expect(report.scenarios).toBeGreaterThan(report.events * 4);
  expect((await t.events("s1")).some((e) => e.name === "ChatInferenceStopped")).toBe(true);
});

test("the template's reducer without its ChatMessageStopped case is caught at the stop", async () => {
  const { t, stopped } = await twoTurns();
  const ordinal = (await t.events("s1")).find((e) => e.name === "ChatInferenceStopped")!.ordinal;
  const report = await t.checkLiveMatchesSnapshot("s1", { reduce: (d, e) => (e.name === "ChatMessageStopped" ? undefined : reduce(d, e)), faults: false });
  expect(report.drifts[0]).toMatchObject({ ordinal, eventName: "ChatInferenceStopped", kind: "ChatMessage", id: stopped, path: "status", live: "streaming", snapshot: "stopped" });
});
