/** The targets of a `Link` header (RFC 8288) by relation: `{next: "?page=2&size=20"}`. */
export function parseLinkHeader(header: string | null): Record<string, string> {
  const links: Record<string, string> = {};
  if (!header) {
    return links;
  }
  for (const match of header.matchAll(/<([^>]*)>\s*((?:;\s*[^;,]+)*)/g)) {
    const [, target = "", parameters = ""] = match;
    const relation = /;\s*rel\s*=\s*"?([^";]+)"?/i.exec(parameters)?.[1];
    for (const name of relation?.trim().split(/\s+/) ?? []) {
      links[name.toLowerCase()] = target;
    }
  }
  return links;
}

/** Each link resolved against the URL that was asked for (RFC 3986): the API's links are
 * query-only references (`<?page=2&size=20>`) that keep the request's own path. */
export function resolveLinks(header: string | null, requestUrl: string): Record<string, URL> {
  return Object.fromEntries(
    Object.entries(parseLinkHeader(header)).map(([relation, target]) => [
      relation,
      new URL(target, requestUrl),
    ]),
  );
}

/** The `Link` header's targets of a list's answer, resolved against the URL asked for
 * (`path` of this origin when the answer does not say it, as a test's fetch may not). */
export function linksOfAnswer(response: Response, path: string): Record<string, URL> {
  const requested = response.url || new URL(path, window.location.origin).href;
  return resolveLinks(response.headers.get("Link"), requested);
}
