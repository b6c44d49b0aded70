// `--store` / `--bus` values: parsing, the PostgreSQL schema from the URL,
// redaction in descriptions and errors.
import { describe, expect, test } from "vitest";
import { describeBus, describeStore, parseBusSpec, parseStoreSpec } from "../../src/server/backends.js";

describe("--store", () => {
  test("memory, sqlite at the default file, sqlite:<file> relative to the app", () => {
    expect(parseStoreSpec("memory", "/app", ".sessionstream/app.sqlite")).toEqual({ kind: "memory" });
    expect(parseStoreSpec("sqlite", "/app", ".sessionstream/app.sqlite")).toEqual({ kind: "sqlite", path: "/app/.sessionstream/app.sqlite" });
    expect(parseStoreSpec("sqlite:data/x.db", "/app", "d.sqlite")).toEqual({ kind: "sqlite", path: "/app/data/x.db" });
    expect(parseStoreSpec("sqlite:/var/lib/x.db", "/app", "d.sqlite")).toEqual({ kind: "sqlite", path: "/var/lib/x.db" });
  });

  test("postgres URLs: the schema from ?schema= (removed from the URL pg sees) or from -csearch_path=", () => {
    expect(parseStoreSpec("postgres://u:p@db:5432/app?schema=tenant1", "/app", "d")).toEqual({
      kind: "postgres",
      url: "postgres://u:p@db:5432/app",
      schema: "tenant1",
    });
    expect(parseStoreSpec("postgresql://db/app?options=-csearch_path%3Dss_x", "/app", "d")).toMatchObject({ kind: "postgres", schema: "ss_x" });
    expect(parseStoreSpec("postgres://db/app", "/app", "d")).toEqual({ kind: "postgres", url: "postgres://db/app" });
    expect(parseStoreSpec("postgres://db/app?pool_size=25&sslmode=require", "/app", "d")).toEqual({ kind: "postgres", url: "postgres://db/app?sslmode=require", poolSize: 25 });
    expect(() => parseStoreSpec("postgres://db/app?pool_size=0", "/app", "d")).toThrow('pool_size must be a positive integer, got "0"');
  });

  test("anything else is refused, naming the accepted forms, password redacted", () => {
    expect(() => parseStoreSpec("mysql://root:hunter2@db/app", "/app", "d")).toThrow(
      'must be sqlite, sqlite:<file>, memory or a postgres://user:pass@host:5432/db URL; got "mysql://root:***@db/app"',
    );
    expect(() => parseStoreSpec("sqlite:", "/app", "d")).toThrow(/--store must be/);
  });

  test("descriptions never show a password", () => {
    expect(describeStore(parseStoreSpec("postgres://u:secret@db/app?schema=s", "/", "d"))).toBe("postgres postgres://u:***@db/app (schema s)");
    expect(describeBus(parseBusSpec("redis://:secret@cache:6379/0"))).toBe("redis redis://:***@cache:6379/0");
    expect(describeBus(undefined)).toBe("in-process (single node)");
  });
});

describe("--bus", () => {
  test("redis:// and rediss:// URLs; anything else is refused", () => {
    expect(parseBusSpec("redis://cache:6379")).toEqual({ kind: "redis", url: "redis://cache:6379" });
    expect(parseBusSpec("rediss://cache:6380/1?prefix=app")).toEqual({ kind: "redis", url: "rediss://cache:6380/1?prefix=app" });
    expect(() => parseBusSpec("nats://x")).toThrow('--bus must be a redis://[user:pass@]host:6379[/db] URL; got "nats://x"');
  });
});
