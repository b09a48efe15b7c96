/** Public JSON shapes (snake_case like the envelope); one place maps service messages to them. */
export interface UserMessage {
  id?: string;
  email?: string;
  name?: string;
  roles?: string[];
  createdAt?: string;
}

export interface AccessTokenMessage {
  token?: string;
  tokenType?: string;
  expiresIn?: number;
}

export function presentUser(user: UserMessage | null | undefined) {
  return {
    id: user?.id ?? '',
    email: user?.email ?? '',
    name: user?.name ?? '',
    roles: user?.roles ?? [],
    created_at: user?.createdAt ?? '',
  };
}

/** The OAuth 2.0 token response members (RFC 6749 §5.1) next to the user. */
export function presentSession(response: {
  user?: UserMessage | null;
  accessToken?: AccessTokenMessage | null;
}) {
  return {
    user: presentUser(response.user),
    access_token: response.accessToken?.token ?? '',
    token_type: response.accessToken?.tokenType ?? 'Bearer',
    expires_in: response.accessToken?.expiresIn ?? 0,
  };
}
