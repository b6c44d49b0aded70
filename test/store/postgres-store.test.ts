// PostgreSQL-specific tests, on the real server (skipped with a printed
// reason when none answers). The shared contract runs in store-contract.test.ts.
import { create } from "@bufbuild/protobuf";
import pg from "pg";
import { afterAll, describe, expect, test } from "vitest";
import { SessionstreamError, type TimelineEntity } from "../../src/index.js";
import { MIGRATIONS, PostgresHydrationStore, SCHEMA_VERSION, type PostgresHydrationStoreOptions } from "../../src/store/postgres/index.js";
import { ChatMessageEntitySchema, TokensDeltaEventSchema } from "../../fixtures/runtime/gen/chat/v1/chat_pb.js";
import { chatHub, chatRegistry } from "../helpers/chat-app.js";
import { adminQuery, dropSchemas, freshSchema, PG_URL, postgresUnavailable } from "../helpers/postgres.js";
import { closedPort, tcpProxy } from "../helpers/tcp-proxy.js";

const pgSkip = await postgresUnavailable();
const schemas = new Set<string>();
afterAll(async () => {
  if (!pgSkip) await dropSchemas(schemas);
});

function schema(): string {
  const s = freshSchema();
  schemas.add(s);
  return s;
}
function open(options: Partial<PostgresHydrationStoreOptions> = {}) {
  return new PostgresHydrationStore({ connectionString: PG_URL, schema: options.schema ?? schema(), registry: chatRegistry(), ...options });
}
function entity(id: string, created: bigint, last: bigint, text: string, kind = "ChatMessage"): TimelineEntity {
  return { kind, id, createdOrdinal: created, lastEventOrdinal: last, tombstone: false, payload: create(ChatMessageEntitySchema, { messageId: id, text }) };
}
function event(ordinal: bigint, chunk = String(ordinal)) {
  return { sessionId: "s", ordinal, name: "ChatTokensDelta", payload: create(TokensDeltaEventSchema, { chunk }), appliedAt: 1000 + Number(ordinal) };
}
const textOf = (e: TimelineEntity | undefined) => (e?.payload as unknown as { text: string } | undefined)?.text;
const uniqueApp = () => `ss-test-${Math.random().toString(36).slice(2, 10)}`;

/** A TCP proxy to the real server that a test can cut and restore, with URLs that carry a password to redact. */
async function pgProxy() {
  const target = new URL(PG_URL);
  const proxy = await tcpProxy(target.hostname, Number(target.port || 5432));
  return {
    ...proxy,
    url: `postgres://${target.username || "postgres"}:hunter2@127.0.0.1:${proxy.port}${target.pathname}`,
    redacted: `postgres://${target.username || "postgres"}:***@127.0.0.1:${proxy.port}${target.pathname}`,
  };
}

