/** Decides whether two git remote URLs name the same repository (https and ssh forms alike). */

/** The identity of a remote: scheme family, lowercased host, port (if given) and normalized path. */
export interface RepoLocation {
  /** `https`, `http`, `ssh` or `git`. */
  scheme: "https" | "http" | "ssh" | "git";
  /** Lowercased host name. */
  host: string;
  /** Port when written in the URL, else undefined (the scheme's default). */
  port: string | undefined;
  /** Path without leading/trailing slashes and without a `.git` suffix of its last segment, e.g. `pikasTech/unidesk`. */
  path: string;
}

const DEFAULT_PORTS: Record<RepoLocation["scheme"], string> = { https: "443", http: "80", ssh: "22", git: "9418" };
// scp-like syntax git accepts: [user@]host:path, where the host has no slash before the colon.
const SCP_LIKE = /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/\/)(.+)$/;

function normalizePath(path: string): string {
  const p = path.replace(/^\/+/, "").replace(/\/+$/, "");
  // `unidesk.git` is `unidesk`, but a segment that is `.git` alone is not a suffix: `a/.git` is not `a`.
  return /[^/]\.git$/.test(p) ? p.slice(0, -4) : p;
}

/** Parses an https, http, ssh (`ssh://`, `git@host:path`) or git:// remote URL; undefined for anything else (local paths, file://). */
export function parseRepoUrl(url: string): RepoLocation | undefined {
  const text = url.trim();
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    const family = scheme === "https" || scheme === "http" || scheme === "git" ? scheme : ["ssh", "git+ssh", "ssh+git"].includes(scheme) ? "ssh" : undefined;
    if (family === undefined) return undefined;
    let parsed: URL;
    try {
      // Parsed with the URL's own scheme: URL drops a port only when it is that scheme's default (443 for
      // https, 80 for http), so `https://h:80/` keeps its port; ssh and git ports are kept as written.
      parsed = new URL(`${scheme}://${text.slice(scheme.length + 3)}`);
    } catch {
      return undefined;
    }
    if (parsed.hostname === "") return undefined;
    let path: string;
    try {
      path = normalizePath(decodeURIComponent(parsed.pathname));
    } catch {
      return undefined;
    }
    if (path === "") return undefined;
    return { scheme: family, host: parsed.hostname.toLowerCase(), port: parsed.port === "" ? undefined : parsed.port, path };
  }
  const scp = SCP_LIKE.exec(text);
  if (scp === null) return undefined;
  const path = normalizePath(scp[2] ?? "");
  if (path === "") return undefined;
  return { scheme: "ssh", host: (scp[1] ?? "").toLowerCase(), port: undefined, path };
}

/**
 * True when both URLs name one repository: same host (any case) and path (ignoring a trailing `.git` or `/`),
 * whatever the form (https, ssh, `git@host:path`); credentials are ignored. Ports are compared only between
 * two URLs of the same scheme, since an https and an ssh port of one host always differ.
 */
export function sameRepository(a: string, b: string): boolean {
  const x = parseRepoUrl(a);
  const y = parseRepoUrl(b);
  if (x === undefined || y === undefined) return false;
  if (x.host !== y.host || x.path !== y.path) return false;
  if (x.scheme !== y.scheme) return true;
  return (x.port ?? DEFAULT_PORTS[x.scheme]) === (y.port ?? DEFAULT_PORTS[y.scheme]);
}
