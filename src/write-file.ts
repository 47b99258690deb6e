/** The real Env.checkOutputPath and Env.writeFileAtomic (main.ts wires them): a file appears whole or not at all. */

/** Why `path` cannot receive a report (its directory missing, itself a directory), else null; touches nothing. */
export async function checkOutputPath(path: string): Promise<string | null> {
  const fs = await import("node:fs/promises");
  const { dirname } = await import("node:path");
  const dir = await fs.stat(dirname(path)).catch(() => null);
  if (!dir) return `its directory ${dirname(path)} does not exist`;
  if (!dir.isDirectory()) return `${dirname(path)} is not a directory`;
  const st = await fs.stat(path).catch(() => null);
  if (st && !st.isFile()) return "it exists and is not a regular file";
  return null;
}

/**
 * Writes `text` to a new temporary file beside `path`, then renames it over `path`; the temporary file goes on failure.
 * A new file is the operator's alone (0600: a report holds pod logs, which D601 keeps 0600 too); a file of the
 * operator's that it replaces keeps its permission bits, another user's never lends its own (a 0666 file planted at
 * FILE in /tmp would have made the report readable by everyone before the rename failed).
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const fs = await import("node:fs/promises");
  const { basename, dirname, join } = await import("node:path");
  const temp = join(dirname(path), `.${basename(path)}.${crypto.randomUUID().slice(0, 8)}.tmp`);
  const replaced = await fs.stat(path).catch(() => null);
  try {
    const ours = replaced?.isFile() && replaced.uid === process.getuid?.();
    await fs.writeFile(temp, text, { flag: "wx", mode: ours ? replaced!.mode & 0o777 : 0o600 });
    await fs.rename(temp, path);
  } catch (error) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
}
