import { OraError, type TaskStepInput } from '@ora/contracts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface PlannedStep {
  index: number;
  step: TaskStepInput;
  /** Indexes of steps in this call it depends on. */
  localDeps: number[];
  /** Ids of existing tasks it depends on. */
  existingDeps: string[];
}

function invalid(message: string, path: string): OraError {
  return new OraError({
    code: 'VALIDATION_ERROR',
    message,
    details: { issues: [{ path, message, code: 'invalid_dag' }] },
  });
}

/**
 * Resolves each step's dependsOn to steps of the same call (by ref) or existing task ids, and
 * refuses duplicates, unknown references and cycles. Returns the steps in a dependency order.
 */
export function planDag(steps: readonly TaskStepInput[]): PlannedStep[] {
  const byRef = new Map<string, number>();
  steps.forEach((step, index) => {
    if (step.ref === undefined) return;
    if (byRef.has(step.ref)) throw invalid(`Two steps share the ref "${step.ref}"`, `steps.${index}.ref`);
    byRef.set(step.ref, index);
  });
  const planned = steps.map((step, index): PlannedStep => {
    const localDeps: number[] = [];
    const existingDeps: string[] = [];
    for (const [j, dep] of (step.dependsOn ?? []).entries()) {
      const local = byRef.get(dep);
      if (local !== undefined) {
        if (local === index) throw invalid(`Step "${dep}" depends on itself`, `steps.${index}.dependsOn.${j}`);
        if (!localDeps.includes(local)) localDeps.push(local);
      } else if (UUID.test(dep)) {
        if (!existingDeps.includes(dep.toLowerCase())) existingDeps.push(dep.toLowerCase());
      } else {
        throw invalid(
          `dependsOn "${dep}" is neither a ref of this call nor a task id`,
          `steps.${index}.dependsOn.${j}`,
        );
      }
    }
    return { index, step, localDeps, existingDeps };
  });

  // Kahn's algorithm: what is left once nothing more can be ordered is a cycle.
  const indegree = planned.map((p) => p.localDeps.length);
  const order: PlannedStep[] = [];
  const ready = planned.filter((p) => p.localDeps.length === 0).map((p) => p.index);
  while (ready.length > 0) {
    const i = ready.shift() as number;
    order.push(planned[i] as PlannedStep);
    for (const p of planned) {
      if (p.localDeps.includes(i)) {
        indegree[p.index] = (indegree[p.index] as number) - 1;
        if (indegree[p.index] === 0) ready.push(p.index);
      }
    }
  }
  if (order.length !== planned.length) {
    const cyclic = planned.filter((p) => (indegree[p.index] as number) > 0).map((p) => p.step.ref ?? `#${p.index}`);
    throw invalid(`The steps form a cycle: ${cyclic.join(' -> ')}`, 'steps');
  }
  return order;
}
