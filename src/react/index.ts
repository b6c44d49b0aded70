// "sessionstream/react": React bindings over the browser client
// ("sessionstream/client"). React (>= 18) is an optional peer dependency:
// only apps that import this entry need it.
export { SessionstreamProvider, useSessionstreamClient, type SessionstreamProviderProps } from "./context.js";
export { useSession, type UseSessionOptions, type UseSessionResult } from "./use-session.js";
export { useSubmit, type Submission, type UseSubmitCallOptions, type UseSubmitOptions, type UseSubmitResult } from "./use-submit.js";
export { useConnectionStatus } from "./use-connection-status.js";
export { listEntities } from "./entities.js";
