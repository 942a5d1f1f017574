/**
 * The one error of profile and card-data handling: every problem found, each naming the field
 * it is about with a path in the profile file's own spelling (proto field names), e.g.
 * `applications[0].files[1].access.read`, and saying what is wrong. An empty path is the
 * document as a whole (a YAML or JSON syntax error).
 */

export interface ProfileIssue {
  /** Field path, proto field names, list indexes in brackets; '' for the whole document. */
  readonly path: string;
  readonly message: string;
}

export class ProfileError extends Error {
  override readonly name = 'ProfileError';
  /** What was being read: 'profile "generic-pacs-v1"', 'profile file profiles/x.yaml', 'card data'. */
  readonly subject: string;
  /** At least one. */
  readonly issues: readonly ProfileIssue[];

  constructor(subject: string, issues: readonly ProfileIssue[]) {
    const list = issues.map((i) => `\n  ${formatIssue(i)}`).join('');
    super(`invalid ${subject}: ${issues.length === 1 ? '1 problem' : `${issues.length} problems`}${list}`);
    this.subject = subject;
    this.issues = Object.freeze([...issues]);
  }
}

export function isProfileError(e: unknown): e is ProfileError {
  return e instanceof ProfileError;
}

export function formatIssue(issue: ProfileIssue): string {
  return issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`;
}

/** Collects issues under a path prefix while a validator walks a message. */
export class IssueList {
  readonly #issues: ProfileIssue[] = [];

  add(path: string, message: string): void {
    this.#issues.push({ path, message });
  }

  get issues(): readonly ProfileIssue[] {
    return this.#issues;
  }

  get empty(): boolean {
    return this.#issues.length === 0;
  }

  /** Throws ProfileError when any issue was found. */
  throwIfAny(subject: string): void {
    if (this.#issues.length > 0) throw new ProfileError(subject, this.#issues);
  }
}

/** `a.b`, `a[3]`: joins a path and a field name or index. */
export function at(path: string, field: string | number): string {
  if (typeof field === 'number') return `${path}[${field}]`;
  return path === '' ? field : `${path}.${field}`;
}
