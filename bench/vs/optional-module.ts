/**
 * Peer clients (node-zookeeper-client, etcd3) are devDependencies used only by the side-by-side
 * bench: they are loaded at run time, typed by the small interfaces their callers declare, so
 * the rest of the project builds without them.
 */
export async function importOptional<Module>(name: string, why: string): Promise<Module> {
  try {
    const loaded = (await import(name)) as { default?: unknown };
    return (loaded.default ?? loaded) as Module;
  } catch (err) {
    throw new Error(`${why} needs the npm package ${name} (a devDependency): ${(err as Error).message}`);
  }
}
