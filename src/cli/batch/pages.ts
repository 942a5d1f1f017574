/** Every item of a paginated List call: pages are fetched until one comes back without a next page token. */
export async function allPages<P extends { readonly nextPageToken: string }, T>(fetch: (pageToken: string) => Promise<P>, items: (page: P) => readonly T[]): Promise<T[]> {
  const all: T[] = [];
  let token = '';
  do {
    const page = await fetch(token);
    all.push(...items(page));
    token = page.nextPageToken;
  } while (token !== '');
  return all;
}
