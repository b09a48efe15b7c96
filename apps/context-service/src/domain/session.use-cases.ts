import { AppError, type FieldError } from '@te/platform';
import type { Page, Session } from './conversation.js';
import { sessionCreatedEvent, sessionDeletedEvent } from './conversation-events.js';
import { idProblems, normaliseTitle, parseSettings, titleProblems } from './conversation.policy.js';
import { readPageRequest, toPage } from './page-request.js';
import type { ReleaseObjects, SessionStates, SessionStore } from './ports.js';

export const DEFAULT_SESSIONS_PAGE_SIZE = 20;

export interface SessionDeps {
  sessions: SessionStore;
  states: SessionStates;
  /** `source` of the events this service publishes (its name). */
  source: string;
  /** Removes stored objects no attachment references any more, after a delete (when wired). */
  releaseObjects?: ReleaseObjects;
}

/** Text fields as they arrive (settings as JSON text); undefined: not sent. */
export interface SessionFields {
  title?: string;
  settingsJson?: string;
}

/** Starts a session for the user; `context.session.created` is written in the same transaction. */
export async function createSession(
  userId: string,
  input: SessionFields,
  deps: SessionDeps,
): Promise<Session> {
  const fields = readFields(input);
  return deps.sessions.create(
    { userId, title: fields.title ?? '', settings: fields.settings ?? {} },
    (session) => [sessionCreatedEvent(session, deps.source)],
  );
}

/** The user's sessions, newest first by (created_at, id). */
export async function listSessions(
  userId: string,
  request: { pageSize: number; pageToken: string },
  deps: Pick<SessionDeps, 'sessions'>,
): Promise<Page<Session>> {
  const { limit, after } = readPageRequest(request, DEFAULT_SESSIONS_PAGE_SIZE);
  return toPage(await deps.sessions.list(userId, { limit: limit + 1, after }), limit);
}

/** One of the user's sessions, through the session state cache. */
export async function getSession(
  userId: string,
  id: string,
  deps: Pick<SessionDeps, 'states'>,
): Promise<Session> {
  requireId(id);
  const state = await deps.states.get(userId, id.toLowerCase());
  if (!state) throw notFound();
  return state.session;
}

/** PATCH semantics: only the fields sent change; settings are replaced as a whole. */
export async function updateSession(
  userId: string,
  id: string,
  input: SessionFields,
  deps: SessionDeps,
): Promise<Session> {
  const fields = readFields(input, idProblems(id));
  const session = await deps.sessions.update(userId, id.toLowerCase(), fields);
  if (!session) throw notFound();
  await deps.states.refresh(session.id);
  return session;
}

/**
 * Deletes the session with its messages and attachments; `context.session.deleted` follows. Then the
 * stored objects only its attachments referenced are removed.
 */
export async function deleteSession(userId: string, id: string, deps: SessionDeps): Promise<void> {
  requireId(id);
  const deleted = await deps.sessions.delete(userId, id.toLowerCase(), (session) => [
    sessionDeletedEvent(session, 'user_request', deps.source),
  ]);
  if (!deleted) throw notFound();
  await deps.states.forget([id.toLowerCase()]);
  await deps.releaseObjects?.(deleted.objectKeys);
}

/** Another user's session is "not found" too: ids cannot be probed. */
export function notFound(): AppError {
  return new AppError('NOT_FOUND', 'Session not found');
}

export function requireId(id: string, field = 'id'): void {
  const problems = idProblems(id, field);
  if (problems.length) throw new AppError('VALIDATION_FAILED', 'Invalid session id', { fields: problems });
}

function readFields(
  input: SessionFields,
  problems: FieldError[] = [],
): { title?: string; settings?: Record<string, unknown> } {
  const title = input.title === undefined ? undefined : normaliseTitle(input.title);
  if (title !== undefined) problems.push(...titleProblems(title));
  let settings: Record<string, unknown> | undefined;
  if (input.settingsJson !== undefined) {
    const parsed = parseSettings(input.settingsJson);
    problems.push(...parsed.problems);
    settings = parsed.settings;
  }
  if (problems.length) throw new AppError('VALIDATION_FAILED', 'Invalid session', { fields: problems });
  return { ...(title !== undefined && { title }), ...(settings !== undefined && { settings }) };
}
