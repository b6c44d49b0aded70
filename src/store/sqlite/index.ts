export { SqliteHydrationStore, type SqliteHydrationStoreOptions } from "./sqlite-store.js";
