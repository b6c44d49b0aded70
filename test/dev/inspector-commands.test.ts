// The inspector's command forms keep what the user typed: neither the live
// stream's first status nor an app reload may put the template back over an
// edited body. Chromium holds back the page's last fetch
// before the stream opens until the body is edited, the timing a loaded
// machine produces by chance.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { inspectorUrl, startDevServer } from "../../src/dev/dev-server.js";
import { chatAppSource, writeDevApp } from "../helpers/dev-app.js";

const CHROMIUM = "/usr/bin/chromium";
const dir = mkdtempSync(join(tmpdir(), "ss-inspector-commands-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeDevApp(
  dir,
  chatAppSource(`hub.registerCommand("ChatStartInference", async (cmd, _s, pub) => {
    await pub.publish("ChatInferenceStarted", { messageId: "m1", prompt: cmd.payload.prompt });
  });
  hub.registerTimelineProjection((ev) => ev.name === "ChatInferenceStarted"
    ? [{ kind: "ChatMessage", id: ev.payload.messageId, payload: { messageId: ev.payload.messageId, text: ev.payload.prompt } }] : []);`),
  "<h1>my app</h1>",
);

if (!existsSync(CHROMIUM)) console.log(`inspector command form browser test skipped: headless Chromium not found at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`);

describe.skipIf(!existsSync(CHROMIUM))("inspector command forms (headless Chromium)", () => {
  test("a body edited before the live stream opens is what gets sent", async () => {
    const server = await startDevServer({ cwd: dir, port: 0, store: "memory", watch: false, log: () => {} });
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
    try {
      const page = await browser.newPage();
      let edited!: () => void;
      const bodyEdited = new Promise<void>((resolve) => (edited = resolve));
      // The drift list is the page's last request before it opens the stream.
      await page.route("**/__sessionstream/api/drift", async (route) => {
        await bodyEdited;
        await route.continue();
      });
      const stream = page.waitForResponse((r) => r.url().endsWith("/__sessionstream/api/stream"));
      await page.goto(inspectorUrl(server.url));
      await page.getByTestId("session-input").fill("typed");
      await page.getByTestId("session-input").press("Enter");
      const body = page.getByTestId("command-body-ChatStartInference");
      await body.fill(JSON.stringify({ prompt: "typed before the stream" }));
      edited();
      await stream;
      // The stream's first message is the app status; give the page a moment to handle it.
      await page.waitForFunction(() => document.getElementById("app-status")?.textContent?.startsWith("app loaded"));
      await page.waitForTimeout(300);
      expect(JSON.parse(await body.inputValue())).toEqual({ prompt: "typed before the stream" });
      await page.getByTestId("command-send-ChatStartInference").click();
      await page.getByTestId("command-result").getByText("HTTP 202").waitFor();
      await page.getByTestId("entities").getByText(/typed before the stream/).waitFor();
      const snap = (await (await fetch(`${server.url}/api/sessions/typed/snapshot`)).json()) as { entities: Array<{ payload: { text: string } }> };
      expect(snap.entities.map((e) => e.payload.text)).toEqual(["typed before the stream"]);

      // A reload re-renders the forms (a new element) and keeps the edit.
      await body.fill(JSON.stringify({ prompt: "typed before a reload" }));
      await body.evaluate((el) => ((el as HTMLElement & { oldForm?: boolean }).oldForm = true));
      await server.reload();
      await page.waitForFunction(() => document.getElementById("app-status")?.textContent === "app loaded (2×)");
      await page.waitForFunction(() => !(document.querySelector('[data-testid="command-body-ChatStartInference"]') as { oldForm?: boolean } | null)?.oldForm);
      expect(JSON.parse(await body.inputValue())).toEqual({ prompt: "typed before a reload" });
      // The unedited form of another command shows its template.
      expect(JSON.parse(await page.getByTestId("command-body-ChatStopInference").inputValue())).toEqual({ messageId: "" });
    } finally {
      await browser.close();
      await server.close();
    }
  }, 60_000);
});
