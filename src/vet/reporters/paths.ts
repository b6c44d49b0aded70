import { isAbsolute, relative, sep } from "node:path";

/** `file` relative to `cwd` with `/` separators (absolute when outside `cwd`), as every reporter shows it. */
export function displayPath(cwd: string, file: string): string {
  // A store named by URL (`--store postgres://…`) is shown as given.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file)) return file;
  const rel = relative(cwd, file);
  const shown = rel === "" || rel.startsWith("..") || isAbsolute(rel) ? file : rel;
  return shown.split(sep).join("/");
}
