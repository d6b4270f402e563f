// Files for the HTTP server: a Storage served as files and directories (their index file
// or a listing), PUT as an upload, the media type by extension, and the status for a
// storage failure.

import {
  type Storage,
  type DirEntry,
  STORAGE_NOT_FOUND,
  STORAGE_NOT_DIRECTORY,
  STORAGE_DENIED,
  STORAGE_FULL,
  STORAGE_IS_DIRECTORY,
  STORAGE_EXISTS,
  type StorageError,
  storageError,
} from "../storage/storage.ts";
import { PATH_ESCAPES_ROOT, PATH_TOO_LONG, confinePath } from "../storage/path.ts";
import type { HttpRequest, HttpResponse } from "./http-message.ts";

/** Where a Storage is served: what a directory shows. */
export interface FileOptions {
  indexFile: string;
  listDirectories: boolean;
}

/** Media types by extension: a Map, so a peer's extension never becomes a property key (on XS, nor finds "constructor"). */
const TYPES = new Map<string, string>([
  ["html", "text/html; charset=utf-8"],
  ["htm", "text/html; charset=utf-8"],
  ["txt", "text/plain; charset=utf-8"],
  ["css", "text/css"],
  ["js", "text/javascript"],
  ["mjs", "text/javascript"],
  ["json", "application/json"],
  ["xml", "application/xml"],
  ["svg", "image/svg+xml"],
  ["png", "image/png"],
  ["jpg", "image/jpeg"],
  ["jpeg", "image/jpeg"],
  ["gif", "image/gif"],
  ["ico", "image/x-icon"],
  ["webp", "image/webp"],
  ["wasm", "application/wasm"],
  ["pdf", "application/pdf"],
  ["zip", "application/zip"],
  ["gz", "application/gzip"],
]);

/** A path that ends in a separator, or in "." after one. */
const DIRECTORY_SYNTAX = /[/\\]\.?$/;

/** The media type for a path's extension (application/octet-stream when unknown). */
export function mimeType(path: string): string {
  const dot = path.lastIndexOf(".");
  const ext = dot > path.lastIndexOf("/") ? path.slice(dot + 1).toLowerCase() : "";
  return TYPES.get(ext) ?? "application/octet-stream";
}

/**
 * A file, or a directory as its index file or a listing. A directory named without its
 * final "/" is redirected to it, by its canonical path: the path as sent could begin with
 * "//" or "/\\", which a browser reads as another host. A path that ends as a directory's
 * does ("/" or "/.") names no file.
 */
export function serveStorage(req: HttpRequest, res: HttpResponse, storage: Storage, o: FileOptions): void {
  const st = storage.stat(req.path);
  if (!st.ok) return res.fail(statusFor(storageError(st.reason)), storageError(st.reason));
  if (!st.value.isDirectory) {
    if (DIRECTORY_SYNTAX.test(req.path)) return res.fail(404, STORAGE_NOT_DIRECTORY);
    return res.sendFile(req.path, storage);
  }
  if (!req.rawPath.endsWith("/")) {
    const c = confinePath(req.path);
    const path = c.ok && c.value ? `/${c.value.split("/").map(encodeURIComponent).join("/")}/` : "/";
    res.status = 301;
    res.setHeader("Location", `${path}${req.query ? `?${req.query}` : ""}`);
    return res.end();
  }
  const index = o.indexFile ? storage.stat(req.path + o.indexFile) : undefined;
  if (index?.ok && !index.value.isDirectory) return res.sendFile(req.path + o.indexFile, storage);
  const list = o.listDirectories ? storage.list(req.path) : undefined;
  if (!list) return res.fail(403, "http-listing-disabled");
  if (!list.ok) return res.fail(statusFor(storageError(list.reason)), storageError(list.reason));
  listing(req, res, list.value);
}

/**
 * Streams a directory's entries as HTML links (directories with a final "/"), as the send
 * buffer allows, about a segment's worth of entries per write.
 */
function listing(req: HttpRequest, res: HttpResponse, entries: DirEntry[]): void {
  const title = escapeHtml(req.path);
  res.setHeader("Content-Type", "text/html; charset=utf-8");
  let html = `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Index of ${title}</title></head>\n<body><h1>Index of ${title}</h1>\n<ul>\n`;
  if (req.path !== "/") html += `<li><a href="../">../</a></li>\n`;
  let i = 0;
  const more = () => {
    while (res.writable > 0 && !res.finished) {
      for (; i < entries.length && html.length < 1024; i++) {
        const e = entries[i]!;
        const slash = e.isDirectory ? "/" : "";
        const size = e.isDirectory ? "" : ` ${e.size} bytes`;
        html += `<li><a href="${encodeURIComponent(e.name)}${slash}">${escapeHtml(e.name)}${slash}</a>${size}</li>\n`;
      }
      if (i < entries.length) res.write(html);
      else res.end(`${html}</ul>\n</body></html>\n`);
      html = "";
    }
  };
  res.onDrain(more);
  more();
}

/** PUT: the body streams into a file that replaces the old one only once it is complete (201 new, 204 replaced). */
export function upload(req: HttpRequest, res: HttpResponse, storage: Storage): void {
  const old = storage.stat(req.path);
  if (old.ok && old.value.isDirectory) return res.fail(409, STORAGE_IS_DIRECTORY);
  if (req.length !== undefined && req.length > storage.free()) return res.fail(507, STORAGE_FULL);
  const h = storage.openWrite(req.path, "replace");
  if (!h.ok) {
    const reason = storageError(h.reason);
    return res.fail(reason === STORAGE_NOT_FOUND || reason === STORAGE_NOT_DIRECTORY ? 409 : statusFor(reason), reason);
  }
  const file = h.value;
  res.onAbort(() => file.abort());
  const failed = (reason: StorageError) => {
    file.abort();
    res.setHeader("Connection", "close"); // the rest of the body is not worth reading
    res.fail(statusFor(reason), reason);
  };
  req.recv((data) => {
    if (res.finished) return;
    if (data) {
      const w = file.write(data);
      if (!w.ok) failed(storageError(w.reason));
      return;
    }
    const c = file.close();
    if (!c.ok) return failed(storageError(c.reason));
    res.status = old.ok ? 204 : 201;
    res.end();
  });
}

/** The status for a storage or path failure. */
export function statusFor(reason: StorageError): number {
  if (reason === STORAGE_NOT_FOUND || reason === STORAGE_NOT_DIRECTORY) return 404;
  if (reason === STORAGE_DENIED || reason === PATH_ESCAPES_ROOT) return 403;
  if (reason === STORAGE_IS_DIRECTORY || reason === STORAGE_EXISTS) return 409;
  if (reason === STORAGE_FULL) return 507;
  if (reason === PATH_TOO_LONG) return 414;
  return reason.startsWith("path-") ? 400 : 500;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
