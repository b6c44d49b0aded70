import type { UIReducer } from "sessionstream/client";

/** The page's reducer (public/reduce.js): folds live UI events into the ChatMessage entities. */
export declare const reduce: UIReducer;
