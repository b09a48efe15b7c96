/** Hides the password of a connection URL for logs and messages: postgresql://app:***@db:5432/te_user */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '[unparseable url]';
  }
}
