// Pure helpers over the `requires` graph: cycle detection and dependents lookup.

/** Returns a cycle as a path (`a -> b -> a`) if `requires` has one, else null. */
export function findCycle(requires: ReadonlyMap<string, readonly string[]>): string[] | null {
  const done = new Set<string>();
  const path: string[] = [];
  const onPath = new Set<string>();
  const visit = (name: string): string[] | null => {
    if (onPath.has(name)) return [...path.slice(path.indexOf(name)), name];
    if (done.has(name)) return null;
    onPath.add(name);
    path.push(name);
    for (const dep of requires.get(name) ?? []) {
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    path.pop();
    onPath.delete(name);
    done.add(name);
    return null;
  };
  for (const name of [...requires.keys()].sort()) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return null;
}

/** Names whose `requires` include `name`. */
export function dependentsOf(requires: ReadonlyMap<string, readonly string[]>, name: string): string[] {
  return [...requires].filter(([, deps]) => deps.includes(name)).map(([n]) => n);
}

/** `name` and everything it requires, transitively, dependencies first. */
export function withDependencies(requires: ReadonlyMap<string, readonly string[]>, name: string): string[] {
  const order: string[] = [];
  const visit = (n: string) => {
    if (order.includes(n)) return;
    for (const dep of requires.get(n) ?? []) visit(dep);
    order.push(n);
  };
  visit(name);
  return order;
}
