/** Something that may go into a prompt, with what it costs. */
export interface BudgetItem<T> {
  item: T;
  tokens: number;
}

export interface PackResult<T> {
  kept: Array<BudgetItem<T>>;
  /** Items that did not fit, in the order they were offered. */
  left: Array<BudgetItem<T>>;
  used: number;
}

/**
 * Greedy packing in the order given (best first): each item goes in when it still fits, so a big
 * item that does not fit does not keep smaller, later ones out.
 */
export function packGreedy<T>(items: Iterable<BudgetItem<T>>, budget: number): PackResult<T> {
  const kept: Array<BudgetItem<T>> = [];
  const left: Array<BudgetItem<T>> = [];
  let used = 0;
  for (const entry of items) {
    if (entry.tokens <= budget - used) {
      kept.push(entry);
      used += entry.tokens;
    } else {
      left.push(entry);
    }
  }
  return { kept, left, used };
}

/**
 * Packing that keeps a contiguous run from the start (newest messages first): the first item that
 * does not fit ends it, so a conversation never has a hole in the middle.
 */
export function packPrefix<T>(items: Iterable<BudgetItem<T>>, budget: number): PackResult<T> {
  const kept: Array<BudgetItem<T>> = [];
  const left: Array<BudgetItem<T>> = [];
  let used = 0;
  let open = true;
  for (const entry of items) {
    if (open && entry.tokens <= budget - used) {
      kept.push(entry);
      used += entry.tokens;
    } else {
      open = false;
      left.push(entry);
    }
  }
  return { kept, left, used };
}
