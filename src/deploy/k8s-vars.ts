// Kept apart from k8s.ts so the checks can expand variables without loading the YAML parser.

/** Kubernetes' `$(VAR)` expansion (command, args, env values); `$$(VAR)` escapes. Unknown refs stay as written. */
export function expandK8sVars(s: string, vars: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) =>
    m === "$$" ? "$" : name !== undefined && name in vars ? (vars[name] as string) : m,
  );
}
