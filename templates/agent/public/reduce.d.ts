import type { UIReducer } from "sessionstream/client";

/** The page's reducer (public/reduce.js): folds live UI events into the agent timeline entities (messages, runs, plans, reasoning, tool calls, errors). */
export declare const reduce: UIReducer;
