// The drift check of `sessionstream dev`: with the page's reducer exported by
// the app module (`reduce`), sessions are checked as they change; a drifting
// projection shows in the inspector API (ordinal, entity, field, live vs
// snapshot) and in the terminal once per problem. `driftCheck: false`
// (--no-drift-check) turns it off; an app without `reduce` is told once.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { inspectorUrl, startDevServer } from "../../src/dev/dev-server.js";
import { repoUrl, writeDevApp } from "../helpers/dev-app.js";
import { until } from "../helpers/until.js";

const root = mkdtempSync(join(tmpdir(), "ss-devdrift-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** An app folder whose timeline projection forgets the chunk "order " (ordinal 3) unless `consistent`. */
function appDir(name: string, options: { consistent?: boolean; exportReduce?: boolean }): string {
  return writeDevApp(
    join(root, name),
    `import { chatHub } from ${JSON.stringify(repoUrl("test/helpers/chat-app.ts"))};
export function createApp({ store }: { store: any }) {
  const hub = chatHub({ store });
  ${
    options.consistent
      ? ""
      : `hub.registerTimelineProjection((ev: any, _s: any, view: any) => {
    if (ev.name !== "ChatTokensDelta" || ev.payload.chunk !== "order ") return [];
    const prev = view.get("ChatMessage", ev.payload.messageId).payload;
    return [{ kind: "ChatMessage", id: ev.payload.messageId, payload: { messageId: ev.payload.messageId, role: "assistant", status: "streaming", text: prev.text } }];
  });`
  }
  return hub;
}
${
  options.exportReduce === false
    ? ""
    : `export function reduce(draft: any, event: any) {
  const p = event.payload;
  const current = draft.get("ChatMessage", p.messageId)?.payload ?? { messageId: p.messageId };
  if (event.name === "ChatMessageStarted") draft.set("ChatMessage", p.messageId, { messageId: p.messageId, role: p.role, status: p.status });
  if (event.name === "ChatMessageAppended") draft.set("ChatMessage", p.messageId, { ...current, text: (current.text ?? "") + (p.chunk ?? "") });
  if (event.name === "ChatMessageFinished") draft.set("ChatMessage", p.messageId, { ...current, status: p.status });
}`
}
`,
  );
}

async function drift(base: string, query = ""): Promise<{ enabled: boolean; problems: Array<Record<string, string>> }> {
  return (await (await fetch(`${base}/__sessionstream/api/drift${query}`)).json()) as never;
}

describe("dev drift check", () => {
  test("a drifting projection shows in the inspector API and once in the terminal", async () => {
    const logs: string[] = [];
    const server = await startDevServer({ cwd: appDir("drifting", {}), port: 0, store: "memory", watch: false, log: (l) => logs.push(l) });
    try {
      await server.hub()!.submit("s1", "ChatStartInference", { prompt: "p" } as never);
      const problems = await until(async () => ((await drift(server.url, "?session=s1")).problems.length > 0 ? (await drift(server.url)).problems : undefined), "a drift", 20_000);
      expect(problems[0]).toMatchObject({ sessionId: "s1", ordinal: "3", eventName: "ChatTokensDelta", kind: "ChatMessage", id: "m1", path: "text", live: '"Ordinals order "', snapshot: '"Ordinals "' });
      await until(() => logs.some((l) => l.startsWith('drift in session "s1"')), "the terminal line");
      expect(logs.filter((l) => l.startsWith('drift in session "s1"')).join("\n")).toContain('ordinal 3 (event "ChatTokensDelta"): ChatMessage "m1" field text: live "Ordinals order " vs snapshot "Ordinals " [live from ordinal 0]');

      // Checked again (a reload, more events): the same problem is not told twice, and still listed.
      const told = logs.filter((l) => l.startsWith("drift in session")).length;
      expect(told).toBe(1);
      await server.reload();
      expect((await server.drift!.check("s1")).length).toBeGreaterThan(0);
      expect(logs.filter((l) => l.startsWith("drift in session")).length).toBe(told);
      expect((await drift(server.url)).enabled).toBe(true);
    } finally {
      await server.close();
    }
  });

  const CHROMIUM = "/usr/bin/chromium";
  if (!existsSync(CHROMIUM)) console.log(`drift panel browser test skipped: headless Chromium not found at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`);
  test.skipIf(!existsSync(CHROMIUM))("the inspector page shows the drift panel with the problem's row (headless Chromium)", async () => {
    const server = await startDevServer({ cwd: appDir("drifting-browser", {}), port: 0, store: "memory", watch: false, log: () => {} });
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
    try {
      const page = await browser.newPage();
      await page.goto(inspectorUrl(server.url));
      await page.waitForLoadState("networkidle");
      expect(await page.getByTestId("drift-panel").isHidden()).toBe(true);
      // The drift arrives on the inspector's live stream after the page loaded.
      await server.hub()!.submit("s1", "ChatStartInference", { prompt: "p" } as never);
      const row = page.locator('[data-drift="s1/ChatMessage/m1/text"]').first();
      await row.waitFor({ timeout: 20_000 });
      expect(await page.getByTestId("drift-panel").isVisible()).toBe(true);
      const cells = await row.locator("td").allTextContents();
      expect(cells.slice(0, 5)).toEqual(["s1", "3", "ChatTokensDelta", "ChatMessage m1", "text"]);
      expect(cells[5]).toContain("Ordinals order ");
      expect(cells[6]).toBe('"Ordinals "');
    } finally {
      await browser.close();
      await server.close();
    }
  });

  test("a consistent app has no drift", async () => {
    const logs: string[] = [];
    const server = await startDevServer({ cwd: appDir("consistent", { consistent: true }), port: 0, store: "memory", watch: false, log: (l) => logs.push(l) });
    try {
      await server.hub()!.submit("s1", "ChatStartInference", { prompt: "p" } as never);
      expect(await server.drift!.check("s1")).toEqual([]);
      expect((await drift(server.url)).problems).toEqual([]);
      expect(logs.join("\n")).not.toContain("drift");
    } finally {
      await server.close();
    }
  });

  test("driftCheck: false turns it off; an app without a reduce export is told once", async () => {
    const off = await startDevServer({ cwd: appDir("off", {}), port: 0, store: "memory", watch: false, log: () => {}, driftCheck: false });
    try {
      expect(off.drift).toBeUndefined();
      await off.hub()!.submit("s1", "ChatStartInference", { prompt: "p" } as never);
      expect(await drift(off.url)).toEqual({ enabled: false, problems: [] });
    } finally {
      await off.close();
    }
    const logs: string[] = [];
    const bare = await startDevServer({ cwd: appDir("bare", { exportReduce: false }), port: 0, store: "memory", watch: false, log: (l) => logs.push(l) });
    try {
      await bare.reload();
      expect(logs.filter((l) => l.startsWith("drift check off: src/app.ts exports no `reduce`"))).toHaveLength(1);
      expect(await bare.drift!.check("s1")).toEqual([]);
    } finally {
      await bare.close();
    }
  });
});
