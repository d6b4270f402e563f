// The one gate every client path goes through before a store touches it. A path is read
// relative to the store's root whatever it looks like: a leading "/" (or "\") means the
// root, "\" separates like "/", empty and "." segments vanish, and ".." steps back within
// what the path itself named; stepping back above the root is refused. What comes out can
// be appended to the root with "/" and never names anything outside it. Names that start
// with RESERVED_PREFIX belong to the stores themselves (their temporary files), so no
// client can name, fill, read or delete them.

import { type Result, ok, fail } from "../wire/result.ts";

export const PATH_MAX_LENGTH = 255;
/** What the names of a store's own files (unfinished uploads) start with. */
export const RESERVED_PREFIX = ".~";

export const PATH_TOO_LONG = "path-too-long";
export const PATH_NUL = "path-nul";
export const PATH_CONTROL = "path-control";
export const PATH_COLON = "path-colon";
export const PATH_RESERVED = "path-reserved";
export const PATH_ESCAPES_ROOT = "path-escapes-root";
/** Why confinePath refused a path. */
export type PathError = typeof PATH_TOO_LONG | typeof PATH_NUL | typeof PATH_CONTROL | typeof PATH_COLON | typeof PATH_RESERVED | typeof PATH_ESCAPES_ROOT;

/**
 * The canonical form of `path` under the root: segments joined by "/", without a leading
 * or trailing "/", and "" for the root itself. Refused: NUL ("path-nul"), other control
 * characters ("path-control"), ":" which names drives and streams on some systems
 * ("path-colon"), more than `maxLength` characters ("path-too-long"), any ".." above the
 * root ("path-escapes-root"), and a name that starts with RESERVED_PREFIX ("path-reserved").
 */
export function confinePath(path: string, maxLength = PATH_MAX_LENGTH): Result<string, PathError> {
  if (path.length > maxLength) return fail(PATH_TOO_LONG);
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0) return fail(PATH_NUL);
    if (c < 0x20 || c === 0x7f) return fail(PATH_CONTROL);
    if (c === 0x3a) return fail(PATH_COLON);
  }
  const segments: string[] = [];
  for (const s of path.split(/[/\\]/)) {
    if (s === "" || s === ".") continue;
    if (s.startsWith(RESERVED_PREFIX)) return fail(PATH_RESERVED);
    if (s !== "..") segments.push(s);
    else if (segments.pop() === undefined) return fail(PATH_ESCAPES_ROOT);
  }
  return ok(segments.join("/"));
}

/** The parent of a canonical path ("" for a top-level name) and the last segment. */
export function splitPath(canonical: string): { parent: string; name: string } {
  const i = canonical.lastIndexOf("/");
  return { parent: i < 0 ? "" : canonical.slice(0, i), name: canonical.slice(i + 1) };
}
