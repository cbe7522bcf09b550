// Beep's five priorities, shared by every source and every client.

/** 1 min, 2 low, 3 default, 4 high, 5 urgent (urgent never gathers behind unacknowledged frames). */
export type Priority = 1 | 2 | 3 | 4 | 5;

export const PRIORITY_NAMES = ['min', 'low', 'default', 'high', 'urgent'] as const;
export type PriorityName = (typeof PRIORITY_NAMES)[number];

export const DEFAULT_PRIORITY: Priority = 3;
export const URGENT_PRIORITY: Priority = 5;

/** Accepts 1–5 or a name ("high"); returns undefined for anything else. */
export function parsePriority(value: unknown): Priority | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 5) {
    return value as Priority;
  }
  if (typeof value === 'string') {
    const index = PRIORITY_NAMES.indexOf(value.toLowerCase() as PriorityName);
    if (index >= 0) return (index + 1) as Priority;
    if (/^[1-5]$/.test(value)) return Number(value) as Priority;
  }
  return undefined;
}

/** The name of a priority, for humans (CLI, logs). */
export function priorityName(priority: Priority): PriorityName {
  return PRIORITY_NAMES[priority - 1];
}
