/**
 * What one attempt means for its delivery target (a webhook endpoint or a connector): a success ends a
 * run of failures; a failure starts one or extends it, and disables the target when the receiver said
 * so (410 Gone, Slack's `channel_is_archived` …) or when it has been failing for `disableAfterMs`.
 */
export type HealthChange =
  | { kind: 'none' }
  | { kind: 'recovered' }
  | { kind: 'failing'; failingSince: Date }
  | { kind: 'disable'; reason: string; failingSince: Date };

export function nextHealth(
  current: { enabled: boolean; failingSince: Date | null },
  attempt: { succeeded: boolean; disableReason?: string; sentAt: Date; finishedAt: Date },
  disableAfterMs: number,
): HealthChange {
  if (attempt.succeeded) return current.failingSince ? { kind: 'recovered' } : { kind: 'none' };
  if (!current.enabled) return { kind: 'none' };
  const failingSince = current.failingSince ?? attempt.sentAt;
  const reason =
    attempt.disableReason ??
    (attempt.finishedAt.getTime() - failingSince.getTime() >= disableAfterMs ? 'failing' : undefined);
  if (reason) return { kind: 'disable', reason, failingSince };
  return current.failingSince ? { kind: 'none' } : { kind: 'failing', failingSince };
}
