export { PostgresHydrationStore, type PostgresHydrationStoreOptions } from "./postgres-store.js";
export { MIGRATIONS, SCHEMA_VERSION, type Migration } from "./schema.js";
export type { MigrationResult } from "./migrate.js";