describe.skipIf(pgSkip !== undefined)("PostgresHydrationStore", () => {
  test("eight stores starting at once on a new schema apply each migration exactly once", async () => {
    const s = schema();
    const stores = Array.from({ length: 8 }, () => open({ schema: s, poolSize: 1 }));
    const results = await Promise.all(stores.map((store) => store.ready()));
    expect(results.filter((r) => r.from === 0)).toEqual([{ from: 0, to: SCHEMA_VERSION }]);
    expect(results.filter((r) => r.from === SCHEMA_VERSION)).toHaveLength(7);
    const rows = await adminQuery<{ version: number }>(`SELECT version FROM "${s}".ss_migrations ORDER BY version`);
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    // They all work on the one schema.
    await stores[0]!.apply({ sessionId: "s", ordinal: 1n, event: event(1n), entities: [] });
    expect(await stores[7]!.cursor("s")).toBe(1n);
    // A later start is a no-op.
    const again = open({ schema: s });
    expect(await again.ready()).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    await Promise.all([...stores, again].map((store) => store.close()));
  });

  test("a schema written by a newer sessionstream is refused with the versions", async () => {
    const s = schema();
    const first = open({ schema: s });
    await first.ready();
    await first.close();
    await adminQuery(`INSERT INTO "${s}".ss_migrations (version, name) VALUES (99, 'from the future')`);
    const store = open({ schema: s });
    const err = (await store.ready().catch((e: unknown) => e)) as SessionstreamError;
    expect(err).toBeInstanceOf(SessionstreamError);
    expect(err.code).toBe("store_failed");
    expect(err.message).toBe(`PostgreSQL schema "${s}" is at version 99, newer than this sessionstream (${SCHEMA_VERSION}); upgrade sessionstream`);
    // Every other call fails the same way: no write reaches the newer schema.
    await expect(store.cursor("s")).rejects.toMatchObject({ code: "store_failed" });
    await store.close();
  });

  test("poolSize bounds the connections the store opens", async () => {
    const applicationName = uniqueApp();
    const store = open({ poolSize: 3, applicationName });
    await store.ready();
    await Promise.all(Array.from({ length: 40 }, (_, i) => store.snapshot(`s${i}`)));
    const rows = await adminQuery<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [applicationName]);
    expect(rows[0]!.n).toBe(3);
    expect(store.pool.totalCount).toBe(3);
    await store.close();
    expect(() => open({ poolSize: 0 })).toThrow(/poolSize must be a positive integer, got 0/);
  });

  test("a pool passed in is used as is and not ended by close()", async () => {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
    const store = new PostgresHydrationStore({ pool, schema: schema(), registry: chatRegistry() });
    await store.apply({ sessionId: "s", ordinal: 1n, event: event(1n), entities: [] });
    expect(store.pool).toBe(pool);
    await store.close();
    await expect(store.cursor("s")).rejects.toMatchObject({ code: "store_failed", message: expect.stringMatching(/is closed/) });
    expect((await pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    await pool.end();
  });

  test("unreachable at start: store_unavailable naming the URL (password redacted) and the fix", async () => {
    const port = await closedPort();
    const store = new PostgresHydrationStore({ connectionString: `postgres://root:hunter2@127.0.0.1:${port}/test`, registry: chatRegistry(), connectTimeoutMs: 1000 });
    const err = (await store.ready().catch((e: unknown) => e)) as SessionstreamError;
    expect(err.code).toBe("store_unavailable");
    expect(err.message).toContain(`cannot connect to PostgreSQL at postgres://root:***@127.0.0.1:${port}/test: `);
    expect(err.message).toContain("ECONNREFUSED");
    expect(err.message).toContain("pg_isready");
    expect(err.message).not.toContain("hunter2");
    expect(err.cause).toBeInstanceOf(Error);
    // Through a hub: publish rejects with the same stable code.
    const hub = chatHub({ store, hubOptions: { onError: () => {} } });
    const pubErr = (await hub.publisher("s").publish("ChatInferenceStarted", { messageId: "m", prompt: "p" }).catch((e: unknown) => e)) as SessionstreamError;
    expect(pubErr.code).toBe("store_unavailable");
    expect(pubErr.message).toContain(`postgres://root:***@127.0.0.1:${port}/test`);
    await store.close();
  });

  test("connection lost mid-run: publish and reads reject with store_unavailable; both recover when the server is back", async () => {
    const proxy = await pgProxy();
    const store = open({ connectionString: proxy.url, connectTimeoutMs: 1000, poolSize: 2 });
    const errors: string[] = [];
    const hub = chatHub({ store, hubOptions: { onError: (r) => errors.push(r.error.code) } });
    const pub = hub.publisher("s");
    try {
      expect(await pub.publish("ChatInferenceStarted", { messageId: "m1", prompt: "p" })).toBe(1n);
      await proxy.cut();
      const err = (await pub.publish("ChatTokensDelta", { messageId: "m1", chunk: "lost" }).catch((e: unknown) => e)) as SessionstreamError;
      expect(err.code).toBe("store_unavailable");
      expect(err.message).toMatch(/^store write failed for event "ChatTokensDelta" \(ordinal 2\) in session "s": PostgreSQL at /);
      const cause = err.cause as SessionstreamError;
      expect(cause.code).toBe("store_unavailable");
      expect(cause.message).toContain(`PostgreSQL at ${proxy.redacted} is unreachable (apply)`);
      expect(cause.message).not.toContain("hunter2");
      await expect(hub.snapshot("other")).rejects.toMatchObject({ code: "store_unavailable" });
      expect(errors).toContain("store_unavailable");

      await proxy.restore();
      expect(await pub.publish("ChatTokensDelta", { messageId: "m1", chunk: "back" })).toBe(2n);
      expect(textOf((await hub.snapshot("s")).entities[0])).toBe("back");
      expect((await store.readEvents("s", 0n)).map((e) => e.ordinal)).toEqual([1n, 2n]);
    } finally {
      await store.close();
      await proxy.close();
    }
  });

  test("a killed connection (pg_terminate_backend) is replaced: the next publish succeeds", async () => {
    const applicationName = uniqueApp();
    const store = open({ applicationName, poolSize: 2 });
    const hub = chatHub({ store });
    const pub = hub.publisher("s");
    await pub.publish("ChatInferenceStarted", { messageId: "m1", prompt: "p" });
    const killed = await adminQuery<{ ok: boolean }>("SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1", [applicationName]);
    expect(killed.length).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(await pub.publish("ChatTokensDelta", { messageId: "m1", chunk: "x" })).toBe(2n);
    await store.close();
  });

  test("apply is one transaction: a failing entity write leaves no event and no cursor behind", async () => {
    const store = open();
    const err = (await store
      .apply({ sessionId: "s", ordinal: 1n, event: event(1n), entities: [entity("a", 1n, 1n, "ok"), entity("b", 1n, 1n, "bad", "Bad\u0000Kind")] })
      .catch((e: unknown) => e)) as SessionstreamError;
    expect(err.code).toBe("store_failed");
    expect(err.message).toMatch(/^PostgreSQL apply failed: invalid byte sequence/);
    expect((err.cause as { code?: string }).code).toBe("22021");
    expect(await store.cursor("s")).toBe(0n);
    expect(await store.readEvents("s", 0n)).toEqual([]);
    expect((await store.snapshot("s")).entities).toEqual([]);
    await store.apply({ sessionId: "s", ordinal: 1n, event: event(1n), entities: [entity("a", 1n, 1n, "ok")] });
    expect(await store.cursor("s")).toBe(1n);
    await store.close();
  });

  test("a redelivered event is applied once in effect; a different event at a taken ordinal is refused", async () => {
    const store = open();
    const first = { sessionId: "s", ordinal: 1n, event: event(1n), entities: [entity("a", 1n, 1n, "one")] };
    await store.apply(first);
    await store.apply({ sessionId: "s", ordinal: 2n, event: event(2n), entities: [entity("a", 1n, 2n, "two")] });
    // Redelivered after a later event: nothing moves back.
    await store.apply(first);
    expect(await store.cursor("s")).toBe(2n);
    expect(await store.timelineCursor("s")).toBe(2n);
    expect((await store.readEvents("s", 0n)).map((e) => e.ordinal)).toEqual([1n, 2n]);
    const snap = await store.snapshot("s");
    expect(snap.entities.map((e) => [e.id, e.lastEventOrdinal, textOf(e)])).toEqual([["a", 2n, "two"]]);

    // The same event delivered five times at once: one row.
    const third = { sessionId: "s", ordinal: 3n, event: event(3n), entities: [entity("a", 1n, 3n, "three")] };
    await Promise.all(Array.from({ length: 5 }, () => store.apply(third)));
    expect((await store.readEvents("s", 0n)).map((e) => e.ordinal)).toEqual([1n, 2n, 3n]);
    expect(await store.cursor("s")).toBe(3n);

    const err = (await store.apply({ ...third, event: event(3n, "other") }).catch((e: unknown) => e)) as SessionstreamError;
    expect(err.code).toBe("store_failed");
    expect(err.message).toBe('session "s" already has a different event at ordinal 3 ("ChatTokensDelta", not "ChatTokensDelta"): two writers assigned the same ordinal');
    expect(textOf((await store.snapshot("s")).entities[0])).toBe("three");
    await store.close();
  });

  test("a hub whose cursor went stale (another writer took the ordinal) rejects once, then continues after the store's cursor", async () => {
    const s = schema();
    const a = open({ schema: s });
    const b = open({ schema: s });
    const hubA = chatHub({ store: a, hubOptions: { onError: () => {} } });
    const hubB = chatHub({ store: b });
    expect(await hubA.publisher("s").publish("ChatInferenceStarted", { messageId: "m1", prompt: "p" })).toBe(1n);
    // B writes ordinal 2 behind A's back.
    expect(await hubB.publisher("s").publish("ChatTokensDelta", { messageId: "m1", chunk: "b" })).toBe(2n);
    await expect(hubA.publisher("s").publish("ChatTokensDelta", { messageId: "m1", chunk: "a" })).rejects.toMatchObject({ code: "store_failed" });
    expect(await hubA.publisher("s").publish("ChatTokensDelta", { messageId: "m1", chunk: "a" })).toBe(3n);
    expect(textOf((await a.snapshot("s")).entities[0])).toBe("ba");
    await a.close();
    await b.close();
  });

  test("replaceTimeline refuses a rebuild that an event overtook, and changes nothing", async () => {
    const store = open();
    await store.apply({ sessionId: "s", ordinal: 1n, event: event(1n), entities: [entity("a", 1n, 1n, "one")] });
    await store.apply({ sessionId: "s", ordinal: 2n, event: event(2n), entities: [entity("a", 1n, 2n, "two")] });
    const err = (await store.replaceTimeline("s", { entities: [entity("a", 1n, 1n, "rebuilt")], timelineCursor: 1n }).catch((e: unknown) => e)) as SessionstreamError;
    expect(err.code).toBe("store_failed");
    expect(err.message).toBe('session "s" advanced to ordinal 2 while its timeline was rebuilt up to 1; rebuild again');
    expect(await store.timelineEpoch("s")).toBe(1n);
    expect(textOf((await store.snapshot("s")).entities[0])).toBe("two");
    await store.close();
  });

  test("replaceTimeline writes a timeline larger than one statement's chunk (1000 entities) whole, in snapshot order", async () => {
    const store = open();
    await store.apply({ sessionId: "s", ordinal: 1n, event: event(1n), entities: [entity("old", 1n, 1n, "old")] });
    const rebuilt = Array.from({ length: 2500 }, (_, i) => entity(`e${String(i).padStart(4, "0")}`, 1n, 1n, `t${i}`));
    expect(await store.replaceTimeline("s", { entities: rebuilt, timelineCursor: 1n })).toBe(2n);
    const snap = await store.snapshot("s");
    expect(snap.entities).toHaveLength(2500);
    expect(snap.entities.map((e) => e.id)).toEqual(rebuilt.map((e) => e.id));
    expect(snap.entities.map(textOf)).toEqual(rebuilt.map((_, i) => `t${i}`));
    expect(snap.epoch).toBe(2n);
    await store.close();
  });
});
